"""Step 2a: the head's inputs (token states + exact-match/idf/special flags per word-piece, the 21
features) and the folds, into bench/data/.

Exploratory step; its figures are gathered in bench/results/token_alignment.json.
"""

import sys

sys.path.insert(0, "bench")

import numpy as np
from token_alignment import mrpc_inputs, piece_words, stratified_folds
from tokenizers import Tokenizer

from samestory.embed import minilm_paths
from samestory.similarity import idf

train, test, lx_tr, lx_te = mrpc_inputs()
z = np.load("bench/data/token_states_mrpc.npz", allow_pickle=True)
texts = list(z["texts"])
pos = {t: i for i, t in enumerate(texts)}
tok = Tokenizer.from_file(str(minilm_paths()[1]))
ids, off = z["ids"], z["offsets"]
STATES = z["states"]
# per token: word string
words_of = []
for i in range(len(texts)):
    pieces = [tok.id_to_token(int(t)) for t in ids[off[i] : off[i + 1]]]
    words_of.append(piece_words(pieces))


def extras(i, j):
    wi, wj = words_of[i], set(words_of[j])
    out = []
    for w in wi:
        sp = w in ("[CLS]", "[SEP]")
        al = any(c.isalnum() for c in w) and not sp
        out.append([float(w in wj and al), (idf(w) / 8.0) if al else 0.0, float(sp), float(al)])
    return np.array(out, np.float32)


def pairs_arr(pairs, lx):
    ia = np.array([pos[a] for _, a, _ in pairs])
    ib = np.array([pos[b] for _, _, b in pairs])
    y = np.array([p[0] for p in pairs], np.float32)

    # pooled cosine
    def pooled(i):
        return (lambda v: v / np.linalg.norm(v))(
            STATES[off[i] : off[i + 1]].astype(np.float32).mean(0)
        )

    cos = np.array([pooled(i) @ pooled(j) for i, j in zip(ia, ib, strict=False)])
    ea = [extras(i, j) for i, j in zip(ia, ib, strict=False)]
    eb = [extras(j, i) for i, j in zip(ia, ib, strict=False)]
    return ia, ib, y, np.column_stack([lx, cos]).astype(np.float32), ea, eb


out = {}
for name, pairs, lx in (("tr", train, lx_tr), ("te", test, lx_te)):
    ia, ib, y, base, ea, eb = pairs_arr(pairs, lx)
    out[f"{name}_ia"], out[f"{name}_ib"], out[f"{name}_y"], out[f"{name}_base"] = ia, ib, y, base
    out[f"{name}_ea"] = np.concatenate(ea)
    out[f"{name}_eb"] = np.concatenate(eb)
    out[f"{name}_ea_off"] = np.cumsum([0] + [len(e) for e in ea])
    out[f"{name}_eb_off"] = np.cumsum([0] + [len(e) for e in eb])
np.savez("bench/data/head_input.npz", states=STATES, offsets=off, **out)
print("ok", max(np.diff(off)))

# the stratified folds of bench/token_alignment.py, for bench/token_head.py
fold_id = np.zeros(len(out["tr_y"]), int)
for k, f in enumerate(stratified_folds(out["tr_y"].astype(float), 10)):
    fold_id[f] = k
np.save("bench/data/folds.npy", fold_id)
