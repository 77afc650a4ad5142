"""Serve benchmark: bounded query load on `samestory serve` from a second process, on loopback.

Builds an index of Reuters-21578 articles (../shared/data) plus the bench's own near-copies,
starts the real server on a free 127.0.0.1 port, and sends QUERIES POST /api/query requests
from CLIENTS concurrent connections in another process. Prints throughput and latency
percentiles and writes bench/results/serve.json.

    python bench/serve.py [--docs 100000] [--queries 2000] [--clients 8] [--workers 1]
        [--detail] [--db /tmp/serve-100k.db]

With ``--db`` the index is built there once and reused by later runs with the same --docs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "reuters21578" / "reuters21578.jsonl"
RESULTS = ROOT / "bench" / "results" / "serve.json"


def corpus(n: int, seed: int = 7) -> list[dict[str, str]]:
    """Reuters bodies, then edited copies of them (a word dropped per sentence) up to n."""
    if not DATA.exists():
        sys.exit(f"bench/serve.py: {DATA} not found (the shared data folder is needed)")
    base = []
    with DATA.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if len((rec.get("body") or "").split()) >= 40:
                base.append(
                    {"id": f"r{rec['newid']}", "title": rec.get("title") or "", "text": rec["body"]}
                )
    rng = random.Random(seed)
    docs = list(base[:n])
    k = 0
    while len(docs) < n:
        src = base[k % len(base)]
        words = src["text"].split()
        drop = {rng.randrange(len(words)) for _ in range(max(1, len(words) // 30))}
        text = " ".join(w for i, w in enumerate(words) if i not in drop) + f" (copy {k})"
        docs.append({"id": f"c{k}", "title": src["title"], "text": text})
        k += 1
    return docs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (Linux /proc)."""
    pids, total = [pid], 0.0
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(c) for c in task.read_text().split()]
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load(base: str, texts: list[str], clients: int, detail: bool) -> dict[str, float]:
    """Runs in the client process: every text once, `clients` at a time."""
    import httpx

    latencies: list[float] = []
    errors = 0

    def one(text: str, client: httpx.Client) -> None:
        nonlocal errors
        t = time.perf_counter()
        body = {"text": text, "top": 5, "detail": detail}
        r = client.post(base + "/api/query", json=body, timeout=60)
        latencies.append((time.perf_counter() - t) * 1000)
        errors += r.status_code != 200

    with httpx.Client(limits=httpx.Limits(max_connections=clients)) as client:
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda t: one(t, client), texts))
        wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {
        "queries": len(texts),
        "clients": clients,
        "errors": errors,
        "queries_per_s": round(len(texts) / wall, 1),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
        "mean_ms": round(statistics.mean(latencies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--detail", action="store_true", help="ask for every compare score")
    parser.add_argument("--db", type=Path, help="build the index here once and reuse it")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: run as the load process
    args = parser.parse_args()
    if args.client:
        job = json.loads(Path(args.client).read_text())
        print(json.dumps(load(job["base"], job["texts"], job["clients"], job["detail"])))
        return

    from samestory import Document, Index

    docs = corpus(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "serve.db"
        built = Path(f"{db}.built")  # the --docs a cached index holds, written once complete
        build_s = None
        if not (db.exists() and built.exists() and built.read_text() == str(args.docs)):
            for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                stale.unlink(missing_ok=True)
            start = time.perf_counter()
            with Index(db) as index:
                index.add(Document(d["text"], id=d["id"], title=d["title"]) for d in docs)
            build_s = round(time.perf_counter() - start, 1)
            built.write_text(str(args.docs))
        with Index(db, create=False) as index:
            stored = len(index)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "samestory.cli", "serve", "--db", str(db), "--port", str(port)]
            + ["--workers", str(args.workers)] * (args.workers > 1),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            import httpx

            for _ in range(150):
                try:
                    httpx.get(base + "/api/stats", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            for doc in docs[:5]:  # warm the server: numba kernels, word lists, models
                httpx.post(base + "/api/query", json={"text": doc["text"], "top": 5}, timeout=120)
            rng = random.Random(11)
            texts = [rng.choice(docs)["text"] for _ in range(args.queries)]
            job = Path(tmp) / "job.json"
            job.write_text(
                json.dumps(
                    {"base": base, "texts": texts, "clients": args.clients, "detail": args.detail}
                )
            )
            cpu = _cpu_seconds(server.pid)
            out = subprocess.run(
                [sys.executable, __file__, "--client", str(job)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            )
            result = json.loads(out.stdout)
            cpu = _cpu_seconds(server.pid) - cpu
            result["server_cpu_ms_per_query"] = round(cpu * 1000 / args.queries, 2)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result |= {
        "documents": len(docs),
        "stored": stored,
        "index_build_s": build_s,
        "server_workers": args.workers,
        "what": "POST /api/query, near-duplicate queries (stored texts), top 5, compare verdicts"
        + (" with every score (detail)" if args.detail else " with the scores they need"),
        "target_p99_ms": 100,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key:20s} {value}")


if __name__ == "__main__":
    main()
