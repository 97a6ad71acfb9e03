"""Start-up cost of an ensemble in a fresh process: cold (compiling) vs warm (from the disk cache).

For each combination (2-D quadratic saddle, Hessian noise; the SGD SDE, discrete Adam, the Adai SDE)
the benchmark spawns fresh Python processes with an empty cache folder of its own:

1. ``off``  — ``OPTDYN_CACHE=0``: every process compiles (what every process paid before the cache);
2. ``cold`` — the first process with the cache on: compiles and writes the entry;
3. ``warm`` — the next fresh process: loads the entry (best of ``--repeats``).

It reports, per combination, the seconds from the call of the first :func:`optdyn.sim.run_ensemble`
to its return (the import of ``optdyn.sim`` is reported apart), and the ratios warm/off and
cold/off measured in the same run.  Target (issue 10): warm ≤ 0.5 s.

Usage: ``python -m benchmarks.bench_startup [--quick] [--repeats N]``.  Timings are reported,
never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

__all__ = ["main", "first_run_seconds"]

#: The code each fresh process runs: import, build the problem, time the first ensemble.
_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import optdyn.sim as sim
t1 = time.perf_counter()
which = sys.argv[1]
dyn = {"sgd-sde": sim.SGDLangevin(0.05), "adam": sim.Adam(0.05), "adai-sde": sim.AdaiSDE(0.05)}[which]
prob = sim.Problem(sim.QuadraticSaddle([2.0, -1.0]), sim.HessianNoise(1.0), dyn, x0=np.zeros(2))
t2 = time.perf_counter()
res = sim.run_ensemble(prob, 1024, 0.5, save_times=[0.5], seed=0, progress=False)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_run": t3 - t2, "checksum": float(res.cov[-1].sum())}))
"""

COMBINATIONS = ("sgd-sde", "adam", "adai-sde")


def first_run_seconds(which: str, cache_dir: str, cache_on: bool = True) -> dict:
    """Spawn a fresh interpreter that runs one small ensemble of ``which``; its timings."""
    env = dict(os.environ, OPTDYN_CACHE_DIR=cache_dir, OPTDYN_CACHE="1" if cache_on else "0")
    out = subprocess.run([sys.executable, "-c", _CHILD, which], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="the SGD SDE only, one warm repeat")
    p.add_argument("--repeats", type=int, default=3, help="warm processes per combination (best of)")
    args = p.parse_args(argv)
    combos = COMBINATIONS[:1] if args.quick else COMBINATIONS
    repeats = 1 if args.quick else max(1, args.repeats)
    rows = {}
    print(f"{'combination':<10} {'import':>7} {'off':>7} {'cold':>7} {'warm':>7} {'warm/off':>9} {'cold/off':>9}")
    for which in combos:
        with tempfile.TemporaryDirectory(prefix="optdyn-bench-cache-") as d:
            off = first_run_seconds(which, d, cache_on=False)
            cold = first_run_seconds(which, d)
            warms = [first_run_seconds(which, d) for _ in range(repeats)]
        warm = min(warms, key=lambda r: r["first_run"])
        same = all(w["checksum"] == cold["checksum"] == off["checksum"] for w in warms)
        rows[which] = {"import": warm["import"], "off": off["first_run"], "cold": cold["first_run"],
                       "warm": warm["first_run"], "same_numbers": same}
        r = rows[which]
        print(f"{which:<10} {r['import']:7.2f} {r['off']:7.2f} {r['cold']:7.2f} {r['warm']:7.2f} "
              f"{r['warm'] / r['off']:9.3f} {r['cold'] / r['off']:9.3f}" + ("" if same else "  NUMBERS DIFFER"))
    print("seconds of the first run_ensemble in a fresh process; 'import' is `import optdyn.sim`")
    return rows


if __name__ == "__main__":
    main()
