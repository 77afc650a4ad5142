"""Embeddings from the optional extra (skipped when it is not installed)."""

import numpy as np
import pytest

from samestory import embed
from samestory.errors import MissingDependency, SettingsError


def test_lead_keeps_title_and_first_words():
    assert embed.lead("a b c d e", title="Head", max_words=3) == "Head. a b c"
    assert embed.lead("a b", max_words=5) == "a b"
    assert embed.lead("", title="Only title") == "Only title"


def test_missing_package_names_the_extra():
    with pytest.raises(MissingDependency, match=r"samestory\[embed\]"):
        embed._package_dir("samestory_no_such_package")


def test_bad_settings_are_refused():
    with pytest.raises(SettingsError, match="unknown embedding model"):
        embed.Embedder(model="word2vec")
    with pytest.raises(SettingsError):
        embed.Embedder(batch_size=0)


def test_env_switch_turns_embeddings_off(monkeypatch):
    monkeypatch.setenv("SAMESTORY_NO_EMBED", "1")
    assert not embed.available()


needs_extra = pytest.mark.skipif(not embed.available(), reason="embed extra not installed")


@needs_extra
def test_vectors_are_normalised_and_ordered():
    texts = [
        "The river burst its banks and flooded the lower town.",
        "",
        "Floodwater from the river swamped the lower part of the town.",
        "The orchestra played a new symphony at the festival.",
    ]
    e = embed.default_embedder()
    v = e.embed(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[[0, 2, 3]], axis=1), 1.0, atol=1e-5)
    assert not v[1].any()
    assert v[0] @ v[2] > 0.6 > v[0] @ v[3]
    # batching and order do not change a text's vector
    alone = e.embed([texts[3]])[0]
    assert np.allclose(alone, v[3], atol=1e-5)


@needs_extra
def test_documents_use_title_and_lead():
    e = embed.Embedder(max_words=20)
    long_text = " ".join(["The mayor opened the new bridge across the bay."] * 40)
    d = e.embed_documents([long_text], titles=["Bridge opens"])
    assert d.shape == (1, 384)
    with pytest.raises(SettingsError):
        e.embed_documents(["a", "b"], titles=["one"])


@needs_extra
def test_token_states_mean_pool_to_the_sentence_vector():
    texts = ["The ferry left the harbour at dawn.", "", "Snow closed the mountain pass."]
    e = embed.default_embedder()
    states = e.token_states(texts)
    ids, hidden = states[0]
    assert hidden.shape == (len(ids), 384) and ids[0] != ids[-1]  # [CLS] ... [SEP]
    assert states[1][0].size == 0 and states[1][1].shape == (0, 384)
    pooled = np.array([s.mean(axis=0) for _, s in (states[0], states[2])])
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    assert np.allclose(pooled, e.embed([texts[0], texts[2]]), atol=1e-5)
    with pytest.raises(SettingsError):
        embed.Embedder(model="use").token_states(["a"])
