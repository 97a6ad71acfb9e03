"""The registry of all dynamics: each class registers itself, with example settings, where it is
defined (:func:`register`), and the contract tests (``tests/sim/test_dynamics_contract.py``) run
over every registered example, so a new optimizer is tested without editing any test.

>>> from optdyn.sim.dynamics import registry
>>> [e.name for e in registry.entries()][:2]
['SGD', 'SGDLangevin']
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Entry", "register", "entries", "get", "examples", "bad_examples"]


@dataclass(frozen=True)
class Entry:
    """One registered dynamics class.

    Attributes
    ----------
    cls : type
        The class (a :class:`~optdyn.sim.dynamics.base.DynamicsBase`).
    examples : tuple of dict
        Keyword arguments of example instances: several settings that together reach every branch
        of the update (e.g. weight decay on and off).
    bad : tuple of (dict, str)
        Invalid keyword arguments and the parameter name the error message must contain.
    """

    cls: type
    examples: tuple
    bad: tuple

    @property
    def name(self) -> str:
        return self.cls.__name__

    def instances(self) -> list:
        return [self.cls(**kw) for kw in self.examples]


_ENTRIES: dict[str, Entry] = {}


def register(*, examples, bad=()):
    """Class decorator: add the class to the registry with its ``examples`` (keyword-argument
    dicts, at least one) and ``bad`` settings (``(kwargs, parameter name)`` pairs)."""
    from .base import DynamicsBase  # noqa: PLC0415 (base imports nothing from here)

    def deco(cls):
        if not (isinstance(cls, type) and issubclass(cls, DynamicsBase)):
            raise TypeError(f"only DynamicsBase subclasses can be registered, got {cls!r}")
        if cls.__name__ in _ENTRIES and _ENTRIES[cls.__name__].cls is not cls:
            raise ValueError(f"a dynamics named {cls.__name__} is already registered")
        if cls.kind not in ("discrete", "sde") or cls.param_slots is None:
            raise TypeError(f"{cls.__name__} must set kind ('discrete' or 'sde') and param_slots "
                            "(DynamicsBase contract items 1 and 4)")
        ex = tuple(dict(kw) for kw in examples)
        if not ex:
            raise ValueError(f"{cls.__name__}: give at least one example")
        bad_ = tuple((dict(kw), str(name)) for kw, name in bad)
        _ENTRIES[cls.__name__] = Entry(cls, ex, bad_)
        return cls

    return deco


def entries() -> tuple[Entry, ...]:
    """Every registered dynamics, in registration order."""
    return tuple(_ENTRIES.values())


def get(name: str) -> Entry:
    """The entry of the class called ``name``."""
    try:
        return _ENTRIES[name]
    except KeyError:
        raise KeyError(f"no dynamics named {name!r}; registered: {sorted(_ENTRIES)}") from None


def examples(kind: str | None = None) -> list:
    """Every example instance (of ``kind`` ``"discrete"`` or ``"sde"`` only, if given)."""
    return [d for e in entries() for d in e.instances() if kind is None or d.kind == kind]


def bad_examples() -> list:
    """``(cls, kwargs, parameter name)`` of every registered invalid setting."""
    return [(e.cls, kw, name) for e in entries() for kw, name in e.bad]
