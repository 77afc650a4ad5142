"""The plain values that flow between stages. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import xxhash


def text_id(text: str) -> str:
    """A stable 16-hex-digit id for a text (xxh3-64 of its UTF-8 bytes)."""
    return xxhash.xxh3_64_hexdigest(text.encode("utf-8", "surrogatepass"))


@dataclass(slots=True)
class Document:
    """One article as given by the user.

    The id is stable: the one given, else a hash of source+url, else a hash of the text.
    ``lang`` is the ISO 639-1 code given, else the one detected from the text
    (``samestory.language``; "" when the text is too short to tell).

    Example:
        >>> Document("Storm hits coast.", title="Storm").id == Document("Storm hits coast.").id
        True
        >>> Document("Der Sturm hat am Montag die Küste der Insel getroffen.").lang
        'de'
    """

    text: str
    id: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""
    lang: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.lang:
            from samestory.language import detect_language

            self.lang = detect_language(self.text)
        if not self.id:
            if self.url:
                self.id = text_id(f"{self.source}\x00{self.url}")
            else:
                self.id = text_id(self.text)


# --- compare values ----------------------------------------------------------------------

VERDICTS = ("duplicate", "reuse", "rewrite", "same-story", "related", "unrelated")
"""The six verdicts, from the closest relation to none."""

SCHEMA_VERSION = 1
"""Version of the JSON schema written by :meth:`Comparison.to_dict`."""


@dataclass(slots=True, frozen=True)
class Span:
    """A [start, end) character span of an original text, with the text it slices."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"span": [self.start, self.end], "text": self.text}


@dataclass(slots=True, frozen=True)
class Passage:
    """A passage the two texts share.

    ``a_span`` and ``b_span`` are [start, end) offsets into the ORIGINAL texts, and
    ``a_text == original_a[a_span[0]:a_span[1]]`` (likewise for b).

    Attributes:
        kind: "verbatim" (a shared word run, tolerant to small edits) or "paraphrase"
            (a sentence pair that says the same in other words).
        a_span, b_span: the passage in each original text.
        a_text, b_text: the original characters of each span.
        score: for verbatim, the share of the passage's words that match exactly; for
            paraphrase, the paraphrase score of the sentence pair.
    """

    kind: str
    a_span: tuple[int, int]
    b_span: tuple[int, int]
    a_text: str
    b_text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "a_span": list(self.a_span),
            "b_span": list(self.b_span),
            "a_text": self.a_text,
            "b_text": self.b_text,
            "score": round(self.score, 4),
        }


@dataclass(slots=True, frozen=True)
class Scores:
    """The named scores of a comparison, each in [0, 1].

    ``entities``, ``place`` and ``time`` are ``None`` when a side gives no evidence (no names,
    no place, no date), which is different from disagreeing (0.0).

    Attributes:
        jaccard: Jaccard similarity of the word-shingle sets.
        containment_a: share of a's shingles found in b (1.0: a is contained in b).
        containment_b: share of b's shingles found in a.
        verbatim_a, verbatim_b: share of each side's words inside verbatim passages.
        paraphrase_a, paraphrase_b: share of each side's words inside paraphrase passages
            (and not already verbatim).
        aligned_a, aligned_b: share of each side's words inside any passage.
        semantic: document similarity (``samestory.similarity.document_similarity``).
        lexical: overlap of content words, weighted by how rare each word is in the language.
        entities: overlap of names and numbers.
        place: agreement of the places named (dateline first).
        time: agreement of publication dates or the dates and weekdays named.
        overall: the graded same-story score (monotone in ``semantic``, ~1 for duplicates).
    """

    jaccard: float
    containment_a: float
    containment_b: float
    verbatim_a: float
    verbatim_b: float
    paraphrase_a: float
    paraphrase_b: float
    aligned_a: float
    aligned_b: float
    semantic: float
    lexical: float
    entities: float | None
    place: float | None
    time: float | None
    overall: float

    def to_dict(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = None if value is None else round(float(value), 4)
        return out


@dataclass(slots=True, frozen=True)
class Origin:
    """Which side is the likelier source: "a", "b" or "undetermined", and why."""

    side: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "evidence": list(self.evidence)}


@dataclass(slots=True)
class Comparison:
    """How two articles relate: verdict, scores, origin, shared passages, unique text.

    ``a`` and ``b`` are the documents as given; every span points into their ``text``.

    Attributes:
        verdict: one of :data:`VERDICTS`.
        rule: the rule that produced the verdict, with the values it tested.
        scores: the named scores.
        origin: the likelier source and the evidence.
        passages: shared passages, ordered by their position in a.
        unique_a, unique_b: text each side has alone (sentences no passage covers).
        cleaning_a, cleaning_b: the cleaning actions on each side (spans in the originals).
        dateline_a, dateline_b: the datelines read, if any.
        notes: anything the caller should know (e.g. a step skipped on a very long text).
    """

    a: Document
    b: Document
    verdict: str
    rule: str
    scores: Scores
    origin: Origin
    passages: list[Passage] = field(default_factory=list)
    unique_a: list[Span] = field(default_factory=list)
    unique_b: list[Span] = field(default_factory=list)
    cleaning_a: list[Any] = field(default_factory=list)
    cleaning_b: list[Any] = field(default_factory=list)
    dateline_a: Any = None
    dateline_b: Any = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready data (schema: docs/ARCHITECTURE.md, compare).

        Example:
            >>> from samestory import compare
            >>> d = compare("A storm hit the coast on Monday.", "A storm hit the coast on Monday.")
            >>> d.to_dict()["verdict"]
            'duplicate'
        """

        def doc(d: Document) -> dict[str, Any]:
            return {
                "id": d.id,
                "title": d.title,
                "source": d.source,
                "published": d.published,
                "lang": d.lang,
                "chars": len(d.text),
                # where the text (and every span) starts in the file it was read from
                "text_offset": int(d.meta.get("text_offset", 0)),
            }

        return {
            "schema": SCHEMA_VERSION,
            "verdict": self.verdict,
            "rule": self.rule,
            "scores": self.scores.to_dict(),
            "origin": self.origin.to_dict(),
            "passages": [p.to_dict() for p in self.passages],
            "unique_a": [s.to_dict() for s in self.unique_a],
            "unique_b": [s.to_dict() for s in self.unique_b],
            "cleaning": {
                "a": [c.to_dict() for c in self.cleaning_a],
                "b": [c.to_dict() for c in self.cleaning_b],
            },
            "datelines": {
                "a": self.dateline_a.to_dict() if self.dateline_a else None,
                "b": self.dateline_b.to_dict() if self.dateline_b else None,
            },
            "documents": {"a": doc(self.a), "b": doc(self.b)},
            "notes": list(self.notes),
        }
