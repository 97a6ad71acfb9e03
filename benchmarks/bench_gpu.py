"""The fused GPU path (``backend="torch:cuda"``): path-steps per second against a plain torch loop
and against the memory-bandwidth bound of the state it touches.

Cases: the 2-D SGD SDE (``SGDLangevin``), discrete Adam and ``AdaiSDE`` on a 2-D saddle with Hessian
noise and a ball exit far enough that no path leaves (exit detection on, every path runs every
step); float32 and float64; 10⁶–10⁸ paths as one ``run_ensemble`` call with summaries only
(``keep_paths=False``, memory bounded by ``chunk_size``).

* **fused**: ``run_ensemble`` end to end, and its kernels alone (``backend_stats["kernel_s"]``: from
  the first launch to the last synchronisation, summed over chunks);
* **plain torch loop**: what a user would write by hand on the same device — ``torch.randn``
  normals and the dynamics' own update (``numpy_step`` on tensors, the op-by-op formulas), the same
  exit mask;
* **bandwidth bound**: a step that reads and writes the state once (position + optimizer state)
  cannot exceed ``bandwidth / (2 · state bytes)`` path-steps/s; the bandwidth is measured (a
  device-to-device copy).  The fused kernel keeps the state in registers, so it is not bound by it;
  an unfused loop is.

Without a CUDA device there are no GPU numbers, and the script says so; it then reports the CPU-side
evidence instead: the simulated kernels against the numba CPU kernel on the same Philox streams
(path by path), the launches and host synchronisations per step, and whether the kernels compile to
PTX for sm_90 (needs the CUDA toolkit's NVVM and NVRTC, no device).

Usage: ``python -m benchmarks.bench_gpu [--quick] [--paths 1e6,1e7,1e8] [--steps 100]``; it stops
starting new measurements after ``--budget`` seconds (default 240) so that it ends within 5 minutes.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

LR, DT = 0.01, 0.01
H_DIAG = (1.0, -0.5)


def _has_gpu() -> bool:
    """A CUDA device is present (without importing numba-cuda, which fixes simulator mode)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1":
        return False
    return any(os.path.exists(p) for p in ("/dev/nvidia0", "/dev/nvidiactl"))


def _cases(sim):
    return {"SGD SDE": sim.SGDLangevin(LR, dt=DT), "Adam": sim.Adam(LR), "AdaiSDE": sim.AdaiSDE(LR, dt=DT)}


def _problem(sim, dyn):
    return sim.Problem(sim.QuadraticSaddle(H_DIAG), sim.HessianNoise(1.0), dyn, np.zeros(2),
                       exit=sim.BallExit(np.zeros(2), 1e6))


def plain_torch_loop(torch, sim, prob, n_paths, n_steps, dtype, device="cuda"):
    """The hand-written baseline: ``torch.randn`` normals, the dynamics' update op by op, exit mask."""
    dyn, land, noise = prob.dynamics, prob.landscape, prob.noise
    x = torch.zeros(n_paths, 2, dtype=dtype, device=device)
    aux = torch.as_tensor(prob.initial_state, dtype=dtype, device=device).expand(n_paths, -1).clone()
    alive = torch.ones(n_paths, dtype=torch.bool, device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    n_z = dyn.normals_per_step(2)
    for k in range(1, n_steps + 1):
        z = torch.randn(n_paths, n_z, generator=gen, dtype=dtype, device=device)
        xn, auxn = dyn.numpy_step(x, aux, z, k, land, noise)
        x = torch.where(alive[:, None], xn, x)
        if aux.shape[1]:
            aux = torch.where(alive[:, None], auxn, aux)
        alive = alive & (prob.exit.label(x) == 0)
    torch.cuda.synchronize()


def _bandwidth(cuda, n: int = 1 << 27) -> float:
    """Device memory bandwidth in bytes/s, measured: best of 5 device-to-device copies of ``n``
    float64 (1 GiB by default)."""
    a, b = cuda.device_array(n, np.float64), cuda.device_array(n, np.float64)
    b.copy_to_device(a)
    cuda.synchronize()
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        b.copy_to_device(a)
        cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * 8 * n / best


def gpu_main(args) -> int:
    from numba import cuda

    from optdyn import sim

    try:
        import torch

        have_torch_cuda = torch.cuda.is_available()
    except ImportError:
        torch, have_torch_cuda = None, False
    dev = cuda.get_current_device()
    name = getattr(dev, "name", "simulator")
    bw = _bandwidth(cuda, args.bw_elems)
    print(f"device {name.decode() if isinstance(name, bytes) else name}, compute capability "
          f"{getattr(dev, 'compute_capability', '?')}, measured copy bandwidth {bw / 1e9:.0f} GB/s; plain torch loop: "
          f"{'torch ' + torch.__version__ if have_torch_cuda else 'unavailable (no CUDA build of torch)'}")
    print(f"{'case':<9}{'prec':<9}{'paths':>10}{'fused e2e':>12}{'fused kernel':>14}{'plain torch':>13}"
          f"{'kernel/plain':>14}{'bw bound':>11}   [path-steps/s]")
    t_start = time.perf_counter()
    for kind, dyn in _cases(sim).items():
        prob = _problem(sim, dyn)
        n_state = 2 + prob.initial_state.size
        for prec in ("float32", "float64"):
            item = 4 if prec == "float32" else 8
            sim.run_ensemble(prob, 64, 2 * dyn.dt, backend=args.backend, precision=prec)  # compile
            for n in args.paths:
                if time.perf_counter() - t_start > args.budget:
                    print(f"(budget of {args.budget:.0f} s spent: remaining sizes skipped)")
                    return 0
                t0 = time.perf_counter()
                res = sim.run_ensemble(prob, n, args.steps * dyn.dt, backend=args.backend, precision=prec,
                                       keep_paths=False, chunk_size=min(n, args.chunk), progress=False)
                e2e = n * args.steps / (time.perf_counter() - t0)
                kern = n * args.steps / res.metadata["backend_stats"]["kernel_s"]
                plain = float("nan")
                if have_torch_cuda and n <= args.plain_max:
                    dtype = torch.float32 if prec == "float32" else torch.float64
                    plain_torch_loop(torch, sim, prob, n, 2, dtype)  # warm-up
                    t0 = time.perf_counter()
                    plain_torch_loop(torch, sim, prob, n, args.steps, dtype)
                    plain = n * args.steps / (time.perf_counter() - t0)
                bound = bw / (2 * n_state * item)
                print(f"{kind:<9}{prec:<9}{n:>10.0e}{e2e:>12.3e}{kern:>14.3e}{plain:>13.3e}"
                      f"{kern / plain:>14.1f}{bound:>11.2e}", flush=True)
    return 0


def evidence_main(args) -> int:
    """No GPU: the CPU-side evidence (simulator agreement, launches and syncs, PTX)."""
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    import numba

    numba.config.reload_config()
    from optdyn import sim

    print("NO CUDA DEVICE: no GPU throughput numbers from this machine (the fused path needs one).")
    print("CPU-side evidence instead: numba-cuda's simulator runs the fused kernels on the CPU.\n")
    n, steps = (8, 16) if args.quick else (32, 64)
    for kind, dyn in _cases(sim).items():
        prob = _problem(sim, dyn)
        kw = dict(seed=3, n_record=n, save_times=[steps * dyn.dt])
        t0 = time.perf_counter()
        gpu = sim.run_ensemble(prob, n, steps * dyn.dt, backend="cuda-sim", **kw)
        t_sim = time.perf_counter() - t0
        cpu = sim.run_ensemble(prob, n, steps * dyn.dt, rng="philox", **kw)
        err = np.nanmax(np.abs(gpu.trajectories - cpu.trajectories) / (1.0 + np.abs(cpu.trajectories)))
        st = gpu.metadata["backend_stats"]
        print(f"{kind:<9} simulated kernel vs numba CPU (Philox), {n} paths x {steps} steps: max relative "
              f"difference {err:.1e}, exits equal: {np.array_equal(gpu.exit_step, cpu.exit_step)}; "
              f"launches {st['launches']}, host syncs {st['host_syncs']} for {st['steps']} steps "
              f"({st['host_syncs'] / st['steps']:.3f} per step); simulator {t_sim:.1f} s")
    from optdyn.sim.backends.cuda_backend import STEPS_PER_LAUNCH

    print(f"\nPer window of {STEPS_PER_LAUNCH} steps: 2 launches (coefficients, steps), 1 host sync "
          f"(alive count): {2 / STEPS_PER_LAUNCH:.4f} launches and {1 / STEPS_PER_LAUNCH:.4f} syncs per step "
          "(the op-by-op torch backend: ~20 kernels and 1 sync per normal drawn).")
    import subprocess
    import sys

    code = ("from optdyn import sim\nfrom optdyn.benchmarks.bench_gpu import _cases, _problem\n"
            "from optdyn.sim.backends.cuda_backend import compile_ptx\n"
            "for k, d in _cases(sim).items():\n"
            "    for p in ('float32', 'float64'):\n"
            "        ptx = compile_ptx(_problem(sim, d), p)\n"
            "        print(f'{k:<9}{p}: PTX for sm_90 compiled, {len(ptx.splitlines())} lines')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "NUMBA_ENABLE_CUDASIM": "0"})
    print("\nPTX compilation (real CUDA target, no device):")
    print(out.stdout.strip() if out.returncode == 0 else
          f"not available here ({out.stderr.strip().splitlines()[-1][:200] if out.stderr.strip() else out.returncode})")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_gpu")
    p.add_argument("--paths", type=lambda s: [int(float(v)) for v in s.split(",")],
                   default=[10**6, 10**7, 10**8], help="comma-separated path counts (default 1e6,1e7,1e8)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--chunk", type=int, default=1 << 24, help="chunk_size (paths per chunk on the device)")
    p.add_argument("--plain-max", type=int, default=10**7, help="largest ensemble for the plain torch loop")
    p.add_argument("--budget", type=float, default=240.0, help="seconds after which no new size starts")
    p.add_argument("--bw-elems", type=int, default=1 << 27, help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = p.parse_args(argv)
    if args.quick:
        args.paths, args.steps = [10**5], 20
    args.backend = "torch:cuda"
    return gpu_main(args) if _has_gpu() else evidence_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
