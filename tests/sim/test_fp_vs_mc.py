"""Fokker–Planck / backward-Kolmogorov MFPTs against Monte Carlo of the same Problem.

The Monte Carlo checks the exit only at the steps (every ``dt``), which delays detection: the
continuity correction of Broadie, Glasserman and Kou ("A continuity correction for discrete barrier
options", Math. Finance 1997) says this equals moving each wall outward by 0.5826·σ_n·√dt, with
σ_n² = 2 D_nn the diffusion across the wall.  The reference is therefore the backward MFPT with the
walls moved out by that amount.  Tolerance: 4 standard errors of the Monte Carlo mean, plus the grid
error of the solver (the difference between two grids, second order), plus half the effect of the
correction itself (a conservative bound on its O(dt) residual).
"""
import numpy as np
import pytest

from optdyn import sim

Z = 4.0
N_PATHS = 3000
DT = 1e-3


def _shifted_box(prob, half_width):
    return half_width + sim.escape.discrete_monitoring_shift(prob)


def _mc_mean(prob):
    res = sim.run_ensemble(prob, N_PATHS, 200.0, seed=11)
    assert res.summary()["censored"] == 0
    t = res.escape_times
    return t.mean(), t.std(ddof=1) / np.sqrt(t.size)


@pytest.mark.parametrize("dim", [1, 2])
def test_backward_mfpt_matches_monte_carlo(dim):
    if dim == 1:
        land, half, grids = sim.QuadraticSaddle([1.0]), np.array([0.5]), (1000, 2000)
    else:  # rotated Hessian: anisotropic noise with D_xy != 0
        land, half, grids = (sim.QuadraticSaddle([1.0, 0.4], rotation=sim.random_rotation(2, 3)),
                             np.array([0.6, 0.6]), (64, 128))
    prob = sim.Problem(land, sim.HessianNoise(1.0), sim.SGDLangevin(0.1, dt=DT), np.zeros(dim),
                       exit=sim.BoxExit(-half, half))
    walls = _shifted_box(prob, half)
    coarse, fine = (sim.exact.adapters.box_mfpt(prob, walls, n) for n in grids)
    unshifted = sim.exact.adapters.box_mfpt(prob, half, grids[1])
    mean, se = _mc_mean(prob)
    tol = Z * se + abs(fine - coarse) + 0.5 * abs(fine - unshifted)
    assert abs(mean - fine) <= tol, (mean, se, fine, unshifted, coarse)
    # the check has power: the discrete-monitoring shift alone is resolved at this size
    assert abs(fine - unshifted) > 0.5 * se
