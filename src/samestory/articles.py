"""Read one article for ``samestory compare``: a file, stdin, or a string, checked first.

A plain-text file may start with a title line: a short first line (at most 25 words and 200
characters) that does not end like a sentence, followed by more text. It becomes the
document's title and the text starts after it; ``meta["text_offset"]`` says where, so spans
can be placed in the file too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import BinaryIO

from samestory.document import Document
from samestory.errors import InputError

__all__ = ["MAX_ARTICLE_BYTES", "read_article", "split_title"]

MAX_ARTICLE_BYTES = 5_000_000
"""Largest article ``compare`` reads (a long news article is under 100 kB)."""

_TITLE_END = re.compile(r"[.!?:;,\"')\]]\s*$")


def split_title(text: str) -> tuple[str, int]:
    """(title, offset of the text after it), or ("", 0) when the first line is no title.

    Example:
        >>> split_title("Storm hits coast\\n\\nA storm hit the coast on Monday.")
        ('Storm hits coast', 18)
        >>> split_title("A storm hit the coast on Monday.\\nIt rained.")
        ('', 0)
    """
    first, sep, rest = text.partition("\n")
    title = first.strip()
    if (
        not sep
        or not rest.strip()
        or not title
        or len(title) > 200
        or len(title.split()) > 25
        or _TITLE_END.search(title)
    ):
        return "", 0
    offset = len(first) + 1
    while offset < len(text) and text[offset] in "\r\n":
        offset += 1
    return title, offset


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise InputError("looks like a binary file, not text", path=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        print(
            f"samestory: warning: {name}: invalid UTF-8 at byte {exc.start}; "
            "undecodable bytes were replaced with U+FFFD",
            file=sys.stderr,
        )
        return data.decode("utf-8", errors="replace")


def _read_limited(stream: BinaryIO, name: str) -> bytes:
    data = stream.read(MAX_ARTICLE_BYTES + 1)
    if len(data) > MAX_ARTICLE_BYTES:
        raise InputError(
            f"is over the {MAX_ARTICLE_BYTES // 1_000_000} MB limit for one article "
            "(compare is for articles; use dedup for corpora)",
            path=name,
        )
    return data


def read_article(path: str, *, stdin: BinaryIO | None = None) -> Document:
    """Read, check and decode one article file ("-" is stdin) into a Document.

    Raises:
        InputError: missing, unreadable, empty, binary or too large (the message names it).
    """
    if path == "-":
        name = "<stdin>"
        data = _read_limited(stdin or sys.stdin.buffer, name)
    else:
        name = path
        p = Path(path)
        if not p.exists():
            raise InputError("no such file", path=name)
        if p.is_dir():
            raise InputError("is a directory, not an article file", path=name)
        try:
            size = p.stat().st_size
            if size > MAX_ARTICLE_BYTES:
                raise InputError(
                    f"is {size / 1e6:.1f} MB, over the {MAX_ARTICLE_BYTES // 1_000_000} MB "
                    "limit for one article (compare is for articles; use dedup for corpora)",
                    path=name,
                )
            with p.open("rb") as fh:
                data = _read_limited(fh, name)
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror})", path=name) from exc
    text = _decode(data, name)
    if not text.strip():
        raise InputError("is empty", path=name)
    title, offset = split_title(text)
    return text_document(text[offset:], title=title, name=name, offset=offset)


def text_document(text: str, *, title: str = "", name: str = "", offset: int = 0) -> Document:
    """A Document for an article given as a string (checked to be non-empty)."""
    if not text.strip():
        raise InputError("is empty", path=name or "<text>")
    meta = {"path": name, "text_offset": offset} if name else {}
    return Document(text, title=title, meta=meta)
