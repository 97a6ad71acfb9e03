"""Landscapes defined by a 1-D profile along an escape coordinate plus quadratic spectators: the
piecewise-quadratic (Kramers) wells, the flat/sharp double well and the quartic double well,
assembled by one factory from three tiny compiled functions (docs/theory.md §1.2, §1.3)."""
from __future__ import annotations


import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import WellFunctions, WellsLandscapeBase


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
    r"""Piecewise-quadratic double well, the Kramers landscape of docs/theory.md §1.2.

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
    docs/theory.md §1.2, §5; Xie, Sato, Sugiyama, "A Diffusion Theory for Deep Learning Dynamics",
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
    (right, :math:`H_{sharp}`), for minima selection (docs/theory.md §1.2).

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
    plus quadratic spectators (docs/theory.md §1.3).

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
