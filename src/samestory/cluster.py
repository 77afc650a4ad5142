"""Duplicate clusters: connected components of verified pairs, and the copy each cluster keeps.

Components come from a union-find (numba; :func:`reference_components` is the plain-Python
definition that tests compare against). Every document is labelled with the smallest document
index in its component, so labels do not depend on the order pairs were found in.

The representative rule: the earliest published date among members that have one; when no
member has a date, the longest clean text; remaining ties go to the earliest input position.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

import numba
import numpy as np

__all__ = [
    "EARLIEST_DATE",
    "LONGEST_TEXT",
    "components",
    "parse_date",
    "reference_components",
    "representatives",
]

EARLIEST_DATE = "earliest date"
LONGEST_TEXT = "longest clean text (words)"

_FORMATS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d-%b-%Y", "%Y/%m/%d", "%d/%m/%Y")
_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_DMY = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})(?: (\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


@lru_cache(maxsize=65_536)
def _midnight(year: int, month: int, day: int) -> float:
    try:
        return datetime(year, month, day, tzinfo=UTC).timestamp()
    except ValueError:
        return math.nan


@lru_cache(maxsize=65_536)
def parse_date(value: str) -> float:
    """Seconds since the epoch (UTC) of a date string, or NaN when it cannot be read.

    Reads ISO 8601, RFC 2822 and a few common forms such as ``26-FEB-1987 15:01:01.79``; a date
    without a zone is taken as UTC.

    Example:
        >>> parse_date("1987-02-26") == parse_date("26-FEB-1987 00:00:00.00")
        True
    """
    value = value.strip()
    if not value:
        return math.nan
    m = _DMY.fullmatch(value)
    if m and m.group(2).title() in _MONTHS:
        # the common "26-FEB-1987 15:01:01.79" form without strptime (10x faster)
        day, mon, year, hh, mm, ss, frac = m.groups()
        midnight = _midnight(int(year), _MONTHS[mon.title()], int(day))
        if math.isnan(midnight) or int(hh or 0) > 23 or int(mm or 0) > 59 or int(ss or 0) > 59:
            return math.nan
        micro = int((frac or "0")[:6].ljust(6, "0"))
        return midnight + int(hh or 0) * 3600 + int(mm or 0) * 60 + int(ss or 0) + micro / 1e6
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(_FRACTION.sub(r"\1", value.title()), fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            try:
                parsed = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return math.nan
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@numba.njit(cache=True)
def _union_find(n, left, right):  # type: ignore[no-untyped-def]
    parent = np.arange(n)
    for k in range(len(left)):
        a, b = left[k], right[k]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            # the smaller index becomes the root, so a root is its component's minimum
            if a < b:
                parent[b] = a
            else:
                parent[a] = b
    for i in range(n):
        r = i
        while parent[r] != r:
            r = parent[r]
        parent[i] = r
    return parent


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Component label of each of ``n`` documents: the smallest index in its component.

    Example:
        >>> components(5, np.array([[3, 4], [1, 3]])).tolist()
        [0, 1, 2, 1, 1]
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return _union_find(np.int64(n), pairs[:, 0].copy(), pairs[:, 1].copy())  # type: ignore[no-any-return]


def reference_components(n: int, pairs: np.ndarray) -> np.ndarray:
    """The definition of :func:`components` in plain Python (for tests)."""
    neighbours: dict[int, list[int]] = {}
    for a, b in np.asarray(pairs).reshape(-1, 2).tolist():
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    labels = list(range(n))
    seen = [False] * n
    for start in range(n):
        if seen[start]:
            continue
        stack, members = [start], []
        seen[start] = True
        while stack:
            i = stack.pop()
            members.append(i)
            for j in neighbours.get(i, []):
                if not seen[j]:
                    seen[j] = True
                    stack.append(j)
        for i in members:
            labels[i] = min(members)
    return np.array(labels, dtype=np.int64)


def representatives(
    labels: np.ndarray, dates: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept member of every cluster with more than one member.

    Args:
        labels: component label per document (from :func:`components`).
        dates: publication time per document (NaN when unknown).
        lengths: clean text length per document (samestory counts words).

    Returns:
        ``(roots, kept, by_date)``: each cluster's label, the index of the document it keeps,
        and whether the earliest date chose it (else the longest clean text did).
    """
    n = len(labels)
    idx = np.arange(n)
    date_key = np.where(np.isnan(dates), np.inf, dates)
    order = np.lexsort((idx, -np.asarray(lengths, dtype=np.int64), date_key, labels))
    first = np.ones(n, dtype=bool)
    sorted_labels = labels[order]
    first[1:] = sorted_labels[1:] != sorted_labels[:-1]
    sizes = np.bincount(labels, minlength=n)
    chosen = order[first]
    multi = sizes[labels[chosen]] > 1
    chosen = chosen[multi]
    return labels[chosen], chosen, np.isfinite(date_key[chosen])
