r"""Heavy-ball Momentum and its continuous model (docs/theory.md §3–§4).

The discrete update :math:`m \leftarrow \beta_1 m + \beta_3 g`, :math:`\theta \leftarrow \theta - \eta m`
(``aux`` is :math:`m`), and the SDE :math:`d\theta = r\,dt`,
:math:`M\,dr = -\gamma r\,dt - \nabla L\,dt + \sqrt{2D}\,dW` with :math:`M = \eta/\beta_3`,
:math:`\gamma = (1-\beta_1)/\beta_3` (state :math:`r = -m`), integrated by the splitting of
:mod:`.underdamped`.  On a quadratic with constant noise the discrete update is affine in the
stacked state :math:`(\theta, m)`: :meth:`Momentum.affine_model` gives its exact moments through
:func:`sim.exact_scheme_moments`.

References
----------
docs/theory.md §3, §4, §5 Theorems 2–3; Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive
Inertia: Disentangling the Effects of Adaptive Learning Rate and Momentum", ICML 2022,
arXiv 2006.15815.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import DiscreteOptimizerBase, beta, numpy_stochastic_gradient, quadratic_parts, slots
from .registry import register
from .underdamped import UnderdampedSDEBase, underdamped_slots

__all__ = ["Momentum", "MomentumSDE"]

P = slots("lr", "beta1", "beta3")
P_SDE = underdamped_slots()


@jit(inline=True)
def _momentum_update(x, aux, g, c, dp):
    lr, beta1, beta3 = dp[P.lr], dp[P.beta1], dp[P.beta3]
    for i in range(x.shape[0]):
        aux[i] = beta1 * aux[i] + beta3 * g[i]
        x[i] -= lr * aux[i]


def _beta3(value) -> float:
    return V.in_range("beta3", value, 0.0, 1.0, lo_open=True, hi_open=False)


@register(
    examples=[dict(lr=0.05, beta1=0.9), dict(lr=0.05, beta1=0.8, ema=True),
              dict(lr=0.05, beta1=0.7, beta3=0.6)],
    bad=[(dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr"), (dict(lr=0.1, beta1=1.0), "beta1"),
         (dict(lr=0.1, beta1=-0.1), "beta1"), (dict(lr=0.1, beta3=0.0), "beta3"),
         (dict(lr=0.1, beta1=0.5, beta3=0.5, ema=True), "ema")])
class Momentum(DiscreteOptimizerBase):
    r"""Heavy-ball Momentum, :math:`m \leftarrow \beta_1 m + \beta_3 g`,
    :math:`\theta \leftarrow \theta - \eta m` (docs/theory.md §3).

    :math:`\beta_3 = 1` is PyTorch's ``SGD(momentum=β₁, dampening=0)``; :math:`\beta_3 = 1-\beta_1`
    is the EMA form of [Adai]'s analysis (:meth:`ema`).  ``aux`` is :math:`m`, initially 0
    (:meth:`state_with_momentum` for another start).

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    beta1 : float
        Momentum :math:`\beta_1 \in [0, 1)`.
    beta3 : float
        Gradient weight :math:`\beta_3 \in (0, 1]`.
    ema : bool
        If true, use the EMA form :math:`\beta_3 = 1 - \beta_1` (then ``beta3`` must be left at
        its default).

    References
    ----------
    docs/theory.md §3, §4 (its SDE, :class:`MomentumSDE`), §5 Theorems 2–3.
    """

    hyper = ("lr", "beta1", "beta3")
    param_slots = P
    n_blocks = 1
    update = staticmethod(_momentum_update)

    def __init__(self, lr: float, beta1: float = 0.9, beta3: float = 1.0, *, ema: bool = False):
        self.lr = V.positive("lr", lr)
        self.beta1 = beta("beta1", beta1)
        if ema:
            if beta3 != 1.0:
                raise ValueError("give either ema=True or beta3, not both")
            beta3 = 1.0 - self.beta1
        self.beta3 = _beta3(beta3)
        self.dt = self.lr
        self.params = self.pack_params(lr=self.lr, beta1=self.beta1, beta3=self.beta3)

    @classmethod
    def ema(cls, lr: float, beta1: float = 0.9) -> "Momentum":
        r"""The EMA form :math:`m \leftarrow \beta_1 m + (1-\beta_1) g` (:math:`\beta_3 = 1-\beta_1`)."""
        return cls(lr, beta1, ema=True)

    @staticmethod
    def state_with_momentum(m0) -> np.ndarray:
        """The ``aux`` vector with first moment ``m0`` (shape ``(dim,)``)."""
        m0 = V.finite_array("m0", m0, ndim=1)
        return m0.copy()

    def velocity_map(self, dim: int) -> np.ndarray:
        r"""Velocity :math:`-m`: a step moves :math:`\theta` by :math:`-\eta m` in time ``dt = lr``
        (the :math:`r = -m` of :class:`MomentumSDE`)."""
        return -np.eye(dim)

    def continuous(self, dt: float | None = None) -> "MomentumSDE":
        """Its continuous model, :class:`MomentumSDE` (docs/theory.md §4)."""
        return MomentumSDE(self.lr, self.beta1, self.beta3, dt)

    def torch_reference(self):
        # torch's first step sets the buffer to g, which is β₁·0 + β₃ g only for β₃ = 1
        if self.beta3 != 1.0:
            return None
        return "SGD", dict(lr=self.lr, momentum=self.beta1, dampening=0.0)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        g = numpy_stochastic_gradient(x, z, landscape, noise)
        m = self.beta1 * aux + self.beta3 * g
        return x - self.lr * m, m

    def affine_model(self, landscape, noise):
        r"""Exact affine model of the update on the stacked state :math:`(\theta, m)`.

        With :math:`g = H(\theta - c) + \xi`, :math:`\operatorname{Cov}\xi = C`:

        .. math::
            m' = \beta_3 H\theta + \beta_1 m - \beta_3 H c + \beta_3\xi, \qquad
            \theta' = \theta - \eta m'.

        Returns ``(F, b, Q)`` of size ``2 dim``, acting on ``(θ, m)``; use it with
        :func:`sim.exact_scheme_moments` (θ block) or :func:`sim.exact_scheme_state_moments`.
        """
        h, c, cov = quadratic_parts(landscape, noise)
        n = landscape.dim
        eye = np.eye(n)
        eta, b1, b3 = self.lr, self.beta1, self.beta3
        # m' = Fm_theta θ + b1 m + bm + b3 ξ ;  θ' = θ - η m'
        fm = np.hstack([b3 * h, b1 * eye])
        ft = np.hstack([eye, np.zeros((n, n))]) - eta * fm
        bm = -b3 * h @ c
        noise_map = np.vstack([-eta * b3 * eye, b3 * eye])  # how ξ enters (θ', m')
        return (np.vstack([ft, fm]), np.concatenate([-eta * bm, bm]),
                noise_map @ cov @ noise_map.T)


@lru_cache(maxsize=None)
def _momentum_coefficients(noise_fn):
    @jit(inline=True)
    def coefficients(x, lp, nzp, dp, a, pre, e, col, w):
        for i in range(x.shape[0]):
            a[i] = dp[P_SDE.rate]
            pre[i] = 1.0

    return coefficients


@register(
    examples=[dict(lr=0.1, beta1=0.8, beta3=1.0, dt=0.03), dict(lr=0.05, beta1=0.9, beta3=0.1, dt=0.01),
              dict(lr=1e-8, beta1=0.9, beta3=0.1, dt=0.03)],
    bad=[(dict(lr=0.1, beta1=0.5, beta3=0.0), "beta3"), (dict(lr=0.1, dt=-1.0), "dt"),
         (dict(lr=0.1, beta1=1.0), "beta1")])
class MomentumSDE(UnderdampedSDEBase):
    r"""Continuous model of heavy-ball Momentum (docs/theory.md §4):

    .. math::
        d\theta = r\,dt,\qquad M\,dr = -\gamma r\,dt - \nabla L\,dt + \sqrt{2D}\,dW,\qquad
        M = \eta/\beta_3,\ \gamma = (1-\beta_1)/\beta_3,\ D = \tfrac\eta2 C(\theta).

    Integrated by the kick – exact OU – kick splitting of :mod:`.underdamped`: **weak order 2**
    (measured slope 2.00 of the error in :math:`E\theta^2` at fixed :math:`t` on a quadratic
    saddle with Hessian noise, against the exact :math:`(\theta, r)` moments), and in the
    overdamped limit (:math:`\Delta t \gg M/\gamma`) it becomes Euler–Maruyama for SGD with
    learning rate :math:`\eta\beta_3/(1-\beta_1)`, stable and consistent.  The state
    ``aux`` is the velocity :math:`r` (:meth:`state_with_velocity`; :math:`r = -m`).

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta1 : float
        :math:`\beta_1 \in [0, 1)`.
    beta3 : float
        :math:`\beta_3 \in (0, 1]`.
    dt : float, optional
        Integration step; default ``lr / 10``.

    References
    ----------
    docs/theory.md §4, §5 Theorems 2–3; Xie et al., arXiv 2006.15815.
    """

    hyper = ("lr", "beta1", "beta3")
    param_slots = P_SDE
    coefficients_factory = staticmethod(_momentum_coefficients)

    def __init__(self, lr: float, beta1: float = 0.9, beta3: float = 1.0, dt: float | None = None):
        self.beta1 = V.in_range("beta1", beta1, 0.0, 1.0)
        self.beta3 = _beta3(beta3)
        lr = V.positive("lr", lr)
        self._setup(lr, dt, gamma=(1.0 - self.beta1) / self.beta3, rate=(1.0 - self.beta1) / lr)

    def coefficients(self, x, landscape, noise):
        x = x if _xp.is_torch(x) else np.asarray(x, dtype=float)
        ones = x * 0.0 + 1.0
        return ones * float(self.params[P_SDE.rate]), ones

    def discrete(self) -> Momentum:
        """The optimizer whose continuous model this is."""
        return Momentum(self.lr, self.beta1, self.beta3)
