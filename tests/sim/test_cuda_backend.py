"""The fused GPU kernels (sim/backends/cuda_backend.py) without a GPU: numba-cuda's simulator runs
them on the CPU (``backend="cuda-sim"``), every device function as its Python source.

* Path by path against the NumPy reference (``backend="numpy", rng="philox"``) for every registered
  dynamics example, spread over cases that reach every landscape, noise model and exit region
  (``gpu_cases.py``), and against the numba CPU kernel (``rng="philox"``) on three representative
  cases (all of them: ``slow``).  Tolerances as in test_dynamics_contract.py: the compiled sources
  and the NumPy reference differ in summation order (~1e-16 relative per operation), the Jacobi
  eigen-solver (GPU) and LAPACK (CPU) by ~1e-15; over ≤ 12 steps this stays far below RTOL = 1e-12
  (ATOL = 1e-14 near 0).
* Launch geometry, steps per launch and chunk size change nothing (exact equality).
* Host synchronisations: one per window of steps, counted by the backend.
* float32 against float64 within the bound derived from the scheme's roundings (SGD).

The simulator must be chosen before numba-cuda is first imported; this module turns it on at
import unless ``NUMBA_ENABLE_CUDASIM=0`` is set (GPU runs: ``test_cuda_gpu.py``)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def _activate_simulator() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "") == "0":
        return False
    pytest.importorskip("numba_cuda", reason="numba-cuda is not installed (optdyn[test] has it)")
    if "numba.cuda" not in sys.modules:
        import numba

        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        numba.config.reload_config()
    from optdyn.sim.backends.cuda_backend import simulator_active

    return simulator_active()


SIMULATOR = _activate_simulator()
pytestmark = pytest.mark.skipif(not SIMULATOR, reason="numba-cuda's simulator is not active in this process")

import gpu_cases as G  # noqa: E402

from optdyn import sim  # noqa: E402
from optdyn.sim.backends import registry  # noqa: E402

RTOL, ATOL = 1e-12, 1e-14
N_PATHS, N_STEPS = 6, 12


def _run(prob, backend, n_paths=N_PATHS, n_steps=N_STEPS, **kw):
    dt = prob.dynamics.dt
    kw.setdefault("save_times", [dt * (n_steps // 2), dt * n_steps])
    return sim.run_ensemble(prob, n_paths, n_steps * dt, seed=11, backend=backend, n_record=n_paths,
                            **({"rng": "philox"} if backend != "cuda-sim" else {}), **kw)


def _assert_same_paths(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    np.testing.assert_array_equal(a.exit_label, b.exit_label)
    np.testing.assert_array_equal(a.diverged_step, b.diverged_step)
    np.testing.assert_allclose(a.trajectories, b.trajectories, rtol=rtol, atol=atol)  # NaN == NaN
    np.testing.assert_array_equal(a.n_alive, b.n_alive)


@pytest.mark.parametrize("case,dyn", G.assignments(), ids=lambda v: v if isinstance(v, str) else repr(v))
def test_kernel_matches_numpy_reference(case, dyn):
    prob = G.problem(case, dyn)
    _assert_same_paths(_run(prob, "cuda-sim"), _run(prob, "numpy"))


REPRESENTATIVE = [("quadratic", sim.Adam(0.05, beta1=0.8, beta2=0.99)),
                  ("wells-local", sim.AdaiSDE(0.1, dt=0.03)),
                  ("curved", sim.SGDLangevin(0.1, dt=0.02))]


@pytest.mark.parametrize("case,dyn", REPRESENTATIVE, ids=[c for c, _ in REPRESENTATIVE])
def test_kernel_matches_numba_cpu(case, dyn):
    """The same Philox paths from the fused kernel (simulated) and the numba CPU kernel; the numba
    kernel also against the NumPy reference."""
    prob = G.problem(case, dyn)
    cpu = _run(prob, "numba")
    gpu = _run(prob, "cuda-sim")
    assert cpu.metadata["rng"] == gpu.metadata["rng"] == "philox" and gpu.metadata["backend"] == "cuda-sim"
    _assert_same_paths(gpu, cpu)
    _assert_same_paths(cpu, _run(prob, "numpy"))


@pytest.mark.slow
@pytest.mark.parametrize("case", list(G.CASES))
@pytest.mark.parametrize("dyn", [d for _, d in G.assignments()], ids=repr)
def test_kernel_matches_numba_cpu_everywhere(case, dyn):
    prob = G.problem(case, dyn)
    _assert_same_paths(_run(prob, "cuda-sim"), _run(prob, "numba"))


def _geometry(monkeypatch, **kw):
    module, cls, base = registry._REGISTRY["cuda-sim"]
    monkeypatch.setitem(registry._REGISTRY, "cuda-sim", (module, cls, {**base, **kw}))


def test_independent_of_geometry_launches_and_chunks(monkeypatch):
    """Threads per block, steps per launch and chunk size: bit-identical results."""
    prob = G.problem("quadratic", sim.SGD(0.2))
    kw = dict(n_paths=40, n_steps=150)
    ref = _run(prob, "cuda-sim", **kw)
    _geometry(monkeypatch, threads_per_block=7, steps_per_launch=64)
    other = _run(prob, "cuda-sim", chunk_size=1, **kw)
    for name in ("exit_step", "exit_label", "diverged_step", "n_alive", "mean", "cov", "trajectories"):
        np.testing.assert_array_equal(getattr(ref, name), getattr(other, name), err_msg=name)
    assert other.metadata["chunk_size"] == 1024  # rounded up to a block


def _counts(res):
    return {k: v for k, v in res.metadata["backend_stats"].items() if k != "kernel_s"}


def test_one_host_sync_per_window(monkeypatch):
    """No synchronisation inside the step loop: two launches (coefficients, steps) and one read of the
    alive count per window of ``steps_per_launch`` steps; the chunk stops at the first window after
    which no path is alive."""
    _geometry(monkeypatch, steps_per_launch=64)
    censored = _run(G.problem("quadratic", sim.SGD(0.01)), "cuda-sim", n_paths=4, n_steps=200)
    assert _counts(censored) == dict(launches=8, host_syncs=4, steps=200, chunks=1)
    # every path leaves the ball of radius 0.6 well before step 64: one window only
    fast = sim.Problem(sim.QuadraticSaddle([1.0, -0.5]), sim.WhiteNoise(3.0), sim.SGD(0.2), np.zeros(2),
                       exit=sim.BallExit(np.zeros(2), 0.6))
    res = _run(fast, "cuda-sim", n_paths=4, n_steps=300)
    assert res.escaped.all() and res.exit_step.max() < 64
    assert _counts(res) == dict(launches=2, host_syncs=1, steps=64, chunks=1)


def test_float32_within_derived_bound():
    r"""SGD on a quadratic with white noise, float32 against float64 with the same normals.

    The float32 run computes each expression in float64 (the sources' literals and parameters are
    float64) and rounds on every store: the gradient g, the normal z, the noise ξ = σz, g + ξ and
    x' (relative error u = 2⁻²⁴ each).  With the float64 run as reference (its own error ~2⁻⁵³) the
    local error of a step is, to first order in u,
    r_k ≤ u (|x_{k+1}| + η|∇L(x_k)| + 2ησ|z_k| + η|g_k + ξ_k|) per coordinate, and the difference
    propagates through the exact linear map: e_{k+1} ≤ ρ e_k + r_k in the ∞-norm with
    ρ = ‖I − ηH‖_∞ (the float32 start is exact).  Second-order terms (u², u·e, the float64
    roundings) are below 1 % of these: the bound is taken 1.01 × that recursion.
    """
    land = sim.QuadraticSaddle([1.0, 0.3], rotation=sim.random_rotation(2, 4))
    lr, sigma = 0.1, 0.5
    prob = sim.Problem(land, sim.WhiteNoise(sigma), sim.SGD(lr), np.array([0.5, -0.25]))
    n_steps = 60
    r64 = _run(prob, "cuda-sim", n_paths=8, n_steps=n_steps)
    r32 = _run(prob, "cuda-sim", n_paths=8, n_steps=n_steps, precision="float32")
    assert r32.metadata["precision"] == "float32" and r64.metadata["precision"] == "float64"
    x = r64.trajectories  # (paths, steps + 1, dim)
    z = np.stack([sim.backends.philox.PhiloxStreams(11, 0, 8).normals(k, 2) for k in range(1, n_steps + 1)], 1)
    h = land.hessian(np.zeros(2))
    grad = np.einsum("ij,pkj->pki", h, x[:, :-1])
    u = 2.0**-24
    local = u * (np.abs(x[:, 1:]) + lr * np.abs(grad) + 2 * lr * sigma * np.abs(z)
                 + lr * np.abs(grad + sigma * z)).max(axis=2)  # (paths, steps)
    rho = np.abs(np.eye(2) - lr * h).sum(axis=1).max()
    bound = np.zeros((8, n_steps + 1))
    for k in range(n_steps):
        bound[:, k + 1] = rho * bound[:, k] + local[:, k]
    err = np.abs(r32.trajectories - x).max(axis=2)
    assert np.all(err <= 1.01 * bound), (err / np.maximum(bound, 1e-300)).max()
    assert err.max() > 0  # float32 really rounds


def test_jacobi_eigh_matches_lapack(rng):
    from optdyn.sim.backends.cuda_backend import JACOBI_SWEEPS, jacobi_eigh

    for n in (2, 3, 5):
        for _ in range(5):
            b = rng.standard_normal((n, n))
            a = b + b.T
            w, v = a.copy(), np.empty((n, n))
            jacobi_eigh(w, v, JACOBI_SWEEPS)
            lam = np.diag(w)
            np.testing.assert_allclose(np.sort(lam), np.linalg.eigvalsh(a), rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(v @ np.diag(lam) @ v.T, a, atol=1e-13)
            np.testing.assert_allclose(v.T @ v, np.eye(n), atol=1e-14)


def test_bad_requests():
    prob = G.problem("quadratic", sim.SGD(0.05))
    with pytest.raises(ValueError, match="rng"):
        sim.run_ensemble(prob, 4, 1.0, backend="cuda-sim", rng="xoshiro")
    with pytest.raises(ValueError, match="precision"):
        sim.run_ensemble(prob, 4, 1.0, backend="cuda-sim", precision="float16")
    with pytest.raises(RuntimeError, match="CUDA"):
        sim.run_ensemble(prob, 4, 1.0, backend="torch:cuda")
    with pytest.raises(ValueError, match="rng"):
        sim.run_ensemble(prob, 4, 1.0, backend="torch", rng="philox")
    with pytest.raises(ValueError, match="t_max.*Philox"):  # the step is one 32-bit counter word
        sim.run_ensemble(prob, 4, 0.05 * 2**32, backend="numpy", rng="philox")


def test_summaries_only_on_the_fused_path():
    """``keep_paths=False``: the same moments and escape counts as the full result."""
    prob = G.problem("quadratic", sim.SGD(0.2))
    full = _run(prob, "cuda-sim", n_paths=30, n_steps=40)
    summ = _run(prob, "cuda-sim", n_paths=30, n_steps=40, keep_paths=False)
    assert summ.exit_step is None and summ.summary() == full.summary()
    np.testing.assert_allclose(summ.mean, full.mean, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(summ.cov, full.cov, rtol=1e-13, atol=1e-16)


_PTX_SCRIPT = """
import sys
try:
    from cuda.bindings import nvrtc
    assert nvrtc.nvrtcVersion()[0] == nvrtc.nvrtcResult.NVRTC_SUCCESS
    from numba.cuda.cudadrv import nvvm
    nvvm.NVVM()
except Exception as exc:
    print("no NVVM/NVRTC:", exc); sys.exit(77)
sys.path.insert(0, {here!r})
import gpu_cases as G
from optdyn import sim
from optdyn.sim.backends.cuda_backend import compile_ptx
for case, dyn, prec in {cases}:
    ptx = compile_ptx(G.problem(case, dyn), prec)
    assert ".target sm_90" in ptx and ".entry" in ptx, case
print("compiled", len({cases}))
"""


def _compile_ptx(cases_expr: str):
    """Compile kernels to PTX for sm_90 in a fresh process (the real CUDA target, no device)."""
    code = _PTX_SCRIPT.format(here=str(Path(__file__).parent), cases=cases_expr)
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=1200)
    if out.returncode == 77:
        pytest.skip(out.stdout.strip())
    assert out.returncode == 0, out.stderr[-3000:]


def test_kernels_compile_to_ptx():
    """What the simulator cannot show: the device functions lower for a real GPU (libdevice math,
    the scalar ufuncs added for numba-cuda, local arrays, the Jacobi replacement)."""
    _compile_ptx("[('curved', sim.AdamSDE(0.1, beta1=0.8, dt=0.03), 'float32')]")


@pytest.mark.slow
def test_every_kernel_compiles_to_ptx():
    _compile_ptx("[(c, d, p) for c, d in G.assignments() for p in ('float64', 'float32')]")


def test_benchmark_gpu_branch_runs_in_the_simulator(capsys):
    """benchmarks/bench_gpu.py's GPU branch (tiny sizes, the simulator as device; no torch CUDA, so
    no plain-loop column): it runs and reports one row per case and precision."""
    import argparse

    from optdyn.benchmarks import bench_gpu

    args = argparse.Namespace(paths=[40], steps=4, chunk=1024, plain_max=0, budget=120.0, bw_elems=1 << 12,
                              backend="cuda-sim")
    assert bench_gpu.gpu_main(args) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(("SGD SDE", "Adam", "AdaiSDE"))]
    assert len(rows) == 6 and all("e+" in r for r in rows)


def test_several_chunks_same_as_one():
    """Chunks of 1024 paths (device buffers reused, the last chunk shorter) against one chunk."""
    prob = G.problem("quadratic", sim.SGD(0.2))
    one = _run(prob, "cuda-sim", n_paths=2100, n_steps=3, chunk_size=4096)
    three = _run(prob, "cuda-sim", n_paths=2100, n_steps=3, chunk_size=1024)
    assert three.metadata["backend_stats"]["chunks"] == 3
    for name in ("exit_step", "exit_label", "diverged_step", "n_alive", "mean", "cov", "trajectories"):
        np.testing.assert_array_equal(getattr(one, name), getattr(three, name), err_msg=name)
