"""The `samestory` command: parse, call one public function, print. No logic lives here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from samestory.errors import InputError, SamestoryError, SettingsError

if TYPE_CHECKING:
    from samestory.document import Comparison

Handler = Callable[[argparse.Namespace], int]


def _add_compare(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "compare",
        help="compare two articles",
        description="Compare two articles: verdict, scores, shared passages, unique text, "
        "origin. A and B are plain-text files ('-' for stdin; a short first line without "
        "final punctuation is read as the title).",
    )
    p.add_argument("a", nargs="?", help="first article file, or - for stdin")
    p.add_argument("b", nargs="?", help="second article file, or - for stdin")
    p.add_argument("--text-a", help="first article as a string (instead of A)")
    p.add_argument("--text-b", help="second article as a string (instead of B)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--quiet", action="store_true", help="print nothing but --json output")
    p.set_defaults(func=_compare)


def _compare(args: argparse.Namespace) -> int:
    import json

    from samestory.articles import read_article, text_document
    from samestory.compare import compare

    if args.a == "-" and args.b == "-":
        raise SettingsError("only one of A and B can be read from stdin")
    files = [x for x in (args.a, args.b) if x is not None]
    docs = []
    for side, text in (("A", args.text_a), ("B", args.text_b)):
        if text is not None:
            docs.append(text_document(text, name=f"--text-{side.lower()}"))
        elif files:
            docs.append(read_article(files.pop(0)))
        else:
            raise SettingsError(
                f"article {side} is missing: give a file, - or --text-{side.lower()}"
            )
    if files:
        raise SettingsError(f"too many articles: {', '.join(files)} left over")
    result = compare(docs[0], docs[1])
    _write_outputs(result, args.html, as_json=args.json, quiet=args.quiet)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _write_outputs(
    result: Comparison, html_path: str | None, *, as_json: bool, quiet: bool
) -> None:
    from pathlib import Path

    from samestory.report import comparison_html, print_report

    if html_path:
        try:
            Path(html_path).write_text(comparison_html(result), encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot write the HTML report ({exc.strerror})", path=html_path
            ) from exc
    if not as_json and not quiet:
        print_report(result)
        if html_path:
            print(f"HTML report: {html_path}")


def _add_dedup(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dedup", help="deduplicate a corpus")
    p.set_defaults(func=_not_yet)


def _add_index(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("index", help="build and manage a persistent index")
    p.set_defaults(func=_not_yet)


def _add_eval(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from samestory.evaluate import DATASETS

    p = sub.add_parser("eval", help="evaluate on a public dataset")
    p.add_argument("dataset", choices=sorted(DATASETS), help="which dataset")
    p.add_argument("--data", required=True, help="folder of the dataset (see its SOURCE.md)")
    p.add_argument("--json", action="store_true", help="print one JSON object of metrics")
    emb = p.add_mutually_exclusive_group()
    emb.add_argument(
        "--embeddings",
        dest="embeddings",
        action="store_true",
        default=None,
        help="use sentence embeddings (default: when the embed extra is installed)",
    )
    emb.add_argument("--no-embeddings", dest="embeddings", action="store_false")
    p.set_defaults(func=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    import json

    from samestory.evaluate import evaluate

    metrics = evaluate(args.dataset, args.data, embeddings=args.embeddings)
    if args.json:
        print(json.dumps(metrics, sort_keys=True))
    else:
        for key, value in metrics.items():
            print(f"{key:>10}  {value}")
    return 0


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
    try:  # the reading stages live in ingest (files) and store (index)
        if args.db:
            from samestory.store import Index
        else:
            from samestory.ingest import read_documents
    except ImportError as exc:
        raise SettingsError(
            f"this build cannot read {'--db' if args.db else 'PATH'}: {exc}"
        ) from None
    if args.db:
        with Index(args.db, create=False) as index:
            documents = list(index.documents())
    else:
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
    p.add_argument("--out", default="demo-out", help="folder for the HTML report (demo-out)")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from samestory.compare import compare
    from samestory.samples import DEMO_PAIR, load

    docs = {d.id: d for d in load()}
    result = compare(docs[DEMO_PAIR[0]], docs[DEMO_PAIR[1]])
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder ({exc.strerror})", path=str(out)) from exc
    page = out / "compare.html"
    _write_outputs(result, str(page), as_json=False, quiet=True)
    from samestory.report import print_report

    print_report(result)
    print(f"HTML report: {page.resolve()}")
    return 0


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
