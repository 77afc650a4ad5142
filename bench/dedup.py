"""Dedup benchmark: samestory vs datasketch and rensa, and a floor, in one process tree.

Every tool runs in its own child process of this script (so peak RSS is its own) on the same
corpus (bench/make_corpus.py: Reuters-21578 plus injected near-duplicates with known truth),
with the same parameters: 5-word shingles, 128 permutations, threshold 0.8, 16 bands x 8 rows.

- samestory: ``samestory.dedup`` end to end (read, clean, shingle, MinHash, LSH, verify,
  cluster, write all outputs), ``--jobs`` processes. The numba cache is warmed first.
- rensa: R-MinHash + RMinHashLSH; datasketch: MinHash + MinHashLSH. Python tokenising
  (``re.findall(r"\\w+", text.lower())``, 5-word shingles), one process, as their docs show;
  reported pairs are LSH candidates whose estimated Jaccard reaches the threshold.
- floor: read + parse + tokenise + hash every shingle once (samestory's numba kernel), no
  MinHash, ``--jobs`` processes; "floor+clean" adds the clean stage.

Quality: precision = share of reported pairs whose exact Jaccard (5-word shingles of the
cleaned text) is >= 0.8; recall (a) = share of injected pairs with exact Jaccard >= 0.8 that
the tool puts in one cluster; (b) the same against all pairs >= 0.8 found by brute force in the
first 5,000 documents. Anchors too slow for the full corpus run on ``--anchor-docs`` documents;
their docs/s then comes from that subset (marked "subset" in the output).

Usage:
    python bench/dedup.py                      # 100k documents
    python bench/dedup.py --docs 1000000       # 1M (builds a 1M corpus first; ~1.3 GB)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORD = re.compile(r"\w+")
NGRAM, NUM_PERM, THRESHOLD, BANDS, ROWS = 5, 128, 0.8, 16, 8


def _lines(corpus: Path, limit: int) -> list[bytes]:
    out = []
    with open(corpus, "rb") as fh:
        for k, line in enumerate(fh):
            if k >= limit:
                break
            out.append(line)
    return out


def _shingles(text: str) -> list[str]:
    toks = WORD.findall(text.lower())
    n = min(NGRAM, len(toks))
    return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)] if toks else []


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


# --- the tools (each runs in a child process) -------------------------------------------


def run_samestory(corpus: Path, limit: int, jobs: int, pairs_out: Path) -> dict:
    import samestory

    with tempfile.TemporaryDirectory() as warm:
        docs = [samestory.Document(f"warm up text number {i} for the jit cache") for i in range(3)]
        samestory.dedup(docs, out=warm, jobs=1)
    src = corpus
    tmp = None
    if limit < _count(corpus):
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as tmp:
            tmp.writelines(_lines(corpus, limit))
        src = Path(tmp.name)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        result = samestory.dedup([src], out=out, jobs=jobs)
        seconds = time.perf_counter() - t0
        digests = {name: _sha256(Path(out) / name) for name in OUTPUTS}
    if tmp is not None:
        os.unlink(tmp.name)
    _save_pairs(pairs_out, [(a, b) for a, b, _ in result.pairs])
    return {
        "seconds": seconds,
        "docs": limit,
        "timings": result.summary["timings"],
        "outputs_sha256": digests,
    }


OUTPUTS = ("pairs.jsonl", "clusters.jsonl", "kept.jsonl")


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def run_rensa(corpus: Path, limit: int, jobs: int, pairs_out: Path) -> dict:
    from rensa import RMinHash, RMinHashLSH

    t0 = time.perf_counter()
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    ids, hashes = [], []
    with open(corpus, "rb") as fh:
        for k, line in enumerate(fh):
            if k >= limit:
                break
            rec = json.loads(line)
            m = RMinHash(num_perm=NUM_PERM, seed=1)
            m.update(_shingles(rec["text"]))
            lsh.insert(k, m)
            ids.append(rec["id"])
            hashes.append(m)
    pairs = []
    for k, m in enumerate(hashes):
        for j in lsh.query(m):
            if j > k and m.jaccard(hashes[j]) >= THRESHOLD:
                pairs.append((ids[k], ids[j]))
    seconds = time.perf_counter() - t0
    _save_pairs(pairs_out, pairs)
    return {"seconds": seconds, "docs": limit}


def run_datasketch(corpus: Path, limit: int, jobs: int, pairs_out: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=(BANDS, ROWS))
    ids, hashes = [], []
    with open(corpus, "rb") as fh:
        for k, line in enumerate(fh):
            if k >= limit:
                break
            rec = json.loads(line)
            m = MinHash(num_perm=NUM_PERM, seed=1)
            m.update_batch([s.encode() for s in _shingles(rec["text"])])
            lsh.insert(k, m)
            ids.append(rec["id"])
            hashes.append(m)
    pairs = []
    for k, m in enumerate(hashes):
        for j in lsh.query(m):
            if j > k and m.jaccard(hashes[j]) >= THRESHOLD:
                pairs.append((ids[k], ids[j]))
    seconds = time.perf_counter() - t0
    _save_pairs(pairs_out, pairs)
    return {"seconds": seconds, "docs": limit}


def run_datatrove(corpus: Path, limit: int, jobs: int, pairs_out: Path) -> dict:
    """datatrove's MinHash pipeline (signatures, buckets, clusters, filter + writer), as its
    docs run it on one machine: the input split into ``jobs`` files, one task per file. Its
    pairs are the bucket matches it reports (it does not verify them)."""
    import struct

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    work = Path(tempfile.mkdtemp(prefix="datatrove-"))
    shards = [work / "in" / f"{k:03d}.jsonl" for k in range(jobs)]
    shards[0].parent.mkdir(parents=True)
    lines = _lines(corpus, limit)
    ids: list[list[str]] = [[] for _ in shards]
    parts: list[list[bytes]] = [[] for _ in shards]
    for k, line in enumerate(lines):  # contiguous runs, so documents keep their order
        shard = k * jobs // len(lines)
        parts[shard].append(line if line.endswith(b"\n") else line + b"\n")
        ids[shard].append(json.loads(line)["id"])
    for path, part in zip(shards, parts, strict=True):
        path.write_bytes(b"".join(part))
    # its default xxhash hashing passes str to xxhash, which xxhash 4 (ours) refuses
    # ("Strings must be encoded before hashing"): its sha1 option, 64-bit, instead
    hashing = HashConfig(precision=64, hash_fc="sha1")
    config = MinhashConfig(
        n_grams=5, num_buckets=BANDS, hashes_per_bucket=ROWS, seed=1, hash_config=hashing
    )

    def reader() -> JsonlReader:
        return JsonlReader(str(work / "in"), text_key="text", id_key="id")

    t0 = time.perf_counter()
    stages = [
        ([reader(), MinhashDedupSignature(str(work / "sigs"), config=config)], jobs),
        ([MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=config)], BANDS),
        ([MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=config)], 1),
        (
            [
                reader(),
                MinhashDedupFilter(str(work / "remove")),
                JsonlWriter(str(work / "kept")),
            ],
            jobs,
        ),
    ]
    for k, (pipeline, tasks) in enumerate(stages):
        LocalPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=jobs,
            logging_dir=str(work / f"logs{k}"),
            start_method="fork",  # workers are our children: their CPU time is counted
        ).run()
    seconds = time.perf_counter() - t0
    pairs = set()
    for dups in sorted((work / "buckets").glob("*.dups")):
        data = dups.read_bytes()
        for f1, d1, f2, d2 in struct.iter_unpack("<4I", data[: len(data) // 16 * 16]):
            a, b = ids[f1][d1], ids[f2][d2]
            pairs.add((a, b) if a < b else (b, a))
    _save_pairs(pairs_out, sorted(pairs))
    shutil.rmtree(work, ignore_errors=True)
    return {"seconds": seconds, "docs": limit}


def _floor_chunk(lines: list[bytes], with_clean: bool) -> int:
    from samestory.clean import clean_text
    from samestory.shingle import shingle_batch

    texts = [json.loads(line)["text"] for line in lines]
    if with_clean:
        texts = [clean_text(t) for t in texts]
    values, _ = shingle_batch(texts, NGRAM)
    return len(values)


def _floor(corpus: Path, limit: int, jobs: int, with_clean: bool) -> dict:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    _floor_chunk([b'{"text": "warm up the cache"}'], with_clean)
    t0 = time.perf_counter()
    total = 0
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        futures = []
        batch: list[bytes] = []
        with open(corpus, "rb") as fh:
            for k, line in enumerate(fh):
                if k >= limit:
                    break
                batch.append(line)
                if len(batch) == 10_000:
                    futures.append(pool.submit(_floor_chunk, batch, with_clean))
                    batch = []
        if batch:
            futures.append(pool.submit(_floor_chunk, batch, with_clean))
        total = sum(f.result() for f in futures)
    return {"seconds": time.perf_counter() - t0, "docs": limit, "shingles": total}


def run_floor(corpus: Path, limit: int, jobs: int, pairs_out: Path) -> dict:
    return _floor(corpus, limit, jobs, False)


def run_floor_clean(corpus: Path, limit: int, jobs: int, pairs_out: Path) -> dict:
    return _floor(corpus, limit, jobs, True)


ANCHORS = ("rensa", "datasketch", "datatrove")
SLOW = ("datasketch", "datatrove")  # one round, on the first --datasketch-docs documents


TOOLS = {
    "samestory": run_samestory,
    "floor": run_floor,
    "floor+clean": run_floor_clean,
    "rensa": run_rensa,
    "datatrove": run_datatrove,
    "datasketch": run_datasketch,
}


def _save_pairs(path: Path, pairs: list[tuple[str, str]]) -> None:
    with open(path, "w") as fh:
        for a, b in pairs:
            fh.write(f"{a}\t{b}\n")


def _count(corpus: Path) -> int:
    with open(corpus, "rb") as fh:
        return sum(1 for _ in fh)


# --- evaluation (in the parent) ---------------------------------------------------------


def _exact_sets(corpus: Path, limit: int) -> tuple[dict[str, int], tuple[np.ndarray, np.ndarray]]:
    from samestory.clean import clean_text
    from samestory.shingle import shingle_batch

    ids, texts = [], []
    for line in _lines(corpus, limit):
        rec = json.loads(line)
        ids.append(rec["id"])
        texts.append(clean_text(rec["text"]))
    return {d: i for i, d in enumerate(ids)}, shingle_batch(texts, NGRAM)


def _brute_force(csr: tuple[np.ndarray, np.ndarray], n: int) -> set[tuple[int, int]]:
    from samestory.shingle import jaccard_batch

    sizes = np.diff(csr[1][: n + 1])
    order = np.argsort(sizes, kind="stable")
    found: set[tuple[int, int]] = set()
    for x in range(n):
        i = order[x]
        # J >= t needs |small| >= t |large|: only the next documents by size can qualify
        hi = np.searchsorted(sizes[order], sizes[i] / THRESHOLD, side="right")
        cand = order[x + 1 : hi]
        if len(cand):
            sims = jaccard_batch(csr, np.full(len(cand), i), csr, cand)
            for j in cand[sims >= THRESHOLD - 1e-12].tolist():
                found.add((min(i, j), max(i, j)))
    return found


def _evaluate(
    pairs_file: Path,
    index: dict[str, int],
    csr: tuple[np.ndarray, np.ndarray],
    injected: list[tuple[int, int]],
    sample_truth: set[tuple[int, int]],
    sample_n: int,
) -> dict:
    from samestory.cluster import components
    from samestory.shingle import jaccard_batch

    pairs = []
    with open(pairs_file) as fh:
        for line in fh:
            a, b = line.rstrip("\n").split("\t")
            pairs.append((index[a], index[b]))
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    sims = jaccard_batch(csr, arr[:, 0], csr, arr[:, 1])
    labels = components(len(index), arr)
    inj = np.array(injected, dtype=np.int64).reshape(-1, 2)
    in_sample = (arr < sample_n).all(axis=1)
    st = np.array(sorted(sample_truth), dtype=np.int64).reshape(-1, 2)
    return {
        "pairs": len(arr),
        "precision": round(float((sims >= THRESHOLD - 1e-12).mean()) if len(arr) else 1.0, 4),
        "recall_injected": round(float((labels[inj[:, 0]] == labels[inj[:, 1]]).mean()), 4),
        "precision_sample": round(
            float((sims[in_sample] >= THRESHOLD - 1e-12).mean()) if in_sample.any() else 1.0, 4
        ),
        "recall_sample": round(float((labels[st[:, 0]] == labels[st[:, 1]]).mean()), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="samestory dedup benchmark")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--anchor-docs", type=int, default=100_000, help="cap for slow anchors")
    ap.add_argument(
        "--datasketch-docs", type=int, default=20_000, help="documents for datasketch, datatrove"
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "dedup.json")
    ap.add_argument("--sample", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--pairs-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    corpus = args.data / f"corpus-{args.docs}.jsonl"
    if args.run:  # child
        out = TOOLS[args.run](corpus, args.limit, args.jobs, args.pairs_out)
        out["peak_rss_mb"] = round(_peak_mb(), 1)
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["cpu_s"] = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        print(json.dumps(out))
        return
    if not corpus.exists():
        tmp = args.data / f"tmp-{args.docs}"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_corpus.py"),
                "--docs",
                str(args.docs),
                "--out",
                str(tmp),
            ],
            check=True,
        )
        os.replace(tmp / "corpus.jsonl", corpus)
        os.replace(tmp / "truth.jsonl", args.data / f"truth-{args.docs}.jsonl")
        tmp.rmdir()
    results: dict = {
        "corpus": {"docs": args.docs, "generator": "bench/make_corpus.py --seed 7"},
        "params": {
            "ngram": NGRAM,
            "num_perm": NUM_PERM,
            "threshold": THRESHOLD,
            "bands": BANDS,
            "rows": ROWS,
            "jobs": args.jobs,
        },
        "machine": {"cpus": os.cpu_count(), "load_before": round(os.getloadavg()[0], 1)},
        "tools": {},
    }
    runs = {}
    samples: dict[str, list[dict]] = {}
    tools = args.tools.split(",")
    # rounds interleave the tools, so drifting load on the shared machine hits each alike
    for rnd in range(args.repeat):
        for tool in tools:
            if tool in SLOW and rnd > 0:
                continue  # slow and far behind: one round is enough
            limit = args.docs
            if tool in SLOW:
                limit = min(limit, args.datasketch_docs)
            elif tool == "rensa":
                limit = min(limit, args.anchor_docs)
            pairs_out = Path(tempfile.mktemp(suffix=".tsv"))
            cmd = [sys.executable, __file__, "--run", tool, "--limit", str(limit)]
            cmd += ["--docs", str(args.docs), "--data", str(args.data), "--jobs", str(args.jobs)]
            cmd += ["--pairs-out", str(pairs_out)]
            print(f"round {rnd + 1}: {tool} on {limit:,} docs ...", file=sys.stderr)
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                results["tools"][tool] = {"error": proc.stderr.strip().splitlines()[-1:]}
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            res["limit"] = limit
            samples.setdefault(tool, []).append(res)
            if tool in runs and runs[tool][1].exists():
                runs[tool][1].unlink()
            runs[tool] = (limit, pairs_out)
            print(f"  {json.dumps(res)}", file=sys.stderr)
    for tool, rs in samples.items():
        secs = float(np.median([r["seconds"] for r in rs]))
        cpu = float(np.median([r["cpu_s"] for r in rs]))
        limit = rs[0]["limit"]
        res = {k: v for k, v in rs[-1].items() if k not in ("seconds", "cpu_s", "limit")}
        res["runs"] = len(rs)
        res["seconds"] = round(secs, 2)
        res["docs_per_s"] = round(limit / secs, 1)
        # CPU seconds of the whole child (imports and warm-up included): less load-sensitive
        res["docs_per_cpu_s"] = round(limit / cpu, 1)
        res["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
        if limit < args.docs:
            res["subset"] = f"measured on the first {limit:,} documents"
        results["tools"][tool] = res
    # evaluation after every tool ran, so no child inherits this process's memory
    print("exact shingle sets for evaluation ...", file=sys.stderr)
    index, csr = _exact_sets(corpus, args.docs)
    sample_n = min(args.sample, args.docs)
    sample_truth = _brute_force(csr, sample_n)
    results["truth"] = {"sample_docs": sample_n, "sample_pairs_at_threshold": len(sample_truth)}
    truth_all = []
    with open(args.data / f"truth-{args.docs}.jsonl") as fh:
        for line in fh:
            t = json.loads(line)
            truth_all.append((index[t["a"]], index[t["b"]]))
    for tool, (limit, pairs_out) in runs.items():
        if not pairs_out.exists():
            continue
        sub_index = {k: v for k, v in index.items() if v < limit}
        injected = [
            (a, b) for a, b in truth_all if b < limit and _jac(csr, a, b) >= THRESHOLD - 1e-12
        ]
        if limit == args.docs:
            results["truth"]["injected_pairs"] = len(truth_all)
            results["truth"]["injected_pairs_at_threshold"] = len(injected)
        in_limit = {p for p in sample_truth if p[1] < limit}
        results["tools"][tool].update(
            _evaluate(pairs_out, sub_index, csr, injected, in_limit, min(sample_n, limit))
        )
        pairs_out.unlink()
    results["machine"]["load_after"] = round(os.getloadavg()[0], 1)
    _ratios(results)
    _compare_outputs(results, args.results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _compare_outputs(results: dict, previous_file: Path) -> None:
    """Flag whether samestory's outputs equal those recorded in the previous results file
    (same corpus size): speed work must not change the answers."""
    ours = results["tools"].get("samestory", {}).get("outputs_sha256")
    if not ours or not previous_file.exists():
        return
    previous = json.loads(previous_file.read_text())
    theirs = previous.get("tools", {}).get("samestory", {}).get("outputs_sha256")
    if theirs and previous.get("corpus", {}).get("docs") == results["corpus"]["docs"]:
        same = theirs == ours
        results["tools"]["samestory"]["outputs_same_as_previous_results"] = same
        if not same:
            print("WARNING: samestory's outputs differ from the previous results", file=sys.stderr)


def _jac(csr: tuple[np.ndarray, np.ndarray], a: int, b: int) -> float:
    from samestory.shingle import jaccard

    v, o = csr
    return jaccard(v[o[a] : o[a + 1]], v[o[b] : o[b + 1]])


def _ratios(results: dict) -> None:
    tools = results["tools"]
    ours = tools.get("samestory", {}).get("docs_per_s")
    if not ours:
        return
    anchors = [t["docs_per_s"] for k, t in tools.items() if k in ANCHORS and "docs_per_s" in t]
    ratios = {}
    if anchors:
        ratios["vs_fastest_anchor"] = round(ours / max(anchors), 2)
    for floor in ("floor", "floor+clean"):
        if "docs_per_s" in tools.get(floor, {}):
            ratios[f"{floor}_over_samestory"] = round(tools[floor]["docs_per_s"] / ours, 2)
    cpu = {k: t["docs_per_cpu_s"] for k, t in tools.items() if "docs_per_cpu_s" in t}
    if "samestory" in cpu:
        best = max((v for k, v in cpu.items() if k in ANCHORS), default=0)
        if best:
            ratios["per_cpu_vs_fastest_anchor"] = round(cpu["samestory"] / best, 2)
        if "floor" in cpu:
            ratios["per_cpu_floor_over_samestory"] = round(cpu["floor"] / cpu["samestory"], 2)
    results["ratios"] = ratios


if __name__ == "__main__":
    main()
