"""The read side of the index: matches, the near-duplicate candidates of a query verified on
their fingerprints, and near-duplicate clusters of the whole file.

:func:`verified` is a query's own part of the work (band lookup, fingerprint overlap): a
fraction of a millisecond at 1M documents; :func:`relate` then relates each candidate with
``compare`` (fully, or only as far as its verdict needs).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from samestory.document import Document
from samestory.indexing import Features, best_overlaps, overlap

if TYPE_CHECKING:
    from samestory.clean import Cleaned
    from samestory.compare import Comparer

__all__ = ["STRENGTH", "Match", "duplicate_clusters", "relate", "verified"]

# verdicts from the strongest relation down: the order of a fast query's matches
STRENGTH = ("duplicate", "reuse", "rewrite", "same-story", "related")


@dataclass(slots=True)
class Match:
    """A stored document that matches a query, with its verdict and scores."""

    id: str
    verdict: str
    scores: dict[str, float]
    document: Document = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = self.document
        return {
            "id": self.id,
            "verdict": self.verdict,
            "scores": self.scores,
            "title": d.title,
            "source": d.source,
            "url": d.url,
            "published": d.published,
        }


def relate(
    comparer: Comparer,
    query: tuple[Document, Cleaned],
    stored: Document,
    *,
    detail: bool,
) -> tuple[str, dict[str, float | None]]:
    """The verdict and scores of a stored document against the query, as ``compare`` gives.

    ``detail``: a full compare (every score); else only the scores the verdict needs
    (``Comparer.verdict``). The query comes cleaned once for all candidates.
    Sentence embeddings are used only for an index made with them: embedding every sentence of
    every candidate costs about a second a pair on two cores, which a plain index's queries
    (a few milliseconds otherwise) should not pay.
    """
    doc, cleaned = query
    if detail:
        result = comparer.compare(doc, stored, cleaned_a=cleaned)
        return result.verdict, result.scores.to_dict()
    return comparer.verdict(doc, stored, cleaned_a=cleaned)


def verified(
    db: sqlite3.Connection, features: Features, *, top: int
) -> list[tuple[float, bytes, bytes]]:
    """(best of Jaccard and containments, id, record) of the best ``top`` candidates.

    Candidates share at least one band key; the ones sharing most come first, and at most
    ``max(100, 20 * top)`` are verified on their fingerprints.
    """
    keys = features.band_list()
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    cands = db.execute(
        f"SELECT n, count(*) AS hits FROM bands WHERE key IN ({marks}) "
        "GROUP BY n ORDER BY hits DESC, n LIMIT ?",
        (*keys, max(100, 20 * top)),
    ).fetchall()
    if not cands:
        return []
    marks = ",".join("?" * len(cands))
    ns, rows = [], []
    for n, sh in db.execute(
        f"SELECT n, shingles FROM docs WHERE n IN ({marks})", [n for n, _ in cands]
    ):
        ns.append(n)
        rows.append(sh)
    scores = (-best_overlaps(features.shingles, rows)).tolist()
    best = sorted(zip(scores, ns, strict=True))[:top]
    marks = ",".join("?" * len(best))
    found = {
        n: (key, rec)
        for n, key, rec in db.execute(
            f"SELECT n, id, record FROM docs WHERE n IN ({marks})", [n for _, n in best]
        )
    }
    return [(-score, *found[n]) for score, n in best]


def duplicate_clusters(
    db: sqlite3.Connection,
    unpack: Callable[[bytes, bytes], Document],
    *,
    threshold: float,
    limit: int,
) -> list[dict[str, Any]]:
    """Near-duplicate clusters among the stored documents, largest first (see
    :meth:`samestory.store.Index.clusters`; ``unpack`` reads a stored row).

    Documents sharing an LSH band are verified on their fingerprints (Jaccard at least the
    index's threshold) and joined by union-find. Each cluster lists its members (id,
    title, source, published), earliest first.
    """
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    prints: dict[int, bytes] = {}

    def fingerprint(n: int) -> bytes:
        if n not in prints:
            row = db.execute("SELECT shingles FROM docs WHERE n = ?", (n,)).fetchone()
            prints[n] = row[0]
        return prints[n]

    buckets = db.execute("SELECT group_concat(n) FROM bands GROUP BY key HAVING count(*) > 1")
    for (members,) in buckets:
        ns = sorted({int(x) for x in members.split(",")})
        # every pair of a small bucket; neighbours only in a huge one (no quadratic work)
        pairs = itertools.combinations(ns, 2) if len(ns) <= 64 else itertools.pairwise(ns)
        for a, b in pairs:
            if find(a) != find(b) and overlap(fingerprint(a), fingerprint(b))[0] >= threshold:
                parent[find(b)] = find(a)
    groups: dict[int, list[int]] = {}
    for n in parent:
        groups.setdefault(find(n), []).append(n)
    found = []
    for ns in groups.values():
        if len(ns) < 2:
            continue
        docs = []
        for n in sorted(ns):
            key, rec = db.execute("SELECT id, record FROM docs WHERE n = ?", (n,)).fetchone()
            docs.append(unpack(key, rec))
        docs.sort(key=lambda d: (d.published or "9999", d.id))
        members = [
            {"id": d.id, "title": d.title, "source": d.source, "published": d.published}
            for d in docs
        ]
        found.append(
            {
                "id": docs[0].id,
                "label": docs[0].title or docs[0].text[:80],
                "size": len(members),
                "first": docs[0].published,
                "last": max((d.published for d in docs), default=""),
                "members": members,
            }
        )
    found.sort(key=lambda c: (-c["size"], c["id"]))
    return found[:limit]
