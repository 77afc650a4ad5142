"""Compare two articles: clean, align, relate. ``compare`` is a thin wrapper over Comparer."""

from __future__ import annotations

import numpy as np

from samestory.align import Alignment, align
from samestory.clean import Cleaned, clean, clean_text
from samestory.config import CleanConfig
from samestory.document import Comparison, Document, Scores
from samestory.errors import SettingsError
from samestory.hyphens import hyphen_language
from samestory.relate import (
    DUPLICATE_JACCARD,
    coverage_scores,
    decide,
    decide_shared,
    find_origin,
    score,
    shingle_scores,
)
from samestory.similarity import ALIGN_THRESHOLD

__all__ = ["Comparer", "compare"]


class Comparer:
    """Compares pairs of articles with fixed settings.

    Args:
        clean_config: how both texts are cleaned (defaults to all steps).
        ngram: words per shingle for the Jaccard and containment scores.
        seed: words in an exact n-gram that starts a verbatim passage.
        gap: most differing words bridged inside one verbatim passage.
        min_words: fewest matching words a verbatim passage needs.
        max_sentence_pairs: above this many sentence pairs paraphrase alignment is skipped.
        paraphrase_threshold: the paraphrase probability a sentence pair needs to be aligned
            (:data:`~samestory.similarity.ALIGN_THRESHOLD`, above the model's own decision
            boundary: a wrongly linked pair misleads a reader more than a missed one).
        boilerplate: extra boilerplate lines to remove (see ``samestory.repeated_lines``).
        embeddings: use sentence embeddings in the paraphrase and semantic scores; None uses
            them when the embed extra is installed.
        large: the overall score's document cosine by all-mpnet-base-v2 instead of MiniLM
            (:mod:`samestory.mpnet`: five PyPI packages, ~0.4 s a document; Lee r 0.747
            against 0.719).

    Example:
        >>> c = Comparer(min_words=5)
        >>> c.compare("Rain fell on Oslo all day long.", "Rain fell on Oslo all day long.").verdict
        'duplicate'
    """

    def __init__(
        self,
        *,
        clean_config: CleanConfig | None = None,
        ngram: int = 5,
        seed: int = 4,
        gap: int = 3,
        min_words: int = 7,
        max_sentence_pairs: int = 250_000,
        paraphrase_threshold: float = ALIGN_THRESHOLD,
        boilerplate: frozenset[str] = frozenset(),
        embeddings: bool | None = None,
        large: bool = False,
    ) -> None:
        self.clean_config = clean_config
        self.ngram = ngram
        self.seed = seed
        self.gap = gap
        self.min_words = min_words
        self.max_sentence_pairs = max_sentence_pairs
        self.paraphrase_threshold = paraphrase_threshold
        self.boilerplate = boilerplate
        self.embeddings = embeddings
        self.large = large

    def _check(self) -> None:
        for name in ("ngram", "seed", "min_words", "max_sentence_pairs"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 < self.paraphrase_threshold <= 1.0:
            raise SettingsError(
                f"paraphrase_threshold must be in (0, 1], got {self.paraphrase_threshold}"
            )
        if self.gap < 0:
            raise SettingsError(f"gap must be 0 or more, got {self.gap}")
        if self.min_words < self.seed:
            raise SettingsError(
                f"min_words ({self.min_words}) must be at least seed ({self.seed}); "
                "lower seed or raise min_words"
            )

    def clean(self, doc: Document) -> Cleaned:
        """A document's text cleaned as :meth:`compare` cleans it (to reuse across pairs)."""
        return clean(
            doc.text, config=self.clean_config, boilerplate=self.boilerplate, lang=doc.lang
        )

    def _align(self, ca: Cleaned, cb: Cleaned) -> Alignment:
        return align(
            ca,
            cb,
            seed=self.seed,
            gap=self.gap,
            min_words=self.min_words,
            max_sentence_pairs=self.max_sentence_pairs,
            paraphrase_threshold=self.paraphrase_threshold,
            embeddings=self.embeddings,
        )

    def _score(
        self, da: Document, db: Document, ca: Cleaned, cb: Cleaned, alignment: Alignment
    ) -> Scores:
        return score(
            da,
            db,
            ca,
            cb,
            alignment,
            ngram=self.ngram,
            embeddings=self.embeddings,
            large=self.large,
        )

    def compare(
        self, a: str | Document, b: str | Document, *, cleaned_a: Cleaned | None = None
    ) -> Comparison:
        """Compare two articles (text or Document); spans point into their original text.

        ``cleaned_a``: ``a`` as :meth:`clean` gives it, when one side is compared with many.
        """
        self._check()
        da = a if isinstance(a, Document) else Document(a)
        db = b if isinstance(b, Document) else Document(b)
        ca = self.clean(da) if cleaned_a is None else cleaned_a
        cb = self.clean(db)
        alignment = self._align(ca, cb)
        scores = self._score(da, db, ca, cb, alignment)
        pairs = sum(1 for p in alignment.passages if p.kind == "paraphrase")
        verdict, rule = decide(scores, pairs)
        return Comparison(
            a=da,
            b=db,
            verdict=verdict,
            rule=rule,
            scores=scores,
            origin=find_origin(verdict, scores, da, db, ca, cb),
            passages=alignment.passages,
            unique_a=alignment.unique_a,
            unique_b=alignment.unique_b,
            cleaning_a=list(ca.actions),
            cleaning_b=list(cb.actions),
            dateline_a=ca.dateline,
            dateline_b=cb.dateline,
            notes=[*alignment.notes, *language_notes(da.lang, db.lang)],
        )

    def verdict(
        self, a: Document, b: Document, *, cleaned_a: Cleaned | None = None
    ) -> tuple[str, dict[str, float | None]]:
        """The verdict of :meth:`compare` and the scores it was decided on, and no more.

        A Jaccard of at least ``DUPLICATE_JACCARD`` decides a duplicate from the shingles of
        the cleaned texts alone (the fast ``clean_text``; then the scores are the Jaccard and
        containments). Else the other shared-text rules (duplicate, reuse, rewrite) need the
        alignment's coverage, and the content scores (semantic, lexical, entities, place,
        time, overall) are computed only when none of them holds. Every score given equals
        ``compare(a, b).scores``' (rounded as in its ``to_dict``).

        Example:
            >>> text = "Rain fell on Oslo all day long, and the river rose."
            >>> Comparer().verdict(Document(text), Document(text))
            ('duplicate', {'jaccard': 1.0, 'containment_a': 1.0, 'containment_b': 1.0})
        """
        self._check()
        ca = self.clean(a) if cleaned_a is None else cleaned_a
        text_b = clean_text(
            b.text, config=self.clean_config, boilerplate=self.boilerplate, lang=b.lang
        )
        shingles = shingle_scores(ca.text, text_b, ngram=self.ngram)
        if shingles["jaccard"] >= DUPLICATE_JACCARD:
            return "duplicate", _rounded(shingles)
        # the coverage scores depend on the cleaned texts alone, so b's cleaned text stands in
        # for its original (passage spans then point into it; only the scores are kept)
        n = len(text_b)
        plain_b = Cleaned(text_b, text_b, np.arange(n), np.arange(1, n + 1))
        alignment = self._align(ca, plain_b)
        pairs = sum(1 for p in alignment.passages if p.kind == "paraphrase")
        shared = shingles | coverage_scores(alignment)
        early = decide_shared(shared, pairs)
        if early is not None:
            return early[0], _rounded(shared)
        cb = self.clean(b)  # the content scores read its dateline
        scores = self._score(a, b, ca, cb, alignment)
        return decide(scores, pairs)[0], scores.to_dict()


def _rounded(scores: dict[str, float]) -> dict[str, float | None]:
    return {name: round(float(v), 4) for name, v in scores.items()}


def language_notes(lang_a: str, lang_b: str) -> list[str]:
    """What the languages of the two sides mean for the scores (nothing for English).

    Example:
        >>> language_notes("en", "de")[0][:40]
        "b is in 'de': the paraphrase model, embe"
    """
    notes = []
    sides = {"a": lang_a, "b": lang_b}
    if lang_a == lang_b:
        sides = {"both sides": lang_a}
    for side, lang in sides.items():
        if lang in ("", "en"):
            continue
        verb = "are" if side == "both sides" else "is"
        notes.append(
            f"{side} {verb} in {lang!r}: the paraphrase model, embeddings and entity recogniser "
            "are English, so paraphrase, semantic and entity scores are rough; "
            "shingle and verbatim scores hold for any language"
        )
        if hyphen_language(lang) is None:
            notes.append(f"no word list for {lang!r}: broken hyphens are left as given")
    if lang_a and lang_b and lang_a != lang_b:
        notes.append(f"the sides are in different languages ({lang_a!r}, {lang_b!r})")
    return notes


def compare(a: str | Document, b: str | Document, **settings: object) -> Comparison:
    """Compare two articles: verdict, scores, origin, shared passages, unique text.

    Keyword settings are those of :class:`Comparer`.

    Example:
        >>> r = compare("PARIS (NWA) - The minis-ter resigned on Friday after a long row over pay.",
        ...             "The minister resigned on Friday after a long row over pay.")
        >>> r.verdict, r.passages[0].kind
        ('duplicate', 'verbatim')
    """
    return Comparer(**settings).compare(a, b)  # type: ignore[arg-type]
