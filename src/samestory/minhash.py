"""MinHash signatures over shingle hashes.

Placeholder reference implementation (numpy, O(shingles x permutations)); the dedup work
replaces it with a fast kernel and keeps this one as the reference it is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from samestory.config import MinHashConfig

_MASK32 = np.uint64(0xFFFFFFFF)


def _params(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def signatures(hashes: Sequence[np.ndarray], config: MinHashConfig | None = None) -> np.ndarray:
    """A (len(hashes), num_perm) uint32 matrix of MinHash signatures.

    An empty shingle set gets the all-max signature.
    """
    config = config or MinHashConfig()
    a, b = _params(config.num_perm, config.seed)
    out = np.full((len(hashes), config.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i, h in enumerate(hashes):
            if len(h):
                mixed = (h[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)
                out[i] = (mixed & _MASK32).min(axis=0).astype(np.uint32)
    return out
