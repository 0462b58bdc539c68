"""The system's CA certificates, loaded when the ``partcopy`` process first speaks TLS.

Importing aiohttp builds two default TLS contexts, each loading the system's trust store
(about 30 ms of a one-object copy's 0.2 s start, and all of it wasted on a plain-http
endpoint). The command's own process (``cli.app.entry``, never the library, whose users
may hold aiohttp sessions of their own) calls ``defer()`` first: when aiohttp's connector
module is imported, its contexts are made without the store, and ``load()`` gives it to
them. ``Network`` calls ``load()`` before the first https request and before routing
through an https proxy, so no handshake ever uses a context without it. Were one to, it
would fail verification, never pass it: the contexts keep ``CERT_REQUIRED``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__all__ = ["defer", "load", "pending"]

_MODULE = "aiohttp.connector"

_pending: list[Any] = []
"""Contexts made while ``_MODULE`` was imported, their default paths not yet loaded."""

_lock = threading.Lock()


def pending() -> int:
    """How many contexts still wait for the trust store."""
    return len(_pending)


def load() -> None:
    """Give every deferred context the system's trust store (at once; cheap when none)."""
    if not _pending:
        return
    with _lock:
        while _pending:
            _pending.pop().set_default_verify_paths()


def defer() -> None:
    """Make aiohttp's connector, when this process imports it, build its default contexts
    without loading the trust store (``load`` does that). No effect if it is imported."""
    if _MODULE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())


class _Finder:
    """Finds ``_MODULE`` as the path finder would, with its loader wrapped (once)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = cast("Loader", _Loader(spec.loader))
        return spec


class _Loader:
    """Runs the module with ``SSLContext.set_default_verify_paths`` recording its context
    instead of loading (``ssl.create_default_context`` calls it through
    ``load_default_certs``); the method is restored however the import ends."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:  # get_source, resource readers: the inner's
        return getattr(self._inner, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._inner.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        import ssl

        real = ssl.SSLContext.set_default_verify_paths

        def later(context: ssl.SSLContext) -> None:
            _pending.append(context)

        ssl.SSLContext.set_default_verify_paths = later  # type: ignore[method-assign,assignment]
        try:
            self._inner.exec_module(module)
        finally:
            ssl.SSLContext.set_default_verify_paths = real  # type: ignore[method-assign]
