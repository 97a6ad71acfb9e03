"""Throughput of the numba ensemble kernel vs a vectorised NumPy ensemble and the RNG floor.

Problem: 2-D ``QuadraticSaddle`` (eigenvalues [1.0, -0.5], rotated), ``HessianNoise``,
``SGDLangevin``, a ``BallExit`` far enough away that most paths run the full length (so the exit
test runs every step but rarely stops a path).

Measured in one run, best of ``--repeats`` (≥ 3) after a warm-up that compiles:

1. kernel — :func:`sim.run_ensemble` (``backend="numba"``, all numba threads);
2. numpy  — a fair vectorised NumPy implementation of the same ensemble (one
   ``standard_normal((n_alive, 2))`` per step, matrix ops, exit mask);
3. floor  — a numba ``parallel=True`` loop that draws the same normals with the kernel's own
   generator (``seed_state`` + ``fill_normals``) and only sums them.

Usage: ``python -m benchmarks.bench_sde [--paths N] [--steps K] [--quick]``.
Timings are reported, never asserted.
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from optdyn import sim
from optdyn.sim._jit import jit, prange
from optdyn.sim.backends.rng import fill_normals, seed_state

EIGENVALUES = [1.0, -0.5]
LR = 0.1
DT = 0.01
BATCH = 64.0
RADIUS = 50.0  # far away: escape by e^{0.5 t} growth from ~0.02 needs t ≈ 15


def make_problem():
    land = sim.QuadraticSaddle(EIGENVALUES, rotation=sim.random_rotation(2, seed=1))
    return sim.Problem(land, sim.HessianNoise(BATCH), sim.SGDLangevin(LR, dt=DT), [0.0, 0.0],
                       exit=sim.BallExit([0.0, 0.0], RADIUS))


def run_kernel(problem, n_paths, n_steps, seed=0):
    res = sim.run_ensemble(problem, n_paths, n_steps * DT, seed=seed, chunk_size=n_paths)
    # Path-steps actually taken (exited paths stop early).
    steps = np.where(res.exit_step >= 0, res.exit_step, res.n_steps).sum()
    return int(steps), res


def run_numpy(problem, n_paths, n_steps, seed=0):
    """Vectorised NumPy Euler–Maruyama with the exit test: the baseline."""
    land, noise, dyn = problem.landscape, problem.noise, problem.dynamics
    rng = np.random.default_rng(seed)
    H = land.H
    S = noise.sqrt_covariance(np.zeros(2), land)  # constant factor C^{1/2} on a quadratic
    c = land.center
    r2 = problem.exit.radius**2
    ec = problem.exit.center
    dt, amp = dyn.dt, np.sqrt(dyn.lr * dyn.dt)
    # x <- x - H (x - c) dt - amp S z, written as one affine map with precomputed matrices.
    A = (np.eye(2) - dt * H).T
    bvec = dt * H @ c
    B = amp * S.T
    x = np.tile(problem.x0, (n_paths, 1))
    total = 0
    for _ in range(n_steps):
        n = x.shape[0]
        if n == 0:
            break
        z = rng.standard_normal((n, 2))
        x = x @ A + bvec - z @ B
        total += n
        d = x - ec
        keep = np.einsum("ij,ij->i", d, d) < r2
        if not keep.all():
            x = x[keep]
    return total


@jit(parallel=True)
def _floor_kernel(n_paths, n_steps, dim, seed):
    acc = np.zeros(n_paths)
    for p in prange(n_paths):
        s = np.empty(4, np.uint64)
        seed_state(seed, p, s)
        z = np.empty(dim)
        a = 0.0
        for _ in range(n_steps):
            fill_normals(s, z)
            for i in range(dim):
                a += z[i]
        acc[p] = a
    return acc.sum()


def run_floor(n_paths, n_steps, seed=0):
    _floor_kernel(n_paths, n_steps, 2, np.uint64(seed))
    return n_paths * n_steps


def best_rate(fn, repeats):
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        work = fn()
        el = time.perf_counter() - t0
        best = max(best, work / el)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", type=int, default=20_000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args(argv)
    if args.quick:
        args.paths, args.steps = 2048, 50
    repeats = max(3, args.repeats)
    problem = make_problem()
    # Warm-up: compile the kernel and the floor loop.
    run_kernel(problem, 1024, 2)
    run_floor(64, 2)

    steps_k, res = run_kernel(problem, args.paths, args.steps)
    frac_full = float(np.mean(res.exit_step < 0))
    rates = {
        "kernel": best_rate(lambda: run_kernel(problem, args.paths, args.steps)[0], repeats),
        "numpy": best_rate(lambda: run_numpy(problem, args.paths, args.steps), repeats),
        "floor": best_rate(lambda: run_floor(args.paths, args.steps), repeats),
    }
    nt = numba.get_num_threads()
    print(f"bench_sde: 2-D QuadraticSaddle{EIGENVALUES}, HessianNoise(B={BATCH}), "
          f"SGDLangevin(lr={LR}, dt={DT}), BallExit(r={RADIUS})")
    print(f"paths={args.paths} steps={args.steps} numba_threads={nt} repeats={repeats} "
          f"(best of); paths running the full length: {frac_full:.3f}")
    print(f"{'implementation':<16}{'path-steps/s':>16}")
    for k, v in rates.items():
        print(f"{k:<16}{v:>16.3e}")
    r_np = rates["kernel"] / rates["numpy"]
    r_fl = rates["kernel"] / rates["floor"]
    print(f"kernel/numpy = {r_np:6.2f}   (target >= 3)")
    print(f"kernel/floor = {r_fl:6.2f}   (target >= 0.6)")
    return {"rates": rates, "kernel_over_numpy": r_np, "kernel_over_floor": r_fl,
            "threads": nt, "paths": args.paths, "steps": args.steps, "frac_full": frac_full}


if __name__ == "__main__":
    main()
