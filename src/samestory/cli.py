"""The `samestory` command: parse, call one public function, print. No logic lives here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from samestory.errors import InputError, SamestoryError, SettingsError

Handler = Callable[[argparse.Namespace], int]


def _add_compare(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("compare", help="compare two articles")
    p.set_defaults(func=_not_yet)


def _add_dedup(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dedup", help="deduplicate a corpus")
    p.set_defaults(func=_not_yet)


def _add_index(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("index", help="build and manage a persistent index")
    p.set_defaults(func=_not_yet)


def _add_eval(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("eval", help="evaluate on a public dataset")
    p.set_defaults(func=_not_yet)


def _add_stories(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("stories", help="group documents into stories (same event)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders of documents")
    p.add_argument("--db", help="read the documents of this index instead of PATHs")
    p.add_argument("--out", required=True, help="folder for stories.jsonl")
    p.add_argument(
        "--model",
        choices=("minilm", "use"),
        default="minilm",
        help="embedding model: minilm (English) or use (multilingual)",
    )
    p.add_argument("--no-entities", action="store_true", help="do not use named entities")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=_run_stories)


def _run_stories(args: argparse.Namespace) -> int:
    from samestory.stories import find_stories, write_stories

    if bool(args.paths) == bool(args.db):
        raise SettingsError("give either PATH... or --db FILE")
    if args.db:
        from samestory.store import Index

        with Index(args.db, create=False) as index:
            documents = list(index.documents())
    else:
        from samestory.ingest import read_documents

        documents = list(read_documents(args.paths))
    stories = find_stories(
        documents, model=args.model, use_entities=False if args.no_entities else None
    )
    path = write_stories(stories, args.out)
    if not args.quiet:
        print(f"{len(stories)} stories from {len(documents)} documents -> {path}")
    return 0


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
    for add in (_add_compare, _add_dedup, _add_index, _add_eval, _add_stories, _add_demo):
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
