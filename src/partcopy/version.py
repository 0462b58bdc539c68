"""partcopy's version (one place: the package, the User-Agent and ``--version``)."""

__version__ = "0.1.0"
