"""Story clustering: reports of one event grouped online, within a time window, then merged.

Each document arrives with a unit vector (its embedding), the normalised names it mentions
(:meth:`samestory.entities.Entities.keys`), the years or dates it mentions, and its
publication date when known. Documents are taken in (publication date, input order) order.

1. **Candidates**: the ``neighbours`` nearest earlier documents by cosine — exact, a block of
   256 documents per BLAS product against their window, while the window holds fewer than
   ``exact_below`` documents, a usearch HNSW index above — and
   the stories they belong to; stories whose last report is more than ``window_days`` older
   than the new document are closed and never candidates.
2. **Link**: the same-story score of a document against a story is an average link over its
   members, computed from running sums so it costs O(1) in the story size:
   ``semantic + entity_weight * entities + time_weight * time + number_weight * numbers``
   where semantic is the mean cosine to the members, entities the mean share of the
   document's names each member also names, time the agreement of mentioned years (+1
   shared, -1 disjoint, 0 unknown) and numbers the mean cosine of the sets of figures quoted
   (:func:`samestory.terms.number_terms`: tolls, magnitudes, sums, days of the month). The
   document joins the best story scoring at least ``link_threshold``, else starts its own.
3. **Merge**: stories whose average-link score reaches ``merge_threshold`` are merged, best
   pair first, until none is left (an online pass can split a story whose first reports
   were far apart in wording).
4. **Attach**: a story still of one document joins its best neighbouring story of several
   documents when their score reaches ``attach_threshold`` (lower than the merge threshold: a
   lone report of an event is rarer than a stray one of a bigger story).

Why embeddings alone mislead: two different events of one kind (two earthquakes, two actors
entering rehab) get a MiniLM cosine of 0.52 on average on ECB+ train, against 0.75 for two
reports of one event, so names, words and years must be able to outvote it. Their weights are
fit on ECB+ train pairs rather than set by hand: names weigh 1.8 cosines, a year in common
+0.75 and disjoint years -0.75, the same figures 1.95 (averaged over the story's members).
Figures are the cheapest evidence that two like events differ: the 5.6 quake that hurt five
and the 5.9 quake that killed ten, the $108 million heist and the 2 million euro one.

The same inputs and settings give the same stories. Thresholds come from ECB+ train+dev
(see :mod:`samestory.evaluate_stories`); nothing was tuned on test topics.
"""

from __future__ import annotations

import hashlib
import heapq
import importlib.util
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from samestory.errors import MissingDependency, SettingsError


@dataclass(frozen=True, slots=True)
class StoryConfig:
    """Settings of story clustering.

    Attributes:
        link_threshold: the score a document needs to join a story.
        merge_threshold: the score two stories need to merge.
        entity_weight: weight of shared names in the score.
        time_weight: weight of agreement between mentioned years.
        lexical_weight: weight of the tf-idf cosine of the words (see :func:`term_weights`).
        window_days: a story takes no report published more than this many days after its last.
        neighbours: nearest earlier documents whose stories are candidates.
        exact_below: exact (BLAS) neighbour search while the time window holds fewer documents,
            usearch above (exact blocks cost ~0.4 ms of CPU a document at a 13k window,
            measured: less than adding to and searching an HNSW graph).
        attach_threshold: after merging, a one-document story joins its best neighbouring
            story of several documents scoring at least this (None: never).
        number_weight: weight of the cosine of the figures quoted (:func:`number_terms`).
    """

    # weights: a logistic regression of same-event on (cosine, tf-idf, names, years, figures)
    # over the within-topic pairs of ECB+ train, divided by the cosine's coefficient;
    # thresholds: the best of evaluate_stories.GRID on ECB+ train+dev clustering (never the
    # test topics)
    link_threshold: float = 2.8
    merge_threshold: float = 2.2
    entity_weight: float = 1.8
    time_weight: float = 0.75
    lexical_weight: float = 5.0
    window_days: float = 7.0
    neighbours: int = 20
    exact_below: int = 50_000
    attach_threshold: float | None = 1.0
    number_weight: float = 1.95

    def __post_init__(self) -> None:
        if self.neighbours < 1:
            raise SettingsError(f"neighbours must be at least 1, got {self.neighbours}")
        if self.window_days <= 0:
            raise SettingsError(f"window_days must be positive, got {self.window_days}")
        if self.exact_below < 1:
            raise SettingsError(f"exact_below must be at least 1, got {self.exact_below}")

    def fingerprint(self) -> str:
        payload = json.dumps({"type": "StoryConfig", **asdict(self)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# without embeddings (vectors = hashed tf-idf): the same weights, thresholds the best of
# link 1.8-3.0, merge 1.4-2.0, attach None/0.6-1.0 on ECB+ train+dev (the semantic term is
# then a second lexical cosine, so the scale is lower)
LEXICAL_CONFIG = StoryConfig(link_threshold=2.8, merge_threshold=1.6, attach_threshold=0.6)

# the weights from before quoted figures joined the score (the same regression without them),
# kept by the settings whose thresholds were tuned with them
WEIGHTS_BEFORE_FIGURES: dict[str, float] = {
    "entity_weight": 1.3,
    "time_weight": 0.6,
    "lexical_weight": 4.4,
    "number_weight": 0.0,
}

# the fast features (static MiniLM word-piece vectors, pattern names and years): the weights
# from before figures (refit with figures, the best of FAST_GRID on ECB+ train+dev falls from
# 0.935 to 0.901: the flatter static cosines leave figures too much say); thresholds the best
# of evaluate_stories.FAST_GRID on ECB+ train+dev with these weights
FAST_CONFIG = StoryConfig(
    link_threshold=2.2, merge_threshold=2.0, attach_threshold=0.8, **WEIGHTS_BEFORE_FIGURES
)

# the index's incremental stories: no names or years (no NER at add time) and no merge step;
# the weights from before figures, link threshold the best of 0.8-1.6 on ECB+ train+dev
# clustered so (0.857)
INDEX_CONFIG = StoryConfig(link_threshold=1.1, **(WEIGHTS_BEFORE_FIGURES | {"entity_weight": 0.0}))


@dataclass(slots=True)
class StoryItem:
    """What story clustering needs of one document.

    Attributes:
        id: the document id.
        vector: its L2-normalised embedding.
        keys: normalised names it mentions.
        years: years it mentions ("2013"), for time agreement.
        published: its publication date, if known.
        terms: tf-idf weights of its words (:func:`term_weights`).
        numbers: the figures it quotes (:func:`number_terms`).
    """

    id: str
    vector: np.ndarray
    keys: frozenset[str] = frozenset()
    years: frozenset[str] = frozenset()
    published: date | None = None
    terms: dict[str, float] = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Story:
    members: list[int]
    total: np.ndarray
    keys: Counter[str] = field(default_factory=Counter)
    terms: dict[str, float] = field(default_factory=dict)
    years: Counter[str] = field(default_factory=Counter)
    with_years: int = 0
    numbers: dict[str, float] = field(default_factory=dict)
    first: date | None = None
    last: date | None = None


class _Neighbours:
    """Nearest earlier rows of each row among rows ``lo[p]:p`` (its open time window).

    All vectors are known before the online pass (only the stories depend on the order of
    joining), so neighbours are found a block of ``_BLOCK`` rows at a time: one matrix
    product of the block against its window (BLAS), masked to each row's own window, while
    the window holds fewer than ``exact_below`` rows; above that, a usearch HNSW index of the
    rows so far (added a block at a time), its hits outside the row's window dropped.
    """

    def __init__(self, rows: np.ndarray, lo: Sequence[int], *, k: int, exact_below: int) -> None:
        self.rows = rows
        self.lo = lo
        self.k = k
        self.exact_below = exact_below
        self._start = self._end = 0
        self._found: list[list[int]] = []
        self._ann: object | None = None
        self._added = 0

    def search(self, p: int) -> list[int]:
        if not self._start <= p < self._end:
            self._start, self._end = p, min(p + _BLOCK, len(self.rows))
            if self._end - self.lo[p] < self.exact_below:
                self._found = self._exact(p, self._end)
            else:
                self._found = self._approximate(p, self._end)
        return self._found[p - self._start]

    def _exact(self, start: int, end: int) -> list[list[int]]:
        first = self.lo[start]  # windows only move forward: the block's widest starts here
        sims = self.rows[start:end] @ self.rows[first:end].T
        out = []
        for r, row in enumerate(sims):
            p = start + r
            lo, hi = self.lo[p] - first, p - first  # this row's window: columns lo:hi
            if hi <= lo:
                out.append([])
                continue
            window = row[lo:hi]
            if hi - lo <= self.k:
                top = np.arange(hi - lo)
            else:
                top = np.argpartition(-window, self.k)[: self.k]
            top = top[np.lexsort((top, -window[top]))]
            out.append([first + lo + int(c) for c in top])
        return out

    def _approximate(self, start: int, end: int) -> list[list[int]]:
        # rows before the block from the HNSW index, rows inside it exactly
        if self._ann is None:
            self._ann = _usearch(self.rows.shape[1])
        if self._added < start:
            keys = np.arange(self._added, start, dtype=np.uint64)
            self._ann.add(keys, self.rows[self._added : start], threads=1)  # type: ignore[attr-defined]
            self._added = start
        block = self.rows[start:end]
        found = self._ann.search(block, min(self.k, start), threads=1) if start else None  # type: ignore[attr-defined]
        inner = block @ block.T
        out = []
        for r in range(end - start):
            p = start + r
            hits = found.keys[r][: found.counts[r]] if found is not None else ()
            near = [int(j) for j in hits if int(j) >= self.lo[p]]
            sims = [float(self.rows[j] @ block[r]) for j in near]
            for j in range(max(start, self.lo[p]), p):
                near.append(j)
                sims.append(float(inner[r, j - start]))
            best = sorted(range(len(near)), key=lambda c: (-sims[c], near[c]))[: self.k]
            out.append([near[c] for c in best])
        return out


_BLOCK = 256


def _usearch(dim: int) -> object:
    # onnxruntime 1.32 segfaults on import once usearch 2.26's numkong is loaded; the other
    # order works, so load it first when it is installed (embeddings may come later)
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime  # noqa: F401
    try:
        from usearch.index import Index
    except ImportError:
        raise MissingDependency("usearch", "ann") from None
    return Index(ndim=dim, metric="cos", dtype="f32", connectivity=16, expansion_add=128)


def _year_score(years: frozenset[str], story: _Story) -> float:
    # average over the members of +1 (a year in common), -1 (both dated, none in common), 0
    if not years or not story.with_years:
        return 0.0
    shared = min(sum(story.years[y] for y in years), story.with_years)
    return (2.0 * shared - story.with_years) / len(story.members)


def _link_score(item: StoryItem, story: _Story, config: StoryConfig) -> float:
    n = len(story.members)
    semantic = float(item.vector @ story.total) / n
    entities = 0.0
    if item.keys:
        entities = sum(story.keys[k] for k in item.keys) / (n * len(item.keys))
    lexical = 0.0
    if config.lexical_weight and item.terms:
        lexical = sum(w * story.terms.get(t, 0.0) for t, w in item.terms.items()) / n
    numbers = 0.0
    if config.number_weight and item.numbers:
        numbers = sum(story.numbers.get(x, 0.0) for x in item.numbers) / (
            math.sqrt(len(item.numbers)) * n
        )
    return (
        semantic
        + config.lexical_weight * lexical
        + config.entity_weight * entities
        + config.time_weight * _year_score(item.years, story)
        + config.number_weight * numbers
    )


def _merge_score(a: _Story, b: _Story, config: StoryConfig) -> float:
    return _scored(_dots(a, b), a, b, config)


# the raw sums behind a merge score: (total·total, shared names, shared years, tf-idf dot,
# figures dot) of two stories. Each is a dot product of sums over members, so the dots of a
# merged story with a third are the sums of its two parts' dots with it (see _merge).
_Dots = tuple[float, float, float, float, float]


def _dots(a: _Story, b: _Story) -> _Dots:
    def dot(x: Mapping[str, float], y: Mapping[str, float]) -> float:
        small, big = (x, y) if len(x) <= len(y) else (y, x)
        return float(sum(w * big[k] for k, w in small.items() if k in big))

    return (
        float(a.total @ b.total),
        dot(a.keys, b.keys),
        dot(a.years, b.years),
        dot(a.terms, b.terms),
        dot(a.numbers, b.numbers),
    )


def _scored(dots: _Dots, a: _Story, b: _Story, config: StoryConfig) -> float:
    """The average-link score of two stories from their dots (:func:`_dots`)."""
    semantic, shared, common, lexical, numbers = dots
    pairs = len(a.members) * len(b.members)
    mass = sum(a.keys.values()) * len(b.members) + sum(b.keys.values()) * len(a.members)
    entities = 2.0 * shared / mass if mass else 0.0
    years = 0.0
    if a.with_years and b.with_years:
        dated = a.with_years * b.with_years
        years = (2.0 * min(common, dated) - dated) / pairs
    return (
        semantic / pairs
        + config.lexical_weight * lexical / pairs
        + config.entity_weight * entities
        + config.time_weight * years
        + config.number_weight * numbers / pairs
    )


def pair_score(a: StoryItem, b: StoryItem, *, config: StoryConfig | None = None) -> float:
    """The same-story score of two documents: the link score of one against a story of the other.

    Example:
        >>> v = np.array([1.0, 0.0], dtype=np.float32)
        >>> round(pair_score(StoryItem("a", v, keys=frozenset({"reid"})),
        ...                  StoryItem("b", v, keys=frozenset({"reid"}))), 2)
        2.8
    """
    config = config or StoryConfig()
    story = _Story(members=[], total=np.zeros(len(b.vector), dtype=np.float64))
    _join(story, 0, b, np.asarray(b.vector, dtype=np.float32))
    forward = _link_score(a, story, config)
    story = _Story(members=[], total=np.zeros(len(a.vector), dtype=np.float64))
    _join(story, 0, a, np.asarray(a.vector, dtype=np.float32))
    return (forward + _link_score(b, story, config)) / 2


def link_score(
    item: StoryItem, members: Sequence[StoryItem], *, config: StoryConfig | None = None
) -> float | None:
    """The score with which :func:`cluster` lets a document join a story of ``members``.

    The one decision rule of batch and incremental (:mod:`samestory.story_table`) story
    assignment: the average link over the members, or None when the story's last report is
    more than ``window_days`` away (closed). The document joins at ``config.link_threshold``.

    Example:
        >>> v = np.array([1.0, 0.0], dtype=np.float32)
        >>> link_score(StoryItem("a", v), [StoryItem("b", v)])
        1.0
    """
    config = config or StoryConfig()
    if not members:
        return None
    story = _Story(members=[], total=np.zeros(len(item.vector), dtype=np.float64))
    for i, member in enumerate(members):
        _join(story, i, member, np.asarray(member.vector, dtype=np.float32))
    if _gap_days(item.published, story.last) > config.window_days:
        return None
    return _link_score(item, story, config)


def _gap_days(a: date | None, b: date | None) -> float:
    if a is None or b is None:
        return 0.0
    return abs((a - b).days)


def cluster(items: Sequence[StoryItem], *, config: StoryConfig | None = None) -> list[list[int]]:
    """Group documents into stories.

    Args:
        items: one :class:`StoryItem` per document (vectors all of one length).
        config: thresholds and weights; defaults to :class:`StoryConfig`.

    Returns:
        Stories as lists of indices into ``items``, each sorted, ordered by their first index.

    Example:
        >>> v = np.eye(3, dtype=np.float32)
        >>> items = [StoryItem("a", v[0]), StoryItem("b", v[0]), StoryItem("c", v[1])]
        >>> cluster(items, config=StoryConfig(link_threshold=0.9, merge_threshold=0.9))
        [[0, 1], [2]]
    """
    config = config or StoryConfig()
    if not items:
        return []
    dim = int(np.asarray(items[0].vector).shape[-1])
    order = sorted(range(len(items)), key=lambda i: (items[i].published or date.min, i))
    rows = np.zeros((len(order), dim), dtype=np.float32)
    lo = [0] * len(order)  # per row, the first row inside its time window
    start = 0
    for p, i in enumerate(order):
        item = items[i]
        vec = np.asarray(item.vector, dtype=np.float32)
        if vec.shape != (dim,):
            raise SettingsError(f"document {item.id!r} has a vector of shape {vec.shape}")
        rows[p] = vec
        when = item.published
        while (
            start < p
            and when is not None
            and _gap_days(when, items[order[start]].published) > config.window_days
        ):
            start += 1
        lo[p] = start
    index = _Neighbours(rows, lo, k=config.neighbours, exact_below=config.exact_below)
    story_of: dict[int, int] = {}
    stories: list[_Story] = []
    for p, i in enumerate(order):
        item = items[i]
        best, best_score = -1, config.link_threshold
        candidates = sorted({story_of[order[r]] for r in index.search(p)})
        for s in candidates:
            story = stories[s]
            if _gap_days(item.published, story.last) > config.window_days:
                continue
            score = _link_score(item, story, config)
            if score >= best_score:
                best, best_score = s, score
        if best < 0:
            best = len(stories)
            stories.append(_Story(members=[], total=np.zeros(dim, dtype=np.float64)))
        _join(stories[best], i, item, rows[p])
        story_of[i] = best
    groups = _merge(stories, config)
    return sorted((sorted(g) for g in groups), key=lambda g: g[0])


def _join(story: _Story, i: int, item: StoryItem, vec: np.ndarray) -> None:
    story.members.append(i)
    story.total += vec
    story.keys.update(item.keys)
    _add_terms(story.terms, item.terms)
    if item.numbers:
        _add_terms(story.numbers, dict.fromkeys(item.numbers, 1.0 / math.sqrt(len(item.numbers))))
    if item.years:
        story.years.update(item.years)
        story.with_years += 1
    if item.published is not None:
        story.first = min(story.first or item.published, item.published)
        story.last = max(story.last or item.published, item.published)


def _knn(unit: np.ndarray, k: int, *, exact_below: int) -> list[list[int]]:
    """The ``k`` nearest other rows of each row (cosine), exact or through usearch."""
    n = len(unit)
    k = min(k, n - 1)
    if k < 1:
        return [[] for _ in range(n)]
    if n >= exact_below:
        ann = _usearch(unit.shape[1])
        ann.add(np.arange(n, dtype=np.uint64), unit, threads=1)  # type: ignore[attr-defined]
        found = ann.search(unit, k + 1, threads=1)  # type: ignore[attr-defined]
        return [[int(j) for j in row if int(j) != i][:k] for i, row in enumerate(found.keys)]
    out: list[list[int]] = []
    for start in range(0, n, 1024):
        sims = unit[start : start + 1024] @ unit.T
        for r, row in enumerate(sims):
            row[start + r] = -np.inf
            top = np.argpartition(-row, k - 1)[:k]
            out.append([int(j) for j in top[np.lexsort((top, -row[top]))]])
    return out


def _add_terms(total: dict[str, float], terms: dict[str, float]) -> None:
    for t, w in terms.items():
        total[t] = total.get(t, 0.0) + w


def _merge(stories: list[_Story], config: StoryConfig) -> list[list[int]]:
    """Greedy best-pair-first merging by average link, over neighbouring story centroids."""
    n = len(stories)
    cent = np.stack([s.total / len(s.members) for s in stories]).astype(np.float32)
    unit = cent / np.clip(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12, None)
    near: list[set[int]] = [set() for _ in range(n)]
    for a, row in enumerate(_knn(unit, config.neighbours, exact_below=config.exact_below)):
        for b in row:
            near[a].add(b)
            near[b].add(a)
    version = [0] * n
    alive = [True] * n
    heap: list[tuple[float, int, int, int, int]] = []
    # the dots of neighbouring live stories, kept up to date as they merge: a merged story's
    # dots with a neighbour are the sums of its parts' (no pass over a big story's words)
    cache: dict[tuple[int, int], _Dots] = {}

    def dots(x: int, y: int) -> _Dots:
        key = (x, y) if x < y else (y, x)
        if key not in cache:
            cache[key] = _dots(stories[x], stories[y])
        return cache[key]

    def push(x: int, y: int) -> None:
        x, y = min(x, y), max(x, y)
        if not _overlap_in_time(stories[x], stories[y], config):
            return
        score = _scored(dots(x, y), stories[x], stories[y], config)
        if score >= config.merge_threshold:
            heapq.heappush(heap, (-score, x, y, version[x], version[y]))

    for a in range(n):
        for b in sorted(near[a]):
            if a < b:
                push(a, b)
    while heap:
        _, x, y, vx, vy = heapq.heappop(heap)
        if not (alive[x] and alive[y]) or version[x] != vx or version[y] != vy:
            continue
        summed = {
            z: tuple(p + q for p, q in zip(dots(x, z), dots(y, z), strict=True))
            for z in (near[x] | near[y]) - {x, y}
            if alive[z]
        }
        _absorb(stories[x], stories[y])
        alive[y] = False
        version[x] += 1
        for z, value in summed.items():
            cache[(x, z) if x < z else (z, x)] = value  # type: ignore[assignment]
        near[x] = (near[x] | near[y]) - {x, y}
        for z in near[y]:
            near[z].discard(y)
            if z != x:
                near[z].add(x)
        for z in sorted(near[x]):
            if alive[z]:
                push(x, z)
    if config.attach_threshold is not None:
        for s in range(n):
            if not alive[s] or len(stories[s].members) > 1:
                continue
            best, best_score = -1, config.attach_threshold
            for z in sorted(near[s]):
                if (
                    alive[z]
                    and len(stories[z].members) > 1
                    and _overlap_in_time(stories[s], stories[z], config)
                ):
                    score = _merge_score(stories[s], stories[z], config)
                    if score >= best_score:
                        best, best_score = z, score
            if best >= 0:
                _absorb(stories[best], stories[s])
                alive[s] = False
    return [stories[s].members for s in range(n) if alive[s]]


def _absorb(kept: _Story, gone: _Story) -> None:
    kept.members.extend(gone.members)
    kept.total += gone.total
    kept.keys.update(gone.keys)
    _add_terms(kept.terms, gone.terms)
    _add_terms(kept.numbers, gone.numbers)
    kept.years.update(gone.years)
    kept.with_years += gone.with_years
    for d in (gone.first, gone.last):
        if d is not None:
            kept.first = min(kept.first or d, d)
            kept.last = max(kept.last or d, d)


def _overlap_in_time(a: _Story, b: _Story, config: StoryConfig) -> bool:
    if a.first is None or b.first is None or a.last is None or b.last is None:
        return True
    gap = max((a.first - b.last).days, (b.first - a.last).days, 0)
    return gap <= config.window_days
