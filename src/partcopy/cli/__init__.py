"""The ``partcopy`` command line: ``app`` (parser, entry point), one module per command, shared
helpers in ``common``, logging setup in ``logs``. Nothing in the library imports cli/.

``partcopy = "partcopy.cli:entry"`` is the console script; ``python -m partcopy`` runs it too.
"""

from partcopy.cli.app import entry, main

__all__ = ["entry", "main"]
