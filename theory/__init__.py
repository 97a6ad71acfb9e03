"""Closed-form results of docs/theory.md section 5, one :class:`~theory.core.TheoryEntry` per result.

``theory.get("thm1")`` returns an entry; ``theory.entries()`` lists them all (in docs/theory.md's
order). The package never runs a simulation and never imports :mod:`sim`.
"""
from .core import TheoryEntry, ValidityWarning, entries, get, ids, register, warn_if_large

# Import order = registration order.
from . import thm1  # noqa: E402,F401
from . import thm2  # noqa: E402,F401
from . import prop1  # noqa: E402,F401
from . import prop3  # noqa: E402,F401
from . import ddt  # noqa: E402,F401
from . import thm3  # noqa: E402,F401
from . import prop2  # noqa: E402,F401
from . import prop4  # noqa: E402,F401
from . import adamod  # noqa: E402,F401
from . import thm4  # noqa: E402,F401
from . import landscape  # noqa: E402,F401

__all__ = ["TheoryEntry", "ValidityWarning", "entries", "get", "ids", "register", "warn_if_large"]
