"""Benchmark of the backward-Kolmogorov MFPT solvers against a plain scipy.sparse baseline.

Run ``python -m benchmarks.bench_fokker_planck``.  Times are the best of ``repeats`` runs after one warm-up
call (so first-call JIT compilation is excluded) and include coefficient evaluation, assembly and the sparse
solve.  The baseline assembles the Itô backward operator a.grad T + D:grad grad T with scipy.sparse.diags /
kron in pure NumPy (first-order upwind drift, central diffusion, same grid and boundaries) and solves with
``spsolve``; it is the natural "no numba" implementation.  Targets: 1-D, 2000 cells < 50 ms; 2-D, 256 x 256
< 5 s.  Nothing here asserts times.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from optdyn.sim.exact import fokker_planck as fp


def _drift_1d(x):
    return -(x**3 - x)


def _diff_1d(x):
    return 0.15 * np.abs(3 * x**2 - 1) + 0.02


def _drift_2d(z):
    return np.stack([-(z[:, 0] ** 3 - z[:, 0]), -2.0 * z[:, 1]], axis=-1)


def _diff_2d(z):
    out = np.zeros((z.shape[0], 2, 2))
    out[:, 0, 0] = _diff_1d(z[:, 0])
    out[:, 1, 1] = 0.1 + 0.05 * z[:, 0] ** 2
    return out


def _baseline_operator_1d(a, d, h, n, bc_lo, bc_hi):
    """Backward operator with upwind drift and central diffusion, assembled with scipy.sparse.diags.

    Reflecting: ghost = mirror (zero derivative); absorbing: ghost T = 0 (one cell beyond)."""
    ap, am = np.maximum(a, 0) / h, np.maximum(-a, 0) / h
    lower = d / h**2 + am
    upper = d / h**2 + ap
    main = -(lower + upper)
    if bc_lo == "reflecting":
        main[0] += lower[0]
    if bc_hi == "reflecting":
        main[-1] += upper[-1]
    return sp.diags([lower[1:], main, upper[:-1]], [-1, 0, 1], shape=(n, n), format="csr")


def baseline_mfpt_1d(grid: fp.Grid1D):
    x = grid.centres
    A = _baseline_operator_1d(_drift_1d(x), _diff_1d(x), grid.h, grid.n, "reflecting", "absorbing")
    return spla.spsolve(A.tocsc(), -np.ones(grid.n))


def baseline_mfpt_2d(grid: fp.Grid2D):
    """Kronecker-product assembly: d_x and d_xx along x and y, coefficients as diagonal scalings."""
    (gx, gy), (nx, ny) = grid.axes, grid.shape
    pts = grid.points()
    a, d = _drift_2d(pts), _diff_2d(pts)

    def first_and_second(ax, bc):
        n, h = ax.n, ax.h
        fwd = sp.diags([-np.ones(n), np.ones(n - 1)], [0, 1], shape=(n, n), format="lil") / h
        bwd = sp.diags([np.ones(n), -np.ones(n - 1)], [0, -1], shape=(n, n), format="lil") / h
        lap = sp.diags([np.ones(n - 1), -2 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], shape=(n, n), format="lil") / h**2
        for side, idx in ((0, 0), (1, n - 1)):
            if bc[side] == "reflecting":
                lap[idx, idx] += 1 / h**2
                (fwd if side == 1 else bwd)[idx, idx] = 0.0
        return fwd.tocsr(), bwd.tocsr(), lap.tocsr()

    fx, bx, lx = first_and_second(gx, ("reflecting", "absorbing"))
    fy, by, ly = first_and_second(gy, ("reflecting", "reflecting"))
    ix, iy = sp.identity(nx, format="csr"), sp.identity(ny, format="csr")
    Fx, Bx, Lx = (sp.kron(m, iy, format="csr") for m in (fx, bx, lx))
    Fy, By, Ly = (sp.kron(ix, m, format="csr") for m in (fy, by, ly))
    diag = sp.diags
    A = (diag(np.maximum(a[:, 0], 0)) @ Fx + diag(np.minimum(a[:, 0], 0)) @ Bx + diag(d[:, 0, 0]) @ Lx
         + diag(np.maximum(a[:, 1], 0)) @ Fy + diag(np.minimum(a[:, 1], 0)) @ By + diag(d[:, 1, 1]) @ Ly)
    return spla.spsolve(A.tocsc(), -np.ones(nx * ny))


def ours_1d(grid):
    return fp.mean_first_passage_time_backward(_drift_1d, _diff_1d, grid, ("reflecting", "absorbing")).T


def ours_2d(grid):
    return fp.mean_first_passage_time_backward(_drift_2d, _diff_2d, grid,
                                               (("reflecting", "absorbing"), "reflecting")).T


def best_time(fn, *args, repeats: int = 5) -> float:
    fn(*args)  # warm-up: JIT compilation, caches
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def main(repeats_1d: int = 20, repeats_2d: int = 3) -> dict:
    g1 = fp.Grid1D(-2.5, 0.8, 2000)
    g2 = fp.Grid2D((-2.5, -1.5), (0.8, 1.5), (256, 256))
    rows = []
    for name, ours, base, grid, reps, target in (
        ("1-D MFPT, 2000 cells", ours_1d, baseline_mfpt_1d, g1, repeats_1d, 0.05),
        ("2-D MFPT, 256x256", ours_2d, baseline_mfpt_2d, g2, repeats_2d, 5.0),
    ):
        t_ours = best_time(ours, grid, repeats=reps)
        t_base = best_time(base, grid, repeats=reps)
        rows.append((name, t_ours, t_base, t_ours / t_base, target))
    print(f"{'case':<24}{'ours [s]':>12}{'baseline [s]':>14}{'ours/base':>11}{'target [s]':>12}")
    for name, t_o, t_b, ratio, target in rows:
        print(f"{name:<24}{t_o:>12.4f}{t_b:>14.4f}{ratio:>11.2f}{target:>12.2f}")
    return {r[0]: {"ours_s": r[1], "baseline_s": r[2], "ratio": r[3], "target_s": r[4]} for r in rows}


if __name__ == "__main__":
    main()
