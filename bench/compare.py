"""Bench: compare two ~1,000-word articles on one core (target: median < 50 ms, no embeddings).

Article a is several sample articles run together, b their copies and rewrites, so both
verbatim alignment and paraphrase pairing do real work. Reports the median of repeated runs,
the stages separately, and an anchor in the same run (rapidfuzz Indel opcodes over the same
words, the usual way to align two word sequences). With the embed extra it also times compare
from cold sentence vectors (target 300 ms) and its two embedding stages: the sentence pairs of
the aligner and the document leads of the semantic score; with the large model installed
(`make large-model`), compare with it too. Wall time and CPU time are both
kept: on a shared machine the CPU time of the one pinned core is the steadier figure.
Writes bench/results/compare.json.

    python bench/compare.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from samestory import Comparer
from samestory.align import align, split_sentences, tokenize
from samestory.clean import clean
from samestory.embed import available as embed_available
from samestory.samples import load

A_IDS = ["fish-wire", "flood-wire", "museum-original", "fish-independent-1", "comet-science"]
A_IDS += ["football-final"]
B_IDS = ["fish-rewrite", "flood-syndicated", "museum-rewrite", "fish-reedited", "library-opening"]
B_IDS += ["flood-independent", "central-bank-rates"]


def _articles() -> tuple[str, str]:
    docs = {d.id: d.text for d in load()}
    a = "\n\n".join(docs[i] for i in A_IDS)
    b = "\n\n".join(docs[i] for i in B_IDS)
    return a, b


def _median_ms(fn, repeat: int) -> tuple[float, float, float]:
    """(median, min) wall time and median CPU time in ms; the min shows the cost without
    other load, the CPU time the work itself (the process runs on one core)."""
    fn()  # warm up (imports, word list, caches)
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(times), min(times), statistics.median(cpu)


def _open_sentences(ca, cb) -> int:
    """How many sentences the aligner scores for paraphrase (the most it could embed)."""
    from samestory import similarity

    seen: list[int] = []
    real = similarity.paraphrase_matrix

    def counting(sents_a, sents_b, **kw):
        seen.append(len(sents_a) + len(sents_b))
        return real(sents_a, sents_b, **{**kw, "embeddings": False})

    similarity.paraphrase_matrix = counting
    try:
        align(ca, cb, embeddings=False)
    finally:
        similarity.paraphrase_matrix = real
    return sum(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    a, b = _articles()
    ca, cb = clean(a), clean(b)
    words = (len(tokenize(ca.text).words), len(tokenize(cb.text).words))
    lexical = Comparer(embeddings=False)
    result = lexical.compare(a, b)
    fresh = iter(range(10**9))

    def with_embeddings() -> None:
        # empty the sentence-vector cache and change the lead, so every vector is computed
        from samestory.similarity import _CROSSED, _VECTORS

        _VECTORS.clear()
        _CROSSED.clear()
        n = next(fresh)
        Comparer(embeddings=True).compare(f"Update {n}. " + a, f"Note {n}. " + b)

    from rapidfuzz.distance import Indel

    wa, wb = tokenize(ca.text).words, tokenize(cb.text).words
    timings = {
        "compare": _median_ms(lambda: lexical.compare(a, b), args.repeat),
        "clean (both)": _median_ms(lambda: (clean(a), clean(b)), args.repeat),
        "align": _median_ms(lambda: align(ca, cb), args.repeat),
        "split_sentences (both)": _median_ms(
            lambda: (split_sentences(ca.text), split_sentences(cb.text)), args.repeat
        ),
        "anchor: rapidfuzz Indel.opcodes on the words": _median_ms(
            lambda: Indel.opcodes(wa, wb), args.repeat
        ),
    }
    embedded = {}
    if embed_available():
        from samestory.similarity import _CROSSED, _VECTORS, document_similarity

        def cold(fn):
            def run() -> None:
                _VECTORS.clear()
                _CROSSED.clear()
                fn()

            return run

        with_embeddings()  # load the model once, outside the timing
        few = max(5, args.repeat // 3)
        timings["compare with embeddings (cold vectors)"] = _median_ms(with_embeddings, few)
        sentences = cold(lambda: align(ca, cb, paraphrase_threshold=0.6, embeddings=True))
        timings["  align with embeddings (cold)"] = _median_ms(sentences, few)
        leads = cold(lambda: document_similarity(ca.text, cb.text, embeddings=True))
        timings["  document leads (cold)"] = _median_ms(leads, few)
        from samestory import cross

        scored: list[int] = []
        real_logits = cross.CrossEncoder.logits

        def counting(self, pairs, **kw):
            scored.append(len(pairs))
            return real_logits(self, pairs, **kw)

        cross.CrossEncoder.logits = counting
        try:
            sentences()
        finally:
            cross.CrossEncoder.logits = real_logits
        embedded["sentences"] = len(_VECTORS)
        embedded["open sentences"] = _open_sentences(ca, cb)
        embedded["cross-encoded sentence pairs"] = sum(scored)
    from samestory import mpnet

    if mpnet.available():  # the larger document model (make large-model), from cold vectors

        def with_large() -> None:
            mpnet._vector.cache_clear()
            Comparer(large=True).compare(a, b)

        with_large()  # load it once, outside the timing
        timings["compare with the large model (cold)"] = _median_ms(with_large, 5)
    out = {
        "bench": "compare two articles, one core",
        "words": {"a": words[0], "b": words[1]},
        "repeat": args.repeat,
        "median_ms": {k.strip(): round(v[0], 2) for k, v in timings.items()},
        "min_ms": {k.strip(): round(v[1], 2) for k, v in timings.items()},
        "median_cpu_ms": {k.strip(): round(v[2], 2) for k, v in timings.items()},
        "embedded_per_compare": embedded,
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "target_ms": 50,
        "verdict": result.verdict,
        "passages": {
            "verbatim": sum(p.kind == "verbatim" for p in result.passages),
            "paraphrase": sum(p.kind == "paraphrase" for p in result.passages),
        },
        "embeddings": False,
        "with_embeddings_ms": timings.get("compare with embeddings (cold vectors)", (None,))[0],
        "target_with_embeddings_ms": 300,
        "with_large_model_ms": timings.get("compare with the large model (cold)", (None,))[0],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for name, (med, low, cpu) in timings.items():
        print(f"{name:46s} median {med:7.2f} ms  min {low:7.2f} ms  cpu {cpu:7.2f} ms")
    if embedded:
        print(f"embedded per compare: {embedded}")
    print(f"words a={words[0]} b={words[1]}, verdict {result.verdict}")
    path = Path(__file__).parent / "results" / "compare.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
