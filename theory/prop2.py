r"""Proposition 2 of [Adai]: Adam escapes minima with a :math:`H^{-1/2}` exponent.

With the quasi-static preconditioner :math:`P = \sqrt{B/|L''|}` and Hessian noise, the 1-D
adaptive-learning-rate SDE (:math:`\beta_1 = 0`) is :math:`dx = -PL'\,dt + \sqrt{\eta}\,dW`:
constant diffusion :math:`\eta/2` and force :math:`PL'`. Its quasi-potential
:math:`\int_a^b PL'/(\eta/2)\,dx` on the piecewise-quadratic landscape is exactly

.. math::

    E_{Adam} = \frac{2\sqrt B\,\Delta L}{\eta}\Bigl(\frac{s}{\sqrt{H_{ae}}}
        + \frac{1-s}{\sqrt{|H_{be}|}}\Bigr),

and Laplace's method (the curvatures of :math:`\Phi` are :math:`P_aH_a/D = 2\sqrt{BH_a}/\eta` at a
and :math:`2\sqrt{B|H_b|}/\eta` at b) gives

.. math::

    \tau_{ALR} = \frac{2\pi}{\sqrt{\kappa_a\kappa_b}}e^{E_{Adam}}
    = \frac{2\pi}{\sqrt B\,(H_{ae}|H_{be}|)^{1/4}}e^{E_{Adam}},
    \qquad \kappa = \sqrt{B|H|}.

With EMA momentum :math:`\beta_1` (M = η/(1−β₁), γ = 1) only the dynamical factor changes, as in
Theorem 3: :math:`\tau_{Adam} = \tau_{ALR}\,\kappa_b/\lambda_+^{A}`,
:math:`\lambda_+^A = \frac{1-\beta_1}{2\eta}(\sqrt{1 + 4\eta\kappa_b/(1-\beta_1)} - 1)`.
:math:`\log\tau` scales with :math:`H^{-1/2}` and :math:`\sqrt B/\eta` (SGD: :math:`H^{-1}`, B/η).

References
----------
docs/theory.md section 5, Proposition 2.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Proposition 2.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _kramers, _linear2
from ._kramers import escape_args
from ._symbols import B, Ha, Hb, dL, eta, s
from ._symbols import beta1 as b1
from .core import TheoryEntry, register

__all__ = ["exponent", "escape_time_alr", "escape_time", "growth_rate", "FORMULAS", "ENTRY"]

_E = 2 * sp.sqrt(B) * dL / eta * (s / sp.sqrt(Ha) + (1 - s) / sp.sqrt(Hb))
_KB = sp.sqrt(B * Hb)
_LAM = (1 - b1) / (2 * eta) * (sp.sqrt(1 + 4 * eta * _KB / (1 - b1)) - 1)
_TAU_ALR = 2 * sp.pi / (sp.sqrt(B) * (Ha * Hb) ** sp.Rational(1, 4)) * sp.exp(_E)

FORMULAS = {
    "exponent": _E,
    "escape_time_alr": _TAU_ALR,
    "lambda_plus": _LAM,
    "escape_time": _TAU_ALR * _KB / _LAM,
}


def exponent(H_ae, H_be, delta_L, lr, batch_size, s=None) -> np.ndarray:
    r""":math:`E_{Adam} = (2\sqrt B\Delta L/\eta)(s/\sqrt{H_{ae}} + (1-s)/\sqrt{|H_{be}|})`.

    Arguments as in :func:`theory.ddt.sgd_exponent`.
    """
    h_a, h_b, d_l, s = escape_args(H_ae, H_be, delta_L, s)
    lr = _checks.positive("lr", lr)
    batch_size = _checks.positive("batch_size", batch_size)
    return 2.0 * np.sqrt(batch_size) * d_l / lr * (s / np.sqrt(h_a) + (1.0 - s) / np.sqrt(h_b))


def escape_time_alr(H_ae, H_be, delta_L, lr, batch_size, s=None) -> np.ndarray:
    r""":math:`\tau_{ALR} = 2\pi/(\sqrt B(H_{ae}|H_{be}|)^{1/4})\,e^{E_{Adam}}` (β₁ = 0), continuous time."""
    h_a, h_b, _, _ = escape_args(H_ae, H_be, delta_L, s)
    e = exponent(H_ae, H_be, delta_L, lr, batch_size, s)
    _kramers.warn_low_temperature(e, "prop2")
    return 2.0 * np.pi / (np.sqrt(batch_size) * (h_a * h_b) ** 0.25) * np.exp(e)


def growth_rate(H_be, lr, batch_size, beta1) -> np.ndarray:
    r""":math:`\lambda_+^A` at the saddle for Adam with EMA momentum (β₁ = 0: :math:`\kappa_b = \sqrt{B|H_{be}|}`)."""
    h_b = -_checks.negative("H_be", H_be)
    lr = _checks.positive("lr", lr)
    beta1 = _checks.unit_interval("beta1", beta1)
    kappa_b = np.sqrt(_checks.positive("batch_size", batch_size) * h_b)
    g = (1.0 - beta1) / lr
    return _linear2.growth_rate(-g * kappa_b, g)


def escape_time(H_ae, H_be, delta_L, lr, batch_size, beta1=0.0, s=None) -> np.ndarray:
    r""":math:`\tau_{Adam} = \tau_{ALR}\,\kappa_b/\lambda_+^A`.

    The EMA model keeps the mass :math:`M = \eta/(1-\beta_1)` even at :math:`\beta_1 = 0`, where
    :math:`\kappa_b/\lambda_+^A = 1 + \eta\kappa_b + O((\eta\kappa_b)^2)`: use
    :func:`escape_time_alr` for the first-order (massless) model of docs/theory.md section 4.
    """
    tau = escape_time_alr(H_ae, H_be, delta_L, lr, batch_size, s)
    kappa_b = np.sqrt(batch_size * np.abs(np.asarray(H_be, dtype=float)))
    return tau * kappa_b / growth_rate(H_be, lr, batch_size, beta1)


def low_temperature(H_ae, H_be, delta_L, lr, batch_size, *args, s=None, **kw):
    r"""Small parameter :math:`1/E_{Adam}`."""
    return 1.0 / exponent(H_ae, H_be, delta_L, lr, batch_size, s)


def lr_rate(H_ae, H_be, delta_L, lr, batch_size, *args, **kw):
    r"""Continuous-limit parameter :math:`\eta\sqrt{B\max(H_{ae}, |H_{be}|)}`."""
    return _checks.positive("lr", lr) * np.sqrt(batch_size * np.maximum(H_ae, np.abs(H_be)))


ENTRY = register(
    TheoryEntry(
        id="prop2",
        title="Adam escapes minima with exponent ∝ √B/η · H^(-1/2)",
        statement=(
            "For the pure adaptive learning rate (β₁ = 0) in one dimension, "
            "τ_ALR = (2π/(√B (H_ae|H_be|)^{1/4})) exp(E_Adam), "
            "E_Adam = (2√B ΔL/η)(s/√H_ae + (1−s)/√|H_be|); EMA momentum changes only the "
            "prefactor (factor κ_b/λ₊). log τ scales with H^{-1/2} and √B/η: Adam favours flat "
            "minima far less than SGD."
        ),
        assumptions=(
            "Assumptions 1–3 of Theorem 3 (Taylor, quasi-equilibrium, low temperature).",
            "Hessian gradient noise; quasi-static v ≈ diag C (P = √(B/|H|), ε negligible).",
            "One-dimensional escape path (or axis-aligned escape direction).",
        ),
        formulas=FORMULAS,
        functions={"exponent": exponent, "escape_time_alr": escape_time_alr,
                   "escape_time": escape_time, "growth_rate": growth_rate},
        validity=(
            "Relative error O(1/E_Adam) (low_temperature) and O(η√(B|H|)) (lr_rate); v must "
            "track diag C, i.e. escape slow compared with 1/(1−β₂) iterations."
        ),
        small_parameters={"low_temperature": low_temperature, "lr_rate": lr_rate},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Proposition 2",
        constants=(
            "Exponent: paper. Prefactor 2π/(√B(H_ae|H_be|)^{1/4}) derived here by Laplace's "
            "method (project form; the same in both conventions because Adam's diffusion η/2 is "
            "constant); the momentum factor κ_b/λ₊ is the project's form by analogy with "
            "Theorem 3."
        ),
    )
)
