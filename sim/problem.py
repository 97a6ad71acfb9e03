"""One problem definition shared by the Monte Carlo kernels, the exact solvers and the theory.

A :class:`Problem` binds a landscape, a noise model, a dynamics (optimizer or SDE), a start and an
exit region.  Every consumer reads the same object, so a comparison can never silently compare two
different setups.
"""
from __future__ import annotations

import numpy as np

from . import _validation as V
from .dynamics import DynamicsBase
from .exits import ExitRegionBase, NoExit
from .landscapes import LandscapeBase
from .noise import NoiseBase

__all__ = ["Problem"]


class Problem:
    """Landscape + noise + dynamics + start (+ optimizer state) + exit region.

    Parameters
    ----------
    landscape : LandscapeBase
    noise : NoiseBase
    dynamics : DynamicsBase
    x0 : array_like, shape (dim,)
        Start of every path.
    exit : ExitRegionBase, optional
        Where paths stop (first passage).  The start must not lie in it.
    initial_state : array_like, optional
        Optimizer state at step 0 (e.g. an initial momentum), shape
        ``(dynamics.state_size(dim),)``; the dynamics' default if omitted.
    """

    def __init__(self, landscape, noise, dynamics, x0, exit=None, initial_state=None):
        if not isinstance(landscape, LandscapeBase):
            raise TypeError(f"landscape must be a LandscapeBase, got {type(landscape).__name__}")
        if not isinstance(noise, NoiseBase):
            raise TypeError(f"noise must be a NoiseBase, got {type(noise).__name__}")
        if not isinstance(dynamics, DynamicsBase):
            raise TypeError(f"dynamics must be a DynamicsBase, got {type(dynamics).__name__}")
        exit = NoExit() if exit is None else exit
        if not isinstance(exit, ExitRegionBase):
            raise TypeError(f"exit must be an ExitRegionBase, got {type(exit).__name__}")
        self.landscape, self.noise, self.dynamics, self.exit = landscape, noise, dynamics, exit
        self.dim = landscape.dim
        self.x0 = V.vector("x0", x0, self.dim)
        exit.check_start(self.x0)
        n_aux = dynamics.state_size(self.dim)
        if initial_state is None:
            self.initial_state = np.asarray(dynamics.initial_state(self.dim), dtype=float)
        else:
            self.initial_state = V.vector("initial_state", initial_state, n_aux)

    def describe(self) -> dict:
        """JSON-friendly description of every part (stored in result metadata)."""
        return {
            "landscape": self.landscape.describe(),
            "noise": self.noise.describe(),
            "dynamics": self.dynamics.describe(),
            "exit": self.exit.describe(),
            "x0": self.x0.tolist(),
            "initial_state": self.initial_state.tolist(),
        }

    def overdamped_coefficients(self):
        r"""``(drift, diffusion)`` callables of this problem's overdamped SDE, in the form the
        Fokker–Planck solvers (:mod:`sim.exact.fokker_planck`, :mod:`sim.exact.mfpt`) take: points ``(n,)`` in
        1-D (returning ``(n,)`` and ``(n,)``) or ``(n, 2)`` in 2-D (returning ``(n, 2)`` and
        ``(n, 2, 2)``).  So the grid solvers and the Monte Carlo read the same problem.
        """
        if not hasattr(self.dynamics, "drift_diffusion"):
            raise ValueError(f"{type(self.dynamics).__name__} has no overdamped SDE form; use its "
                             "continuous model (e.g. dynamics.continuous())")
        drift, diffusion = self.dynamics.drift_diffusion(self.landscape, self.noise)
        if self.dim == 1:
            return (lambda x: drift(np.asarray(x, float)[:, None])[:, 0],
                    lambda x: diffusion(np.asarray(x, float)[:, None])[:, 0, 0])
        if self.dim == 2:
            return drift, diffusion
        raise ValueError(f"the grid solvers handle 1-D and 2-D problems, this one has dim={self.dim}")

    def replace(self, **changes) -> "Problem":
        """A copy with some parts replaced (``landscape=``, ``dynamics=``, ``x0=``, …)."""
        kw = dict(landscape=self.landscape, noise=self.noise, dynamics=self.dynamics, x0=self.x0,
                  exit=self.exit, initial_state=None)
        if "dynamics" not in changes and "initial_state" not in changes:
            kw["initial_state"] = self.initial_state
        kw.update(changes)
        return Problem(**kw)

    def __repr__(self) -> str:
        return (f"Problem({self.landscape!r}, {self.noise!r}, {self.dynamics!r}, "
                f"x0={self.x0.tolist()}, exit={self.exit!r})")
