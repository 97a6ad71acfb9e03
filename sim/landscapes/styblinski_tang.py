"""The Styblinski–Tang function (docs/theory.md §1.3): separable, 2ⁿ minima."""
from __future__ import annotations

import itertools

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import WellFunctions, WellsLandscapeBase


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
    r"""Styblinski–Tang function :math:`f(x) = \tfrac12\sum_i (x_i^4 - 16x_i^2 + 5x_i)` (docs/theory.md §1.3).

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
