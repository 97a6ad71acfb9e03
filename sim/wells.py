r"""Multi-well landscapes for escape from minima: geometry, critical points and natural exits.

Every class here is a :class:`~sim.landscapes.LandscapeBase` (NumPy/torch ``value``, ``gradient``,
``hessian`` vectorised over ``(..., dim)``, compiled functions reading one flat ``params`` array, one
compiled function per *class*) that also knows its geometry:

* ``critical_points()`` (shape ``(m, dim)``), ``critical_kinds`` (``"min"``, ``"saddle"`` (index 1),
  ``"max"``/``"saddle-k"``), the properties ``minima`` / ``saddles`` (positions) and
  ``hessian_at(point)``;
* ``barrier(from_min, via_saddle)`` :math:`\Delta L = L(b) - L(a)` (indices into ``minima`` and
  ``saddles``), ``escape_direction(saddle)`` (the eigenvector of :math:`H(b)` with negative
  eigenvalue, pointing away from the minimum), ``path_parameter`` where defined;
* ``exit_beyond(saddle, from_min, at="next_minimum" | "saddle")``: a
  :class:`~sim.exits.HalfSpaceExit` across the saddle, either through the saddle itself (first
  passage to :math:`b`, about :math:`\tau/2`) or through the next minimum (Kramers' :math:`\tau`
  counts crossings, THEORY.md §6);
* ``region_of(x)`` (index of the critical point whose region contains ``x``) and
  ``local_critical_point(x)`` (its position), used by :class:`sim.noise.LocalHessianNoise`.
  Regions are documented per class.

Landscapes whose Hessian is diagonal in a *fixed* orthonormal basis :math:`U`,
:math:`H(x) = U\operatorname{diag}(\lambda(x))U^\top`, expose ``hessian_eigenbasis = U`` and
``hessian_eigenvalues(x)`` (plus a compiled ``hessian_eigenvalues(x, params, out)``), so Hessian
noise needs no eigen-decomposition per step (:class:`sim.noise.HessianNoise` uses it).

Smooth landscapes (:class:`QuarticDoubleWell`, :class:`StyblinskiTang`, :class:`CurvedDoubleWell`)
have inflection points where an eigenvalue of :math:`H` vanishes: Hessian noise there is zero in
that direction, so use ``HessianNoise(batch_size, floor=h_min)`` with :math:`h_{min} > 0` whenever
a diffusion coefficient must stay positive (1-D MFPT quadrature, Fokker–Planck solvers).  The
piecewise-quadratic landscape has a piecewise *constant* Hessian that never vanishes.

References
----------
THEORY.md §1.2 (piecewise-quadratic wells), §1.3 (smooth multi-well landscapes), §2 (noise models),
§5 (escape notation), §6 (absorb beyond the saddle).  Z. Xie, I. Sato, M. Sugiyama, "A Diffusion
Theory for Deep Learning Dynamics", arXiv 2002.03495.  M. Styblinski, T. Tang, "Experiments in
nonconvex optimization: stochastic approximation with function smoothing and simulated annealing",
Neural Networks 3 (1990).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import _validation as V
from . import _xp
from ._jit import jit
from .exits import HalfSpaceExit
from .landscapes import LandscapeBase, LandscapeFunctions

__all__ = [
    "WellFunctions", "WellsLandscapeBase", "PiecewiseQuadraticWells", "FlatSharpDoubleWell",
    "QuarticDoubleWell", "StyblinskiTang", "CurvedDoubleWell", "ST_CRITICAL_ROOTS",
]


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
        (``at="next_minimum"``: Kramers' :math:`\tau`, which counts crossings; THEORY.md §6).
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
def _profile_factory(header: int, fprime, fsecond, anchor):
    """Compiled gradient/Hessian/eigenvalues/anchor for a profile landscape class.

    ``params = [profile header (header floats), center (n), U (n*n, row-major), k (n; k[0] unused),
    K = U diag(0, k_1, ...) U^T (n*n, row-major)]``.
    ``fprime(y, p)``, ``fsecond(y, p)``, ``anchor(y, p)`` are compiled scalar functions of the escape
    coordinate reading the header.
    """

    @jit(inline=True)
    def gradient(x, p, out):
        # grad = K (x - c) + u_0 f'(y_0),  K = U diag(0, k_1, ...) U^T stored in params (no allocation)
        n = x.shape[0]
        c0, u0, kk = header, header + n, header + n * n + 2 * n
        y0 = 0.0
        for j in range(n):
            y0 += p[u0 + j * n] * (x[j] - p[c0 + j])
        fp = fprime(y0, p)
        for i in range(n):
            acc = p[u0 + i * n] * fp
            for j in range(n):
                acc += p[kk + i * n + j] * (x[j] - p[c0 + j])
            out[i] = acc

    @jit(inline=True)
    def eigenvalues(x, p, out):
        n = x.shape[0]
        u0, k0 = header + n, header + n + n * n
        c0 = header
        y0 = 0.0
        for j in range(n):
            y0 += p[u0 + j * n] * (x[j] - p[c0 + j])
        out[0] = fsecond(y0, p)
        for j in range(1, n):
            out[j] = p[k0 + j]

    @jit(inline=True)
    def hessian(x, p, out):
        # H = K + f''(y_0) u_0 u_0^T
        n = x.shape[0]
        c0, u0, kk = header, header + n, header + n * n + 2 * n
        y0 = 0.0
        for j in range(n):
            y0 += p[u0 + j * n] * (x[j] - p[c0 + j])
        fs = fsecond(y0, p)
        for i in range(n):
            for j in range(n):
                out[i, j] = p[kk + i * n + j] + fs * p[u0 + i * n] * p[u0 + j * n]

    @jit(inline=True)
    def critical_point(x, p, out):
        n = x.shape[0]
        u0, c0 = header + n, header
        y0 = 0.0
        for j in range(n):
            y0 += p[u0 + j * n] * (x[j] - p[c0 + j])
        ys = anchor(y0, p)
        for i in range(n):
            out[i] = p[c0 + i] + p[u0 + i * n] * ys

    return WellFunctions(gradient=gradient, hessian=hessian, hessian_eigenvalues=eigenvalues,
                         critical_point=critical_point)


class _ProfileLandscape(WellsLandscapeBase):
    r"""Shared machinery: :math:`L(\theta) = f(y_0) + \tfrac12\sum_{j\ge1} k_j y_j^2`,
    :math:`y = U^\top(\theta - c)`.  Column 0 of ``U`` is the escape coordinate."""

    _header: np.ndarray  # profile parameters

    def _setup_geometry(self, spectators, rotation, center):
        k = V.finite_array("spectators", [] if spectators is None else spectators, ndim=1)
        if np.any(k <= 0):
            raise ValueError(f"spectators (curvatures of the spectator directions) must be > 0, got {k.tolist()}")
        self.dim = 1 + k.size
        self.spectators = k
        u = V.orthogonal_matrix("rotation", rotation, self.dim)
        self.rotation = u
        self.hessian_eigenbasis = u
        self.center = np.zeros(self.dim) if center is None else V.vector("center", center, self.dim)
        self._kvec = np.concatenate([[0.0], k])
        self._e0 = np.eye(self.dim)[0]
        self._spectator_hessian = u @ np.diag(self._kvec) @ u.T
        self.params = np.concatenate([self._header, self.center, u.ravel(), self._kvec,
                                      self._spectator_hessian.ravel()])

    # profile in the escape coordinate (NumPy/torch); subclasses implement
    def _f(self, y, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fp(self, y, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fpp(self, y, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def escape_coordinate(self, x):
        r""":math:`y_0 = u_0^\top(\theta - c)`, shape ``(...)``."""
        x = self._points(x)
        return ((x - _xp.asarray_like(self.center, x)) * _xp.asarray_like(self.rotation[:, 0], x)).sum(axis=-1)

    def embed(self, y0) -> np.ndarray:
        """Points ``center + y0 u_0`` on the escape line, ``(...,)`` → ``(..., dim)``."""
        y0 = np.asarray(y0, dtype=float)
        return self.center + y0[..., None] * self.rotation[:, 0]

    def _y(self, x):
        return _xp.matvec_rows(x - _xp.asarray_like(self.center, x), self.rotation.T)

    def value(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        y = self._y(x)
        return self._f(y[..., 0], xp) + 0.5 * (y * y * _xp.asarray_like(self._kvec, x)).sum(axis=-1)

    def gradient(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        y = self._y(x)
        gy = y * _xp.asarray_like(self._kvec, x) + self._fp(y[..., 0], xp)[..., None] * _xp.asarray_like(self._e0, x)
        return _xp.matvec_rows(gy, self.rotation)

    def hessian_eigenvalues(self, x):
        r""":math:`\lambda(x)` with :math:`H(x) = U\operatorname{diag}(\lambda(x))U^\top`, shape ``(..., dim)``."""
        x = self._points(x)
        xp = _xp.namespace(x)
        y0 = self.escape_coordinate(x)
        kv = _xp.asarray_like(self._kvec, x)
        return kv + self._fpp(y0, xp)[..., None] * _xp.asarray_like(self._e0, x)

    def hessian(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        lam = self.hessian_eigenvalues(x)
        u = _xp.asarray_like(self.rotation, x)
        return xp.einsum("ik,...k,jk->...ij", u, lam, u)

    def describe(self) -> dict:
        return {**super().describe(), "spectators": self.spectators.tolist(),
                "rotation": self.rotation.tolist(), "center": self.center.tolist()}


# ----------------------------------------------------------------------------------------------
# Piecewise-quadratic wells
# ----------------------------------------------------------------------------------------------
# header: [a1, c1, c2, a2, Ha, Hb(>0), Ha2, Lb, dL1, dL2]
@jit(inline=True)
def _pq_fprime(y, p):
    if y <= p[1]:
        return p[4] * (y - p[0])
    if y >= p[2]:
        return p[6] * (y - p[3])
    return -p[5] * y


@jit(inline=True)
def _pq_fsecond(y, p):
    if y <= p[1]:
        return p[4]
    if y >= p[2]:
        return p[6]
    return -p[5]


@jit(inline=True)
def _pq_anchor(y, p):
    if y <= p[1]:
        return p[0]
    if y >= p[2]:
        return p[3]
    return 0.0


_PQ_FUNCTIONS = _profile_factory(10, _pq_fprime, _pq_fsecond, _pq_anchor)


class PiecewiseQuadraticWells(_ProfileLandscape):
    r"""Piecewise-quadratic double well, the Kramers landscape of THEORY.md §1.2.

    Along the escape coordinate :math:`y = u_0^\top(\theta - c)` (saddle at :math:`y = 0`):

    .. math::
        f(y) = \begin{cases}
          L_b - \Delta L + \tfrac12 H_a (y - a)^2 & y \le c_1 \\
          L_b - \tfrac12 |H_b|\, y^2 & c_1 < y < c_2 \\
          L_b - \Delta L' + \tfrac12 H_a' (y - a')^2 & y \ge c_2
        \end{cases}

    joined :math:`C^1` at the junctions, with (left well; the right one is its mirror with
    :math:`H_a', \Delta L'`)

    .. math::
        (c_1 - a)^2 = \frac{2\Delta L |H_b|}{H_a(H_a + |H_b|)},\qquad
        b - c_1 = \frac{H_a (c_1 - a)}{|H_b|},\qquad s = \frac{|H_b|}{H_a + |H_b|},

    and :math:`L(\theta) = f(y_0) + \tfrac12\sum_{j\ge 1} k_j y_j^2` with spectator curvatures
    :math:`k_j > 0`, :math:`y = U^\top(\theta - c)`.  The Hessian is piecewise constant,
    :math:`H = U\operatorname{diag}(f''(y_0), k_1, \dots)U^\top`, never zero, so Hessian noise
    never vanishes.  At a junction the Hessian is that of the well (``y <= c1`` and ``y >= c2``).

    Critical points (in this order): left minimum :math:`a`, saddle :math:`b` (``center``), right
    minimum :math:`a'`.  Regions for :class:`~sim.noise.LocalHessianNoise`: the three pieces, so
    the local noise *equals* Hessian noise here.  Values: :math:`L(a) = L_b - \Delta L`.

    Parameters
    ----------
    h_a : float
        :math:`H_a > 0`, curvature of the left well.
    h_b : float
        Curvature of the saddle; its absolute value :math:`|H_b| > 0` is used (either sign accepted).
    barrier : float
        :math:`\Delta L > 0`, barrier seen from the left minimum.
    h_a2 : float, optional
        :math:`H_a' > 0`, curvature of the right well (default ``h_a``).
    barrier2 : float, optional
        :math:`\Delta L' > 0`, barrier seen from the right minimum (default ``barrier``); the saddle
        height is shared, so :math:`L(a') = L(a) + \Delta L - \Delta L'`.
    spectators : array_like, optional
        Curvatures :math:`k_j > 0` of ``dim - 1`` quadratic spectator directions.
    rotation : array_like, optional
        Orthogonal ``(dim, dim)`` matrix :math:`U`; column 0 is the escape direction.
    center : array_like, optional
        Position of the saddle (origin by default).
    value_at_saddle : float, optional
        :math:`L_b` (default :math:`\Delta L`, so that :math:`L(a) = 0`).

    References
    ----------
    THEORY.md §1.2, §5; Xie, Sato, Sugiyama, "A Diffusion Theory for Deep Learning Dynamics",
    arXiv 2002.03495 (path parameter :math:`s`).
    """

    def __init__(self, h_a: float, h_b: float, barrier: float, *, h_a2: float | None = None,
                 barrier2: float | None = None, spectators=None, rotation=None, center=None,
                 value_at_saddle: float | None = None):
        self.h_a = V.positive("h_a", h_a)
        if isinstance(h_b, bool) or not isinstance(h_b, (int, float, np.floating, np.integer)):
            raise TypeError(f"h_b must be a real number, got {h_b!r}")
        if not np.isfinite(h_b) or h_b == 0:
            raise ValueError(f"h_b must be finite and non-zero (its absolute value is used), got {h_b!r}")
        self.h_b = abs(float(h_b))
        self.delta_l = V.positive("barrier", barrier)
        self.h_a2 = self.h_a if h_a2 is None else V.positive("h_a2", h_a2)
        self.delta_l2 = self.delta_l if barrier2 is None else V.positive("barrier2", barrier2)
        self.value_at_saddle = (self.delta_l if value_at_saddle is None
                                else float(V.finite_array("value_at_saddle", value_at_saddle, ndim=0)))
        hb = self.h_b
        d1 = np.sqrt(2 * self.delta_l * hb / (self.h_a * (self.h_a + hb)))
        d2 = np.sqrt(2 * self.delta_l2 * hb / (self.h_a2 * (self.h_a2 + hb)))
        self.c1 = -self.h_a * d1 / hb
        self.a1 = self.c1 - d1
        self.c2 = self.h_a2 * d2 / hb
        self.a2 = self.c2 + d2
        self._header = np.array([self.a1, self.c1, self.c2, self.a2, self.h_a, hb, self.h_a2,
                                 self.value_at_saddle, self.delta_l, self.delta_l2])
        self._setup_geometry(spectators, rotation, center)
        self._crit = self.embed(np.array([self.a1, 0.0, self.a2]))
        self._kinds = ["min", "saddle", "min"]

    # -- profile ----------------------------------------------------------------------------
    def _f(self, y, xp):
        lb = self.value_at_saddle
        left = lb - self.delta_l + 0.5 * self.h_a * (y - self.a1) ** 2
        mid = lb - 0.5 * self.h_b * y * y
        right = lb - self.delta_l2 + 0.5 * self.h_a2 * (y - self.a2) ** 2
        return xp.where(y <= self.c1, left, xp.where(y >= self.c2, right, mid))

    def _fp(self, y, xp):
        return xp.where(y <= self.c1, self.h_a * (y - self.a1),
                        xp.where(y >= self.c2, self.h_a2 * (y - self.a2), -self.h_b * y))

    def _fpp(self, y, xp):
        one = y * 0 + 1.0
        return xp.where(y <= self.c1, self.h_a * one, xp.where(y >= self.c2, self.h_a2 * one, -self.h_b * one))

    # -- geometry ---------------------------------------------------------------------------
    @property
    def path_parameter(self) -> float:
        r""":math:`s = |H_b|/(H_a + |H_b|)` of the left well ([DDT])."""
        return self.h_b / (self.h_a + self.h_b)

    @property
    def path_parameter2(self) -> float:
        r""":math:`s' = |H_b|/(H_a' + |H_b|)` of the right well."""
        return self.h_b / (self.h_a2 + self.h_b)

    @property
    def junctions(self) -> tuple[float, float]:
        """Escape-coordinate positions :math:`(c_1, c_2)` of the two junctions."""
        return self.c1, self.c2

    @property
    def breakpoints(self) -> np.ndarray:
        """Junctions as positions ``(2, dim)`` (where drift and Hessian noise are not smooth)."""
        return self.embed(np.array([self.c1, self.c2]))

    def region_of(self, x):
        """0 (left well, :math:`y_0 \\le c_1`), 1 (saddle piece) or 2 (right well, :math:`y_0 \\ge c_2`)."""
        y = self.escape_coordinate(x)
        return (y > self.c1) * 1 + (y >= self.c2) * 1

    @classmethod
    def numba_functions(cls) -> WellFunctions:
        return _PQ_FUNCTIONS

    def describe(self) -> dict:
        return {**super().describe(), "h_a": self.h_a, "h_b": self.h_b, "barrier": self.delta_l,
                "h_a2": self.h_a2, "barrier2": self.delta_l2, "value_at_saddle": self.value_at_saddle,
                "minima_y": [self.a1, self.a2], "junctions_y": [self.c1, self.c2],
                "path_parameter": self.path_parameter}

    def __repr__(self):
        return (f"{type(self).__name__}(h_a={self.h_a}, h_b={self.h_b}, barrier={self.delta_l}, "
                f"h_a2={self.h_a2}, barrier2={self.delta_l2}, dim={self.dim})")


class FlatSharpDoubleWell(PiecewiseQuadraticWells):
    r"""Piecewise-quadratic double well with a flat well (left, :math:`H_{flat}`) and a sharp well
    (right, :math:`H_{sharp}`), for minima selection (THEORY.md §1.2).

    Equal barriers by default (``barrier_sharp=barrier``), so SGD's preference for the flat well
    comes from the curvature alone: :math:`E_{SGD} \propto \Delta L\,(s/H_{ae} + (1-s)/|H_{be}|)`.

    Parameters
    ----------
    h_flat, h_sharp : float
        Curvatures of the left (flat) and right (sharp) wells, ``0 < h_flat < h_sharp``.
    h_b, barrier, barrier_sharp, spectators, rotation, center, value_at_saddle
        As in :class:`PiecewiseQuadraticWells` (``barrier`` from the flat side).
    """

    def __init__(self, h_flat: float, h_sharp: float, h_b: float, barrier: float, *,
                 barrier_sharp: float | None = None, **kwargs):
        hf, hs = V.positive("h_flat", h_flat), V.positive("h_sharp", h_sharp)
        if not hf < hs:
            raise ValueError(f"h_flat must be smaller than h_sharp, got h_flat={hf}, h_sharp={hs}")
        super().__init__(hf, h_b, barrier, h_a2=hs, barrier2=barrier_sharp, **kwargs)

    @property
    def flat_minimum(self) -> int:
        return 0

    @property
    def sharp_minimum(self) -> int:
        return 1


# ----------------------------------------------------------------------------------------------
# Quartic double well
# ----------------------------------------------------------------------------------------------
# header: [barrier, a]
@jit(inline=True)
def _quartic_fprime(y, p):
    u = y / p[1]
    return 4.0 * p[0] * u * (u * u - 1.0) / p[1]


@jit(inline=True)
def _quartic_fsecond(y, p):
    u = y / p[1]
    return 4.0 * p[0] * (3.0 * u * u - 1.0) / (p[1] * p[1])


@jit(inline=True)
def _quartic_anchor(y, p):
    a = p[1]
    if y <= -0.5 * a:
        return -a
    if y >= 0.5 * a:
        return a
    return 0.0


_QUARTIC_FUNCTIONS = _profile_factory(2, _quartic_fprime, _quartic_fsecond, _quartic_anchor)


class QuarticDoubleWell(_ProfileLandscape):
    r"""Quartic double well :math:`f(y) = \Delta L\,((y/a)^2 - 1)^2` along the escape coordinate,
    plus quadratic spectators (THEORY.md §1.3).

    Minima :math:`y = \pm a` (:math:`H_a = 8\Delta L/a^2`), saddle :math:`y = 0`
    (:math:`H_b = -4\Delta L/a^2`), barrier :math:`\Delta L`.  :math:`f''` vanishes at the inflection
    points :math:`y = \pm a/\sqrt3`: Hessian noise needs a floor there.  Regions (for local noise):
    nearest critical point along the escape coordinate, i.e. split at :math:`y = \pm a/2`.

    Parameters
    ----------
    barrier : float
        :math:`\Delta L > 0`.
    a : float
        :math:`a > 0`, distance of each minimum from the saddle.
    spectators, rotation, center
        As in :class:`PiecewiseQuadraticWells`.
    """

    def __init__(self, barrier: float = 1.0, a: float = 1.0, *, spectators=None, rotation=None, center=None):
        self.delta_l = V.positive("barrier", barrier)
        self.a = V.positive("a", a)
        self._header = np.array([self.delta_l, self.a])
        self._setup_geometry(spectators, rotation, center)
        self._crit = self.embed(np.array([-self.a, 0.0, self.a]))
        self._kinds = ["min", "saddle", "min"]

    def _f(self, y, xp):
        u = y / self.a
        return self.delta_l * (u * u - 1.0) ** 2

    def _fp(self, y, xp):
        u = y / self.a
        return 4.0 * self.delta_l * u * (u * u - 1.0) / self.a

    def _fpp(self, y, xp):
        u = y / self.a
        return 4.0 * self.delta_l * (3.0 * u * u - 1.0) / self.a**2

    @property
    def inflection_points(self) -> np.ndarray:
        """Escape-coordinate positions :math:`\\pm a/\\sqrt3` where :math:`f'' = 0`."""
        return np.array([-self.a, self.a]) / np.sqrt(3.0)

    def region_of(self, x):
        """0 (:math:`y_0 \\le -a/2`), 1 (:math:`|y_0| < a/2`), 2 (:math:`y_0 \\ge a/2`)."""
        y = self.escape_coordinate(x)
        return (y > -0.5 * self.a) * 1 + (y >= 0.5 * self.a) * 1

    @classmethod
    def numba_functions(cls) -> WellFunctions:
        return _QUARTIC_FUNCTIONS

    def describe(self):
        return {**super().describe(), "barrier": self.delta_l, "a": self.a}

    def __repr__(self):
        return f"QuarticDoubleWell(barrier={self.delta_l}, a={self.a}, dim={self.dim})"


# ----------------------------------------------------------------------------------------------
# Styblinski–Tang
# ----------------------------------------------------------------------------------------------
#: Roots of :math:`4x^3 - 32x + 5 = 0` (critical coordinates of Styblinski–Tang), increasing:
#: minimum, maximum, minimum of the 1-D profile.
ST_CRITICAL_ROOTS = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)


@jit(inline=True)
def _st_gradient(x, p, out):
    for i in range(x.shape[0]):
        out[i] = 2.0 * x[i] ** 3 - 16.0 * x[i] + 2.5


@jit(inline=True)
def _st_eigenvalues(x, p, out):
    for i in range(x.shape[0]):
        out[i] = 6.0 * x[i] * x[i] - 16.0


@jit(inline=True)
def _st_hessian(x, p, out):
    n = x.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 0.0
        out[i, i] = 6.0 * x[i] * x[i] - 16.0


@jit(inline=True)
def _st_critical_point(x, p, out):
    # p = [r0, r1, r2, m01, m12]: roots and the midpoints between them
    for i in range(x.shape[0]):
        if x[i] <= p[3]:
            out[i] = p[0]
        elif x[i] >= p[4]:
            out[i] = p[2]
        else:
            out[i] = p[1]


_ST_FUNCTIONS = WellFunctions(gradient=_st_gradient, hessian=_st_hessian,
                              hessian_eigenvalues=_st_eigenvalues, critical_point=_st_critical_point)


class StyblinskiTang(WellsLandscapeBase):
    r"""Styblinski–Tang function :math:`f(x) = \tfrac12\sum_i (x_i^4 - 16x_i^2 + 5x_i)` (THEORY.md §1.3).

    Separable: :math:`\partial_i f = 2x_i^3 - 16x_i + 5/2`, :math:`H = \operatorname{diag}(6x_i^2 - 16)`
    (fixed eigenbasis :math:`I`).  Per coordinate the critical values are the roots
    :math:`r_0 < r_1 < r_2` of :math:`4x^3 - 32x + 5 = 0` (:data:`ST_CRITICAL_ROOTS`,
    :math:`r_0 \approx -2.9035` global, :math:`r_2 \approx 2.7468` local minimum, :math:`r_1 \approx 0.1567`
    maximum), so there are :math:`3^n` critical points, :math:`2^n` minima; a point with :math:`k`
    coordinates at :math:`r_1` has Morse index :math:`k` (``"saddle"`` for :math:`k = 1`).  The Hessian
    vanishes at :math:`x_i = \pm\sqrt{8/3}`: Hessian noise needs a floor.  Regions: per coordinate
    the nearest root (split at the midpoints :math:`(r_0+r_1)/2`, :math:`(r_1+r_2)/2`);
    ``region_of`` returns :math:`\sum_i j_i 3^i` (:math:`j_i` the root index of coordinate
    :math:`i`), the index into ``critical_points()``.

    Parameters
    ----------
    dim : int
        :math:`n \ge 1` (critical points are enumerated for :math:`n \le 10`).
    """

    def __init__(self, dim: int = 2):
        self.dim = V.positive_int("dim", dim)
        r = ST_CRITICAL_ROOTS
        self.hessian_eigenbasis = np.eye(self.dim)
        self.params = np.array([r[0], r[1], r[2], 0.5 * (r[0] + r[1]), 0.5 * (r[1] + r[2])])
        if self.dim <= 10:
            idx = np.array(list(itertools.product(range(3), repeat=self.dim)))[:, ::-1]  # idx[:, i] = j_i
            self._crit = r[idx]
            k = (idx == 1).sum(axis=1)
            self._kinds = ["min" if m == 0 else "saddle" if m == 1 else
                           ("max" if m == self.dim else f"saddle-{m}") for m in k]
        else:
            self._crit, self._kinds = np.zeros((0, self.dim)), []

    def value(self, x):
        x = self._points(x)
        return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x).sum(axis=-1)

    def gradient(self, x):
        x = self._points(x)
        return 2.0 * x**3 - 16.0 * x + 2.5

    def hessian_eigenvalues(self, x):
        x = self._points(x)
        return 6.0 * x * x - 16.0

    def hessian(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        return xp.einsum("...i,ij->...ij", self.hessian_eigenvalues(x), _xp.asarray_like(np.eye(self.dim), x))

    def region_of(self, x):
        x = self._points(x)
        j = (x > self.params[3]) * 1 + (x >= self.params[4]) * 1
        w = _xp.asarray_like(3.0 ** np.arange(self.dim), x)
        return (j * w).sum(axis=-1).astype(int) if not _xp.is_torch(x) else (j * w).sum(axis=-1).long()

    def local_critical_point(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        r = self.params
        return xp.where(x <= r[3], r[0] + 0 * x, xp.where(x >= r[4], r[2] + 0 * x, r[1] + 0 * x))

    @classmethod
    def numba_functions(cls) -> WellFunctions:
        return _ST_FUNCTIONS

    def __repr__(self):
        return f"StyblinskiTang(dim={self.dim})"


# ----------------------------------------------------------------------------------------------
# Curved (non-separable) tilted double well in 2-D
# ----------------------------------------------------------------------------------------------
# params: [barrier, a, tilt, k, gamma, n_crit, crit (2*m)]
@jit(inline=True)
def _cdw_gradient(x, p, out):
    dl, a, tau, k, g = p[0], p[1], p[2], p[3], p[4]
    u = x[0] / a
    r = x[1] - g * x[0] * x[0]
    out[0] = 4.0 * dl * u * (u * u - 1.0) / a + tau - 2.0 * k * g * x[0] * r
    out[1] = k * r


@jit(inline=True)
def _cdw_hessian(x, p, out):
    dl, a, k, g = p[0], p[1], p[3], p[4]
    u = x[0] / a
    r = x[1] - g * x[0] * x[0]
    out[0, 0] = 4.0 * dl * (3.0 * u * u - 1.0) / (a * a) - 2.0 * k * g * r + 4.0 * k * g * g * x[0] * x[0]
    out[0, 1] = -2.0 * k * g * x[0]
    out[1, 0] = out[0, 1]
    out[1, 1] = k


@jit(inline=True)
def _cdw_critical_point(x, p, out):
    m = int(p[5])
    best, bd = 0, np.inf
    for i in range(m):
        d0 = x[0] - p[6 + 2 * i]
        d1 = x[1] - p[7 + 2 * i]
        d = d0 * d0 + d1 * d1
        if d < bd:
            bd, best = d, i
    out[0] = p[6 + 2 * best]
    out[1] = p[7 + 2 * best]


_CDW_FUNCTIONS = WellFunctions(gradient=_cdw_gradient, hessian=_cdw_hessian, hessian_eigenvalues=None,
                               critical_point=_cdw_critical_point)


class CurvedDoubleWell(WellsLandscapeBase):
    r"""Non-separable 2-D tilted double well in a curved (parabolic) valley (THEORY.md §1.3):

    .. math:: L(x, y) = \Delta L\,((x/a)^2 - 1)^2 + \tau x + \tfrac{k}{2}\,(y - \gamma x^2)^2 .

    The valley floor :math:`y = \gamma x^2` bends, so the Hessian

    .. math:: H = \begin{pmatrix} \frac{4\Delta L}{a^2}(3u^2 - 1) - 2k\gamma r + 4k\gamma^2x^2 & -2k\gamma x \\
                  -2k\gamma x & k\end{pmatrix},\qquad u = x/a,\; r = y - \gamma x^2,

    has position-dependent eigenvectors (no fixed eigenbasis: Hessian noise uses an eigen-decomposition
    per step) and the escape direction at the saddle is not a coordinate axis.  The tilt
    :math:`\tau` makes the wells unequal (left deeper for :math:`\tau > 0`).  Critical points are
    found numerically with :func:`scipy.optimize.root` from the seeds :math:`x \in \{-a, 0, a\}`
    on the valley floor, and classified by the signs of the Hessian eigenvalues (the tests check
    them against the roots of the reduced cubic :math:`4\Delta L u(u^2-1)/a + \tau = 0`,
    :math:`y = \gamma x^2`).  For the defaults (:math:`\Delta L = 1, a = 1, \tau = 0.25, k = 4,
    \gamma = 0.5`) the minima are near :math:`x \approx -1.030, 0.967` and the saddle near
    :math:`x \approx 0.063`.  The Hessian's smaller eigenvalue vanishes on a curve near
    :math:`|x| \approx a/\sqrt3`: Hessian noise needs a floor.  Regions (local noise): nearest
    critical point (Euclidean).

    Parameters
    ----------
    barrier : float
        :math:`\Delta L > 0` of the untilted profile.
    a : float
        :math:`a > 0`.
    tilt : float
        :math:`\tau`, with :math:`|\tau| < 8\Delta L/(3\sqrt3\,a)` so that three critical points exist.
    k : float
        Valley stiffness :math:`k > 0`.
    gamma : float
        Valley curvature :math:`\gamma` (0 gives a separable landscape).
    """

    def __init__(self, barrier: float = 1.0, a: float = 1.0, tilt: float = 0.25, k: float = 4.0,
                 gamma: float = 0.5):
        from scipy import optimize

        self.dim = 2
        self.delta_l = V.positive("barrier", barrier)
        self.a = V.positive("a", a)
        tmax = 8.0 * self.delta_l / (3.0 * np.sqrt(3.0) * self.a)
        self.tilt = V.in_range("tilt", tilt, -tmax, tmax, lo_open=True, hi_open=True)
        self.k = V.positive("k", k)
        self.gamma = float(V.finite_array("gamma", gamma, ndim=0))
        base = np.array([self.delta_l, self.a, self.tilt, self.k, self.gamma])
        self.params = np.concatenate([base, [0.0]])
        pts = []
        for x_seed in (-self.a, 0.0, self.a):
            sol = optimize.root(lambda z: self.gradient(z), [x_seed, self.gamma * x_seed**2],
                                jac=lambda z: self.hessian(z), method="hybr", tol=1e-12)
            z = sol.x
            for _ in range(3):  # Newton polish to round-off
                z = z - np.linalg.solve(self.hessian(z), self.gradient(z))
            scale = self.delta_l / self.a + abs(self.tilt)
            if not np.all(np.isfinite(z)) or np.linalg.norm(self.gradient(z)) > 1e-10 * scale:  # pragma: no cover
                raise RuntimeError(f"critical point search failed from x={x_seed}: {sol.message}")
            pts.append(z)
        pts = np.array(sorted(pts, key=lambda z: z[0]))
        if np.min(np.diff(pts[:, 0])) < 1e-8:  # pragma: no cover - guarded by the tilt check
            raise RuntimeError("critical point search converged to the same point twice")
        self._crit = pts
        self._kinds = []
        for q in pts:
            lam = np.linalg.eigvalsh(self.hessian(q))
            self._kinds.append("min" if lam[0] > 0 else "saddle" if lam[1] > 0 else "max")
        self.params = np.concatenate([base, [len(pts)], pts.ravel()])

    def value(self, x):
        x = self._points(x)
        u = x[..., 0] / self.a
        r = x[..., 1] - self.gamma * x[..., 0] ** 2
        return self.delta_l * (u * u - 1.0) ** 2 + self.tilt * x[..., 0] + 0.5 * self.k * r * r

    def gradient(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        x0 = x[..., 0]
        u = x0 / self.a
        r = x[..., 1] - self.gamma * x0**2
        g0 = 4.0 * self.delta_l * u * (u * u - 1.0) / self.a + self.tilt - 2.0 * self.k * self.gamma * x0 * r
        return xp.stack([g0, self.k * r], axis=-1)

    def hessian(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        x0 = x[..., 0]
        u = x0 / self.a
        r = x[..., 1] - self.gamma * x0**2
        h00 = (4.0 * self.delta_l * (3.0 * u * u - 1.0) / self.a**2 - 2.0 * self.k * self.gamma * r
               + 4.0 * self.k * self.gamma**2 * x0**2)
        h01 = -2.0 * self.k * self.gamma * x0
        h11 = self.k + 0.0 * x0
        return xp.stack([xp.stack([h00, h01], axis=-1), xp.stack([h01, h11], axis=-1)], axis=-2)

    def region_of(self, x):
        x = self._points(x)
        d = ((x[..., None, :] - _xp.asarray_like(self._crit, x)) ** 2).sum(axis=-1)
        return d.argmin(axis=-1)

    @classmethod
    def numba_functions(cls) -> WellFunctions:
        return _CDW_FUNCTIONS

    def describe(self):
        return {**super().describe(), "barrier": self.delta_l, "a": self.a, "tilt": self.tilt,
                "k": self.k, "gamma": self.gamma, "critical_points": self._crit.tolist(),
                "critical_kinds": self._kinds}

    def __repr__(self):
        return (f"CurvedDoubleWell(barrier={self.delta_l}, a={self.a}, tilt={self.tilt}, k={self.k}, "
                f"gamma={self.gamma})")
