"""Throughput of the discrete Adam and Adai ensembles: numba kernel vs a NumPy-vectorised baseline.

Problem: 2-D quadratic saddle (eigenvalues 1, -0.1, rotated) with Hessian noise (B = 8), every path
an independent optimizer, no exit (every path runs every step).  Reports path-steps per second for

* ``numba``: :func:`sim.run_ensemble` with the compiled kernel (compilation excluded: one warm-up
  run first);
* ``numpy``: a straightforward NumPy implementation vectorised over paths (constant noise factor
  precomputed, ``numpy.random.default_rng`` normals): what one would write without the kernels;
* ``SGD`` on the same kernel, for scale: the cost the shared kernel itself sets;
* ``reference``: the project's NumPy reference backend (same random streams as the kernel; slower,
  it exists for checking), on fewer steps.

Run ``python -m benchmarks.bench_optimizers`` (``--quick`` for a smaller run, ``--repeats N`` for
best of N, default 3).  The target is a numba/numpy ratio ≥ 3; nothing here asserts timings.  What
gets the kernel there is described in :mod:`sim.backends.numba_backend` (blocks of paths, compile-time dimensions,
bias corrections once per block-step).
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from optdyn.sim import SGD, Adai, Adam, HessianNoise, Problem, QuadraticSaddle, random_rotation, run_ensemble

LANDSCAPE = QuadraticSaddle([1.0, -0.1], rotation=random_rotation(2, 0))
NOISE = HessianNoise(8.0)
X0 = np.array([0.01, -0.02])


def _numpy_adam(dyn, n_paths, n_steps, rng):
    h, s = LANDSCAPE.H, NOISE.sqrt_covariance(np.zeros(2), LANDSCAPE)
    x = np.tile(X0, (n_paths, 1))
    m, v = np.zeros_like(x), np.zeros_like(x)
    for k in range(1, n_steps + 1):
        g = x @ h.T + rng.standard_normal(x.shape) @ s.T
        m = dyn.beta1 * m + (1 - dyn.beta1) * g
        v = dyn.beta2 * v + (1 - dyn.beta2) * g * g
        x = x - dyn.lr * (m / (1 - dyn.beta1**k)) / (np.sqrt(v / (1 - dyn.beta2**k)) + dyn.eps)
    return x


def _numpy_sgd(dyn, n_paths, n_steps, rng):
    h, s = LANDSCAPE.H, NOISE.sqrt_covariance(np.zeros(2), LANDSCAPE)
    x = np.tile(X0, (n_paths, 1))
    for _ in range(n_steps):
        x = x - dyn.lr * (x @ h.T + rng.standard_normal(x.shape) @ s.T)
    return x


def _numpy_adai(dyn, n_paths, n_steps, rng):
    h, s = LANDSCAPE.H, NOISE.sqrt_covariance(np.zeros(2), LANDSCAPE)
    x = np.tile(X0, (n_paths, 1))
    m, v, p = np.zeros_like(x), np.zeros_like(x), np.ones_like(x)
    for k in range(1, n_steps + 1):
        g = x @ h.T + rng.standard_normal(x.shape) @ s.T
        v = dyn.beta2 * v + (1 - dyn.beta2) * g * g
        v_hat = v / (1 - dyn.beta2**k)
        beta1 = np.clip(1 - dyn.beta0 * v_hat / v_hat.mean(axis=1, keepdims=True), 0, 1 - dyn.eps)
        m = beta1 * m + (1 - beta1) * g
        p = p * beta1
        x = x - dyn.lr * m / (1 - p)
    return x


def _rate(fn, n_paths, n_steps, repeats=1):
    """Best path-steps/s of ``repeats`` calls of ``fn`` (the best run is the least disturbed by
    other processes on a shared machine)."""
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = max(best, n_paths * n_steps / (time.perf_counter() - t0))
    return best


def bench(dyn, baseline, n_paths, n_steps, n_steps_reference, repeats):
    problem = Problem(LANDSCAPE, NOISE, dyn, X0)
    t_max = n_steps * dyn.dt
    run_ensemble(problem, 64, 2 * dyn.dt)  # compile
    numba_rate = _rate(lambda: run_ensemble(problem, n_paths, t_max, chunk_size=n_paths),
                       n_paths, n_steps, repeats)
    rng = np.random.default_rng(0)
    numpy_rate = _rate(lambda: baseline(dyn, n_paths, n_steps, rng), n_paths, n_steps, repeats)
    ref_rate = _rate(lambda: run_ensemble(problem, n_paths, n_steps_reference * dyn.dt,
                                          backend="numpy", chunk_size=n_paths),
                     n_paths, n_steps_reference)
    return numba_rate, numpy_rate, ref_rate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run (seconds)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="best of this many runs for numba and numpy (default 3)")
    args = parser.parse_args(argv)
    n_paths, n_steps, n_ref = (8192, 200, 20) if args.quick else (65536, 1000, 50)
    print(f"2-D quadratic saddle, Hessian noise; {n_paths} paths x {n_steps} steps "
          f"(reference backend: {n_ref} steps); numba threads: {numba.get_num_threads()}; "
          f"best of {max(1, args.repeats)}")
    print(f"{'optimizer':<10}{'numba [path-steps/s]':>22}{'numpy [path-steps/s]':>22}"
          f"{'reference':>14}{'numba/numpy':>13}")
    # SGD is the floor set by the shared kernel (random streams, exit and divergence checks)
    for name, dyn, baseline in [("SGD", SGD(0.01), _numpy_sgd), ("Adam", Adam(0.01), _numpy_adam),
                                ("Adai", Adai(0.01), _numpy_adai)]:
        nb, npy, ref = bench(dyn, baseline, n_paths, n_steps, n_ref, max(1, args.repeats))
        print(f"{name:<10}{nb:>22.3e}{npy:>22.3e}{ref:>14.3e}{nb / npy:>12.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
