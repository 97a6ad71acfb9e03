r"""Fokker–Planck and backward-Kolmogorov grid solvers (overdamped 1-D/2-D, underdamped phase space).

The SDE is Itô (THEORY.md §0),

.. math:: \mathrm{d}x = a(x)\,\mathrm{d}t + \sqrt{2 D(x)}\,\mathrm{d}W ,

with :math:`D` symmetric positive semidefinite (a scalar in 1-D, a :math:`2\times 2` matrix in 2-D).

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
= e^{-\int (L'+D')/D}` (THEORY.md §6); both are tested.

Discretisation
--------------
Cell-centred finite volumes on a uniform grid (:class:`Grid1D`, :class:`Grid2D`).  The flux through each
face normal to axis :math:`k` is the exponentially fitted Scharfetter–Gummel flux of the diagonal part
:math:`J_k = a_k P - \partial_k(D_{kk}P)` (Itô) or :math:`J_k = a_k P - D_{kk}\partial_k P` (ddt),

.. math:: J_{f} = \frac{1}{h}\Big[B(-\mathrm{Pe}_f)\, c_L P_L - B(\mathrm{Pe}_f)\, c_R P_R\Big],\qquad
          \mathrm{Pe}_f = \frac{h\, a_k(x_f)}{D_{kk}(x_f)},\qquad B(z) = \frac{z}{e^z - 1},

with :math:`c_{L,R} = D_{kk}` at the two cell centres (Itô: the flux acts on :math:`u = D_{kk}P`) or
:math:`c_L = c_R = D_{kk}(x_f)` (ddt).  All coefficients multiplying :math:`P` off the diagonal are
non-negative, so with :math:`D_{xy}=0` the generator is a Metzler matrix: implicit Euler keeps
:math:`P\ge 0`, and since every flux leaving one cell enters its neighbour, :math:`\sum_i P_i\,|{\rm cell}|`
is conserved to round-off with reflecting/periodic boundaries.  Where :math:`D_{kk}=0` the flux reduces
to first-order upwinding (used for the transport term :math:`r\partial_\theta` of the Kramers equation).
The scheme is second order in :math:`h` for smooth coefficients (measured in the tests).

Off-diagonal diffusion (2-D) enters through a conservative cross flux on interior faces,
:math:`J_x \mathrel{+}= -\partial_y (D_{xy}P)` (Itô) or :math:`-D_{xy}\partial_y P` (ddt), with the
tangential derivative taken centrally from the four cells around the face.  This keeps exact mass
conservation and second order, **but not positivity**: the central cross stencil always has some negative
off-diagonal entries, so small negative undershoots of :math:`O(h^2)` can appear when :math:`D_{xy}\ne 0`.
Positivity is guaranteed only for :math:`D_{xy}=0` (rotate coordinates to the eigenbasis of :math:`D`
when it is constant).  Cross fluxes through walls are set to zero (zero tangential derivative on
reflecting walls by the boundary condition, :math:`P=0` along absorbing walls).

Boundaries, per side: ``"reflecting"`` (zero flux), ``"absorbing"`` (:math:`P=0` / :math:`T=0` on the wall,
half a cell from the first centre), ``"periodic"`` (both sides of an axis).  The backward generator is
the transpose of the forward matrix, i.e. the generator of the continuous-time Markov chain on the cells;
it is a consistent discretisation of :math:`\mathcal{L}^\dagger` for the chosen convention, so that forward
and backward answers (escape rate, MFPT) are exactly dual on the grid.

Inputs are plain vectorised callables: ``drift(x)`` returns :math:`a(x)` (1-D: ``(n,) -> (n,)``; 2-D:
``(n, 2) -> (n, 2)``) and ``diffusion(x)`` returns :math:`D(x)` (1-D: ``(n,)``; 2-D: ``(n, 2, 2)``).  To
simulate an optimizer's SDE pass ``drift = lambda x: -grad_L(x)`` and
``diffusion = lambda x: 0.5 * eta * C(x)`` (THEORY.md §4).

References
----------
THEORY.md §0 (conventions), §2 (noise models), §4 (continuous models), §6 (Itô vs [DDT] currents),
§7 (exact model solvers).  D. L. Scharfetter and H. K. Gummel, IEEE Trans. Electron Devices 16 (1969);
J. S. Chang and G. Cooper, J. Comput. Phys. 6 (1970).  Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for
Deep Learning Dynamics", arXiv 2002.03495.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import RegularGridInterpolator

from .._jit import jit

__all__ = [
    "Grid1D",
    "Grid2D",
    "CONVENTIONS",
    "BOUNDARIES",
    "assemble_generator",
    "evolve_density",
    "stationary_density",
    "escape_rate",
    "EscapeRateResult",
    "mean_first_passage_time_backward",
    "GridMFPTResult",
    "kramers_generator",
    "default_r_max",
    "evolve_phase_space_density",
    "mean_first_passage_time_underdamped",
]

CONVENTIONS = ("ito", "ddt")
BOUNDARIES = ("reflecting", "absorbing", "periodic")
_REFLECTING, _ABSORBING, _PERIODIC = 0, 1, 2
_BC_CODE = {"reflecting": _REFLECTING, "absorbing": _ABSORBING, "periodic": _PERIODIC}
TIME_METHODS = ("tr-bdf2", "implicit-euler")


# ----------------------------------------------------------------------------------------------------
# Grids
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid1D:
    """Uniform cell-centred grid on ``[lo, hi]`` with ``n`` cells.

    Attributes
    ----------
    lo, hi : float
        Domain ends, ``lo < hi``.
    n : int
        Number of cells (``n >= 3``); the unknowns live at the centres ``lo + (i + 1/2) h``.
    """

    lo: float
    hi: float
    n: int

    def __post_init__(self):
        lo, hi = float(self.lo), float(self.hi)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"Grid1D: lo and hi must be finite, got lo={self.lo!r}, hi={self.hi!r}")
        if not lo < hi:
            raise ValueError(f"Grid1D: need lo < hi, got lo={lo}, hi={hi}")
        if isinstance(self.n, bool) or int(self.n) != self.n or int(self.n) < 3:
            raise ValueError(f"Grid1D: n (number of cells) must be an integer >= 3, got n={self.n!r}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "n", int(self.n))

    ndim = 1

    @property
    def h(self) -> float:
        """Cell width."""
        return (self.hi - self.lo) / self.n

    @property
    def centres(self) -> np.ndarray:
        """Cell centres, shape ``(n,)``."""
        return self.lo + (np.arange(self.n) + 0.5) * self.h

    @property
    def edges(self) -> np.ndarray:
        """Cell faces, shape ``(n + 1,)``."""
        return self.lo + np.arange(self.n + 1) * self.h

    @property
    def axes(self) -> tuple["Grid1D", ...]:
        return (self,)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n,)

    @property
    def cell_volume(self) -> float:
        return self.h

    def points(self) -> np.ndarray:
        """Cell centres in the layout the callables receive: ``(n,)``."""
        return self.centres


@dataclass(frozen=True)
class Grid2D:
    """Uniform cell-centred grid on ``[lo[0], hi[0]] x [lo[1], hi[1]]`` with ``n[0] x n[1]`` cells.

    Values on the grid have shape ``(n[0], n[1])`` (``x`` first, ``indexing="ij"``); flattened vectors
    use C order.
    """

    lo: tuple
    hi: tuple
    n: tuple

    def __post_init__(self):
        for name in ("lo", "hi", "n"):
            val = getattr(self, name)
            if np.ndim(val) != 1 or len(val) != 2:
                raise ValueError(f"Grid2D: {name} must be a pair (x, y), got {val!r}")
        axes = tuple(Grid1D(self.lo[k], self.hi[k], self.n[k]) for k in range(2))
        object.__setattr__(self, "_axes", axes)
        object.__setattr__(self, "lo", tuple(a.lo for a in axes))
        object.__setattr__(self, "hi", tuple(a.hi for a in axes))
        object.__setattr__(self, "n", tuple(a.n for a in axes))

    ndim = 2

    @property
    def axes(self) -> tuple[Grid1D, ...]:
        return self._axes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.n

    @property
    def h(self) -> tuple[float, float]:
        return tuple(a.h for a in self._axes)

    @property
    def cell_volume(self) -> float:
        return self._axes[0].h * self._axes[1].h

    def points(self) -> np.ndarray:
        """Cell centres, shape ``(n[0] * n[1], 2)`` in C order."""
        return _mesh_points([a.centres for a in self._axes])


def _mesh_points(coords: Sequence[np.ndarray]) -> np.ndarray:
    if len(coords) == 1:
        return np.asarray(coords[0], dtype=float)
    mesh = np.meshgrid(*coords, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


def _face_points(grid, axis: int) -> np.ndarray:
    """Points of the faces normal to ``axis``: shape of the grid with ``n[axis] + 1`` along ``axis``."""
    coords = [ax.edges if k == axis else ax.centres for k, ax in enumerate(grid.axes)]
    return _mesh_points(coords)


def _face_shape(grid, axis: int) -> tuple[int, ...]:
    return tuple(n + 1 if k == axis else n for k, n in enumerate(grid.shape))


# ----------------------------------------------------------------------------------------------------
# Validation of user input
# ----------------------------------------------------------------------------------------------------
def _check_convention(convention: str) -> bool:
    """Return ``True`` for Itô, ``False`` for ddt; raise on anything else."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return convention == "ito"


def _check_grid(grid):
    if not isinstance(grid, (Grid1D, Grid2D)):
        raise TypeError(f"grid must be a Grid1D or Grid2D, got {type(grid).__name__}")


def _bc_codes(boundaries, grid) -> list[tuple[int, int]]:
    """Normalise ``boundaries`` to one ``(lo_code, hi_code)`` pair per axis.

    Accepted: a single name for every side; in 1-D a pair ``(lo, hi)``; in 2-D a pair of pairs
    ``((x_lo, x_hi), (y_lo, y_hi))`` or a pair of names (one per axis, both sides).
    """
    ndim = grid.ndim

    def code(name):
        if not isinstance(name, str) or name not in _BC_CODE:
            raise ValueError(f"boundaries: each side must be one of {BOUNDARIES}, got {name!r}")
        return _BC_CODE[name]

    if isinstance(boundaries, str):
        per_axis = [(boundaries, boundaries)] * ndim
    elif ndim == 1:
        if len(boundaries) != 2:
            raise ValueError(f"boundaries: in 1-D give (lo, hi), got {boundaries!r}")
        per_axis = [tuple(boundaries)]
    else:
        if len(boundaries) != 2:
            raise ValueError(f"boundaries: in 2-D give ((x_lo, x_hi), (y_lo, y_hi)), got {boundaries!r}")
        per_axis = [(b, b) if isinstance(b, str) else tuple(b) for b in boundaries]
        if any(len(b) != 2 for b in per_axis):
            raise ValueError(f"boundaries: in 2-D give ((x_lo, x_hi), (y_lo, y_hi)), got {boundaries!r}")
    codes = [(code(lo), code(hi)) for lo, hi in per_axis]
    for k, (lo, hi) in enumerate(codes):
        if (lo == _PERIODIC) != (hi == _PERIODIC):
            raise ValueError(f"boundaries: 'periodic' must be set on both sides of axis {k}, got {per_axis[k]}")
    return codes


def _call_drift(drift: Callable, pts: np.ndarray, ndim: int) -> np.ndarray:
    """Evaluate ``drift`` at ``pts`` and return shape ``(n, ndim)``."""
    n = pts.shape[0]
    val = np.asarray(drift(pts), dtype=float)
    expected = (n,) if ndim == 1 else (n, ndim)
    if val.shape != expected:
        raise ValueError(f"drift must return shape {expected} for input of shape {pts.shape}, got {val.shape}")
    if not np.all(np.isfinite(val)):
        raise ValueError("drift returned non-finite values on the grid")
    return val.reshape(n, ndim)


def _call_diffusion(diffusion: Callable, pts: np.ndarray, ndim: int, allow_zero_diagonal: bool = False):
    """Evaluate ``diffusion`` at ``pts``; return shape ``(n, ndim, ndim)`` after checking D is valid."""
    n = pts.shape[0]
    val = np.asarray(diffusion(pts), dtype=float)
    expected = (n,) if ndim == 1 else (n, ndim, ndim)
    if val.shape != expected:
        raise ValueError(f"diffusion must return shape {expected} for input of shape {pts.shape}, got {val.shape}")
    if not np.all(np.isfinite(val)):
        raise ValueError("diffusion returned non-finite values on the grid")
    val = val.reshape(n, ndim, ndim)
    diag = np.einsum("nii->ni", val)
    if np.any(diag < 0):
        raise ValueError(f"diffusion has negative diagonal entries (min {diag.min():.3g}); D must be PSD")
    if not allow_zero_diagonal and np.any(diag == 0):
        raise ValueError("diffusion must have strictly positive diagonal on the grid; add a floor (e.g. h_min)")
    if ndim == 2:
        dxy, dyx = val[:, 0, 1], val[:, 1, 0]
        scale = np.maximum(np.abs(diag).max(axis=1), np.finfo(float).tiny)
        if np.any(np.abs(dxy - dyx) > 1e-12 * scale):
            raise ValueError("diffusion must be symmetric: D[..., 0, 1] != D[..., 1, 0]")
        if np.any(dxy * dxy > diag[:, 0] * diag[:, 1] * (1 + 1e-12)):
            raise ValueError("diffusion is not positive semidefinite: D_xy^2 > D_xx D_yy somewhere")
    return val


# ----------------------------------------------------------------------------------------------------
# Numba kernels: Scharfetter–Gummel fluxes and the cross-derivative flux, as COO triplets
# ----------------------------------------------------------------------------------------------------
@jit
def _bernoulli(z):
    """B(z) = z / (e^z - 1), stable for all z (B(0) = 1, B(z) -> -z for z -> -inf, -> 0 for z -> inf)."""
    if abs(z) < 1e-6:
        return 1.0 - 0.5 * z + z * z / 12.0
    return z / math.expm1(z)


@jit
def _sg_coefficients(a, d, c_left, c_right, dist):
    """Flux J = alpha P_L - beta P_R across a face with drift ``a`` and diffusion ``d`` (SG/upwind)."""
    if d <= 0.0:
        return max(a, 0.0), max(-a, 0.0)
    pe = dist * a / d
    return _bernoulli(-pe) * c_left / dist, _bernoulli(pe) * c_right / dist


@jit
def _add(rows, cols, vals, pos, r, c, v):
    rows[pos] = r
    cols[pos] = c
    vals[pos] = v
    return pos + 1


@jit
def _sg_axis_triplets(n_a, n_o, stride_a, stride_o, h, a_face, d_face, d_node, ito, bc_lo, bc_hi,
                      rows, cols, vals, pos):
    """Forward-operator entries of the Scharfetter–Gummel flux along one axis.

    Layout: the axis of the fluxes is first, ``a_face, d_face`` have shape ``(n_a + 1, n_o)``,
    ``d_node`` shape ``(n_a, n_o)``; cell ``(i, o)`` has flat index ``i * stride_a + o * stride_o``.
    Face ``f`` lies between cells ``f - 1`` and ``f``.  Returns the next free triplet slot.
    """
    inv_h = 1.0 / h
    for o in range(n_o):
        for f in range(n_a + 1):
            a = a_face[f, o]
            d = d_face[f, o]
            if f == 0:
                if bc_lo != 1:  # reflecting: no flux; periodic: handled at f == n_a
                    continue
                cr = d_node[0, o] if ito else d
                _, beta = _sg_coefficients(a, d, d, cr, 0.5 * h)
                k = o * stride_o
                pos = _add(rows, cols, vals, pos, k, k, -beta * inv_h)
                continue
            if f == n_a and bc_hi != 2:
                if bc_hi != 1:
                    continue
                cl = d_node[n_a - 1, o] if ito else d
                alpha, _ = _sg_coefficients(a, d, cl, d, 0.5 * h)
                k = (n_a - 1) * stride_a + o * stride_o
                pos = _add(rows, cols, vals, pos, k, k, -alpha * inv_h)
                continue
            il = f - 1
            ir = f if f < n_a else 0
            cl = d_node[il, o] if ito else d
            cr = d_node[ir, o] if ito else d
            alpha, beta = _sg_coefficients(a, d, cl, cr, h)
            kl = il * stride_a + o * stride_o
            kr = ir * stride_a + o * stride_o
            pos = _add(rows, cols, vals, pos, kl, kl, -alpha * inv_h)
            pos = _add(rows, cols, vals, pos, kl, kr, beta * inv_h)
            pos = _add(rows, cols, vals, pos, kr, kl, alpha * inv_h)
            pos = _add(rows, cols, vals, pos, kr, kr, -beta * inv_h)
    return pos


@jit
def _tangential_neighbour(o, n_o, h_o, bc_lo, bc_hi, step):
    """Index of the tangential neighbour ``o + step`` (``-1`` for an absorbing ghost) and its distance."""
    t = o + step
    if 0 <= t < n_o:
        return t, h_o
    bc = bc_lo if t < 0 else bc_hi
    if bc == 2:
        return t % n_o, h_o
    if bc == 1:
        return -1, 0.5 * h_o
    return o, 0.0  # reflecting: one-sided difference


@jit
def _cross_axis_triplets(n_a, n_o, stride_a, stride_o, h_a, h_o, c_face, c_node, ito,
                         bc_a_hi, bc_o_lo, bc_o_hi, rows, cols, vals, pos):
    """Entries of the cross flux ``J_a = -d_o(c P)`` through the interior (and periodic) faces of axis a.

    The tangential derivative at face ``(f, o)`` is ``(f_p - f_m) / dist`` with ``f_p, f_m`` the means of
    ``c P`` over the two cells on either side of the face in the neighbouring tangential rows.
    ``c`` is ``D_xy`` at the cells (Itô) or at the face (ddt).
    """
    inv_h = 1.0 / h_a
    last = n_a if bc_a_hi == 2 else n_a - 1
    for o in range(n_o):
        op, dp = _tangential_neighbour(o, n_o, h_o, bc_o_lo, bc_o_hi, 1)
        om, dm = _tangential_neighbour(o, n_o, h_o, bc_o_lo, bc_o_hi, -1)
        dist = dp + dm
        for f in range(1, last + 1):
            il = f - 1
            ir = f if f < n_a else 0
            kl = il * stride_a + o * stride_o
            kr = ir * stride_a + o * stride_o
            for side in range(2):
                t = op if side == 0 else om
                if t < 0:
                    continue
                sign = -1.0 if side == 0 else 1.0  # J = -(f_p - f_m)/dist
                for cell in range(2):
                    i = il if cell == 0 else ir
                    c = c_node[i, t] if ito else c_face[f, o]
                    g = sign * 0.5 * c / dist
                    k = i * stride_a + t * stride_o
                    pos = _add(rows, cols, vals, pos, kl, k, -g * inv_h)
                    pos = _add(rows, cols, vals, pos, kr, k, g * inv_h)
    return pos


@jit
def _kappa_face_weights(kappa):
    """Weights of (far upwind, upwind, downwind) cells in the kappa-scheme face value."""
    return -(1.0 - kappa) / 4.0, 1.0 - (1.0 + kappa) / 4.0 + (1.0 - kappa) / 4.0, (1.0 + kappa) / 4.0


@jit
def _transport_axis_triplets(n_a, n_o, stride_a, stride_o, h, v_face, kappa, bc_lo, bc_hi,
                             rows, cols, vals, pos):
    """Entries of the pure transport flux ``J = v P`` along one axis by the upwind-biased kappa-scheme.

    Face value for ``v > 0``: ``P_L + (1+kappa)/4 (P_R - P_L) + (1-kappa)/4 (P_L - P_LL)`` (mirror for
    ``v < 0``); ``kappa = 1/3`` is third order for the flux (second order overall), ``kappa = -1`` is
    second-order upwind.  Where a stencil cell is missing (walls) it falls back to first-order upwind.
    Absorbing walls: outflow only; reflecting walls: no flux.  Not monotone (no limiter: the operator
    must stay linear), so positivity is not guaranteed; mass is conserved exactly.
    """
    inv_h = 1.0 / h
    w_far, w_up, w_down = _kappa_face_weights(kappa)
    periodic = bc_lo == 2
    for o in range(n_o):
        for f in range(n_a + 1):
            v = v_face[f, o]
            if v == 0.0:
                continue
            wall = (f == 0 and not periodic) or (f == n_a and not periodic)
            if f == 0 and periodic:
                continue  # the periodic face is handled at f == n_a
            il = f - 1
            ir = f if f < n_a else 0
            if wall:
                if (f == 0 and bc_lo != 1) or (f == n_a and bc_hi != 1):
                    continue
                if f == 0 and v < 0.0:  # outflow through the lower wall from cell 0
                    k = o * stride_o
                    pos = _add(rows, cols, vals, pos, k, k, v * inv_h)
                elif f == n_a and v > 0.0:
                    k = (n_a - 1) * stride_a + o * stride_o
                    pos = _add(rows, cols, vals, pos, k, k, -v * inv_h)
                continue
            if v > 0.0:
                up, down, far = il, ir, il - 1
            else:
                up, down, far = ir, il, ir + 1
            if periodic:
                far = far % n_a
            kl = il * stride_a + o * stride_o
            kr = ir * stride_a + o * stride_o
            if 0 <= far < n_a:
                cells = (far, up, down)
                weights = (w_far, w_up, w_down)
            else:
                cells = (up, up, down)
                weights = (0.0, 1.0, 0.0)
            for m in range(3):
                if weights[m] == 0.0:
                    continue
                k = cells[m] * stride_a + o * stride_o
                pos = _add(rows, cols, vals, pos, kl, k, -v * weights[m] * inv_h)
                pos = _add(rows, cols, vals, pos, kr, k, v * weights[m] * inv_h)
    return pos


# ----------------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------------
def _axis_layout(grid, axis: int):
    """(n_a, n_o, stride_a, stride_o) for moving ``axis`` first in a C-ordered flat vector."""
    shape = grid.shape
    if grid.ndim == 1:
        return shape[0], 1, 1, 0
    n_a, n_o = shape[axis], shape[1 - axis]
    return (n_a, n_o, shape[1], 1) if axis == 0 else (n_a, n_o, 1, shape[1])


def _axis_first(values: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Reshape flat ``values`` to ``shape`` and move ``axis`` first, as a C-contiguous 2-D array."""
    arr = values.reshape(shape)
    arr = np.moveaxis(arr, axis, 0) if arr.ndim > 1 else arr[:, None]
    return np.ascontiguousarray(arr.reshape(shape[axis], -1))


@dataclass(frozen=True)
class _Coefficients:
    """Drift and diffusion sampled where the scheme needs them (faces and cells)."""

    a_face: tuple  # per axis: a_k at the faces normal to k, flat
    d_face: tuple  # per axis: D_kk at those faces
    d_node: np.ndarray  # (N, ndim, ndim) at the cell centres
    dxy_face: tuple  # per axis: D_xy at the faces normal to k (2-D only)


def _sample_coefficients(drift, diffusion, grid, allow_zero_diagonal=False) -> _Coefficients:
    ndim = grid.ndim
    d_node = _call_diffusion(diffusion, grid.points(), ndim, allow_zero_diagonal)
    a_face, d_face, dxy_face = [], [], []
    for k in range(ndim):
        pts = _face_points(grid, k)
        a_face.append(_call_drift(drift, pts, ndim)[:, k])
        dk = _call_diffusion(diffusion, pts, ndim, allow_zero_diagonal)
        d_face.append(dk[:, k, k])
        dxy_face.append(dk[:, 0, 1] if ndim == 2 else None)
    return _Coefficients(tuple(a_face), tuple(d_face), d_node, tuple(dxy_face))


def _assemble(grid, codes, coeffs: _Coefficients, ito: bool, transport_kappa: dict | None = None) -> sp.csr_matrix:
    """Forward operator ``A`` (``dP/dt = A P``) from sampled coefficients.

    ``transport_kappa`` maps an axis with zero diffusion to the kappa of :func:`_transport_axis_triplets`
    (otherwise the SG flux, which is first-order upwind where the diffusion vanishes).
    """
    transport_kappa = transport_kappa or {}
    ndim, shape, N = grid.ndim, grid.shape, int(np.prod(grid.shape))
    has_cross = ndim == 2 and (np.any(coeffs.d_node[:, 0, 1] != 0) or any(np.any(c != 0) for c in coeffs.dxy_face))
    cap = sum(6 * int(np.prod(_face_shape(grid, k))) for k in range(ndim))
    if has_cross:
        cap += sum(8 * int(np.prod(_face_shape(grid, k))) for k in range(ndim))
    rows = np.empty(cap, dtype=np.int64)
    cols = np.empty(cap, dtype=np.int64)
    vals = np.empty(cap, dtype=np.float64)
    pos = 0
    for k, ax in enumerate(grid.axes):
        n_a, n_o, s_a, s_o = _axis_layout(grid, k)
        fshape = _face_shape(grid, k)
        if k in transport_kappa:
            if np.any(coeffs.d_face[k] != 0):
                raise ValueError(f"axis {k}: the transport scheme needs zero diffusion along that axis")
            pos = _transport_axis_triplets(n_a, n_o, s_a, s_o, ax.h, _axis_first(coeffs.a_face[k], fshape, k),
                                           float(transport_kappa[k]), codes[k][0], codes[k][1],
                                           rows, cols, vals, pos)
        else:
            pos = _sg_axis_triplets(
                n_a, n_o, s_a, s_o, ax.h,
                _axis_first(coeffs.a_face[k], fshape, k), _axis_first(coeffs.d_face[k], fshape, k),
                _axis_first(coeffs.d_node[:, k, k], shape, k), ito, codes[k][0], codes[k][1],
                rows, cols, vals, pos)
        if has_cross:
            other = 1 - k
            pos = _cross_axis_triplets(
                n_a, n_o, s_a, s_o, ax.h, grid.axes[other].h,
                _axis_first(coeffs.dxy_face[k], fshape, k), _axis_first(coeffs.d_node[:, 0, 1], shape, k),
                ito, codes[k][1], codes[other][0], codes[other][1], rows, cols, vals, pos)
    return sp.csr_matrix((vals[:pos], (rows[:pos], cols[:pos])), shape=(N, N))


def assemble_generator(drift: Callable, diffusion: Callable, grid, boundaries, convention: str = "ito"):
    r"""Sparse forward Fokker–Planck operator on the grid.

    Parameters
    ----------
    drift, diffusion : callable
        Vectorised :math:`a(x)` and :math:`D(x)` (see the module docstring for shapes).
    grid : Grid1D or Grid2D
    boundaries : str or sequence
        ``"reflecting"``, ``"absorbing"`` or ``"periodic"`` per side: one name, ``(lo, hi)`` in 1-D,
        ``((x_lo, x_hi), (y_lo, y_hi))`` in 2-D.
    convention : {"ito", "ddt"}

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``(N, N)``
        ``A`` with :math:`\dot P = A P` for the cell values :math:`P` (flattened in C order); the
        backward generator is ``A.T``.  Columns sum to zero except at absorbing walls.
    """
    _check_grid(grid)
    ito = _check_convention(convention)
    codes = _bc_codes(boundaries, grid)
    return _assemble(grid, codes, _sample_coefficients(drift, diffusion, grid), ito)


# ----------------------------------------------------------------------------------------------------
# Time stepping
# ----------------------------------------------------------------------------------------------------
_TRBDF2_GAMMA = 2.0 - math.sqrt(2.0)


def _initial_density(p0, grid, normalize: bool) -> np.ndarray:
    if callable(p0):
        p = np.asarray(p0(grid.points()), dtype=float).reshape(-1)
    else:
        p = np.asarray(p0, dtype=float)
        if p.shape != grid.shape:
            raise ValueError(f"p0 must have the grid shape {grid.shape}, got {p.shape}")
        p = p.reshape(-1).copy()
    if p.size != int(np.prod(grid.shape)) or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("p0 must be finite and non-negative on every cell")
    mass = p.sum() * grid.cell_volume
    if not mass > 0:
        raise ValueError("p0 has zero mass on the grid")
    return p / mass if normalize else p


def _check_times(times) -> np.ndarray:
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError("times must be a finite, non-negative, non-decreasing 1-D sequence")
    return t


def _integrate(A: sp.csr_matrix, p: np.ndarray, times: np.ndarray, dt: float, method: str) -> np.ndarray:
    """Integrate ``dP/dt = A P`` from t = 0, returning P at ``times`` (shape ``(n_times, N)``)."""
    if method not in TIME_METHODS:
        raise ValueError(f"method must be one of {TIME_METHODS}, got {method!r}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be positive and finite, got {dt!r}")
    identity = sp.identity(A.shape[0], format="csc")
    A = A.tocsc()
    g = _TRBDF2_GAMMA
    w = 0.5 * g if method == "tr-bdf2" else 1.0
    factors: dict[float, object] = {}
    out = np.empty((times.size, p.size))
    t = 0.0
    for k, t_out in enumerate(times):
        span = t_out - t
        m = int(math.ceil(span / dt - 1e-9)) if span > 0 else 0
        if m:
            step = span / m
            key = round(step, 15)
            if key not in factors:
                factors[key] = spla.splu((identity - (w * step) * A).tocsc())
            lu = factors[key]
            for _ in range(m):
                if method == "implicit-euler":
                    p = lu.solve(p)
                else:
                    p_star = lu.solve(p + (w * step) * (A @ p))
                    p = lu.solve((p_star - (1.0 - g) ** 2 * p) / (g * (2.0 - g)))
        t = t_out
        out[k] = p
    return out


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
    """

    rate: float
    density: np.ndarray


def _principal_mode(A: sp.csr_matrix, grid) -> EscapeRateResult:
    vals, vecs = spla.eigs(A.tocsc(), k=1, sigma=0.0, which="LM")
    lam, vec = vals[0], vecs[:, 0]
    if abs(lam.imag) > 1e-8 * max(abs(lam.real), 1e-300):
        raise RuntimeError(f"principal eigenvalue is not real: {lam}")
    vec = vec.real
    vec = vec / (vec.sum() * grid.cell_volume)
    return EscapeRateResult(rate=float(-lam.real), density=vec.reshape(grid.shape))


def escape_rate(drift, diffusion, grid, boundaries, convention: str = "ito") -> EscapeRateResult:
    r"""Smallest decay rate of the forward operator with absorbing walls (shift-invert ``eigs`` at 0).

    The survival probability decays as :math:`e^{-\lambda_0 t}`; in the low-temperature limit
    :math:`\lambda_0 = 1/\tau` with :math:`\tau` the Kramers escape time (THEORY.md §5, §6).
    """
    _check_grid(grid)
    codes = _bc_codes(boundaries, grid)
    if not any(_ABSORBING in c for c in codes):
        raise ValueError("escape_rate: at least one boundary side must be 'absorbing'")
    return _principal_mode(assemble_generator(drift, diffusion, grid, boundaries, convention), grid)


# ----------------------------------------------------------------------------------------------------
# Backward equation: mean first-passage time
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridMFPTResult:
    """Mean first-passage time on a grid.

    Attributes
    ----------
    grid : Grid1D or Grid2D
    T : ndarray of the grid shape
        :math:`T` at the cell centres.
    interpolator : callable
        Evaluates :math:`T` anywhere in the closed domain (linear, using the wall values).

    Calling the result, ``res(x0)``, evaluates the interpolator (``x0`` scalar/``(m,)`` in 1-D, ``(2,)``
    or ``(m, 2)`` in 2-D) after checking that ``x0`` lies inside the domain.
    """

    grid: object
    T: np.ndarray
    interpolator: Callable

    def __call__(self, x0):
        x = np.asarray(x0, dtype=float)
        pts = x.reshape(-1, self.grid.ndim)
        for k, ax in enumerate(self.grid.axes):
            if np.any(pts[:, k] < ax.lo) or np.any(pts[:, k] > ax.hi):
                raise ValueError(f"x0 must lie inside the domain [{ax.lo}, {ax.hi}] along axis {k}, got {x0!r}")
        val = self.interpolator(pts)
        return float(val[0]) if (x.ndim == 0 or (self.grid.ndim == 2 and x.ndim == 1)) else val


def _padded_axis(ax: Grid1D, bc: tuple[int, int]):
    """Coordinates with the walls added (periodic: the wrapped neighbours)."""
    c = ax.centres
    lo_pt = ax.lo - 0.5 * ax.h if bc[0] == _PERIODIC else ax.lo
    hi_pt = ax.hi + 0.5 * ax.h if bc[1] == _PERIODIC else ax.hi
    return np.concatenate([[lo_pt], c, [hi_pt]])


def _pad_values(T: np.ndarray, codes, wall_value_zero: bool) -> np.ndarray:
    """Pad ``T`` by one layer per side: 0 at absorbing walls (if ``wall_value_zero``), wrap for periodic,
    the adjacent centre value otherwise (zero normal derivative; error :math:`O(h^2)`)."""
    out = T
    for k, (lo, hi) in enumerate(codes):
        first = np.take(out, [0], axis=k)
        last = np.take(out, [-1], axis=k)
        lo_v = np.take(out, [-1], axis=k) if lo == _PERIODIC else (0.0 * first if lo == _ABSORBING and wall_value_zero else first)
        hi_v = np.take(out, [0], axis=k) if hi == _PERIODIC else (0.0 * last if hi == _ABSORBING and wall_value_zero else last)
        out = np.concatenate([lo_v, out, hi_v], axis=k)
    return out


def _grid_mfpt_result(grid, codes, T: np.ndarray, wall_value_zero: bool = True) -> GridMFPTResult:
    coords = [_padded_axis(ax, codes[k]) for k, ax in enumerate(grid.axes)]
    interp = RegularGridInterpolator(coords, _pad_values(T, codes, wall_value_zero), method="linear")
    return GridMFPTResult(grid=grid, T=T, interpolator=interp)


def _solve_backward(A: sp.csr_matrix) -> np.ndarray:
    """Solve :math:`A^{\\top} T = -1` (the discrete :math:`\\mathcal{L}^\\dagger T = -1`)."""
    lu = spla.splu(A.T.tocsc())
    T = lu.solve(-np.ones(A.shape[0]))
    if not np.all(np.isfinite(T)):
        raise RuntimeError("backward solve produced non-finite values (is the exit reachable?)")
    return T


def mean_first_passage_time_backward(drift, diffusion, grid, boundaries, convention: str = "ito") -> GridMFPTResult:
    r"""Mean first-passage time to the absorbing walls from the backward Kolmogorov equation.

    Solves :math:`\mathcal{L}^\dagger T = -1` in the domain with :math:`T=0` on absorbing walls and
    :math:`\hat n\cdot D\nabla T = 0` on reflecting ones, where
    :math:`\mathcal{L}^\dagger T = a\cdot\nabla T + D:\nabla\nabla T` (Itô) or
    :math:`a\cdot\nabla T + \nabla\cdot(D\nabla T)` (ddt).  Discretely ``A.T @ T = -1`` with ``A`` from
    :func:`assemble_generator` (one sparse LU).

    Returns
    -------
    GridMFPTResult
        ``res.T`` on the grid and ``res(x0)`` for any start.

    References
    ----------
    THEORY.md §7 (exact MFPT from the backward equation), §6 (conventions).
    """
    _check_grid(grid)
    codes = _bc_codes(boundaries, grid)
    if not any(_ABSORBING in c for c in codes):
        raise ValueError("mean_first_passage_time_backward: at least one boundary side must be 'absorbing'")
    A = assemble_generator(drift, diffusion, grid, boundaries, convention)
    return _grid_mfpt_result(grid, codes, _solve_backward(A).reshape(grid.shape))


# ----------------------------------------------------------------------------------------------------
# Underdamped (Kramers) equation in phase space (theta, r)
# ----------------------------------------------------------------------------------------------------
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


def kramers_generator(force, diffusion, mass, friction, grid: Grid2D, theta_boundaries=("reflecting", "absorbing"),
                      theta_scheme: str = "upwind3"):
    r"""Forward operator of the Kramers equation on a phase-space grid :math:`(\theta, r)`.

    The SDE is :math:`\mathrm{d}\theta = r\,\mathrm{d}t`,
    :math:`M\,\mathrm{d}r = -\gamma r\,\mathrm{d}t + F(\theta)\,\mathrm{d}t + \sqrt{2D(\theta)}\,\mathrm{d}W`
    with :math:`F = -L'` (THEORY.md §4: Momentum has :math:`M=\eta/\beta_3`, :math:`\gamma=(1-\beta_1)/\beta_3`,
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
    """
    if theta_scheme not in THETA_SCHEMES:
        raise ValueError(f"theta_scheme must be one of {tuple(THETA_SCHEMES)}, got {theta_scheme!r}")
    if not isinstance(grid, Grid2D):
        raise TypeError("grid must be a Grid2D over (theta, r)")
    mass = _check_positive("mass", mass)
    friction = _check_positive("friction", friction)
    codes = _bc_codes((tuple(theta_boundaries), ("reflecting", "reflecting")), grid)
    drift, diff = _kramers_callables(force, diffusion, mass, friction)
    coeffs = _sample_coefficients(drift, diff, grid, allow_zero_diagonal=True)
    if np.any(coeffs.d_node[:, 1, 1] <= 0):
        raise ValueError("diffusion must be strictly positive on the theta grid (add a floor)")
    kappa = THETA_SCHEMES[theta_scheme]
    return _assemble(grid, codes, coeffs, ito=True, transport_kappa=None if kappa is None else {0: kappa})


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
                                        n_sigma: float = 6.0, theta_scheme: str = "upwind3") -> GridMFPTResult:
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
    theta_scheme : str
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
    A = kramers_generator(force, diffusion, mass, friction, grid, theta_boundaries, theta_scheme)
    codes = _bc_codes((tuple(theta_boundaries), ("reflecting", "reflecting")), grid)
    return _grid_mfpt_result(grid, codes, _solve_backward(A).reshape(grid.shape), wall_value_zero=False)
