"""The paraphrase cross-encoder: the graph edit, its logits, and its place in the decision."""

from collections import OrderedDict
from dataclasses import asdict

import numpy as np
import pytest

from samestory import cross, similarity

needs_cross = pytest.mark.skipif(not cross.available(), reason="embed extra (with onnx) missing")


@needs_cross
def test_an_empty_adapter_leaves_the_model_as_it_was():
    """Folding an adapter with no updates into the graph gives the shipped model's states."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from samestory.embed import minilm_paths

    path = str(minilm_paths()[0])
    ids, types = cross.pair_ids("The minister resigned on Monday.", "He quit, aides said.")
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
        "token_type_ids": np.array([types], dtype=np.int64),
    }
    plain = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    model = onnx.load(path)
    cross._apply(model, {}, onnx, numpy_helper)
    names = cross._graph_names(onnx.load(path))
    matrices = {names[f"{n}.{k}.w"] for n in range(6) for k in cross.LORA_TARGETS}
    assert not [n for n in model.graph.node if n.op_type == "Mul" and n.output[0] in matrices]
    assert matrices <= {i.name for i in model.graph.initializer}
    edited = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert np.allclose(edited.run(None, feeds)[0], plain, atol=1e-4)


@needs_cross
def test_base_weights_are_the_graph_matrices():
    from samestory.embed import minilm_paths

    w = cross.base_weights(minilm_paths()[0])
    assert w["0.q.w"].shape == (384, 384) and w["5.i.w"].shape == (384, 1536)
    assert w["5.f.w"].shape == (1536, 384) and w["word"].shape == (30522, 384)
    assert all(v.dtype == np.float32 for v in w.values())


def test_pair_ids_mark_the_second_sentence():
    pytest.importorskip("tokenizers")
    if not similarity._use_embeddings(None):
        pytest.skip("embed extra not installed")
    ids, types = cross.pair_ids("A quake hit.", "It rained.")
    assert ids[0] == 101 and ids.count(102) == 2
    first_sep = ids.index(102)
    assert set(types[: first_sep + 1]) == {0} and set(types[first_sep + 1 :]) == {1}


@needs_cross
def test_logits_rank_paraphrases_and_do_not_depend_on_the_batch():
    ce = cross.CrossEncoder(threads=1)
    pairs = [
        ("The company said profits rose 5 percent.", "Profits climbed 5 percent, the firm said."),
        ("The company said profits rose 5 percent.", "Heavy rain flooded the valley overnight."),
        ("Police arrested two men on Sunday.", "Two men were arrested by police on Sunday."),
        ("Police arrested two men on Sunday.", "Police arrested two women on Friday."),
    ]
    z = ce.logits(pairs)
    assert z[0] > 0 > z[1] and z[2] > z[3]
    alone = np.array([ce.logits([p])[0] for p in pairs])
    assert np.allclose(alone, z, atol=1e-4)
    assert np.array_equal(ce.logits(pairs), z)


def test_the_band_takes_unsure_pairs_that_share_enough_words():
    band = similarity.CrossBand(0.2, 0.9, 2)
    a = ["the cat sat here", "the dog ran off"]
    b = ["a bird sang", "the cat ran off"]
    lexical = np.array([[0.05, 0.5], [0.95, 0.3]])
    assert band.select(lexical, a, b).tolist() == [[False, True], [False, True]]
    strict = similarity.CrossBand(0.2, 0.9, 3)
    assert strict.select(lexical, a, b).tolist() == [[False, False], [False, True]]
    # 1-D: the pairs (a[k], b[k])
    assert band.select(np.array([0.5, 0.5]), a, b).tolist() == [False, True]


@needs_cross
def test_cross_probabilities_follow_the_mask_order(monkeypatch):
    seen = []

    class Counting:
        def logits(self, pairs):
            seen.extend(pairs)
            return np.arange(len(pairs), dtype=float)

    monkeypatch.setattr(cross, "default_cross_encoder", lambda: Counting())
    monkeypatch.setattr(similarity, "_CROSSED", OrderedDict())
    mask = np.array([[False, True], [True, True]])
    p = similarity.cross_probabilities(["a0", "a1"], ["b0", "b1"], mask)
    assert seen == [("a0", "b1"), ("a1", "b0"), ("a1", "b1")]
    assert p.tolist() == pytest.approx([0.5, 1 / (1 + np.exp(-1)), 1 / (1 + np.exp(-2))])
    assert similarity.cross_probabilities([], [], np.zeros((0, 0), dtype=bool)).size == 0
    # scored pairs are remembered: asking again runs nothing
    again = similarity.cross_probabilities(["a0", "a1"], ["b0", "b1"], mask)
    assert len(seen) == 3 and again.tolist() == p.tolist()


def test_the_shipped_band_is_the_documented_one():
    assert similarity._shipped_model()["cross"] == {
        "adapter": "cross_paraphrase.npz",
        **asdict(similarity.CrossBand()),
    }


@needs_cross
def test_the_aligner_decision_uses_the_cross_encoder():
    a = ["Shares of the carmaker fell 8 percent after it cut its sales forecast."]
    b = [
        "The carmaker's stock dropped 8% once it lowered its sales outlook.",
        "The carmaker said it would open a new plant next year.",
    ]
    m = similarity.paraphrase_matrix(a, b)
    z = cross.default_cross_encoder().logits([(a[0], b[0])])[0]
    assert m[0, 0] == pytest.approx(1 / (1 + np.exp(-z))) and m[0, 0] >= 0.5 > m[0, 1]
