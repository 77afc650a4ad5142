"""Static word-piece vectors: the cache is built once, rebuilt when damaged; vectors are stable."""

import numpy as np
import pytest

from samestory import embed
from samestory.static_embed import DIM, StaticEmbedder, distil, load_table, piece_weights


def _fake_build(calls: list[int], rows: int = 5):
    def build() -> np.ndarray:
        calls.append(1)
        return np.arange(rows * DIM, dtype=np.float64).reshape(rows, DIM) / 1000

    return build


def test_table_is_built_once_then_read_from_the_cache(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"weights")
    calls: list[int] = []
    first = load_table(_fake_build(calls), source=source, rows=5, folder=tmp_path / "cache")
    again = load_table(_fake_build(calls), source=source, rows=5, folder=tmp_path / "cache")
    assert calls == [1] and first.dtype == np.float32
    assert np.array_equal(first, again)
    assert not list((tmp_path / "cache").glob("*.tmp"))


@pytest.mark.parametrize("damage", [b"not a numpy file", None])
def test_a_corrupt_or_wrong_shaped_cache_is_built_again(tmp_path, damage):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"weights")
    folder = tmp_path / "cache"
    calls: list[int] = []
    load_table(_fake_build(calls), source=source, rows=5, folder=folder)
    (cached,) = folder.glob("minilm-static-*.npy")
    if damage is None:
        np.save(cached, np.zeros((3, DIM), dtype=np.float32))  # another vocabulary size
    else:
        cached.write_bytes(damage)
    table = load_table(_fake_build(calls), source=source, rows=5, folder=folder)
    assert calls == [1, 1] and table.shape == (5, DIM)
    assert np.load(cached).shape == (5, DIM)  # and the good copy replaced it


def test_an_unwritable_cache_still_gives_the_table(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"weights")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    table = load_table(_fake_build([]), source=source, rows=5, folder=blocker / "cache")
    assert table.shape == (5, DIM)


def test_piece_weights_favour_rare_pieces_and_skip_special_tokens():
    w = piece_weights(["the", "said", "ferry", "##wawa", "[CLS]", "[unused3]"])
    assert w[0] < w[1] < w[2] <= 1.0 and w[3] > w[2]
    assert w[4] == 0.0 and w[5] == 0.0


needs_embed = pytest.mark.skipif(not embed.available(), reason="the embed extra is not installed")


@needs_embed
def test_vectors_are_deterministic_unit_rows_and_zero_for_empty_text():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(30522, DIM)).astype(np.float32)
    emb = StaticEmbedder(table=table)
    texts = ["Ferry sank on Lake Victoria.", "", "Ferry sank on Lake Victoria."]
    a, b = emb.embed(texts), StaticEmbedder(table=table).embed(texts)
    assert np.array_equal(a, b) and np.array_equal(a[0], a[2])
    assert np.isclose(np.linalg.norm(a[0]), 1.0) and not a[1].any()


@needs_embed
def test_a_distilled_row_is_minilm_on_that_word_piece_alone():
    model = embed.Embedder()
    model._load()
    (piece,) = model._tokenizer.encode("ferry", add_special_tokens=False).ids
    row = distil(model._session, [piece])[0]
    expected = model.embed(["ferry"])[0]
    assert float(row @ expected / np.linalg.norm(row)) > 0.9999
