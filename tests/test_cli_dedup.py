"""`samestory dedup`: outputs, options, exit codes and messages."""

import json

from dedup_fixtures import STORIES

from samestory.cli import main


def _write(path, extra=""):
    rows = [{"doc": f"n{i}", "body": t} for i, t in enumerate(STORIES)]
    rows.append({"doc": "copy", "body": STORIES[3] + "\nAdvertisement"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra)


def test_cli_dedup_writes_all_outputs(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    _write(src, extra="{broken\n")
    out = tmp_path / "out"
    code = main(
        [
            "dedup",
            str(src),
            "--out",
            str(out),
            "--text-field",
            "body",
            "--id-field",
            "doc",
            "--jobs",
            "1",
            "--threshold",
            "0.8",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    for name in ("pairs.jsonl", "clusters.jsonl", "kept.jsonl", "summary.json"):
        assert (out / name).exists(), name
    clusters = [json.loads(x) for x in (out / "clusters.jsonl").read_text().splitlines()]
    assert clusters == [
        {
            "cluster": 0,
            "kept": "n3",
            "rule": "longest clean text (words)",
            "size": 2,
            "members": ["n3", "copy"],
        }
    ]
    err = capsys.readouterr().err
    assert f"{src}:8: skipped: malformed JSON" in err
    assert "1 duplicates removed" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["minhash"]["seed"] == 3
    assert summary["skipped_by_reason"] == {"malformed JSON": 1}


def test_cli_quiet_and_missing_path(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    _write(src)
    assert (
        main(
            [
                "dedup",
                str(src),
                "--out",
                str(tmp_path / "o"),
                "--quiet",
                "--jobs",
                "1",
                "--text-field",
                "body",
            ]
        )
        == 0
    )
    assert capsys.readouterr().err == ""
    code = main(["dedup", str(src), str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o2")])
    assert code == 2
    assert "nope.jsonl: no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()  # nothing started


def test_cli_bad_settings(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    _write(src)
    code = main(["dedup", str(src), "--out", str(tmp_path / "o"), "--bands", "20", "--rows", "10"])
    assert code == 2
    assert "must not exceed num_perm" in capsys.readouterr().err


def test_cli_reads_stdin_and_txt_folders(tmp_path, capsys, monkeypatch):
    import io
    import sys

    data = "".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(STORIES))
    data += json.dumps({"id": "dup", "text": STORIES[0]}) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    assert main(["dedup", "-", "--out", str(tmp_path / "o1"), "--jobs", "1", "--quiet"]) == 0
    pairs = (tmp_path / "o1" / "pairs.jsonl").read_text().splitlines()
    assert [json.loads(p)["b"] for p in pairs] == ["dup"]
    folder = tmp_path / "txt"
    folder.mkdir()
    for i, t in enumerate(STORIES[:3]):
        (folder / f"{i}.txt").write_text(t)
    (folder / "copy.txt").write_text("  " + STORIES[1] + "\n\nShare this article\n")
    assert (
        main(["dedup", str(folder), "--out", str(tmp_path / "o2"), "--jobs", "1", "--quiet"]) == 0
    )
    clusters = [
        json.loads(x) for x in (tmp_path / "o2" / "clusters.jsonl").read_text().splitlines()
    ]
    assert [c["members"] for c in clusters] == [["1.txt", "copy.txt"]]
    kept = [json.loads(x) for x in (tmp_path / "o2" / "kept.jsonl").read_text().splitlines()]
    assert sorted(k["id"] for k in kept) == ["0.txt", "1.txt", "2.txt"]
