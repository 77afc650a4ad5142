"""Story clustering end to end on 100k news documents: read, features, cluster, write.

The corpus: the dedup bench's Reuters corpus (``bench/make_corpus.py``, built when absent)
made into ~400-word news: each document is its own text followed by other documents' until
400 words, cut at 450, with an ISO publication date (Reuters' own, Feb-Oct 1987) and a source. It is
written to ``bench/data/stories-N.jsonl`` and read back with :func:`samestory.ingest.read_documents`
as ``samestory stories`` does; then :func:`samestory.stories.story_items` (features),
:func:`samestory.stories.group_stories` (clustering + labels) and ``write_stories``, each
timed in wall and CPU seconds (all threads of this process). The static word-piece table is
built before timing (it is built once per machine and kept in ``~/.cache/samestory``; its
build time is printed when it had to be built).

``--accurate-sample N`` also times the accurate features (MiniLM + spaCy) on N documents, for
CPU-seconds a document of both. ``--sizes`` runs the older synthetic clustering-only check
(planted stories, B-cubed F1 printed).

Usage:
    nice python bench/stories.py [--docs 100000] [--features fast] [--accurate-sample 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from samestory.evaluate_stories import b_cubed, labels_of
from samestory.story_cluster import FAST_CONFIG, StoryConfig, StoryItem, cluster

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results" / "stories.json"


def news_corpus(n: int) -> Path:
    """``bench/data/stories-N.jsonl``: ~400-word documents with ISO dates (built once)."""
    path = DATA / f"stories-{n}.jsonl"
    if path.is_file():
        return path
    base = DATA / "corpus.jsonl"
    if not base.is_file() or sum(1 for _ in base.open(encoding="utf-8")) < n:
        make = [sys.executable, str(HERE / "make_corpus.py"), "--docs", str(n), "--out", str(DATA)]
        subprocess.run(make, check=True)
    rows = [json.loads(line) for line in base.open(encoding="utf-8")][:n]
    dated = [r["date"] for r in rows if r["date"]]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for k, row in enumerate(rows):
            words = row["text"].split(" ")
            step = 0
            while len(words) < 400:  # add other reports until ~400 words (cut at 450)
                step += 7919
                words += ["\n\n", *rows[(k + step) % n]["text"].split(" ")]
            words = words[:450]
            # news has dates: the corpus's made-up articles take a Reuters one (same spread)
            stamp = row["date"] or dated[k % len(dated)]
            try:  # the date only: some Reuters times are malformed
                published = datetime.strptime(stamp.split()[0], "%d-%b-%Y").date()
            except (IndexError, ValueError):
                published = None
            record = {
                "id": row["id"],
                "text": " ".join(words),
                "date": published.isoformat() if published else "",  # the field ingest reads
                "source": row["source"],
            }
            fh.write(json.dumps(record) + "\n")
    tmp.replace(path)
    return path


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {"wall_s": round(wall - start[0], 2), "cpu_s": round(cpu - start[1], 2)}


def end_to_end(n: int, *, features: str) -> dict[str, object]:
    from samestory.ingest import read_documents
    from samestory.stories import group_stories, story_items, write_stories

    path = news_corpus(n)
    if features == "fast":  # the once-per-machine table build is not part of a run
        from samestory.static_embed import StaticEmbedder

        start = _clock()
        StaticEmbedder().embed(["warm up"])
        print("static table ready", _since(start), flush=True)
    load = os.getloadavg()[0]
    phases: dict[str, dict[str, float]] = {}
    begin = start = _clock()
    documents = list(read_documents([path]))
    phases["read"] = _since(start)
    start = _clock()
    items, names = story_items(documents, features=features)
    phases["features"] = _since(start)
    start = _clock()
    config = FAST_CONFIG if features == "fast" else StoryConfig()
    stories = group_stories(documents, items, names, config=config)
    phases["cluster"] = _since(start)
    start = _clock()
    write_stories(stories, DATA / f"stories-out-{n}")
    phases["write"] = _since(start)
    total = _since(begin)
    cpu_per_doc = total["cpu_s"] / n
    return {
        "documents": n,
        "features": features,
        "mean_words": round(float(np.mean([len(d.text.split()) for d in documents])), 1),
        "stories": len(stories),
        "multi_document_stories": sum(len(s.members) > 1 for s in stories),
        "phases": phases,
        "total": total,
        "docs_per_s": round(n / total["wall_s"], 1),
        "minutes": round(total["wall_s"] / 60, 2),
        "cpu_ms_per_doc": round(1000 * cpu_per_doc, 2),
        "quiet_2core_minutes_100k": round(cpu_per_doc * 100_000 / 2 / 60, 2),
        "load_before": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def accurate_sample(n: int) -> dict[str, float]:
    """CPU ms a document of the accurate features (MiniLM + spaCy) on ``n`` documents."""
    from samestory.ingest import read_documents
    from samestory.stories import story_items

    documents = list(read_documents([news_corpus(100_000)]))[:n]
    story_items(documents[:8], features="accurate")  # load the models
    start = _clock()
    story_items(documents, features="accurate")
    took = _since(start)
    return {"documents": n, **took, "cpu_ms_per_doc": round(1000 * took["cpu_s"] / n, 1)}


def synthetic(n: int, *, days: int, seed: int = 0) -> tuple[list[StoryItem], list[int]]:
    """``n`` synthetic documents in planted stories; returns items and gold labels."""
    rng = np.random.default_rng(seed)
    items: list[StoryItem] = []
    gold: list[int] = []
    story = 0
    start = date(2024, 1, 1)
    while len(items) < n:
        size = int(rng.integers(5, 31))
        centre = rng.normal(size=384)
        names = [f"name{story}_{k}" for k in range(4)]
        words = [f"w{story}_{k}" for k in range(12)]
        day = int(rng.integers(0, days))
        for _ in range(min(size, n - len(items))):
            v = centre + 0.9 * rng.normal(size=384)
            keys = frozenset(rng.choice(names, size=3, replace=False).tolist())
            chosen = rng.choice(words, size=8, replace=False).tolist()
            terms = {t: 1 / np.sqrt(8) for t in chosen}
            items.append(
                StoryItem(
                    f"d{len(items)}",
                    (v / np.linalg.norm(v)).astype(np.float32),
                    keys=keys,
                    terms=terms,
                    published=start + timedelta(days=day + int(rng.integers(0, 3))),
                )
            )
            gold.append(story)
        story += 1
    return items, gold


def bench_cluster(n: int, *, days: int) -> dict[str, float]:
    items, gold = synthetic(n, days=days)
    t = time.perf_counter()
    groups = cluster(items, config=StoryConfig())
    seconds = time.perf_counter() - t
    return {
        "documents": n,
        "seconds": round(seconds, 2),
        "docs_per_s": round(n / seconds, 1),
        "stories": len(groups),
        "gold_stories": len(set(gold)),
        "b3_f1": round(b_cubed(gold, labels_of(groups, n))[2], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--features", choices=("fast", "accurate"), default="fast")
    parser.add_argument("--accurate-sample", type=int, default=0, metavar="N")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="synthetic check")
    parser.add_argument("--days", type=int, default=365, help="synthetic dates spread")
    args = parser.parse_args()
    out: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "run": "nice python bench/stories.py " + " ".join(sys.argv[1:]),
    }
    out["end_to_end"] = row = end_to_end(args.docs, features=args.features)
    print("end to end", json.dumps(row), flush=True)
    print(
        f"{row['docs_per_s']} docs/s, {row['minutes']} min for {args.docs} documents "
        f"(load {row['load_before']}->{row['load_after']}); {row['cpu_ms_per_doc']} CPU-ms/doc "
        f"-> {row['quiet_2core_minutes_100k']} min per 100k on 2 quiet cores"
    )
    if args.accurate_sample:
        out["accurate_sample"] = acc = accurate_sample(args.accurate_sample)
        print("accurate features", acc, flush=True)
    if args.sizes:
        out["synthetic_cluster"] = [bench_cluster(n, days=args.days) for n in args.sizes]
        print("synthetic", out["synthetic_cluster"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
