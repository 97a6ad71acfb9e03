"""Problems that together reach every landscape, noise model, exit region and registered dynamics
the numba backend supports (shared by the GPU-path tests and ``benchmarks/bench_gpu.py``).

Each case is a landscape with the noise model and exit region it is paired with; the noise binds
to every compiled path there is: a constant factor (quadratic), a fixed eigenbasis (profile wells,
Styblinski–Tang), the critical point of the region (local noise), white noise, and the general
eigen-decomposition (the curved double well, also under local noise), and the bounded noise models
(two-point, uniform) on the chain and slope landscapes.  Every registered dynamics example is assigned to one
case, round robin (:func:`assignments`), so each example runs once and every case gets several."""
from __future__ import annotations

import numpy as np

from optdyn import sim
from optdyn.sim.dynamics import registry

DIM = 2


def _quadratic():
    land = sim.QuadraticSaddle([1.0, -0.5], rotation=sim.random_rotation(DIM, 1), center=[0.05, -0.02])
    return land, sim.HessianNoise(1.0), sim.BallExit(np.zeros(DIM), 0.6), np.array([0.1, -0.05])


def _wells_local():
    land = sim.PiecewiseQuadraticWells(1.0, 1.0, 0.2, spectators=[2.0])
    return land, sim.LocalHessianNoise(6.0), land.exit_beyond(0, 0, at="saddle"), land.minima[0]


def _flat_sharp():
    land = sim.FlatSharpDoubleWell(1.0, 3.0, 1.0, 0.2, spectators=[1.5])
    e = land.escape_direction(0, 0)
    return land, sim.HessianNoise(6.0), sim.SlabExit(land.minima[0], e, 0.35), land.minima[0]


def _quartic_white():
    land = sim.QuarticDoubleWell(0.2, spectators=[1.0])
    m = land.minima[0]
    return land, sim.WhiteNoise(0.4), sim.BoxExit(m - 0.4, m + 0.4), m


def _styblinski():
    land = sim.StyblinskiTang(DIM)
    return land, sim.HessianNoise(40.0, floor=1.0), sim.NoExit(), land.minima[0]


def _curved():
    land = sim.CurvedDoubleWell()
    return land, sim.HessianNoise(6.0, floor=0.1), land.exit_beyond(0, 0, at="saddle"), land.minima[0]


def _curved_local():
    land = sim.CurvedDoubleWell()
    return land, sim.LocalHessianNoise(6.0, floor=0.1), sim.BallExit(land.minima[0], 0.5), land.minima[0]


def _chain_two_point():
    land = sim.WellChain(DIM)
    return land, sim.TwoPointNoise.rademacher(0.5), sim.NoExit(), np.zeros(DIM)


def _slope_uniform():
    land = sim.LinearSlope([0.5, -0.25])
    return land, sim.UniformNoise(-0.5, 0.5), sim.BallExit(np.zeros(DIM), 0.4), np.zeros(DIM)


CASES = {"quadratic": _quadratic, "wells-local": _wells_local, "flat-sharp": _flat_sharp,
         "quartic-white": _quartic_white, "styblinski": _styblinski, "curved": _curved,
         "curved-local": _curved_local, "chain-two-point": _chain_two_point,
         "slope-uniform": _slope_uniform}


def problem(case: str, dyn) -> sim.Problem:
    land, noise, ex, x0 = CASES[case]()
    return sim.Problem(land, noise, dyn, np.asarray(x0, float), exit=ex)


def assignments():
    """``[(case, dynamics), ...]``: every registered example once, cases round robin."""
    names = list(CASES)
    return [(names[i % len(names)], d) for i, d in enumerate(registry.examples())]
