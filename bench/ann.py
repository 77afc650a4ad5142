"""Same-story query benchmark: an index with embeddings over Reuters-21578 bodies plus the
built-in samples; add throughput with embeddings, vector search latency (exact and usearch),
the query's embedding, the whole query (candidates related with ``compare``), and rebuild.

    python bench/ann.py [--docs 2000] [--out bench/results/ann.json]

Needs the embed extra and ../shared/data/reuters21578/reuters21578.jsonl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from samestory import Document, Index, samples

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "reuters21578"


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "ann.json"))
    args = parser.parse_args()
    source = DATA / "reuters21578.jsonl"
    if not source.exists():
        print(f"skipped: {source} not found", file=sys.stderr)
        return 0
    docs: list[Document] = []
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            rec = json.loads(line)
            body = rec.get("body") or ""
            if len(body) > 200:
                docs.append(Document(body, id=f"r{rec['newid']}", title=rec.get("title") or ""))
            if len(docs) >= args.docs:
                break
    query = samples.load()[0]
    docs += samples.load()[1:]
    out: dict[str, object] = {"documents": len(docs)}
    with tempfile.TemporaryDirectory() as tmp, Index(Path(tmp) / "b.db", embed=True) as ix:
        start = time.perf_counter()
        ix.add(docs, batch_size=500)
        out["add_docs_per_s"] = round(len(docs) / (time.perf_counter() - start), 1)
        vectors = ix._vectors
        assert vectors is not None
        vec = vectors.embed([query])[0]
        out["search_exact_ms"] = _median_ms(lambda: vectors.search(vec, k=10, floor=0.5), 50)
        vectors.exact_below = 0
        vectors.search(vec, k=10, floor=0.5)  # builds or loads the file
        out["search_ann_ms"] = _median_ms(lambda: vectors.search(vec, k=10, floor=0.5), 50)
        out["embed_query_ms"] = _median_ms(lambda: vectors.embed([query]), 5)
        out["query_ms"] = _median_ms(lambda: ix.query(query, top=10), 3)
        out["matches"] = [(m.id, m.verdict) for m in ix.query(query, top=10)]
        start = time.perf_counter()
        ix.rebuild()
        out["rebuild_s"] = round(time.perf_counter() - start, 1)
        out["stories"] = ix.stats()["stories"]
    print(json.dumps(out, indent=2))
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
