"""The ``cp`` flags for copy fidelity: tags, ACL, encryption keys, checksum proof, layout
and content checks; and reading SSE-C keys from files or the environment.

A leaf of cli/. Keys are never taken on the command line (the process list shows it):
``--sse-c-key-file`` / ``--source-sse-c-key-file`` name files holding the 32-byte key (raw,
or base64 text), and ``PARTCOPY_SSE_C_KEY`` / ``PARTCOPY_SOURCE_SSE_C_KEY`` (base64) or
``PARTCOPY_SSE_C_KEY_FILE`` / ``PARTCOPY_SOURCE_SSE_C_KEY_FILE`` give them from the
environment. A key that is not 32 bytes, or a file that cannot be read, is exit 2.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from partcopy.engine.fidelity import CHECKSUM_CHOICES, FidelityOptions
from partcopy.errors import UsageError
from partcopy.transports.base import SSECustomerKey

__all__ = [
    "FidelityArgs",
    "add_fidelity_flags",
    "fidelity_from_args",
    "prefix_fidelity",
    "read_key_file",
]

KEY_BYTES = 32
_MAX_KEY_FILE = 4096


@dataclass(frozen=True, slots=True)
class FidelityArgs:
    """What the fidelity flags ask of one copy."""

    options: FidelityOptions
    source_sse_c: SSECustomerKey | None = None
    destination_sse_c: SSECustomerKey | None = None


def add_fidelity_flags(p: Any) -> None:
    """Register the fidelity flags on parser ``p``."""
    g = p.add_argument_group("fidelity (what the copy carries and what proves it)")
    tags = g.add_mutually_exclusive_group()
    tags.add_argument(
        "--tags", metavar="K=V&...", help="tags for the destination instead of the source's"
    )
    tags.add_argument("--no-tags", action="store_true", help="copy without tags")
    g.add_argument(
        "--acl", metavar="CANNED", help="canned ACL (private, bucket-owner-full-control…)"
    )
    g.add_argument(
        "--sse",
        choices=("AES256", "aws:kms", "none"),
        help="encrypt the destination so (default: as the source is; none: ask for no "
        "server-side encryption, e.g. into a store that has none)",
    )
    g.add_argument("--sse-kms-key-id", metavar="ID", help="with --sse aws:kms: the KMS key")
    g.add_argument(
        "--sse-c-key-file",
        metavar="FILE",
        help="SSE-C key of the destination (32 bytes, raw or base64; or PARTCOPY_SSE_C_KEY)",
    )
    g.add_argument(
        "--src-sse-c-key-file",
        "--source-sse-c-key-file",  # its first name, kept for scripts written with it
        dest="source_sse_c_key_file",
        metavar="FILE",
        help="SSE-C key of the source (or PARTCOPY_SOURCE_SSE_C_KEY)",
    )
    g.add_argument(
        "--checksum",
        choices=CHECKSUM_CHOICES,
        default="auto",
        help="flexible checksum that proves the copy (auto: the source's, or CRC64NVME in "
        "a multipart relay, where the destination supports it; a one-PUT relay of a small "
        "object is proven by its MD5)",
    )
    g.add_argument(
        "--preserve-layout",
        action="store_true",
        help="copy with the source's part ranges so the destination's ETag is the source's",
    )
    g.add_argument(
        "--verify-content",
        choices=("none", "sample", "full"),
        default="none",
        help="read both sides back and compare by hash: a few seeded ranges, or everything",
    )


def read_key_file(path: str, flag: str) -> SSECustomerKey:
    """The SSE-C key in the file at ``path`` (32 raw bytes, or base64 of them)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise UsageError(f"invalid {flag} {path!r}: cannot read it ({exc.strerror})") from None
    return SSECustomerKey(_key_bytes(data, f"{flag} {path!r}"))


def _key_bytes(data: bytes, what: str) -> bytes:
    if len(data) == KEY_BYTES:
        return data
    try:
        decoded = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == KEY_BYTES:
        return decoded
    raise UsageError(
        f"invalid {what}: an SSE-C key is {KEY_BYTES} bytes (AES-256), raw or base64; "
        f"it has {len(data)} bytes"
    )


def _key(path: str | None, flag: str, env: Mapping[str, str], name: str) -> SSECustomerKey | None:
    if path is not None:
        return read_key_file(path, flag)
    if env.get(name + "_FILE"):
        return read_key_file(env[name + "_FILE"], name + "_FILE")
    if env.get(name):
        return SSECustomerKey(_key_bytes(env[name].encode(), name))
    return None


def fidelity_from_args(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> FidelityArgs:
    """The fidelity options and keys the flags (and the environment) give; ``UsageError``
    for an unreadable or wrong-sized key."""
    environ = os.environ if env is None else env
    options = FidelityOptions(
        tags="" if args.no_tags else args.tags,
        acl=args.acl,
        sse=args.sse,
        sse_kms_key_id=args.sse_kms_key_id,
        checksum=args.checksum,
        preserve_layout=args.preserve_layout,
        verify_content=args.verify_content,
    )
    return FidelityArgs(
        options,
        source_sse_c=_key(
            args.source_sse_c_key_file,
            "--src-sse-c-key-file",
            environ,
            "PARTCOPY_SOURCE_SSE_C_KEY",
        ),
        destination_sse_c=_key(
            args.sse_c_key_file, "--sse-c-key-file", environ, "PARTCOPY_SSE_C_KEY"
        ),
    )


def prefix_fidelity(args: argparse.Namespace) -> FidelityOptions:
    """The fidelity options of ``cp --recursive`` (``sync`` has no such flags: defaults).

    SSE-C keys are refused there: a prefix run may ship its options to Dask workers, and
    keys never leave the process that read them.
    """
    if not hasattr(args, "checksum"):
        return FidelityOptions()
    for flag, value in (
        ("--sse-c-key-file", args.sse_c_key_file),
        ("--src-sse-c-key-file", args.source_sse_c_key_file),
    ):
        if value is not None:
            raise UsageError(f"{flag} copies one object: it is not taken with --recursive")
    return fidelity_from_args(args, env={}).options
