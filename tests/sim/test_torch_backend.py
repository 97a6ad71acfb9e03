"""The torch backend: identical random numbers and updates to the NumPy reference, float32 and
float64, chunk-size independence, clear errors, and no torch import from ``import sim``."""
import subprocess
import sys

import numpy as np
import pytest

from optdyn import sim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _saddle_problem(dynamics, exit=None):
    land = sim.QuadraticSaddle([1.0, -0.5, 2.0], rotation=sim.random_rotation(3, 1))
    return sim.Problem(land, sim.HessianNoise(1.0), dynamics, np.zeros(3), exit=exit)


def test_import_sim_does_not_import_torch():
    code = "import sys, optdyn.sim as sim; sim.run_ensemble; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_streams_identical_to_numpy_reference():
    """Integer streams and ziggurat normals bit for bit (torch does the fast path on tensors and
    hands rejected draws to the same compiled slow path as the NumPy reference and the kernels),
    through enough draws that the wedge and tail paths occur."""
    from optdyn.sim.backends.rng import ZIGGURAT_R, PathStreams
    from optdyn.sim.backends.torch_backend import TorchPathStreams

    tails = slow = 0
    for seed, start, n in [(0, 0, 7), (12345, 1000, 5), (2**62 + 3, 17, 3), (7, 0, 4001),
                           (2**40, 10**9, 3000)]:
        a, b = PathStreams(seed, start, n), TorchPathStreams(seed, start, n, "cpu")
        for _ in range(3):
            np.testing.assert_array_equal(a.next_u64(), b.next_u64().numpy().view(np.uint64))
        for k in (3, 2, 5, 1):
            za = a.normals(k)
            np.testing.assert_array_equal(b.normals(k, torch.float64).numpy(), za)
            tails += int(np.count_nonzero(np.abs(za) > ZIGGURAT_R))
        assert a.n_slow == b.n_slow
        slow += a.n_slow
        np.testing.assert_array_equal(a.next_u64(), b.next_u64().numpy().view(np.uint64))
    assert tails > 0 and slow > tails  # tail and wedge paths both exercised


@pytest.mark.parametrize("dynamics", [sim.SGD(0.05), sim.SGDLangevin(0.1, dt=0.01)], ids=repr)
@pytest.mark.parametrize("exit_kind", ["none", "ball", "slab", "halfspace"])
def test_torch_matches_numpy_reference_path_by_path(dynamics, exit_kind):
    land = sim.QuadraticSaddle([1.0, -0.5, 2.0], rotation=sim.random_rotation(3, 1))
    exit = {"none": None, "ball": sim.BallExit(np.zeros(3), 1.0),
            "slab": sim.SlabExit(np.zeros(3), land.rotation[:, 1], 1.0),
            "halfspace": sim.HalfSpaceExit([1.0, 0.0, 0.0], 0.4)}[exit_kind]
    prob = sim.Problem(land, sim.HessianNoise(1.0), dynamics, np.zeros(3), exit=exit)
    kw = dict(save_times=[0.0, 1.0, 2.0], seed=4, n_record=2, record_every=5, store_samples=True)
    ref = sim.run_ensemble(prob, 1500, 3.0, backend="numpy", **kw)
    tor = sim.run_ensemble(prob, 1500, 3.0, backend="torch", **kw)
    np.testing.assert_array_equal(ref.exit_step, tor.exit_step)
    np.testing.assert_array_equal(ref.exit_label, tor.exit_label)
    # same random numbers and the same formulas: agreement to round-off
    np.testing.assert_allclose(tor.samples, ref.samples, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tor.trajectories, ref.trajectories, rtol=0, atol=1e-12)
    assert tor.metadata["precision"] == "float64" and tor.metadata["backend"] == "torch:cpu"


def test_float32_agrees_with_float64_to_single_precision():
    prob = _saddle_problem(sim.SGDLangevin(0.1, dt=0.01))
    kw = dict(save_times=[1.0, 2.0], seed=2, store_samples=True)
    r64 = sim.run_ensemble(prob, 1000, 2.0, backend="torch", **kw)
    r32 = sim.run_ensemble(prob, 1000, 2.0, backend="torch", precision="float32", **kw)
    assert r32.metadata["precision"] == "float32"
    # 200 steps of O(1) values: accumulated float32 round-off ≲ 200 · 6e-8 relative
    scale = np.abs(r64.samples).max()
    assert np.abs(r32.samples - r64.samples).max() <= 200 * np.finfo(np.float32).eps * scale


def test_torch_chunk_size_independent():
    prob = _saddle_problem(sim.SGDLangevin(0.1, dt=0.01), sim.BallExit(np.zeros(3), 1.0))
    a = sim.run_ensemble(prob, 2500, 1.5, save_times=[1.0], seed=9, backend="torch", chunk_size=1024)
    b = sim.run_ensemble(prob, 2500, 1.5, save_times=[1.0], seed=9, backend="torch", chunk_size=4096)
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    np.testing.assert_array_equal(a.cov, b.cov)


def test_torch_and_numba_statistics_agree():
    """Same streams, same maths: numba and torch agree path by path, so their statistics do too."""
    prob = _saddle_problem(sim.SGDLangevin(0.1, dt=0.01), sim.BallExit(np.zeros(3), 1.0))
    a = sim.run_ensemble(prob, 1500, 3.0, save_times=[1.0], seed=5, backend="numba")
    b = sim.run_ensemble(prob, 1500, 3.0, save_times=[1.0], seed=5, backend="torch")
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-12, atol=1e-15)


def test_diverging_paths_counted_on_torch():
    land = sim.QuadraticSaddle([30.0])
    prob = sim.Problem(land, sim.WhiteNoise(1.0), sim.SGD(0.1), [0.0])  # |1 - ηH| = 2: diverges
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = sim.run_ensemble(prob, 50, 200.0, save_times=[200.0], backend="torch")
    assert res.n_diverged == 50 and res.n_alive[-1] == 0


def test_bad_backend_requests():
    prob = _saddle_problem(sim.SGD(0.05))
    with pytest.raises(ValueError, match="precision"):
        sim.run_ensemble(prob, 10, 1.0, backend="torch", precision="float16")
    with pytest.raises(ValueError, match="float64 only"):
        sim.run_ensemble(prob, 10, 1.0, backend="numba", precision="float32")
    if not torch.cuda.is_available():  # the fused GPU backend: no device, or numba-cuda missing
        with pytest.raises((RuntimeError, ImportError), match="(?i)cuda"):
            sim.run_ensemble(prob, 10, 1.0, backend="torch:cuda")


@pytest.mark.gpu
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    """``torch:cuda`` is the fused path (Philox streams): compared with the numba kernel on the same
    streams (the op-by-op torch backend is the CPU reference of the xoshiro streams)."""
    prob = _saddle_problem(sim.SGDLangevin(0.1, dt=0.01), sim.BallExit(np.zeros(3), 1.0))
    a = sim.run_ensemble(prob, 4096, 3.0, save_times=[1.0], seed=1, rng="philox")
    b = sim.run_ensemble(prob, 4096, 3.0, save_times=[1.0], seed=1, backend="torch:cuda")
    np.testing.assert_array_equal(a.exit_step, b.exit_step)
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-10)

# Every registered dynamics on torch against the numba kernel: test_dynamics_contract.py.
