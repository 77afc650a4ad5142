"""Where ``Index.add`` spends its time, stage by stage, on the index benchmark's corpus.

Each stage runs alone over the same documents in batches of 1,000 (as ``add`` does):
read/parse (a JSONL file through ``read_documents``), clean, shingle, MinHash, band keys, the
per-document features (fingerprint, text key), the record codec, and then the store itself:
a real ``Index.add`` (one process) whose SQLite work is split into inserts of documents, of
band rows, the story assignment (the near-duplicate check of each new document) and commits.
All figures are CPU seconds of this process (``time.process_time``), so a busy machine
inflates them less than wall-clock time.

    python bench/index_profile.py [--docs 100000]

Prints one JSON object (seconds and microseconds per document per stage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from index import corpus

from samestory import Index
from samestory.clean import clean_text
from samestory.indexing import record_fields
from samestory.ingest import read_documents
from samestory.lsh import band_keys
from samestory.minhash import signatures_csr
from samestory.shingle import shingle_batch


class Clock:
    """Seconds per named stage."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, fn):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.process_time() - t

        return timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    docs, _ = corpus(args.docs, dup_rate=0.1, seed=7)
    holder = tempfile.TemporaryDirectory()
    tmp = Path(holder.name)
    data = tmp / "corpus.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(record_fields(d)) + "\n")
    out: dict[str, float] = {}

    t = time.process_time()
    read = list(read_documents([data]))
    out["read_parse"] = time.process_time() - t

    db = tmp / "p.db"
    with Index(db) as index:
        feat = index._featurizer
        codec = index._codec
        cc, mh = feat.clean_config, feat.config
        feat([("warm up the compiled kernels once, before any clock runs", "")])
        batches = [read[i : i + args.batch] for i in range(0, len(read), args.batch)]
        for name in ("clean", "shingle", "minhash", "band_keys", "per_doc", "codec_pack"):
            out[name] = 0.0
        for batch in batches:
            t0 = time.process_time()
            cleaned = [
                clean_text(d.text, config=cc, lang=d.lang or "en", collapse=False) for d in batch
            ]
            t1 = time.process_time()
            values, offsets = shingle_batch(cleaned, mh.ngram)
            t2 = time.process_time()
            sigs = signatures_csr(values, offsets, mh)
            t3 = time.process_time()
            band_keys(sigs, feat.bands, feat.rows)
            t4 = time.process_time()
            feat([(d.text, d.lang) for d in batch])  # the whole featurizer, less the above
            t5 = time.process_time()
            for d in batch:
                codec.pack(d)
            t6 = time.process_time()
            out["clean"] += t1 - t0
            out["shingle"] += t2 - t1
            out["minhash"] += t3 - t2
            out["band_keys"] += t4 - t3
            out["per_doc"] += (t5 - t4) - (t4 - t0)
            out["codec_pack"] += t6 - t5

        clock = Clock()
        db_conn = index._db

        class Spy:
            """The connection, with its statements timed by kind."""

            def __getattr__(self, name):  # type: ignore[no-untyped-def]
                return getattr(db_conn, name)

            def execute(self, sql, *a):  # type: ignore[no-untyped-def]
                kind = (
                    "sql_commit"
                    if sql in ("COMMIT", "BEGIN IMMEDIATE")
                    else "sql_lookup_bands"
                    if "FROM bands" in sql
                    else "sql_lookup_docs"
                )
                return clock.wrap(kind, db_conn.execute)(sql, *a)

            def executemany(self, sql, *a):  # type: ignore[no-untyped-def]
                kind = (
                    "sql_insert_bands"
                    if "INTO bands" in sql
                    else "sql_insert_docs"
                    if "INTO docs" in sql
                    else "sql_stories_write"
                )
                return clock.wrap(kind, db_conn.executemany)(sql, *a)

        index._db = Spy()  # type: ignore[assignment]
        index._featurizer = clock.wrap("featurize", feat)  # type: ignore[assignment]
        index._codec = type("C", (), {"pack": staticmethod(clock.wrap("codec_pack", codec.pack))})
        index._stories.db = index._db
        index._stories.assign = clock.wrap("stories_assign_total", index._stories.assign)
        t = time.process_time()
        index.add(read, batch_size=args.batch, workers=args.workers)
        total = time.process_time() - t
        index._db = db_conn
    n = len(read)
    result = {
        "documents": n,
        "load": os.getloadavg()[0],
        "stages_alone_s": {k: round(v, 2) for k, v in out.items()},
        "stages_alone_us_per_doc": {k: round(v / n * 1e6, 1) for k, v in out.items()},
        "add_total_s": round(total, 2),
        "add_docs_per_s": round(n / total, 1),
        "add_split_s": {k: round(v, 2) for k, v in sorted(clock.spent.items())},
        "note": "CPU seconds of this process (workers=1: everything); stories_assign_total "
        "includes its sql_lookup_bands/sql_lookup_docs/sql_stories_write",
        "numpy": np.__version__,
    }
    print(json.dumps(result, indent=2))
    holder.cleanup()


if __name__ == "__main__":
    main()
