"""Writing one batch of prepared rows into the index file (the add path of :mod:`store`).

Inside the batch's transaction (which holds the write lock): which rows are new (their id,
source+url key and text key looked up once per kind of key, repeats within the batch found in
a dict), their row numbers (``max(n) + 1 ...``, as SQLite would give them), one
``executemany`` per table, the stories of the new rows (before their band rows are stored, so
the lookup finds only earlier batches' rows) and the band rows in key order.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from typing import Any

import numpy as np

from samestory.ann import Vectors
from samestory.indexing import Features, Row
from samestory.story_table import StoryTable

__all__ = ["band_rows", "write_batch"]

# values looked up in one statement (SQLite allows 32,766 parameters)
_LOOKUP = 10_000


def write_batch(
    db: sqlite3.Connection,
    rows: list[Row],
    vecs: dict[int, bytes],
    *,
    stories: StoryTable,
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
    for i, (key, url_key, record, feats) in enumerate(rows):
        keys = ((0, key), (1, url_key), (2, feats.text_key))
        found = next((owner[k] for k in keys if k in owner), None)
        if found is not None:
            ids.append(found)
            continue
        n += 1
        doc_id = key.decode("utf-8", "surrogatepass")
        owner.update((k, doc_id) for k in keys if k[1] is not None)
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
    db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", band_rows(fresh))
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


def band_rows(rows: list[tuple[int, Features]]) -> Iterator[tuple[int, int]]:
    """The (band key, n) rows of documents, sorted: the B-tree takes them in order."""
    keys = np.fromiter(itertools.chain.from_iterable(f.bands for _, f in rows), dtype=np.int64)
    ns = np.repeat(np.array([n for n, _ in rows], dtype=np.int64), [len(f.bands) for _, f in rows])
    order = np.lexsort((ns, keys))
    return zip(keys[order].tolist(), ns[order].tolist(), strict=True)
