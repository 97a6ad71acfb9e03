"""The local-Gibbs Kramers scheme (sim/exact/fokker_planck/local_gibbs.py): exact discrete equilibrium,
and MFPTs right to its stated accuracy at high barriers (docs/theory.md §7)."""
import warnings

import numpy as np
import pytest

from optdyn import sim
from optdyn.sim.exact import fokker_planck as fp
from optdyn.sim.exact.mfpt import mean_first_passage_time_1d
from optdyn.validate import problems as P

M_WELL, GAMMA, T_WELL = 0.5, 1.0, 0.05


def _quartic_force(th):
    return -(th ** 3 - th)


def test_discrete_gibbs_is_stationary():
    """Constant temperature: the grid's Gibbs density e^{-(L + M r^2/2)/T} is annihilated by the forward
    operator to round-off (relative to the size of the terms) away from the walls, where the zero-flux
    conditions cut the exponentially small tails; columns sum to zero (mass is conserved)."""
    r_max = 6 * np.sqrt(T_WELL / M_WELL)
    grid = fp.Grid2D((-2.0, -r_max), (2.0, r_max), (200, 61))
    A = fp.kramers_generator(_quartic_force, lambda th: GAMMA * T_WELL * np.ones_like(th), M_WELL, GAMMA, grid,
                             ("reflecting", "reflecting"))
    th, r = (ax.centres for ax in grid.axes)
    gibbs = np.exp(-((th ** 4 / 4 - th ** 2 / 2)[:, None] + M_WELL * r[None, :] ** 2 / 2) / T_WELL).ravel()
    rel = (np.abs(A @ gibbs) / (abs(A) @ gibbs)).reshape(grid.shape)
    assert rel[3:-3, 3:-3].max() < 1e-12  # measured 7.6e-15
    assert np.abs(np.asarray(A.sum(axis=0))).max() < 1e-10 * abs(A).max()
    # the direct scheme is not exact: its residual is O(h^2) (measured 4e-3 on this grid)
    A0 = fp.kramers_generator(_quartic_force, lambda th: GAMMA * T_WELL * np.ones_like(th), M_WELL, GAMMA, grid,
                              ("reflecting", "reflecting"), weighting="none")
    assert (np.abs(A0 @ gibbs) / (abs(A0) @ gibbs)).reshape(grid.shape)[3:-3, 3:-3].max() > 1e-4


def _overdamped_reference(prob):
    """Quadrature MFPT of the high-friction limit (drift F/γ, diffusion D/γ²) times the Kramers prefactor
    ratio |H_b|/(γ λ₊): the underdamped MFPT to leading order in e^E, whose O(1/E) corrections at
    M|H_b|/γ² = 0.02 differ from the overdamped ones only at O(M/E)."""
    mass, friction, _ = sim.exact.adapters.underdamped_coefficients(prob)
    e, s0, s_exit, point = sim.exact.adapters.escape_coordinate(prob)
    land, eta = prob.landscape, prob.dynamics.lr

    def force(s):
        return -(land.gradient(point(s)) @ e)

    def diffusion(s):
        return 0.5 * eta * np.einsum("i,mij,j->m", e, prob.noise.covariance(point(s), land), e)

    q = mean_first_passage_time_1d(lambda s: force(s) / friction, lambda s: diffusion(s) / friction ** 2, s0,
                                   s0 - 0.75 * (s_exit - s0), s_exit).value
    h_b = abs(land.curvatures()[1])
    lam = (-friction + np.sqrt(friction ** 2 + 4 * mass * h_b)) / (2 * mass)
    return q * h_b / (friction * lam)


@pytest.mark.parametrize("exponent", [pytest.param(20.0, marks=pytest.mark.slow), 40.0,
                                      pytest.param(60.0, marks=pytest.mark.slow)])
def test_high_friction_limit_at_high_barrier(exponent):
    """M = 0.02, γ = 1 (M|H_b|/γ² = 0.02): the Richardson Kramers MFPT equals the overdamped quadrature
    with Kramers' prefactor within its stated error, which is below 1e-2 (measured: agreement 1.5e-6,
    1.1e-5 at E = 20, 40; stated 7e-4, 1.4e-3)."""
    prob = P.momentum_wells(exponent, lr=0.002)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ResolutionWarning / ConditioningWarning expected
        k = sim.exact.adapters.kramers_mfpt_richardson(prob, 480, 97)
    assert k.error < sim.exact.adapters.KRAMERS_TOLERANCE
    assert abs(k.value / _overdamped_reference(prob) - 1) < k.error


@pytest.mark.slow
@pytest.mark.parametrize("exponent", [20.0, 40.0])
def test_stated_error_covers_the_finer_grid(exponent):
    """Finite mass (M = 0.5, the Theorem 3 checks' model): the Richardson value on 240 x 49 lies within its
    stated error of the value on 480 x 97, and the latter states < 1e-2 (measured at E = 40: 1.9e-3)."""
    prob = P.momentum_wells(exponent, lr=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coarse = sim.exact.adapters.kramers_mfpt_richardson(prob, 240, 49)
    fine = sim.exact.adapters.kramers_mfpt_richardson(prob, 480, 97)
    assert fine.error < sim.exact.adapters.KRAMERS_TOLERANCE
    assert abs(coarse.value / fine.value - 1) < coarse.error + fine.error
