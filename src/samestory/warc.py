"""Read articles out of WARC and ARC web archives (warcio, the ``warc`` extra).

HTML responses become Documents through :func:`samestory.extract.html_document`, with the
record's target URL and date. Other records (requests, metadata, images, ...) are counted, not
read. A corrupt record is reported with its byte offset and reading resumes at the next record
boundary, so one bad record never costs the rest of the archive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from samestory.document import Document
from samestory.errors import InputError, MissingDependency
from samestory.extract import html_document

__all__ = ["WarcPage", "page_document", "read_warc", "warc_pages"]

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/"
_SCAN_CHUNK = 1 << 20


def _resync(stream: BinaryIO, start: int, magic: bytes) -> int | None:
    """The offset of the next record boundary at or after ``start``, or None at the end."""
    stream.seek(start)
    carry = b""
    pos = start
    while True:
        chunk = stream.read(_SCAN_CHUNK)
        if not chunk:
            return None
        buf = carry + chunk
        i = buf.find(magic)
        if i >= 0:
            return pos - len(carry) + i
        carry = buf[-(len(magic) - 1) :]
        pos += len(chunk)


@dataclass(slots=True, frozen=True)
class WarcPage:
    """One HTML response of an archive, not yet extracted."""

    offset: int
    url: str
    date: str
    body: bytes


def warc_pages(path: str, *, counts: Counter[str] | None = None) -> Iterator[WarcPage | InputError]:
    """The HTML responses of the archive at ``path``, and an InputError per unreadable record.

    Raises:
        InputError: the file is missing or unreadable.
        MissingDependency: warcio is not installed.
    """
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError as exc:
        raise MissingDependency("warcio", "warc") from exc
    counts = counts if counts is not None else Counter()
    try:
        stream: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed below, also on resync
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", path=path) from exc
    with stream:
        head = stream.read(4)
        magic = _GZIP_MAGIC if head.startswith(_GZIP_MAGIC[:2]) else _WARC_MAGIC
        is_arc = path.endswith((".arc", ".arc.gz"))
        offset: int | None = 0
        while offset is not None:
            stream.seek(offset)
            records = ArchiveIterator(stream, arc2warc=is_arc)
            last: int | None = None  # start of the last record read in this pass
            try:
                for record in records:
                    last = offset + records.offset
                    yield _page(record, path, last, counts)
                offset = None
            except Exception as exc:  # warcio raises many types on corrupt data
                # the bad record is the one after the last good one (or the first of the pass)
                bad = offset if last is None else _resync(stream, last + 1, magic)
                if bad is None:
                    bad = last if last is not None else offset
                counts["corrupt"] += 1
                yield InputError(f"corrupt record at byte {bad} ({type(exc).__name__})", path=path)
                offset = _resync(stream, bad + 1, magic)


def _page(record: Any, path: str, offset: int, counts: Counter[str]) -> WarcPage | InputError:
    if record.rec_type not in ("response", "resource"):
        counts["other"] += 1
        return _OTHER
    headers = record.http_headers
    ctype = (headers.get_header("Content-Type") if headers else None) or ""
    if "html" not in ctype.lower():
        counts["other"] += 1
        return _OTHER
    body = record.content_stream().read()
    if record.raw_stream.limit:
        # fewer bytes than the record's Content-Length: the archive was cut short here
        counts["corrupt"] += 1
        return InputError(f"truncated record at byte {offset}", path=path)
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    date = record.rec_headers.get_header("WARC-Date") or ""
    return WarcPage(offset, url, date, body)


_OTHER = InputError("not an HTML response")


def page_document(page: WarcPage, path: str) -> Document:
    """The article of one archived page (raises InputError when it holds none)."""
    doc = html_document(
        page.body, url=page.url, published=page.date[:10], path=f"{path}@{page.offset}"
    )
    doc.meta.setdefault("warc_date", page.date)
    return doc


def read_warc(
    path: str,
    *,
    on_skip: Callable[[InputError], None] | None = None,
    counts: Counter[str] | None = None,
) -> Iterator[Document]:
    """Yield one Document per HTML response record of the archive at ``path``.

    Args:
        path: a .warc, .warc.gz, .arc or .arc.gz file.
        on_skip: called with an InputError (path, byte offset in the message) for every record
            that could not be read or held no article.
        counts: if given, counts of records by outcome (``html``, ``other``, ``corrupt``, ...).
    """
    counts = counts if counts is not None else Counter()
    skip = on_skip or (lambda err: None)
    for page in warc_pages(path, counts=counts):
        if page is _OTHER:
            continue
        if isinstance(page, InputError):
            skip(page)
            continue
        try:
            doc = page_document(page, path)
        except InputError as err:
            counts["no_text"] += 1
            skip(err)
            continue
        counts["html"] += 1
        yield doc
