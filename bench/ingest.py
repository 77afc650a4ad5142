"""Ingest benchmark: HTML extraction (pages/s), WARC reading (records/s), language detection.

Language detection is timed against its anchor in the same run: samestory.language versus
py3langid.classify on the same first kilobyte of the same Reuters texts (CPU time). Pages are
built deterministically from Reuters-21578 articles (../shared/data) wrapped in a
news-site template with navigation, cookie banner, related links and footer; the WARC holds
one HTML response and one image record per page. Writes bench/results/ingest.json.

    python bench/ingest.py [--pages 2000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "reuters21578" / "reuters21578.jsonl"
RESULTS = ROOT / "bench" / "results" / "ingest.json"

TEMPLATE = """<!doctype html><html><head><title>{title}</title>
<meta property="og:site_name" content="Wire Mirror"><meta name="date" content="1987-03-{day:02d}">
<link rel="canonical" href="https://mirror.example/{n}"></head><body>
<nav>{nav}</nav><div class="cookie">We use cookies. Accept all cookies to continue.</div>
<article><h1>{title}</h1>{paragraphs}</article>
<aside><h3>Related</h3><ul>{related}</ul></aside>
<footer>Copyright 1987 Wire Mirror. All rights reserved. Terms | Privacy | Contact</footer>
</body></html>"""


def build_pages(n: int) -> list[str]:
    if not DATA.exists():
        sys.exit(f"bench/ingest.py: {DATA} not found (the shared data folder is needed)")
    pages = []
    with DATA.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            body = rec.get("body") or ""
            if len(body.split()) < 80:
                continue
            blocks = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
            paras = "".join(f"<p>{html.escape(p)}</p>" for p in blocks)
            nav = " | ".join(f'<a href="/s{i}">Section {i}</a>' for i in range(12))
            related = "".join(f'<li><a href="/r{i}">Related story {i}</a></li>' for i in range(8))
            pages.append(
                TEMPLATE.format(
                    title=html.escape(rec.get("title") or "Untitled"),
                    day=1 + len(pages) % 28,
                    n=len(pages),
                    nav=nav,
                    paragraphs=paras,
                    related=related,
                )
            )
            if len(pages) >= n:
                break
    return pages


def _extract(page: str) -> int:
    from samestory.extract import html_document

    return len(html_document(page).text)


def _extract_chunk(pages: list[str]) -> int:
    return sum(_extract(p) for p in pages)


def time_extraction(pages: list[str], jobs: int) -> float:
    start = time.perf_counter()
    if jobs == 1:
        _extract_chunk(pages)
    else:
        size = max(1, len(pages) // (jobs * 8))
        chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_extract_chunk, chunks))
    return len(pages) / (time.perf_counter() - start)


def write_warc(path: Path, pages: list[str]) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i, page in enumerate(pages):
            data = page.encode()
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(
                    f"https://mirror.example/{i}",
                    "response",
                    payload=io.BytesIO(data),
                    length=len(data),
                    http_headers=headers,
                )
            )
            img = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://mirror.example/{i}.png",
                    "response",
                    payload=io.BytesIO(b"\x89PNG...."),
                    length=8,
                    http_headers=img,
                )
            )
    return 2 * len(pages)


def time_warc(path: Path, records: int) -> tuple[float, float, Counter[str]]:
    """(records/s reading the archive alone, records/s reading + extracting) on one core."""
    from warcio.archiveiterator import ArchiveIterator

    from samestory.warc import read_warc

    start = time.perf_counter()
    with path.open("rb") as f:
        for rec in ArchiveIterator(f):
            rec.content_stream().read()
    raw = records / (time.perf_counter() - start)
    counts: Counter[str] = Counter()
    start = time.perf_counter()
    for _ in read_warc(str(path), counts=counts):
        pass
    full = records / (time.perf_counter() - start)
    return raw, full, counts


def time_language(repeat: int) -> dict[str, float]:
    """Documents/CPU-second of detect_language and of py3langid on the same texts."""
    import py3langid

    from samestory.language import detect_language

    with DATA.open(encoding="utf-8") as f:
        texts = [t for t in (json.loads(line).get("body") for line in f) if t][:5000]

    def theirs(text: str) -> str:
        return py3langid.classify(text[:1024])[0]

    def run(fn) -> tuple[float, list[str]]:
        start = time.process_time()
        answers = [fn(t) for t in texts]
        return len(texts) / (time.process_time() - start), answers

    run(detect_language), run(theirs)  # load both models and the kernel
    rates: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(repeat):  # interleaved, so both see the same machine
        rate, mine = run(detect_language)
        rates["ours"].append(rate)
        rate, other = run(theirs)
        rates["theirs"].append(rate)
    ours, anchor = statistics.median(rates["ours"]), statistics.median(rates["theirs"])
    return {
        "language_docs": len(texts),
        "language_docs_per_cpu_s": round(ours, 1),
        "py3langid_docs_per_cpu_s": round(anchor, 1),
        "language_speedup": round(ours / anchor, 2),
        # where ours answers (py3langid's own calibrated confidence >= 0.5), the same answer
        "language_same_answer": round(
            sum(a == b for a, b in zip(mine, other, strict=True) if a)
            / max(1, sum(map(bool, mine))),
            4,
        ),
        "language_no_answer": round(sum(not a for a in mine) / len(texts), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = build_pages(args.pages)
    _extract(pages[0])  # warm imports
    one = statistics.median(time_extraction(pages, 1) for _ in range(args.repeat))
    many = statistics.median(time_extraction(pages, args.jobs) for _ in range(args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.warc.gz"
        records = write_warc(path, pages)
        runs = [time_warc(path, records) for _ in range(args.repeat)]
    raw = statistics.median(r[0] for r in runs)
    full = statistics.median(r[1] for r in runs)
    result = {
        "pages": len(pages),
        "html_pages_per_s_1_core": round(one, 1),
        f"html_pages_per_s_{args.jobs}_processes": round(many, 1),
        "warc_records": records,
        "warc_read_records_per_s": round(raw, 1),
        "warc_read_and_extract_records_per_s_1_core": round(full, 1),
        "warc_counts": dict(runs[-1][2]),
        **time_language(args.repeat),
        "repeat": args.repeat,
        "note": "medians; HTML extraction is trafilatura fast mode via samestory.extract; "
        "language: the first kilobyte, CPU time",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key:45s} {value}")


if __name__ == "__main__":
    main()
