"""The rows as a table: ``partcopy providers`` (text or ``--json``) and the README section."""

from __future__ import annotations

from collections.abc import Iterable

from partcopy.providers.model import Provider
from partcopy.providers.registry import DIALECT_ROWS, PROVIDERS
from partcopy.units import GiB, KiB, MiB, TiB

__all__ = ["describe", "markdown_table", "quirk_words"]

_UNITS = (
    ("TiB", TiB),
    ("TB", 1000**4),
    ("GiB", GiB),
    ("GB", 1000**3),
    ("MiB", MiB),
    ("MB", 1000**2),
    ("KiB", KiB),
    ("KB", 1000),
)


def _size(n: int) -> str:
    """``5 GiB`` / ``5 TB`` when round in a unit (under 10000 of it), else ``48.8 TiB``."""
    for unit, factor in _UNITS:
        if n >= factor and n % factor == 0 and n // factor < 10_000:
            return f"{n // factor} {unit}"
    for unit, factor in _UNITS[::2]:
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def describe(row: Provider) -> dict[str, object]:
    """One row as plain JSON-able data (``partcopy providers --json``)."""
    limits = row.limits
    return {
        "name": row.name,
        "title": row.title,
        "dialect": row.dialect,
        "schemes": list(row.schemes),
        "min_part": limits.min_part,
        "max_part": limits.max_part,
        "max_parts": limits.max_parts,
        "first_part_number": limits.first_part_number,
        "max_object": limits.max_object,
        "single_copy_max": limits.single_max,
        "range_copy_floor": row.range_copy_floor,
        "server_side_copy": row.server_side_copy,
        "part_etag_md5": row.part_etag_md5,
        "copy_part_etag_md5": row.copy_part_etag_md5,
        "composite_etag": row.composite_etag,
        "checksums": sorted(row.checksums),
        "tagging": row.tagging,
        "canned_acls": row.canned_acls,
        "sse_kms": row.sse_kms,
        "default_region": row.default_region,
        "endpoint_template": row.endpoint_template,
        "public_hosts": list(row.public_hosts),
        "addressing": row.addressing,
        "credential_env": {
            "access_key": row.env.access_key,
            "secret_key": row.env.secret_key,
            "session_token": row.env.session_token,
        },
        "quirks": quirk_words(row),
    }


def quirk_words(row: Provider) -> list[str]:
    """The row's quirks in words."""
    q = row.quirks
    words = []
    if not row.server_side_copy:
        words.append("no UploadPartCopy: auto mode relays")
    if not row.copy_part_etag_md5:
        words.append("UploadPartCopy ETag is not the range's MD5")
    if q.clamp_copy_range:
        words.append("copy range past the end is clamped")
    if not q.version_ids:
        words.append("no version ids")
    if not q.list_uploads_next_key_marker:
        words.append("ListMultipartUploads omits NextKeyMarker")
    if q.min_bucket_name > 1:
        words.append(f"bucket names of at least {q.min_bucket_name} characters")
    if q.equal_parts:
        words.append("all parts but the last the same size")
    if q.max_parts_in_flight is not None:
        words.append(f"at most {q.max_parts_in_flight} parts in flight per object")
    return [*words, *q.notes]


def markdown_table(rows: Iterable[Provider] | None = None) -> str:
    """The rows as a Markdown table (the README's "Providers" section is this text)."""
    head = (
        "| row | store | locations | parts (size, count, numbers) | max object "
        "| single copy | range-copy floor | Complete ETag | default endpoint | quirks |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for row in PROVIDERS.values() if rows is None else rows:
        lim = row.limits
        own = ", ".join(f"`{s}://`" for s in row.schemes)
        url = own or f"`{DIALECT_ROWS[row.dialect].schemes[0]}://` + `--provider {row.name}`"
        parts = (
            f"{_size(lim.min_part)}–{_size(lim.max_part)}, {lim.max_parts}, "
            f"{lim.first_part_number}..{lim.last_part_number}"
        )
        floor = _size(row.range_copy_floor) if row.range_copy_floor else "none"
        endpoint = f"`{row.endpoint_template}`" if row.endpoint_template else "must be given"
        cells = [
            f"`{row.name}`",
            row.title,
            url,
            parts,
            _size(lim.max_object),
            _size(lim.single_max),
            floor,
            row.composite_etag,
            endpoint,
            "; ".join(quirk_words(row)) or "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
