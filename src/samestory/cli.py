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
    p = sub.add_parser(
        "dedup",
        help="deduplicate a corpus",
        description="Find near-duplicate documents (MinHash-LSH, verified on real shingle sets), "
        "keep one per cluster, and write pairs, clusters, the kept corpus and a summary to DIR. "
        "A rerun with the same arguments resumes from the completed chunks in DIR/work.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for stdin JSONL")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--threshold", type=float, default=0.8, help="Jaccard threshold (0.8)")
    p.add_argument("--ngram", type=int, default=5, help="words per shingle (5)")
    p.add_argument("--num-perm", type=int, default=128, help="MinHash permutations (128)")
    p.add_argument("--bands", type=int, default=0, help="LSH bands (default: from threshold)")
    p.add_argument("--rows", type=int, default=0, help="rows per band (with --bands)")
    p.add_argument("--seed", type=int, default=1, help="MinHash seed (1)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (all cores)")
    p.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check candidates on real shingle sets (default: on)",
    )
    p.add_argument("--exact-only", action="store_true", help="exact duplicates only, no MinHash")
    p.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl", dest="fmt")
    p.add_argument("--text-field", default="text", help="record field with the text")
    p.add_argument("--id-field", default="id", help="record field with the id")
    p.add_argument("--date-field", default="date", help="record field with the date")
    p.add_argument("--source-field", default="source", help="record field with the source")
    p.add_argument("--title-field", default="title", help="record field with the title")
    p.add_argument("--chunk-size", type=int, default=10_000, help="records per chunk (10000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or skip messages")
    p.add_argument("--engine", choices=("local", "spark"), default="local", help="(local)")
    p.add_argument(
        "--master", default=None, help="Spark master with --engine spark (local[*], yarn, ...)"
    )
    p.set_defaults(func=_run_dedup)


def _run_dedup(args: argparse.Namespace) -> int:
    from samestory.ingest import Fields
    from samestory.pipeline import dedup

    fields = Fields(
        text=args.text_field,
        id=args.id_field,
        date=args.date_field,
        source=args.source_field,
        title=args.title_field,
    )
    result = dedup(
        args.paths,
        out=args.out,
        threshold=args.threshold,
        ngram=args.ngram,
        num_perm=args.num_perm,
        bands=args.bands,
        rows=args.rows,
        seed=args.seed,
        jobs=args.jobs,
        verify=args.verify,
        exact_only=args.exact_only,
        fields=fields,
        fmt=args.fmt,
        chunk_size=args.chunk_size,
        progress=not args.quiet,
        on_skip=(lambda s: None) if args.quiet else None,
        engine=args.engine,
        master=args.master,
    )
    if not args.quiet:
        c = result.summary["counts"]
        print(
            f"samestory: {c['documents']:,} documents, {c['clusters']:,} clusters, "
            f"{c['duplicates_removed']:,} duplicates removed, {c['kept']:,} kept, "
            f"{c['skipped']:,} skipped -> {result.out}",
            file=sys.stderr,
        )
    return 0


def _add_index(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("index", help="build and manage a persistent index")
    p.set_defaults(func=_not_yet)


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
    for add in (_add_compare, _add_dedup, _add_index, _add_eval, _add_demo):
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
