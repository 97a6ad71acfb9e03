"""Two kernels compiled in *different* processes and loaded from the disk cache into one process must
not share machine-code symbol names (numba names a compiled function ``qualname$uid`` with a
per-process counter: without a process-unique start, the second library loaded links against the
first one's functions and runs the wrong kernel — all paths "diverged", or exits never detected)."""
import os
import subprocess
import sys
import textwrap

import pytest

from optdyn.sim._jit import JIT_DISABLED

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from optdyn import sim
    land = sim.QuadraticSaddle([2.0, 0.5, -1.0])
    prob = sim.Problem(land, sim.HessianNoise(1.0), sim.SGDLangevin(0.05, dt=0.01), np.zeros(3))
    exit = sim.SlabExit(np.zeros(3), [0.0, 0.0, 1.0], half_width=1.0)
    for which in sys.argv[1:]:
        if which == "plain":
            r = sim.run_ensemble(prob, 64, 1.0, save_times=[1.0], seed=0)
            print("plain", r.n_diverged, float(r.cov[0, 2, 2]))
        else:
            r = sim.run_ensemble(prob.replace(exit=exit), 64, 20.0, seed=1)
            print("exit", int(r.escaped.sum()), int(r.exit_step.sum()))
""")


def _run(args, env):
    out = subprocess.run([sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split("\n")


@pytest.mark.skipif(JIT_DISABLED, reason="no compiled kernels without the JIT")
def test_kernels_cached_by_different_processes_load_together(tmp_path):
    env = dict(os.environ, OPTDYN_CACHE_DIR=str(tmp_path), NUMBA_NUM_THREADS="1")
    reference = _run(["plain", "exit"], dict(env, OPTDYN_CACHE="0"))
    _run(["plain"], env)  # process 1 compiles and caches the kernel without exit
    _run(["exit"], env)  # process 2 compiles and caches the kernel with the slab exit
    assert _run(["plain", "exit"], env) == reference  # process 3 loads both from the cache
