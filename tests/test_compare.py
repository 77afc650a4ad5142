"""The Comparer class and the compare() convenience function."""

import pytest

from samestory import Comparer, Comparison, Document, SettingsError, compare


def test_comparer_stores_settings_as_given():
    c = Comparer(ngram=3, seed=5, gap=1, min_words=9)
    assert (c.ngram, c.seed, c.gap, c.min_words) == (3, 5, 1, 9)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seed": 0}, "seed must be at least 1"),
        ({"gap": -1}, "gap must be 0 or more"),
        ({"seed": 6, "min_words": 4}, "min_words (4) must be at least seed (6)"),
    ],
)
def test_bad_settings_are_refused_with_a_fix(settings, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compare("a b c", "a b c", **settings)


def test_compare_accepts_documents_and_keeps_their_metadata():
    a = Document("Rain fell on Oslo all day on Monday.", title="Rain", source="Nordwire (NWA)")
    b = "OSLO (NWA) - Rain fell on Oslo all day on Monday."
    r = compare(a, b)
    assert isinstance(r, Comparison)
    assert r.a is a and r.b.text == b
    assert r.dateline_b is not None and r.dateline_b.agency == "NWA"
    assert r.origin.side == "a"
    assert r.to_dict()["documents"]["a"]["source"] == "Nordwire (NWA)"


def test_wrapper_and_class_agree():
    a = "The council approved the new harbour plan on Monday after a long debate."
    b = "After a long debate, the council approved the new harbour plan on Monday."
    assert compare(a, b).to_dict() == Comparer().compare(a, b).to_dict()


def _edited(text: str, every: int) -> str:
    """The text with every ``every``-th word left out (a light copy edit)."""
    return " ".join(w for i, w in enumerate(text.split()) if i % every != every - 1)


def _agree(a: Document, b: Document) -> str:
    full = Comparer().compare(a, b)
    verdict, scores = Comparer().verdict(a, b)
    assert verdict == full.verdict, (a.id, b.id)
    expected = full.scores.to_dict()
    assert scores == {name: expected[name] for name in scores}, (a.id, b.id)
    return verdict


def test_verdict_equals_compare_on_every_pair_of_the_samples():
    from samestory.samples import load

    docs = load()
    verdicts = {_agree(a, b) for a in docs for b in docs if a is not b}
    assert {"duplicate", "reuse", "rewrite", "same-story", "related", "unrelated"} <= verdicts


def test_verdict_equals_compare_on_near_duplicates_around_the_jaccard_rule():
    from samestory.samples import load

    seen = set()
    for doc in load()[:9]:
        for every in (4, 6, 9, 14, 20, 30, 60):
            copy = Document(_edited(doc.text, every), id=f"{doc.id}-{every}")
            seen.add(_agree(doc, copy))
            _agree(copy, doc)
        # the cleaned query may be given, as a query does for all its candidates
        cleaned = Comparer().clean(doc)
        assert Comparer().verdict(doc, copy, cleaned_a=cleaned) == Comparer().verdict(doc, copy)
    assert "duplicate" in seen and len(seen) > 1


def test_verdict_decides_a_high_jaccard_duplicate_from_shingles_alone():
    text = (
        "The harbour board approved the new ferry timetable on Monday after a long debate. "
        "Boats will leave every forty minutes from the north pier, and the last crossing "
        "moves to eleven at night. Fares stay the same until the end of the year."
    )
    verdict, scores = Comparer().verdict(Document(text), Document(text + " Tickets on board."))
    assert verdict == "duplicate" and set(scores) == {"jaccard", "containment_a", "containment_b"}
