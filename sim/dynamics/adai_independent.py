r"""Adai with its inertia computed from an independent gradient sample (docs/theory.md §5, Theorem 4).

Released Adai computes the inertia :math:`\beta_{1,t}` from second moments that include the current
gradient :math:`g_t`, so the weight :math:`1-\beta_{1,t}` a gradient receives in the momentum is
correlated with its own noise; under skewed noise this correlation biases the iterates
(``theory/thm4.py``, the bias proposition).  This variant draws a second, independent stochastic
gradient :math:`g'_t` at the same point, feeds only :math:`g'_t` to the second moments, and keeps
:math:`g_t` for the momentum: the inertia is then independent of the noise of the gradient it weights
(it still depends on the position, hence on past noise).  The control of the counterexample of
Theorem 4, not a published optimizer.

References
----------
docs/theory.md §5 (Theorem 4); Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia:
Disentangling the Effects of Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import _xp
from .._jit import jit
from .adai import C, P, AdaiSDE, _adai_step_coefficients, _beta0, _eps, adai_inertia, numpy_adai_inertia
from .base import (DiscreteOptimizerBase, beta, bias_correction, log_beta, make_stochastic_gradient,
                   numpy_stochastic_gradient)
from .. import _validation as V
from .registry import register

__all__ = ["AdaiIndependent"]


@lru_cache(maxsize=None)
def _make_independent_step(gradient_fn, noise_fn):
    sg = make_stochastic_gradient(gradient_fn, noise_fn)

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        n = x.shape[0]  # z = (normals of g, normals of g'); w = (g', the noise's scratch)
        gp = w[:n]
        sg(x, z[:n], lp, nzp, g, xi, w[n:])
        sg(x, z[n:], lp, nzp, gp, xi, w[n:])
        lr, beta0, beta2, eps = dp[P.lr], dp[P.beta0], dp[P.beta2], dp[P.eps]
        bc2 = c[C.bc2]
        v_sum = 0.0
        for i in range(n):
            aux[n + i] = beta2 * aux[n + i] + (1.0 - beta2) * gp[i] * gp[i]
            v_sum += aux[n + i] / bc2
        v_bar = v_sum / n
        for i in range(n):
            ratio = (aux[n + i] / bc2) / v_bar if v_bar > 0.0 else 1.0
            b1 = adai_inertia(ratio, beta0, eps)
            aux[i] = b1 * aux[i] + (1.0 - b1) * g[i]
            aux[2 * n + i] *= b1
            x[i] -= lr * aux[i] / (1.0 - aux[2 * n + i])

    return step


@register(examples=[dict(lr=0.05), dict(lr=0.05, beta0=0.5, beta2=0.9, eps=0.1)],
          bad=[(dict(lr=0.1, beta0=0.0), "beta0"), (dict(lr=0.1, eps=1.0), "eps"), (dict(lr=-1.0), "lr")])
class AdaiIndependent(DiscreteOptimizerBase):
    r"""Adai whose second moments (hence inertia) use an independent gradient sample (module docstring):

    .. math::
        v \leftarrow \beta_2 v + (1-\beta_2) g'^2,\quad
        \beta_{1,i} = \mathrm{clip}(1 - \beta_0 \hat v_i/\bar v, 0, 1-\epsilon),\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad P \leftarrow P\beta_1,\quad
        \theta \leftarrow \theta - \eta\, m/(1-P),

    with :math:`g, g'` two independent stochastic gradients at :math:`\theta` (``2·dim`` normals per
    step: the first ``dim`` for :math:`g`, as Adai draws it).  ``aux = (m, v, P)``, :math:`P = 1` at
    the start; the all-zero-moments convention is Adai's.  No weight decay.

    Parameters
    ----------
    lr, beta0, beta2, eps : float
        As :class:`~sim.dynamics.adai.Adai`.
    """

    hyper = ("lr", "beta0", "beta2", "eps")
    param_slots = P
    coefficient_slots = C  # Adai's one per-step number, 1 - β₂ᵏ
    step_coefficients_rule = staticmethod(_adai_step_coefficients)
    n_blocks = 3

    def __init__(self, lr: float, beta0: float = 0.1, beta2: float = 0.99, eps: float = 1e-3):
        self.lr = V.positive("lr", lr)
        self.beta0 = _beta0(beta0)
        self.beta2 = beta("beta2", beta2)
        self.eps = _eps(eps)
        self.dt = self.lr
        self.params = self.pack_params(lr=self.lr, beta0=self.beta0, beta2=self.beta2, eps=self.eps,
                                       weight_decay=0.0, decoupled=0.0, log_beta2=log_beta(self.beta2))

    def initial_state(self, dim: int) -> np.ndarray:
        return np.concatenate([np.zeros(2 * dim), np.ones(dim)])

    def normals_per_step(self, dim: int) -> int:
        return 2 * dim

    def work_size(self, dim: int) -> int:
        return dim

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_independent_step(gradient_fn, noise_fn)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n = x.shape[1]
        m, v, prod = aux[:, :n], aux[:, n:2 * n], aux[:, 2 * n:]
        g = numpy_stochastic_gradient(x, z[:, :n], landscape, noise)
        gp = numpy_stochastic_gradient(x, z[:, n:], landscape, noise)
        v = self.beta2 * v + (1.0 - self.beta2) * gp * gp
        beta1 = numpy_adai_inertia(v / bias_correction(log_beta(self.beta2), k), self.beta0, self.eps)
        m = beta1 * m + (1.0 - beta1) * g
        prod = prod * beta1
        return x - self.lr * m / (1.0 - prod), _xp.namespace(x).concatenate([m, v, prod], axis=1)

    def continuous(self, dt: float | None = None) -> AdaiSDE:
        """:class:`AdaiSDE`: its quasi-static inertia already uses :math:`v = \\mathrm{diag}\\,C(\\theta)`,
        which no single gradient's noise enters (docs/theory.md §4)."""
        return AdaiSDE(self.lr, self.beta0, self.eps, dt)
