"""Bucket-level operations of the emulator's executor: buckets, listings, multi-delete,
and the access rule (each access key owns the buckets it created)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from partcopy.emulator.calls import Call, Deleted, Outcome
from partcopy.store.listing import list_objects, list_versions
from partcopy.store.memory import MemoryStore, StoreError

__all__ = ["BucketOps", "Pause"]

Pause = Callable[[int], Awaitable[None]]


async def _no_pause(nbytes: int) -> None:
    return None


class BucketOps:
    """The bucket half of ``Executor`` (which provides ``store`` and ``default_owner``)."""

    store: MemoryStore
    default_owner: str

    def _need(self, value: str | None, what: str) -> str:
        if value is None or value == "":
            raise StoreError(400, "InvalidRequest", f"missing {what}")
        return value

    def _owner_of(self, bucket: str) -> str:
        return self.store.bucket_owner(bucket) or self.default_owner

    def _authorize(self, owner: str, bucket: str) -> None:
        """403 when ``owner`` does not own an existing ``bucket`` (absent ones 404 later)."""
        if self.store.has_bucket(bucket) and self._owner_of(bucket) != owner:
            raise StoreError(403, "AccessDenied", "Access Denied", resource=f"/{bucket}")

    async def _op_list_buckets(self, call: Call, owner: str = "") -> Outcome:
        """The owner's buckets in name order: after ``key_marker`` (a name), from offset
        ``marker`` (QingStor), ``max_items`` of them."""
        mine = [
            (name, created)
            for name, created, holder in self.store.buckets()
            if not owner or (holder or self.default_owner) == owner
        ]
        after = [b for b in mine if call.key_marker is None or b[0] > call.key_marker]
        start = call.marker or 0
        page = tuple(after[start : start + call.max_items])
        return Outcome(
            call,
            buckets=page,
            owner=owner or self.default_owner,
            truncated=start + len(page) < len(after),
            bucket_count=len(mine),
        )

    async def _op_bucket(self, call: Call, owner: str = "") -> Outcome:
        self.store.create_bucket(self._need(call.bucket, "bucket"), owner)
        return Outcome(call)

    async def _op_put_versioning(self, call: Call, owner: str = "") -> Outcome:
        bucket = self._need(call.bucket, "bucket")
        assert call.versioning is not None
        self.store.set_versioning(bucket, call.versioning)
        return Outcome(call)

    async def _op_head_bucket(self, call: Call, owner: str = "") -> Outcome:
        bucket = self._need(call.bucket, "bucket")
        return Outcome(call, versioning=self.store.get_versioning(bucket))

    async def _op_get_versioning(self, call: Call, owner: str = "") -> Outcome:
        return await self._op_head_bucket(call)

    async def _op_get_location(self, call: Call, owner: str = "") -> Outcome:
        self.store.bucket_owner(self._need(call.bucket, "bucket"))
        return Outcome(call, location="")

    async def _op_delete_bucket(self, call: Call, owner: str = "") -> Outcome:
        self.store.delete_bucket(self._need(call.bucket, "bucket"))
        return Outcome(call)

    async def _op_list_objects(self, call: Call, owner: str = "") -> Outcome:
        assert call.listing is not None
        listed = list_objects(self.store, self._need(call.bucket, "bucket"), call.listing)
        return Outcome(call, listed=listed)

    async def _op_list_versions(self, call: Call, owner: str = "") -> Outcome:
        assert call.listing is not None
        listed = list_versions(self.store, self._need(call.bucket, "bucket"), call.listing)
        return Outcome(call, listed=listed)

    async def _op_list_uploads(self, call: Call, owner: str = "") -> Outcome:
        uploads, truncated = self.store.list_uploads(
            self._need(call.bucket, "bucket"),
            prefix=call.prefix,
            key_marker=call.key_marker,
            upload_id_marker=call.upload_id_marker,
            max_uploads=call.max_items,
        )
        return Outcome(call, uploads=tuple(uploads), truncated=truncated)

    async def _op_delete_objects(self, call: Call, owner: str = "") -> Outcome:
        bucket = self._need(call.bucket, "bucket")
        self.store.bucket_owner(bucket)
        done: list[Deleted] = []
        for key, version_id in call.deletes:
            try:
                marker = self.store.delete_object(bucket, key, version_id)
            except StoreError as err:
                done.append(Deleted(key, version_id, error=(err.code, err.message)))
                continue
            marker_id = marker.version_id if marker is not None else None
            done.append(Deleted(key, version_id, delete_marker_version=marker_id))
        return Outcome(call, deleted=tuple(done))
