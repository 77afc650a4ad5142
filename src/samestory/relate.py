"""Relate: the named scores of two aligned articles, the verdict and the likelier origin.

Scores (each in [0, 1]) come from three places: word shingles (Jaccard, containment each way),
the alignment (verbatim, paraphrase and total coverage of each side's words) and light
content features (rarity-weighted word overlap, names and numbers, places, dates). The
semantic score is ``samestory.similarity.document_similarity``. The verdict is the first rule
of :data:`RULES` that holds, and the rule is reported with the values it tested.

The entity, place and time extractors are deliberately light (capitalised words, numbers,
weekdays, months, years, the dateline place); a real NER stage replaces them later.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from functools import lru_cache

from samestory import similarity
from samestory.align import Alignment
from samestory.clean import Cleaned
from samestory.document import Document, Origin, Scores
from samestory.shingle import jaccard, shingle_hashes

__all__ = [
    "DUPLICATE_JACCARD",
    "coverage_scores",
    "decide",
    "decide_shared",
    "find_origin",
    "score",
    "shared_scores",
    "shingle_scores",
]

_WORD_RE = re.compile(r"\w+")
_CAP_RE = re.compile(r"\b(?:[A-Z][a-z]+(?:['-][A-Za-z]+)*|[A-Z]{2,}[a-z]?)\b")
_NUMBER_RE = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july")
_MONTHS += ("august", "september", "october", "november", "december")
_TIME_RE = re.compile(  # news capitalises weekdays and months
    r"\b(?:(?P<wd>" + "|".join(w.title() for w in _WEEKDAYS) + r")"
    r"|(?P<mo>" + "|".join(m.title() for m in _MONTHS) + r")"
    r"(?:\s+(?P<day>\d{1,2})\b)?|(?P<year>(?:19|20)\d\d))\b"
)
_PLACE_RE = re.compile(
    r"\b(?:in|at|near|outside|from)\s+((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?:\s+[A-Z][a-z]+){0,2})"
)
_TIME_WORDS = frozenset(_WEEKDAYS) | frozenset(_MONTHS)


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en")


@lru_cache(maxsize=200_000)
def _rarity(word: str) -> float:
    """How much a shared word says: 6.5 minus its Zipf frequency (0 for "the", "and")."""
    f = _frequencies().get(word)
    return 6.5 - (math.log10(f) + 9 if f else 0.0)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """A crude English suffix strip, enough to match "talks"/"talk" and "agreed"/"agree"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _weighted_counts(text: str, rarity: dict[str, float]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for word, n in Counter(_WORD_RE.findall(text.casefold())).items():
        key = _stem(word)
        counts[key] += n
        rarity[key] = max(rarity.get(key, 0.0), _rarity(word))
    return counts


def lexical_similarity(a: str, b: str) -> float:
    """Cosine of word counts weighted by rarity in the language (wordfreq; no corpus needed).

    Example:
        >>> round(lexical_similarity("The ferry sank off Kos.", "A ferry sank near Kos."), 2)
        0.91
    """
    rarity: dict[str, float] = {}
    ca, cb = _weighted_counts(a, rarity), _weighted_counts(b, rarity)
    w = {t: max(0.0, r) for t, r in rarity.items()}
    dot = sum(n * cb[t] * w[t] for t, n in ca.items() if t in cb)
    na = math.sqrt(sum(n * n * w[t] for t, n in ca.items()))
    nb = math.sqrt(sum(n * n * w[t] for t, n in cb.items()))
    return dot / (na * nb) if na and nb else 0.0


def _entities(text: str) -> set[str]:
    out = set()
    for m in _CAP_RE.finditer(text):
        word = m.group().casefold()
        # capitalised words that are not common words (Zipf < 4.8) nor dates
        if word not in _TIME_WORDS and _rarity(word) > 6.5 - 4.8:
            out.add(word)
    out.update(n.replace(",", "") for n in _NUMBER_RE.findall(text) if len(n) > 1)
    return out


def _places(c: Cleaned) -> set[str]:
    out = {m.group(1).casefold() for m in _PLACE_RE.finditer(c.text)}
    out -= _TIME_WORDS
    if c.dateline is not None:
        out.add(c.dateline.place.casefold())
    return out


def _times(text: str) -> set[str]:
    out = set()
    for m in _TIME_RE.finditer(text):
        if m.group("wd"):
            out.add(m.group("wd").casefold())
        elif m.group("mo"):
            mo = m.group("mo").casefold()
            out.add(f"{mo} {m.group('day')}" if m.group("day") else mo)
        else:
            out.add(m.group("year"))
    return out


def _overlap(a: set[str], b: set[str]) -> float | None:
    if not a or not b:
        return None
    return len(a & b) / math.sqrt(len(a) * len(b))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _time_score(da: Document, db: Document, ca: Cleaned, cb: Cleaned) -> float | None:
    pa, pb = _date(da.published), _date(db.published)
    if pa is not None and pb is not None:
        return max(0.0, 1.0 - abs((pa - pb).days) / 7.0)
    ta, tb = _times(ca.text), _times(cb.text)
    if not ta or not tb:
        return None
    return len(ta & tb) / min(len(ta), len(tb))


def overall_score(semantic: float, lexical: float, entities: float | None, aligned: float) -> float:
    """The graded same-story score: content similarity, lifted by aligned coverage.

    ``semantic`` is the documents' embedding cosine when embeddings are on (else the TF-IDF
    cosine); ``lexical`` is :func:`lexical_similarity`. Strictly increasing in ``semantic``
    (while ``aligned`` < 1) and 1.0 when one side is fully aligned with the other.

    Example:
        >>> overall_score(1.0, 1.0, 1.0, 1.0)
        1.0
    """
    ent = lexical if entities is None else entities
    content = 0.5 * semantic + 0.4 * lexical + 0.1 * ent
    return 1.0 - (1.0 - content) * (1.0 - aligned)


def shingle_scores(a: str, b: str, *, ngram: int = 5) -> dict[str, float]:
    """Jaccard and containment each way of the word shingles of two cleaned texts."""
    ha, hb = shingle_hashes(a, ngram), shingle_hashes(b, ngram)
    inter = len(set(ha.tolist()) & set(hb.tolist())) if len(ha) and len(hb) else 0
    return {
        "jaccard": jaccard(ha, hb) if len(ha) or len(hb) else 0.0,
        "containment_a": inter / len(ha) if len(ha) else 0.0,
        "containment_b": inter / len(hb) if len(hb) else 0.0,
    }


def coverage_scores(alignment: Alignment) -> dict[str, float]:
    """The shares of each side's words in verbatim, paraphrase and any passages."""
    va, vb = alignment.verbatim
    pa, pb = alignment.paraphrase
    return {
        "verbatim_a": va,
        "verbatim_b": vb,
        "paraphrase_a": pa,
        "paraphrase_b": pb,
        "aligned_a": va + pa,
        "aligned_b": vb + pb,
    }


def shared_scores(
    ca: Cleaned, cb: Cleaned, alignment: Alignment, *, ngram: int = 5
) -> dict[str, float]:
    """The scores of a pair that come from its shared text alone: shingle overlap and the
    alignment's coverage (the fields of :class:`Scores` from ``jaccard`` to ``aligned_b``)."""
    return shingle_scores(ca.text, cb.text, ngram=ngram) | coverage_scores(alignment)


def score(
    da: Document,
    db: Document,
    ca: Cleaned,
    cb: Cleaned,
    alignment: Alignment,
    *,
    ngram: int = 5,
    embeddings: bool | None = None,
    large: bool = False,
) -> Scores:
    """The named scores of two cleaned, aligned documents (``large``: overall's embedding
    cosine by the larger model, see :func:`~samestory.similarity.embedding_document_similarity`)."""
    shared = shared_scores(ca, cb, alignment, ngram=ngram)
    semantic = float(
        min(1.0, max(0.0, similarity.document_similarity(ca.text, cb.text, embeddings=embeddings)))
    )
    lexical = lexical_similarity(ca.text, cb.text)
    entities = _overlap(_entities(ca.text), _entities(cb.text))
    aligned = max(shared["aligned_a"], shared["aligned_b"])
    # overall takes the embedding cosine alone, not ``semantic`` (which already averages in a
    # word cosine, counted again by ``lexical``): on SemEval-2022 Task 8 en-en pairs this
    # raised overall's Pearson r from 0.76 to 0.80
    topical = similarity.embedding_document_similarity(
        ca.text, cb.text, embeddings=embeddings, large=large
    )
    return Scores(
        **shared,
        semantic=semantic,
        lexical=lexical,
        entities=entities,
        place=_overlap(_places(ca), _places(cb)),
        time=_time_score(da, db, ca, cb),
        overall=overall_score(semantic if topical is None else topical, lexical, entities, aligned),
    )


DUPLICATE_JACCARD = 0.8
"""The shingle Jaccard from which a pair is a duplicate, whatever else it shows."""

RULES = (
    "duplicate: jaccard >= 0.80, or both sides >= 0.90 verbatim",
    "reuse: one side >= 0.30 verbatim",
    "rewrite: one side >= 0.40 aligned, with >= 3 paraphrase pairs",
    "same-story: place and time do not disagree, and overall >= 0.45 or "
    "(lexical >= 0.25 and entities >= 0.30)",
    "related: overall >= 0.30 or lexical >= 0.15",
    "unrelated: none of the above",
)
"""The verdict rules, tried in order; the first that holds gives the verdict."""


def decide_shared(s: Mapping[str, float], paraphrase_pairs: int) -> tuple[str, str] | None:
    """(verdict, rule) when one of the shared-text rules holds (duplicate, reuse, rewrite),
    else None: they test only :func:`shared_scores`, so the content scores are needed only
    when this gives None. ``decide`` tries these rules first.

    Example:
        >>> decide_shared({"jaccard": 0.2, "verbatim_a": 0.5, "verbatim_b": 0.1}, 0)
        ('reuse', 'reuse: verbatim_a 0.50 >= 0.30')
    """
    va, vb = s["verbatim_a"], s["verbatim_b"]
    vmax, side = max((va, "a"), (vb, "b"))
    if s["jaccard"] >= DUPLICATE_JACCARD:
        return "duplicate", f"duplicate: jaccard {s['jaccard']:.2f} >= {DUPLICATE_JACCARD:.2f}"
    if min(va, vb) >= 0.9:
        return "duplicate", f"duplicate: both sides >= 0.90 verbatim (min {min(va, vb):.2f})"
    if vmax >= 0.3:
        return "reuse", f"reuse: verbatim_{side} {vmax:.2f} >= 0.30"
    amax, aside = max((s["aligned_a"], "a"), (s["aligned_b"], "b"))
    if amax >= 0.4 and paraphrase_pairs >= 3:
        return (
            "rewrite",
            f"rewrite: aligned_{aside} {amax:.2f} >= 0.40 with {paraphrase_pairs} paraphrase pairs",
        )
    return None


def decide(s: Scores, paraphrase_pairs: int) -> tuple[str, str]:
    """(verdict, rule with the values it tested) for the scores of a pair.

    Example:
        >>> s = Scores(0.9, 0.9, 0.9, 1, 1, 0, 0, 1, 1, 0.9, 0.9, None, None, None, 1.0)
        >>> decide(s, 0)
        ('duplicate', 'duplicate: jaccard 0.90 >= 0.80')
    """
    shared = {f.name: getattr(s, f.name) for f in fields(s)[:9]}
    early = decide_shared(shared, paraphrase_pairs)
    if early is not None:
        return early
    disagree = [n for n in ("place", "time") if getattr(s, n) == 0.0]
    ent = s.entities or 0.0
    story = s.overall >= 0.45 or (s.lexical >= 0.25 and ent >= 0.3)
    if story and not disagree:
        if s.overall >= 0.45:
            return "same-story", f"same-story: overall {s.overall:.2f} >= 0.45"
        return (
            "same-story",
            f"same-story: lexical {s.lexical:.2f} >= 0.25 and entities {ent:.2f} >= 0.30",
        )
    why = f" ({' and '.join(disagree)} disagree)" if story else ""
    if s.overall >= 0.3:
        return "related", f"related: overall {s.overall:.2f} >= 0.30{why}"
    if s.lexical >= 0.15:
        return "related", f"related: lexical {s.lexical:.2f} >= 0.15{why}"
    return (
        "unrelated",
        f"unrelated: overall {s.overall:.2f} < 0.30 and lexical {s.lexical:.2f} < 0.15",
    )


def _debris(c: Cleaned) -> int:
    return sum(1 for a in c.actions if a.kind in ("hyphen", "boilerplate"))


def find_origin(
    verdict: str, s: Scores, da: Document, db: Document, ca: Cleaned, cb: Cleaned
) -> Origin:
    """The likelier source side of a copy or rewrite, and the evidence for it.

    Votes: containment asymmetry (the fuller side is the source, weight 1), the earlier
    publication date (2), an agency credited in one side's dateline that is the other side's
    source (2), scraping debris on one side only (1). A tie is "undetermined".
    """
    if verdict not in ("duplicate", "reuse", "rewrite"):
        return Origin("undetermined", (f"{verdict}: no shared text to trace an origin",))
    votes = {"a": 0, "b": 0}
    evidence: list[str] = []
    diff = s.aligned_b - s.aligned_a
    if abs(diff) >= 0.15:
        src, copy = ("a", "b") if diff > 0 else ("b", "a")
        hi, lo = max(s.aligned_a, s.aligned_b), min(s.aligned_a, s.aligned_b)
        votes[src] += 1
        evidence.append(
            f"containment: {hi:.0%} of {copy} is aligned with {src}, only {lo:.0%} of {src} "
            f"with {copy}; {src} is the fuller text"
        )
    pa, pb = _date(da.published), _date(db.published)
    if pa is not None and pb is not None and pa != pb:
        src = "a" if pa < pb else "b"
        votes[src] += 2
        evidence.append(
            f"dates: {src} published first ({da.published[:10]} vs {db.published[:10]})"
        )
    for side, c, other, od in (("a", ca, "b", db), ("b", cb, "a", da)):
        agency = c.dateline.agency if c.dateline else ""
        if agency and re.search(rf"\b{re.escape(agency)}\b", od.source, re.IGNORECASE):
            votes[other] += 2
            evidence.append(f"agency: {side}'s dateline credits {agency}, the source of {other}")
    ag_a = ca.dateline.agency if ca.dateline else ""
    ag_b = cb.dateline.agency if cb.dateline else ""
    if ag_a and ag_a == ag_b:
        evidence.append(f"agency: both datelines credit {ag_a}")
    deb_a, deb_b = _debris(ca), _debris(cb)
    if abs(deb_a - deb_b) >= 2:
        src, copy = ("a", "b") if deb_b > deb_a else ("b", "a")
        votes[src] += 1
        evidence.append(
            f"debris: {copy} has {max(deb_a, deb_b)} scraping repairs (broken hyphens, "
            f"boilerplate), {src} has {min(deb_a, deb_b)}"
        )
    if votes["a"] == votes["b"]:
        return Origin("undetermined", tuple(evidence) or ("no evidence either way",))
    return Origin("a" if votes["a"] > votes["b"] else "b", tuple(evidence))
