"""Torch backend throughput: path-steps per second against a plain torch loop, same run.

The ensembles: the 2-D SGD SDE and the discrete Adam and Adai optimizers on a quadratic saddle with
Hessian noise and a ball exit far enough that no path leaves, i.e. exit detection on but every path
runs every step.  The baseline is
the loop a user would write by hand: ``torch.randn`` normals, the same update, the same exit mask.
optdyn's torch path additionally reproduces the numba/NumPy per-path streams (int64 xoshiro256**),
which costs several elementwise kernels per normal; the ratio shows that price.

Usage: ``python -m benchmarks.bench_torch [--paths N] [--steps K] [--device cpu|cuda] [--quick]``.
On a GPU, run with ``--device cuda --paths 10000000`` (and more).
"""
from __future__ import annotations

import argparse
import time

import numpy as np


H = np.array([[1.0, 0.0], [0.0, -0.5]])
SQRT_C = np.array([[1.0, 0.0], [0.0, np.sqrt(0.5)]])  # [H]^+ / B with B = 1


def _problem(sim, dynamics):
    land = sim.QuadraticSaddle(np.diag(H))
    return sim.Problem(land, sim.HessianNoise(1.0), dynamics, np.zeros(2),
                       exit=sim.BallExit(np.zeros(2), 1e6))


def plain_torch_loop(torch, kind, n_paths, n_steps, device, dtype):
    """The hand-written baseline: the same update and exit mask, torch's own generator."""
    h = torch.tensor(H, dtype=dtype, device=device)
    s = torch.tensor(SQRT_C, dtype=dtype, device=device)
    x = torch.zeros(n_paths, 2, dtype=dtype, device=device)
    m, v, p = torch.zeros_like(x), torch.zeros_like(x), torch.ones_like(x)
    alive = torch.ones(n_paths, dtype=torch.bool, device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    for k in range(1, n_steps + 1):
        z = torch.randn(n_paths, 2, generator=gen, dtype=dtype, device=device)
        g = x @ h + z @ s
        if kind == "SGD SDE":
            xn = x - DT * (x @ h) - float(np.sqrt(LR * DT)) * (z @ s)
        elif kind == "Adam":
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            xn = x - LR / (1 - 0.9**k) * m / (torch.sqrt(v / (1 - 0.999**k)) + 1e-8)
        else:  # Adai
            v = 0.99 * v + 0.01 * g * g
            vh = v / (1 - 0.99**k)
            b1 = torch.clip(1 - 0.1 * vh / vh.mean(axis=1, keepdims=True), 0.0, 1 - 1e-3)
            m = b1 * m + (1 - b1) * g
            p = p * b1
            xn = x - LR * m / (1 - p)
        x = torch.where(alive[:, None], xn, x)
        alive = alive & ((x * x).sum(axis=1) < 1e12)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return x


LR, DT = 0.01, 0.01


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_torch")
    p.add_argument("--paths", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("torch is not installed: skipping the torch benchmark (pip install torch==2.13.0)")
        return 0
    from optdyn import sim

    if args.quick:
        args.paths, args.steps, args.repeats = 20_000, 20, 1
    backend = f"torch:{args.device}"
    cases = {"SGD SDE": sim.SGDLangevin(LR, dt=DT), "Adam": sim.Adam(LR), "Adai": sim.Adai(LR)}
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}; "
          f"{args.paths} paths x {args.steps} steps, 2-D saddle, Hessian noise, exit detection on")
    print(f"{'case':<10}{'precision':<10}{'optdyn torch [steps/s]':>24}{'plain torch loop [steps/s]':>28}{'ratio':>8}")
    for kind, dyn in cases.items():
        prob = _problem(sim, dyn)
        for prec, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            def ours():
                sim.run_ensemble(prob, args.paths, args.steps * dyn.dt, seed=0, backend=backend,
                                 precision=prec, chunk_size=min(args.paths, 1 << 22), progress=False)

            def base():
                plain_torch_loop(torch, kind, args.paths, args.steps, args.device, dtype)

            ours()  # warm-up (allocator, first calls)
            work = args.paths * args.steps
            a, b = work / _best(ours, args.repeats), work / _best(base, args.repeats)
            print(f"{kind:<10}{prec:<10}{a:>24.3e}{b:>28.3e}{a / b:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
