r"""Theorem 2 of [Adai]: heavy-ball Momentum at a quadratic saddle.

Momentum(:math:`\beta_1, \beta_3`) has the SDE :math:`d\theta = r\,dt`,
:math:`M\,dr = -\gamma r\,dt - \nabla L\,dt + \sqrt{2D}\,dW` with :math:`M = \eta/\beta_3`,
:math:`\gamma = (1-\beta_1)/\beta_3` (docs/theory.md section 4). On a quadratic saddle with Hessian
noise, each eigen-direction :math:`i` is an independent linear Gaussian process

.. math::

    dX = A_i X\,dt + (0, \sqrt{q_i})^\top dW, \qquad
    A_i = \begin{pmatrix} 0 & 1 \\ -\beta_3 H_i/\eta & -(1-\beta_1)/\eta \end{pmatrix},
    \qquad q_i = \frac{2D_i\beta_3^2}{\eta^2}, \quad D_i = \frac{\eta(|H_i| + h_{\min})}{2B},

so :math:`k_i = \beta_3 H_i/\eta`, :math:`g = (1-\beta_1)/\eta` in :mod:`theory._linear2`, whose
exact mean and covariance (via :math:`\lambda_\pm`) are used here. Along :math:`H_i < 0`,

.. math::

    \lambda_+ = \frac{1-\beta_1}{2\eta}\Bigl(\sqrt{1 + \frac{4\beta_3\eta|H_i|}{(1-\beta_1)^2}}
        - 1\Bigr) \xrightarrow{\eta|H_i| \ll 1-\beta_1} \frac{\beta_3|H_i|}{1-\beta_1},

and the **momentum drift** (mean from :math:`\theta_0 = 0`) is
:math:`\mu_i(t) = r_{0,i}(e^{\lambda_+ t} - e^{\lambda_- t})/(\lambda_+ - \lambda_-)`, which for a
flat direction (:math:`H_i = 0`: :math:`\lambda_+ = 0`, :math:`\lambda_- = -(1-\beta_1)/\eta`)
tends to :math:`\eta r_{0,i}/(1-\beta_1)`.

References
----------
docs/theory.md section 5, Theorem 2.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815, Theorem 2.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, _linear2
from ._symbols import B, H, eta, floor, r0, t, theta0
from ._symbols import beta1 as b1
from ._symbols import beta3 as b3
from .core import TheoryEntry, register

__all__ = [
    "coefficients",
    "rates",
    "mean",
    "covariance_2x2",
    "position_variance",
    "momentum_drift",
    "flat_drift_limit",
    "growth_rate_unstable",
    "drift_coefficient",
    "stationary_z_variance",
    "median_exit_time",
    "left_eigenvector",
    "FORMULAS",
    "ENTRY",
]

# ---------------------------------------------------------------------------------------------
# Symbolic forms
# ---------------------------------------------------------------------------------------------
_K = b3 * H / eta
_G = (1 - b1) / eta
_Q = 2 * (eta * (sp.Abs(H) + floor) / (2 * B)) * b3**2 / eta**2
_DISC = sp.sqrt(_G**2 - 4 * _K)
_LP, _LM = (-_G + _DISC) / 2, (-_G - _DISC) / 2
_SUBS = {_linear2.SYMBOLIC["lambda_p"]: _LP, _linear2.SYMBOLIC["lambda_m"]: _LM,
         _linear2.SYMBOLIC["t"]: t, _linear2.SYMBOLIC["q"]: _Q,
         _linear2.SYMBOLIC["theta0"]: theta0, _linear2.SYMBOLIC["r0"]: r0}
_lam_abs = sp.Symbol("|H|", positive=True)

FORMULAS = {
    "A": sp.Matrix([[0, 1], [-_K, -_G]]),
    "q": _Q,
    "lambda_plus": _LP,
    "lambda_minus": _LM,
    "mean": _linear2.SYMBOLIC["mean"].subs(_SUBS),
    "covariance": _linear2.SYMBOLIC["cov"].subs(_SUBS),
    "momentum_drift": r0 * _linear2.SYMBOLIC["phi"].subs(_SUBS),
    "flat_drift_limit": eta * r0 / (1 - b1),
    "growth_rate_unstable": (1 - b1) / (2 * eta)
    * (sp.sqrt(1 + 4 * b3 * eta * _lam_abs / (1 - b1) ** 2) - 1),
}


# Unstable-mode decomposition: theta(t) = e^{lambda+ t} Z(t) + (decaying lambda- mode), Z a Gaussian
# martingale.  w is the left eigenvector of A for lambda+, normalised against the right one (1, lambda+).
FORMULAS["left_eigenvector"] = sp.Matrix([[_LP + _G, 1]]) / (_LP - _LM)
FORMULAS["drift_coefficient"] = (FORMULAS["left_eigenvector"] * sp.Matrix([theta0, r0]))[0]
FORMULAS["stationary_z_variance"] = _Q / (2 * _LP * (_LP - _LM) ** 2)


# ---------------------------------------------------------------------------------------------
# NumPy
# ---------------------------------------------------------------------------------------------
def _check_momentum(lr, beta1, beta3):
    lr = _checks.positive("lr", lr)
    beta1 = _checks.unit_interval("beta1", beta1)
    beta3 = _checks.unit_interval("beta3", beta3, open_left=True, closed_right=True)
    return lr, beta1, beta3


def coefficients(eigenvalues, lr, beta1, beta3, batch_size=None, floor=0.0):
    r"""Coefficients :math:`(k_i, g_i, q_i)` of the per-direction linear system.

    :math:`k_i = \beta_3 H_i/\eta`, :math:`g = (1-\beta_1)/\eta`,
    :math:`q_i = \beta_3^2(|H_i| + h_{\min})/(\eta B)` (``q`` is ``None`` without
    ``batch_size``). ``beta1`` and ``beta3`` may be per-direction arrays of shape (n,).

    Returns
    -------
    k, g, q : ndarray, shape (n,)
    """
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    lr, beta1, beta3 = _check_momentum(lr, beta1, beta3)
    k = beta3 * h / lr
    g = np.broadcast_to((1.0 - beta1) / lr, h.shape)
    if batch_size is None:
        return k, g, None
    batch_size = _checks.positive("batch_size", batch_size)
    floor = _checks.nonnegative("floor", floor)
    return k, g, beta3**2 * (np.abs(h) + floor) / (lr * batch_size)


def rates(eigenvalues, lr, beta1, beta3):
    r"""Eigenvalues :math:`(\lambda_+, \lambda_-)` of :math:`A_i`, each shape (n,).

    Real when every direction is overdamped or unstable (:math:`g^2 \ge 4k_i`), complex
    otherwise.
    """
    k, g, _ = coefficients(eigenvalues, lr, beta1, beta3)
    return _linear2.roots(k, g)


def _times(t):
    return _checks.times("t", t)[..., None]


def mean(eigenvalues, lr, beta1, beta3, theta0, r0, t) -> np.ndarray:
    r"""Mean of :math:`(\theta_i - c_i, r_i)(t)` from :math:`(\theta_0, r_0)` (eigen-coordinates).

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
    lr : float
        :math:`\eta > 0`.
    beta1 : float or array_like, shape (n,)
        :math:`\beta_1 \in [0, 1)`.
    beta3 : float or array_like, shape (n,)
        :math:`\beta_3 \in (0, 1]` (1: PyTorch heavy ball; :math:`1-\beta_1`: EMA form).
    theta0, r0 : float or array_like, shape (n,)
        Initial displacement and velocity (:math:`r = -m`).
    t : float or array_like, shape (n_t,)

    Returns
    -------
    ndarray, shape (n_t, n, 2)
        ``[..., 0]`` the position mean, ``[..., 1]`` the velocity mean.
    """
    k, g, _ = coefficients(eigenvalues, lr, beta1, beta3)
    theta0 = _broadcast_initial("theta0", theta0, k.shape)
    r0 = _broadcast_initial("r0", r0, k.shape)
    return _linear2.mean(k, g, theta0, r0, _times(t))


def _broadcast_initial(name, value, shape):
    arr = _checks.finite(name, value)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} must broadcast to shape {shape}, got {arr.shape}") from None


def covariance_2x2(eigenvalues, lr, batch_size, beta1, beta3, t, floor=0.0) -> np.ndarray:
    r"""Exact covariance of :math:`(\theta_i, r_i)(t)` from a deterministic start.

    Solves :math:`\dot\Sigma = A\Sigma + \Sigma A^\top + Q`, :math:`\Sigma(0) = 0`, in closed form
    (:mod:`theory._linear2`).

    Returns
    -------
    ndarray, shape (n_t, n, 2, 2)
    """
    k, g, q = coefficients(eigenvalues, lr, beta1, beta3, batch_size, floor)
    return _linear2.covariance(k, g, q, _times(t))


def position_variance(eigenvalues, lr, batch_size, beta1, beta3, t, floor=0.0) -> np.ndarray:
    r""":math:`\operatorname{Var}\theta_i(t)`, shape (n_t, n)."""
    return covariance_2x2(eigenvalues, lr, batch_size, beta1, beta3, t, floor)[..., 0, 0]


def momentum_drift(eigenvalues, lr, beta1, beta3, r0, t) -> np.ndarray:
    r"""Momentum drift :math:`r_0(e^{\lambda_+t} - e^{\lambda_-t})/(\lambda_+ - \lambda_-)`, shape (n_t, n).

    The mean displacement from :math:`\theta_0 = 0` caused by the initial velocity alone.
    """
    return mean(eigenvalues, lr, beta1, beta3, 0.0, r0, t)[..., 0]


def flat_drift_limit(lr, beta1, r0):
    r"""Total momentum drift on a flat direction: :math:`\eta r_0/(1-\beta_1)`."""
    lr = _checks.positive("lr", lr)
    beta1 = _checks.unit_interval("beta1", beta1)
    return lr * _checks.finite("r0", r0) / (1.0 - beta1)


def growth_rate_unstable(eigenvalues, lr, beta1, beta3) -> np.ndarray:
    r"""Growth rate :math:`\lambda_+` along :math:`|H_i|` treated as unstable (sign ignored).

    .. math::

        \lambda_+ = \frac{1-\beta_1}{2\eta}\Bigl(\sqrt{1 + \frac{4\beta_3\eta|H_i|}{(1-\beta_1)^2}}
            - 1\Bigr) = \frac{2\beta_3|H_i|/\eta}{g + \sqrt{g^2 + 4\beta_3|H_i|/\eta}},
        \quad g = \frac{1-\beta_1}{\eta},

    evaluated in the second (cancellation-free) form.
    """
    k, g, _ = coefficients(np.abs(_checks.eigenvalues("eigenvalues", eigenvalues)), lr, beta1,
                           beta3)
    return _linear2.growth_rate(k, g)


def left_eigenvector(eigenvalues, lr, beta1, beta3) -> np.ndarray:
    r"""Left eigenvector :math:`w = (\lambda_+ + g, 1)/(\lambda_+ - \lambda_-)` of :math:`A_i` for
    :math:`\lambda_+`, normalised so that :math:`w\cdot(1, \lambda_+) = 1`; shape (n, 2).

    Along an unstable direction :math:`X(t) = e^{\lambda_+t}Z(t)(1, \lambda_+) + (\lambda_-\text{ mode})`
    with :math:`Z(t) = e^{-\lambda_+t}\,w\cdot X(t)` a Gaussian martingale.
    """
    k, g, _ = coefficients(eigenvalues, lr, beta1, beta3)
    lp, lm = _linear2.roots(k, g)
    return np.stack([(lp + g) / (lp - lm), 1.0 / (lp - lm)], axis=-1)


def drift_coefficient(eigenvalues, lr, beta1, beta3, r0, theta0=0.0) -> np.ndarray:
    r"""Drift coefficient :math:`d_i = E Z = w\cdot(\theta_0, r_0)`, shape (n,).

    For :math:`\theta_0 = 0`, :math:`d_i = r_0/(\lambda_+ - \lambda_-)
    = \dfrac{\eta r_0}{(1-\beta_1)\sqrt{1 + 4\beta_3\eta|H_i|/(1-\beta_1)^2}}` along
    :math:`H_i < 0` (:math:`\to \eta r_0/(1-\beta_1)` for flat directions), and the mean is
    exactly :math:`E\theta_i(t) = d_i(e^{\lambda_+t} - e^{\lambda_-t})` (:func:`momentum_drift`).
    Derived from the left eigenvector (:func:`left_eigenvector`; SymPy form
    ``FORMULAS["drift_coefficient"]``).
    """
    w = left_eigenvector(eigenvalues, lr, beta1, beta3)
    n = w.shape[0]
    th0 = _broadcast_initial("theta0", theta0, (n,))
    v0 = _broadcast_initial("r0", r0, (n,))
    return w[:, 0] * th0 + w[:, 1] * v0


def stationary_z_variance(eigenvalues, lr, batch_size, beta1, beta3, floor=0.0) -> np.ndarray:
    r""":math:`\operatorname{Var}Z_\infty = q_i/(2\lambda_+(\lambda_+ - \lambda_-)^2)` along
    :math:`H_i < 0` (:math:`q_i = 2D_i\beta_3^2/\eta^2`, noise in :math:`r` only), shape (n,)."""
    h = _checks.eigenvalues("eigenvalues", eigenvalues)
    if not np.all(h < 0):
        raise ValueError("stationary_z_variance needs unstable directions (all eigenvalues < 0)")
    k, g, q = coefficients(h, lr, beta1, beta3, batch_size, floor)
    lp, lm = _linear2.roots(k, g)
    return q / (2.0 * lp * (lp - lm) ** 2)


def _median_abs_normal(mu, sd):
    """Median m of |N(mu, sd^2)|: Phi((m-mu)/sd) - Phi((-m-mu)/sd) = 1/2 (bisection, vectorised)."""
    from scipy.special import ndtr

    mu, sd = np.broadcast_arrays(np.abs(np.asarray(mu, float)), np.asarray(sd, float))
    lo, hi = np.zeros(mu.shape), mu + 10.0 * sd
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f = ndtr((mid - mu) / sd) - ndtr((-mid - mu) / sd) - 0.5
        lo, hi = np.where(f < 0, mid, lo), np.where(f < 0, hi, mid)
    return 0.5 * (lo + hi)


def median_exit_time(eigenvalue, lr, batch_size, beta1, beta3, radius, r0=0.0, floor=0.0):
    r"""Asymptotic median time to leave :math:`|\theta_i| < R` along :math:`H_i < 0` from the saddle.

    :math:`\theta_i(t) \approx e^{\lambda_+t}Z_\infty`, :math:`Z_\infty \sim N(d_i, \operatorname{Var}Z_\infty)`,
    so :math:`T_{1/2} = \lambda_+^{-1}\ln(R/m)` with :math:`m` the median of :math:`|Z_\infty|`
    (:math:`m = \Phi^{-1}(3/4)\sqrt{\operatorname{Var}Z_\infty}` at rest, :math:`r_0 = 0`).
    Neglected: :math:`O(\operatorname{Var}Z_\infty/R^2)` (Z not yet at :math:`Z_\infty` and the
    :math:`\lambda_-` mode at the exit), as in :func:`theory.thm1.median_exit_time`.
    """
    h = _checks.eigenvalues("eigenvalue", np.atleast_1d(eigenvalue))
    radius = _checks.positive("radius", radius)
    lp = growth_rate_unstable(h, lr, beta1, beta3)
    var = stationary_z_variance(h, lr, batch_size, beta1, beta3, floor)
    d = drift_coefficient(h, lr, beta1, beta3, r0)
    return np.log(radius / _median_abs_normal(d, np.sqrt(var))) / lp


def overdamping_parameter(eigenvalues, lr, beta1, beta3=1.0, *args, **kwargs):
    r"""Small parameter of the overdamped limit: :math:`\beta_3\eta|H_i|/(1-\beta_1)^2`."""
    k, g, _ = coefficients(np.abs(_checks.eigenvalues("eigenvalues", eigenvalues)), lr, beta1,
                           beta3)
    return k / g**2


def lr_curvature(eigenvalues, lr, *args, **kwargs):
    r"""Small parameter of the continuous-time limit: :math:`\eta|H_i|`."""
    return _checks.positive("lr", lr) * np.abs(_checks.eigenvalues("eigenvalues", eigenvalues))


ENTRY = register(
    TheoryEntry(
        id="thm2",
        title="Momentum at a quadratic saddle (linear Gaussian phase space, momentum drift)",
        statement=(
            "Per eigen-direction, (θ_i, r_i) is a linear Gaussian process with drift matrix "
            "A_i = [[0, 1], [−β₃H_i/η, −(1−β₁)/η]] and noise only in r of intensity "
            "2D_iβ₃²/η²; mean and covariance are exact closed forms in λ±. Along H_i < 0 the "
            "growth rate is λ₊ = ((1−β₁)/2η)(√(1+4β₃η|H_i|/(1−β₁)²) − 1) → β₃|H_i|/(1−β₁). "
            "An initial velocity r₀ adds the momentum drift r₀(e^{λ₊t} − e^{λ₋t})/(λ₊−λ₋), "
            "which on a flat direction tends to ηr₀/(1−β₁); SGD has no such term."
        ),
        assumptions=(
            "Assumption 1: exactly quadratic loss near the saddle; H diagonalised by U.",
            "Hessian gradient noise C = ([H]^+ + h_min I)/B, D = (η/2)C.",
            "Continuous model of Momentum: M = η/β₃, γ = (1−β₁)/β₃ (docs/theory.md §4), t = kη.",
            "Deterministic start (θ₀, r₀); r = −m is the velocity.",
        ),
        formulas=FORMULAS,
        functions={
            "rates": rates,
            "mean": mean,
            "covariance_2x2": covariance_2x2,
            "position_variance": position_variance,
            "momentum_drift": momentum_drift,
            "flat_drift_limit": flat_drift_limit,
            "growth_rate_unstable": growth_rate_unstable,
            "drift_coefficient": drift_coefficient,
            "stationary_z_variance": stationary_z_variance,
            "median_exit_time": median_exit_time,
        },
        validity=(
            "Exact for the SDE. Discrete Momentum matches it up to O(η|H_i|) (lr_curvature); "
            "the overdamped form λ₊ ≈ β₃|H_i|/(1−β₁) needs β₃η|H_i|/(1−β₁)² ≪ 1 "
            "(overdamping_parameter). The flat-direction drift ηr₀/(1−β₁) equals the discrete "
            "optimizer's ηβ₁m₀/(1−β₁) to leading order in 1−β₁."
        ),
        small_parameters={"lr_curvature": lr_curvature,
                          "overdamping_parameter": overdamping_parameter},
        source="Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815, Theorem 2",
        constants=(
            "paper (the linear-Gaussian moments are exact for the SDE of docs/theory.md §4; the "
            "closed forms in λ± are the project's own algebra, checked by SymPy)"
        ),
    )
)
