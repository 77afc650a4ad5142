"""Story clusters of a collection: embed, extract names, cluster (see :mod:`story_cluster`), label.

:func:`find_stories` is the whole pipeline over a list of documents (:func:`story_items`, then
:func:`group_stories`); :func:`write_stories` writes ``stories.jsonl``, one story a line.

Two sets of features (``features=``): ``accurate`` runs MiniLM over each title + lead and
spaCy NER + dateparser on it (~105 ms of CPU a document); ``fast`` sums static MiniLM
word-piece vectors (:mod:`samestory.static_embed`) and finds capitalised names and years by
pattern (:mod:`samestory.names`), a few ms a document, with its own thresholds
(:data:`~samestory.story_cluster.FAST_CONFIG`). ``auto`` (the default) takes the fast one
from :data:`FAST_ABOVE` documents on, where the accurate one would take minutes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from samestory.document import Document, text_id
from samestory.entities import Entities
from samestory.errors import SettingsError
from samestory.story_cluster import (
    FAST_CONFIG,
    LEXICAL_CONFIG,
    StoryConfig,
    StoryItem,
    cluster,
)
from samestory.terms import hashed_vectors, number_terms, term_weights

__all__ = [
    "FAST_ABOVE",
    "FEATURES",
    "Story",
    "feature_mode",
    "find_stories",
    "group_stories",
    "published_date",
    "story_items",
    "write_stories",
]

FEATURES = ("auto", "accurate", "fast")
FAST_ABOVE = 1000
"""``features="auto"`` uses the fast features from this many documents on (the accurate ones
cost ~105 ms of CPU a document: ~1 minute for 1,000 on 2 cores)."""


@dataclass(frozen=True, slots=True)
class Story:
    """One story: the documents that report one event.

    Attributes:
        id: stable id (a hash of the earliest member's id), so a story keeps its id as it grows.
        members: document ids, earliest first.
        label: the names most members mention (or the earliest title when none).
        first, last: earliest and latest publication date (ISO), "" when unknown.
        sources: the distinct outlets, in order of first report.
    """

    id: str
    members: tuple[str, ...]
    label: str
    first: str = ""
    last: str = ""
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (one line of ``stories.jsonl``)."""
        return {
            "id": self.id,
            "members": list(self.members),
            "size": len(self.members),
            "label": self.label,
            "first": self.first,
            "last": self.last,
            "sources": list(self.sources),
        }


def published_date(value: str) -> date | None:
    """The calendar date of an ISO timestamp, or None when absent or unreadable.

    Example:
        >>> published_date("2013-11-27T10:00:00Z")
        datetime.date(2013, 11, 27)
    """
    try:
        return date.fromisoformat(value.strip()[:10]) if value else None
    except ValueError:
        return None


def feature_mode(features: str, documents: int, *, model: str = "minilm") -> str:
    """``"fast"`` or ``"accurate"``: what ``features`` means for this many documents.

    Example:
        >>> feature_mode("auto", 50), feature_mode("auto", 50_000)
        ('accurate', 'fast')
    """
    if features not in FEATURES:
        raise SettingsError(f"unknown features {features!r}; choose one of {FEATURES}")
    if features == "auto":
        return "fast" if documents >= FAST_ABOVE and model == "minilm" else "accurate"
    if features == "fast" and model != "minilm":
        raise SettingsError(
            f"the fast features are distilled from minilm; use features='accurate' with {model!r}"
        )
    return features


def story_items(
    documents: Sequence[Document],
    *,
    model: str = "minilm",
    lead_words: int = 200,
    use_entities: bool | None = None,
    embeddings: bool | None = None,
    features: str = "auto",
) -> tuple[list[StoryItem], list[Entities]]:
    """What clustering needs of each document, and the names found (for labels).

    Title + lead (``lead_words`` words) is embedded and searched for names and dates; tf-idf
    terms of the whole text are weighted over this collection. Without embeddings
    (``embeddings=False``, or the ``embed`` extra absent) the vectors are hashed tf-idf
    terms: same words, not same meaning (cluster them with :data:`LEXICAL_CONFIG`).
    ``features`` picks MiniLM + spaCy (``"accurate"``) or static vectors + pattern names
    (``"fast"``); see :func:`feature_mode`.

    Raises:
        MissingDependency: the ``embed`` extra (or ``nlp``, when asked for) is missing.
        SettingsError: unknown ``features``, or ``"fast"`` with another model than minilm.
    """
    from samestory import embed, entities
    from samestory.names import quick_entities

    fast = feature_mode(features, len(documents), model=model) == "fast"
    leads = [embed.lead(d.text, title=d.title, max_words=lead_words) for d in documents]
    if use_entities is None:
        use_entities = fast or entities.available()
    if not use_entities:
        names = [entities.Entities() for _ in documents]
    elif fast:
        names = [quick_entities(lead) for lead in leads]
    else:
        names = entities.extract_many(leads, published=[d.published for d in documents])
    keys = [n.keys() for n in names]
    # words are cheap to count: weigh the whole text (names come from the lead only, for speed)
    terms = term_weights([f"{d.title}\n{d.text}" for d in documents], names=keys)
    if embeddings is None:
        embeddings = embed.available(model)
    if embeddings and fast:
        from samestory.static_embed import StaticEmbedder

        vectors = StaticEmbedder(max_words=lead_words).embed(leads)
    elif embeddings:
        vectors = embed.Embedder(model=model, max_words=lead_words).embed(leads)
    else:
        vectors = hashed_vectors(terms)
    items = []
    for i, d in enumerate(documents):
        published = published_date(d.published)
        years = {x[:4] for x in names[i].dates}
        if published is not None:
            # "on Friday" resolves to the publication year, which every report of that week
            # shares: the time window compares publication dates already
            years.discard(f"{published.year:04d}")
        items.append(
            StoryItem(
                d.id,
                vectors[i],
                keys=keys[i],
                years=frozenset(years),
                published=published,
                terms=terms[i],
                numbers=number_terms(f"{d.title}\n{d.text}"),
            )
        )
    return items, names


def find_stories(
    documents: Sequence[Document],
    *,
    config: StoryConfig | None = None,
    model: str = "minilm",
    lead_words: int = 200,
    use_entities: bool | None = None,
    embeddings: bool | None = None,
    features: str = "auto",
) -> list[Story]:
    """Story clusters of a collection: embed, extract names, cluster, label.

    Args:
        documents: the articles.
        config: clustering settings (default: tuned on ECB+ train+dev for the features
            used: ``StoryConfig()``, ``FAST_CONFIG``, without embeddings ``LEXICAL_CONFIG``).
        model: embedding model (``"minilm"`` English, ``"use"`` multilingual).
        lead_words: words of title + text that are embedded and searched for names.
        use_entities: use named entities (None: the fast pattern names, or with accurate
            features spaCy's when the ``nlp`` extra is installed).
        embeddings: use the embedding model (None: when the ``embed`` extra is installed).
        features: ``"auto"``, ``"accurate"`` or ``"fast"`` (see :func:`feature_mode`).

    Raises:
        MissingDependency: the ``embed`` or ``nlp`` extra was asked for and is missing.
        SettingsError: unknown ``features``, or ``"fast"`` with another model than minilm.
    """
    from samestory import embed

    if not documents:
        return []
    if embeddings is None:
        embeddings = embed.available(model)
    mode = feature_mode(features, len(documents), model=model)
    if config is None:
        config = (
            (FAST_CONFIG if mode == "fast" else StoryConfig()) if embeddings else LEXICAL_CONFIG
        )
    items, names = story_items(
        documents,
        model=model,
        lead_words=lead_words,
        use_entities=use_entities,
        embeddings=embeddings,
        features=mode,
    )
    return group_stories(documents, items, names, config=config)


def group_stories(
    documents: Sequence[Document],
    items: Sequence[StoryItem],
    names: Sequence[Entities],
    *,
    config: StoryConfig,
) -> list[Story]:
    """Cluster the :func:`story_items` of ``documents`` and label each story."""
    from samestory.entities import top_names

    out = []
    for group in cluster(items, config=config):
        group = sorted(group, key=lambda i: (items[i].published or date.min, i))
        dates = sorted(str(items[i].published) for i in group if items[i].published)
        label = ", ".join(top_names([names[i] for i in group], n=3))
        first = documents[group[0]]
        sources = (documents[i].source for i in group if documents[i].source)
        out.append(
            Story(
                id="s" + text_id(first.id)[:12],
                members=tuple(documents[i].id for i in group),
                label=label or first.title or " ".join(first.text.split()[:8]),
                first=dates[0] if dates else "",
                last=dates[-1] if dates else "",
                sources=tuple(dict.fromkeys(sources)),
            )
        )
    return out


def write_stories(stories: Sequence[Story], out_dir: str | Path) -> Path:
    """Write ``stories.jsonl`` (one story a line) into ``out_dir``; returns its path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stories.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for story in stories:
            fh.write(json.dumps(story.to_dict(), ensure_ascii=False) + "\n")
    return path
