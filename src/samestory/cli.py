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
