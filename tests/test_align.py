"""Sentence splitting, verbatim runs and the alignment of two cleaned texts."""

import itertools

import pytest

from samestory.align import align, split_sentences, tokenize, verbatim_runs
from samestory.clean import clean


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("Dr. Ruiz met Mr. Berg. Then they left.", ["Dr. Ruiz met Mr. Berg.", "Then they left."]),
        ('He said: "Go." She went.', ['He said: "Go."', "She went."]),
        ("It cost 3.5 million. Prices rose.", ["It cost 3.5 million.", "Prices rose."]),
        ("A title without stop\n\nBody text here.", ["A title without stop", "Body text here."]),
        (
            "Talks end on Sept. 7 in the U.S. capital.",
            ["Talks end on Sept. 7 in the U.S. capital."],
        ),
        ("J. R. Smith won. He smiled.", ["J. R. Smith won.", "He smiled."]),
        ("", []),
    ],
)
def test_split_sentences(text, sentences):
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


def test_verbatim_runs_survive_small_edits_and_reordering():
    a = tokenize(
        "the harbour council approved a new plan for the old docks on monday. "
        "separately the city mayor said on friday the budget would be published in june next year"
    )
    b = tokenize(
        "the city mayor said on friday that the budget would be published in june next year. "
        "the harbour council approved the new plan for the old docks on monday"
    )
    runs = verbatim_runs(a, b, seed=4, gap=3, min_words=5)
    got = [(" ".join(a.words[r[0] : r[1]]), " ".join(b.words[r[2] : r[3]])) for r in runs]
    assert (
        "the harbour council approved a new plan for the old docks on monday",
        "the harbour council approved the new plan for the old docks on monday",
    ) in got
    assert (
        "the city mayor said on friday the budget would be published in june next year",
        "the city mayor said on friday that the budget would be published in june next year",
    ) in got


def test_verbatim_runs_are_one_to_one_on_repeated_text():
    a = tokenize("red boats sail at dawn every day " * 3)
    b = tokenize("red boats sail at dawn every day")
    runs = verbatim_runs(a, b, seed=4, gap=0, min_words=4)
    assert len(runs) == 1
    assert runs[0][2:4] == [0, 7]


def test_no_runs_between_unrelated_texts():
    a = tokenize("the storm closed every school in the valley on friday")
    b = tokenize("a new museum of modern art opens its doors to visitors")
    assert verbatim_runs(a, b) == []


def test_alignment_passages_are_disjoint_and_map_to_originals():
    x = clean(
        "PORT ALDREN (HWS) - The ferry crews in Port Aldren stopped work on Thursday morning. "
        "The union said the strike would last until Sunday at the earliest."
    )
    y = clean(
        "The union said the strike would last until Sunday at the ear-liest.\n\n"
        "The crews of the ferries of Port Aldren stopped the work this Thursday in the morning."
    )
    al = align(x, y)
    kinds = sorted(p.kind for p in al.passages)
    assert kinds == ["paraphrase", "verbatim"]
    for side in ("a", "b"):
        spans = sorted(p.a_span if side == "a" else p.b_span for p in al.passages)
        assert all(s1[1] <= s2[0] for s1, s2 in itertools.pairwise(spans))
    for p in al.passages:
        assert x.original[slice(*p.a_span)] == p.a_text
        assert y.original[slice(*p.b_span)] == p.b_text
    verb = next(p for p in al.passages if p.kind == "verbatim")
    assert verb.b_text.endswith("ear-liest")


def test_paraphrase_limit_is_reported():
    x = clean("The river rose fast. Boats moved off. Roads shut early.")
    y = clean("The river rose quickly. Boats moved away. Roads shut late.")
    al = align(x, y, max_sentence_pairs=2)
    assert al.notes and "skipped" in al.notes[0]
    assert all(p.kind == "verbatim" for p in al.passages)
