"""paraphrase_matrix speed: two 50-sentence articles (the aligner's case), lexical and embedded.

Run: ``nice .venv/bin/python bench/similarity.py``; writes bench/results/similarity.json
(median milliseconds of the repeats).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path

from embed import SENTENCES  # bench/embed.py: sentences written for the benchmarks

from samestory.embed import available
from samestory.similarity import _VECTORS, document_similarity, paraphrase_matrix


def variants(n: int, seed: int) -> list[str]:
    """n sentences: shuffled words of the benchmark sentences, so each is distinct."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = SENTENCES[i % len(SENTENCES)].split()
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


def median_ms(fn, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def main() -> None:
    a, b = variants(50, 1), variants(50, 2)
    doc_a, doc_b = " ".join(a), " ".join(b)
    paraphrase_matrix(a[:2], b[:2], embeddings=False)  # warm the IDF cache
    result = {
        "load_average_1min_before": round(os.getloadavg()[0], 2),
        "what": "paraphrase_matrix on 50 x 50 sentences; document_similarity of two ~900-word docs",
        "paraphrase_matrix_50x50_lexical_ms": median_ms(
            lambda: paraphrase_matrix(a, b, embeddings=False)
        ),
        "document_similarity_lexical_ms": median_ms(
            lambda: document_similarity(doc_a, doc_b, embeddings=False)
        ),
    }
    if available():

        def cold() -> None:
            _VECTORS.clear()
            paraphrase_matrix(a, b, embeddings=True)

        paraphrase_matrix(a[:2], b[:2], embeddings=True)  # load the model
        result["paraphrase_matrix_50x50_embedding_cold_ms"] = median_ms(cold, repeats=3)
        result["paraphrase_matrix_50x50_embedding_cached_ms"] = median_ms(
            lambda: paraphrase_matrix(a, b, embeddings=True)
        )
    result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    out = Path(__file__).parent / "results" / "similarity.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
