"""Clean: normalise a text and keep a map back to the original characters.

Every step finds *edits* on the original text (replace ``original[start:end]`` with a string);
the edits never overlap, so the cleaned text and its offset map are built in one pass and every
span in the cleaned text maps back to the user's own characters exactly.

Steps: boilerplate lines (built-in list and lines the caller says repeat across one source's
documents) and a leading dateline ("PARIS (AFP) -", read into place and agency) are removed;
mojibake is repaired (ftfy) and typographic quotes, dashes and spaces made plain; stray in-word
hyphens are joined when a word-frequency list says the joined word is real and the hyphenated
one is not ("govern-ment" -> "government", but "well-known" stays); whitespace is collapsed
(a blank line stays a paragraph break).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from samestory.config import CleanConfig
from samestory.hyphens import HYPHEN_RE, hyphen_language, join_hyphens, should_join

__all__ = [
    "Cleaned",
    "CleaningAction",
    "Dateline",
    "clean",
    "clean_text",
    "repeated_lines",
]


@dataclass(slots=True, frozen=True)
class CleaningAction:
    """One change the cleaner made, with its [start, end) span in the original text."""

    kind: str  # "unicode" | "hyphen" | "boilerplate" | "dateline"
    start: int
    end: int
    before: str
    after: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "span": [self.start, self.end],
            "before": self.before,
            "after": self.after,
        }


@dataclass(slots=True, frozen=True)
class Dateline:
    """A leading dateline read into metadata."""

    place: str
    agency: str
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        return {"place": self.place, "agency": self.agency, "span": [self.start, self.end]}


@dataclass(slots=True)
class Cleaned:
    """A cleaned text, the original it came from, and the map between them.

    ``starts[i]`` is the original index where cleaned character ``i`` begins and ``ends[i]``
    the original index just after it.
    """

    original: str
    text: str
    starts: np.ndarray
    ends: np.ndarray
    actions: list[CleaningAction] = field(default_factory=list)
    dateline: Dateline | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the cleaned text to a span of the original.

        Example:
            >>> c = clean("The govern-ment  said.")
            >>> s, e = c.to_original(4, 14)
            >>> c.original[s:e]
            'govern-ment'
        """
        if end <= start:
            pos = int(self.starts[start]) if start < len(self.text) else len(self.original)
            return pos, pos
        return int(self.starts[start]), int(self.ends[end - 1])


# --- boilerplate -------------------------------------------------------------------------

_BOILERPLATE = [
    r"share (this|the) (article|story|page)",
    r"share on (facebook|twitter|x|linkedin|whatsapp)",
    r"(follow|like) us on .{0,40}",
    r"(sign up|subscribe) (for|to) (our|the) .{0,40}newsletters?",
    r"click here .{0,60}",
    r"read more:?.{0,80}",
    r"related (articles|stories|coverage):?",
    r"advertisement",
    r"(all rights reserved|copyright|©).{0,80}",
    r"(email|print|tweet|share)( (this|article|story))?",
    r"(comments?|leave a comment)( \(\d+\))?",
    r"this (article|story) (was|has been) (updated|corrected).{0,80}",
    r"(photo|image|picture|file photo):? .{0,80}(getty|reuters|afp|ap|epa|shutterstock).{0,40}",
    r"we use cookies.{0,120}",
]
_BOILERPLATE_RE = re.compile(r"(?:" + "|".join(_BOILERPLATE) + r")[\s.!|:»›>-]*", re.IGNORECASE)
_TRAILING_RE = re.compile(
    r"[\s|•·-]*\b(share (this|the) (article|story)|share on \w+|read more)[\s.!|:»›>-]*\Z",
    re.IGNORECASE,
)


def _line_key(line: str) -> str:
    return " ".join(line.split()).casefold()


def repeated_lines(
    texts: Iterable[str], *, min_count: int = 3, max_words: int = 20
) -> frozenset[str]:
    """Lines that repeat across several documents of one source (likely boilerplate).

    Pass the result to :func:`clean` as ``boilerplate``.

    Example:
        >>> docs = [f"Story {i}.\\nSubscribe to The Daily Planet" for i in range(3)]
        >>> sorted(repeated_lines(docs))
        ['subscribe to the daily planet']
    """
    counts: Counter[str] = Counter()
    for text in texts:
        seen = {_line_key(line) for line in text.splitlines()}
        counts.update(k for k in seen if k and len(k.split()) <= max_words)
    return frozenset(k for k, n in counts.items() if n >= min_count)


# --- dateline ----------------------------------------------------------------------------

_DATELINE_RE = re.compile(
    r"\A\s*(?P<place>[A-Z][A-Z.'’-]+(?:[ ][A-Z][A-Z.'’-]+){0,3})"
    r"(?:,[ ]?(?:[A-Z][a-z]+\.?[ ]\d{1,2}|[A-Z][A-Za-z.]+(?:[ ][A-Z][A-Za-z.]+)?))?"
    r"[ ]*(?:\((?P<agency>[A-Za-z][A-Za-z&. -]{0,30}?)\))?"
    r"[ ]*(?:[-–—]+|:)[ ]*"
)
_NOT_PLACES = {"UPDATE", "BREAKING", "EXCLUSIVE", "CORRECTED", "URGENT", "FLASH", "ANALYSIS"}


def _find_dateline(text: str) -> Dateline | None:
    m = _DATELINE_RE.match(text)
    if not m:
        return None
    place = m.group("place").strip()
    if place.strip(".") in _NOT_PLACES or len(place) < 2:
        return None
    agency = (m.group("agency") or "").strip()
    return Dateline(place=place.title(), agency=agency, start=m.start("place"), end=m.end())


# --- unicode -----------------------------------------------------------------------------

_PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero-width space
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\u2026": "...",
}
_NON_ASCII_TOKEN = re.compile(r"\S*[^\x00-\x7f]\S*")


def _unicode_edits(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, replacement, action kind) for every token that needs a unicode fix."""
    if text.isascii():
        return []
    import ftfy

    edits = []
    for m in _NON_ASCII_TOKEN.finditer(text):
        token = m.group()
        fixed = ftfy.fix_text(token, normalization="NFKC", uncurl_quotes=True)
        fixed = "".join(_PLAIN.get(ch, ch) for ch in fixed)
        if fixed != token:
            edits.append((m.start(), m.end(), fixed, "unicode"))
    return edits


# --- whitespace --------------------------------------------------------------------------

_SPACE_RE = re.compile(r"\s+")


def _whitespace_edits(text: str) -> list[tuple[int, int, str, str]]:
    edits = []
    for m in _SPACE_RE.finditer(text):
        run = m.group()
        if m.start() == 0 or m.end() == len(text):
            edits.append((m.start(), m.end(), "", ""))
        elif run.count("\n") >= 2:
            if run != "\n\n":
                edits.append((m.start(), m.end(), "\n\n", ""))
        elif run != " ":
            edits.append((m.start(), m.end(), " ", ""))
    return edits


# --- the cleaner -------------------------------------------------------------------------


# Cheap exact pre-checks for ASCII texts: when they say no, the full per-line scan could not
# find anything either (a boilerplate line starts after a line break and optional whitespace;
# the trailer needs one of its keywords, and ASCII has no other case-insensitive spellings).
_ASCII_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e"
_BOILERPLATE_AT_START_RE = re.compile(r"\s*(?:" + "|".join(_BOILERPLATE) + r")", re.IGNORECASE)
_ASCII_BREAK_RE = re.compile("[" + _ASCII_BREAKS + "]")
# the first three letters of every _BOILERPLATE pattern, lowercased (ASCII texts)
_STARTS = frozenset(
    {
        "sha",
        "fol",
        "lik",
        "sig",
        "sub",
        "cli",
        "rea",
        "rel",
        "adv",
        "all",
        "cop",
        "ema",
        "pri",
        "twe",
        "com",
        "lea",
        "thi",
        "pho",
        "ima",
        "pic",
        "fil",
        "we ",
    }
)


def _may_have_boilerplate(text: str, boilerplate: frozenset[str]) -> bool:
    if boilerplate or not text.isascii():
        return True
    # every pattern starts with three literal letters: a cheap look before the regex
    if text.lstrip()[:3].lower() in _STARTS and _BOILERPLATE_AT_START_RE.match(text):
        return True
    # a line can only start after a break: try the pattern there (breaks are few)
    if not _has_ascii_break(text):
        return False
    return any(
        _BOILERPLATE_AT_START_RE.match(text, m.end()) is not None
        for m in _ASCII_BREAK_RE.finditer(text)
    )


def _has_ascii_break(text: str) -> bool:
    """``any(b in text for b in _ASCII_BREAKS)``, unrolled (5x faster)."""
    return (
        "\n" in text
        or "\r" in text
        or "\x0b" in text
        or "\x0c" in text
        or "\x1c" in text
        or "\x1d" in text
        or "\x1e" in text
    )


def _may_have_trailer(text: str) -> bool:
    if not text.isascii():
        return True
    # the trailer's phrase ends where the closing run of [\s.!|:>-] begins, with a word
    end = text.rstrip(_ASCII_TRAILING)
    low = end[-9:].lower()
    if low.endswith(("article", "story", "read more")):
        return True
    # "share on \w+": the word has no space, so "share on " ends at the last space
    k = end.rfind(" ")
    return k >= 8 and end[k - 8 : k + 1].lower() == "share on "


_ASCII_TRAILING = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f.!|:>-"


def _trailer(text: str) -> re.Match[str] | None:
    """``_TRAILING_RE.search(text)``, trying only starts near the end for ASCII texts.

    The phrase ends where the closing run begins (``e``) and starts at most 18 characters
    before it, or 8 before the last space ("share on \\w+"); a search from there finds the
    same match unless the run before the phrase reaches back to where it began (then the
    whole text is searched). The full search tries every start: 100x slower.
    """
    if text.isascii():
        e = len(text.rstrip(_ASCII_TRAILING))
        w = max(0, min(e - 18, text.rfind(" ", 0, e) - 9))
        m = _TRAILING_RE.search(text, w)
        if w == 0 or m is None or m.start() > w:
            return m
    return _TRAILING_RE.search(text)


def _removal_edits(
    text: str, config: CleanConfig, boilerplate: frozenset[str]
) -> tuple[list[tuple[int, int, str, str]], Dateline | None]:
    edits: list[tuple[int, int, str, str]] = []
    dateline = None
    if config.read_dateline:
        dateline = _find_dateline(text)
        if dateline is not None:
            edits.append((dateline.start, dateline.end, "", "dateline"))
    if config.strip_boilerplate and _may_have_boilerplate(text, boilerplate):
        pos = 0
        for line in text.splitlines(keepends=True):
            body = line.strip()
            if body and (_BOILERPLATE_RE.fullmatch(body) or _line_key(body) in boilerplate):
                # take the line break too, so no paragraph break is left behind
                start = pos + line.index(body[0])
                edits.append((start, pos + len(line), "", "boilerplate"))
            pos += len(line)
    # the trailer has its own pre-check: it ends a line of text, so the lines' one (a line
    # that starts with boilerplate) says nothing about it
    if config.strip_boilerplate:
        m = _trailer(text) if _may_have_trailer(text) else None
        if m and m.start() > 0:
            edits.append((m.start(), m.end(), "", "boilerplate"))
    return edits, dateline


def clean(
    text: str,
    *,
    config: CleanConfig | None = None,
    boilerplate: frozenset[str] = frozenset(),
    lang: str = "en",
) -> Cleaned:
    """Normalise ``text`` and report every change with its span in the original.

    Args:
        text: the article as given.
        config: which steps to run; defaults to all.
        boilerplate: extra boilerplate lines (casefolded, whitespace collapsed), e.g. from
            :func:`repeated_lines` over one source's documents.
        lang: language code for the word-frequency list that decides hyphen repairs
            (see :func:`samestory.hyphens.hyphen_language`).

    Example:
        >>> c = clean("PARIS (AFP) - The govern-ment an-nounced a well-known plan.\\nShare this")
        >>> c.text
        'The government announced a well-known plan.'
        >>> (c.dateline.place, c.dateline.agency)
        ('Paris', 'AFP')
    """
    config = config or CleanConfig()
    removals, dateline = _removal_edits(text, config, boilerplate)
    fixes = _unicode_edits(text) if config.fix_unicode else []
    edits = _merge(removals, fixes)
    actions = [CleaningAction(kind, s, e, text[s:e], rep) for s, e, rep, kind in edits]
    stage = _apply(text, edits)
    words = hyphen_language(lang) if config.join_hyphens else None
    if words:
        joins = []
        for m in HYPHEN_RE.finditer(stage.text):
            left, right = m.group(1), m.group(2)
            if should_join(left, right, words, config):
                # delete just the hyphen (and a line break after it) so the map stays exact
                joins.append((m.end(1), m.start(2), "", "hyphen"))
                s, e = int(stage.starts[m.start()]), int(stage.ends[m.end() - 1])
                actions.append(CleaningAction("hyphen", s, e, text[s:e], left + right))
        if joins:
            stage = _compose(stage, joins)
    spaces = _whitespace_edits(stage.text)
    if spaces:
        stage = _compose(stage, spaces)
    actions.sort(key=lambda a: (a.start, a.end, a.kind))
    return Cleaned(text, stage.text, stage.starts, stage.ends, actions, dateline)


def clean_text(
    text: str,
    *,
    config: CleanConfig | None = None,
    boilerplate: frozenset[str] = frozenset(),
    lang: str = "en",
    collapse: bool = True,
) -> str:
    """Only the cleaned text: ``clean(text, ...).text``, without the offset map or actions.

    The fast path for bulk work (dedup): the same edits, applied with string operations.
    With ``collapse=False`` whitespace is left as it is (the last step of ``clean``), which
    leaves the same words: for callers that only tokenise.

    Example:
        >>> clean_text("PARIS (AFP) - The govern-ment  said.\\nShare this article")
        'The government said.'
    """
    config = config or CleanConfig()
    removals, _ = _removal_edits(text, config, boilerplate)
    fixes = _unicode_edits(text) if config.fix_unicode else []
    edits = _merge(removals, fixes)
    if edits:
        pieces, pos = [], 0
        for s, e, rep, _kind in edits:
            if s > pos:
                pieces.append(text[pos:s])
            pieces.append(rep)
            pos = max(pos, e)
        pieces.append(text[pos:])
        text = "".join(pieces)
    words = hyphen_language(lang) if config.join_hyphens else None
    if words:
        text = join_hyphens(text, words, config)
    if not collapse:
        return text
    # a whitespace run with two or more line breaks is a paragraph break, any other a space
    paragraphs = (" ".join(p.split()) for p in _PARAGRAPH_RE.split(text))
    return "\n\n".join(p for p in paragraphs if p)


_PARAGRAPH_RE = re.compile(r"\n\s*\n")


def _merge(
    removals: list[tuple[int, int, str, str]], fixes: list[tuple[int, int, str, str]]
) -> list[tuple[int, int, str, str]]:
    """Non-overlapping edits, sorted; a fix that touches a removal is dropped."""
    kept: list[tuple[int, int, str, str]] = []
    for edit in sorted(removals):
        if kept and edit[0] < kept[-1][1]:
            last = kept[-1]
            kept[-1] = (last[0], max(last[1], edit[1]), "", last[3])
        else:
            kept.append(edit)
    if not fixes:
        return kept
    bounds = [b for s, e, _, _ in kept for b in (s, e)]
    out = list(kept)
    for edit in fixes:
        i = bisect.bisect_right(bounds, edit[0])
        inside = i % 2 == 1  # starts inside a removal
        overlaps_next = i < len(bounds) and bounds[i] < edit[1]
        if not inside and not overlaps_next:
            out.append(edit)
    out.sort()
    return out


@dataclass(slots=True)
class _Mapped:
    text: str
    starts: np.ndarray
    ends: np.ndarray


def _apply(text: str, edits: list[tuple[int, int, str, str]]) -> _Mapped:
    pieces: list[str] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    pos = 0
    for s, e, rep, _ in edits:
        if s > pos:
            pieces.append(text[pos:s])
            starts.append(np.arange(pos, s, dtype=np.int64))
            ends.append(np.arange(pos + 1, s + 1, dtype=np.int64))
        if rep:
            pieces.append(rep)
            starts.append(np.full(len(rep), s, dtype=np.int64))
            ends.append(np.full(len(rep), e, dtype=np.int64))
        pos = max(pos, e)
    if pos < len(text):
        pieces.append(text[pos:])
        starts.append(np.arange(pos, len(text), dtype=np.int64))
        ends.append(np.arange(pos + 1, len(text) + 1, dtype=np.int64))
    empty = np.zeros(0, dtype=np.int64)
    return _Mapped(
        "".join(pieces),
        np.concatenate(starts) if starts else empty,
        np.concatenate(ends) if ends else empty,
    )


def _compose(first: _Mapped, edits: list[tuple[int, int, str, str]]) -> _Mapped:
    """Apply ``edits`` (on ``first.text``) and map the result through ``first``'s map."""
    second = _apply(first.text, edits)
    n = len(first.text)
    if n == 0:
        return second
    # a replacement maps to the first-stage characters it replaced: start of its first,
    # end of its last
    s_idx = np.minimum(second.starts, n - 1)
    e_idx = np.clip(second.ends - 1, 0, n - 1)
    return _Mapped(second.text, first.starts[s_idx], first.ends[e_idx])


def normalize_for_key(text: str) -> str:
    """Casefolded, whitespace-collapsed text: the key used for exact-duplicate checks."""
    collapsed = " ".join(text.split())
    if collapsed.isascii():  # NFKC changes no ASCII, and casefold is lower there
        return collapsed.lower()
    return unicodedata.normalize("NFKC", collapsed).casefold()
