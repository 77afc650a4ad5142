"""Step 1 of bench/token_alignment.py: BERTScore-style features of MRPC pairs from cached token
states (bench/data/c1_*.npy), with a first CV look.

Exploratory step; its figures are gathered in bench/results/token_alignment.json.
"""

import json
import sys
import time

sys.path.insert(0, "bench")
from pathlib import Path

import numpy as np
from token_alignment import (
    cached_states,
    cv_logistic,
    mrpc_inputs,
    piece_words,
    scores,
    stratified_folds,
)
from tokenizers import Tokenizer

from samestory.embed import minilm_paths
from samestory.similarity import idf

train, test, lx_tr, lx_te = mrpc_inputs()
S = cached_states("mrpc", [])
tok = Tokenizer.from_file(str(minilm_paths()[1]))


def info(text):
    ids, st = S[text]
    pieces = [tok.id_to_token(int(i)) for i in ids]
    words = piece_words(pieces)
    special = np.array([p in ("[CLS]", "[SEP]") for p in pieces])
    alnum = np.array(
        [any(c.isalnum() for c in w) and not sp for w, sp in zip(words, special, strict=False)]
    )
    w = np.array([idf(x) if al else 0.0 for x, al in zip(words, alnum, strict=False)])
    unit = st / np.linalg.norm(st, axis=1, keepdims=True)
    pooled = st.mean(0)
    pooled /= np.linalg.norm(pooled)
    return unit, special, alnum, w, pooled


cache = {}


def info_of(t):
    if t not in cache:
        cache[t] = info(t)
    return cache[t]


THR = (0.5, 0.6, 0.7, 0.8)


def feats(a, b):
    ua, sa, aa, wa, pa = info_of(a)
    ub, sb, ab, wb, pb = info_of(b)
    sim = ua @ ub.T
    out = [float(pa @ pb)]
    names = ["cosine"]

    def prf(ka, kb, wa_, wb_, tag):
        s = sim[np.ix_(ka, kb)]
        if s.size == 0:
            return [0.0, 0.0, 0.0]
        ra = (s.max(1) * wa_[ka]).sum() / max(wa_[ka].sum(), 1e-9)
        rb = (s.max(0) * wb_[kb]).sum() / max(wb_[kb].sum(), 1e-9)
        return [min(ra, rb), max(ra, rb), 2 * ra * rb / max(ra + rb, 1e-9)]

    ones_a, ones_b = np.ones(len(sa)), np.ones(len(sb))
    allA, allB = np.ones(len(sa), bool), np.ones(len(sb), bool)
    for tag, ka, kb, wa_, wb_ in [
        ("all", allA, allB, ones_a, ones_b),
        ("nospec", ~sa, ~sb, ones_a, ones_b),
        ("words", aa, ab, ones_a, ones_b),
        ("idf", aa, ab, wa, wb),
        ("idfspec", aa | sa, ab | sb, np.where(sa, 1.0, wa), np.where(sb, 1.0, wb)),
    ]:
        out += prf(ka, kb, wa_, wb_, tag)
        names += [f"{tag}_min", f"{tag}_max", f"{tag}_f"]
    # unmatched content shares
    ca, cb = aa & (wa > 3.5), ab & (wb > 3.5)
    ma = sim[np.ix_(ca, ab)].max(1) if ca.any() and ab.any() else np.zeros(ca.sum())
    mb = sim[np.ix_(aa, cb)].max(0) if cb.any() and aa.any() else np.zeros(cb.sum())
    for t in THR:
        fa = (ma < t).mean() if len(ma) else 0.0
        fb = (mb < t).mean() if len(mb) else 0.0
        out += [max(fa, fb), min(fa, fb)]
        names += [f"unm{t}_max", f"unm{t}_min"]
        # idf-weighted unmatched mass
    wca, wcb = wa[ca], wb[cb]
    for t in (0.6, 0.7):
        xa = (wca * (ma < t)).sum() / 10
        xb = (wcb * (mb < t)).sum() / 10
        out += [max(xa, xb), min(xa, xb)]
        names += [f"unmw{t}_max", f"unmw{t}_min"]
    return out, names


t = time.time()
F_tr = np.array([feats(a, b)[0] for _, a, b in train])
F_te = np.array([feats(a, b)[0] for _, a, b in test])
names = feats(train[0][1], train[0][2])[1]
print("feats", time.time() - t, F_tr.shape)
np.save("bench/data/c1_tr.npy", F_tr)
np.save("bench/data/c1_te.npy", F_te)
Path("bench/data/c1_names.json").write_text(json.dumps(names))
y = np.array([p[0] for p in train], float)
yt = np.array([p[0] for p in test], float)
folds = stratified_folds(y, 10)
base = np.column_stack([lx_tr, F_tr[:, 0]])
print("base cv", scores(cv_logistic(base, y, folds, 1.0), y))
for n in range(1, len(names)):
    x = np.column_stack([base, F_tr[:, n]])
    print(
        names[n],
        scores(cv_logistic(x, y, folds, 1.0), y),
        round(np.corrcoef(F_tr[:, n], y)[0, 1], 3),
    )
groups = {
    "bs_all": [1, 2, 3],
    "bs_nospec": [4, 5, 6],
    "bs_words": [7, 8, 9],
    "bs_idf": [10, 11, 12],
    "bs_idfspec": [13, 14, 15],
    "unm": list(range(16, 24)),
    "unmw": list(range(24, 28)),
}
for g, cols in groups.items():
    x = np.column_stack([base, F_tr[:, cols]])
    print(g, scores(cv_logistic(x, y, folds, 1.0), y))
for l2 in (1.0, 10.0, 100.0):
    x = np.column_stack([base, F_tr[:, 1:]])
    print("all", l2, scores(cv_logistic(x, y, folds, l2), y))
