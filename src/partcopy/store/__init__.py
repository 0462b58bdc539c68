"""The in-memory object store: ``memory`` (``MemoryStore``), ``data`` (virtual content), ``records``
and ``stats``. Imported by the emulator and ``transports.memory``; it imports no engine or CLI.
"""
