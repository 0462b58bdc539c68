"""Pieces every wire adapter shares: the answer value, XML writing, header parsing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl, quote, unquote
from xml.sax.saxutils import escape

from partcopy.store.data import Content
from partcopy.store.memory import StoreError

__all__ = [
    "Answer",
    "check_tags",
    "decode_token",
    "encode_token",
    "http_date",
    "http_time",
    "iso_date",
    "owner_id",
    "parse_copy_range",
    "parse_part_number",
    "parse_query",
    "parse_tag_header",
    "query_int",
    "sse_c_md5",
    "tag_header",
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


def http_time(text: str | None) -> datetime | None:
    """An HTTP date header's time; None when absent or unparsable (then it is ignored,
    as RFC 9110 says of a malformed If-Modified-Since)."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


MAX_TAGS = 10


def check_tags(tags: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """An object tag set within S3's limits (10 tags, keys ≤ 128, values ≤ 256, unique)."""
    out = tuple(tags)
    keys = [k for k, _ in out]
    bad = (
        len(out) > MAX_TAGS
        or len(set(keys)) != len(keys)
        or any(not k or len(k) > 128 or len(v) > 256 for k, v in out)
    )
    if bad:
        raise StoreError(
            400,
            "InvalidTag",
            "The tag set is not valid: at most 10 tags, unique keys of 1-128 characters, "
            "values of at most 256 characters",
        )
    return out


def parse_tag_header(text: str) -> tuple[tuple[str, str], ...]:
    """The ``x-amz-tagging`` header (``k1=v1&k2=v2``, URL-encoded) as a checked tag set."""
    return check_tags(parse_qsl(text, keep_blank_values=True))


def tag_header(tags: Iterable[tuple[str, str]]) -> str:
    """A tag set in the header's form (how the store keeps it)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags)


def encode_token(key: str) -> str:
    """An opaque ListObjectsV2 continuation token naming where the next page starts."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_token(token: str) -> str:
    """The key a continuation token names; 400 ``InvalidArgument`` for a forged one."""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise StoreError(
            400, "InvalidArgument", "The continuation token provided is incorrect"
        ) from None


def owner_id(access_key: str) -> str:
    """A stable canonical-user-like id for an access key (never the key's secret)."""
    return hashlib.sha256(f"partcopy-owner:{access_key}".encode()).hexdigest()
