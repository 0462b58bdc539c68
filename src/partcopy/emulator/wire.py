"""Pieces every wire adapter shares: the answer value, XML writing, header parsing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import unquote
from xml.sax.saxutils import escape

from partcopy.store.data import Content
from partcopy.store.memory import StoreError

__all__ = [
    "Answer",
    "http_date",
    "iso_date",
    "parse_copy_range",
    "parse_part_number",
    "parse_query",
    "query_int",
    "sse_c_md5",
    "xml_doc",
    "xml_elements",
]


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer before it is written: fixed ``body`` or ``stream`` content."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = field(default=b"", repr=False)
    stream: Content | None = field(default=None, repr=False)
    head_length: int | None = None
    """For HEAD: the Content-Length to announce with no body."""


def iso_date(when: datetime) -> str:
    """``2009-10-12T17:50:30.000Z`` as S3's XML writes times."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def http_date(when: datetime) -> str:
    """RFC 7231 date for ``Last-Modified``."""
    return format_datetime(when, usegmt=True)


def xml_elements(items: Iterable[tuple[str, object]]) -> str:
    """``<Name>value</Name>`` for each pair; a list value repeats, a tuple nests."""
    out: list[str] = []
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, list):
            for item in value:
                out.append(xml_elements([(name, item)]))
        elif isinstance(value, tuple):
            out.append(f"<{name}>{xml_elements(value)}</{name}>")
        elif isinstance(value, bool):
            out.append(f"<{name}>{'true' if value else 'false'}</{name}>")
        else:
            out.append(f"<{name}>{escape(str(value))}</{name}>")
    return "".join(out)


def xml_doc(root: str, items: Iterable[tuple[str, object]], namespace: str | None) -> bytes:
    """A whole XML document with ``root`` holding ``items``."""
    ns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{ns}>{xml_elements(items)}</{root}>'
    ).encode()


def parse_query(raw: str) -> dict[str, str]:
    """Decoded query parameters (first value wins; a bare ``?uploads`` maps to "")."""
    out: dict[str, str] = {}
    for piece in raw.split("&") if raw else []:
        if not piece:
            continue
        name, _, value = piece.partition("=")
        out.setdefault(unquote(name), unquote(value))
    return out


def parse_part_number(text: str | None) -> int | None:
    """A part number from the query; ``InvalidArgument`` when it is not an integer."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise StoreError(400, "InvalidArgument", "Part number must be an integer") from None


def query_int(text: str | None, default: int, what: str, minimum: int = 0) -> int:
    """An integer query value (``default`` when absent or empty); ``InvalidArgument`` else."""
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise StoreError(400, "InvalidArgument", f"{what} must be an integer") from None
    if value < minimum:
        raise StoreError(400, "InvalidArgument", f"{what} must not be negative")
    return value


def parse_copy_range(text: str | None, header: str) -> tuple[int, int] | None:
    """``bytes=first-last`` (both required) or ``InvalidArgument`` as S3 answers."""
    if text is None:
        return None
    value = text.strip()
    first_text, sep, last_text = (
        value[6:].partition("-") if value.startswith("bytes=") else ("", "", "")
    )
    if not sep or not first_text.isdigit() or not last_text.isdigit():
        raise StoreError(
            400,
            "InvalidArgument",
            f"The {header} value must be of the form bytes=first-last where first and last "
            "are the zero-based offsets of the first and last bytes to copy",
        )
    return int(first_text), int(last_text)


def sse_c_md5(algorithm: str | None, key: str | None, key_md5: str | None) -> str | None:
    """Validate SSE-C headers; return the base64 MD5 of the key (never the key)."""
    if algorithm is None and key is None and key_md5 is None:
        return None
    if algorithm != "AES256":
        raise StoreError(
            400,
            "InvalidEncryptionAlgorithmError",
            "The Encryption request you specified is not valid. Supported value: AES256.",
        )
    try:
        raw = base64.b64decode(key or "", validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise StoreError(
            400, "InvalidArgument", "The secret key was invalid for the specified algorithm."
        )
    digest = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if key_md5 is not None and key_md5 != digest:
        raise StoreError(
            400,
            "InvalidArgument",
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        )
    return digest
