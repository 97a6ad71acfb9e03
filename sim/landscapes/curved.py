"""A non-separable 2-D double well with a curved escape path (docs/theory.md §1.3)."""
from __future__ import annotations


import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import WellFunctions, WellsLandscapeBase


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
    r"""Non-separable 2-D tilted double well in a curved (parabolic) valley (docs/theory.md §1.3):

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
