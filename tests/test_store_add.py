"""The bulk add path: batched features, batched story assignment, records parsed in workers."""

from __future__ import annotations

import json
import os
import random
import re
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory import Document, Index
from samestory.clean import clean_text, normalize_for_key
from samestory.indexing import (
    Codec,
    _zstd,
    default_zdict,
    featurize,
    key64,
    overlap,
    pack_fingerprint,
    text_key,
    text_keys,
    trained_zdict,
)
from samestory.ingest import Fields, Record, read_documents, to_document
from samestory.shingle import shingle_hashes

WORDS = """harbour storm council budget ferry river school bridge market mayor rain island
police report train station museum festival water road fire night morning""".split()  # noqa: SIM905


def texts(n: int, *, seed: int) -> list[str]:
    """Short texts; every third is a light edit of an earlier one (some in the same batch)."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        if i % 3 == 2:
            tokens = out[rng.randrange(len(out))].split()
            tokens[rng.randrange(len(tokens))] = rng.choice(WORDS)
            out.append(" ".join(tokens))
        else:
            out.append(" ".join(rng.choice(WORDS) for _ in range(60)) + ".")
    return out


def members(index: Index) -> list[tuple[int, int]]:
    return index._db.execute("SELECT n, story FROM members ORDER BY n").fetchall()


def test_fingerprints_and_keys_match_the_per_document_reference(tmp_path: Path) -> None:
    from samestory.lsh import reference_band_keys
    from samestory.minhash import signatures

    # repeated sentences repeat shingles: the featurizer hashes them unsorted, repeats kept
    repeated = "The ferry left the harbour at dawn. " * 4 + "It came back at noon."
    docs = ["", "One two.", "govern-ment an-nounced it", repeated, *texts(20, seed=1)]
    with Index(tmp_path / "f.db") as index:
        feats = index._featurizer([(t, "") for t in docs])
        cc, config, bands, rows = index.clean_config, index.config, index.bands, index.rows
    for text, f in zip(docs, feats, strict=True):
        hashes = shingle_hashes(clean_text(text, config=cc))
        reference = np.unique(np.asarray(hashes, dtype=np.uint64) >> np.uint64(40))
        assert f.shingles == pack_fingerprint(reference.astype(np.uint32))
        assert (len(f.bands) > 0) == (len(hashes) > 0)
        if len(hashes):  # the bands of the MinHash of the shingle set
            keys = reference_band_keys(signatures([hashes], config), bands, rows)[0]
            assert f.band_list() == [int(k >> np.uint64(32)) - (1 << 31) for k in keys]


def test_codec_round_trips_and_deflate_matches_a_new_compressor() -> None:
    doc = Document("The ferry left the harbour at dawn. " * 20, id="x", title="Ferry")
    assert doc.lang == "en"  # detected, and stored with the record
    head = '{"lang":"en","title":"Ferry"}'
    for zdict, method in (
        (trained_zdict(), "zstd-dict"),
        (default_zdict(), "zstd"),
        (default_zdict(), "deflate"),
    ):
        codec = Codec(zdict, method)
        packed = codec.pack(doc)
        assert codec.pack(doc) == packed  # deterministic; nothing is used up
        assert len(packed) < len(doc.text) // 4
        back = codec.unpack("x", packed)
        assert (back.text, back.title, back.lang) == (doc.text, "Ferry", "en")
    # a record read from a file keeps every original field, in order; the text is packed once
    line = b'{"a": 1, "body": "Fog closed the port.", "z": 2}'
    read = to_document(Record("f.jsonl", 1, "json", line), Fields(text="body"))
    codec = Codec(trained_zdict())
    packed = codec.pack(read)
    assert _zstd(codec.zdict, codec.method)[1].decompress(packed).count(b"Fog closed") == 1
    back = codec.unpack(read.id, packed)
    assert list(back.meta.items()) == [("a", 1), ("body", "Fog closed the port."), ("z", 2)]
    assert back.meta == read.meta and back.text == read.text
    deflate = Codec(default_zdict(), "deflate")
    fresh = zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, deflate.zdict)
    assert deflate.pack(doc) == fresh.compress(f"{head}\n{doc.text}".encode()) + fresh.flush()


def test_record_heads_keep_what_json_keeps() -> None:
    """orjson writes the record head where it gives json's answer; json writes the rest."""
    when = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    metas = [
        {"b": {"z": 1, "a": [1.5, "é"]}, "a": None},  # nested, unsorted, a null, non-ASCII
        {"nan": float("nan"), "inf": float("inf")},  # orjson would write null
        {"big": 2**70},  # orjson refuses it
        {1: "int key", 2: "two"},  # and these
        {"lone": "x\ud800y"},  # a lone surrogate (kept by surrogatepass)
        {"when": when},  # json's default=str, not orjson's ISO form
        {"score": np.float64(0.25), "n": None, "tags": ("a", 1)},  # a float subclass, a null
    ]
    codec = Codec(trained_zdict())
    for meta in metas:
        doc = Document("The ferry left at dawn.", id="m", lang="en", meta=meta)
        back = codec.unpack("m", codec.pack(doc)).meta
        expected = json.loads(json.dumps(meta, default=str))
        assert json.dumps(back, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_batched_story_assignment_equals_one_document_at_a_time(tmp_path: Path) -> None:
    docs = [Document(t, id=f"d{i:03d}") for i, t in enumerate(texts(90, seed=3))]
    with Index(tmp_path / "one.db") as one, Index(tmp_path / "many.db") as many:
        one.add(docs, batch_size=1)
        many.add(docs, batch_size=40)
        assert members(one) == members(many)
        assert len({story for _, story in members(one)}) < 80  # copies joined their originals
        stories = "SELECT id, size FROM stories ORDER BY id"
        assert one._db.execute(stories).fetchall() == many._db.execute(stories).fetchall()
        before = members(many)
        many.rebuild(batch_size=25)  # assigns with the band rows already stored
        assert members(many) == before


def test_band_keys_kept_in_memory_give_what_the_table_gives(tmp_path: Path) -> None:
    docs = [Document(t, id=f"d{i:03d}") for i, t in enumerate(texts(120, seed=4))]
    with Index(tmp_path / "mem.db") as mem, Index(tmp_path / "sql.db") as sql:
        # empty: kept in memory
        assert mem._bands._memory._runs == [] and sql._bands._memory._runs == []
        sql._bands.forget()  # this one looks every key up in SQLite
        for index in (mem, sql):
            for i in range(0, len(docs), 7):  # many small runs, merged as they grow
                index.add(docs[i : i + 7], batch_size=7)
        assert mem._bands._memory._runs is not None and len(mem._bands._memory._runs) < 120 // 7
        assert members(mem) == members(sql)
        assert len({story for _, story in members(mem)}) < 100  # copies joined their originals
        keys = [k for (k,) in mem._db.execute("SELECT DISTINCT key FROM bands ORDER BY key")]
        in_memory = sorted(map(tuple, mem._bands.lookup(keys).tolist()))
        assert in_memory == mem._db.execute("SELECT key, n FROM bands ORDER BY key, n").fetchall()


KEY_LOOKUP = re.compile(r"FROM docs WHERE (?:id|url_key|text_key) IN")


def test_keys_kept_in_memory_spare_the_lookups_and_still_find_re_added_documents(
    tmp_path: Path,
) -> None:
    body = [f"{t} It was item {i}." for i, t in enumerate(texts(30, seed=8))]  # no copies
    docs = [
        Document(t, id=f"k{i}", source="wire", url=f"https://w.example/{i}")
        for i, t in enumerate(body)
    ]
    again = [
        Document(body[3], id="k3"),  # the same id
        Document(body[4], id="other-id"),  # the same text
        Document(
            "A corrected text " + body[5], id="new-id", source="wire", url="https://w.example/5"
        ),  # the same source+url
    ]
    lookups: list[str] = []
    with Index(tmp_path / "k.db") as index:
        index._db.set_trace_callback(
            lambda sql: lookups.append(sql) if KEY_LOOKUP.search(sql) else None
        )
        assert index.add(docs, batch_size=10) == [d.id for d in docs]
        assert not lookups  # nothing stored before: no key needed SQL
        assert index.add(again, batch_size=10) == ["k3", "k4", "k5"]
        assert len(index) == 30 and len(lookups) == 3  # one per kind, for the keys it had
    with Index(tmp_path / "k.db") as reopened:  # not empty when opened: SQL answers
        assert reopened._keys._memory.runs() is None
        assert reopened.add([Document(body[7], id="k7")]) == ["k7"] and len(reopened) == 30


def test_a_second_writer_sends_key_lookups_back_to_the_table(tmp_path: Path) -> None:
    (text,) = texts(1, seed=9)
    path = tmp_path / "two.db"
    with Index(path) as first, Index(path) as second:  # both opened on an empty file
        first.add([Document(text, id="a")])
        assert second.add([Document(text, id="a")]) == ["a"]  # must see the first's row
        assert second._keys._memory.runs() is None and len(second) == 1


def test_a_second_writer_sends_band_lookups_back_to_the_table(tmp_path: Path) -> None:
    original, other = texts(2, seed=6)
    copy = original.replace(original.split()[3], "harbour", 1) + " Share this article"
    path = tmp_path / "two.db"
    with Index(path) as first, Index(path) as second:  # both opened on an empty file
        first.add([Document(original, id="original"), Document(other, id="other")])
        second.add([Document(copy, id="copy")])  # must see the first writer's band rows
        assert second._bands._memory._runs is None
        assert second.story_of("copy") == second.story_of("original") != second.story_of("other")


def test_add_files_in_workers_equals_add_of_read_documents(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"r{i}", "text": t}) for i, t in enumerate(texts(60, seed=5))]
    lines[7] = "{not json"
    lines[20] = ""
    data.write_text("\n".join(lines) + "\n")
    with Index(tmp_path / "a.db") as a, Index(tmp_path / "b.db") as b:
        ids = a.add(read_documents([data], on_skip=lambda s: None), batch_size=9)
        skipped: list[str] = []
        assert (
            b.add_files([data], on_skip=lambda s: skipped.append(str(s)), batch_size=9, workers=2)
            == ids
        )
        assert len(skipped) == 1 and skipped[0].startswith(f"{data}:8: skipped: malformed JSON")
        for sql in (
            "SELECT id, url_key, text_key, record, shingles FROM docs ORDER BY n",
            "SELECT key, n FROM bands ORDER BY key, n",
            "SELECT n, story FROM members ORDER BY n",
        ):
            assert a._db.execute(sql).fetchall() == b._db.execute(sql).fetchall()


def test_repeats_within_a_batch_are_recognised_as_across_batches(tmp_path: Path) -> None:
    a, b, c = texts(3, seed=9)
    docs = [
        Document(a, id="a"),
        Document(a.upper(), id="b"),  # the same text (keys are casefolded): stands as "a"
        Document(b, id="a"),  # the same id
        Document(b, id="c", source="Herald", url="https://h.example/1"),
        Document(c, id="d", source="Herald", url="https://h.example/1"),  # the same url
        Document(c, id="e"),
        Document("   ", id="blank-1"),
        Document("\n", id="blank-2"),  # no text key: blank texts are not repeats
        Document(c, id="\udcff"),  # a lone surrogate in the id; its text is e's
    ]
    with Index(tmp_path / "one.db") as one, Index(tmp_path / "all.db") as whole:
        ids = one.add(docs, batch_size=1)
        assert ids == ["a", "a", "a", "c", "c", "e", "blank-1", "blank-2", "e"]
        assert whole.add(docs, batch_size=100) == ids
        sql = "SELECT n, id, url_key, text_key, record, shingles FROM docs ORDER BY n"
        assert one._db.execute(sql).fetchall() == whole._db.execute(sql).fetchall()
        assert whole.add(docs, batch_size=4) == ids and len(whole) == 5


def reference_stories(index: Index) -> list[tuple[int, int]]:
    """Stories as the earlier one-document-at-a-time assignment gave them (one SQL lookup a
    document, in order): the reference of the batched lookup."""
    db, story = index._db, {}
    for (n,) in db.execute("SELECT n FROM docs ORDER BY n").fetchall():
        keys = [k for (k,) in db.execute("SELECT key FROM bands WHERE n = ?", (n,))]
        (mine,) = db.execute("SELECT shingles FROM docs WHERE n = ?", (n,)).fetchone()
        best = None
        if keys:
            marks = ",".join("?" * len(keys))
            cands = db.execute(
                f"SELECT n, count(*) AS hits FROM bands WHERE key IN ({marks}) AND n < ? "
                "GROUP BY n ORDER BY hits DESC, n LIMIT 50",
                (*keys, n),
            ).fetchall()
            for m, _ in cands:
                (theirs,) = db.execute("SELECT shingles FROM docs WHERE n = ?", (m,)).fetchone()
                score = max(overlap(mine, theirs))
                if score >= index.config.threshold and (best is None or (-score, m) < best):
                    best = (-score, m)
        story[n] = story[best[1]] if best else n
    return sorted(story.items())


def test_batched_stories_equal_the_one_lookup_a_document_reference(tmp_path: Path) -> None:
    rng = random.Random(4)
    base = texts(40, seed=8)
    # chains of edits: many rows share keys with several earlier ones
    docs = [Document(t, id=f"b{i}") for i, t in enumerate(base)]
    for i in range(80):
        tokens = rng.choice(base).split()
        for _ in range(rng.randint(1, 4)):
            tokens[rng.randrange(len(tokens))] = rng.choice(WORDS)
        docs.append(Document(" ".join(tokens), id=f"e{i}"))
    with Index(tmp_path / "s.db") as index:
        index.add(docs, batch_size=33)
        assert members(index) == reference_stories(index)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"aZ \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85.-", "\xa0", "É"])))
def test_text_key_equals_the_key_of_the_normalized_text(text: str) -> None:
    norm = normalize_for_key(text)
    assert text_key(text) == (key64(norm) if norm else None)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from([*"aZ \t\n.", "\xa0", "É"]), max_size=12)))
def test_text_keys_of_a_batch_are_each_texts_key(texts: list[str]) -> None:
    expected = [key64(n) if (n := normalize_for_key(t)) else None for t in texts]
    assert text_keys(texts) == expected


def test_the_trained_dictionary_is_the_same_in_every_process() -> None:
    import hashlib
    import subprocess
    import sys

    code = "import hashlib; from samestory.indexing import trained_zdict as t; "
    code += "print(hashlib.sha256(t()).hexdigest())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == hashlib.sha256(trained_zdict()).hexdigest()
    assert len(trained_zdict()) == 32768


class _Niceness:
    """A stand-in for Preparer that reports the priority of the process it runs in."""

    def __init__(self, index: Index) -> None:
        self.featurizer, self.codec = index._featurizer, index._codec

    def __call__(self, batch: list[int]) -> list[int]:
        return [os.nice(0)] * len(batch)


def test_add_workers_run_below_the_writing_process(tmp_path: Path) -> None:
    """The workers yield to the process that stores their results (an add's serial stage)."""
    with Index(tmp_path / "n.db") as index:
        out = [r for _, r in featurize([[1], [2, 3]], _Niceness(index), workers=2)]  # type: ignore[arg-type]
    assert out == [[min(19, os.nice(0) + 5)], [min(19, os.nice(0) + 5)] * 2]
