"""Fast shingling, MinHash, banding and verification equal their pure-Python references."""

import itertools

import numpy as np
import pytest
from dedup_fixtures import STORIES, edit_words
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory import lsh, minhash, shingle
from samestory.config import DedupConfig, MinHashConfig

TEXTS = [
    *STORIES,
    "",
    "one",
    "Two words",
    "Ça a été l'été: straße, ÜBER große Wörter — ﬁne ǅemal 12_000 x_y",
    "tabs\tand\nnewlines\r\nand   spaces",
    "punctuation!!! only??? ... --- and a few words",
]


@pytest.mark.parametrize("ngram", [1, 2, 3, 5, 7])
def test_fast_shingles_equal_reference(ngram):
    values, offsets = shingle.shingle_batch(TEXTS, ngram)
    for i, text in enumerate(TEXTS):
        expected = shingle.reference_shingle_hashes(text, ngram)
        assert values[offsets[i] : offsets[i + 1]].tolist() == expected.tolist()
        assert shingle.shingle_hashes(text, ngram).tolist() == expected.tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=6), st.integers(1, 6))
def test_fast_shingles_equal_reference_on_any_text(texts, ngram):
    values, offsets = shingle.shingle_batch(texts, ngram)
    for i, text in enumerate(texts):
        expected = shingle.reference_shingle_hashes(text, ngram)
        assert values[offsets[i] : offsets[i + 1]].tolist() == expected.tolist()


def test_short_text_is_one_shingle_and_case_and_punctuation_do_not_matter():
    assert len(shingle.shingle_hashes("Only three words", 5)) == 1
    assert len(shingle.shingle_hashes("", 5)) == 0
    a = shingle.shingle_hashes("The Storm, hit the coast!", 2)
    b = shingle.shingle_hashes("the storm hit THE coast", 2)
    assert a.tolist() == b.tolist()


def test_sequence_hash_and_word_counts():
    _, _, words, seq = shingle.shingle_batch_details(["A b, c.", "a B c", "a c b"], 2)
    assert words.tolist() == [3, 3, 3]
    assert seq[0] == seq[1] != seq[2]


@pytest.mark.parametrize("seed", [1, 7])
def test_fast_signatures_equal_reference(seed):
    config = MinHashConfig(num_perm=64, seed=seed)
    hashes = [shingle.reference_shingle_hashes(t, 3) for t in TEXTS]
    fast = minhash.signatures(hashes, config)
    ref = minhash.reference_signatures(hashes, config)
    assert fast.dtype == np.uint32 and fast.shape == (len(TEXTS), 64)
    assert np.array_equal(fast, ref)
    other = minhash.signatures(hashes, MinHashConfig(num_perm=64, seed=seed + 1))
    assert not np.array_equal(fast, other)


def test_signature_agreement_estimates_jaccard():
    a = shingle.shingle_hashes(STORIES[0], 5)
    b = shingle.shingle_hashes(edit_words(STORIES[0], 25), 5)
    sig = minhash.signatures([a, b], MinHashConfig(num_perm=256))
    estimate = float((sig[0] == sig[1]).mean())
    assert abs(estimate - shingle.jaccard(a, b)) < 0.12


def test_fast_band_keys_equal_reference():
    sig = np.random.default_rng(3).integers(0, 2**32, (40, 128), dtype=np.uint32)
    for bands, rows in [(16, 8), (9, 13), (1, 128), (128, 1)]:
        assert np.array_equal(
            lsh.band_keys(sig, bands, rows), lsh.reference_band_keys(sig, bands, rows)
        )


def test_banding_choice():
    assert lsh.optimal_bands(0.8, 128) == (9, 13)
    # with verification a false positive costs a check, so false negatives weigh more
    assert DedupConfig().bands_rows() == (16, 8)
    assert DedupConfig(verify=False).bands_rows() == (9, 13)
    given = DedupConfig(minhash=MinHashConfig(bands=32, rows=4))
    assert given.bands_rows() == (32, 4)
    b, r = DedupConfig().bands_rows()
    assert 1 - (1 - 0.8**r) ** b > 0.9  # most pairs at the threshold become candidates
    assert 1 - (1 - 0.5**r) ** b < 0.07  # few far below it do


def test_candidate_pairs_from_sorted_buckets():
    keys = np.array([[1, 5], [2, 5], [1, 6], [3, 7]], dtype=np.uint64)
    assert lsh.candidate_pairs(keys).tolist() == [[0, 1], [0, 2]]
    big = np.zeros((10, 1), dtype=np.uint64)
    chain = lsh.candidate_pairs(big, max_bucket=4)
    assert chain.tolist() == [[i, i + 1] for i in range(9)]
    assert len(lsh.candidate_pairs(big, max_bucket=64)) == 45


def test_vectorized_jaccard_equals_exact():
    sets = [shingle.shingle_hashes(t, 3) for t in TEXTS[:6]] + [np.zeros(0, np.uint64)]
    values = np.concatenate(sets)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])])
    ia, ib = np.triu_indices(len(sets), 1)
    fast = shingle.jaccard_batch((values, offsets), ia, (values, offsets), ib)
    ref = [shingle.jaccard(sets[i], sets[j]) for i, j in zip(ia, ib, strict=True)]
    assert np.allclose(fast, ref)


@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_unsorted_shingles_are_the_reference_set_in_text_order(ngram):
    texts = [*TEXTS, "a b a b a b a b a b", STORIES[0] + " " + STORIES[0]]
    values, offsets, n_words, seq = shingle.shingle_batch_details(texts, ngram, unique=False)
    _, _, n_sorted, seq_sorted = shingle.shingle_batch_details(texts, ngram)
    assert n_words.tolist() == n_sorted.tolist() and seq.tolist() == seq_sorted.tolist()
    for i, text in enumerate(texts):
        raw = values[offsets[i] : offsets[i + 1]]
        assert np.unique(raw).tolist() == shingle.reference_shingle_hashes(text, ngram).tolist()
        m = int(n_words[i])
        assert len(raw) == (max(m - ngram + 1, 1) if m else 0)  # one per position
    # the signatures of the raw shingles are those of the sets
    sets = shingle.shingle_batch(texts, ngram)
    assert (minhash.signatures_csr(values, offsets) == minhash.signatures_csr(*sets)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=1, max_size=8), st.randoms())
def test_hashed_jaccard_on_unsorted_repeats_equals_exact(lists, rnd):
    # small integers collide in the table's low bits, like any hash values can
    sets = [np.array(sorted(set(v)), dtype=np.uint64) for v in lists]
    raws = []
    for v in lists:
        raw = [*v, *v[: len(v) // 2]]  # repeats
        rnd.shuffle(raw)
        raws.append(np.array(raw, dtype=np.uint64))
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in raws])]).astype(np.int64)
    values = np.concatenate(raws) if raws else np.zeros(0, np.uint64)
    ia, ib = np.meshgrid(np.arange(len(sets)), np.arange(len(sets)))
    ia, ib = ia.ravel(), ib.ravel()
    fast = shingle.jaccard_batch((values, offsets), ia, (values, offsets), ib, assume_sorted=False)
    ref = [shingle.jaccard(sets[i], sets[j]) for i, j in zip(ia, ib, strict=True)]
    assert fast.tolist() == ref


def test_ascii_batches_take_the_joined_encoding_and_agree():
    texts = [*STORIES, "", "x", "tabs\tand\nnewlines", "a-b c_d 12 34"]
    assert "".join(texts).isascii()
    values, offsets = shingle.shingle_batch(texts, 3)
    for i, text in enumerate(texts):
        expected = shingle.reference_shingle_hashes(text, 3)
        assert values[offsets[i] : offsets[i + 1]].tolist() == expected.tolist()


def _reference_candidates(keys, max_bucket):
    """All pairs of each band's bucket (members in document order), or a chain when big."""
    found = set()
    for j in range(keys.shape[1]):
        buckets = {}
        for i, key in enumerate(keys[:, j].tolist()):
            buckets.setdefault(key, []).append(i)
        for members in buckets.values():
            if len(members) <= max_bucket:
                found.update((a, b) for x, a in enumerate(members) for b in members[x + 1 :])
            else:
                found.update(itertools.pairwise(members))
    return sorted(found)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 5), min_size=2, max_size=2), max_size=60),
    st.integers(2, 8),
)
def test_candidate_pairs_equal_reference(rows, max_bucket):
    keys = np.array(rows, dtype=np.uint64).reshape(-1, 2)
    got = lsh.candidate_pairs(keys, max_bucket=max_bucket).tolist()
    assert got == [list(p) for p in _reference_candidates(keys, max_bucket)]
