r"""Exact moments of the linear 2x2 Gaussian process shared by Theorem 2, Propositions 1 and 3.

The process is

.. math::

    d\theta = r\,dt, \qquad dr = (-k\,\theta - g\,r)\,dt + \sqrt{q}\,dW,
    \qquad A = \begin{pmatrix} 0 & 1 \\ -k & -g \end{pmatrix},
    \quad Q = \begin{pmatrix} 0 & 0 \\ 0 & q \end{pmatrix},

with :math:`g > 0` and :math:`k` of any sign. The eigenvalues of :math:`A` are
:math:`\lambda_\pm = -g/2 \pm \sqrt{g^2/4 - k}` (complex when :math:`g^2 < 4k`). With
:math:`\Delta = \lambda_+ - \lambda_-` and

.. math::

    \varphi(t) = \frac{e^{\lambda_+ t} - e^{\lambda_- t}}{\Delta}, \qquad
    \psi(t) = \frac{\lambda_+ e^{\lambda_- t} - \lambda_- e^{\lambda_+ t}}{\Delta},

the propagator is :math:`e^{At} = \begin{pmatrix}\psi & \varphi\\ -k\varphi & \dot\varphi\end{pmatrix}`,
the mean is :math:`\mu(t) = e^{At}\mu_0`, and the covariance from :math:`\Sigma(0) = 0` is
:math:`\Sigma(t) = q\int_0^t (\varphi, \dot\varphi)^\top(\varphi, \dot\varphi)\,ds`:

.. math::

    \Sigma_{\theta\theta} = \frac{q}{\Delta^2}\bigl[E(2\lambda_+) - 2E(\lambda_++\lambda_-)
        + E(2\lambda_-)\bigr],\quad
    \Sigma_{\theta r} = \frac q2\varphi(t)^2,\quad
    \Sigma_{rr} = \frac{q}{\Delta^2}\bigl[\lambda_+^2E(2\lambda_+)
        - 2\lambda_+\lambda_-E(\lambda_++\lambda_-) + \lambda_-^2E(2\lambda_-)\bigr],

:math:`E(x) = \int_0^t e^{xs}ds = (e^{xt}-1)/x`. Numerics: where :math:`|\Delta| t` is small
(repeated or nearly repeated roots) the exponential differences cancel; the propagator then
uses :math:`\varphi = e^{\bar\lambda t}\,t\,\mathrm{sinhc}(\delta t)`, :math:`\bar\lambda = -g/2`,
:math:`\delta = \Delta/2`, and the covariance falls back to the exact matrix exponential of the
3x3 moment system augmented by its constant forcing (``scipy.linalg.expm``), whose
eigenvalues :math:`2\lambda_+, \lambda_++\lambda_-, 2\lambda_-` carry no spurious growth (unlike
Van Loan's :math:`[-A, Q; 0, A^\top]`, which overflows when :math:`g t` is large).

References
----------
docs/theory.md section 5, Theorem 2 (and Propositions 1, 3, which reuse it).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import sympy as sp

__all__ = [
    "roots",
    "propagator",
    "mean",
    "covariance",
    "growth_rate",
    "SYMBOLIC",
]

#: |Delta| t below which the covariance closed form is replaced by the expm fallback
#: (cancellation error ~ machine eps / (|Delta| t)^2).
COV_CLOSED_FORM_MIN = 1e-2
#: |delta| t below which the propagator uses the sinhc series (no cancellation).
PROPAGATOR_SERIES_MAX = 0.1


# ---------------------------------------------------------------------------------------------
# Symbolic forms in terms of the roots (built once)
# ---------------------------------------------------------------------------------------------
def _symbolic():
    lp, lm = sp.symbols("lambda_p lambda_m")
    t, q = sp.symbols("t q", positive=True)
    th0, r0 = sp.symbols("theta_0 r_0", real=True)
    dlt = lp - lm

    def e_int(x):
        return (sp.exp(x * t) - 1) / x

    phi = (sp.exp(lp * t) - sp.exp(lm * t)) / dlt
    psi = (lp * sp.exp(lm * t) - lm * sp.exp(lp * t)) / dlt
    k, g = lp * lm, -(lp + lm)
    s_tt = q / dlt**2 * (e_int(2 * lp) - 2 * e_int(lp + lm) + e_int(2 * lm))
    s_tr = q * phi**2 / 2
    s_rr = q / dlt**2 * (lp**2 * e_int(2 * lp) - 2 * lp * lm * e_int(lp + lm) + lm**2 * e_int(2 * lm))
    return dict(
        lambda_p=lp, lambda_m=lm, t=t, q=q, theta0=th0, r0=r0, k=k, g=g,
        A=sp.Matrix([[0, 1], [-k, -g]]),
        phi=phi, psi=psi,
        mean=sp.Matrix([psi * th0 + phi * r0, -k * phi * th0 + sp.diff(phi, t) * r0]),
        cov=sp.Matrix([[s_tt, s_tr], [s_tr, s_rr]]),
        Q=sp.Matrix([[0, 0], [0, q]]),
    )


#: SymPy forms over the roots: ``k = lambda_p * lambda_m``, ``g = -(lambda_p + lambda_m)``.
SYMBOLIC = _symbolic()


# ---------------------------------------------------------------------------------------------
# NumPy
# ---------------------------------------------------------------------------------------------
def roots(k, g):
    r"""Eigenvalues :math:`(\lambda_+, \lambda_-)` of :math:`A`; real when :math:`g^2 \ge 4k`.

    :math:`\lambda_+` is computed as :math:`-2k/(g + \sqrt{g^2 - 4k})` in the real case, which
    avoids cancellation when :math:`|k| \ll g^2`. The result is real if every discriminant is
    non-negative and complex otherwise (NumPy's ``emath`` convention).
    """
    k, g = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(g, dtype=float))
    disc = g * g - 4.0 * k
    if np.all(disc >= 0):
        sq = np.sqrt(disc)
        return -2.0 * k / (g + sq), -(g + sq) / 2.0
    sq = np.sqrt(disc.astype(complex))
    return (-g + sq) / 2.0, (-g - sq) / 2.0


def growth_rate(k, g):
    r""":math:`\lambda_+ = (g/2)(\sqrt{1 - 4k/g^2} - 1) = 2|k|/(g + \sqrt{g^2 + 4|k|})` for
    :math:`k = -|k| \le 0` (an unstable direction); evaluated without cancellation."""
    kabs = np.abs(np.asarray(k, dtype=float))
    g = np.asarray(g, dtype=float)
    return 2.0 * kabs / (g + np.sqrt(g * g + 4.0 * kabs))


def _sinhc(z):
    """sinh(z)/z for real or complex z, accurate near 0."""
    z = np.asarray(z)
    small = np.abs(z) < 1e-2
    zs = np.where(small, 1.0, z)
    series = 1.0 + z * z / 6.0 + z**4 / 120.0 + z**6 / 5040.0
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(small, series, np.sinh(zs) / zs)


def _phi_psi(k, g, t):
    """phi, psi, dphi/dt of the propagator (complex dtype), broadcast over k, g, t."""
    lp, lm = roots(k, g)
    lp, lm = np.asarray(lp, dtype=complex), np.asarray(lm, dtype=complex)
    dlt = lp - lm
    lbar, half = -np.asarray(g) / 2.0, dlt / 2.0
    series = np.abs(half * t) < PROPAGATOR_SERIES_MAX
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # exponential-difference form (no overflow of cosh/sinh for large |delta| t)
        ep, em = np.exp(lp * t), np.exp(lm * t)
        dsafe = np.where(series, 1.0, dlt)
        phi_e = (ep - em) / dsafe
        psi_e = (lp * em - lm * ep) / dsafe
        dphi_e = (lp * ep - lm * em) / dsafe
        # sinhc form (used only where |delta| t is small)
        hz = np.where(series, half * t, 0.0)
        eb = np.exp(lbar * t)
        sc, ch = _sinhc(hz), np.cosh(hz)
        phi_s = eb * t * sc
        psi_s = eb * (ch - lbar * t * sc)
        dphi_s = eb * (ch + lbar * t * sc)
    return (np.where(series, phi_s, phi_e), np.where(series, psi_s, psi_e),
            np.where(series, dphi_s, dphi_e))


def propagator(k, g, t) -> np.ndarray:
    r""":math:`e^{At}`, shape ``broadcast(k, g, t).shape + (2, 2)``."""
    phi, psi, dphi = _phi_psi(k, g, t)
    k = np.asarray(k, dtype=float)
    out = np.stack([np.stack([psi, phi], -1), np.stack([-k * phi, dphi], -1)], -2)
    return out.real


def mean(k, g, theta0, r0, t) -> np.ndarray:
    r"""Mean :math:`(\theta, r)(t) = e^{At}(\theta_0, r_0)`, shape ``broadcast.shape + (2,)``."""
    phi, psi, dphi = _phi_psi(k, g, t)
    k = np.asarray(k, dtype=float)
    th = psi * theta0 + phi * r0
    r = -k * phi * theta0 + dphi * r0
    return np.stack([th.real, r.real], -1)


def _e_int(x, t):
    """E(x) = (exp(x t) - 1)/x, = t at x = 0, for complex x."""
    xt = x * t
    small = np.abs(xt) < 1e-8
    safe = np.where(small, 1.0, xt)
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = np.where(small, 1.0 + xt / 2.0, np.expm1(safe) / safe)
    return t * ratio


def _covariance_closed(k, g, q, t):
    lp, lm = roots(k, g)
    lp, lm = np.asarray(lp, dtype=complex), np.asarray(lm, dtype=complex)
    dlt = lp - lm
    d2 = np.where(dlt == 0, 1.0, dlt * dlt)
    ep, e0, em = _e_int(2 * lp, t), _e_int(lp + lm, t), _e_int(2 * lm, t)
    with np.errstate(over="ignore", invalid="ignore"):
        s_tt = q * (ep - 2.0 * e0 + em) / d2
        s_rr = q * (lp * lp * ep - 2.0 * lp * lm * e0 + lm * lm * em) / d2
        phi = (np.exp(lp * t) - np.exp(lm * t)) / np.where(dlt == 0, 1.0, dlt)
    s_tr = q * phi * phi / 2.0
    return s_tt.real, s_tr.real, s_rr.real


def _covariance_expm(k, g, q, t):
    """Exact moments from expm of the augmented 3x3 moment system; 1-D arrays of equal length."""
    m = np.zeros(k.shape + (4, 4))
    m[:, 0, 1] = 2.0
    m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = -k, -g, 1.0
    m[:, 2, 1], m[:, 2, 2], m[:, 2, 3] = -2.0 * k, -2.0 * g, q
    e = scipy.linalg.expm(m * t[:, None, None])
    return e[:, 0, 3], e[:, 1, 3], e[:, 2, 3]


def covariance(k, g, q, t) -> np.ndarray:
    r"""Covariance :math:`\Sigma(t)` of :math:`(\theta, r)` from :math:`\Sigma(0) = 0`.

    Parameters
    ----------
    k, g, q, t : array_like
        Broadcast together (``g > 0``, ``q >= 0``, ``t >= 0``).

    Returns
    -------
    ndarray, shape ``broadcast(k, g, q, t).shape + (2, 2)``
    """
    k, g, q, t = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(k, g, q, t))
    s_tt, s_tr, s_rr = (np.array(a, dtype=float) for a in _covariance_closed(k, g, q, t))
    lp, lm = roots(k, g)
    near = np.abs(np.asarray(lp) - np.asarray(lm)) * t < COV_CLOSED_FORM_MIN
    if np.any(near):
        vals = _covariance_expm(k[near], g[near], q[near], t[near])
        s_tt[near], s_tr[near], s_rr[near] = vals
    return np.stack([np.stack([s_tt, s_tr], -1), np.stack([s_tr, s_rr], -1)], -2)
