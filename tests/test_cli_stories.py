"""`samestory stories` and the story datasets of `samestory eval`."""

import importlib.util
import json
from pathlib import Path

import pytest

from samestory.cli import main
from samestory.evaluate import DATASETS
from samestory.evaluate_stories import ecbplus_items, eval_ecbplus_items, read_ecbplus
from samestory.story_cluster import LEXICAL_CONFIG

FIXTURE = Path(__file__).parent / "fixtures" / "stories.jsonl"
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_stories_needs_paths_or_db(tmp_path, capsys):
    assert main(["stories", "--out", str(tmp_path)]) == 2
    assert "PATH" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("samestory.ingest") is None, reason="no ingest")
def test_stories_writes_one_story_a_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMESTORY_NO_EMBED", "1")
    assert main(["stories", str(FIXTURE), "--out", str(tmp_path), "--quiet"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "stories.jsonl").read_text().splitlines()]
    assert sorted(sorted(x["members"]) for x in lines) == [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]
    assert {"id", "members", "label", "first", "last", "sources"} <= set(lines[0])


@pytest.mark.skipif(importlib.util.find_spec("samestory.ingest") is None, reason="no ingest")
def test_stories_features_fast_writes_the_same_stories(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMESTORY_NO_EMBED", "1")  # pattern names + hashed tf-idf: no model
    argv = ["stories", str(FIXTURE), "--out", str(tmp_path), "--quiet", "--features", "fast"]
    assert main(argv) == 0
    lines = [json.loads(x) for x in (tmp_path / "stories.jsonl").read_text().splitlines()]
    assert sorted(sorted(x["members"]) for x in lines) == [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]


def test_eval_features_apply_to_ecbplus_only(tmp_path, capsys):
    argv = ["eval", "lee", "--data", str(tmp_path), "--features", "fast"]
    assert main(argv) == 2
    assert "ecbplus only" in capsys.readouterr().err


def test_story_datasets_are_registered():
    assert {"ecbplus", "semeval", "googlenews"} <= set(DATASETS)


@pytest.mark.skipif(not (DATA / "ecbplus").is_dir(), reason="../shared/data/ecbplus is absent")
def test_ecbplus_two_test_topics_without_embeddings():
    # a fast check on real data: topics 36 and 41 (two events each), lexical vectors
    docs = [d for d in read_ecbplus(DATA / "ecbplus") if d["topic"] in (36, 41)]
    items = ecbplus_items(docs, embeddings=False)
    scores = eval_ecbplus_items(docs, items, split="test", config=LEXICAL_CONFIG)
    assert scores["gold_clusters"] == 4
    assert scores["b3_f1"] > 0.8
