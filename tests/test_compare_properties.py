"""Invariants of compare on generated texts: spans slice the originals, output is stable."""

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samestory import compare
from samestory.document import VERDICTS

WORDS = [
    "the",
    "ferry",
    "crews",
    "council",
    "harbour",
    "said",
    "on",
    "Monday",
    "strike",
    "union",
    "minister",
    "govern-ment",
    "an-nounced",
    "well-known",
    "Port",
    "Aldren",
    "2026",
    "3.5",
    "percent",
    "of",
    "and",
    "a",
    "to",
    "in",
    "pay",
    "talks",
]
PUNCT = ["", "", "", ",", ".", ".", "!", "?", '."', ".\n\n", " -", "\n"]

token = st.tuples(st.sampled_from(WORDS), st.sampled_from(PUNCT)).map("".join)
article = st.lists(token, min_size=0, max_size=80).map(" ".join)
noise = st.text(
    alphabet=st.sampled_from(list("abc XYZ.,;\n\t'\"“”’—-–é\u00ad\u200b<>&0")), max_size=40
)


@st.composite
def pairs(draw):
    a = draw(article)
    words = a.split(" ")
    edits = draw(st.lists(st.tuples(st.integers(0, 80), token), max_size=6))
    for pos, tok in edits:
        words.insert(min(pos, len(words)), tok)
    cut = draw(st.integers(0, len(words)))
    b = " ".join(words[cut:] + words[:cut]) if draw(st.booleans()) else " ".join(words)
    prefix = draw(st.sampled_from(["", "PORT ALDREN (HWS) - ", "Share this article\n"]))
    return draw(noise) + a, prefix + b + draw(noise)


def _check(a: str, b: str) -> None:
    r = compare(a, b)
    assert r.verdict in VERDICTS
    for p in r.passages:
        assert a[p.a_span[0] : p.a_span[1]] == p.a_text
        assert b[p.b_span[0] : p.b_span[1]] == p.b_text
        assert p.a_text.strip() and p.b_text.strip()
        assert 0.0 <= p.score <= 1.0
    for spans, text in ((r.unique_a, a), (r.unique_b, b)):
        for u in spans:
            assert text[u.start : u.end] == u.text
    for side in ("a", "b"):
        spans = sorted(p.a_span if side == "a" else p.b_span for p in r.passages)
        assert all(x[1] <= y[0] for x, y in itertools.pairwise(spans))
    for value in r.scores.to_dict().values():
        assert value is None or 0.0 <= value <= 1.0
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert compare(a, b).to_dict() == d


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_spans_slice_originals_and_output_is_deterministic(pair):
    _check(*pair)


@settings(max_examples=30, deadline=None)
@given(article, article)
def test_unrelated_generated_texts(a, b):
    _check(a, b)


def test_identical_texts_are_duplicates_with_overall_one():
    text = "The ferry crews of Port Aldren went on strike on Monday over pay and night shifts."
    r = compare(text, text)
    assert r.verdict == "duplicate"
    assert r.scores.overall == 1.0
