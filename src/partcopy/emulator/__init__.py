"""A dialect emulator: a real HTTP server on loopback over a store/ ``MemoryStore`` (wire
adapters, signatures, faults, admin). Imported by the CLI, tests and benchmarks, never the library.

It speaks S3, OBS, COS or QingStor, verifies signatures, enforces the services' limits,
holds virtual objects of any size, and injects seeded faults. Default credentials:
access key ``partcopy``, secret key ``partcopy-secret``.
"""

from partcopy.emulator.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from partcopy.emulator.faults import FAULT_KINDS, FaultSpec, parse_fault
from partcopy.emulator.objects import ObjectSpec, parse_object
from partcopy.emulator.server import DIALECTS, Emulator
from partcopy.emulator.thread import EmulatorThread

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_SECRET_KEY",
    "DIALECTS",
    "FAULT_KINDS",
    "Emulator",
    "EmulatorThread",
    "FaultSpec",
    "ObjectSpec",
    "parse_fault",
    "parse_object",
]
