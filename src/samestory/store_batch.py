"""Writing one batch of prepared rows into the index file (the add path of :mod:`store`).

Inside the batch's transaction (which holds the write lock): which rows are new (their id,
source+url key and text key looked up once per kind of key, repeats within the batch found in
a dict), their row numbers (``max(n) + 1 ...``, as SQLite would give them), one
``executemany`` per table, the stories of the new rows (before their band rows are stored, so
the lookup finds only earlier batches' rows) and the band rows in key order.

:class:`Bands` is the band table as the writer sees it: rows written in bulk, and, for an index
whose band table was empty when opened, every key it wrote kept in memory as well, so a
batch's near-duplicate lookup is a few array searches instead of one B-tree probe per key.
:class:`Keys` keeps the documents' keys the same way, so only those that may be stored (a
re-added document) are looked up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
import xxhash

from samestory.ann import Vectors
from samestory.indexing import Features, Row, band_rows
from samestory.schema import PAIRS_FROM_JSON, json_array
from samestory.story_table import StoryTable

__all__ = ["Bands", "Keys", "write_batch"]

# values looked up in one statement (SQLite allows 32,766 parameters)
_LOOKUP = 10_000
# values each of Bands and Keys keeps in memory at most (8 bytes each, 128 MiB): the band rows
# of ~1.1M documents (14 each), the keys of ~5M (3 each)
_MEMORY_ROWS = 16_000_000
_LOW = (1 << 32) - 1


class _Runs:
    """Sorted int64 values one connection wrote to a table, kept in memory while it is the only
    writer of a table that was empty when it opened (or that it cleared): sorted runs merged as
    they grow (a binary counter: a run is merged into the one before it once it is at least
    half its size, a linear merge for numpy's timsort). A commit by another connection
    (``PRAGMA data_version`` moves), :meth:`forget` or more than ``limit`` values send the
    lookups back to SQL for good (:meth:`runs` is then None).
    """

    def __init__(self, db: sqlite3.Connection, table: str, limit: int) -> None:
        self.db = db
        self.limit = limit
        self._runs: list[np.ndarray] | None = None
        self._version = -1
        if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:
            self.cleared()

    def cleared(self) -> None:
        """The table is empty now (new, or emptied by this connection)."""
        self._runs = []
        self._version = self._data_version()

    def forget(self) -> None:
        """Stop keeping values in memory."""
        self._runs = None

    def add(self, values: np.ndarray) -> None:
        """Keep these sorted values too."""
        runs = self._runs
        if runs is None or not len(values):
            return
        if sum(map(len, runs)) + len(values) > self.limit:
            self._runs = None
            return
        runs.append(values)
        while len(runs) > 1 and len(runs[-1]) * 2 >= len(runs[-2]):
            last = runs.pop()
            runs[-1] = np.sort(np.concatenate((runs[-1], last)), kind="stable")

    def runs(self) -> list[np.ndarray] | None:
        """The runs, or None when only SQL knows the table (call inside the write
        transaction, so no one else writes meanwhile)."""
        if self._runs is not None and self._data_version() != self._version:
            self._runs = None  # another connection wrote: only SQL knows its rows
        return self._runs

    def _data_version(self) -> int:
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])


class Bands:
    """The ``bands`` table (band key, row n) of one connection: written, looked up, cleared.

    While this connection is the only writer of a table that was empty when it opened (or
    that it cleared), it also keeps every (key, n) it wrote in memory (:class:`_Runs` of
    ``key << 32 | n``); a removal, a rollback or more than ``_MEMORY_ROWS`` rows send the
    lookups back to SQL for good.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._memory = _Runs(db, "bands", _MEMORY_ROWS)

    def cleared(self) -> None:
        """The table is empty now (new, or emptied by this connection)."""
        self._memory.cleared()

    def forget(self) -> None:
        """Stop keeping keys in memory (rows were removed, or a write rolled back)."""
        self._memory.forget()

    def insert(self, packed: np.ndarray) -> None:
        """Store band rows given as sorted ``key << 32 | n`` values (:func:`band_rows`)."""
        if not len(packed):
            return
        self.db.execute(
            f"INSERT OR IGNORE INTO bands {PAIRS_FROM_JSON}",
            (json_array(packed),),
        )
        self._memory.add(packed)

    def lookup(self, keys: list[int]) -> np.ndarray:
        """The stored (key, n) rows of these distinct sorted keys, as an (m, 2) int64 array.

        Call inside the write transaction (so no one else writes meanwhile).
        """
        runs = self._memory.runs()
        if runs is None:
            found: list[tuple[int, int]] = []
            for i in range(0, len(keys), _LOOKUP):
                part = keys[i : i + _LOOKUP]
                marks = ",".join("?" * len(part))
                found += self.db.execute(f"SELECT key, n FROM bands WHERE key IN ({marks})", part)
            return np.array(found, dtype=np.int64).reshape(-1, 2)
        wanted = np.array(keys, dtype=np.int64) << 32
        hits = []
        for run in runs:
            lo = np.searchsorted(run, wanted, "left")
            hi = np.searchsorted(run, wanted | _LOW, "right")
            counts = hi - lo
            if counts.any():
                ends = np.cumsum(counts)
                hits.append(run[np.repeat(lo - ends + counts, counts) + np.arange(ends[-1])])
        values = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
        return np.stack((values >> 32, values & _LOW), axis=1)


class Keys:
    """Which ids, source+url keys and text keys the ``docs`` table may hold, as this writer
    knows it: while it is the only writer of a table that was empty when it opened, a hash of
    every key it stored is kept in memory (:class:`_Runs`, 8 bytes a key), and only the keys
    found there are looked up in SQL (a re-added document, or a rare hash collision). Keys of
    removed or rolled-back documents may stay: they only cost a lookup that finds nothing.
    """

    _SALT = (0, 0x5BD1E995, 0x27D4EB2F)  # per kind of key: id, url key, text key

    def __init__(self, db: sqlite3.Connection) -> None:
        self._memory = _Runs(db, "docs", _MEMORY_ROWS)

    def forget(self) -> None:
        """Stop keeping keys in memory (stored keys changed, as a rebuild changes them)."""
        self._memory.forget()

    def hashed(self, kind: int, values: Sequence[Any]) -> np.ndarray:
        """The int64 hashes of the keys of one kind (0 id bytes, 1 url key, 2 text key)."""
        if kind == 0:
            ints = [xxhash.xxh3_64_intdigest(v) - (1 << 63) for v in values]
        else:
            ints = list(values)
        return np.array(ints, dtype=np.int64) ^ self._SALT[kind]

    def maybe_stored(self, hashes: np.ndarray) -> np.ndarray | None:
        """Per hash, whether its key may be stored; None when every key must be looked up."""
        runs = self._memory.runs()
        if runs is None:
            return None
        # searched in sorted order: 6x faster than random probes into runs of millions
        order = np.argsort(hashes, kind="stable")
        wanted = hashes[order]
        found = np.zeros(len(hashes), dtype=bool)
        for run in runs:
            at = np.minimum(np.searchsorted(run, wanted), len(run) - 1)
            found |= run[at] == wanted
        maybe = np.empty(len(hashes), dtype=bool)
        maybe[order] = found
        return maybe

    def stored(self, hashes: np.ndarray) -> None:
        """These keys are stored now."""
        self._memory.add(np.sort(hashes))


def write_batch(
    db: sqlite3.Connection,
    rows: list[Row],
    vecs: dict[int, bytes],
    *,
    stories: StoryTable,
    bands: Bands,
    keys: Keys,
    vectors: Vectors | None,
) -> list[str]:
    """Store a batch; returns the stored id of each row.

    A row is new unless its id, its source+url key or its text key (checked in that order) is
    stored already or was taken by an earlier row of the batch; then the id of that document
    stands for it. ``vecs`` holds embeddings by position in ``rows``.
    """
    owner = _owners(db, rows, keys)
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
    keys.stored(
        np.concatenate(
            [
                keys.hashed(kind, [r[1 + kind] for r in new if r[1 + kind] is not None])
                for kind in range(3)
            ]
        )
    )
    if vectors is not None and vectors_new:
        vectors.insert(vectors_new)
    # stories first: their lookup then finds only earlier batches' band rows (fewer)
    packed = band_rows(fresh)
    stories.assign(fresh, packed)
    bands.insert(packed)
    return ids


def _owners(db: sqlite3.Connection, rows: list[Row], keys: Keys) -> dict[tuple[int, Any], str]:
    """(0 id | 1 url key | 2 text key, value) -> id of the stored document holding it, for
    the keys of ``rows`` that are stored already (one lookup per kind of key, of the keys that
    ``keys`` says may be stored)."""
    owner: dict[tuple[int, Any], str] = {}
    columns = (
        ("id", {r.key for r in rows}),
        ("url_key", {r.url_key for r in rows} - {None}),
        ("text_key", {r.features.text_key for r in rows} - {None}),
    )
    for kind, (column, values) in enumerate(columns):
        todo = list(values)
        maybe = keys.maybe_stored(keys.hashed(kind, todo)) if todo else None
        if maybe is not None:
            todo = [v for v, m in zip(todo, maybe.tolist(), strict=True) if m]
        for i in range(0, len(todo), _LOOKUP):
            part = todo[i : i + _LOOKUP]
            marks = ",".join("?" * len(part))
            found = db.execute(f"SELECT {column}, id FROM docs WHERE {column} IN ({marks})", part)
            owner.update(((kind, v), key.decode("utf-8", "surrogatepass")) for v, key in found)
    return owner
