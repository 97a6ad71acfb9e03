r"""Exit regions: where a path stops and its first-passage (escape) time is recorded.

Each region has a compiled ``label(x, params) -> int``: 0 while the path is inside the domain, a
positive label naming *which* exit was hit otherwise.  One compiled function per class serves every
instance (the geometry is in ``params``).

Regions
-------
* :class:`BallExit` — leave the ball :math:`\|\theta - c\| < r` (label 1).
* :class:`SlabExit` — leave :math:`|u^\top(\theta - c)| < w` along a unit direction ``u``
  (label 1 on the + side, 2 on the − side).  Along an unstable eigen-direction of a saddle this is
  the escape used by the Theorem 1 scaling check.
* :class:`HalfSpaceExit` — enter :math:`n^\top \theta \ge b` (label 1).
* :class:`BoxExit` — leave the box :math:`lo_i < \theta_i < hi_i` (label :math:`2i+1` through the
  lower face of axis :math:`i`, :math:`2i+2` through the upper one); the natural match of a
  Fokker–Planck grid with absorbing walls.
* :class:`NoExit` — never exits (moments-only runs).
"""
from __future__ import annotations

import numpy as np

from . import _validation as V
from . import _xp
from ._jit import jit

__all__ = ["ExitRegionBase", "NoExit", "BallExit", "SlabExit", "HalfSpaceExit", "BoxExit"]


class ExitRegionBase:
    """Abstract exit region; ``params`` is a flat float array read by :meth:`numba_label`."""

    dim: int | None
    params: np.ndarray

    def label(self, x) -> np.ndarray:  # pragma: no cover - abstract
        """Integer labels for points ``(..., dim)`` (NumPy or torch): 0 inside, >0 for the exit hit."""
        raise NotImplementedError

    @classmethod
    def numba_label(cls):  # pragma: no cover - abstract
        raise NotImplementedError

    def check_start(self, x0: np.ndarray) -> None:
        """Raise if the start ``x0`` already lies in the exit region."""
        if self.dim is not None and x0.shape[-1] != self.dim:
            raise ValueError(f"exit region has dimension {self.dim} but x0 has dimension {x0.shape[-1]}")
        lab = np.asarray(self.label(np.asarray(x0, dtype=float)))
        if np.any(lab != 0):
            raise ValueError(f"x0 lies in the exit region {self!r}: the start must be inside the domain")

    def describe(self) -> dict:
        return {"class": type(self).__name__, "params": self.params.tolist()}


@jit(inline=True)
def _no_exit(x, p):
    return 0


class NoExit(ExitRegionBase):
    """No exit region: every path runs to ``t_max``."""

    dim = None
    params = np.zeros(1)

    def label(self, x):
        return (x[..., 0] != x[..., 0]) * 0  # zeros in x's namespace (NaN-safe)

    @classmethod
    def numba_label(cls):
        return _no_exit

    def __repr__(self):
        return "NoExit()"


@jit(inline=True)
def _ball_label(x, p):
    r = p[0]
    acc = 0.0
    for i in range(x.shape[0]):
        d = x[i] - p[1 + i]
        acc += d * d
    return 1 if acc >= r * r else 0


class BallExit(ExitRegionBase):
    r"""Exit when :math:`\|\theta - c\| \ge r`."""

    def __init__(self, center, radius: float):
        c = V.finite_array("center", center, ndim=1)
        self.dim = c.size
        self.center = c
        self.radius = V.positive("radius", radius)
        self.params = np.concatenate([[self.radius], c])

    def label(self, x):
        d = x - _xp.asarray_like(self.center, x)
        return ((d * d).sum(axis=-1) >= self.radius**2) * 1

    @classmethod
    def numba_label(cls):
        return _ball_label

    def __repr__(self):
        return f"BallExit(center={self.center.tolist()}, radius={self.radius})"


@jit(inline=True)
def _slab_label(x, p):
    n = x.shape[0]
    w = p[0]
    s = 0.0
    for i in range(n):
        s += p[1 + n + i] * (x[i] - p[1 + i])
    if s >= w:
        return 1
    if s <= -w:
        return 2
    return 0


class SlabExit(ExitRegionBase):
    r"""Exit when :math:`|u^\top(\theta - c)| \ge w` (label 1 for the + side, 2 for the − side).

    ``direction`` is normalised to unit length.
    """

    def __init__(self, center, direction, half_width: float):
        c = V.finite_array("center", center, ndim=1)
        u = V.vector("direction", direction, c.size)
        norm = np.linalg.norm(u)
        if norm == 0:
            raise ValueError("direction must be a non-zero vector")
        self.dim = c.size
        self.center, self.direction = c, u / norm
        self.half_width = V.positive("half_width", half_width)
        self.params = np.concatenate([[self.half_width], c, self.direction])

    def label(self, x):
        s = ((x - _xp.asarray_like(self.center, x)) * _xp.asarray_like(self.direction, x)).sum(axis=-1)
        return (s >= self.half_width) * 1 + (s <= -self.half_width) * 2

    @classmethod
    def numba_label(cls):
        return _slab_label

    def __repr__(self):
        return (f"SlabExit(center={self.center.tolist()}, direction={self.direction.tolist()}, "
                f"half_width={self.half_width})")


@jit(inline=True)
def _halfspace_label(x, p):
    s = 0.0
    for i in range(x.shape[0]):
        s += p[1 + i] * x[i]
    return 1 if s >= p[0] else 0


class HalfSpaceExit(ExitRegionBase):
    r"""Exit when :math:`n^\top \theta \ge b` (``normal`` need not be unit length)."""

    def __init__(self, normal, offset: float):
        nv = V.finite_array("normal", normal, ndim=1)
        if not np.any(nv):
            raise ValueError("normal must be a non-zero vector")
        self.dim = nv.size
        self.normal = nv
        self.offset = float(V.finite_array("offset", offset, ndim=0))
        self.params = np.concatenate([[self.offset], nv])

    def label(self, x):
        return ((x * _xp.asarray_like(self.normal, x)).sum(axis=-1) >= self.offset) * 1

    @classmethod
    def numba_label(cls):
        return _halfspace_label

    def __repr__(self):
        return f"HalfSpaceExit(normal={self.normal.tolist()}, offset={self.offset})"


@jit(inline=True)
def _box_label(x, p):
    n = x.shape[0]
    for i in range(n):
        if x[i] <= p[i]:
            return 2 * i + 1
        if x[i] >= p[n + i]:
            return 2 * i + 2
    return 0


class BoxExit(ExitRegionBase):
    r"""Exit when some :math:`\theta_i \le lo_i` (label :math:`2i+1`) or :math:`\theta_i \ge hi_i`
    (label :math:`2i+2`); the first axis in order wins if several faces are crossed in one step."""

    def __init__(self, lo, hi):
        lo = V.finite_array("lo", lo, ndim=1)
        hi = V.vector("hi", hi, lo.size)
        if np.any(hi <= lo):
            raise ValueError(f"hi must exceed lo on every axis, got lo={lo.tolist()}, hi={hi.tolist()}")
        self.dim, self.lo, self.hi = lo.size, lo, hi
        self.params = np.concatenate([lo, hi])

    def label(self, x):
        lo, hi = _xp.asarray_like(self.lo, x), _xp.asarray_like(self.hi, x)
        below, above = x <= lo, x >= hi
        lab = (x[..., 0] != x[..., 0]) * 0
        for i in range(self.dim - 1, -1, -1):  # the first axis in order wins, as in the kernel
            lab = lab + ((below[..., i] * (2 * i + 1) + above[..., i] * (2 * i + 2)) - lab) * (below[..., i] | above[..., i])
        return lab

    @classmethod
    def numba_label(cls):
        return _box_label

    def __repr__(self):
        return f"BoxExit(lo={self.lo.tolist()}, hi={self.hi.tolist()})"
