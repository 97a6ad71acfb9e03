r"""Scalar linear SDE :math:`dx = -\kappa x\,dt + \sqrt{2D}\,dW`, :math:`x(0) = 0`: shared by
Theorem 1 (SGD: :math:`\kappa = H_i`, :math:`D = \eta|H_i|/2B`) and Proposition 1 (Adam:
:math:`\kappa = \mathrm{sign}(H_i)\sqrt{B|H_i|}`, :math:`D = \eta/2`).

Variance :math:`\sigma^2(t) = (D/\kappa)(1 - e^{-2\kappa t}) = 2Dt\,\frac{e^{x}-1}{x}|_{x=-2\kappa t}`.

Exit from :math:`|x| < R` along an unstable direction (:math:`\kappa = -\lambda < 0`):
:math:`x(t) = e^{\lambda t}Z(t)`, :math:`\sigma_\infty^2 = \operatorname{Var}Z_\infty = D/\lambda`.
Exactly, :math:`\lambda T = \ln(R/|Z_\infty|) + \ln|1+\delta|` with
:math:`\delta \sim N(0, \epsilon^2)`, :math:`\epsilon^2 = \sigma_\infty^2/R^2`, independent of
:math:`T` (derivation in :mod:`theory.thm1`), so :math:`\lambda T` has a law depending only on
:math:`R/\sigma_\infty`, and

.. math::

    T_{1/2} = \frac1\lambda\Bigl[\ln\frac{R}{q\sigma_\infty} - \Bigl(1-\frac{q^2}2\Bigr)
        \epsilon^2 + O(\epsilon^4)\Bigr], \qquad q = \Phi^{-1}(3/4).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ._symbols import q34
from .core import warn_if_large

__all__ = ["variance", "median_exit_time", "median_exit_time_symbolic", "MEDIAN_ABS_NORMAL",
           "CORRECTION_COEFFICIENT"]

#: Phi^{-1}(3/4), the median of |N(0, 1)|.
MEDIAN_ABS_NORMAL = float(sp.N(q34, 17))
#: c_2 = 1 - q^2/2 of the O(eps^2) correction to the median exit time.
CORRECTION_COEFFICIENT = 1.0 - MEDIAN_ABS_NORMAL**2 / 2.0
#: exit_noise_ratio above which median_exit_time warns
EXIT_NOISE_RATIO_MAX = 0.1


def expm1_ratio(x) -> np.ndarray:
    r""":math:`(e^x - 1)/x`, equal to 1 at :math:`x = 0`, accurate for small :math:`|x|`."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0.0, 1.0, x)
    with np.errstate(over="ignore"):
        return np.where(x == 0.0, 1.0, np.expm1(safe) / safe)


def variance(rate, diffusion, t) -> np.ndarray:
    r""":math:`\sigma^2(t) = (D/\kappa)(1 - e^{-2\kappa t})`, exact at :math:`\kappa = 0` (:math:`2Dt`).

    ``rate`` and ``diffusion`` have shape (n,), ``t`` shape (n_t,) or scalar; result
    ``t.shape + (n,)``.
    """
    tt = np.asarray(t, dtype=float)[..., None]
    return 2.0 * diffusion * tt * expm1_ratio(-2.0 * rate * tt)


def median_exit_time(growth, sigma_inf2, radius, *, corrected=False, warn=True, entry_id=""):
    r"""Asymptotic median exit time :math:`T_{1/2}` given :math:`\lambda`, :math:`\sigma_\infty^2`, :math:`R`."""
    eps2 = sigma_inf2 / radius**2
    if warn:
        warn_if_large("exit_noise_ratio sigma_inf^2/radius^2", eps2, EXIT_NOISE_RATIO_MAX,
                      entry_id=entry_id, stacklevel=4)
    tau = np.log(radius / (MEDIAN_ABS_NORMAL * np.sqrt(sigma_inf2)))
    if corrected:
        tau = tau - CORRECTION_COEFFICIENT * eps2
    return tau / growth


def median_exit_time_symbolic(growth, sigma_inf2, radius, corrected=False):
    """SymPy form of :func:`median_exit_time`."""
    tau = sp.log(radius / (q34 * sp.sqrt(sigma_inf2)))
    if corrected:
        tau = tau - (1 - q34**2 / 2) * sigma_inf2 / radius**2
    return tau / growth
