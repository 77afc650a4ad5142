"""Story clustering throughput, and an honest end-to-end estimate for 100k documents.

Two parts, timed separately because they scale differently:

- clustering (``samestory.story_cluster.cluster``) on synthetic documents: 384-d unit vectors
  around story centres (5-30 reports each, a publication date spread over ``--days``), names
  and tf-idf terms drawn per story; run at ``--sizes`` (default 10k, 30k, 100k). Exact numpy
  neighbour search below ``exact_below`` (5k) and usearch above, as in production. Quality
  against the planted stories (B-cubed F1) is printed so a fast-but-wrong run shows.
- features on real news text (ECB+ documents from ../shared/data, read at run time): MiniLM
  int8 embeddings of title + lead, spaCy NER + dateparser on the same lead, per document.

End to end for N documents = N / embed rate + N / NER rate + clustering time at N.

Usage:
    nice python bench/stories.py [--sizes 10000 30000 100000] [--lead-words 200 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from samestory.evaluate_stories import b_cubed, labels_of
from samestory.story_cluster import StoryConfig, StoryItem, cluster

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ecbplus" / "docs.jsonl"
RESULTS = Path(__file__).resolve().parent / "results" / "stories.json"


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
    config = StoryConfig()
    t = time.perf_counter()
    groups = cluster(items, config=config)
    seconds = time.perf_counter() - t
    return {
        "documents": n,
        "seconds": round(seconds, 2),
        "docs_per_s": round(n / seconds, 1),
        "stories": len(groups),
        "gold_stories": len(set(gold)),
        "b3_f1": round(b_cubed(gold, labels_of(groups, n))[2], 4),
    }


def bench_features(lead_words: int, *, docs: int) -> dict[str, float]:
    from samestory import embed, entities

    texts = [json.loads(line)["text"] for line in DATA.open(encoding="utf-8")][:docs]
    leads = [embed.lead(t, max_words=lead_words) for t in texts]
    embedder = embed.Embedder(model="minilm", max_words=lead_words)
    embedder.embed(leads[:8])
    entities.extract_many(leads[:8])
    t = time.perf_counter()
    embedder.embed(leads)
    emb_s = time.perf_counter() - t
    t = time.perf_counter()
    entities.extract_many(leads)
    ner_s = time.perf_counter() - t
    return {
        "lead_words": lead_words,
        "documents": len(leads),
        "embed_docs_per_s": round(len(leads) / emb_s, 1),
        "entities_docs_per_s": round(len(leads) / ner_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 30000, 100000])
    parser.add_argument("--days", type=int, default=365, help="publication dates spread")
    parser.add_argument("--lead-words", type=int, nargs="+", default=[200, 60])
    parser.add_argument("--feature-docs", type=int, default=200)
    args = parser.parse_args()
    out: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        "cluster": [],
        "features": [],
    }
    for n in args.sizes:
        row = bench_cluster(n, days=args.days)
        print("cluster", row, flush=True)
        out["cluster"].append(row)  # type: ignore[union-attr]
    if DATA.is_file():
        for lw in args.lead_words:
            row = bench_features(lw, docs=args.feature_docs)
            print("features", row, flush=True)
            out["features"].append(row)  # type: ignore[union-attr]
    biggest = out["cluster"][-1]  # type: ignore[index]
    estimates = {}
    for row in out["features"]:  # type: ignore[union-attr]
        n = 100_000
        cluster_s = biggest["seconds"] * n / biggest["documents"]
        total = n / row["embed_docs_per_s"] + n / row["entities_docs_per_s"] + cluster_s
        estimates[f"lead_{row['lead_words']}_100k_minutes"] = round(total / 60, 1)
    out["end_to_end_estimate"] = estimates
    print("estimate", estimates)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
