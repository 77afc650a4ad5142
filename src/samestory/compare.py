"""Compare two articles: clean, align, relate. ``compare`` is a thin wrapper over Comparer."""

from __future__ import annotations

from samestory.align import align
from samestory.clean import clean, hyphen_language
from samestory.config import CleanConfig
from samestory.document import Comparison, Document
from samestory.errors import SettingsError
from samestory.relate import decide, find_origin, score

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
        paraphrase_threshold: the paraphrase probability a sentence pair needs to be aligned.
            Higher than the model's own decision boundary (0.5): a wrongly linked pair
            misleads a reader more than a missed one.
        boilerplate: extra boilerplate lines to remove (see ``samestory.repeated_lines``).
        embeddings: use sentence embeddings in the paraphrase and semantic scores; None uses
            them when the embed extra is installed.

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
        paraphrase_threshold: float = 0.6,
        boilerplate: frozenset[str] = frozenset(),
        embeddings: bool | None = None,
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

    def compare(self, a: str | Document, b: str | Document) -> Comparison:
        """Compare two articles (text or Document); spans point into their original text."""
        self._check()
        da = a if isinstance(a, Document) else Document(a)
        db = b if isinstance(b, Document) else Document(b)
        ca = clean(da.text, config=self.clean_config, boilerplate=self.boilerplate, lang=da.lang)
        cb = clean(db.text, config=self.clean_config, boilerplate=self.boilerplate, lang=db.lang)
        alignment = align(
            ca,
            cb,
            seed=self.seed,
            gap=self.gap,
            min_words=self.min_words,
            max_sentence_pairs=self.max_sentence_pairs,
            paraphrase_threshold=self.paraphrase_threshold,
            embeddings=self.embeddings,
        )
        scores = score(da, db, ca, cb, alignment, ngram=self.ngram, embeddings=self.embeddings)
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
