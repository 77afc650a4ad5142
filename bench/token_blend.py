"""Step 3c: document BERTScore blended into overall's semantic part (grid chosen on SemEval en-en;
Lee reported only); bench/data/blend.json.

Exploratory step; its figures are gathered in bench/results/token_alignment.json.
"""

import json
from pathlib import Path

import numpy as np

from samestory.evaluate import pearson
from samestory.relate import overall_score

F = np.load("bench/data/docbs_feats.npy", allow_pickle=True).item()
out = {}
for name in ("semeval", "lee"):
    z = np.load(f"bench/data/docs_{name}.npz")
    sc = z["scores"]
    ov, lex, ent, al, g = sc[:, 0], sc[:, 1], sc[:, 2], sc[:, 3], sc[:, 4]
    e = np.where(ent < 0, lex, ent)
    content = np.where(al < 1, 1 - (1 - ov) / np.maximum(1 - al, 1e-9), 0.0)
    cos = np.clip((content - 0.4 * lex - 0.1 * e) / 0.5, 0, 1)
    r = {}
    for feat in ("plain f", "idf f"):
        for b0 in (0.0, 0.5, 0.7):
            bs = np.clip((F[name][feat] - b0) / (1 - b0), 0, 1)
            for lam in (0.25, 0.5, 0.75, 1.0):
                sem = (1 - lam) * cos + lam * bs
                o = [
                    overall_score(s, lx, None if en < 0 else en, a)
                    for s, lx, en, a in zip(sem, lex, ent, al, strict=False)
                ]
                r[f"{feat} b0={b0} lambda={lam}"] = round(pearson(o, g), 4)
    r["check shipped"] = round(
        pearson(
            [
                overall_score(s, lx, None if en < 0 else en, a)
                for s, lx, en, a in zip(cos, lex, ent, al, strict=False)
            ],
            g,
        ),
        4,
    )
    out[name] = r
best = max(out["semeval"], key=lambda k: out["semeval"][k] if k != "check shipped" else -1)
print(
    out["semeval"]["check shipped"],
    out["lee"]["check shipped"],
    best,
    out["semeval"][best],
    out["lee"][best],
)
print(sorted(out["semeval"].items(), key=lambda kv: -kv[1])[:5])
Path("bench/data/blend.json").write_text(json.dumps(out, indent=1))
