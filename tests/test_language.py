"""Language on every document: the numba walk answers what py3langid answers."""

from __future__ import annotations

import json

import numpy as np
import py3langid
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory import Document, compare
from samestory.clean import clean
from samestory.hyphens import hyphen_language
from samestory.ingest import Record, read_documents, to_documents
from samestory.language import detect_language, detect_languages

TEXTS = {
    "en": "The harbour authority said on Tuesday that the ferry would resume its crossings.",
    "de": "Die Hafenbehörde teilte am Dienstag mit, dass die Fähre ihre Fahrten wieder aufnimmt.",
    "fr": "Le port a annoncé mardi que le traversier reprendrait ses traversées dès la semaine.",
    "es": "La autoridad portuaria dijo el martes que el transbordador volverá a navegar pronto.",
    "ru": "Администрация порта сообщила во вторник, что паром возобновит свои рейсы.",
    "el": "Η λιμενική αρχή ανακοίνωσε την Τρίτη ότι το πλοίο θα ξαναρχίσει τα δρομολόγια.",
    "ja": "港湾当局は火曜日、フェリーの運航を来週から再開すると発表しました。"
    "新しい時刻表も公開されました。",
}


def test_detects_the_language_of_each_text():
    for lang, text in TEXTS.items():
        assert detect_language(text) == lang, text


def test_too_short_to_tell():
    assert detect_language("") == ""
    assert detect_language("12:30 - 4.5%") == ""
    assert detect_language("ok then") == ""


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=0, max_size=128))
def test_same_answer_as_py3langid(text):
    # short inputs (at most 512 bytes, what detect_language reads) are read whole by both
    ours = detect_language(text)
    if ours:
        assert ours == py3langid.classify(text)[0]


def test_same_answer_as_py3langid_on_mixed_texts():
    answered = 0
    for a in TEXTS.values():
        for b in TEXTS.values():
            ours = detect_language(a + " " + b)
            if ours:  # "" only where py3langid's own calibrated confidence is under 0.5
                answered += 1
                assert ours == py3langid.classify(a + " " + b)[0]
            elif a == b:
                raise AssertionError(f"no answer for one language twice: {a}")
    assert answered >= len(TEXTS)


def test_no_answer_where_the_text_has_little_language():
    table = (
        "Shr 41 cts vs 38 cts\n    Net 9,210,000 vs 8,544,000\n    Revs 77.1 mln vs 70.9 mln\n"
        "    Avg shrs 22.4 mln vs 22.3 mln\n    Nine mths\n    Shr 1.12 dlrs vs 1.01 dlrs"
    )
    assert detect_language(table) == ""
    assert detect_language(table, min_confidence=0.0) == py3langid.classify(table)[0]
    identifier = py3langid.langid.LanguageIdentifier.from_model_file(
        py3langid.langid.MODEL_FILE, norm_probs=True
    )
    for text in TEXTS.values():
        lang, confidence = identifier.classify(text)
        assert confidence >= 0.5 and detect_language(text) == lang
    lang, confidence = identifier.classify(table)
    assert confidence < 0.5


def test_every_document_gets_a_language(tmp_path):
    (tmp_path / "a.txt").write_text(TEXTS["fr"], encoding="utf-8")
    rows = [
        {"id": "1", "text": TEXTS["de"]},
        {"id": "2", "text": TEXTS["en"], "lang": "xx"},  # the record's own field wins
        {"id": "3", "text": "Short."},
    ]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    got = {d.id: d.lang for d in read_documents([tmp_path])}
    assert got == {"a.txt": "fr", "1": "de", "2": "xx", "3": ""}
    assert Document(TEXTS["es"]).lang == "es"
    assert Document(TEXTS["es"], lang="pt").lang == "pt"


def test_hyphen_repair_follows_the_language():
    assert hyphen_language("") == "en"
    assert hyphen_language("de") == "de"
    assert hyphen_language("zh") is None
    assert hyphen_language("sw") is None  # no list: none borrowed from another language
    text = "Die Regie-rung hat am Montag einen neuen Plan vorgestellt."
    assert "Regierung" in clean(text, lang="de").text
    assert clean(text, lang="sw").text == text


def test_compare_reports_languages():
    result = compare(TEXTS["de"], TEXTS["de"])
    data = result.to_dict()
    assert data["documents"]["a"]["lang"] == "de"
    assert any("'de'" in note for note in data["notes"])
    english = compare(TEXTS["en"], TEXTS["en"]).to_dict()
    assert english["documents"]["b"]["lang"] == "en"
    assert not any("English" in note for note in english["notes"])
    mixed = compare(TEXTS["en"], TEXTS["fr"]).to_dict()
    assert any("different languages" in note for note in mixed["notes"])


def test_model_cache_is_written_once_and_mapped_after(tmp_path, monkeypatch):
    from samestory import language

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    unpacked = language._model_arrays()
    (folder,) = (tmp_path / "samestory").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.npy" for k in language._KEYS)
    mapped = language._model_arrays()
    for key in language._KEYS:
        assert isinstance(mapped[key], np.memmap)
        assert np.array_equal(mapped[key], unpacked[key])
    # an unwritable cache costs time, not correctness
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/no-such-place")
    assert np.array_equal(language._model_arrays()["ptc"], unpacked["ptc"])


def test_a_batch_answers_what_each_text_alone_gets():
    # more texts than walks run side by side, of very different lengths, some too short to tell
    texts = [a + " " + b for a in TEXTS.values() for b in TEXTS.values()]
    texts += ["", "12:30", TEXTS["de"] * 30, "ok then", TEXTS["ja"][:9], TEXTS["fr"] * 3]
    batch = detect_languages(texts)
    assert batch == [detect_language(t) for t in texts]
    assert batch[-6:] == ["", "", "de", "", "", "fr"]
    assert detect_languages([]) == []


def test_records_of_a_batch_get_the_language_each_would_alone(tmp_path):
    lines = [{"id": k, "text": t} for k, t in TEXTS.items()] + [
        {"id": "given", "text": TEXTS["en"], "lang": "de"},  # a record's own language stands
        {"id": "short", "text": "12:30"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    records = [Record(str(path), i, "json", json.dumps(x).encode()) for i, x in enumerate(lines)]
    docs, skipped = to_documents(records)
    assert not skipped
    assert [d.lang for d in docs] == [*TEXTS, "de", ""]
    assert [d.lang for d in docs] == [d.lang for d in read_documents([path])]


ENGLISH = (
    "The harbour authority said on Tuesday that the ferry, which had been held in port since "
    "the storm, would resume its crossings after inspectors from the ministry were satisfied "
    "that the hull was sound. “It is good news for the islanders,” the mayor said — they "
    "have waited two weeks."
)
DUTCH = (
    "De havenautoriteit zei dinsdag dat de veerboot, die sinds de storm in de haven lag, de "
    "overtochten zal hervatten nadat inspecteurs van het ministerie hebben vastgesteld dat de "
    "romp in orde is. Het is goed nieuws voor de eilanders, zei de burgemeester, want zij "
    "hebben twee weken gewacht."
)
INDONESIAN = (
    "Otoritas pelabuhan mengatakan pada hari Selasa bahwa kapal feri, yang tertahan di "
    "pelabuhan sejak badai, akan kembali berlayar setelah para pemeriksa dari kementerian "
    "yakin bahwa lambung kapal dalam keadaan baik. Ini kabar baik bagi warga pulau, kata "
    "wali kota, karena mereka telah menunggu dua minggu."
)


def test_plainly_english_text_needs_no_walk(monkeypatch):
    from samestory import language

    assert language.plainly_english(ENGLISH)
    assert py3langid.classify(ENGLISH)[0] == "en"  # the walk would say the same

    def no_walk(*args):
        raise AssertionError("walked")

    monkeypatch.setattr(language, "_classify_all", no_walk)
    assert detect_languages([ENGLISH, ENGLISH.upper()]) == ["en", "en"]
    for text in (DUTCH, INDONESIAN, TEXTS["de"] * 3, ENGLISH.replace("the", "thé")):
        assert not language.plainly_english(text)
        try:
            detect_language(text)
        except AssertionError:
            continue  # walked
        raise AssertionError(f"not walked: {text[:40]}")


def test_other_ascii_languages_keep_the_walks_answer():
    for text in (DUTCH, INDONESIAN):
        lang = detect_language(text)
        assert lang and lang != "en" and lang == py3langid.classify(text)[0]
