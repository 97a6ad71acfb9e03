r"""Baselines of [DDT]: escape of SGD and of white-noise gradient descent from a minimum.

**SGD** (id ``"ddt-sgd"``). With Hessian noise :math:`D = \eta[H]^+/(2B)`, the 1-D Itô
quasi-potential over the escape path is :math:`\int_a^b L'/D\,dx`; on the piecewise-quadratic
landscape (:mod:`theory.landscape`) it equals exactly

.. math::

    E_{SGD} = \frac{2B\Delta L}{\eta}\Bigl(\frac{s}{H_{ae}} + \frac{1-s}{|H_{be}|}\Bigr),

and Laplace's method on the mean first-passage time (absorbing well beyond b) gives

.. math::

    \tau_{SGD} = \frac{2\pi}{|H_{be}|}e^{E_{SGD}}\ (\text{paper form}), \qquad
    \tau_{SGD} = \frac{2\pi}{H_{ae}}e^{E_{SGD}}\ (\text{Itô form}).

Derivation: :math:`\tau = \int e^{\Phi(y)}w(y)\,dy\int e^{-\Phi(z)}\tilde w(z)\,dz` with
:math:`(w, \tilde w) = (1, 1/D)` (Itô, stationary density :math:`e^{-\Phi}/D`) or
:math:`(1/D, 1)` (paper current :math:`-(L'p + Dp')`); the Gaussian integrals around b and a,
:math:`\sqrt{2\pi D_b/|H_b|}` and :math:`\sqrt{2\pi D_a/H_a}`, with :math:`D_b/D_a = |H_b|/H_a`,
give the two forms. No determinant prefactor: it cancels against the Hessian-dependent noise.

**White noise** (id ``"ddt-white"``). :math:`D` constant (``C = σ²I``, :math:`D = \eta\sigma^2/2`):
classical Kramers–Langer, :math:`\tau = 2\pi\sqrt{|\det H_b|/\det H_a}\,|H_{be}|^{-1}
e^{\Delta L/D}`; both conventions agree (:math:`\nabla D = 0`). Sharpness enters only the
polynomial prefactor.

Relative errors: :math:`O(1/E)` (low temperature, :math:`T/\Delta L`) and :math:`O(\eta|H|)`
(continuous limit). Kramers' :math:`\tau` counts crossings; first passage to b takes about
:math:`\tau/2`.

References
----------
docs/theory.md section 5 (Baselines) and section 6.
Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for Deep Learning Dynamics", ICLR 2021,
arXiv 2002.03495, Theorem 3.2 (SGD escape) and the white-noise (Kramers) baseline.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia", ICML 2022, arXiv 2006.15815.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _kramers
from ._kramers import escape_args
from ._symbols import Ha, Hb, dL
from .core import TheoryEntry, register

__all__ = [
    "sgd_exponent",
    "sgd_escape_time",
    "white_exponent",
    "white_escape_time",
    "FORMULAS_SGD",
    "FORMULAS_WHITE",
    "ENTRY_SGD",
    "ENTRY_WHITE",
]

_D = sp.Symbol("D", positive=True)
_DET_RATIO = sp.Symbol("|det H_b|/det H_a", positive=True)

FORMULAS_SGD = {
    "exponent": _kramers.SGD_EXPONENT,
    "escape_time_paper": 2 * sp.pi / Hb * sp.exp(_kramers.SGD_EXPONENT),
    "escape_time_ito": 2 * sp.pi / Ha * sp.exp(_kramers.SGD_EXPONENT),
}
FORMULAS_WHITE = {
    "exponent": dL / _D,
    "escape_time": 2 * sp.pi * sp.sqrt(_DET_RATIO) / Hb * sp.exp(dL / _D),
}


def sgd_exponent(H_ae, H_be, delta_L, lr, batch_size, s=None) -> np.ndarray:
    r"""Quasi-potential exponent :math:`E_{SGD} = (2B\Delta L/\eta)(s/H_{ae} + (1-s)/|H_{be}|)`.

    Parameters
    ----------
    H_ae : float or array_like
        Curvature along e at the minimum, > 0.
    H_be : float or array_like
        Curvature along e at the saddle, < 0 (given with its sign).
    delta_L : float or array_like
        Barrier :math:`L(b) - L(a) > 0`.
    lr, batch_size : float
        :math:`\eta > 0`, :math:`B > 0`.
    s : float, optional
        Path parameter in (0, 1); default :math:`|H_{be}|/(H_{ae}+|H_{be}|)` (exact on the
        piecewise-quadratic landscape).

    References
    ----------
    docs/theory.md section 5; Xie, Sato, Sugiyama, arXiv 2002.03495, Theorem 3.2.
    """
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    return _kramers.sgd_exponent(h_a, h_b, d_l, lr, batch_size, s)


def sgd_escape_time(H_ae, H_be, delta_L, lr, batch_size, s=None, form="paper") -> np.ndarray:
    r"""Kramers escape time of SGD, :math:`\tau_{SGD} = (2\pi/|H_{be}|)e^{E_{SGD}}` (``form="paper"``)
    or :math:`(2\pi/H_{ae})e^{E_{SGD}}` (``form="ito"``), in continuous time (÷ lr: iterations)."""
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    e = _kramers.sgd_exponent(h_a, h_b, d_l, lr, batch_size, s)
    _kramers.warn_low_temperature(e, "ddt-sgd")
    return 2.0 * np.pi / h_b * _kramers.convention_factor(form, h_a, h_b) * np.exp(e)


def _white_args(hessian_a_eigenvalues, hessian_b_eigenvalues, delta_L, diffusion):
    ha = _checks.eigenvalues("hessian_a_eigenvalues", hessian_a_eigenvalues)
    hb = _checks.eigenvalues("hessian_b_eigenvalues", hessian_b_eigenvalues)
    if ha.shape != hb.shape:
        raise ValueError(f"hessian_a_eigenvalues and hessian_b_eigenvalues must have the same "
                         f"shape, got {ha.shape} and {hb.shape}")
    if not np.all(ha > 0):
        raise ValueError("hessian_a_eigenvalues must all be > 0 (a minimum)")
    if np.sum(hb < 0) != 1 or np.any(hb == 0):
        raise ValueError("hessian_b_eigenvalues must have exactly one negative eigenvalue and "
                         "no zero one (an index-1 saddle)")
    return ha, hb, _checks.positive("delta_L", delta_L), _checks.positive("diffusion", diffusion)


def white_exponent(delta_L, diffusion) -> np.ndarray:
    r""":math:`\Delta L/D` for white-noise GD (:math:`D = \eta\sigma^2/2`)."""
    return _checks.positive("delta_L", delta_L) / _checks.positive("diffusion", diffusion)


def white_escape_time(hessian_a_eigenvalues, hessian_b_eigenvalues, delta_L, diffusion):
    r"""Kramers–Langer time :math:`2\pi\sqrt{|\det H_b|/\det H_a}\,|H_{be}|^{-1}e^{\Delta L/D}`.

    Parameters
    ----------
    hessian_a_eigenvalues : array_like, shape (n,)
        Eigenvalues of H at the minimum (all > 0).
    hessian_b_eigenvalues : array_like, shape (n,)
        Eigenvalues of H at the saddle (exactly one < 0: :math:`H_{be}`).
    delta_L : float
        Barrier.
    diffusion : float
        Constant diffusion :math:`D = \eta\sigma^2/2`.
    """
    ha, hb, d_l, d = _white_args(hessian_a_eigenvalues, hessian_b_eigenvalues, delta_L,
                                 diffusion)
    det_ratio = np.prod(np.abs(hb) / ha)
    _kramers.warn_low_temperature(d_l / d, "ddt-white")
    return 2.0 * np.pi * np.sqrt(det_ratio) / np.abs(hb[hb < 0][0]) * np.exp(d_l / d)


def low_temperature(H_ae, H_be, delta_L, lr, batch_size, s=None, **kwargs):
    r"""Small parameter :math:`1/E_{SGD}` (relative error of the Kramers form ~ T/ΔL)."""
    return 1.0 / sgd_exponent(H_ae, H_be, delta_L, lr, batch_size, s)


def white_low_temperature(hessian_a_eigenvalues, hessian_b_eigenvalues, delta_L, diffusion):
    r"""Small parameter :math:`D/\Delta L`."""
    return 1.0 / white_exponent(delta_L, diffusion)


_ASSUMPTIONS = (
    "Assumption 1: second-order Taylor expansion near a and b (exact on the piecewise-quadratic "
    "landscape).",
    "Assumption 2: quasi-equilibrium inside the well before escape.",
    "Assumption 3: low temperature, ΔL ≫ T (E ≫ 1).",
    "Escape along one direction e (index-1 saddle); τ counts crossings (absorb well beyond b).",
)

ENTRY_SGD = register(
    TheoryEntry(
        id="ddt-sgd",
        title="SGD escape from a minimum (Hessian-dependent noise)",
        statement=(
            "τ_SGD = (2π/|H_be|) exp(E_SGD), E_SGD = (2BΔL/η)(s/H_ae + (1−s)/|H_be|): log τ is "
            "linear in B/η and in 1/H_ae, so SGD favours flat minima exponentially; no "
            "determinant prefactor."
        ),
        assumptions=_ASSUMPTIONS + ("Hessian gradient noise C = [H]^+/B, D = (η/2)C.",),
        formulas=FORMULAS_SGD,
        functions={"exponent": sgd_exponent, "escape_time": sgd_escape_time},
        validity=(
            "Relative error O(1/E_SGD) (low_temperature) and O(η|H|) (continuous limit). The "
            "exponent is exact (Itô quasi-potential integral on the piecewise landscape)."
        ),
        small_parameters={"low_temperature": low_temperature},
        source=("Xie, Sato, Sugiyama, A Diffusion Theory for Deep Learning Dynamics, ICLR 2021, "
                "arXiv 2002.03495, Theorem 3.2"),
        constants=(
            "Exponent: paper. Prefactor: 2π/|H_be| is the paper form (current −(P∇L + D∇P)); the "
            "Itô SDE gives 2π/H_ae (project form, form='ito'; docs/theory.md §6)."
        ),
    )
)

ENTRY_WHITE = register(
    TheoryEntry(
        id="ddt-white",
        title="White-noise gradient descent escape from a minimum (Kramers–Langer)",
        statement=(
            "With constant diffusion D, τ = 2π √(|det H_b|/det H_a) (1/|H_be|) exp(ΔL/D): "
            "sharpness enters only polynomially."
        ),
        assumptions=_ASSUMPTIONS + ("White gradient noise C = σ²I, D = ησ²/2.",),
        formulas=FORMULAS_WHITE,
        functions={"exponent": white_exponent, "escape_time": white_escape_time},
        validity="Relative error O(D/ΔL) (white_low_temperature) and O(η|H|).",
        small_parameters={"white_low_temperature": white_low_temperature},
        source=("Xie, Sato, Sugiyama, A Diffusion Theory for Deep Learning Dynamics, ICLR 2021, "
                "arXiv 2002.03495, Section 3 (Kramers baseline)"),
        constants="paper (classical Kramers–Langer; conventions agree since D is constant)",
    )
)
