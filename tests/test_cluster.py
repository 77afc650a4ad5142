"""Union-find clusters and the representative rule."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from samestory.cluster import components, parse_date, reference_components, representatives


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
        )
    )
)
def test_components_equal_reference(case):
    n, edges = case
    pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
    assert components(n, pairs).tolist() == reference_components(n, pairs).tolist()


def test_chain_is_one_cluster_labelled_by_its_first_member():
    labels = components(6, np.array([[4, 5], [2, 4], [0, 1]]))
    assert labels.tolist() == [0, 0, 2, 3, 2, 2]


def test_representative_is_earliest_date_else_longest_text():
    labels = np.array([0, 0, 0, 3, 3, 5])
    dates = np.array([30.0, 10.0, math.nan, math.nan, math.nan, 1.0])
    lengths = np.array([500, 10, 900, 40, 60, 5])
    roots, kept, by_date = representatives(labels, dates, lengths)
    assert roots.tolist() == [0, 3]  # the singleton 5 is no cluster
    assert kept.tolist() == [1, 4]
    assert by_date.tolist() == [True, False]


def test_ties_go_to_the_longest_then_the_first():
    labels = np.array([0, 0, 0])
    _, kept, _ = representatives(labels, np.array([5.0, 5.0, 5.0]), np.array([3, 8, 8]))
    assert kept.tolist() == [1]


def test_parse_date_forms():
    iso = parse_date("1987-02-26T15:01:01Z")
    assert parse_date("26-FEB-1987 15:01:01.00") == iso
    assert parse_date("Thu, 26 Feb 1987 15:01:01 +0000") == iso
    assert parse_date("1987-02-26 15:01:01") == iso
    assert math.isnan(parse_date("next tuesday"))
    assert math.isnan(parse_date("31-FEB-1987"))
