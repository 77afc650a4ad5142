"""Stories in the index: a story id on every document, kept up to date as documents arrive.

Tables ``stories`` (id, size) and ``members`` (document row ``n`` -> story id). A new document
joins the story of its best earlier match, else starts a story of its own, whose id is the
document's row ``n`` (so a story keeps its id as it grows). The best earlier match is, first,
the stored near-duplicate or reused text sharing the most shingles (verified on the stored
fingerprints, the best of Jaccard and containments at least the index's threshold), and,
with embeddings on, the nearest earlier document whose title+lead vector has a cosine of at
least ``STORY_COSINE`` (reports of one event; on the samples, reports of one event score
0.63-0.98 and reports of a similar but different event at most 0.60) and a cosine of at least
``STORY_COSINE - FOUNDER_SLACK`` with the story's first document (no drift along chains).
The embedding match found so is confirmed with ``compare`` (verdict duplicate, reuse,
rewrite or same-story; one or a few pairs a document, milliseconds each), else the next one is
tried. Assignment runs in the add's transaction, so a killed add leaves no document without
its story.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from samestory.ann import Vectors
from samestory.document import Document
from samestory.indexing import Features, overlap

__all__ = ["STORY_COSINE", "StoryTable"]

STORY_COSINE = 0.65
# a document joins through a match only if it is also this close to the story's first one
# (cosine - slack): without it, chains of look-alike reports (quarterly results) drift into
# one story (95 of 1,000 Reuters bodies did)
FOUNDER_SLACK = 0.1
JOINING = frozenset({"duplicate", "reuse", "rewrite", "same-story"})
_CANDIDATES = 50


class StoryTable:
    """Assigns stored documents to stories and lists the stories.

    Args:
        db: the index's connection.
        threshold: the least shingle overlap of a near-duplicate (the index's threshold).
        vectors: the index's embeddings, or None when they are off.
        unpack: turns a stored (id, record) row into a Document.
        cosine: the least cosine of an embedding match.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        threshold: float,
        vectors: Vectors | None,
        unpack: Callable[[bytes, bytes], Document],
        cosine: float = STORY_COSINE,
    ) -> None:
        self.db = db
        self.threshold = threshold
        self.vectors = vectors
        self.unpack = unpack
        self.cosine = cosine

    def assign(self, rows: Sequence[tuple[int, Features]]) -> None:
        """Give each new document (row ``n`` with its features) a story, in order of ``n``.

        Call inside the transaction that stored the documents (with their bands and vectors).
        """
        for n, feats in sorted(rows, key=lambda r: r[0]):
            target = self._near_duplicate(n, feats) or self._same_story(n)
            story = n
            if target is not None:
                row = self.db.execute("SELECT story FROM members WHERE n = ?", (target,))
                found = row.fetchone()
                story = int(found[0]) if found else n
            self.db.execute("INSERT OR REPLACE INTO members VALUES (?, ?)", (n, story))
            self.db.execute(
                "INSERT INTO stories VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET size = size + 1",
                (story,),
            )

    def _near_duplicate(self, n: int, feats: Features) -> int | None:
        if not feats.bands:
            return None
        marks = ",".join("?" * len(feats.bands))
        cands = self.db.execute(
            f"SELECT n, count(*) AS hits FROM bands WHERE key IN ({marks}) AND n < ? "
            "GROUP BY n ORDER BY hits DESC, n LIMIT ?",
            (*feats.bands, n, _CANDIDATES),
        ).fetchall()
        best: tuple[float, int] | None = None
        for m, _ in cands:
            (print_,) = self.db.execute("SELECT shingles FROM docs WHERE n = ?", (m,)).fetchone()
            score = max(overlap(feats.shingles, print_))
            if score >= self.threshold and (best is None or (-score, m) < (-best[0], best[1])):
                best = (score, m)
        return None if best is None else best[1]

    def _same_story(self, n: int) -> int | None:
        if self.vectors is None:
            return None
        row = self.db.execute("SELECT vec FROM vectors WHERE n = ?", (n,)).fetchone()
        if row is None:
            return None
        vec = np.frombuffer(row[0], dtype=np.float16).astype(np.float32)
        for _, m in self.vectors.search(vec, k=20, floor=self.cosine, persist=False):
            if m >= n:
                continue
            found = self.db.execute(
                "SELECT v.vec FROM members m JOIN vectors v ON v.n = m.story WHERE m.n = ?", (m,)
            ).fetchone()
            if found is not None:  # (its story's first document may be gone: no drift check)
                first = np.frombuffer(found[0], dtype=np.float16).astype(np.float32)
                if float(first @ vec) < self.cosine - FOUNDER_SLACK:
                    continue
            if self._same_event(n, m):
                return m
        return None

    def _same_event(self, n: int, m: int) -> bool:
        """Whether ``compare`` calls rows ``n`` and ``m`` one story (a few ms a pair)."""
        from samestory.compare import compare

        docs = []
        for row in (n, m):
            key, rec = self.db.execute("SELECT id, record FROM docs WHERE n = ?", (row,)).fetchone()
            docs.append(self.unpack(key, rec))
        return compare(docs[0], docs[1]).verdict in JOINING

    def remove(self, n: int) -> None:
        """Take row ``n`` out of its story (in the remove's transaction)."""
        row = self.db.execute("SELECT story FROM members WHERE n = ?", (n,)).fetchone()
        if row is None:
            return
        self.db.execute("DELETE FROM members WHERE n = ?", (n,))
        self.db.execute("UPDATE stories SET size = size - 1 WHERE id = ?", (row[0],))
        self.db.execute("DELETE FROM stories WHERE id = ? AND size <= 0", (row[0],))

    def clear(self) -> None:
        """Forget every assignment (before a rebuild assigns them again)."""
        self.db.execute("DELETE FROM members")
        self.db.execute("DELETE FROM stories")

    def story_of(self, n: int) -> int | None:
        """The story id of row ``n``, or None."""
        row = self.db.execute("SELECT story FROM members WHERE n = ?", (n,)).fetchone()
        return None if row is None else int(row[0])

    def list(self, *, limit: int = 100, min_size: int = 2) -> list[dict[str, Any]]:
        """The largest stories (ties: oldest id first), as dicts like ``Index.clusters``."""
        found = []
        rows = self.db.execute(
            "SELECT id, size FROM stories WHERE size >= ? ORDER BY size DESC, id LIMIT ?",
            (min_size, limit),
        ).fetchall()
        for story, _ in rows:
            docs = [
                self.unpack(key, rec)
                for key, rec in self.db.execute(
                    "SELECT d.id, d.record FROM members m JOIN docs d ON d.n = m.n "
                    "WHERE m.story = ? ORDER BY m.n",
                    (story,),
                )
            ]
            docs.sort(key=lambda d: (d.published or "9999", d.id))
            members = [
                {"id": d.id, "title": d.title, "source": d.source, "published": d.published}
                for d in docs
            ]
            dates = [d.published for d in docs if d.published]
            found.append(
                {
                    "id": f"story-{story}",
                    "label": docs[0].title or docs[0].text[:80],
                    "size": len(members),
                    "first": min(dates, default=""),
                    "last": max(dates, default=""),
                    "members": members,
                }
            )
        return found
