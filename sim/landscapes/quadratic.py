"""The quadratic saddle (docs/theory.md §1.1): Assumption 1 made exact."""
from __future__ import annotations


import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import LandscapeBase, LandscapeFunctions


@jit(inline=True)
def _quadratic_gradient(x, p, out):
    n = x.shape[0]
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += p[1 + n + i * n + j] * (x[j] - p[1 + j])
        out[i] = acc


@jit(inline=True)
def _quadratic_hessian(x, p, out):
    n = x.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = p[1 + n + i * n + j]


class QuadraticSaddle(LandscapeBase):
    r"""Quadratic saddle :math:`L(\theta) = L_c + \tfrac12 (\theta-c)^\top H (\theta-c)`.

    :math:`H = U \operatorname{diag}(\lambda) U^\top` with the given eigenvalues (any signs; a
    minimum or maximum is the special case of one sign) and an optional rotation ``U`` whose
    columns are the eigenvectors.  This is Assumption 1 of Xie et al. made exact (docs/theory.md §1.1).

    Parameters
    ----------
    eigenvalues : array_like, shape (dim,)
        Eigenvalues :math:`\lambda_i` of :math:`H` (finite).
    rotation : array_like, shape (dim, dim), optional
        Orthogonal matrix ``U``; identity if omitted.
    center : array_like, shape (dim,), optional
        Critical point ``c``; the origin if omitted.
    value_at_center : float
        :math:`L_c`.
    """

    constant_hessian = True

    def __init__(self, eigenvalues, rotation=None, center=None, value_at_center: float = 0.0):
        lam = V.finite_array("eigenvalues", eigenvalues, ndim=1)
        if lam.size < 1:
            raise ValueError("eigenvalues must have at least one entry")
        self.dim = int(lam.size)
        self.eigenvalues = lam
        u = V.orthogonal_matrix("rotation", rotation, self.dim)
        self.rotation = u
        self.center = np.zeros(self.dim) if center is None else V.vector("center", center, self.dim)
        self.value_at_center = float(V.finite_array("value_at_center", value_at_center, ndim=0))
        self.H = u @ np.diag(lam) @ u.T
        self.H = 0.5 * (self.H + self.H.T)
        self.params = np.concatenate([[self.value_at_center], self.center, self.H.ravel()])

    @classmethod
    def from_hessian(cls, hessian, center=None, value_at_center: float = 0.0) -> "QuadraticSaddle":
        """Build from a symmetric Hessian matrix (checked for finiteness and symmetry)."""
        h = V.symmetric_matrix("hessian", hessian)
        lam, u = np.linalg.eigh(h)
        return cls(lam, rotation=u, center=center, value_at_center=value_at_center)

    def value(self, x):
        x = self._points(x)
        d = x - _xp.asarray_like(self.center, x)
        return self.value_at_center + 0.5 * ((d @ _xp.asarray_like(self.H, x)) * d).sum(axis=-1)

    def gradient(self, x):
        x = self._points(x)
        return _xp.matvec_rows(x - _xp.asarray_like(self.center, x), self.H)

    def hessian(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        return _xp.copy(xp.broadcast_to(_xp.asarray_like(self.H, x), tuple(x.shape[:-1]) + (self.dim, self.dim)))

    @classmethod
    def numba_functions(cls) -> LandscapeFunctions:
        return LandscapeFunctions(gradient=_quadratic_gradient, hessian=_quadratic_hessian)

    def describe(self) -> dict:
        return {
            **super().describe(),
            "eigenvalues": self.eigenvalues.tolist(),
            "rotation": self.rotation.tolist(),
            "center": self.center.tolist(),
            "value_at_center": self.value_at_center,
        }

    def __repr__(self) -> str:
        return f"QuadraticSaddle(eigenvalues={self.eigenvalues.tolist()}, dim={self.dim})"
