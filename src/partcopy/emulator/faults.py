"""Seeded, deterministic fault injection for the emulator.

Grammar of one spec (CLI ``--fault`` and the admin endpoint)::

    KIND:RATE[:ARG][@OP[,OP...]][#LIMIT]

``RATE`` is the probability (0..1) that a matching request fails; ``throttle:N`` takes the
in-flight bound instead. ``ARG`` is the extra delay for ``delay`` (``delay:0.01:2s``) and
the Retry-After seconds for ``429``. ``OP`` names the operations it applies to (default
``copy_part,upload_part``; ``all`` for every operation); ``LIMIT`` caps how often it fires.
Whether a request fails depends only on the seed, the spec, the request's identity and how
often that identity was seen, never on the order concurrent requests arrive in.

``corrupt`` (on ``copy_part`` and ``upload_part`` only) stores other bytes than asked and
answers as if all were well: a part copy takes the range one byte further along (same
size), an upload its body with the first byte flipped. The part's ETag and checksum are
those of the stored bytes, so only a check against the source's bytes can see it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from partcopy.errors import UsageError
from partcopy.units import parse_duration

__all__ = [
    "FAULT_KINDS",
    "OPERATIONS",
    "FaultInjector",
    "FaultSpec",
    "Verdict",
    "parse_fault",
]

FAULT_KINDS = frozenset(
    {
        "slowdown",
        "500",
        "429",
        "noetag",
        "error200",
        "truncated",
        "reset",
        "delay",
        "throttle",
        "corrupt",
    }
)
OPERATIONS = frozenset(
    {
        "copy_part",
        "upload_part",
        "complete",
        "copy_object",
        "create",
        "abort",
        "list_parts",
        "list_uploads",
        "head",
        "get",
        "put",
        "delete",
        "bucket",
        "head_bucket",
        "get_versioning",
        "list_objects",
    }
)
DEFAULT_OPS = frozenset({"copy_part", "upload_part"})
PERFORMING_KINDS = frozenset({"noetag", "truncated", "reset", "delay", "corrupt"})
"""Kinds after which the operation still happens: only the answer is late, cut or lacks its
ETag (as when OBS answers a copy that "started"). The others refuse before any change."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One kind of fault, how often it fires, and on which operations."""

    kind: str
    rate: float = 1.0
    arg: float | None = None
    ops: frozenset[str] = DEFAULT_OPS
    limit: int | None = None

    @property
    def in_flight_bound(self) -> int:
        """For ``throttle``: refuse copy parts beyond this many in flight."""
        return int(self.rate)

    def as_text(self) -> str:
        rate = str(int(self.rate)) if self.kind == "throttle" else repr(self.rate)
        text = f"{self.kind}:{rate}"
        if self.arg is not None:
            text += f":{self.arg!r}s" if self.kind == "delay" else f":{self.arg!r}"
        if self.ops != DEFAULT_OPS:
            text += "@" + ",".join(sorted(self.ops))
        if self.limit is not None:
            text += f"#{self.limit}"
        return text


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"invalid fault {text!r}: {why}")


def parse_fault(text: str) -> FaultSpec:
    """Parse ``KIND:RATE[:ARG][@OPS][#LIMIT]``; ``UsageError`` naming the bad spec."""
    body, _, limit_text = text.strip().partition("#")
    body, _, ops_text = body.partition("@")
    pieces = body.split(":")
    kind = pieces[0].strip().lower()
    if kind not in FAULT_KINDS:
        raise _bad(
            text, f"unknown kind {kind!r} (expected one of {', '.join(sorted(FAULT_KINDS))})"
        )
    if len(pieces) < 2 or len(pieces) > 3:
        raise _bad(text, "expected KIND:RATE[:ARG]")
    if kind == "throttle":
        if not pieces[1].isdigit() or int(pieces[1]) < 1 or len(pieces) == 3:
            raise _bad(text, "throttle takes one whole number: throttle:N")
        rate = float(int(pieces[1]))
    else:
        try:
            rate = float(pieces[1])
        except ValueError:
            raise _bad(text, f"rate {pieces[1]!r} is not a number") from None
        if not 0.0 <= rate <= 1.0:
            raise _bad(text, f"rate {pieces[1]!r} is not between 0 and 1")
    arg: float | None = None
    if len(pieces) == 3:
        if kind not in {"delay", "429"}:
            raise _bad(text, f"{kind} takes no argument")
        arg = parse_duration(pieces[2], what=f"fault {text!r} argument")
    elif kind == "delay":
        raise _bad(text, "delay needs a duration: delay:RATE:SECONDS")
    ops = DEFAULT_OPS
    if ops_text:
        names = {n.strip() for n in ops_text.split(",") if n.strip()}
        ops = OPERATIONS if "all" in names else frozenset(names)
        unknown = ops - OPERATIONS
        if unknown or not ops:
            raise _bad(
                text, f"unknown operation(s) {sorted(unknown)} (expected {sorted(OPERATIONS)})"
            )
    if kind == "corrupt" and not ops <= DEFAULT_OPS:
        raise _bad(text, "corrupt applies to copy_part and upload_part only")
    limit: int | None = None
    if limit_text:
        if not limit_text.isdigit():
            raise _bad(text, f"limit {limit_text!r} is not a whole number")
        limit = int(limit_text)
    return FaultSpec(kind, rate, arg, ops, limit)


def fault_from_json(item: object) -> FaultSpec:
    """A fault from the admin endpoint: a spec string or ``{"kind", "rate", ...}``."""
    if isinstance(item, str):
        return parse_fault(item)
    if not isinstance(item, Mapping):
        raise UsageError(f"invalid fault {item!r}: expected a string or an object")
    kind = str(item.get("kind", ""))
    text = f"{kind}:{item.get('rate', 1)}"
    if item.get("arg") is not None:
        text += f":{item['arg']}"
    ops = item.get("ops")
    if ops:
        text += "@" + (ops if isinstance(ops, str) else ",".join(str(o) for o in ops))
    if item.get("limit") is not None:
        text += f"#{item['limit']}"
    return parse_fault(text)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the injector decided for one request: extra delay, then at most one fault."""

    delay: float = 0.0
    fault: FaultSpec | None = None
    delayed_by: tuple[FaultSpec, ...] = ()


@dataclass
class FaultInjector:
    """Decides, per request, which configured fault (if any) fires."""

    specs: tuple[FaultSpec, ...] = ()
    seed: int = 0
    _seen: dict[str, int] = field(default_factory=dict)
    _fired: dict[int, int] = field(default_factory=dict)

    def configure(self, specs: Iterable[FaultSpec], seed: int | None = None) -> None:
        """Replace the faults (and the seed); counters start again."""
        self.specs = tuple(specs)
        if seed is not None:
            self.seed = seed
        self._seen.clear()
        self._fired.clear()

    def _draw(self, index: int, identity: str, attempt: int) -> float:
        text = f"{self.seed}|{index}|{identity}|{attempt}".encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") / 2.0**64

    def _may_fire(self, index: int, spec: FaultSpec) -> bool:
        return spec.limit is None or self._fired.get(index, 0) < spec.limit

    def _fire(self, index: int) -> None:
        self._fired[index] = self._fired.get(index, 0) + 1

    def decide(self, op: str, identity: str, copies_in_flight: int = 0) -> Verdict:
        """The verdict for one request of ``op``; ``identity`` names it across retries.

        ``copies_in_flight`` counts the copy parts already running (for ``throttle``).
        """
        if not self.specs:
            return Verdict()
        key = f"{op}|{identity}"
        attempt = self._seen.get(key, 0)
        self._seen[key] = attempt + 1
        delay = 0.0
        delayed: list[FaultSpec] = []
        for index, spec in enumerate(self.specs):
            if op not in spec.ops or not self._may_fire(index, spec):
                continue
            if spec.kind == "throttle":
                if op == "copy_part" and copies_in_flight >= spec.in_flight_bound:
                    self._fire(index)
                    return Verdict(delay, spec, tuple(delayed))
                continue
            if self._draw(index, key, attempt) >= spec.rate:
                continue
            self._fire(index)
            if spec.kind == "delay":
                delay += spec.arg or 0.0
                delayed.append(spec)
                continue
            return Verdict(delay, spec, tuple(delayed))
        return Verdict(delay, None, tuple(delayed))
