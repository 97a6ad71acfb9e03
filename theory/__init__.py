"""Closed-form results of THEORY.md section 5, one :class:`~theory.core.TheoryEntry` per result.

``theory.get("thm1")`` returns an entry; ``theory.entries()`` lists them all. The package never
runs a simulation and never imports :mod:`sim`.
"""
from .core import TheoryEntry, ValidityWarning, entries, get, ids, register, warn_if_large
from . import thm1, thm2, prop1, prop3  # noqa: F401  (register the entries)

__all__ = ["TheoryEntry", "ValidityWarning", "entries", "get", "ids", "register", "warn_if_large"]
