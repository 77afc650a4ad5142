"""The plain values that flow between stages. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import xxhash


def text_id(text: str) -> str:
    """A stable 16-hex-digit id for a text (xxh3-64 of its UTF-8 bytes)."""
    return xxhash.xxh3_64_hexdigest(text.encode("utf-8", "surrogatepass"))


@dataclass(slots=True)
class Document:
    """One article as given by the user.

    The id is stable: the one given, else a hash of source+url, else a hash of the text.

    Example:
        >>> Document("Storm hits coast.", title="Storm").id == Document("Storm hits coast.").id
        True
    """

    text: str
    id: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""
    lang: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            if self.url:
                self.id = text_id(f"{self.source}\x00{self.url}")
            else:
                self.id = text_id(self.text)
