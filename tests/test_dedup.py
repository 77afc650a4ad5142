"""dedup() end to end: planted duplicates, chains, verification, outputs, resuming."""

import json

import numpy as np
import pytest
from dedup_fixtures import STORIES, edit_words, replace_at

import samestory
from samestory import Document, dedup
from samestory.engines import local
from samestory.errors import SettingsError
from samestory.shingle import jaccard, shingle_hashes


def _corpus(path):
    """6 distinct stories, 3 planted copies of story 0 forming a chain, and a reformatted copy."""
    base = STORIES[0] + " " + STORIES[5]
    b = replace_at(base, [20])  # A ~ B
    c = replace_at(b, [50, 90, 130], word="green")  # B ~ C, and A ~ C only through B
    texts = [base, *STORIES[1:]]
    rows = [{"id": f"s{i}", "text": t, "date": f"2020-01-{10 + i}"} for i, t in enumerate(texts)]
    rows += [
        {"id": "b", "text": b, "date": "2020-01-05", "site": "other"},
        {"id": "c", "text": c},
        # scraping debris: broken hyphens, a dateline and a share line must not hide the copy
        {
            "id": "d",
            "text": "LONDON (Reuters) - "
            + STORIES[1].replace("announced", "an-nounced")
            + "\nShare this article",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return base, b, c


def _read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_planted_duplicates_and_chains(tmp_path):
    base, b, c = _corpus(tmp_path / "in.jsonl")
    j = lambda x, y: jaccard(shingle_hashes(x), shingle_hashes(y))  # noqa: E731
    assert j(base, b) >= 0.8 and j(b, c) >= 0.8 and j(base, c) < 0.8
    result = dedup([tmp_path / "in.jsonl"], out=tmp_path / "out", jobs=1)
    clusters = {tuple(c["members"]): c for c in result.clusters}
    assert set(clusters) == {("s0", "b", "c"), ("s1", "d")}
    chain = clusters[("s0", "b", "c")]
    assert chain["kept"] == "b" and chain["rule"] == "earliest date"
    assert clusters[("s1", "d")]["kept"] == "s1"
    assert {(a, b) for a, b, _ in result.pairs} == {("s0", "b"), ("b", "c"), ("s1", "d")}
    assert sorted(result.dropped) == ["c", "d", "s0"]
    kept = _read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert [r["id"] for r in kept] == ["s1", "s2", "s3", "s4", "s5", "b"]
    assert kept[-1]["site"] == "other"  # every original field survives
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["duplicates_removed"] == 3 and summary["counts"]["kept"] == 6
    assert summary["settings"]["bands_used"] * summary["settings"]["rows_used"] <= 128
    assert len(summary["fingerprint"]) == 16 and "total_s" in summary["timings"]


def test_verification_reports_only_true_pairs(tmp_path):
    texts = [edit_words(STORIES[2], k) for k in (4, 5, 6, 8, 10, 14, 20, 40)] + [STORIES[2]]
    docs = [Document(t, id=str(i)) for i, t in enumerate(texts)]
    sets = [shingle_hashes(t) for t in texts]
    truth = {
        (str(i), str(k))
        for i in range(len(sets))
        for k in range(i + 1, len(sets))
        if jaccard(sets[i], sets[k]) >= 0.6
    }
    loose = dedup(docs, threshold=0.6, bands=32, rows=2, jobs=1, verify=False)
    strict = dedup(docs, threshold=0.6, bands=32, rows=2, jobs=1)
    found = {(a, b) for a, b, _ in strict.pairs}
    assert found <= truth and len(found) == len(truth)  # precision 1.0, recall 1.0 here
    for a, b, sim in strict.pairs:
        assert sim == pytest.approx(jaccard(sets[int(a)], sets[int(b)]))
    assert loose.summary["counts"]["candidates"] >= len(found)


def test_exact_only(tmp_path):
    docs = [
        Document("The same words, here.", id="1"),
        Document("the SAME words here!", id="2"),
        Document("Other words entirely here.", id="3"),
    ]
    result = dedup(docs, exact_only=True, jobs=1)
    assert [(a, b, s) for a, b, s in result.pairs] == [("1", "2", 1.0)]


def test_resumes_after_a_kill_and_gives_the_same_output(tmp_path, monkeypatch):
    rows = [{"id": f"r{i}", "text": edit_words(STORIES[i % 6], 30 + i)} for i in range(60)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fresh = dedup([src], out=tmp_path / "fresh", jobs=1, chunk_size=10)

    real = local.process_chunk
    calls = []

    def dies_on_chunk_3(work, index, records, config, fields):
        calls.append(index)
        if index == 3:
            raise KeyboardInterrupt  # the run is killed while chunk 3 is being worked on
        return real(work, index, records, config, fields)

    monkeypatch.setattr(local, "process_chunk", dies_on_chunk_3)
    with pytest.raises(KeyboardInterrupt):
        dedup([src], out=tmp_path / "run", jobs=1, chunk_size=10)
    assert calls == [0, 1, 2, 3]
    monkeypatch.setattr(local, "process_chunk", real)
    resumed = dedup([src], out=tmp_path / "run", jobs=1, chunk_size=10)
    assert resumed.summary["counts"]["reused_chunks"] == 3
    for name in ("pairs.jsonl", "clusters.jsonl", "kept.jsonl"):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
    assert fresh.clusters == resumed.clusters


def test_other_settings_are_refused_in_the_same_folder(tmp_path):
    src = tmp_path / "in.jsonl"
    _corpus(src)
    dedup([src], out=tmp_path / "out", jobs=1)
    with pytest.raises(SettingsError, match="other settings"):
        dedup([src], out=tmp_path / "out", jobs=1, threshold=0.7)
    with src.open("a") as fh:  # the input grew: its old chunks must not be reused
        fh.write(json.dumps({"id": "late", "text": STORIES[4]}) + "\n")
    with pytest.raises(SettingsError, match="inputs"):
        dedup([src], out=tmp_path / "out", jobs=1)


def test_processes_give_the_same_answer(tmp_path):
    src = tmp_path / "in.jsonl"
    _corpus(src)
    one = dedup([src], out=tmp_path / "one", jobs=1, chunk_size=3)
    two = dedup([src], out=tmp_path / "two", jobs=2, chunk_size=3)
    assert one.pairs == two.pairs and one.clusters == two.clusters
    assert (tmp_path / "one" / "kept.jsonl").read_bytes() == (
        tmp_path / "two" / "kept.jsonl"
    ).read_bytes()


def test_parquet_output(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    src = tmp_path / "in.jsonl"
    _corpus(src)
    dedup([src], out=tmp_path / "out", jobs=1, fmt="parquet")
    pairs = pq.read_table(tmp_path / "out" / "pairs.parquet").to_pylist()
    assert {(p["a"], p["b"]) for p in pairs} == {("s0", "b"), ("b", "c"), ("s1", "d")}
    kept = pq.read_table(tmp_path / "out" / "kept.parquet").to_pylist()
    assert len(kept) == 6


def test_skips_are_counted(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "1", "text": "Words here."}\n{bad\n{"id": "2", "text": "..."}\n')
    seen = []
    result = dedup([src], jobs=1, on_skip=seen.append)
    assert [(s.line, s.reason) for s in seen][1] == (3, "no words after cleaning")
    assert result.summary["counts"]["skipped"] == 2
    assert result.summary["counts"]["documents"] == 1


def test_public_api():
    assert samestory.dedup is dedup
    assert np.__name__ == "numpy"


def test_a_killed_process_resumes(tmp_path):
    """SIGKILL a real run after its first chunks are done; the rerun finishes the same way."""
    import os
    import signal
    import subprocess
    import sys
    import time

    rows = [{"id": f"k{i}", "text": edit_words(STORIES[i % 6], 20 + i % 37)} for i in range(3000)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = [str(src), "--jobs", "1", "--chunk-size", "100", "--quiet"]
    cmd = [sys.executable, "-m", "samestory.cli", "dedup", *args, "--out"]
    proc = subprocess.Popen([*cmd, str(tmp_path / "run")])
    work = tmp_path / "run" / "work"
    deadline = time.monotonic() + 60
    while len(list(work.glob("*.done.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if (tmp_path / "run" / "summary.json").exists():
        pytest.skip("the run finished before it could be killed")
    done_before = len(list(work.glob("*.done.json")))
    assert 3 <= done_before < 30
    subprocess.run([*cmd, str(tmp_path / "run")], check=True)
    subprocess.run([*cmd, str(tmp_path / "fresh")], check=True)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["reused_chunks"] >= done_before
    for name in ("pairs.jsonl", "clusters.jsonl", "kept.jsonl"):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()


def test_fast_json_path_equals_to_document():
    """The orjson path gives the same (id, text, date) as to_document, or declines."""
    from samestory.ingest import Fields, Record, to_document

    lines = [
        b'{"id": "a", "text": "Rain fell.", "date": "2020-01-01"}\n',
        b'{"id": 7, "text": "Int id and float date.", "date": 1.5}',
        b'{"id": 123456789012345678901234567890, "text": "Huge id."}\n',
        b'{"id": "n", "text": "Null date.", "date": null, "extra": [1, {"x": 2}]}\n',
        b'{"id": "u", "text": "Caf\\u00e9 \\"quoted\\" \\ud83d\\ude00 ok."}\n',
        b'{"id": "d", "text": "first", "text": "Duplicate key, last wins."}\n',
        b'\xef\xbb\xbf{"id": "bom", "text": "Byte order mark."}\n',
        b'{"id": "big", "text": "Huge number.", "n": 123456789012345678901234567890}\n',
        b'{"id": "nan", "text": "Not a number.", "n": NaN}\n',
        b'{"id": "s", "text": "Lone \\ud800 surrogate."}\n',
        b'{"text": "No id: hashed from the text."}\n',
        b'{"id": "e", "text": "   "}\n',
        b'{"id": "z", "text": "NUL \\u0000 inside."}\n',
        b'{"id": "t", "body": "Wrong field."}\n',
        b'["not", "an", "object"]\n',
        b'{"id": "bad" "text": }\n',
        b'{"id": "l", "text": "Latin-1 \xe9 byte."}\n',
    ]
    fields = Fields()
    taken = 0
    for n, line in enumerate(lines, 1):
        fast = local._fast_json(line, fields)
        doc = to_document(Record("f.jsonl", n, "json", line), fields)
        if fast is None:
            continue
        taken += 1
        assert isinstance(doc, Document)
        assert fast == (doc.id, doc.text, doc.published)
    assert taken == 5
