"""Dynamics: each optimizer (docs/theory.md §3) beside its continuous model (docs/theory.md §4), one module a
family, every class registered (:mod:`.registry`) with example settings that the contract tests
(``tests/sim/test_dynamics_contract.py``) run over.  What a dynamics must provide is the numbered
contract in :class:`DynamicsBase`'s docstring.

Adding a dynamics: write its module (see :mod:`.rmsprop`) and import it below, one line.
"""
from . import registry
from .base import DiscreteOptimizerBase, DynamicsBase  # noqa: F401 (bases for new dynamics)
from .underdamped import UnderdampedSDEBase  # noqa: F401

# one line a dynamics module: importing it registers its classes
from .sgd import *  # noqa: F401,F403
from .momentum import *  # noqa: F401,F403
from .adam import *  # noqa: F401,F403
from .adai import *  # noqa: F401,F403
from .adai_independent import *  # noqa: F401,F403
from .rmsprop import *  # noqa: F401,F403

#: every registered dynamics class, by name (what ``optdyn.sim`` exports)
__all__ = ["DynamicsBase", *(e.name for e in registry.entries())]
