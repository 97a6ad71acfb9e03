r"""Closed-form eigen-decompositions of symmetric 2×2 and 3×3 matrices (compiled, with NumPy references).

Why: Hessian-dependent noise :math:`C(\theta)^{1/2} = U(|\Lambda| + h_{min})^{1/2}U^\top/\sqrt B` on a
landscape whose Hessian eigenvectors move with :math:`\theta` needs an eigen-decomposition at every
path-step.  LAPACK's ``eigh`` (numba's ``np.linalg.eigh``) allocates its outputs and workspace and goes
through a general iterative solver: measured on a 2-D landscape, 47× slower than the same kernel
with a constant noise factor.  In two and three dimensions the decomposition has a closed form that
allocates nothing and is accurate to round-off (absolute error :math:`O(\epsilon\,\|H\|)`, like
LAPACK's), which :class:`sim.noise.HessianNoise` uses for ``dim`` 2 and 3.

* :func:`eigh2` / :func:`eigh3` — compiled, ``(h, lam, u)``: read the symmetric ``(n, n)`` array
  ``h`` (only its upper triangle), write the ascending eigenvalues into ``lam`` ``(n,)`` and the
  orthonormal eigenvectors into the *columns* of ``u`` ``(n, n)``, as ``numpy.linalg.eigh`` returns
  them.  Nothing is allocated; callable from Python and from other compiled functions.
* :func:`eigh2_reference` / :func:`eigh3_reference` — the same formulas vectorised over
  ``(..., n, n)`` in NumPy: the references the tests compare with the compiled functions, and both
  with ``numpy.linalg.eigh``.

**2×2.**  For :math:`\begin{pmatrix} a & b\\ b & c\end{pmatrix}`: :math:`m = (a+c)/2`,
:math:`d = (a-c)/2`, :math:`r = \sqrt{d^2 + b^2}`, eigenvalues :math:`m \mp r`.  The
eigenvector of :math:`m + r` is :math:`(d + r, b)` for :math:`d \ge 0` and :math:`(b, r - d)`
otherwise (no cancellation in either branch), normalised; the other is its rotation by 90°.  At
:math:`r = 0` (a multiple of the identity) the basis is the identity.

**3×3** (the hybrid of D. Eberly, "A Robust Eigensolver for 3×3 Symmetric Matrices", Geometric Tools,
2014, with the 2×2 step above).  After scaling by the largest entry, :math:`B = (A - qI)/p` with
:math:`q = \operatorname{tr}A/3`, :math:`p^2 = \|A - qI\|_F^2/6` has eigenvalues
:math:`\beta_k = 2\cos(\varphi + 2\pi k/3)`, :math:`\varphi = \arccos(\det B/2)/3`.  The trigonometric
values are accurate only for the eigenvalue farthest from the other two (the largest when
:math:`\det B \ge 0`, else the smallest; its gap is at least :math:`\sqrt3\,p`), so only that one is
used: its eigenvector is the longest cross product of two rows of :math:`A - \lambda I` (error
:math:`O(\epsilon)` thanks to the gap), its eigenvalue the Rayleigh quotient.  The remaining pair is
the closed-form 2×2 problem of :math:`A` restricted to the orthogonal complement, exact even when
the two are (nearly) degenerate, where the trigonometric formula loses half the digits.
"""
from __future__ import annotations

import math

import numpy as np

from ._jit import jit

__all__ = ["eigh2", "eigh3", "eigh2_projector", "eigh2_reference", "eigh3_reference"]


# ----------------------------------------------------------------------------------------------
# compiled
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def _eigh2_scalars(a, b, c):
    """``(lam_lo, lam_hi, v0, v1)``: eigenvalues of ``[[a, b], [b, c]]`` and the unit eigenvector
    ``(v0, v1)`` of ``lam_hi`` (that of ``lam_lo`` is ``(-v1, v0)``)."""
    m = 0.5 * (a + c)
    d = 0.5 * (a - c)
    # sqrt of the sum of squares, not math.hypot: measured 55 ns per call less (two hypot); the
    # squares cannot over/underflow inside the guarded range, and |(v0, v1)| >= r
    r = math.sqrt(d * d + b * b)
    safe = 1e-150 < r < 1e150
    if not safe:
        r = math.hypot(d, b)
        if r == 0.0:
            return m, m, 1.0, 0.0
    if d >= 0.0:
        v0, v1 = d + r, b
    else:
        v0, v1 = b, r - d
    nv = math.sqrt(v0 * v0 + v1 * v1) if safe else math.hypot(v0, v1)
    return m - r, m + r, v0 / nv, v1 / nv


@jit(inline=True)
def eigh2_projector(a, b, c):
    r"""``(lam_lo, lam_hi, cos2, sin2)`` for ``[[a, b], [b, c]]``: the eigenvalues and the spectral
    projector of ``lam_hi``, :math:`P = \tfrac12\begin{pmatrix}1 + \cos 2\varphi & \sin 2\varphi\\
    \sin 2\varphi & 1 - \cos 2\varphi\end{pmatrix}` (:math:`\cos 2\varphi = d/r`, :math:`\sin 2\varphi = b/r`;
    the identity's :math:`\varphi = 0` at :math:`r = 0`), so that :math:`f(H) = f(\lambda_{lo}) I +
    (f(\lambda_{hi}) - f(\lambda_{lo})) P`.  No eigenvector, one square root and one division, no
    branch on the sign of ``d``: the fast path of 2-D Hessian noise."""
    m = 0.5 * (a + c)
    d = 0.5 * (a - c)
    r = math.sqrt(d * d + b * b)
    if not 1e-150 < r < 1e150:  # outside: the squares may over/underflow
        r = math.hypot(d, b)
        if r == 0.0:
            return m, m, 1.0, 0.0
    inv = 1.0 / r
    return m - r, m + r, d * inv, b * inv


@jit(inline=True)
def eigh2(h, lam, u):
    """Eigen-decomposition of the symmetric 2×2 ``h`` into ``lam`` (ascending) and ``u`` (columns)."""
    lo, hi, v0, v1 = _eigh2_scalars(h[0, 0], h[0, 1], h[1, 1])
    lam[0] = lo
    lam[1] = hi
    u[0, 0] = -v1
    u[1, 0] = v0
    u[0, 1] = v0
    u[1, 1] = v1


@jit(inline=True)
def _cross_norm2(a0, a1, a2, b0, b1, b2):
    c0 = a1 * b2 - a2 * b1
    c1 = a2 * b0 - a0 * b2
    c2 = a0 * b1 - a1 * b0
    return c0, c1, c2, c0 * c0 + c1 * c1 + c2 * c2


@jit(inline=True)
def eigh3(h, lam, u):
    """Eigen-decomposition of the symmetric 3×3 ``h`` into ``lam`` (ascending) and ``u`` (columns)."""
    for i in range(3):
        for j in range(i, 3):
            if not math.isfinite(h[i, j]):  # no meaningful decomposition
                for k in range(3):
                    lam[k] = np.nan
                    for m in range(3):
                        u[k, m] = 1.0 if k == m else 0.0
                return
    s = max(abs(h[0, 0]), abs(h[0, 1]), abs(h[0, 2]), abs(h[1, 1]), abs(h[1, 2]), abs(h[2, 2]))
    if s == 0.0:
        s = 1.0  # the zero matrix: p2 == 0 below
    a00, a01, a02 = h[0, 0] / s, h[0, 1] / s, h[0, 2] / s
    a11, a12, a22 = h[1, 1] / s, h[1, 2] / s, h[2, 2] / s
    q = (a00 + a11 + a22) / 3.0
    b00, b11, b22 = a00 - q, a11 - q, a22 - q
    off = a01 * a01 + a02 * a02 + a12 * a12
    p2 = (b00 * b00 + b11 * b11 + b22 * b22 + 2.0 * off) / 6.0
    if p2 == 0.0:  # a multiple of the identity
        for i in range(3):
            lam[i] = h[i, i]
            for j in range(3):
                u[i, j] = 1.0 if i == j else 0.0
        return
    p = math.sqrt(p2)
    det = (b00 * (b11 * b22 - a12 * a12) - a01 * (a01 * b22 - a12 * a02)
           + a02 * (a01 * a12 - b11 * a02)) / (p2 * p)
    half = min(1.0, max(-1.0, 0.5 * det))
    phi = math.acos(half) / 3.0
    # the isolated eigenvalue: the largest (det >= 0) or the smallest (det < 0)
    top = half >= 0.0
    beta = 2.0 * math.cos(phi) if top else 2.0 * math.cos(phi + 2.0 * math.pi / 3.0)
    mu = q + p * beta
    r00, r11, r22 = a00 - mu, a11 - mu, a22 - mu
    # rows of A - mu I: (r00, a01, a02), (a01, r11, a12), (a02, a12, r22); the longest cross product
    c0, c1, c2, n01 = _cross_norm2(r00, a01, a02, a01, r11, a12)
    d0, d1, d2, n02 = _cross_norm2(r00, a01, a02, a02, a12, r22)
    e0, e1, e2, n12 = _cross_norm2(a01, r11, a12, a02, a12, r22)
    if n02 > n01 and n02 >= n12:
        c0, c1, c2, n01 = d0, d1, d2, n02
    elif n12 > n01:
        c0, c1, c2, n01 = e0, e1, e2, n12
    inv = 1.0 / math.sqrt(n01)
    w0, w1, w2 = c0 * inv, c1 * inv, c2 * inv
    # orthonormal basis (x, y) of the complement of w
    if abs(w0) > abs(w1):
        inv = 1.0 / math.sqrt(w0 * w0 + w2 * w2)
        x0, x1, x2 = -w2 * inv, 0.0, w0 * inv
    else:
        inv = 1.0 / math.sqrt(w1 * w1 + w2 * w2)
        x0, x1, x2 = 0.0, w2 * inv, -w1 * inv
    y0, y1, y2 = w1 * x2 - w2 * x1, w2 * x0 - w0 * x2, w0 * x1 - w1 * x0
    # A x, A y, A w (scaled A)
    ax0 = a00 * x0 + a01 * x1 + a02 * x2
    ax1 = a01 * x0 + a11 * x1 + a12 * x2
    ax2 = a02 * x0 + a12 * x1 + a22 * x2
    ay0 = a00 * y0 + a01 * y1 + a02 * y2
    ay1 = a01 * y0 + a11 * y1 + a12 * y2
    ay2 = a02 * y0 + a12 * y1 + a22 * y2
    aw0 = a00 * w0 + a01 * w1 + a02 * w2
    aw1 = a01 * w0 + a11 * w1 + a12 * w2
    aw2 = a02 * w0 + a12 * w1 + a22 * w2
    lam_w = w0 * aw0 + w1 * aw1 + w2 * aw2
    m_xx = x0 * ax0 + x1 * ax1 + x2 * ax2
    m_xy = 0.5 * ((x0 * ay0 + x1 * ay1 + x2 * ay2) + (y0 * ax0 + y1 * ax1 + y2 * ax2))
    m_yy = y0 * ay0 + y1 * ay1 + y2 * ay2
    lo, hi, v0, v1 = _eigh2_scalars(m_xx, m_xy, m_yy)
    # vectors of the pair in 3-D: hi -> v0 x + v1 y, lo -> -v1 x + v0 y
    k_w, k_lo, k_hi = (2, 0, 1) if top else (0, 1, 2)
    lam[k_w] = lam_w * s
    lam[k_lo] = lo * s
    lam[k_hi] = hi * s
    u[0, k_w], u[1, k_w], u[2, k_w] = w0, w1, w2
    u[0, k_hi], u[1, k_hi], u[2, k_hi] = v0 * x0 + v1 * y0, v0 * x1 + v1 * y1, v0 * x2 + v1 * y2
    u[0, k_lo], u[1, k_lo], u[2, k_lo] = -v1 * x0 + v0 * y0, -v1 * x1 + v0 * y1, -v1 * x2 + v0 * y2


# ----------------------------------------------------------------------------------------------
# NumPy references (vectorised over leading axes)
# ----------------------------------------------------------------------------------------------
def _square(h, n):
    h = np.asarray(h, dtype=np.float64)
    if h.shape[-2:] != (n, n):
        raise ValueError(f"h must have shape (..., {n}, {n}), got {h.shape}")
    return h


def _eigh2_arrays(a, b, c):
    """Vectorised :func:`_eigh2_scalars`."""
    m, d = 0.5 * (a + c), 0.5 * (a - c)
    r = np.hypot(d, b)
    pos = d >= 0
    v0 = np.where(pos, d + r, b)
    v1 = np.where(pos, b, r - d)
    nv = np.hypot(v0, v1)
    deg = r == 0
    nv = np.where(deg, 1.0, nv)
    v0 = np.where(deg, 1.0, v0 / nv)
    v1 = np.where(deg, 0.0, v1 / nv)
    return m - r, m + r, v0, v1


def eigh2_reference(h):
    """NumPy reference of :func:`eigh2`: ``(lam, u)`` for ``h`` of shape ``(..., 2, 2)``."""
    h = _square(h, 2)
    lo, hi, v0, v1 = _eigh2_arrays(h[..., 0, 0], h[..., 0, 1], h[..., 1, 1])
    lam = np.stack([lo, hi], axis=-1)
    u = np.stack([np.stack([-v1, v0], axis=-1), np.stack([v0, v1], axis=-1)], axis=-1)
    return lam, u


def eigh3_reference(h):
    """NumPy reference of :func:`eigh3`: ``(lam, u)`` for ``h`` of shape ``(..., 3, 3)``
    (the same steps, vectorised; non-finite input gives NaN eigenvalues)."""
    h = _square(h, 3)
    shape = h.shape[:-2]
    hu = h.reshape(-1, 3, 3)
    iu = np.triu_indices(3)
    finite = np.isfinite(hu[:, iu[0], iu[1]]).all(axis=1)
    hu = np.where(finite[:, None, None], hu, 0.0)
    s = np.abs(hu[:, iu[0], iu[1]]).max(axis=1)
    sc = np.where(s > 0, s, 1.0)
    a = np.triu(hu) / sc[:, None, None]
    a = a + np.triu(a, 1).transpose(0, 2, 1)  # symmetric from the upper triangle
    def centred(a):
        q = np.trace(a, axis1=1, axis2=2) / 3.0
        b = a - q[:, None, None] * np.eye(3)
        return q, b, (b * b).sum(axis=(1, 2)) / 6.0

    q, b, p2 = centred(a)
    ok = p2 > 0
    # multiples of the identity are special cases (below): compute on a harmless stand-in
    a = np.where(ok[:, None, None], a, np.diag([-1.0, 0.0, 1.0]))
    q, b, p2 = centred(a)
    p = np.sqrt(p2)
    half = np.clip(0.5 * np.linalg.det(b / p[:, None, None]), -1.0, 1.0)
    phi = np.arccos(half) / 3.0
    top = half >= 0
    mu = q + p * np.where(top, 2.0 * np.cos(phi), 2.0 * np.cos(phi + 2.0 * np.pi / 3.0))
    r = a - mu[:, None, None] * np.eye(3)
    crosses = np.stack([np.cross(r[:, 0], r[:, 1]), np.cross(r[:, 0], r[:, 2]), np.cross(r[:, 1], r[:, 2])], 1)
    norms = (crosses**2).sum(axis=2)
    # the compiled choice: (0,1) unless (0,2) is strictly longer than it and >= (1,2), or (1,2) > (0,1)
    pick = np.where((norms[:, 1] > norms[:, 0]) & (norms[:, 1] >= norms[:, 2]), 1,
                    np.where(norms[:, 2] > norms[:, 0], 2, 0))
    c = crosses[np.arange(len(pick)), pick]
    w = c / np.sqrt(norms[np.arange(len(pick)), pick])[:, None]
    big0 = np.abs(w[:, 0]) > np.abs(w[:, 1])
    x = np.where(big0[:, None], np.stack([-w[:, 2], 0 * w[:, 0], w[:, 0]], 1),
                 np.stack([0 * w[:, 0], w[:, 2], -w[:, 1]], 1))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = np.cross(w, x)
    ax, ay, aw = (np.einsum("pij,pj->pi", a, v) for v in (x, y, w))
    lam_w = (w * aw).sum(1)
    m_xy = 0.5 * ((x * ay).sum(1) + (y * ax).sum(1))
    lo, hi, v0, v1 = _eigh2_arrays((x * ax).sum(1), m_xy, (y * ay).sum(1))
    vec_hi = v0[:, None] * x + v1[:, None] * y
    vec_lo = -v1[:, None] * x + v0[:, None] * y
    t = top[:, None]
    lam = np.where(t, np.stack([lo, hi, lam_w], 1), np.stack([lam_w, lo, hi], 1)) * sc[:, None]
    u = np.where(t[:, :, None], np.stack([vec_lo, vec_hi, w], 2), np.stack([w, vec_lo, vec_hi], 2))
    # the special cases of the compiled function: a multiple of the identity, non-finite input
    lam = np.where(ok[:, None], lam, np.diagonal(hu, axis1=1, axis2=2))
    lam = np.where(finite[:, None], lam, np.nan)
    u = np.where((ok & finite)[:, None, None], u, np.eye(3))
    return lam.reshape(shape + (3,)), u.reshape(shape + (3, 3))
