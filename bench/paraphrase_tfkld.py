"""Experiment: TF-KLD term weighting (Ji & Eisenstein 2013) for the MRPC paraphrase decision.

Not shipped: it did not beat the shipped model (see bench/results/paraphrase_tfkld.json).
Each unigram and bigram is weighted by the KL divergence between its chance of being shared
(P(in one sentence | in the other), both directions) in paraphrase and in non-paraphrase train
pairs, shrunk toward each class's overall rate (``--shrink`` pseudo-pairs; plain add-one
smoothing let terms seen once dominate). Two feature sets are added to the shipped 21 (20
lexical + MiniLM cosine) and fed to the same logistic regression (``fit_logistic``):

- ``cosine``: the TF-KLD weighted bag cosine (one feature; the fit pairs' own values use
  leave-one-out weights, else a term seen in one pair carries its label);
- ``latent``: also a truncated SVD (randomized, numpy only) of the TF-KLD weighted
  term-sentence matrix of the fit sentences, 100 dimensions scaled by 1/sigma, and the pair
  features [u + v, |u - v|] and cos(u, v); the fit pairs' features are cross-fitted (3 inner
  folds), so the logistic sees them as it would see new pairs.

10-fold CV on the train split (folds from a fixed seed), then fit on all of train and scored
on test. About 10 minutes on 2 busy cores.

    python bench/paraphrase_tfkld.py [--data ../shared/data/mrpc] [--folds 10]
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path

import numpy as np

from samestory.embed import available
from samestory.evaluate import fit_logistic, pair_features, read_mrpc
from samestory.similarity import PARAPHRASE_THRESHOLD, tokens

Pair = tuple[int, str, str]


def terms(sentence: str) -> list[str]:
    """Unigrams and bigrams of the casefolded tokens."""
    t = tokens(sentence)
    return t + [f"{x} {y}" for x, y in pairwise(t)]


class TfKld:
    """TF-KLD weights (and optionally an SVD projection) fit on labelled pairs."""

    def __init__(self, pairs: list[Pair], *, shrink: float, dims: int, min_df: int = 2) -> None:
        self.shrink = shrink
        self.counts: dict[str, list[int]] = {}  # term -> [both|1, one|1, both|0, one|0]
        for y, a, b in pairs:
            sa, sb = set(terms(a)), set(terms(b))
            for t in sa | sb:
                slot = (0 if y == 1 else 2) + (0 if t in sa and t in sb else 1)
                self.counts.setdefault(t, [0, 0, 0, 0])[slot] += 1
        tot = np.array(list(self.counts.values())).sum(axis=0)
        self.prior = (2 * tot[0] / (2 * tot[0] + tot[1]), 2 * tot[2] / (2 * tot[2] + tot[3]))
        self.weight = {t: self.kl(*c) for t, c in self.counts.items()}
        self.proj = None
        if dims:
            df: dict[str, int] = {}
            for _, a, b in pairs:
                for s in (a, b):
                    for t in set(terms(s)):
                        df[t] = df.get(t, 0) + 1
            kept = sorted(t for t in df if df[t] >= min_df)
            self.vocab = {t: j for j, t in enumerate(kept)}
            self.vocab_weight = np.array([self.weight[t] for t in kept])
            sents = [s for _, a, b in pairs for s in (a, b)]
            self.sigma, self.proj = _rsvd(self.matrix(sents), len(sents), len(self.vocab), dims)

    def kl(self, b1: int, o1: int, b0: int, o0: int) -> float:
        p = (2 * b1 + self.shrink * self.prior[0]) / (2 * b1 + o1 + self.shrink)
        q = (2 * b0 + self.shrink * self.prior[1]) / (2 * b0 + o0 + self.shrink)
        return float(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))

    def matrix(self, sents: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """COO (row, column, tf x weight) of sentences over the projection's vocabulary."""
        rows, cols, vals = [], [], []
        for i, s in enumerate(sents):
            counts: dict[int, int] = {}
            for t in terms(s):
                j = self.vocab.get(t)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                rows.append(i)
                cols.append(j)
                vals.append(c * self.vocab_weight[j])
        return np.array(rows, int), np.array(cols, int), np.array(vals, float)

    def cosine(self, pair: Pair, *, leave_out: bool) -> float:
        """TF-KLD bag cosine; ``leave_out`` takes the pair's own counts out of its weights."""
        y, a, b = pair
        ta, tb = terms(a), terms(b)
        sa, sb = set(ta), set(tb)
        w = {}
        for t in sa | sb:
            c = list(self.counts.get(t, [0, 0, 0, 0]))
            if leave_out:
                c[(0 if y == 1 else 2) + (0 if t in sa and t in sb else 1)] -= 1
            w[t] = self.kl(*c)
        va: dict[str, float] = {}
        vb: dict[str, float] = {}
        for vec, ts in ((va, ta), (vb, tb)):
            for t in ts:
                vec[t] = vec.get(t, 0.0) + w[t]
        dot = sum(v * vb[t] for t, v in va.items() if t in vb)
        na = np.sqrt(sum(v * v for v in va.values()))
        nb = np.sqrt(sum(v * v for v in vb.values()))
        return float(dot / (na * nb)) if na and nb else 0.0

    def features(self, pairs: list[Pair], *, leave_out: bool = False) -> np.ndarray:
        cos = np.array([[self.cosine(p, leave_out=leave_out)] for p in pairs])
        if self.proj is None:
            return cos
        n = len(pairs)
        u = _spmm(self.matrix([a for _, a, _ in pairs]), n, self.proj) / self.sigma
        v = _spmm(self.matrix([b for _, _, b in pairs]), n, self.proj) / self.sigma
        un = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-9)
        vn = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        return np.hstack([cos, np.sum(un * vn, axis=1, keepdims=True), u + v, np.abs(u - v)])


def _spmm(m: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, dense: np.ndarray) -> np.ndarray:
    """Sparse (COO, n rows) times dense, as a segmented sum over rows."""
    rows, cols, vals = m
    order = np.argsort(rows, kind="stable")
    r, c, v = rows[order], cols[order], vals[order]
    out = np.zeros((n, dense.shape[1]))
    if len(r):
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        out[r[starts]] = np.add.reduceat(v[:, None] * dense[c], starts, axis=0)
    return out


def _orth(y: np.ndarray) -> np.ndarray:
    ev, vec = np.linalg.eigh(y.T @ y)
    return y @ (vec / np.sqrt(np.maximum(ev, ev.max() * 1e-12)))


def _rsvd(m, n: int, width: int, dims: int, iters: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Top singular values and right singular vectors (width x dims) of a sparse matrix."""
    rows, cols, vals = m
    mt = (cols, rows, vals)
    y = _spmm(m, n, np.random.default_rng(0).standard_normal((width, dims + 20)))
    for _ in range(iters):
        y = _spmm(m, n, _orth(_spmm(mt, width, _orth(y))))
    bt = _spmm(mt, width, _orth(y))
    ev, vec = np.linalg.eigh(bt.T @ bt)
    top = np.argsort(ev)[::-1][:dims]
    sigma = np.sqrt(np.maximum(ev[top], 1e-30))
    return sigma, (bt @ vec[:, top]) / sigma


def tfkld_features(
    fit: list[Pair], held: list[Pair], *, shrink: float, dims: int, inner: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """TF-KLD features of the fit pairs (leave-one-out / cross-fitted) and the held-out ones."""
    model = TfKld(fit, shrink=shrink, dims=dims)
    if not dims:
        return model.features(fit, leave_out=True), model.features(held)
    x_fit = None
    parts = np.array_split(np.random.default_rng(1).permutation(len(fit)), inner)
    for part in parts:
        rest = np.setdiff1d(np.arange(len(fit)), part)
        sub = TfKld([fit[i] for i in rest], shrink=shrink, dims=dims)
        x = sub.features([fit[i] for i in part])
        x_fit = np.zeros((len(fit), x.shape[1])) if x_fit is None else x_fit
        x_fit[part] = x
    return x_fit, model.features(held)


def scores(prob: np.ndarray, y: np.ndarray) -> dict[str, float]:
    pred, gold = prob >= PARAPHRASE_THRESHOLD, y == 1
    tp = int(np.sum(pred & gold))
    precision, recall = tp / max(1, int(pred.sum())), tp / max(1, int(gold.sum()))
    f1 = 2 * precision * recall / max(1e-12, precision + recall)
    return {"accuracy": round(float(np.mean(pred == gold)), 4), "f1": round(f1, 4)}


def _predict(model: dict, x: np.ndarray) -> np.ndarray:
    z = (x - np.asarray(model["mean"])) / np.asarray(model["scale"])
    return 1.0 / (1.0 + np.exp(-(z @ np.asarray(model["coef"]) + model["intercept"])))


def run(train, test, base_tr, base_te, *, shrink, dims, l2, folds) -> dict:
    """CV and test figures of base features + one TF-KLD feature set."""
    y = np.array([p[0] for p in train], float)
    order = np.random.default_rng(0).permutation(len(train))
    prob = np.zeros(len(train))
    for held in np.array_split(order, folds):
        fit = np.setdiff1d(order, held)
        xf, xh = tfkld_features(
            [train[i] for i in fit], [train[i] for i in held], shrink=shrink, dims=dims
        )
        model = fit_logistic(np.hstack([base_tr[fit], xf]), y[fit], l2=l2)
        prob[held] = _predict(model, np.hstack([base_tr[held], xh]))
    xf, xt = tfkld_features(train, test, shrink=shrink, dims=dims)
    model = fit_logistic(np.hstack([base_tr, xf]), y, l2=l2)
    y_test = np.array([p[0] for p in test], float)
    return {
        "cv": scores(prob, y),
        "test": scores(_predict(model, np.hstack([base_te, xt])), y_test),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/mrpc"))
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()
    train = read_mrpc(args.data / "msr_paraphrase_train.txt")
    test = read_mrpc(args.data / "msr_paraphrase_test.txt")
    emb = available()
    base_tr, base_te = (pair_features(p, embeddings=emb) for p in (train, test))
    y = np.array([p[0] for p in train], float)
    order = np.random.default_rng(0).permutation(len(train))
    prob = np.zeros(len(train))
    for held in np.array_split(order, args.folds):
        fit = np.setdiff1d(order, held)
        prob[held] = _predict(fit_logistic(base_tr[fit], y[fit]), base_tr[held])
    y_test = np.array([p[0] for p in test], float)
    results = {
        "embeddings": emb,
        "folds": args.folds,
        "shipped features": {
            "cv": scores(prob, y),
            "test": scores(_predict(fit_logistic(base_tr, y), base_te), y_test),
        },
    }
    for name, dims, l2 in (("+ tf-kld cosine", 0, 1.0), ("+ tf-kld latent 100", 100, 100.0)):
        results[name] = run(
            train, test, base_tr, base_te, shrink=50.0, dims=dims, l2=l2, folds=args.folds
        )
        print(name, results[name], flush=True)
    out = Path(__file__).parent / "results" / "paraphrase_tfkld.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
