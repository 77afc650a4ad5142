"""LSH banding: choose bands x rows from a threshold, hash each band, and find candidates.

A band's key folds the band index and its ``rows`` signature values through the murmur3 64-bit
mixer. :func:`reference_band_keys` is that definition in plain Python; :func:`band_keys` is a
numba kernel that tests check equals it. Candidates come from sorting each band's keys and
pairing the documents inside each run of equal keys (no Python dict of lists).
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

# one mixer for shingles and band keys (the pure-Python and the numba version)
from samestory.shingle import _fmix, _fmix_py

__all__ = ["band_keys", "candidate_pairs", "optimal_bands", "reference_band_keys"]

_BAND_SEED = 0x2545F4914F6CDD1D


def _integrate(f, a: float, b: float, steps: int = 200) -> float:  # type: ignore[no-untyped-def]
    xs = np.linspace(a, b, steps)
    return float(np.trapezoid(f(xs), xs))


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, *, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising weighted expected false positives + false negatives.

    Example:
        >>> optimal_bands(0.8, 128)
        (9, 13)
    """
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


def reference_band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The definition of :func:`band_keys` in plain Python (slow; for tests)."""
    n = signatures.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    for i in range(n):
        for j in range(bands):
            h = _fmix_py(_BAND_SEED ^ j)
            for r in range(rows):
                h = _fmix_py(h ^ int(signatures[i, j * rows + r]))
            out[i, j] = h
    return out


@numba.njit(cache=True, nogil=True)
def _band_kernel(sig, bands, rows):  # type: ignore[no-untyped-def]
    n = sig.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    for j in range(bands):
        seed = _fmix(np.uint64(_BAND_SEED) ^ np.uint64(j))
        for i in range(n):
            h = seed
            for r in range(rows):
                h = _fmix(h ^ np.uint64(sig[i, j * rows + r]))
            out[i, j] = h
    return out


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """A (n, bands) uint64 matrix: one hash per band of each signature (band index mixed in)."""
    sig = np.ascontiguousarray(signatures, dtype=np.uint32)
    return _band_kernel(sig, int(bands), int(rows))  # type: ignore[no-any-return]


@numba.njit(cache=True)
def _run_pairs(sorted_keys, order, max_bucket):  # type: ignore[no-untyped-def]
    n = len(sorted_keys)
    total = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and sorted_keys[j] == sorted_keys[i]:
            j += 1
        k = j - i
        total += k * (k - 1) // 2 if k <= max_bucket else k - 1
        i = j
    left = np.empty(total, dtype=np.int64)
    right = np.empty(total, dtype=np.int64)
    w = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and sorted_keys[j] == sorted_keys[i]:
            j += 1
        k = j - i
        # the sort was not stable: a bucket's members back in document order (buckets are
        # mostly pairs: insertion sort in place, np.sort for big ones)
        if k > 16:
            order[i:j] = np.sort(order[i:j])
        else:
            for x in range(i + 1, j):
                v = order[x]
                y = x - 1
                while y >= i and order[y] > v:
                    order[y + 1] = order[y]
                    y -= 1
                order[y + 1] = v
        if k <= max_bucket:
            for x in range(i, j):
                for y in range(x + 1, j):
                    left[w] = order[x]
                    right[w] = order[y]
                    w += 1
        else:
            # a huge bucket is pairs of neighbours in document order: enough to connect it
            for x in range(i + 1, j):
                left[w] = order[x - 1]
                right[w] = order[x]
                w += 1
        i = j
    return left, right


def candidate_pairs(keys: np.ndarray, *, max_bucket: int = 64) -> np.ndarray:
    """Unique candidate pairs ``(i, j)``, ``i < j``, of rows sharing a key in any band.

    Args:
        keys: an (n, bands) matrix from :func:`band_keys` (may be a memmap).
        max_bucket: buckets larger than this give a chain of neighbours, not all pairs.

    Returns:
        An (m, 2) int64 array sorted by (i, j).

    Example:
        >>> k = np.array([[1, 7], [2, 7], [1, 9]], dtype=np.uint64)
        >>> candidate_pairs(k).tolist()
        [[0, 1], [0, 2]]
    """
    found = []
    for j in range(keys.shape[1]):
        column = np.ascontiguousarray(keys[:, j])
        # unstable (introsort, ~2x faster than the stable sort); _run_pairs puts each
        # bucket's members back in document order
        order = np.argsort(column).astype(np.int64)
        left, right = _run_pairs(column[order], order, max_bucket)
        if len(left):
            lo, hi = np.minimum(left, right), np.maximum(left, right)
            found.append(np.unique(lo * np.int64(keys.shape[0]) + hi))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    codes = np.unique(np.concatenate(found))
    n = np.int64(keys.shape[0])
    return np.stack([codes // n, codes % n], axis=1)
