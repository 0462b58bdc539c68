"""Part-size limits per destination profile: the rows of :mod:`partcopy.providers`.

Kept here so planner users find them next to ``plan``; the facts live in the provider rows.
"""

from __future__ import annotations

from partcopy.providers import PROFILES, PartLimits, get_profile

__all__ = ["PROFILES", "PartLimits", "get_profile"]
