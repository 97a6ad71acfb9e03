r"""Bounded gradient noise: two-point (Rademacher) and uniform, per coordinate (docs/theory.md §2).

Convergence results such as Theorem 4 (docs/theory.md §5) assume bounded stochastic gradients,
:math:`\|g\|_\infty \le G` almost surely, which Gaussian noise never is.  These models give
:math:`g = \nabla L(\theta) + \xi` with independent, bounded coordinates :math:`\xi_i`:

* :class:`TwoPointNoise`: :math:`\xi_i = a_i` with probability :math:`p_i`, else :math:`b_i`
  (Rademacher: :math:`\pm s_i` with probability ½; skewed: a rare large value balanced by a frequent
  small one, the counterexample of Theorem 4);
* :class:`UniformNoise`: :math:`\xi_i` uniform on :math:`[\mathrm{low}_i, \mathrm{high}_i]`.

**How they are drawn: exact transforms of the normals every kernel already draws.**  Each step a
path draws standard normals :math:`z_i` from its own stream (:mod:`sim.backends.rng`), and
:math:`u_i = \Phi(z_i)` is exactly uniform on (0, 1).  So

* two-point: :math:`\xi_i = a_i` if :math:`z_i < q_i := \Phi^{-1}(p_i)` else :math:`b_i` — a
  comparison with a threshold computed once, so **the numba kernel, the NumPy reference and the torch
  backend draw identical values** (not just to round-off);
* uniform: :math:`\xi_i = \mathrm{low}_i + (\mathrm{high}_i - \mathrm{low}_i)\,\tfrac12
  \mathrm{erfc}(-z_i/\sqrt2)` (``math.erfc`` in the kernel, ``scipy.special.erfc``/``torch.special.erfc``
  in the references: equal to round-off).

Why not a uniform generator of its own: the kernels, the random streams and the
chunk/thread-independence guarantees stay exactly as they are, and every backend already draws these
normals in the same order.  The cost is one comparison (two-point) or one ``erfc`` (uniform) per
coordinate and step.  The threshold :math:`q_i` is :math:`\Phi^{-1}(p_i)` rounded to a double, so the
probability is :math:`p_i` to about 1e-16.

Every array argument is a scalar (the same for all coordinates) or has one entry per coordinate
(checked against the landscape's dimension when the model is bound).  The mean :math:`E\xi` is
:meth:`mean`; a noise with :math:`E\xi \ne 0` biases the gradient (use
:meth:`TwoPointNoise.zero_mean` for a centred skewed law).
"""
from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from . import _validation as V
from . import _xp
from ._jit import jit
from .noise import BoundNoise, NoiseBase

__all__ = ["TwoPointNoise", "UniformNoise", "BoundedNoiseBase"]

_SQRT_HALF = math.sqrt(0.5)


@jit(inline=True)
def _apply_two_point(x, z, lp, nzp, out, work):
    n = x.shape[0]  # nzp = (q, a, b), each of length n
    for i in range(n):
        out[i] = nzp[n + i] if z[i] < nzp[i] else nzp[2 * n + i]


@jit(inline=True)
def _apply_uniform(x, z, lp, nzp, out, work):
    n = x.shape[0]  # nzp = (low, high - low)
    for i in range(n):
        out[i] = nzp[i] + nzp[n + i] * (0.5 * math.erfc(-z[i] * _SQRT_HALF))


def _erfc(x):
    if _xp.is_torch(x):
        import torch

        return torch.special.erfc(x)
    from scipy.special import erfc

    return erfc(x)


def _per_coordinate(name, value):
    a = np.atleast_1d(V.finite_array(name, value))
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a scalar or a non-empty 1-D array (one entry per coordinate)")
    return a


class BoundedNoiseBase(NoiseBase):
    """Shared plumbing: per-coordinate parameters broadcast to the landscape's dimension, a
    constant diagonal covariance, and :meth:`bound` (:math:`\\max|\\xi_i|`)."""

    _apply = None  # the compiled apply
    _arrays: tuple = ()  # names of the per-coordinate arrays

    def _expanded(self, dim):
        """The per-coordinate arrays broadcast to ``dim`` (cached: the references call this every
        step, and torch caches constants by array identity)."""
        cache = self.__dict__.setdefault("_by_dim", {})
        if dim not in cache:
            sizes = {getattr(self, a).size for a in self._arrays} - {1}
            if sizes - {dim}:
                raise ValueError(f"{type(self).__name__}: per-coordinate arrays must have 1 or dim={dim} "
                                 f"entries, got sizes {sorted(sizes)}")
            cache[dim] = [np.broadcast_to(getattr(self, a), (dim,)).astype(float) for a in self._arrays]
            cache[dim].extend(self._derived(*cache[dim]))
        return cache[dim]

    def _derived(self, *arrays):
        """Further per-coordinate constants the reference needs (cached with the arrays)."""
        return []

    def _diag(self, x, landscape, values):
        x = landscape._points(x)
        xp = _xp.namespace(x)
        d = _xp.asarray_like(np.diag(values), x)
        return _xp.copy(xp.broadcast_to(d, tuple(x.shape[:-1]) + (landscape.dim,) * 2))

    def covariance(self, x, landscape):
        return self._diag(x, landscape, self.variance(landscape.dim))

    def sqrt_covariance(self, x, landscape):
        return self._diag(x, landscape, np.sqrt(self.variance(landscape.dim)))

    def bind(self, landscape):
        return BoundNoise(type(self)._apply, self._packed(landscape.dim), True)

    def describe(self):
        return {**super().describe(), **{a: getattr(self, a).tolist() for a in self._arrays}}

    def __repr__(self):
        args = ", ".join(f"{a}={getattr(self, a).tolist()!r}" for a in self._arrays)
        return f"{type(self).__name__}({args})"


class TwoPointNoise(BoundedNoiseBase):
    r""":math:`\xi_i = a_i` with probability :math:`p_i`, else :math:`b_i` (independent coordinates).

    Parameters
    ----------
    a, b : float or array
        The two values (finite).
    p : float or array
        :math:`P(\xi_i = a_i) \in (0, 1)`.
    """

    _apply = staticmethod(_apply_two_point)
    _arrays = ("a", "b", "p")

    def __init__(self, a, b, p):
        self.a, self.b = _per_coordinate("a", a), _per_coordinate("b", b)
        self.p = _per_coordinate("p", p)
        if np.any((self.p <= 0) | (self.p >= 1)):
            raise ValueError(f"p must lie in (0, 1), got {self.p.tolist()}")

    @classmethod
    def rademacher(cls, scale=1.0) -> "TwoPointNoise":
        r""":math:`\xi_i = \pm s_i` with probability ½ each (mean 0, variance :math:`s_i^2`)."""
        s = _per_coordinate("scale", scale)
        if np.any(s < 0):
            raise ValueError("scale must be >= 0")
        return cls(s, -s, 0.5)

    @classmethod
    def zero_mean(cls, a, p) -> "TwoPointNoise":
        r"""Value :math:`a_i` with probability :math:`p_i`, else :math:`b_i = -p_i a_i/(1-p_i)`: mean 0."""
        a, p = _per_coordinate("a", a), _per_coordinate("p", p)
        if np.any((p <= 0) | (p >= 1)):
            raise ValueError(f"p must lie in (0, 1), got {p.tolist()}")
        return cls(a, -p * a / (1.0 - p), p)

    def _derived(self, a, b, p):
        return [np.array([NormalDist().inv_cdf(float(v)) for v in p])]

    def thresholds(self, dim):
        r""":math:`q_i = \Phi^{-1}(p_i)`: :math:`\xi_i = a_i` exactly when :math:`z_i < q_i`."""
        return self._expanded(dim)[3]

    def _packed(self, dim):
        a, b, _, q = self._expanded(dim)
        return np.concatenate([q, a, b])

    def mean(self, dim):
        a, b, p, _ = self._expanded(dim)
        return p * a + (1 - p) * b

    def variance(self, dim):
        a, b, p, _ = self._expanded(dim)
        return p * (1 - p) * (a - b) ** 2

    def bound(self, dim):
        r""":math:`\max|\xi_i|` per coordinate."""
        a, b, _, _ = self._expanded(dim)
        return np.maximum(np.abs(a), np.abs(b))

    def apply(self, x, z, landscape):
        a, b, _, q = self._expanded(landscape.dim)
        xp = _xp.namespace(z)
        return xp.where(z < _xp.asarray_like(q, z), _xp.asarray_like(a, z), _xp.asarray_like(b, z))


class UniformNoise(BoundedNoiseBase):
    r""":math:`\xi_i` uniform on :math:`[\mathrm{low}_i, \mathrm{high}_i]` (independent coordinates).

    Parameters
    ----------
    low, high : float or array
        Bounds, ``low < high``; ``UniformNoise(-s, s)`` has mean 0 and variance :math:`s^2/3`.
    """

    _apply = staticmethod(_apply_uniform)
    _arrays = ("low", "high")

    def __init__(self, low, high):
        self.low, self.high = _per_coordinate("low", low), _per_coordinate("high", high)
        if 1 in (self.low.size, self.high.size) or self.low.size == self.high.size:
            if np.any(self.low[:, None] >= self.high[None, :] if 1 in (self.low.size, self.high.size)
                      else self.low >= self.high):
                raise ValueError("UniformNoise needs low < high in every coordinate")

    def _derived(self, lo, hi):
        return [hi - lo]

    def _packed(self, dim):
        lo, _, width = self._expanded(dim)
        return np.concatenate([lo, width])

    def mean(self, dim):
        lo, hi, _ = self._expanded(dim)
        return 0.5 * (lo + hi)

    def variance(self, dim):
        lo, hi, _ = self._expanded(dim)
        return (hi - lo) ** 2 / 12.0

    def bound(self, dim):
        lo, hi, _ = self._expanded(dim)
        return np.maximum(np.abs(lo), np.abs(hi))

    def apply(self, x, z, landscape):
        lo, _, width = self._expanded(landscape.dim)
        u = 0.5 * _erfc(-z * _SQRT_HALF)
        return _xp.asarray_like(lo, z) + _xp.asarray_like(width, z) * u
