"""The persistent index: one SQLite file that a collection grows in and is queried from.

What is stored per document (all in the file, nothing beside it yet):

- ``docs``: the id, a key of source+url and a key of the cleaned text (the three ways a
  re-added document is recognised), the original text with its metadata (raw deflate with a
  word dictionary kept in the file, so ``get`` and ``compare`` see the user's own characters),
  and the shingle fingerprint (upper 24 bits of each shingle hash, packed), on which
  candidates are verified (exact Jaccard and containment up to rare chance collisions).
- ``bands``: one row per LSH band key, the candidate lookup. MinHash signatures are not
  stored: they follow from the text, and ``rebuild`` recomputes the bands from it.
- ``meta``: the settings (MinHash and clean), their fingerprint and the text dictionary;
  ``migrations``: the schema version. A file made with other settings is refused.

Every add runs in transactions of one batch each (WAL mode): a killed add leaves whole
batches, and rerunning it skips what is present, so every document is there exactly once.
Readers in other processes keep answering while an add runs.

Embeddings are opt-in, a setting of the file (``Index(path, embed=True)``): each document's
title and lead is embedded on add and its float16 vector stored in ``vectors`` in the same
transaction as the document; nearest neighbours come from exact search or an ANN file beside
the database (see :mod:`samestory.ann`), which :meth:`Index.rebuild` recreates.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from samestory.ann import Vectors, encode
from samestory.config import CleanConfig, MinHashConfig
from samestory.document import Document
from samestory.errors import SettingsError, StoreError
from samestory.indexing import (
    Codec,
    Featurizer,
    Preparer,
    Row,
    band_rows,
    featurize,
    record_fields,
)
from samestory.ingest import Fields, LineSpan, Skipped
from samestory.schema import Transaction, meta, migrate, settings, version
from samestory.store_batch import Bands, Keys, write_batch
from samestory.store_read import STRENGTH, Match, duplicate_clusters, relate, verified
from samestory.story_table import StoryTable

__all__ = ["Index", "Match"]

Progress = Callable[[int], None]
_CHUNK = 1000  # documents a worker prepares at a time
# documents an add stores in one transaction by default: 10,000, or a sixteenth of those stored
# up to 40,000 (the workers keep as many in flight: ~2.5 KB each)
_TRANSACTION, _MAX_TRANSACTION = 10_000, 40_000


def _chunk(batch_size: Any) -> int:
    """Documents a worker takes at a time (a bad batch size is refused later, by ``_add``)."""
    return min(batch_size or _CHUNK, _CHUNK) if isinstance(batch_size, int | None) else 1


def _records(batch: Any) -> int:
    """Input records (lines, blank ones included) in a batch of :meth:`Index.add_files`."""
    return batch.count if isinstance(batch, LineSpan) else len(batch[0])


class Index:
    """A growing collection of documents in one SQLite file, queried for near-duplicates.

    Args:
        path: the database file; created (with its directory) when absent and ``create``.
        config: shingle/MinHash/LSH settings; ``None`` uses the file's own (or the defaults
            for a new file). Other settings than the file's are refused with StoreError.
        clean_config: cleaning settings, checked the same way.
        create: make a new index when ``path`` does not exist (else StoreError).
        cache_mb: SQLite page cache of this connection, in MiB.
        embed: store embeddings and query through them: ``True`` (MiniLM) or a model name
            of :mod:`samestory.embed`; kept in the file, so ``None`` (the default) follows the
            file. Turning it on for a file with documents embeds them on the next add or
            rebuild. Another model than the file's is refused with StoreError.
        ann_floor: the least cosine for an embedding neighbour to be related to a query.

    Example:
        >>> import os, tempfile
        >>> text = "The storm hit the coast on Monday night, officials said."
        >>> with Index(os.path.join(tempfile.mkdtemp(), "news.db")) as index:
        ...     ids = index.add([Document(text)])
        ...     [m.verdict for m in index.query(text)]
        ['duplicate']
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        config: MinHashConfig | None = None,
        clean_config: CleanConfig | None = None,
        create: bool = True,
        cache_mb: int = 64,
        embed: bool | str | None = None,
        ann_floor: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.create = create
        self.cache_mb = cache_mb
        if not self.path.exists() and not create:
            raise StoreError(f"{self.path}: no index here; build one with 'samestory index add'")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            # 16 KiB pages: a 1.5 KiB row wastes far less of a page than of a 4 KiB one (-14%
            # bytes); only takes effect on a new file, before WAL mode is set
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA journal_size_limit=16777216")
            self._db.execute(f"PRAGMA cache_size={-1024 * int(cache_mb)}")
            migrate(self._db, self.path, create=create)
            self.config, self.clean_config, self.bands, self.rows, method = settings(
                self._db, self.path, config, clean_config, create=create
            )
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: not a samestory index ({exc})") from None
        except StoreError:
            self.close()
            raise
        self._featurizer = Featurizer(self.config, self.clean_config, self.bands, self.rows)
        self._codec = Codec(meta(self._db, "zdict"), method)
        self.ann_floor = ann_floor
        self.embed = self._embed_setting(embed)
        self._vectors = Vectors(self._db, self.path, model=self.embed) if self.embed else None
        self._bands = Bands(self._db)
        self._keys = Keys(self._db)
        self._stories = StoryTable(
            self._db,
            bands=self._bands,
            threshold=self.config.threshold,
            vectors=self._vectors,
            unpack=self._unpack_row,
        )

    def _embed_setting(self, embed: bool | str | None) -> str | None:
        """The embedding model of the file (written when first asked for), or None."""
        from samestory.embed import MODELS

        own = meta(self._db, "embed")
        want = "minilm" if embed is True else embed or None
        if want is not None and want not in MODELS:
            raise SettingsError(f"unknown embedding model {want!r}; choose one of {MODELS}")
        if own is not None and want is not None and own != want:
            raise StoreError(f"{self.path} embeds with {own!r}, not {want!r}")
        if own is None and want is not None:
            with Transaction(self._db):
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('embed', ?)", (want,))
            own = meta(self._db, "embed")
        return str(own) if own else None

    # -- writing -------------------------------------------------------------------------
    def add(
        self,
        docs: Iterable[Document | str],
        *,
        batch_size: int | None = None,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> list[str]:
        """Add documents; each batch is one transaction. Returns the stored id of each.

        A document already present (same id, same source+url, or the same cleaned text) is
        not added again; its stored id is returned in its place.

        Args:
            docs: the documents (a plain string is a document's text), any iterable, read
                lazily batch by batch.
            batch_size: documents per transaction (the workers take them in chunks of at most
                1,000); None: 10,000, or a sixteenth of the documents stored up to 40,000.
                Big transactions write far fewer pages: each rewrites every page of the band
                table and of the key indexes that one of its rows falls in.
            workers: processes that clean, shingle and hash (1: this process).
            progress: called with the number of documents after each transaction.
        """
        stream = (d if isinstance(d, Document) else Document(d) for d in docs)
        size = _chunk(batch_size)
        batches = iter(lambda: list(itertools.islice(stream, size)), [])
        return self._add(batches, None, batch_size, workers, progress)

    def add_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        fields: Fields | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        batch_size: int | None = None,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> list[str]:
        """Add the documents of input files (every format :mod:`samestory.ingest` reads).

        Like :meth:`add` over ``read_documents(paths)``, but with ``workers`` > 1 the records
        are also parsed in the worker processes. Records that give no document go to
        ``on_skip`` (default: a line on stderr) and get no id.

        Args:
            paths: files, folders, or "-" for JSONL on stdin.
            fields: which record fields hold the text, id, date, source and title.
            on_skip: called with each skipped record, in input order.
            batch_size: records per transaction (see :meth:`add`).
            workers: processes that parse, clean, shingle and hash (1: this process).
            progress: called with the number of records after each transaction.
        """
        from samestory.ingest import batches, check_paths

        report = on_skip or (lambda s: print(f"samestory: {s}", file=sys.stderr))
        # with workers, a JSONL file's lines are read by the workers (spans of it), not here
        stream = batches(check_paths(paths), _chunk(batch_size), spans=workers > 1)
        return self._add(stream, fields or Fields(), batch_size, workers, progress, report)

    def _add(
        self,
        batches: Iterator[Any],
        fields: Fields | None,
        batch_size: int | None,
        workers: int,
        progress: Progress | None,
        report: Callable[[Skipped], None] | None = None,
    ) -> list[str]:
        for name, value in (
            ("batch_size", 1 if batch_size is None else batch_size),
            ("workers", workers),
        ):
            if not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
        with _collector_paused():
            stored = len(self) if batch_size is None else 0
            ids: list[str] = []
            keep = self._vectors is not None
            prepare = Preparer(self._featurizer, self._codec, fields, keep)
            rows: list[Row] = []
            vecs: dict[int, bytes] = {}  # embeddings by position in rows
            records = 0
            # the workers keep a whole transaction's chunks in flight: else they would wait while
            # this process stores (and the two would take turns instead of running side by side)
            ahead = -(-min(batch_size or _MAX_TRANSACTION, _MAX_TRANSACTION) // _CHUNK)
            stream = featurize(batches, prepare, workers=workers, ahead=ahead)
            for batch, (docs, chunk, skipped) in stream:
                for record in skipped:
                    report(record)  # type: ignore[misc]
                new = self._embed_new(batch if fields is None else docs)
                vecs.update((len(rows) + i, vec) for i, vec in new.items())
                rows += chunk
                records += _records(batch) if fields is not None else len(batch)
                if records >= (
                    batch_size or min(max(_TRANSACTION, stored // 16), _MAX_TRANSACTION)
                ):
                    stored += len(rows)
                    ids += self._store(rows, vecs, records, progress)
                    records = 0
            if records:
                ids += self._store(rows, vecs, records, progress)
            if self._vectors is not None:
                self._embed_missing(batch_size or _CHUNK)
                self._vectors.flush()
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return ids

    def _store(
        self, rows: list[Row], vecs: dict[int, bytes], records: int, progress: Progress | None
    ) -> list[str]:
        """Write the pending rows in one transaction (and forget them); their stored ids."""
        try:
            with Transaction(self._db):
                ids = write_batch(
                    self._db,
                    rows,
                    vecs,
                    stories=self._stories,
                    bands=self._bands,
                    keys=self._keys,
                    vectors=self._vectors,
                )
        except BaseException:
            self._bands.forget()  # its memory may hold band rows that the rollback took back
            raise
        rows.clear()
        vecs.clear()
        if progress is not None:
            progress(records)
        return ids

    def _embed_new(self, batch: list[Document]) -> dict[int, bytes]:
        """Vectors (by position in ``batch``) of the documents whose id is not stored yet."""
        if self._vectors is None:
            return {}
        new = [
            i
            for i, d in enumerate(batch)
            if self._db.execute(
                "SELECT 1 FROM docs WHERE id = ?", (d.id.encode("utf-8", "surrogatepass"),)
            ).fetchone()
            is None
        ]
        blobs = encode(self._vectors.embed([batch[i] for i in new]))
        return dict(zip(new, blobs, strict=True))

    def _embed_missing(self, batch_size: int) -> int:
        """Embed the stored documents that have no vector (embeddings turned on late)."""
        assert self._vectors is not None
        count = 0
        while ns := self._vectors.missing(batch_size):
            marks = ",".join("?" * len(ns))
            rows = self._db.execute(f"SELECT n, id, record FROM docs WHERE n IN ({marks})", ns)
            pairs = [(n, self._unpack_row(key, rec)) for n, key, rec in rows.fetchall()]
            blobs = encode(self._vectors.embed([d for _, d in pairs]))
            with Transaction(self._db):
                self._vectors.insert([(n, b) for (n, _), b in zip(pairs, blobs, strict=True)])
            count += len(pairs)
        return count

    def _unpack_row(self, key: bytes, record: bytes) -> Document:
        return self._codec.unpack(key.decode("utf-8", "surrogatepass"), record)

    def remove(self, id: str) -> bool:
        """Remove the document with this id; False when there is none."""
        key = id.encode("utf-8", "surrogatepass")
        with Transaction(self._db):
            row = self._db.execute("SELECT n FROM docs WHERE id = ?", (key,)).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM bands WHERE n = ?", (row[0],))
            self._bands.forget()
            self._db.execute("DELETE FROM vectors WHERE n = ?", (row[0],))
            self._stories.remove(row[0])
            self._db.execute("DELETE FROM docs WHERE n = ?", (row[0],))
        return True

    def rebuild(self, *, batch_size: int = 1000, progress: Progress | None = None) -> int:
        """Recompute what derives from the stored texts, in one transaction: the LSH band
        table, the shingle fingerprints and the cleaned-text keys.

        Needed after a change in how shingles or band keys are hashed. With embeddings on, it
        also embeds documents that lack a vector and rewrites the ANN file beside the database
        from the stored vectors. Stories are assigned afresh, in the order documents came.
        Returns the number of documents.
        """
        db, count, last = self._db, 0, -1
        if self._vectors is not None:
            self._embed_missing(batch_size)
        with Transaction(db):
            db.execute("DELETE FROM bands")
            self._bands.cleared()
            self._keys.forget()  # text keys are computed afresh
            self._stories.clear()
            while chunk := db.execute(
                "SELECT n, id, record FROM docs WHERE n > ? ORDER BY n LIMIT ?", (last, batch_size)
            ).fetchall():
                docs = [self._unpack_row(key, rec) for _, key, rec in chunk]
                feats = self._featurizer([(d.text, d.lang) for d in docs])
                pairs = [(n, f) for (n, _, _), f in zip(chunk, feats, strict=True)]
                db.executemany(
                    "UPDATE docs SET shingles = ? WHERE n = ?", [(f.shingles, n) for n, f in pairs]
                )
                # a text that now keys like another one keeps its old key rather than fail
                db.executemany(
                    "UPDATE OR IGNORE docs SET text_key = ? WHERE n = ?",
                    [(f.text_key, n) for n, f in pairs],
                )
                packed = band_rows(pairs)
                self._stories.assign(pairs, packed)
                self._bands.insert(packed)
                count, last = count + len(chunk), chunk[-1][0]
                if progress is not None:
                    progress(len(chunk))
        if self._vectors is not None:
            self._vectors.rebuild()
        return count

    def get(self, id: str) -> Document | None:
        """The stored document with this id, or None."""
        key = id.encode("utf-8", "surrogatepass")
        row = self._db.execute("SELECT record FROM docs WHERE id = ?", (key,)).fetchone()
        return None if row is None else self._unpack_row(key, row[0])

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and self.get(id) is not None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def documents(self) -> Iterator[Document]:
        """Every stored document, in the order they were added."""
        rows = self._db.execute("SELECT id, record FROM docs ORDER BY n")
        while chunk := rows.fetchmany(1000):
            yield from (self._unpack_row(key, rec) for key, rec in chunk)

    def query(self, doc: Document | str, *, top: int = 10, detail: bool = True) -> list[Match]:
        """The stored documents that match ``doc``, best first, each with verdict and scores.

        Candidates come from the stored LSH bands (the ones sharing the most bands first, at
        most ``max(100, 20 * top)``), verified on the shingle fingerprints, the best ``top``
        kept; with embeddings on, the ``top`` nearest neighbours of the query's vector (cosine
        at least ``ann_floor``) join them. Each candidate is related to the query with
        ``compare``; unrelated ones are dropped, and the best ``top`` returned.

        Args:
            doc: the query (a plain string is a document's text).
            top: most matches returned.
            detail: every match with all of ``compare``'s scores, best ``overall`` first.
                False (fast: what the JSON API answers by default): the same verdicts, each
                with only the scores it was decided on (``Comparer.verdict``: a shingle
                Jaccard of 0.8 or more decides a duplicate before any alignment). Ordered by
                verdict (duplicate, reuse, rewrite, same-story, related), then Jaccard.
        """
        if not isinstance(top, int) or top < 1:
            raise SettingsError(f"top must be a whole number of at least 1, got {top!r}")
        if isinstance(doc, str):
            doc = Document(doc)
        features = self._featurizer([(doc.text, doc.lang)])[0]
        cands = {key: rec for _, key, rec in verified(self._db, features, top=top)}
        if self._vectors is not None:
            vec = self._vectors.embed([doc])[0]
            for _, n in self._vectors.search(vec, k=top, floor=self.ann_floor):
                row = self._db.execute("SELECT id, record FROM docs WHERE n = ?", (n,)).fetchone()
                if row is not None:
                    cands.setdefault(row[0], row[1])
        if not cands:
            return []
        from samestory.compare import Comparer

        comparer = Comparer(embeddings=bool(self.embed))
        query = (doc, comparer.clean(doc))
        matches = []
        for key, rec in cands.items():
            stored = self._unpack_row(key, rec)
            verdict, scores = relate(comparer, query, stored, detail=detail)
            if verdict != "unrelated":
                matches.append(Match(stored.id, verdict, scores, stored))
        if detail:
            matches.sort(key=lambda m: (-(m.scores.get("overall") or 0.0), m.id))
        else:
            matches.sort(
                key=lambda m: (STRENGTH.index(m.verdict), -(m.scores.get("jaccard") or 0.0), m.id)
            )
        return matches[:top]

    def clusters(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Near-duplicate clusters among the stored documents, largest first.

        Documents sharing an LSH band are verified on their fingerprints (Jaccard at least the
        index's threshold) and joined by union-find. Each cluster lists its members (id,
        title, source, published), earliest first.
        """
        return duplicate_clusters(
            self._db, self._unpack_row, threshold=self.config.threshold, limit=limit
        )

    def stories(self, *, limit: int = 100, min_size: int = 2) -> list[dict[str, Any]]:
        """The stories of the index, largest first, as dicts like :meth:`clusters`.

        Kept up to date as documents arrive (see :mod:`samestory.story_table`): near-duplicates
        always share a story; with embeddings on, so do reports of one event. Stories of fewer
        than ``min_size`` documents are left out.
        """
        return self._stories.list(limit=limit, min_size=min_size)

    def story_of(self, id: str) -> str | None:
        """The story id of the stored document with this id, or None."""
        key = id.encode("utf-8", "surrogatepass")
        row = self._db.execute("SELECT n FROM docs WHERE id = ?", (key,)).fetchone()
        story = None if row is None else self._stories.story_of(row[0])
        return None if story is None else f"story-{story}"

    def stats(self) -> dict[str, Any]:
        """Counts, sizes and settings of the index (``documents`` is the number stored)."""
        one = self._db.execute
        docs = int(one("SELECT count(*) FROM docs").fetchone()[0])
        page = int(one("PRAGMA page_size").fetchone()[0])
        used = (
            int(one("PRAGMA page_count").fetchone()[0])
            - int(one("PRAGMA freelist_count").fetchone()[0])
        ) * page
        wal = Path(f"{self.path}-wal")
        out: dict[str, Any] = {
            "documents": docs,
            "band_rows": int(one("SELECT count(*) FROM bands").fetchone()[0]),
            "embed": self.embed,
            "vectors": int(one("SELECT count(*) FROM vectors").fetchone()[0]),
            "stories": int(one("SELECT count(*) FROM stories").fetchone()[0]),
            "bytes": used,
            "file_bytes": self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0),
            "bytes_per_document": round(used / docs, 1) if docs else 0.0,
            "schema_version": version(self._db),
            "fingerprint": meta(self._db, "fingerprint"),
            "settings": {
                "minhash": asdict(self.config),
                "clean": asdict(self.clean_config),
                "bands": self.bands,
                "rows": self.rows,
            },
        }
        try:
            tables = one("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY name")
            out["table_bytes"] = {name: int(size) for name, size in tables}
        except sqlite3.OperationalError:  # SQLite built without the dbstat table
            pass
        return out

    def export(self, out: str | os.PathLike[str] | IO[str]) -> int:
        """Write every document as one JSON line (re-readable by ``index add``); the count."""
        if isinstance(out, str | os.PathLike):
            with open(out, "w", encoding="utf-8", errors="surrogatepass") as f:
                return self.export(f)
        count = 0
        for doc in self.documents():
            line = json.dumps(record_fields(doc), ensure_ascii=False, default=str)
            if not line.isascii():
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError:  # a lone surrogate: write it as a JSON escape
                    line = json.dumps(record_fields(doc), default=str)
            out.write(line + "\n")
            count += 1
        return count

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the database (idempotent)."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None  # type: ignore[assignment]

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for an add (as it was before, after it).

    An add keeps a transaction's rows and every stored id alive: each full collection walks
    them all, a fifth of the storing process's time, and finds nothing, since nothing in an
    add makes reference cycles (reference counting frees the rest as usual)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
