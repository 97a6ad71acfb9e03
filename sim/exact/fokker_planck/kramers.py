r"""Underdamped (Kramers) equation in phase space :math:`(\theta, r)`: forward density and MFPT.

The SDE :math:`\mathrm{d}\theta = r\,\mathrm{d}t`,
:math:`M\,\mathrm{d}r = -\gamma r\,\mathrm{d}t + F(\theta)\,\mathrm{d}t + \sqrt{2D(\theta)}\,\mathrm{d}W` is the
continuous model of Momentum and Adai (docs/theory.md §4); its exact MFPT is the reference of docs/theory.md §5's
finding on Theorem 3 / Proposition 4 (temperature varying along the path) and of §7's comparisons.  The
operator is assembled on a :class:`.grid.Grid2D` over :math:`(\theta, r)` by the shared kernels of
:mod:`.grid`, with the transport :math:`r\partial_\theta` upwinded (:func:`kramers_generator`).

References
----------
docs/theory.md §4 (Momentum/Adai SDEs), §5 (Theorem 3, Proposition 4), §7 (exact MFPT, underdamped 1-D).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .elimination import ResolutionWarning
from .local_gibbs import local_gibbs_generator
from .grid import (Grid1D, Grid2D, GridMFPTResult, _assemble, _bc_codes, _check_times, _grid_mfpt_result,
                   _initial_density, _integrate, _sample_coefficients, _solve_backward)

__all__ = [
    "THETA_SCHEMES",
    "default_r_max",
    "kramers_generator",
    "evolve_phase_space_density",
    "mean_first_passage_time_underdamped",
]


def _check_positive(name: str, value) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return v


def default_r_max(diffusion_max: float, mass: float, friction: float, n_sigma: float = 6.0) -> float:
    r"""Velocity cut-off :math:`r_{\max} = n_\sigma \sqrt{D_{\max}/(M\gamma)}`.

    :math:`D/(M\gamma)` is the stationary variance of :math:`r` for
    :math:`M\,\mathrm{d}r = -\gamma r\,\mathrm{d}t + \sqrt{2D}\,\mathrm{d}W` (Maxwell law with temperature
    :math:`D/\gamma`); with :math:`n_\sigma = 6` the truncated Gaussian mass is :math:`2\times10^{-9}`,
    and forcing by :math:`-L'` shifts the velocity by at most :math:`\max|L'|/\gamma`, which callers
    must keep well inside :math:`r_{\max}`.
    """
    for name, v in (("diffusion_max", diffusion_max), ("mass", mass), ("friction", friction), ("n_sigma", n_sigma)):
        _check_positive(name, v)
    return n_sigma * math.sqrt(diffusion_max / (mass * friction))


def _kramers_callables(force, diffusion, mass, friction):
    """Phase-space drift and diffusion of the Kramers equation for :math:`z = (\\theta, r)`."""

    def drift(z):
        th, r = z[:, 0], z[:, 1]
        f = np.asarray(force(th), dtype=float)
        return np.stack([r, (f - friction * r) / mass], axis=-1)

    def diff(z):
        d = np.asarray(diffusion(z[:, 0]), dtype=float)
        out = np.zeros((z.shape[0], 2, 2))
        out[:, 1, 1] = d / (mass * mass)
        return out

    return drift, diff


THETA_SCHEMES = {"upwind3": 1.0 / 3.0, "upwind2": -1.0, "upwind": None}
#: ``"local-gibbs"``: the scheme of :mod:`.local_gibbs` (exact local equilibrium; default);
#: ``"none"``: the direct finite-volume scheme (upwinded :math:`rP`, force in the Scharfetter–Gummel flux).
WEIGHTINGS = ("local-gibbs", "none")


def _theta_cell_average(diffusion, breakpoints, h: float):
    r""":math:`D(\theta)` averaged over the :math:`\theta`-cell of width ``h`` centred at each point where that
    cell contains a breakpoint (a jump of Hessian noise), midpoint rule on each side; plain values
    elsewhere.  The :math:`r`-diffusion :math:`D(\theta)/M^2\,\partial_r^2P` integrated over a cell across
    which :math:`P` is continuous in :math:`\theta` needs the arithmetic cell mean: sampling :math:`D` at
    the centre is first order there (docs/theory.md §7)."""
    bp = np.unique(np.asarray(breakpoints, dtype=float).reshape(-1))

    def averaged(th):
        th = np.asarray(th, dtype=float)
        out = np.asarray(diffusion(th), dtype=float).copy()
        for b in bp:
            inside = np.flatnonzero(np.abs(th - b) < 0.5 * h)
            for i in inside:
                lo, hi = th[i] - 0.5 * h, th[i] + 0.5 * h
                d = np.asarray(diffusion(np.array([0.5 * (lo + b), 0.5 * (b + hi)])), dtype=float)
                out[i] = ((b - lo) * d[0] + (hi - b) * d[1]) / h
        return out

    return averaged if bp.size else diffusion


def kramers_generator(force, diffusion, mass, friction, grid: Grid2D, theta_boundaries=("reflecting", "absorbing"),
                      theta_scheme: str = "upwind3", with_exits: bool = False, breakpoints=(),
                      weighting: str = "local-gibbs"):
    r"""Forward operator of the Kramers equation on a phase-space grid :math:`(\theta, r)`.

    The SDE is :math:`\mathrm{d}\theta = r\,\mathrm{d}t`,
    :math:`M\,\mathrm{d}r = -\gamma r\,\mathrm{d}t + F(\theta)\,\mathrm{d}t + \sqrt{2D(\theta)}\,\mathrm{d}W`
    with :math:`F = -L'` (docs/theory.md §4: Momentum has :math:`M=\eta/\beta_3`, :math:`\gamma=(1-\beta_1)/\beta_3`,
    :math:`D = (\eta/2)C`; Adai the same with its per-coordinate mass).  Its forward equation is

    .. math:: \partial_t P = -r\partial_\theta P - \partial_r\Big[\frac{F-\gamma r}{M}P\Big]
              + \frac{D(\theta)}{M^2}\partial_r^2 P .

    The phase-space diffusion matrix :math:`\mathrm{diag}(0, D(\theta)/M^2)` has zero divergence, so the
    Itô and ddt conventions coincide here.  The transport :math:`r\partial_\theta` is upwinded:
    ``theta_scheme="upwind3"`` (default) is the upwind-biased :math:`\kappa=1/3` scheme (second order
    overall, mass-conserving, not monotone), ``"upwind2"`` second-order upwind, ``"upwind"`` first-order
    upwind (monotone, keeps :math:`P\ge0`, but its numerical diffusion :math:`|r|h_\theta/2` acts like
    extra temperature and biases escape times exponentially: avoid for MFPTs).  The :math:`r`-flux is
    Scharfetter–Gummel.  An ``"absorbing"`` :math:`\theta` wall removes mass
    only where :math:`r` points out of the domain (upwind outflow) and injects none: the correct kinetic
    boundary condition.  A ``"reflecting"`` :math:`\theta` wall is zero-flux (particles stop at it until
    the force turns them; put it where the density is negligible).  The :math:`r` walls at
    :math:`\pm r_{\max}` are zero-flux.

    Parameters
    ----------
    force, diffusion : callable
        :math:`F(\theta) = -L'(\theta)` and :math:`D(\theta)`, vectorised ``(n,) -> (n,)``.
    mass, friction : float
        :math:`M > 0`, :math:`\gamma > 0`.
    grid : Grid2D
        Axis 0 is :math:`\theta`, axis 1 is :math:`r` (usually symmetric, :math:`[-r_{\max}, r_{\max}]`).
    theta_boundaries : pair of {"reflecting", "absorbing", "periodic"}
    theta_scheme : {"upwind3", "upwind2", "upwind"}
    with_exits : bool
        Also return the absorption rates through the wall, ``(A, exits)`` (the chain of :mod:`.elimination`).
    breakpoints : sequence of float, optional
        :math:`\theta` positions where :math:`D` jumps (junctions of the piecewise wells with Hessian
        noise): the cells that contain one use the cell mean of :math:`D` (:func:`_theta_cell_average`).
    """
    if theta_scheme not in THETA_SCHEMES:
        raise ValueError(f"theta_scheme must be one of {tuple(THETA_SCHEMES)}, got {theta_scheme!r}")
    if not isinstance(grid, Grid2D):
        raise TypeError("grid must be a Grid2D over (theta, r)")
    mass = _check_positive("mass", mass)
    friction = _check_positive("friction", friction)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    codes = _bc_codes((tuple(theta_boundaries), ("reflecting", "reflecting")), grid)
    kappa = THETA_SCHEMES[theta_scheme]
    if weighting == "local-gibbs":
        if np.any(np.asarray(diffusion(grid.axes[0].centres), dtype=float) <= 0):
            raise ValueError("diffusion must be strictly positive on the theta grid (add a floor)")
        A, exits = local_gibbs_generator(force, diffusion, mass, friction, grid, codes, kappa, breakpoints)
        return (A, exits) if with_exits else A
    diffusion = _theta_cell_average(diffusion, breakpoints, grid.h[0])
    drift, diff = _kramers_callables(force, diffusion, mass, friction)
    coeffs = _sample_coefficients(drift, diff, grid, allow_zero_diagonal=True)
    if np.any(coeffs.d_node[:, 1, 1] <= 0):
        raise ValueError("diffusion must be strictly positive on the theta grid (add a floor)")
    return _assemble(grid, codes, coeffs, ito=True, transport_kappa=None if kappa is None else {0: kappa},
                     with_exits=with_exits)


def evolve_phase_space_density(force, diffusion, mass, friction, grid: Grid2D, p0, times, *, dt: float,
                               theta_boundaries=("reflecting", "reflecting"), method: str = "tr-bdf2",
                               normalize: bool = True, theta_scheme: str = "upwind3") -> np.ndarray:
    """Forward Kramers equation: density on the :math:`(\\theta, r)` grid at ``times``.

    See :func:`kramers_generator` for the model and :func:`evolve_density` for ``p0``, ``times``, ``dt``,
    ``method``.  Returns shape ``(n_times,) + grid.shape``.
    """
    A = kramers_generator(force, diffusion, mass, friction, grid, theta_boundaries, theta_scheme)
    t = _check_times(times)
    return _integrate(A, _initial_density(p0, grid, normalize), t, dt, method).reshape((t.size,) + grid.shape)


def mean_first_passage_time_underdamped(force, diffusion, mass, friction, theta_range, theta_boundaries,
                                        n_theta: int, n_r: int, r_max: float | None = None,
                                        n_sigma: float = 6.0, theta_scheme: str = "upwind3",
                                        breakpoints=(), weighting: str = "local-gibbs") -> GridMFPTResult:
    r"""MFPT of the Kramers dynamics to the absorbing :math:`\theta` wall(s), from the backward equation

    .. math:: r\,\partial_\theta T + \frac{F(\theta)-\gamma r}{M}\partial_r T
              + \frac{D(\theta)}{M^2}\partial_r^2 T = -1 ,

    with :math:`T = 0` on the absorbing wall where :math:`r` points out of the domain (discretely: the
    transpose of :func:`kramers_generator`).

    Parameters
    ----------
    force, diffusion, mass, friction
        As in :func:`kramers_generator`.
    theta_range : (float, float)
        :math:`[\theta_{lo}, \theta_{hi}]`; the exit line is the absorbing side (e.g. ``theta_exit``).
    theta_boundaries : pair
        e.g. ``("reflecting", "absorbing")`` for an exit at :math:`\theta_{hi}`.
    n_theta, n_r : int
        Cells along :math:`\theta` and :math:`r`.
    r_max : float, optional
        Velocity cut-off; default :func:`default_r_max` with :math:`D_{\max}` sampled on the
        :math:`\theta` cells.
    n_sigma : float
        Number of thermal velocity scales in the default ``r_max``.
    theta_scheme, breakpoints
        See :func:`kramers_generator`.

    Returns
    -------
    GridMFPTResult
        ``res((theta0, r0))`` is the MFPT from that phase-space point.  Near an absorbing wall the
        interpolator extends with constant values (:math:`T\ne0` on the inflow half of the wall).

    Notes
    -----
    As :math:`M\to0` (:math:`MH/\gamma^2\ll1`) the result tends to the overdamped MFPT with drift
    :math:`F/\gamma` and diffusion :math:`D/\gamma^2` (tested).
    """
    mass = _check_positive("mass", mass)
    friction = _check_positive("friction", friction)
    if "absorbing" not in tuple(theta_boundaries):
        raise ValueError("theta_boundaries must contain 'absorbing' (the exit line)")
    th = Grid1D(theta_range[0], theta_range[1], n_theta)
    if r_max is None:
        d = np.asarray(diffusion(th.edges), dtype=float)
        r_max = default_r_max(float(np.max(d)), mass, friction, n_sigma)
    r_max = _check_positive("r_max", r_max)
    grid = Grid2D((th.lo, -r_max), (th.hi, r_max), (n_theta, n_r))
    A, exits = kramers_generator(force, diffusion, mass, friction, grid, theta_boundaries, theta_scheme,
                                 with_exits=True, breakpoints=breakpoints, weighting=weighting)
    codes = _bc_codes((tuple(theta_boundaries), ("reflecting", "reflecting")), grid)
    T, accuracy = _solve_backward(A.T.tocsr(), exits, "mean_first_passage_time_underdamped", block=n_r)
    if np.min(T) < 0:
        warnings.warn(f"mean_first_passage_time_underdamped: the discrete MFPT is negative somewhere (min "
                      f"{np.min(T):.3g}): the grid ({n_theta} x {n_r}) does not resolve the wells at this barrier "
                      "(the second-order transport stencil is not monotone); refine it", ResolutionWarning,
                      stacklevel=2)
    return _grid_mfpt_result(grid, codes, T.reshape(grid.shape), wall_value_zero=False, solve_accuracy=accuracy)
