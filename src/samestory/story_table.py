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
from typing import TYPE_CHECKING, Any

import numpy as np

from samestory.ann import Vectors
from samestory.document import Document
from samestory.indexing import Features, pair_overlaps
from samestory.schema import PAIRS_FROM_JSON, json_array
from samestory.stories import published_date
from samestory.story_cluster import (
    INDEX_CONFIG,
    StoryConfig,
    StoryItem,
    link_score,
)
from samestory.terms import term_counts, term_weights

if TYPE_CHECKING:
    from samestory.store_batch import Bands

__all__ = ["STORY_COSINE", "StoryTable"]

STORY_COSINE = 0.65
_CANDIDATES = 50
_MEMBERS = 4  # a story is judged by its first and latest this many members
# keys or rows looked up in one statement (SQLite allows 32,766 parameters)
_LOOKUP = 10_000


class StoryTable:
    """Assigns stored documents to stories and lists the stories.

    Args:
        db: the index's connection.
        bands: the index's band table (looked up for near-duplicates).
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
        bands: Bands,
        threshold: float,
        vectors: Vectors | None,
        unpack: Callable[[bytes, bytes], Document],
        cosine: float = STORY_COSINE,
        config: StoryConfig = INDEX_CONFIG,
    ) -> None:
        self.db = db
        self.bands = bands
        self.threshold = threshold
        self.vectors = vectors
        self.unpack = unpack
        self.cosine = cosine
        self.config = config
        self._termed = 0  # rows in ``termed``, counted once per assign

    def assign(self, rows: Sequence[tuple[int, Features]], packed: np.ndarray) -> None:
        """Give each new document (row ``n`` with its features) a story, in order of ``n``;
        ``packed``: their band rows (:func:`~samestory.indexing.band_rows`).

        Call inside the transaction that stored the documents (and their vectors); their band
        rows may be stored yet or not. The near-duplicate matches of the whole batch are
        looked up at once; the stories are written at the end (or before an embedding match,
        which reads the stories of earlier documents).
        """
        if self.vectors is not None:
            self._count_terms([n for n, _ in rows], +1)
            self._termed = int(self.db.execute("SELECT count(*) FROM termed").fetchone()[0])
        rows = sorted(rows, key=lambda r: r[0])
        targets = self._near_duplicates(rows, packed)
        story_of: dict[int, int] = {}
        members: list[tuple[int, int]] = []
        for n, _ in rows:
            target = targets.get(n)
            if target is None and self.vectors is not None:
                self._write(members)
                target = self._same_story(n)
            story = n
            if target is not None:
                if target in story_of:
                    story = story_of[target]
                else:
                    found = self.db.execute(
                        "SELECT story FROM members WHERE n = ?", (target,)
                    ).fetchone()
                    story = int(found[0]) if found else n
            story_of[n] = story
            members.append((n, story))
        self._write(members)

    def _write(self, members: list[tuple[int, int]]) -> None:
        """Store (and forget) the pending (document, story) rows; count them in ``stories``."""
        if not members:
            return
        # one statement each, the rows packed as a JSON array of a << 32 | b (no per-row
        # parameter binding)
        self.db.execute(
            f"INSERT OR REPLACE INTO members {PAIRS_FROM_JSON}",
            (json_array([n << 32 | story for n, story in members]),),
        )
        sizes = sorted(Counter(story for _, story in members).items())
        self.db.execute(
            f"INSERT INTO stories {PAIRS_FROM_JSON} WHERE true "
            "ON CONFLICT(id) DO UPDATE SET size = size + excluded.size",
            (json_array([story << 32 | size for story, size in sizes]),),
        )
        members.clear()

    def _near_duplicates(
        self, rows: Sequence[tuple[int, Features]], packed: np.ndarray
    ) -> dict[int, int]:
        """The best earlier near-duplicate (row n) of each new row that has one.

        For each row: the earlier rows sharing the most band keys (at most ``_CANDIDATES``,
        ties by lower n) are verified on their fingerprints; the best overlap of at least the
        threshold wins (ties: the lower n). Earlier rows of the batch count too.
        """
        if not len(packed):
            return {}
        ks = packed >> 32  # sorted
        stored = self.bands.lookup(ks[np.concatenate(([True], ks[1:] != ks[:-1]))].tolist())
        # distinct (key, n), by key then n, as key << 32 | n (one integer sort, 4x faster than
        # a lexsort; the keys are signed 32-bit, so the packed order is the (key, n) order);
        # only keys held by two or more rows matter
        packed = _distinct(np.concatenate((packed, (stored[:, 0] << 32) | stored[:, 1])))
        ks, ns = packed >> 32, packed & 0xFFFFFFFF
        # every (new row, earlier row) pair that shares a key: within each key's run (rows in
        # order), a new row against the rows before it; the hits of a pair are its count
        starts = np.flatnonzero(np.concatenate(([True], ks[1:] != ks[:-1])))
        run = np.repeat(starts, np.diff(np.append(starts, len(ks))))
        pos = np.arange(len(ks)) - run
        take = np.isin(ns, np.array([n for n, _ in rows], np.int64)) & (pos > 0)
        counts = pos[take]
        ends = np.cumsum(counts)
        idx = np.repeat(run[take] - ends + counts, counts) + np.arange(ends[-1] if len(ends) else 0)
        pairs = np.sort((np.repeat(ns[take], counts) << 32) | ns[idx])
        if not len(pairs):
            return {}
        first = np.flatnonzero(np.concatenate(([True], pairs[1:] != pairs[:-1])))
        hits = np.diff(np.append(first, len(pairs)))
        pn, pm = pairs[first] >> 32, pairs[first] & 0xFFFFFFFF
        # per new row, the earlier rows by most hits, then lowest n; at most _CANDIDATES
        order = np.lexsort((pm, -hits, pn))
        pn, pm = pn[order], pm[order]
        head = np.concatenate(([True], pn[1:] != pn[:-1]))
        rank = np.arange(len(pn)) - np.maximum.accumulate(np.where(head, np.arange(len(pn)), 0))
        chosen: dict[int, list[int]] = {}
        for n, m in zip(
            pn[rank < _CANDIDATES].tolist(), pm[rank < _CANDIDATES].tolist(), strict=True
        ):
            chosen.setdefault(n, []).append(m)
        if not chosen:
            return {}
        prints = {n: feats.shingles for n, feats in rows}
        wanted = sorted({m for ms in chosen.values() for m in ms if m not in prints})
        for i in range(0, len(wanted), _LOOKUP):
            part = wanted[i : i + _LOOKUP]
            marks = ",".join("?" * len(part))
            prints.update(
                self.db.execute(f"SELECT n, shingles FROM docs WHERE n IN ({marks})", part)
            )
        # every (new row, candidate) pair verified at once; a row another process removed
        # is gone. The best overlap of at least the threshold wins (ties: the lower n).
        pairs_n, pairs_m = [], []
        for n, ms in chosen.items():
            for m in ms:
                if m in prints:
                    pairs_n.append(n)
                    pairs_m.append(m)
        scores = pair_overlaps([prints[n] for n in pairs_n], [prints[m] for m in pairs_m])
        best: dict[int, tuple[float, int]] = {}
        for n, m, score in zip(pairs_n, pairs_m, scores.tolist(), strict=True):
            if score >= self.threshold and (-score, m) < best.get(n, (0.0, 0)):
                best[n] = (-score, m)
        return {n: m for n, (_, m) in best.items()}

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


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique's hash path is 5x slower on these sizes)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))]
