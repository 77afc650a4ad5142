"""Train a document-relatedness adapter of the shipped MiniLM on ECB+ train/dev topics.

Graded pairs: two reports of one event > two events of one topic (two earthquakes) > two
topics. CoSENT loss (every pair of pairs in a batch ranked by cosine as by grade). Validated on
SemEval-2022 Task 8 en-en and ECB+ dev; ECB+ test topics (36-45) and Lee are never read.
Same torch venv as bench/cross_train.py.

    python bench/doc_train.py base   # the shipped MiniLM's figures
    python bench/doc_train.py dev    # train on ECB+ train topics, score ECB+ dev and SemEval
    python bench/doc_train.py ship   # train on train+dev topics, write the adapter

Exploratory: the held-out ECB+ topics rose (graded Pearson 0.837 -> 0.887) but SemEval en-en
fell (0.847 -> 0.807), so nothing ships (bench/results/doc_relatedness.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from cross_train import Bert, _batch, export

from samestory.cross import (
    base_weights,
    save_adapter,
)
from samestory.embed import lead, minilm_paths
from samestory.evaluate import spearman

ECB = Path("../shared/data/ecbplus/docs.jsonl")
SEMEVAL = Path("../shared/data/semeval2022_task8_sample/pairs.csv")
torch.set_num_threads(2)


def _tok():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(minilm_paths()[1]))
    tok.enable_truncation(max_length=256)
    tok.no_padding()
    return tok


def encode(texts: list[str]) -> list[tuple[list[int], list[int]]]:
    tok = _tok()
    return [(e.ids, [0] * len(e.ids)) for e in tok.encode_batch([lead(t) for t in texts])]


def ecb(splits: set[str]):
    docs = [json.loads(line) for line in ECB.open(encoding="utf-8")]
    return [d for d in docs if d["split"] in splits]


def pooled(model: Bert, rows) -> torch.Tensor:
    ids, types, mask = _batch(rows)
    h = model.hidden(ids, types, mask)
    m = mask[..., None].float()
    v = (h * m).sum(1) / m.sum(1)
    return torch.nn.functional.normalize(v, dim=-1)


def cosent(cos: torch.Tensor, grade: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """log(1 + sum over pairs-of-pairs with grade_u > grade_v of exp(scale (cos_v - cos_u)))."""
    diff = scale * (cos[None, :] - cos[:, None])  # [u, v] = cos_v - cos_u
    mask = grade[:, None] > grade[None, :]
    diff = diff[mask]
    return torch.logsumexp(torch.cat([torch.zeros(1), diff]), dim=0)


def train(docs, args) -> Bert:
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = Bert(base_weights(minilm_paths()[0]), args.rank, args.alpha, args.dropout)
    rows = encode([d["text"] for d in docs])
    by_topic: dict[int, list[int]] = {}
    for i, d in enumerate(docs):
        by_topic.setdefault(d["topic"], []).append(i)
    params = [
        p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head")
    ]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    for epoch in range(args.epochs):
        model.train()
        t0, total, steps = time.time(), 0.0, 0
        for _ in range(args.steps):
            topics = rng.sample(sorted(by_topic), args.topics)
            idx = []
            for t in topics:
                pool = by_topic[t]
                idx += rng.sample(pool, min(args.per_topic, len(pool)))
            v = pooled(model, [rows[i] for i in idx])
            cos = v @ v.T
            iu = torch.triu_indices(len(idx), len(idx), 1)
            grade = []
            for a, b in zip(iu[0].tolist(), iu[1].tolist(), strict=True):
                da, db = docs[idx[a]], docs[idx[b]]
                grade.append(
                    2.0
                    if da["event_cluster"] == db["event_cluster"]
                    else (1.0 if da["topic"] == db["topic"] else 0.0)
                )
            loss = cosent(cos[iu[0], iu[1]], torch.tensor(grade))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            total += float(loss.detach())
            steps += 1
        print(f"epoch {epoch + 1}: loss {total / steps:.3f} ({time.time() - t0:.0f} s)")
    return model.eval()


@torch.no_grad()
def vectors(model: Bert, texts: list[str]) -> np.ndarray:
    rows = encode(texts)
    out = []
    for k in range(0, len(rows), 16):
        out.append(pooled(model, rows[k : k + 16]).numpy())
    return np.concatenate(out)


def semeval_pairs():
    with SEMEVAL.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = [r for r in rows if r["lang1"] == "en" and r["lang2"] == "en"]
    return [(r["text1"], r["text2"], -float(r["Overall"])) for r in keep]


def validate(model: Bert, dev_docs) -> dict:
    out = {}
    sem = semeval_pairs()
    va = vectors(model, [a for a, _, _ in sem])
    vb = vectors(model, [b for _, b, _ in sem])
    cos = np.sum(va * vb, axis=1)
    out["semeval_en_pearson"] = float(np.corrcoef(cos, [s for _, _, s in sem])[0, 1])
    out["semeval_pairs"] = len(sem)
    if dev_docs:
        v = vectors(model, [d["text"] for d in dev_docs])
        c = v @ v.T
        iu = np.triu_indices(len(dev_docs), 1)
        g = np.array(
            [
                2.0
                if dev_docs[a]["event_cluster"] == dev_docs[b]["event_cluster"]
                else (1.0 if dev_docs[a]["topic"] == dev_docs[b]["topic"] else 0.0)
                for a, b in zip(*iu, strict=True)
            ]
        )
        out["ecb_dev_pearson_grade"] = float(np.corrcoef(c[iu], g)[0, 1])
        out["ecb_dev_spearman_grade"] = spearman(c[iu], g)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["base", "dev", "ship"])
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--topics", type=int, default=4)
    parser.add_argument("--per-topic", type=int, default=6)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", default="src/samestory/data/doc_relatedness.npz")
    args = parser.parse_args()
    if args.mode == "base":
        model = Bert(base_weights(minilm_paths()[0]), 0, 1.0, 0.0).eval()
        print(json.dumps(validate(model, ecb({"dev"}))))
        return
    if args.mode == "dev":
        model = train(ecb({"train"}), args)
        print(json.dumps({**validate(model, ecb({"dev"})), "args": vars(args)}))
        return
    model = train(ecb({"train", "dev"}), args)
    print(json.dumps({**validate(model, []), "args": vars(args)}))
    arrays = export(model)
    del arrays["head.w"], arrays["head.b"]
    save_adapter(args.out, arrays, vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
