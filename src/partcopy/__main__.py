"""``python -m partcopy``."""

from partcopy.cli import entry

entry()
