r"""Adai (adaptive inertia; AdaiW with decoupled weight decay) and its continuous model AdaiSDE
(docs/theory.md §3–§4), with the inertia rule they share.

The rule :math:`\beta_{1,i} = \mathrm{clip}(1 - \beta_0 v_i/\bar v, 0, 1-\epsilon)` exists once as a
compiled scalar/loop function (kernels) and once vectorised over paths (NumPy/torch reference and
exact linear models); :math:`\bar v` is always the mean over one path's coordinates, never over paths.

References
----------
docs/theory.md §3, §4, §5 Props. 3–4, Theorem 4; Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama,
"Adaptive Inertia: Disentangling the Effects of Adaptive Learning Rate and Momentum", ICML 2022,
arXiv 2006.15815.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import (DiscreteOptimizerBase, beta, bias_correction, bias_correction_jit, flag, log_beta,
                   numpy_stochastic_gradient, slots)
from .registry import register
from .underdamped import (UnderdampedSDEBase, make_diag_covariance, numpy_diag_covariance,
                          underdamped_slots)

__all__ = ["Adai", "AdaiSDE", "adai_inertia", "adai_inertia_vector", "numpy_adai_inertia"]

P = slots("lr", "beta0", "beta2", "eps", "weight_decay", "decoupled", "log_beta2")
C = slots("bc2")
P_SDE = underdamped_slots("beta0", "eps")


# ----------------------------------------------------------------------------------------------
# the inertia rule
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def adai_inertia(v_ratio, beta0, eps):
    r""":math:`\beta_1 = \mathrm{clip}(1 - \beta_0\,v_i/\bar v,\ 0,\ 1-\epsilon)` for one coordinate."""
    return min(max(1.0 - beta0 * v_ratio, 0.0), 1.0 - eps)


@jit(inline=True)
def adai_inertia_vector(v, beta0, eps, out):
    r"""``out[i]`` = Adai's :math:`\beta_{1,i}` for the second moments ``v`` of one path.

    :math:`\bar v` is the mean of ``v`` over the path's coordinates.  When :math:`\bar v = 0`
    (all moments zero) the ratio :math:`v_i/\bar v` is defined as 1 (no NaN).  ``out`` may be
    ``v`` itself.
    """
    n = v.shape[0]
    v_bar = 0.0
    for i in range(n):
        v_bar += v[i]
    v_bar /= n
    for i in range(n):
        ratio = v[i] / v_bar if v_bar > 0.0 else 1.0
        out[i] = adai_inertia(ratio, beta0, eps)


def numpy_adai_inertia(v, beta0, eps):
    r"""Adai's :math:`\beta_{1}` for ``v`` of shape ``(..., dim)``; :math:`\bar v` is the mean over
    the last axis (one path's coordinates, never over paths); ratio 1 where :math:`\bar v = 0`.
    NumPy arrays or torch tensors."""
    v = v if _xp.is_torch(v) else np.asarray(v, dtype=float)
    xp = _xp.namespace(v)
    v_bar = v.mean(axis=-1, keepdims=True)
    positive = v_bar > 0.0
    ratio = xp.where(positive, v / xp.where(positive, v_bar, 1.0), 1.0)
    return xp.clip(1.0 - beta0 * ratio, 0.0, 1.0 - eps)


def _beta0(value) -> float:
    return V.in_range("beta0", value, 0.0, 1.0, lo_open=True, hi_open=False)


def _eps(value) -> float:
    return V.in_range("eps", value, 0.0, 1.0, lo_open=True)


# ----------------------------------------------------------------------------------------------
# Adai / AdaiW
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def _adai_update(x, aux, g, c, dp):
    lr, beta0, beta2, eps = dp[P.lr], dp[P.beta0], dp[P.beta2], dp[P.eps]
    wd, decoupled = dp[P.weight_decay], dp[P.decoupled]
    n = x.shape[0]  # aux = (m, v, P), indexed directly: no slice views in the hot loop
    if decoupled != 0.0:  # AdaiW: shrink θ before the step (g was taken at the old θ)
        for i in range(n):
            x[i] *= 1.0 - lr * wd
    else:
        for i in range(n):
            g[i] += wd * x[i]
    adai_moments_step(x, aux, g, g, c[C.bc2], lr, beta0, beta2, eps)


@jit(inline=True)
def adai_moments_step(x, aux, g, g_v, bc2, lr, beta0, beta2, eps):
    r"""Adai's step after the gradient: :math:`v` from ``g_v``, the inertia from :math:`\hat v`, then
    :math:`m` and :math:`P` from ``g`` and the bias-corrected step of ``x`` (``aux = (m, v, P)``).
    Released Adai passes its gradient twice; :class:`~sim.dynamics.adai_independent.AdaiIndependent`
    an independent sample as ``g_v``."""
    n = x.shape[0]
    v_sum = 0.0
    for i in range(n):
        aux[n + i] = beta2 * aux[n + i] + (1.0 - beta2) * g_v[i] * g_v[i]
        v_sum += aux[n + i] / bc2
    v_bar = v_sum / n
    for i in range(n):
        ratio = (aux[n + i] / bc2) / v_bar if v_bar > 0.0 else 1.0
        b1 = adai_inertia(ratio, beta0, eps)
        aux[i] = b1 * aux[i] + (1.0 - b1) * g[i]
        aux[2 * n + i] *= b1
        x[i] -= lr * aux[i] / (1.0 - aux[2 * n + i])


@jit(inline=True)
def _adai_step_coefficients(k, dp, c):
    """Adai's per-step number: ``1 - β₂ᵏ``."""
    c[C.bc2] = bias_correction_jit(dp[P.log_beta2], k)


@register(
    examples=[dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, weight_decay=0.1, decoupled=True),
              dict(lr=0.05, beta0=0.5, beta2=0.9, eps=0.1)],
    bad=[(dict(lr=0.1, beta0=0.0), "beta0"), (dict(lr=0.1, eps=1.0), "eps"),
         (dict(lr=0.1, beta2=1.5), "beta2"), (dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
         (dict(lr=1.0, weight_decay=2.0, decoupled=True), "weight_decay")])
class Adai(DiscreteOptimizerBase):
    r"""Adai (adaptive inertia), and AdaiW with ``decoupled=True`` (docs/theory.md §3).

    .. math::
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad \hat v = v/(1-\beta_2^k),\quad
        \bar v = \tfrac1n \textstyle\sum_i \hat v_i,\\
        \beta_{1,i} = \mathrm{clip}(1 - \beta_0 \hat v_i/\bar v,\ 0,\ 1-\epsilon),\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad P \leftarrow P\beta_1,\quad
        \theta \leftarrow \theta - \eta\, m/(1-P).

    :math:`\bar v` is the mean over the ``n`` coordinates of *one path* (one optimizer), never over
    paths.  ``aux`` is ``(m, v, P)`` with :math:`P = 1` at the start.  Weight decay
    :math:`\lambda`: plain Adai adds :math:`\lambda\theta` to :math:`g` (before :math:`v` and
    :math:`m`); AdaiW (``decoupled=True``) sets :math:`\theta \leftarrow \theta(1-\eta\lambda)`
    before the step, the gradient being taken at the old :math:`\theta`.

    **All-zero second moments.**  If :math:`\bar v = 0` (every :math:`\hat v_i = 0`, e.g. zero
    gradients from the start) the published code divides 0 by 0.  Here the ratio
    :math:`\hat v_i/\bar v` is defined as 1 (the value it has whenever all coordinates are equal),
    so :math:`\beta_1 = \mathrm{clip}(1-\beta_0, 0, 1-\epsilon)` and the update stays finite; with
    :math:`m = 0` the parameters do not move.  :math:`1 - P \ge \epsilon` after the first step, so
    the bias correction never divides by zero.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0` (no default, as in the reference implementation).
    beta0 : float
        :math:`\beta_0 \in (0, 1]`.
    beta2 : float
        :math:`\beta_2 \in [0, 1)`.
    eps : float
        :math:`\epsilon \in (0, 1)`: the inertia is clipped to :math:`1-\epsilon`.
    weight_decay : float
        :math:`\lambda \ge 0`.
    decoupled : bool
        AdaiW (decoupled weight decay) when true.

    References
    ----------
    Xie et al., "Adaptive Inertia", arXiv 2006.15815 (Algorithm 1 and the released code);
    docs/theory.md §3, §4 (:class:`AdaiSDE`), §5 Props. 3–4, Theorem 4.
    """

    hyper = ("lr", "beta0", "beta2", "eps", "weight_decay", "decoupled")
    param_slots = P
    coefficient_slots = C
    step_coefficients_rule = staticmethod(_adai_step_coefficients)
    update = staticmethod(_adai_update)
    n_blocks = 3

    def __init__(self, lr: float, beta0: float = 0.1, beta2: float = 0.99, eps: float = 1e-3,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.lr = V.positive("lr", lr)
        self.beta0 = _beta0(beta0)
        self.beta2 = beta("beta2", beta2)
        self.eps = _eps(eps)
        self.weight_decay = V.positive("weight_decay", weight_decay, allow_zero=True)
        self.decoupled = flag("decoupled", decoupled)
        if self.decoupled and self.lr * self.weight_decay >= 1.0:
            raise ValueError(f"lr * weight_decay must be < 1 for AdaiW (got {self.lr * self.weight_decay})")
        self.dt = self.lr
        self.params = self.pack_params(lr=self.lr, beta0=self.beta0, beta2=self.beta2, eps=self.eps,
                                       weight_decay=self.weight_decay, decoupled=float(self.decoupled),
                                       log_beta2=log_beta(self.beta2))

    def initial_state(self, dim: int) -> np.ndarray:
        return self.state_with_momentum(np.zeros(dim))

    @staticmethod
    def state_with_momentum(m0, v0=None) -> np.ndarray:
        """The ``aux`` vector ``(m0, v0, P = 1)`` (``v0 = 0`` if omitted)."""
        m0 = V.finite_array("m0", m0, ndim=1)
        return np.concatenate([m0, V.optional_nonnegative("v0", v0, m0.size), np.ones_like(m0)])

    def velocity_map(self, dim: int) -> np.ndarray:
        r"""Velocity :math:`-m` on ``aux = (m, v, P)``: a step moves :math:`\theta` by
        :math:`-\eta m/(1-P)` in time ``dt = lr``; the product :math:`P` of the inertias decays
        geometrically (by :math:`\beta_{1,i}` per step), and the map takes its limit :math:`1/(1-P) = 1`
        (a rare-event coordinate built from it is an importance function: an approximate velocity
        changes the variance of the estimates, not their mean)."""
        return np.hstack([-np.eye(dim), np.zeros((dim, 2 * dim))])

    def continuous(self, dt: float | None = None) -> "AdaiSDE":
        """Its continuous model, :class:`AdaiSDE` (docs/theory.md §4; no weight decay)."""
        if self.weight_decay != 0.0:
            raise ValueError(f"weight_decay must be 0 for Adai's continuous model (docs/theory.md §4 has no "
                             f"weight decay; add the decay to the landscape instead), got {self.weight_decay}")
        return AdaiSDE(self.lr, self.beta0, self.eps, dt)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n = x.shape[1]
        m, v, prod = aux[:, :n], aux[:, n:2 * n], aux[:, 2 * n:]
        g = numpy_stochastic_gradient(x, z, landscape, noise)
        if self.decoupled:
            x = x * (1.0 - self.lr * self.weight_decay)
        else:
            g = g + self.weight_decay * x
        v = self.beta2 * v + (1.0 - self.beta2) * g * g
        beta1 = numpy_adai_inertia(v / bias_correction(log_beta(self.beta2), k), self.beta0, self.eps)
        m = beta1 * m + (1.0 - beta1) * g
        prod = prod * beta1
        return x - self.lr * m / (1.0 - prod), _xp.namespace(x).concatenate([m, v, prod], axis=1)


# ----------------------------------------------------------------------------------------------
# AdaiSDE
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _adai_coefficients(noise_fn):
    diag_cov = make_diag_covariance(noise_fn)

    @jit(inline=True)
    def coefficients(x, lp, nzp, dp, a, pre, e, col, w):
        diag_cov(x, lp, nzp, e, col, a, w)
        adai_inertia_vector(a, dp[P_SDE.beta0], dp[P_SDE.eps], a)
        for i in range(x.shape[0]):
            a[i] = (1.0 - a[i]) / dp[P_SDE.lr]
            pre[i] = 1.0

    return coefficients


@register(
    examples=[dict(lr=0.1, beta0=0.5, eps=1e-3, dt=0.03), dict(lr=0.05, dt=0.01)],
    bad=[(dict(lr=0.1, eps=0.0), "eps"), (dict(lr=0.0), "lr"), (dict(lr=0.1, beta0=1.5), "beta0")])
class AdaiSDE(UnderdampedSDEBase):
    r"""Continuous model of Adai (docs/theory.md §4): EMA momentum (:math:`\gamma = 1`) with
    per-coordinate, position-dependent mass

    .. math::
        M_i(\theta) = \frac{\eta}{1-\beta_{1,i}(\theta)},\quad
        \beta_{1,i} = \mathrm{clip}\Big(1 - \beta_0\frac{v_i}{\bar v}, 0, 1-\epsilon\Big),\quad
        v = \mathrm{diag}\,C(\theta),

    force :math:`-\nabla L`, noise :math:`\sqrt{2D}`.  For diagonal Hessian noise
    :math:`1-\beta_{1,i} = \beta_0 n|H_{ii}|/\|H\|_{tr}` before clipping.  If :math:`\bar v = 0`
    the ratio is taken as 1 (as in :class:`Adai`).  Integrated by the kick – exact OU – kick
    splitting of :mod:`.underdamped` with the masses of the kick's position: **weak order 2**
    measured (slope 2.00) on a quadratic with constant noise, consistent in the overdamped limit.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta0 : float
        :math:`\beta_0 \in (0, 1]`.
    eps : float
        :math:`\epsilon \in (0, 1)`.
    dt : float, optional
        Integration step; default ``lr / 10``.

    References
    ----------
    docs/theory.md §4, §5 Props. 3–4; Xie et al., "Adaptive Inertia", arXiv 2006.15815.
    """

    hyper = ("lr", "beta0", "eps")
    param_slots = P_SDE
    coefficients_factory = staticmethod(_adai_coefficients)

    def __init__(self, lr: float, beta0: float = 0.1, eps: float = 1e-3, dt: float | None = None):
        self.beta0 = _beta0(beta0)
        self.eps = _eps(eps)
        self._setup(lr, dt, gamma=1.0, rate=0.0, beta0=self.beta0, eps=self.eps)

    def inertia(self, x, landscape, noise):
        r""":math:`\beta_{1,i}(\theta)` at points ``x`` of shape ``(..., dim)``."""
        return numpy_adai_inertia(numpy_diag_covariance(x, landscape, noise), self.beta0, self.eps)

    def coefficients(self, x, landscape, noise):
        beta1 = self.inertia(x, landscape, noise)
        return (1.0 - beta1) / self.lr, beta1 * 0.0 + 1.0

    def discrete(self) -> Adai:
        """Adai with these parameters (β₂ at its default)."""
        return Adai(self.lr, self.beta0, eps=self.eps)
