"""Align: the passages two cleaned texts share, and what each has alone.

Two kinds of passage, in any order between the two texts:

* **verbatim** — maximal shared word runs tolerant to small edits (``samestory.verbatim``).
* **paraphrase** — sentence pairs that say the same in other words, scored by
  ``samestory.similarity.paraphrase_matrix`` over the sentences less than 80% inside verbatim
  passages, matched one-to-one, best first, at ``PARAPHRASE_THRESHOLD`` or above. A verbatim
  passage inside a matched pair is absorbed by it; one that straddles a pair wins over it, so
  passages never overlap.

Everything is computed on the cleaned texts and every span is mapped back to the original
characters with ``Cleaned.to_original``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from samestory import similarity
from samestory.clean import Cleaned
from samestory.document import Passage, Span
from samestory.verbatim import Tokens, tokenize, verbatim_runs

__all__ = ["Alignment", "Tokens", "align", "split_sentences", "tokenize", "verbatim_runs"]

_PARAGRAPH_RE = re.compile(r"\n\n")
_CLOSED = 0.8  # a sentence this much inside verbatim passages is not re-paired
_CLOSERS = frozenset(".!?;:,\"')]")

# --- sentences ---------------------------------------------------------------------------

_BOUNDARY_RE = re.compile(r"[.!?]+[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])|\n\n")
# fmt: off
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "capt",
    "cpt", "st", "jr", "sr", "inc", "ltd", "co", "corp", "no", "nos", "vs", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft",
    "rev", "hon", "pres", "dept", "est", "approx", "fig", "vol", "u.s", "u.k", "u.n", "e.g",
    "i.e", "cf", "al",
})
# fmt: on
_LAST_WORD_RE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of ``text`` (a paragraph break always ends one).

    A full stop after a known abbreviation ("Dr.", "Sept.", "U.S.") or a single initial does
    not end a sentence. Spans are trimmed of surrounding whitespace.

    Example:
        >>> t = "Dr. Ana Ruiz met J. Berg in the U.S. on Sept. 7. They spoke. Then?\\n\\nNew."
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['Dr. Ana Ruiz met J. Berg in the U.S. on Sept. 7.', 'They spoke.', 'Then?', 'New.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        end = m.end()
        if m.group() != "\n\n" and m.group()[0] == ".":
            w = _LAST_WORD_RE.search(text, max(start, m.start() - 12), m.start() + 1)
            if w is not None and w.end() == m.start() + 1:
                word = w.group(1).lower()
                if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


# --- the alignment -----------------------------------------------------------------------

# one text aligned with many (a query with each of its candidates) is split once; align only
# reads what these give
_tokens = lru_cache(maxsize=16)(tokenize)
_sentences = lru_cache(maxsize=16)(split_sentences)


@dataclass(slots=True)
class Alignment:
    """Passages, unique text and word coverage of an aligned pair of cleaned texts."""

    passages: list[Passage]
    unique_a: list[Span]
    unique_b: list[Span]
    verbatim: tuple[float, float]
    paraphrase: tuple[float, float]
    notes: list[str]


def _sentence_words(tokens: Tokens, sents: list[tuple[int, int]]) -> np.ndarray:
    """For each sentence, its first and one-past-last word index: shape (n, 2)."""
    if not sents:
        return np.zeros((0, 2), dtype=np.int64)
    bounds = np.array(sents, dtype=np.int64)
    first = np.searchsorted(tokens.starts, bounds[:, 0], side="left")
    last = np.searchsorted(tokens.starts, bounds[:, 1], side="left")
    return np.stack([first, last], axis=1)


def _span(c: Cleaned, start: int, end: int) -> tuple[tuple[int, int], str]:
    s, e = c.to_original(start, end)
    return (s, e), c.original[s:e]


def align(
    a: Cleaned,
    b: Cleaned,
    *,
    seed: int = 4,
    gap: int = 3,
    min_words: int = 7,
    max_sentence_pairs: int = 250_000,
    paraphrase_threshold: float | None = None,
    min_unique: int = 5,
    embeddings: bool | None = None,
) -> Alignment:
    """Align two cleaned texts: verbatim passages, paraphrase sentence pairs, unique text.

    Args:
        a, b: cleaned texts (spans in the result point into their originals).
        seed: words in an exact n-gram that starts a verbatim run.
        gap: most differing words between two runs merged into one verbatim passage.
        min_words: fewest matching words a verbatim passage needs.
        max_sentence_pairs: above this many sentence pairs, paraphrase alignment is skipped
            (and a note says so) to keep huge inputs tractable.
        paraphrase_threshold: defaults to ``samestory.similarity.PARAPHRASE_THRESHOLD``.
        min_unique: fewest words a run of unaligned text needs to be reported as unique.

    Example:
        >>> from samestory.clean import clean
        >>> x = clean("Flood waters rose in Tarn on Monday and forced dozens of families out.")
        >>> y = clean("Families left. Flood waters rose in Tarn on Monday and forced them out.")
        >>> [p.kind for p in align(x, y).passages]
        ['verbatim']
    """
    threshold = (
        similarity.PARAPHRASE_THRESHOLD if paraphrase_threshold is None else paraphrase_threshold
    )
    ta, tb = _tokens(a.text), _tokens(b.text)
    runs = verbatim_runs(ta, tb, seed=seed, gap=gap, min_words=min_words)
    sents_a, sents_b = _sentences(a.text), _sentences(b.text)
    words_a, words_b = _sentence_words(ta, sents_a), _sentence_words(tb, sents_b)
    notes: list[str] = []
    pairs = _paraphrase_pairs(
        a,
        b,
        sents_a,
        sents_b,
        words_a,
        words_b,
        runs,
        threshold,
        max_sentence_pairs,
        notes,
        embeddings=embeddings,
    )
    runs, pairs = _resolve(runs, pairs, words_a, words_b)

    cov_a = np.zeros(len(ta.words), dtype=np.int8)  # 0 none, 1 verbatim, 2 paraphrase
    cov_b = np.zeros(len(tb.words), dtype=np.int8)
    passages: list[Passage] = []
    for a0, a1, b0, b1, matched in runs:
        cov_a[a0:a1] = 1
        cov_b[b0:b1] = 1
        a_span, a_text = _span(a, int(ta.starts[a0]), int(ta.ends[a1 - 1]))
        b_span, b_text = _span(b, int(tb.starts[b0]), int(tb.ends[b1 - 1]))
        score = matched / max(a1 - a0, b1 - b0)
        passages.append(Passage("verbatim", a_span, b_span, a_text, b_text, score))
    for x, y, score in pairs:
        (wa0, wa1), (wb0, wb1) = words_a[x].tolist(), words_b[y].tolist()
        cov_a[wa0:wa1] = np.maximum(cov_a[wa0:wa1], 2)
        cov_b[wb0:wb1] = np.maximum(cov_b[wb0:wb1], 2)
        a_span, a_text = _span(a, *sents_a[x])
        b_span, b_text = _span(b, *sents_b[y])
        passages.append(Passage("paraphrase", a_span, b_span, a_text, b_text, score))
    passages.sort(key=lambda p: (p.a_span, p.b_span))
    return Alignment(
        passages=passages,
        unique_a=_unique(a, ta, cov_a, min_unique),
        unique_b=_unique(b, tb, cov_b, min_unique),
        verbatim=(_share(cov_a, 1), _share(cov_b, 1)),
        paraphrase=(_share(cov_a, 2), _share(cov_b, 2)),
        notes=notes,
    )


def _paraphrase_pairs(
    a: Cleaned,
    b: Cleaned,
    sents_a: list[tuple[int, int]],
    sents_b: list[tuple[int, int]],
    words_a: np.ndarray,
    words_b: np.ndarray,
    runs: list[list[int]],
    threshold: float,
    max_pairs: int,
    notes: list[str],
    *,
    embeddings: bool | None = None,
) -> list[tuple[int, int, float]]:
    """One-to-one sentence pairs (index in a, index in b, score), best first."""
    verb_a = np.zeros(int(words_a[-1, 1]) if len(words_a) else 0, dtype=bool)
    verb_b = np.zeros(int(words_b[-1, 1]) if len(words_b) else 0, dtype=bool)
    for a0, a1, b0, b1, _ in runs:
        verb_a[a0:a1] = True
        verb_b[b0:b1] = True

    def open_sentences(words: np.ndarray, verb: np.ndarray) -> list[int]:
        # sentences (nearly) all inside verbatim passages are aligned already
        if not len(words):
            return []
        cum = np.concatenate(([0], np.cumsum(verb)))
        size = words[:, 1] - words[:, 0]
        covered = cum[words[:, 1]] - cum[words[:, 0]]
        return np.nonzero((size >= 3) & (covered < _CLOSED * size))[0].tolist()

    open_a, open_b = open_sentences(words_a, verb_a), open_sentences(words_b, verb_b)
    if not open_a or not open_b:
        return []
    if len(open_a) * len(open_b) > max_pairs:
        notes.append(
            f"paraphrase alignment skipped: {len(open_a)} x {len(open_b)} sentence pairs is "
            f"over the limit of {max_pairs}"
        )
        return []
    texts_a = [a.text[slice(*sents_a[n])] for n in open_a]
    texts_b = [b.text[slice(*sents_b[n])] for n in open_b]
    scores = np.asarray(
        # only pairs at the threshold are used: sentences that cannot reach it go unembedded
        similarity.paraphrase_matrix(texts_a, texts_b, embeddings=embeddings, at_least=threshold),
        dtype=np.float64,
    )
    flat = scores.ravel()
    pairs: list[tuple[int, int, float]] = []
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for idx in np.argsort(-flat, kind="stable").tolist():
        if flat[idx] < threshold:
            break
        x, y = divmod(idx, len(open_b))
        if x not in taken_a and y not in taken_b:
            taken_a.add(x)
            taken_b.add(y)
            pairs.append((open_a[x], open_b[y], float(flat[idx])))
    return pairs


def _sentences_of(words: np.ndarray, w0: int, w1: int) -> set[int]:
    """Indices of the sentences whose words intersect [w0, w1)."""
    first = int(np.searchsorted(words[:, 1], w0, side="right"))
    last = int(np.searchsorted(words[:, 0], w1, side="left"))
    return {n for n in range(first, last) if words[n, 1] > words[n, 0]}


def _resolve(
    runs: list[list[int]],
    pairs: list[tuple[int, int, float]],
    words_a: np.ndarray,
    words_b: np.ndarray,
) -> tuple[list[list[int]], list[tuple[int, int, float]]]:
    """Make passages disjoint: a verbatim run inside a paraphrase pair is absorbed by it;
    a run that straddles a pair wins over it (exact words are the stronger evidence)."""
    if not pairs or not runs:
        return runs, pairs
    by_a = {x: n for n, (x, _, _) in enumerate(pairs)}
    by_b = {y: n for n, (_, y, _) in enumerate(pairs)}
    kept_runs = []
    dropped: set[int] = set()
    for run in runs:
        sa = _sentences_of(words_a, run[0], run[1])
        sb = _sentences_of(words_b, run[2], run[3])
        touched = {by_a[x] for x in sa if x in by_a} | {by_b[y] for y in sb if y in by_b}
        if not touched:
            kept_runs.append(run)
            continue
        (only,) = touched if len(touched) == 1 else (None,)
        if only is not None and sa == {pairs[only][0]} and sb == {pairs[only][1]}:
            continue  # absorbed by the paraphrase pair
        dropped |= touched
        kept_runs.append(run)
    return kept_runs, [p for n, p in enumerate(pairs) if n not in dropped]


def _share(cov: np.ndarray, kind: int) -> float:
    return float((cov == kind).mean()) if len(cov) else 0.0


def _unique(c: Cleaned, tokens: Tokens, cov: np.ndarray, min_words: int) -> list[Span]:
    """Runs of words no passage covers (at least ``min_words``, split at paragraph breaks)."""
    n = len(cov)
    if n == 0:
        return []
    breaks = np.array([m.start() for m in _PARAGRAPH_RE.finditer(c.text)], dtype=np.int64)
    para = np.searchsorted(breaks, tokens.starts, side="right")
    free = cov == 0
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (free[1:] != free[:-1]) | (para[1:] != para[:-1])
    starts = np.nonzero(new_run)[0]
    ends = np.append(starts[1:], n)
    spans = []
    for w0, w1 in zip(starts.tolist(), ends.tolist(), strict=True):
        if free[w0] and w1 - w0 >= min_words:
            s, e = int(tokens.starts[w0]), int(tokens.ends[w1 - 1])
            # take the punctuation that closes the run ("Wednesday." not "Wednesday")
            while e < len(c.text) and c.text[e] in _CLOSERS:
                e += 1
            (os_, oe), text = _span(c, s, e)
            spans.append(Span(os_, oe, text))
    return spans
