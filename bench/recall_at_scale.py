"""Recall of injected pairs for a large dedup run, without the full brute-force evaluation.

``python bench/dedup.py --run samestory --limit N --docs N --pairs-out PAIRS.tsv`` writes the
reported pairs; this script computes the exact Jaccard of every injected pair (cleaned text,
5-word shingles, as bench/dedup.py does), keeps those at the threshold and reports the share
whose two documents end in one cluster. Only the documents named in the truth file are
cleaned and shingled, so 1M documents fit in about 1 GB.

Usage: python bench/recall_at_scale.py CORPUS.jsonl TRUTH.jsonl PAIRS.tsv
"""

from __future__ import annotations

import json
import sys

import numpy as np
import orjson

from samestory.clean import clean_text
from samestory.cluster import components
from samestory.shingle import jaccard, shingle_batch

THRESHOLD = 0.8


def main() -> None:
    corpus, truth_file, pairs_file = sys.argv[1:4]
    with open(truth_file) as fh:
        truth = [json.loads(line) for line in fh]
    needed = {t["a"] for t in truth} | {t["b"] for t in truth}
    ids: list[str] = []
    texts: dict[str, str] = {}
    with open(corpus, "rb") as fh:
        for line in fh:
            rec = orjson.loads(line)
            ids.append(rec["id"])
            if rec["id"] in needed:
                texts[rec["id"]] = clean_text(rec["text"])
    index = {d: i for i, d in enumerate(ids)}
    names = sorted(texts)
    values, offsets = shingle_batch([texts[k] for k in names], 5)
    row = {k: i for i, k in enumerate(names)}

    def sets(doc: str) -> np.ndarray:
        i = row[doc]
        return values[offsets[i] : offsets[i + 1]]

    true = [
        (index[t["a"]], index[t["b"]])
        for t in truth
        if jaccard(sets(t["a"]), sets(t["b"])) >= THRESHOLD - 1e-12
    ]
    with open(pairs_file) as fh:
        pairs = [[index[x] for x in line.rstrip("\n").split("\t")] for line in fh]
    labels = components(len(ids), np.array(pairs, dtype=np.int64).reshape(-1, 2))
    t = np.array(true, dtype=np.int64).reshape(-1, 2)
    found = float((labels[t[:, 0]] == labels[t[:, 1]]).mean()) if len(t) else 1.0
    print(
        json.dumps(
            {
                "docs": len(ids),
                "pairs": len(pairs),
                "injected_pairs": len(truth),
                "injected_pairs_at_threshold": len(true),
                "recall_injected": round(found, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
