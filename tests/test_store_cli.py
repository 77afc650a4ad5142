"""`samestory index ...` and `samestory query`: CLI behaviour, a SIGKILLed add, concurrent reads."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samestory import Index, StoreError
from samestory.cli import main

VOCABULARY = """
    minister council river harbour storm market price bank school police court train bridge
    farmers election strike hospital airport festival museum factory village mayor union
    weather flood fire road budget report said on monday tuesday after before during week
    year new old local national small large first last three four five north south east west
"""
WORDS = VOCABULARY.split()


def synthetic(n: int, *, seed: int = 7, words: int = 40) -> list[dict[str, str]]:
    """``n`` short deterministic records; every tenth is a light edit of the one before."""
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    for i in range(n):
        if i % 10 == 9:
            tokens = out[-1]["text"].split()
            tokens[-1] = rng.choice(WORDS)
            text = " ".join(tokens) + " Updated."
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(words)) + "."
        out.append({"id": f"d{i:05d}", "title": f"Report {i}", "text": text})
    return out


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def samestory(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samestory.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def answers(db: Path, records: list[dict[str, str]]) -> list[list[tuple[str, str, float]]]:
    with Index(db, create=False) as index:
        return [
            [(m.id, m.verdict, m.scores["overall"]) for m in index.query(r["text"], top=5)]
            for r in records
        ]


def test_cli_add_stats_query_remove_export_rebuild(tmp_path: Path, capsys) -> None:
    records = synthetic(40)
    data = write_jsonl(tmp_path / "in.jsonl", records)
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "a.txt").write_text("A ferry line between the islands opens in May this year.")
    db = str(tmp_path / "idx.db")
    assert main(["index", "add", str(data), str(folder), "--db", db, "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 41, "present": 0, "skipped": 0}
    assert main(["index", "add", str(data), "--db", db]) == 0
    assert "added 0 documents" in capsys.readouterr().err
    assert main(["index", "stats", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == 41

    query = write_jsonl(tmp_path / "q.jsonl", [records[8]])
    assert main(["query", str(query), "--db", db, "--json", "--top", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in result["matches"]] == ["d00008", "d00009"]
    assert [m["verdict"] for m in result["matches"]] == ["duplicate", "duplicate"]
    assert main(["query", str(query), "--db", db]) == 0
    assert "duplicate" in capsys.readouterr().out

    assert main(["index", "remove", "d00009", "--db", db]) == 0
    assert main(["index", "remove", "d00009", "--db", db]) == 1
    assert "no document with id 'd00009'" in capsys.readouterr().err
    out = tmp_path / "export.jsonl"
    assert main(["index", "export", "--db", db, "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 40
    assert main(["index", "rebuild", "--db", db, "--quiet"]) == 0
    assert main(["query", str(query), "--db", db, "--json"]) == 0
    assert [m["id"] for m in json.loads(capsys.readouterr().out)["matches"]] == ["d00008"]


def test_cli_add_reads_urls_and_named_fields(tmp_path: Path, capsys) -> None:
    """A re-scraped record (same source and url, new id, edited text) is the stored one, and
    records with other field names are read through the --*-field options."""
    first, second = synthetic(2)
    site = {"source": "Herald", "url": "https://h.example/1"}
    data = write_jsonl(tmp_path / "in.jsonl", [first | site, second])
    again = first | site | {"id": "other", "text": first["text"] + " Corrected."}
    db = str(tmp_path / "idx.db")
    assert main(["index", "add", str(data), "--db", db, "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 2, "present": 0, "skipped": 0}
    rescraped = write_jsonl(tmp_path / "again.jsonl", [again])
    assert main(["index", "add", str(rescraped), "--db", db, "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 0, "present": 1, "skipped": 0}
    with Index(db, create=False) as index:
        assert index.get(first["id"]).url == site["url"]

    renamed = [{"key": "z1", "body": "A ferry line between the islands opens in May.", "link": "u"}]
    other = write_jsonl(tmp_path / "renamed.jsonl", renamed)
    fields = ["--id-field", "key", "--text-field", "body", "--url-field", "link"]
    assert main(["index", "add", str(other), "--db", db, *fields, "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 1
    with Index(db, create=False) as index:
        assert (index.get("z1").text, index.get("z1").url) == (renamed[0]["body"], "u")


def test_cli_query_from_stdin(tmp_path: Path) -> None:
    records = synthetic(20)
    db = tmp_path / "idx.db"
    assert (
        samestory(
            "index", "add", str(write_jsonl(tmp_path / "in.jsonl", records)), "--db", str(db)
        ).returncode
        == 0
    )
    proc = subprocess.run(
        [sys.executable, "-m", "samestory.cli", "query", "-", "--db", str(db), "--json"],
        input=records[3]["text"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["matches"][0]["id"] == "d00003"


def test_cli_bad_input(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "idx.db")
    assert main(["index", "add", str(tmp_path / "nope.jsonl"), "--db", db]) == 2
    assert "nope.jsonl: no such file or folder" in capsys.readouterr().err
    assert not Path(db).exists()  # refused before the index was created
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "ok", "text": "A fine line of text."}\n{"id": broken\n[1, 2]\n\n')
    assert main(["index", "add", str(bad), "--db", db, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"added": 1, "present": 0, "skipped": 2}
    assert f"{bad}:2: skipped: malformed JSON" in captured.err
    assert f"{bad}:3: skipped: a JSON line must be an object" in captured.err
    assert main(["index", "stats", "--db", str(tmp_path / "missing.db")]) == 1
    assert "no index here" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("plain words, not a database\n" * 100)
    assert main(["query", str(notes), "--db", str(notes)]) == 1
    err = capsys.readouterr().err
    assert "not a samestory index" in err and "Traceback" not in err


def test_killed_add_rerun_stores_every_document_once(tmp_path: Path) -> None:
    records = synthetic(4000, seed=11, words=30)
    data = write_jsonl(tmp_path / "in.jsonl", records)
    db = tmp_path / "killed.db"
    cmd = [sys.executable, "-m", "samestory.cli", "index", "add", str(data), "--db", str(db)]
    proc = subprocess.Popen([*cmd, "--batch-size", "100", "--quiet"])
    seen = 0
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with Index(db, create=False) as index:
                seen = len(index)
        except StoreError:  # not created yet
            pass
        if seen >= 300:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the add ended before it could be killed"
    with Index(db, create=False) as index:
        assert 300 <= len(index) < len(records)
    assert samestory(*cmd[3:], "--quiet").returncode == 0
    reference = tmp_path / "whole.db"
    assert samestory("index", "add", str(data), "--db", str(reference), "--quiet").returncode == 0
    with Index(db, create=False) as index:
        ids = [d.id for d in index.documents()]
    assert sorted(ids) == [r["id"] for r in records]  # every document, exactly once
    sample = records[::97]
    assert answers(db, sample) == answers(reference, sample)


def test_queries_from_another_process_during_add(tmp_path: Path) -> None:
    records = synthetic(3000, seed=5, words=30)
    data = write_jsonl(tmp_path / "in.jsonl", records)
    db = tmp_path / "busy.db"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "samestory.cli", "index", "add", str(data), "--db", str(db)),
            *("--batch-size", "100", "--quiet"),
        ]
    )
    counts, answered = [], 0
    try:
        while proc.poll() is None:
            try:
                index = Index(db, create=False)
            except StoreError:
                time.sleep(0.01)
                continue
            with index:
                counts.append(len(index))
                probe = records[min(counts[-1], len(records)) - 1] if counts[-1] else records[0]
                matches = index.query(probe["text"])
                answered += 1
                if counts[-1]:
                    assert probe["id"] in [m.id for m in matches]
    finally:
        assert proc.wait(timeout=120) == 0
    assert counts == sorted(counts)
    assert any(0 < c < len(records) for c in counts), counts
    assert answered >= 3
    with Index(db, create=False) as index:
        assert len(index) == len(records)


def test_cli_help_lists_index_commands(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["index", "--help"])
    out = capsys.readouterr().out
    for action in ("add", "stats", "remove", "export", "rebuild"):
        assert action in out


def test_cli_bad_top_is_a_usage_error(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "idx.db")
    Index(db).close()
    text = tmp_path / "a.txt"
    text.write_text("Some words for a query about the harbour and the storm on Monday.")
    assert main(["query", str(text), "--db", db, "--top", "0"]) == 2
    assert "top must be" in capsys.readouterr().err


def test_two_concurrent_adds_store_each_document_once(tmp_path: Path) -> None:
    records = synthetic(1500, seed=3, words=25)
    data = write_jsonl(tmp_path / "in.jsonl", records)
    db = tmp_path / "two.db"
    Index(db).close()  # both writers open an existing file
    cmd = [sys.executable, "-m", "samestory.cli", "index", "add", str(data), "--db", str(db)]
    procs = [subprocess.Popen([*cmd, "--batch-size", "50", "--quiet"]) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    with Index(db, create=False) as index:
        assert sorted(d.id for d in index.documents()) == [r["id"] for r in records]


def test_query_html_report(tmp_path: Path, capsys) -> None:
    from samestory.samples import load

    db = str(tmp_path / "idx.db")
    with Index(db) as index:
        index.add(load())
    wire = {d.id: d for d in load()}["fish-wire"]
    query = tmp_path / "q.txt"
    query.write_text(wire.text)
    page = tmp_path / "report.html"
    assert main(["query", str(query), "--db", db, "--html", str(page)]) == 0
    html = page.read_text()
    assert "ss-compare" in html and wire.title in html and "duplicate" in html
    assert "<script>" in html  # the linking script, once per page
    assert f"HTML report: {page}" in capsys.readouterr().err
