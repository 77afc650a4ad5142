"""The `samestory` command: parse, call one public function, print. No logic lives here."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from samestory.document import Document
from samestory.errors import InputError, SamestoryError, SettingsError, StoreError

Handler = Callable[[argparse.Namespace], int]


def _add_compare(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("compare", help="compare two articles")
    p.set_defaults(func=_not_yet)


def _add_dedup(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dedup", help="deduplicate a corpus")
    p.set_defaults(func=_not_yet)


def _add_index(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("index", help="build and manage a persistent index")
    isub = p.add_subparsers(dest="action", required=True)
    add = isub.add_parser("add", help="add documents (.txt files, folders of them, JSONL)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--batch-size", type=int, default=1000, help="documents per transaction")
    add.add_argument("--workers", type=int, default=1, help="processes that shingle and hash")
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


def _add_query(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("query", help="find the stored articles that match an article")
    p.add_argument("file", metavar="FILE|-", help="the article (.txt, JSONL of several, - stdin)")
    p.add_argument("--db", required=True, metavar="FILE", help="the index file")
    p.add_argument("--top", type=int, default=10, help="at most this many matches (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per query and line")
    p.set_defaults(func=_query)


def _read_inputs(paths: Sequence[str], skipped: list[str]) -> Iterator[Document]:
    """Documents from .txt files, folders of them, and JSONL; bad records go to ``skipped``.

    A minimal reader until ingest's readers take its place.
    """
    from pathlib import Path

    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise InputError("no such file or directory", path=name)
        found = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [f for f in found if f.is_file() and (f.suffix in (".txt", ".jsonl") or f == path)]

    def read() -> Iterator[Document]:
        for file in files:
            if file.suffix != ".jsonl":
                text = file.read_text(encoding="utf-8", errors="replace")
                yield Document(text, meta={"path": str(file)})
                continue
            with file.open(encoding="utf-8", errors="replace") as lines:
                for n, line in enumerate(lines, 1):
                    try:
                        r = json.loads(line)
                        field = {k: str(r.get(k) or "") for k in ("id", "title", "source", "url")}
                        doc = Document(
                            str(r.get("text") or r.get("body") or ""),
                            id=field["id"],
                            title=field["title"],
                            source=field["source"],
                            url=field["url"],
                            published=str(r.get("published") or r.get("date") or ""),
                            lang=str(r.get("lang") or ""),
                        )
                    except (ValueError, AttributeError) as exc:
                        if line.strip():
                            skipped.append(f"{file}:{n}: not a JSON object ({exc})")
                        continue
                    yield doc

    return read()


def _open_index(args: argparse.Namespace, *, create: bool = False) -> Any:
    from samestory.store import Index

    return Index(args.db, create=create)


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
    skipped: list[str] = []
    docs = _read_inputs(args.paths, skipped)
    with _open_index(args, create=True) as index, _progress(args, "documents") as bar:
        task = bar.add_task("add")
        before = len(index)
        ids = index.add(
            docs,
            batch_size=args.batch_size,
            workers=args.workers,
            progress=lambda n: bar.advance(task, n),
        )
        added = len(index) - before
    for line in skipped:
        print(f"samestory: skipped {line}", file=sys.stderr)
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
    _say(args, f"rebuilt the bands and fingerprints of {count:,} documents in {args.db}")
    return 0


def _query(args: argparse.Namespace) -> int:
    skipped: list[str] = []
    if args.file == "-":
        queries: Iterable[Document] = [Document(sys.stdin.read())]
    else:
        queries = _read_inputs([args.file], skipped)
    with _open_index(args) as index:
        for doc in queries:
            matches = index.query(doc, top=args.top)
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
        print(f"samestory: skipped {line}", file=sys.stderr)
    return 0


def _add_eval(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("eval", help="evaluate on a public dataset")
    p.set_defaults(func=_not_yet)


def _add_demo(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="run on the built-in sample collection")
    p.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise SettingsError(f"'{args.command}' is not available yet")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samestory",
        description="Find the news articles that tell the same story, and show how they relate.",
    )
    from samestory import __version__

    parser.add_argument("--version", action="version", version=f"samestory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_compare, _add_dedup, _add_index, _add_query, _add_eval, _add_demo):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `samestory` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, SettingsError) as exc:
        print(f"samestory: error: {exc}", file=sys.stderr)
        return 2
    except SamestoryError as exc:
        print(f"samestory: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("samestory: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
