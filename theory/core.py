"""Infrastructure shared by every theory entry: the entry record, the registry, validity warnings.

A :class:`TheoryEntry` is one result of docs/theory.md section 5: its statement in words, its
assumptions, the formulas as SymPy expressions, NumPy functions that evaluate them, the
validity regime (named small parameters, with callables that compute them), a source locator
and a note on which constants are the paper's and which are the project's own ("project form").

Nothing symbolic runs at call time: the SymPy expressions are built once at import, and
:func:`lambdify_cached` turns an expression into a NumPy function once per (expression,
argument list).
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

import numpy as np
import sympy as sp

__all__ = [
    "TheoryEntry",
    "ValidityWarning",
    "register",
    "get",
    "entries",
    "ids",
    "warn_if_large",
    "lambdify_cached",
]


class ValidityWarning(UserWarning):
    """A small parameter of a theory entry is not small: the formula may be inaccurate."""


@dataclass(frozen=True)
class TheoryEntry:
    """One result of docs/theory.md section 5.

    Attributes
    ----------
    id : str
        Short identifier, e.g. ``"thm1"``, ``"ddt-sgd"``, ``"adamod-a1"``.
    title : str
        One-line title.
    statement : str
        The result in words.
    assumptions : tuple of str
        The assumptions under which the statement holds.
    formulas : mapping of str to sympy.Expr
        The closed forms, as SymPy expressions over the module's symbols.
    functions : mapping of str to callable
        NumPy implementations (vectorised, validated input).
    validity : str
        The regime in which the result holds, naming the small parameters.
    small_parameters : mapping of str to callable
        Callables computing each small parameter from the same arguments as ``functions``.
    source : str
        Locator: paper, section or result number.
    constants : str
        ``"paper"``, or a text saying which constant or prefactor is the project's own form.
    """

    id: str
    title: str
    statement: str
    assumptions: tuple = ()
    formulas: Mapping[str, sp.Expr] = field(default_factory=dict)
    functions: Mapping[str, Callable] = field(default_factory=dict)
    validity: str = ""
    small_parameters: Mapping[str, Callable] = field(default_factory=dict)
    source: str = ""
    constants: str = "paper"

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("id must be a non-empty string")
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        for name in ("formulas", "functions", "small_parameters"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"TheoryEntry(id={self.id!r}, title={self.title!r})"


_REGISTRY: dict[str, TheoryEntry] = {}


def register(entry: TheoryEntry) -> TheoryEntry:
    """Add ``entry`` to the registry and return it.

    Raises
    ------
    ValueError
        If a different entry with the same id is already registered.
    """
    if not isinstance(entry, TheoryEntry):
        raise TypeError(f"entry must be a TheoryEntry, got {type(entry).__name__}")
    old = _REGISTRY.get(entry.id)
    if old is not None and old is not entry:
        raise ValueError(f"a theory entry with id {entry.id!r} is already registered")
    _REGISTRY[entry.id] = entry
    return entry


def get(entry_id: str) -> TheoryEntry:
    """The registered entry with id ``entry_id`` (``KeyError`` naming the known ids otherwise)."""
    try:
        return _REGISTRY[entry_id]
    except KeyError:
        raise KeyError(f"no theory entry {entry_id!r}; known: {sorted(_REGISTRY)}") from None


def entries() -> tuple[TheoryEntry, ...]:
    """All registered entries, in registration order."""
    return tuple(_REGISTRY.values())


def ids() -> tuple[str, ...]:
    """The ids of all registered entries, in registration order."""
    return tuple(_REGISTRY)


def warn_if_large(name: str, value, threshold: float, *, entry_id: str = "", stacklevel: int = 3):
    """Warn with :class:`ValidityWarning` when the small parameter ``name`` exceeds ``threshold``.

    Parameters
    ----------
    name : str
        Name of the small parameter (used in the message).
    value : array_like
        Its value(s); the largest finite one is compared with ``threshold``.
    threshold : float
        Largest value for which the result is considered trustworthy.

    Returns
    -------
    bool
        True when a warning was issued.
    """
    arr = np.abs(np.asarray(value, dtype=float))
    arr = arr[np.isfinite(arr)]
    if arr.size and arr.max() > threshold:
        where = f"{entry_id}: " if entry_id else ""
        warnings.warn(
            f"{where}small parameter {name} = {arr.max():.3g} exceeds {threshold:g}; "
            "the asymptotic formula may be inaccurate",
            ValidityWarning,
            stacklevel=stacklevel,
        )
        return True
    return False


@functools.lru_cache(maxsize=None)
def _lambdify(expr: sp.Expr, args: tuple) -> Callable:
    return sp.lambdify(args, expr, modules=["scipy", "numpy"])


def lambdify_cached(expr: sp.Expr, args: Iterable[sp.Symbol]) -> Callable:
    """NumPy function of ``args`` evaluating ``expr``, built once per (expr, args) and cached."""
    return _lambdify(sp.sympify(expr), tuple(args))
