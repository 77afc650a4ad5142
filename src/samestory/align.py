"""Align: the passages two cleaned texts share, and what each has alone.

Two kinds of passage, in any order between the two texts:

* **verbatim** — maximal shared word runs. Every shared run of ``seed`` words is found at once
  with hashed word n-grams and a sorted join (numpy, no pair loop); seeds on one diagonal
  become exact runs; runs are chosen one-to-one, longest first; runs that follow each other
  in both texts with at most ``gap`` differing words between them merge into one passage,
  so a changed word or a short insertion does not break a passage; a passage then grows over
  one more small edit at either end when 2+ words match beyond it.
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

import numpy as np

from samestory import similarity
from samestory.clean import Cleaned
from samestory.document import Passage, Span

__all__ = ["Alignment", "Tokens", "align", "split_sentences", "tokenize"]

_WORD_RE = re.compile(r"\w+")
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


# --- words -------------------------------------------------------------------------------


@dataclass(slots=True)
class Tokens:
    """The casefolded words of a cleaned text and their [start, end) character spans."""

    words: list[str]
    starts: np.ndarray
    ends: np.ndarray


def tokenize(text: str) -> Tokens:
    """Casefolded word tokens with their character spans.

    Example:
        >>> tokenize("The Plan, agreed.").words
        ['the', 'plan', 'agreed']
    """
    folded = text.casefold()
    if len(folded) != len(text):  # rare: a character that folds to several ("ß" -> "ss")
        matches = list(_WORD_RE.finditer(text))
        words = [m.group().casefold() for m in matches]
    else:
        matches = list(_WORD_RE.finditer(folded))
        words = [m.group() for m in matches]
    spans = np.array([m.span() for m in matches], dtype=np.int64).reshape(-1, 2)
    return Tokens(words, spans[:, 0].copy(), spans[:, 1].copy())


_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93]
    + [0xFF51AFD7ED558CCD ^ (i * 0x2545F4914F6CDD1D % 2**64) | 1 for i in range(60)],
    dtype=np.uint64,
)


def _gram_hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """A 64-bit hash of every run of ``k`` word ids (multiply-add, wrapping)."""
    n = len(ids) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    ids = ids.astype(np.uint64) + np.uint64(1)
    h = np.zeros(n, dtype=np.uint64)
    for t in range(k):
        h = h ^ (ids[t : t + n] * _MULTIPLIERS[t % len(_MULTIPLIERS)])
        h = (h << np.uint64(7)) | (h >> np.uint64(57))
    return h


# --- verbatim runs -----------------------------------------------------------------------


def _seed_pairs(ha: np.ndarray, hb: np.ndarray, max_repeats: int) -> tuple[np.ndarray, ...]:
    """All (i, j) with ha[i] == hb[j], skipping n-grams repeated more than ``max_repeats``."""
    order = np.argsort(hb, kind="stable")
    sb = hb[order]
    lo = np.searchsorted(sb, ha, side="left")
    hi = np.searchsorted(sb, ha, side="right")
    counts = hi - lo
    _, inv, per_a = np.unique(ha, return_inverse=True, return_counts=True)
    keep = (counts > 0) & (counts <= max_repeats) & (per_a[inv] <= max_repeats)
    ia = np.nonzero(keep)[0]
    if len(ia) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    reps = counts[ia]
    i = np.repeat(ia, reps)
    # offsets 0..reps-1 within each group
    first = np.repeat(np.cumsum(reps) - reps, reps)
    within = np.arange(len(i)) - first
    j = order[np.repeat(lo[ia], reps) + within]
    return i.astype(np.int64), j.astype(np.int64)


def _exact_runs(i: np.ndarray, j: np.ndarray, k: int) -> np.ndarray:
    """Seeds on one diagonal with consecutive positions become runs: rows (a0, a1, b0, b1)."""
    if len(i) == 0:
        return np.zeros((0, 4), dtype=np.int64)
    d = j - i
    order = np.lexsort((i, d))
    i, d = i[order], d[order]
    brk = np.ones(len(i), dtype=bool)
    brk[1:] = (d[1:] != d[:-1]) | (i[1:] != i[:-1] + 1)
    starts = np.nonzero(brk)[0]
    ends = np.append(starts[1:], len(i)) - 1
    a0 = i[starts]
    a1 = i[ends] + k
    return np.stack([a0, a1, a0 + d[starts], a1 + d[starts]], axis=1)


def _choose_runs(runs: np.ndarray, na: int, nb: int, min_len: int) -> list[list[int]]:
    """One-to-one runs, longest first; a run that overlaps chosen ones keeps its free part."""
    used_a = np.zeros(na, dtype=bool)
    used_b = np.zeros(nb, dtype=bool)
    lengths = runs[:, 1] - runs[:, 0]
    order = np.lexsort((runs[:, 2], runs[:, 0], -lengths))
    chosen: list[list[int]] = []
    for r in order:
        a0, a1, b0, b1 = (int(x) for x in runs[r])
        free = ~(used_a[a0:a1] | used_b[b0:b1])
        if not free.any():
            continue
        if not free.all():
            # longest stretch of free positions
            edges = np.diff(np.concatenate(([0], free.view(np.int8), [0])))
            s_idx = np.nonzero(edges == 1)[0]
            e_idx = np.nonzero(edges == -1)[0]
            best = int(np.argmax(e_idx - s_idx))
            off0, off1 = int(s_idx[best]), int(e_idx[best])
            a0, a1, b0, b1 = a0 + off0, a0 + off1, b0 + off0, b0 + off1
        if a1 - a0 < min_len:
            continue
        used_a[a0:a1] = True
        used_b[b0:b1] = True
        chosen.append([a0, a1, b0, b1, a1 - a0])
    chosen.sort()
    return chosen


def _merge_runs(runs: list[list[int]], gap: int) -> list[list[int]]:
    """Join runs that follow each other in both texts with at most ``gap`` words between."""
    merged: list[list[int]] = []
    for run in runs:
        if merged:
            last = merged[-1]
            ga, gb = run[0] - last[1], run[2] - last[3]
            if 0 <= ga <= gap and 0 <= gb <= gap:
                last[1], last[3], last[4] = run[1], run[3], last[4] + run[4]
                continue
        merged.append(list(run))
    return merged


def verbatim_runs(
    a: Tokens, b: Tokens, *, seed: int = 4, gap: int = 3, min_words: int = 7, max_repeats: int = 20
) -> list[list[int]]:
    """Verbatim passages as word ranges: rows [a0, a1, b0, b1, matched_words].

    Example:
        >>> a = tokenize("the council approved the new harbour plan on monday after a long debate")
        >>> b = tokenize("late on monday the council approved the new harbour plan after debate")
        >>> verbatim_runs(a, b, min_words=5)
        [[0, 7, 3, 10, 7]]
    """
    vocab: dict[str, int] = {}
    ids_a = np.array([vocab.setdefault(w, len(vocab)) for w in a.words], dtype=np.int64)
    ids_b = np.array([vocab.setdefault(w, len(vocab)) for w in b.words], dtype=np.int64)
    k = seed
    if len(ids_a) < k or len(ids_b) < k:
        return []
    i, j = _seed_pairs(_gram_hashes(ids_a, k), _gram_hashes(ids_b, k), max_repeats)
    runs = _exact_runs(i, j, k)
    # hashes can collide: keep only runs whose words really are equal
    runs = np.array(
        [r for r in runs.tolist() if np.array_equal(ids_a[r[0] : r[1]], ids_b[r[2] : r[3]])],
        dtype=np.int64,
    ).reshape(-1, 4)
    chosen = _choose_runs(runs, len(ids_a), len(ids_b), k)
    merged = _merge_runs(chosen, gap)
    merged = [r for r in merged if r[4] >= min_words]
    if gap:
        _extend_edges(merged, ids_a, ids_b, gap)
    return merged


def _extend_edges(runs: list[list[int]], ids_a: np.ndarray, ids_b: np.ndarray, gap: int) -> None:
    """Grow each passage over a small edit at either end when 2+ more words match beyond it
    ("the mayor said [that] the budget ..."), never into another passage."""
    xa, xb = ids_a.tolist(), ids_b.tolist()
    used_a = bytearray(len(xa))
    used_b = bytearray(len(xb))
    for a0, a1, b0, b1, _ in runs:
        used_a[a0:a1] = b"\x01" * (a1 - a0)
        used_b[b0:b1] = b"\x01" * (b1 - b0)
    for run in runs:
        for direction in (-1, 1):
            best = (0, 0, 0)
            for da in range(gap + 1):
                for db in range(gap + 1):
                    if da or db:
                        n = _match_len(run, direction, da, db, xa, xb, used_a, used_b)
                        if n >= 2 and (n, -da - db) > (best[0], -best[1] - best[2]):
                            best = (n, da, db)
            n, da, db = best
            if not n:
                continue
            if direction < 0:
                lo_a, lo_b = run[0] - da - n, run[2] - db - n
                used_a[lo_a : run[0]] = b"\x01" * (run[0] - lo_a)
                used_b[lo_b : run[2]] = b"\x01" * (run[2] - lo_b)
                run[0], run[2] = lo_a, lo_b
            else:
                hi_a, hi_b = run[1] + da + n, run[3] + db + n
                used_a[run[1] : hi_a] = b"\x01" * (hi_a - run[1])
                used_b[run[3] : hi_b] = b"\x01" * (hi_b - run[3])
                run[1], run[3] = hi_a, hi_b
            run[4] += n


def _match_len(
    run: list[int],
    direction: int,
    da: int,
    db: int,
    xa: list[int],
    xb: list[int],
    used_a: bytearray,
    used_b: bytearray,
) -> int:
    """Words that match beyond a skip of da (in a) and db (in b) words off one end of run."""
    if direction < 0:
        i, j, step = run[0] - da - 1, run[2] - db - 1, -1
        skipped = used_a[i + 1 : run[0]] + used_b[j + 1 : run[2]]
    else:
        i, j, step = run[1] + da, run[3] + db, 1
        skipped = used_a[run[1] : i] + used_b[run[3] : j]
    if any(skipped):
        return 0
    n = 0
    while 0 <= i < len(xa) and 0 <= j < len(xb) and not used_a[i] and not used_b[j]:
        if xa[i] != xb[j]:
            break
        n += 1
        i += step
        j += step
    return n


# --- the alignment -----------------------------------------------------------------------


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
    ta, tb = tokenize(a.text), tokenize(b.text)
    runs = verbatim_runs(ta, tb, seed=seed, gap=gap, min_words=min_words)
    sents_a, sents_b = split_sentences(a.text), split_sentences(b.text)
    words_a, words_b = _sentence_words(ta, sents_a), _sentence_words(tb, sents_b)
    notes: list[str] = []
    pairs = _paraphrase_pairs(
        a, b, sents_a, sents_b, words_a, words_b, runs, threshold, max_sentence_pairs, notes
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
    scores = np.asarray(similarity.paraphrase_matrix(texts_a, texts_b), dtype=np.float64)
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
