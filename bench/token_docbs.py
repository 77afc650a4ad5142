"""Step 3b: document BERTScore (plain, IDF, content-only) per pair, Pearson r alone;
bench/data/docbs_feats.npy.

Exploratory step; its figures are gathered in bench/results/token_alignment.json.
"""

import json
import sys

sys.path.insert(0, "bench")
import numpy as np
from token_alignment import piece_words
from tokenizers import Tokenizer

from samestory.embed import minilm_paths
from samestory.evaluate import pearson
from samestory.similarity import idf

tok = Tokenizer.from_file(str(minilm_paths()[1]))


def load(name):
    z = np.load(f"bench/data/docs_{name}.npz")
    ids, st, off, nch, sc = (
        z["ids"],
        z["states"].astype(np.float32),
        z["offsets"],
        z["nchunks"],
        z["scores"],
    )
    cstart = np.cumsum([0, *list(nch)])
    docs = []
    for d in range(len(nch)):
        a, b = off[cstart[d]], off[cstart[d + 1]]
        pieces = [tok.id_to_token(int(i)) for i in ids[a:b]]
        words = piece_words(pieces)
        keep = np.array(
            [any(c.isalnum() for c in w) and w not in ("[CLS]", "[SEP]") for w in words]
        )
        w = np.array([idf(x) for x, k in zip(words, keep, strict=False) if k])
        u = st[a:b][keep]
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
        docs.append((u, w))
    return docs, sc


def bs(da, db, weighted, content=0.0):
    (ua, wa), (ub, wb) = da, db
    if not weighted:
        wa, wb = np.ones(len(wa)), np.ones(len(wb))
    ka, kb = wa > content, wb > content
    s = ua[ka] @ ub.T
    ra = (s.max(1) * wa[ka]).sum() / wa[ka].sum()
    s = ub[kb] @ ua.T
    rb = (s.max(1) * wb[kb]).sum() / wb[kb].sum()
    return 2 * ra * rb / (ra + rb), min(ra, rb), max(ra, rb)


res = {}
for name in ("semeval", "lee"):
    docs, sc = load(name)
    gold = sc[:, 4]
    out = {"shipped overall": round(pearson(sc[:, 0], gold), 4)}
    feats = {}
    for tag, wt, cont in (("plain", False, 0), ("idf", True, 0), ("idf content", True, 3.5)):
        v = np.array([bs(docs[int(i)], docs[int(j)], wt, cont) for i, j in sc[:, 5:7]])
        for k, kind in enumerate(("f", "min", "max")):
            feats[f"{tag} {kind}"] = v[:, k]
            out[f"{tag} {kind} alone"] = round(pearson(v[:, k], gold), 4)
    res[name] = (out, feats, sc)
    print(name, json.dumps(out, indent=0))
np.save("bench/data/docbs_feats.npy", {n: r[1] for n, r in res.items()}, allow_pickle=True)
