"""Index benchmark: add throughput, database bytes per document, near-duplicate query latency
and recall of known duplicates, on a deterministic corpus built from Reuters-21578.

The corpus: real Reuters bodies (at least 40 words, exact repeats removed), then articles made
of sentence runs from three random bodies; a share of the documents (``--dup-rate``) are light
edits of an earlier one (word swaps or drops, a dropped sentence, a boilerplate line) and are
the known duplicates. Near-duplicate queries are fresh edits of stored documents (not stored).

The anchor in the same run, on the same JSONL file: ``samestory.dedup`` with as many worker
processes as the add (``--workers``), reading, cleaning, shingling, hashing and clustering the
whole file. The add reads the same file (``Index.add_files``, as ``samestory index add`` does)
into a new index. ``--rounds`` alternates the two and reports medians. ``--one-process`` also
times an add with no workers. One more add reads the same records without their ``lang``
field, as most inputs come (the add then detects every document's language; dedup never does).

    python bench/index.py [--docs 100000] [--workers 2] [--queries 1000] [--scale-to 1000000]

Writes bench/results/index.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from samestory import Document, Index
from samestory.clean import clean
from samestory.indexing import record_fields
from samestory.ingest import read_documents
from samestory.schema import Transaction
from samestory.shingle import jaccard, shingle_hashes
from samestory.store_read import verified

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "reuters21578" / "reuters21578.jsonl"
RESULTS = ROOT / "bench" / "results" / "index.json"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_SWAPS = ["the", "said", "company", "year", "pct", "market", "new", "shares", "billion", "two"]
_BOILERPLATE = ["Share this article", "Advertisement", "Follow us for more news"]


def reuters_bodies() -> list[str]:
    if not DATA.exists():
        sys.exit(f"bench/index.py: {DATA} not found (the shared data folder is needed)")
    seen: set[str] = set()
    with DATA.open(encoding="utf-8") as f:
        for line in f:
            body = " ".join((json.loads(line).get("body") or "").split())
            if len(body.split()) >= 40 and body not in seen:
                seen.add(body)
    return sorted(seen)


def edit(text: str, rng: random.Random) -> str:
    """A light edit: word swaps/drops (1 per 25-80 words), maybe a dropped or added line."""
    tokens = text.split(" ")
    for _ in range(max(1, len(tokens) // rng.randint(25, 80))):
        i = rng.randrange(len(tokens))
        tokens[i] = rng.choice(_SWAPS) if rng.random() < 0.6 else ""
    text = " ".join(t for t in tokens if t)
    sentences = _SENTENCE.split(text)
    if len(sentences) >= 8 and rng.random() < 0.3:
        del sentences[rng.randrange(len(sentences))]
        text = " ".join(sentences)
    return text + "\n" + rng.choice(_BOILERPLATE) if rng.random() < 0.5 else text


def corpus(n: int, *, dup_rate: float, seed: int) -> tuple[list[Document], list[tuple[str, str]]]:
    """``n`` documents and the (original id, copy id) pairs injected among them."""
    rng = random.Random(seed)
    pool = reuters_bodies()
    docs: list[Document] = []
    pairs: list[tuple[str, str]] = []
    base = 0
    for k in range(n):
        if docs and rng.random() < dup_rate:
            src = docs[rng.randrange(max(0, len(docs) - 5000), len(docs))]
            text = edit(src.text, rng)
            pairs.append((src.id, f"d{k:07d}"))
        elif base < len(pool):
            text, base = pool[base], base + 1
        else:
            parts = []
            for _ in range(3):
                sentences = _SENTENCE.split(rng.choice(pool))
                start = rng.randrange(max(1, len(sentences) - 3))
                parts += sentences[start : start + rng.randint(2, 5)]
            text = " ".join(parts)
        docs.append(Document(text, id=f"d{k:07d}", title=f"Article {k}", source="bench"))
    return docs, pairs


def scale(index: Index, target: int, *, seed: int) -> float:
    """Grow the index to ``target`` documents by copying stored records under new ids.

    The copies get random band and text keys, so they never become candidates: this measures
    how lookups and verification scale with the size of the file, not the add path. Returns
    the seconds it took.
    """
    db, rng = index._db, np.random.default_rng(seed)
    rows = db.execute("SELECT id, record, shingles FROM docs ORDER BY n").fetchall()
    start, copy = time.perf_counter(), 0
    while len(index) < target:
        copy += 1
        for i in range(0, len(rows), 5000):
            chunk = rows[i : min(i + 5000, i + target - len(index))]
            if not chunk:
                break
            keys = rng.integers(-(2**63), 2**63 - 1, size=(len(chunk), index.bands + 1))
            with Transaction(index._db):
                bands = []
                for (key, record, shingles), k in zip(chunk, keys.tolist(), strict=True):
                    cur = db.execute(
                        "INSERT INTO docs (id, text_key, record, shingles) VALUES (?, ?, ?, ?)",
                        (key + b"#%d" % copy, k[0], record, shingles),
                    )
                    bands += [(b, cur.lastrowid) for b in k[1:]]
                bands.sort()
                db.executemany("INSERT INTO bands VALUES (?, ?)", bands)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - start


def lookup_and_verify(index: Index, queries: list[str]) -> list[float]:
    """Milliseconds of the index's own part of each query: band lookup and verification."""
    out = []
    for text in queries:
        features = index._featurizer([(text, "")])[0]
        t = time.perf_counter()
        verified(index._db, features, top=10)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def timed(index: Index, queries: list[str], *, detail: bool = True) -> list[float]:
    """Milliseconds of each query."""
    out = []
    for text in queries:
        t = time.perf_counter()
        index.query(text, detail=detail)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished workers so far."""
    usage = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usage)


def time_dedup(data: Path, workers: int) -> tuple[float, float]:
    """Seconds (wall, CPU) ``samestory.dedup`` takes over the JSONL file with ``workers``
    processes."""
    import samestory

    with tempfile.TemporaryDirectory() as out:
        start, cpu = time.perf_counter(), cpu_seconds()
        samestory.dedup([data], out=out, jobs=workers)
        return time.perf_counter() - start, cpu_seconds() - cpu


def time_add(data: Path, db: Path, workers: int) -> tuple[float, float]:
    """Seconds (wall, CPU) ``Index.add`` takes to read the JSONL file into a new index."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with Index(db) as index:
        start, cpu = time.perf_counter(), cpu_seconds()
        if hasattr(index, "add_files"):  # as 'samestory index add' does
            index.add_files([data], workers=workers)
        else:  # samestory before add_files: the documents are read in this process
            index.add(read_documents([data]), workers=workers)
        return time.perf_counter() - start, cpu_seconds() - cpu


def recall_at(buckets: dict[str, list[int]], low: float) -> dict[str, float | int]:
    """Recall over the known pairs whose Jaccard is at least ``low``."""
    found = [x for k, v in buckets.items() if float(k[2:]) >= low for x in v]
    return {"pairs": len(found), "recall": round(sum(found) / max(1, len(found)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--dup-rate", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2, help="processes of both dedup and add")
    ap.add_argument("--rounds", type=int, default=1, help="dedup/add rounds (medians)")
    ap.add_argument("--one-process", action="store_true", help="also time add with no workers")
    ap.add_argument("--recall-pairs", type=int, default=0, help="query at most this many pairs")
    ap.add_argument("--scale-to", type=int, default=0, help="then grow to this many (copies)")
    ap.add_argument("--db", type=Path, help="keep the index here (default: a temporary file)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    load_start = round(os.getloadavg()[0], 2)
    docs, pairs = corpus(args.docs, dup_rate=args.dup_rate, seed=args.seed)
    by_id = {d.id: d for d in docs}
    tmp = tempfile.TemporaryDirectory()
    data = Path(tmp.name) / "corpus.jsonl"
    with data.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(record_fields(d), ensure_ascii=False) + "\n" for d in docs)
    db = args.db or Path(tmp.name) / "bench.db"
    with tempfile.TemporaryDirectory() as warm:  # compile/load the kernels once for both
        import samestory

        samestory.dedup([Document("warm up the kernels, twice over.")], out=warm, jobs=1)

    dedup_s, add_s, dedup_cpu, add_cpu = [], [], [], []
    for _ in range(args.rounds):
        for runs, cpus, (wall, cpu) in (
            (dedup_s, dedup_cpu, time_dedup(data, args.workers)),
            (add_s, add_cpu, time_add(data, db, args.workers)),
        ):
            runs.append(wall)
            cpus.append(cpu)
        print(
            f"dedup {dedup_s[-1]:.1f} s ({dedup_cpu[-1]:.1f} CPU-s), "
            f"add {add_s[-1]:.1f} s ({add_cpu[-1]:.1f} CPU-s)",
            file=sys.stderr,
        )
    # the same records without their "lang" field, as most inputs come: the add then detects
    # each document's language (dedup never does: nothing in its output depends on it)
    bare = Path(tmp.name) / "corpus-without-lang.jsonl"
    with bare.open("w", encoding="utf-8") as f:
        for d in docs:
            fields = {k: v for k, v in record_fields(d).items() if k != "lang"}
            f.write(json.dumps(fields, ensure_ascii=False) + "\n")
    bare_wall, bare_cpu = time_add(bare, Path(tmp.name) / "bare.db", args.workers)
    print(f"add without lang {bare_wall:.1f} s ({bare_cpu:.1f} CPU-s)", file=sys.stderr)
    one = None
    if args.one_process:
        one_db = Path(tmp.name) / "one.db"
        one = time_add(data, one_db, 1)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{one_db}{suffix}").unlink(missing_ok=True)

    with Index(db) as index:
        stats = index.stats()
        print(f"added {stats['documents']:,} docs", file=sys.stderr)

        rng = random.Random(args.seed + 1)
        queries = [edit(docs[rng.randrange(len(docs))].text, rng) for _ in range(args.queries)]
        index.query(queries[0])  # warm the caches once
        latency = timed(index, queries)
        fast = timed(index, queries, detail=False)
        index_only = lookup_and_verify(index, queries)

        buckets: dict[str, list[int]] = {}
        checked = pairs[: args.recall_pairs] if args.recall_pairs else pairs
        for a, b in checked:
            sa = shingle_hashes(clean(by_id[a].text).text)
            sb = shingle_hashes(clean(by_id[b].text).text)
            j = jaccard(sa, sb)
            name = next(f">={lo}" for lo in (0.9, 0.8, 0.7, 0.5, 0.0) if j >= lo)
            found = a in {m.id for m in index.query(by_id[b], top=10)}
            buckets.setdefault(name, []).append(int(found))

        scaled = None
        if args.scale_to > len(index):
            seconds = scale(index, args.scale_to, seed=args.seed)
            big = index.stats()
            latency_big = timed(index, queries)
            own_big = lookup_and_verify(index, queries)
            scaled = {
                "what": "the same index grown by copies of its records under new ids with "
                "random band keys (not candidates): lookup and verification at this size",
                "documents": big["documents"],
                "grow_seconds": round(seconds, 1),
                "bytes_per_document": round(big["bytes"] / big["documents"], 1),
                "near_duplicate_query_ms": {
                    "p50": round(percentile(latency_big, 50), 3),
                    "p99": round(percentile(latency_big, 99), 3),
                },
                "near_duplicate_lookup_and_verify_ms": {
                    "p50": round(percentile(own_big, 50), 3),
                    "p99": round(percentile(own_big, 99), 3),
                },
            }

    tables = stats.get("table_bytes", {})
    add_median, dedup_median = statistics.median(add_s), statistics.median(dedup_s)
    threshold = stats["settings"]["minhash"]["threshold"]
    result = {
        "corpus": {
            "documents": len(docs),
            "stored": stats["documents"],
            "known_duplicate_pairs": len(pairs),
            "median_words": statistics.median(len(d.text.split()) for d in docs),
            "source": "Reuters-21578 bodies + sentence-run articles + light edits (bench/index.py)",
            "seed": args.seed,
        },
        "settings": stats["settings"],
        "add": {
            "what": "Index.add_files([corpus.jsonl], workers=W) into a new file, as 'samestory "
            "index add --workers W': read, parse, clean, shingle, MinHash, pack, store, assign "
            "stories, commit",
            "workers": args.workers,
            "rounds": args.rounds,
            "seconds": [round(x, 2) for x in add_s],
            "cpu_seconds": [round(x, 2) for x in add_cpu],
            "docs_per_s": round(len(docs) / add_median, 1),
            "one_process_docs_per_s": None if one is None else round(len(docs) / one[0], 1),
            "batch_size": "default (10,000, or a sixteenth of those stored up to 40,000)",
        },
        "add_input_without_lang": {
            "what": "the same add of the same records without their lang field: each "
            "document's language is detected (dedup does not detect languages)",
            "seconds": round(bare_wall, 2),
            "cpu_seconds": round(bare_cpu, 2),
            "docs_per_s": round(len(docs) / bare_wall, 1),
            "add_over_dedup": round(statistics.median(dedup_s) / bare_wall, 3),
        },
        "anchor_dedup": {
            "what": "samestory.dedup(corpus.jsonl, jobs=W) in the same run, same file",
            "seconds": [round(x, 2) for x in dedup_s],
            "cpu_seconds": [round(x, 2) for x in dedup_cpu],
            "docs_per_s": round(len(docs) / dedup_median, 1),
            "add_over_dedup": round(dedup_median / add_median, 3),
            # on a busy machine wall time follows CPU time; this ratio is what a quiet one
            # with the work spread over both cores would show at best
            "add_over_dedup_cpu": round(
                statistics.median(dedup_cpu) / statistics.median(add_cpu), 3
            ),
            "target": "add_over_dedup >= 0.5",
        },
        "size": {
            "bytes_per_document": round(stats["bytes"] / stats["documents"], 1),
            "file_bytes": stats["file_bytes"],
            "table_bytes_per_document": {
                k: round(v / stats["documents"], 1) for k, v in sorted(tables.items())
            },
        },
        "near_duplicate_query_ms": {
            "queries": len(latency),
            "p50": round(percentile(latency, 50), 3),
            "p99": round(percentile(latency, 99), 3),
            "mean": round(statistics.fmean(latency), 3),
        },
        "near_duplicate_query_fast_ms": {
            "what": "query(detail=False), the JSON API's default: the same verdicts, each with "
            "the scores it was decided on (no full compare of every match)",
            "p50": round(percentile(fast, 50), 3),
            "p99": round(percentile(fast, 99), 3),
            "mean": round(statistics.fmean(fast), 3),
        },
        "near_duplicate_lookup_and_verify_ms": {
            "what": "the index's own part: band lookup + fingerprint verification of the "
            "candidates (no clean/shingle/MinHash of the query, no relate)",
            "p50": round(percentile(index_only, 50), 3),
            "p99": round(percentile(index_only, 99), 3),
        },
        "recall_of_known_duplicates": {
            "what": "share of known (original, edited copy) pairs whose original is among the "
            "matches of a query with the copy; the index claims pairs at Jaccard >= its "
            "threshold, so at_threshold is the figure to hold it to",
            "all": round(sum(sum(v) for v in buckets.values()) / max(1, len(checked)), 4),
            "at_threshold": {"jaccard_at_least": threshold, **recall_at(buckets, threshold)},
            "by_jaccard": {
                k: {"pairs": len(v), "recall": round(sum(v) / len(v), 4)}
                for k, v in sorted(buckets.items(), reverse=True)
            },
        },
        "scaled": scaled,
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "load_average_start_end": [load_start, round(os.getloadavg()[0], 2)],
            "note": "shared with other jobs: p99 includes preemption; compare medians",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    tmp.cleanup()


if __name__ == "__main__":
    main()
