r"""Analytic loss landscapes: value, gradient and Hessian in closed form.

A landscape describes *what* is minimised.  Each class offers

* a NumPy interface, vectorised over leading axes: ``value(x)``, ``gradient(x)``, ``hessian(x)``
  for ``x`` of shape ``(..., dim)``;
* compiled functions for the kernels (``numba_functions()``), module-level and shared by every
  instance of the class, that read all numbers from one flat parameter array ``params``:
  ``gradient(x, params, out)`` and ``hessian(x, params, out)``.  So one compiled kernel serves every
  instance of the class (no recompilation when eigenvalues change).

References
----------
THEORY.md §1 (landscapes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as V
from . import _xp
from ._jit import jit

__all__ = ["LandscapeBase", "QuadraticSaddle", "random_rotation"]


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
    columns are the eigenvectors.  This is Assumption 1 of Xie et al. made exact (THEORY.md §1.1).

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
