"""``--include``/``--exclude`` filters: globs on the key relative to the prefix, in order.

The rules follow aws-cli's ``s3 cp/sync``: every key starts included, each rule that
matches sets include or exclude, and the last matching rule wins, so
``--exclude '*' --include '*.jpg'`` keeps only the JPEGs. A glob is matched against the
whole relative key: ``*`` matches any run of characters (``/`` included), ``?`` one
character, ``[abc]``/``[a-z]``/``[!abc]`` one character of (not of) a set, and ``\\``
escapes the next character. A glob that cannot compile is a ``UsageError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from partcopy.errors import UsageError

__all__ = ["FilterRule", "KeyFilter", "compile_glob"]

Action = Literal["include", "exclude"]


def _class(glob: str, start: int) -> tuple[str, int]:
    """The regex of the ``[...]`` set opening at ``start``, and the index after it."""
    i = start + 1
    negate = i < len(glob) and glob[i] in "!^"
    if negate:
        i += 1
    body: list[str] = []
    first = True
    while i < len(glob) and (glob[i] != "]" or first):
        char = glob[i]
        escaped = char == "\\"
        if escaped:
            i += 1
            if i == len(glob):
                break
            char = glob[i]
        # A '-' is a range unless escaped, first or last; re.escape keeps it literal.
        ranged = char == "-" and not (escaped or first or glob[i + 1 : i + 2] == "]")
        body.append("-" if ranged else re.escape(char))
        first = False
        i += 1
    if i >= len(glob):
        raise UsageError(f"invalid glob {glob!r}: '[' at position {start} is never closed")
    return ("[^" if negate else "[") + "".join(body) + "]", i + 1


def compile_glob(glob: str) -> re.Pattern[str]:
    """The anchored regex of ``glob``; ``UsageError`` naming it when it cannot compile."""
    if not glob:
        raise UsageError("invalid glob '': a filter needs a pattern")
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if char == "*":
            while i + 1 < len(glob) and glob[i + 1] == "*":
                i += 1
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            regex, i = _class(glob, i)
            out.append(regex)
            continue
        elif char == "\\":
            if i + 1 == len(glob):
                raise UsageError(f"invalid glob {glob!r}: it ends with a lone backslash")
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z", re.DOTALL)
    except re.error as exc:
        raise UsageError(f"invalid glob {glob!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class FilterRule:
    """One ``--include`` or ``--exclude`` glob, compiled."""

    action: Action
    glob: str
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, action: Action, glob: str) -> FilterRule:
        return cls(action, glob, compile_glob(glob))


@dataclass(frozen=True, slots=True)
class KeyFilter:
    """Ordered rules; ``KeyFilter()`` keeps every key."""

    rules: tuple[FilterRule, ...] = ()

    @classmethod
    def of(cls, rules: Iterable[tuple[Action, str]]) -> KeyFilter:
        """Compile ``(action, glob)`` pairs in order (``UsageError`` on a bad glob)."""
        return cls(tuple(FilterRule.of(action, glob) for action, glob in rules))

    def keeps(self, relative_key: str) -> bool:
        """Whether ``relative_key`` is selected: the last matching rule decides."""
        keep = True
        for rule in self.rules:
            if rule.pattern.match(relative_key):
                keep = rule.action == "include"
        return keep
