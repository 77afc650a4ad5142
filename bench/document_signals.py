"""Experiment: other document embeddings for compare's ``overall`` (issue 2, Lee target).

Chosen on SemEval-2022 Task 8 en-en pairs (354), never on Lee; Lee's Pearson r is only
reported. For every pair it computes compare's scores and, per document, MiniLM and USE
embeddings of the lead (what ships), of the cleaned text as given (punctuation kept), the
mean of sentence embeddings, and the mean of 100-word chunk embeddings. Each embedding
cosine is then put in overall's place for the semantic part
(``0.5 semantic + 0.4 lexical + 0.1 entities``, lifted by aligned coverage) and scored alone.
About 15 minutes on 2 busy cores (the SemEval texts are long).

    python bench/document_signals.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from samestory.align import split_sentences
from samestory.clean import clean
from samestory.compare import Comparer
from samestory.embed import default_embedder, lead
from samestory.evaluate import pearson, read_lee
from samestory.evaluate_stories import read_semeval
from samestory.relate import overall_score


def _mean_rows(vecs: np.ndarray, groups: list[int]) -> np.ndarray:
    out, k = [], 0
    for n in groups:
        m = vecs[k : k + n].mean(axis=0)
        out.append(m / np.linalg.norm(m))
        k += n
    return np.array(out)


def document_vectors(texts: list[str]) -> dict[str, np.ndarray]:
    """Each way of embedding a document, as unit rows."""
    mini, use = default_embedder("minilm"), default_embedder("use")
    cleaned = [clean(t).text for t in texts]
    out = {
        "minilm lead (shipped)": mini.embed([lead(c) for c in cleaned]),
        "minilm text": mini.embed(cleaned),
        "use text": use.embed(cleaned),
    }
    sents = [[c[s:e] for s, e in split_sentences(c)] or [c] for c in cleaned]
    flat = [s for ss in sents for s in ss]
    for name, emb in (("minilm", mini), ("use", use)):
        out[f"{name} sentence mean"] = _mean_rows(emb.embed(flat), [len(s) for s in sents])
    chunks = []
    for c in cleaned:
        words = c.split()
        chunks.append([" ".join(words[i : i + 100]) for i in range(0, max(1, len(words)), 100)])
    flat = [s for ss in chunks for s in ss]
    out["minilm chunk mean"] = _mean_rows(mini.embed(flat), [len(c) for c in chunks])
    return out


def study(texts: list[str], pairs: list[tuple[int, int, float]]) -> dict[str, dict[str, float]]:
    cosines = {
        name: [float(v[i] @ v[j]) for i, j, _ in pairs]
        for name, v in document_vectors(texts).items()
    }
    cosines["use + minilm mean"] = [
        (a + b) / 2
        for a, b in zip(cosines["minilm lead (shipped)"], cosines["use text"], strict=True)
    ]
    comparer = Comparer(embeddings=True)
    scored = [comparer.compare(texts[i], texts[j]).scores for i, j, _ in pairs]
    gold = [g for _, _, g in pairs]
    out = {"shipped overall": {"overall": round(pearson([s.overall for s in scored], gold), 4)}}
    for name, cos in cosines.items():
        overall = [
            overall_score(
                min(1.0, max(0.0, c)), s.lexical, s.entities, max(s.aligned_a, s.aligned_b)
            )
            for c, s in zip(cos, scored, strict=True)
        ]
        out[name] = {
            "overall": round(pearson(overall, gold), 4),
            "alone": round(pearson(cos, gold), 4),
        }
    return out


def semeval_en_en(data: Path) -> tuple[list[str], list[tuple[int, int, float]]]:
    """The SemEval-2022 Task 8 sample's English pairs as (texts, (i, j, -Overall))."""
    rows = read_semeval(data / "semeval2022_task8_sample")
    en = [r for r in rows if r["lang1"] == "en" and r["lang2"] == "en"]
    texts = [r["text1"] for r in en] + [r["text2"] for r in en]
    return texts, [(i, len(en) + i, -float(r["Overall"])) for i, r in enumerate(en)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    results = {"semeval en-en (chosen on)": study(*semeval_en_en(args.data))}
    print(json.dumps(results, indent=1), flush=True)
    results["lee (reported only)"] = study(*read_lee(args.data / "lee2005"))
    out = Path(__file__).parent / "results" / "document_signals.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
