"""Word shingles of cleaned text, hashed to 64-bit integers.

A word is a run of ``\\w`` characters of the casefolded text. A word's hash is FNV-1a over its
UTF-8 bytes, finished with the murmur3 64-bit mixer; a shingle's hash folds its words' hashes in
order (multiply-xor, then the mixer). A text shorter than ``ngram`` words has one shingle of all its
words (none if it has no words).

Two implementations compute exactly the same hashes: :func:`reference_shingle_hashes` (plain
Python, one text at a time, the definition) and :func:`shingle_batch` (a numba kernel over the
bytes of a whole batch of texts; ASCII texts are tokenised inside the kernel, other texts are
split into words by ``re`` first). Tests check they agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numba
import numpy as np

__all__ = [
    "jaccard",
    "jaccard_batch",
    "reference_shingle_hashes",
    "shingle_batch",
    "shingle_batch_details",
    "shingle_hashes",
    "words",
]

_WORD_RE = re.compile(r"\w+")
_MASK = (1 << 64) - 1
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_SHINGLE_SEED = 0x9E3779B97F4A7C15
_FOLD_PRIME = 0x9FB21C651E98DF25
# byte -> itself lowercased if part of a word (ASCII \w or any UTF-8 byte >= 0x80), else 0
_WORD_BYTE = np.array(
    [
        (c + 32 if 65 <= c <= 90 else c)
        if (c >= 0x80 or 97 <= c <= 122 or 65 <= c <= 90 or 48 <= c <= 57 or c == 95)
        else 0
        for c in range(256)
    ],
    dtype=np.uint8,
)


def words(text: str) -> list[str]:
    """Casefolded word tokens of ``text``."""
    return _WORD_RE.findall(text.casefold())


# --- reference (plain Python) ------------------------------------------------------------


def _fmix_py(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK
    h ^= h >> 33
    return h


def _word_hash_py(word: str) -> int:
    h = _FNV_OFFSET
    for byte in word.encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return _fmix_py(h)


def reference_shingle_hashes(text: str, ngram: int = 5) -> np.ndarray:
    """The definition of :func:`shingle_hashes` in plain Python (slow; for tests).

    Example:
        >>> bool((reference_shingle_hashes("a b c", 2) == shingle_hashes("A b, c", 2)).all())
        True
    """
    tokens = [_word_hash_py(w) for w in words(text)]
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    n = min(ngram, len(tokens))
    grams = set()
    for i in range(len(tokens) - n + 1):
        h = _SHINGLE_SEED
        for t in tokens[i : i + n]:
            h = ((h ^ t) * _FOLD_PRIME) & _MASK
        grams.add(_fmix_py(h))
    return np.array(sorted(grams), dtype=np.uint64)


# --- fast path (numba over the bytes of a batch) -----------------------------------------


@numba.njit(inline="always")
def _fmix(h: np.uint64) -> np.uint64:
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@numba.njit(cache=True, nogil=True)
def _shingle_kernel(buf, doc_offsets, ngram, table, unique):  # type: ignore[no-untyped-def]
    n_docs = len(doc_offsets) - 1
    # pass 1: word hashes of every document, and a hash of its whole word sequence
    tok = np.empty(len(buf) // 2 + 1, dtype=np.uint64)
    seq = np.empty(n_docs, dtype=np.uint64)
    tok_off = np.zeros(n_docs + 1, dtype=np.int64)
    nt = 0
    for d in range(n_docs):
        in_word = False
        h = np.uint64(0)
        for i in range(doc_offsets[d], doc_offsets[d + 1]):
            c = table[buf[i]]
            if c == 0:
                if in_word:
                    tok[nt] = _fmix(h)
                    nt += 1
                    in_word = False
                continue
            if not in_word:
                in_word = True
                h = np.uint64(_FNV_OFFSET)
            h = (h ^ np.uint64(c)) * np.uint64(_FNV_PRIME)
        if in_word:
            tok[nt] = _fmix(h)
            nt += 1
        tok_off[d + 1] = nt
        g = np.uint64(_SHINGLE_SEED)
        for k in range(tok_off[d], nt):
            g = (g ^ tok[k]) * np.uint64(_FOLD_PRIME)
        seq[d] = _fmix(g)
    # pass 2: shingles, sorted and unique per document (or as they come when not ``unique``)
    cap = 0
    for d in range(n_docs):
        m = tok_off[d + 1] - tok_off[d]
        if m > 0:
            cap += max(m - ngram + 1, 1)
    out = np.empty(cap, dtype=np.uint64)
    out_off = np.zeros(n_docs + 1, dtype=np.int64)
    pos = 0
    for d in range(n_docs):
        t0 = tok_off[d]
        m = tok_off[d + 1] - t0
        if m > 0:
            n = min(ngram, m)
            start = pos
            for i in range(m - n + 1):
                h = np.uint64(_SHINGLE_SEED)
                for k in range(n):
                    h = (h ^ tok[t0 + i + k]) * np.uint64(_FOLD_PRIME)
                out[pos] = _fmix(h)
                pos += 1
            if unique:
                seg = np.sort(out[start:pos])
                w = start
                for k in range(len(seg)):
                    if k == 0 or seg[k] != seg[k - 1]:
                        out[w] = seg[k]
                        w += 1
                pos = w
        out_off[d + 1] = pos
    if pos == cap:
        return out, out_off, np.diff(tok_off), seq
    return out[:pos].copy(), out_off, np.diff(tok_off), seq


def _encode(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    joined = "".join(texts)
    if joined.isascii():  # the usual batch: one join and one encode, not one per text
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)), out=offsets[1:])
        return np.frombuffer(joined.encode("ascii"), dtype=np.uint8), offsets
    parts = []
    for text in texts:
        if text.isascii():
            parts.append(text.encode("ascii"))
        else:
            # the kernel only knows ASCII word characters; other texts arrive pre-split
            parts.append(" ".join(words(text)).encode("utf-8", "surrogatepass"))
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.frombuffer(b"".join(parts), dtype=np.uint8), offsets


def shingle_batch(texts: Sequence[str], ngram: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many texts at once, as CSR arrays ``(values, offsets)``.

    The hashes of ``texts[i]`` are ``values[offsets[i]:offsets[i + 1]]``, sorted and unique,
    equal to ``shingle_hashes(texts[i], ngram)``.

    Example:
        >>> values, offsets = shingle_batch(["one two three", "", "one two three"], 2)
        >>> offsets.tolist()
        [0, 2, 2, 4]
    """
    values, offsets, _, _ = shingle_batch_details(texts, ngram)
    return values, offsets


def shingle_batch_details(
    texts: Sequence[str], ngram: int = 5, *, unique: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`shingle_batch` plus each text's word count and a hash of its word sequence.

    Two texts have the same sequence hash when they have the same casefolded words in the same
    order (punctuation and spacing aside): the key of exact-duplicate detection.

    With ``unique=False`` each text's shingle hashes come in text order, repeats included (the
    same set, unsorted; the per-text sort was a third of stage 1): enough for MinHash, whose
    minima do not care, and for :func:`jaccard_batch` with ``assume_sorted=False``.
    """
    buf, offsets = _encode(texts)
    if len(buf) == 0:
        n = len(texts)
        empty = np.full(n, _SHINGLE_SEED, dtype=np.uint64)
        return (
            np.zeros(0, dtype=np.uint64),
            np.zeros(n + 1, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            empty,
        )
    return _shingle_kernel(  # type: ignore[no-any-return]
        buf, offsets, int(ngram), _WORD_BYTE, unique
    )


def shingle_hashes(text: str, ngram: int = 5) -> np.ndarray:
    """Sorted unique uint64 hashes of the word ``ngram``-shingles of ``text``.

    A text shorter than ``ngram`` words yields one shingle of all its words (none if empty).

    Example:
        >>> len(shingle_hashes("The storm hit the coast on Monday.", 5))
        3
    """
    values, _ = shingle_batch([text], ngram)
    return values


# --- exact Jaccard -----------------------------------------------------------------------


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


@numba.njit(cache=True, nogil=True)
def _jaccard_kernel(va, oa, ia, vb, ob, ib):  # type: ignore[no-untyped-def]
    out = np.empty(len(ia), dtype=np.float64)
    for k in range(len(ia)):
        i, j = ia[k], ib[k]
        p, pe = oa[i], oa[i + 1]
        q, qe = ob[j], ob[j + 1]
        na, nb = pe - p, qe - q
        if na == 0 and nb == 0:
            out[k] = 1.0
            continue
        inter = 0
        while p < pe and q < qe:
            x, y = va[p], vb[q]
            if x == y:
                inter += 1
                p += 1
                q += 1
            elif x < y:
                p += 1
            else:
                q += 1
        out[k] = inter / (na + nb - inter)
    return out


@numba.njit(inline="always")
def _add(keys, stamp, flag, cur, x, mask, side):  # type: ignore[no-untyped-def]
    """Put ``x`` of ``side`` (1 a, 2 b) in the table: (1 if new to that side, 1 if in both)."""
    s = x & mask
    while stamp[s] == cur and keys[s] != x:  # linear probing
        s = (s + np.uint64(1)) & mask
    if stamp[s] != cur:
        stamp[s] = cur
        keys[s] = x
        flag[s] = side
        return 1, 0
    if side == 2 and flag[s] == 1:
        flag[s] = 3
        return 1, 1
    return 0, 0


@numba.njit(cache=True, nogil=True)
def _jaccard_hash_kernel(va, oa, ia, vb, ob, ib):  # type: ignore[no-untyped-def]
    # one open-addressing table reused for every pair: a slot belongs to the current pair
    # when its stamp is the pair's; its flag says which side holds the value (1 a, 2 b, 3 both)
    out = np.empty(len(ia), dtype=np.float64)
    size = 16
    for k in range(len(ia)):
        need = 2 * (oa[ia[k] + 1] - oa[ia[k]] + ob[ib[k] + 1] - ob[ib[k]])
        while size < need:
            size *= 2
    keys = np.empty(size, dtype=np.uint64)
    stamp = np.zeros(size, dtype=np.int64)
    flag = np.zeros(size, dtype=np.uint8)
    for k in range(len(ia)):
        i, j = ia[k], ib[k]
        pa, pb = oa[i + 1] - oa[i], ob[j + 1] - ob[j]
        if pa == 0 and pb == 0:
            out[k] = 1.0
            continue
        cap = 16
        while cap < 2 * (pa + pb):
            cap *= 2
        mask = np.uint64(cap - 1)
        cur = k + 1
        na = nb = inter = 0
        for p in range(oa[i], oa[i + 1]):
            na += _add(keys, stamp, flag, cur, va[p], mask, 1)[0]
        for q in range(ob[j], ob[j + 1]):
            new, both = _add(keys, stamp, flag, cur, vb[q], mask, 2)
            nb += new
            inter += both
        out[k] = inter / (na + nb - inter)
    return out


def jaccard_batch(
    a: tuple[np.ndarray, np.ndarray],
    ia: np.ndarray,
    b: tuple[np.ndarray, np.ndarray],
    ib: np.ndarray,
    *,
    assume_sorted: bool = True,
) -> np.ndarray:
    """Exact Jaccard of many pairs: set ``ia[k]`` of CSR ``a`` against set ``ib[k]`` of ``b``.

    Equal to ``jaccard`` on each pair. Sorted unique sets (``shingle_batch``) are merged, in
    a numba kernel; with ``assume_sorted=False`` the sets may come in any order with repeats
    (``shingle_batch_details(..., unique=False)``) and each pair goes through a hash table.
    """
    ia = np.ascontiguousarray(ia, dtype=np.int64)
    ib = np.ascontiguousarray(ib, dtype=np.int64)
    if len(ia) == 0:
        return np.zeros(0, dtype=np.float64)
    kernel = _jaccard_kernel if assume_sorted else _jaccard_hash_kernel
    return kernel(a[0], a[1], ia, b[0], b[1], ib)  # type: ignore[no-any-return]
