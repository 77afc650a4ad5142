"""LSH banding: choose bands x rows from a threshold, and hash each band of a signature."""

from __future__ import annotations

import numpy as np
import xxhash


def _integrate(f, a: float, b: float, steps: int = 200) -> float:  # type: ignore[no-untyped-def]
    xs = np.linspace(a, b, steps)
    return float(np.trapezoid(f(xs), xs))


def optimal_bands(
    threshold: float, num_perm: int, *, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising weighted expected false positives + false negatives."""
    best = (1, num_perm)
    best_err = float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = _integrate(lambda s, b=bands, r=rows: 1 - (1 - s**r) ** b, 0.0, threshold)
            fn = _integrate(lambda s, b=bands, r=rows: (1 - s**r) ** b, threshold, 1.0)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (bands, rows), err
    return best


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """A (n, bands) uint64 matrix: one hash per band of each signature (band index mixed in)."""
    n = signatures.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    sig = np.ascontiguousarray(signatures, dtype=np.uint32)
    for i in range(n):
        for j in range(bands):
            chunk = sig[i, j * rows : (j + 1) * rows].tobytes()
            out[i, j] = xxhash.xxh3_64_intdigest(chunk, seed=j)
    return out
