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
