r"""Overdamped Fokker–Planck and backward-Kolmogorov solvers in 1-D and 2-D.

The SDE is Itô (docs/theory.md §0),

.. math:: \mathrm{d}x = a(x)\,\mathrm{d}t + \sqrt{2 D(x)}\,\mathrm{d}W ,

with :math:`D` symmetric positive semidefinite (a scalar in 1-D, a :math:`2\times 2` matrix in 2-D).
To simulate an optimizer's SDE pass ``drift = lambda x: -grad_L(x)`` and
``diffusion = lambda x: 0.5 * eta * C(x)`` (docs/theory.md §4).  The grid, the boundaries and the flux
discretisation are described in :mod:`.grid`.

Conventions
-----------
``convention="ito"`` (default) solves the Itô forward equation

.. math:: \partial_t P = -\nabla\cdot J,\qquad J_i = a_i P - \sum_j \partial_j (D_{ij} P),

``convention="ddt"`` solves the equation of Xie, Sato & Sugiyama, "A Diffusion Theory for Deep Learning
Dynamics" (arXiv 2002.03495, [DDT]), whose current is :math:`J = aP - D\nabla P`.  Since
:math:`\partial_j(D_{ij}P) = D_{ij}\partial_j P + (\partial_j D_{ij}) P`, the two are related by

.. math:: \text{ddt with drift } a \;=\; \text{Itô with drift } a + \nabla\cdot D ,
          \qquad \text{Itô with drift } a \;=\; \text{ddt with drift } a - \nabla\cdot D ,

where :math:`(\nabla\cdot D)_i = \sum_j \partial_j D_{ij}`; they coincide wherever :math:`D` is constant.
The backward generators (adjoints of the forward operators) are therefore

.. math:: \mathcal{L}^\dagger_{\rm ito} T = a\cdot\nabla T + D:\nabla\nabla T, \qquad
          \mathcal{L}^\dagger_{\rm ddt} T = (a + \nabla\cdot D)\cdot\nabla T + D:\nabla\nabla T
          = a\cdot\nabla T + \nabla\cdot(D\nabla T).

In 1-D with :math:`a = -L'` the stationary densities are
:math:`p_{\rm ddt}\propto e^{-\int L'/D}` and :math:`p_{\rm ito}\propto e^{-\int L'/D}/D
= e^{-\int (L'+D')/D}` (docs/theory.md §6); both are tested.  :func:`check_convention` is the one parser of
the ``convention`` argument (also used by :mod:`sim.exact.mfpt`).

References
----------
docs/theory.md §0 (conventions), §2 (noise models), §4 (continuous models), §6 (Itô vs [DDT] currents),
§7 (exact model solvers).  Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for Deep Learning Dynamics",
arXiv 2002.03495.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .elimination import BandedGTH, warn_if_inaccurate
from .grid import (_ABSORBING, _assemble, _bc_codes, _check_grid, _check_times, _grid_mfpt_result,
                   _initial_density, _integrate, _jump_coefficients, _sample_coefficients, _solve_backward,
                   GridMFPTResult)

__all__ = [
    "CONVENTIONS",
    "check_convention",
    "assemble_generator",
    "backward_chain",
    "evolve_density",
    "stationary_density",
    "escape_rate",
    "EscapeRateResult",
    "mean_first_passage_time_backward",
    "GridMFPTResult",
]

CONVENTIONS = ("ito", "ddt")


def check_convention(convention: str) -> bool:
    """Return ``True`` for Itô, ``False`` for ddt; raise on anything else."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return convention == "ito"


def _coefficients(drift, diffusion, grid, convention, breakpoints):
    """Sampled coefficients, with the 1-D jump treatment at ``breakpoints`` (:func:`assemble_generator`)."""
    coeffs = _sample_coefficients(drift, diffusion, grid)
    if len(np.atleast_1d(breakpoints)) == 0:
        return coeffs
    if grid.ndim != 1:
        raise ValueError("breakpoints are supported on 1-D grids only (a jump of D across a line in 2-D is not)")
    bp = np.asarray(breakpoints, dtype=float).reshape(-1)
    if not np.all(np.isfinite(bp)):
        raise ValueError(f"breakpoints must be finite, got {breakpoints!r}")
    return _jump_coefficients(coeffs, drift, diffusion, grid, bp, check_convention(convention))


def assemble_generator(drift: Callable, diffusion: Callable, grid, boundaries, convention: str = "ito", *,
                       breakpoints=()):
    r"""Sparse forward Fokker–Planck operator on the grid.

    Parameters
    ----------
    drift, diffusion : callable
        Vectorised :math:`a(x)` and :math:`D(x)` (shapes in :mod:`.grid`).
    grid : Grid1D or Grid2D
    boundaries : str or sequence
        ``"reflecting"``, ``"absorbing"`` or ``"periodic"`` per side: one name, ``(lo, hi)`` in 1-D,
        ``((x_lo, x_hi), (y_lo, y_hi))`` in 2-D.
    convention : {"ito", "ddt"}
    breakpoints : sequence of float, optional
        1-D only: points where :math:`a` or :math:`D` jump or kink (e.g. the junctions of the piecewise
        wells, where Hessian noise jumps).  A face whose centre-to-centre interval contains one gets the
        series (harmonically averaged) Scharfetter–Gummel flux of the two sides, and (Itô) a cell that
        contains one the harmonic mean of :math:`D` as its mass factor (:func:`.grid._jump_coefficients`):
        second-order convergence where face sampling of a jumping :math:`D` is first order (measured in
        the tests).

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``(N, N)``
        ``A`` with :math:`\dot P = A P` for the cell values :math:`P` (flattened in C order); the
        backward generator is ``A.T``.  Columns sum to zero except at absorbing walls.
    """
    _check_grid(grid)
    ito = check_convention(convention)
    codes = _bc_codes(boundaries, grid)
    return _assemble(grid, codes, _coefficients(drift, diffusion, grid, convention, breakpoints), ito)


def backward_chain(drift, diffusion, grid, boundaries, convention: str = "ito", *, breakpoints=()):
    r"""The Markov chain on the cells that the backward solvers eliminate: ``(rates, exits)`` with
    ``rates`` the generator :math:`A^\top` (only its off-diagonal entries are used: the diagonal is implied,
    :math:`q_{ii} = -\sum_{j\ne i}q_{ij} - \kappa_i`) and ``exits`` the absorption rates :math:`\kappa`
    through the walls (:mod:`.elimination`).  Arguments as in :func:`assemble_generator`."""
    _check_grid(grid)
    codes = _bc_codes(boundaries, grid)
    A, exits = _assemble(grid, codes, _coefficients(drift, diffusion, grid, convention, breakpoints),
                         check_convention(convention), with_exits=True)
    return A.T.tocsr(), exits


def evolve_density(drift, diffusion, grid, boundaries, p0, times, *, dt: float, method: str = "tr-bdf2",
                   convention: str = "ito", normalize: bool = True) -> np.ndarray:
    r"""Solve the forward equation :math:`\partial_t P = -\nabla\cdot J` on the grid.

    Parameters
    ----------
    drift, diffusion, grid, boundaries, convention
        As in :func:`assemble_generator`.
    p0 : array of the grid shape or callable
        Initial density at the cell centres (a callable is evaluated at ``grid.points()``).
    times : array_like
        Non-decreasing output times :math:`\ge 0` (the start is :math:`t=0`).
    dt : float
        Largest time step; each interval between output times is split into equal steps
        :math:`\le` ``dt`` (one sparse LU per distinct step, reused).
    method : {"tr-bdf2", "implicit-euler"}
        TR-BDF2 with :math:`\gamma = 2-\sqrt2` (second order, L-stable, one LU for both stages) or
        implicit Euler (first order; keeps :math:`P\ge0` exactly when :math:`D_{xy}=0`).  Both conserve
        :math:`\sum_i P_i|{\rm cell}|` exactly with reflecting/periodic walls.
    normalize : bool
        Rescale ``p0`` to unit mass on the grid.

    Returns
    -------
    ndarray, shape ``(n_times,) + grid.shape``
    """
    _check_grid(grid)
    A = assemble_generator(drift, diffusion, grid, boundaries, convention)
    t = _check_times(times)
    out = _integrate(A, _initial_density(p0, grid, normalize), t, dt, method)
    return out.reshape((t.size,) + grid.shape)


def _stationary_from_operator(A: sp.csr_matrix, grid) -> np.ndarray:
    """Kernel of ``A`` normalised to unit mass: replace the first equation by the mass constraint."""
    N = A.shape[0]
    mass_row = sp.csr_matrix(np.full((1, N), grid.cell_volume))
    system = sp.vstack([mass_row, A[1:]], format="csc")
    rhs = np.zeros(N)
    rhs[0] = 1.0
    return spla.splu(system).solve(rhs)


def stationary_density(drift, diffusion, grid, boundaries="reflecting", convention: str = "ito") -> np.ndarray:
    r"""Stationary density :math:`A P = 0`, :math:`\sum_i P_i |{\rm cell}| = 1` (no absorbing sides).

    For 1-D gradient drift :math:`a=-L'` the exact answers are
    :math:`p_{\rm ito}\propto e^{\int a/D}/D` and :math:`p_{\rm ddt}\propto e^{\int a/D}`; the SG flux
    reproduces :math:`p_{\rm ddt}` to second order (exactly where :math:`a/D` is constant per face).

    Returns
    -------
    ndarray of the grid shape
    """
    _check_grid(grid)
    codes = _bc_codes(boundaries, grid)
    if any(_ABSORBING in c for c in codes):
        raise ValueError("stationary_density: boundaries must be reflecting or periodic (no absorbing side)")
    A = assemble_generator(drift, diffusion, grid, boundaries, convention)
    return _stationary_from_operator(A, grid).reshape(grid.shape)


@dataclass(frozen=True)
class EscapeRateResult:
    """Principal eigenpair of the absorbing forward operator.

    Attributes
    ----------
    rate : float
        :math:`\\lambda_0 > 0`, with :math:`P(x,t) \\sim e^{-\\lambda_0 t}\\rho(x)`; the MFPT from the
        quasi-stationary state is :math:`1/\\lambda_0`.
    density : ndarray of the grid shape
        Quasi-stationary density :math:`\\rho\\ge0`, unit mass.
    error : float
        Stated relative accuracy of ``rate`` on the grid (linear algebra and iteration).
    """

    rate: float
    density: np.ndarray
    error: float = 0.0


def _principal_mode(rates: sp.csr_matrix, exits: np.ndarray, grid, max_iter: int = 500) -> EscapeRateResult:
    r"""Inverse iteration :math:`P_{k+1} = (-A)^{-1}P_k` with the subtraction-free factorisation of
    :mod:`.elimination` (the transposed solve of the backward generator :math:`A^\top`).

    Shift-invert ``eigs`` needs an LU of :math:`A`, which is wrong beyond :math:`E \approx 36` (see
    :mod:`.elimination`); here every iterate stays positive and accurate, and the rate is
    :math:`\lambda_0 = \sum P_k / \sum P_{k+1}`.  The iteration contracts by :math:`\lambda_0/\lambda_1`
    per step (tiny behind a barrier); it stops when the rate changes by less than the solve's accuracy.
    """
    gth = BandedGTH(rates, exits) if _is_m_matrix(rates) else None
    if gth is None:  # cross diffusion: negative rates, no transposed subtraction-free solve
        return _principal_mode_lu(rates, grid)
    p = np.full(rates.shape[0], 1.0 / rates.shape[0])
    rate, change = np.inf, np.inf
    for _ in range(max_iter):
        q = gth.solve_transposed(p)
        if not np.all(np.isfinite(q)):
            raise OverflowError("escape_rate: the escape time overflows a float (barrier too high)")
        new = float(p.sum() / q.sum())
        change = abs(new / rate - 1) if np.isfinite(rate) else np.inf
        rate, p = new, q / q.sum()
        if change <= 4 * gth.stated_accuracy():
            break
    else:
        warnings.warn(f"escape_rate: inverse iteration stopped after {max_iter} steps with a relative change "
                      f"{change:.2g} (cause: the two slowest modes are not separated)", RuntimeWarning, stacklevel=3)
    error = max(change, gth.stated_accuracy())
    warn_if_inaccurate(error, "escape_rate")
    return EscapeRateResult(rate=rate, density=(p / grid.cell_volume).reshape(grid.shape), error=error)


def _is_m_matrix(rates) -> bool:
    coo = sp.coo_matrix(rates)
    return bool(np.all(coo.data[coo.row != coo.col] >= 0))


def _principal_mode_lu(rates, grid) -> EscapeRateResult:
    r"""Shift-invert ``eigs`` (sparse LU) for generators with negative rates (2-D cross diffusion).  Its
    accuracy is not certified: the rounding of the LU is :math:`\sim\epsilon` against a rate
    :math:`\sim e^{-E}`; the stated error is :math:`\epsilon\,\max|q_{ii}|/\lambda_0`, and a
    :class:`ConditioningWarning` is raised when it exceeds the tolerance (high barriers)."""
    A = rates.T.tocsc()
    vals, vecs = spla.eigs(A, k=1, sigma=0.0, which="LM")
    lam, vec = vals[0], vecs[:, 0]
    if abs(lam.imag) > 1e-8 * max(abs(lam.real), 1e-300):
        raise RuntimeError(f"principal eigenvalue is not real: {lam}")
    rate = float(-lam.real)
    scale = float(np.max(np.abs(rates).sum(axis=1)))
    error = np.finfo(float).eps * scale / rate if rate > 0 else np.inf
    warn_if_inaccurate(error, "escape_rate (cross diffusion: sparse LU)")
    vec = vec.real
    vec = vec / (vec.sum() * grid.cell_volume)
    return EscapeRateResult(rate=rate, density=vec.reshape(grid.shape), error=float(error))


def escape_rate(drift, diffusion, grid, boundaries, convention: str = "ito", *, breakpoints=()) -> EscapeRateResult:
    r"""Smallest decay rate of the forward operator with absorbing walls (inverse iteration, subtraction-free).

    The survival probability decays as :math:`e^{-\lambda_0 t}`; in the low-temperature limit
    :math:`\lambda_0 = 1/\tau` with :math:`\tau` the Kramers escape time (docs/theory.md §5, §6).
    ``breakpoints`` as in :func:`assemble_generator`.  ``error`` is the stated relative accuracy of the
    rate on this grid (linear algebra and iteration; not the discretisation).
    """
    _check_grid(grid)
    codes = _bc_codes(boundaries, grid)
    if not any(_ABSORBING in c for c in codes):
        raise ValueError("escape_rate: at least one boundary side must be 'absorbing'")
    rates, exits = backward_chain(drift, diffusion, grid, boundaries, convention, breakpoints=breakpoints)
    return _principal_mode(rates, exits, grid)


# ----------------------------------------------------------------------------------------------------
# Backward equation: mean first-passage time
# ----------------------------------------------------------------------------------------------------
def mean_first_passage_time_backward(drift, diffusion, grid, boundaries, convention: str = "ito", *,
                                     breakpoints=()) -> GridMFPTResult:
    r"""Mean first-passage time to the absorbing walls from the backward Kolmogorov equation.

    Solves :math:`\mathcal{L}^\dagger T = -1` in the domain with :math:`T=0` on absorbing walls and
    :math:`\hat n\cdot D\nabla T = 0` on reflecting ones, where
    :math:`\mathcal{L}^\dagger T = a\cdot\nabla T + D:\nabla\nabla T` (Itô) or
    :math:`a\cdot\nabla T + \nabla\cdot(D\nabla T)` (ddt).  Discretely ``A.T @ T = -1`` with ``A`` from
    :func:`assemble_generator`, solved by the subtraction-free elimination of :mod:`.elimination` (right at
    any barrier; ``solve_accuracy`` states its relative accuracy).  ``breakpoints`` as in
    :func:`assemble_generator`.

    Returns
    -------
    GridMFPTResult
        ``res.T`` on the grid and ``res(x0)`` for any start.

    References
    ----------
    docs/theory.md §7 (exact MFPT from the backward equation), §6 (conventions).
    """
    _check_grid(grid)
    codes = _bc_codes(boundaries, grid)
    if not any(_ABSORBING in c for c in codes):
        raise ValueError("mean_first_passage_time_backward: at least one boundary side must be 'absorbing'")
    rates, exits = backward_chain(drift, diffusion, grid, boundaries, convention, breakpoints=breakpoints)
    T, accuracy = _solve_backward(rates, exits, "mean_first_passage_time_backward", block=grid.shape[-1])
    return _grid_mfpt_result(grid, codes, T.reshape(grid.shape), solve_accuracy=accuracy)
