r"""Theorem 1 of [Adai]: SGD at a quadratic saddle with Hessian gradient noise.

On :math:`L(\theta) = L_c + \tfrac12(\theta-c)^\top H(\theta-c)` with :math:`H = U\Lambda U^\top`
and Hessian noise :math:`C = ([H]^+ + h_{\min} I)/B`, the SGD SDE
:math:`d\theta = -H(\theta-c)\,dt + \sqrt{2D}\,dW`, :math:`D = (\eta/2) C`, started at
:math:`\theta(0) = c` is Gaussian, :math:`\theta(t) \sim N(c, \Sigma(t))`, with

.. math::

    \Sigma(t) = U\,\mathrm{diag}\,\sigma_i^2(t)\,U^\top, \qquad
    \sigma_i^2(t) = \frac{D_i}{H_i}\bigl(1 - e^{-2H_i t}\bigr), \qquad
    D_i = \frac{\eta(|H_i| + h_{\min})}{2B}.

This is the solution of the Lyapunov ODE :math:`\dot\Sigma = -H\Sigma - \Sigma H + 2D`,
:math:`\Sigma(0) = 0` (``D`` commutes with ``H``). For :math:`H_i < 0` and no floor,
:math:`\sigma_i^2 = (\eta/2B)(e^{2|H_i|t} - 1)`.

Escape along an unstable direction
----------------------------------
Along :math:`u_i` with :math:`\lambda = |H_i|`, :math:`x(t) = e^{\lambda t} Z(t)`,
:math:`Z(t) = \int_0^t e^{-\lambda s}\sqrt{2D_i}\,dW_s`,
:math:`\operatorname{Var} Z(t) = (D_i/\lambda)(1 - e^{-2\lambda t})`, and
:math:`\sigma_\infty^2 := \operatorname{Var} Z_\infty = D_i/\lambda = \eta/(2B)` without floor.
The time change :math:`\tau = \lambda t` turns the exit problem
:math:`|x(T)| \ge R` into one whose law depends only on :math:`R/\sigma_\infty`; without floor
this ratio does not depend on :math:`\lambda`, so :math:`\lambda T` has a :math:`\lambda`-free
law and every quantile of :math:`T` is exactly proportional to :math:`1/|H_i|`.

Exact decomposition. At the exit time, :math:`e^{\lambda T}|Z(T)| = R` (continuous paths), and
by the strong Markov property :math:`Z_\infty - Z(T) = \int_T^\infty e^{-\lambda s}\sqrt{2D_i}dW_s`
is, given :math:`\mathcal F_T`, :math:`N(0, \sigma_\infty^2 e^{-2\lambda T}) = N(0,
\sigma_\infty^2 Z(T)^2/R^2)`. Hence :math:`Z_\infty = Z(T)(1+\delta)` with
:math:`\delta \sim N(0, \epsilon^2)`, :math:`\epsilon^2 = \sigma_\infty^2/R^2`, independent of
:math:`\lambda T`, and

.. math::

    \lambda T = \ln\frac{R}{|Z_\infty|} + \ln|1+\delta| \quad(\text{exactly}).

Leading order (:math:`\epsilon \to 0`): :math:`\lambda T_{1/2} \approx
\ln\bigl(R/(q\,\sigma_\infty)\bigr)` with :math:`q = \Phi^{-1}(3/4)` the median of
:math:`|N(0,1)|`. First correction: with :math:`X = \ln(R/|Z_\infty|) = \lambda T - Y`,
:math:`Y = \ln|1+\delta|` independent of :math:`\lambda T`, :math:`E Y = -\epsilon^2/2 +
O(\epsilon^4)`, :math:`E Y^2 = \epsilon^2 + O(\epsilon^4)`, a second-order expansion of
:math:`F_X(x) = E\,F_{\lambda T}(x + Y)` at the median gives
:math:`m_{\lambda T} = m_X + E Y + \tfrac12 (\ln f_X)'(m_X)\,E Y^2`, and
:math:`(\ln f_X)'(m_X) = q^2 - 1` (density of :math:`-\ln|G|` at :math:`|G| = q`). So

.. math::

    \lambda T_{1/2} = \ln\frac{R}{q\,\sigma_\infty}
        - \Bigl(1 - \frac{q^2}{2}\Bigr)\frac{\sigma_\infty^2}{R^2} + O(\epsilon^4),

:math:`1 - q^2/2 \approx 0.7725`. The leading form has absolute error
:math:`O(\epsilon^2)` in :math:`\lambda T`, i.e. relative error
:math:`O(\epsilon^2/\ln(R/q\sigma_\infty))`; with the correction, :math:`O(\epsilon^4)`.

References
----------
docs/theory.md section 5, Theorem 1.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Theorem 1.
Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for Deep Learning Dynamics", ICLR 2021,
arXiv 2002.03495 (Hessian-dependent gradient noise).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _ou
from ._symbols import B, H, R, eta, floor, lam, t
from .core import TheoryEntry, lambdify_cached, register

__all__ = [
    "variance",
    "covariance",
    "escape_time_exponent",
    "median_exit_time",
    "diffusion",
    "stationary_exit_variance",
    "lr_curvature",
    "exit_noise_ratio",
    "FORMULAS",
    "ENTRY",
]

MEDIAN_ABS_NORMAL = _ou.MEDIAN_ABS_NORMAL

# ---------------------------------------------------------------------------------------------
# Symbolic forms (built once at import)
# ---------------------------------------------------------------------------------------------
_D_SYM = eta * (sp.Abs(H) + floor) / (2 * B)
_SIGMA2_SYM = _D_SYM / H * (1 - sp.exp(-2 * H * t))
#: along an unstable direction, lambda = |H| > 0
_D_UNSTABLE = eta * (lam + floor) / (2 * B)
_SIGMA_INF2 = _D_UNSTABLE / lam
_MEDIAN_LEADING = _ou.median_exit_time_symbolic(lam, _SIGMA_INF2, R)
_MEDIAN_CORRECTED = _ou.median_exit_time_symbolic(lam, _SIGMA_INF2, R, corrected=True)

FORMULAS = {
    "D": _D_SYM,
    "sigma2": _SIGMA2_SYM,
    "sigma2_flat": 2 * _D_SYM.subs(H, 0) * t,
    "sigma_inf2": _SIGMA_INF2,
    "median_exit_time": _MEDIAN_LEADING,
    "median_exit_time_corrected": _MEDIAN_CORRECTED,
}


# ---------------------------------------------------------------------------------------------
# NumPy functions
# ---------------------------------------------------------------------------------------------
def diffusion(eigenvalues, lr, batch_size, floor=0.0) -> np.ndarray:
    r"""Diffusion coefficients :math:`D_i = \eta(|H_i| + h_{\min})/(2B)` in the eigenbasis.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        Hessian eigenvalues :math:`H_i` (any sign).
    lr : float
        Learning rate :math:`\eta > 0`.
    batch_size : float
        Batch size :math:`B > 0`.
    floor : float, optional
        Noise floor :math:`h_{\min} \ge 0` added to :math:`|H_i|`.

    Returns
    -------
    ndarray, shape (n,)
    """
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    lr = _checks.positive("lr", lr)
    batch_size = _checks.positive("batch_size", batch_size)
    floor = _checks.nonnegative("floor", floor)
    return lr * (np.abs(h) + floor) / (2.0 * batch_size)


def variance(eigenvalues, lr, batch_size, t, floor=0.0) -> np.ndarray:
    r"""Variances :math:`\sigma_i^2(t)` of :math:`u_i^\top(\theta(t) - c)` for SGD from the saddle.

    .. math::

        \sigma_i^2(t) = \frac{D_i}{H_i}\bigl(1 - e^{-2H_i t}\bigr)
                      = 2D_i t\,\frac{e^{x}-1}{x}\Big|_{x=-2H_i t},
        \qquad D_i = \frac{\eta(|H_i| + h_{\min})}{2B},

    evaluated in the second form (``expm1``), which is exact at :math:`H_i = 0`
    (:math:`\sigma_i^2 = 2D_i t`) and accurate for small :math:`|H_i t|`.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        Hessian eigenvalues :math:`H_i` (any sign).
    lr : float
        Learning rate :math:`\eta > 0`.
    batch_size : float
        Batch size :math:`B > 0`.
    t : float or array_like, shape (n_t,)
        Continuous times :math:`t = k\eta \ge 0`.
    floor : float, optional
        Hessian-noise floor :math:`h_{\min} \ge 0`.

    Returns
    -------
    ndarray, shape (n_t, n) (or (n,) for scalar ``t``)

    References
    ----------
    docs/theory.md section 5, Theorem 1; Xie et al., arXiv 2006.15815, Theorem 1.
    """
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    d = diffusion(h, lr, batch_size, floor)
    return _ou.variance(h, d, _checks.times("t", t))


def covariance(hessian, lr, batch_size, t, floor=0.0) -> np.ndarray:
    r"""Covariance :math:`\Sigma(t) = U\,\mathrm{diag}\,\sigma_i^2(t)\,U^\top` of SGD from the saddle.

    Parameters
    ----------
    hessian : array_like, shape (n, n)
        Symmetric, finite Hessian :math:`H` of the quadratic saddle.
    lr, batch_size, t, floor
        As in :func:`variance`.

    Returns
    -------
    ndarray, shape (n_t, n, n) (or (n, n) for scalar ``t``)
    """
    hess = _checks.symmetric_matrix("hessian", hessian)
    h, u = np.linalg.eigh(hess)
    s2 = variance(h, lr, batch_size, t, floor)
    return np.einsum("ij,...j,kj->...ik", u, s2, u)


def escape_time_exponent() -> float:
    r"""Exponent :math:`a` in median exit time :math:`\propto |H_i|^{a}`: :math:`a = -1` (exact
    without noise floor)."""
    return -1.0


def stationary_exit_variance(eigenvalue, lr, batch_size, floor=0.0) -> np.ndarray:
    r""":math:`\sigma_\infty^2 = \operatorname{Var} Z_\infty = D_i/|H_i| = \eta(|H_i|+h_{\min})/(2B|H_i|)`.

    Equal to :math:`\eta/(2B)`, independent of :math:`H_i`, without floor.
    """
    h = _unstable("eigenvalue", eigenvalue)
    lr = _checks.positive("lr", lr)
    batch_size = _checks.positive("batch_size", batch_size)
    floor = _checks.nonnegative("floor", floor)
    lam_ = -h
    return lr * (lam_ + floor) / (2.0 * batch_size * lam_)


def _unstable(name: str, value) -> np.ndarray:
    h = _checks.finite(name, value)
    if not np.all(h < 0):
        raise ValueError(f"{name} must be < 0 (an unstable direction), got {value!r}")
    return h


def median_exit_time(eigenvalue, lr, batch_size, radius, floor=0.0, *, corrected=False, warn=True):
    r"""Asymptotic median exit time along an unstable direction (:math:`H_i < 0`), start at the saddle.

    Exit when :math:`|u_i^\top(\theta - c)| \ge R`. With :math:`\lambda = |H_i|`,
    :math:`\sigma_\infty^2 = D_i/\lambda` (:math:`= \eta/2B` without floor) and
    :math:`q = \Phi^{-1}(3/4)`:

    .. math::

        T_{1/2} \approx \frac1\lambda\Bigl[\ln\frac{R}{q\,\sigma_\infty}
            - c_2\,\frac{\sigma_\infty^2}{R^2}\Bigr], \qquad c_2 = 1 - \frac{q^2}{2},

    with :math:`c_2` used only when ``corrected=True``. Derivation (module docstring):
    :math:`\lambda T = \ln(R/|Z_\infty|) + \ln|1+\delta|` exactly, with
    :math:`\delta \sim N(0, \sigma_\infty^2/R^2)` independent of :math:`T`. The leading form has
    relative error :math:`O(\epsilon^2/\ln(R/q\sigma_\infty))`, :math:`\epsilon^2 =
    \sigma_\infty^2/R^2 = \eta/(2BR^2)`; the corrected one :math:`O(\epsilon^4)`. Without floor
    :math:`\lambda T` has a :math:`\lambda`-free law, so the median is exactly
    :math:`\propto 1/|H_i|` (:func:`escape_time_exponent`).

    Parameters
    ----------
    eigenvalue : float or array_like
        :math:`H_i < 0`.
    lr, batch_size : float
        :math:`\eta > 0`, :math:`B > 0`.
    radius : float or array_like
        Exit radius :math:`R > 0`.
    floor : float, optional
        Hessian-noise floor.
    corrected : bool, optional
        Include the :math:`O(\epsilon^2)` correction.
    warn : bool, optional
        Emit :class:`~theory.core.ValidityWarning` when :math:`\epsilon^2 > 0.1`.

    Returns
    -------
    ndarray
        Median exit time in continuous time units (divide by ``lr`` for iterations).

    References
    ----------
    docs/theory.md section 5, Theorem 1; Xie et al., arXiv 2006.15815, Theorem 1.
    """
    s2 = stationary_exit_variance(eigenvalue, lr, batch_size, floor)
    radius = _checks.positive("radius", radius)
    growth = -np.asarray(eigenvalue, dtype=float)
    return _ou.median_exit_time(growth, s2, radius, corrected=corrected, warn=warn,
                                entry_id="thm1")


def lr_curvature(eigenvalues, lr, *args, **kwargs) -> np.ndarray:
    r"""Small parameter of the continuous-time limit: :math:`\eta|H_i|` (discrete SGD vs SDE)."""
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    return _checks.positive("lr", lr) * np.abs(h)


def exit_noise_ratio(eigenvalue, lr, batch_size, radius, floor=0.0, **kwargs) -> np.ndarray:
    r"""Small parameter of :func:`median_exit_time`: :math:`\epsilon^2 = \sigma_\infty^2/R^2`."""
    return stationary_exit_variance(eigenvalue, lr, batch_size, floor) / _checks.positive(
        "radius", radius
    ) ** 2


def _sympy_sigma2():
    """Cached lambdified :math:`\\sigma^2(H, \\eta, B, t, h_{\\min})` (for cross-checks)."""
    return lambdify_cached(_SIGMA2_SYM, (H, eta, B, t, floor))


ENTRY = register(
    TheoryEntry(
        id="thm1",
        title="SGD at a quadratic saddle (Gaussian spread, escape time ∝ 1/|H_i|)",
        statement=(
            "Started at the saddle c of a quadratic loss with Hessian gradient noise C = [H]^+/B, "
            "the SGD diffusion is Gaussian N(c, Σ(t)) with Σ = U diag(σ_i²) Uᵀ, "
            "σ_i²(t) = (D_i/H_i)(1 − e^{−2H_i t}), D_i = η|H_i|/(2B). Along H_i < 0, "
            "σ_i² = (η/2B)(e^{2|H_i|t} − 1); λ = |H_i| times the exit time has an H-free law, "
            "so every quantile of the escape time is ∝ 1/|H_i|: SGD is slow along flat escape "
            "directions."
        ),
        assumptions=(
            "Assumption 1: the loss is exactly quadratic near the saddle (second-order Taylor).",
            "Gradient noise covariance C = ([H]^+ + h_min I)/B (Hessian model), D = (η/2)C.",
            "Continuous-time Itô SDE dθ = −∇L dt + √(2D) dW, time t = kη.",
            "Start exactly at the saddle, θ(0) = c.",
        ),
        formulas=FORMULAS,
        functions={
            "variance": variance,
            "covariance": covariance,
            "escape_time_exponent": escape_time_exponent,
            "median_exit_time": median_exit_time,
            "diffusion": diffusion,
            "stationary_exit_variance": stationary_exit_variance,
        },
        validity=(
            "The Gaussian law is exact for the SDE. Discrete SGD matches it up to O(η|H_i|) "
            "(small parameter lr_curvature = η|H_i|). The median-exit formula is asymptotic in "
            "ε² = σ_∞²/R² = η/(2BR²) (exit_noise_ratio): absolute error O(ε²) in λT for the "
            "leading form, O(ε⁴) with corrected=True. The exponent −1 is exact only without a "
            "noise floor."
        ),
        small_parameters={"lr_curvature": lr_curvature, "exit_noise_ratio": exit_noise_ratio},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Theorem 1",
        constants=(
            "σ_i²(t) is exact for the SDE (paper form). The median exit time "
            "(1/|H_i|)[ln(R/(Φ⁻¹(3/4)√(η/2B))) − (1 − Φ⁻¹(3/4)²/2)η/(2BR²)] is the project's own "
            "derivation (project form); the paper states only the 1/|H_i| scaling."
        ),
    )
)
