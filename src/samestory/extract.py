"""Extract articles from what users actually have: bytes in some encoding, saved web pages.

- :func:`decode` turns bytes into text: UTF-8 when it is, otherwise the encoding
  charset-normalizer detects (reported), and binary data is refused.
- :func:`html_document` extracts an HTML page's main text with trafilatura (boilerplate such as
  navigation, cookie banners and comments left out) and its title, publication date, site name
  and canonical URL from the page's metadata.

trafilatura and charset-normalizer come with the ``warc`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass

from samestory.document import Document
from samestory.errors import InputError, MissingDependency

__all__ = ["Decoded", "decode", "html_document"]

_PREFERRED = {name: rank for rank, name in enumerate(["cp1252", "latin_1", "iso8859_15"])}
_BINARY_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13, 27}
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


@dataclass(slots=True, frozen=True)
class Decoded:
    """Text decoded from bytes, and the encoding that was used."""

    text: str
    encoding: str
    detected: bool  # True when the bytes were not UTF-8 and the encoding was guessed


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b in _BINARY_CONTROL)
    return controls > max(8, len(head) // 100)


def decode(data: bytes, *, path: str | None = None, line: int | None = None) -> Decoded:
    """Decode ``data`` as UTF-8, or as the encoding charset-normalizer detects.

    Raises:
        InputError: the data is binary, or no encoding explains it.

    Example:
        >>> decode("café au lait".encode("latin-1")).text
        'café au lait'
        >>> decode("café".encode("latin-1")).text
        'café'
        >>> decode("\ufeffnews".encode("utf-16-le")).encoding
        'utf-16-le'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for bom, encoding in _BOMS:  # UTF-16/32 text is full of NUL bytes: read it before that test
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise InputError(
                    f"invalid {encoding} after its byte-order mark", path=path, line=line
                ) from None
            if _looks_binary(text.encode("utf-8", "surrogatepass")):
                raise InputError("binary data, not text", path=path, line=line)
            return Decoded(text, encoding, True)
    if _looks_binary(data):
        raise InputError("binary data, not text", path=path, line=line)
    try:
        return Decoded(data.decode("utf-8"), "utf-8", False)
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        text = data.decode("utf-8", errors="replace")
        return Decoded(text, "utf-8 (invalid bytes replaced)", True)
    # without a byte-order mark, UTF-16/32 is a wrong guess: such text has NUL bytes (refused
    # above) unless it is all CJK, and short Latin-1 text is easily misread as it
    matches = [m for m in from_bytes(data) if not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        raise InputError("not text in any known encoding", path=path, line=line)
    best = matches[0]
    if best.coherence == 0.0:
        # no language evidence (a short text): every code page fits equally; do what browsers
        # do with unlabelled Western text and read it as windows-1252 where that works
        try:
            return Decoded(data.decode("cp1252"), "cp1252", True)
        except UnicodeDecodeError:
            pass
    # single-byte code pages often decode the same bytes equally well; then the most common
    # one in news (Western European) is the better guess
    tied = [
        m
        for m in matches
        if abs(m.chaos - best.chaos) < 1e-9 and abs(m.coherence - best.coherence) < 1e-9
    ]
    best = min(tied, key=lambda m: _PREFERRED.get(m.encoding, len(_PREFERRED)))
    return Decoded(str(best), best.encoding, True)


def html_document(
    html: str | bytes,
    *,
    url: str = "",
    published: str = "",
    path: str | None = None,
    line: int | None = None,
) -> Document:
    """The article in an HTML page, with its metadata.

    Args:
        html: the page (bytes are decoded with :func:`decode`).
        url: where the page came from (e.g. the WARC record), used when the page names none.
        published: a fallback date (e.g. the WARC record's) when the page gives none.
        path, line: where the page came from, for error messages.

    Raises:
        InputError: the page has no extractable main text.
        MissingDependency: trafilatura is not installed.
    """
    try:
        import trafilatura
    except ImportError as exc:
        raise MissingDependency("trafilatura", "warc") from exc
    meta: dict[str, object] = {}
    if isinstance(html, bytes):
        decoded = decode(html, path=path, line=line)
        html = decoded.text
        meta["encoding"] = decoded.encoding
    result = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, fast=True, include_comments=False
    )
    text = (getattr(result, "text", None) or "").strip() if result is not None else ""
    if not text:
        raise InputError("no article text found in the HTML page", path=path, line=line)
    title = (getattr(result, "title", None) or "").strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = rest.strip()  # trafilatura repeats the headline as the first line
    source = getattr(result, "sitename", None) or getattr(result, "hostname", None) or ""
    return Document(
        text=text,
        title=title,
        source=str(source),
        url=str(getattr(result, "url", None) or url),
        published=str(getattr(result, "date", None) or published),
        meta=meta,
    )
