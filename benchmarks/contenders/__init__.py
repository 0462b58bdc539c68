"""Contenders: each copies with one tool, in a child process of its own.

A contender module has ``run(spec: CopySpec) -> Outcome`` (or ``run_bulk(spec: BulkSpec)``);
``python -m benchmarks.contenders NAME`` reads the spec as JSON on stdin, times the call,
and prints one JSON line. Only the tool under test is imported in its child.
"""

from benchmarks.contenders.spec import BulkSpec, CopySpec, Outcome

CONTENDERS = (
    "partcopy_lib",
    "boto3_managed",
    "rclone_cli",
    "bare_pipe",
)

__all__ = ["CONTENDERS", "BulkSpec", "CopySpec", "Outcome"]
