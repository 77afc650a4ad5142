"""Stray in-word hyphens: which to join, decided by a word-frequency list.

A scraped or OCR'd article breaks words at line ends and leaves the hyphen ("govern-ment",
"an-\nnounced"). A hyphenated pair is joined when the joined word is common enough in the
document's language (``wordfreq``'s Zipf scale, ``CleanConfig.min_joined_zipf``) and that much
more common than the hyphenated form (``min_zipf_gain``), so "Franco-German" and "well-known"
stay. :func:`should_join` is the rule; :func:`join_hyphens` applies it to a whole text (the
bulk path of :func:`samestory.clean.clean_text`); ``clean`` applies it with offsets.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from samestory.config import CleanConfig

__all__ = ["HYPHEN_RE", "hyphen_language", "join_hyphens", "should_join"]

HYPHEN_RE = re.compile(r"\b([A-Za-z]{2,})-[ \t]*\n?[ \t]*([a-z]{2,})\b")


@lru_cache(maxsize=65536)
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    parts = word.split("-")
    if lang == "en" and len(parts) <= 2 and all(_plain(p) for p in parts):
        # plain tokens: wordfreq's own arithmetic without its tokenizer (30x faster)
        return _zipf_plain(parts)
    return zipf_frequency(word, lang)


def _plain(part: str) -> bool:
    return part.isascii() and part.isalpha() and part.islower()


def _zipf_plain(tokens: list[str]) -> float:
    """``wordfreq.zipf_frequency("-".join(tokens), "en")`` for lowercase ASCII tokens."""
    from wordfreq import get_frequency_dict

    minimum = 1e-9  # zipf_to_freq(0), the default minimum
    freqs = get_frequency_dict("en", "best")
    one_over = 0.0
    for token in tokens:
        f = freqs.get(token)
        if f is None:
            return 0.0
        one_over += 1.0 / f
    freq = max(1.0 / one_over, minimum)
    freq = round(freq, math.floor(-math.log(freq, 10)) + 3)
    return round(math.log(freq, 10) + 9, 2)


@lru_cache(maxsize=256)
def hyphen_language(lang: str) -> str | None:
    """The word list that decides hyphen repairs in ``lang``, or None: no repairs.

    An unknown language ("") is read as English (the default before detection existed);
    a language wordfreq has no list for, or one that needs a word segmenter (Chinese,
    Japanese, Korean), gets no repairs rather than another language's list.

    Example:
        >>> hyphen_language(""), hyphen_language("de"), hyphen_language("sw")
        ('en', 'de', None)
    """
    from wordfreq import available_languages

    lang = lang or "en"
    if lang in {"ja", "ko", "zh"} or lang not in available_languages():
        return None
    return lang


def should_join(left: str, right: str, lang: str, config: CleanConfig) -> bool:
    joined = _zipf((left + right).lower(), lang)
    if joined < config.min_joined_zipf:
        return False
    return joined - _zipf(f"{left}-{right}".lower(), lang) >= config.min_zipf_gain


def join_hyphens(text: str, lang: str, config: CleanConfig) -> str:
    """``HYPHEN_RE.sub`` with the joins ``clean`` makes, found from the hyphens outward.

    Every match ends a letter run at a hyphen that ``_HYPHEN_HINT_RE`` finds (a literal scan,
    fast); the run's start is found by stepping back over letters, and the full pattern is
    matched there. Matches are taken left to right without overlap, as ``sub`` does.
    """
    pieces: list[str] = []
    done = 0  # end of the last join: the text before it is in pieces
    pos = 0  # end of the last match (or where to look next): no match starts before it
    while True:
        hint = _HYPHEN_HINT_RE.search(text, pos)
        if hint is None:
            break
        start = hint.start()
        while start > pos and text[start - 1] in _ASCII_LETTERS:
            start -= 1
        m = HYPHEN_RE.match(text, start) if hint.start() - start >= 2 else None
        if m is None or m.start(0) != start or m.end(1) != hint.start():
            pos = hint.start() + 1
            continue
        left, right = m.group(1), m.group(2)
        if should_join(left, right, lang, config):
            pieces.append(text[done:start])
            pieces.append(left + right)
            done = m.end()
        pos = m.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# every HYPHEN_RE match contains this; it starts with a literal, so the scan is fast
_HYPHEN_HINT_RE = re.compile(r"-[ \t]*\n?[ \t]*[a-z]{2}")
