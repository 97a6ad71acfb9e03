r"""Grids, boundary codes and the discretisation shared by the overdamped and Kramers solvers.

Everything here is used by both :mod:`.overdamped` and :mod:`.kramers`: the uniform cell-centred grids
(:class:`Grid1D`, :class:`Grid2D`), the boundary names and their integer codes, the checked sampling of
the user's drift and diffusion, the compiled flux kernels that assemble a forward operator :math:`A`
(:math:`\dot P = AP`), the time integrator of :math:`\dot P = AP`, and the backward solve
:math:`A^{\top}T = -1` with its result class :class:`GridMFPTResult`.  The underscored helpers are
package-internal: the package is their privacy boundary (nothing outside ``fokker_planck`` imports them).

Discretisation
--------------
Cell-centred finite volumes on a uniform grid (:class:`Grid1D`, :class:`Grid2D`).  The flux through each
face normal to axis :math:`k` is the exponentially fitted Scharfetter–Gummel flux of the diagonal part
:math:`J_k = a_k P - \partial_k(D_{kk}P)` (Itô) or :math:`J_k = a_k P - D_{kk}\partial_k P` (ddt; the two
conventions are defined in :mod:`.overdamped`),

.. math:: J_{f} = \frac{1}{h}\Big[B(-\mathrm{Pe}_f)\, c_L P_L - B(\mathrm{Pe}_f)\, c_R P_R\Big],\qquad
          \mathrm{Pe}_f = \frac{h\, a_k(x_f)}{D_{kk}(x_f)},\qquad B(z) = \frac{z}{e^z - 1},

with :math:`c_{L,R} = D_{kk}` at the two cell centres (Itô: the flux acts on :math:`u = D_{kk}P`) or
:math:`c_L = c_R = D_{kk}(x_f)` (ddt).  All coefficients multiplying :math:`P` off the diagonal are
non-negative, so with :math:`D_{xy}=0` the generator is a Metzler matrix: implicit Euler keeps
:math:`P\ge 0`, and since every flux leaving one cell enters its neighbour, :math:`\sum_i P_i\,|{\rm cell}|`
is conserved to round-off with reflecting/periodic boundaries.  Where :math:`D_{kk}=0` the flux reduces
to first-order upwinding; the Kramers equation's transport term :math:`r\partial_\theta` instead uses
the upwind-biased :math:`\kappa`-scheme of :func:`_transport_axis_triplets` (see :mod:`.kramers`).
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
``(n, 2) -> (n, 2)``) and ``diffusion(x)`` returns :math:`D(x)` (1-D: ``(n,)``; 2-D: ``(n, 2, 2)``); both
are checked on every point they are sampled at (shape, finiteness, :math:`D` symmetric PSD).

References
----------
docs/theory.md §7 (exact model solvers).  D. L. Scharfetter and H. K. Gummel, IEEE Trans. Electron Devices 16
(1969); J. S. Chang and G. Cooper, J. Comput. Phys. 6 (1970).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import RegularGridInterpolator

from ..._jit import jit
from .elimination import gth_solver, warn_if_inaccurate

__all__ = ["Grid1D", "Grid2D", "BOUNDARIES", "TIME_METHODS", "GridMFPTResult"]

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
                      rows, cols, vals, pos, exits, w_alpha, w_beta):
    """Forward-operator entries of the Scharfetter–Gummel flux along one axis.

    Layout: the axis of the fluxes is first, ``a_face, d_face`` have shape ``(n_a + 1, n_o)``,
    ``d_node`` shape ``(n_a, n_o)``; cell ``(i, o)`` has flat index ``i * stride_a + o * stride_o``.
    Face ``f`` lies between cells ``f - 1`` and ``f``.  Returns the next free triplet slot; the rates of
    absorption through walls are also added to ``exits`` (kept apart for the elimination of
    :mod:`.elimination`, which never forms a diagonal).  Where ``w_alpha[f, o]`` is not NaN it replaces
    the interior face's flux coefficients per unit of the flux variable (:func:`_series_face_flux`, faces
    whose centre-to-centre interval contains a jump of the coefficients).
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
                exits[k] += beta * inv_h
                continue
            if f == n_a and bc_hi != 2:
                if bc_hi != 1:
                    continue
                cl = d_node[n_a - 1, o] if ito else d
                alpha, _ = _sg_coefficients(a, d, cl, d, 0.5 * h)
                k = (n_a - 1) * stride_a + o * stride_o
                pos = _add(rows, cols, vals, pos, k, k, -alpha * inv_h)
                exits[k] += alpha * inv_h
                continue
            il = f - 1
            ir = f if f < n_a else 0
            cl = d_node[il, o] if ito else d
            cr = d_node[ir, o] if ito else d
            if w_alpha[f, o] == w_alpha[f, o]:  # not NaN: series flux across a jump
                alpha = w_alpha[f, o] * (cl if ito else 1.0)
                beta = w_beta[f, o] * (cr if ito else 1.0)
            else:
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
                             rows, cols, vals, pos, exits):
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
                    exits[k] -= v * inv_h
                elif f == n_a and v > 0.0:
                    k = (n_a - 1) * stride_a + o * stride_o
                    pos = _add(rows, cols, vals, pos, k, k, -v * inv_h)
                    exits[k] += v * inv_h
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
    w_face: tuple = ()  # 1-D with breakpoints: (alpha_w, beta_w) per face, NaN where the SG flux applies


def _face_overrides(coeffs: _Coefficients, axis: int, fshape) -> tuple[np.ndarray, np.ndarray]:
    if coeffs.w_face and axis == 0:
        return tuple(np.ascontiguousarray(w.reshape(-1, 1)) for w in coeffs.w_face)
    nan = np.full(fshape, np.nan)
    nan = _axis_first(nan.reshape(-1), fshape, axis)
    return nan, nan


def _series_face_flux(drift, diffusion, x_l, x_r, cuts, ito):
    r"""Flux coefficients :math:`J = \alpha w_L - \beta w_R` between two cell centres whose interval
    contains the jumps ``cuts`` (sorted, inside): each segment with constant :math:`k = a/D` at its
    midpoint has the exact (Scharfetter–Gummel) flux :math:`\frac{c_s}{\ell_s}[B(-k\ell_s)w - B(k\ell_s)w']`
    (:math:`w = DP`, :math:`c_s = 1` Itô; :math:`w = P`, :math:`c_s = D_s` ddt), and segments in series
    combine like conductances, :math:`\alpha = \alpha_1\alpha_2/(\beta_1+\alpha_2)`,
    :math:`\beta = \beta_1\beta_2/(\beta_1+\alpha_2)` (the interface value of :math:`w` eliminated; no
    subtraction).  Second order with piecewise-smooth coefficients, where face sampling is first order."""
    pts = np.concatenate([[x_l], cuts, [x_r]])
    alpha = beta = None
    for lo, hi in zip(pts[:-1], pts[1:]):
        mid = np.array([0.5 * (lo + hi)])
        a = float(np.asarray(drift(mid), dtype=float).reshape(-1)[0])
        d = float(np.asarray(diffusion(mid), dtype=float).reshape(-1)[0])
        ell = hi - lo
        pe = ell * a / d
        c = 1.0 if ito else d
        a_s, b_s = c * _bernoulli(-pe) / ell, c * _bernoulli(pe) / ell
        if alpha is None:
            alpha, beta = a_s, b_s
        else:
            den = beta + a_s
            alpha, beta = alpha * a_s / den, beta * b_s / den
    return alpha, beta


def _cell_harmonic_mean(diffusion, lo, hi, cuts):
    """Harmonic mean of :math:`D` over a cell split at ``cuts`` (midpoint rule per piece): the factor
    between the cell's mass and the continuous :math:`u = DP` (Itô)."""
    pts = np.concatenate([[lo], cuts, [hi]])
    mids = 0.5 * (pts[:-1] + pts[1:])
    d = np.asarray(diffusion(mids), dtype=float).reshape(-1)
    return (hi - lo) / float(np.sum(np.diff(pts) / d))


def _jump_coefficients(coeffs: _Coefficients, drift, diffusion, grid, breakpoints, ito) -> _Coefficients:
    """1-D: replace the face fluxes whose centre-to-centre interval contains a breakpoint by the series
    flux and (Itô) the cell factor of cells containing one by the harmonic mean (docs/theory.md §7)."""
    bp = np.unique(np.asarray(breakpoints, dtype=float).reshape(-1))
    if bp.size == 0:
        return coeffs
    x, e = grid.centres, grid.edges
    w_a = np.full(grid.n + 1, np.nan)
    w_b = np.full(grid.n + 1, np.nan)
    for f in range(1, grid.n):
        cuts = bp[(bp > x[f - 1]) & (bp < x[f])]
        if cuts.size:
            w_a[f], w_b[f] = _series_face_flux(drift, diffusion, x[f - 1], x[f], cuts, ito)
    d_node = coeffs.d_node.copy()
    if ito:
        for i in range(grid.n):
            cuts = bp[(bp > e[i]) & (bp < e[i + 1])]
            if cuts.size:
                d_node[i, 0, 0] = _cell_harmonic_mean(diffusion, e[i], e[i + 1], cuts)
    return _Coefficients(coeffs.a_face, coeffs.d_face, d_node, coeffs.dxy_face, (w_a, w_b))


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


def _assemble(grid, codes, coeffs: _Coefficients, ito: bool, transport_kappa: dict | None = None,
              with_exits: bool = False):
    """Forward operator ``A`` (``dP/dt = A P``) from sampled coefficients.

    ``transport_kappa`` maps an axis with zero diffusion to the kappa of :func:`_transport_axis_triplets`
    (otherwise the SG flux, which is first-order upwind where the diffusion vanishes).  With
    ``with_exits`` returns ``(A, exits)``: ``exits[k]`` is the rate of absorption through the walls
    from cell ``k`` (so that the columns of ``A`` sum to ``-exits`` in exact arithmetic).
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
    exits = np.zeros(N)
    pos = 0
    for k, ax in enumerate(grid.axes):
        n_a, n_o, s_a, s_o = _axis_layout(grid, k)
        fshape = _face_shape(grid, k)
        if k in transport_kappa:
            if np.any(coeffs.d_face[k] != 0):
                raise ValueError(f"axis {k}: the transport scheme needs zero diffusion along that axis")
            pos = _transport_axis_triplets(n_a, n_o, s_a, s_o, ax.h, _axis_first(coeffs.a_face[k], fshape, k),
                                           float(transport_kappa[k]), codes[k][0], codes[k][1],
                                           rows, cols, vals, pos, exits)
        else:
            pos = _sg_axis_triplets(
                n_a, n_o, s_a, s_o, ax.h,
                _axis_first(coeffs.a_face[k], fshape, k), _axis_first(coeffs.d_face[k], fshape, k),
                _axis_first(coeffs.d_node[:, k, k], shape, k), ito, codes[k][0], codes[k][1],
                rows, cols, vals, pos, exits, *_face_overrides(coeffs, k, fshape))
        if has_cross:
            other = 1 - k
            pos = _cross_axis_triplets(
                n_a, n_o, s_a, s_o, ax.h, grid.axes[other].h,
                _axis_first(coeffs.dxy_face[k], fshape, k), _axis_first(coeffs.d_node[:, 0, 1], shape, k),
                ito, codes[k][1], codes[other][0], codes[other][1], rows, cols, vals, pos)
    A = sp.csr_matrix((vals[:pos], (rows[:pos], cols[:pos])), shape=(N, N))
    return (A, exits) if with_exits else A


# ----------------------------------------------------------------------------------------------------
# Time stepping of dP/dt = A P (both forward solvers)
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




# ----------------------------------------------------------------------------------------------------
# Backward solve and its result (both MFPT solvers)
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
    solve_accuracy : float
        Stated relative accuracy of ``T`` as the exact solution of the *discrete* equations (the linear
        algebra, :mod:`.elimination`); the discretisation error is not included: compare two grids
        (the adapters of :mod:`sim.exact.adapters` do).

    Calling the result, ``res(x0)``, evaluates the interpolator (``x0`` scalar/``(m,)`` in 1-D, ``(2,)``
    or ``(m, 2)`` in 2-D) after checking that ``x0`` lies inside the domain.
    """

    grid: object
    T: np.ndarray
    interpolator: Callable
    solve_accuracy: float = 0.0

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


def _grid_mfpt_result(grid, codes, T: np.ndarray, wall_value_zero: bool = True,
                      solve_accuracy: float = 0.0) -> GridMFPTResult:
    coords = [_padded_axis(ax, codes[k]) for k, ax in enumerate(grid.axes)]
    interp = RegularGridInterpolator(coords, _pad_values(T, codes, wall_value_zero), method="linear")
    return GridMFPTResult(grid=grid, T=T, interpolator=interp, solve_accuracy=solve_accuracy)


def _solve_backward(rates: sp.csr_matrix, exits: np.ndarray, what: str, block: int = 1) -> tuple[np.ndarray, float]:
    r"""Solve :math:`Q T = -1` (the discrete :math:`\mathcal{L}^\dagger T = -1`; ``rates`` = :math:`Q = A^\top`)
    by the subtraction-free elimination of :mod:`.elimination`; return ``T`` and its stated relative
    accuracy (warns naming the cause when that exceeds :data:`.elimination.SOLVE_TOLERANCE`)."""
    gth = gth_solver(rates, exits, block)
    ones = np.ones(rates.shape[0])
    T = gth.solve(ones)
    if not np.all(np.isfinite(T)):
        raise OverflowError(f"{what}: the mean first-passage time overflows a float (barrier too high for "
                            "double precision)")
    accuracy = gth.accuracy
    warn_if_inaccurate(accuracy, what)
    return T, accuracy
