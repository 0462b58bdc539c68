"""Listing, filters and the sync merge, over the memory transport and plain entries."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from partcopy import Copier, PrefixOptions
from partcopy.engine.bulk import BulkOptions
from partcopy.engine.filters import KeyFilter, compile_glob
from partcopy.engine.ledger import BulkLedger, FinishedObject
from partcopy.engine.listing import ListedPrefix, iter_listing
from partcopy.engine.report import BulkSummary
from partcopy.engine.syncplan import (
    CopyAction,
    DeleteAction,
    SameAction,
    differs,
    etags_comparable,
    plan_copy,
    plan_sync,
)
from partcopy.errors import AccessDenied, ProtocolError, ServiceError, UsageError
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import ListedObject, ObjectsPage
from partcopy.transports.memory import MemoryTransport

MD5_A = '"' + "a" * 32 + '"'
MD5_B = '"' + "b" * 32 + '"'
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def obj(key: str, size: int = 1, etag: str | None = MD5_A, at: datetime = T0) -> ListedObject:
    return ListedObject(key, size, etag, at)


async def stream(
    items: Iterable[ListedObject | ListedPrefix],
) -> AsyncIterator[ListedObject | ListedPrefix]:
    for item in items:
        yield item


def collect(it: AsyncIterator[Any]) -> list[Any]:
    async def main() -> list[Any]:
        return [x async for x in it]

    return anyio.run(main)


# --- listing -------------------------------------------------------------------------------


def test_listing_pages_through_the_memory_store_with_a_delimiter() -> None:
    store = MemoryStore()
    store.create_bucket("b")
    for key in ("p/a", "p/d/1", "p/d/2", "p/e/1", "p/z", "q/x"):
        store.put_object("b", key, b"x")
    t = MemoryTransport(store)
    flat = collect(iter_listing(t, "b", "p/", page_size=2))
    assert [o.key for o in flat] == ["p/a", "p/d/1", "p/d/2", "p/e/1", "p/z"]
    level = collect(iter_listing(t, "b", "p/", delimiter="/", page_size=2))
    names = [(type(e).__name__, getattr(e, "key", getattr(e, "prefix", None))) for e in level]
    assert names == [
        ("ListedObject", "p/a"),
        ("ListedPrefix", "p/d/"),
        ("ListedPrefix", "p/e/"),
        ("ListedObject", "p/z"),
    ]


class _Pages:
    """A transport that answers scripted listing pages (the store misbehaving)."""

    def __init__(self, pages: list[ObjectsPage]) -> None:
        self.pages = pages
        self.tokens: list[str | None] = []

    async def list_objects(self, bucket: str, **kw: object) -> ObjectsPage:
        self.tokens.append(kw.get("token"))
        return self.pages[len(self.tokens) - 1]


def test_a_truncated_page_without_a_marker_fails_loudly() -> None:
    pages = [
        ObjectsPage((obj("k1"),), (), True, "k1"),
        ObjectsPage((), (), True, None),
    ]
    fake = _Pages(pages)
    with pytest.raises(ProtocolError, match="after 1 entries"):
        collect(iter_listing(fake, "b"))
    assert fake.tokens == [None, "k1"]


def test_the_same_marker_twice_fails_instead_of_looping() -> None:
    page = ObjectsPage((obj("k1"),), (), True, "k1")
    with pytest.raises(ProtocolError, match="marker 'k1' again"):
        collect(iter_listing(_Pages([page, page, page]), "b"))  # type: ignore[arg-type]


def test_an_empty_truncated_page_with_a_marker_goes_on() -> None:
    pages = [
        ObjectsPage((), (), True, "t1"),
        ObjectsPage((obj("k1"),), (), False, None),
    ]
    assert [o.key for o in collect(iter_listing(_Pages(pages), "b"))] == ["k1"]


def test_ordered_listing_refuses_keys_out_of_order() -> None:
    pages = [ObjectsPage((obj("b"), obj("a")), (), False, None)]
    with pytest.raises(ProtocolError, match="not list in key order"):
        collect(iter_listing(_Pages(pages), "b", ordered=True))  # type: ignore[arg-type]


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "key", "hit"),
    [
        ("*.jpg", "a/b/c.jpg", True),
        ("*.jpg", "a/b/c.jpeg", False),
        ("a/?.txt", "a/1.txt", True),
        ("a/?.txt", "a/12.txt", False),
        ("[a-c]*", "b/x", True),
        ("[!a-c]*", "b/x", False),
        ("file\\*", "file*", True),
        ("file\\*", "file1", False),
        ("dir/**", "dir/x/y", True),
        ("100%+ ü.bin", "100%+ ü.bin", True),
        ("[a\\-z]", "-", True),  # an escaped '-' is a character, not a range
        ("[a\\-z]", "m", False),
        ("[-z]", "-", True),
        ("[a-]", "-", True),
    ],
)
def test_globs(glob: str, key: str, hit: bool) -> None:
    assert bool(compile_glob(glob).match(key)) is hit


@pytest.mark.parametrize("glob", ["[abc", "", "trailing\\", "[z-a]"])
def test_bad_globs_are_usage_errors_naming_them(glob: str) -> None:
    with pytest.raises(UsageError, match="invalid glob"):
        compile_glob(glob)


def test_the_last_matching_rule_wins_as_in_aws_cli() -> None:
    keys = KeyFilter.of([("exclude", "*"), ("include", "*.jpg"), ("exclude", "raw/*")])
    assert keys.keeps("a.jpg") and keys.keeps("d/b.jpg")
    assert not keys.keeps("a.png") and not keys.keeps("raw/c.jpg")
    assert KeyFilter().keeps("anything")


# --- compare -------------------------------------------------------------------------------


def test_etags_are_comparable_when_both_plain_or_both_of_the_same_part_count() -> None:
    m1, m2 = '"' + "c" * 32 + '-3"', '"' + "d" * 32 + '-3"'
    assert etags_comparable(MD5_A, MD5_B)
    assert etags_comparable(m1, m2)
    assert not etags_comparable(MD5_A, m1)
    assert not etags_comparable(m1, '"' + "d" * 32 + '-4"')
    assert not etags_comparable(None, MD5_A)


def test_differs_by_size_then_comparable_etags_then_the_compare_mode() -> None:
    later = T0 + timedelta(hours=1)
    multi = '"' + "c" * 32 + '-2"'
    assert differs(obj("k", 1), obj("k", 2))
    assert differs(obj("k", etag=MD5_A), obj("k", etag=MD5_B), "size")  # comparable: ETag
    assert not differs(obj("k", etag=MD5_A, at=later), obj("k", etag=MD5_A), "mtime")
    # Not comparable (plain vs multipart): the mode decides.
    assert not differs(obj("k", etag=MD5_A), obj("k", etag=multi), "size")
    assert differs(obj("k", etag=MD5_A), obj("k", etag=multi), "etag")
    assert differs(obj("k", etag=MD5_A, at=later), obj("k", etag=multi), "mtime")
    assert not differs(obj("k", etag=MD5_A), obj("k", etag=multi, at=later), "mtime")
    # Equal multipart ETags are the same object, whatever the mode says.
    assert not differs(obj("k", etag=multi, at=later), obj("k", etag=multi), "mtime")
    # Multipart ETags of one count that differ prove nothing (8+8+4 MiB vs 7+7+6 MiB): a
    # destination written after the source stays, or every sync would copy it again.
    other = '"' + "d" * 32 + '-2"'
    assert not differs(obj("k", etag=multi), obj("k", etag=other, at=later), "mtime")
    assert not differs(obj("k", etag=multi), obj("k", etag=other), "size")
    assert differs(obj("k", etag=multi, at=later), obj("k", etag=other), "mtime")
    assert differs(obj("k", etag=multi), obj("k", etag=other, at=later), "etag")


# --- plans ---------------------------------------------------------------------------------


def test_plan_copy_maps_relative_keys_filters_and_stops_at_max() -> None:
    src: list[ListedObject | ListedPrefix] = [
        obj("p/a.jpg"),
        ListedPrefix("p/d/"),
        obj("p/b.png"),
        obj("p/c.jpg"),
        obj("p/e.jpg"),
    ]
    keys = KeyFilter.of([("exclude", "*.png")])
    actions = collect(plan_copy(stream(src), "p/", keys, max_objects=2))
    assert actions == [CopyAction(src[0], "a.jpg"), CopyAction(src[3], "c.jpg")]


def test_plan_sync_merges_copies_skips_and_deletes() -> None:
    src = [obj("s/a"), obj("s/b", 2), obj("s/c"), obj("s/e")]
    dst = [obj("d/0"), obj("d/a"), obj("d/b", 3), obj("d/d"), obj("d/e"), obj("d/f")]
    actions = collect(plan_sync(stream(src), "s/", stream(dst), "d/", delete=True))
    assert actions == [
        DeleteAction(dst[0], "0"),
        SameAction(src[0], "a"),
        CopyAction(src[1], "b"),
        CopyAction(src[2], "c"),
        DeleteAction(dst[3], "d"),
        SameAction(src[3], "e"),
        DeleteAction(dst[5], "f"),
    ]
    no_delete = collect(plan_sync(stream(src), "s/", stream(dst), "d/"))
    assert not any(isinstance(a, DeleteAction) for a in no_delete)


def test_plan_sync_never_deletes_past_max_objects_or_excluded_keys() -> None:
    src = [obj("s/a"), obj("s/c"), obj("s/e")]
    dst = [obj("d/b"), obj("d/d"), obj("d/keep.log"), obj("d/z")]
    keys = KeyFilter.of([("exclude", "*.log")])
    actions = collect(
        plan_sync(stream(src), "s/", stream(dst), "d/", keys, delete=True, max_objects=2)
    )
    assert actions == [
        CopyAction(src[0], "a"),
        DeleteAction(dst[0], "b"),
        CopyAction(src[1], "c"),
    ]
    everything = collect(plan_sync(stream(src), "s/", stream(dst), "d/", keys, delete=True))
    deleted = [a.relative for a in everything if isinstance(a, DeleteAction)]
    assert deleted == ["b", "d", "z"]


# --- runs over the memory store ----------------------------------------------------------


class _SourceFailsOnPage2(MemoryTransport):
    """The source bucket's listing fails (for good) on its second page: a 403 as the
    transport boundary types it (not retryable), so the run stops without backing off."""

    async def list_objects(self, bucket: str, **kw: Any) -> ObjectsPage:
        if bucket == "src" and kw.get("token") is not None:
            raise AccessDenied(403, "AccessDenied", "no more", operation="list_objects")
        return await super().list_objects(bucket, **kw)


def _two_buckets(transport_type: type[MemoryTransport]) -> tuple[MemoryStore, MemoryTransport]:
    store = MemoryStore()
    for bucket in ("src", "dst"):
        store.create_bucket(bucket)
    for i in range(5):
        store.put_object("src", f"p/k{i}", b"x")
    for i in range(10):
        store.put_object("dst", f"q/k{i}x", b"y")  # none of them in the source: all extra
    return store, transport_type(store)


def test_a_sync_whose_source_listing_fails_deletes_nothing_past_it() -> None:
    store, transport = _two_buckets(_SourceFailsOnPage2)

    async def main() -> None:
        async with Copier(transport=transport) as copier:
            options = PrefixOptions(delete=True, page_size=2)
            await copier.sync("s3://src/p", "s3://dst/q", options=options)

    with pytest.raises(ServiceError, match="AccessDenied"):
        anyio.run(main)
    # Page 1 of the source held k0, k1: only destination keys before k1 could be proven
    # extra; k1x and everything after it stay.
    kept = store.keys("dst")
    assert kept[-9:] == [f"q/k{i}x" for i in range(1, 10)]
    assert len(kept) >= 9


def test_copy_prefix_refuses_delete_and_overlap_before_any_request() -> None:
    store, transport = _two_buckets(MemoryTransport)

    async def run(src: str, dst: str, **kw: Any) -> None:
        async with Copier(transport=transport) as copier:
            await copier.copy_prefix(src, dst, **kw)

    with pytest.raises(UsageError, match=r"delete \(--delete\) needs sync"):
        anyio.run(lambda: run("s3://src/p", "s3://dst/q", options=PrefixOptions(delete=True)))
    with pytest.raises(UsageError, match="overlaps"):
        anyio.run(lambda: run("s3://src/p", "s3://src/p/q"))
    assert store.stats().requests == 0 and store.keys("dst")[0] == "q/k0x"


@pytest.mark.parametrize("method", ["copy_prefix", "sync"])
def test_a_misspelled_prefix_keyword_is_a_type_error_naming_it_before_any_request(
    method: str,
) -> None:
    """Explicit keywords: a typo (``delet=True``) is refused by the method the caller
    called, at once, with nothing listed, copied or deleted."""
    store, transport = _two_buckets(MemoryTransport)

    async def main() -> None:
        async with Copier(transport=transport) as copier:
            run = getattr(copier, method)
            await run("s3://src/p", "s3://dst/q", delet=True)

    with pytest.raises(TypeError, match=rf"{method}\(\) got an unexpected keyword .*'delet'"):
        anyio.run(main)
    assert store.stats().requests == 0 and len(store.keys("dst")) == 10


@pytest.mark.parametrize("method", [Copier.copy_prefix, Copier.sync])
def test_prefix_methods_take_every_run_prefix_keyword_by_name_and_type(method: Any) -> None:
    """Every keyword ``run_prefix`` takes (the names callers pass today) is an explicit,
    typed, keyword-only parameter of ``copy_prefix`` and ``sync``: no ``**options`` that
    would let a misspelling past a type checker."""
    import inspect

    from partcopy.engine.prefixcopy import run_prefix

    ours = inspect.signature(method).parameters
    theirs = inspect.signature(run_prefix).parameters
    assert all(p.kind is not p.VAR_KEYWORD for p in ours.values())
    expected = {n: p for n, p in theirs.items() if p.kind is p.KEYWORD_ONLY and n != "sync"}
    keywords = {n: p for n, p in ours.items() if p.kind is p.KEYWORD_ONLY}
    assert list(keywords) == list(expected)
    for name, param in expected.items():
        assert (keywords[name].annotation, keywords[name].default) == (
            param.annotation,
            param.default,
        ), name


def test_a_journaled_recursive_copy_run_again_skips_what_it_finished(tmp_path: Any) -> None:
    store, transport = _two_buckets(MemoryTransport)

    async def run() -> BulkSummary:
        ledger = BulkLedger(tmp_path / "bulk.db")
        try:
            async with Copier(transport=transport, journal=ledger.journal) as copier:
                return await copier.copy_prefix("s3://src/p", "s3://dst/r", ledger=ledger)
        finally:
            ledger.close()

    first = anyio.run(run)
    second = anyio.run(run)
    assert (first.ok, first.skipped, second.ok, second.skipped) == (5, 0, 0, 5)
    assert second.listed == 5 and store.stats().parts_copied == 0


def _journaled(store: MemoryStore, path: Any, sync: bool) -> BulkSummary:
    async def run() -> BulkSummary:
        ledger = BulkLedger(path)
        try:
            async with Copier(transport=MemoryTransport(store), journal=ledger.journal) as copier:
                run = copier.sync if sync else copier.copy_prefix
                return await run("s3://src/p", "s3://dst/r", ledger=ledger)
        finally:
            ledger.close()

    return anyio.run(run)


@pytest.mark.parametrize("sync", [False, True], ids=["cp-recursive", "sync"])
def test_a_journaled_rerun_copies_a_source_that_changed_since_it_was_recorded(
    tmp_path: Any, sync: bool
) -> None:
    """The ledger's record of a finished object is of the source it copied: once the
    listing shows another size or ETag, a rerun copies it again instead of reporting it
    skipped and leaving the old bytes at the destination (a sync never converged)."""
    store, _ = _two_buckets(MemoryTransport)
    first = _journaled(store, tmp_path / "bulk.db", sync)
    assert first.ok == 5
    store.put_object("src", "p/k1", b"changed, longer")
    store.put_object("src", "p/k2", b"z")  # same size, another ETag
    second = _journaled(store, tmp_path / "bulk.db", sync)
    assert second.ok == 2 and second.failed == 0
    for key in ("p/k1", "p/k2"):
        copied = store.current("dst", "r/" + key[2:])
        assert copied is not None and copied.etag == store.current("src", key).etag  # type: ignore[union-attr]
    third = _journaled(store, tmp_path / "bulk.db", sync)
    assert third.ok == 0 and store.stats().parts_copied == 0


def test_a_ledger_record_without_the_source_etag_is_not_taken_as_the_same_source(
    tmp_path: Any,
) -> None:
    """A journal written before source ETags were recorded gains the column; its old
    rows prove nothing about the source and are copied again, never skipped on a guess."""
    path = tmp_path / "bulk.db"
    with BulkLedger(path):
        pass
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE bulk_objects; CREATE TABLE bulk_objects (source TEXT NOT NULL, "
        "destination TEXT NOT NULL, bytes INTEGER NOT NULL, parts INTEGER NOT NULL, etag TEXT, "
        "mode TEXT, finished_at REAL NOT NULL, PRIMARY KEY (source, destination)) WITHOUT ROWID;"
        "INSERT INTO bulk_objects VALUES ('s3://a/k', 's3://b/k', 1, 1, '\"e\"', 'single', 0);"
    )
    conn.close()
    with BulkLedger(path) as ledger:
        done = ledger.finished("s3://a/k", "s3://b/k")
        assert done is not None and done.source_etag is None
        assert not done.same_source(1, MD5_A)
        ledger.record(FinishedObject("s3://a/k", "s3://b/k", 1, 1, MD5_A, "single", MD5_A))
        again = ledger.finished("s3://a/k", "s3://b/k")
    assert again is not None and again.same_source(1, MD5_A.strip('"'))
    assert not again.same_source(2, MD5_A) and not again.same_source(1, MD5_B)


def test_a_prefix_copy_uses_single_multipart_and_relay_as_the_engine_chooses() -> None:
    store = MemoryStore()
    for bucket in ("src", "dst"):
        store.create_bucket(bucket)
    store.put_virtual("src", "p/small.bin", 1000)
    store.put_virtual("src", "p/big.bin", 6 * 1024 * 1024)
    other = MemoryStore()
    other.create_bucket("far")

    async def run() -> tuple[BulkSummary, BulkSummary]:
        async with Copier(transport=MemoryTransport(store)) as copier:
            bulk = BulkOptions(part_size=5 * 1024 * 1024)
            same = await copier.copy_prefix("s3://src/p", "s3://dst/q", bulk=bulk)
        far = MemoryTransport(other, "obs")
        async with Copier(transport=MemoryTransport(store), dst_transport=far) as copier:
            relayed = await copier.copy_prefix("s3://src/p", "obs://far/r", bulk=bulk)
        return same, relayed

    same, relayed = anyio.run(run)
    assert same.modes == {"single": 1, "copy": 1} and same.ok == 2
    assert relayed.modes == {"relay": 2} and relayed.ok == 2
    assert other.get("far", "r/big.bin").etag.endswith("-2")
