r"""Reaction coordinates for rare-event sampling: a scalar :math:`\xi(\theta)` that measures progress
from the minimum a path starts in toward the exit.

Adaptive multilevel splitting (:mod:`sim.rare.ams`) kills and clones replicas by the highest value of
:math:`\xi` each has reached.  Its estimates are unbiased for **any** coordinate (the coordinate only
sets the variance), so a poor choice costs samples, never correctness.

A coordinate has a NumPy/torch ``value(x)`` (points ``(..., dim)`` → ``(...)``) for the reference and
the checks, and a compiled ``value(x, params)`` per class (one compiled function serves every instance,
the geometry is in ``params``), like the exit regions (:mod:`sim.exits`).

* :class:`LinearCoordinate` — :math:`\xi(\theta) = u^\top(\theta - o)`; built by
  :meth:`LinearCoordinate.between` so that :math:`\xi(a) = 0` at the minimum and :math:`\xi(b) = 1` at
  the saddle, along the escape direction :math:`e` (the eigenvector of :math:`H(b)` with negative
  eigenvalue, docs/theory.md §5).
* :func:`default_coordinate` — that coordinate for a :class:`~sim.problem.Problem` whose landscape knows
  its critical points (the minimum nearest the start, the saddle nearest that minimum), or, for a
  problem whose exit is a :class:`~sim.exits.HalfSpaceExit`, along the exit's normal from the start to
  the exit.
"""
from __future__ import annotations

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit

__all__ = ["ReactionCoordinateBase", "LinearCoordinate", "default_coordinate"]


class ReactionCoordinateBase:
    """Abstract reaction coordinate; ``params`` is a flat float array read by :meth:`numba_value`."""

    dim: int
    params: np.ndarray

    def value(self, x):  # pragma: no cover - abstract
        """:math:`\\xi` at points ``(..., dim)`` (NumPy or torch)."""
        raise NotImplementedError

    @classmethod
    def numba_value(cls):  # pragma: no cover - abstract
        """The compiled ``value(x, params) -> float`` of this class."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"class": type(self).__name__, "params": self.params.tolist()}


@jit(inline=True)
def _linear_value(x, p):
    s = 0.0
    n = x.shape[0]
    for i in range(n):
        s += p[n + i] * (x[i] - p[i])
    return s


class LinearCoordinate(ReactionCoordinateBase):
    r""":math:`\xi(\theta) = u^\top(\theta - o)` (``params = [o, u]``)."""

    def __init__(self, origin, direction):
        o = V.finite_array("origin", origin, ndim=1)
        u = V.vector("direction", direction, o.size)
        if not np.any(u):
            raise ValueError("direction must be a non-zero vector")
        self.dim, self.origin, self.direction = o.size, o, u
        self.params = np.concatenate([o, u])

    @classmethod
    def between(cls, start, end, direction=None) -> "LinearCoordinate":
        r"""The coordinate along ``direction`` (default ``end − start``) scaled so that
        :math:`\xi(\text{start}) = 0` and :math:`\xi(\text{end}) = 1`."""
        a = V.finite_array("start", start, ndim=1)
        b = V.vector("end", end, a.size)
        e = b - a if direction is None else V.vector("direction", direction, a.size)
        span = float(e @ (b - a))
        if not abs(span) > 0:
            raise ValueError("the direction must not be orthogonal to end − start (ξ(end) would equal ξ(start))")
        return cls(a, e / span)

    def value(self, x):
        return ((x - _xp.asarray_like(self.origin, x)) * _xp.asarray_like(self.direction, x)).sum(axis=-1)

    @classmethod
    def numba_value(cls):
        return _linear_value

    def __repr__(self):
        return f"LinearCoordinate(origin={self.origin.tolist()}, direction={self.direction.tolist()})"


def default_coordinate(problem, from_min: int | None = None, via_saddle: int | None = None) -> LinearCoordinate:
    r"""The problem's default reaction coordinate: 0 at its minimum, 1 at the saddle, along the escape
    direction.

    For a landscape with known critical points (:class:`~sim.landscapes.WellsLandscapeBase`): minimum
    ``from_min`` (default: the one nearest the start), saddle ``via_saddle`` (default: the one nearest
    that minimum), direction :math:`e` from :meth:`~sim.landscapes.WellsLandscapeBase.escape_direction`.
    Otherwise, for a :class:`~sim.exits.HalfSpaceExit` :math:`n^\top\theta \ge c`: along :math:`n`,
    0 at the start and 1 on the exit's plane.
    """
    land = problem.landscape
    minima = getattr(land, "minima", None)
    saddles = getattr(land, "saddles", None)
    if minima is not None and saddles is not None and len(minima) and len(saddles):
        if from_min is None:
            from_min = int(np.argmin(np.linalg.norm(minima - problem.x0, axis=1)))
        a = minima[_index("from_min", from_min, len(minima))]
        if via_saddle is None:
            via_saddle = int(np.argmin(np.linalg.norm(saddles - a, axis=1)))
        b = saddles[_index("via_saddle", via_saddle, len(saddles))]
        return LinearCoordinate.between(a, b, land.escape_direction(via_saddle, from_min))
    from ..exits import HalfSpaceExit

    ex = problem.exit
    if isinstance(ex, HalfSpaceExit):
        n = ex.normal
        end = problem.x0 + n * (ex.offset - n @ problem.x0) / (n @ n)
        return LinearCoordinate.between(problem.x0, end, n)
    raise ValueError(f"no default reaction coordinate for {type(land).__name__} with exit "
                     f"{type(ex).__name__}: pass coordinate= (a ReactionCoordinateBase)")


def _index(name: str, value, n: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer index, got {value!r}")
    if not 0 <= value < n:
        raise ValueError(f"{name} must be in [0, {n - 1}], got {value}")
    return int(value)
