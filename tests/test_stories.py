"""Story clustering: one event's reports merge, a similar but different event stays apart."""

import importlib.util
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from samestory import embed, entities
from samestory.document import Document
from samestory.errors import SettingsError
from samestory.stories import Story, find_stories, published_date, write_stories
from samestory.story_cluster import (
    StoryConfig,
    StoryItem,
    cluster,
    pair_score,
)
from samestory.terms import number_terms, term_weights


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def _items() -> list[StoryItem]:
    # two floods that read alike (same direction) told apart by places and years
    return [
        StoryItem(
            "a1", _unit(1, 0.1, 0), keys=frozenset({"porto", "douro"}), years=frozenset({"2019"})
        ),
        StoryItem(
            "b1",
            _unit(1, 0.12, 0),
            keys=frozenset({"gdansk", "vistula"}),
            years=frozenset({"2021"}),
        ),
        StoryItem(
            "a2",
            _unit(1, 0.08, 0.02),
            keys=frozenset({"porto", "douro"}),
            years=frozenset({"2019"}),
        ),
        StoryItem("c1", _unit(0, 0, 1), keys=frozenset({"wimbledon"})),
        StoryItem(
            "b2", _unit(1, 0.11, 0.01), keys=frozenset({"gdansk"}), years=frozenset({"2021"})
        ),
    ]


CONFIG = StoryConfig(link_threshold=1.1, merge_threshold=1.1, entity_weight=0.5, time_weight=0.3)


def test_same_event_merges_similar_event_does_not():
    assert cluster(_items(), config=CONFIG) == [[0, 2], [1, 4], [3]]


def test_without_entities_the_two_floods_merge():
    items = [StoryItem(i.id, i.vector) for i in _items()]
    loose = StoryConfig(link_threshold=0.9, merge_threshold=0.9, entity_weight=0.5)
    assert cluster(items, config=loose) == [[0, 1, 2, 4], [3]]


def test_time_window_keeps_far_apart_reports_apart():
    items = _items()[:3]
    items[0].published = date(2019, 1, 1)
    items[2].published = date(2019, 3, 1)
    assert cluster(items, config=CONFIG) == [[0], [1], [2]]
    items[2].published = date(2019, 1, 3)
    assert cluster(items, config=CONFIG) == [[0, 2], [1]]


def test_deterministic_and_order_of_input_only_renumbers():
    items = _items()
    assert cluster(items, config=CONFIG) == cluster(items, config=CONFIG)
    flipped = items[::-1]
    groups = cluster(flipped, config=CONFIG)
    assert sorted(sorted(flipped[i].id for i in g) for g in groups) == [
        ["a1", "a2"],
        ["b1", "b2"],
        ["c1"],
    ]


@pytest.mark.skipif(importlib.util.find_spec("usearch") is None, reason="ann extra absent")
def test_ann_path_agrees_with_exact_search():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(30, 64))
    vectors = np.repeat(centres, 5, axis=0) + 0.15 * rng.normal(size=(150, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    items = [StoryItem(str(i), v) for i, v in enumerate(vectors)]
    exact = cluster(items, config=StoryConfig(link_threshold=0.8, merge_threshold=0.8))
    ann = cluster(
        items, config=StoryConfig(link_threshold=0.8, merge_threshold=0.8, exact_below=10)
    )
    assert exact == ann
    assert sorted(len(g) for g in exact) == [5] * 30


def test_merge_step_joins_a_story_split_by_arrival_order():
    # c joins a online; b stays alone until the merge step compares whole stories
    items = [
        StoryItem("a", _unit(1, 0, 0)),
        StoryItem("b", _unit(0.5, 1, 0)),
        StoryItem("c", _unit(1, 0.6, 0)),
    ]
    online_only = StoryConfig(link_threshold=0.85, merge_threshold=9.0)
    assert cluster(items, config=online_only) == [[0, 2], [1]]
    merged = StoryConfig(link_threshold=0.85, merge_threshold=0.6)
    assert cluster(items, config=merged) == [[0, 1, 2]]


def test_pair_score_is_symmetric():
    a, b = _items()[0], _items()[2]
    assert pair_score(a, b) == pytest.approx(pair_score(b, a))
    assert pair_score(a, b) > pair_score(a, _items()[1])


def test_number_terms_keep_figures_not_years_or_single_digits():
    text = "The 6.1 tremor on 14 March 2017 left 2,350 homeless, 7 hurt, near route A12."
    assert number_terms(text) == frozenset({"6.1", "14", "2350"})
    assert number_terms("no figures here, 3 or 4 at most, in 1999") == frozenset()


def _quakes(*figures: str) -> list[StoryItem]:
    # reports that read alike and name the same island: only the figures quoted differ
    v = _unit(1, 0.05, 0)
    return [
        StoryItem(str(i), v, keys=frozenset({"kefalonia"}), numbers=number_terms(f))
        for i, f in enumerate(figures)
    ]


def test_quoted_figures_tell_two_like_events_apart():
    items = _quakes(
        "a 5.8 quake, 12 hurt, 40 homes",
        "a 6.4 quake, 3 dead, 900 homes",
        "magnitude 5.8, 12 injured",
        "6.4 magnitude, 900 homes lost",
    )
    config = StoryConfig(link_threshold=2.9, merge_threshold=2.9, entity_weight=1.0)
    assert cluster(items, config=config) == [[0, 2], [1, 3]]
    blind = StoryConfig(link_threshold=1.9, merge_threshold=1.9, entity_weight=1.0, number_weight=0)
    assert cluster(items, config=blind) == [[0, 1, 2, 3]]
    # the merge step (no online links at all) weighs the figures the same way
    merge_only = StoryConfig(link_threshold=9.0, merge_threshold=2.9, entity_weight=1.0)
    assert cluster(items, config=merge_only) == [[0, 2], [1, 3]]
    assert pair_score(items[0], items[2], config=config) > 2.9 > pair_score(items[0], items[1])


def test_term_weights_favour_rare_words():
    w = term_weights(["flood in Porto", "flood in Gdansk", "flood in Porto again"])
    assert max(w[1], key=w[1].get) == "gdansk"
    assert "flood" not in w[0]


def test_bad_settings_and_vectors_are_refused():
    with pytest.raises(SettingsError):
        StoryConfig(neighbours=0)
    with pytest.raises(SettingsError):
        cluster([StoryItem("a", _unit(1, 0)), StoryItem("b", _unit(1, 0, 0))])


def test_published_date_and_story_output(tmp_path):
    assert published_date("2013-11-27T10:00:00Z") == date(2013, 11, 27)
    assert published_date("yesterday") is None
    story = Story("s1", ("d1", "d2"), "Porto", "2019-01-01", "2019-01-02", ("a.pt",))
    path = write_stories([story], tmp_path)
    line = json.loads(path.read_text().splitlines()[0])
    assert line["members"] == ["d1", "d2"] and line["first"] == "2019-01-01"
    assert isinstance(Document("x").id, str)


FIXTURE = Path(__file__).parent / "fixtures" / "stories.jsonl"


def _fixture_documents() -> list[Document]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return [Document(**row) for row in rows]


def _members(stories) -> list[list[str]]:
    return sorted(sorted(s.members) for s in stories)


@pytest.mark.parametrize("embeddings", [False, True])
def test_two_ferry_disasters_stay_apart_one_ferry_disasters_reports_merge(embeddings):
    if embeddings and not embed.available():
        pytest.skip("the embed extra is not installed")
    stories = find_stories(_fixture_documents(), embeddings=embeddings)
    assert _members(stories) == [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]
    ferry = next(s for s in stories if "a1" in s.members)
    assert ferry.members[0] == "a1" and ferry.first == "2018-09-20" and ferry.last == "2018-09-22"
    assert ferry.sources == ("harbourwire.example", "eastnews.example", "reuters.example")
    if entities.available():
        assert "Adela Mkwawa" in ferry.label or "Ukerewe" in ferry.label
    again = find_stories(_fixture_documents(), embeddings=embeddings)
    assert [s.to_dict() for s in again] == [s.to_dict() for s in stories]


def test_story_ids_are_stable_as_a_story_grows():
    docs = _fixture_documents()
    small = find_stories([d for d in docs if d.id != "a3"], embeddings=False)
    full = find_stories(docs, embeddings=False)
    pick = lambda stories: next(s.id for s in stories if "a1" in s.members)  # noqa: E731
    assert pick(small) == pick(full)


def test_feature_mode_is_fast_for_big_english_collections_only():
    from samestory.stories import FAST_ABOVE, feature_mode

    assert feature_mode("auto", FAST_ABOVE - 1) == "accurate"
    assert feature_mode("auto", FAST_ABOVE) == "fast"
    assert feature_mode("auto", FAST_ABOVE, model="use") == "accurate"
    assert feature_mode("accurate", 10**6) == "accurate"
    with pytest.raises(SettingsError, match="distilled from minilm"):
        feature_mode("fast", 10, model="use")
    with pytest.raises(SettingsError, match="unknown features"):
        feature_mode("quick", 10)


@pytest.mark.skipif(not embed.available(), reason="the embed extra is not installed")
def test_fast_features_keep_the_two_ferry_disasters_apart():
    # static vectors (the cached table; built on a first run) and pattern names, no spaCy
    stories = find_stories(_fixture_documents(), features="fast")
    assert _members(stories) == [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]
    ferry = next(s for s in stories if "a1" in s.members)
    assert "Adela Mkwawa" in ferry.label
    again = find_stories(_fixture_documents(), features="fast")
    assert [s.to_dict() for s in again] == [s.to_dict() for s in stories]


def test_merged_story_dots_are_the_sums_of_its_parts():
    """_merge keeps a merged story's dots with its neighbours as sums of its parts' dots:
    the score from those sums equals the score computed afresh from the merged story."""
    import random

    from samestory.story_cluster import _absorb, _dots, _join, _merge_score, _scored, _Story

    rng = random.Random(3)
    words = [f"w{i}" for i in range(30)]

    def story(members: range) -> _Story:
        s = _Story(members=[], total=np.zeros(4, dtype=np.float64))
        for i in members:
            vec = np.array([rng.random() for _ in range(4)], dtype=np.float32)
            item = StoryItem(
                f"d{i}",
                vec / np.linalg.norm(vec),
                keys=frozenset(rng.sample(words[:8], 3)),
                years=frozenset(rng.sample(["2011", "2012", "2013"], rng.randint(0, 2))),
                published=date(2024, 1, rng.randint(1, 5)),
                terms={w: rng.random() for w in rng.sample(words, 6)},
                numbers=frozenset(rng.sample(["12", "5.6", "108"], rng.randint(0, 2))),
            )
            _join(s, i, item, item.vector)
        return s

    config = StoryConfig()
    x, y, z = story(range(0, 4)), story(range(4, 7)), story(range(7, 12))
    summed = tuple(p + q for p, q in zip(_dots(x, z), _dots(y, z), strict=True))
    _absorb(x, y)
    assert _scored(summed, x, z, config) == pytest.approx(_merge_score(x, z, config), abs=1e-9)
