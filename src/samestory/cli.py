"""The `samestory` command: parse, call one public function, print. No logic lives here."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from samestory.cli_index import add_field_options, add_index, add_query, fields_of, strict_skip
from samestory.errors import InputError, SamestoryError, SettingsError

if TYPE_CHECKING:
    from samestory.document import Comparison

Handler = Callable[[argparse.Namespace], int]


LARGE_HELP = (
    "the overall score's document cosine by the larger all-mpnet-base-v2 (~0.4 s a document; "
    "install: make large-model)"
)


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
    p.add_argument("--large", action="store_true", help=LARGE_HELP)
    p.set_defaults(func=_compare)


def _compare(args: argparse.Namespace) -> int:

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
    result = compare(docs[0], docs[1], large=args.large)
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
    add_field_options(p)
    p.add_argument("--chunk-size", type=int, default=10_000, help="records per chunk (10000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or skip messages")
    p.add_argument("--strict", action="store_true", help="stop at the first bad record")
    p.add_argument("--engine", choices=("local", "spark"), default="local", help="(local)")
    p.add_argument(
        "--master", default=None, help="Spark master with --engine spark (local[*], yarn, ...)"
    )
    p.set_defaults(func=_run_dedup)


def _run_dedup(args: argparse.Namespace) -> int:
    from samestory.pipeline import dedup

    fields = fields_of(args)
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
        on_skip=strict_skip if args.strict else (lambda s: None) if args.quiet else None,
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
    p.add_argument(
        "--features",
        choices=("auto", "accurate", "fast"),
        default="auto",
        help="ecbplus: story features (fast: static vectors + pattern names; default auto)",
    )
    p.add_argument("--large", action="store_true", help="lee: " + LARGE_HELP)
    p.set_defaults(func=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:

    from samestory.evaluate import evaluate

    metrics = evaluate(
        args.dataset,
        args.data,
        embeddings=args.embeddings,
        features=args.features,
        large=args.large,
    )
    if args.json:
        print(json.dumps(metrics, sort_keys=True))
    else:
        width = max(map(len, metrics), default=0)
        for key, value in metrics.items():
            print(f"{key:>{width}}  {value}")
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
    add_field_options(p)
    p.add_argument("--no-entities", action="store_true", help="do not use named entities")
    p.add_argument(
        "--features",
        choices=("auto", "accurate", "fast"),
        default="auto",
        help="accurate: MiniLM + spaCy per document (~105 ms CPU each); fast: static vectors"
        " + pattern names (a few ms); auto (default): fast from 1,000 documents on",
    )
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

        documents = list(read_documents(args.paths, fields=fields_of(args)))
    stories = find_stories(
        documents,
        model=args.model,
        use_entities=False if args.no_entities else None,
        features=args.features,
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
    from samestory.report import print_report
    from samestory.samples import DEMO_PAIR, load
    from samestory.store import Index

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder ({exc.strerror})", path=str(out)) from exc
    samples = load()
    docs = {d.id: d for d in samples}
    db = out / "samples.db"
    from samestory.embed import available as embeddings_available

    # with the embed extra, same-story reports and rewrites are found too, not only copies
    with Index(db, embed=True if embeddings_available() else None) as index:
        index.add(samples)
        print(f"Indexed {len(samples)} sample articles in {db} ({len(index)} stored).")
        print("Which stored articles tell the same story as ...")
        for doc in samples[:: max(1, len(samples) // 4)][:4]:
            print(f"\n  {doc.title} ({doc.source})")
            matches = [m for m in index.query(doc, top=5) if m.id != doc.id]
            for m in matches or []:
                overall = m.scores.get("overall") or 0.0
                print(
                    f"    {m.verdict:10s} {overall:.2f}  {m.document.title} ({m.document.source})"
                )
            if not matches:
                print("    (no other stored article)")
    print()
    result = compare(docs[DEMO_PAIR[0]], docs[DEMO_PAIR[1]])
    page = out / "compare.html"
    _write_outputs(result, str(page), as_json=False, quiet=True)
    print_report(result)
    print(f"HTML report: {page.resolve()}")
    command = sys.argv[0] if sys.argv and sys.argv[0].endswith("samestory") else "samestory"
    print(
        f"Browse the index: {command} serve --db {db}  then open http://127.0.0.1:8000/ "
        "(needs the web extra: pip install 'samestory[web]')"
    )
    return 0


def _add_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="web UI and JSON API over an index")
    p.add_argument("--db", required=True, help="the index file")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--token",
        default=None,
        help="require this token on API calls and writes (or set SAMESTORY_TOKEN); "
        "required when binding anything but a loopback address",
    )
    p.add_argument("--read-only", action="store_true", help="refuse every write")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes answering in parallel, e.g. one per core (default 1)",
    )
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import ipaddress
    import os

    token = args.token or os.environ.get("SAMESTORY_TOKEN") or None
    try:
        loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not token:
        raise SettingsError(
            f"binding {args.host} exposes the index beyond this machine; "
            "give --token (or set SAMESTORY_TOKEN)"
        )
    try:
        import uvicorn
    except ImportError as exc:
        from samestory.errors import MissingDependency

        raise MissingDependency("uvicorn", "web") from exc
    from samestory.web.app import create_app, warm_models

    if args.workers < 1:
        raise SettingsError(f"--workers must be at least 1, got {args.workers}")
    app = create_app(args.db, token=token, read_only=args.read_only)
    print(f"samestory: serving {args.db} on http://{args.host}:{args.port}/", file=sys.stderr)
    if args.workers == 1:  # worker processes warm their own (app_from_environment)
        warm_models()
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(prefix="samestory-queries-") as queries:
        os.environ.update(
            SAMESTORY_SERVE_DB=os.path.abspath(args.db),
            SAMESTORY_TOKEN=token or "",
            SAMESTORY_SERVE_READ_ONLY="1" if args.read_only else "",
            SAMESTORY_SERVE_QUERIES=queries,
        )
        uvicorn.run(
            "samestory.web.app:app_from_environment",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level="warning",
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samestory",
        description="Find the news articles that tell the same story, and show how they relate.",
    )
    from samestory import __version__

    parser.add_argument("--version", action="version", version=f"samestory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = (
        _add_compare,
        _add_dedup,
        add_index,
        add_query,
        _add_eval,
        _add_stories,
        _add_demo,
        _add_serve,
    )
    for add in commands:
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
