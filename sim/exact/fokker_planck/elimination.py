r"""Subtraction-free (GTH-type) banded elimination of a backward generator: exact answers at any barrier.

Why not a plain LU
------------------
The backward system of a mean first-passage time is :math:`-Q\,T = 1` with :math:`Q` the generator of
the continuous-time Markov chain on the cells (the transpose of the forward operator of :mod:`.grid`):
off-diagonal rates :math:`q_{ij}` and a diagonal :math:`q_{ii} = -(\sum_{j\ne i} q_{ij} + \kappa_i)`, where
:math:`\kappa_i \ge 0` is the rate of absorption from cell :math:`i` (non-zero only next to an absorbing
wall).  Behind a barrier of height :math:`E` (in units of the temperature) the smallest eigenvalue of
:math:`-Q` is :math:`\approx 1/T \sim e^{-E}`, while its entries are :math:`O(1/h^2)`.  A stored diagonal
carries a rounding error :math:`\epsilon|q_{ii}|`, i.e. an absolute perturbation of the escape rate of that
size: once :math:`e^{-E} \lesssim \epsilon`, :math:`E \gtrsim 36`, partial-pivoting LU returns garbage of
either sign (measured on the piecewise wells: :math:`-2.2\cdot10^{14}` for :math:`9.2\cdot10^{14}`), and no
refinement can repair it because the matrix itself is wrong.

What is done instead
--------------------
The chain is kept as *rates*: the off-diagonal :math:`q_{ij}` and the exits :math:`\kappa_i`, never the
diagonal.  Gaussian elimination in the natural order (cells eliminated one at a time, without pivoting)
is the censoring of the chain: removing cell :math:`p` redirects every path through :math:`p` to where it
goes next, :math:`q_{ij} \mathrel{+}= q_{ip}q_{pj}/s_p`, :math:`\kappa_i \mathrel{+}= q_{ip}\kappa_p/s_p`,
:math:`b_i \mathrel{+}= q_{ip}b_p/s_p`, and the pivot is recomputed from what remains of its row,
:math:`s_p = \kappa_p + \sum_{j>p} q_{pj}` (self-loops :math:`i\to p\to i` are dropped: they are not exits).
This is the Grassmann–Taksar–Heyman elimination (W. K. Grassmann, M. I. Taksar, D. P. Heyman, Oper. Res. 33
(1985)) applied to the absorbing chain; the back substitution :math:`T_p = (b_p + \sum_{j>p} q_{pj}T_j)/s_p`
is the "first step" equation of the censored chain.  When every :math:`q_{ij} \ge 0` (an M-matrix: the
Scharfetter–Gummel fluxes of the overdamped solvers without cross diffusion) **every operation adds
non-negative numbers**, so each computed quantity has a relative error of a few :math:`\epsilon` per
operation, whatever :math:`E`; by the entrywise perturbation theory of diagonally dominant M-matrices
(A. S. Alfa, J. Xue, Q. Ye, "Entrywise perturbation theory for diagonally dominant M-matrices with
applications", Numer. Math. 90 (2002)) the solution then has a relative error :math:`O(n\epsilon)`
componentwise.  The slow escape mode is carried by :math:`\kappa` and :math:`b`, which only grow.

With negative off-diagonal entries (the upwind-biased transport of the Kramers solver, cross diffusion in
2-D) some additions have mixed signs, but the row sums are still restored exactly at every pivot, so the
rounding never perturbs the escape rate (the perturbations it makes are relative perturbations of rates,
which change :math:`\log T` by :math:`O(\epsilon)` per rate); the accuracy is then checked a posteriori.

Stated accuracy.  A residual cannot certify this solution: a correctly rounded :math:`T` has residual
:math:`\epsilon\, q_{ii}T_i`, exactly what a wrong diagonal produces, so no residual test separates it
from LU's garbage.  The accuracy is stated from the computation itself instead: :math:`n\epsilon` times
the largest *cancellation factor* met (sum of the magnitudes of the terms over the magnitude of their
sum) in the pivots and in the solve.  For an M-matrix the factor is exactly 1 (nothing is subtracted);
with mixed signs it measures the subtraction that did happen (cancellation inside the fill-in is not
monitored: the tests compare such solves with an extended-precision reference).  Solvers warn
(:class:`ConditioningWarning`) when the stated accuracy exceeds :data:`SOLVE_TOLERANCE`.

Cost and ordering
-----------------
The band of a grid in C order is :math:`w = n_1` cells in 2-D and 1 in 1-D; the cell-by-cell elimination
(:class:`BandedGTH`) costs :math:`n w^2` and memory :math:`2nw` floats (1-D, 2000 cells: milliseconds).
Nothing is pivoted: the natural order is a valid GTH order for any chain.  The line-by-line elimination
(:class:`BlockGTH`, Kramers) costs about :math:`13 m^3` per line of :math:`m` cells with BLAS (480×193:
4e10 flops, 0.3 GB, 5–10 s on one core, against 1.2 s for the former sparse LU, which was wrong from
E ≈ 30).  Sparse LU with fill-reducing orderings is cheaper but subtracts.

References
----------
docs/theory.md §7 (exact solvers at high barriers).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ..._jit import jit

__all__ = ["ConditioningWarning", "ResolutionWarning", "SOLVE_TOLERANCE", "BandedGTH", "BlockGTH", "gth_solver"]

#: Relative accuracy of the linear algebra above which a solver warns.
SOLVE_TOLERANCE = 1e-6


class ConditioningWarning(RuntimeWarning):
    """The linear algebra of an exact solver could not certify its relative accuracy."""


class ResolutionWarning(RuntimeWarning):
    """The grid does not resolve the problem: the discrete answer is not a trustworthy approximation."""


@jit(cache=True)
def _gth_factor(lower, upper, kappa, pivots):
    r"""In-place GTH elimination of the banded rates.

    ``lower[i, k]`` holds :math:`q_{i, i - wl + k}` (k < wl), ``upper[i, k]`` holds :math:`q_{i, i + 1 + k}`.
    On return ``lower`` holds the multipliers :math:`l_{ip} = q_{ip}/s_p`, ``upper`` the eliminated upper
    rates and ``pivots`` the :math:`s_p`.  Returns the first index with a non-positive pivot (or -1) and
    the largest cancellation factor of a pivot, :math:`(\kappa_p + \sum|q_{pj}|)/s_p` (1 when no
    subtraction occurred).
    """
    n, wl = lower.shape
    wu = upper.shape[1]
    growth = 1.0
    for p in range(n):
        s = kappa[p]
        s_abs = kappa[p]
        for k in range(min(wu, n - 1 - p)):
            s += upper[p, k]
            s_abs += abs(upper[p, k])
        if not s > 0.0:
            return p, growth
        growth = max(growth, s_abs / s)
        pivots[p] = s
        kp = kappa[p]
        for i in range(p + 1, min(n, p + wl + 1)):
            col = p - i + wl
            q = lower[i, col]
            if q == 0.0:
                continue
            el = q / s
            lower[i, col] = el
            kappa[i] += el * kp
            top = min(n - 1, p + wu)
            # j in (p, i): lower part of row i
            for j in range(p + 1, min(i, top + 1)):
                lower[i, j - i + wl] += el * upper[p, j - p - 1]
            # j in (i, top]: upper part of row i (j == i is the dropped self-loop)
            for j in range(i + 1, top + 1):
                upper[i, j - i - 1] += el * upper[p, j - p - 1]
    return -1, growth


@jit(cache=True)
def _gth_solve(lower, upper, pivots, b):
    """Solve :math:`-Q x = b` with the factors of :func:`_gth_factor` (b overwritten by x).  Returns the
    largest cancellation factor (sum of magnitudes over magnitude of the sum) of any accumulation."""
    n, wl = lower.shape
    wu = upper.shape[1]
    growth = 1.0
    babs = np.abs(b)
    for p in range(n):  # forward: b_i += l_ip b_p
        bp = b[p]
        if bp == 0.0:
            continue
        if b[p] != 0.0:
            growth = max(growth, babs[p] / abs(b[p]))
        for i in range(p + 1, min(n, p + wl + 1)):
            b[i] += lower[i, p - i + wl] * bp
            babs[i] += abs(lower[i, p - i + wl] * bp)
    for p in range(n - 1, -1, -1):  # back: x_p = (b_p + sum_j q_pj x_j) / s_p
        acc = b[p]
        acc_abs = abs(b[p])
        for k in range(min(wu, n - 1 - p)):
            acc += upper[p, k] * b[p + 1 + k]
            acc_abs += abs(upper[p, k] * b[p + 1 + k])
        if acc != 0.0:
            growth = max(growth, acc_abs / abs(acc))
        b[p] = acc / pivots[p]
    return growth


@jit(cache=True)
def _gth_solve_transposed(lower, upper, pivots, c):
    """Solve :math:`-Q^\\top x = c` (c overwritten by x): :math:`-Q = \\hat L U`, :math:`U^\\top y = c`,
    :math:`\\hat L^\\top x = y`; every step adds terms of one sign when Q is an M-matrix."""
    n, wl = lower.shape
    wu = upper.shape[1]
    for j in range(n):  # y_j = (c_j + sum_{p<j} q_pj y_p) / s_j, pushed forward
        c[j] = c[j] / pivots[j]
        yj = c[j]
        for k in range(min(wu, n - 1 - j)):
            c[j + 1 + k] += upper[j, k] * yj
    for p in range(n - 1, -1, -1):  # x_p = y_p + sum_{i>p} l_ip x_i
        acc = c[p]
        for i in range(p + 1, min(n, p + wl + 1)):
            acc += lower[i, p - i + wl] * c[i]
        c[p] = acc


class BandedGTH:
    r"""GTH factorisation of the generator given by its off-diagonal rates and exit rates.

    Parameters
    ----------
    rates : scipy.sparse matrix, shape ``(n, n)``
        :math:`q_{ij}` for :math:`i \ne j` (the diagonal is ignored: it is implied by the rows).
    exits : ndarray, shape ``(n,)``
        :math:`\kappa_i \ge 0`, the absorption rates.

    Raises
    ------
    ValueError
        If an exit rate is negative or not finite.
    RuntimeError
        If some cells cannot reach an exit (a pivot :math:`s_p \le 0`): the MFPT is infinite there.
    """

    def __init__(self, rates, exits):
        coo = sp.coo_matrix(rates)
        n = coo.shape[0]
        exits = np.asarray(exits, dtype=float)
        if exits.shape != (n,) or not np.all(np.isfinite(exits)) or np.any(exits < 0):
            raise ValueError("exits must be finite, non-negative, one per unknown")
        off = coo.row != coo.col
        rows, cols, vals = coo.row[off].astype(np.int64), coo.col[off].astype(np.int64), coo.data[off]
        keep = vals != 0
        self.rows, self.cols, self.vals = rows[keep], cols[keep], vals[keep]
        self.exits = exits.copy()
        self.n = n
        self.m_matrix = bool(np.all(self.vals >= 0))
        d = self.cols - self.rows
        wl = int(max(1, -d.min())) if d.size and d.min() < 0 else 1
        wu = int(max(1, d.max())) if d.size and d.max() > 0 else 1
        lower = np.zeros((n, wl))
        upper = np.zeros((n, wu))
        lo = d < 0
        np.add.at(lower, (self.rows[lo], d[lo] + wl), self.vals[lo])
        np.add.at(upper, (self.rows[~lo], d[~lo] - 1), self.vals[~lo])
        pivots = np.empty(n)
        bad, self.pivot_growth = _gth_factor(lower, upper, exits.copy(), pivots)
        if bad >= 0:
            raise RuntimeError(f"unknown {bad} cannot reach an absorbing wall (zero exit rate after elimination): "
                               "the mean first-passage time is infinite there; check the boundaries")
        self._lower, self._upper, self._pivots = lower, upper, pivots

    def solve(self, b):
        r"""Solve :math:`-Q x = b`; sets :attr:`accuracy` (see :meth:`stated_accuracy`)."""
        x = np.array(b, dtype=float, copy=True)
        growth = _gth_solve(self._lower, self._upper, self._pivots, x)
        self.accuracy = self.stated_accuracy(growth)
        return x

    def stated_accuracy(self, solve_growth: float = 1.0) -> float:
        r"""Relative accuracy stated for a solve: :math:`n\epsilon` times the largest cancellation factor
        met in the pivots and the solve (1 for an M-matrix, where nothing is subtracted)."""
        return self.n * np.finfo(float).eps * max(self.pivot_growth, solve_growth)

    def solve_transposed(self, c):
        r"""Solve :math:`-Q^\top x = c`."""
        x = np.array(c, dtype=float, copy=True)
        _gth_solve_transposed(self._lower, self._upper, self._pivots, x)
        return x


class BlockGTH:
    r"""The same elimination by blocks of ``block`` consecutive unknowns (one grid line along axis 1), for
    generators with negative off-diagonal rates (the Kramers transport stencil, 2-D cross diffusion).

    A cell-by-cell pivot :math:`s_p` can then vanish or turn negative (a cell whose only remaining
    exit has a negative weight), so the unit of elimination is a whole line: the pivot block
    :math:`-Q_{pp}` (the line's censored chain, well conditioned: its exits to the next line are
    :math:`O(1/h)`) is inverted by LU with partial pivoting, and **its diagonal is recomputed from the
    row sums** :math:`\kappa_p + \sum_{j\ne i} q_{ij}` before each use, which is what keeps the escape
    rate out of the rounding.  Updates: :math:`Q_{iq} \mathrel{+}= Q_{ip}(-Q_{pp})^{-1}Q_{pq}`,
    :math:`\kappa_i \mathrel{+}= Q_{ip}(-Q_{pp})^{-1}\kappa_p`, :math:`b_i \mathrel{+}= Q_{ip}(-Q_{pp})^{-1}b_p`.
    Cost :math:`(2/3 + 2w + 2w^2) m^3` per line (w: block bandwidth), memory :math:`w m^2` per line.
    Row by row the recomputed diagonal may now involve subtraction (rates of both signs), but the
    rounding it leaves is a perturbation of rates that keeps every row sum, so it never touches the
    escape rate.  The stated accuracy is :math:`n\epsilon`, the structural one; it is not a bound here
    (condition estimates of the strongly non-normal pivot blocks exceed it by many orders without any
    loss being observed), so it is verified against extended-precision (mpmath) solves of the same
    discrete systems at high barriers in the tests.  Only :meth:`solve` for one
    right-hand side is offered (the factors are consumed by the forward sweep).
    """

    def __init__(self, rates, exits, block: int):
        Q = sp.csr_matrix(rates, dtype=float, copy=True)
        Q.setdiag(0.0)
        Q.eliminate_zeros()
        n = Q.shape[0]
        if block < 1 or n % block:
            raise ValueError(f"block must divide the number of unknowns {n}, got {block}")
        exits = np.asarray(exits, dtype=float)
        if exits.shape != (n,) or not np.all(np.isfinite(exits)) or np.any(exits < 0):
            raise ValueError("exits must be finite, non-negative, one per unknown")
        coo = Q.tocoo()
        self.Q, self.exits, self.n, self.m = Q, exits.copy(), n, int(block)
        self.m_matrix = bool(np.all(coo.data >= 0))
        self.w = int(max(1, np.max(np.abs(coo.col // block - coo.row // block), initial=1)))

    def _row(self, i: int, nb: int) -> np.ndarray:
        m, w, n = self.m, self.w, self.n
        lo, hi = (i - w) * m, (i + w + 1) * m
        out = np.zeros((m, (2 * w + 1) * m))
        a, b = max(lo, 0), min(hi, n)
        out[:, a - lo:b - lo] = self.Q[i * m:(i + 1) * m, a:b].toarray()
        return out

    def solve(self, b) -> np.ndarray:
        r"""Solve :math:`-Q x = b`; sets :attr:`accuracy`."""
        m, w, n = self.m, self.w, self.n
        nb = n // m
        kappa = self.exits.reshape(nb, m).copy()
        rhs = np.array(b, dtype=float).reshape(nb, m).copy()
        rows: dict[int, np.ndarray] = {}
        xs, ys = [], []
        diag = np.arange(m)
        for p in range(nb):
            for i in range(p, min(nb, p + w + 1)):
                if i not in rows:
                    rows[i] = self._row(i, nb)
            R = rows.pop(p)
            piv = R[:, w * m:(w + 1) * m]
            piv[diag, diag] = 0.0
            piv[diag, diag] = -(R.sum(axis=1) + kappa[p])
            neg = -piv
            lu = sla.lu_factor(neg, check_finite=False)
            if not np.all(np.abs(np.diag(lu[0])) > 0):
                raise RuntimeError(f"line {p} of the grid cannot reach an absorbing wall (singular pivot block "
                                   "after elimination): the mean first-passage time is infinite there")
            Y = sla.lu_solve(lu, np.column_stack([R[:, (w + 1) * m:], kappa[p], rhs[p]]), check_finite=False)
            X, yk, yb = Y[:, :w * m], Y[:, -2], Y[:, -1]
            xs.append(X)
            ys.append(yb)
            for i in range(p + 1, min(nb, p + w + 1)):
                Ri = rows[i]
                c = (p - i + w) * m
                L = Ri[:, c:c + m].copy()
                Ri[:, c:c + m] = 0.0
                Ri[:, c + m:c + m + w * m] += L @ X
                kappa[i] += L @ yk
                rhs[i] += L @ yb
        T = np.zeros((nb + w, m))
        for p in range(nb - 1, -1, -1):
            T[p] = ys[p] + xs[p] @ T[p + 1:p + 1 + w].reshape(-1)
        self.accuracy = self.n * np.finfo(float).eps
        return T[:nb].reshape(-1)


def gth_solver(rates, exits, block: int = 1):
    """The subtraction-free elimination that fits ``rates``: :class:`BandedGTH` (cell by cell) for an
    M-matrix, :class:`BlockGTH` by lines of ``block`` unknowns when some rates are negative."""
    coo = sp.coo_matrix(rates)
    if block > 1 and np.any(coo.data[coo.row != coo.col] < 0):
        return BlockGTH(rates, exits, block)
    return BandedGTH(rates, exits)


def warn_if_inaccurate(accuracy: float, what: str) -> None:
    """Warn (:class:`ConditioningWarning`) when ``accuracy`` exceeds :data:`SOLVE_TOLERANCE`."""
    if not accuracy <= SOLVE_TOLERANCE:
        warnings.warn(f"{what}: the linear algebra certifies only a relative accuracy of {accuracy:.2g} "
                      f"(> {SOLVE_TOLERANCE:g}); cause: conditioning of the grid generator (refine less or "
                      "check the coefficients)", ConditioningWarning, stacklevel=3)
