"""Bulk manifests: JSON lines ``{"src": URL, "dst": URL}`` or CSV ``src,dst``, streamed.

A line may also carry the source's ``size`` and ``etag`` (JSON keys, or CSV
``src,dst,size,etag``), as a listing gives them: the copy is then pinned to that ETag
and planned from that size, sparing the source's HEAD.

A manifest is read one line at a time, in constant memory (a line at most 64 KiB; each
destination's hash indexed in a temporary file, to refuse a second line copying to the
same object). Every line
becomes either a :class:`ManifestEntry` or a :class:`ManifestProblem` naming its line
number and what is wrong with it, so a bad line is reported and never stops a run.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sqlite3
import stat
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Literal

from partcopy.errors import ConfigError, UsageError
from partcopy.transports.base import ListedObject
from partcopy.urls import Location, parse_url

__all__ = [
    "ManifestEntry",
    "ManifestFormat",
    "ManifestItem",
    "ManifestProblem",
    "check_location",
    "check_regular",
    "detect_format",
    "read_manifest",
]

ManifestFormat = Literal["jsonl", "csv"]

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.txt")
_CSV_SUFFIXES = (".csv", ".tsv")
_MAX_LINE = 64 * 1024
"""A manifest line longer than this is reported as bad instead of being held in memory."""
_MAX_PROBE_LINES = 1000
"""Blank lines the format probe reads past before deciding on JSON lines."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One object to copy: manifest line number (1-based), source and destination URLs.

    ``facts`` are what a listing said of the source (size, ETag): they spare its HEAD.
    """

    line: int
    src: str
    dst: str
    facts: ListedObject | None = None
    locations: tuple[Location, Location] | None = field(default=None, compare=False, repr=False)
    """Both URLs as parsed when the line was read (so they are parsed once per run)."""


@dataclass(frozen=True, slots=True)
class ManifestProblem:
    """A manifest line that cannot be used, with its line number and the reason."""

    line: int
    reason: str


ManifestItem = ManifestEntry | ManifestProblem


def check_location(url: str, what: str) -> str | None:
    """Why ``url`` is not a usable object location (``scheme://bucket/key``), or None."""
    try:
        parse_url(url)
    except UsageError as exc:
        return f"{what}: {exc}"
    return None


def detect_format(path: str | os.PathLike[str]) -> ManifestFormat:
    """The manifest's format: by extension, else by its first non-blank line.

    A first line starting with ``{`` means JSON lines; anything else is CSV.
    """
    name = os.fspath(path).lower()
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    check_regular(path)
    try:
        with open(path, "rb") as fh:
            for _ in range(_MAX_PROBE_LINES):
                raw = fh.readline(_MAX_LINE + 1)  # bounded: never one endless "line"
                if not raw:
                    break
                text = raw.strip()
                if text:
                    return "jsonl" if text.startswith(b"{") else "csv"
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {os.fspath(path)!r}: {exc.strerror}") from None
    return "jsonl"


def check_regular(path: str | os.PathLike[str]) -> None:
    """``ConfigError`` unless ``path`` is a regular file: a device (``/dev/zero``) or a
    FIFO never ends, and the format probe and the run would read it twice."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {os.fspath(path)!r}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"manifest {os.fspath(path)!r} is not a regular file")


def _parse_jsonl(line_no: int, text: str) -> ManifestItem:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return ManifestProblem(line_no, f"not valid JSON: {exc}")
    if not isinstance(doc, dict):
        return ManifestProblem(line_no, 'expected a JSON object {"src": URL, "dst": URL}')
    return _entry(line_no, doc.get("src"), doc.get("dst"), doc.get("size"), doc.get("etag"))


def _parse_csv(line_no: int, text: str) -> ManifestItem:
    try:
        fields = next(csv.reader([text], strict=True, skipinitialspace=True))
    except csv.Error as exc:
        return ManifestProblem(line_no, f"not valid CSV: {exc}")
    if len(fields) == 4:
        size: object = fields[2]
        if isinstance(size, str) and size.strip().isdigit():
            size = int(size)
        return _entry(line_no, fields[0], fields[1], size, fields[3])
    if len(fields) != 2:
        return ManifestProblem(
            line_no, f"expected 2 fields src,dst or 4 src,dst,size,etag; found {len(fields)}"
        )
    return _entry(line_no, fields[0], fields[1])


def _facts(location: Location, size: object, etag: object) -> ListedObject | str:
    """The source facts of a line, or why they are unusable."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return f"'size' {size!r} is not a whole number of bytes"
    if not isinstance(etag, str) or not etag.strip('"') or len(etag) > 256:
        return f"'etag' {etag!r} is not an ETag"
    return ListedObject(key=location.key, size=size, etag=etag)


def _entry(
    line_no: int, src: object, dst: object, size: object = None, etag: object = None
) -> ManifestItem:
    parsed: list[Location] = []
    for what, value in (("src", src), ("dst", dst)):
        if value is None:
            return ManifestProblem(line_no, f"missing {what!r}")
        if not isinstance(value, str):
            return ManifestProblem(line_no, f"{what!r} is not a string")
        try:
            parsed.append(parse_url(value))
        except UsageError as exc:
            return ManifestProblem(line_no, f"{what}: {exc}")
    assert isinstance(src, str) and isinstance(dst, str)
    if src == dst:
        return ManifestProblem(line_no, f"src and dst are the same object {src!r}")
    locations = (parsed[0], parsed[1])
    if size is None and etag is None:
        return ManifestEntry(line_no, src, dst, locations=locations)
    if size is None or etag is None:
        return ManifestProblem(line_no, "'size' and 'etag' go together: give both or neither")
    facts = _facts(parsed[0], size, etag)
    if isinstance(facts, str):
        return ManifestProblem(line_no, facts)
    return ManifestEntry(line_no, src, dst, facts, locations)


def _is_csv_header(text: str) -> bool:
    fields = [f.strip().lower() for f in text.split(",")]
    return fields[:2] in (["src", "dst"], ["source", "destination"]) and fields[2:] in (
        [],
        ["size", "etag"],
    )


def read_manifest(
    path: str | os.PathLike[str],
    *,
    fmt: ManifestFormat | None = None,
    shard: tuple[int, int] = (0, 1),
) -> Generator[ManifestItem, None, None]:
    """Stream the manifest's entries and problems in line order.

    Blank lines are skipped, and so is a CSV header line ``src,dst``. ``shard=(k, n)``
    keeps only lines whose number minus one is ``k`` modulo ``n`` (how Dask splits a
    manifest among workers). A line naming a destination an earlier line of the same
    shard named is a problem (``duplicate destination``). Constant memory; ``ConfigError``
    if the file cannot be opened.
    """
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise UsageError(f"invalid shard {index}/{count}: expected 0 <= k < n")
    check_regular(path)
    kind = fmt or detect_format(path)
    parse = _parse_jsonl if kind == "jsonl" else _parse_csv
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the generator's finally
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {os.fspath(path)!r}: {exc.strerror}") from None
    destinations = _Destinations()
    try:
        line_no = 0
        while True:
            raw = fh.readline(_MAX_LINE + 1)
            if not raw:
                return
            line_no += 1
            overlong = len(raw) > _MAX_LINE and not raw.endswith(b"\n")
            if overlong:
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                    raw = fh.readline(_MAX_LINE + 1)
            if (line_no - 1) % count != index:
                continue
            if overlong:
                yield ManifestProblem(line_no, f"line longer than {_MAX_LINE} bytes")
                continue
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield ManifestProblem(line_no, "not valid UTF-8")
                continue
            if line_no == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            if kind == "csv" and line_no == 1 and _is_csv_header(text):
                continue
            item = parse(line_no, text)
            if isinstance(item, ManifestEntry):
                item = destinations.check(item)
            yield item
    finally:
        fh.close()
        destinations.close()


class _Destinations:
    """The destinations named so far, indexed in a private temporary SQLite file (a
    64-bit hash each; a 1 MiB page cache): constant memory however long the manifest.
    A later line naming one again is a problem, so two lines never copy to one object and
    a line reported ``ok`` is never overwritten by another."""

    def __init__(self) -> None:
        # "" is SQLite's private on-disk temporary database, deleted when closed.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA cache_size = -1024")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("CREATE TABLE dst (digest INTEGER PRIMARY KEY, line INTEGER)")
        self._insert = functools.partial(
            self._db.execute, "INSERT OR IGNORE INTO dst (digest, line) VALUES (?, ?)"
        )

    def check(self, entry: ManifestEntry) -> ManifestItem:
        # str hashes are 64-bit SipHash, stable within this process (all a run needs):
        # a false duplicate among 10 million lines is a 1-in-300 000 chance, and reported.
        digest = hash(entry.dst)
        if self._insert((digest, entry.line)).rowcount == 1:
            return entry
        first = self._db.execute("SELECT line FROM dst WHERE digest = ?", (digest,)).fetchone()
        return ManifestProblem(
            entry.line,
            f"duplicate destination {entry.dst!r}: line {first[0]} copies to it already",
        )

    def close(self) -> None:
        self._db.close()
