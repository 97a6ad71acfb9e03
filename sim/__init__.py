"""optdyn's simulator: landscapes, noise models, dynamics, ensemble kernels and exact solvers.

``import sim`` never imports torch; optional backends load only when asked for.
"""
from .dynamics import *  # noqa: F401,F403  (every registered dynamics: SGD, Adam, RMSprop, …)
from .dynamics import __all__ as _dynamics_all
from .ensemble import BLOCK, run_ensemble
from .exits import BallExit, BoxExit, ExitRegionBase, HalfSpaceExit, NoExit, SlabExit
from .landscapes import LandscapeBase, QuadraticSaddle, random_rotation
from .exact import (affine_recursion_moments, exact_scheme_moments, exact_sde_moments,
                    linear_sde_moments)
from .exact import exact_scheme_state_moments, exact_sde_state_moments
from .noise import HessianNoise, LocalHessianNoise, NoiseBase, WhiteNoise
from .bounded_noise import TwoPointNoise, UniformNoise
from .problem import Problem
from .results import EnsembleResult, load_result
from .backends import available_backends, get_backend, register_backend

__all__ = [
    *_dynamics_all, "run_ensemble", "BLOCK", "BallExit", "BoxExit", "ExitRegionBase",
    "HalfSpaceExit", "NoExit", "SlabExit", "LandscapeBase", "QuadraticSaddle", "random_rotation",
    "affine_recursion_moments", "exact_scheme_moments", "exact_sde_moments", "linear_sde_moments",
    "HessianNoise", "NoiseBase", "WhiteNoise", "Problem", "EnsembleResult", "load_result",
    "available_backends", "get_backend", "register_backend",
    "exact_scheme_state_moments", "exact_sde_state_moments",
]
from .landscapes import (CurvedDoubleWell, FlatSharpDoubleWell, PiecewiseQuadraticWells, QuarticDoubleWell,
                    StyblinskiTang, SymbolicLandscape, WellsLandscapeBase)

from . import escape, exact, schedules  # noqa: E402  (escape-time statistics: sim.escape.*; exact solvers)
from .landscapes import LinearSlope, WellChain  # noqa: E402
from .merge import merge  # noqa: E402  (exact merge of runs over adjacent path ranges)

__all__ += ["TwoPointNoise", "UniformNoise", "schedules", "WellChain", "LinearSlope", "merge"]
__all__ += ["escape", "exact", "LocalHessianNoise", "WellsLandscapeBase", "PiecewiseQuadraticWells", "FlatSharpDoubleWell",
            "QuarticDoubleWell", "StyblinskiTang", "CurvedDoubleWell", "SymbolicLandscape"]
