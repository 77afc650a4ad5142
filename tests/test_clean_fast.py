"""clean_text (the bulk fast path) gives exactly clean().text."""

import pytest
from dedup_fixtures import STORIES
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory.clean import clean, clean_text
from samestory.shingle import words

CASES = [
    *STORIES,
    "PARIS (AFP) - The govern-ment an-nounced a well-known plan.\nShare this article",
    "anti- aircr- aft guns, ser- cons-\nulting firm, pri-nciple, re-\n  elected",
    "Read more: markets\nClick here to subscribe\n\n\nBody text   here.\n Advertisement \n",
    "   \n\n  ",
    "",
    "x1ab-cd ab-cd-ef Ab-cdE end- less",
    "Line one\x1cline two\x0bthree\x0cfour\r\nfive\rsix",
    "Kremlinâ€™s “quoted” text — with a dash… and a soft\u00adhyphen",
    "He said it was over. Share on Facebook",
    "Story text ends here |  read more >>",
]
_PIECES = ["govern", "ment", "share this article", "read more", "Share on x", "PARIS (AFP) - "]
_ALPHABET = st.sampled_from([*"ab -\n\t\r.|:>!", *_PIECES, "\x1c", "’", "é"])


@pytest.mark.parametrize("text", CASES)
def test_clean_text_equals_clean(text):
    assert clean_text(text) == clean(text).text


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_clean_text_equals_clean_on_generated_text(text):
    assert clean_text(text) == clean(text).text
    assert words(clean_text(text, collapse=False)) == words(clean(text).text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_clean_text_equals_clean_on_any_text(text):
    assert clean_text(text) == clean(text).text


@pytest.mark.parametrize(
    "word",
    [
        "government",
        "announced",
        "well-known",
        "franco-german",
        "govern-ment",
        "zzqx",
        "co-op",
        "minis-ter",
        "qq-government",
        "e-mail",
        "the",
    ],
)
def test_plain_word_frequency_shortcut_equals_wordfreq(word):
    import sys

    from wordfreq import zipf_frequency

    clean_module = sys.modules["samestory.hyphens"]
    assert clean_module._zipf.__wrapped__(word, "en") == zipf_frequency(word, "en")


_TRAILERS = ["share on", "Share ON", "sHaRe On", " share  on", "wire", "read more", "story"]
_ASCII = st.sampled_from([*"ab -\n\t\r\x0b.|:>!", *_TRAILERS, *_PIECES, "Advertisement"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ASCII, max_size=25).map("".join))
def test_cheap_prechecks_never_skip_a_removal(text):
    """The ASCII prechecks only say no when the full scan finds nothing."""
    import sys

    module = sys.modules["samestory.clean"]
    if module._TRAILING_RE.search(text):
        assert module._may_have_trailer(text)
    lines = [line.strip() for line in text.splitlines()]
    if any(body and module._BOILERPLATE_RE.fullmatch(body) for body in lines):
        assert module._may_have_boilerplate(text, frozenset())


def test_unrolled_break_check_covers_every_break():
    import sys

    module = sys.modules["samestory.clean"]
    for b in module._ASCII_BREAKS:
        assert module._has_ascii_break(f"a{b}b") and not module._has_ascii_break("a\tb c")


@pytest.mark.parametrize(
    "line",
    [
        "Share the page",
        "share on LinkedIn",
        "Follow us on the web",
        "Like us on Facebook",
        "Sign up for our newsletter",
        "SUBSCRIBE to the daily newsletters",
        "Click here for more",
        "Read more: the story",
        "Related coverage",
        "Advertisement",
        "All rights reserved 2020",
        "Copyright The Paper",
        "Email this",
        "Print",
        "Tweet",
        "Comments (12)",
        "Leave a comment",
        "This story was updated on Monday",
        "Photo: John Smith/Reuters",
        "Image: AP",
        "Picture by Getty",
        "File photo: Reuters",
        "We use cookies to improve",
    ],
)
def test_every_boilerplate_pattern_passes_the_precheck(line):
    import sys

    module = sys.modules["samestory.clean"]
    assert module._BOILERPLATE_RE.fullmatch(line)
    for text in (line, f"  {line}\nBody text.", f"Body text.\n{line}\nMore body."):
        assert module._may_have_boilerplate(text, frozenset())
        assert line not in clean_text(text)


_PHRASES = ["share this article", "Share The Story", "share on X", "Share on fb", "read more"]
_TAIL = st.sampled_from(
    [*_PHRASES, " ", "  ", "|", "•", "·", "-", ".", "!", ":", ">", "»", "\n", "\t", "word", "é"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_TAIL, max_size=12).map("".join), st.integers(0, 40))
def test_trailer_search_near_the_end_equals_the_full_search(tail, pad):
    import sys

    module = sys.modules["samestory.clean"]
    for text in (tail, "Body text " * pad + tail, " " * pad + tail):
        full = module._TRAILING_RE.search(text)
        near = module._trailer(text)
        assert (near and near.span()) == (full and full.span())


@given(st.text(alphabet=st.sampled_from("aZ 9\t\n.ﬁÅß\u00a0İ"), max_size=40) | st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_text_key_normalisation_equals_nfkc_casefold(text: str) -> None:
    import unicodedata

    from samestory.clean import normalize_for_key

    assert (
        normalize_for_key(text) == unicodedata.normalize("NFKC", " ".join(text.split())).casefold()
    )
