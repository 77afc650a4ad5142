"""The local engine: dedup a stream of records in chunks, in processes, with files between.

Stage 1 (parallel, resumable): the input stream is cut into chunks of ``chunk_size`` records
(a plain JSONL file as byte spans the worker reads itself); each chunk is parsed, cleaned,
shingled and MinHashed in a worker process, which writes its arrays (signature band keys,
shingle sets as CSR in text order with repeats, dates, lengths, text hashes, record ends) as
.npy files and its documents' original records as JSONL into the work folder. A chunk's
``.done.json`` is written last, atomically; a restarted run with the same settings skips every
chunk that has one. Stage 2 (one process, fast): candidate pairs by sorting band keys,
verification on the memory-mapped shingle sets, union-find, representatives.

Memory is bounded by the chunk size and the number of documents (band keys: 8 bytes x bands per
document), never by the total text size.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from samestory.clean import clean_text
from samestory.cluster import components, parse_date, representatives
from samestory.config import DedupConfig
from samestory.errors import SettingsError
from samestory.ingest import (
    MAX_TEXT_CHARS,
    Batch,
    Fields,
    LineSpan,
    Record,
    Skipped,
    record_date,
    to_document,
)
from samestory.lsh import band_keys, candidate_pairs
from samestory.minhash import signatures_csr
from samestory.pool import worker_context
from samestory.shingle import jaccard_batch, shingle_batch_details

__all__ = ["ChunkStore", "LocalResult", "run_local"]

# the chunk files' layout: a chunk written by a version with another layout is redone
# (2: unsorted shingle sets with repeats, record ends, no signatures when verifying)
LAYOUT = 2


@dataclass(slots=True)
class LocalResult:
    """What stage 2 found, over global document indices (input order of kept documents)."""

    store: ChunkStore
    pairs: np.ndarray
    similarity: np.ndarray
    labels: np.ndarray
    roots: np.ndarray
    kept: np.ndarray
    by_date: np.ndarray
    candidates: int
    timings: dict[str, float] = field(default_factory=dict)


def _record_json(record: Record, doc: Any) -> bytes:
    """The original record as one JSON line (the raw line itself for JSONL input)."""
    if record.kind == "json":
        raw: bytes = record.raw
        return raw if raw.endswith(b"\n") else raw + b"\n"
    if record.kind == "doc":
        obj = {
            "id": doc.id,
            "text": doc.text,
            "title": doc.title,
            "source": doc.source,
            "url": doc.url,
            "published": doc.published,
            **doc.meta,
        }
        obj = {k: v for k, v in obj.items() if v not in ("", None)}
    elif record.kind == "file":
        obj = {"id": doc.id, "path": record.path, "text": doc.text}
    else:
        obj = doc.meta
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"


def process_chunk(
    work: str, index: int, batch: Batch | LineSpan, config: DedupConfig, fields: Fields
) -> dict[str, Any]:
    """Stage 1 for one chunk: parse, clean, shingle, MinHash; write its files. Returns its meta.

    A :class:`LineSpan` is read here, in the worker.
    """
    if isinstance(batch, LineSpan):
        batch = batch.read()
    skipped: list[list[Any]] = []
    ids: list[str] = []
    texts: list[str] = []
    dates: list[float] = []
    lines: list[bytes] = []
    records_of: list[tuple[str, int]] = []
    n_records = n_bytes = 0
    for path, number, kind, raw in zip(*batch, strict=True):
        if kind == "json" and not raw.strip():
            continue  # blank JSONL lines are not records
        n_records += 1
        if isinstance(raw, (bytes, bytearray)):
            n_bytes += len(raw)
        fast = _fast_json(raw, fields) if kind == "json" else None
        if fast is not None:
            doc_id, text, published = fast
            line = raw if raw.endswith(b"\n") else raw + b"\n"
        else:
            record = Record(path, number, kind, raw)
            doc = to_document(record, fields)
            if isinstance(doc, Skipped):
                skipped.append([doc.path, doc.line, doc.reason])
                continue
            doc_id, text, published = doc.id, doc.text, doc.published
            line = _record_json(record, doc)
        records_of.append((path, number))
        ids.append(doc_id)
        # whitespace is not collapsed: the shingles only need the words
        texts.append(clean_text(text, config=config.clean, collapse=False))
        dates.append(parse_date(published) if published else np.nan)
        lines.append(line)
    mh = config.minhash
    # shingles unsorted, repeats kept: MinHash takes minima, verification hashes (no sort)
    values, offsets, n_words, seq = shingle_batch_details(texts, mh.ngram, unique=False)
    if (n_words == 0).any():
        # no words left after cleaning: skipped like an empty document
        empty = np.flatnonzero(n_words == 0)
        for k in empty[::-1].tolist():
            skipped.append([records_of[k][0], records_of[k][1], "no words after cleaning"])
            del ids[k], texts[k], dates[k], lines[k]
        values, offsets, n_words, seq = shingle_batch_details(texts, mh.ngram, unique=False)
    arrays: dict[str, np.ndarray] = {
        "values": values,
        "offsets": offsets,
        "dates": np.array(dates, dtype=np.float64),
        "lengths": n_words,
        "texthash": seq,
        # where each record's line ends in records.jsonl: kept.jsonl is copied in runs
        "ends": np.cumsum(np.fromiter(map(len, lines), np.int64, len(lines))),
    }
    if not config.exact_only:
        bands, rows = config.bands_rows()
        sig = signatures_csr(values, offsets, mh)
        if not config.verify:  # verification reads the shingle sets, not the signatures
            arrays["sig"] = sig
        arrays["bands"] = band_keys(sig, bands, rows)
    base = Path(work) / f"c{index:06d}"
    for name, arr in arrays.items():
        np.save(f"{base}.{name}.tmp.npy", arr)
        os.replace(f"{base}.{name}.tmp.npy", f"{base}.{name}.npy")
    with open(f"{base}.records.tmp", "wb") as fh:
        fh.writelines(lines)
    os.replace(f"{base}.records.tmp", f"{base}.records.jsonl")
    meta = {
        "chunk": index,
        "lines": len(batch[0]),
        "records": n_records,
        "bytes": n_bytes,
        "ids": ids,
        "skipped": skipped,
        "fingerprint": config.fingerprint(),
        "layout": LAYOUT,
    }
    _write_json(Path(f"{base}.done.json"), meta)
    return meta


def _fast_json(raw: bytes, fields: Fields) -> tuple[str, str, str] | None:
    """(id, text, date) of a plain JSONL record, parsed by orjson without a Document.

    None whenever the record needs :func:`to_document` to decide (orjson refuses it, it is
    not an object, the text is missing, empty, too long or suspicious, the id or date is not
    a non-empty string): the fast path only takes records whose result is certainly the same.
    """
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict:
        return None
    text = obj.get(fields.text)
    if type(text) is not str or len(text) > MAX_TEXT_CHARS or "\x00" in text or "\ufffd" in text:
        return None
    if not text.strip():
        return None
    doc_id, date = obj.get(fields.id), record_date(obj, fields)
    # only strings (or a missing date): orjson reads an integer beyond 64 bits as a float,
    # whose str() would differ from json's; to_document decides those
    if type(doc_id) is not str or not doc_id:
        return None
    if date is None:
        date = ""
    elif type(date) is not str:
        return None
    return doc_id, text, date


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False))
    os.replace(tmp, path)


class ChunkStore:
    """The chunk files of a run, read back memory-mapped, with global document indices."""

    def __init__(self, work: Path, metas: list[dict[str, Any]]) -> None:
        self.work = work
        self.metas = metas
        counts = np.array([len(m["ids"]) for m in metas], dtype=np.int64)
        self.starts = np.zeros(len(metas) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.starts[1:])

    @property
    def n_docs(self) -> int:
        return int(self.starts[-1])

    def array(self, chunk: int, name: str) -> np.ndarray:
        return np.load(self.work / f"c{chunk:06d}.{name}.npy", mmap_mode="r")

    def concat(self, name: str) -> np.ndarray:
        parts = [np.asarray(self.array(c, name)) for c in range(len(self.metas))]
        return np.concatenate(parts) if parts else np.zeros(0)

    def ids(self) -> list[str]:
        return [i for m in self.metas for i in m["ids"]]

    def records_path(self, chunk: int) -> Path:
        return self.work / f"c{chunk:06d}.records.jsonl"


def _load_done(path: Path, fingerprint: str) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint or meta.get("layout") != LAYOUT:
        return None
    return meta


def stage_chunks(
    batches: Iterable[Batch | LineSpan],
    *,
    work: Path,
    config: DedupConfig,
    fields: Fields,
    jobs: int,
    chunk_size: int,
    on_chunk: Callable[[dict[str, Any], bool], None] | None = None,
    inputs: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Stage 1 over all chunks; completed chunks from an earlier run are reused."""
    work.mkdir(parents=True, exist_ok=True)
    fingerprint = config.fingerprint()
    run_file = work / "run.json"
    run = {
        "fingerprint": fingerprint,
        "chunk_size": chunk_size,
        "fields": list(_astuple(fields)),
        "inputs": inputs or [],
    }
    if run_file.exists():
        try:
            previous = json.loads(run_file.read_text())
        except ValueError:
            previous = None
        if previous is not None and previous != run:
            raise SettingsError(
                f"{work} holds a run with other settings or inputs; "
                f"use another --out or delete {work}"
            )
    _write_json(run_file, run)
    metas: dict[int, dict[str, Any]] = {}
    report = on_chunk or (lambda meta, reused: None)

    def finish(meta: dict[str, Any], reused: bool) -> None:
        metas[meta["chunk"]] = meta
        report(meta, reused)

    pending: set[Future[dict[str, Any]]] = set()
    pool = None
    if jobs > 1:
        _warm(config)
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=worker_context())
    try:
        for index, batch in enumerate(batches):
            done = _load_done(work / f"c{index:06d}.done.json", fingerprint)
            lines = batch.count if isinstance(batch, LineSpan) else len(batch[0])
            if done is not None and done["lines"] == lines:
                finish(done, True)
                continue
            if pool is None:
                finish(process_chunk(str(work), index, batch, config, fields), False)
                continue
            while len(pending) > jobs:
                completed, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in completed:
                    finish(fut.result(), False)
            pending.add(pool.submit(process_chunk, str(work), index, batch, config, fields))
        for fut in pending:
            finish(fut.result(), False)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return [metas[i] for i in sorted(metas)]


def _warm(config: DedupConfig) -> None:
    """Load the numba kernels and the word list once, before the workers are forked."""
    text = clean_text("A govern-ment an-nounced it.", config=config.clean, collapse=False)
    values, offsets, _, _ = shingle_batch_details([text], config.minhash.ngram, unique=False)
    jaccard_batch(
        (values, offsets), np.zeros(1), (values, offsets), np.zeros(1), assume_sorted=False
    )
    if not config.exact_only:
        bands, rows = config.bands_rows()
        band_keys(signatures_csr(values, offsets, config.minhash), bands, rows)
    candidate_pairs(np.zeros((2, 1), dtype=np.uint64))


def _astuple(fields: Fields) -> tuple[str, ...]:
    return (fields.text, fields.id, fields.date, fields.source, fields.title)


def find_duplicates(store: ChunkStore, config: DedupConfig) -> LocalResult:
    """Stage 2: candidates, verification, clusters and representatives."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    n = store.n_docs
    threshold = config.minhash.threshold
    if config.exact_only:
        hashes = store.concat("texthash").astype(np.uint64)
        cand = candidate_pairs(hashes.reshape(-1, 1))
        sim = np.ones(len(cand), dtype=np.float64)
    else:
        keys = store.concat("bands").astype(np.uint64) if n else np.zeros((0, 1), np.uint64)
        cand = candidate_pairs(keys)
        del keys
    timings["candidates_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if not config.exact_only:
        sim = _similarity(store, cand, exact=config.verify)
    keep = sim >= threshold - 1e-12
    pairs, sim = cand[keep], sim[keep]
    timings["verify_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = components(n, pairs)
    roots, kept, by_date = representatives(
        labels, store.concat("dates").astype(np.float64), store.concat("lengths")
    )
    timings["cluster_s"] = time.perf_counter() - t0
    return LocalResult(store, pairs, sim, labels, roots, kept, by_date, len(cand), timings)


def _similarity(store: ChunkStore, cand: np.ndarray, *, exact: bool) -> np.ndarray:
    """Exact Jaccard of each candidate pair (or the MinHash estimate when not ``exact``)."""
    out = np.zeros(len(cand), dtype=np.float64)
    if not len(cand):
        return out
    chunk_of = np.searchsorted(store.starts, cand, side="right") - 1
    group = chunk_of[:, 0] * len(store.metas) + chunk_of[:, 1]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for sel in np.split(order, bounds):
        ca, cb = int(chunk_of[sel[0], 0]), int(chunk_of[sel[0], 1])
        ia = cand[sel, 0] - store.starts[ca]
        ib = cand[sel, 1] - store.starts[cb]
        if exact:
            a = (np.asarray(store.array(ca, "values")), np.asarray(store.array(ca, "offsets")))
            b = (np.asarray(store.array(cb, "values")), np.asarray(store.array(cb, "offsets")))
            out[sel] = jaccard_batch(a, ia, b, ib, assume_sorted=False)
        else:
            sa, sb = store.array(ca, "sig"), store.array(cb, "sig")
            out[sel] = (np.asarray(sa[ia]) == np.asarray(sb[ib])).mean(axis=1)
    return out


def run_local(
    batches: Iterable[Batch | LineSpan],
    *,
    work: Path,
    config: DedupConfig,
    fields: Fields | None = None,
    jobs: int = 1,
    chunk_size: int = 10_000,
    on_chunk: Callable[[dict[str, Any], bool], None] | None = None,
    inputs: list[str] | None = None,
) -> LocalResult:
    """Both stages. ``on_chunk(meta, reused)`` is called as each chunk completes.

    ``inputs`` identifies the input (paths, sizes, times): chunks of another input are
    never reused.
    """
    t0 = time.perf_counter()
    metas = stage_chunks(
        batches,
        work=work,
        config=config,
        fields=fields or Fields(),
        jobs=jobs,
        chunk_size=chunk_size,
        on_chunk=on_chunk,
        inputs=inputs,
    )
    stage1 = time.perf_counter() - t0
    result = find_duplicates(ChunkStore(work, metas), config)
    result.timings = {"chunks_s": stage1, **result.timings}
    return result
