"""Build the dedup benchmark corpus: Reuters-21578 articles plus injected near-duplicates.

Deterministic for the same --docs and --seed. Writes DIR/corpus.jsonl (id, text, date, source)
and DIR/truth.jsonl (one line per injected pair: base id, copy id, the edits applied).

Base documents are the real Reuters bodies (at least 40 words, exact duplicates removed) and,
past those, new articles made of consecutive sentence runs from three random Reuters bodies.
A share of the documents (``--dup-rate``) are near-duplicates of an earlier document (a base
or, for chains A~B~C, an earlier copy) with one to three of these edits: word substitutions or
deletions, a dropped sentence, an inserted sentence, re-hyphenation of long words
("govern-\\nment"), boilerplate lines ("Share this article", "Advertisement").

Usage:
    python bench/make_corpus.py --docs 100000 --out bench/data
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "reuters21578"
BOILERPLATE = [
    "Share this article",
    "Advertisement",
    "Read more: Markets wrap",
    "Follow us on Twitter",
    "Click here to subscribe",
    "All rights reserved.",
]
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_REPLACEMENTS = ["the", "said", "market", "company", "new", "year", "bank", "rate", "oil", "pct"]


def _bodies() -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    with open(DATA / "reuters21578.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            body = " ".join((rec.get("body") or "").split())
            if len(body.split()) >= 40 and body not in seen:
                seen.add(body)
                out.append((body, rec.get("date") or ""))
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text) if s]


def _edit_words(text: str, rng: random.Random) -> str:
    tokens = text.split(" ")
    for _ in range(max(1, len(tokens) // 60)):
        i = rng.randrange(len(tokens))
        if rng.random() < 0.5:
            tokens[i] = rng.choice(_REPLACEMENTS)
        else:
            tokens[i] = ""
    return " ".join(t for t in tokens if t)


def _drop_sentence(text: str, rng: random.Random) -> str:
    sents = _sentences(text)
    if len(sents) < 8:
        return text
    del sents[rng.randrange(len(sents))]
    return " ".join(sents)


def _insert_sentence(text: str, rng: random.Random, pool: list[tuple[str, str]]) -> str:
    sents = _sentences(text)
    extra = _sentences(rng.choice(pool)[0])
    if len(sents) < 8 or not extra:
        return text
    sents.insert(rng.randrange(len(sents) + 1), rng.choice(extra))
    return " ".join(sents)


def _rehyphenate(text: str, rng: random.Random) -> str:
    tokens = text.split(" ")
    long_ones = [i for i, t in enumerate(tokens) if t.isalpha() and t.islower() and len(t) >= 8]
    for i in rng.sample(long_ones, min(len(long_ones), 4)):
        t = tokens[i]
        cut = rng.randrange(3, len(t) - 2)
        tokens[i] = t[:cut] + rng.choice(["-\n", "- ", "-"]) + t[cut:]
    return " ".join(tokens)


def _boilerplate(text: str, rng: random.Random) -> str:
    lines = [rng.choice(BOILERPLATE)]
    return text + "\n" + "\n".join(lines) if rng.random() < 0.7 else lines[0] + "\n" + text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--dup-rate", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pool = _bodies()
    args.out.mkdir(parents=True, exist_ok=True)
    docs: list[str] = []
    dates: list[str] = []
    n_base = 0
    edits = ["words", "drop", "insert", "hyphen", "boilerplate"]
    with (
        open(args.out / "corpus.jsonl", "w", encoding="utf-8") as corpus,
        open(args.out / "truth.jsonl", "w", encoding="utf-8") as truth,
    ):
        for k in range(args.docs):
            doc_id = f"d{k:07d}"
            if docs and rng.random() < args.dup_rate:
                src = rng.randrange(max(0, len(docs) - 5000), len(docs))
                text = docs[src]
                applied = rng.sample(edits, rng.randint(1, 3))
                for e in applied:
                    if e == "words":
                        text = _edit_words(text, rng)
                    elif e == "drop":
                        text = _drop_sentence(text, rng)
                    elif e == "insert":
                        text = _insert_sentence(text, rng, pool)
                    elif e == "hyphen":
                        text = _rehyphenate(text, rng)
                    else:
                        text = _boilerplate(text, rng)
                date = dates[src]
                truth.write(json.dumps({"a": f"d{src:07d}", "b": doc_id, "edits": applied}) + "\n")
            elif n_base < len(pool):
                text, date = pool[n_base]
                n_base += 1
            else:
                parts = []
                for _ in range(3):
                    sents = _sentences(rng.choice(pool)[0])
                    start = rng.randrange(max(1, len(sents) - 3))
                    parts.extend(sents[start : start + rng.randint(2, 5)])
                text = " ".join(parts)
                date = ""
            docs.append(text)
            dates.append(date)
            rec = {"id": doc_id, "text": text, "date": date, "source": "reuters"}
            corpus.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
