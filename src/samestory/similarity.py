"""Sentence- and document-level similarity: the paraphrase decision and the semantic score.

The paraphrase decision is a small logistic model over 20 lexical features of a sentence pair
(IDF-weighted word and stem overlap, word bi- and trigrams, character trigrams, numbers, names
and negation present on one side only, length, the words left unmatched, edit ratios), plus the
sentence-embedding cosine when the ``embed`` extra is installed. IDF comes from the
``wordfreq`` word list (no corpus is needed at run time). The coefficients were fit on the
MRPC train split only and ship in ``data/paraphrase.json``; regenerate them with
``python -m samestory.evaluate fit --data DIR``.

Every feature is computed for all sentence pairs at once with matrix products over small
bag-of-token matrices (``einsum``, not BLAS: its thread start-up costs more than these
products), so a 50 x 50 matrix costs milliseconds.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise

import numpy as np

PARAPHRASE_THRESHOLD = 0.5
"""A sentence pair whose :func:`paraphrase_matrix` value reaches this is a paraphrase."""

ALIGN_THRESHOLD = 0.6
"""The paraphrase probability a sentence pair needs to be aligned by ``compare`` (its default):
higher than the model's decision boundary, as a wrongly linked pair misleads a reader more
than a missed one. ``samestory eval mrpc`` reports the decision at both."""


@dataclass(frozen=True)
class CrossBand:
    """Which sentence pairs the cross-encoder decides: those whose lexical-model probability
    lies in [lo, hi) and whose two sentences share at least ``min_shared`` distinct words.
    The others keep the stage-1 probability (lexical + embedding cosine).

    lo and hi were chosen on an 80/20 split of MRPC train (``bench/cross_train.py dev``):
    the cross-encoder alone scored 0.821 accuracy on the 20%, this band 0.828; outside it the
    stage-1 model lost nothing, and below 0.2 lay 1.4% of the train paraphrases. 99.5% of
    MRPC train pairs share 4 or more words (MRPC's pairs were chosen for their overlap): with
    fewer a pair is unlike anything the cross-encoder learned from (it called "Ferry crews
    strike in Port Aldren" and "Bus drivers strike in Norhaven" a paraphrase), so the stage-1
    model keeps it. Deciding the band from the lexical model alone leaves the embedding
    cosine out of it: the sentences of the pairs in the band need no embedding.
    """

    lo: float = 0.2
    hi: float = 0.9
    min_shared: int = 4

    def select(
        self, lexical: np.ndarray, sents_a: Sequence[str], sents_b: Sequence[str]
    ) -> np.ndarray:
        """Boolean mask of the pairs in the band; ``lexical`` is (len(a), len(b)), or 1-D
        for the pairs ``(sents_a[k], sents_b[k])``."""
        mask = (lexical >= self.lo) & (lexical < self.hi)
        words_a: dict[int, set[str]] = {}
        words_b: dict[int, set[str]] = {}
        for idx in np.argwhere(mask).tolist():
            i, j = (idx[0], idx[0]) if mask.ndim == 1 else idx
            wa = words_a.setdefault(i, set(tokens(sents_a[i])))
            wb = words_b.setdefault(j, set(tokens(sents_b[j])))
            if len(wa & wb) < self.min_shared:
                mask[tuple(idx)] = False
        return mask


_TOKEN_RE = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+")
_MAX_IDF = 8.0
_CONTENT_IDF = 3.5  # words rarer than this count as content words
# Capitalised words that do not open a sentence: a cheap stand-in for names.
_NAME_RE = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+")
_NEGATIONS = frozenset({"not", "no", "never", "t"})  # "t" is what remains of "n't"
_FEATURES = (
    "word_dice",
    "word_min_cover",
    "word_max_cover",
    "stem_dice",
    "bigram_dice",
    "char3_cosine",
    "numbers_differ",
    "number_mismatch",
    "length_diff",
    "unmatched_max",
    "unmatched_min",
    "sorted_set_ratio",
    "edit_ratio",
    "unmatched_content_max",
    "unmatched_content_min",
    "name_mismatch",
    "negation_mismatch",
    "trigram_dice",
    "token_min_cover",
    "token_max_cover",
)
LEXICAL_FEATURES: tuple[str, ...] = _FEATURES


def tokens(text: str) -> list[str]:
    """Casefolded word and number tokens ("1,000" becomes "1000")."""
    return [t.replace(",", "") for t in _TOKEN_RE.findall(text.casefold())]


@lru_cache(maxsize=200_000)
def idf(token: str) -> float:
    """Inverse document frequency prior of a token, from the wordfreq list (0.5 to 8).

    Example:
        >>> idf("the") < idf("earthquake") < idf("zqxjv")
        True
    """
    from wordfreq import zipf_frequency

    # Zipf = log10(frequency per billion words); 8 - Zipf ~ log10(1 / frequency) - 1.
    return max(0.5, _MAX_IDF - zipf_frequency(token, "en"))


def _is_number(token: str) -> bool:
    return token[0].isdigit()


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x @ y.T without BLAS: for these small matrices its thread start-up costs more than the
    arithmetic, and on a busy machine far more (einsum without optimize runs its own loop)."""
    return np.einsum("ik,jk->ij", x, y)


def _unit_weight(token: str) -> float:
    return 1.0


def _content_weight(token: str) -> float:
    return 1.0 if idf(token) > _CONTENT_IDF else 0.0


def _dice(
    a: list[list[str]], b: list[list[str]], weight: Callable[[str], float] = _unit_weight
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted intersection and the two weighted sizes of every pair of token sets.

    Only tokens found on both sides can be shared, so the bag matrices hold just those
    columns (sorted, so that sums run in the same order in every process).
    """
    sets_a, sets_b = [set(r) for r in a], [set(r) for r in b]
    shared = sorted(set().union(*sets_a) & set().union(*sets_b))
    col = {t: k for k, t in enumerate(shared)}
    w = np.array([weight(t) for t in shared], dtype=np.float64)
    bag_a = np.zeros((len(a), len(shared)))
    bag_b = np.zeros((len(b), len(shared)))
    for bag, sets in ((bag_a, sets_a), (bag_b, sets_b)):
        for i, s in enumerate(sets):
            bag[i, [col[t] for t in s if t in col]] = 1.0
    if weight is _unit_weight:
        size_a = np.array([len(s) for s in sets_a], dtype=np.float64)[:, None]
        size_b = np.array([len(s) for s in sets_b], dtype=np.float64)[None, :]
    else:
        size_a = np.array([math.fsum(map(weight, s)) for s in sets_a])[:, None]
        size_b = np.array([math.fsum(map(weight, s)) for s in sets_b])[None, :]
    return _dot(bag_a * w, bag_b), size_a, size_b


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def _char_cosine(joined_a: list[str], joined_b: list[str]) -> np.ndarray:
    """Cosine of character-trigram count vectors of every pair of (token-joined) texts."""
    texts = [f" {t} " for t in (*joined_a, *joined_b)]
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    lengths = np.array([len(t) for t in texts])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # a trigram starts at every position but the last two of each text
    valid = np.ones(len(codes), dtype=bool)
    valid[np.concatenate([starts + lengths - 1, starts + lengths - 2])] = False
    pos = np.flatnonzero(valid)
    grams = (codes[pos] << 42) | (codes[pos + 1] << 21) | codes[pos + 2]
    row = np.repeat(np.arange(len(texts)), lengths - 2)
    _, col = np.unique(grams, return_inverse=True)
    width = int(col.max()) + 1
    counts = np.bincount(row * width + col, minlength=len(texts) * width)
    counts = counts.reshape(len(texts), width).astype(np.float32)
    norms = np.linalg.norm(counts, axis=1, keepdims=True)
    ca, cb = counts[: len(joined_a)], counts[len(joined_a) :]
    shared = ca.any(axis=0) & cb.any(axis=0)  # only these trigrams add to a dot product
    dots = _dot(ca[:, shared], cb[:, shared]).astype(np.float64)
    return _safe_div(dots, norms[: len(joined_a)] * norms[len(joined_a) :].T)


def lexical_features(sents_a: Sequence[str], sents_b: Sequence[str]) -> np.ndarray:
    """(len(a), len(b), k) lexical features of every sentence pair (see ``LEXICAL_FEATURES``)."""
    from rapidfuzz import fuzz, process

    ta = [tokens(s) for s in sents_a]
    tb = [tokens(s) for s in sents_b]
    words_a = [[t for t in row if not t[0].isdigit()] for row in ta]
    words_b = [[t for t in row if not t[0].isdigit()] for row in tb]
    inter, wa, wb = _dice(words_a, words_b, idf)
    word_dice = _safe_div(2 * inter, wa + wb)
    cover_a, cover_b = _safe_div(inter, wa), _safe_div(inter, wb)
    unmatched_a, unmatched_b = (wa - inter) / 10.0, (wb - inter) / 10.0
    si, sa, sb = _dice([[t[:5] for t in r] for r in words_a], [[t[:5] for t in r] for r in words_b])
    bi, ba, bb = _dice(
        [[f"{x} {y}" for x, y in pairwise(r)] for r in ta],
        [[f"{x} {y}" for x, y in pairwise(r)] for r in tb],
    )
    numbers_a = [[t for t in r if t[0].isdigit()] for r in ta]
    numbers_b = [[t for t in r if t[0].isdigit()] for r in tb]
    ni, na, nb = _dice(numbers_a, numbers_b)
    num_only = na + nb - 2 * ni
    la = np.array([len(r) for r in ta], dtype=np.float64)[:, None]
    lb = np.array([len(r) for r in tb], dtype=np.float64)[None, :]
    joined_a = [" ".join(r) for r in ta]
    joined_b = [" ".join(r) for r in tb]
    sorted_a = [" ".join(sorted(set(r))) for r in ta]
    sorted_b = [" ".join(sorted(set(r))) for r in tb]
    ci, ca, cb = _dice(
        [[t.casefold() for t in _NAME_RE.findall(s)] for s in sents_a],
        [[t.casefold() for t in _NAME_RE.findall(s)] for s in sents_b],
    )
    ki, ka, kb = _dice(words_a, words_b, _content_weight)
    ti, tsa, tsb = _dice(
        [[" ".join(g) for g in zip(r, r[1:], r[2:], strict=False)] for r in ta],
        [[" ".join(g) for g in zip(r, r[1:], r[2:], strict=False)] for r in tb],
    )
    oi, oa, ob = _dice(ta, tb)
    neg_a = np.array([bool(_NEGATIONS.intersection(r)) for r in ta])[:, None]
    neg_b = np.array([bool(_NEGATIONS.intersection(r)) for r in tb])[None, :]
    feats = [
        word_dice,
        np.minimum(cover_a, cover_b),
        np.maximum(cover_a, cover_b),
        _safe_div(2 * si, sa + sb),
        _safe_div(2 * bi, ba + bb),
        _char_cosine(joined_a, joined_b),
        (num_only > 0).astype(np.float64),
        _safe_div(num_only, na + nb - ni),
        _safe_div(np.abs(la - lb), np.maximum(la, lb)),
        np.maximum(unmatched_a, unmatched_b),
        np.minimum(unmatched_a, unmatched_b),
        process.cdist(sorted_a, sorted_b, scorer=fuzz.ratio, dtype=np.float64) / 100,
        process.cdist(joined_a, joined_b, scorer=fuzz.ratio, dtype=np.float64) / 100,
        np.maximum(ka - ki, kb - ki),
        np.minimum(ka - ki, kb - ki),
        _safe_div(ca + cb - 2 * ci, ca + cb - ci),
        (neg_a != neg_b).astype(np.float64),
        _safe_div(2 * ti, tsa + tsb),
        _safe_div(oi, np.minimum(oa, ob)),
        _safe_div(oi, np.maximum(oa, ob)),
    ]
    shape = (len(sents_a), len(sents_b))
    return np.stack([np.broadcast_to(f, shape) for f in feats], axis=-1)


@lru_cache(maxsize=1)
def _shipped_model() -> dict:
    path = resources.files("samestory") / "data" / "paraphrase.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _use_embeddings(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    from samestory.embed import available

    return available()


def _logistic(feats: np.ndarray, params: dict) -> np.ndarray:
    x = (feats - np.asarray(params["mean"])) / np.asarray(params["scale"])
    z = np.einsum("...k,k->...", x, np.asarray(params["coef"])) + params["intercept"]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


_VECTORS: OrderedDict[str, np.ndarray] = OrderedDict()
_VECTORS_MAX = 20_000
_CROSSED: OrderedDict[tuple[str, str], float] = OrderedDict()  # cross-encoder probabilities


def sentence_vectors(sents: Sequence[str]) -> np.ndarray:
    """Sentence embeddings from the shared default embedder (needs the ``embed`` extra).

    Recently seen sentences come from an in-process cache, so comparing one article with
    many others embeds it once.
    """
    from samestory.embed import default_embedder

    missing = list(dict.fromkeys(s for s in sents if s not in _VECTORS))
    if missing:
        for sent, vec in zip(missing, default_embedder().embed(missing), strict=True):
            _VECTORS[sent] = vec
        while len(_VECTORS) > _VECTORS_MAX:
            _VECTORS.popitem(last=False)
    dim = default_embedder().dim
    out = np.zeros((len(sents), dim), dtype=np.float32)
    for i, sent in enumerate(sents):
        vec = _VECTORS.get(sent)
        if vec is None:  # evicted while this call filled the cache (more than the cache holds)
            vec = default_embedder().embed([sent])[0]
        out[i] = vec
    return out


def paraphrase_matrix(
    sents_a: Sequence[str],
    sents_b: Sequence[str],
    *,
    embeddings: bool | None = None,
    at_least: float | None = None,
) -> np.ndarray:
    """(len(a), len(b)) float matrix in [0, 1]: how likely each sentence pair is a paraphrase.

    Args:
        sents_a: sentences of one side.
        sents_b: sentences of the other side.
        embeddings: add the sentence-embedding cosine as a feature, and let the
            cross-encoder decide the pairs of :class:`CrossBand`; ``None`` (default) means
            "when the embed extra is installed" (``SAMESTORY_NO_EMBED=1`` turns it off).
        at_least: only the pairs that could reach this probability matter to the caller.
            A sentence is embedded only when one of its pairs outside the cross-encoder's
            band could reach it even with a cosine of 1 (the most the cosine can add); a
            pair left out holds that upper bound, which is below ``at_least``. Pairs that
            reach it score exactly as without ``at_least``. ``None`` (default) embeds every
            sentence.

    Example:
        >>> m = paraphrase_matrix(["The minister resigned on Monday."],
        ...                       ["On Monday the minister resigned.", "It rained."])
        >>> bool(m[0, 0] >= PARAPHRASE_THRESHOLD > m[0, 1])
        True
    """
    if not sents_a or not sents_b:
        return np.zeros((len(sents_a), len(sents_b)), dtype=np.float64)
    feats = lexical_features(sents_a, sents_b)
    model = _shipped_model()
    if _use_embeddings(embeddings) and "embedding" in model:
        params = model["embedding"]
        band = cross_band(model)
        lexical = _logistic(feats, model["lexical"])
        crossed = np.zeros(lexical.shape, dtype=bool)
        if band is not None:
            crossed = band.select(lexical, sents_a, sents_b)
        rows, cols = _worth_embedding(feats, params, at_least, skip=crossed)
        cos = np.ones(feats.shape[:2])  # the upper bound, for the pairs not embedded
        if rows and cols:
            # one call for both sides: fewer, fuller batches of like length
            vecs = sentence_vectors([sents_a[i] for i in rows] + [sents_b[j] for j in cols])
            cos[np.ix_(rows, cols)] = _dot(vecs[: len(rows)], vecs[len(rows) :])
        feats = np.concatenate([feats, cos[..., None]], axis=-1)
        probs = _logistic(feats, params)
        probs[crossed] = cross_probabilities(sents_a, sents_b, crossed)
    else:
        probs = _logistic(feats, model["lexical"])
    empty_a = np.array([not tokens(s) for s in sents_a])
    empty_b = np.array([not tokens(s) for s in sents_b])
    probs[empty_a, :] = 0.0
    probs[:, empty_b] = 0.0
    return probs


def cross_band(model: dict | None = None) -> CrossBand | None:
    """The pairs the cross-encoder decides, as the shipped model says; ``None`` when the
    cross-encoder cannot run (the embed extra or onnx missing) or the model has none."""
    from samestory import cross

    model = _shipped_model() if model is None else model
    if "cross" not in model or not cross.available():
        return None
    fields = {k: model["cross"][k] for k in asdict(CrossBand()) if k in model["cross"]}
    return CrossBand(**fields)


def cross_probabilities(
    sents_a: Sequence[str], sents_b: Sequence[str], mask: np.ndarray
) -> np.ndarray:
    """The cross-encoder's paraphrase probabilities of the pairs in ``mask``, in the order
    ``probs[mask]`` reads them (``mask`` as in :meth:`CrossBand.select`). Recently scored
    pairs come from an in-process cache, as sentence vectors do."""
    from samestory.cross import default_cross_encoder

    index = np.argwhere(mask).tolist()
    if mask.ndim == 1:
        pairs = [(sents_a[k], sents_b[k]) for (k,) in index]
    else:
        pairs = [(sents_a[i], sents_b[j]) for i, j in index]
    missing = list(dict.fromkeys(p for p in pairs if p not in _CROSSED))
    if missing:
        z = default_cross_encoder().logits(missing)
        fresh = dict(zip(missing, 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))), strict=True))
        _CROSSED.update(fresh)
        while len(_CROSSED) > _VECTORS_MAX:
            _CROSSED.popitem(last=False)
    else:
        fresh = {}
    return np.array([fresh.get(p, _CROSSED.get(p)) for p in pairs], dtype=np.float64)


def _worth_embedding(
    feats: np.ndarray, params: dict, at_least: float | None, *, skip: np.ndarray
) -> tuple[list[int], list[int]]:
    """The sentences of each side with a pair that reaches ``at_least`` at a cosine of 1,
    not counting the pairs in ``skip`` (the cross-encoder's).

    The cosine is the model's last feature and the only one from embeddings; with any other
    model shape (or no ``at_least``) every sentence is worth embedding.
    """
    everything = list(range(feats.shape[0])), list(range(feats.shape[1]))
    if at_least is None or len(params["coef"]) != feats.shape[-1] + 1 or params["coef"][-1] < 0:
        return everything
    best = np.concatenate([feats, np.ones((*feats.shape[:2], 1))], axis=-1)
    could = (_logistic(best, params) >= at_least) & ~skip
    return np.flatnonzero(could.any(axis=1)).tolist(), np.flatnonzero(could.any(axis=0)).tolist()


def _tfidf(text: str, idf_of: dict[str, float] | None) -> dict[str, float]:
    counts = Counter(t for t in tokens(text) if not _is_number(t) or len(t) > 2)
    vec = {}
    for t, c in counts.items():
        weight = idf(t) if idf_of is None else idf_of.get(t, max(idf_of.values(), default=1.0))
        vec[t] = (1.0 + math.log(c)) * weight
    return vec


def lexical_document_similarity(
    text_a: str, text_b: str, *, idf_of: dict[str, float] | None = None
) -> float:
    """Cosine of sublinear TF-IDF word vectors (IDF from wordfreq unless ``idf_of`` is given)."""
    va, vb = _tfidf(text_a, idf_of), _tfidf(text_b, idf_of)
    dot = sum(w * vb[t] for t, w in va.items() if t in vb)
    na = math.sqrt(sum(w * w for w in va.values()))
    nb = math.sqrt(sum(w * w for w in vb.values()))
    return dot / (na * nb) if na and nb else 0.0


def embedding_document_similarity(
    text_a: str, text_b: str, *, embeddings: bool | None = None, large: bool = False
) -> float | None:
    """Embedding cosine of the two documents' leads, clipped to [0, 1]; ``None`` without
    embeddings (``embeddings=False``, or the embed extra missing when it is ``None``).

    ``large``: by all-mpnet-base-v2 (:mod:`samestory.mpnet`) instead of MiniLM, whatever
    ``embeddings`` says (it raises MissingDependency when the model is not installed)."""
    if not large and not _use_embeddings(embeddings):
        return None
    if not tokens(text_a) or not tokens(text_b):
        return 0.0
    from samestory.embed import lead

    if large:
        from samestory.mpnet import default_model

        va, vb = default_model().embed([lead(text_a), lead(text_b)])
    else:
        va, vb = sentence_vectors([lead(text_a), lead(text_b)])
    return round(min(1.0, max(0.0, float(va @ vb))), 6)


def document_similarity(text_a: str, text_b: str, *, embeddings: bool | None = None) -> float:
    """Graded semantic similarity of two whole (cleaned) documents, in [0, 1].

    Lexical TF-IDF cosine out of the box; with the embed extra, the mean of that and
    :func:`embedding_document_similarity`.

    Example:
        >>> a = "Floods forced thousands from their homes in the river valley."
        >>> document_similarity(a, a)
        1.0
    """
    if not tokens(text_a) or not tokens(text_b):
        return 0.0
    lexical = min(1.0, max(0.0, lexical_document_similarity(text_a, text_b)))
    semantic = embedding_document_similarity(text_a, text_b, embeddings=embeddings)
    if semantic is None:
        return round(lexical, 6)
    return round(min(1.0, max(0.0, (lexical + semantic) / 2)), 6)
