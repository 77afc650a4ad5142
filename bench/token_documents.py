"""Step 3a: cleaned Lee and SemEval en-en documents: token states of 170-word chunks and compare's
scores per pair, into bench/data/docs_*.npz (slow: ~15 min).

Exploratory step; its figures are gathered in bench/results/token_alignment.json.
"""

import sys
import time

sys.path.insert(0, "bench")
from pathlib import Path

import numpy as np

from samestory.clean import clean
from samestory.compare import Comparer
from samestory.embed import Embedder
from samestory.evaluate import read_lee
from samestory.evaluate_stories import read_semeval

CH = 170


def chunks(text):
    w = text.split()
    return [" ".join(w[i : i + CH]) for i in range(0, max(1, len(w)), CH)]


def run(name, texts, pairs):
    t = time.time()
    cleaned = [clean(x).text for x in texts]
    cs = [chunks(c) for c in cleaned]
    flat = [c for cc in cs for c in cc]
    emb = Embedder(max_words=CH + 10)
    res = emb.token_states(flat)
    print(name, "states", len(flat), round(time.time() - t), flush=True)
    ids = np.concatenate([r[0] for r in res]).astype(np.int32)
    st = np.concatenate([r[1] for r in res]).astype(np.float16)
    off = np.cumsum([0] + [len(r[0]) for r in res])
    nch = np.array([len(c) for c in cs])
    comparer = Comparer(embeddings=True)
    sc = []
    for _k, (i, j, g) in enumerate(pairs):
        s = comparer.compare(texts[i], texts[j]).scores
        sc.append(
            [
                s.overall,
                s.lexical,
                -1.0 if s.entities is None else s.entities,
                max(s.aligned_a, s.aligned_b),
                g,
                i,
                j,
            ]
        )
    print(name, "compare", round(time.time() - t), flush=True)
    np.savez(
        f"bench/data/docs_{name}.npz",
        ids=ids,
        states=st,
        offsets=off,
        nchunks=nch,
        scores=np.array(sc),
    )


rows = read_semeval(Path("../shared/data/semeval2022_task8_sample"))
en = [r for r in rows if r["lang1"] == "en" and r["lang2"] == "en"]
docs, lp = read_lee(Path("../shared/data/lee2005"))
run("lee", docs, lp)
run(
    "semeval",
    [r["text1"] for r in en] + [r["text2"] for r in en],
    [(i, len(en) + i, -float(r["Overall"])) for i, r in enumerate(en)],
)
