"""The index file's schema, its migrations, and the settings kept in it.

Migrations are (version, name, SQL) steps applied in order at open, each recorded in the
``migrations`` table; a file with a newer version than this code knows is refused. The settings
(MinHash, clean, the LSH bands and rows actually used, the storage format) are written once
when the file is made; opening it with other settings raises StoreError.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import xxhash

from samestory.config import CleanConfig, MinHashConfig
from samestory.errors import StoreError
from samestory.indexing import trained_zdict
from samestory.lsh import optimal_bands

__all__ = [
    "FORMAT",
    "FORMATS",
    "MIGRATIONS",
    "PAIRS_FROM_JSON",
    "RECALL_WEIGHT",
    "SCHEMA_VERSION",
    "Transaction",
    "json_array",
    "meta",
    "migrate",
    "settings",
    "version",
]

SCHEMA_VERSION = 3
# how the stored fingerprint and texts are encoded; part of the settings fingerprint. New
# files get FORMAT; files in an older format this code still reads and writes map to the
# record codec they use (see indexing.Codec).
FORMAT = "shingles-u24-v1;bands-i32-v1;zstd-dict-v2"
FORMATS = {
    FORMAT: "zstd-dict",
    "shingles-u24-v1;bands-i32-v1;zstd-rawdict-v1": "zstd",
    "shingles-u24-v1;bands-i32-v1;deflate-zdict-v1": "deflate",
}
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "documents, shingle fingerprints, LSH bands, settings",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
        CREATE TABLE docs (
            n INTEGER PRIMARY KEY,
            id BLOB NOT NULL UNIQUE,
            url_key INTEGER UNIQUE,
            text_key INTEGER UNIQUE,
            record BLOB NOT NULL,
            shingles BLOB NOT NULL
        );
        CREATE TABLE bands (key INTEGER NOT NULL, n INTEGER NOT NULL,
                            PRIMARY KEY (key, n)) WITHOUT ROWID;
        """,
    ),
    (
        2,
        "document embeddings (float16), stories and their members",
        """
        CREATE TABLE vectors (n INTEGER PRIMARY KEY, vec BLOB NOT NULL);
        CREATE TABLE stories (id INTEGER PRIMARY KEY, size INTEGER NOT NULL);
        CREATE TABLE members (n INTEGER PRIMARY KEY, story INTEGER NOT NULL);
        CREATE INDEX members_story ON members (story, n);
        """,
    ),
    (
        3,
        "word document frequencies of the documents with stories through embeddings",
        """
        CREATE TABLE terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE termed (n INTEGER PRIMARY KEY);
        """,
    ),
]
# rows (a, b) given as one JSON array of a << 32 | b: bulk inserts without binding a parameter
# per row (``INSERT INTO t {PAIRS_FROM_JSON}`` with the array as the one parameter)
PAIRS_FROM_JSON = "SELECT value >> 32, value & 4294967295 FROM json_each(?)"


def json_array(values: Any) -> str:
    """The JSON text of a list or numpy array of integers, the parameter of
    :data:`PAIRS_FROM_JSON` (orjson: ~8x faster than json for the 140,000 band rows of a batch)."""
    return orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY).decode()


# LSH bands (when the settings leave them to the threshold) weight a missed near-duplicate 9x a
# false candidate: a candidate is verified on stored fingerprints in microseconds, a miss is lost.
RECALL_WEIGHT = 0.9


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (KeyboardInterrupt too)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")


def migrate(db: sqlite3.Connection, path: Path, *, create: bool) -> None:
    """Bring the schema of ``db`` up to SCHEMA_VERSION (a new file gets every step)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    if tables and "migrations" not in tables:
        raise StoreError(f"{path}: an SQLite file, but not a samestory index")
    if not tables and not create:
        raise StoreError(f"{path}: an empty file, not a samestory index (yet)")
    if tables and version(db) == SCHEMA_VERSION:
        return  # the common case takes no write lock, so readers never wait for an add
    with Transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT)")
        current = version(db)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: schema version {current} is newer than this samestory "
                f"understands ({SCHEMA_VERSION}); upgrade samestory"
            )
        for step, name, sql in MIGRATIONS:
            if step > current:
                for statement in filter(str.strip, sql.split(";")):
                    db.execute(statement)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (step, name))


def version(db: sqlite3.Connection) -> int:
    """The schema version of ``db`` (0: none yet)."""
    return int(db.execute("SELECT max(version) FROM migrations").fetchone()[0] or 0)


def meta(db: sqlite3.Connection, key: str) -> Any:
    """A value of the ``meta`` table, or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def settings(
    db: sqlite3.Connection,
    path: Path,
    config: MinHashConfig | None,
    clean_config: CleanConfig | None,
    *,
    create: bool,
) -> tuple[MinHashConfig, CleanConfig, int, int, str]:
    """The file's settings (written first when new), checked against the ones asked for, and
    its record codec (a method of :class:`~samestory.indexing.Codec`)."""
    stored = meta(db, "settings")
    if stored is None and not create:  # being created by another process right now
        raise StoreError(f"{path}: not a samestory index (yet)")
    if stored is None:
        mh, cc = config or MinHashConfig(), clean_config or CleanConfig()
        bands, rows = mh.bands, mh.rows
        if not bands:
            bands, rows = optimal_bands(
                mh.threshold, mh.num_perm, fp_weight=1 - RECALL_WEIGHT, fn_weight=RECALL_WEIGHT
            )
        values = {
            "minhash": asdict(mh),
            "clean": asdict(cc),
            "format": FORMAT,
            "bands": bands,
            "rows": rows,
        }
        zdict = trained_zdict()
        with Transaction(db):
            db.executemany(
                "INSERT OR IGNORE INTO meta VALUES (?, ?)",
                [
                    ("settings", json.dumps(values, sort_keys=True)),
                    ("fingerprint", _fingerprint(values)),
                    ("zdict", zdict),
                ],
            )
        stored = meta(db, "settings")
    values = json.loads(stored)
    if values.get("format") not in FORMATS:
        raise StoreError(f"{path}: stored in format {values.get('format')!r}")
    own_mh, own_cc = MinHashConfig(**values["minhash"]), CleanConfig(**values["clean"])
    for given, own in ((config, own_mh), (clean_config, own_cc)):
        if given is not None and given != own:
            diff = ", ".join(
                f"{k}={v!r} (you asked for {asdict(given)[k]!r})"
                for k, v in asdict(own).items()
                if asdict(given)[k] != v
            )
            raise StoreError(
                f"{path} was made with other settings: {diff}; open it with its own "
                "settings (leave them out) or build a new index"
            )
    return own_mh, own_cc, int(values["bands"]), int(values["rows"]), FORMATS[values["format"]]


def _fingerprint(values: dict[str, Any]) -> str:
    return xxhash.xxh3_64_hexdigest(json.dumps(values, sort_keys=True).encode())
