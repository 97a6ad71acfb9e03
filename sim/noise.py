r"""Gradient-noise models :math:`C(\theta)` (docs/theory.md §2).

A stochastic gradient is :math:`g = \nabla L(\theta) + \xi` with :math:`\xi = C(\theta)^{1/2} z`,
:math:`z \sim N(0, I)`, where :math:`C^{1/2}` is the *symmetric* square root, so anisotropic and
rotated covariances are sampled exactly.

Binding a noise model to a landscape (:meth:`NoiseBase.bind`) yields a :class:`BoundNoise`: the
compiled function ``apply(x, z, landscape_params, noise_params, out)`` (``out = C(x)^{1/2} z``) and
its parameter array.  When :math:`C` does not depend on position (white noise, or Hessian noise on a
quadratic landscape) the factor is computed once and the kernel only does a matrix–vector product.

References
----------
docs/theory.md §2; Xie, Sato, Sugiyama, "A Diffusion Theory for Deep Learning Dynamics", arXiv 2002.03495
(gradient-noise covariance :math:`\approx H/B` near critical points).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import _validation as V
from . import _xp
from . import symeig
from ._jit import jit, stack_empty
from .landscapes import LandscapeBase

__all__ = ["NoiseBase", "HessianNoise", "LocalHessianNoise", "WhiteNoise", "BoundNoise", "abs_sqrt",
           "eigenbasis_apply", "SlowPathWarning"]


def abs_sqrt(h, scale: float = 1.0, floor: float = 0.0):
    r"""Symmetric square root of :math:`([H]^+ + h_{min} I)\,\mathrm{scale}`, vectorised over ``(..., n, n)``.

    :math:`[H]^+ = U|\Lambda|U^\top`, so the result is :math:`U (|\Lambda| + h_{min})^{1/2} U^\top \sqrt{\mathrm{scale}}`.
    NumPy arrays or torch tensors.
    """
    xp = _xp.namespace(h)
    lam, u = xp.linalg.eigh(h)
    root = xp.sqrt((xp.abs(lam) + floor) * scale)
    return xp.einsum("...ij,...j,...kj->...ik", u, root, u)


@dataclass(frozen=True)
class BoundNoise:
    """A noise model bound to a landscape: what a kernel needs."""

    apply: object  # apply(x, z, landscape_params, noise_params, out, work)
    params: np.ndarray
    constant: bool  # True when C does not depend on position
    #: length of the per-path scratch vector ``work`` that ``apply`` uses (the kernel allocates it
    #: once per path, so that ``apply`` allocates nothing per step)
    work: int = 0

    def scratch(self) -> np.ndarray:
        """A scratch vector for calling ``apply`` from Python."""
        return np.empty(max(1, self.work))


@jit(inline=True)
def _apply_constant_factor(x, z, lp, nzp, out, work):
    n = z.shape[0]
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += nzp[i * n + j] * z[j]
        out[i] = acc


@lru_cache(maxsize=None)
def _sqrt_from_eig(dim):
    """Compiled ``(lam, u, z, inv_b, floor, out)``: ``out = U diag(sqrt((|lam| + floor) inv_b)) U^T z``
    (overwrites ``lam``), with loops over the compile-time constant ``dim`` (unrolled: measured on the
    2-D curved double well, 100 ns per noise call with loops over a run-time length against 50 ns)."""

    @jit(inline=True)
    def sqrt_from_eig(lam, u, z, inv_b, floor, out):
        for k in range(dim):
            proj = 0.0
            for j in range(dim):
                proj += u[j, k] * z[j]
            lam[k] = np.sqrt((abs(lam[k]) + floor) * inv_b) * proj
        for i in range(dim):
            acc = 0.0
            for k in range(dim):
                acc += u[i, k] * lam[k]
            out[i] = acc

    return sqrt_from_eig


@lru_cache(maxsize=None)
def _all_finite(dim):
    """Compiled ``(h) -> bool``: every entry of the ``(dim, dim)`` matrix is finite."""

    @jit(inline=True)
    def all_finite(h):
        finite = True
        for i in range(dim):
            for j in range(dim):
                finite = finite and np.isfinite(h[i, j])
        return finite

    return all_finite


@lru_cache(maxsize=None)
def _make_apply_hessian_factor(hessian_fn, dim):
    """Kernel function computing ``([H(x)]^+ + floor)^{1/2} z / sqrt(B)`` by LAPACK's ``eigh``: the
    general path for ``dim >= 4`` (it allocates per step; :class:`HessianNoise` warns when it is used)."""
    finite, sqrt_from_eig = _all_finite(dim), _sqrt_from_eig(dim)

    @jit
    def apply(x, z, lp, nzp, out, work):
        h = np.empty((dim, dim))  # (eigh allocates anyway: this is the general, slow path)
        hessian_fn(x, lp, h)
        if not finite(h):
            # A path running off to infinity: numba's eigh would raise (and abort the whole
            # parallel kernel); a NaN sample makes the kernel mark just this path diverged.
            out[:] = np.nan
            return
        lam, u = np.linalg.eigh(h)
        sqrt_from_eig(lam, u, z, nzp[0], nzp[1], out)

    return apply


@jit(inline=True)
def _eigh1(h, lam, u):
    lam[0] = h[0, 0]
    u[0, 0] = 1.0


#: Closed-form symmetric eigen-decompositions by dimension (:mod:`sim.symeig`).
_CLOSED_FORM_EIGH = {1: _eigh1, 2: symeig.eigh2, 3: symeig.eigh3}


@lru_cache(maxsize=None)
def _make_apply_hessian_closed_form(hessian_fn, eigh_fn, dim):
    """Kernel function computing ``([H(x)]^+ + floor)^{1/2} z / sqrt(B)`` with a closed-form
    eigen-decomposition ``eigh_fn(h, lam, u)`` (dim 1–3).  ``H``, ``U`` and the eigenvalues live on the
    stack (:func:`sim._jit.stack_empty`): nothing is allocated per step."""
    nn = dim * dim

    finite, sqrt_from_eig = _all_finite(dim), _sqrt_from_eig(dim)

    @jit(inline=True)
    def apply(x, z, lp, nzp, out, work):
        h = stack_empty(nn, (dim, dim))
        u = stack_empty(nn, (dim, dim))
        lam = stack_empty(dim, (dim,))
        hessian_fn(x, lp, h)
        if not finite(h):  # a path running off to infinity: NaN marks it diverged
            for i in range(dim):
                out[i] = np.nan
            return
        eigh_fn(h, lam, u)
        sqrt_from_eig(lam, u, z, nzp[0], nzp[1], out)

    return apply


@lru_cache(maxsize=None)
def _make_apply_hessian_2x2(hessian_fn):
    """2-D kernel function: ``s_lo z + (s_hi - s_lo) P_hi z`` with ``s = sqrt((|lambda| + floor)/B)``
    and the spectral projector ``P_hi`` of :func:`sim.symeig.eigh2_projector` (measured 36 ns per call
    on the curved double well against 51 ns through the eigenvectors)."""

    @jit(inline=True)
    def apply(x, z, lp, nzp, out, work):
        h = stack_empty(4, (2, 2))
        hessian_fn(x, lp, h)
        if not (np.isfinite(h[0, 0]) and np.isfinite(h[0, 1]) and np.isfinite(h[1, 1])):
            out[0] = np.nan  # a path running off to infinity: NaN marks it diverged
            out[1] = np.nan
            return
        lo, hi, cos2, sin2 = symeig.eigh2_projector(h[0, 0], h[0, 1], h[1, 1])
        inv_b, floor = nzp[0], nzp[1]
        s_lo = np.sqrt((abs(lo) + floor) * inv_b)
        ds = np.sqrt((abs(hi) + floor) * inv_b) - s_lo
        p0 = 0.5 * ((1.0 + cos2) * z[0] + sin2 * z[1])
        p1 = 0.5 * (sin2 * z[0] + (1.0 - cos2) * z[1])
        out[0] = s_lo * z[0] + ds * p0
        out[1] = s_lo * z[1] + ds * p1

    return apply


class SlowPathWarning(UserWarning):
    """A simulation fell onto a general, much slower code path (issued once per reason)."""


_WARNED: set = set()


def warn_slow_path(key, message: str) -> None:
    """Issue :class:`SlowPathWarning` ``message`` once per process for ``key``."""
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, SlowPathWarning, stacklevel=3)


@lru_cache(maxsize=None)
def _make_apply_eigenbasis(eigenvalues_fn):
    r"""Kernel function for a landscape with a fixed Hessian eigenbasis :math:`U`:
    ``U diag(sqrt((|lambda(x)| + floor)/B)) U^T z`` without an eigen-decomposition.

    ``nzp = [1/B, floor, U (n*n, row-major)]``; ``work`` holds the ``n`` eigenvalues.
    """

    @jit(inline=True)
    def apply(x, z, lp, nzp, out, work):
        n = x.shape[0]
        lam = work
        eigenvalues_fn(x, lp, lam)
        inv_b = nzp[0]
        floor = nzp[1]
        for k in range(n):
            proj = 0.0
            for j in range(n):
                proj += nzp[2 + j * n + k] * z[j]
            lam[k] = np.sqrt((abs(lam[k]) + floor) * inv_b) * proj
        for i in range(n):
            acc = 0.0
            for k in range(n):
                acc += nzp[2 + i * n + k] * lam[k]
            out[i] = acc

    return apply


@lru_cache(maxsize=None)
def _make_apply_local(critical_point_fn, inner_apply):
    """Kernel function evaluating ``inner_apply`` (Hessian noise) at the critical point of x's region."""

    @jit(inline=True)
    def apply(x, z, lp, nzp, out, work):
        n = x.shape[0]  # work = (critical point, inner work)
        xs = work[:n]
        critical_point_fn(x, lp, xs)
        inner_apply(xs, z, lp, nzp, out, work[n:])

    return apply


def _eigenbasis(landscape):
    """``(U, eigenvalues_fn)`` when the landscape has a fixed Hessian eigenbasis, else ``None``."""
    u = getattr(landscape, "hessian_eigenbasis", None)
    fn = getattr(landscape.numba_functions(), "hessian_eigenvalues", None)
    if u is None or fn is None or not hasattr(landscape, "hessian_eigenvalues"):
        return None
    return np.ascontiguousarray(u, dtype=np.float64), fn


def eigenbasis_apply(x, z, landscape, scale: float, floor: float):
    r""":math:`U\operatorname{diag}\big(\sqrt{(|\lambda(x)| + h_{min})\,\mathrm{scale}}\big)U^\top z` for a
    landscape with a fixed Hessian eigenbasis ``U = landscape.hessian_eigenbasis`` (NumPy or torch),
    rows of ``x``, ``z`` of shape ``(n_paths, dim)``.  The reference of the compiled fast path."""
    xp = _xp.namespace(x)
    u = landscape.hessian_eigenbasis
    lam = landscape.hessian_eigenvalues(x)
    w = _xp.matvec_rows(z, u.T) * xp.sqrt((xp.abs(lam) + floor) * scale)
    return _xp.matvec_rows(w, u)


class NoiseBase:
    """Abstract gradient-noise model."""

    def covariance(self, x, landscape: LandscapeBase) -> np.ndarray:  # pragma: no cover
        """:math:`C(x)` for points ``x`` of shape ``(..., dim)`` → ``(..., dim, dim)``."""
        raise NotImplementedError

    def sqrt_covariance(self, x, landscape: LandscapeBase) -> np.ndarray:  # pragma: no cover
        """Symmetric square root of :math:`C(x)`, shape ``(..., dim, dim)``."""
        raise NotImplementedError

    def bind(self, landscape: LandscapeBase) -> BoundNoise:  # pragma: no cover
        raise NotImplementedError

    def apply(self, x, z, landscape: LandscapeBase):
        """:math:`C(x)^{1/2} z` for paths ``x``, ``z`` of shape ``(n_paths, dim)`` (NumPy or torch).

        The vectorised reference of the compiled ``BoundNoise.apply``; a position-independent factor
        is computed once (:meth:`constant_factor`), otherwise at every point.
        """
        s = self.constant_factor(landscape)
        if s is not None:
            return _xp.matvec_rows(z, s)
        xp = _xp.namespace(x)
        return xp.einsum("pij,pj->pi", self.sqrt_covariance(x, landscape), z)

    def constant_factor(self, landscape: LandscapeBase):
        """The symmetric :math:`C^{1/2}` when it does not depend on position, else ``None``."""
        return None

    def describe(self) -> dict:
        return {"class": type(self).__name__}


class HessianNoise(NoiseBase):
    r"""Hessian-dependent noise :math:`C(\theta) = ([H(\theta)]^+ + h_{min} I)/B` (docs/theory.md §2).

    Parameters
    ----------
    batch_size : float
        :math:`B > 0` (a positive real: it only sets the noise scale).
    floor : float
        :math:`h_{min} \ge 0`, needed where :math:`|H|` vanishes (inflection points).
    """

    def __init__(self, batch_size: float, floor: float = 0.0):
        self.batch_size = V.positive("batch_size", batch_size)
        self.floor = V.positive("floor", floor, allow_zero=True)

    def covariance(self, x, landscape):
        h = landscape.hessian(x)
        xp = _xp.namespace(h)
        lam, u = xp.linalg.eigh(h)
        return xp.einsum("...ij,...j,...kj->...ik", u, (xp.abs(lam) + self.floor) / self.batch_size, u)

    def sqrt_covariance(self, x, landscape):
        return abs_sqrt(landscape.hessian(x), 1.0 / self.batch_size, self.floor)

    def constant_factor(self, landscape):
        if not landscape.constant_hessian:
            return None
        key = id(landscape)
        if getattr(self, "_factor_key", None) != key:
            self._factor = np.ascontiguousarray(self.sqrt_covariance(np.zeros(landscape.dim), landscape))
            self._factor_key, self._factor_landscape = key, landscape
        return self._factor

    def bind(self, landscape):
        s = self.constant_factor(landscape)
        if s is not None:
            return BoundNoise(_apply_constant_factor, s.ravel(), True)
        eb = _eigenbasis(landscape)
        if eb is not None:  # fixed eigenbasis: no eigh per step
            u, eig_fn = eb
            return BoundNoise(_make_apply_eigenbasis(eig_fn),
                              np.concatenate([[1.0 / self.batch_size, self.floor], u.ravel()]), False,
                              work=landscape.dim)
        hessian_fn = landscape.numba_functions().hessian
        nzp = np.array([1.0 / self.batch_size, self.floor])
        if landscape.dim == 2:  # closed form through the spectral projector
            return BoundNoise(_make_apply_hessian_2x2(hessian_fn), nzp, False)
        eigh_fn = _CLOSED_FORM_EIGH.get(landscape.dim)
        if eigh_fn is not None:  # dim 1, 3: closed-form eigen-decomposition per step
            return BoundNoise(_make_apply_hessian_closed_form(hessian_fn, eigh_fn, landscape.dim), nzp, False)
        warn_slow_path(("HessianNoise", type(landscape).__name__, landscape.dim),
                       f"HessianNoise on {type(landscape).__name__} (dim {landscape.dim}): its Hessian has no "
                       "fixed eigenbasis (hessian_eigenbasis) and closed-form eigen-decompositions exist only "
                       "for dim <= 3, so every path-step runs LAPACK's eigh (measured ~50x slower than a "
                       "closed form in 2-D)")
        return BoundNoise(_make_apply_hessian_factor(hessian_fn, landscape.dim), nzp, False)

    def apply(self, x, z, landscape):
        """:math:`C(x)^{1/2} z`; without an eigen-decomposition when the landscape has a fixed
        Hessian eigenbasis (``hessian_eigenbasis``), otherwise as :meth:`NoiseBase.apply`."""
        if not landscape.constant_hessian and _eigenbasis(landscape) is not None:
            return eigenbasis_apply(x, z, landscape, 1.0 / self.batch_size, self.floor)
        return super().apply(x, z, landscape)

    def describe(self):
        return {**super().describe(), "batch_size": self.batch_size, "floor": self.floor}

    def __repr__(self):
        return f"HessianNoise(batch_size={self.batch_size}, floor={self.floor})"


class LocalHessianNoise(NoiseBase):
    r"""Local Hessian noise :math:`C(\theta) = ([H(\theta^*)]^+ + h_{min} I)/B` (docs/theory.md §2, "local").

    :math:`\theta^*` is the critical point whose region contains :math:`\theta`, as the landscape
    defines it (``landscape.local_critical_point(x)`` / compiled ``critical_point``; see
    :mod:`sim.landscapes`: the pieces of :class:`~sim.landscapes.PiecewiseQuadraticWells`, else the nearest
    critical point along the escape coordinate or in Euclidean distance).  This is the idealisation
    behind [DDT]'s escape formula: the noise of a well is that of its minimum, the noise near the
    saddle that of the saddle.  On the piecewise-quadratic landscape :math:`H(\theta^*) = H(\theta)`,
    so it coincides with :class:`HessianNoise`.

    Parameters
    ----------
    batch_size : float
        :math:`B > 0`.
    floor : float
        :math:`h_{min} \ge 0`.

    References
    ----------
    docs/theory.md §2; Xie, Sato, Sugiyama, "A Diffusion Theory for Deep Learning Dynamics", arXiv 2002.03495.
    """

    def __init__(self, batch_size: float, floor: float = 0.0):
        self.batch_size = V.positive("batch_size", batch_size)
        self.floor = V.positive("floor", floor, allow_zero=True)
        self._hessian_noise = HessianNoise(self.batch_size, self.floor)

    @staticmethod
    def _check(landscape):
        if not hasattr(landscape, "local_critical_point") or getattr(
                landscape.numba_functions(), "critical_point", None) is None:
            raise TypeError(f"LocalHessianNoise needs a landscape with critical-point regions "
                            f"(local_critical_point and a compiled critical_point), got {type(landscape).__name__}")

    def covariance(self, x, landscape):
        self._check(landscape)
        return self._hessian_noise.covariance(landscape.local_critical_point(x), landscape)

    def sqrt_covariance(self, x, landscape):
        self._check(landscape)
        return self._hessian_noise.sqrt_covariance(landscape.local_critical_point(x), landscape)

    def apply(self, x, z, landscape):
        self._check(landscape)
        return self._hessian_noise.apply(landscape.local_critical_point(x), z, landscape)

    def bind(self, landscape):
        self._check(landscape)
        inner = self._hessian_noise.bind(landscape)
        if inner.constant:
            return inner
        fn = _make_apply_local(landscape.numba_functions().critical_point, inner.apply)
        return BoundNoise(fn, inner.params, False, work=landscape.dim + inner.work)

    def describe(self):
        return {**super().describe(), "batch_size": self.batch_size, "floor": self.floor}

    def __repr__(self):
        return f"LocalHessianNoise(batch_size={self.batch_size}, floor={self.floor})"


class WhiteNoise(NoiseBase):
    r"""Isotropic white noise :math:`C = \sigma^2 I` (the baseline of the diffusion theory)."""

    def __init__(self, sigma: float):
        self.sigma = V.positive("sigma", sigma, allow_zero=True)

    def _eye(self, x, landscape):
        x = landscape._points(x)
        xp = _xp.namespace(x)
        eye = _xp.asarray_like(np.eye(landscape.dim), x)
        return _xp.copy(xp.broadcast_to(eye, tuple(x.shape[:-1]) + (landscape.dim,) * 2))

    def constant_factor(self, landscape):
        return self.sigma * np.eye(landscape.dim)

    def covariance(self, x, landscape):
        return self.sigma**2 * self._eye(x, landscape)

    def sqrt_covariance(self, x, landscape):
        return self.sigma * self._eye(x, landscape)

    def bind(self, landscape):
        return BoundNoise(_apply_constant_factor, self.constant_factor(landscape).ravel(), True)

    def describe(self):
        return {**super().describe(), "sigma": self.sigma}

    def __repr__(self):
        return f"WhiteNoise(sigma={self.sigma})"
