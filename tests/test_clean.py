import pytest
from hypothesis import given
from hypothesis import strategies as st

from samestory import CleanConfig, clean, repeated_lines
from samestory.clean import clean_text


def test_hyphen_repair_joins_real_words_only():
    c = clean(
        "The govern-ment an-nounced that the minis-ter, a well-known Franco-German figure, left."
    )
    assert "government announced that the minister" in c.text
    assert "well-known Franco-German" in c.text
    repairs = {(a.before, a.after) for a in c.actions if a.kind == "hyphen"}
    assert repairs == {
        ("govern-ment", "government"),
        ("an-nounced", "announced"),
        ("minis-ter", "minister"),
    }


def test_hyphen_action_spans_point_at_original():
    src = "We saw the govern-\nment today."
    c = clean(src)
    (action,) = [a for a in c.actions if a.kind == "hyphen"]
    assert src[action.start : action.end] == action.before == "govern-\nment"
    assert "government" in c.text


def test_dateline_is_read_and_removed():
    c = clean("PARIS (AFP) - France and Germany agreed on Monday.")
    assert c.dateline is not None
    assert (c.dateline.place, c.dateline.agency) == ("Paris", "AFP")
    assert c.text.startswith("France and Germany")
    assert [a.kind for a in c.actions] == ["dateline"]


def test_dateline_with_date_and_reuters():
    c = clean("WASHINGTON, March 3 (Reuters) - The Senate voted.")
    assert c.dateline is not None and c.dateline.agency == "Reuters"
    assert c.text == "The Senate voted."


def test_no_dateline_in_ordinary_sentence():
    assert clean("The Senate voted - narrowly.").dateline is None


def test_boilerplate_lines_and_trailing_share():
    src = "Storm hits the coast.\nAdvertisement\nThousands lost power. Share this article"
    c = clean(src)
    assert c.text == "Storm hits the coast. Thousands lost power."
    kinds = [a.kind for a in c.actions]
    assert kinds.count("boilerplate") == 2


def test_trailing_share_is_dropped_without_any_boilerplate_line():
    # one line of text only: nothing starts a line with boilerplate, the trailer still goes
    src = "PARIS (AFP) - Ministers agreed to cut the quota by a fifth. Share this article"
    c = clean(src)
    assert c.text == "Ministers agreed to cut the quota by a fifth."
    (action,) = [a for a in c.actions if a.kind == "boilerplate"]
    assert src[action.start : action.end].strip() == "Share this article"
    assert clean_text(src) == c.text


def test_repeated_lines_are_boilerplate_for_that_source():
    docs = [f"Story number {i}.\nGet the Daily Planet app today" for i in range(4)]
    extra = repeated_lines(docs)
    c = clean(docs[0], boilerplate=extra)
    assert c.text == "Story number 0."


def test_unicode_quotes_and_mojibake():
    c = clean("The Kremlinâ€™s “plan” — approved")
    assert c.text == 'The Kremlin\'s "plan" - approved'
    assert all(a.kind == "unicode" for a in c.actions)


def test_paragraphs_survive_and_spaces_collapse():
    c = clean("  One  line\nwrapped.\n\n\nSecond para.  ")
    assert c.text == "One line wrapped.\n\nSecond para."


def test_config_turns_steps_off():
    c = clean(
        "PARIS (AFP) - govern-ment", config=CleanConfig(read_dateline=False, join_hyphens=False)
    )
    assert c.text == "PARIS (AFP) - govern-ment"


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_texts(text):
    c = clean(text)
    assert c.text == ""
    assert c.to_original(0, 0) == (len(text), len(text)) or c.to_original(0, 0)[0] <= len(text)


words = st.sampled_from(
    [
        "govern-ment",
        "PARIS (AFP) -",
        "“quote”",
        "Share this article",
        "a",
        "well-known",
        "\n",
        "\n\n",
        "  ",
        "Kremlinâ€™s",
        "café",
        "ﬁne",
        "x-\ny",
        "—",
        "\u00ad",
    ]
)


@given(st.lists(words | st.text(max_size=8), max_size=30).map(" ".join))
def test_every_clean_char_maps_into_the_original(text):
    c = clean(text)
    assert len(c.starts) == len(c.ends) == len(c.text)
    for i in range(len(c.text)):
        s, e = c.to_original(i, i + 1)
        assert 0 <= s < e <= len(text)
    # spans are monotone: words keep their order
    assert all(c.starts[i] <= c.starts[i + 1] for i in range(len(c.text) - 1))


@given(st.text(max_size=200))
def test_clean_is_deterministic(text):
    assert clean(text).text == clean(text).text
