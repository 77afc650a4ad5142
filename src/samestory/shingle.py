"""Word shingles of cleaned text, hashed to 64-bit integers.

Placeholder reference implementation; the dedup work replaces the hot path with a vectorized
one that returns exactly the same hashes.
"""

from __future__ import annotations

import re

import numpy as np
import xxhash

_WORD_RE = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Casefolded word tokens of ``text``."""
    return _WORD_RE.findall(text.casefold())


def shingle_hashes(text: str, ngram: int = 5) -> np.ndarray:
    """Sorted unique uint64 hashes of the word ``ngram``-shingles of ``text``.

    A text shorter than ``ngram`` words yields one shingle of all its words (none if empty).
    """
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    n = min(ngram, len(tokens))
    grams = {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
    return np.unique(
        np.fromiter((xxhash.xxh3_64_intdigest(g.encode()) for g in grams), dtype=np.uint64)
    )


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
