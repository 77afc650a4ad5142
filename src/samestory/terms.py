"""A text's words, names and figures as weighted terms: what story clustering compares
beside the embeddings.

:func:`term_counts` (words of 3+ letters, numbers of 2+ digits), :func:`term_weights`
(sublinear tf-idf, the heaviest terms of each text, names as units), :func:`number_terms`
(the figures a report quotes) and :func:`hashed_vectors` (feature-hashed unit vectors: the
stand-in for embeddings without the ``embed`` extra).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["hashed_vectors", "number_terms", "term_counts", "term_weights"]

_TOKEN_RE = re.compile(r"[^\W\d_]{3,}|\d+\.\d+|\d{2,}")
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_YEAR_RE = re.compile(r"(?:1[89]|20)\d\d")


def number_terms(text: str) -> frozenset[str]:
    """The figures a text quotes: numbers of two digits or more and decimals, not years.

    Thousands separators are dropped ("2,000" is "2000"); a plain four-digit year from 1800 to
    2099 is left out (:class:`StoryItem` ``years`` compare those); single digits are too
    common to tell events apart. Days of the month count: reports of one event share them.

    Example:
        >>> sorted(number_terms("A 5.6 quake on 28 May 2005 hurt 1,200 and 3 others"))
        ['1200', '28', '5.6']
    """
    out = set()
    for raw in _NUMBER_RE.findall(text):
        if _YEAR_RE.fullmatch(raw):
            continue
        value = raw.replace(",", "")
        if len(value) > 1:
            out.add(value)
    return frozenset(out)


def term_weights(
    texts: Sequence[str],
    *,
    names: Sequence[Iterable[str]] = (),
    max_terms: int = 128,
    df: Mapping[str, int] | None = None,
    documents: int = 0,
) -> list[dict[str, float]]:
    """Sublinear tf-idf weights of each text's words and names, L2-normalised, the top ones.

    The idf comes from the texts themselves, so words in every text weigh nothing. Names
    (normalised entity keys) count as one extra term each, marked ``@``, so "Tony Thompson"
    weighs as a unit beside its words.

    Args:
        texts: the documents (or their leads).
        names: per text, its entity keys (optional).
        max_terms: keep this many heaviest terms per text.
        df: document frequencies from a larger collection of ``documents`` documents (the
            index's), used instead of the texts' own.
        documents: the size of that collection.

    Example:
        >>> w = term_weights(["quake hits Lima", "quake hits Quito", "rain in Oslo"])
        >>> sorted(w[0], key=w[0].get, reverse=True)[0]
        'lima'
    """
    counted = []
    for i, text in enumerate(texts):
        c = term_counts(text)
        if names:
            c.update("@" + k for k in names[i])
        counted.append(c)
    n = len(texts)
    if df is None:
        df = Counter()
        for c in counted:
            df.update(c.keys())
    else:
        n = documents
    out = []
    for c in counted:
        w = {t: (1.0 + math.log(k)) * math.log((1 + n) / (1 + df.get(t, 0))) for t, k in c.items()}
        top = sorted(w, key=lambda t: (-w[t], t))[:max_terms]
        norm = math.sqrt(sum(w[t] ** 2 for t in top)) or 1.0
        out.append({t: w[t] / norm for t in top if w[t] > 0})
    return out


def term_counts(text: str) -> Counter[str]:
    """The words (3+ letters) and numbers (2+ digits) of a text, lower-cased, counted.

    Example:
        >>> sorted(term_counts("Quake hits Lima, 12 dead; quake").items())
        [('12', 1), ('dead', 1), ('hits', 1), ('lima', 1), ('quake', 2)]
    """
    return Counter(_TOKEN_RE.findall(text.lower()))


def hashed_vectors(terms: Sequence[dict[str, float]], *, dim: int = 256) -> np.ndarray:
    """Unit vectors from tf-idf terms by signed feature hashing: the no-model fallback.

    Used when the ``embed`` extra is absent; it finds candidates by shared words, not meaning.

    Example:
        >>> v = hashed_vectors([{"lima": 1.0}, {"lima": 1.0}, {"oslo": 1.0}])
        >>> round(float(v[0] @ v[1]), 3), round(float(v[0] @ v[2]), 3)
        (1.0, 0.0)
    """
    out = np.zeros((len(terms), dim), dtype=np.float32)
    for i, row in enumerate(terms):
        for term, weight in row.items():
            h = zlib.crc32(term.encode("utf-8"))
            out[i, h % dim] += weight if (h >> 16) & 1 else -weight
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.clip(norms, 1e-12, None)
