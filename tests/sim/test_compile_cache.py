"""The disk cache of compiled kernels: hits in a fresh process, the same numbers, never a kernel for
other code (content keys), invalidated by any change of the package."""
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from optdyn import sim
from optdyn.sim.backends import compile_cache as cc
from optdyn.sim.backends.numba_backend import kernel_for, make_ensemble_kernel

pytestmark = pytest.mark.skipif(cc.JIT_DISABLED, reason="no compilation under NUMBA_DISABLE_JIT")


def _problem(dyn, dim=2, exit=None):
    land = sim.QuadraticSaddle([2.0, -1.0, 0.5][:dim])
    return sim.Problem(land, sim.HessianNoise(1.0), dyn, x0=np.zeros(dim), exit=exit)


def test_content_keys_tell_combinations_apart():
    """Every ingredient that changes the compiled code changes the key; the same combination (with
    other numbers in its parameter arrays) keeps it."""
    keys = {
        "sgd2": cc.content_key(kernel_for(_problem(sim.SGDLangevin(0.1)))),
        "sgd2-other-lr": cc.content_key(kernel_for(_problem(sim.SGDLangevin(0.3, dt=0.01)))),
        "sgd3": cc.content_key(kernel_for(_problem(sim.SGDLangevin(0.1), dim=3))),
        "sgd-discrete": cc.content_key(kernel_for(_problem(sim.SGD(0.1)))),
        "adam": cc.content_key(kernel_for(_problem(sim.Adam(0.1)))),
        "sgd2-ball": cc.content_key(kernel_for(_problem(sim.SGDLangevin(0.1),
                                                         exit=sim.BallExit([0.0, 0.0], 2.0)))),
    }
    assert keys["sgd2"] == keys["sgd2-other-lr"]
    others = [k for name, k in keys.items() if name != "sgd2-other-lr"]
    assert len(set(others)) == len(others)


def _user_module(tmp_path, name, factor):
    src = textwrap.dedent(f"""
        import numba
        SCALE = {factor}
        @numba.njit(inline="always")
        def grad(x, p, out):
            for i in range(x.shape[0]):
                out[i] = SCALE * x[i]
        def make(g):
            @numba.njit
            def kernel(x, out):
                g(x, 0, out)
            return kernel
    """)
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    sys.path.insert(0, str(tmp_path))
    try:
        mod = __import__(name)
    finally:
        sys.path.remove(str(tmp_path))
    return mod


def test_user_code_outside_the_package_is_keyed_by_its_source(tmp_path):
    """A user's compiled function: a change of its source (here a global constant) changes the key."""
    a = _user_module(tmp_path, "optdyn_cc_user_a", 1.0)
    b = _user_module(tmp_path, "optdyn_cc_user_b", 2.0)
    ka, kb = cc.content_key(a.make(a.grad)), cc.content_key(b.make(b.grad))
    assert ka != kb
    assert cc.content_key(a.make(a.grad)) == ka


def test_undescribable_closures_are_not_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTDYN_CACHE_DIR", str(tmp_path))
    table = {"a": 1}

    @numba.njit
    def f():
        return 1

    def make():
        @numba.njit
        def g():
            return f() + len(table)
        return g

    g = make()
    with pytest.raises(cc.Uncachable):
        cc.content_key(g)
    assert cc.enable_disk_cache(g) is False
    monkeypatch.setenv("OPTDYN_CACHE", "0")
    fresh = make_ensemble_kernel.__wrapped__(*_kernel_args(_problem(sim.SGDLangevin(0.1))))
    assert cc.enable_disk_cache(fresh) is False  # the cache is off


def _kernel_args(prob):
    dyn, bound = prob.dynamics, prob.noise.bind(prob.landscape)
    return (type(dyn).make_step(prob.landscape.numba_functions().gradient, bound.apply),
            type(dyn).make_step_coefficients(), type(prob.exit).numba_label(), prob.dim, 0,
            prob.dim, 0, 1)


def test_package_fingerprint_follows_every_source_file(monkeypatch, tmp_path):
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(cc, "_PACKAGE_ROOT", tmp_path)
    cc.package_fingerprint.cache_clear()
    try:
        first = cc.package_fingerprint()
        (tmp_path / "sim" / "a.py").write_text("x = 2\n")
        cc.package_fingerprint.cache_clear()
        second = cc.package_fingerprint()
        assert first != second
        monkeypatch.setenv("OPTDYN_CACHE_DIR", str(tmp_path / "cache"))
        assert cc.cache_dir().name == f"numba-{second[:20]}"
    finally:
        monkeypatch.undo()
        cc.package_fingerprint.cache_clear()


_CHILD = """
import numpy as np, optdyn.sim as sim
from optdyn.sim.backends import numba_backend as nb
prob = sim.Problem(sim.QuadraticSaddle([2.0, -1.0]), sim.HessianNoise(1.0), sim.SGD(0.05), x0=np.zeros(2),
                   exit=sim.BallExit([0.0, 0.0], 0.3))
res = sim.run_ensemble(prob, 300, 2.0, save_times=[0.5, 2.0], seed=3, progress=False)
hits = sum(nb.kernel_for(prob).stats.cache_hits.values())
print(hits, repr(res.cov.tobytes().hex()[:64]), int(res.exit_step.sum()))
"""


def test_a_fresh_process_loads_the_kernel_and_gets_the_same_numbers(tmp_path):
    env = dict(os.environ, OPTDYN_CACHE_DIR=str(tmp_path), OPTDYN_CACHE="1")
    runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == "0" and int(runs[1][0]) >= 1  # compiled, then loaded
    assert runs[0][1:] == runs[1][1:]
    assert any(p.suffix == ".nbc" for p in tmp_path.rglob("*"))


_CHILD_EXITS = """
import sys, numpy as np, optdyn.sim as sim
exits = {"none": sim.NoExit(), "ball": sim.BallExit([0.0, 0.0], 0.3)}
for name in sys.argv[1:]:
    prob = sim.Problem(sim.QuadraticSaddle([2.0, -1.0]), sim.HessianNoise(1.0), sim.SGD(0.05), x0=np.zeros(2),
                       exit=exits[name])
    print(name, int(sim.run_ensemble(prob, 300, 2.0, seed=3, progress=False).escaped.sum()))
"""


def test_kernels_compiled_in_different_processes_load_together(tmp_path):
    """Two kernels compiled in two processes, loaded into a third, each run their own code: numba's
    per-process symbol counter once made the second loaded kernel call the first one's functions."""
    env = dict(os.environ, OPTDYN_CACHE_DIR=str(tmp_path), OPTDYN_CACHE="1")

    def run(*names):
        out = subprocess.run([sys.executable, "-c", _CHILD_EXITS, *names], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        return dict(zip(out[::2], map(int, out[1::2])))

    alone = {**run("ball"), **run("none")}  # each compiled in its own process
    assert alone["none"] == 0 and alone["ball"] > 0
    assert run("none", "ball") == alone and run("ball", "none") == alone  # both loaded from the cache
