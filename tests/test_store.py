"""The persistent index: round trips, no doubles, settings checks, queries, remove/rebuild."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samestory import Document, Index, MinHashConfig, StoreError
from samestory.config import CleanConfig

FLOOD = (
    "Heavy rain flooded the lower town of Marlow on Tuesday, and the river rose two metres "
    "above its usual level by the evening. The mayor opened the school gym to families who "
    "had to leave their homes, and volunteers carried sandbags to the bridge until midnight. "
    "Officials said the water should fall by Thursday if the forecast holds."
)
# the same report with its last word changed and a boilerplate line added
FLOOD_COPY = FLOOD.replace("forecast holds.", "forecast stays.") + "\nShare this article"
BUDGET = (
    "The city council approved a budget of forty million for the coming year after a long "
    "debate about bus fares. Members agreed to keep the libraries open on Sundays and to "
    "repair the old market hall, while the opposition asked for lower parking fees."
)
FERRY = (
    "A new ferry line between the two islands starts in May, the operator said on Friday. "
    "Boats will leave every two hours in summer and three times a day in winter."
)


@pytest.fixture
def index(tmp_path: Path):
    with Index(tmp_path / "news.db") as ix:
        yield ix


def test_add_get_query(index: Index) -> None:
    ids = index.add(
        [Document(FLOOD, id="flood", title="Marlow floods"), Document(BUDGET), Document(FERRY)]
    )
    assert ids[0] == "flood" and len(index) == 3
    assert index.get("flood").title == "Marlow floods"
    matches = index.query(FLOOD_COPY)
    assert [m.id for m in matches] == ["flood"]
    assert matches[0].verdict == "duplicate"
    assert 0.8 <= matches[0].scores["jaccard"] < 1.0
    assert matches[0].to_dict()["title"] == "Marlow floods"
    assert index.query("A completely different text about a chess match in the park.") == []
    assert index.query("") == []


def test_fast_query_gives_the_detailed_verdicts_with_the_scores_they_need(index: Index) -> None:
    from samestory.samples import load

    docs = load()
    index.add(docs)
    index.add([Document(" ".join(d.text.split()[1:]), id=f"{d.id}-copy") for d in docs[:6]])
    for doc in docs:
        full = {m.id: m for m in index.query(doc, top=5)}
        fast = index.query(doc, top=5, detail=False)
        assert {m.id: m.verdict for m in fast} == {i: m.verdict for i, m in full.items()}
        for m in fast:
            assert m.scores == {k: full[m.id].scores[k] for k in m.scores}
        strength = ["duplicate", "reuse", "rewrite", "same-story", "related"]
        assert [strength.index(m.verdict) for m in fast] == sorted(
            strength.index(m.verdict) for m in fast
        )
    # a near-copy is decided from its shingles: no alignment, no content scores
    (copy,) = [m for m in index.query(docs[0], detail=False) if m.id == f"{docs[0].id}-copy"]
    assert copy.verdict == "duplicate" and "overall" not in copy.scores


def test_readding_does_not_double(index: Index) -> None:
    docs = [Document(FLOOD, id="a"), Document(BUDGET, source="Herald", url="https://h.example/1")]
    assert index.add(docs) == ["a", docs[1].id]
    assert index.add(docs) == ["a", docs[1].id]
    # same id, other text; same source+url, other id; same clean text, other id
    again = [
        Document(FERRY, id="a"),
        Document(FERRY + " More.", id="b", source="Herald", url="https://h.example/1"),
        Document("  " + FLOOD.replace(" the ", "  the ") + "\nShare this article", id="c"),
        Document(FERRY, id="c2"),
        Document(FERRY, id="c3"),  # identical text inside one batch
    ]
    assert index.add(again) == ["a", docs[1].id, "a", "c2", "c2"]
    assert len(index) == 3
    assert index.get("a").text == FLOOD and index.get("b") is None


def test_settings_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    with Index(path, config=MinHashConfig(ngram=3, num_perm=64)) as ix:
        ix.add([Document(FLOOD)])
    with pytest.raises(StoreError, match=r"ngram=3 \(you asked for 5\)"):
        Index(path, config=MinHashConfig())
    with pytest.raises(StoreError, match="join_hyphens"):
        Index(path, clean_config=CleanConfig(join_hyphens=False))
    with Index(path) as ix:  # no settings given: the file's own
        assert ix.config.ngram == 3 and ix.config.num_perm == 64
        assert [m.verdict for m in ix.query(FLOOD_COPY)] == ["duplicate"]


def test_unusable_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database at all, just some words\n" * 50)
    with pytest.raises(StoreError, match="not a samestory index"):
        Index(text)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    with pytest.raises(StoreError, match="not a samestory index"):
        Index(other)
    with pytest.raises(StoreError, match="no index here"):
        Index(tmp_path / "missing.db", create=False)
    newer = tmp_path / "newer.db"
    Index(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("INSERT INTO migrations VALUES (99, 'from the future')")
    with pytest.raises(StoreError, match="newer"):
        Index(newer)


def test_remove_and_rebuild(index: Index) -> None:
    index.add([Document(FLOOD, id="flood"), Document(BUDGET, id="budget")])
    bands = index._db.execute("SELECT key, n FROM bands ORDER BY key, n").fetchall()
    docs = index._db.execute("SELECT n, text_key, shingles FROM docs ORDER BY n").fetchall()
    index._db.execute("DELETE FROM bands")
    index._db.execute("UPDATE docs SET shingles = x'', text_key = NULL")
    assert index.query(FLOOD_COPY) == []
    assert index.rebuild(batch_size=1) == 2
    assert index._db.execute("SELECT key, n FROM bands ORDER BY key, n").fetchall() == bands
    assert index._db.execute("SELECT n, text_key, shingles FROM docs ORDER BY n").fetchall() == docs
    assert [m.id for m in index.query(FLOOD_COPY)] == ["flood"]
    assert index.remove("flood") and not index.remove("flood")
    assert index.get("flood") is None and index.query(FLOOD_COPY) == []
    assert index.stats()["documents"] == 1


def test_export_reimports(index: Index, tmp_path: Path) -> None:
    docs = [Document(FLOOD, id="f", title="T", meta={"k": [1, 2]}), Document(BUDGET, lang="en")]
    index.add(docs)
    out = io.StringIO()
    assert index.export(out) == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [Document(**r) for r in rows] == docs
    with Index(tmp_path / "copy.db") as copy:
        copy.add(Document(**r) for r in rows)
        assert list(copy.documents()) == docs


def test_stats(index: Index) -> None:
    index.add([Document(FLOOD), Document(BUDGET)])
    stats = index.stats()
    from samestory.schema import SCHEMA_VERSION

    assert stats["documents"] == 2 and stats["schema_version"] == SCHEMA_VERSION
    assert stats["band_rows"] == 2 * stats["settings"]["bands"]
    assert stats["bytes"] > 0 and stats["settings"]["minhash"]["ngram"] == 5


def test_workers_give_the_same_store(tmp_path: Path) -> None:
    docs = [Document(f"{FLOOD} Report number {i}.", id=str(i)) for i in range(30)]
    with Index(tmp_path / "one.db") as a, Index(tmp_path / "two.db") as b:
        assert a.add(docs, batch_size=7) == b.add(docs, batch_size=7, workers=2)
        rows = "SELECT id, url_key, text_key, record, shingles FROM docs ORDER BY n"
        assert a._db.execute(rows).fetchall() == b._db.execute(rows).fetchall()
        bands = "SELECT key, n FROM bands ORDER BY key, n"
        assert a._db.execute(bands).fetchall() == b._db.execute(bands).fetchall()


_text = st.text(st.characters(codec="utf-8"), max_size=200)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_documents = st.builds(
    Document,
    text=st.text(max_size=400),
    id=st.text(min_size=1, max_size=30),
    title=_text,
    source=_text,
    url=_text,
    published=_text,
    lang=st.sampled_from(["", "en", "de", "fr"]),
    meta=st.dictionaries(st.text(max_size=8), _json, max_size=4),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_documents)
def test_round_trip(doc: Document) -> None:
    with tempfile.TemporaryDirectory() as tmp, Index(Path(tmp) / "r.db") as index:
        assert index.add([doc]) == [doc.id]
        assert index.get(doc.id) == doc
        assert list(index.documents()) == [doc]
        assert index.add([doc]) == [doc.id] and len(index) == 1


def test_lone_surrogates_round_trip(index: Index) -> None:
    doc = Document("Broken \ud800 text from a bad decoder.", id="odd\udc80id", title="x\ud83d")
    assert index.add([doc]) == [doc.id]
    assert index.get(doc.id) == doc
    out = io.StringIO()
    index.export(out)
    assert Document(**json.loads(out.getvalue())) == doc
    out.getvalue().encode("utf-8")  # writable to any UTF-8 stream


def test_fingerprint_overlap_agrees_with_exact_shingle_sets() -> None:
    from samestory.clean import clean
    from samestory.indexing import Featurizer, overlap, pack_fingerprint, unpack_fingerprint
    from samestory.shingle import jaccard, shingle_hashes

    featurize = Featurizer(MinHashConfig(), CleanConfig(), 14, 9)
    texts = [FLOOD, FLOOD_COPY, BUDGET, FLOOD + " " + BUDGET, FERRY]
    feats = featurize([(t, "") for t in texts])
    for i, a in enumerate(texts):
        for j, b in enumerate(texts):
            sa, sb = shingle_hashes(clean(a).text), shingle_hashes(clean(b).text)
            inter = len(set(sa.tolist()) & set(sb.tolist()))
            expected = (jaccard(sa, sb), inter / len(sa), inter / len(sb))
            assert overlap(feats[i].shingles, feats[j].shingles) == pytest.approx(expected), (i, j)
    values = unpack_fingerprint(feats[0].shingles)
    assert list(values) == sorted(set(values.tolist())) and values.max() < 2**24
    assert pack_fingerprint(values) == feats[0].shingles
    keys = feats[0].band_list()
    assert all(-(2**31) <= k < 2**31 for k in keys) and len(keys) == 14


def test_bad_options_are_refused(index: Index) -> None:
    from samestory import SettingsError

    with pytest.raises(SettingsError, match="top must be"):
        index.query(FLOOD, top=0)
    with pytest.raises(SettingsError, match="batch_size must be"):
        index.add([FLOOD], batch_size=0)
    assert index.add([FLOOD]) == [Document(FLOOD).id]  # a plain string is a text


def test_migrations_upgrade_an_older_file(tmp_path: Path, monkeypatch) -> None:
    from samestory import schema

    path = tmp_path / "old.db"
    with Index(path) as ix:
        ix.add([Document(FLOOD, id="flood")])
    last = schema.SCHEMA_VERSION + 1
    step = (last, "embeddings", "CREATE TABLE embeddings (n INTEGER PRIMARY KEY, vector BLOB)")
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, step])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", last)
    with Index(path) as ix:
        assert ix.stats()["schema_version"] == last
        assert ix._db.execute("SELECT count(*) FROM embeddings").fetchone() == (0,)
        assert ix.get("flood").text == FLOOD
    with Index(path) as ix:  # applied once
        versions = ix._db.execute("SELECT version FROM migrations ORDER BY version").fetchall()
        assert versions == [(v,) for v in range(1, last + 1)]


def test_other_storage_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    Index(path).close()
    with sqlite3.connect(path) as db:
        (raw,) = db.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        values = json.loads(raw) | {"format": "shingles-u32-v0"}
        db.execute("UPDATE meta SET value = ? WHERE key = 'settings'", (json.dumps(values),))
    with pytest.raises(StoreError, match="stored in format 'shingles-u32-v0'"):
        Index(path)


@pytest.mark.parametrize("codec", ["deflate-zdict-v1", "zstd-rawdict-v1"])
def test_a_file_in_an_older_format_is_still_read_and_written(tmp_path: Path, codec: str) -> None:
    import zlib

    import zstandard

    from samestory.indexing import default_zdict

    path = tmp_path / "old.db"
    Index(path).close()
    with sqlite3.connect(path) as db:  # as files made before: the word list as dictionary
        (raw,) = db.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        old = f"shingles-u24-v1;bands-i32-v1;{codec}"
        db.execute(
            "UPDATE meta SET value = ? WHERE key = 'settings'",
            (json.dumps(json.loads(raw) | {"format": old}),),
        )
        db.execute("UPDATE meta SET value = ? WHERE key = 'zdict'", (default_zdict(),))
    with Index(path) as ix:
        ix.add([Document(FLOOD, id="a")])
        assert ix.get("a").text == FLOOD and ix.stats()["documents"] == 1
        (record,) = ix._db.execute("SELECT record FROM docs").fetchone()
    if codec.startswith("deflate"):
        data = zlib.decompressobj(-15, zdict=default_zdict()).decompress(record)
    else:
        words = zstandard.ZstdCompressionDict(
            default_zdict(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
        data = zstandard.ZstdDecompressor(dict_data=words).decompress(record)
    assert data.endswith(FLOOD.encode())


def test_near_duplicates_share_a_story_without_embeddings(index: Index) -> None:
    index.add([Document(FLOOD, id="a"), Document(BUDGET, id="b"), Document(FLOOD_COPY, id="c")])
    stories = index.stories()
    assert [[m["id"] for m in s["members"]] for s in stories] == [["a", "c"]]
    assert index.story_of("a") == index.story_of("c") != index.story_of("b")
    assert index.stats()["stories"] == 2
    index.remove("a")
    assert index.stories() == [] and index.stats()["stories"] == 2


def test_best_overlaps_equal_the_pairwise_overlap():
    import numpy as np

    from samestory.indexing import best_overlaps, overlap, pack_fingerprint

    rng = np.random.default_rng(5)

    def fingerprint(n: int) -> bytes:
        return pack_fingerprint(np.unique(rng.integers(0, 400, size=n)).astype(np.uint32))

    query = fingerprint(60)
    prints = [fingerprint(n) for n in (0, 1, 10, 60, 200)] + [query]
    got = best_overlaps(query, prints)
    assert got.tolist() == [max(overlap(query, p)) for p in prints]
    assert got[-1] == 1.0
    assert best_overlaps(b"", prints).tolist() == [0.0] * len(prints)


def test_pair_overlaps_equal_the_pairwise_overlap():
    import numpy as np

    from samestory.indexing import overlap, pack_fingerprint, pair_overlaps

    rng = np.random.default_rng(8)
    prints = [
        pack_fingerprint(np.unique(rng.integers(0, 300, size=n)).astype(np.uint32))
        for n in (0, 1, 5, 40, 40, 120, 250)
    ]
    left = [prints[i] for i in rng.integers(0, len(prints), size=50)]
    right = [prints[i] for i in rng.integers(0, len(prints), size=50)]
    assert pair_overlaps(left, right).tolist() == [
        max(overlap(a, b)) for a, b in zip(left, right, strict=True)
    ]
    assert pair_overlaps([], []).tolist() == []


def test_a_failed_add_leaves_no_band_rows_behind(index: Index, monkeypatch) -> None:
    index.add([Document(FLOOD, id="a")])
    keys = sorted(set(index._featurizer([(BUDGET, "en")])[0].band_list()))
    assert not len(index._bands.lookup(keys))
    insert = index._bands.insert

    def insert_then_fail(rows) -> None:  # type: ignore[no-untyped-def]
        insert(rows)
        raise RuntimeError("disk full")

    monkeypatch.setattr(index._bands, "insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        index.add([Document(BUDGET, id="b")])
    monkeypatch.undo()
    # the rollback took the document back: its band rows are gone from every lookup
    assert len(index) == 1 and not len(index._bands.lookup(keys))
    index.add([Document(FERRY, id="c"), Document(BUDGET, id="d")])
    assert len(index._bands.lookup(keys)) == len(keys)
    assert [m.id for m in index.query(BUDGET)] == ["d"]
