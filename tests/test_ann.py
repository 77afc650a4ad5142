"""Embeddings in the index: stored with their documents, searched exactly or through usearch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samestory import Document, Index, StoreError, embed, samples
from samestory.ann import ann_path
from samestory.cli import main

pytestmark = pytest.mark.skipif(not embed.available(), reason="embed extra not installed")

OTHER = (
    "A violinist from the conservatory won the regional competition on Saturday with a "
    "sonata she wrote herself, the jury said after a long evening of performances."
)


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("ann") / "samples.db"
    docs = samples.load()
    query = next(d for d in docs if d.id == "fish-wire")
    with Index(path, embed=True) as ix:
        ix.add([d for d in docs if d.id != "fish-wire"])
        yield ix, query


def test_same_story_reports_are_found_through_embeddings(sample_index) -> None:
    ix, query = sample_index
    matches = ix.query(query, top=10)
    verdicts = {m.id: m.verdict for m in matches}
    assert verdicts["fish-syndicated"] == "duplicate"
    assert verdicts["fish-rewrite"] == "rewrite"
    assert verdicts["fish-independent-1"] == "same-story"
    assert verdicts["fish-independent-2"] == "same-story"
    assert not any(id.split("-")[0] != "fish" for id in verdicts)
    overall = [m.scores["overall"] for m in matches]
    assert overall == sorted(overall, reverse=True)
    assert matches[0].id == "fish-syndicated"


def test_without_embeddings_lsh_misses_the_rewrite(tmp_path: Path) -> None:
    docs = samples.load()
    with Index(tmp_path / "lsh.db") as ix:
        ix.add([d for d in docs if d.id != "fish-wire"])
        found = {m.id for m in ix.query(docs[0])}
        assert "fish-syndicated" in found and "fish-rewrite" not in found
        assert ix.stats()["vectors"] == 0 and ix.embed is None


def test_vectors_are_float16_one_per_document_and_the_setting_is_kept(sample_index) -> None:
    ix, _ = sample_index
    rows = ix._db.execute("SELECT count(*), min(length(vec)), max(length(vec)) FROM vectors")
    assert rows.fetchone() == (len(ix), 384 * 2, 384 * 2)
    with Index(ix.path) as again:  # no argument: the file's own setting
        assert again.embed == "minilm" and again.stats()["vectors"] == len(ix)
    with pytest.raises(StoreError, match="embeds with 'minilm'"):
        Index(ix.path, embed="use")


def test_ann_file_is_made_caught_up_and_rebuilt(tmp_path: Path) -> None:
    docs = samples.load()
    with Index(tmp_path / "big.db", embed=True) as ix:
        ix._vectors.exact_below = 0  # as if the collection were big: search the usearch file
        ix.add(docs[:10])
        file = ann_path(ix.path)
        assert file.exists()  # made while stories were assigned, saved at the end of the add
        wire = ix.query(docs[0], top=3)
        assert "fish-wire" in {m.id for m in wire}
        ix.add(docs[10:])  # newer rows are added to the index and the file
        flood = ix.query(docs[8], top=3)
        assert "flood-wire" in {m.id for m in flood} and len(ix._vectors._ann) == len(ix)
        ix.remove("flood-wire")  # stale: rebuilt from the table
        assert "flood-wire" not in {m.id for m in ix.query(docs[8], top=3)}
        assert len(ix._vectors._ann) == len(ix)
        file.unlink()
        assert ix.rebuild() == len(ix) and file.exists()


def test_exact_and_ann_search_agree(sample_index) -> None:
    ix, query = sample_index
    vec = ix._vectors.embed([query])[0]
    exact = ix._vectors.search(vec, k=5, floor=0.3)
    ix._vectors.exact_below = 0
    try:
        approx = ix._vectors.search(vec, k=5, floor=0.3)
    finally:
        ix._vectors.exact_below = 20_000
    assert [n for _, n in approx] == [n for _, n in exact]
    assert all(abs(a[0] - e[0]) < 0.01 for a, e in zip(approx, exact, strict=True))


def test_turning_embeddings_on_later_embeds_what_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "late.db"
    with Index(path) as ix:
        ix.add([Document(OTHER, id="violin")])
    with Index(path, embed=True) as ix:
        ix.add(samples.load()[:2])
        assert len(ix) == 2 and ix.stats()["vectors"] == 2


def test_a_failed_batch_leaves_no_vector_without_its_document(tmp_path: Path, monkeypatch) -> None:
    from samestory.ann import Vectors

    calls = []
    real = Vectors.insert

    def failing(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if killed inside the second batch's transaction
        real(self, rows)

    monkeypatch.setattr(Vectors, "insert", failing)
    docs = samples.load()
    with Index(tmp_path / "k.db", embed=True) as ix:
        with pytest.raises(KeyboardInterrupt):
            ix.add(docs, batch_size=5)
        assert len(ix) == 4 and ix.stats()["vectors"] == 4  # the first batch, less a copy
        monkeypatch.setattr(Vectors, "insert", real)
        ix.add(docs, batch_size=5)  # rerun: everything once, every document with its vector
        assert len(ix) == 16 and ix.stats()["vectors"] == 16


def _line(d: Document) -> str:
    return json.dumps({"id": d.id, "title": d.title, "source": d.source, "text": d.text}) + "\n"


def test_cli_add_embed_query_and_rebuild(tmp_path: Path, capsys) -> None:
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(_line(d) for d in samples.load()[1:]))
    db = tmp_path / "cli.db"
    assert main(["index", "add", str(src), "--db", str(db), "--embed", "--quiet"]) == 0
    query = tmp_path / "q.jsonl"
    query.write_text(_line(samples.load()[0]))
    capsys.readouterr()
    assert main(["query", str(query), "--db", str(db), "--json"]) == 0
    found = {m["id"]: m["verdict"] for m in json.loads(capsys.readouterr().out)["matches"]}
    assert found["fish-rewrite"] == "rewrite"
    assert main(["index", "rebuild", "--db", str(db), "--quiet"]) == 0
    assert ann_path(db).exists()


def test_stories_follow_the_samples_events(sample_index) -> None:
    ix, _ = sample_index
    stories = ix.stories(limit=10)
    by_member = {m["id"]: s["id"] for s in stories for m in s["members"]}
    fish = {"fish-rewrite", "fish-trimmed", "fish-reedited", "fish-independent-1"}
    assert len({by_member[id] for id in fish}) == 1
    assert by_member.get("fish-similar-event") != by_member["fish-rewrite"]
    assert by_member["flood-wire"] == by_member["flood-independent"]
    assert by_member["flood-wire"] != by_member["fish-rewrite"]
    assert "football-final" not in by_member  # a story of one is left out
    top = stories[0]
    assert top["size"] == len(top["members"]) and top["first"] <= top["last"]
    assert ix.story_of("fish-rewrite") == by_member["fish-rewrite"]


def test_stories_are_kept_on_remove_and_rebuilt(tmp_path: Path) -> None:
    docs = samples.load()
    with Index(tmp_path / "s.db", embed=True) as ix:
        ix.add(docs)
        before = ix.stories(limit=100, min_size=1)
        assert sum(s["size"] for s in before) == len(ix)
        ix.remove("fish-trimmed")
        assert sum(s["size"] for s in ix.stories(limit=100, min_size=1)) == len(ix)
        ix.rebuild()
        after = ix.stories(limit=100, min_size=1)
        assert sum(s["size"] for s in after) == len(ix)
        assert len(after) == len(before)


def test_sigkilled_embedding_add_rerun_is_consistent(tmp_path: Path) -> None:
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(5)
    words = OTHER.lower().replace(",", "").replace(".", "").split()
    records = [
        {"id": f"d{i:04d}", "text": " ".join(rng.choice(words) for _ in range(20)) + "."}
        for i in range(400)
    ]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    db = tmp_path / "killed.db"
    cmd = [sys.executable, "-m", "samestory.cli", "index", "add", str(data), "--db", str(db)]
    cmd += ["--embed", "--batch-size", "10", "--quiet"]
    proc = subprocess.Popen(cmd)
    deadline, seen = time.monotonic() + 120, 0
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with Index(db, create=False) as ix:
                seen = len(ix)
        except StoreError:  # not created yet
            pass
        if seen >= 30:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the add ended before it could be killed"
    with Index(db, create=False) as ix:
        stats = ix.stats()
        assert 30 <= stats["documents"] < len(records) and stats["vectors"] == stats["documents"]
    assert subprocess.run(cmd, check=False, timeout=300).returncode == 0
    with Index(db, create=False) as ix:
        assert sorted(d.id for d in ix.documents()) == [r["id"] for r in records]
        stats = ix.stats()
        assert stats["vectors"] == len(records)
        assert sum(s["size"] for s in ix.stories(limit=1000, min_size=1)) == len(records)


_RESULTS = (
    "{co} Inc 3rd qtr net\nShr {e} cts vs {e0} cts\nNet {p},400,000 vs {p0},100,000\n"
    "Revs {r}.2 mln vs {r0}.8 mln\nNine mths\nShr {e9} cts vs {e90} cts\n"
    "Net {p}.9 mln vs {p0}.2 mln\nRevs {r}.5 mln vs {r0}.1 mln\nReuter"
)


def test_templated_results_of_different_companies_stay_apart(tmp_path: Path) -> None:
    if not embed.available():
        pytest.skip("the embed extra is not installed")
    companies = [
        ("Halvorsen Marine Supply", 12, 40, 310),
        ("Quillfeather Paper Mills", 31, 77, 512),
        ("Ostrander Grain Elevators", 7, 19, 140),
        ("Bellweather Optical Instruments", 54, 120, 905),
        ("Tamsworth Regional Bancorp", 23, 61, 233),
        ("Corriveau Freight Lines", 15, 35, 280),
    ]
    docs = [
        Document(
            _RESULTS.format(
                co=co, e=e, e0=e - 4, p=p, p0=p - 3, r=r, r0=r - 17, e9=3 * e, e90=3 * e - 9
            ),
            id=f"results-{i}",
            published=f"2019-10-{10 + i:02d}",
        )
        for i, (co, p, e, r) in enumerate(companies)
    ]
    with Index(tmp_path / "results.db", embed=True) as ix:
        ix.add(docs)
        # the embeddings alone join them (cosine 0.66-0.80, and compare calls a pair
        # same-story); the words every table shares weigh nothing by the index's idf
        assert len({ix.story_of(d.id) for d in docs}) == len(docs)
