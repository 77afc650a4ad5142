"""The Spark engine: the local engine's answers, computed on a Spark cluster.

The per-document work is the local engine's own functions (``to_document``, ``clean_text``,
``shingle_batch``, ``signatures_csr``, ``band_keys``) run over whole partitions at once; Spark
only moves data between them:

1. **features** -- records are read from any path Spark reads (:mod:`.spark_input`) and turned
   into one row per document: order key, id, date, clean length, text hash, shingle set (CSR
   bytes), band keys (and the signature when candidates are not verified).
2. **candidates** -- band keys are exploded to ``(band, key, document)`` rows and grouped; a
   bucket gives all its pairs, a bucket of more than ``MAX_BUCKET`` documents only neighbours
   in input order (as :func:`samestory.lsh.candidate_pairs` does), then pairs are made unique.
3. **verify** -- each candidate pair is joined with both shingle sets and checked with
   :func:`samestory.shingle.jaccard_batch` (or the signature estimate with ``verify=False``).
4. **cluster** -- connected components in O(log n) rounds of DataFrame operations
   (:mod:`.spark_components`); each cluster keeps the earliest dated member, else the longest
   clean text, else the earliest in input order (:func:`samestory.cluster.representatives`).
5. **output** -- the same files as the local engine (:mod:`samestory.output`), streamed to the
   driver in order when the output folder is local, or written by the executors as folders of
   part files when it is a cluster URI (``hdfs://``, ``s3a://``).

Documents are identified by their order key, not a dense index: ordering by it is the local
engine's input order, so labels, representatives and output order match exactly.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from samestory.config import DedupConfig
from samestory.errors import MissingDependency
from samestory.ingest import Fields, Record, Skipped

__all__ = ["MAX_BUCKET", "SparkResult", "features", "find_duplicates", "run_spark", "session"]

MAX_BUCKET = 64  # the local engine's candidate_pairs default
CHUNK_SIZE = 10_000  # records per process_chunk call inside a partition (bounds its memory)

_FEATURES = (
    "key long, id string, date double, length long, texthash long, values binary, "
    "bands array<long>, sig binary, record binary, skip string, path string, line long"
)


def session(master: str | None = None, *, app_name: str = "samestory-dedup") -> Any:
    """The active SparkSession, or a new quiet one on ``master`` (default ``local[*]``).

    The UI and console progress bars are off, logs only show errors, and the Python workers
    run this interpreter (``PYSPARK_PYTHON``), so they import the same samestory.

    Example:
        >>> spark = session("local[2]")
        >>> spark.conf.get("spark.ui.showConsoleProgress")
        'false'
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingDependency("pyspark", "spark") from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = master or "local[*]"
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_log_config()}")
    )
    if master.startswith("local"):
        # one machine: few shuffle partitions (the default 200 is for clusters), and input
        # splits small enough that every core gets several (load balance)
        # (the driver JVM is the executor here: its default 1 GiB heap is too small to cache
        # the features of 100k documents)
        builder = (
            builder.config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.files.maxPartitionBytes", "16m")
            .config("spark.driver.memory", os.environ.get("SAMESTORY_SPARK_MEMORY", "4g"))
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


_LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _log_config() -> str:
    """A log4j2 configuration that only lets errors through (Spark logs warnings by default)."""
    import tempfile

    path = os.path.join(tempfile.gettempdir(), "samestory-log4j2.properties")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as fh:
            fh.write(_LOG4J2)
        os.replace(path + ".tmp", path)
    return path


def _feature_rows(
    records: Iterator[tuple[int, Record]], config: DedupConfig, fields: Fields
) -> Iterator[tuple[Any, ...]]:
    """One partition, as rows: the local engine's own ``process_chunk`` on each batch.

    ``process_chunk`` (parse, clean, shingle, MinHash, band keys) writes its arrays to a
    folder; here that is a temporary folder on the executor, read straight back. Calling the
    very same function is what keeps the two engines' answers identical as it evolves.
    """
    import tempfile
    from itertools import islice

    from samestory.engines.local import process_chunk

    names = ["values", "offsets", "dates", "lengths", "texthash"]
    if not config.exact_only:
        names += ["bands"] if config.verify else ["sig", "bands"]
    empty = (None,) * 8
    it = iter(records)
    while chunk := list(islice(it, CHUNK_SIZE)):
        batch = (
            [r.path for _, r in chunk],
            [r.line for _, r in chunk],
            [r.kind for _, r in chunk],
            [r.raw for _, r in chunk],
        )
        with tempfile.TemporaryDirectory(prefix="samestory-spark-") as work:
            meta = process_chunk(work, 0, batch, config, fields)
            got = {n: np.load(os.path.join(work, f"c000000.{n}.npy")) for n in names}
            with open(os.path.join(work, "c000000.records.jsonl"), "rb") as fh:
                lines = fh.readlines()
        skipped = {(path, line): reason for path, line, reason in meta["skipped"]}
        keys = []
        for key, r in chunk:
            reason = skipped.get((r.path, r.line))
            if reason is None:
                keys.append(key)
            else:
                yield (key, *empty, reason, r.path, r.line)
        offsets = got["offsets"]
        values = got["values"]
        bands = got["bands"].view(np.int64) if "bands" in got else None
        texthash = got["texthash"].astype(np.uint64).view(np.int64)
        for k, doc_id in enumerate(meta["ids"]):
            yield (
                keys[k],
                doc_id,
                float(got["dates"][k]),
                int(got["lengths"][k]),
                int(texthash[k]),
                values[offsets[k] : offsets[k + 1]].tobytes(),
                bands[k].tolist() if bands is not None else None,
                got["sig"][k].tobytes() if "sig" in got and not config.verify else None,
                lines[k],
                None,
                None,
                None,
            )


def features(spark: Any, records: Any, config: DedupConfig, fields: Fields) -> Any:
    """Stage 1: a DataFrame of per-document features (and skipped records) from an RDD of
    ``(order key, Record)`` (from :func:`samestory.engines.spark_input.read_records`)."""
    rows = records.mapPartitions(lambda part: _feature_rows(part, config, fields))
    return spark.createDataFrame(rows, _FEATURES)


def _pairs_in_buckets(members: str) -> Any:
    """SQL: all pairs of a sorted bucket, or neighbours when it holds more than MAX_BUCKET."""
    from pyspark.sql import functions as F

    size = f"size({members})"
    all_pairs = (
        f"flatten(transform(sequence(0, {size} - 2), i -> transform(sequence(i + 1, {size} - 1),"
        f" j -> named_struct('a', {members}[i], 'b', {members}[j]))))"
    )
    chain = (
        f"transform(sequence(1, {size} - 1),"
        f" i -> named_struct('a', {members}[i - 1], 'b', {members}[i]))"
    )
    return F.expr(f"if({size} <= {MAX_BUCKET}, {all_pairs}, {chain})")


def _candidates(docs: Any, config: DedupConfig) -> Any:
    """Stage 2: unique candidate pairs ``(a, b)`` of order keys, ``a < b``."""
    from pyspark.sql import functions as F

    if config.exact_only:
        keyed = docs.select("key", F.lit(0).alias("band"), F.col("texthash").alias("bucket"))
    else:
        keyed = docs.select("key", F.posexplode("bands").alias("band", "bucket"))
    buckets = (
        keyed.groupBy("band", "bucket")
        .agg(F.sort_array(F.collect_list("key")).alias("members"))
        .where(F.size("members") > 1)
    )
    pairs = buckets.select(F.explode(_pairs_in_buckets("members")).alias("p"))
    return pairs.select(F.col("p.a").alias("a"), F.col("p.b").alias("b")).distinct()


def _similarity_rows(batches: Iterator[Any], exact: bool) -> Iterator[Any]:
    """Jaccard (or the signature estimate) of each joined candidate pair, in batches."""
    import pandas as pd

    from samestory.shingle import jaccard_batch

    for frame in batches:
        n = len(frame)
        if exact:
            sets_a = [np.frombuffer(v, dtype=np.uint64) for v in frame["values_a"]]
            sets_b = [np.frombuffer(v, dtype=np.uint64) for v in frame["values_b"]]
            # process_chunk's shingle sets are unsorted (repeats kept): hashed, not merged
            a, b = _csr(sets_a), _csr(sets_b)
            sim = jaccard_batch(a, np.arange(n), b, np.arange(n), assume_sorted=False)
        else:
            sa = np.stack([np.frombuffer(v, dtype=np.uint32) for v in frame["sig_a"]])
            sb = np.stack([np.frombuffer(v, dtype=np.uint32) for v in frame["sig_b"]])
            sim = (sa == sb).mean(axis=1) if n else np.zeros(0)
        yield pd.DataFrame({"a": frame["a"], "b": frame["b"], "jaccard": sim})


def _csr(sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=offsets[1:])
    values = np.concatenate(sets) if sets else np.zeros(0, dtype=np.uint64)
    return values.astype(np.uint64, copy=False), offsets


def _verify(docs: Any, cand: Any, config: DedupConfig) -> Any:
    """Stage 3: candidate pairs with their similarity, kept when it reaches the threshold."""
    from pyspark.sql import functions as F

    threshold = config.minhash.threshold
    if config.exact_only:
        return cand.withColumn("jaccard", F.lit(1.0))
    column = "values" if config.verify else "sig"
    side_a = docs.select(F.col("key").alias("a"), F.col(column).alias(f"{column}_a"))
    side_b = docs.select(F.col("key").alias("b"), F.col(column).alias(f"{column}_b"))
    joined = cand.join(side_a, "a").join(side_b, "b")
    exact = config.verify
    sims = joined.mapInPandas(
        lambda it: _similarity_rows(it, exact), "a long, b long, jaccard double"
    )
    # the local engine's comparison, to the last bit
    return sims.where(F.col("jaccard") >= threshold - 1e-12)


def _representatives(docs: Any, labels: Any) -> Any:
    """Stage 4b: per cluster (label), the kept member and whether its date chose it."""
    from pyspark.sql import functions as F

    date_key = F.when(F.isnan("date"), F.lit(float("inf"))).otherwise(F.col("date"))
    members = labels.join(docs.select("key", "date", "length"), labels.node == docs.key)
    best = F.min(F.struct(date_key.alias("d"), (-F.col("length")).alias("l"), F.col("key")))
    return (
        members.groupBy("label")
        .agg(best.alias("best"))
        .select(
            "label",
            F.col("best.key").alias("kept"),
            (F.col("best.d") < F.lit(float("inf"))).alias("by_date"),
        )
    )


class SparkResult:
    """What the Spark stages found, as DataFrames (lazy) and timings of the eager ones."""

    def __init__(self, **parts: Any) -> None:
        self.rows = parts["rows"]
        self.docs = parts["docs"]
        self.skipped = parts["skipped"]
        self.pairs = parts["pairs"]
        self.labels = parts["labels"]
        self.reps = parts["reps"]
        self.candidates = parts["candidates"]
        self.rounds = parts["rounds"]
        self.timings = parts["timings"]
        self.counts = parts["counts"]


def find_duplicates(spark: Any, records: Any, config: DedupConfig, fields: Fields) -> SparkResult:
    """Stages 1-4 over an RDD of ``(order key, Record)``; every stage is materialised once
    (cached) so its time can be reported."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from samestory.engines.spark_components import connected_components

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    rows = features(spark, records, config, fields).persist(StorageLevel.MEMORY_AND_DISK)
    n_rows = rows.count()
    docs = rows.where(F.col("skip").isNull())
    skipped = rows.where(F.col("skip").isNotNull()).select("key", "path", "line", "skip")
    timings["features_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cand = _candidates(docs, config).persist(StorageLevel.MEMORY_AND_DISK)
    n_cand = cand.count()
    timings["candidates_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = _verify(docs, cand, config).persist(StorageLevel.MEMORY_AND_DISK)
    pairs.count()
    cand.unpersist()
    timings["verify_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels, rounds = connected_components(
        pairs.select(F.col("a").alias("src"), F.col("b").alias("dst"))
    )
    n_in_clusters = labels.count()
    reps = _representatives(docs, labels).persist(StorageLevel.MEMORY_AND_DISK)
    n_clusters = reps.count()
    timings["cluster_s"] = time.perf_counter() - t0
    return SparkResult(
        rows=rows,
        docs=docs,
        skipped=skipped,
        pairs=pairs,
        labels=labels,
        reps=reps,
        candidates=n_cand,
        rounds=rounds,
        timings=timings,
        counts={"records": n_rows, "in_clusters": n_in_clusters, "clusters": n_clusters},
    )


def _records_of(spark: Any, source: Any) -> Any:
    """An RDD of ``(order key, Record)`` from paths or from Documents/dicts in Python."""
    from samestory.engines.spark_input import list_inputs, read_records
    from samestory.pipeline import _doc_records

    if isinstance(source, (str, os.PathLike)):
        source = [source]
    if isinstance(source, Sequence) and all(isinstance(s, (str, os.PathLike)) for s in source):
        return read_records(spark, list_inputs(spark, [str(s) for s in source]))
    keyed = [(r.line, r) for r in _doc_records(source)]
    slices = max(1, min(len(keyed) // 1000, spark.sparkContext.defaultParallelism * 4))
    return spark.sparkContext.parallelize(keyed, slices)


def run_spark(
    source: Any,
    *,
    out: str,
    config: DedupConfig,
    fields: Fields,
    fmt: str,
    master: str | None,
    on_skip: Any,
) -> Any:
    """``samestory.dedup(..., engine="spark")``: every stage on Spark, the local engine's files.

    Returns:
        A :class:`samestory.pipeline.DedupResult` (its pairs, clusters and dropped lists are
        filled when ``out`` is a local folder).
    """
    from collections import Counter
    from pathlib import Path

    from samestory.engines.spark_output import is_cluster_uri, write_tables
    from samestory.output import run_summary, write_summary
    from samestory.pipeline import DedupResult

    t_start = time.perf_counter()
    spark = session(master)
    records = _records_of(spark, source)  # lists the inputs: a bad path fails here, early
    result = find_duplicates(spark, records, config, fields)
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for r in result.skipped.orderBy("key").toLocalIterator():
        reasons[r["skip"].split(" (")[0]] += 1
        if len(examples) < 100:
            examples.append({"path": r["path"], "line": r["line"], "reason": r["skip"]})
        on_skip(Skipped(r["path"], r["line"], r["skip"]))
    t0 = time.perf_counter()
    counts, collected = write_tables(result, str(out), fmt)
    timings = {**result.timings, "write_s": time.perf_counter() - t0}
    n_skipped = sum(reasons.values())
    n_docs = result.counts["records"] - n_skipped
    timings["total_s"] = time.perf_counter() - t_start
    summary = run_summary(
        config,
        fields,
        fmt=fmt,
        engine_settings={"engine": "spark", "master": spark.sparkContext.master},
        records=n_docs + n_skipped,
        documents=n_docs,
        reasons=reasons,
        examples=examples,
        candidates=result.candidates,
        pairs=counts["pairs"],
        clusters=result.counts["clusters"],
        in_clusters=result.counts["in_clusters"],
        engine_counts={"components_rounds": result.rounds},
    )
    summary |= {
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "docs_per_s": round((n_docs + n_skipped) / max(timings["total_s"], 1e-9), 1),
        "outputs": counts,
    }
    if is_cluster_uri(str(out)):
        text = json.dumps(summary, indent=2, ensure_ascii=False)
        spark.createDataFrame([(text,)], "value string").coalesce(1).write.mode("overwrite").text(
            f"{str(out).rstrip('/')}/summary.json"
        )
    else:
        write_summary(Path(out), summary)
    for frame in (result.rows, result.pairs, result.labels, result.reps):
        frame.unpersist()
    return DedupResult(
        Path(out) if not is_cluster_uri(str(out)) else Path("."),
        collected["pairs"],
        collected["clusters"],
        collected["dropped"],
        summary,
    )
