r"""Proposition 4 of [Adai]: Adai escapes minima with SGD's exponent.

Adai is EMA Momentum with per-coordinate inertia, so Theorem 3 applies with the inertia along
the escape direction at the saddle: :math:`1-\beta_{1,e} = \operatorname{clip}(\beta_0
v_e/\bar v, \epsilon, 1)`, :math:`v = \operatorname{diag} C(b)` (:math:`\bar v` its mean over the
n coordinates), and

.. math::

    \tau_{Adai} = \frac{2\pi}{\lambda_{+,e}}e^{E_{SGD}}, \qquad
    \lambda_{+,e} = \frac{1-\beta_{1,e}}{2\eta}\Bigl(\sqrt{1 + \frac{4\eta|H_{be}|}{1-\beta_{1,e}}}
    - 1\Bigr) = |H_{be}|\,g\Bigl(\frac{\eta|H_{be}|}{1-\beta_{1,e}}\Bigr).

The temperature :math:`D\beta_3/(1-\beta_1) = D` is SGD's, so the exponent is exactly
:math:`E_{SGD}`: **Adai selects flat minima as SGD does**, unlike Adam.
:math:`\tau_{Adai}/\tau_{SGD} = |H_{be}|/\lambda_{+,e} = 1/g \ge 1`.

References
----------
docs/theory.md section 5, Proposition 4.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Proposition 4.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _kramers, prop3, thm3
from ._kramers import escape_args
from ._symbols import Ha, Hb, eta
from ._symbols import beta0 as b0
from .core import TheoryEntry, register

__all__ = ["inertia_at_saddle", "variance_ratio_at_saddle", "growth_rate", "exponent",
           "escape_time", "ratio_to_sgd", "FORMULAS", "ENTRY"]

_RHO = sp.Symbol("v_e/vbar", positive=True)
_W = b0 * _RHO
_LAM = _W / (2 * eta) * (sp.sqrt(1 + 4 * eta * Hb / _W) - 1)

FORMULAS = {
    "one_minus_beta1_e": _W,
    "lambda_plus_e": _LAM,
    "exponent": _kramers.SGD_EXPONENT,
    "escape_time_paper": 2 * sp.pi / _LAM * sp.exp(_kramers.SGD_EXPONENT),
    "escape_time_ito": 2 * sp.pi / _LAM * Hb / Ha * sp.exp(_kramers.SGD_EXPONENT),
    "ratio_to_sgd": Hb / _LAM,
}


def variance_ratio_at_saddle(saddle_curvatures, escape_index, floor=0.0) -> float:
    r""":math:`v_e/\bar v` with :math:`v_j \propto |H(b)_{jj}| + h_{\min}` (Hessian noise).

    Parameters
    ----------
    saddle_curvatures : array_like, shape (n,)
        Diagonal of H(b) in the coordinate frame of the optimizer.
    escape_index : int
        Coordinate of the escape direction e.
    """
    h = _checks.eigenvalues("saddle_curvatures", saddle_curvatures)
    if not (isinstance(escape_index, (int, np.integer)) and 0 <= escape_index < h.size):
        raise ValueError(f"escape_index must be an integer in [0, {h.size}), got {escape_index!r}")
    v = np.abs(h) + _checks.nonnegative("floor", floor)
    if v.sum() == 0:
        raise ValueError("saddle_curvatures: all zero makes v̄ = 0")
    return float(v[escape_index] / v.mean())


def inertia_at_saddle(beta0, variance_ratio=1.0, eps=prop3.DEFAULT_EPS) -> np.ndarray:
    r""":math:`1-\beta_{1,e} = \operatorname{clip}(\beta_0 v_e/\bar v, \epsilon, 1)`."""
    beta0 = _checks.positive("beta0", beta0)
    rho = _checks.positive("variance_ratio", variance_ratio)
    eps = _checks.unit_interval("eps", eps, open_left=True)
    return np.clip(beta0 * rho, eps, 1.0)


def growth_rate(H_be, lr, beta0, variance_ratio=1.0, eps=prop3.DEFAULT_EPS) -> np.ndarray:
    r""":math:`\lambda_{+,e}`: Theorem 3's growth rate with Adai's inertia along e at b."""
    w = inertia_at_saddle(beta0, variance_ratio, eps)
    return thm3.growth_rate(H_be, lr, 1.0 - w, w)


def exponent(H_ae, H_be, delta_L, lr, batch_size, s=None) -> np.ndarray:
    r""":math:`E_{SGD}` (Adai's temperature equals SGD's)."""
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    return _kramers.sgd_exponent(h_a, h_b, d_l, lr, batch_size, s)


def escape_time(H_ae, H_be, delta_L, lr, batch_size, beta0, variance_ratio=1.0,
                eps=prop3.DEFAULT_EPS, s=None, form="paper") -> np.ndarray:
    r""":math:`\tau_{Adai} = (2\pi/\lambda_{+,e})e^{E_{SGD}}` (``form="ito"``: times
    :math:`|H_{be}|/H_{ae}`), continuous time.

    Parameters
    ----------
    H_ae, H_be, delta_L, lr, batch_size, s
        As in :func:`theory.ddt.sgd_exponent`.
    beta0 : float
        Adai's :math:`\beta_0`.
    variance_ratio : float, optional
        :math:`v_e/\bar v` at the saddle (:func:`variance_ratio_at_saddle`); 1 in one dimension.
    eps : float, optional
        Adai's :math:`\epsilon`.
    form : {"paper", "ito"}
    """
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    e = _kramers.sgd_exponent(h_a, h_b, d_l, lr, batch_size, s)
    lam = growth_rate(H_be, lr, beta0, variance_ratio, eps)
    _kramers.warn_low_temperature(e, "prop4")
    return 2.0 * np.pi / lam * _kramers.convention_factor(form, h_a, h_b) * np.exp(e)


def ratio_to_sgd(H_be, lr, beta0, variance_ratio=1.0, eps=prop3.DEFAULT_EPS) -> np.ndarray:
    r""":math:`\tau_{Adai}/\tau_{SGD} = |H_{be}|/\lambda_{+,e} \ge 1` (same η, same exponent)."""
    return np.abs(np.asarray(H_be, dtype=float)) / growth_rate(H_be, lr, beta0, variance_ratio,
                                                                eps)


def low_temperature(H_ae, H_be, delta_L, lr, batch_size, *args, s=None, **kw):
    r"""Small parameter :math:`1/E_{SGD}`."""
    return 1.0 / exponent(H_ae, H_be, delta_L, lr, batch_size, s)


ENTRY = register(
    TheoryEntry(
        id="prop4",
        title="Adai escapes minima with SGD's exponent (flat-minima selection as SGD)",
        statement=(
            "τ_Adai = (2π/λ₊,e) exp(E_SGD), λ₊,e computed with Adai's inertia along e at the "
            "saddle (1−β₁,e = clip(β₀ v_e/v̄, ε, 1), v = diag C(b)). Same exponent as SGD: "
            "Adai selects flat minima as SGD does, unlike Adam."
        ),
        assumptions=(
            "Assumptions 1–3 of Theorem 3 (Taylor, quasi-equilibrium, low temperature).",
            "Hessian gradient noise; quasi-static v ≈ diag C; inertia frozen at its value at b "
            "along e for the dynamical prefactor.",
        ),
        formulas=FORMULAS,
        functions={"exponent": exponent, "growth_rate": growth_rate, "escape_time": escape_time,
                   "ratio_to_sgd": ratio_to_sgd, "inertia_at_saddle": inertia_at_saddle,
                   "variance_ratio_at_saddle": variance_ratio_at_saddle},
        validity=(
            "Relative error O(1/E_SGD) (low_temperature) and O(η|H|). The inertia varies along "
            "the path (v̄ and v_e change between a and b); only its value at b enters the "
            "prefactor, which is therefore a leading-order statement."
        ),
        small_parameters={"low_temperature": low_temperature},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Proposition 4",
        constants=(
            "Exponent: paper. Prefactor 2π/λ₊,e: paper form; Itô form ×|H_be|/H_ae is the "
            "project form (form='ito'; docs/theory.md §6)."
        ),
    )
)
