"""The former hand-built Kramers model of validate/validity.py (before exact models were built from the
Problem): the reference that tests/validate/test_registry.py compares the adapter with."""
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
    res = fp.mean_first_passage_time_underdamped(force, diffusion, mass, friction,
                                                 (a_min - 1.5 * (a_next - a_min) / 2, a_next),
                                                 ("reflecting", "absorbing"), n_theta, n_r)
    return float(res((a_min, 0.0)))


def exact_underdamped(exponent: float, lr: float, one_minus_beta1: float, n_theta: int = 480,
                      n_r: int = 193, *, mass: float | None = None, friction: float = 1.0,
                      land=None) -> tuple[float, float]:
    r"""Exact MFPT of the momentum SDE and an estimate of its error.

    Default: the EMA form (mass :math:`\eta/(1-\beta_1)`, friction 1) on :func:`landscape`; give
    ``mass`` and ``friction`` for another form (β₃ = 1: ``mass=lr``, ``friction=1-beta1``) and
    ``land`` (a 1-D :class:`sim.PiecewiseQuadraticWells`) for another landscape.  The diffusion is
    :math:`D(\theta) = (\Delta L/E)\,|L''(\theta)|` with :math:`E` = ``exponent`` (Hessian noise at
    :math:`T = \eta/(2B) = \Delta L/E`); absorbing at the next minimum, reflecting 1.5 well-widths
    beyond the start.

    The value is extrapolated in :math:`\log T` from ``n_r`` and ``(n_r+1)/2`` velocity cells and the error
    is the size of that correction, as :func:`sim.exact.adapters.kramers_mfpt_richardson` does (the
    extrapolation is the adapter's; what the test compares is the model built from the Problem).
    """
    half = (n_r + 1) // 2
    l1, l2 = (np.log(_underdamped_mfpt(exponent, lr, one_minus_beta1, n_theta, m, mass, friction, land))
              for m in (n_r, half))
    return float(np.exp(l1 + (l1 - l2) / 3.0)), float(abs(np.expm1((l1 - l2) / 3.0)))
