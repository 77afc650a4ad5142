"""Readers: JSONL, CSV, .txt folders, .gz, stdin; bad input is skipped with file and line."""

import gzip
import io
import json
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from samestory.errors import InputError
from samestory.ingest import Fields, check_paths, read_documents, records


def _read(paths, **kw):
    skipped = []
    docs = list(read_documents(paths, on_skip=skipped.append, **kw))
    return docs, skipped


def test_jsonl_with_bad_lines(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "Rain fell.", "date": "2020-01-01", "extra": 1}\n'
        b"{not json\n"
        b'{"id": "b", "body": "no text field"}\n'
        b'{"id": "c", "text": "   "}\n'
        b'["a", "list"]\n'
        b'{"id": "d", "text": "caf\xe9 bad byte"}\n'
        b'{"id": "e", "text": "nul \\u0000 inside"}\n'
        b"\n"
        b'{"id": "f", "text": "Sun shone."}\n'
    )
    docs, skipped = _read([path])
    assert [d.id for d in docs] == ["a", "f"]
    assert docs[0].published == "2020-01-01" and docs[0].meta["extra"] == 1
    assert [(s.line, s.reason.split(" (")[0]) for s in skipped] == [
        (2, "malformed JSON"),
        (3, "no 'text' field"),
        (4, "empty text"),
        (5, "a JSON line must be an object"),
        (6, "not UTF-8"),
        (7, "binary or badly encoded text"),
    ]
    assert str(skipped[0]).startswith(f"{path}:2: skipped: malformed JSON")


def test_csv_gz_and_custom_fields(tmp_path):
    path = tmp_path / "rows.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write('key,body,when\n1,"A storm, with commas.",2021-05-01\n2,,2021-05-02\n')
    docs, skipped = _read([path], fields=Fields(text="body", id="key", date="when"))
    assert [(d.id, d.text, d.published) for d in docs] == [
        ("1", "A storm, with commas.", "2021-05-01")
    ]
    assert [(s.line, s.reason) for s in skipped] == [(3, "empty text")]


def test_folder_of_txt_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("Second story.")
    (tmp_path / "sub" / "a.txt").write_text("First story.")
    # (not b"\xff\xfe\x00\x01": that is the UTF-16 text "Ā" after its byte-order mark)
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02\xff\xfe\x00\x01")
    (tmp_path / "notes.md").write_text("ignored: unknown suffix inside a folder")
    docs, skipped = _read([tmp_path])
    assert sorted(d.text for d in docs) == ["First story.", "Second story."]
    assert [s.reason for s in skipped] == ["binary data, not text"]


def test_txt_in_another_encoding_is_detected_and_reported(tmp_path):
    text = "Le ministère a annoncé une réforme des retraites très contestée à Paris."
    (tmp_path / "fr.txt").write_bytes(text.encode("cp1252"))
    docs, skipped = _read([tmp_path])
    assert not skipped
    assert docs[0].text == text
    assert docs[0].meta["encoding"] != "utf-8"


def test_missing_or_unknown_path_is_an_error_before_reading(tmp_path):
    good = tmp_path / "ok.jsonl"
    good.write_text('{"text": "x"}\n')
    with pytest.raises(InputError, match="no such file"):
        check_paths([good, tmp_path / "missing.jsonl"])
    odd = tmp_path / "data.xml"
    odd.write_text("<a/>")
    with pytest.raises(InputError, match="unknown file type"):
        check_paths([odd])


def test_stdin_jsonl(monkeypatch):
    data = json.dumps({"id": "s", "text": "From a pipe."}) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    docs, _ = _read(["-"])
    assert [d.id for d in docs] == ["s"]


def test_records_are_raw_and_in_order(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"text": "1"}\n{"text": "2"}\n')
    b.write_text('{"text": "3"}\n')
    got = [(r.path.rsplit("/", 1)[-1], r.line, r.kind) for r in records(check_paths([a, b]))]
    assert got == [("a.jsonl", 1, "json"), ("a.jsonl", 2, "json"), ("b.jsonl", 1, "json")]


@pytest.mark.parametrize("tail", [b"\n", b"", b"\n\n"])
def test_line_spans_give_the_same_lines_as_reading(tmp_path, tail):
    from samestory.ingest import LineSpan, _line_spans, batches

    body = b'{"id": "a", "text": "one"}\n\n{"id": "b",\r "text": "two\\r"}\r\n  \n'
    body += b"".join(b'{"id": "c%d", "text": "x"}\n' % i for i in range(9)) + b'{"id": "z"}'
    path = tmp_path / "in.jsonl"
    path.write_bytes(body + tail)
    for size in (1, 2, 3, 5, 100):
        plain = list(batches([path], size))
        spans = list(batches([path], size, spans=True))
        assert all(isinstance(s, LineSpan) for s in spans)
        assert [s.read() for s in spans] == plain
        assert [s.count for s in spans] == [len(b[0]) for b in plain]
        # a block boundary anywhere gives the same spans
        assert list(_line_spans(path, size, block_size=7)) == spans
    path.write_bytes(b"")
    assert list(batches([path], 3, spans=True)) == []


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": "a", "text": "Fog closed the port.", "n": 123456789012345678901234567890}',
        b'{"id": "a", "text": "Fog.", "score": 0.1, "tags": ["x", {"w": 2.5}], "k": null}',
        b'{"id": "a", "text": "Fog.", "nested": {"deep": [1, 2, [3]]}, "flag": true}',
        b'{"id": "a", "text": "Fog.", "deep": [{"n": [123456789012345678901234567890]}]}',
        b'\xef\xbb\xbf{"id": "bom", "text": "Fog."}',
        b'{"id": "a", "text": "Fog \\ud800 lone."}',
        b'{"id": "a", "text": "Fog.", "x": NaN}',
        b'{"id": "a", "text": "Fog."',
        b"[1, 2]",
        b"{}",
    ],
)
def test_json_lines_read_as_json_reads_them(line: bytes) -> None:
    import json

    from samestory import Document
    from samestory.ingest import Fields, Record, to_document

    got = to_document(Record("f.jsonl", 1, "json", line), Fields())
    try:
        expected = json.loads(line.decode("utf-8-sig"))
    except ValueError:
        assert "malformed JSON" in str(got)
        return
    if isinstance(got, Document):
        assert repr(got.meta) == repr(expected) and got.text == expected["text"]
    else:
        assert not isinstance(expected, dict) or "text" not in expected


def test_an_exported_record_reads_back_with_its_date(tmp_path) -> None:
    from samestory import Document, Index
    from samestory.ingest import Fields, Record, to_document

    with Index(tmp_path / "a.db") as index:
        index.add(
            [Document("Ferry service resumed after the storm.", id="f", published="2026-11-10")]
        )
        index.export(tmp_path / "out.jsonl")
    (line,) = (tmp_path / "out.jsonl").read_bytes().splitlines()
    assert to_document(Record("out.jsonl", 1, "json", line)).published == "2026-11-10"
    both = b'{"text": "Fog.", "date": "2026-01-02", "published": "2026-01-01"}'
    assert to_document(Record("x", 1, "json", both)).published == "2026-01-02"
    chosen = to_document(Record("x", 1, "json", line), Fields(date="when"))
    assert chosen.published == ""  # a field the user named is the only one read


def _holds_float(value) -> bool:
    """has_float's contract, spelled out: a float (or subclass) anywhere in the value."""
    if isinstance(value, dict):
        return any(_holds_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_float(v) for v in value)
    return isinstance(value, float)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=3),
    st.floats(allow_nan=True),
    st.floats(width=32).map(np.float64),  # a float subclass
)
_json_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
    ),
    max_leaves=12,
)


@given(_json_like)
def test_has_float_finds_a_float_anywhere(value) -> None:
    from samestory.ingest import has_float

    assert has_float(value) == _holds_float(value)
