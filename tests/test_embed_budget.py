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


@EMBED
def test_at_least_embeds_only_sentences_that_could_pair(monkeypatch):
    full = similarity.paraphrase_matrix(SIDE_A, SIDE_B, embeddings=True)
    asked: list[str] = []
    real = similarity.sentence_vectors

    def counting(sents):
        asked.extend(sents)
        return real(sents)

    monkeypatch.setattr(similarity, "sentence_vectors", counting)
    pruned = similarity.paraphrase_matrix(SIDE_A, SIDE_B, embeddings=True, at_least=0.6)
    assert 0 < len(asked) < len(SIDE_A) + len(SIDE_B)
    assert SIDE_B[3] not in asked and SIDE_B[4] not in asked
    reach = full >= 0.6
    assert reach.sum() >= 2
    assert np.array_equal(reach, pruned >= 0.6)
    assert np.allclose(pruned[reach], full[reach], atol=1e-9)
    # a pair left out holds an upper bound of its probability
    assert np.all(pruned[~reach] >= full[~reach] - 1e-9)
