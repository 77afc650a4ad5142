"""HTML extraction, encodings, language detection and WARC archives, including hostile files."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections import Counter
from pathlib import Path

import pytest

from samestory.errors import InputError
from samestory.extract import decode, html_document

pytest.importorskip("trafilatura", reason="the warc extra (trafilatura) is not installed")
warcio = pytest.importorskip("warcio", reason="the warc extra (warcio) is not installed")

from samestory.warc import read_warc  # noqa: E402

ARTICLE = (
    "A powerful storm struck the northern coast on Monday, cutting power to thousands of "
    "homes across the region, emergency officials said. Crews worked through the night to "
    "restore electricity, and schools in three districts stayed closed on Tuesday."
)


def page(title: str, body: str, *, date: str = "2024-03-05", site: str = "Daily Planet") -> str:
    return f"""<!doctype html><html><head><title>{title}</title>
<meta property="og:site_name" content="{site}">
<link rel="canonical" href="https://planet.example/{title.lower().replace(" ", "-")}">
<meta name="date" content="{date}"></head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<div class="cookie">We use cookies to improve your experience. Accept all cookies.</div>
<article><h1>{title}</h1><p>{body}</p>
<p>The weather service said more rain was expected later in the week.</p></article>
<aside>Most read: Ten recipes for summer</aside>
<footer>Copyright 2024 Daily Planet. All rights reserved.</footer></body></html>"""


def test_html_main_text_and_metadata():
    doc = html_document(page("Storm hits coast", ARTICLE))
    assert doc.title == "Storm hits coast"
    assert doc.published == "2024-03-05"
    assert doc.source == "Daily Planet"
    assert doc.url == "https://planet.example/storm-hits-coast"
    assert "cutting power to thousands of homes" in doc.text
    for debris in ("cookies", "Most read", "All rights reserved", "Sport"):
        assert debris not in doc.text


def test_html_without_body_is_a_clear_error():
    with pytest.raises(InputError, match="no article text"):
        html_document("<html><head><title>x</title></head></html>", path="empty.html")


def test_latin1_bytes_are_detected_and_reported():
    text = "Le gouvernement français a annoncé un plan écologique pour la région côtière."
    decoded = decode(text.encode("cp1252"))
    assert decoded.text == text
    assert decoded.detected and decoded.encoding != "utf-8"


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary\x00" * 50, bytes(range(256)) * 4])
def test_binary_is_refused_with_path(data):
    with pytest.raises(InputError, match=r"blob\.bin.*binary"):
        decode(data, path="blob.bin")


def _fixed_headers(url: str) -> dict[str, str]:
    # fixed date and record id, so the archive's bytes (and the damage tests do) repeat
    d = hashlib.sha1(url.encode()).hexdigest()
    record_id = f"<urn:uuid:{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}>"
    return {"WARC-Date": "2024-03-05T10:00:00Z", "WARC-Record-ID": record_id}


def write_warc(path: Path, pages: list[tuple[str, str]], *, extra_records: bool = True) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, html in pages:
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            rec = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(html.encode()),
                http_headers=headers,
                warc_headers_dict=_fixed_headers(url),
                length=len(html.encode()),
            )
            writer.write_record(rec)
            if extra_records:
                img = StatusAndHeaders(
                    "200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1"
                )
                writer.write_record(
                    writer.create_warc_record(
                        url + ".png",
                        "response",
                        payload=io.BytesIO(b"\x89PNG"),
                        http_headers=img,
                        warc_headers_dict=_fixed_headers(url + ".png"),
                        length=4,
                    )
                )


def pages(n: int) -> list[tuple[str, str]]:
    return [
        (f"https://planet.example/a{i}", page(f"Story number {i}", f"{ARTICLE} Item {i}."))
        for i in range(n)
    ]


def test_warc_reads_html_and_counts_others(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, pages(5))
    counts: Counter[str] = Counter()
    docs = list(read_warc(str(path), counts=counts))
    assert [d.title for d in docs] == [f"Story number {i}" for i in range(5)]
    assert docs[0].url == "https://planet.example/story-number-0"
    assert counts == Counter(html=5, other=5)


def test_warc_with_corrupt_record_in_the_middle_keeps_the_rest(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, pages(6), extra_records=False)
    data = bytearray(path.read_bytes())
    # find the start of the 4th gzip member and damage its compressed body
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\x1f\x8b\x08"]
    assert len(starts) >= 6
    bad = starts[3]
    data[bad + 20 : starts[4] - 20] = b"\xff" * (starts[4] - 40 - bad)
    path.write_bytes(bytes(data))
    skipped: list[InputError] = []
    counts: Counter[str] = Counter()
    docs = list(read_warc(str(path), on_skip=skipped.append, counts=counts))
    titles = [d.title for d in docs]
    assert "Story number 0" in titles and "Story number 5" in titles
    assert len(docs) == 5
    assert counts["corrupt"] >= 1
    assert all(e.path == str(path) and "at byte" in str(e) for e in skipped)


def test_truncated_warc_reports_and_stops(tmp_path):
    path = tmp_path / "cut.warc.gz"
    write_warc(path, pages(3), extra_records=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])
    skipped: list[InputError] = []
    docs = list(read_warc(str(path), on_skip=skipped.append))
    assert [d.title for d in docs] == ["Story number 0", "Story number 1"]
    assert len(skipped) == 1 and "truncated record at byte" in str(skipped[0])


def test_missing_warc_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nope\.warc"):
        list(read_warc(str(tmp_path / "nope.warc")))


def test_gzip_of_plain_text_is_not_a_warc(tmp_path):
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(gzip.compress(b"just some notes\n" * 10))
    skipped: list[InputError] = []
    assert list(read_warc(str(path), on_skip=skipped.append)) == []
    assert skipped


@pytest.mark.parametrize("text", ["café", "Grüße aus Köln", "Señor Núñez", "à la carte"])
def test_short_western_text_is_not_misread(text):
    # too short for charset-normalizer to see a language: read as windows-1252, never UTF-16
    decoded = decode(text.encode("latin-1"))
    assert decoded.text == text
    assert decoded.detected


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_text_with_a_byte_order_mark_is_read_not_refused(tmp_path, encoding):
    from samestory.ingest import read_documents

    text = "The harbour reopened on Monday, officials said."
    data = ("\ufeff" + text).encode(encoding)
    assert decode(data).text == text
    path = tmp_path / "wide.txt"
    path.write_bytes(data)
    (doc,) = read_documents([path])
    assert doc.text == text
    assert doc.meta["encoding"] == encoding


def test_broken_utf16_after_its_mark_names_the_file():
    with pytest.raises(InputError, match=r"wide\.txt.*utf-16-le"):
        decode(b"\xff\xfeA\x00\xd8", path="wide.txt")
