"""``BUCKET/KEY=SIZE`` object specs: virtual objects named on the command line or by admin."""

from __future__ import annotations

from dataclasses import dataclass

from partcopy.errors import UsageError
from partcopy.store.memory import MemoryStore, ObjectVersion, StoreError
from partcopy.units import parse_size

__all__ = ["ObjectSpec", "create_object", "parse_object"]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """A virtual object to create: its bytes are the pattern of ``seed`` (fresh if None)."""

    bucket: str
    key: str
    size: int
    seed: int | None = None


def parse_object(text: str) -> ObjectSpec:
    """Parse ``BUCKET/KEY=SIZE`` (SIZE as for ``--size``); ``UsageError`` naming it."""
    name, sep, size_text = text.partition("=")
    bucket, slash, key = name.partition("/")
    if not sep or not slash or not bucket or not key:
        raise UsageError(f"invalid object {text!r}: expected BUCKET/KEY=SIZE")
    return ObjectSpec(bucket, key, parse_size(size_text, what=f"object {text!r} size"))


def create_object(store: MemoryStore, spec: ObjectSpec) -> ObjectVersion:
    """Create the bucket if needed and (over)write the virtual object."""
    try:
        store.create_bucket(spec.bucket)
    except StoreError as exc:
        raise UsageError(f"invalid object bucket {spec.bucket!r}: {exc.message}") from None
    return store.put_virtual(spec.bucket, spec.key, spec.size, seed=spec.seed)
