"""A small sample collection of invented news articles that ships with samestory.

All articles were written for this project about invented events. They cover the relations
samestory tells apart: a wire original with its syndicated copy (scraping debris included),
a trimmed copy, a re-edited copy, a machine-translation-like rewrite, independent reports of
the same event, a report of a similar but different event, and unrelated news.
"""

from __future__ import annotations

import json
from importlib import resources

from samestory.document import Document

__all__ = ["DEMO_PAIR", "load"]

DEMO_PAIR = ("fish-wire", "fish-rewrite")
"""The pair ``samestory demo`` compares: a wire story and its translated, scraped rewrite."""


def load() -> list[Document]:
    """The sample articles as Documents, in file order.

    Example:
        >>> docs = {d.id: d for d in load()}
        >>> docs["fish-wire"].source
        'Nordwire (NWA)'
    """
    path = resources.files("samestory.samples").joinpath("articles.jsonl")
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            docs.append(
                Document(
                    rec["text"],
                    id=rec["id"],
                    title=rec.get("title", ""),
                    source=rec.get("source", ""),
                    published=rec.get("published", ""),
                )
            )
    return docs
