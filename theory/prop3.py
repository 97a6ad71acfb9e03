r"""Proposition 3 of [Adai]: Adai at a quadratic saddle.

Adai is EMA Momentum (:math:`\beta_3 = 1-\beta_{1,i}`, :math:`\gamma = 1`) with per-direction
inertia from the quasi-static second moment :math:`v = \operatorname{diag} C`,
:math:`\bar v = \frac1n\sum_j v_j` (docs/theory.md section 4):

.. math::

    1 - \beta_{1,i} = \operatorname{clip}\Bigl(\beta_0\frac{v_i}{\bar v}, \epsilon, 1\Bigr)
    = \operatorname{clip}\Bigl(\frac{\beta_0 n |H_i|}{\|H\|_{tr}}, \epsilon, 1\Bigr)
    \quad(\text{Hessian noise, no floor}).

Per direction this is Theorem 2 with :math:`\beta_1 = \beta_{1,i}`, :math:`\beta_3 = 1-\beta_{1,i}`:
:math:`k_i = (1-\beta_{1,i})H_i/\eta`, :math:`g_i = (1-\beta_{1,i})/\eta`,
:math:`q_i = 2D_i(1-\beta_{1,i})^2/\eta^2`, :math:`D_i = \eta|H_i|/(2B)`: the stationary
position law is SGD's (temperature :math:`D\beta_3/(1-\beta_1) = D`). The momentum drift on a
(nearly) flat direction is

.. math::

    \frac{\eta r_{0,i}}{1-\beta_{1,i}} = \frac{\eta r_{0,i}\|H\|_{tr}}{\beta_0 n|H_i|}
    \quad(\text{unclipped}),

largest exactly where SGD is slowest, and the growth rate along :math:`H_i < 0` is, with
:math:`x_i = \eta|H_i|/(1-\beta_{1,i})`,

.. math::

    \lambda_{+,i} = \frac{1-\beta_{1,i}}{2\eta}\Bigl(\sqrt{1 + 4x_i} - 1\Bigr)
    = |H_i|\,g(x_i), \qquad g(x) = \frac{\sqrt{1+4x}-1}{2x} = \frac{2}{1+\sqrt{1+4x}},

where unclipped :math:`x_i = \eta\|H\|_{tr}/(\beta_0 n)` is the same for every direction.

References
----------
docs/theory.md section 5, Proposition 3 (and section 4, "Adai").
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Proposition 3.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, thm2
from ._symbols import beta0 as b0
from ._symbols import eta, lam
from .core import TheoryEntry, register

__all__ = [
    "inertia",
    "momentum_drift_limit",
    "growth_rate",
    "g_function",
    "mean",
    "covariance_2x2",
    "position_variance",
    "drift_coefficient",
    "stationary_z_variance",
    "median_exit_time",
    "FORMULAS",
    "ENTRY",
]

#: Adai's default epsilon (clip of beta1 to [0, 1 - eps])
DEFAULT_EPS = 1e-3

_x = sp.Symbol("x", positive=True)
_n = sp.Symbol("n", positive=True, integer=True)
_tr = sp.Symbol("||H||_tr", positive=True)
_r0 = sp.Symbol("r_0", real=True)
_G = (sp.sqrt(1 + 4 * _x) - 1) / (2 * _x)
_ONE_MINUS_B1 = b0 * _n * lam / _tr

FORMULAS = {
    "one_minus_beta1": _ONE_MINUS_B1,
    "momentum_drift_limit": eta * _r0 * _tr / (b0 * _n * lam),
    "g": _G,
    "growth_rate": lam * _G.subs(_x, eta * _tr / (b0 * _n)),
}


def _check_adai(eigenvalues, beta0, eps, floor):
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    beta0 = _checks.positive("beta0", beta0)
    eps = _checks.unit_interval("eps", eps, open_left=True)
    floor = _checks.nonnegative("floor", floor)
    v = np.abs(h) + floor
    if v.sum() == 0:
        raise ValueError("eigenvalues: all zero (with floor 0) makes v̄ = 0; Adai's inertia "
                         "is undefined")
    return h, beta0, eps, v


def inertia(eigenvalues, beta0, eps=DEFAULT_EPS, floor=0.0) -> np.ndarray:
    r""":math:`1-\beta_{1,i} = \operatorname{clip}(\beta_0 v_i/\bar v, \epsilon, 1)`, shape (n,).

    :math:`v_i \propto |H_i| + h_{\min}` (Hessian noise on an axis-aligned saddle; the factor
    :math:`1/B` cancels), so without floor :math:`\beta_0 v_i/\bar v = \beta_0 n|H_i|/\|H\|_{tr}`.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        All n Hessian eigenvalues (v̄ is their mean over coordinates).
    beta0 : float
        :math:`\beta_0 > 0`.
    eps : float, optional
        Adai's :math:`\epsilon \in (0, 1)`: :math:`\beta_1 \le 1-\epsilon`.
    floor : float, optional
        Hessian-noise floor :math:`h_{\min}`.
    """
    _, beta0, eps, v = _check_adai(eigenvalues, beta0, eps, floor)
    return np.clip(beta0 * v / v.mean(), eps, 1.0)


def g_function(x) -> np.ndarray:
    r""":math:`g(x) = (\sqrt{1+4x}-1)/(2x) = 2/(1+\sqrt{1+4x})`, :math:`g(0) = 1`."""
    x = _checks.nonnegative("x", x)
    return 2.0 / (1.0 + np.sqrt(1.0 + 4.0 * x))


def momentum_drift_limit(eigenvalues, lr, beta0, r0, eps=DEFAULT_EPS, floor=0.0) -> np.ndarray:
    r"""Total momentum drift :math:`\eta r_{0,i}/(1-\beta_{1,i})` (clipped inertia), shape (n,).

    Unclipped this is :math:`\eta r_{0,i}\|H\|_{tr}/(\beta_0 n|H_i|)`. It is the
    :math:`t\to\infty` drift on a flat direction; on a curved one it is the drift before the
    curvature acts (:math:`t \ll 1/|H_i|`).
    """
    lr = _checks.positive("lr", lr)
    return lr * _checks.finite("r0", r0) / inertia(eigenvalues, beta0, eps, floor)


def _betas(eigenvalues, beta0, eps, floor):
    w = inertia(eigenvalues, beta0, eps, floor)
    return 1.0 - w, w


def growth_rate(eigenvalues, lr, beta0, eps=DEFAULT_EPS, floor=0.0) -> np.ndarray:
    r"""Growth rate :math:`\lambda_{+,i} = |H_i|\,g(\eta|H_i|/(1-\beta_{1,i}))` along :math:`|H_i|`.

    Unclipped, :math:`\eta|H_i|/(1-\beta_{1,i}) = \eta\|H\|_{tr}/(\beta_0 n)` for every i.
    Equal to Theorem 2's :math:`\lambda_+` with :math:`\beta_1 = \beta_{1,i}`,
    :math:`\beta_3 = 1-\beta_{1,i}`.
    """
    h = np.abs(_checks.eigenvalues("eigenvalues", eigenvalues))
    lr = _checks.positive("lr", lr)
    return h * g_function(lr * h / inertia(eigenvalues, beta0, eps, floor))


def mean(eigenvalues, lr, beta0, theta0, r0, t, eps=DEFAULT_EPS, floor=0.0) -> np.ndarray:
    r"""Mean of :math:`(\theta_i, r_i)(t)` for Adai (Theorem 2 per direction), shape (n_t, n, 2)."""
    beta1, beta3 = _betas(eigenvalues, beta0, eps, floor)
    return thm2.mean(eigenvalues, lr, beta1, beta3, theta0, r0, t)


def covariance_2x2(eigenvalues, lr, batch_size, beta0, t, eps=DEFAULT_EPS, floor=0.0):
    r"""Exact covariance of :math:`(\theta_i, r_i)(t)` for Adai, shape (n_t, n, 2, 2)."""
    beta1, beta3 = _betas(eigenvalues, beta0, eps, floor)
    return thm2.covariance_2x2(eigenvalues, lr, batch_size, beta1, beta3, t, floor)


def position_variance(eigenvalues, lr, batch_size, beta0, t, eps=DEFAULT_EPS, floor=0.0):
    r""":math:`\operatorname{Var}\theta_i(t)` for Adai, shape (n_t, n)."""
    return covariance_2x2(eigenvalues, lr, batch_size, beta0, t, eps, floor)[..., 0, 0]


def drift_coefficient(eigenvalues, lr, beta0, r0, eps=DEFAULT_EPS, floor=0.0) -> np.ndarray:
    r"""Drift coefficient :math:`d_i = r_0/(\lambda_+ - \lambda_-)` of Adai from :math:`\theta_0 = 0`
    (:func:`theory.thm2.drift_coefficient` with Adai's inertia), shape (n,).

    Unclipped and along :math:`H_i < 0`:
    :math:`d_i = \eta r_0\|H\|_{tr}/(\beta_0 n|H_i|\sqrt{1+4x})`, :math:`x = \eta\|H\|_{tr}/(\beta_0 n)`:
    exactly :math:`\propto 1/|H_i|` (the same :math:`x` for every direction).
    """
    beta1, beta3 = _betas(eigenvalues, beta0, eps, floor)
    return thm2.drift_coefficient(eigenvalues, lr, beta1, beta3, r0)


def stationary_z_variance(eigenvalues, lr, batch_size, beta0, eps=DEFAULT_EPS, floor=0.0):
    r""":math:`\operatorname{Var}Z_\infty` of Adai along each unstable direction (Theorem 2 per direction).

    ``eigenvalues`` are all n eigenvalues (they set v̄); entries for stable directions are NaN.
    """
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    beta1, beta3 = _betas(h, beta0, eps, floor)
    out = np.full(h.shape, np.nan)
    u = h < 0
    out[u] = thm2.stationary_z_variance(h[u], lr, batch_size, beta1[u], beta3[u], floor)
    return out


def median_exit_time(eigenvalues, lr, batch_size, beta0, radius, r0=0.0, eps=DEFAULT_EPS, floor=0.0):
    r"""Asymptotic median exit time of Adai along each unstable direction (NaN for stable ones);
    :func:`theory.thm2.median_exit_time` with Adai's inertia (all n eigenvalues set v̄)."""
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    beta1, beta3 = _betas(h, beta0, eps, floor)
    out = np.full(h.shape, np.nan)
    u = h < 0
    r0 = np.broadcast_to(np.asarray(r0, float), h.shape)
    out[u] = thm2.median_exit_time(h[u], lr, batch_size, beta1[u], beta3[u], radius, r0[u], floor)
    return out


def inertia_lr_ratio(eigenvalues, lr, beta0, *args, eps=DEFAULT_EPS, floor=0.0, **kwargs):
    r"""Overdamping parameter :math:`x_i = \eta|H_i|/(1-\beta_{1,i})` (:math:`g(x) \approx 1` when small)."""
    h = np.abs(_checks.eigenvalues("eigenvalues", eigenvalues))
    return _checks.positive("lr", lr) * h / inertia(eigenvalues, beta0, eps, floor)


def lr_curvature(eigenvalues, lr, *args, **kwargs):
    r"""Small parameter of the continuous-time limit: :math:`\eta|H_i|`."""
    return _checks.positive("lr", lr) * np.abs(_checks.eigenvalues("eigenvalues", eigenvalues))


ENTRY = register(
    TheoryEntry(
        id="prop3",
        title="Adai at a quadratic saddle (momentum drift ∝ 1/|H_i|, SGD's diffusion)",
        statement=(
            "Adai is Theorem 2 (EMA form) with per-direction inertia "
            "1 − β₁,i = clip(β₀ n|H_i|/‖H‖_tr, ε, 1). Its momentum drift along i is "
            "η r₀,i ‖H‖_tr/(β₀ n|H_i|): inversely proportional to |H_i|, so largest where SGD is "
            "slowest, while the diffusion (and stationary law) stays SGD's. The growth rate is "
            "λ₊,i = |H_i| g(η‖H‖_tr/(β₀ n)), g(x) = (√(1+4x) − 1)/(2x)."
        ),
        assumptions=(
            "Assumption 1: exactly quadratic, axis-aligned saddle.",
            "Hessian gradient noise C = [H]^+/B (optionally + h_min I).",
            "Quasi-static v ≈ diag C; v̄ is the mean over the n coordinates of one path.",
            "EMA-momentum continuous model with M_i = η/(1−β₁,i), γ = 1; t = kη.",
        ),
        formulas=FORMULAS,
        functions={
            "inertia": inertia,
            "momentum_drift_limit": momentum_drift_limit,
            "growth_rate": growth_rate,
            "g_function": g_function,
            "mean": mean,
            "covariance_2x2": covariance_2x2,
            "position_variance": position_variance,
            "drift_coefficient": drift_coefficient,
            "stationary_z_variance": stationary_z_variance,
            "median_exit_time": median_exit_time,
        },
        validity=(
            "Exact for the quasi-static SDE; discrete Adai matches it up to O(η|H_i|) "
            "(lr_curvature) once v has equilibrated (k ≫ 1/(1−β₂)); g ≈ 1 (SGD-like growth) "
            "when x = η‖H‖_tr/(β₀ n) ≪ 1 (inertia_lr_ratio). The closed forms ‖H‖_tr/(β₀n|H_i|) "
            "hold where the clip is inactive; the functions use the clipped inertia."
        ),
        small_parameters={"lr_curvature": lr_curvature, "inertia_lr_ratio": inertia_lr_ratio},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Proposition 3",
        constants="paper",
    )
)
