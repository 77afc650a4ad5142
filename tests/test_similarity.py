"""The paraphrase decision and the document score, on small hand-written sentences."""

import numpy as np
import pytest

from samestory import embed
from samestory.similarity import (
    LEXICAL_FEATURES,
    PARAPHRASE_THRESHOLD,
    document_similarity,
    embedding_document_similarity,
    lexical_features,
    paraphrase_matrix,
)

# (sentence, its paraphrase, a sentence on another matter) — written for these tests.
TRIPLES = [
    (
        "The harbour authority closed the northern pier on Tuesday after a storm damaged it.",
        "After a storm damaged the northern pier, the harbour authority closed it on Tuesday.",
        "The city council approved a new budget for public libraries.",
    ),
    (
        "Shares of the shipping company fell 12 percent in early trading.",
        "The shipping company's shares dropped 12 percent in early trading.",
        "Heavy snow delayed trains across the mountain region on Sunday.",
    ),
    (
        "Police arrested two men suspected of stealing paintings from the museum.",
        "Two men suspected of stealing paintings from the museum were arrested by police.",
        "The minister said the new hospital would open next spring.",
    ),
]

EMBED = pytest.mark.skipif(not embed.available(), reason="embed extra not installed")


@pytest.mark.parametrize("embeddings", [False, pytest.param(True, marks=EMBED)])
def test_paraphrase_scores_above_non_paraphrase(embeddings):
    a = [t[0] for t in TRIPLES]
    b = [t[1] for t in TRIPLES] + [t[2] for t in TRIPLES]
    m = paraphrase_matrix(a, b, embeddings=embeddings)
    assert m.shape == (3, 6)
    for i in range(3):
        assert m[i, i] >= PARAPHRASE_THRESHOLD, (i, m[i])
        assert m[i, 3 + i] < PARAPHRASE_THRESHOLD, (i, m[i])
        assert m[i, i] == m[i].max()


def test_changed_number_lowers_the_score():
    a = ["The company said profit rose 8 percent to 410 million dollars in 2023."]
    same = ["Profit rose 8 percent to 410 million dollars in 2023, the company said."]
    other = ["Profit rose 3 percent to 290 million dollars in 2021, the company said."]
    m = paraphrase_matrix(a, same + other, embeddings=False)
    assert m[0, 0] > m[0, 1]


def test_matrix_range_and_determinism():
    a = [t[0] for t in TRIPLES] + [t[2] for t in TRIPLES]
    b = [t[1] for t in TRIPLES]
    first = paraphrase_matrix(a, b, embeddings=False)
    assert first.dtype == np.float64
    assert np.all((first >= 0) & (first <= 1))
    assert np.array_equal(first, paraphrase_matrix(a, b, embeddings=False))
    # each cell is the same whether computed alone or within the matrix
    assert first[1, 2] == pytest.approx(paraphrase_matrix([a[1]], [b[2]], embeddings=False)[0, 0])


def test_empty_inputs():
    assert paraphrase_matrix([], ["A sentence."]).shape == (0, 1)
    assert paraphrase_matrix(["A sentence."], []).shape == (1, 0)
    m = paraphrase_matrix(["", "...", "Rain fell."], ["Rain fell."], embeddings=False)
    assert m[0, 0] == 0.0 and m[1, 0] == 0.0 and m[2, 0] > PARAPHRASE_THRESHOLD
    assert document_similarity("", "Some text.") == 0.0


def test_lexical_features_shape():
    f = lexical_features(["One two three."], ["Three two one.", "Four."])
    assert f.shape == (1, 2, len(LEXICAL_FEATURES))
    assert np.all(np.isfinite(f))


STORY = (
    "A fire destroyed a warehouse in the port district overnight. Firefighters fought the "
    "blaze for six hours, and no one was hurt, the fire service said."
)
SAME_EVENT = (
    "No one was injured when flames gutted a warehouse near the docks during the night; "
    "fire crews needed six hours to bring the blaze under control."
)
OTHER = (
    "The national football team won its qualifying match 2-0 on Saturday, with both goals "
    "scored in the second half."
)


@pytest.mark.parametrize("embeddings", [False, pytest.param(True, marks=EMBED)])
def test_document_similarity_orders_pairs(embeddings):
    same = document_similarity(STORY, STORY, embeddings=embeddings)
    near = document_similarity(STORY, SAME_EVENT, embeddings=embeddings)
    far = document_similarity(STORY, OTHER, embeddings=embeddings)
    assert same == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= far < near < same <= 1.0
    assert near == document_similarity(SAME_EVENT, STORY, embeddings=embeddings)


def test_embedding_document_similarity_is_none_without_embeddings():
    assert embedding_document_similarity(STORY, SAME_EVENT, embeddings=False) is None


@EMBED
def test_embedding_document_similarity_orders_pairs():
    near = embedding_document_similarity(STORY, SAME_EVENT, embeddings=True)
    far = embedding_document_similarity(STORY, OTHER, embeddings=True)
    assert embedding_document_similarity(STORY, STORY, embeddings=True) == pytest.approx(1.0)
    assert 0.0 <= far < near < 1.0
    assert embedding_document_similarity("", STORY, embeddings=True) == 0.0
