"""Stories in the index: a story id on every document, kept up to date as documents arrive.

Tables ``stories`` (id, size) and ``members`` (document row ``n`` -> story id). A new document
joins the story of its best earlier match, else starts a story of its own, whose id is the
document's row ``n`` (so a story keeps its id as it grows). The best earlier match is, first,
the stored near-duplicate or reused text sharing the most shingles (verified on the stored
fingerprints, the best of Jaccard and containments at least the index's threshold), and,
with embeddings on, the best story among those of the nearest earlier documents with a
cosine of at least ``STORY_COSINE``, judged by the batch clusterer's own rule
(:func:`samestory.story_cluster.link_score` with :data:`~samestory.story_cluster.INDEX_CONFIG`):
the average link of cosine and tf-idf words over the story's first and latest members, inside
its time window. The idf comes from the ``terms`` table: the document frequency of every word
over the documents assigned with embeddings on (``termed``), kept as they are added and
removed. So words that many stored documents share weigh little: items cut from one template
(quarterly results tables of different companies) match on their template only and stay
apart. Assignment runs in the add's transaction, so a killed add leaves no document without
its story.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from samestory.ann import Vectors
from samestory.document import Document
from samestory.indexing import Features, overlap
from samestory.stories import published_date
from samestory.story_cluster import (
    INDEX_CONFIG,
    StoryConfig,
    StoryItem,
    link_score,
    term_counts,
    term_weights,
)

__all__ = ["STORY_COSINE", "StoryTable"]

STORY_COSINE = 0.65
_CANDIDATES = 50
_MEMBERS = 4  # a story is judged by its first and latest this many members


class StoryTable:
    """Assigns stored documents to stories and lists the stories.

    Args:
        db: the index's connection.
        threshold: the least shingle overlap of a near-duplicate (the index's threshold).
        vectors: the index's embeddings, or None when they are off.
        unpack: turns a stored (id, record) row into a Document.
        cosine: the least cosine of an embedding match.
        config: the story rule's settings (see :func:`samestory.story_cluster.link_score`).
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        threshold: float,
        vectors: Vectors | None,
        unpack: Callable[[bytes, bytes], Document],
        cosine: float = STORY_COSINE,
        config: StoryConfig = INDEX_CONFIG,
    ) -> None:
        self.db = db
        self.threshold = threshold
        self.vectors = vectors
        self.unpack = unpack
        self.cosine = cosine
        self.config = config
        self._termed = 0  # rows in ``termed``, counted once per assign

    def assign(self, rows: Sequence[tuple[int, Features]]) -> None:
        """Give each new document (row ``n`` with its features) a story, in order of ``n``.

        Call inside the transaction that stored the documents (with their bands and vectors).
        """
        if self.vectors is not None:
            self._count_terms([n for n, _ in rows], +1)
            self._termed = int(self.db.execute("SELECT count(*) FROM termed").fetchone()[0])
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
        vec = self._vector(n)
        if vec is None:
            return None
        stories: dict[int, list[int]] = {}
        for _, m in self.vectors.search(vec, k=20, floor=self.cosine, persist=False):
            story = self.story_of(m) if m < n else None
            if story is not None and story not in stories:
                stories[story] = self._sample(story)
        if not stories:
            return None
        rows = sorted({n, *(m for ms in stories.values() for m in ms)})
        items = dict(zip(rows, self._items(rows), strict=True))
        item = items[n]
        if item is None:
            return None
        best: tuple[float, int] | None = None  # (score, -first row): ties go to the older
        for story in sorted(stories):
            members = [m for m in (items[r] for r in stories[story]) if m is not None]
            score = link_score(item, members, config=self.config)
            if score is not None and score >= self.config.link_threshold:
                best = max(best or (score, -stories[story][0]), (score, -stories[story][0]))
        return None if best is None else -best[1]

    def _vector(self, n: int) -> np.ndarray | None:
        row = self.db.execute("SELECT vec FROM vectors WHERE n = ?", (n,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float16).astype(np.float32)

    def _sample(self, story: int) -> list[int]:
        """The first and the latest :data:`_MEMBERS` rows of a story."""
        rows: set[int] = set()
        for order in ("ASC", "DESC"):
            rows.update(
                int(r[0])
                for r in self.db.execute(
                    f"SELECT n FROM members WHERE story = ? ORDER BY n {order} LIMIT ?",
                    (story, _MEMBERS),
                )
            )
        return sorted(rows)

    def _doc(self, n: int) -> Document:
        key, rec = self.db.execute("SELECT id, record FROM docs WHERE n = ?", (n,)).fetchone()
        return self.unpack(key, rec)

    def _count_terms(self, rows: Sequence[int], step: int) -> None:
        """Add (``step`` 1) or take away (-1) the words of these rows in ``terms``."""
        if step > 0:
            rows = [
                n
                for n in rows
                if self.db.execute("INSERT OR IGNORE INTO termed VALUES (?)", (n,)).rowcount == 1
            ]
        else:
            rows = [
                n
                for n in rows
                if self.db.execute("DELETE FROM termed WHERE n = ?", (n,)).rowcount == 1
            ]
        words: Counter[str] = Counter()
        for n in rows:
            doc = self._doc(n)
            words.update(term_counts(f"{doc.title}\n{doc.text}").keys())
        self.db.executemany(
            "INSERT INTO terms VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + ?",
            [(t, c * step, c * step) for t, c in sorted(words.items())],
        )
        if step < 0:
            self.db.execute("DELETE FROM terms WHERE df <= 0")

    def _items(self, rows: Sequence[int]) -> list[StoryItem | None]:
        """Story items of stored rows (None without a vector), idf from the ``terms`` table."""
        docs = [self._doc(n) for n in rows]
        texts = [f"{d.title}\n{d.text}" for d in docs]
        words = sorted(set().union(*(term_counts(t).keys() for t in texts)))
        df: dict[str, int] = {}
        for i in range(0, len(words), 500):
            chunk = words[i : i + 500]
            marks = ",".join("?" * len(chunk))
            df.update(self.db.execute(f"SELECT term, df FROM terms WHERE term IN ({marks})", chunk))
        terms = term_weights(texts, df=df, documents=self._termed)
        return [
            None
            if v is None
            else StoryItem(d.id, v, published=published_date(d.published), terms=t)
            for d, v, t in zip(docs, (self._vector(n) for n in rows), terms, strict=True)
        ]

    def remove(self, n: int) -> None:
        """Take row ``n`` out of its story (in the remove's transaction)."""
        row = self.db.execute("SELECT story FROM members WHERE n = ?", (n,)).fetchone()
        if row is None:
            return
        self._count_terms([n], -1)
        self.db.execute("DELETE FROM members WHERE n = ?", (n,))
        self.db.execute("UPDATE stories SET size = size - 1 WHERE id = ?", (row[0],))
        self.db.execute("DELETE FROM stories WHERE id = ? AND size <= 0", (row[0],))

    def clear(self) -> None:
        """Forget every assignment (before a rebuild assigns them again)."""
        self.db.execute("DELETE FROM members")
        self.db.execute("DELETE FROM stories")
        self.db.execute("DELETE FROM terms")
        self.db.execute("DELETE FROM termed")

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
