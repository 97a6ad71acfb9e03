r"""Adapters from one :class:`~sim.problem.Problem` to the exact models (docs/theory.md §7, comparison 1).

The Monte Carlo of a problem and the exact model it is compared with must read the same object:
landscape, noise, dynamics, start and exit.  These functions take that Problem and return the exact
model's answer; nobody rebuilds a model from hand-made coefficients.

* :func:`mfpt_1d` — the overdamped 1-D mean first-passage time by quadrature
  (:func:`sim.exact.mfpt.mean_first_passage_time_1d`): SGD / SGDLangevin (drift :math:`-L'`,
  diffusion :math:`(\eta/2)C`), or an overdamped model with ``drift_diffusion`` (``AdamSDE(beta1=0)``).
* :func:`underdamped_coefficients` — mass and friction of the Kramers equation along the escape
  coordinate, from the dynamics (docs/theory.md §4): Momentum / MomentumSDE :math:`M = \eta/\beta_3`,
  :math:`\gamma = (1-\beta_1)/\beta_3`; Adai / AdaiSDE EMA momentum (:math:`\gamma = 1`) with the mass
  along the escape coordinate, :math:`M_e = \eta/(1-\beta_{1,e})`, :math:`\beta_{1,e}` the dynamics'
  own inertia (:meth:`sim.AdaiSDE.inertia`) at the saddle (Proposition 4's assumption).
* :func:`kramers_mfpt` — the underdamped (Kramers) MFPT along the escape coordinate from the backward
  equation (:func:`sim.exact.fokker_planck.mean_first_passage_time_underdamped`) on one grid, and
  :func:`kramers_mfpt_richardson` — the same Richardson-extrapolated in the velocity cells, with an
  error estimate.

The escape coordinate is the exit's normal :math:`e` (a :class:`~sim.exits.HalfSpaceExit`
:math:`e^\top\theta \ge o`): the path is :math:`\theta(s) = x_0 + (s - e^\top x_0)\,e`, the force
:math:`F(s) = -e^\top\nabla L(\theta(s))`, the diffusion :math:`D(s) = (\eta/2)\,e^\top C(\theta(s))\,e`
(docs/theory.md §4).  For landscapes whose other coordinates are spectators (decoupled quadratics at 0 on
the path, e.g. :class:`~sim.landscapes.PiecewiseQuadraticWells` with ``spectators``) this 1-D model is
the exact model of the escape coordinate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["mfpt_1d", "box_mfpt", "underdamped_coefficients", "kramers_mfpt", "kramers_mfpt_richardson",
           "KramersMFPT", "escape_coordinate"]


def mfpt_1d(problem, *, reflecting: float | None = None, absorbing: float | None = None,
            convention: str = "ito", n_intervals: int = 20000):
    r"""Exact MFPT of the SGD SDE (or of another overdamped model, e.g. ``AdamSDE(beta1=0)``, through its
    ``drift_diffusion``) of a 1-D problem, by :func:`sim.exact.mfpt.mean_first_passage_time_1d`.

    The adapter from the shared :class:`~sim.problem.Problem` to the solver's callables:
    drift :math:`a(x) = -L'(x)`, diffusion :math:`D(x) = (\eta/2)\,C(x)` with :math:`C` from the
    problem's noise model and :math:`\eta` = ``problem.dynamics.lr`` (docs/theory.md §4, SGD), Itô by
    default (what Euler–Maruyama and the SGD recursion converge to).  The landscape's ``breakpoints``
    (junctions of :class:`~sim.landscapes.PiecewiseQuadraticWells`) that lie inside the interval become
    panel ends, keeping the quadrature fourth order.

    Parameters
    ----------
    problem : Problem
        1-D, with ``SGD`` or ``SGDLangevin`` dynamics, or an overdamped model with ``drift_diffusion``.
    absorbing : float, optional
        Default: the problem's exit, which must then be a 1-D :class:`~sim.exits.HalfSpaceExit`
        (enter :math:`n x \ge o`: absorbing at :math:`o/n`).
    reflecting : float, optional
        Reflecting wall on the other side of ``x0``.  Default: ``x0 - 8 (absorbing - x0)``, far
        enough that the stationary mass beyond it is negligible for a confining well (check it for
        your landscape: the MFPT must not change when the wall moves).
    convention : {"ito", "ddt"}
    n_intervals : int

    Returns
    -------
    sim.exact.mfpt.MFPTQuadratureResult
        ``value`` (time units), ``error`` (quadrature error estimate).
    """
    from .. import SGD, HalfSpaceExit, SGDLangevin
    from .. import _validation as V
    from .mfpt import mean_first_passage_time_1d

    if problem.dim != 1:
        raise ValueError(f"mfpt_1d (problem_mfpt_1d) needs a 1-D problem, got dim={problem.dim}")
    overdamped = getattr(problem.dynamics, "overdamped", False) and hasattr(problem.dynamics, "drift_diffusion")
    if not isinstance(problem.dynamics, (SGD, SGDLangevin)) and not overdamped:
        raise TypeError(f"mfpt_1d solves an overdamped SDE; dynamics must be SGD, SGDLangevin or an "
                        f"overdamped model with drift_diffusion (e.g. AdamSDE(beta1=0)), "
                        f"got {type(problem.dynamics).__name__}")
    x0 = float(problem.x0[0])
    if absorbing is None:
        if not isinstance(problem.exit, HalfSpaceExit):
            raise ValueError("absorbing must be given unless the problem's exit is a HalfSpaceExit")
        absorbing = problem.exit.offset / problem.exit.normal[0]
    absorbing = float(V.finite_array("absorbing", absorbing, ndim=0))
    if reflecting is None:
        reflecting = x0 - 8.0 * (absorbing - x0)
    reflecting = float(V.finite_array("reflecting", reflecting, ndim=0))
    land, noise, eta = problem.landscape, problem.noise, problem.dynamics.lr
    if overdamped:  # the model's own coefficients (AdamSDE with beta1 = 0: preconditioned)
        drift, diffusion = problem.overdamped_coefficients()
    else:
        def drift(x):
            return -land.gradient(np.asarray(x, dtype=float)[:, None])[:, 0]

        def diffusion(x):
            return 0.5 * eta * noise.covariance(np.asarray(x, dtype=float)[:, None], land)[:, 0, 0]

    lo, hi = min(reflecting, absorbing), max(reflecting, absorbing)
    bps = np.asarray(getattr(land, "breakpoints", np.zeros((0, 1))), dtype=float).reshape(-1)
    bps = [float(b) for b in bps if lo < b < hi and b != x0]
    return mean_first_passage_time_1d(drift, diffusion, x0, reflecting, absorbing, convention,
                                      breakpoints=bps, n_intervals=n_intervals)


def box_mfpt(problem, half_widths, n: int) -> float:
    """Mean first-passage time of ``problem``'s overdamped model from its start ``x0`` to the boundary
    of the box ``x0 ± half_widths`` (1-D or 2-D), by the backward-Kolmogorov grid solver with ``n``
    cells per axis (:func:`~optdyn.sim.exact.fokker_planck.mean_first_passage_time_backward`; its
    accuracy: compare two grids).  The walls are passed apart from the Problem's exit so that a
    caller can move them (e.g. by the discrete-monitoring shift of the Monte Carlo)."""
    from . import fokker_planck as fp

    if problem.dim not in (1, 2):
        raise ValueError(f"box_mfpt solves 1-D and 2-D problems; this one has dim={problem.dim}")
    walls = np.broadcast_to(np.asarray(half_widths, dtype=float), (problem.dim,))
    if not np.all(np.isfinite(walls) & (walls > 0)):
        raise ValueError(f"half_widths must be finite and > 0, got {half_widths!r}")
    x0 = np.asarray(problem.x0, dtype=float)
    drift, diffusion = problem.overdamped_coefficients()
    if problem.dim == 1:
        grid = fp.Grid1D(x0[0] - walls[0], x0[0] + walls[0], n)
        return float(fp.mean_first_passage_time_backward(drift, diffusion, grid, "absorbing")(x0[0]))
    grid = fp.Grid2D(lo=tuple(x0 - walls), hi=tuple(x0 + walls), n=(n, n))
    return float(fp.mean_first_passage_time_backward(drift, diffusion, grid, "absorbing")(list(x0)))


def escape_coordinate(problem):
    r"""``(e, s0, s_exit, point)``: the unit exit normal :math:`e`, the start's coordinate
    :math:`s_0 = e^\top x_0`, the exit's :math:`s_{exit}`, and ``point(s)`` mapping coordinates
    ``(m,)`` to points ``(m, dim)`` on the line through :math:`x_0` along :math:`e`."""
    from .. import HalfSpaceExit

    ex = problem.exit
    if not isinstance(ex, HalfSpaceExit):
        raise ValueError(f"the escape coordinate needs a HalfSpaceExit, got {type(ex).__name__}")
    norm = float(np.linalg.norm(ex.normal))
    e = ex.normal / norm
    x0 = np.asarray(problem.x0, dtype=float)
    s0 = float(e @ x0)
    s_exit = ex.offset / norm

    def point(s):
        s = np.asarray(s, dtype=float).reshape(-1)
        return x0[None, :] + (s - s0)[:, None] * e[None, :]

    return e, s0, s_exit, point


def underdamped_coefficients(problem, *, via_saddle: int = 0) -> tuple[float, float, dict]:
    r"""Mass :math:`M` and friction :math:`\gamma` of the Kramers equation along the escape coordinate,
    from ``problem.dynamics`` (docs/theory.md §4), and a dict of what they came from.

    * ``Momentum`` / ``MomentumSDE``: :math:`M = \eta/\beta_3`, :math:`\gamma = (1-\beta_1)/\beta_3`.
    * ``Adai`` / ``AdaiSDE``: :math:`\gamma = 1`, :math:`M_e = \eta/(1-\beta_{1,e})` with
      :math:`\beta_{1,e}` the component along :math:`e` of the dynamics' inertia
      (:meth:`sim.AdaiSDE.inertia`, clipped to :math:`[0, 1-\epsilon]`) at the saddle ``via_saddle``
      of the landscape (Proposition 4 freezes it there).  ``info["mass_variation"]`` is the largest
      relative change of :math:`M_e` along the path between start and exit: the frozen-mass model is
      exact for this problem only when it is 0 (e.g. Hessian noise with :math:`H_a = |H_b|`).
    """
    from .. import Adai, AdaiSDE, Momentum, MomentumSDE

    dyn = problem.dynamics
    if isinstance(dyn, (Momentum, Adai)):
        dyn = dyn.continuous()
    if isinstance(dyn, MomentumSDE):
        return dyn.lr / dyn.beta3, (1.0 - dyn.beta1) / dyn.beta3, {"model": "MomentumSDE"}
    if isinstance(dyn, AdaiSDE):
        e, s0, s_exit, point = escape_coordinate(problem)
        k = int(np.argmax(np.abs(e)))
        if not np.isclose(abs(e[k]), 1.0, rtol=0, atol=1e-12):
            raise ValueError("Adai's inertia is per coordinate: the escape direction must be a coordinate axis, "
                             f"got e = {e.tolist()}")
        land, noise = problem.landscape, problem.noise
        b = np.asarray(land.saddles[via_saddle], dtype=float)
        beta1_e = float(dyn.inertia(b[None, :], land, noise)[0, k])
        path = point(np.linspace(s0, s_exit, 257))
        along = dyn.inertia(path, land, noise)[:, k]
        variation = float(np.max(np.abs((1.0 - along) / (1.0 - beta1_e) - 1.0)))
        return dyn.lr / (1.0 - beta1_e), 1.0, {"model": "AdaiSDE", "one_minus_beta1_e": 1.0 - beta1_e,
                                                "mass_variation": variation}
    raise TypeError(f"no underdamped exact model for {type(problem.dynamics).__name__}: "
                    "use Momentum, MomentumSDE, Adai or AdaiSDE")


@dataclass
class KramersMFPT:
    """MFPT of the Kramers equation of a problem: ``value`` (time units), ``error`` (relative error
    estimate; 0 for a single grid), ``mass``, ``friction``, and ``info`` (see
    :func:`underdamped_coefficients`; ``grids`` lists the solves)."""

    value: float
    error: float
    mass: float
    friction: float
    info: dict = field(default_factory=dict)


def _default_reflecting(s0, s_exit):
    # 1.5 half-distances start→exit behind the start (for the wells: 1.5 well widths beyond a)
    return s0 - 0.75 * (s_exit - s0)


def kramers_mfpt(problem, n_theta: int = 480, n_r: int = 97, *, reflecting: float | None = None,
                 velocity: float = 0.0, weighting: str = "local-gibbs") -> KramersMFPT:
    r"""MFPT of the problem's momentum dynamics along its escape coordinate, on one grid.

    The backward Kramers equation of :func:`sim.exact.fokker_planck.mean_first_passage_time_underdamped`
    with force :math:`F(s) = -e^\top\nabla L`, diffusion :math:`D(s) = (\eta/2) e^\top C e`, mass and
    friction from :func:`underdamped_coefficients`; absorbing at the exit, reflecting at ``reflecting``
    (default: :math:`s_0 - 0.75 (s_{exit} - s_0)`), started at :math:`(s_0, r_0)` with
    :math:`r_0` = ``velocity``.  ``weighting`` selects the scheme
    (:data:`sim.exact.fokker_planck.kramers.WEIGHTINGS`; the default keeps the local equilibrium exact).
    """
    from . import fokker_planck as fp

    mass, friction, info = underdamped_coefficients(problem)
    e, s0, s_exit, point = escape_coordinate(problem)
    land, noise, eta = problem.landscape, problem.noise, problem.dynamics.lr

    def force(s):
        return -(land.gradient(point(s)) @ e)

    def diffusion(s):
        c = noise.covariance(point(s), land)
        return 0.5 * eta * np.einsum("i,mij,j->m", e, c, e)

    lo = _default_reflecting(s0, s_exit) if reflecting is None else float(reflecting)
    bps = np.asarray(getattr(land, "breakpoints", np.zeros((0, problem.dim))), dtype=float).reshape(-1, problem.dim)
    bps = [float(b @ e) for b in bps if lo < float(b @ e) < s_exit]
    res = fp.mean_first_passage_time_underdamped(force, diffusion, mass, friction, (lo, s_exit),
                                                 ("reflecting", "absorbing"), n_theta, n_r, breakpoints=bps,
                                                 weighting=weighting)
    value = float(res((s0, velocity)))
    if not value > 0:
        raise ValueError(f"kramers_mfpt: the grid ({n_theta} x {n_r}) gives a non-positive MFPT ({value:.3g}) at "
                         "this barrier: it does not resolve the problem (resolution); use more cells")
    info = dict(info, grids=[(n_theta, n_r)], reflecting=lo, solve_accuracy=res.solve_accuracy)
    return KramersMFPT(value, res.solve_accuracy, mass, friction, info)


#: Stated relative error above which :func:`kramers_mfpt_richardson` warns (cause: resolution).
KRAMERS_TOLERANCE = 1e-2


def kramers_mfpt_richardson(problem, n_theta: int = 480, n_r: int = 97, **kw) -> KramersMFPT:
    r""":func:`kramers_mfpt` Richardson-extrapolated in both grid axes, with an error estimate.

    The local-Gibbs scheme (:mod:`sim.exact.fokker_planck.local_gibbs`) is second order in :math:`h_\theta`
    and :math:`h_r` (measured on the unit wells at E = 40: successive θ differences shrink 3.9×, r
    differences 3.4×), and it keeps the quasi-potential exact where the temperature is constant, so its
    error acts on the prefactor.  Where the temperature varies the error reaches the exponent, so the
    extrapolation is done on :math:`\log T`: from the grid ``(n_theta, n_r)`` and the two grids halved in one
    axis each, ``(n_theta/2, n_r)`` and ``(n_theta, (n_r+1)/2)``,
    :math:`\log T = \log T_{h} + c_\theta + c_r` with :math:`c_k = (\log T_h - \log T_{2h_k})/3`.
    ``error`` is the size of the corrections, :math:`|e^{c_\theta} - 1| + |e^{c_r} - 1|` (the error of the
    fine grid itself, an over-estimate of the extrapolated value's error in the asymptotic range), plus
    the linear algebra's stated accuracy.  Warns (:class:`~sim.exact.fokker_planck.ResolutionWarning`)
    above :data:`KRAMERS_TOLERANCE`; a grid whose MFPT is not positive raises (:func:`kramers_mfpt`).
    """
    import warnings

    from .fokker_planck import ResolutionWarning

    if n_theta % 2 or n_theta < 4:
        raise ValueError(f"n_theta must be an even integer >= 4 (it is halved), got {n_theta!r}")
    if n_r % 2 == 0 or n_r < 5:
        raise ValueError(f"n_r must be an odd integer >= 5 (r = 0 stays a cell centre when halved), got {n_r!r}")
    grids = [(n_theta, n_r), (n_theta // 2, n_r), (n_theta, (n_r + 1) // 2)]
    runs = [kramers_mfpt(problem, nt, nr, **kw) for nt, nr in grids]
    fine, coarse_theta, coarse_r = (np.log(r.value) for r in runs)
    c_theta, c_r = (fine - coarse_theta) / 3.0, (fine - coarse_r) / 3.0
    error = abs(np.expm1(c_theta)) + abs(np.expm1(c_r)) + max(r.error for r in runs)
    info = dict(runs[0].info, grids=grids, corrections={"theta": float(c_theta), "r": float(c_r)})
    if not error <= KRAMERS_TOLERANCE:
        warnings.warn(f"kramers_mfpt_richardson: stated relative error {error:.2g} > {KRAMERS_TOLERANCE:g} "
                      f"(cause: resolution of the grid {n_theta} x {n_r} at this barrier; theta part "
                      f"{abs(np.expm1(c_theta)):.2g}, velocity part {abs(np.expm1(c_r)):.2g})", ResolutionWarning,
                      stacklevel=2)
    return KramersMFPT(float(np.exp(fine + c_theta + c_r)), float(error), runs[0].mass, runs[0].friction, info)
