r"""Theorem 3 of [Adai]: Momentum escapes minima with SGD's exponent.

Momentum's SDE (docs/theory.md section 4) has mass :math:`M = \eta/\beta_3`, friction
:math:`\gamma = (1-\beta_1)/\beta_3` and noise :math:`\sqrt{2D}`; its Gibbs-like quasi-equilibrium
:math:`\propto\exp(-\gamma(L + Mr^2/2)/D)` has temperature :math:`D/\gamma = D\beta_3/(1-\beta_1)`,
i.e. SGD's with learning rate :math:`\eta_{\rm eff} = \eta\beta_3/(1-\beta_1)` (= η for the EMA
form). Hence the exponent is :math:`E_{SGD}(\eta_{\rm eff})` and only the dynamical prefactor
changes: the overdamped rate :math:`|H_{be}|` at the saddle is replaced by the growth rate
:math:`\lambda_+(H_{be})` of Theorem 2,

.. math::

    \tau_{Mom} = \frac{2\pi}{\lambda_+(H_{be})}e^{E_{SGD}(\eta_{\rm eff})}, \qquad
    \lambda_+ = \frac{1-\beta_1}{2\eta}\Bigl(\sqrt{1 + \frac{4\beta_3\eta|H_{be}|}{(1-\beta_1)^2}}
    - 1\Bigr).

For the EMA form :math:`\tau_{Mom}/\tau_{SGD} = |H_{be}|/\lambda_+ \ge 1` (same η, same exponent).
The model keeps the mass :math:`M = \eta/\beta_3` even at :math:`\beta_1 = 0, \beta_3 = 1` (plain
SGD), where :math:`|H_{be}|/\lambda_+ = 1 + \eta|H_{be}| + O(\eta^2H^2)`: an :math:`O(\eta|H|)`
continuous-limit effect, not a Momentum effect. In general the ratio to SGD run at :math:`\eta_{\rm eff}` (same exponent), both in iterations, is
:math:`\beta_3|H_{be}|/((1-\beta_1)\lambda_+) \ge 1` (using :math:`\sqrt{1+x} \le 1 + x/2`).

References
----------
docs/theory.md section 5, Theorem 3; section 6 (prefactor conventions).
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Theorem 3.
Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for Deep Learning Dynamics", arXiv 2002.03495.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _kramers, thm2
from ._kramers import escape_args
from ._symbols import Ha, Hb, eta
from ._symbols import beta1 as b1
from ._symbols import beta3 as b3
from .core import TheoryEntry, register

__all__ = ["effective_lr", "exponent", "growth_rate", "escape_time", "ratio_to_sgd",
           "FORMULAS", "ENTRY"]

_ETA_EFF = eta * b3 / (1 - b1)
_LAMBDA = (1 - b1) / (2 * eta) * (sp.sqrt(1 + 4 * b3 * eta * Hb / (1 - b1) ** 2) - 1)
_E = _kramers.SGD_EXPONENT.subs(eta, _ETA_EFF)

FORMULAS = {
    "effective_lr": _ETA_EFF,
    "exponent": _E,
    "lambda_plus": _LAMBDA,
    "escape_time_paper": 2 * sp.pi / _LAMBDA * sp.exp(_E),
    "escape_time_ito": 2 * sp.pi / _LAMBDA * Hb / Ha * sp.exp(_E),
    "ratio_to_sgd": b3 * Hb / ((1 - b1) * _LAMBDA),
}


def effective_lr(lr, beta1, beta3=None) -> np.ndarray:
    r""":math:`\eta\beta_3/(1-\beta_1)`; ``beta3=None`` means the EMA form (:math:`\beta_3 = 1-\beta_1`)."""
    lr = _checks.positive("lr", lr)
    beta1 = _checks.unit_interval("beta1", beta1)
    beta3 = 1.0 - beta1 if beta3 is None else _checks.unit_interval(
        "beta3", beta3, open_left=True, closed_right=True)
    return lr * beta3 / (1.0 - beta1)


def exponent(H_ae, H_be, delta_L, lr, batch_size, beta1, beta3=None, s=None) -> np.ndarray:
    r""":math:`E_{SGD}` with :math:`\eta\beta_3/(1-\beta_1)` in place of η."""
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    return _kramers.sgd_exponent(h_a, h_b, d_l, effective_lr(lr, beta1, beta3), batch_size, s)


def growth_rate(H_be, lr, beta1, beta3=None) -> np.ndarray:
    r""":math:`\lambda_+(H_{be})` of Theorem 2 (``beta3=None``: EMA form)."""
    beta1 = _checks.unit_interval("beta1", beta1)
    beta3 = 1.0 - beta1 if beta3 is None else beta3
    h_b = _checks.negative("H_be", H_be)
    return thm2.growth_rate_unstable(np.ravel(h_b), lr, beta1, beta3).reshape(h_b.shape)


def escape_time(H_ae, H_be, delta_L, lr, batch_size, beta1, beta3=None, s=None, form="paper"):
    r"""Kramers escape time of Momentum, :math:`(2\pi/\lambda_+)e^{E_{SGD}(\eta_{\rm eff})}`.

    Parameters
    ----------
    H_ae, H_be, delta_L, s
        As in :func:`theory.ddt.sgd_exponent` (``H_be`` < 0).
    lr, batch_size : float
    beta1 : float
        In [0, 1).
    beta3 : float, optional
        In (0, 1]; default ``1 - beta1`` (EMA form); 1 is PyTorch's heavy ball.
    form : {"paper", "ito"}
        Prefactor convention (docs/theory.md section 6); "ito" multiplies by :math:`|H_{be}|/H_{ae}`.

    Returns
    -------
    ndarray
        Continuous time (÷ lr: iterations).
    """
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    e = _kramers.sgd_exponent(h_a, h_b, d_l, effective_lr(lr, beta1, beta3), batch_size, s)
    lam = growth_rate(-h_b, lr, beta1, beta3)
    _kramers.warn_low_temperature(e, "thm3")
    return 2.0 * np.pi / lam * _kramers.convention_factor(form, h_a, h_b) * np.exp(e)


def ratio_to_sgd(H_be, lr, beta1, beta3=None) -> np.ndarray:
    r""":math:`\tau_{Mom}/\tau_{SGD} = \beta_3|H_{be}|/((1-\beta_1)\lambda_+) \ge 1`.

    For the EMA form this is :math:`|H_{be}|/\lambda_+` with SGD at the same η; otherwise SGD
    runs at :math:`\eta_{\rm eff} = \eta\beta_3/(1-\beta_1)` (same exponent) and both times are
    counted in iterations. Independent of the prefactor convention.
    """
    beta1 = _checks.unit_interval("beta1", beta1)
    b3_ = 1.0 - beta1 if beta3 is None else beta3
    lam = growth_rate(H_be, lr, beta1, b3_)
    return b3_ * np.abs(np.asarray(H_be, dtype=float)) / ((1.0 - beta1) * lam)


def low_temperature(H_ae, H_be, delta_L, lr, batch_size, beta1, beta3=None, s=None, **kw):
    r"""Small parameter :math:`1/E` (low temperature)."""
    return 1.0 / exponent(H_ae, H_be, delta_L, lr, batch_size, beta1, beta3, s)


def overdamping(H_ae, H_be, delta_L, lr, batch_size, beta1, beta3=None, *args, **kw):
    r""":math:`\beta_3\eta|H_{be}|/(1-\beta_1)^2`: the prefactor tends to SGD's when small."""
    beta1 = _checks.unit_interval("beta1", beta1)
    b3_ = 1.0 - beta1 if beta3 is None else beta3
    return b3_ * _checks.positive("lr", lr) * np.abs(H_be) / (1.0 - beta1) ** 2


ENTRY = register(
    TheoryEntry(
        id="thm3",
        title="Momentum escapes minima with SGD's exponent (prefactor 2π/λ₊)",
        statement=(
            "τ_Mom = (2π/λ₊(H_be)) exp(E_SGD) for the EMA form (γ = 1), with ηβ₃/(1−β₁) in "
            "E_SGD when β₃ ≠ 1−β₁. Momentum leaves the exponent, and so flat-minima selection, "
            "unchanged; τ_Mom/τ_SGD → |H_be|/λ₊ ≥ 1 (EMA form)."
        ),
        assumptions=(
            "Assumption 1: second-order Taylor expansion near a and b.",
            "Assumption 2: quasi-equilibrium in the well (temperature Dβ₃/(1−β₁)).",
            "Assumption 3: low temperature, E ≫ 1.",
            "Hessian gradient noise; Momentum SDE with M = η/β₃, γ = (1−β₁)/β₃.",
        ),
        formulas=FORMULAS,
        functions={"exponent": exponent, "growth_rate": growth_rate, "escape_time": escape_time,
                   "ratio_to_sgd": ratio_to_sgd, "effective_lr": effective_lr},
        validity=(
            "Relative error O(1/E) (low_temperature) and O(η|H|). The prefactor 2π/λ₊ is the "
            "Kramers–Langer dynamical factor; it tends to SGD's as overdamping → 0."
        ),
        small_parameters={"low_temperature": low_temperature, "overdamping": overdamping},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Theorem 3",
        constants=(
            "Exponent: paper. Prefactor 2π/λ₊ is the paper form; the Itô form (project form, "
            "form='ito') multiplies by |H_be|/H_ae, which is exact in the overdamped limit "
            "(Smoluchowski–Kramers with constant friction gives the Itô SGD SDE) and a "
            "project conjecture at intermediate damping. The ratio for β₃ ≠ 1−β₁ "
            "(β₃|H_be|/((1−β₁)λ₊), SGD at ηβ₃/(1−β₁), iterations) is the project's form."
        ),
    )
)
