"""Evaluation on public datasets, and the fit of the shipped paraphrase model.

Each dataset is one function ``(data_dir, *, embeddings) -> metrics`` registered in
:data:`DATASETS`; ``samestory eval NAME --data DIR [--json]`` calls it. Metrics are plain
floats and ints keyed by their usual names (``accuracy``, ``f1``, ``pearson``, ``spearman``,
``pairs``), so adding a dataset (ECB+, SemEval, Google News) is one more function.

- ``mrpc``: the paraphrase decision of :func:`samestory.similarity.paraphrase_matrix` on the
  MRPC test split. The logistic model is fit on the train split only (the decision threshold
  too), exactly as ``python -m samestory.evaluate fit`` does to regenerate the shipped
  ``data/paraphrase.json``.
- ``lee``: Pearson and Spearman r between the document score and the mean human ratings of
  the 1,225 pairs of Lee, Pincombe & Welsh (2005). Nothing is fit to the ratings.
- ``ecbplus``, ``semeval``, ``googlenews``: story clustering and the same-story pair score
  (:mod:`samestory.evaluate_stories`).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np

from samestory.errors import InputError, SettingsError
from samestory.evaluate_stories import eval_ecbplus, eval_googlenews, eval_semeval, pearson
from samestory.similarity import (
    ALIGN_THRESHOLD,
    LEXICAL_FEATURES,
    PARAPHRASE_THRESHOLD,
    CrossBand,
    cross_band,
    cross_probabilities,
    lexical_features,
    sentence_vectors,
)

Metrics = dict[str, float | int | str]
Pair = tuple[int, str, str]


def read_mrpc(path: Path) -> list[Pair]:
    """(label, sentence 1, sentence 2) rows of an MRPC file (tab-separated, quotes literal)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as exc:
        raise InputError(f"cannot read MRPC file ({exc.strerror})", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None
    out: list[Pair] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 5 or row[0] not in ("0", "1"):
            raise InputError(
                "expected 5 tab-separated columns, label 0 or 1", path=str(path), line=line
            )
        out.append((int(row[0]), row[3], row[4]))
    if not out:
        raise InputError("no sentence pairs", path=str(path))
    return out


def pair_features(pairs: list[Pair], *, embeddings: bool) -> np.ndarray:
    """(n, k) features of each pair: the lexical ones, then the embedding cosine if asked."""
    feats = np.stack([lexical_features([a], [b])[0, 0] for _, a, b in pairs])
    if embeddings:
        va = sentence_vectors([a for _, a, _ in pairs])
        vb = sentence_vectors([b for _, _, b in pairs])
        feats = np.column_stack([feats, np.sum(va * vb, axis=1, dtype=np.float64)])
    return feats


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iters: int = 50) -> dict:
    """L2-regularised logistic regression (Newton steps) on standardised features.

    The intercept is then shifted so that :data:`PARAPHRASE_THRESHOLD` is the probability
    cut that maximises accuracy on the training data itself.
    """
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[0] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    margin = z @ w
    cuts = np.unique(np.round(margin, 6))
    accuracy = [np.mean((margin >= c) == (y == 1)) for c in cuts]
    best = float(cuts[int(np.argmax(accuracy))])
    base = float(np.log(PARAPHRASE_THRESHOLD / (1 - PARAPHRASE_THRESHOLD)))
    return {
        "mean": [float(f"{v:.10g}") for v in mean],
        "scale": [float(f"{v:.10g}") for v in scale],
        "coef": [float(f"{v:.10g}") for v in w[1:]],
        "intercept": float(f"{w[0] - best + base:.10g}"),
    }


def _mrpc_file(data_dir: Path, split: str) -> Path:
    path = Path(data_dir) / f"msr_paraphrase_{split}.txt"
    if not path.is_file():
        raise InputError(f"MRPC {split} file not found", path=str(path))
    return path


@lru_cache(maxsize=8)
def _features_cached(path: str, embeddings: bool) -> tuple[np.ndarray, np.ndarray]:
    pairs = read_mrpc(Path(path))
    return pair_features(pairs, embeddings=embeddings), np.array([p[0] for p in pairs], float)


def fit_paraphrase(data_dir: Path, *, embeddings: bool) -> dict:
    """The paraphrase model fit on the MRPC train split (lexical, or lexical + embedding)."""
    x, y = _features_cached(str(_mrpc_file(data_dir, "train")), embeddings)
    model = fit_logistic(x, y)
    names = [*LEXICAL_FEATURES, "embedding_cosine"] if embeddings else list(LEXICAL_FEATURES)
    return {"features": names, **model}


def _predict(model: dict, x: np.ndarray) -> np.ndarray:
    z = (x - np.asarray(model["mean"])) / np.asarray(model["scale"])
    return 1.0 / (1.0 + np.exp(-(z @ np.asarray(model["coef"]) + model["intercept"])))


def _embeddings_flag(embeddings: bool | None) -> bool:
    if embeddings is not None:
        return embeddings
    from samestory.embed import available

    return available()


def eval_mrpc(data_dir: Path, *, embeddings: bool | None = None) -> Metrics:
    """Accuracy and F1 (paraphrase class) on MRPC test, with the model fit on train."""
    use = _embeddings_flag(embeddings)
    model = fit_paraphrase(data_dir, embeddings=use)
    x, y = _features_cached(str(_mrpc_file(data_dir, "test")), use)
    probs = _predict(model, x)
    band = cross_band() if use else None
    if band is not None:  # the cross-encoder's pairs, chosen as paraphrase_matrix does
        pairs = read_mrpc(_mrpc_file(data_dir, "test"))
        sents_a, sents_b = [a for _, a, _ in pairs], [b for _, _, b in pairs]
        lexical = _predict(fit_paraphrase(data_dir, embeddings=False), x[:, :-1])
        crossed = band.select(lexical, sents_a, sents_b)
        probs[crossed] = cross_probabilities(sents_a, sents_b, crossed)
    gold = y == 1
    variant = "lexical+embedding" if use else "lexical"
    aligner = _decision(probs >= ALIGN_THRESHOLD, gold)
    return {
        "dataset": "mrpc",
        "variant": variant + ("+cross-encoder" if band is not None else ""),
        "pairs": len(y),
        **_decision(probs >= PARAPHRASE_THRESHOLD, gold),
        # compare aligns a sentence pair from a higher probability: its decision, measured too
        "align_threshold": ALIGN_THRESHOLD,
        "align_accuracy": aligner["accuracy"],
        "align_f1": aligner["f1"],
    }


def _decision(pred: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Accuracy, F1, precision and recall of yes/no predictions of the positive class."""
    tp = int(np.sum(pred & gold))
    precision = tp / max(1, int(pred.sum()))
    recall = tp / max(1, int(gold.sum()))
    return {
        "accuracy": round(float(np.mean(pred == gold)), 4),
        "f1": round(2 * precision * recall / max(1e-12, precision + recall), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
    }


def _pair_score(
    text_a: str, text_b: str, *, embeddings: bool | None = None, large: bool = False
) -> float:
    """The score that Lee's human ratings are compared with: compare's ``overall``."""
    from samestory.compare import Comparer

    return Comparer(embeddings=embeddings, large=large).compare(text_a, text_b).scores.overall


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v), dtype=float)
    for value in np.unique(v):  # ties share their mean rank
        tied = v == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (Pearson of the tie-averaged ranks)."""
    return pearson(_ranks(np.asarray(x, float)), _ranks(np.asarray(y, float)))


def read_lee(data_dir: Path) -> tuple[list[str], list[tuple[int, int, float]]]:
    """The 50 Lee documents and the (i, j, human similarity) pairs."""
    docs_path, pairs_path = Path(data_dir) / "lee_50docs.txt", Path(data_dir) / "pairs.csv"
    for path in (docs_path, pairs_path):
        if not path.is_file():
            raise InputError("Lee 2005 file not found", path=str(path))
    docs = docs_path.read_text(encoding="utf-8").splitlines()
    pairs = []
    with open(pairs_path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.reader(fh), start=1):
            if line == 1:
                continue
            try:
                i, j, sim = int(row[0]), int(row[1]), float(row[2])
                if not (0 <= i < len(docs) and 0 <= j < len(docs)):
                    raise IndexError(i, j)
            except (ValueError, IndexError):
                raise InputError(
                    "expected doc_i,doc_j,similarity of two of the 50 documents",
                    path=str(pairs_path),
                    line=line,
                ) from None
            pairs.append((i, j, sim))
    return docs, pairs


def eval_lee(data_dir: Path, *, embeddings: bool | None = None, large: bool = False) -> Metrics:
    """Pearson and Spearman r of the document score against Lee et al.'s human ratings
    (``large``: with the larger document model, see :class:`~samestory.compare.Comparer`)."""
    use = _embeddings_flag(embeddings)
    docs, pairs = read_lee(data_dir)
    scores = np.array(
        [_pair_score(docs[i], docs[j], embeddings=use, large=large) for i, j, _ in pairs]
    )
    human = np.array([s for _, _, s in pairs])
    variant = "lexical+embedding" if use else "lexical"
    return {
        "dataset": "lee",
        "variant": variant + ("+mpnet" if large else ""),
        "pairs": len(pairs),
        "pearson": round(pearson(scores, human), 4),
        "spearman": round(spearman(scores, human), 4),
    }


DATASETS: dict[str, Callable[..., Metrics]] = {
    "ecbplus": eval_ecbplus,
    "googlenews": eval_googlenews,
    "lee": eval_lee,
    "mrpc": eval_mrpc,
    "semeval": eval_semeval,
}


def evaluate(
    name: str,
    data_dir: str | Path,
    *,
    embeddings: bool | None = None,
    features: str = "auto",
    large: bool = False,
) -> Metrics:
    """Run one registered evaluation and return its metrics.

    ``features`` (``"auto"``, ``"accurate"``, ``"fast"``) picks the story features of ``ecbplus``;
    ``large`` (lee only) scores with the larger document model.

    Example:
        >>> evaluate("lee", "../shared/data/lee2005")["pairs"]  # doctest: +SKIP
        1225
    """
    if name not in DATASETS:
        raise SettingsError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    if not Path(data_dir).is_dir():
        raise InputError("data folder not found", path=str(data_dir))
    if large:
        if name != "lee":
            raise SettingsError(f"--large applies to lee only, not {name!r}")
        return eval_lee(Path(data_dir), embeddings=embeddings, large=True)
    if features != "auto":
        if name != "ecbplus":
            raise SettingsError(f"features apply to ecbplus only, not {name!r}")
        return DATASETS[name](Path(data_dir), embeddings=embeddings, features=features)
    return DATASETS[name](Path(data_dir), embeddings=embeddings)


def write_paraphrase_model(data_dir: Path, out: Path) -> dict:
    """Fit both coefficient sets on MRPC train and write them as the shipped JSON."""
    from samestory.embed import available

    model: dict = {
        "source": "MRPC train split (msr_paraphrase_train.txt), python -m samestory.evaluate fit",
        "lexical": fit_paraphrase(data_dir, embeddings=False),
    }
    if available():
        model["embedding"] = {"embedder": "minilm", **fit_paraphrase(data_dir, embeddings=True)}
        model["cross"] = {"adapter": "cross_paraphrase.npz", **asdict(CrossBand())}
    out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    return model


def main(argv: list[str] | None = None) -> int:
    """``python -m samestory.evaluate fit --data DIR [--out FILE]``: regenerate the model."""
    parser = argparse.ArgumentParser(prog="python -m samestory.evaluate")
    parser.add_argument("action", choices=["fit"])
    parser.add_argument("--data", required=True, help="folder with msr_paraphrase_train.txt")
    default_out = Path(__file__).parent / "data" / "paraphrase.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    model = write_paraphrase_model(Path(args.data), args.out)
    print(f"wrote {args.out} ({', '.join(k for k in model if k != 'source')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
