"""Clustering metrics on hand-computed examples, and the dataset readers on the real files."""

from pathlib import Path

import pytest

from samestory.errors import InputError
from samestory.evaluate_stories import (
    adjusted_rand_index,
    b_cubed,
    cluster_scores,
    eval_semeval_scores,
    labels_of,
    normalized_mutual_info,
    pearson,
    read_ecbplus,
    read_googlenews,
    read_semeval,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_b_cubed_by_hand():
    # gold {a,b},{c,d}; predicted {a,b,c},{d}
    # precision: a,b,c each 2/3 or 1/3 ... = (2/3 + 2/3 + 1/3 + 1) / 4 = 0.6667
    # recall: a,b 1; c 1/2; d 1/2 -> 0.75
    p, r, f = b_cubed(["x", "x", "y", "y"], [0, 0, 0, 1])
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(0.75)
    assert f == pytest.approx(2 * p * r / (p + r))
    assert b_cubed([1, 1, 2], [7, 7, 9]) == (1.0, 1.0, 1.0)


def test_ari_and_nmi_by_hand():
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    # all in one predicted cluster: no better than chance
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 0, 0]) == pytest.approx(0.0)
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(
        (2 - 6 * 3 / 15) / ((6 + 3) / 2 - 6 * 3 / 15)  # index 2, rows 6, cols 3, pairs 15
    )
    assert normalized_mutual_info([0, 0, 1, 1], [3, 3, 4, 4]) == pytest.approx(1.0)
    assert normalized_mutual_info([0, 1, 0, 1], [0, 0, 1, 1]) == pytest.approx(0.0, abs=1e-12)


def test_pearson_and_labels():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [1, 1, 1]) == 0.0
    assert labels_of([[2, 0], [1]], 3) == [0, 1, 0]
    scores = cluster_scores([0, 0, 1], [5, 5, 6])
    assert scores["b3_f1"] == 1.0 and scores["clusters"] == 2.0


def test_semeval_sign_follows_their_scale():
    rows = [
        {
            "Overall": o,
            "lang1": "en",
            "lang2": "en",
            "machine_translated_augmentation": "False",
            "likely_back_translated_heuristic": "False",
        }
        for o in ("1.0", "2.5", "4.0")
    ]
    # our high score = similar = their low Overall: a positive r
    out = eval_semeval_scores(rows, [0.9, 0.5, 0.1])
    assert out["pearson"] == pytest.approx(1.0) and out["pearson_en"] == pytest.approx(1.0)


def test_missing_data_names_the_file(tmp_path):
    with pytest.raises(InputError, match=r"docs\.jsonl"):
        read_ecbplus(tmp_path)
    (tmp_path / "docs.jsonl").write_text('{"doc_id": "1"}\n{broken\n')
    with pytest.raises(InputError, match=r"docs\.jsonl:2"):
        read_ecbplus(tmp_path)


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent (evaluation data)")
def test_real_datasets_read_with_their_documented_counts():
    docs = read_ecbplus(DATA / "ecbplus")
    assert len(docs) == 982
    assert len({d["event_cluster"] for d in docs if d["split"] == "test"}) == 20
    texts, labels = read_googlenews(DATA / "googlenews_t152")
    # SOURCE.md says 11,109 lines; both files hold 11,108 (newline-terminated)
    assert len(texts) == len(labels) == 11108 and len(set(labels)) == 152
    assert len(read_semeval(DATA / "semeval2022_task8_sample")) == 2560
