"""The former hand-built Kramers model of validate/validity.py (before exact models were built from the
Problem): the reference that tests/validate/test_registry.py compares the adapter with, one grid at a time."""
import numpy as np

from optdyn import sim
from optdyn.sim.exact import fokker_planck as fp

HA, HB, BARRIER = 1.0, 1.0, 1.0


def landscape():
    return sim.PiecewiseQuadraticWells(HA, HB, BARRIER)


def _underdamped_mfpt(exponent: float, lr: float, one_minus_beta1: float, n_theta: int, n_r: int,
                      mass: float | None = None, friction: float = 1.0, land=None) -> float:
    r"""MFPT of the momentum SDE on one grid: mass :math:`\eta/(1-\beta_1)` and friction 1 (EMA form)
    unless ``mass``/``friction`` are given (β₃ = 1: :math:`M = \eta`, :math:`\gamma = 1-\beta_1`)."""
    land = landscape() if land is None else land
    temp = land.delta_l / exponent
    mass = lr / one_minus_beta1 if mass is None else mass

    def force(th):
        return -land.gradient(np.asarray(th, float)[:, None])[:, 0]

    def diffusion(th):  # D = (η/2)|L''|/B = T |L''|
        return temp * np.abs(land.hessian(np.asarray(th, float)[:, None])[:, 0, 0])

    a_min, a_next = land.a1, land.a2
    lo = a_min - 1.5 * (a_next - a_min) / 2
    junctions = [float(b[0]) for b in np.reshape(land.breakpoints, (-1, 1)) if lo < b[0] < a_next]
    res = fp.mean_first_passage_time_underdamped(force, diffusion, mass, friction, (lo, a_next),
                                                 ("reflecting", "absorbing"), n_theta, n_r, breakpoints=junctions)
    return float(res((a_min, 0.0)))
