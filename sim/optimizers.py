r"""The discrete optimizers of THEORY.md §3 as dynamics: Momentum, Adam, Adai (AdaiW), AdaMod.

Each class is the *real* update rule, step for step as the reference implementation, driven by the
stochastic gradient :math:`g = \nabla L(\theta) + C(\theta)^{1/2} z` exactly as :class:`sim.SGD`
draws it.  One iteration advances continuous time by :math:`\eta` (THEORY.md §0), so ``dt = lr``.
Steps are 1-based (:math:`k = 1, 2, \dots`), which is what the bias corrections use.

The optimizer state of a path lives in its ``aux`` vector (shape ``(state_size(dim),)``; in the
NumPy reference ``(n_paths, state_size(dim))``), laid out in blocks of ``dim``:

============  ==========================  ==============================
class         ``aux`` blocks              initial value
============  ==========================  ==============================
Momentum      ``m``                       ``m = 0``
Adam          ``m, v``                    ``0, 0``
Adai          ``m, v, P``                 ``0, 0, 1`` (``P`` = running product of β₁)
AdaMod        ``m, v, s``                 ``0, 0, 0``
============  ==========================  ==============================

``state_with_momentum(m0)`` builds a start state with a given first moment (pass it to
:class:`sim.Problem` as ``initial_state``).

Each class offers the compiled ``make_step`` (one cached compiled function per
(class, gradient function, noise function)), an independent NumPy ``numpy_step`` (vectorised over
paths), ``describe()`` and ``continuous(dt)`` (its SDE model, :mod:`sim.sde`).  Momentum on a
quadratic with constant noise is affine in the stacked state :math:`(\theta, m)`:
:meth:`Momentum.affine_model` gives its exact moments through :func:`sim.exact_scheme_moments`.

References
----------
THEORY.md §3 (updates), §4 (continuous models).
D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", arXiv 1412.6980.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia: Disentangling the Effects of
Adaptive Learning Rate and Momentum", ICML 2022, arXiv 2006.15815.
J. Ding, X. Ren, R. Luo, X. Sun, "An Adaptive and Momental Bound Method for Stochastic Learning",
arXiv 1910.12249.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _validation as V
from . import _xp
from ._adaptive import adai_inertia, numpy_adai_inertia
from ._jit import jit
from .dynamics import DynamicsBase, _quadratic_parts
from .sde import AdaiSDE, AdamSDE, MomentumSDE

__all__ = ["Momentum", "Adam", "Adai", "AdaMod"]


# ----------------------------------------------------------------------------------------------
# shared pieces: validation, the stochastic gradient, Adam-style moments
# ----------------------------------------------------------------------------------------------
def _beta(name: str, value) -> float:
    """A decay rate in ``[0, 1)``."""
    return V.in_range(name, value, 0.0, 1.0)


@lru_cache(maxsize=None)
def _make_stochastic_gradient(gradient_fn, noise_fn):
    """Compiled ``sg(x, z, lp, nzp, g, xi, w)``: ``g = ∇L(x) + C(x)^{1/2} z`` (as SGD draws it;
    ``w`` is the noise function's scratch)."""

    @jit(inline=True)
    def stochastic_gradient(x, z, lp, nzp, g, xi, w):
        gradient_fn(x, lp, g)
        noise_fn(x, z, lp, nzp, xi, w)
        for i in range(x.shape[0]):
            g[i] += xi[i]

    return stochastic_gradient


def _numpy_stochastic_gradient(x, z, landscape, noise):
    """``g = ∇L(x) + C(x)^{1/2} z`` for ``x, z`` of shape ``(n_paths, dim)`` (NumPy or torch)."""
    return landscape.gradient(x) + noise.apply(x, z, landscape)


@jit(inline=True)
def _adam_moments(m, v, g, beta1, beta2):
    r"""In place: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`."""
    for i in range(g.shape[0]):
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i]
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]


def _numpy_adam_moments(m, v, g, beta1, beta2):
    """NumPy version of :func:`_adam_moments` (returns new arrays)."""
    return beta1 * m + (1.0 - beta1) * g, beta2 * v + (1.0 - beta2) * g * g


def _log_beta(beta: float) -> float:
    r""":math:`\log\beta` (``-inf`` for :math:`\beta = 0`), stored in the parameter arrays."""
    return float(np.log(beta)) if beta > 0.0 else -np.inf


def _bias_correction(log_beta: float, k) -> float:
    r""":math:`1 - \beta^k = -\mathrm{expm1}(k\log\beta)`.

    The same number as the reference implementations' ``1 - beta ** k`` (to round-off; more
    accurate for :math:`\beta` near 1), at the cost of one ``expm1`` instead of a ``pow``, which
    matters in the kernels.  ``k`` is the 1-based step; :math:`\beta = 0` gives 1.
    """
    return float(-np.expm1(k * log_beta))


_bias_correction_jit = jit(_bias_correction, inline=True)


class _DiscreteOptimizerBase(DynamicsBase):
    """Shared plumbing of the discrete optimizers: ``dt = lr`` and the state layout."""

    kind = "discrete"
    #: number of ``dim``-blocks in ``aux``
    _n_blocks: int = 1

    def state_size(self, dim: int) -> int:
        return self._n_blocks * dim

    def affine_model(self, landscape, noise):
        raise NotImplementedError(f"{type(self).__name__} is not an affine update (its step depends "
                                  "nonlinearly on the gradient); only Momentum and SGD have an "
                                  "exact affine model")

    def _hyper(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> dict:
        return {**super().describe(), **self._hyper()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args})"


# ----------------------------------------------------------------------------------------------
# Momentum
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_momentum_step(gradient_fn, noise_fn):
    sg = _make_stochastic_gradient(gradient_fn, noise_fn)

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        lr, beta1, beta3 = dp[0], dp[1], dp[2]
        sg(x, z, lp, nzp, g, xi, w)
        for i in range(x.shape[0]):
            aux[i] = beta1 * aux[i] + beta3 * g[i]
            x[i] -= lr * aux[i]

    return step


class Momentum(_DiscreteOptimizerBase):
    r"""Heavy-ball Momentum, :math:`m \leftarrow \beta_1 m + \beta_3 g`,
    :math:`\theta \leftarrow \theta - \eta m` (THEORY.md §3).

    :math:`\beta_3 = 1` is PyTorch's ``SGD(momentum=β₁, dampening=0)``; :math:`\beta_3 = 1-\beta_1`
    is the EMA form of [Adai]'s analysis (:meth:`ema`).  ``aux`` is :math:`m`.

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
    THEORY.md §3, §4 (its SDE, :class:`sim.sde.MomentumSDE`), §5 Theorems 2–3.
    """

    def __init__(self, lr: float, beta1: float = 0.9, beta3: float = 1.0, *, ema: bool = False):
        self.lr = V.positive("lr", lr)
        self.beta1 = _beta("beta1", beta1)
        if ema:
            if beta3 != 1.0:
                raise ValueError("give either ema=True or beta3, not both")
            beta3 = 1.0 - self.beta1
        self.beta3 = V.in_range("beta3", beta3, 0.0, 1.0, lo_open=True, hi_open=False)
        self.dt = self.lr
        self.params = np.array([self.lr, self.beta1, self.beta3])

    @classmethod
    def ema(cls, lr: float, beta1: float = 0.9) -> "Momentum":
        r"""The EMA form :math:`m \leftarrow \beta_1 m + (1-\beta_1) g` (:math:`\beta_3 = 1-\beta_1`)."""
        return cls(lr, beta1, ema=True)

    @staticmethod
    def state_with_momentum(m0) -> np.ndarray:
        """The ``aux`` vector with first moment ``m0`` (shape ``(dim,)``)."""
        m0 = V.finite_array("m0", m0, ndim=1)
        return m0.copy()

    def _hyper(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta3": self.beta3}

    def continuous(self, dt: float | None = None) -> MomentumSDE:
        """Its continuous model, :class:`sim.sde.MomentumSDE` (THEORY.md §4)."""
        return MomentumSDE(self.lr, self.beta1, self.beta3, dt)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_momentum_step(gradient_fn, noise_fn)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        g = _numpy_stochastic_gradient(x, z, landscape, noise)
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
        h, c, cov = _quadratic_parts(landscape, noise)
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


# ----------------------------------------------------------------------------------------------
# Adam
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_adam_step(gradient_fn, noise_fn):
    sg = _make_stochastic_gradient(gradient_fn, noise_fn)

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        beta1, beta2, eps = dp[1], dp[2], dp[3]
        n = x.shape[0]  # aux = (m, v), indexed directly: no slice views in the hot loop
        sg(x, z, lp, nzp, g, xi, w)
        # torch.optim.Adam's order of operations: step = lr/bc1, denom = sqrt(v)/sqrt(bc2) + eps
        step_size, sqrt_bc2 = c[0], c[1]  # from _adam_step_coefficients
        for i in range(n):  # the moments as in _adam_moments
            m = beta1 * aux[i] + (1.0 - beta1) * g[i]
            v = beta2 * aux[n + i] + (1.0 - beta2) * g[i] * g[i]
            aux[i] = m
            aux[n + i] = v
            x[i] -= step_size * m / (np.sqrt(v) / sqrt_bc2 + eps)

    return step


@jit(inline=True)
def _adam_step_coefficients(k, dp, c):
    """Adam's per-step numbers: ``c = (lr / (1 - β₁ᵏ), √(1 - β₂ᵏ))``."""
    c[0] = dp[0] / _bias_correction_jit(dp[4], k)
    c[1] = np.sqrt(_bias_correction_jit(dp[5], k))


class Adam(_DiscreteOptimizerBase):
    r"""Adam with bias corrections, as ``torch.optim.Adam`` (THEORY.md §3):

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{m/(1-\beta_1^k)}{\sqrt{v/(1-\beta_2^k)} + \epsilon}.

    ``aux`` is ``(m, v)``.  With :math:`v = 0` (zero gradients) the step is :math:`0/\epsilon = 0`.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta1, beta2 : float
        Decay rates in ``[0, 1)``.
    eps : float
        :math:`\epsilon > 0`, added to :math:`\sqrt{\hat v}`.

    References
    ----------
    Kingma & Ba, arXiv 1412.6980; THEORY.md §3, §4 (:class:`sim.sde.AdamSDE`), §5 Props. 1–2.
    """

    _n_blocks = 2
    n_step_coefficients = 2

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = V.positive("lr", lr)
        self.beta1 = _beta("beta1", beta1)
        self.beta2 = _beta("beta2", beta2)
        self.eps = V.positive("eps", eps)
        self.dt = self.lr
        self.params = np.array([self.lr, self.beta1, self.beta2, self.eps,
                                _log_beta(self.beta1), _log_beta(self.beta2)])

    @staticmethod
    def state_with_momentum(m0, v0=None) -> np.ndarray:
        """The ``aux`` vector ``(m0, v0)`` (``v0 = 0`` if omitted; it must be ≥ 0)."""
        m0 = V.finite_array("m0", m0, ndim=1)
        return np.concatenate([m0, V.optional_nonnegative("v0", v0, m0.size)])

    def _hyper(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def continuous(self, dt: float | None = None) -> AdamSDE:
        """Its continuous model, :class:`sim.sde.AdamSDE` (THEORY.md §4)."""
        return AdamSDE(self.lr, self.beta1, self.eps, dt)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_adam_step(gradient_fn, noise_fn)

    @classmethod
    def make_step_coefficients(cls):
        return _adam_step_coefficients

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n = x.shape[1]
        g = _numpy_stochastic_gradient(x, z, landscape, noise)
        m, v = _numpy_adam_moments(aux[:, :n], aux[:, n:], g, self.beta1, self.beta2)
        xp = _xp.namespace(x)
        step_size = self.lr / _bias_correction(_log_beta(self.beta1), k)
        denom = xp.sqrt(v) / np.sqrt(_bias_correction(_log_beta(self.beta2), k)) + self.eps
        return x - step_size * m / denom, xp.concatenate([m, v], axis=1)


# ----------------------------------------------------------------------------------------------
# Adai / AdaiW
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_adai_step(gradient_fn, noise_fn):
    sg = _make_stochastic_gradient(gradient_fn, noise_fn)

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        lr, beta0, beta2, eps, wd, decoupled = dp[0], dp[1], dp[2], dp[3], dp[4], dp[5]
        n = x.shape[0]  # aux = (m, v, P), indexed directly: no slice views in the hot loop
        sg(x, z, lp, nzp, g, xi, w)
        if decoupled != 0.0:  # AdaiW: shrink θ before the step (g was taken at the old θ)
            for i in range(n):
                x[i] *= 1.0 - lr * wd
        else:
            for i in range(n):
                g[i] += wd * x[i]
        bc2 = c[0]  # from _adai_step_coefficients
        v_sum = 0.0
        for i in range(n):
            aux[n + i] = beta2 * aux[n + i] + (1.0 - beta2) * g[i] * g[i]
            v_sum += aux[n + i] / bc2
        v_bar = v_sum / n
        for i in range(n):
            ratio = (aux[n + i] / bc2) / v_bar if v_bar > 0.0 else 1.0
            b1 = adai_inertia(ratio, beta0, eps)
            aux[i] = b1 * aux[i] + (1.0 - b1) * g[i]
            aux[2 * n + i] *= b1
            x[i] -= lr * aux[i] / (1.0 - aux[2 * n + i])

    return step


@jit(inline=True)
def _adai_step_coefficients(k, dp, c):
    """Adai's per-step number: ``c[0] = 1 - β₂ᵏ``."""
    c[0] = _bias_correction_jit(dp[6], k)


class Adai(_DiscreteOptimizerBase):
    r"""Adai (adaptive inertia), and AdaiW with ``decoupled=True`` (THEORY.md §3).

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
    THEORY.md §3, §4 (:class:`sim.sde.AdaiSDE`), §5 Props. 3–4, Theorem 4.
    """

    _n_blocks = 3
    n_step_coefficients = 1

    def __init__(self, lr: float, beta0: float = 0.1, beta2: float = 0.99, eps: float = 1e-3,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.lr = V.positive("lr", lr)
        self.beta0 = V.in_range("beta0", beta0, 0.0, 1.0, lo_open=True, hi_open=False)
        self.beta2 = _beta("beta2", beta2)
        self.eps = V.in_range("eps", eps, 0.0, 1.0, lo_open=True)
        self.weight_decay = V.positive("weight_decay", weight_decay, allow_zero=True)
        if not isinstance(decoupled, (bool, np.bool_)):
            raise TypeError(f"decoupled must be a bool, got {decoupled!r}")
        self.decoupled = bool(decoupled)
        if self.decoupled and self.lr * self.weight_decay >= 1.0:
            raise ValueError(f"lr * weight_decay must be < 1 for AdaiW (got {self.lr * self.weight_decay})")
        self.dt = self.lr
        self.params = np.array([self.lr, self.beta0, self.beta2, self.eps, self.weight_decay,
                                float(self.decoupled), _log_beta(self.beta2)])

    def initial_state(self, dim: int) -> np.ndarray:
        return self.state_with_momentum(np.zeros(dim))

    @staticmethod
    def state_with_momentum(m0, v0=None) -> np.ndarray:
        """The ``aux`` vector ``(m0, v0, P = 1)`` (``v0 = 0`` if omitted)."""
        m0 = V.finite_array("m0", m0, ndim=1)
        v0 = np.zeros_like(m0) if v0 is None else V.vector("v0", v0, m0.size)
        if np.any(v0 < 0):
            raise ValueError("v0 must be >= 0 (a second moment)")
        return np.concatenate([m0, v0, np.ones_like(m0)])

    def _hyper(self):
        return {"lr": self.lr, "beta0": self.beta0, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay, "decoupled": self.decoupled}

    def continuous(self, dt: float | None = None) -> AdaiSDE:
        """Its continuous model, :class:`sim.sde.AdaiSDE` (THEORY.md §4; no weight decay)."""
        if self.weight_decay != 0.0:
            raise ValueError("the continuous model of Adai (THEORY.md §4) has no weight decay; "
                             "add the decay to the landscape instead")
        return AdaiSDE(self.lr, self.beta0, self.eps, dt)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_adai_step(gradient_fn, noise_fn)

    @classmethod
    def make_step_coefficients(cls):
        return _adai_step_coefficients

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n = x.shape[1]
        m, v, prod = aux[:, :n], aux[:, n:2 * n], aux[:, 2 * n:]
        g = _numpy_stochastic_gradient(x, z, landscape, noise)
        if self.decoupled:
            x = x * (1.0 - self.lr * self.weight_decay)
        else:
            g = g + self.weight_decay * x
        v = self.beta2 * v + (1.0 - self.beta2) * g * g
        beta1 = numpy_adai_inertia(v / _bias_correction(_log_beta(self.beta2), k), self.beta0,
                                   self.eps)
        m = beta1 * m + (1.0 - beta1) * g
        prod = prod * beta1
        return x - self.lr * m / (1.0 - prod), _xp.namespace(x).concatenate([m, v, prod], axis=1)


# ----------------------------------------------------------------------------------------------
# AdaMod
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_adamod_step(gradient_fn, noise_fn):
    sg = _make_stochastic_gradient(gradient_fn, noise_fn)

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        beta1, beta2, beta3, eps = dp[1], dp[2], dp[3], dp[4]
        n = x.shape[0]
        m, v, s = aux[:n], aux[n:2 * n], aux[2 * n:3 * n]
        sg(x, z, lp, nzp, g, xi, w)
        _adam_moments(m, v, g, beta1, beta2)
        base = c[0]  # from _adamod_step_coefficients
        for i in range(n):
            eta_k = base / (np.sqrt(v[i]) + eps)
            s[i] = beta3 * s[i] + (1.0 - beta3) * eta_k
            x[i] -= min(eta_k, s[i]) * m[i]

    return step


@jit(inline=True)
def _adamod_step_coefficients(k, dp, c):
    """AdaMod's per-step number: ``c[0] = lr √(1 - β₂ᵏ) / (1 - β₁ᵏ)``."""
    c[0] = dp[0] * np.sqrt(_bias_correction_jit(dp[6], k)) / _bias_correction_jit(dp[5], k)


class AdaMod(_DiscreteOptimizerBase):
    r"""AdaMod, exactly as the published implementation (THEORY.md §3):

    .. math::
        \eta_k = \frac{\eta\sqrt{1-\beta_2^k}}{(1-\beta_1^k)(\sqrt{v}+\epsilon)},\quad
        s \leftarrow \beta_3 s + (1-\beta_3)\eta_k,\quad
        \theta \leftarrow \theta - \min(\eta_k, s)\, m,

    per coordinate, with Adam's :math:`m, v` (same helper as :class:`Adam`), :math:`s` starting at
    **0** and no bias correction of :math:`s`.  Note :math:`\epsilon` is added to :math:`\sqrt v`
    (Adam adds it to :math:`\sqrt{\hat v}`).  ``aux`` is ``(m, v, s)``.  With :math:`v = 0` the
    rate :math:`\eta_k` is large but finite and :math:`m = 0`, so the step is 0.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0` (default 1e-3).
    beta1, beta2, beta3 : float
        Decay rates in ``[0, 1)``; :math:`\beta_3 = 0` reproduces Adam up to the placement of
        :math:`\epsilon` (THEORY.md §5, A1(i)).
    eps : float
        :math:`\epsilon > 0`.

    References
    ----------
    Ding et al., "An Adaptive and Momental Bound Method for Stochastic Learning", arXiv 1910.12249;
    THEORY.md §3, §4 (its continuous model is Adam's), §5 A1.
    """

    _n_blocks = 3
    n_step_coefficients = 1

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 beta3: float = 0.999, eps: float = 1e-8):
        self.lr = V.positive("lr", lr)
        self.beta1 = _beta("beta1", beta1)
        self.beta2 = _beta("beta2", beta2)
        self.beta3 = _beta("beta3", beta3)
        self.eps = V.positive("eps", eps)
        self.dt = self.lr
        self.params = np.array([self.lr, self.beta1, self.beta2, self.beta3, self.eps,
                                _log_beta(self.beta1), _log_beta(self.beta2)])

    @staticmethod
    def state_with_momentum(m0, v0=None, s0=None) -> np.ndarray:
        """The ``aux`` vector ``(m0, v0, s0)`` (``v0 = s0 = 0`` if omitted; both must be ≥ 0)."""
        m0 = V.finite_array("m0", m0, ndim=1)
        return np.concatenate([m0, V.optional_nonnegative("v0", v0, m0.size),
                               V.optional_nonnegative("s0", s0, m0.size)])

    def _hyper(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "beta3": self.beta3,
                "eps": self.eps}

    def continuous(self, dt: float | None = None) -> AdamSDE:
        """Adam's continuous model (THEORY.md §4: at quasi-stationarity the bound is inactive)."""
        return AdamSDE(self.lr, self.beta1, self.eps, dt)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_adamod_step(gradient_fn, noise_fn)

    @classmethod
    def make_step_coefficients(cls):
        return _adamod_step_coefficients

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n = x.shape[1]
        g = _numpy_stochastic_gradient(x, z, landscape, noise)
        m, v = _numpy_adam_moments(aux[:, :n], aux[:, n:2 * n], g, self.beta1, self.beta2)
        xp = _xp.namespace(x)
        base = float(self.lr * np.sqrt(_bias_correction(_log_beta(self.beta2), k))
                     / _bias_correction(_log_beta(self.beta1), k))
        eta_k = base / (xp.sqrt(v) + self.eps)
        s = self.beta3 * aux[:, 2 * n:] + (1.0 - self.beta3) * eta_k
        return x - xp.minimum(eta_k, s) * m, xp.concatenate([m, v, s], axis=1)
