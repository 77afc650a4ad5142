"""Spark engine benchmark: the local engine vs Spark ``local[N]`` on the same corpus.

Both engines run ``samestory.dedup`` end to end (read, clean, shingle, MinHash, band, verify,
cluster, write every output) with the same settings on the dedup benchmark corpus
(bench/make_corpus.py: Reuters-21578 plus injected near-duplicates; built if missing), each in
its own child process so neither warms the other. Reported: docs/s of both, each engine's
per-stage timings, how the Spark job's time splits over its stages (session start included),
whether both wrote identical pairs, clusters and kept documents, and the number of rounds the
connected components needed. Writes bench/results/spark.json.

Usage:
    python bench/spark.py                    # 100k documents, 2 cores
    python bench/spark.py --docs 20000       # a smaller corpus on a busy machine
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from samestory.pipeline import dedup
engine, corpus, out, cores = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
options = dict(out=out, on_skip=lambda s: None)
if engine == "spark":
    from samestory.engines.spark import session
    t1 = time.perf_counter()
    session(f"local[{cores}]")
    start = time.perf_counter() - t1
    options.update(engine="spark")
else:
    start = 0.0
    options.update(jobs=cores)
t1 = time.perf_counter()
result = dedup([corpus], **options)
wall = time.perf_counter() - t1
print(json.dumps({"wall_s": wall, "session_s": start, "import_s": t1 - t0 - start,
                  "summary": result.summary}))
"""


def _corpus(docs: int) -> Path:
    folder = HERE / "data" / f"spark-{docs}"
    corpus = folder / "corpus.jsonl"
    if not corpus.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_corpus.py"), "--docs", str(docs), "--out", folder],
            check=True,
        )
    return corpus


def _run(engine: str, corpus: Path, out: Path, cores: int) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.run(
        ["nice", sys.executable, "-c", _CHILD, engine, str(corpus), str(out), str(cores)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode:
        sys.exit(f"{engine} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "spark.json")
    args = ap.parse_args()
    corpus = _corpus(args.docs)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="samestory-bench-") as tmp:
        for engine in ("local", "spark"):
            print(f"{engine} ...", file=sys.stderr, flush=True)
            runs[engine] = _run(engine, corpus, Path(tmp) / engine, args.cores)
        same = {
            name: filecmp.cmp(Path(tmp) / "local" / name, Path(tmp) / "spark" / name, False)
            for name in ("pairs.jsonl", "clusters.jsonl", "kept.jsonl")
        }
    docs = runs["local"]["summary"]["counts"]["records"]
    spark_t = runs["spark"]["summary"]["timings"]
    stages = {k: v for k, v in spark_t.items() if k != "total_s"}
    # listing the inputs, counting lines per split, collecting skips: the rest of total_s
    stages["read_setup_s"] = round(spark_t["total_s"] - sum(stages.values()), 3)
    stages["session_start_s"] = round(runs["spark"]["session_s"], 3)
    total = sum(stages.values())
    result = {
        "what": "samestory.dedup end to end: local engine vs Spark engine in local mode",
        "docs": docs,
        "cores": args.cores,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other work)",
        "date": time.strftime("%Y-%m-%d"),
        "identical_outputs": same,
        "counts": runs["spark"]["summary"]["counts"],
        "local": {
            "docs_per_s": round(docs / runs["local"]["wall_s"], 1),
            "wall_s": round(runs["local"]["wall_s"], 2),
            "timings": runs["local"]["summary"]["timings"],
        },
        "spark": {
            "master": f"local[{args.cores}]",
            "docs_per_s": round(docs / (runs["spark"]["wall_s"] + runs["spark"]["session_s"]), 1),
            "docs_per_s_without_session_start": round(docs / runs["spark"]["wall_s"], 1),
            "wall_s": round(runs["spark"]["wall_s"], 2),
            "timings": spark_t,
            "share_of_time": {k: round(v / total, 3) for k, v in stages.items()},
        },
    }
    result["spark_vs_local"] = round(
        result["spark"]["docs_per_s"] / result["local"]["docs_per_s"], 3
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
