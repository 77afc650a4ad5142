"""Reading dedup input with Spark: the same records as :mod:`samestory.ingest`, from any path.

Files are listed in the same order as the local engine lists them (folders walked recursively,
sorted), through Hadoop's file system API, so local paths, ``hdfs://`` and ``s3a://`` (with the
user's Hadoop configuration) all work. Each record carries a global *order key*
``(file rank << 40) | line``: it orders documents exactly as the local engine's input order
does, without numbering them densely (which would need a pass over everything).

- JSONL (``.jsonl``, ``.ndjson``, optionally ``.gz``): Spark's text source, split across tasks;
  each line's number in its file comes from the count of lines in the splits before it.
- CSV and ``.txt`` (optionally ``.gz``): one task per file (a quoted CSV field may hold line
  breaks, so a CSV file cannot be split safely), parsed as :mod:`samestory.ingest` parses them.
- Parquet (``.parquet``, Spark only): split by row groups; the line is the row number + 1.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from samestory.errors import InputError
from samestory.ingest import READERS, STDIN, Record, check_paths

__all__ = ["LINE_BITS", "list_inputs", "read_records"]

LINE_BITS = 40
_TEXT_SUFFIXES = (".jsonl", ".ndjson")
_WHOLE_SUFFIXES = (".csv", ".txt")
_PARQUET = ".parquet"
_ERROR = "\0error"  # the key samestory.ingest uses for a row that reports a broken CSV file


def _suffix(name: str) -> str:
    parts = Path(name).suffixes
    if parts and parts[-1] == ".gz":
        parts = parts[:-1]
    return parts[-1].lower() if parts else ""


def _known(name: str) -> bool:
    return _suffix(name) in READERS or _suffix(name) == _PARQUET


def list_inputs(spark: Any, paths: Sequence[str]) -> list[tuple[str, str]]:
    """``(uri, shown path)`` of every input file, in the local engine's order.

    Local paths go through :func:`samestory.ingest.check_paths` (so the shown path and the
    order are the local engine's); other URIs are listed with Hadoop's file system API.
    Raises InputError for a missing path or an unknown file type before any work starts.
    """
    out: list[tuple[str, str]] = []
    for given in paths:
        given = str(given)
        if given == STDIN:
            raise InputError("the Spark engine cannot read stdin; give files", path=STDIN)
        if "://" not in given and not given.startswith("file:"):
            local = Path(given)
            if local.is_file() and _suffix(given) == _PARQUET:
                out.append((local.resolve().as_uri(), given))
                continue
            if local.is_dir():
                found = sorted(p for p in local.rglob("*") if p.is_file() and _known(p.name))
                out.extend((p.resolve().as_uri(), str(p)) for p in found)
                continue
            out.extend((p.resolve().as_uri(), str(p)) for p in check_paths([given]))
            continue
        out.extend(_list_hadoop(spark, given))
    return out


def _list_hadoop(spark: Any, uri: str) -> list[tuple[str, str]]:
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf)
    if not fs.exists(path):
        raise InputError("no such file or folder", path=uri)
    if fs.getFileStatus(path).isFile():
        if not _known(uri):
            raise InputError("unknown file type", path=uri)
        return [(uri, uri)]
    found = []
    files = fs.listFiles(path, True)
    while files.hasNext():
        name = str(files.next().getPath().toString())
        if _known(name):
            found.append(name)
    return [(name, name) for name in sorted(found)]


def _same_file(uri: str) -> str:
    """Spark's spelling of a file URI (``file:/a%20b``) in one canonical form."""
    uri = unquote(uri)
    if uri.startswith("file:"):
        return "file:/" + uri[len("file:") :].lstrip("/")
    return uri


def read_records(spark: Any, inputs: list[tuple[str, str]]) -> Any:
    """An RDD of ``(order key, Record)`` over every input file (see the module docstring)."""
    rank = {_same_file(uri): k for k, (uri, _) in enumerate(inputs)}
    shown = {_same_file(uri): name for uri, name in inputs}
    groups: dict[str, list[str]] = {"text": [], "whole": [], "parquet": []}
    for uri, _ in inputs:
        kind = _suffix(uri)
        group = "text" if kind in _TEXT_SUFFIXES else "parquet" if kind == _PARQUET else "whole"
        groups[group].append(uri)
    rdds = []
    if groups["text"]:
        rdds.append(_text_records(spark, groups["text"], rank, shown))
    if groups["whole"]:
        rdds.append(_whole_records(spark, groups["whole"], rank, shown))
    if groups["parquet"]:
        rdds.append(_parquet_records(spark, groups["parquet"], rank, shown))
    if not rdds:
        return spark.sparkContext.emptyRDD()
    return spark.sparkContext.union(rdds) if len(rdds) > 1 else rdds[0]


def _text_records(spark: Any, uris: list[str], rank: dict[str, int], shown: dict[str, str]) -> Any:
    from pyspark.sql import functions as F

    raw = spark.read.text(uris).select(
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.file_block_start").alias("block"),
        F.monotonically_increasing_id().alias("mid"),
        "value",
    )
    # lines before each split: count every split's lines, then add up in file order
    splits = (
        raw.groupBy("file", "block").agg(F.count("*").alias("n"), F.min("mid").alias("first"))
    ).collect()
    splits.sort(key=lambda r: (rank[_same_file(r.file)], r.block))
    start: dict[tuple[str, int], tuple[int, int]] = {}
    line, last = 0, None
    for r in splits:
        line = 0 if r.file != last else line
        start[(r.file, r.block)] = (line - r.first, rank[_same_file(r.file)])
        line, last = line + r.n, r.file
    table = spark.sparkContext.broadcast(start)
    names = spark.sparkContext.broadcast(shown)

    def to_records(rows: Iterator[Any]) -> Iterator[tuple[int, Record]]:
        for r in rows:
            offset, file_rank = table.value[(r.file, r.block)]
            number = offset + r.mid + 1
            # the line as the local engine reads it, line break included (JSON error positions)
            value = r.value.encode("utf-8", "surrogatepass") + b"\n"
            if value.strip():
                path = names.value[_same_file(r.file)]
                yield (file_rank << LINE_BITS) | number, Record(path, number, "json", value)

    return raw.rdd.mapPartitions(to_records)


def _whole_records(spark: Any, uris: list[str], rank: dict[str, int], shown: dict[str, str]) -> Any:
    files = spark.read.format("binaryFile").load(uris).select("path", "content")

    def to_records(rows: Iterator[Any]) -> Iterator[tuple[int, Record]]:
        for r in rows:
            key = _same_file(r.path)
            for record in _parse_whole(shown[key], bytes(r.content)):
                yield (rank[key] << LINE_BITS) | record.line, record

    return files.rdd.mapPartitions(to_records)


def _parse_whole(path: str, content: bytes) -> Iterator[Record]:
    """The records :mod:`samestory.ingest` reads from a whole CSV or .txt file."""
    if path.endswith(".gz"):
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            yield Record(path, 0, "row", {_ERROR: f"unreadable: {exc}"})
            return
    if _suffix(path) == ".txt":
        yield Record(path, 1, "file", content)
        return
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8", errors="replace", newline="")
    reader = csv.DictReader(text)
    try:
        for row in reader:
            yield Record(path, reader.line_num, "row", row)
    except csv.Error as exc:
        yield Record(path, reader.line_num, "row", {_ERROR: str(exc)})


def _parquet_records(
    spark: Any, uris: list[str], rank: dict[str, int], shown: dict[str, str]
) -> Any:
    from pyspark.sql import functions as F

    frame = spark.read.parquet(*uris)
    columns = frame.columns
    frame = frame.select(
        F.col("_metadata.file_path").alias("_file"),
        F.col("_metadata.row_index").alias("_row"),
        *columns,
    )

    def to_records(rows: Iterator[Any]) -> Iterator[tuple[int, Record]]:
        for r in rows:
            key = _same_file(r["_file"])
            obj = {c: _plain(r[c]) for c in columns}
            line = r["_row"] + 1
            yield (rank[key] << LINE_BITS) | line, Record(shown[key], line, "row", obj)

    return frame.rdd.mapPartitions(to_records)


def _plain(value: Any) -> Any:
    """A Parquet value as JSON can hold it."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "asDict"):
        return {k: _plain(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
