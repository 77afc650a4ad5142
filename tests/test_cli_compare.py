"""`samestory compare` and `samestory demo`: outputs, and one-line errors on bad input."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from samestory.articles import MAX_ARTICLE_BYTES, read_article, split_title
from samestory.cli import main

FIX = Path(__file__).parent / "fixtures" / "compare"
WIRE, SYND = str(FIX / "wire.txt"), str(FIX / "syndicated.txt")
REWRITE = str(FIX / "rewrite.txt")


def test_json_output_has_the_documented_keys(capsys):
    assert main(["compare", WIRE, SYND, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"verdict", "rule", "scores", "origin", "passages", "unique_a", "unique_b"} <= set(d)
    assert {"cleaning", "datelines", "documents", "schema"} <= set(d)
    assert d["verdict"] == "duplicate"
    assert d["documents"]["a"]["title"] == "Ferry crews strike in Port Aldren"
    assert {"kind", "a_span", "b_span", "a_text", "b_text", "score"} <= set(d["passages"][0])
    kinds = {(a["kind"], a["before"], a["after"]) for a in d["cleaning"]["b"]}
    assert ("hyphen", "offi-cials", "officials") in kinds
    assert d["datelines"]["b"]["agency"] == "HWS"
    # spans are into the article text, which starts after the title line of the file
    text = Path(SYND).read_text(encoding="utf-8")
    offset = text.index("PORT ALDREN")
    assert d["documents"]["b"]["text_offset"] == offset
    for p in d["passages"]:
        s, e = p["b_span"]
        assert text[offset + s : offset + e] == p["b_text"]


def test_terminal_report_and_html_file(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["compare", WIRE, str(FIX / "rewrite.txt"), "--html", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "REWRITE" in printed and "paraphrase" in printed and "Origin" in printed
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'data-p="0"' in page


def test_text_options_and_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Rain fell on Oslo all day.")))
    assert main(["compare", "-", "--text-b", "Rain fell on Oslo all day.", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "duplicate"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    assert main(["compare", str(bad), WIRE]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and "bad.txt" in err


def test_missing_file_directory_and_argument_errors(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope.txt"), WIRE]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["compare", str(tmp_path), WIRE]) == 2
    assert "directory" in capsys.readouterr().err
    assert main(["compare", WIRE]) == 2
    assert "article B is missing" in capsys.readouterr().err
    assert main(["compare", "-", "-"]) == 2
    assert "stdin" in capsys.readouterr().err


def test_invalid_utf8_is_decoded_with_a_warning(tmp_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Café Aldren opens by the harbour on Monday.".encode("latin-1"))
    assert main(["compare", str(bad), WIRE, "--json"]) == 0
    captured = capsys.readouterr()
    assert "invalid UTF-8" in captured.err and "latin1.txt" in captured.err
    assert json.loads(captured.out)["verdict"] in {"related", "unrelated"}


def test_too_large_file_is_refused_clearly(tmp_path, capsys):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(MAX_ARTICLE_BYTES + 10)
    assert main(["compare", str(big), WIRE]) == 2
    err = capsys.readouterr().err
    assert "MB limit" in err and err.count("\n") == 1


def test_unwritable_html_path(capsys):
    assert main(["compare", WIRE, SYND, "--html", "/nonexistent-dir/x.html", "--quiet"]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_title_line_detection():
    assert split_title("Short headline\nBody text follows here.") == ("Short headline", 15)
    assert split_title("Body sentence ends here.\nMore.") == ("", 0)
    assert split_title("Only one line") == ("", 0)
    doc = read_article(WIRE)
    assert doc.title == "Ferry crews strike in Port Aldren"
    assert doc.text.startswith("PORT ALDREN (HWS) -")


def test_demo_writes_the_html_report(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "compare.html") in out
    assert (tmp_path / "compare.html").read_text(encoding="utf-8").count("<mark") > 5


def test_console_script_never_prints_a_traceback(tmp_path):
    bad = tmp_path / "bin.dat"
    bad.write_bytes(bytes(range(256)))
    proc = subprocess.run(
        [sys.executable, "-m", "samestory.cli", "compare", str(bad), WIRE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "bin.dat" in proc.stderr


def test_json_is_identical_across_processes_and_hash_seeds():
    import os

    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-m", "samestory.cli", "compare", WIRE, REWRITE, "--json"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        outs.append(proc.stdout)
    assert outs[0] == outs[1] and json.loads(outs[0])["verdict"] == "rewrite"
