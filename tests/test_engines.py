"""The local and the Spark engine give the same answers (Spark in local mode).

One SparkSession serves the whole module. Skipped, with the reason, when pyspark or Java is
missing.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import itertools

from corpus import generate, write_jsonl

from samestory import Document
from samestory.cli import main
from samestory.cluster import EARLIEST_DATE, LONGEST_TEXT, reference_components
from samestory.errors import InputError
from samestory.pipeline import dedup

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (samestory[spark])")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed (Spark needs Java 17+)", allow_module_level=True)

OUTPUTS = ("pairs.jsonl", "clusters.jsonl", "kept.jsonl")


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    from samestory.engines.spark import session

    spark = session("local[2]", app_name="samestory-tests")
    spark.conf.set("spark.sql.shuffle.partitions", "2")
    yield spark
    spark.stop()
    assert SparkSession.getActiveSession() is None


def _quiet(_skipped: object) -> None:
    pass


def _both(tmp: Path, source: object, **options: object) -> tuple[Path, Path, dict, dict]:  # type: ignore[type-arg]
    local = dedup(source, out=tmp / "local", jobs=1, on_skip=_quiet, **options)  # type: ignore[arg-type]
    remote = dedup(source, out=tmp / "spark", engine="spark", on_skip=_quiet, **options)  # type: ignore[arg-type]
    return local.out, remote.out, local.summary, remote.summary


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_jsonl(folder / "a.jsonl", generate(2500, seed=3))
    write_jsonl(folder / "b.jsonl", generate(600, seed=4), bad=False)
    return folder


def test_same_files_on_a_corpus_with_chains(spark, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    local, remote, s_local, s_spark = _both(tmp_path, [corpus])
    for name in OUTPUTS:
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name
    counts = dict(s_spark["counts"])
    assert counts.pop("components_rounds") >= 1
    assert counts == {k: v for k, v in s_local["counts"].items() if k != "reused_chunks"}
    assert s_spark["skipped_by_reason"] == s_local["skipped_by_reason"]
    assert s_spark["skipped_examples"] == s_local["skipped_examples"]
    assert s_spark["fingerprint"] == s_local["fingerprint"]
    # the corpus really holds chains: clusters whose members are not all paired directly
    lines = (remote / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    pairs = {(p["a"], p["b"]) for p in map(json.loads, lines)}
    lines = (remote / "clusters.jsonl").read_text(encoding="utf-8").splitlines()
    clusters = [json.loads(line) for line in lines]
    chains = [
        c
        for c in clusters
        if c["size"] == 3 and sum((a, b) in pairs for a in c["members"] for b in c["members"]) == 2
    ]
    assert len(chains) >= 10
    assert any(c["size"] > 64 for c in clusters)  # the oversized bucket
    assert {c["rule"] for c in clusters} == {EARLIEST_DATE, LONGEST_TEXT}


def test_parquet_output_csv_and_txt_input(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    folder = tmp_path / "in"
    (folder / "notes").mkdir(parents=True)
    records = generate(300, seed=5)
    with open(folder / "a.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["id", "text", "date"])
        writer.writeheader()
        for r in records:
            # a line break inside a quoted field: a CSV file is one task, never split
            writer.writerow({**r, "text": str(r["text"]).replace(" ", "\n", 1)})
    for r in records[:40]:
        (folder / "notes" / f"{r['id']}.txt").write_text(str(r["text"]), encoding="utf-8")
    local, remote, s_local, s_spark = _both(tmp_path, [folder], fmt="parquet")
    for name in ("pairs.parquet", "clusters.parquet"):
        assert pq.read_table(local / name).to_pylist() == pq.read_table(remote / name).to_pylist()
    assert (
        pq.read_table(local / "kept.parquet").to_pylist()
        == pq.read_table(remote / "kept.parquet").to_pylist()
    )
    assert s_spark["counts"]["kept"] == s_local["counts"]["kept"]
    assert s_spark["counts"]["pairs"] > 40  # the .txt copies pair with their CSV rows


def test_parquet_input_gives_the_jsonl_answers(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = generate(400, seed=6)
    write_jsonl(tmp_path / "a.jsonl", records, bad=False)
    table = pa.Table.from_pylist([{"date": None, **r} for r in records])
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=50)
    local = dedup([tmp_path / "a.jsonl"], out=tmp_path / "local", jobs=1, on_skip=_quiet)
    remote = dedup([tmp_path / "a.parquet"], out=tmp_path / "spark", engine="spark")
    assert remote.clusters == local.clusters
    assert remote.pairs == local.pairs


def test_documents_exact_only_and_no_verify(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = [
        Document(str(r["text"]), id=str(r["id"]), published=str(r.get("date", "")))
        for r in generate(300, seed=8)
    ]
    for options in ({"exact_only": True}, {"verify": False, "threshold": 0.7}):
        local = dedup(docs, out=tmp_path / "local", jobs=1, **options)  # type: ignore[arg-type]
        remote = dedup(docs, out=tmp_path / "spark", engine="spark", **options)  # type: ignore[arg-type]
        assert remote.clusters == local.clusters, options
        assert remote.pairs == local.pairs, options
        assert remote.dropped == local.dropped, options
        assert (tmp_path / "local" / "kept.jsonl").read_bytes() == (
            tmp_path / "spark" / "kept.jsonl"
        ).read_bytes()
        shutil.rmtree(tmp_path / "local")


def test_cluster_uri_output_is_part_files(spark, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    local = dedup([corpus / "b.jsonl"], out=tmp_path / "local", jobs=1)
    args = [str(corpus / "b.jsonl"), "--out", (tmp_path / "uri").as_uri(), "--quiet"]
    assert main(["dedup", *args, "--engine", "spark", "--master", "local[2]"]) == 0
    kept = sorted(
        line
        for part in sorted((tmp_path / "uri" / "kept.jsonl").glob("part-*"))
        for line in part.read_text(encoding="utf-8").splitlines()
    )
    assert kept == sorted((local.out / "kept.jsonl").read_text(encoding="utf-8").splitlines())
    clusters = [
        json.loads(line)
        for part in sorted((tmp_path / "uri" / "clusters.jsonl").glob("part-*"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(clusters, key=lambda c: c["cluster"]) == local.clusters
    summary = next((tmp_path / "uri" / "summary.json").glob("part-*")).read_text()
    assert json.loads(summary)["counts"]["kept"] == len(kept)


def test_missing_input_is_an_error_before_any_work(spark, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no such file"):
        dedup([tmp_path / "absent.jsonl"], out=tmp_path / "out", engine="spark")
    assert not (tmp_path / "out").exists()
    args = ["dedup", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "out")]
    assert main([*args, "--engine", "spark"]) == 2
    assert "absent.jsonl: no such file" in capsys.readouterr().err


def _random_graphs(rng: random.Random) -> tuple[int, np.ndarray]:
    """Several graphs side by side: sparse and dense random ones, a long path, a star."""
    edges: list[tuple[int, int]] = []
    base = 0
    for nodes, m in ((300, 150), (300, 400), (200, 1000), (50, 0)):
        edges += [(base + rng.randrange(nodes), base + rng.randrange(nodes)) for _ in range(m)]
        base += nodes
    path = list(range(base, base + 257))
    rng.shuffle(path)  # a path visiting node ids in random order: the worst case for rounds
    edges += list(itertools.pairwise(path))
    base += 257
    edges += [(base + k, base + 40) for k in range(80)]
    return base + 80, np.array(edges, dtype=np.int64)


def test_components_match_union_find(spark) -> None:  # type: ignore[no-untyped-def]
    from samestory.engines.spark_components import connected_components

    n, edges = _random_graphs(random.Random(11))
    frame = spark.createDataFrame([tuple(e) for e in edges.tolist()], "src long, dst long")
    labels, rounds = connected_components(frame)
    got = np.arange(n)
    for node, label in labels.collect():
        got[node] = label
    assert got.tolist() == reference_components(n, edges).tolist()
    assert rounds <= 2 * math.ceil(math.log2(n))
