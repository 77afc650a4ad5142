"""MinHash signatures over shingle hashes.

Permutation ``p`` maps a shingle hash ``h`` to ``((h * a[p] + b[p]) mod 2**64) >> 32`` and the
signature keeps the minimum per permutation (an empty set gets the all-max signature).
:func:`reference_signatures` is the definition in numpy, one document at a time, O(shingles x
permutations) with full temporaries; :func:`signatures_csr` is a numba kernel over a whole batch
that keeps the running minima in registers (the permutation loop vectorises), about two orders
of magnitude faster and exactly equal, which tests check.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from samestory.config import MinHashConfig

__all__ = ["reference_signatures", "signatures", "signatures_csr"]

_MASK32 = np.uint64(0xFFFFFFFF)


def _params(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def reference_signatures(
    hashes: Sequence[np.ndarray], config: MinHashConfig | None = None
) -> np.ndarray:
    """The definition of :func:`signatures` in numpy (slow; for tests)."""
    config = config or MinHashConfig()
    a, b = _params(config.num_perm, config.seed)
    out = np.full((len(hashes), config.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i, h in enumerate(hashes):
            if len(h):
                mixed = (h[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)
                out[i] = (mixed & _MASK32).min(axis=0).astype(np.uint32)
    return out


@numba.njit(cache=True, nogil=True)
def _minhash_kernel(values, offsets, a, b):  # type: ignore[no-untyped-def]
    n_docs = len(offsets) - 1
    num_perm = len(a)
    out = np.empty((n_docs, num_perm), dtype=np.uint32)
    mins = np.empty(num_perm, dtype=np.uint64)
    shift = np.uint64(32)
    for d in range(n_docs):
        mins[:] = np.uint64(0xFFFFFFFF)
        for s in range(offsets[d], offsets[d + 1]):
            h = values[s]
            for p in range(num_perm):
                v = (h * a[p] + b[p]) >> shift
                if v < mins[p]:
                    mins[p] = v
        for p in range(num_perm):
            out[d, p] = np.uint32(mins[p])
    return out


def signatures_csr(
    values: np.ndarray, offsets: np.ndarray, config: MinHashConfig | None = None
) -> np.ndarray:
    """MinHash signatures of CSR shingle sets (as returned by ``shingle.shingle_batch``).

    Returns:
        A ``(len(offsets) - 1, num_perm)`` uint32 matrix.
    """
    config = config or MinHashConfig()
    a, b = _params(config.num_perm, config.seed)
    values = np.ascontiguousarray(values, dtype=np.uint64)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    return _minhash_kernel(values, offsets, a, b)  # type: ignore[no-any-return]


def signatures(hashes: Sequence[np.ndarray], config: MinHashConfig | None = None) -> np.ndarray:
    """A (len(hashes), num_perm) uint32 matrix of MinHash signatures.

    An empty shingle set gets the all-max signature.

    Example:
        >>> from samestory.shingle import shingle_hashes
        >>> sig = signatures([shingle_hashes("a b c d e f", 5)])
        >>> sig.shape
        (1, 128)
    """
    lengths = np.fromiter((len(h) for h in hashes), dtype=np.int64, count=len(hashes))
    offsets = np.zeros(len(hashes) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(list(hashes)) if len(hashes) else np.zeros(0, dtype=np.uint64)
    return signatures_csr(values.astype(np.uint64, copy=False), offsets, config)
