r"""SGD and its continuous model (docs/theory.md §3–§4): the discrete update
:math:`\theta \leftarrow \theta - \eta g` and the Itô SDE :math:`d\theta = -\nabla L\,dt + \sqrt{2D}\,dW`,
:math:`D = (\eta/2) C(\theta)`, integrated by Euler–Maruyama.

References
----------
docs/theory.md §3, §4; Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for Deep Learning Dynamics",
ICLR 2021, arXiv 2002.03495.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import _validation as V
from .._jit import jit
from .base import DiscreteOptimizerBase, DynamicsBase, numpy_stochastic_gradient, quadratic_parts, slots
from .registry import register

__all__ = ["SGD", "SGDLangevin"]

P_SGD = slots("lr")
P_LANGEVIN = slots("lr", "dt", "amp")  # amp = sqrt(lr * dt)


@jit(inline=True)
def _sgd_update(x, aux, g, c, dp):
    lr = dp[P_SGD.lr]
    for i in range(x.shape[0]):
        x[i] -= lr * g[i]


@register(examples=[dict(lr=0.05)], bad=[(dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr")])
class SGD(DiscreteOptimizerBase):
    r"""Plain SGD, the real discrete update :math:`\theta \leftarrow \theta - \eta g`,
    :math:`g = \nabla L(\theta) + C(\theta)^{1/2} z` (docs/theory.md §3).  One step is time ``lr``;
    no state.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    """

    param_slots = P_SGD
    update = staticmethod(_sgd_update)

    def __init__(self, lr: float):
        self.lr = V.positive("lr", lr)
        self.dt = self.lr
        self.params = self.pack_params(lr=self.lr)

    def continuous(self, dt: float | None = None) -> "SGDLangevin":
        """The continuous model of this optimizer (docs/theory.md §4)."""
        return SGDLangevin(self.lr, dt)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        return x - self.lr * numpy_stochastic_gradient(x, z, landscape, noise), aux

    def affine_model(self, landscape, noise):
        h, c, cov = quadratic_parts(landscape, noise)
        n = landscape.dim
        return np.eye(n) - self.lr * h, self.lr * h @ c, self.lr**2 * cov

    def torch_reference(self):
        return "SGD", dict(lr=self.lr)


@lru_cache(maxsize=None)
def _make_sgd_langevin_step(gradient_fn, noise_fn):
    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        dt, amp = dp[P_LANGEVIN.dt], dp[P_LANGEVIN.amp]
        gradient_fn(x, lp, g)
        noise_fn(x, z, lp, nzp, xi, w)
        for i in range(x.shape[0]):
            x[i] -= g[i] * dt + amp * xi[i]

    return step


@register(examples=[dict(lr=0.1, dt=0.02)], bad=[(dict(lr=0.1, dt=-1.0), "dt"), (dict(lr=0.0), "lr")])
class SGDLangevin(DynamicsBase):
    r"""The SDE of SGD, :math:`d\theta = -\nabla L\,dt + \sqrt{2D}\,dW`, :math:`D = (\eta/2) C(\theta)`,
    integrated by Euler–Maruyama with step ``dt``:
    :math:`\theta \leftarrow \theta - \nabla L\,\Delta t - \sqrt{\eta\,\Delta t}\;C^{1/2} z`.

    Euler–Maruyama has weak order 1: moments carry an :math:`O(\Delta t)` bias, which the exact
    affine model of the scheme (:meth:`affine_model`) quantifies on quadratics.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0` (sets the temperature).
    dt : float, optional
        Integration step in continuous time; default ``lr / 10``.
    """

    kind = "sde"
    weak_order = 1  # Euler–Maruyama
    param_slots = P_LANGEVIN

    def __init__(self, lr: float, dt: float | None = None):
        self.lr = V.positive("lr", lr)
        self.dt = self.lr / 10.0 if dt is None else V.positive("dt", dt)
        self.params = self.pack_params(lr=self.lr, dt=self.dt, amp=np.sqrt(self.lr * self.dt))

    def discrete(self) -> SGD:
        """The optimizer whose continuous model this is."""
        return SGD(self.lr)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_sgd_langevin_step(gradient_fn, noise_fn)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        xi = noise.apply(x, z, landscape)
        return x - landscape.gradient(x) * self.dt - np.sqrt(self.lr * self.dt) * xi, aux

    def affine_model(self, landscape, noise):
        """Exact affine model of the Euler–Maruyama scheme (not of the SDE itself)."""
        h, c, cov = quadratic_parts(landscape, noise)
        n = landscape.dim
        return np.eye(n) - self.dt * h, self.dt * h @ c, self.lr * self.dt * cov

    def drift_diffusion(self, landscape, noise):
        r"""The SDE's coefficients as callables for the Fokker–Planck solvers:
        ``drift(x) = -∇L(x)`` and ``diffusion(x) = (η/2) C(x)`` for points ``(n, dim)``."""
        lr = self.lr

        def drift(x):
            return -landscape.gradient(x)

        def diffusion(x):
            return 0.5 * lr * noise.covariance(x, landscape)

        return drift, diffusion

    def linear_sde(self, landscape, noise):
        r"""The SDE as :math:`dX = (AX + b)\,dt + dM`, :math:`d\langle M\rangle = Q\,dt`: ``(A, b, Q)``."""
        h, c, cov = quadratic_parts(landscape, noise)
        return -h, h @ c, self.lr * cov
