"""What compare embeds, and how: only sentences that could pair, in batches of like length."""

import os

import numpy as np
import pytest

from samestory import embed, similarity
from samestory.embed import _buckets

EMBED = pytest.mark.skipif(not embed.available(), reason="embed extra not installed")

# Two short reports of one (invented) event: three sentences say the same, the rest do not.
SIDE_A = [
    "The ferry to Kellan Island ran aground on a sandbank early on Saturday morning.",
    "All 84 passengers were taken off by lifeboats and nobody was hurt.",
    "The operator said the captain had reported a steering fault an hour before.",
    "Kellan Island has about 2,000 residents and depends on the ferry for supplies.",
    "A new harbour wall was finished there last year.",
]
SIDE_B = [
    "Lifeboats brought all 84 people on board to safety and there were no injuries.",
    "Early on Saturday the Kellan Island ferry struck a sandbank and stuck fast.",
    "An hour earlier the captain had told the company of a problem with the steering.",
    "Weather forecasters expect strong winds along the coast next week.",
    "Fishing quotas for the northern waters will be cut by a tenth.",
]


def test_buckets_cover_every_row_in_order_within_the_budget():
    lengths = [4, 5, 5, 6, 30, 31, 33, 200, 250]
    batches = _buckets(lengths, 256)
    assert [i for b in batches for i in b] == list(range(len(lengths)))
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= max(256, max(lengths[i] for i in b))
    # short sentences are not padded to the long ones
    assert any(b == [0, 1, 2, 3] for b in batches)
    assert [7] in batches and [8] in batches
    assert _buckets([], 100) == []
    assert _buckets([300], 100) == [[0]]  # one row always fits


def test_threads_default_to_the_usable_cores():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert embed.Embedder().threads == min(2, cores)
    assert embed.Embedder(threads=3).threads == 3


def _count_embedded(monkeypatch) -> list[str]:
    """From now on, the sentences paraphrase_matrix embeds are appended to the list returned."""
    asked: list[str] = []
    real = similarity.sentence_vectors

    def counting(sents):
        asked.extend(sents)
        return real(sents)

    monkeypatch.setattr(similarity, "sentence_vectors", counting)
    return asked


@EMBED
def test_at_least_embeds_only_sentences_that_could_pair(monkeypatch):
    # the stage-1 model alone: with the cross-encoder the bound is its band's floor (below)
    monkeypatch.setattr(similarity, "cross_band", lambda model=None: None)
    full = similarity.paraphrase_matrix(SIDE_A, SIDE_B, embeddings=True)
    asked = _count_embedded(monkeypatch)
    pruned = similarity.paraphrase_matrix(SIDE_A, SIDE_B, embeddings=True, at_least=0.6)
    assert 0 < len(asked) < len(SIDE_A) + len(SIDE_B)
    assert SIDE_B[3] not in asked and SIDE_B[4] not in asked
    reach = full >= 0.6
    assert reach.sum() >= 2
    assert np.array_equal(reach, pruned >= 0.6)
    assert np.allclose(pruned[reach], full[reach], atol=1e-9)
    # a pair left out holds an upper bound of its probability
    assert np.all(pruned[~reach] >= full[~reach] - 1e-9)


@EMBED
def test_pairs_the_cross_encoder_decides_need_no_embedding(monkeypatch):
    band = similarity.CrossBand(0.2, 0.9, 4)
    monkeypatch.setattr(similarity, "cross_band", lambda model=None: band)
    monkeypatch.setattr(
        similarity, "cross_probabilities", lambda a, b, mask: np.full(int(mask.sum()), 0.75)
    )
    feats = similarity.lexical_features(SIDE_A, SIDE_B)
    lexical = similarity._logistic(feats, similarity._shipped_model()["lexical"])
    crossed = band.select(lexical, SIDE_A, SIDE_B)
    assert crossed.any()
    asked = _count_embedded(monkeypatch)
    m = similarity.paraphrase_matrix(SIDE_A, SIDE_B, embeddings=True, at_least=0.3)
    assert np.all(m[crossed] == 0.75)
    # a sentence whose only pairs that could reach 0.3 are the cross-encoder's is not embedded
    params = similarity._shipped_model()["embedding"]
    best = np.concatenate([feats, np.ones((*feats.shape[:2], 1))], axis=-1)
    could = (similarity._logistic(best, params) >= 0.3) & ~crossed
    wanted = {SIDE_A[i] for i in np.flatnonzero(could.any(axis=1))}
    wanted |= {SIDE_B[j] for j in np.flatnonzero(could.any(axis=0))}
    assert wanted and set(asked) == wanted
