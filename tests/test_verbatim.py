"""The vectorized seed join and run building agree with a plain-Python reference."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory.verbatim import _exact_runs, _gram_hashes, _seed_pairs, tokenize, verbatim_runs

words = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=0, max_size=40)


def _reference_runs(xa: list[str], xb: list[str], k: int) -> set[tuple[int, int, int, int]]:
    grams_b: dict[tuple[str, ...], list[int]] = {}
    for j in range(len(xb) - k + 1):
        grams_b.setdefault(tuple(xb[j : j + k]), []).append(j)
    seeds = {(i, j) for i in range(len(xa) - k + 1) for j in grams_b.get(tuple(xa[i : i + k]), [])}
    runs = set()
    for i, j in seeds:
        if (i - 1, j - 1) in seeds:
            continue  # not the start of a run
        n = 0
        while (i + n + 1, j + n + 1) in seeds:
            n += 1
        runs.add((i, i + n + k, j, j + n + k))
    return runs


@settings(max_examples=200, deadline=None)
@given(words, words, st.integers(1, 4))
def test_exact_runs_match_the_reference(xa, xb, k):
    vocab = {w: n for n, w in enumerate("abcd")}
    ia = np.array([vocab[w] for w in xa], dtype=np.int64)
    ib = np.array([vocab[w] for w in xb], dtype=np.int64)
    i, j = _seed_pairs(_gram_hashes(ia, k), _gram_hashes(ib, k), max_repeats=10**6)
    got = {tuple(r) for r in _exact_runs(i, j, k).tolist()}
    assert got == _reference_runs(xa, xb, k)


@settings(max_examples=100, deadline=None)
@given(words, words)
def test_chosen_runs_are_one_to_one_and_equal(xa, xb):
    a, b = tokenize(" ".join(xa)), tokenize(" ".join(xb))
    runs = verbatim_runs(a, b, seed=2, gap=0, min_words=2)
    used_a, used_b = set(), set()
    for a0, a1, b0, b1, matched in runs:
        assert a.words[a0:a1] == b.words[b0:b1] and matched == a1 - a0
        assert not used_a & set(range(a0, a1)) and not used_b & set(range(b0, b1))
        used_a |= set(range(a0, a1))
        used_b |= set(range(b0, b1))
