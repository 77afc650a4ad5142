"""The `samestory index ...` and `samestory query` commands (built into the parser of `cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from samestory.document import Document
from samestory.errors import InputError, StoreError

if TYPE_CHECKING:
    from samestory.ingest import Fields, Skipped

__all__ = ["add_field_options", "add_index", "add_query", "fields_of", "strict_skip"]


def strict_skip(skipped: Skipped) -> None:
    """With --strict, the first bad record is an error."""
    raise InputError(f"{skipped.reason} (--strict)", path=skipped.path, line=skipped.line or None)


def add_field_options(p: argparse.ArgumentParser) -> None:
    """The options that name the fields of JSONL and CSV records."""
    p.add_argument("--text-field", default="text", help="record field with the text")
    p.add_argument("--id-field", default="id", help="record field with the id")
    p.add_argument(
        "--date-field",
        default="date",
        help="record field with the date (default: date, else published)",
    )
    p.add_argument("--source-field", default="source", help="record field with the source")
    p.add_argument("--title-field", default="title", help="record field with the title")
    p.add_argument("--url-field", default="url", help="record field with the url")


def fields_of(args: argparse.Namespace) -> Fields:
    """The record fields named by :func:`add_field_options`."""
    from samestory.ingest import Fields

    return Fields(
        text=args.text_field,
        id=args.id_field,
        date=args.date_field,
        source=args.source_field,
        title=args.title_field,
        url=args.url_field,
    )


def add_index(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("index", help="build and manage a persistent index")
    isub = p.add_subparsers(dest="action", required=True)
    add = isub.add_parser("add", help="add documents (.txt files, folders of them, JSONL)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument(
        "--batch-size",
        type=int,
        help="documents per transaction (default: 10,000 or 1/16 of those stored, up to 40,000)",
    )
    add.add_argument("--workers", type=int, default=1, help="processes that shingle and hash")
    add.add_argument("--strict", action="store_true", help="stop at the first bad record")
    add_field_options(add)
    add.add_argument(
        "--embed",
        nargs="?",
        const="minilm",
        metavar="MODEL",
        help="store embeddings (minilm, or use: multilingual) for same-story queries; "
        "kept in the file (needs the embed extra)",
    )
    add.set_defaults(func=_index_add)
    stats = isub.add_parser("stats", help="counts, sizes and settings of an index")
    stats.set_defaults(func=_index_stats)
    remove = isub.add_parser("remove", help="remove documents by id")
    remove.add_argument("ids", nargs="+", metavar="ID")
    remove.set_defaults(func=_index_remove)
    export = isub.add_parser("export", help="write every stored document as JSON lines")
    export.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    export.set_defaults(func=_index_export)
    rebuild = isub.add_parser("rebuild", help="rebuild the derived indexes from the database")
    rebuild.set_defaults(func=_index_rebuild)
    for q in (add, stats, remove, export, rebuild):
        q.add_argument("--db", required=True, metavar="FILE", help="the index file")
        q.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
        q.add_argument("--json", action="store_true", help="machine-readable output")


def add_query(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("query", help="find the stored articles that match an article")
    p.add_argument("file", metavar="FILE|-", help="the article (.txt, JSONL of several, - stdin)")
    p.add_argument("--db", required=True, metavar="FILE", help="the index file")
    p.add_argument("--top", type=int, default=10, help="at most this many matches (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per query and line")
    p.add_argument("--html", metavar="FILE", help="write the matches compared side by side")
    p.set_defaults(func=_query)


def _read_inputs(
    paths: Sequence[str], skipped: list[str], *, strict: bool = False
) -> Iterator[Document]:
    """Documents of the inputs (every format ingest reads); skip messages go to ``skipped``.

    A missing or unknown path is an error here, before any index is opened or created; with
    ``strict`` so is the first bad record.
    """
    from samestory.ingest import check_paths, read_documents

    check_paths(paths)
    keep = strict_skip if strict else (lambda s: skipped.append(str(s)))
    return read_documents(paths, on_skip=keep)


def _open_index(args: argparse.Namespace, *, create: bool = False) -> Any:
    from samestory.store import Index

    return Index(args.db, create=create, embed=getattr(args, "embed", None))


def _progress(args: argparse.Namespace, what: str) -> Any:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn(f"{{task.completed:,}} {what}"), TimeElapsedColumn())
    off = args.quiet or not sys.stderr.isatty()
    return Progress(*columns, console=Console(stderr=True), transient=True, disable=off)


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(f"samestory: {message}", file=sys.stderr)


def _index_add(args: argparse.Namespace) -> int:
    from samestory.ingest import check_paths

    skipped: list[str] = []
    check_paths(args.paths)  # a missing or unknown path fails before any index is made
    keep = strict_skip if args.strict else (lambda s: skipped.append(str(s)))
    with _open_index(args, create=True) as index, _progress(args, "documents") as bar:
        task = bar.add_task("add")
        before = len(index)
        ids = index.add_files(
            args.paths,
            fields=fields_of(args),
            on_skip=keep,
            batch_size=args.batch_size,
            workers=args.workers,
            progress=lambda n: bar.advance(task, n),
        )
        added = len(index) - before
    for line in skipped:
        print(f"samestory: {line}", file=sys.stderr)
    summary = {"added": added, "present": len(ids) - added, "skipped": len(skipped)}
    if args.json:
        print(json.dumps(summary))
    _say(
        args,
        f"added {added:,} documents to {args.db} ({len(ids) - added:,} already there, "
        f"{len(skipped):,} skipped)",
    )
    return 0


def _index_stats(args: argparse.Namespace) -> int:
    with _open_index(args) as index:
        stats = index.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    for key, value in stats.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, dict) else value}")
    return 0


def _index_remove(args: argparse.Namespace) -> int:
    with _open_index(args) as index:
        missing = [id for id in args.ids if not index.remove(id)]
    if missing:
        raise StoreError(f"{args.db}: no document with id {', '.join(map(repr, missing))}")
    _say(args, f"removed {len(args.ids):,} documents from {args.db}")
    return 0


def _index_export(args: argparse.Namespace) -> int:
    with _open_index(args) as index:
        count = index.export(args.out or sys.stdout)
    _say(args, f"exported {count:,} documents" + (f" to {args.out}" if args.out else ""))
    return 0


def _index_rebuild(args: argparse.Namespace) -> int:
    with _open_index(args) as index, _progress(args, "documents") as bar:
        task = bar.add_task("rebuild")
        count = index.rebuild(progress=lambda n: bar.advance(task, n))
        ann = " and the embedding index" if index.embed else ""
    _say(args, f"rebuilt the bands, fingerprints{ann} of {count:,} documents in {args.db}")
    return 0


def _query(args: argparse.Namespace) -> int:
    skipped: list[str] = []
    if args.file == "-":
        queries: Iterable[Document] = [Document(sys.stdin.read())]
    else:
        queries = _read_inputs([args.file], skipped)
    pages: list[str] = []
    with _open_index(args) as index:
        for doc in queries:
            matches = index.query(doc, top=args.top)
            if args.html:
                from samestory.compare import compare
                from samestory.report import query_html

                pages.append(query_html(doc, [compare(doc, m.document) for m in matches]))
            if args.json:
                head = {"id": doc.id, "title": doc.title}
                print(json.dumps({"query": head, "matches": [m.to_dict() for m in matches]}))
                continue
            plural = "" if len(matches) == 1 else "es"
            print(f"{doc.id} {doc.title}".rstrip() + f": {len(matches)} match{plural}")
            for rank, m in enumerate(matches, 1):
                overall = m.scores.get("overall", 0.0)
                print(f"  {rank:>2}. {m.verdict:<10} {overall:.3f}  {m.id}  {m.document.title}")
    for line in skipped:
        print(f"samestory: {line}", file=sys.stderr)
    if args.html:
        _write_query_html(args.html, pages)
        print(f"samestory: HTML report: {args.html}", file=sys.stderr)
    return 0


def _write_query_html(path: str, pages: list[str]) -> None:
    from pathlib import Path

    # one page per query: the first at PATH, the others numbered beside it
    target = Path(path)
    for n, page in enumerate(pages):
        out = target if n == 0 else target.with_name(f"{target.stem}-{n + 1}{target.suffix}")
        try:
            out.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the report ({exc.strerror})", path=str(out)) from exc
