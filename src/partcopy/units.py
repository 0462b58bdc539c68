"""Sizes and durations as people write them: ``64MiB``, ``5TiB``, ``1.5GB``, ``90s``."""

from __future__ import annotations

import re

from partcopy.errors import UsageError

KiB = 1024
MiB = 1024**2
GiB = 1024**3
TiB = 1024**4

_UNITS: dict[str, int] = {
    "": 1,
    "B": 1,
    "K": KiB,
    "KI": KiB,
    "KIB": KiB,
    "M": MiB,
    "MI": MiB,
    "MIB": MiB,
    "G": GiB,
    "GI": GiB,
    "GIB": GiB,
    "T": TiB,
    "TI": TiB,
    "TIB": TiB,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
}
MAX_SIZE = 1024**5
"""1 PiB: far above any store's largest object (~50 TB), so a larger size is a mistake."""

MAX_DURATION = 100 * 365 * 86400
"""100 years in seconds: longer than any upload has existed or any delay can mean, and far
inside what dates can hold (an age of 10,000 years would overflow a ``datetime``)."""

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_size(text: str | int, *, what: str = "size") -> int:
    """Parse a byte count: bytes, K/M/G/T and KiB..TiB (binary), KB..TB (decimal).

    Raises ``UsageError`` naming the bad value for anything else (negative, unknown unit,
    a fraction of a byte).
    """
    if isinstance(text, bool):
        raise UsageError(f"invalid {what} {text!r}: expected a byte count")
    if isinstance(text, int):
        if text < 0:
            raise UsageError(f"invalid {what} {text!r}: must not be negative")
        return _bounded(text, text, what)
    match = _SIZE_RE.match(str(text))
    if not match:
        raise UsageError(
            f"invalid {what} {text!r}: expected a number with an optional unit "
            "(B, K/KiB, M/MiB, G/GiB, T/TiB binary; KB, MB, GB, TB decimal)"
        )
    number, unit = match.groups()
    factor = _UNITS.get(unit.upper())
    if factor is None:
        raise UsageError(f"invalid {what} {text!r}: unknown unit {unit!r}")
    if "." in number:
        whole, frac = number.split(".")
        value_num = int(whole + frac)
        value_den = 10 ** len(frac)
        total, rem = divmod(value_num * factor, value_den)
        total = int(total)
        if rem:
            raise UsageError(f"invalid {what} {text!r}: not a whole number of bytes")
        return _bounded(total, text, what)
    return _bounded(int(number) * factor, text, what)


def _bounded(value: int, text: str | int, what: str) -> int:
    if value > MAX_SIZE:
        raise UsageError(f"invalid {what} {text!r}: larger than 1 PiB, beyond any object store")
    return value


def parse_duration(text: str, *, what: str = "duration", unit_required: bool = False) -> float:
    """Parse ``90s``, ``15m``, ``2h``, ``7d`` into seconds; a bare ``90`` means seconds
    unless ``unit_required`` (then it is refused: is ``7`` seven days or seconds?)."""
    match = _DURATION_RE.match(text)
    if not match:
        raise UsageError(f"invalid {what} {text!r}: expected a number with ms, s, m, h, d or w")
    number, unit = match.groups()
    if unit is None and unit_required:
        raise UsageError(
            f"invalid {what} {text!r}: give a unit (ms, s, m, h, d or w), e.g. {number}d"
        )
    seconds = float(number) * _DURATION_UNITS[unit or "s"]
    if seconds > MAX_DURATION:
        raise UsageError(f"invalid {what} {text!r}: longer than 100 years")
    return seconds


def format_size(n: int) -> str:
    """A short human form: ``5 TiB``, ``64 MiB``, ``102400 B`` when not a round unit."""
    for name, factor in (("TiB", TiB), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {name}" if n % factor == 0 else f"{value:.2f} {name}"
    return f"{n} B"
