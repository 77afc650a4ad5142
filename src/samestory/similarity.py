"""Sentence- and document-level similarity: the paraphrase decision and the semantic score.

Placeholder (token-overlap) implementation; the paraphrase/evaluation work replaces it with a
model tuned on MRPC train (lexical out of the box, embeddings when the extra is installed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from samestory.shingle import words

PARAPHRASE_THRESHOLD = 0.5


def paraphrase_matrix(sents_a: Sequence[str], sents_b: Sequence[str]) -> np.ndarray:
    """(len(a), len(b)) float matrix in [0, 1]: how likely each sentence pair is a paraphrase."""
    sa = [set(words(s)) for s in sents_a]
    sb = [set(words(s)) for s in sents_b]
    out = np.zeros((len(sa), len(sb)), dtype=np.float64)
    for i, x in enumerate(sa):
        for j, y in enumerate(sb):
            if x and y:
                out[i, j] = 2 * len(x & y) / (len(x) + len(y))
    return out


def document_similarity(text_a: str, text_b: str) -> float:
    """Semantic similarity of two whole documents in [0, 1]."""
    a, b = set(words(text_a)), set(words(text_b))
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
