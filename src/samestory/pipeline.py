"""``dedup()``: read, clean, shingle, MinHash, band, verify, cluster and write, chained.

The runner owns counting, skip reporting, progress and timings; the stages stay plain.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samestory.config import CleanConfig, DedupConfig, MinHashConfig
from samestory.document import Document
from samestory.errors import SettingsError
from samestory.ingest import (
    Batch,
    Fields,
    LineSpan,
    Record,
    Skipped,
    batches,
    check_paths,
    pack,
)

__all__ = ["DedupResult", "dedup"]

MAX_SKIP_MESSAGES = 50


@dataclass(slots=True)
class DedupResult:
    """What a dedup run found and wrote.

    Attributes:
        out: the output folder.
        pairs: verified near-duplicate pairs ``(id_a, id_b, jaccard)``.
        clusters: one dict per cluster: ``kept``, ``rule``, ``members``.
        dropped: ids of the duplicates left out of the deduplicated corpus.
        summary: the contents of summary.json.
    """

    out: Path
    pairs: list[tuple[str, str, float]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _doc_records(docs: Iterable[Document | dict[str, Any]]) -> Iterator[Record]:
    for n, doc in enumerate(docs, 1):
        if isinstance(doc, dict):
            yield Record("<python>", n, "row", {k: "" if v is None else v for k, v in doc.items()})
        else:
            yield Record("<python>", n, "doc", doc)


def dedup(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Iterable[Document],
    *,
    out: str | os.PathLike[str] | None = None,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    bands: int = 0,
    rows: int = 0,
    seed: int = 1,
    jobs: int | None = None,
    verify: bool = True,
    exact_only: bool = False,
    fields: Fields | None = None,
    fmt: str = "jsonl",
    chunk_size: int = 10_000,
    clean: CleanConfig | None = None,
    progress: bool = False,
    on_skip: Callable[[Skipped], None] | None = None,
    engine: str = "local",
    master: str | None = None,
) -> DedupResult:
    """Find near-duplicate documents, keep one per cluster, and write the results to ``out``.

    Args:
        source: input paths (files, folders, ``"-"`` for stdin JSONL) or Documents/dicts.
        out: output folder (pairs, clusters, kept, summary and a ``work/`` folder whose
            completed chunks a rerun with the same arguments reuses); a temporary folder if None.
        threshold: Jaccard similarity a pair must reach.
        ngram: words per shingle.
        num_perm: MinHash signature length.
        bands, rows: LSH banding; 0 chooses them from the threshold.
        seed: seed of the MinHash permutations.
        jobs: worker processes (default: all cores).
        verify: check candidates on their real shingle sets (else report MinHash estimates).
        exact_only: only exact duplicates of the cleaned text.
        fields: record fields holding text, id, date, source and title.
        fmt: "jsonl" or "parquet".
        chunk_size: records per chunk (the unit of parallel work and of resuming).
        clean: the clean stage's settings.
        progress: show a progress bar on stderr.
        on_skip: called for every skipped record (default: a message on stderr).
        engine: "local" (processes on this machine) or "spark" (the same answers on Spark).
        master: the Spark master for ``engine="spark"`` (default: the active session's, else
            ``local[*]``); ignored by the local engine.

    Example:
        >>> from samestory import Document, dedup
        >>> story = "The storm hit the coast on Monday and closed every school in town."
        >>> docs = [Document(story, id="a"), Document(story + " More.", id="b")]
        >>> [c["members"] for c in dedup(docs, threshold=0.5, jobs=1).clusters]
        [['a', 'b']]
    """
    from samestory.engines.local import run_local
    from samestory.output import _pyarrow, cluster_rows, run_summary, write_dedup, write_summary

    if fmt not in ("jsonl", "parquet"):
        raise SettingsError(f"format must be 'jsonl' or 'parquet', got {fmt!r}")
    if chunk_size < 1:
        raise SettingsError(f"chunk_size must be at least 1, got {chunk_size}")
    if jobs is not None and jobs < 1:
        raise SettingsError(f"jobs must be at least 1, got {jobs}")
    config = DedupConfig(
        minhash=MinHashConfig(
            ngram=ngram, num_perm=num_perm, threshold=threshold, bands=bands, rows=rows, seed=seed
        ),
        clean=clean or CleanConfig(),
        verify=verify,
        exact_only=exact_only,
    )
    fields = fields or Fields()
    if engine not in ("local", "spark"):
        raise SettingsError(f"engine must be 'local' or 'spark', got {engine!r}")
    if engine == "spark":
        from samestory.engines.spark import run_spark

        if fmt == "parquet":
            _pyarrow()
        target = out if out is not None else tempfile.mkdtemp(prefix="samestory-")
        report = on_skip or _stderr_skips()
        return run_spark(  # type: ignore[no-any-return]
            source,
            out=str(target),
            config=config,
            fields=fields,
            fmt=fmt,
            master=master,
            on_skip=report,
        )
    jobs = jobs or os.cpu_count() or 1
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    items = source if isinstance(source, Sequence) else None
    if items is not None and all(isinstance(s, (str, os.PathLike)) for s in items):
        files = check_paths(items)  # type: ignore[arg-type]
        stream: Iterable[Batch | LineSpan] = batches(files, chunk_size, spans=True)
        total = sum(f.stat().st_size for f in files if f.suffix != ".gz" and str(f) != "-")
        inputs = [_identity(f) for f in files]
    else:
        stream = pack(_doc_records(source), chunk_size)  # type: ignore[arg-type]
        total = 0
        inputs = ["<python>"]
    out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="samestory-"))
    if fmt == "parquet":
        _pyarrow()  # fail before any work when the extra is missing
    report = on_skip or _stderr_skips()
    bar: _Progress | None = None  # started at the first chunk, after the workers forked
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []

    def on_chunk(meta: dict[str, Any], reused: bool) -> None:
        counts["records"] += meta["records"]
        counts["documents"] += len(meta["ids"])
        counts["reused_chunks"] += int(reused)
        for path, line, reason in meta["skipped"]:
            reasons[reason.split(" (")[0]] += 1
            if len(examples) < 100:
                examples.append({"path": path, "line": line, "reason": reason})
            report(Skipped(path, line, reason))
        nonlocal bar
        if progress:
            if bar is None:
                bar = _Progress(total, started)
            bar.advance(meta["bytes"], counts["documents"])

    t0 = started = time.perf_counter()
    try:
        result = run_local(
            stream,
            work=out_dir / "work",
            config=config,
            fields=fields,
            jobs=jobs,
            chunk_size=chunk_size,
            on_chunk=on_chunk,
            inputs=inputs,
        )
    except BaseException:
        if bar is not None:
            bar.close(finished=False)
        raise
    if bar is not None:
        bar.close(finished=True)
    store = result.store
    ids = store.ids()
    n_docs = store.n_docs
    t1 = time.perf_counter()
    in_clusters = int((_cluster_sizes(result.labels) > 1).sum())
    summary = run_summary(
        config,
        fields,
        fmt=fmt,
        engine_settings={"jobs": jobs, "chunk_size": chunk_size},
        records=counts["records"],
        documents=n_docs,
        reasons=reasons,
        examples=examples,
        candidates=result.candidates,
        pairs=len(result.pairs),
        clusters=len(result.kept),
        in_clusters=in_clusters,
        engine_counts={"reused_chunks": counts["reused_chunks"]},
    )
    clusters = list(cluster_rows(ids, result.labels, result.roots, result.kept, result.by_date))
    written = write_dedup(
        out_dir,
        ids=ids,
        pairs=result.pairs,
        similarity=result.similarity,
        labels=result.labels,
        kept=result.kept,
        clusters=clusters,
        chunk_records=[store.records_path(m["chunk"]) for m in store.metas],
        chunk_ends=[store.array(m["chunk"], "ends") for m in store.metas],
        starts=store.starts,
        fmt=fmt,
    )
    t2 = time.perf_counter()
    timings = {**result.timings, "write_s": t2 - t1, "total_s": t2 - t0}
    summary["timings"] = {k: round(v, 3) for k, v in timings.items()}
    summary["docs_per_s"] = round(counts["records"] / max(timings["total_s"], 1e-9), 1)
    summary["outputs"] = written
    write_summary(out_dir, summary)
    kept_set = {c["kept"] for c in clusters}
    dropped = [m for c in clusters for m in c["members"] if m not in kept_set]
    pairs = [
        (ids[i], ids[j], float(s))
        for (i, j), s in zip(result.pairs.tolist(), result.similarity.tolist(), strict=True)
    ]
    return DedupResult(out_dir, pairs, clusters, dropped, summary)


def _identity(path: Path) -> str:
    """Path, size and modification time: a changed input never reuses old chunks."""
    if str(path) == "-":
        return "<stdin>"
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def _cluster_sizes(labels: Any) -> Any:
    import numpy as np

    return np.bincount(labels, minlength=len(labels))[labels]


def _stderr_skips() -> Callable[[Skipped], None]:
    shown = 0

    def report(skipped: Skipped) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_SKIP_MESSAGES:
            print(f"samestory: {skipped}", file=sys.stderr)
        elif shown == MAX_SKIP_MESSAGES + 1:
            print("samestory: more records skipped; see summary.json", file=sys.stderr)

    return report


class _Progress:
    """A rich progress bar on stderr: input read, documents, docs/s, ETA."""

    def __init__(self, total_bytes: int, started: float) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.start = started
        self.progress = Progress(
            TextColumn("dedup"),
            BarColumn(),
            TextColumn("{task.fields[docs]} docs · {task.fields[rate]} docs/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task("dedup", total=total_bytes or None, docs=0, rate="-")
        self.progress.start()

    def advance(self, nbytes: int, docs: int) -> None:
        rate = docs / max(time.perf_counter() - self.start, 1e-9)
        self.progress.update(self.task, advance=nbytes, docs=f"{docs:,}", rate=f"{rate:,.0f}")

    def close(self, *, finished: bool) -> None:
        task = self.progress.tasks[0]
        if finished and task.total:  # blank lines are not counted as they go
            self.progress.update(self.task, completed=task.total)
        self.progress.stop()
