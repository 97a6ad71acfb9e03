"""Throughput of Hessian-dependent noise on a landscape without a fixed eigenbasis: closed-form
eigen-decomposition (:mod:`sim.symeig`) against LAPACK's ``eigh``, both against a constant-factor baseline.

Problems (``SGDLangevin(lr=0.1, dt=0.01)`` from a minimum, no exit, so every path runs every step):

1. baseline — 2-D ``QuadraticSaddle`` with ``HessianNoise``: the noise factor is constant, computed
   once (the fastest Hessian-noise path);
2. eigh — 2-D ``CurvedDoubleWell`` with ``HessianNoise(floor=…)`` bound to LAPACK's ``eigh`` per
   path-step (the general path before the closed form; still the path for ``dim >= 4``);
3. closed — the same problem as ``HessianNoise`` binds it now (closed-form 2×2 decomposition);
4. symbolic-closed — the same landscape as a ``SymbolicLandscape`` (code generated from the formula);
5. the eigh/closed pair for a 3-D landscape without a fixed eigenbasis (a ``SymbolicLandscape``), when
   ``--dim3`` is given.

All are measured in the same run, best of ``--repeats`` after a warm-up that compiles, and printed as
path-steps per second and as ratios to the baseline.  Timings are reported, never asserted.

Usage: ``python -m benchmarks.bench_hessian_noise [--paths N] [--steps K] [--quick] [--dim3]``.
"""
from __future__ import annotations

import argparse

import numba
import numpy as np

from optdyn import sim
from optdyn.sim.noise import BoundNoise, _make_apply_hessian_factor

from .bench_sde import best_rate

LR, DT, BATCH, FLOOR = 0.1, 0.01, 64.0, 0.1


class LapackHessianNoise(sim.HessianNoise):
    """``HessianNoise`` bound to the general LAPACK ``eigh`` path whatever the dimension (the path
    taken before the closed forms existed): the "before" of this benchmark."""

    def bind(self, landscape):
        return BoundNoise(_make_apply_hessian_factor(landscape.numba_functions().hessian, landscape.dim),
                          np.array([1.0 / self.batch_size, self.floor]), False)


def symbolic_curved():
    """``CurvedDoubleWell()`` written as one formula: compiled from SymPy instead of by hand."""
    return sim.SymbolicLandscape("dl*((x/a)**2 - 1)**2 + tau*x + k/2*(y - g*x**2)**2", ("x", "y"),
                                 {"dl": 1.0, "a": 1.0, "tau": 0.25, "k": 4.0, "g": 0.5})


def symbolic_3d():
    """A 3-D double well in a curved, twisted valley (no fixed Hessian eigenbasis)."""
    return sim.SymbolicLandscape("(x**2 - 1)**2 + 2*(y - g*x**2)**2 + 1.5*(z - g*x*y)**2",
                                 coords=("x", "y", "z"), params={"g": 0.5})


def problems(dim3: bool):
    saddle = sim.QuadraticSaddle([1.0, -0.5], rotation=sim.random_rotation(2, seed=1))
    curved = sim.CurvedDoubleWell()
    out = {"baseline": sim.Problem(saddle, sim.HessianNoise(BATCH), sim.SGDLangevin(LR, dt=DT), [0.0, 0.0])}
    lands = [("2d", curved, curved.minima[0])]
    sym = symbolic_curved()
    out["2d-symbolic-closed"] = sim.Problem(sym, sim.HessianNoise(BATCH, FLOOR), sim.SGDLangevin(LR, dt=DT),
                                            curved.minima[0])
    if dim3:
        land3 = symbolic_3d()
        lands.append(("3d", land3, np.array([-1.0, 0.5, 0.0])))
    for name, land, x0 in lands:
        for kind, noise in (("eigh", LapackHessianNoise(BATCH, FLOOR)), ("closed", sim.HessianNoise(BATCH, FLOOR))):
            out[f"{name}-{kind}"] = sim.Problem(land, noise, sim.SGDLangevin(LR, dt=DT), x0)
    return out


def run(problem, n_paths, n_steps, seed=0):
    res = sim.run_ensemble(problem, n_paths, n_steps * DT, seed=seed, chunk_size=n_paths, progress=False)
    return int(np.where(res.exit_step >= 0, res.exit_step, res.n_steps).sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", type=int, default=20_000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dim3", action="store_true", help="also a 3-D landscape (3×3 closed form)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args(argv)
    if args.quick:
        args.paths, args.steps = 1024, 20
    repeats = max(1 if args.quick else 3, args.repeats)
    probs = problems(args.dim3)
    for p in probs.values():  # warm-up: compile
        run(p, 64, 2)
    rates = {k: best_rate(lambda p=p: run(p, args.paths, args.steps), repeats) for k, p in probs.items()}
    nt = numba.get_num_threads()
    print(f"bench_hessian_noise: SGDLangevin(lr={LR}, dt={DT}), HessianNoise(B={BATCH}, floor={FLOOR}); "
          f"paths={args.paths} steps={args.steps} numba_threads={nt} (best of {repeats})")
    print(f"{'problem':<20}{'path-steps/s':>16}{'/ baseline':>12}")
    for k, v in rates.items():
        print(f"{k:<20}{v:>16.3e}{v / rates['baseline']:>12.3f}")
    speedups = {}
    for name in ("2d", "3d"):
        if f"{name}-closed" in rates:
            speedups[name] = rates[f"{name}-closed"] / rates[f"{name}-eigh"]
            print(f"{name}: closed form / eigh = {speedups[name]:.2f}")
    return {"rates": rates, "speedup": speedups, "threads": nt, "paths": args.paths, "steps": args.steps}


if __name__ == "__main__":
    main()
