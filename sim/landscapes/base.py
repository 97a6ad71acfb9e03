"""Landscape bases: the compiled-function bundles, :class:`LandscapeBase` and the geometry of multi-well
landscapes (:class:`WellsLandscapeBase`).  See :mod:`optdyn.sim.landscapes`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _xp
from ..exits import HalfSpaceExit


@dataclass(frozen=True)
class LandscapeFunctions:
    """Compiled functions of a landscape class, all reading a flat ``params`` array."""

    gradient: object  # gradient(x, params, out) -> None
    hessian: object  # hessian(x, params, out) -> None  (out: (dim, dim))


class LandscapeBase:
    """Abstract landscape.  Subclasses set ``dim``, ``params`` and implement the methods below."""

    dim: int
    params: np.ndarray
    #: True when the Hessian does not depend on position (quadratic landscapes).
    constant_hessian: bool = False

    def value(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def hessian(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def numba_functions(cls) -> LandscapeFunctions:  # pragma: no cover - abstract
        raise NotImplementedError

    def _points(self, x):
        a = x if _xp.is_torch(x) else np.asarray(x, dtype=np.float64)
        if tuple(a.shape[-1:]) != (self.dim,):
            raise ValueError(f"x must have shape (..., {self.dim}), got {a.shape}")
        return a

    def describe(self) -> dict:
        """JSON-friendly description, stored in result metadata."""
        return {"class": type(self).__name__, "dim": self.dim}


def random_rotation(dim: int, seed: int = 0) -> np.ndarray:
    """A Haar-random rotation matrix (orthogonal, determinant +1) of size ``dim``."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q



@dataclass(frozen=True)
class WellFunctions(LandscapeFunctions):
    """Compiled functions of a well landscape class (all read the flat ``params`` array).

    ``hessian_eigenvalues(x, params, out)`` — eigenvalues in the fixed basis ``hessian_eigenbasis``
    (``None`` when the basis moves with ``x``); ``critical_point(x, params, out)`` — writes the
    critical point whose region contains ``x`` (the anchor of :class:`sim.noise.LocalHessianNoise`).
    """

    hessian_eigenvalues: object = None
    critical_point: object = None


# ==============================================================================================
# Base class: geometry from critical points
# ==============================================================================================
class WellsLandscapeBase(LandscapeBase):
    """Landscape with a known, finite list of critical points.

    Subclasses set ``_crit`` (``(m, dim)``) and ``_kinds`` (list of str) and implement
    ``region_of``.
    """

    #: Orthogonal matrix ``U`` with :math:`H(x) = U \operatorname{diag}(\lambda(x)) U^\top` for all
    #: ``x``, or ``None`` when no fixed eigenbasis exists.
    hessian_eigenbasis: np.ndarray | None = None
    _crit: np.ndarray
    _kinds: list

    # -- critical points ---------------------------------------------------------------------
    def critical_points(self) -> np.ndarray:
        """All critical points, shape ``(m, dim)`` (a copy)."""
        return self._crit.copy()

    @property
    def critical_kinds(self) -> list:
        """``"min"``, ``"saddle"`` (index 1), ``"saddle-k"`` (index k ≥ 2) or ``"max"`` per point."""
        return list(self._kinds)

    def _of_kind(self, kind):
        return np.array([p for p, k in zip(self._crit, self._kinds) if k == kind]).reshape(-1, self.dim)

    @property
    def minima(self) -> np.ndarray:
        """Positions of the minima, ``(n_min, dim)``."""
        return self._of_kind("min")

    @property
    def saddles(self) -> np.ndarray:
        """Positions of the index-1 saddles, ``(n_saddle, dim)``."""
        return self._of_kind("saddle")

    def hessian_at(self, point) -> np.ndarray:
        """:math:`H` at ``point`` (a position ``(dim,)``), ``(dim, dim)``."""
        return np.asarray(self.hessian(np.asarray(point, dtype=float)))

    def _pick(self, name, index, points):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{name} must be an integer index, got {index!r}")
        if not 0 <= index < len(points):
            raise ValueError(f"{name} must be in [0, {len(points) - 1}], got {index}")
        return points[int(index)]

    def barrier(self, from_min: int = 0, via_saddle: int = 0) -> float:
        r""":math:`\Delta L = L(b) - L(a)` for minimum ``from_min`` and saddle ``via_saddle`` (indices)."""
        a = self._pick("from_min", from_min, self.minima)
        b = self._pick("via_saddle", via_saddle, self.saddles)
        return float(self.value(b) - self.value(a))

    def escape_direction(self, via_saddle: int = 0, from_min: int | None = None) -> np.ndarray:
        r"""Unit eigenvector :math:`e` of :math:`H(b)` with the negative eigenvalue.

        Oriented away from minimum ``from_min`` (:math:`e^\top(b - a) > 0`) when it is given.
        """
        b = self._pick("via_saddle", via_saddle, self.saddles)
        lam, u = np.linalg.eigh(self.hessian_at(b))
        e = u[:, 0]
        if from_min is not None:
            a = self._pick("from_min", from_min, self.minima)
            if e @ (b - a) < 0:
                e = -e
        return e

    def curvatures(self, from_min: int = 0, via_saddle: int = 0) -> tuple[float, float]:
        r""":math:`(H_{ae}, H_{be}) = (e^\top H(a) e,\; e^\top H(b) e)` along the escape direction."""
        a = self.minima[from_min]
        b = self._pick("via_saddle", via_saddle, self.saddles)
        e = self.escape_direction(via_saddle, from_min)
        return float(e @ self.hessian_at(a) @ e), float(e @ self.hessian_at(b) @ e)

    def exit_beyond(self, via_saddle: int = 0, from_min: int = 0, at: str = "next_minimum") -> HalfSpaceExit:
        r"""Exit region across saddle ``via_saddle`` seen from minimum ``from_min``.

        The half-space :math:`e^\top\theta \ge e^\top p` with :math:`e` the escape direction (away
        from the minimum) and :math:`p` either the saddle (``at="saddle"``: first passage to
        :math:`b`, about :math:`\tau/2`) or the nearest minimum on the far side of the saddle
        (``at="next_minimum"``: Kramers' :math:`\tau`, which counts crossings; docs/theory.md §6).
        """
        b = self._pick("via_saddle", via_saddle, self.saddles)
        a = self._pick("from_min", from_min, self.minima)
        e = self.escape_direction(via_saddle, from_min)
        if at == "saddle":
            p = b
        elif at == "next_minimum":
            side = (self.minima - b) @ e
            far = np.flatnonzero(side > 1e-12 * (1.0 + np.abs(side).max()))
            if far.size == 0:
                raise ValueError(f"no minimum beyond saddle {via_saddle} seen from minimum {from_min}")
            p = self.minima[far[np.argmin(np.linalg.norm(self.minima[far] - b, axis=1))]]
        else:
            raise ValueError(f"at must be 'saddle' or 'next_minimum', got {at!r}")
        if e @ (p - a) <= 0:  # pragma: no cover - geometry guard
            raise ValueError("the exit would contain the minimum")
        return HalfSpaceExit(e, float(e @ p))

    def region_of(self, x):  # pragma: no cover - abstract
        """Index into ``critical_points()`` of the region containing each point ``(..., dim)``."""
        raise NotImplementedError

    def local_critical_point(self, x):
        """Critical point of the region containing each point: ``(..., dim)`` → ``(..., dim)``."""
        x = self._points(x)
        return _xp.asarray_like(self._crit, x)[self.region_of(x)]


# ==============================================================================================
# Profile landscapes: L(x) = f(y_0) + 1/2 sum_j k_j y_j^2,  y = U^T (x - center)
# ==============================================================================================
