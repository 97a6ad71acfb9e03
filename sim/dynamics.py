r"""Dynamics: optimizers as discrete update rules and as their continuous models (SDEs).

A dynamics object says *what* update a path performs each step; the ensemble kernel
(:mod:`sim.backends.numba_backend`) says *how* paths are run.  Each class provides

* ``make_step(gradient_fn, noise_fn)`` (class method, cached): a compiled
  ``step(x, aux, z, c, lp, nzp, dp, g, xi, w)`` that advances one path in place.  ``x`` is the position
  ``(dim,)``, ``aux`` the optimizer state (momentum, …; empty for SGD), ``z`` the standard normals of
  this step (``normals_per_step(dim)`` of them; ``dim`` unless a scheme needs more), ``c`` the
  step's coefficients (below), ``lp``/``nzp``/``dp`` the landscape, noise and dynamics parameters,
  ``g`` and ``xi`` scratch vectors of length ``dim``, ``w`` a scratch vector of length
  ``work_size(dim)`` + the bound noise's ``work``, whose first ``work_size(dim)`` entries the step
  may use and whose rest it passes to the noise function (nothing is allocated per step);
* ``make_step_coefficients()`` (class method): a compiled ``step_coefficients(k, dp, c)`` that
  fills ``c`` (``n_step_coefficients`` numbers) with what depends on the 1-based step index ``k``
  only, e.g. Adam's bias corrections.  The kernel calls it once per step for a whole block of
  paths, not once per path; the default computes nothing.  :meth:`DynamicsBase.step_coefficients`
  evaluates it from Python;
* ``numpy_step(x, aux, z, k, landscape, noise)``: the same update vectorised over paths, written
  independently with the landscapes' and noise models' NumPy methods (the reference backend).  It
  uses only operations NumPy and torch share (see :mod:`sim._xp`), so the torch backend runs it on
  tensors unchanged;
* ``affine_model(landscape, noise)``: on a quadratic landscape with position-independent noise the
  update is affine, :math:`x_{k+1} = F x_k + b + \epsilon_k`, :math:`\operatorname{Cov}\epsilon = Q`;
  this gives the exact moments of what the kernel simulates (:mod:`sim.exact.linear`).

Time: one optimizer iteration advances continuous time by :math:`\eta` (THEORY.md §0), so a
discrete optimizer has ``dt = lr``; an SDE is integrated with its own step ``dt``.

References
----------
THEORY.md §3 (discrete updates) and §4 (continuous models).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _validation as V
from ._jit import jit

__all__ = ["DynamicsBase", "SGD", "SGDLangevin"]


@jit(inline=True)
def no_step_coefficients(k, dp, c):
    """The default ``step_coefficients``: a step that does not depend on its index."""
    return None


class DynamicsBase:
    """Abstract dynamics.  Subclasses set ``lr``, ``dt``, ``params`` and ``kind``."""

    #: "discrete" (an optimizer's real update) or "sde" (its continuous model).
    kind: str
    lr: float
    dt: float
    params: np.ndarray

    def state_size(self, dim: int) -> int:
        """Length of the per-path optimizer state ``aux``."""
        return 0

    def initial_state(self, dim: int) -> np.ndarray:
        """The per-path optimizer state at step 0."""
        return np.zeros(self.state_size(dim))

    def normals_per_step(self, dim: int) -> int:
        """Standard normals a path draws per step (the length of ``z``); ``dim`` by default.

        A scheme that needs more randomness per step (e.g. the underdamped integrator of
        :mod:`sim.sde`, which samples the velocity and its time integral) returns more; both the
        numba kernel and the NumPy reference draw exactly this many, in order, from the path's
        stream.
        """
        return dim

    #: Length of the per-step coefficient vector ``c`` filled by ``make_step_coefficients()``.
    n_step_coefficients: int = 0

    def work_size(self, dim: int) -> int:
        """Scratch entries the compiled step uses itself (before the noise function's).  The
        kernel gives each path its own scratch, filled with NaN before the first step and kept
        across steps (a step may cache in it what depends only on values it can compare)."""
        return 0

    def scratch(self, dim: int, bound_noise) -> np.ndarray:
        """A scratch vector ``w`` (NaN-filled) for calling the compiled step from Python."""
        return np.full(max(1, self.work_size(dim) + bound_noise.work), np.nan)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def make_step_coefficients(cls):
        """The compiled ``step_coefficients(k, dp, c)`` of this class (default: none)."""
        return no_step_coefficients

    def step_coefficients(self, k: int) -> np.ndarray:
        """The coefficients ``c`` the compiled step reads at 1-based step ``k`` (for calling a
        compiled step from Python, as the tests do); at least one element."""
        c = np.zeros(max(1, self.n_step_coefficients))
        type(self).make_step_coefficients()(np.int64(k), self.params, c)
        return c

    def numpy_step(self, x, aux, z, k, landscape, noise):  # pragma: no cover - abstract
        raise NotImplementedError

    def affine_model(self, landscape, noise):  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> dict:
        return {"class": type(self).__name__, "kind": self.kind, "lr": self.lr, "dt": self.dt}

    #: Weak order of the integration scheme of an SDE model on quadratics with constant noise
    #: (None for a discrete optimizer, whose update is exact by definition).
    weak_order: int | None = None

    def with_dt(self, dt: float) -> "DynamicsBase":
        """The same continuous model integrated with step ``dt`` (SDE models only)."""
        if self.kind != "sde":
            raise ValueError(f"{type(self).__name__} is a discrete optimizer: its step is its learning rate")
        return type(self)(**self._hyper(), dt=dt)


def _quadratic_parts(landscape, noise):
    """``(H, c, C)`` of a quadratic landscape with position-independent noise, else an error."""
    if not landscape.constant_hessian:
        raise ValueError("an exact affine model needs a quadratic landscape (constant Hessian)")
    x = landscape.center if hasattr(landscape, "center") else np.zeros(landscape.dim)
    return landscape.hessian(x), x, noise.covariance(x, landscape)


# ----------------------------------------------------------------------------------------------
# SGD
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_sgd_step(gradient_fn, noise_fn):
    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        lr = dp[0]
        gradient_fn(x, lp, g)
        noise_fn(x, z, lp, nzp, xi, w)
        for i in range(x.shape[0]):
            x[i] -= lr * (g[i] + xi[i])

    return step


class SGD(DynamicsBase):
    r"""Plain SGD, the real discrete update :math:`\theta \leftarrow \theta - \eta g`,
    :math:`g = \nabla L(\theta) + C(\theta)^{1/2} z` (THEORY.md §3).  One step is time ``lr``.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    """

    kind = "discrete"

    def __init__(self, lr: float):
        self.lr = V.positive("lr", lr)
        self.dt = self.lr
        self.params = np.array([self.lr])

    def continuous(self, dt: float | None = None) -> "SGDLangevin":
        """The continuous model of this optimizer (THEORY.md §4)."""
        return SGDLangevin(self.lr, dt)

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_sgd_step(gradient_fn, noise_fn)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        return x - self.lr * (landscape.gradient(x) + noise.apply(x, z, landscape)), aux

    def affine_model(self, landscape, noise):
        h, c, cov = _quadratic_parts(landscape, noise)
        n = landscape.dim
        return np.eye(n) - self.lr * h, self.lr * h @ c, self.lr**2 * cov

    def __repr__(self):
        return f"SGD(lr={self.lr})"


@lru_cache(maxsize=None)
def _make_sgd_langevin_step(gradient_fn, noise_fn):
    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        dt = dp[1]
        amp = dp[2]  # sqrt(lr * dt)
        gradient_fn(x, lp, g)
        noise_fn(x, z, lp, nzp, xi, w)
        for i in range(x.shape[0]):
            x[i] -= g[i] * dt + amp * xi[i]

    return step


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

    def __init__(self, lr: float, dt: float | None = None):
        self.lr = V.positive("lr", lr)
        self.dt = self.lr / 10.0 if dt is None else V.positive("dt", dt)
        self.params = np.array([self.lr, self.dt, np.sqrt(self.lr * self.dt)])

    def discrete(self) -> SGD:
        """The optimizer whose continuous model this is."""
        return SGD(self.lr)

    def _hyper(self):
        return {"lr": self.lr}

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_sgd_langevin_step(gradient_fn, noise_fn)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        xi = noise.apply(x, z, landscape)
        return x - landscape.gradient(x) * self.dt - np.sqrt(self.lr * self.dt) * xi, aux

    def affine_model(self, landscape, noise):
        """Exact affine model of the Euler–Maruyama scheme (not of the SDE itself)."""
        h, c, cov = _quadratic_parts(landscape, noise)
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
        h, c, cov = _quadratic_parts(landscape, noise)
        return -h, h @ c, self.lr * cov

    def __repr__(self):
        return f"SGDLangevin(lr={self.lr}, dt={self.dt})"
