"""The emulator's admin endpoints under ``/_emulator/`` (a name no bucket can have).

``GET stats`` (``?completes=0``: count Completes instead of listing their parts);
``GET|POST|DELETE faults`` (JSON ``{"faults": [spec, ...], "seed": n}``);
``POST objects`` (``{"objects": ["BUCKET/KEY=SIZE" | {"bucket", "key", "size", "seed"}]}``);
``PUT objects/BUCKET/KEY`` (the body becomes a real object); ``POST buckets``
(``{"bucket", "versioning": bool}``); ``POST reset`` (empty store, no faults).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import unquote

from aiohttp import web

from partcopy.emulator.faults import FaultInjector, FaultSpec, fault_from_json
from partcopy.emulator.objects import ObjectSpec, create_object, parse_object
from partcopy.errors import UsageError
from partcopy.store.memory import MemoryStore, ObjectVersion, StoreError, StoreStats

__all__ = ["ADMIN_PREFIX", "AdminTarget", "handle_admin"]

ADMIN_PREFIX = "/_emulator/"


class AdminTarget(Protocol):
    """What the admin endpoints need of an emulator: its store and faults. Narrow, so that
    admin never imports the server that calls it."""

    @property
    def store(self) -> MemoryStore: ...

    @property
    def faults(self) -> FaultInjector: ...

    def stats(self) -> StoreStats: ...

    def set_faults(self, faults: Iterable[FaultSpec], seed: int | None = None) -> None: ...

    def fault_texts(self) -> list[str]: ...

    def reset(self) -> None: ...


def _json(obj: object, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(obj), content_type="application/json")


def _version(bucket: str, v: ObjectVersion) -> dict[str, object]:
    return {
        "bucket": bucket,
        "key": v.key,
        "size": v.size,
        "etag": v.etag,
        "version_id": v.version_id,
    }


def _object_spec(item: object) -> ObjectSpec:
    if isinstance(item, str):
        return parse_object(item)
    if isinstance(item, Mapping):
        try:
            size = int(item["size"])
            seed = None if item.get("seed") is None else int(item["seed"])
            return ObjectSpec(str(item["bucket"]), str(item["key"]), size, seed)
        except (KeyError, TypeError, ValueError):
            pass
    raise UsageError(f"invalid object {item!r}: expected BUCKET/KEY=SIZE or an object")


async def _body(request: web.BaseRequest) -> dict[str, object]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise UsageError("admin request body is not JSON") from None
    if not isinstance(data, dict):
        raise UsageError("admin request body must be a JSON object")
    return data


async def handle_admin(emu: AdminTarget, request: web.BaseRequest) -> web.StreamResponse:
    """Serve one admin request; errors are JSON ``{"error": message}`` with 400/404."""
    path = request.raw_path.split("?", 1)[0][len(ADMIN_PREFIX) :]
    try:
        return await _route(emu, request, path)
    except (UsageError, StoreError) as exc:
        return _json({"error": str(exc)}, 400)


async def _route(emu: AdminTarget, request: web.BaseRequest, path: str) -> web.StreamResponse:
    method = request.method
    if path == "stats" and method == "GET":
        stats = emu.stats().as_dict()
        if request.query.get("completes") in {"0", "false", "no"}:
            stats["completes"] = len(emu.stats().completes)  # a count, not every part list
        return _json(stats)
    if path == "faults":
        if method == "POST":
            body = await _body(request)
            items = body.get("faults", [])
            if not isinstance(items, list):
                raise UsageError("'faults' must be a list")
            seed = body.get("seed")
            emu.set_faults(
                [fault_from_json(i) for i in items], None if seed is None else int(str(seed))
            )
        elif method == "DELETE":
            emu.set_faults([])
        elif method != "GET":
            return _json({"error": f"{method} not allowed"}, 405)
        return _json({"faults": emu.fault_texts(), "seed": emu.faults.seed})
    if path == "objects" and method == "POST":
        body = await _body(request)
        items = body.get("objects", [])
        if not isinstance(items, list):
            raise UsageError("'objects' must be a list")
        made = []
        for item in items:
            spec = _object_spec(item)
            made.append(_version(spec.bucket, create_object(emu.store, spec)))
        return _json({"objects": made})
    if path.startswith("objects/") and method == "PUT":
        bucket, _, key = unquote(path[len("objects/") :]).partition("/")
        if not key:
            raise UsageError("expected PUT /_emulator/objects/BUCKET/KEY")
        emu.store.create_bucket(bucket)
        version = emu.store.put_object(bucket, key, await request.read())
        return _json(_version(bucket, version))
    if path == "buckets" and method == "POST":
        body = await _body(request)
        bucket = str(body.get("bucket", ""))
        emu.store.create_bucket(bucket)
        versioning = body.get("versioning")
        if versioning is not None:
            emu.store.set_versioning(bucket, bool(versioning))
        return _json({"bucket": bucket, "versioning": emu.store.get_versioning(bucket)})
    if path == "reset" and method == "POST":
        emu.reset()
        return _json({"reset": True})
    return _json({"error": f"no admin endpoint {method} {ADMIN_PREFIX}{path}"}, 404)
