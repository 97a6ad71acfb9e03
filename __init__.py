"""optdyn: optimizers as stochastic dynamics on analytic landscapes, checked against theory.

The package has three parts (``docs/theory.md`` is the theory they implement):

* :mod:`optdyn.sim` — the simulator: landscapes, noise models, dynamics (each optimizer and its
  continuous model), ensembles on several backends, exact solvers;
* :mod:`optdyn.theory` — each result as a registered entry with its closed forms;
* :mod:`optdyn.validate` — the checks that join the two, and the ``optdyn`` command.

Subpackages are imported on first access (``import optdyn`` alone does not load numba), so
``optdyn --version`` is instant.
"""
from __future__ import annotations

import importlib

__all__ = ["sim", "theory", "validate", "__version__"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("optdyn")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


__version__ = _version()


def __getattr__(name: str):
    if name in ("sim", "theory", "validate"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
