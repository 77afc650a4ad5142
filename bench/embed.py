"""Embedding throughput on CPU: documents per second for ~400-word news articles.

Run: ``nice .venv/bin/python bench/embed.py [--docs 64] [--repeats 3]``; writes
bench/results/embed.json with the median of the repeats for each model that is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

from samestory import embed

# Sentences written for this benchmark; documents are shuffled draws of them (~400 words).
SENTENCES = [
    "The regional government announced on Monday a plan to rebuild three bridges damaged by "
    "last winter's floods.",
    "Officials said construction would begin in the spring and take about two years.",
    "The cost of the work is estimated at 140 million euros, most of it from national funds.",
    "Residents of the valley have complained for months about long detours to reach schools "
    "and hospitals.",
    "A spokesperson for the transport ministry said temporary crossings would stay open "
    "until the new bridges are finished.",
    "Opposition politicians criticised the delay and asked why repairs had not started sooner.",
    "Engineers found that two of the old structures could not be repaired safely.",
    "The third bridge will be widened to carry a cycle lane and a footpath.",
    "Local businesses say the closures have cut their sales by a fifth since January.",
    "The mayor welcomed the decision but warned that the timetable was ambitious.",
    "Heavy rain is again forecast for the region later this week.",
    "Meanwhile, the national football league confirmed the dates of the new season.",
    "Ticket prices will rise slightly, the league said in a statement.",
    "Scientists at the university published a study on river levels over the past century.",
    "They found that severe floods have become twice as frequent since the 1970s.",
    "The report recommends more space for rivers to spread out during storms.",
]


def make_docs(n: int, words: int = 400, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        out: list[str] = []
        while sum(len(s.split()) for s in out) < words:
            out.append(rng.choice(SENTENCES))
        docs.append(" ".join(out))
    return docs


def bench_model(model: str, docs: list[str], repeats: int) -> dict:
    emb = embed.Embedder(model=model, threads=2)
    emb.embed(docs[:4])  # load and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        emb.embed(docs)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "docs": len(docs),
        "seconds_median": round(median, 3),
        "docs_per_s": round(len(docs) / median, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "embed.json"
    )
    args = parser.parse_args()
    docs = make_docs(args.docs)
    result: dict = {
        "what": "embed ~400-word news documents (cut to the first 200 words), 2 threads",
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "models": {},
        "load_average_1min_before": round(os.getloadavg()[0], 2),
    }
    for model in embed.MODELS:
        if embed.available(model):
            result["models"][model] = bench_model(model, docs, args.repeats)
            print(model, result["models"][model])
        else:
            print(model, "not installed; skipped")
    result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
