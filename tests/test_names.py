"""Pattern names and years: the cheap extractor of the fast story features."""

from samestory.entities import Entities, top_names
from samestory.names import find_names, find_years, quick_entities

TEXT = (
    "The ferry sank near Ukerewe Island on Thursday. Rescuers from the Bank of Tanzania "
    "fund joined Adela Mkwawa, who said Mkwawa's team had searched since dawn. "
    "Another boat, the MV Nyerere, was towed to Mwanza. Officials in the U.S. offered help; "
    "I think Adela Mkwawa will speak again in October 2018."
)


def test_names_are_capitalised_runs_without_sentence_starts_days_or_months():
    names = find_names(TEXT)
    assert names[0] == "Adela Mkwawa"  # named twice: first
    assert {"Ukerewe Island", "Bank of Tanzania", "MV Nyerere", "Mwanza", "U.S."} <= set(names)
    # sentence-initial common words, weekday, month and the lone "I" are not names
    for word in ("The", "Another", "Officials", "Thursday", "October", "I"):
        assert all(word not in n.split() for n in names), word


def test_years_are_four_digits_in_range_most_mentioned_first():
    assert find_years("In 1999 and 2018, then 2018 again; 3000 boats, 1700 people.") == (
        "2018",
        "1999",
    )
    assert find_years("No year here, only 42 and 12000.") == ()


def test_quick_entities_key_names_and_surnames_and_label_stories():
    ents = quick_entities(TEXT)
    assert isinstance(ents, Entities) and ents.dates == ("2018",)
    keys = ents.keys()
    assert {"adela mkwawa", "mkwawa", "bank of tanzania", "mwanza"} <= keys
    assert ents.to_dict()["names"][0] == "Adela Mkwawa"
    assert top_names([ents, quick_entities("Adela Mkwawa spoke in Mwanza.")], n=2) == [
        "Adela Mkwawa",
        "Mwanza",
    ]


def test_no_names_in_lower_case_or_empty_text():
    assert find_names("") == ()
    assert find_names("a quiet day on the lake, nothing to report.") == ()
