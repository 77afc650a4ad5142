"""Frozen settings per stage, each with a fingerprint stored beside what it made."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from samestory.errors import SettingsError


def _fingerprint(obj: object) -> str:
    payload = json.dumps({"type": type(obj).__name__, **asdict(obj)}, sort_keys=True)  # type: ignore[call-overload]
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """How texts are normalised before anything else looks at them.

    Attributes:
        fix_unicode: repair mojibake and normalise compatibility characters (ftfy).
        join_hyphens: join stray in-word hyphens ("govern-ment") when the word list agrees.
        strip_boilerplate: drop boilerplate lines ("Share this article", ...).
        read_dateline: read and remove a leading dateline ("PARIS (AFP) -").
        min_joined_zipf: the joined word must be at least this frequent (Zipf scale).
        min_zipf_gain: ... and this much more frequent than the hyphenated form.
    """

    fix_unicode: bool = True
    join_hyphens: bool = True
    strip_boilerplate: bool = True
    read_dateline: bool = True
    min_joined_zipf: float = 3.0
    min_zipf_gain: float = 1.5

    def fingerprint(self) -> str:
        return _fingerprint(self)


@dataclass(frozen=True, slots=True)
class MinHashConfig:
    """Shingling, MinHash and LSH banding settings.

    Attributes:
        ngram: words per shingle.
        num_perm: signature length.
        threshold: the Jaccard similarity a pair must reach to be a near-duplicate.
        bands, rows: LSH banding; 0 means chosen from the threshold.
        seed: seed of the hash functions.
    """

    ngram: int = 5
    num_perm: int = 128
    threshold: float = 0.8
    bands: int = 0
    rows: int = 0
    seed: int = 1

    def __post_init__(self) -> None:
        if self.ngram < 1:
            raise SettingsError(f"ngram must be at least 1, got {self.ngram}")
        if self.num_perm < 2:
            raise SettingsError(f"num_perm must be at least 2, got {self.num_perm}")
        if not 0.0 < self.threshold <= 1.0:
            raise SettingsError(f"threshold must be in (0, 1], got {self.threshold}")
        if (self.bands == 0) != (self.rows == 0):
            raise SettingsError("give both bands and rows, or neither (chosen from threshold)")
        if self.bands and self.bands * self.rows > self.num_perm:
            raise SettingsError(
                f"bands*rows = {self.bands * self.rows} must not exceed num_perm "
                f"{self.num_perm}. Did you forget to set num_perm?"
            )

    def fingerprint(self) -> str:
        return _fingerprint(self)


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Settings of a dedup run (everything that changes its answers).

    Attributes:
        minhash: shingling, MinHash and banding settings.
        clean: the clean stage run on every text first.
        verify: check every candidate pair on its real shingle sets (no false positives).
        exact_only: only exact duplicates of the cleaned text; no MinHash.
    """

    minhash: MinHashConfig = MinHashConfig()
    clean: CleanConfig = CleanConfig()
    verify: bool = True
    exact_only: bool = False

    def bands_rows(self) -> tuple[int, int]:
        """The banding in use: the given one, else the best for the threshold.

        With verification false positives cost only a check, so the choice weighs false
        negatives 0.95 (16 x 8 at 0.8 / 128); without it both weigh 0.5.
        """
        from samestory.lsh import optimal_bands

        if self.minhash.bands:
            return self.minhash.bands, self.minhash.rows
        fn = 0.95 if self.verify else 0.5
        return optimal_bands(
            self.minhash.threshold, self.minhash.num_perm, fp_weight=1 - fn, fn_weight=fn
        )

    def fingerprint(self) -> str:
        return _fingerprint(self)
