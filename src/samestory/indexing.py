"""What the index computes and keeps of each document (the store's per-document stage).

- :class:`Featurizer`: cleaned-text key, shingle fingerprint and LSH band keys of texts; plain
  and picklable, so batches can be computed in worker processes (:func:`featurize`).
- the shingle fingerprint: the sorted unique upper 24 bits of the 64-bit shingle hashes,
  packed in 3 bytes a shingle; :func:`overlap` gives Jaccard and containment on it, exact up
  to the ~n·m/2²⁴ different shingles that share their upper bits (0.002 of a shingle for two
  200-shingle articles, 1.5 in 5,000 for two 5,000-shingle ones).
- band keys: the upper 32 bits of each LSH band hash as a signed 32-bit integer (4 bytes in
  SQLite instead of 8); a chance collision only adds a candidate that verification drops.
- :class:`Codec`: a document (text and metadata) as one zstandard record compressed with a
  dictionary that is kept in the database, so the record decodes the same whichever word list
  or zstandard is installed later: new files a dictionary trained on English-like text made
  from the word list (:func:`trained_zdict`); files made before the ``zstd-dict-v2`` format
  the word list itself as raw content, and before ``zstd-rawdict-v1`` raw deflate with it
  (both still read and written).
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import os
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np
import orjson
import xxhash

from samestory.clean import clean_text, normalize_for_key
from samestory.config import CleanConfig, MinHashConfig
from samestory.document import Document
from samestory.ingest import Fields, LineSpan, Record, Skipped, has_float, to_documents
from samestory.lsh import band_keys
from samestory.minhash import signatures_csr
from samestory.pool import worker_context
from samestory.shingle import shingle_batch_details

__all__ = [
    "Codec",
    "Features",
    "Featurizer",
    "Prepared",
    "Preparer",
    "Row",
    "band_rows",
    "best_overlaps",
    "featurize",
    "key64",
    "overlap",
    "pack_fingerprint",
    "pair_overlaps",
    "record_fields",
    "text_key",
    "text_keys",
    "unpack_fingerprint",
]


def key64(text: str) -> int:
    """A signed 64-bit key of a string (xxh3), as SQLite stores integers."""
    value = xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))
    return value - (1 << 64) if value >= 1 << 63 else value


class Features(NamedTuple):
    """What the index keeps to recognise and find a document."""

    text_key: int | None  # key of the normalized cleaned text; None when it is empty
    shingles: bytes  # the shingle fingerprint (see pack_fingerprint)
    bands: bytes  # the signed LSH band keys, 4 little-endian bytes each; none for an empty text

    def band_list(self) -> list[int]:
        """The band keys as integers."""
        return np.frombuffer(self.bands, dtype="<i4").tolist()


@dataclass(frozen=True, slots=True)
class Featurizer:
    """Computes :class:`Features` of texts with fixed settings."""

    config: MinHashConfig
    clean_config: CleanConfig
    bands: int
    rows: int

    def __call__(self, texts: list[tuple[str, str]]) -> list[Features]:
        """The features of each (text, lang), vectorized over the whole list."""
        cc = self.clean_config
        # the bulk paths (equal to clean().text, shingle_hashes and signatures, and tested so)
        # whitespace is not collapsed: shingles and the text key only need the words
        cleaned = [clean_text(t, config=cc, lang=lang or "en", collapse=False) for t, lang in texts]
        # each text's shingles in text order, repeats kept (half the work of sorted sets):
        # MinHash takes minima and the fingerprints sort and dedupe their own values
        values, offsets, _, _ = shingle_batch_details(cleaned, self.config.ngram, unique=False)
        sigs = signatures_csr(values, offsets, self.config)
        full = band_keys(sigs, self.bands, self.rows)
        # one bytes object a document: pickled to the storer and joined there as one array
        # (14 Python ints a document cost ~3 us in the storer alone)
        keys = ((full >> np.uint64(32)).astype(np.int64) - (1 << 31)).astype("<i4").tobytes()
        width = 4 * self.bands
        prints, bounds = _fingerprints(values, offsets)
        out = []
        for i, k in enumerate(text_keys(cleaned)):
            a, b = bounds[i], bounds[i + 1]
            bands = keys[width * i : width * (i + 1)] if b > a else b""
            out.append(Features(k, prints[3 * a : 3 * b], bands))
        return out


def text_key(cleaned: str) -> int | None:
    """``key64(normalize_for_key(cleaned))``, or None for a text with no words: the key that
    recognises a re-added document with identical text."""
    return text_keys([cleaned])[0]


def text_keys(texts: list[str]) -> list[int | None]:
    """:func:`text_key` of each text. The ASCII texts (most news) are lowered and their
    whitespace collapsed in one compiled pass over all their bytes (~3x faster, the same
    keys)."""
    keys: list[int | None] = [None] * len(texts)
    ascii = []
    for i, text in enumerate(texts):
        if text.isascii():
            ascii.append(i)
        else:
            norm = normalize_for_key(text)
            keys[i] = key64(norm) if norm else None
    if not ascii:
        return keys
    data = np.frombuffer("".join([texts[i] for i in ascii]).encode("ascii"), dtype=np.uint8)
    starts = np.zeros(len(ascii) + 1, dtype=np.int64)
    np.cumsum([len(texts[i]) for i in ascii], out=starts[1:])
    out = np.empty(len(data), dtype=np.uint8)
    ends = np.empty(len(ascii), dtype=np.int64)
    _ascii_keys(data, starts, _LOWER, out, ends)
    view = memoryview(out)
    digest = xxhash.xxh3_64_intdigest
    for i, a, b in zip(ascii, starts.tolist(), ends.tolist(), strict=False):
        if b > a:
            value = digest(view[a:b])
            keys[i] = value - (1 << 64) if value >= 1 << 63 else value
    return keys


# ASCII byte -> itself lowered, 0 for whitespace (what ``str.split`` splits ASCII at: space,
# \t-\r and \x1c-\x1f)
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[65:91] += 32
_LOWER[[32, *range(9, 14), *range(28, 32)]] = 0


@numba.njit(cache=True, nogil=True)
def _ascii_keys(
    data: np.ndarray, starts: np.ndarray, lower: np.ndarray, out: np.ndarray, ends: np.ndarray
) -> None:  # pragma: no cover - compiled
    """For each text t (ASCII bytes ``data[starts[t]:starts[t + 1]]``):
    ``out[starts[t]:ends[t]]`` = ``" ".join(text.split()).lower()``. Every byte is written
    and the end moves on unless it is whitespace after whitespace (no branch to mispredict:
    2x faster on news)."""
    for t in range(len(ends)):
        first = n = starts[t]
        after_space = True  # leading whitespace is dropped
        for j in range(starts[t], starts[t + 1]):
            byte = lower[data[j]]
            space = byte == 0
            out[n] = 32 if space else byte
            n += not (space and after_space)
            after_space = space
        if n > first and out[n - 1] == 32:
            n -= 1  # one trailing space
        ends[t] = n


def _fingerprints(values: np.ndarray, offsets: np.ndarray) -> tuple[bytes, list[int]]:
    """The packed fingerprints of every document of a CSR batch, back to back, and where
    each starts (in values, counted in 3-byte values): each document's values sorted alone by
    a compiled radix sort and packed in the same loop."""
    out = np.empty(3 * len(values), dtype=np.uint8)
    bounds = np.empty(len(offsets), dtype=np.int64)
    _sorted_uniques(values, offsets, out, bounds)
    return out[: 3 * bounds[-1]].tobytes(), bounds.tolist()


@numba.njit(cache=True, nogil=True)
def _sorted_uniques(
    values: np.ndarray, offsets: np.ndarray, out: np.ndarray, bounds: np.ndarray
) -> None:  # pragma: no cover - compiled
    """out: the sorted distinct upper 24 bits of each document's hashes, back to back, as
    :func:`pack_fingerprint` packs them (3 little-endian bytes each); bounds[d]: where
    document d's start, in values (bounds[-1]: the total).

    Each document's values are sorted by three passes of an 8-bit radix sort: 5x faster than
    ``np.sort`` on the ~160 values of a news article (1.1 against 5.6 us), the same order.
    """
    longest = 0
    for d in range(len(offsets) - 1):
        longest = max(longest, offsets[d + 1] - offsets[d])
    a = np.empty(longest, dtype=np.uint32)
    b = np.empty(longest, dtype=np.uint32)
    count = np.empty(256, dtype=np.int64)
    m = 0
    for d in range(len(offsets) - 1):
        bounds[d] = m
        lo, n = offsets[d], offsets[d + 1] - offsets[d]
        for i in range(n):
            a[i] = np.uint32(values[lo + i] >> np.uint64(40))
        for shift in (0, 8, 16):  # least significant digit first; each pass is stable
            count[:] = 0
            for i in range(n):
                count[(a[i] >> shift) & 255] += 1
            start = 0
            for k in range(256):
                c = count[k]
                count[k] = start
                start += c
            for i in range(n):
                k = (a[i] >> shift) & 255
                b[count[k]] = a[i]
                count[k] += 1
            a, b = b, a
        last = np.uint32(1 << 24)  # no 24-bit value
        for i in range(n):
            v = a[i]
            if v != last:
                out[3 * m] = v & 255
                out[3 * m + 1] = (v >> 8) & 255
                out[3 * m + 2] = v >> 16
                m += 1
                last = v
    bounds[len(offsets) - 1] = m


class Row(NamedTuple):
    """A document ready to store: its keys, its packed record and its features."""

    key: bytes  # the id, UTF-8 (a lone surrogate kept)
    url_key: int | None  # key of source+url; None without a url
    record: bytes  # the document packed by the Codec
    features: Features


class Prepared(NamedTuple):
    """What :class:`Preparer` makes of one batch."""

    docs: list[Document]  # the documents read from records, when asked to keep them
    rows: list[Row]
    skipped: list[Skipped]  # the records that gave no document, and why

    def __reduce__(self) -> tuple[Any, ...]:
        # rows travel from a worker as plain tuples: unpickling a named tuple runs its Python
        # __new__, ~6 us a row in the process that stores them (1.3 us as plain tuples)
        plain = [(r.key, r.url_key, r.record, tuple(r.features)) for r in self.rows]
        return _prepared, (self.docs, plain, self.skipped)


def _prepared(docs: list[Document], plain: list[tuple[Any, ...]], skipped: list[Skipped]) -> Any:
    new = tuple.__new__
    rows = [new(Row, (key, url, record, new(Features, f))) for key, url, record, f in plain]
    return Prepared(docs, rows, skipped)


@dataclass(frozen=True, slots=True)
class Preparer:
    """Everything ``Index.add`` computes of a batch before it writes it: the CPU-bound part,
    so it can run in worker processes (:func:`featurize`).

    A batch is a list of Documents, or (with ``fields``) raw input records as an
    :data:`~samestory.ingest.Batch` or a :class:`~samestory.ingest.LineSpan` of a JSONL file,
    read into Documents here (in the worker); ``keep`` returns those Documents too.
    """

    featurizer: Featurizer
    codec: Codec
    fields: Fields | None = None
    keep: bool = False

    def __call__(self, batch: Any) -> Prepared:
        docs, skipped = batch, []
        if self.fields is not None:
            if isinstance(batch, LineSpan):
                batch = batch.read()
            docs, skipped = to_documents(
                (
                    Record(path, line, kind, raw)
                    for path, line, kind, raw in zip(*batch, strict=True)
                    if kind != "json" or raw.strip()  # blank JSONL lines are not records
                ),
                self.fields,
            )
        feats = self.featurizer([(d.text, d.lang) for d in docs])
        rows = [
            Row(
                d.id.encode("utf-8", "surrogatepass"),
                key64(f"{d.source}\x00{d.url}") if d.url else None,
                self.codec.pack(d),
                f,
            )
            for d, f in zip(docs, feats, strict=True)
        ]
        return Prepared(docs if self.keep and self.fields is not None else [], rows, skipped)


def band_rows(rows: Iterable[tuple[int, Features]]) -> np.ndarray:
    """The band rows (key, n) of documents (row n, features) as ``key << 32 | n`` int64
    values, sorted: the (key, n) order, as the keys are signed 32-bit."""
    rows = list(rows)
    keys = np.frombuffer(b"".join([f.bands for _, f in rows]), dtype="<i4").astype(np.int64)
    counts = [len(f.bands) // 4 for _, f in rows]
    ns = np.repeat(np.array([n for n, _ in rows], dtype=np.int64), counts)
    return np.sort((keys << 32) | ns)


def pack_fingerprint(values: np.ndarray) -> bytes:
    """Sorted 24-bit values as 3 little-endian bytes each."""
    return np.ascontiguousarray(values, dtype="<u4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def unpack_fingerprint(blob: bytes) -> np.ndarray:
    """The sorted uint32 values of a packed fingerprint."""
    out = np.zeros((len(blob) // 3, 4), dtype=np.uint8)
    out[:, :3] = np.frombuffer(blob, dtype=np.uint8).reshape(-1, 3)
    return out.view("<u4").ravel()


def overlap(a: bytes, b: bytes) -> tuple[float, float, float]:
    """Jaccard, containment of a in b, and of b in a, of two shingle fingerprints."""
    x, y = unpack_fingerprint(a), unpack_fingerprint(b)
    if not len(x) or not len(y):
        return 0.0, 0.0, 0.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter), inter / len(x), inter / len(y)


def best_overlaps(query: bytes, prints: list[bytes]) -> np.ndarray:
    """The best of Jaccard and both containments of the query's fingerprint with each of
    ``prints``: ``max(overlap(query, p))`` for all of them at once."""
    return pair_overlaps([query] * len(prints), prints)


def pair_overlaps(left: list[bytes], right: list[bytes]) -> np.ndarray:
    """``max(overlap(a, b))`` of each pair of fingerprints ``(left[i], right[i])``: one
    compiled merge over all the pairs instead of a few array operations per pair."""
    if not left:
        return np.zeros(0)
    a, b = unpack_fingerprint(b"".join(left)), unpack_fingerprint(b"".join(right))
    a_off = np.concatenate(([0], np.cumsum([len(p) // 3 for p in left], dtype=np.int64)))
    b_off = np.concatenate(([0], np.cumsum([len(p) // 3 for p in right], dtype=np.int64)))
    inter = np.zeros(len(left), dtype=np.int64)
    _shared(a, a_off, b, b_off, inter)
    x, y = np.diff(a_off), np.diff(b_off)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.maximum(inter / (x + y - inter), np.maximum(inter / x, inter / y))
    return np.where((x > 0) & (y > 0), best, 0.0)


@numba.njit(cache=True, nogil=True)
def _shared(
    a: np.ndarray, a_off: np.ndarray, b: np.ndarray, b_off: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """out[p]: values shared by the sorted runs a[a_off[p]:a_off[p+1]] and b[b_off[p]:...]."""
    for p in range(len(out)):
        i, i_end, j, j_end = a_off[p], a_off[p + 1], b_off[p], b_off[p + 1]
        shared = 0
        while i < i_end and j < j_end:
            if a[i] == b[j]:
                shared += 1
                i += 1
                j += 1
            elif a[i] < b[j]:
                i += 1
            else:
                j += 1
        out[p] = shared


def featurize(
    batches: Iterable[Any], prepare: Preparer, *, workers: int = 1, ahead: int = 0
) -> Iterator[tuple[Any, Prepared]]:
    """Each batch with what ``prepare`` made of it, in order; ``workers`` processes if > 1.

    Batches are read lazily and at most ``2 * workers + 1 + ahead`` are in flight, so this
    process reads the next batches and stores the finished ones while the workers compute
    (``ahead``: batches the caller takes at once before it stores them, so the workers keep
    computing meanwhile).
    """
    if workers <= 1:
        for batch in batches:
            yield batch, prepare(batch)
        return
    from concurrent.futures import ProcessPoolExecutor

    # load the kernels and the word list here, once: forked workers inherit them
    Preparer(prepare.featurizer, prepare.codec)([Document("Warm the work-ers up.")])
    with ProcessPoolExecutor(workers, mp_context=worker_context(), initializer=_worker) as pool:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append((batch, pool.submit(prepare, batch)))
            if len(pending) > 2 * workers + ahead:
                done, first = pending.popleft()
                yield done, first.result()
        while pending:
            done, first = pending.popleft()
            yield done, first.result()


# the workers' niceness: the process that reads their results and writes them is the one serial
# stage of an add; when the workers outnumber the cores left to them, the scheduler gives them
# an equal share and that process waits for its turn (2 cores: a 100k add 6% faster, 1M 25%)
_WORKER_NICE = 5


def _worker() -> None:
    """A featurize worker's start: the garbage collector on (a caller may have paused it,
    and forked workers inherit that), and a lower priority than the process it serves."""
    gc.enable()
    if hasattr(os, "nice"):
        os.nice(_WORKER_NICE)


def record_fields(doc: Document) -> dict[str, Any]:
    """The fields of a document as one JSON-able dict (the export format)."""
    return {
        "id": doc.id,
        "text": doc.text,
        "title": doc.title,
        "source": doc.source,
        "url": doc.url,
        "published": doc.published,
        "lang": doc.lang,
        "meta": doc.meta,
    }


def default_zdict() -> bytes:
    """A preset deflate dictionary: the 3,000 most frequent English words, commonest last."""
    from wordfreq import top_n_list

    return " ".join(reversed(top_n_list("en", 3000))).encode()


@functools.lru_cache(maxsize=1)
def trained_zdict() -> bytes:
    """A 32 KiB zstandard dictionary trained on 2,000 made-up records (a JSON head and
    sentences of words drawn by their English frequency, some numbers and commas), made the
    same way every time (a seeded generator).

    Its entropy tables spare each record the cost of building its own (a fixed ~4 us that
    dominates a 1 KB record): 35-40% faster than the raw word list on Reuters and ECB+ news,
    with records as small or smaller.
    """
    import random

    import zstandard
    from wordfreq import top_n_list, word_frequency

    words = top_n_list("en", 5000)
    cumulative = list(itertools.accumulate(word_frequency(w, "en") for w in words))
    rng = random.Random(20261123)
    samples = []
    for _ in range(2000):
        sentences = []
        for _ in range(rng.randint(4, 12)):
            ws = rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 28))
            ws[0] = ws[0].capitalize()
            if rng.random() < 0.5:
                ws.insert(rng.randrange(1, len(ws)), str(rng.randint(1, 2000)))
            if rng.random() < 0.4:
                ws[rng.randrange(len(ws) - 1)] += ","
            sentences.append(" ".join(ws) + ".")
        title = " ".join(rng.choices(words, cum_weights=cumulative, k=6)).title()
        head = {"lang": "en", "source": rng.choice(words), "title": title}
        samples.append(f"{json.dumps(head, sort_keys=True)}\n{' '.join(sentences)}".encode())
    return zstandard.train_dictionary(32768, samples, level=1).as_bytes()  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Codec:
    """Packs a document into one compressed record and back (the id is kept apart).

    ``method`` "zstd-dict" (new files: zstandard level 1 with a trained dictionary, see
    :func:`trained_zdict`), "zstd" (level 2 with the dictionary as raw content) or "deflate"
    (raw deflate level 1 with the dictionary preset): files made before.
    """

    zdict: bytes
    method: str = "zstd-dict"

    def pack(self, doc: Document) -> bytes:
        d = doc  # the fields of record_fields but id and text, where set
        fields = (
            ("title", d.title),
            ("source", d.source),
            ("url", d.url),
            ("published", d.published),
            ("lang", d.lang),
            ("meta", d.meta),
        )
        head = {k: v for k, v in fields if v}
        refs = []
        if d.meta:  # the record's fields that hold the text, title... are not stored twice
            # by the identity of each field's value (a later field wins a shared object)
            own = {
                id(d.text): "text",
                id(d.id): "id",
                id(d.title): "title",
                id(d.source): "source",
                id(d.url): "url",
                id(d.published): "published",
                id(d.lang): "lang",
            }
            rest: dict[str, Any] = {}
            for i, (k, v) in enumerate(doc.meta.items()):
                f = own.get(id(v))
                if f is None:
                    rest[k] = v
                else:
                    refs.append((i, k, f))
            if refs:
                head["meta"] = rest
        floats = has_float(head)  # before the refs go in: they are positions and field names
        if refs:
            head["meta_refs"] = refs
        data = _head_json(head, floats) + b"\n" + doc.text.encode("utf-8", "surrogatepass")
        if self.method != "deflate":
            return _zstd(self.zdict, self.method)[0].compress(data)
        c = _primed(self.zdict).copy()  # the same bytes as a new compressor with the zdict
        return c.compress(data) + c.flush()

    def unpack(self, id: str, record: bytes) -> Document:
        if self.method != "deflate":
            raw = _zstd(self.zdict, self.method)[1].decompress(record)
        else:
            raw = zlib.decompressobj(-15, zdict=self.zdict).decompress(record)
        head, _, text = raw.decode("utf-8", "surrogatepass").partition("\n")
        fields = json.loads(head)
        lang = fields.pop("lang", "")
        refs = fields.pop("meta_refs", ())
        # the language stored is the one found when the document was added, "" included (too
        # little language to tell): a placeholder keeps Document from detecting it again on
        # every read (queries, stories, rebuild)
        doc = Document(text=text, id=id, lang=lang or "-", **fields)
        doc.lang = lang
        if refs:  # the record's fields that held a document field, back in their places
            items = list(doc.meta.items())
            for i, k, f in refs:
                items.insert(i, (k, getattr(doc, f)))
            doc.meta = dict(items)
        return doc


# datetimes and dataclasses go to default=str, as json sends them
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _head_json(head: dict[str, Any], floats: bool) -> bytes:
    """``head`` as sorted-key JSON, UTF-8: by orjson (20x faster) where it writes what json
    would; by json where the head holds a float (``floats``: orjson writes NaN and infinity
    as null, json keeps them) or orjson refuses (an integer past 64 bits, a lone surrogate, a
    key that is not a string)."""
    if not floats:
        try:
            return orjson.dumps(head, default=str, option=_ORJSON)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    return json.dumps(head, ensure_ascii=False, sort_keys=True, default=str).encode(
        "utf-8", "surrogatepass"
    )


@functools.lru_cache(maxsize=4)
def _primed(zdict: bytes) -> Any:
    """A compressor that has read the dictionary: copying it is cheaper than reading it again
    for every record (the dictionary is ~20 KB, a record ~1 KB). Level 1 (memLevel 8):
    a third faster than level 3 on news text for ~6% more compressed bytes (~26 bytes a
    document); decoding ignores both."""
    return zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, zdict)


@functools.lru_cache(maxsize=4)
def _zstd(zdict: bytes, method: str) -> tuple[Any, Any]:
    """A zstandard compressor and decompressor with ``zdict`` (for "zstd-dict" a trained
    dictionary, for "zstd" raw content), made once per process (a record's frame names no
    dictionary id and no checksum: 8 bytes less; the index file's settings say which
    dictionary)."""
    import zstandard

    trained = method == "zstd-dict"
    kind = zstandard.DICT_TYPE_FULLDICT if trained else zstandard.DICT_TYPE_RAWCONTENT
    d = zstandard.ZstdCompressionDict(zdict, dict_type=kind)
    compressor = zstandard.ZstdCompressor(
        level=1 if trained else 2, dict_data=d, write_checksum=False, write_dict_id=False
    )
    return compressor, zstandard.ZstdDecompressor(dict_data=d)
