"""Language identification for every document, fast enough for the ingest path.

The model is py3langid's (a naive Bayes over byte n-grams, 97 languages; it ships inside the
PyPI package and is read from the installed package, never downloaded). py3langid walks its
n-gram automaton byte by byte in Python (~0.1 µs a byte); :func:`detect_language` walks the
same automaton and scores the n-grams it met in numba (most of the time waiting on memory:
the model is ~100 MB), and :func:`detect_languages` walks eight documents side by side (~2x
faster a document; ~60 µs each over the first 512 bytes of SemEval's texts in 10 languages).
Plainly English text (no letter beyond ASCII, and at least 15% of its first 30+ words
English-only function words such as "the", "of", "which") is English without a walk (~11 µs):
most English news, the commonest input. So language can be asked for on every document
that comes without one.

What the rest of the pipeline does with a language (docs/ARCHITECTURE.md, "Languages"):
hyphen repair looks words up in that language's frequency list (no list: no repair);
shingling, MinHash and verbatim alignment work on any language; the paraphrase model,
MiniLM embeddings and the entity recogniser are English, so ``compare`` adds a note when a
side is in another language.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

__all__ = ["detect_language", "detect_languages", "plainly_english"]

_MIN_LETTERS = 20  # fewer letters than this: too short to tell, answer ""
# English function words that are no common word of another language ("a", "in", "is",
# "was", "to", "but", "by", "he", "will" are, in Italian, Dutch, German, Polish, French,
# Spanish: left out), so their share tells English at a glance. Of 58,837 SemEval (10
# languages), Reuters, ECB+, Lee, Google News and bench texts, 27,682 are plainly English
# (63% of those the walk calls English; the walk takes 57 us a text over them all, 21 us with
# this first), and the walk calls every one of them English too but for one all-capital
# flash (twice), that it cannot tell; other languages' highest share was 0.0, not 0.15.
_ENGLISH_ONLY = frozenset(
    {
        "the", "of", "that", "with", "from", "said", "this", "which", "would", "they",
        "their", "been", "were", "have", "has", "his", "its", "not", "who", "there",
        "after", "also", "about", "than", "into", "when", "what", "it", "she", "be", "are",
    }
)  # fmt: skip
_ENGLISH_SHARE = 0.15
_ENGLISH_WORDS = 30
_WORD_RE = re.compile(r"[a-z]+")
_NON_ASCII_LETTER = re.compile(r"(?![\x00-\x7f])\w")
_MAX_BYTES = 512  # a news article's language is settled by its first paragraph


@dataclass(frozen=True, slots=True)
class _Model:
    nextmove: np.ndarray  # automaton transitions, indexed by rowbase[state] + byte
    rowbase: np.ndarray  # first transition of each state's row
    output: np.ndarray  # the feature a state emits, or -1
    ptc: np.ndarray  # log P(feature | language), features x columns
    pc: np.ndarray  # log P(language), one per column
    labels: tuple[str, ...]  # the language code of each column (script variants repeat)
    groups: np.ndarray  # per column, the first column with its label


_KEYS = ("ptc", "pc", "labels", "nextmove", "rows", "output")
_LOCK = threading.Lock()
_MODEL: list[_Model] = []


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "samestory"


def _model_arrays() -> dict[str, np.ndarray]:
    """The model's arrays, from an uncompressed copy in the user's cache when there is one.

    py3langid ships its model xz-compressed (4.5 MB); unpacking it takes one to two seconds,
    in every process. The first process keeps an uncompressed copy (97 MB) under
    ``~/.cache/samestory``, named after the model file's size and time, so later processes
    (CLI calls, index workers) map it into memory in milliseconds, sharing its pages. Where
    the cache cannot be written, the model is unpacked each time.
    """
    from py3langid import langid, modelio

    source = langid.MODEL_DIR / langid.MODEL_FILE
    stat = source.stat()
    cached = _cache_dir() / f"langid-{stat.st_size}-{stat.st_mtime_ns}-v2"
    try:
        return {key: np.load(cached / f"{key}.npy", mmap_mode="r") for key in _KEYS}
    except (OSError, ValueError):
        pass
    ptc, pc, classes, nextmove, rows, output = modelio.load_model(source)
    arrays = {
        # float32 here, not float16 as shipped: numpy converts float16 slowly, row by row
        "ptc": np.asarray(ptc, dtype=np.float32),
        "pc": np.asarray(pc, dtype=np.float32),
        "labels": np.array([str(c) for c in classes]),
        "nextmove": np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode)),
        "rows": np.frombuffer(rows, dtype=np.dtype(rows.typecode)),
        "output": np.asarray(output, dtype=np.int32),
    }
    tmp = None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cached.parent, suffix=".tmp"))
        for key in _KEYS:
            np.save(tmp / f"{key}.npy", arrays[key])
        os.replace(tmp, cached)  # atomic: a reader never sees half a copy
    except OSError:  # no cache: a read-only home, or another process got there first
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    for array in arrays.values():
        array.flags.writeable = False  # as the cached copy maps: one compiled signature
    return arrays


def _model() -> _Model:
    with _LOCK:
        if not _MODEL:
            a = _model_arrays()
            labels = tuple(str(c) for c in a["labels"])
            _MODEL.append(
                _Model(
                    nextmove=a["nextmove"],
                    rowbase=a["rows"].astype(np.int64) << 8,
                    output=a["output"],
                    ptc=a["ptc"],
                    pc=a["pc"],
                    labels=labels,
                    groups=np.array([labels.index(c) for c in labels]),
                )
            )
        return _MODEL[0]


# documents whose automaton walks are interleaved: each step is a load from a 39 MB table that
# waits on memory, and the walks of different documents do not wait on each other
_LANES = 8


@njit(cache=True, nogil=True)
def _walk(
    nextmove: np.ndarray,
    rowbase: np.ndarray,
    output: np.ndarray,
    data: np.ndarray,
    starts: np.ndarray,
    found: np.ndarray,
    counts: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """The n-grams the automaton meets in each document ``data[starts[d]:starts[d + 1]]``,
    in byte order: ``found[starts[d]:starts[d] + counts[d]]``. ``_LANES`` documents are
    walked side by side, one byte of each in turn (with the scoring, ~2x faster a document
    than one after the other)."""
    n = len(starts) - 1
    state = np.zeros(_LANES, dtype=np.int64)
    for first in range(0, n, _LANES):
        lanes = min(_LANES, n - first)
        longest = 0
        for k in range(lanes):
            state[k] = 0
            longest = max(longest, starts[first + k + 1] - starts[first + k])
        for j in range(longest):
            for k in range(lanes):
                d = first + k
                i = starts[d] + j
                if i < starts[d + 1]:
                    s = nextmove[rowbase[state[k]] + data[i]]
                    state[k] = s
                    feature = output[s]
                    if feature >= 0:
                        found[starts[d] + counts[d]] = feature
                        counts[d] += 1


@njit(cache=True, nogil=True)
def _score(
    ptc: np.ndarray,
    pc: np.ndarray,
    groups: np.ndarray,
    features: np.ndarray,
    length: int,
) -> tuple[int, float]:  # pragma: no cover - compiled
    """(best column, its calibrated share) of a document of ``length`` bytes whose walk met
    ``features`` (in byte order); (-1, 0.0) when it met none.

    The n-grams are counted in a small open-addressing table (no sort), then each distinct
    n-gram adds ``log1p(count)`` times its row of ``ptc`` to the scores.
    """
    size = 16
    while size < 2 * length:
        size *= 2
    keys = np.full(size, -1, dtype=np.int32)
    counts = np.zeros(size, dtype=np.int32)
    mask = size - 1
    for feature in features:
        slot = (feature * 2654435761) & mask
        while keys[slot] != feature and keys[slot] != -1:
            slot = (slot + 1) & mask
        keys[slot] = feature
        counts[slot] += 1
    scores = pc.astype(np.float64)
    met = False
    for slot in range(size):
        if keys[slot] >= 0:
            met = True
            weight = np.log1p(np.float64(counts[slot]))
            row = ptc[keys[slot]]
            for k in range(scores.shape[0]):
                scores[k] += weight * row[k]
    if not met:
        return -1, 0.0
    best = int(np.argmax(scores))
    scale = np.sqrt(np.float64(length))
    total = 0.0
    same = 0.0
    for k in range(scores.shape[0]):
        calibrated = np.exp((scores[k] - scores[best]) / scale)
        total += calibrated
        if groups[k] == groups[best]:
            same += calibrated
    return best, same / total


@njit(cache=True, nogil=True)
def _classify_all(
    nextmove: np.ndarray,
    rowbase: np.ndarray,
    output: np.ndarray,
    ptc: np.ndarray,
    pc: np.ndarray,
    groups: np.ndarray,
    data: np.ndarray,
    starts: np.ndarray,
    best: np.ndarray,
    share: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """(best column, calibrated share) of each document ``data[starts[d]:starts[d + 1]]``."""
    found = np.empty(len(data), dtype=np.int32)
    counts = np.zeros(len(starts) - 1, dtype=np.int64)
    _walk(nextmove, rowbase, output, data, starts, found, counts)
    for d in range(len(starts) - 1):
        a = starts[d]
        best[d], share[d] = _score(ptc, pc, groups, found[a : a + counts[d]], starts[d + 1] - a)


def _encode(text: str) -> bytes:
    """The bytes the model reads: NFC, all-capitals lowered, UTF-8 (as py3langid does)."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def detect_language(text: str, *, min_confidence: float = 0.5) -> str:
    """ISO 639-1 code of the language of ``text``; "" when it cannot tell.

    Plainly English text (:func:`plainly_english`) is "en". Otherwise it reads the first 512
    bytes and answers what ``py3langid.classify`` answers for the same bytes, or "" where
    py3langid's own calibrated confidence (its ``norm_probs``: scores over the square root of
    the length, normalised) is below ``min_confidence``. On 5,120 SemEval-2022 texts in 10
    languages the first kilobyte agreed with the first 512 bytes on all but 5 (mixed-script
    headlines), both 0.997 correct, at 1.5x the time. Running text gets
    0.9 or more; tables of figures and all-capital headlines get 0.05–0.25, and a guess such as
    Nigerian Pidgin for a results table would mislead the stages that use the language.

    Example:
        >>> detect_language("The government announced a new plan on Monday morning.")
        'en'
        >>> detect_language("Die Regierung hat am Montag einen neuen Plan vorgestellt.")
        'de'
        >>> detect_language("12:30")
        ''
    """
    return detect_languages([text], min_confidence=min_confidence)[0]


def plainly_english(sample: str) -> bool:
    """Whether a text's opening is plainly English: no letter beyond ASCII (curly quotes and
    dashes are fine), 30 or more words, and at least 15% of them English-only function words.

    Example:
        >>> plainly_english("The minister said that the plan, which was agreed with the "
        ...     "unions after talks that lasted into the night, would be put to a vote "
        ...     "of the parliament when it returns from its summer recess in September.")
        True
        >>> plainly_english("Der Minister sagte, der Plan werde dem Parlament vorgelegt.")
        False
    """
    if not sample.isascii() and _NON_ASCII_LETTER.search(sample):
        return False
    words = _WORD_RE.findall(sample.lower())
    if len(words) < _ENGLISH_WORDS:
        return False
    return sum(map(_ENGLISH_ONLY.__contains__, words)) >= _ENGLISH_SHARE * len(words)


def detect_languages(texts: Sequence[str], *, min_confidence: float = 0.5) -> list[str]:
    """:func:`detect_language` of each text, the walks of several run side by side (what a
    batch of documents that come without a language is detected with)."""
    out = [""] * len(texts)
    todo, samples = [], []
    for i, text in enumerate(texts):
        sample = text[:_MAX_BYTES]
        if plainly_english(sample):
            out[i] = "en"
        elif _letters(sample[:64]) >= _MIN_LETTERS or _letters(sample) >= _MIN_LETTERS:
            todo.append(i)
            samples.append(_encode(sample)[:_MAX_BYTES])
    if not todo:
        return out
    starts = np.zeros(len(samples) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in samples], out=starts[1:])
    best = np.empty(len(samples), dtype=np.int64)
    share = np.empty(len(samples), dtype=np.float64)
    m = _model()
    data = np.frombuffer(b"".join(samples), np.uint8)
    _classify_all(m.nextmove, m.rowbase, m.output, m.ptc, m.pc, m.groups, data, starts, best, share)
    for i, b, confidence in zip(todo, best.tolist(), share.tolist(), strict=True):
        if b >= 0 and confidence >= min_confidence:
            out[i] = m.labels[b]
    return out
