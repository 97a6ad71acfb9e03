r"""Proposition 1 of [Adai]: Adam at a quadratic saddle.

With the quasi-static preconditioner :math:`v \approx \operatorname{diag} C`,
:math:`P_i = 1/(\sqrt{v_i} + \epsilon)`, :math:`v_i = (|H_i| + h_{\min})/B`, on an axis-aligned
quadratic saddle with Hessian noise, Adam without momentum (:math:`\beta_1 = 0`) is, per
direction, :math:`d\theta_i = -\kappa_i\theta_i\,dt + \sqrt{2D_A}\,dW` with

.. math::

    \kappa_i = P_i H_i \;\overset{h_{\min}=\epsilon=0}{=}\; \mathrm{sign}(H_i)\sqrt{B|H_i|},
    \qquad D_{A,i} = \frac\eta2 (P_i\sqrt{v_i})^2 \;\overset{\epsilon=0}{=}\; \frac\eta2,

so :math:`\sigma_i^2(t) = (\eta/(2\kappa_i))(1 - e^{-2\kappa_i t})`: isotropic,
Hessian-independent diffusion. Along :math:`H_i < 0` (:math:`\lambda = |\kappa_i|`), the exit
problem of :mod:`theory.thm1` applies with :math:`\sigma_\infty^2 = D_A/\lambda = \eta/(2\lambda)`,
which now **depends** on :math:`\lambda`. The time change gives, exactly,
:math:`T = \lambda^{-1}G\bigl(R\sqrt{2\lambda/\eta}\bigr)` for a fixed function :math:`G` (the
median of :math:`\lambda T` at ratio :math:`R/\sigma_\infty`), and asymptotically

.. math::

    T_{1/2} \approx \frac{\mathcal L}{\lambda}, \qquad
    \mathcal L = \ln\frac{R}{q\sigma_\infty} = \frac12\ln\frac{2\lambda R^2}{q^2\eta},
    \qquad \lambda = \sqrt{B|H_i|}.

The log-log slope is :math:`-1/2` only up to the slowly varying factor :math:`\mathcal L`:

.. math::

    \frac{d\ln T_{1/2}}{d\ln|H_i|} = \frac12\Bigl(-1 + \frac{1}{2\mathcal L}\Bigr)
    = -\frac12 + \frac1{4\mathcal L}

(leading form); with the :math:`O(\epsilon^2)` correction
:math:`T = (\mathcal L - c_2\epsilon^2)/\lambda`, :math:`\epsilon^2 = \eta/(2\lambda R^2)`, it is
:math:`\tfrac12[-1 + (\tfrac12 + c_2\epsilon^2)/(\mathcal L - c_2\epsilon^2)]`.
:func:`median_exit_time_local_slope` evaluates the exact derivative of the asymptotic formula
(including floor and :math:`\epsilon`) from a SymPy derivative.

With :math:`\beta_1 > 0`, Adam is EMA Momentum (:math:`M = \eta/(1-\beta_1)`, :math:`\gamma = 1`)
with force :math:`-\kappa_i\theta_i` and noise :math:`\sqrt{2D_{A,i}}`:
:math:`k = (1-\beta_1)\kappa_i/\eta`, :math:`g = (1-\beta_1)/\eta`,
:math:`q = (1-\beta_1)^2\,2D_{A,i}/\eta^2` in :mod:`theory._linear2`.

References
----------
docs/theory.md section 5, Proposition 1 (and section 4, "Adaptive learning rate").
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Proposition 1.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _linear2, _ou, thm2
from ._symbols import B, H, R, eta, floor, lam, t
from ._symbols import beta1 as b1
from .core import TheoryEntry, lambdify_cached, register

__all__ = [
    "preconditioner",
    "rates",
    "diffusion",
    "variance",
    "escape_time_exponent",
    "median_exit_time",
    "median_exit_time_local_slope",
    "mean",
    "covariance_2x2",
    "position_variance",
    "growth_rate_unstable",
    "FORMULAS",
    "ENTRY",
]

_eps = sp.Symbol("epsilon", nonnegative=True)
_V = (sp.Abs(H) + floor) / B
_P = 1 / (sp.sqrt(_V) + _eps)
_KAPPA = _P * H
_DA = eta / 2 * (_P * sp.sqrt(_V)) ** 2
# unstable direction, |H| = lam
_V_U = (lam + floor) / B
_P_U = 1 / (sp.sqrt(_V_U) + _eps)
_GROWTH_U = _P_U * lam
_SINF2_U = eta / 2 * (_P_U * sp.sqrt(_V_U)) ** 2 / _GROWTH_U
_TMED = _ou.median_exit_time_symbolic(_GROWTH_U, _SINF2_U, R)
_TMED_C = _ou.median_exit_time_symbolic(_GROWTH_U, _SINF2_U, R, corrected=True)
_SLOPE = lam * sp.diff(sp.log(_TMED), lam)
_SLOPE_C = lam * sp.diff(sp.log(_TMED_C), lam)
_SLOPE_ARGS = (lam, eta, B, R, floor, _eps)

FORMULAS = {
    "preconditioner": _P,
    "kappa": _KAPPA,
    "diffusion": _DA,
    "sigma2": _DA / _KAPPA * (1 - sp.exp(-2 * _KAPPA * t)),
    "sigma_inf2": _SINF2_U,
    "median_exit_time": _TMED,
    "median_exit_time_corrected": _TMED_C,
    "local_slope": _SLOPE,
    "local_slope_corrected": _SLOPE_C,
    "growth_rate_unstable_momentum": (1 - b1) / (2 * eta)
    * (sp.sqrt(1 + 4 * eta * _GROWTH_U / (1 - b1)) - 1),
}


def _adam_params(eigenvalues, batch_size, floor, eps):
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    batch_size = _checks.positive("batch_size", batch_size)
    floor = _checks.nonnegative("floor", floor)
    eps = _checks.nonnegative("eps", eps)
    sqrt_v = np.sqrt((np.abs(h) + floor) / batch_size)
    if np.any(sqrt_v + eps == 0):
        raise ValueError("eigenvalues: a zero curvature needs floor > 0 or eps > 0 "
                         "(Adam's preconditioner 1/(sqrt(v)+eps) is infinite)")
    return h, sqrt_v, 1.0 / (sqrt_v + eps)


def preconditioner(eigenvalues, batch_size, floor=0.0, eps=0.0) -> np.ndarray:
    r""":math:`P_i = 1/(\sqrt{v_i} + \epsilon)`, :math:`v_i = (|H_i| + h_{\min})/B`, shape (n,)."""
    return _adam_params(eigenvalues, batch_size, floor, eps)[2]


def rates(eigenvalues, batch_size, floor=0.0, eps=0.0) -> np.ndarray:
    r"""Rates :math:`\kappa_i = P_iH_i` (:math:`= \mathrm{sign}(H_i)\sqrt{B|H_i|}` without floor/eps).

    Independent of the learning rate in time units :math:`t = k\eta`.
    """
    h, _, p = _adam_params(eigenvalues, batch_size, floor, eps)
    return p * h


def diffusion(eigenvalues, lr, batch_size, floor=0.0, eps=0.0) -> np.ndarray:
    r""":math:`D_{A,i} = (\eta/2)(P_i\sqrt{v_i})^2` (:math:`= \eta/2` for ``eps = 0``), shape (n,)."""
    lr = _checks.positive("lr", lr)
    _, sqrt_v, p = _adam_params(eigenvalues, batch_size, floor, eps)
    return lr / 2.0 * (p * sqrt_v) ** 2


def variance(eigenvalues, lr, batch_size, t, floor=0.0, eps=0.0) -> np.ndarray:
    r"""Variances :math:`\sigma_i^2(t) = (D_{A,i}/\kappa_i)(1 - e^{-2\kappa_i t})` of Adam
    (:math:`\beta_1 = 0`) from the saddle.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        Hessian eigenvalues (axis-aligned saddle).
    lr, batch_size : float
        :math:`\eta > 0`, :math:`B > 0`.
    t : float or array_like, shape (n_t,)
    floor, eps : float, optional
        Hessian-noise floor and Adam's :math:`\epsilon` (both 0 in the paper's form).

    Returns
    -------
    ndarray, shape (n_t, n)

    References
    ----------
    docs/theory.md section 5, Proposition 1; Xie et al., arXiv 2006.15815, Proposition 1.
    """
    return _ou.variance(rates(eigenvalues, batch_size, floor, eps),
                        diffusion(eigenvalues, lr, batch_size, floor, eps), _checks.times("t", t))


def escape_time_exponent() -> float:
    r"""Nominal exponent of median exit time vs :math:`|H_i|`: :math:`-1/2` (up to a log factor;
    see :func:`median_exit_time_local_slope`)."""
    return -0.5


def _unstable_growth_and_sinf2(eigenvalue, lr, batch_size, floor, eps):
    h = _checks.finite("eigenvalue", eigenvalue)
    if not np.all(h < 0):
        raise ValueError(f"eigenvalue must be < 0 (an unstable direction), got {eigenvalue!r}")
    flat = np.ravel(h)
    growth = -rates(flat, batch_size, floor, eps).reshape(h.shape)
    d = diffusion(flat, lr, batch_size, floor, eps).reshape(h.shape)
    return growth, d / growth


def median_exit_time(eigenvalue, lr, batch_size, radius, floor=0.0, eps=0.0, *, corrected=False,
                     warn=True):
    r"""Asymptotic median exit time of Adam (:math:`\beta_1 = 0`) along :math:`H_i < 0`.

    :math:`T_{1/2} \approx \lambda^{-1}[\ln(R/(q\sigma_\infty)) - c_2\sigma_\infty^2/R^2]` with
    :math:`\lambda = \sqrt{B|H_i|}`, :math:`\sigma_\infty^2 = \eta/(2\lambda)` (no floor/eps),
    :math:`q = \Phi^{-1}(3/4)`, :math:`c_2 = 1 - q^2/2` (only with ``corrected=True``).
    Same derivation and error orders as :func:`theory.thm1.median_exit_time`.

    Returns
    -------
    ndarray
        Continuous time (divide by ``lr`` for iterations).
    """
    growth, s2 = _unstable_growth_and_sinf2(eigenvalue, lr, batch_size, floor, eps)
    radius = _checks.positive("radius", radius)
    return _ou.median_exit_time(growth, s2, radius, corrected=corrected, warn=warn,
                                entry_id="prop1")


def median_exit_time_local_slope(eigenvalue, lr, batch_size, radius, floor=0.0, eps=0.0, *,
                                 corrected=False):
    r"""Local log-log slope :math:`d\ln T_{1/2}/d\ln|H_i|` of :func:`median_exit_time`.

    Without floor and eps: :math:`-\tfrac12 + 1/(4\mathcal L)`,
    :math:`\mathcal L = \ln(R/(q\sigma_\infty))` (leading form). Evaluated from the SymPy
    derivative of the asymptotic formula (cached lambdified).
    """
    h = _checks.finite("eigenvalue", eigenvalue)
    if not np.all(h < 0):
        raise ValueError(f"eigenvalue must be < 0 (an unstable direction), got {eigenvalue!r}")
    lr = _checks.positive("lr", lr)
    batch_size = _checks.positive("batch_size", batch_size)
    radius = _checks.positive("radius", radius)
    floor = _checks.nonnegative("floor", floor)
    eps = _checks.nonnegative("eps", eps)
    fn = lambdify_cached(_SLOPE_C if corrected else _SLOPE, _SLOPE_ARGS)
    return np.asarray(fn(-h, lr, batch_size, radius, floor, eps), dtype=float)


def _momentum_coefficients(eigenvalues, lr, batch_size, beta1, floor, eps):
    kappa = rates(eigenvalues, batch_size, floor, eps)
    d = diffusion(eigenvalues, lr, batch_size, floor, eps)
    beta1 = _checks.unit_interval("beta1", beta1)
    k, g, _ = thm2.coefficients(kappa, lr, beta1, 1.0 - beta1)
    return k, g, (1.0 - beta1) ** 2 * 2.0 * d / lr**2


def mean(eigenvalues, lr, batch_size, beta1, theta0, r0, t, floor=0.0, eps=0.0) -> np.ndarray:
    r"""Mean of :math:`(\theta_i, r_i)(t)` for Adam with EMA momentum :math:`\beta_1`, shape (n_t, n, 2)."""
    k, g, _ = _momentum_coefficients(eigenvalues, lr, batch_size, beta1, floor, eps)
    th0 = np.broadcast_to(_checks.finite("theta0", theta0), k.shape)
    v0 = np.broadcast_to(_checks.finite("r0", r0), k.shape)
    return _linear2.mean(k, g, th0, v0, _checks.times("t", t)[..., None])


def covariance_2x2(eigenvalues, lr, batch_size, beta1, t, floor=0.0, eps=0.0) -> np.ndarray:
    r"""Exact covariance of :math:`(\theta_i, r_i)(t)` for Adam with EMA momentum, shape (n_t, n, 2, 2).

    Linear system of :mod:`theory._linear2` with :math:`k = (1-\beta_1)\kappa_i/\eta`,
    :math:`g = (1-\beta_1)/\eta`, :math:`q = 2(1-\beta_1)^2 D_{A,i}/\eta^2`.
    """
    k, g, q = _momentum_coefficients(eigenvalues, lr, batch_size, beta1, floor, eps)
    return _linear2.covariance(k, g, q, _checks.times("t", t)[..., None])


def position_variance(eigenvalues, lr, batch_size, beta1, t, floor=0.0, eps=0.0) -> np.ndarray:
    r""":math:`\operatorname{Var}\theta_i(t)` for Adam with EMA momentum, shape (n_t, n)."""
    return covariance_2x2(eigenvalues, lr, batch_size, beta1, t, floor, eps)[..., 0, 0]


def growth_rate_unstable(eigenvalues, lr, batch_size, beta1, floor=0.0, eps=0.0) -> np.ndarray:
    r"""Growth rate of Adam with EMA momentum along :math:`|H_i|` (sign ignored):
    :math:`\frac{1-\beta_1}{2\eta}(\sqrt{1 + 4\eta\lambda/(1-\beta_1)} - 1)`, :math:`\lambda = |\kappa_i|`."""
    h = np.abs(_checks.eigenvalues("eigenvalues", eigenvalues))
    k, g, _ = _momentum_coefficients(h, lr, batch_size, beta1, floor, eps)
    return _linear2.growth_rate(k, g)


def lr_rate(eigenvalues, lr, batch_size, *args, floor=0.0, eps=0.0, **kwargs):
    r"""Small parameter of the continuous limit: :math:`\eta|\kappa_i| = \eta\sqrt{B|H_i|}`."""
    return _checks.positive("lr", lr) * np.abs(rates(eigenvalues, batch_size, floor, eps))


def exit_noise_ratio(eigenvalue, lr, batch_size, radius, floor=0.0, eps=0.0, **kwargs):
    r"""Small parameter of :func:`median_exit_time`: :math:`\sigma_\infty^2/R^2 = \eta/(2\lambda R^2)`."""
    _, s2 = _unstable_growth_and_sinf2(eigenvalue, lr, batch_size, floor, eps)
    return s2 / _checks.positive("radius", radius) ** 2


ENTRY = register(
    TheoryEntry(
        id="prop1",
        title="Adam at a quadratic saddle (isotropic noise, escape time ∝ |H_i|^(-1/2))",
        statement=(
            "With the quasi-static preconditioner P = diag(C)^(-1/2), Adam (β₁ = 0) from the "
            "saddle is Gaussian with diffusion η/2 in every direction and rate "
            "κ_i = sign(H_i)√(B|H_i|): σ_i²(t) = (η/(2κ_i))(1 − e^{−2κ_i t}). Escape along "
            "H_i < 0 takes time ∝ |H_i|^{-1/2} up to a slowly varying logarithm: the noise is "
            "isotropic and Hessian-independent, and Adam is fast on flat directions. With "
            "β₁ > 0 the EMA momentum of Theorem 2 is added (M = η/(1−β₁), γ = 1)."
        ),
        assumptions=(
            "Assumption 1: exactly quadratic, axis-aligned saddle (diag C is C in the eigenbasis).",
            "Hessian gradient noise C = ([H]^+ + h_min I)/B.",
            "Quasi-static second moment v ≈ diag C(θ) (gradients small near the saddle), "
            "bias corrections already ≈ 1.",
            "Continuous-time Itô SDE with t = kη.",
        ),
        formulas=FORMULAS,
        functions={
            "preconditioner": preconditioner,
            "rates": rates,
            "diffusion": diffusion,
            "variance": variance,
            "escape_time_exponent": escape_time_exponent,
            "median_exit_time": median_exit_time,
            "median_exit_time_local_slope": median_exit_time_local_slope,
            "mean": mean,
            "covariance_2x2": covariance_2x2,
            "position_variance": position_variance,
            "growth_rate_unstable": growth_rate_unstable,
        },
        validity=(
            "Exact for the quasi-static SDE. Discrete Adam matches it up to O(η√(B|H_i|)) "
            "(lr_rate) and only once v has equilibrated (k ≫ 1/(1−β₂)) and while gradients stay "
            "small compared with the noise (|H_i θ_i|² ≪ v_i). The median exit formula is "
            "asymptotic in ε² = η/(2√(B|H_i|)R²) (exit_noise_ratio); the slope −1/2 holds only "
            "up to +1/(4 ln(R/(qσ_∞)))."
        ),
        small_parameters={"lr_rate": lr_rate, "exit_noise_ratio": exit_noise_ratio},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Proposition 1",
        constants=(
            "σ_i²(t) paper form (exact for the quasi-static SDE). The median exit time, its "
            "correction and the local slope −1/2 + 1/(4L) are the project's own derivation "
            "(project form)."
        ),
    )
)
