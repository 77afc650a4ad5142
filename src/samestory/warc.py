"""Read articles out of WARC and ARC web archives (warcio, the ``warc`` extra).

HTML responses become Documents through :func:`samestory.extract.html_document`, with the
record's target URL and date. Other records (requests, metadata, images, ...) are counted, not
read. A corrupt record is reported with its byte offset and reading resumes at the next record
boundary, so one bad record never costs the rest of the archive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import BinaryIO

from samestory.document import Document
from samestory.errors import InputError, MissingDependency
from samestory.extract import html_document

__all__ = ["read_warc"]

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

    Raises:
        InputError: the file is missing or unreadable.
        MissingDependency: warcio is not installed.
    """
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError as exc:
        raise MissingDependency("warcio", "warc") from exc
    counts = counts if counts is not None else Counter()
    skip = on_skip or (lambda err: None)
    try:
        stream: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed below, also on resync
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", path=path) from exc
    with stream:
        head = stream.read(4)
        magic = _GZIP_MAGIC if head.startswith(_GZIP_MAGIC[:2]) else _WARC_MAGIC
        is_arc = path.endswith((".arc", ".arc.gz"))
        offset = 0
        while offset is not None:
            stream.seek(offset)
            records = ArchiveIterator(stream, arc2warc=is_arc)
            last = offset
            try:
                for record in records:
                    last = offset + records.offset
                    doc = _record_document(record, path, last, counts, skip)
                    if doc is not None:
                        yield doc
                offset = None
            except Exception as exc:  # warcio raises many types on corrupt data
                counts["corrupt"] += 1
                skip(InputError(f"corrupt record at byte {last} ({type(exc).__name__})", path=path))
                offset = _resync(stream, last + 1, magic)


def _record_document(
    record: object,
    path: str,
    offset: int,
    counts: Counter[str],
    skip: Callable[[InputError], None],
) -> Document | None:
    rec_type = getattr(record, "rec_type", "")
    if rec_type not in ("response", "resource"):
        counts["other"] += 1
        return None
    headers = getattr(record, "http_headers", None)
    ctype = (headers.get_header("Content-Type") if headers else None) or ""
    if "html" not in ctype.lower():
        counts["other"] += 1
        return None
    rec_headers = record.rec_headers  # type: ignore[attr-defined]
    url = rec_headers.get_header("WARC-Target-URI") or ""
    date = rec_headers.get_header("WARC-Date") or ""
    body = record.content_stream().read()  # type: ignore[attr-defined]
    if getattr(record.raw_stream, "limit", 0):  # type: ignore[attr-defined]
        # fewer bytes than the record's Content-Length: the archive was cut short here
        counts["corrupt"] += 1
        skip(InputError(f"truncated record at byte {offset}", path=path))
        return None
    try:
        doc = html_document(body, url=url, published=date[:10], path=f"{path}@{offset}")
    except InputError as err:
        counts["no_text"] += 1
        skip(err)
        return None
    doc.meta.setdefault("warc_date", date)
    counts["html"] += 1
    return doc
