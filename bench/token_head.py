"""Step 2b (torch venv: pip install "torch==2.13.0" numpy): decomposable-attention head, 10-fold
out-of-fold logits into bench/data/head_oof.npy. Usage: python bench/token_head.py 64 2,4,6,8,12

Exploratory step; its figures are gathered in bench/results/token_alignment.json.
"""

import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

torch.set_num_threads(2)
z = np.load("bench/data/head_input.npz")
STATES = torch.tensor(z["states"].astype(np.float32))
OFF = z["offsets"]
fid = np.load("bench/data/folds.npy")


def split(name):
    d = {k: z[f"{name}_{k}"] for k in ("ia", "ib", "y", "base", "ea", "eb", "ea_off", "eb_off")}
    n = len(d["y"])
    A, B = [], []
    for p in range(n):
        i, j = d["ia"][p], d["ib"][p]
        A.append(
            torch.cat(
                [
                    STATES[OFF[i] : OFF[i + 1]],
                    torch.tensor(d["ea"][d["ea_off"][p] : d["ea_off"][p + 1]]),
                ],
                1,
            )
        )
        B.append(
            torch.cat(
                [
                    STATES[OFF[j] : OFF[j + 1]],
                    torch.tensor(d["eb"][d["eb_off"][p] : d["eb_off"][p + 1]]),
                ],
                1,
            )
        )
    return A, B, torch.tensor(d["base"]), torch.tensor(d["y"])


TR, TE = split("tr"), split("te")


def pad(seqs):
    L = max(len(s) for s in seqs)
    X = torch.zeros(len(seqs), L, seqs[0].shape[1])
    M = torch.zeros(len(seqs), L, dtype=torch.bool)
    for k, s in enumerate(seqs):
        X[k, : len(s)] = s
        M[k, : len(s)] = True
    return X, M


WIDTH = int(sys.argv[1]) if len(sys.argv) > 1 else 64


class Head(nn.Module):
    def __init__(s, d=WIDTH, nb=21, drop=0.2, use_base=True):
        super().__init__()
        s.inp = nn.Sequential(nn.Dropout(drop), nn.Linear(388, d), nn.ReLU())
        s.att = nn.Sequential(nn.Linear(d, d), nn.ReLU())
        s.cmp = nn.Sequential(nn.Dropout(drop), nn.Linear(4 * d, d), nn.ReLU())
        s.out = nn.Sequential(nn.Dropout(drop), nn.Linear(4 * d, d), nn.ReLU(), nn.Linear(d, 1))
        s.lin = nn.Linear(nb, 1) if use_base else None

    def side(s, a, ma, beta):
        v = s.cmp(torch.cat([a, beta, a - beta, a * beta], -1))
        m = ma.unsqueeze(-1).float()
        mean = (v * m).sum(1) / m.sum(1)
        mx = v.masked_fill(~ma.unsqueeze(-1), -1e4).max(1).values
        return torch.cat([mean, mx], -1)

    def forward(s, A, MA, B, MB, base):
        a, b = s.inp(A), s.inp(B)
        e = s.att(a) @ s.att(b).transpose(1, 2)
        e_ab = e.masked_fill(~MB.unsqueeze(1), -1e4)
        beta = Fn.softmax(e_ab, 2) @ b
        e_ba = e.masked_fill(~MA.unsqueeze(2), -1e4)
        alpha = Fn.softmax(e_ba, 1).transpose(1, 2) @ a
        va, vb = s.side(a, MA, beta), s.side(b, MB, alpha)
        logit = s.out(torch.cat([va + vb, (va - vb).abs()], -1)).squeeze(-1)
        if s.lin is not None:
            logit = logit + s.lin(base).squeeze(-1)
        return logit


def predict(m, data, idx, mu, sd):
    A, B, base, _y = data
    m.eval()
    out = []
    with torch.no_grad():
        for k in range(0, len(idx), 256):
            bi = idx[k : k + 256]
            XA, MA = pad([A[i] for i in bi])
            XB, MB = pad([B[i] for i in bi])
            out.append(m(XA, MA, XB, MB, (base[bi] - mu) / sd))
    return torch.cat(out).numpy()


def sc(logit, y, cut=0.0):
    pred = logit >= cut
    gold = y == 1
    tp = (pred & gold).sum()
    p, r = tp / max(1, pred.sum()), tp / max(1, gold.sum())
    return round(float((pred == gold).mean()), 4), round(float(2 * p * r / max(1e-9, p + r)), 4)


EPOCHS = [int(e) for e in sys.argv[2].split(",")] if len(sys.argv) > 2 else [4, 8, 12]
use_base = (sys.argv[3] != "nobase") if len(sys.argv) > 3 else True
ytr = TR[3].numpy()
n = len(ytr)
oof = {e: np.zeros(n) for e in EPOCHS}
t = time.time()
for f in range(10):
    fit = np.flatnonzero(fid != f)
    held = np.flatnonzero(fid == f)
    mu, sd = TR[2][fit].mean(0), TR[2][fit].std(0) + 1e-6
    # train incrementally: checkpoint predictions at each epoch count
    torch.manual_seed(0)
    g = np.random.default_rng(0)
    m = Head(use_base=use_base)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    A, B, base, y = TR
    for ep in range(1, max(EPOCHS) + 1):
        m.train()
        perm = g.permutation(fit)
        for k in range(0, len(perm), 32):
            bi = perm[k : k + 32]
            XA, MA = pad([A[i] for i in bi])
            XB, MB = pad([B[i] for i in bi])
            if g.random() < 0.5:
                XA, MA, XB, MB = XB, MB, XA, MA
            loss = Fn.binary_cross_entropy_with_logits(
                m(XA, MA, XB, MB, (base[bi] - mu) / sd), y[bi]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
        if ep in oof:
            oof[ep][held] = predict(m, TR, held, mu, sd)
    print(
        "fold",
        f,
        round(time.time() - t),
        {e: sc(oof[e][held], ytr[held]) for e in EPOCHS},
        flush=True,
    )
res = {e: sc(oof[e], ytr) for e in EPOCHS}
print("CV", sys.argv[1:], res)
np.save("bench/data/head_oof.npy", np.stack([oof[e] for e in EPOCHS]))
