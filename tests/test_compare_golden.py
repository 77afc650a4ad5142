"""Known answers: verdicts, origins and key alignments for hand-written article pairs."""

import json
from pathlib import Path

import pytest

from samestory import Comparison, Document, compare
from samestory.articles import read_article
from samestory.samples import load

HERE = Path(__file__).parent
GOLDEN = json.loads((HERE / "golden" / "compare.json").read_text(encoding="utf-8"))
SAMPLES = {d.id: d for d in load()}


def _doc(name: str) -> Document:
    if name.startswith("sample:"):
        return SAMPLES[name.removeprefix("sample:")]
    return read_article(str(HERE / "fixtures" / "compare" / name))


def _id(case: dict) -> str:
    return f"{case['a']}~{case['b']}"


@pytest.fixture(scope="module")
def results() -> dict[str, Comparison]:
    return {_id(c): compare(_doc(c["a"]), _doc(c["b"])) for c in GOLDEN["cases"]}


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=_id)
def test_verdict_and_origin(case, results):
    r = results[_id(case)]
    assert (r.verdict, r.origin.side) == (case["verdict"], case["origin"]), r.rule


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=_id)
def test_key_alignments(case, results):
    r = results[_id(case)]
    if case.get("passages") == []:
        assert r.passages == []
    for want in case.get("passages", []):
        assert any(
            p.kind == want["kind"] and want["a"] in p.a_text and want["b"] in p.b_text
            for p in r.passages
        ), want
    for side in ("a", "b"):
        spans = r.unique_a if side == "a" else r.unique_b
        expected = case.get(f"unique_{side}")
        if expected == []:
            assert spans == []
        for text in expected or []:
            assert any(text in u.text for u in spans), (side, text, [u.text for u in spans])
    befores = {act.before.strip() for act in r.cleaning_b}
    for before in case.get("cleaning_b", []):
        assert before.strip() in befores


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=_id)
def test_spans_slice_the_original_texts(case, results):
    r = results[_id(case)]
    for p in r.passages:
        assert r.a.text[p.a_span[0] : p.a_span[1]] == p.a_text
        assert r.b.text[p.b_span[0] : p.b_span[1]] == p.b_text
    for u in r.unique_a:
        assert r.a.text[u.start : u.end] == u.text
    for u in r.unique_b:
        assert r.b.text[u.start : u.end] == u.text
    d = r.to_dict()
    assert d["verdict"] == case["verdict"]
    for act in d["cleaning"]["b"]:
        s, e = act["span"]
        assert r.b.text[s:e] == act["before"]
