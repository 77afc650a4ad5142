"""Verbatim passages: maximal shared word runs between two texts, tolerant to small edits.

Every shared run of ``seed`` words is found at once with hashed word n-grams and a sorted join
(numpy, no pair loop); consecutive seeds on one diagonal become exact runs (checked word by
word against hash collisions); runs are chosen one-to-one, longest first; runs that follow each
other in both texts with at most ``gap`` differing words between them merge into one passage;
a passage then grows over one more small edit at either end when 2+ words match beyond it.
Any order between the two texts works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Tokens", "tokenize", "verbatim_runs"]

_WORD_RE = re.compile(r"\w+")

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
