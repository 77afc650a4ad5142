"""Writing the Spark engine's results: the local engine's files, rows and order.

With a local output folder the rows are streamed to the driver in order (one partition at a
time, so the driver holds one partition, not the corpus) and written by
:mod:`samestory.output`'s own writers: the files are the local engine's, byte for byte. With a
cluster URI (``hdfs://``, ``s3a://``, ``file://``) the executors write each table as a folder
of part files named like the local file (``kept.jsonl/part-*``), with the same columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["is_cluster_uri", "tables", "write_tables"]

_PART_ROWS = 10_000  # rows per part file of kept.parquet (the local engine's chunk size)


def is_cluster_uri(out: str) -> bool:
    """True when ``out`` names a folder for the executors (a URI), not a local path."""
    return "://" in out


def tables(result: Any) -> dict[str, Any]:
    """The output tables as DataFrames sorted in the local engine's order.

    ``pairs``: a, b (ids), jaccard; ``clusters``: label, kept (id), by_date, size, members
    (ids in input order); ``kept``: the original record (bytes) of every kept document.
    """
    from pyspark.sql import functions as F

    ids = result.docs.select("key", "id")
    pairs = (
        result.pairs.join(ids.withColumnRenamed("key", "a").withColumnRenamed("id", "id_a"), "a")
        .join(ids.withColumnRenamed("key", "b").withColumnRenamed("id", "id_b"), "b")
        .orderBy("a", "b")
        .select(
            F.col("id_a").alias("a"),
            F.col("id_b").alias("b"),
            "jaccard",
        )
    )
    named = result.labels.join(ids, result.labels.node == ids.key)
    grouped = named.groupBy("label").agg(
        F.sort_array(F.collect_list(F.struct("node", "id"))).alias("m")
    )
    clusters = (
        grouped.join(result.reps, "label")
        .join(ids.withColumnRenamed("key", "kept").withColumnRenamed("id", "kept_id"), "kept")
        .orderBy("label")
        .select(
            "label",
            F.col("kept_id").alias("kept"),
            "by_date",
            F.size("m").alias("size"),
            F.col("m.id").alias("members"),
        )
    )
    dropped = (
        result.labels.join(result.reps, "label")
        .where(F.col("node") != F.col("kept"))
        .select(F.col("node").alias("key"))
    )
    kept = result.docs.join(dropped, "key", "left_anti").orderBy("key").select("key", "record")
    return {"pairs": pairs, "clusters": clusters, "kept": kept, "dropped": dropped}


def _cluster_rows(frame: Any, collected: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    from samestory.cluster import EARLIEST_DATE, LONGEST_TEXT

    for number, r in enumerate(frame.toLocalIterator(prefetchPartitions=True)):
        row = {
            "cluster": number,
            "kept": r["kept"],
            "rule": EARLIEST_DATE if r["by_date"] else LONGEST_TEXT,
            "size": r["size"],
            "members": list(r["members"]),
        }
        collected.append(row)
        yield row


def _pair_rows(frame: Any, collected: list[tuple[str, str, float]]) -> Iterator[dict[str, Any]]:
    for r in frame.toLocalIterator(prefetchPartitions=True):
        collected.append((r["a"], r["b"], float(r["jaccard"])))
        yield {"a": r["a"], "b": r["b"], "jaccard": round(r["jaccard"], 6)}


def _write_kept_local(out: Path, frame: Any, fmt: str) -> int:
    from samestory.output import _atomic, _pyarrow

    rows = (bytes(r["record"]) for r in frame.toLocalIterator(prefetchPartitions=True))
    n = 0
    if fmt == "parquet":
        pq, pa = _pyarrow()
        folder = out / "kept.parquet"
        folder.mkdir(exist_ok=True)
        part: list[dict[str, Any]] = []
        for line in rows:
            part.append(json.loads(line))
            if len(part) == _PART_ROWS:
                n += _write_part(pq, pa, folder, n, part)
                part = []
        if part:
            n += _write_part(pq, pa, folder, n, part)
        return n
    import os

    fh, tmp = _atomic(out / "kept.jsonl", "wb")
    with fh:
        for line in rows:
            fh.write(line)
            n += 1
    os.replace(tmp, out / "kept.jsonl")
    return n


def _write_part(pq: Any, pa: Any, folder: Path, done: int, rows: list[dict[str, Any]]) -> int:
    pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{done // _PART_ROWS:06d}.parquet")
    return len(rows)


def write_tables(result: Any, out: str, fmt: str) -> tuple[dict[str, int], dict[str, Any]]:
    """Write pairs, clusters and kept into ``out``.

    Returns:
        ``(counts, collected)``: rows written per file, and (for a local folder) the pairs,
        clusters and dropped ids as Python values for :class:`samestory.pipeline.DedupResult`.
    """
    from samestory.output import _write_jsonl, _write_parquet

    frames = tables(result)
    ext = "parquet" if fmt == "parquet" else "jsonl"
    if is_cluster_uri(out):
        nothing: dict[str, Any] = {"pairs": [], "clusters": [], "dropped": []}
        return _write_distributed(frames, out, fmt, ext), nothing
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    write = _write_parquet if fmt == "parquet" else _write_jsonl
    pairs: list[tuple[str, str, float]] = []
    clusters: list[dict[str, Any]] = []
    counts = {
        "pairs": write(folder / f"pairs.{ext}", _pair_rows(frames["pairs"], pairs)),
        "clusters": write(folder / f"clusters.{ext}", _cluster_rows(frames["clusters"], clusters)),
        "kept": _write_kept_local(folder, frames["kept"], fmt),
    }
    kept_ids = {c["kept"] for c in clusters}
    dropped = [m for c in clusters for m in c["members"] if m not in kept_ids]
    return counts, {"pairs": pairs, "clusters": clusters, "dropped": dropped}


def _write_distributed(frames: dict[str, Any], out: str, fmt: str, ext: str) -> dict[str, int]:
    """Each table as a folder of part files, written by the executors."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from samestory.cluster import EARLIEST_DATE, LONGEST_TEXT

    base = out.rstrip("/")
    rule = F.when(F.col("by_date"), F.lit(EARLIEST_DATE)).otherwise(F.lit(LONGEST_TEXT))
    clusters = frames["clusters"].select(
        (F.row_number().over(Window.orderBy("label")) - 1).alias("cluster"),
        "kept",
        rule.alias("rule"),
        "size",
        "members",
    )
    counts = {}
    pairs = frames["pairs"].withColumn("jaccard", F.round("jaccard", 6))
    for name, frame in (("pairs", pairs), ("clusters", clusters)):
        writer = frame.write.mode("overwrite")
        (writer.parquet if fmt == "parquet" else writer.json)(f"{base}/{name}.{ext}")
        counts[name] = frame.count()
    kept = frames["kept"]
    if fmt == "parquet":
        # the original records, parsed back into columns by Spark's JSON reader
        lines = kept.select(F.col("record").cast("string").alias("value"))
        parsed = lines.sparkSession.read.json(lines.rdd.map(lambda r: r.value))
        parsed.write.mode("overwrite").parquet(f"{base}/kept.parquet")
    else:
        text = F.regexp_replace(F.col("record").cast("string"), "\\n$", "")
        kept.select(text.alias("value")).write.mode("overwrite").text(f"{base}/kept.jsonl")
    counts["kept"] = kept.count()
    return counts
