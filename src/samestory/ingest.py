"""Read documents from folders of .txt, .html, JSONL, CSV (optionally .gz), WARC/ARC, or stdin.

Reading is two steps so a runner can split them across processes: :func:`records` walks the
inputs and yields :class:`Record` values (the raw line, row or file; cheap, in order), and
:func:`to_document` turns one record into a :class:`~samestory.document.Document` or a
:class:`Skipped` (malformed JSON, a missing or empty text field, binary data, bad encoding).
:func:`read_documents` chains both for callers that want documents and a skip callback.

Formats are chosen by file suffix in ``READERS``; a new format is one function that yields
records, added to that table. HTML pages (saved files or WARC responses) are extracted in
:func:`to_document`, so a multi-process runner extracts them in its workers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from samestory.document import Document
from samestory.errors import InputError
from samestory.extract import decode, html_document

__all__ = [
    "READERS",
    "Batch",
    "Fields",
    "LineSpan",
    "Record",
    "Skipped",
    "batches",
    "check_paths",
    "has_float",
    "pack",
    "read_documents",
    "records",
    "to_document",
    "to_documents",
]

STDIN = "-"
MAX_TEXT_CHARS = 10_000_000  # longer "articles" are data dumps, not news


@dataclass(frozen=True, slots=True)
class Fields:
    """Which record fields hold the text, id, date, source, title, language and url."""

    text: str = "text"
    id: str = "id"
    date: str = "date"
    source: str = "source"
    title: str = "title"
    lang: str = "lang"
    url: str = "url"


@dataclass(slots=True)
class Record:
    """One raw input record: ``kind`` is "json" (a line), "row" (a CSV dict), "file" (bytes),
    "html" (page bytes or a WarcPage), "doc" (a Document given in Python) or "error" (the
    reason a file or record could not be read)."""

    path: str
    line: int
    kind: str
    raw: Any


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input record that was not used, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line > 0 else self.path
        return f"{where}: skipped: {self.reason}"


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _read_jsonl(path: Path) -> Iterator[Record]:
    with _open_binary(path) as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                yield Record(str(path), n, "json", line)


def _read_csv(path: Path) -> Iterator[Record]:
    with _open_binary(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline="")
        reader = csv.DictReader(text, strict=True)
        try:
            for row in reader:
                yield Record(str(path), reader.line_num, "row", row)
        except csv.Error as exc:
            # a broken CSV cannot be resynchronised; the rows read so far stand
            yield Record(str(path), reader.line_num, "error", f"malformed CSV ({exc})")


def _read_txt(path: Path) -> Iterator[Record]:
    with _open_binary(path) as fh:
        yield Record(str(path), 1, "file", fh.read())


def _read_html(path: Path) -> Iterator[Record]:
    with _open_binary(path) as fh:
        yield Record(str(path), 1, "html", fh.read())


def _read_warc(path: Path) -> Iterator[Record]:
    from samestory.warc import warc_pages

    for page in warc_pages(str(path)):
        if isinstance(page, InputError):
            if page.path is not None:  # None: a record that is simply not an HTML page
                yield Record(str(path), 0, "error", page.reason)
        else:
            yield Record(str(path), 0, "html", page)


READERS: dict[str, Callable[[Path], Iterator[Record]]] = {
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".csv": _read_csv,
    ".txt": _read_txt,
    ".html": _read_html,
    ".htm": _read_html,
    ".warc": _read_warc,
    ".arc": _read_warc,
}


def _reader(path: Path) -> Callable[[Path], Iterator[Record]] | None:
    suffixes = path.suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return READERS.get(suffixes[-1].lower()) if suffixes else None


def check_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The input files, in a stable order; raises InputError for a missing or unknown path.

    Folders are walked recursively (sorted) for files with a known suffix.
    """
    files: list[Path] = []
    for given in paths:
        if str(given) == STDIN:
            files.append(Path(STDIN))
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _reader(p))
            files.extend(found)
        elif path.is_file():
            if _reader(path) is None:
                known = ", ".join(sorted(READERS))
                raise InputError(
                    f"unknown file type (known: {known}, optionally .gz)", path=str(path)
                )
            files.append(path)
        else:
            raise InputError("no such file or folder", path=str(path))
    return files


def records(files: Iterable[Path]) -> Iterator[Record]:
    """Raw records of the files from :func:`check_paths`, in order ("-" reads stdin JSONL)."""
    for path in files:
        if str(path) == STDIN:
            for n, line in enumerate(sys.stdin.buffer, 1):
                if line.strip():
                    yield Record("<stdin>", n, "json", line)
            continue
        reader = _reader(path)
        if reader is None:  # pragma: no cover - check_paths filters these
            continue
        try:
            yield from reader(path)
        except (OSError, EOFError) as exc:
            yield Record(str(path), 0, "error", f"unreadable: {exc}")


# Records in bulk, as four parallel lists (paths, line numbers, kinds, raw values): cheap to
# build and to send to a worker process. Blank JSONL lines may be included; skip them.
Batch = tuple[list[str], list[int], list[str], list[Any]]


def pack(records: Iterable[Record], size: int) -> Iterator[Batch]:
    """Records in batches of ``size``."""
    it = iter(records)
    while batch := list(islice(it, size)):
        yield (
            [r.path for r in batch],
            [r.line for r in batch],
            [r.kind for r in batch],
            [r.raw for r in batch],
        )


@dataclass(frozen=True, slots=True)
class LineSpan:
    """``count`` lines of a plain JSONL file, its bytes ``[start, end)``, the first being line
    ``first``: a batch that a worker reads itself (the runner only finds the line breaks)."""

    path: str
    start: int
    end: int
    first: int
    count: int

    def read(self) -> Batch:
        """The span as a :data:`Batch` of raw lines (as :func:`batches` would have given)."""
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            lines = io.BytesIO(fh.read(self.end - self.start)).readlines()
        n = len(lines)
        return [self.path] * n, list(range(self.first, self.first + n)), ["json"] * n, lines


def _line_spans(path: Path, size: int, block_size: int = 1 << 24) -> Iterator[LineSpan]:
    """:class:`LineSpan` batches of ``size`` lines, found by scanning for line breaks."""
    import numpy as np

    name = str(path)
    start = offset = count = 0  # span start, block start, line breaks in the span so far
    first = 1
    last = b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(block_size):
            breaks = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            # the span ends after its size-th line break: the (size - count)-th of this block
            for k in range(size - count - 1, len(breaks), size):
                end = offset + int(breaks[k]) + 1
                yield LineSpan(name, start, end, first, size)
                start, first = end, first + size
            count = (count + len(breaks)) % size
            offset += len(block)
            last = block[-1:]
    if offset > start:
        yield LineSpan(name, start, offset, first, count + (last != b"\n"))


def batches(files: Iterable[Path], size: int, *, spans: bool = False) -> Iterator[Batch | LineSpan]:
    """The records of ``files`` in batches of at most ``size``, one file at a time.

    JSONL files are read a batch of raw lines at a time without a Python step per line (the
    lines include blank ones); other formats go through :func:`records`. With ``spans``, a
    plain (not gzipped) JSONL file gives :class:`LineSpan` batches instead: the caller's
    workers read the lines, so the lines never pass through this process.
    """
    for path in files:
        reader = _reader(path) if str(path) != STDIN else None
        if reader is not _read_jsonl:
            yield from pack(records([path]), size)
            continue
        try:
            if spans and path.suffix != ".gz":
                yield from _line_spans(path, size)
                continue
            with _open_binary(path) as fh:
                first = 1
                while lines := list(islice(fh, size)):
                    n = len(lines)
                    yield [str(path)] * n, list(range(first, first + n)), ["json"] * n, lines
                    first += n
        except (OSError, EOFError) as exc:
            yield [str(path)], [0], ["error"], [f"unreadable: {exc}"]


def _field(obj: dict[str, Any], name: str) -> str:
    return _text(obj.get(name))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def record_date(obj: dict[str, Any], fields: Fields) -> Any:
    """The date value of a parsed record: its ``fields.date`` field, or, when that is the
    default ``date`` and the record has none, ``published`` (the field ``index export`` and
    the sample collection write), so an export reads back with its dates."""
    if fields.date == "date" and "date" not in obj:
        return obj.get("published")
    return obj.get(fields.date)


def _fast_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object on a line by orjson (3x faster), or None where json must decide: orjson
    refuses the line (a BOM, NaN, a lone surrogate, bad JSON: json's message or answer is
    kept), it is not an object, or it holds a float anywhere (orjson reads an integer beyond
    64 bits as one)."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return obj if type(obj) is dict and not has_float(obj) else None


def has_float(value: Any) -> bool:
    """Whether a parsed JSON value holds a float anywhere (in nested dicts, lists, tuples).

    One loop that passes strings, integers, booleans and None by their exact type (3-4x
    faster than sets of types on a flat record: it runs twice on every record an index adds).
    """
    kind = type(value)
    if kind is dict:
        value = value.values()
    elif kind is not list and kind is not tuple:
        return isinstance(value, float)
    for v in value:
        kind = type(v)
        if kind is str or kind is int or kind is bool or v is None:
            continue
        if kind is dict or kind is list or kind is tuple:
            if has_float(v):
                return True
        elif isinstance(v, float):
            return True
    return False


def to_document(
    record: Record, fields: Fields = Fields(), *, detect: bool = True
) -> Document | Skipped:
    """The Document in ``record``, or why it was skipped.

    ``Document.meta`` holds the whole original record (for JSON and CSV) so outputs can keep
    every original field. ``detect=False`` leaves a JSON or CSV record without a language
    to :func:`to_documents`, which detects a batch of them at once.
    """
    where = (record.path, record.line)
    if record.kind == "doc":
        doc: Document = record.raw
        return doc if doc.text.strip() else Skipped(*where, "empty text")
    if record.kind == "error":
        return Skipped(*where, record.raw)
    if record.kind == "html":
        return _html_document(record)
    obj: dict[str, Any]
    if record.kind == "file":
        try:
            decoded = decode(record.raw, path=record.path)
        except InputError as exc:
            return Skipped(*where, exc.reason)
        obj = {"path": record.path, fields.text: decoded.text}
        if decoded.detected:
            obj["encoding"] = decoded.encoding
        doc_id = Path(record.path).name
    elif record.kind == "json":
        try:
            obj = _fast_object(record.raw) or json.loads(record.raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return Skipped(*where, "not UTF-8")
        except ValueError as exc:
            return Skipped(*where, f"malformed JSON ({exc})")
        except RecursionError:
            return Skipped(*where, "JSON nested too deeply")
        if not isinstance(obj, dict):
            return Skipped(*where, "a JSON line must be an object")
        doc_id = _field(obj, fields.id)
    else:
        obj = record.raw
        doc_id = _field(obj, fields.id)
    text = _field(obj, fields.text)
    if len(text) > MAX_TEXT_CHARS:
        return Skipped(
            *where, f"text too long ({len(text):,} characters; limit {MAX_TEXT_CHARS:,})"
        )
    if not text.strip():
        reason = "empty text" if fields.text in obj else f"no {fields.text!r} field"
        return Skipped(*where, reason)
    if "\x00" in text or "\ufffd" in text:
        return Skipped(*where, "binary or badly encoded text")
    return Document(
        text,
        id=doc_id,
        title=_field(obj, fields.title),
        source=_field(obj, fields.source),
        url=_field(obj, fields.url),
        published=_text(record_date(obj, fields)),
        # detected by Document when the record has none (or later, by to_documents)
        lang=_field(obj, fields.lang) or ("" if detect else _UNDETECTED),
        meta=obj,
    )


# the language of a Document made with detect=False from a record without one (a new string
# object: no record's own value is this object)
_UNDETECTED = "".join(["und", "etected"])


def to_documents(
    records: Iterable[Record], fields: Fields = Fields()
) -> tuple[list[Document], list[Skipped]]:
    """The Documents of ``records`` and the records skipped, as :func:`to_document` makes
    them, with the languages of those that come without one detected in one batch
    (:func:`~samestory.language.detect_languages`, ~2x faster than one by one)."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for record in records:
        doc = to_document(record, fields, detect=False)
        (skipped if isinstance(doc, Skipped) else docs).append(doc)
    later = [d for d in docs if d.lang is _UNDETECTED]
    if later:
        from samestory.language import detect_languages

        for doc, lang in zip(later, detect_languages([d.text for d in later]), strict=True):
            doc.lang = lang
    return docs, skipped


def _html_document(record: Record) -> Document | Skipped:
    from samestory.warc import WarcPage, page_document

    try:
        if isinstance(record.raw, WarcPage):
            doc = page_document(record.raw, record.path)
        else:
            doc = html_document(record.raw, path=record.path)
            doc.meta["path"] = record.path
    except InputError as exc:
        return Skipped(record.path, record.line, exc.reason)
    return doc


def read_documents(
    paths: Iterable[str | os.PathLike[str]],
    *,
    fields: Fields = Fields(),
    on_skip: Callable[[Skipped], None] | None = None,
) -> Iterator[Document]:
    """Documents of every input; skipped records go to ``on_skip`` (default: stderr).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.jsonl").write_text('{"id": "1", "text": "Rain."}\\n{oops\\n')
        >>> skipped = []
        >>> [doc.id for doc in read_documents([d], on_skip=skipped.append)]
        ['1']
        >>> str(skipped[0]).startswith(str(d / "a.jsonl") + ":2: skipped: malformed JSON")
        True
    """
    files = check_paths(paths)
    report = on_skip or (lambda s: print(f"samestory: {s}", file=sys.stderr))
    for record in records(files):
        result = to_document(record, fields)
        if isinstance(result, Skipped):
            report(result)
        else:
            yield result
