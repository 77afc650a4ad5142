"""Hostile input: every bad file or record gets a clear message naming it, the rest of the batch
goes on, and nothing is read twice."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory.ingest import Fields, Skipped, check_paths, read_documents, records, to_document

GOOD = "The harbour authority reopened the northern pier on Friday after repairs to the crane."


def _read(paths: list[Path]) -> tuple[list, list[Skipped]]:
    skipped: list[Skipped] = []
    docs = list(read_documents(paths, on_skip=skipped.append))
    return docs, skipped


TOPICS = ["a flood in the valley", "a tax on sugar", "the final of the cup", "a new vaccine"]


def _good_jsonl(path: Path, n: int = 3, prefix: str = "g") -> None:
    # distinct stories, so that none is a near-duplicate of another
    lines = [
        {"id": f"{prefix}{i}", "text": f"Report {i} is about {TOPICS[i]}, written on day {i * 7}."}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path):
    lines = "".join(json.dumps({"id": str(i), "text": f"{GOOD} {i}"}) + "\n" for i in range(2000))
    data = gzip.compress(lines.encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    _good_jsonl(tmp_path / "ok.jsonl")
    docs, skipped = _read([tmp_path])
    ids = [d.id for d in docs]
    assert {"g0", "g1", "g2"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert len(skipped) == 1 and "cut.jsonl.gz" in str(skipped[0])
    assert "unreadable" in skipped[0].reason


def test_binary_and_nul_bytes(tmp_path):
    (tmp_path / "a.txt").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "nul", "text": "before\x00after"})
        + "\n"
        + json.dumps({"id": "ok", "text": GOOD})
        + "\n"
    )
    docs, skipped = _read([tmp_path])
    assert [d.id for d in docs] == ["ok"]
    reasons = sorted(s.reason for s in skipped)
    assert reasons == ["binary data, not text", "binary or badly encoded text"]
    assert any(str(s).startswith(str(tmp_path / "b.jsonl") + ":1:") for s in skipped)


def test_a_100_mb_single_line_is_refused_not_loaded_as_an_article(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("w") as f:
        f.write(json.dumps({"id": "huge", "text": "word " * 21_000_000}) + "\n")
        f.write(json.dumps({"id": "after", "text": GOOD}) + "\n")
    assert path.stat().st_size > 100_000_000
    docs, skipped = _read([path])
    assert [d.id for d in docs] == ["after"]
    assert "text too long" in skipped[0].reason and skipped[0].line == 1


def test_deeply_nested_json(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(
        "[" * 200_000 + "]" * 200_000 + "\n" + json.dumps({"id": "ok", "text": GOOD}) + "\n"
    )
    docs, skipped = _read([path])
    assert [d.id for d in docs] == ["ok"]
    assert skipped[0].line == 1 and ("nested" in skipped[0].reason or "JSON" in skipped[0].reason)


def test_csv_with_unbalanced_quotes(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f'id,text\n1,"{GOOD}"\n2,"never closed\n3,{GOOD}\n')
    docs, skipped = _read([path])
    assert [d.id for d in docs] == ["1"]
    # the open quote swallows the rest of the file: the message says where the row began
    assert skipped and "bad.csv" in str(skipped[0])


def test_html_with_no_body_and_a_good_page(tmp_path):
    pytest.importorskip("trafilatura", reason="the warc extra is not installed")
    (tmp_path / "empty.html").write_text("<html><head><title>Nothing</title></head></html>")
    (tmp_path / "page.html").write_text(
        f"<html><head><title>Pier reopens</title></head><body><article><p>{GOOD}</p>"
        f"<p>{GOOD} Ships queued outside the port.</p></article></body></html>"
    )
    docs, skipped = _read([tmp_path])
    assert [d.title for d in docs] == ["Pier reopens"]
    assert docs[0].lang == "en"
    assert len(skipped) == 1 and "empty.html" in str(skipped[0])
    assert "no article text" in skipped[0].reason


def test_warc_with_a_corrupt_record_through_the_reader(tmp_path):
    pytest.importorskip("warcio", reason="the warc extra is not installed")
    from test_extract import pages, write_warc

    path = tmp_path / "crawl.warc.gz"
    write_warc(path, pages(4), extra_records=False)
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\x1f\x8b\x08"]
    data[starts[1] + 20 : starts[2] - 20] = b"\x00" * (starts[2] - 40 - starts[1])
    path.write_bytes(bytes(data))
    docs, skipped = _read([path])
    assert [d.title for d in docs] == ["Story number 0", "Story number 2", "Story number 3"]
    assert len(skipped) == 1 and "corrupt record at byte" in skipped[0].reason


def test_a_file_that_vanishes_while_reading(tmp_path):
    _good_jsonl(tmp_path / "a.jsonl", prefix="a")
    _good_jsonl(tmp_path / "b.jsonl", prefix="b")
    files = check_paths([tmp_path])
    stream = records(files)
    first = next(stream)
    (tmp_path / "b.jsonl").unlink()
    rest = list(stream)
    results = [to_document(r, Fields()) for r in [first, *rest]]
    docs = [r for r in results if not isinstance(r, Skipped)]
    skipped = [r for r in results if isinstance(r, Skipped)]
    assert [d.id for d in docs] == ["a0", "a1", "a2"]
    assert len(skipped) == 1 and "b.jsonl" in str(skipped[0]) and "unreadable" in skipped[0].reason


def test_dedup_cli_goes_on_past_bad_files_and_counts_them(tmp_path):
    (tmp_path / "in").mkdir()
    _good_jsonl(tmp_path / "in" / "ok.jsonl", n=4)
    (tmp_path / "in" / "bad.jsonl").write_text('{"id": "x", "text": \n{"id": "y"}\n')
    (tmp_path / "in" / "bin.txt").write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "samestory.cli",
            "dedup",
            str(tmp_path / "in"),
            "--out",
            str(out),
            "--quiet",
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["skipped"] == 3
    kept = [json.loads(line)["id"] for line in (out / "kept.jsonl").read_text().splitlines()]
    assert len(kept) == len(set(kept)) == 4


# --- fuzzing: no exception escapes, offsets stay valid ----------------------------------


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_jsonl_line_give_a_document_or_a_reason(data):
    from samestory.ingest import Record

    result = to_document(Record("fuzz.jsonl", 7, "json", data), Fields())
    assert isinstance(result, Skipped) or result.text.strip()
    if isinstance(result, Skipped):
        assert result.path == "fuzz.jsonl" and result.line == 7 and result.reason


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_txt_file_give_a_document_or_a_reason(data):
    from samestory.ingest import Record

    result = to_document(Record("fuzz.txt", 1, "file", data), Fields())
    assert isinstance(result, Skipped) or result.text.strip()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_html_gives_a_document_or_a_reason(text):
    pytest.importorskip("trafilatura", reason="the warc extra is not installed")
    from samestory.ingest import Record

    result = to_document(Record("fuzz.html", 1, "html", text.encode()), Fields())
    assert isinstance(result, Skipped) or result.text.strip()


def test_strict_makes_the_first_bad_record_an_error(tmp_path, capsys):
    from samestory.cli import main

    (tmp_path / "in").mkdir()
    _good_jsonl(tmp_path / "in" / "a.jsonl", n=2)
    (tmp_path / "in" / "b.jsonl").write_text('{"id": "x", "text": "fine"}\n{broken\n')
    args = [str(tmp_path / "in"), "--quiet", "--strict"]
    assert main(["dedup", *args, "--out", str(tmp_path / "out"), "--jobs", "1"]) == 2
    assert "b.jsonl:2: malformed JSON" in capsys.readouterr().err
    assert main(["index", "add", *args, "--db", str(tmp_path / "i.db")]) == 2
    assert "b.jsonl:2: malformed JSON" in capsys.readouterr().err
    # without --strict the same input is read, and the bad line only skipped
    assert (
        main(["index", "add", str(tmp_path / "in"), "--quiet", "--db", str(tmp_path / "j.db")]) == 0
    )
