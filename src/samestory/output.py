"""Writers for dedup results: pairs, clusters, the deduplicated corpus and a summary.

JSONL is the default; ``fmt="parquet"`` writes the same tables as Parquet (pyarrow, the
``parquet`` extra). The deduplicated corpus keeps every original field: for JSONL input it is
the user's own lines, byte for byte.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from itertools import compress
from pathlib import Path
from typing import IO, Any

import numpy as np

from samestory.errors import MissingDependency

__all__ = ["cluster_rows", "write_dedup", "write_summary"]


def _rows_pairs(ids: Sequence[str], pairs: np.ndarray, sim: np.ndarray) -> Iterator[dict[str, Any]]:
    for (i, j), s in zip(pairs.tolist(), sim.tolist(), strict=True):
        yield {"a": ids[i], "b": ids[j], "jaccard": round(s, 6)}


def cluster_rows(
    ids: Sequence[str], labels: np.ndarray, roots: np.ndarray, kept: np.ndarray, by_date: np.ndarray
) -> Iterator[dict[str, Any]]:
    from samestory.cluster import EARLIEST_DATE, LONGEST_TEXT

    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    # every cluster's members at once: one searchsorted and one list, then list slices
    los = np.searchsorted(sorted_labels, roots).tolist()
    his = np.searchsorted(sorted_labels, roots + 1).tolist()
    members_of = order.tolist()
    for number, (lo, hi, keep, dated) in enumerate(
        zip(los, his, kept.tolist(), by_date.tolist(), strict=True)
    ):
        members = members_of[lo:hi]
        yield {
            "cluster": number,
            "kept": ids[keep],
            "rule": EARLIEST_DATE if dated else LONGEST_TEXT,
            "size": len(members),
            "members": [ids[m] for m in members],
        }


def _atomic(path: Path, mode: str = "w") -> tuple[IO[Any], Path]:
    tmp = path.with_name(path.name + ".tmp")
    return open(tmp, mode, encoding=None if "b" in mode else "utf-8"), tmp


# json.dumps(row, ensure_ascii=False) makes a new encoder per call; this one is made once
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    fh, tmp = _atomic(path)
    n = 0
    with fh:
        for row in rows:
            fh.write(_ENCODE(row) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def _write_parquet(path: Path, rows: Iterator[dict[str, Any]], batch: int = 65_536) -> int:
    pq, pa = _pyarrow()
    writer = None
    n = 0
    buf: list[dict[str, Any]] = []
    tmp = path.with_name(path.name + ".tmp")

    def flush() -> None:
        nonlocal writer
        table = pa.Table.from_pylist(buf)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table.cast(writer.schema))
        buf.clear()

    for row in rows:
        buf.append(row)
        n += 1
        if len(buf) >= batch:
            flush()
    if buf or writer is None:
        if buf:
            flush()
        else:
            pq.write_table(pa.table({}), tmp)
    if writer is not None:
        writer.close()
    os.replace(tmp, path)
    return n


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependency("pyarrow", "parquet") from exc
    return pq, pa


def _write_kept(
    out: Path,
    chunk_files: Sequence[Path],
    drop: np.ndarray,
    starts: np.ndarray,
    fmt: str,
    chunk_ends: Sequence[np.ndarray] | None = None,
) -> int:
    """Copy the original records of every document that is not a dropped duplicate.

    With ``chunk_ends`` (where each record's line ends in its chunk file) JSONL is copied in
    runs of kept records, without splitting the file into lines.
    """
    n = 0
    if fmt == "parquet":
        pq, pa = _pyarrow()
        folder = out / "kept.parquet"
        folder.mkdir(exist_ok=True)
        for c, path in enumerate(chunk_files):
            with open(path, "rb") as fh:
                rows = [json.loads(line) for k, line in enumerate(fh) if not drop[starts[c] + k]]
            n += len(rows)
            pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{c:06d}.parquet")
        return n
    fh, tmp = _atomic(out / "kept.jsonl", "wb")
    with fh:
        for c, path in enumerate(chunk_files):
            keep = ~drop[starts[c] : starts[c + 1]]
            with open(path, "rb") as src:
                if chunk_ends is None:
                    fh.writelines(compress(src.readlines(), keep.tolist()))
                else:
                    _copy_runs(fh, memoryview(src.read()), keep, chunk_ends[c])
            n += int(keep.sum())
    os.replace(tmp, out / "kept.jsonl")
    return n


def _copy_runs(fh: IO[bytes], data: memoryview, keep: np.ndarray, ends: np.ndarray) -> None:
    """Write the lines ``keep`` selects, one write per run of consecutive kept lines."""
    bounds = np.zeros(len(ends) + 1, dtype=np.int64)
    bounds[1:] = ends
    flags = np.zeros(len(keep) + 2, dtype=np.int8)
    flags[1:-1] = keep
    edges = np.flatnonzero(np.diff(flags))  # run starts and ends, alternating
    for a, b in zip(bounds[edges[::2]].tolist(), bounds[edges[1::2]].tolist(), strict=True):
        fh.write(data[a:b])


def write_dedup(
    out: Path,
    *,
    ids: Sequence[str],
    pairs: np.ndarray,
    similarity: np.ndarray,
    labels: np.ndarray,
    kept: np.ndarray,
    clusters: Sequence[dict[str, Any]],
    chunk_records: Sequence[Path],
    starts: np.ndarray,
    fmt: str = "jsonl",
    chunk_ends: Sequence[np.ndarray] | None = None,
) -> dict[str, int]:
    """Write pairs, clusters and kept into ``out``; returns row counts per file.

    ``chunk_ends``: where each record's line ends in its chunk file (optional; faster).
    """
    out.mkdir(parents=True, exist_ok=True)
    write = _write_parquet if fmt == "parquet" else _write_jsonl
    ext = "parquet" if fmt == "parquet" else "jsonl"
    counts = {
        "pairs": write(out / f"pairs.{ext}", _rows_pairs(ids, pairs, similarity)),
        "clusters": write(out / f"clusters.{ext}", iter(clusters)),
    }
    drop = labels != np.arange(len(labels))  # every non-root member ...
    drop[labels[kept]] = True  # ... and every root ...
    drop[kept] = False  # ... except the kept representative
    counts["kept"] = _write_kept(out, chunk_records, drop, starts, fmt, chunk_ends)
    return counts


def run_summary(
    config: Any,
    fields: Any,
    *,
    fmt: str,
    engine_settings: dict[str, Any],
    records: int,
    documents: int,
    reasons: dict[str, int],
    examples: list[dict[str, Any]],
    candidates: int,
    pairs: int,
    clusters: int,
    in_clusters: int,
    engine_counts: dict[str, Any],
) -> dict[str, Any]:
    """The summary.json of a dedup run, the same for every engine (plus its own extras).

    ``config`` is the run's DedupConfig, ``fields`` its ingest Fields.
    """
    from dataclasses import asdict

    bands_used, rows_used = (0, 0) if config.exact_only else config.bands_rows()
    removed = in_clusters - clusters
    return {
        "fingerprint": config.fingerprint(),
        "settings": {
            **asdict(config),
            "bands_used": bands_used,
            "rows_used": rows_used,
            "fields": asdict(fields),
            **engine_settings,
            "format": fmt,
        },
        "counts": {
            "records": records,
            "documents": documents,
            "skipped": sum(reasons.values()),
            "candidates": candidates,
            "pairs": pairs,
            "clusters": clusters,
            "documents_in_clusters": in_clusters,
            "duplicates_removed": removed,
            "kept": documents - removed,
            **engine_counts,
        },
        "skipped_by_reason": dict(sorted(reasons.items())),
        "skipped_examples": examples,
    }


def write_summary(out: Path, summary: dict[str, Any]) -> None:
    """Write summary.json (counts, settings and their fingerprint, timings, skips)."""
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, out / "summary.json")
