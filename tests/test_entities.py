"""Named entities and dates: spaCy NER plus dateparser on DATE spans (the nlp extra)."""

import pytest

from samestory.entities import Entities, normalise, top_names

entities = pytest.importorskip("samestory.entities")
if not entities.available():
    pytest.skip("the nlp extra is not installed", allow_module_level=True)

REPORT = (
    "Harbour officials in Valparaiso said on Tuesday that the cargo ship Marisol Grande "
    "ran aground near the port. Captain Ines Olavarria told Radio Costa that nobody was hurt. "
    "The Chilean Navy expects to refloat the ship by March 14, 2019."
)


def test_people_organisations_places_and_dates():
    found = entities.extract(REPORT, published="2019-03-12")
    assert "Ines Olavarria" in found.people
    assert "Valparaiso" in found.places
    assert any("Navy" in org for org in found.organisations)
    assert "2019-03-14" in found.dates
    assert "2019-03-12" in found.dates  # "Tuesday" is the publication day itself


def test_relative_dates_need_a_publication_date():
    found = entities.extract("The bridge reopened on Tuesday.")
    assert found.dates == ()


def test_dates_keep_their_precision_and_survive_trailing_times():
    assert entities.parse_date("May 2013") == "2013-05"
    assert entities.parse_date("2009") == "2009"
    assert entities.parse_date("November 11, 2011 20") == "2011-11-11"


def test_extract_many_equals_extract():
    texts = [REPORT, "Mayor Tomas Ruiz visited Lisbon."]
    many = entities.extract_many(texts, published=["2019-03-12", ""])
    assert many == [
        entities.extract(t, published=p) for t, p in zip(texts, ["2019-03-12", ""], strict=True)
    ]


def test_keys_and_labels():
    a = Entities(people=("Ines Olavarria",), places=("Valparaiso",))
    assert a.keys() == {"ines olavarria", "olavarria", "valparaiso"}
    assert normalise("the Chilean Navy's") == "chilean navy"
    b = Entities(people=("Olavarria",), places=("Valparaiso",))
    assert top_names([a, b], n=1) == ["Valparaiso"]
