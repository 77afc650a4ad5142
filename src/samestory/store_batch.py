"""Writing one batch of prepared rows into the index file (the add path of :mod:`store`).

Inside the batch's transaction (which holds the write lock): which rows are new (their id,
source+url key and text key looked up once per kind of key, repeats within the batch found in
a dict), their row numbers (``max(n) + 1 ...``, as SQLite would give them), one
``executemany`` per table, the stories of the new rows (before their band rows are stored, so
the lookup finds only earlier batches' rows) and the band rows in key order.

:class:`Bands` is the band table as the writer sees it: rows written in bulk, and, for an index
whose band table was empty when opened, every key it wrote kept in memory as well, so a
batch's near-duplicate lookup is a few array searches instead of one B-tree probe per key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from samestory.ann import Vectors
from samestory.indexing import Features, Row, band_arrays
from samestory.schema import PAIRS_FROM_JSON, json_array
from samestory.story_table import StoryTable

__all__ = ["Bands", "write_batch"]

# values looked up in one statement (SQLite allows 32,766 parameters)
_LOOKUP = 10_000
# band rows an index keeps in memory at most (8 bytes each, 128 MiB): ~1.1M documents of 14
_MEMORY_ROWS = 16_000_000
_LOW = (1 << 32) - 1


class Bands:
    """The ``bands`` table (band key, row n) of one connection: written, looked up, cleared.

    While this connection is the only writer of a table that was empty when it opened (or
    that it cleared), it also keeps every (key, n) it wrote in memory, as sorted runs of
    ``key << 32 | n`` merged as they grow (a binary counter: a run is merged into the one
    before it once it is at least half its size, a linear merge for numpy's timsort). A commit
    by another connection (``PRAGMA data_version`` moves), a removal, a rollback or more than
    ``_MEMORY_ROWS`` rows send the lookups back to SQL for good.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._runs: list[np.ndarray] | None = None
        self._version = -1
        if db.execute("SELECT 1 FROM bands LIMIT 1").fetchone() is None:
            self.cleared()

    def cleared(self) -> None:
        """The table is empty now (new, or emptied by this connection)."""
        self._runs = []
        self._version = self._data_version()

    def forget(self) -> None:
        """Stop keeping keys in memory (rows were removed, or a write rolled back)."""
        self._runs = None

    def insert(self, rows: Sequence[tuple[int, Features]]) -> None:
        """Store the band rows of documents (row n, features), in key order."""
        packed = _packed(rows)
        if not len(packed):
            return
        self.db.execute(
            f"INSERT OR IGNORE INTO bands {PAIRS_FROM_JSON}",
            (json_array(packed),),
        )
        if self._runs is None:
            return
        if sum(map(len, self._runs)) + len(packed) > _MEMORY_ROWS:
            self._runs = None
            return
        runs = self._runs
        runs.append(packed)
        while len(runs) > 1 and len(runs[-1]) * 2 >= len(runs[-2]):
            last = runs.pop()
            runs[-1] = np.sort(np.concatenate((runs[-1], last)), kind="stable")

    def lookup(self, keys: list[int]) -> np.ndarray:
        """The stored (key, n) rows of these distinct sorted keys, as an (m, 2) int64 array.

        Call inside the write transaction (so no one else writes meanwhile).
        """
        if self._runs is not None and self._data_version() != self._version:
            self._runs = None  # another connection wrote: only SQL knows its rows
        if self._runs is None:
            found: list[tuple[int, int]] = []
            for i in range(0, len(keys), _LOOKUP):
                part = keys[i : i + _LOOKUP]
                marks = ",".join("?" * len(part))
                found += self.db.execute(f"SELECT key, n FROM bands WHERE key IN ({marks})", part)
            return np.array(found, dtype=np.int64).reshape(-1, 2)
        wanted = np.array(keys, dtype=np.int64) << 32
        hits = []
        for run in self._runs:
            lo = np.searchsorted(run, wanted, "left")
            hi = np.searchsorted(run, wanted | _LOW, "right")
            counts = hi - lo
            if counts.any():
                ends = np.cumsum(counts)
                hits.append(run[np.repeat(lo - ends + counts, counts) + np.arange(ends[-1])])
        values = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
        return np.stack((values >> 32, values & _LOW), axis=1)

    def _data_version(self) -> int:
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])


def write_batch(
    db: sqlite3.Connection,
    rows: list[Row],
    vecs: dict[int, bytes],
    *,
    stories: StoryTable,
    bands: Bands,
    vectors: Vectors | None,
) -> list[str]:
    """Store a batch; returns the stored id of each row.

    A row is new unless its id, its source+url key or its text key (checked in that order) is
    stored already or was taken by an earlier row of the batch; then the id of that document
    stands for it. ``vecs`` holds embeddings by position in ``rows``.
    """
    owner = _owners(db, rows)
    (n,) = db.execute("SELECT coalesce(max(n), 0) FROM docs").fetchone()
    ids: list[str] = []
    new: list[tuple[Any, ...]] = []
    fresh: list[tuple[int, Features]] = []
    vectors_new: list[tuple[int, bytes]] = []
    get = owner.get
    for i, (key, url_key, record, feats) in enumerate(rows):
        text_key = feats.text_key
        found = get((0, key))
        if found is None and url_key is not None:
            found = get((1, url_key))
        if found is None and text_key is not None:
            found = get((2, text_key))
        if found is not None:
            ids.append(found)
            continue
        n += 1
        doc_id = key.decode("utf-8", "surrogatepass")
        owner[0, key] = doc_id
        if url_key is not None:
            owner[1, url_key] = doc_id
        if text_key is not None:
            owner[2, text_key] = doc_id
        ids.append(doc_id)
        new.append((n, key, url_key, feats.text_key, record, feats.shingles))
        fresh.append((n, feats))
        if i in vecs:
            vectors_new.append((n, vecs[i]))
    db.executemany(
        "INSERT INTO docs (n, id, url_key, text_key, record, shingles) VALUES (?, ?, ?, ?, ?, ?)",
        new,
    )
    if vectors is not None and vectors_new:
        vectors.insert(vectors_new)
    # stories first: their lookup then finds only earlier batches' band rows (fewer)
    stories.assign(fresh)
    bands.insert(fresh)
    return ids


def _owners(db: sqlite3.Connection, rows: list[Row]) -> dict[tuple[int, Any], str]:
    """(0 id | 1 url key | 2 text key, value) -> id of the stored document holding it, for
    the keys of ``rows`` that are stored already (one lookup per kind of key)."""
    owner: dict[tuple[int, Any], str] = {}
    columns = (
        ("id", {r.key for r in rows}),
        ("url_key", {r.url_key for r in rows} - {None}),
        ("text_key", {r.features.text_key for r in rows} - {None}),
    )
    for kind, (column, values) in enumerate(columns):
        todo = list(values)
        for i in range(0, len(todo), _LOOKUP):
            part = todo[i : i + _LOOKUP]
            marks = ",".join("?" * len(part))
            found = db.execute(f"SELECT {column}, id FROM docs WHERE {column} IN ({marks})", part)
            owner.update(((kind, v), key.decode("utf-8", "surrogatepass")) for v, key in found)
    return owner


def _packed(rows: Sequence[tuple[int, Features]]) -> np.ndarray:
    """The ``key << 32 | n`` values of the band rows of documents, sorted (key, then n)."""
    keys, ns = band_arrays(rows)
    return np.sort((keys << 32) | ns)
