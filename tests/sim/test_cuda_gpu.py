"""The fused kernels on a real GPU (``gpu`` marker; run with ``NUMBA_ENABLE_CUDASIM=0 pytest -m gpu
tests/sim/test_cuda_gpu.py``).  What only hardware shows: libdevice's transcendental functions
against the CPU's (each within 1–2 ulp: path-by-path agreement at round-off, same exits), memory
bounded by the chunk for a large ensemble, and moments of a large run against the exact scheme."""
import numpy as np
import pytest

pytestmark = pytest.mark.gpu
cuda = pytest.importorskip("numba.cuda")

import gpu_cases as G  # noqa: E402

from optdyn import sim  # noqa: E402
from optdyn.sim.backends.cuda_backend import simulator_active  # noqa: E402


@pytest.fixture(autouse=True)
def _device():
    if simulator_active() or not cuda.is_available():
        pytest.skip("needs a CUDA device and NUMBA_ENABLE_CUDASIM unset/0 in this process")


@pytest.mark.parametrize("case,dyn", G.assignments(), ids=lambda v: v if isinstance(v, str) else repr(v))
def test_gpu_matches_numba_cpu(case, dyn):
    prob = G.problem(case, dyn)
    dt = prob.dynamics.dt
    kw = dict(seed=5, n_record=256, save_times=[10 * dt, 20 * dt])
    gpu = sim.run_ensemble(prob, 256, 20 * dt, backend="torch:cuda", **kw)
    cpu = sim.run_ensemble(prob, 256, 20 * dt, rng="philox", **kw)
    np.testing.assert_array_equal(gpu.exit_step, cpu.exit_step)
    np.testing.assert_array_equal(gpu.diverged_step, cpu.diverged_step)
    np.testing.assert_allclose(gpu.trajectories, cpu.trajectories, rtol=1e-11, atol=1e-13)


def test_large_ensemble_summaries_match_exact_scheme_moments():
    """2**25 paths of SGD on a quadratic minimum as one call with summaries only (memory: one chunk),
    float32; the mean and variance at the last step within N_SE standard errors of the exact
    moments of the scheme (plus float32 rounding, ≪ the standard error here)."""
    from conftest import N_SE

    land = sim.QuadraticSaddle([1.0, 2.0])
    prob = sim.Problem(land, sim.WhiteNoise(1.0), sim.SGD(0.05), np.array([1.0, -1.0]))
    n = 2**25
    res = sim.run_ensemble(prob, n, 5.0, save_times=[5.0], backend="torch:cuda", precision="float32",
                           chunk_size=2**22, seed=1)
    assert res.exit_step is None and res.n_alive[0] == n
    mean, cov = sim.exact_scheme_moments(prob, res.steps)
    se = np.sqrt(np.diag(cov[0]) / n)
    assert np.all(np.abs(res.mean[0] - mean[0]) < N_SE * se)
    var_se = np.sqrt(2.0 / (n - 1)) * np.diag(cov[0])
    assert np.all(np.abs(np.diag(res.cov[0]) - np.diag(cov[0])) < N_SE * var_se)
    assert res.metadata["backend_stats"]["host_syncs"] <= 8 * (res.n_steps // 1024 + 1)
