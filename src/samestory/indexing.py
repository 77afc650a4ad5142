"""What the index computes and keeps of each document (the store's per-document stage).

- :class:`Featurizer`: cleaned-text key, shingle fingerprint and LSH band keys of texts; plain
  and picklable, so batches can be computed in worker processes (:func:`featurize`).
- the shingle fingerprint: the sorted unique upper 24 bits of the 64-bit shingle hashes,
  packed in 3 bytes a shingle; :func:`overlap` gives Jaccard and containment on it, exact up
  to the ~n·m/2²⁴ different shingles that share their upper bits (0.002 of a shingle for two
  200-shingle articles, 1.5 in 5,000 for two 5,000-shingle ones).
- band keys: the upper 32 bits of each LSH band hash as a signed 32-bit integer (4 bytes in
  SQLite instead of 8); a chance collision only adds a candidate that verification drops.
- :class:`Codec`: a document (text and metadata) as one raw-deflate record with a preset
  dictionary of common words that is kept in the database, so the record decodes the same
  whichever word list is installed later.
"""

from __future__ import annotations

import json
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import xxhash

from samestory.clean import clean_text, normalize_for_key
from samestory.config import CleanConfig, MinHashConfig
from samestory.document import Document
from samestory.lsh import band_keys
from samestory.minhash import signatures_csr
from samestory.shingle import shingle_batch

__all__ = [
    "Codec",
    "Features",
    "Featurizer",
    "featurize",
    "key64",
    "overlap",
    "pack_fingerprint",
    "record_fields",
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
    bands: list[int]  # signed LSH band keys; none for an empty text


@dataclass(frozen=True, slots=True)
class Featurizer:
    """Computes :class:`Features` of texts with fixed settings."""

    config: MinHashConfig
    clean_config: CleanConfig
    bands: int
    rows: int

    def __call__(self, texts: list[tuple[str, str]]) -> list[Features]:
        """The features of each (text, lang), MinHash vectorized over the whole list."""
        cc = self.clean_config
        # the bulk paths (equal to clean().text, shingle_hashes and signatures, and tested so)
        cleaned = [clean_text(t, config=cc, lang=lang or "en") for t, lang in texts]
        values, offsets = shingle_batch(cleaned, self.config.ngram)
        sigs = signatures_csr(values, offsets, self.config)
        full = band_keys(sigs, self.bands, self.rows)
        keys = (full >> np.uint64(32)).astype(np.int64) - (1 << 31)
        hashes = [values[offsets[i] : offsets[i + 1]] for i in range(len(cleaned))]
        out = []
        for c, h, k in zip(cleaned, hashes, keys, strict=True):
            fp = pack_fingerprint(np.unique((h >> np.uint64(40)).astype(np.uint32)))
            text_key = key64(normalize_for_key(c)) if c else None
            out.append(Features(text_key, fp, k.tolist() if len(h) else []))
        return out


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


def featurize(
    docs: Iterable[Document], featurizer: Featurizer, *, batch_size: int, workers: int = 1
) -> Iterator[tuple[list[Document], list[Features]]]:
    """Batches of documents with their features, in order; ``workers`` processes if > 1.

    Documents are read lazily and at most ``2 * workers + 1`` batches are in flight.
    """

    def batches() -> Iterator[list[Document]]:
        batch: list[Document] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    if workers <= 1:
        for batch in batches():
            yield batch, featurizer([(d.text, d.lang) for d in batch])
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        pending: deque[Any] = deque()
        for batch in batches():
            future = pool.submit(featurizer, [(d.text, d.lang) for d in batch])
            pending.append((batch, future))
            if len(pending) > 2 * workers:
                done, first = pending.popleft()
                yield done, first.result()
        while pending:
            done, first = pending.popleft()
            yield done, first.result()


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


@dataclass(frozen=True, slots=True)
class Codec:
    """Packs a document into one compressed record and back (the id is kept apart)."""

    zdict: bytes

    def pack(self, doc: Document) -> bytes:
        head = {k: v for k, v in record_fields(doc).items() if v and k not in ("id", "text")}
        raw = json.dumps(head, ensure_ascii=False, sort_keys=True, default=str) + "\n" + doc.text
        c = zlib.compressobj(3, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, self.zdict)
        return c.compress(raw.encode("utf-8", "surrogatepass")) + c.flush()

    def unpack(self, id: str, record: bytes) -> Document:
        raw = zlib.decompressobj(-15, zdict=self.zdict).decompress(record)
        head, _, text = raw.decode("utf-8", "surrogatepass").partition("\n")
        return Document(text=text, id=id, **json.loads(head))
