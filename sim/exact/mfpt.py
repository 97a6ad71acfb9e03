r"""Exact mean first-passage times of 1-D overdamped diffusions by quadrature.

For the Itô SDE :math:`\mathrm{d}x = a(x)\mathrm{d}t + \sqrt{2D(x)}\mathrm{d}W` the mean first-passage time
:math:`T(x)` solves the backward equation :math:`\mathcal{L}^\dagger T = -1`.  In both conventions of
:mod:`sim.exact.fokker_planck` the backward operator can be written in divergence form with the (unnormalised)
stationary density :math:`p_s = e^{\varphi}`:

.. math:: \frac{1}{p_s}\big(p_s D\, T'\big)' = -1,\qquad
          \varphi(x) = \int_{x_*}^{x}\frac{a}{D}\,\mathrm{d}y - \begin{cases}\log D(x) & \text{Itô}\\
          0 & \text{ddt}\end{cases}

(Itô: :math:`aT' + DT''`; ddt, [DDT]'s current :math:`J = aP - DP'`: :math:`aT' + (DT')'`).

**Reflecting at** :math:`r`, **absorbing at** :math:`b` (either orientation), with :math:`T'(r) = 0`,
:math:`T(b) = 0`:

.. math:: T(x_0) = \left|\int_{x_0}^{b} \frac{\mathrm{d}y}{p_s(y) D(y)} \int_{r}^{y} p_s(z)\,\mathrm{d}z\right| .

Pure diffusion (:math:`a=0`, :math:`D` constant, :math:`r=0`, :math:`b=L`) gives
:math:`T = (L^2 - x_0^2)/(2D)`.

**Absorbing at both ends** :math:`l < u`: with :math:`\sigma = 1/(p_s D)` (scale density),
:math:`S(x) = \int_l^x\sigma`, :math:`Q(x) = \int_l^x \sigma(y)\int_l^y p_s\,\mathrm{d}y`,

.. math:: T(x) = Q(u)\frac{S(x)}{S(u)} - Q(x).

Numerics: the interval is cut into panels at the ends, at :math:`x_0` and at user ``breakpoints`` (where
:math:`a` or :math:`D` are not smooth, e.g. the junctions of the piecewise-quadratic landscape); each panel
gets a uniform sub-grid, and every integral is a cumulative Simpson rule (fourth order on smooth panels),
evaluated in log-space: each integrand is exponentiated as :math:`e^{\log f - \max\log f}` and the scale
is carried apart, and the inner integral is accumulated from the reflecting end (never as a total minus
a partial integral), so there is no overflow, no NaN and no cancellation at any barrier; ``log_value``
holds :math:`\log T` and ``value`` is :math:`e^{\log T}` (inf, with a warning, when it exceeds the float
range, beyond :math:`E \approx 709`).  The error estimate is
:math:`|T_n - T_{n/2}|`, the change when the resolution is halved (an upper bound on the error of
:math:`T_{n/2}`, so conservative by about a factor 15 for :math:`T_n` on smooth panels).  It is an
asymptotic estimate: it can be too small when even :math:`n/2` intervals do not resolve the coefficients,
or when a non-smooth point was not declared as a breakpoint (the order then drops).

References
----------
docs/theory.md §6 (Itô vs [DDT] currents and the resulting prefactors), §7 (exact 1-D MFPT).  C. W. Gardiner,
*Stochastic Methods*, §5.5 (first passage times).  Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for
Deep Learning Dynamics", arXiv 2002.03495.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.integrate import cumulative_simpson

from .fokker_planck import check_convention

__all__ = ["MFPTQuadratureResult", "mean_first_passage_time_1d", "mean_first_passage_time_1d_two_sided"]


@dataclass(frozen=True)
class MFPTQuadratureResult:
    r"""Result of a 1-D MFPT quadrature.

    Attributes
    ----------
    value : float
        :math:`T(x_0)`.
    error : float
        Estimated absolute error of ``value`` (:math:`|T_n - T_{n/2}|`, conservative).
    x : ndarray, shape ``(m,)``
        Quadrature nodes (increasing, including the ends, :math:`x_0` and the breakpoints).
    T : ndarray, shape ``(m,)``
        :math:`T` at the nodes (inf where it exceeds the float range).
    log_value : float
        :math:`\log T(x_0)`, finite even where ``value`` overflows (barriers beyond ~700 :math:`k_BT`).
    rel_error : float
        ``error / value``: the stated relative accuracy.
    """

    value: float
    error: float
    x: np.ndarray
    T: np.ndarray
    log_value: float = math.nan
    rel_error: float = math.nan

    def __call__(self, x):
        """:math:`T` at ``x`` by linear interpolation between the nodes."""
        return np.interp(x, self.x, self.T)


def _finite(name: str, value) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _panel_nodes(lo: float, hi: float, cuts: Sequence[float], n_intervals: int) -> list[np.ndarray]:
    """Uniform sub-grids with an even number of intervals on each panel between consecutive cuts."""
    pts = np.unique(np.concatenate([[lo, hi], [c for c in cuts if lo < c < hi]]))
    width = hi - lo
    panels = []
    for a, b in zip(pts[:-1], pts[1:]):
        m = max(2, 2 * int(math.ceil(0.5 * n_intervals * (b - a) / width)))
        panels.append(np.linspace(a, b, m + 1))
    return panels


def _cumulative(panels: list[np.ndarray], values: list[np.ndarray]) -> list[np.ndarray]:
    """Cumulative Simpson integral from the left end, panel by panel (continuous across panels)."""
    out, start = [], 0.0
    for x, y in zip(panels, values):
        c = start + cumulative_simpson(y, x=x, initial=0.0)
        out.append(c)
        start = c[-1]
    return out


def _evaluate(drift, diffusion, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients on one panel; the ends are nudged one ulp inwards so that a coefficient with a jump
    at a breakpoint is sampled with its one-sided limit from inside the panel."""
    x_eval = x.copy()
    x_eval[0] = np.nextafter(x[0], x[-1])
    x_eval[-1] = np.nextafter(x[-1], x[0])
    a = np.asarray(drift(x_eval), dtype=float)
    d = np.asarray(diffusion(x_eval), dtype=float)
    for name, v in (("drift", a), ("diffusion", d)):
        if v.shape != x.shape:
            raise ValueError(f"{name} must return shape {x.shape} for input of shape {x.shape}, got {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} returned non-finite values in the domain")
    if np.any(d <= 0):
        raise ValueError(f"diffusion must be strictly positive in the domain (min {d.min():.3g}); add a floor")
    return a, d


def _log_stationary(panels, drift, diffusion, ito: bool):
    """:math:`\\varphi = \\log p_s` and :math:`D` on every panel."""
    a_d = [_evaluate(drift, diffusion, x) for x in panels]
    phi = _cumulative(panels, [a / d for a, d in a_d])
    if ito:
        phi = [p - np.log(d) for p, (_, d) in zip(phi, a_d)]
    return phi, [d for _, d in a_d]


def _cumulative_from_right(panels, values):
    """Cumulative Simpson integral from the right end (no subtraction from a total)."""
    rev = _cumulative([-x[::-1] for x in panels[::-1]], [v[::-1] for v in values[::-1]])
    return [c[::-1] for c in rev[::-1]]


def _scaled(log_values):
    """``(exp(log_values - shift), shift)`` per panel with one shift, the largest log value."""
    shift = max(v.max() for v in log_values)
    return [np.exp(v - shift) for v in log_values], shift


def _profile(panels, drift, diffusion, ito: bool, reflecting_left: bool | None):
    r"""Return nodes and the building blocks for :math:`T` on them, in log-scaled form.

    ``reflecting_left``: True/False for a reflecting left/right end; None for two absorbing ends.
    Returns ``x, G, g_shift, S, s_shift``: ``G e^{g_shift}`` is the cumulative integral (from the left) of
    :math:`g(y) = |\int_r^y p_s| / (p_s D)(y)` and ``S e^{s_shift}`` that of :math:`\sigma = 1/(p_s D)`
    (or None).  Every exponential is taken of a log minus its maximum, and the inner mass is integrated
    from the reflecting end (never as a total minus a partial integral), so nothing overflows and no
    tail loses its relative accuracy, whatever the barrier.
    """
    phi, d = _log_stationary(panels, drift, diffusion, ito)
    dens, phi_max = _scaled(phi)
    inner = (_cumulative(panels, dens) if reflecting_left in (True, None)
             else _cumulative_from_right(panels, dens))  # int_r^y e^{phi - phi_max}
    log_g = []
    for p, mass, dd in zip(phi, inner, d):
        with np.errstate(divide="ignore"):
            log_g.append(np.log(np.maximum(mass, 0.0)) + phi_max - p - np.log(dd))
    g, g_shift = _scaled(log_g)
    G = np.concatenate(_cumulative(panels, g))
    S, s_shift = None, 0.0
    if reflecting_left is None:
        sig, s_shift = _scaled([-p - np.log(dd) for p, dd in zip(phi, d)])
        S = np.concatenate(_cumulative(panels, sig))
    x = np.concatenate(panels)
    keep = np.concatenate([[True], np.diff(x) > 0])  # drop the duplicated panel joints
    return x[keep], G[keep], g_shift, (S[keep] if S is not None else None), s_shift


def _solve_reflecting(drift, diffusion, x0, reflecting, absorbing, ito, breakpoints, n_intervals):
    """Nodes and :math:`T e^{-shift}` with the shift (log-scaled)."""
    lo, hi = min(reflecting, absorbing), max(reflecting, absorbing)
    panels = _panel_nodes(lo, hi, [x0, *breakpoints], n_intervals)
    x, G, shift, _, _ = _profile(panels, drift, diffusion, ito, reflecting_left=reflecting < absorbing)
    T = G[-1] - G if absorbing > reflecting else G
    return x, T, shift


def _solve_two_sided(drift, diffusion, x0, lo, hi, ito, breakpoints, n_intervals):
    panels = _panel_nodes(lo, hi, [x0, *breakpoints], n_intervals)
    x, Q, shift, S, _ = _profile(panels, drift, diffusion, ito, reflecting_left=None)
    T = Q[-1] * S / S[-1] - Q
    return x, T, shift


def _with_error(solve, x0, n_intervals, *args) -> MFPTQuadratureResult:
    if isinstance(n_intervals, bool) or int(n_intervals) != n_intervals or n_intervals < 8:
        raise ValueError(f"n_intervals must be an integer >= 8, got {n_intervals!r}")
    x, T, shift = solve(*args, int(n_intervals))
    xc, Tc, shift_c = solve(*args, int(n_intervals) // 2)
    scaled, scaled_c = float(np.interp(x0, x, T)), float(np.interp(x0, xc, Tc))
    if not scaled > 0:
        return MFPTQuadratureResult(value=0.0, error=0.0, x=x, T=np.zeros_like(T), log_value=-math.inf)
    log_value = math.log(scaled) + shift
    log_coarse = math.log(scaled_c) + shift_c if scaled_c > 0 else -math.inf
    rel = abs(math.expm1(log_value - log_coarse)) if math.isfinite(log_coarse) else math.inf
    if log_value > _LOG_MAX:
        warnings.warn(f"the mean first-passage time e^{log_value:.1f} exceeds the float range: value is inf, "
                      "log_value holds it", RuntimeWarning, stacklevel=3)
        return MFPTQuadratureResult(value=math.inf, error=math.inf, x=x, T=np.full_like(T, np.inf),
                                    log_value=log_value, rel_error=rel)
    value = math.exp(log_value)
    with np.errstate(over="ignore"):
        T_abs = T * math.exp(min(shift, _LOG_MAX))
    return MFPTQuadratureResult(value=value, error=value * rel, x=x, T=T_abs, log_value=log_value, rel_error=rel)


_LOG_MAX = math.log(np.finfo(float).max)


def mean_first_passage_time_1d(drift: Callable, diffusion: Callable, x0: float, reflecting: float,
                               absorbing: float, convention: str = "ito", *, breakpoints: Sequence[float] = (),
                               n_intervals: int = 20000) -> MFPTQuadratureResult:
    r"""Exact MFPT from ``x0`` to ``absorbing`` with a reflecting wall at ``reflecting`` (1-D, overdamped).

    .. math:: T(x_0) = \left|\int_{x_0}^{b} \frac{\mathrm{d}y}{p_s(y) D(y)} \int_{r}^{y} p_s(z)\,\mathrm{d}z\right|,
              \qquad p_s = \begin{cases} e^{\int a/D}/D & \text{Itô} \\ e^{\int a/D} & \text{ddt}\end{cases}

    Parameters
    ----------
    drift, diffusion : callable
        :math:`a(x)` and :math:`D(x) > 0`, vectorised ``(n,) -> (n,)``.
    x0 : float
        Start, between ``reflecting`` and ``absorbing`` (inclusive).
    reflecting, absorbing : float
        Positions of the reflecting and the absorbing end; either may be the larger.
    convention : {"ito", "ddt"}
        Itô (default) or [DDT]'s current :math:`J = aP - DP'`; see :mod:`sim.exact.fokker_planck`.
    breakpoints : sequence of float
        Points where :math:`a` or :math:`D` are not smooth; they become panel ends (keeps fourth order).
    n_intervals : int
        Total number of Simpson intervals (about; rounded up to even per panel).

    Returns
    -------
    MFPTQuadratureResult
        ``value`` = :math:`T(x_0)`, ``error`` (estimate), and :math:`T` on the nodes.

    References
    ----------
    docs/theory.md §6, §7; Gardiner, *Stochastic Methods* §5.5; Xie, Sato, Sugiyama, arXiv 2002.03495.
    """
    ito = check_convention(convention)
    x0, r, b = _finite("x0", x0), _finite("reflecting", reflecting), _finite("absorbing", absorbing)
    if r == b:
        raise ValueError(f"reflecting and absorbing must differ, both are {r}")
    if not min(r, b) <= x0 <= max(r, b):
        raise ValueError(f"x0={x0} must lie between reflecting={r} and absorbing={b}")
    bp = [_finite("breakpoints", p) for p in breakpoints]
    return _with_error(_solve_reflecting, x0, n_intervals, drift, diffusion, x0, r, b, ito, bp)


def mean_first_passage_time_1d_two_sided(drift: Callable, diffusion: Callable, x0: float, lo: float, hi: float,
                                         convention: str = "ito", *, breakpoints: Sequence[float] = (),
                                         n_intervals: int = 20000) -> MFPTQuadratureResult:
    r"""Exact MFPT from ``x0`` to either of two absorbing ends ``lo < hi``.

    .. math:: T(x) = Q(u)\frac{S(x)}{S(u)} - Q(x),\quad S(x) = \int_l^x\frac{\mathrm{d}y}{p_s D},\quad
              Q(x) = \int_l^x \frac{\mathrm{d}y}{p_s(y) D(y)}\int_l^y p_s .

    Pure diffusion gives :math:`T = (x-l)(u-x)/(2D)`.  Parameters as in
    :func:`mean_first_passage_time_1d`.
    """
    ito = check_convention(convention)
    x0, lo, hi = _finite("x0", x0), _finite("lo", lo), _finite("hi", hi)
    if not lo < hi:
        raise ValueError(f"need lo < hi, got lo={lo}, hi={hi}")
    if not lo <= x0 <= hi:
        raise ValueError(f"x0={x0} must lie in [lo, hi] = [{lo}, {hi}]")
    bp = [_finite("breakpoints", p) for p in breakpoints]
    return _with_error(_solve_two_sided, x0, n_intervals, drift, diffusion, x0, lo, hi, ito, bp)
