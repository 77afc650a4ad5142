"""A generated corpus with planted near-duplicates, for the engine tests.

Texts are random words from a made-up vocabulary (deterministic for a seed). Planted:
near-copies (a few words changed), exact copies, chains A~B~C where A and C are too far apart
to match directly, one bucket of many exact copies (more than the banding's bucket limit),
dates on some documents, and a few bad records.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

_SYLLABLES = ["ka", "lo", "mi", "ren", "su", "ta", "vo", "ne", "pri", "dal", "os", "qui", "ber"]


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _edit(rng: random.Random, words: list[str], vocab: list[str], edits: int) -> list[str]:
    out = list(words)
    # edits far apart so each one costs its own shingles
    step = len(out) // (edits + 1)
    for k in range(1, edits + 1):
        out[k * step + rng.randint(-2, 2)] = rng.choice(vocab)
    return out


def generate(n: int, *, seed: int = 7, length: int = 120) -> list[dict[str, object]]:
    """About ``n`` records (dicts with id, text and sometimes date) with planted duplicates."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    records: list[dict[str, object]] = []

    def add(words: list[str], dated: bool = False) -> None:
        record: dict[str, object] = {"id": f"d{len(records):06d}", "text": " ".join(words) + "."}
        if dated:
            record["date"] = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        records.append(record)

    while len(records) < n:
        base = [rng.choice(vocab) for _ in range(rng.randint(length // 2, length * 2))]
        kind = rng.random()
        if kind < 0.55:
            add(base, rng.random() < 0.3)
        elif kind < 0.75:  # near copies
            add(base, rng.random() < 0.5)
            for _ in range(rng.randint(1, 3)):
                add(_edit(rng, base, vocab, rng.randint(0, 2)), rng.random() < 0.5)
        elif kind < 0.9:  # a chain A ~ B ~ C (A and C do not match)
            middle = _edit(rng, base, vocab, 2)
            add(base)
            add(_edit(rng, middle, vocab, 2))
            add(middle, rng.random() < 0.5)
        else:  # exact copies, longer texts win without dates
            add(base)
            add([*base, "extra"])
    big = [rng.choice(vocab) for _ in range(80)]
    for _ in range(70):  # one bucket larger than the banding's limit of 64
        add(big, rng.random() < 0.2)
    return records


def write_jsonl(path: Path, records: list[dict[str, object]], *, bad: bool = True) -> Path:
    """Write ``records`` as JSONL, with a few bad lines (malformed, empty, no text) mixed in."""
    with open(path, "w", encoding="utf-8") as fh:
        for k, record in enumerate(records):
            fh.write(json.dumps(record) + "\n")
            if bad and k % 997 == 3:
                fh.write('{"id": "broken", "text": \n')
                fh.write("\n")
                fh.write(json.dumps({"id": f"e{k}", "text": "  "}) + "\n")
                fh.write(json.dumps({"id": f"n{k}", "title": "no text"}) + "\n")
    return path
