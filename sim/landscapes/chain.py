r"""Smooth non-convex landscapes with bounded gradients for convergence experiments (docs/theory.md §1,
§5 Theorem 4), and a linear one for the online counterexample of Reddi et al.

:class:`WellChain`: :math:`L(\theta) = \sum_i \phi(\theta_i) + \kappa \sum_{i<n} \tanh\theta_i
\tanh\theta_{i+1}`, :math:`\phi(x) = \log(1 + (x^2-1)^2/4)`: a double well per coordinate (minima at
:math:`\pm1`, a maximum at 0) coupled along a chain (:math:`\kappa = 0`: separable).  Its gradient and
Hessian are bounded on all of :math:`\mathbb R^n` (:math:`\phi' \to 0` at infinity), so a bounded
gradient noise gives the bounded stochastic gradients Theorem 4 assumes; :meth:`WellChain.constants`
returns the rigorous constants the bound needs.

:class:`LinearSlope`: :math:`L(\theta) = c^\top\theta` (constant gradient; bounded on a box).
"""
from __future__ import annotations

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import LandscapeBase, LandscapeFunctions


@jit(inline=True)
def _phi1(x):
    u = x * x - 1.0
    return x * u / (1.0 + 0.25 * u * u)


@jit(inline=True)
def _phi2(x):
    u = x * x - 1.0
    d = 1.0 + 0.25 * u * u
    return (3.0 * x * x - 1.0) / d - (x * u) ** 2 / (d * d)


@jit(inline=True)
def _chain_gradient(x, p, out):
    n, kappa = x.shape[0], p[0]
    for i in range(n):
        t_nb = 0.0
        if i > 0:
            t_nb += np.tanh(x[i - 1])
        if i < n - 1:
            t_nb += np.tanh(x[i + 1])
        th = np.tanh(x[i])
        out[i] = _phi1(x[i]) + kappa * (1.0 - th * th) * t_nb


@jit(inline=True)
def _chain_hessian(x, p, out):
    n, kappa = x.shape[0], p[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 0.0
    for i in range(n):
        t_nb = 0.0
        if i > 0:
            t_nb += np.tanh(x[i - 1])
        if i < n - 1:
            t_nb += np.tanh(x[i + 1])
        th = np.tanh(x[i])
        out[i, i] = _phi2(x[i]) - 2.0 * kappa * th * (1.0 - th * th) * t_nb
        if i < n - 1:
            th1 = np.tanh(x[i + 1])
            out[i, i + 1] = kappa * (1.0 - th * th) * (1.0 - th1 * th1)
            out[i + 1, i] = out[i, i + 1]


_CHAIN_FUNCTIONS = LandscapeFunctions(gradient=_chain_gradient, hessian=_chain_hessian)


def _sup_abs(f, lipschitz, lo=-12.0, hi=12.0, n=240_001):
    """A rigorous upper bound of ``sup |f|`` on R for the even-or-odd, decaying 1-D functions here:
    the grid maximum plus ``lipschitz · h/2`` (``h`` the grid spacing); beyond ``|x| > 12`` the
    functions are smaller than on the grid (|φ'| ≤ 4.1/|x|, |φ''| ≤ 12/x², checked by the tests)."""
    x = np.linspace(lo, hi, n)
    return float(np.max(np.abs(f(x))) + lipschitz * (hi - lo) / (n - 1) / 2)


class WellChain(LandscapeBase):
    r"""A chain of coupled smooth double wells with bounded gradient (module docstring).

    .. math::
        L(\theta) = \sum_{i=1}^n \log\Big(1 + \tfrac14(\theta_i^2-1)^2\Big)
        + \kappa\sum_{i=1}^{n-1}\tanh\theta_i\tanh\theta_{i+1}.

    Parameters
    ----------
    dim : int
        :math:`n \ge 1`.
    coupling : float
        :math:`\kappa` (0: separable).
    """

    def __init__(self, dim: int, coupling: float = 0.5):
        self.dim = V.positive_int("dim", dim)
        if isinstance(coupling, bool) or not isinstance(coupling, (int, float, np.floating)):
            raise TypeError(f"coupling must be a real number, got {coupling!r}")
        self.coupling = V.in_range("coupling", coupling, -1e6, 1e6)
        self.params = np.array([self.coupling])

    @staticmethod
    def _phi(x, xp):
        return xp.log(1.0 + 0.25 * (x * x - 1.0) ** 2)

    @staticmethod
    def phi1(x):
        r""":math:`\phi'(x)` (NumPy or torch)."""
        u = x * x - 1.0
        return x * u / (1.0 + 0.25 * u * u)

    @staticmethod
    def phi2(x):
        r""":math:`\phi''(x)` (NumPy or torch)."""
        u = x * x - 1.0
        d = 1.0 + 0.25 * u * u
        return (3.0 * x * x - 1.0) / d - (x * u) ** 2 / (d * d)

    def _neighbour_tanh(self, th):
        xp = _xp.namespace(th)
        z = th[..., :1] * 0.0
        return xp.concatenate([z, th[..., :-1]], -1) + xp.concatenate([th[..., 1:], z], -1)

    def value(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        th = xp.tanh(x)
        return self._phi(x, xp).sum(-1) + self.coupling * (th[..., :-1] * th[..., 1:]).sum(-1)

    def gradient(self, x):
        x = self._points(x)
        th = _xp.namespace(x).tanh(x)
        return self.phi1(x) + self.coupling * (1.0 - th * th) * self._neighbour_tanh(th)

    def hessian(self, x):
        x = self._points(x)
        xp = _xp.namespace(x)
        th = xp.tanh(x)
        s = 1.0 - th * th
        diag = self.phi2(x) - 2.0 * self.coupling * th * s * self._neighbour_tanh(th)
        off = self.coupling * s[..., :-1] * s[..., 1:]
        eye = _xp.asarray_like(np.eye(self.dim), x)
        up = _xp.asarray_like(np.eye(self.dim, k=1), x)
        off_full = xp.concatenate([off, off[..., :1] * 0.0], -1)
        h = xp.einsum("...i,ij->...ij", diag, eye) + xp.einsum("...i,ij->...ij", off_full, up)
        return h + xp.einsum("...i,ij->...ji", off_full, up)

    @classmethod
    def numba_functions(cls) -> LandscapeFunctions:
        return _CHAIN_FUNCTIONS

    def constants(self) -> dict:
        r"""Rigorous constants for Theorem 4 (docs/theory.md §5):

        * ``grad_inf``: :math:`\sup_\theta \|\nabla L\|_\infty \le \sup|\phi'| + 2|\kappa|`;
        * ``smoothness``: :math:`L \ge \sup_\theta\|\nabla^2 L\|_2`, by Gershgorin on the
          tridiagonal Hessian: :math:`\sup|\phi''| + 2|\kappa|\sup|\tanh\,\mathrm{sech}^2|\cdot 2
          + 2\cdot|\kappa|`, with :math:`\sup|\tanh x\,\mathrm{sech}^2 x| = 2/(3\sqrt3)`;
        * ``inf_value``: a lower bound of :math:`L^* = \inf L`: :math:`-|\kappa|(n-1)` (each
          :math:`\phi \ge 0`, :math:`\tanh\tanh \ge -1`); exact (0) when :math:`\kappa = 0`.

        Sup norms of :math:`\phi', \phi''` are grid maxima plus a Lipschitz allowance (:func:`_sup_abs`).
        """
        k = abs(self.coupling)
        sup_phi2 = _sup_abs(self.phi2, lipschitz=10.0)  # |φ'''| < 10 (checked by the tests)
        sup_phi1 = _sup_abs(self.phi1, lipschitz=sup_phi2)
        sts = 2.0 / (3.0 * np.sqrt(3.0))
        return {"grad_inf": sup_phi1 + 2.0 * k, "smoothness": sup_phi2 + 4.0 * k * sts + 2.0 * k,
                "inf_value": -k * (self.dim - 1), "sup_phi1": sup_phi1, "sup_phi2": sup_phi2}

    def describe(self):
        return {**super().describe(), "coupling": self.coupling}

    def __repr__(self):
        return f"WellChain(dim={self.dim}, coupling={self.coupling})"


@jit(inline=True)
def _linear_gradient(x, p, out):
    for i in range(x.shape[0]):
        out[i] = p[i]


@jit(inline=True)
def _linear_hessian(x, p, out):
    n = x.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 0.0


_LINEAR_FUNCTIONS = LandscapeFunctions(gradient=_linear_gradient, hessian=_linear_hessian)


class LinearSlope(LandscapeBase):
    r""":math:`L(\theta) = c^\top\theta` (constant gradient ``slope``; use it on a box).

    Parameters
    ----------
    slope : array_like, shape (dim,)
    """

    constant_hessian = True

    def __init__(self, slope):
        self.slope = V.finite_array("slope", slope, ndim=1)
        if self.slope.size < 1:
            raise ValueError("slope must have at least one entry")
        self.dim = int(self.slope.size)
        self.params = self.slope.copy()

    def value(self, x):
        x = self._points(x)
        return (x * _xp.asarray_like(self.slope, x)).sum(-1)

    def gradient(self, x):
        x = self._points(x)
        return x * 0.0 + _xp.asarray_like(self.slope, x)

    def hessian(self, x):
        x = self._points(x)
        return (x[..., None] * x[..., None, :]) * 0.0

    @classmethod
    def numba_functions(cls) -> LandscapeFunctions:
        return _LINEAR_FUNCTIONS

    def describe(self):
        return {**super().describe(), "slope": self.slope.tolist()}

    def __repr__(self):
        return f"LinearSlope({self.slope.tolist()!r})"
