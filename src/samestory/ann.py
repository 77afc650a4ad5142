"""Document embeddings in the index and nearest-neighbour search over them.

The vectors live in the database (table ``vectors``, keyed by the document's row ``n``, as
float16 blobs: 768 bytes for MiniLM's 384 dimensions). Float16 rather than int8: the vectors
are unit length, so float16's 11-bit mantissa keeps a cosine to about 1e-3 with no scale to
store, while int8 needs a scale per vector and lost a tenth of the recall in the measured ANN
tests; it is also the precision the ANN file uses, so rebuilding loses nothing more.

Search is exact (a numpy matrix product over every vector, read once and cached) below
``EXACT_BELOW`` documents, where that is faster than a graph and needs no file. Above it a
usearch HNSW index (f16, cosine) is kept in a file beside the database (``<db>.usearch``).
When documents were added since it was written, the vectors of the newer rows are added to it;
when it is missing or still stale (its size differs from the table's, as after a removal), it is
rebuilt from the stored vectors. Either way it is written to a temporary file and renamed, so
readers never see half a file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from samestory.document import Document
from samestory.errors import MissingDependency

__all__ = ["EXACT_BELOW", "Vectors", "ann_path"]

EXACT_BELOW = 20_000
_CHUNK = 5000


def ann_path(db_path: Path) -> Path:
    """Where the ANN index file of the database at ``db_path`` lives."""
    return db_path.with_name(db_path.name + ".usearch")


def encode(vecs: np.ndarray) -> list[bytes]:
    """One float16 blob per row."""
    half = np.ascontiguousarray(vecs, dtype=np.float16)
    return [row.tobytes() for row in half]


class Vectors:
    """The embeddings of one index: computing, storing and searching them.

    Args:
        db: the index's connection.
        db_path: the database file (the ANN file goes beside it).
        model: the embedding model (see :mod:`samestory.embed`).
        exact_below: exact search below this many vectors, the ANN file from there on.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        db_path: Path,
        *,
        model: str = "minilm",
        exact_below: int = EXACT_BELOW,
    ) -> None:
        from samestory.embed import DIMENSIONS

        self.db = db
        self.path = ann_path(db_path)
        self.model = model
        self.dim = DIMENSIONS[model]
        self.exact_below = exact_below
        self._matrix: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None
        self._ann: object | None = None
        self._dirty = False

    def embed(self, docs: Sequence[Document]) -> np.ndarray:
        """Unit vectors of the documents' titles and leads (float32, one row each)."""
        from samestory.embed import default_embedder

        if not docs:
            return np.zeros((0, self.dim), dtype=np.float32)
        return default_embedder(self.model).embed_documents(
            [d.text for d in docs], titles=[d.title for d in docs]
        )

    def insert(self, rows: Sequence[tuple[int, bytes]]) -> None:
        """Store (n, blob) rows; call inside the transaction that inserts their documents."""
        self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def missing(self, limit: int) -> list[int]:
        """Up to ``limit`` document rows that have no vector yet."""
        return [
            int(r[0])
            for r in self.db.execute(
                "SELECT n FROM docs WHERE n NOT IN (SELECT n FROM vectors) ORDER BY n LIMIT ?",
                (limit,),
            )
        ]

    def _state(self) -> tuple[int, int]:
        count, top = self.db.execute("SELECT count(*), max(n) FROM vectors").fetchone()
        return int(count), int(top or 0)

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, float32 matrix) of every stored vector, cached until the table changes."""
        state = self._state()
        if self._matrix is None or self._matrix[0] != state:
            keys, blobs = [], []
            for n, blob in self.db.execute("SELECT n, vec FROM vectors ORDER BY n"):
                keys.append(n)
                blobs.append(blob)
            mat = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(-1, self.dim)
            self._matrix = (state, np.array(keys, dtype=np.int64), mat.astype(np.float32))
        return self._matrix[1], self._matrix[2]

    def search(
        self, vec: np.ndarray, *, k: int, floor: float, persist: bool = True
    ) -> list[tuple[float, int]]:
        """(cosine, n) of the ``k`` nearest stored vectors with cosine >= ``floor``.

        ``persist=False`` (used while an add runs) keeps the ANN index's additions in memory
        until :meth:`flush`, instead of rewriting the file after every batch.
        """
        count, _ = self._state()
        if count == 0 or not np.any(vec):
            return []
        if count < self.exact_below:
            keys, mat = self._load()
            sims = mat @ vec.astype(np.float32)
            k = min(k, len(keys))
            best = np.argpartition(-sims, k - 1)[:k]
            found = [(float(sims[i]), int(keys[i])) for i in best]
        else:
            index = self.ann(count, persist=persist)
            hits = index.search(vec.astype(np.float32), k)  # type: ignore[attr-defined]
            found = [
                (1.0 - float(d), int(n)) for n, d in zip(hits.keys, hits.distances, strict=True)
            ]
        found = [(round(s, 6), n) for s, n in found if s >= floor]
        found.sort(key=lambda p: (-p[0], p[1]))
        return found

    def ann(self, count: int | None = None, *, persist: bool = True) -> object:
        """The usearch index over every stored vector, rebuilt when missing or stale.

        Stale means its size differs from the table's; rows added since are added to it.
        """
        count = self._state()[0] if count is None else count
        index = self._ann
        if index is None or len(index) != count:  # type: ignore[arg-type]
            if index is None or len(index) > count:  # type: ignore[arg-type]
                index = self._open() if self.path.exists() else None
            if index is not None and 0 < len(index) < count:  # type: ignore[arg-type]
                top = int(np.max(np.asarray(index.keys)))  # type: ignore[attr-defined]
                self._add_after(index, top)
                self._dirty = True
            if index is None or len(index) != count:  # type: ignore[arg-type]
                index = self.rebuild()
            self._ann = index
        if persist:
            self.flush()
        return index

    def flush(self) -> None:
        """Write the ANN file when its index has additions not saved yet."""
        if self._dirty and self._ann is not None:
            self._save(self._ann)

    def _add_after(self, index: object, last: int) -> None:
        """Add the stored vectors of rows after ``last`` to ``index``."""
        while chunk := self.db.execute(
            "SELECT n, vec FROM vectors WHERE n > ? ORDER BY n LIMIT ?", (last, _CHUNK)
        ).fetchall():
            keys = np.array([n for n, _ in chunk], dtype=np.uint64)
            blob = b"".join(v for _, v in chunk)
            mat = np.frombuffer(blob, dtype=np.float16).reshape(-1, self.dim).astype(np.float32)
            index.add(keys, mat, threads=1)  # type: ignore[attr-defined]
            last = int(chunk[-1][0])

    def _save(self, index: object) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        index.save(str(tmp))  # type: ignore[attr-defined]
        os.replace(tmp, self.path)
        self._dirty = False

    def _new(self) -> object:
        # onnxruntime segfaults on import after usearch (numkong) is loaded: import it first
        with contextlib.suppress(ImportError):
            import onnxruntime  # noqa: F401
        try:
            from usearch.index import Index as UIndex
        except ImportError:
            raise MissingDependency("usearch", "embed") from None
        return UIndex(ndim=self.dim, metric="cos", dtype="f16")

    def _open(self) -> object | None:
        index = self._new()
        try:
            index.load(str(self.path))  # type: ignore[attr-defined]
        except Exception:  # an unreadable or foreign file is rebuilt, not trusted
            return None
        return index

    def rebuild(self) -> object:
        """Write the ANN file afresh from the stored vectors; returns the usearch index."""
        index = self._new()
        self._add_after(index, -1)
        self._save(index)
        self._ann = index
        return index
