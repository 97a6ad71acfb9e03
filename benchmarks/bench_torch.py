"""Torch backend throughput: path-steps per second against a plain torch loop, same run.

The ensemble: the 2-D SGD SDE on a quadratic saddle with Hessian noise and a ball exit far enough
that (almost) no path leaves, i.e. exit detection on but every path runs every step.  The baseline is
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


def _problem(sim, dt):
    land = sim.QuadraticSaddle([1.0, -0.5])
    return sim.Problem(land, sim.HessianNoise(1.0), sim.SGDLangevin(0.01, dt=dt), np.zeros(2),
                       exit=sim.BallExit(np.zeros(2), 1e6))


def plain_torch_loop(torch, n_paths, n_steps, dt, lr, device, dtype):
    """The hand-written baseline: same update and exit mask, torch's own generator."""
    h = torch.tensor([[1.0, 0.0], [0.0, -0.5]], dtype=dtype, device=device)
    s = torch.tensor([[1.0, 0.0], [0.0, np.sqrt(0.5)]], dtype=dtype, device=device)
    amp = float(np.sqrt(lr * dt))
    x = torch.zeros(n_paths, 2, dtype=dtype, device=device)
    alive = torch.ones(n_paths, dtype=torch.bool, device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    for _ in range(n_steps):
        z = torch.randn(n_paths, 2, generator=gen, dtype=dtype, device=device)
        xn = x - dt * (x @ h) - amp * (z @ s)
        x = torch.where(alive[:, None], xn, x)
        alive = alive & ((x * x).sum(axis=1) < 1e12)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return x


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
    import sim

    if args.quick:
        args.paths, args.steps, args.repeats = 20_000, 20, 1
    dt = 0.01
    prob = _problem(sim, dt)
    backend = f"torch:{args.device}"
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}; "
          f"{args.paths} paths x {args.steps} steps, 2-D SGD SDE, exit detection on")
    rows = []
    for prec, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        def ours():
            sim.run_ensemble(prob, args.paths, args.steps * dt, seed=0, backend=backend,
                             precision=prec, chunk_size=min(args.paths, 1 << 22), progress=False)

        def base():
            plain_torch_loop(torch, args.paths, args.steps, dt, 0.01, args.device, dtype)

        ours()  # warm-up (allocator, first calls)
        t_ours, t_base = _best(ours, args.repeats), _best(base, args.repeats)
        work = args.paths * args.steps
        rows.append((prec, work / t_ours, work / t_base))
    print(f"{'precision':<10}{'optdyn torch [steps/s]':>26}{'plain torch loop [steps/s]':>30}{'ratio':>8}")
    for prec, a, b in rows:
        print(f"{prec:<10}{a:>26.3e}{b:>30.3e}{a / b:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
