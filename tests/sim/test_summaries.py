"""Summaries-only runs (``run_ensemble(..., keep_paths=False)``, sim/summaries.py): the same moments
(to round-off: a different summation tree) and exactly the same escape statistics as the per-path
result, bit-identical for every chunk size, and no per-path array.  The NumPy backend keeps these
tests free of compilation; the summaries are computed by run_ensemble for every backend."""
import numpy as np
import pytest

from optdyn import sim
from optdyn.sim import summaries

LAND = sim.QuadraticSaddle([1.0, -0.5], rotation=sim.random_rotation(2, 1))
PROB = sim.Problem(LAND, sim.HessianNoise(1.0), sim.SGD(0.1), np.zeros(2), exit=sim.BallExit(np.zeros(2), 0.5))
KW = dict(save_times=[0.0, 0.5, 1.5, 3.0], seed=4, backend="numpy")
N = 2500  # three reduction blocks, the last one partial


def test_summaries_match_full_result():
    full = sim.run_ensemble(PROB, N, 3.0, **KW)
    summ = sim.run_ensemble(PROB, N, 3.0, keep_paths=False, **KW)
    assert summ.exit_step is None and summ.exit_label is None and summ.diverged_step is None
    assert summ.n_paths == N and summ.summary() == full.summary()
    np.testing.assert_array_equal(summ.n_alive, full.n_alive)
    np.testing.assert_allclose(summ.mean, full.mean, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(summ.cov, full.cov, rtol=1e-12, atol=1e-16)
    e, t = summ.escape_summary, full.escape_times[full.escaped]
    assert e["escaped"] == t.size > 100
    assert e["exit_step_sum"] == int(full.exit_step[full.escaped].sum())
    assert e["exit_step_min"] == full.exit_step[full.escaped].min()
    assert e["exit_step_max"] == full.exit_step[full.escaped].max()
    np.testing.assert_allclose(e["escape_time_mean"], t.mean(), rtol=1e-14)
    np.testing.assert_allclose(e["escape_time_std"], t.std(ddof=1), rtol=1e-12)
    assert sum(e["exit_step_histogram"]) == t.size
    with pytest.raises(ValueError, match="keep_paths"):
        summ.escape_times


def test_summaries_independent_of_chunk_size():
    a = sim.run_ensemble(PROB, N, 3.0, keep_paths=False, chunk_size=1024, **KW)
    b = sim.run_ensemble(PROB, N, 3.0, keep_paths=False, chunk_size=5000, **KW)
    for name in ("n_alive", "mean", "cov"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.escape_summary == b.escape_summary


def test_default_switches_to_summaries_beyond_the_limit(monkeypatch):
    monkeypatch.setattr("optdyn.sim.ensemble.KEEP_PATHS_LIMIT", 100)
    assert sim.run_ensemble(PROB, 101, 3.0, **KW).exit_step is None
    assert sim.run_ensemble(PROB, 100, 3.0, **KW).exit_step.shape == (100,)
    assert sim.run_ensemble(PROB, 101, 3.0, keep_paths=True, **KW).exit_step.shape == (101,)
    assert sim.run_ensemble(PROB, 101, 3.0, store_samples=True, **KW).exit_step.shape == (101,)
    with pytest.raises(ValueError, match="store_samples"):
        sim.run_ensemble(PROB, 10, 3.0, keep_paths=False, store_samples=True, **KW)


def test_saved_and_loaded(tmp_path):
    summ = sim.run_ensemble(PROB, 300, 3.0, keep_paths=False, **KW)
    back = sim.EnsembleResult.load(summ.save(tmp_path / "r"))
    assert back.exit_step is None and back.escape_summary == summ.escape_summary
    assert back.summary() == summ.summary()


def test_moment_tree_is_exact_on_integers():
    """Chan's update along the tree reproduces the two-pass moments of integer data exactly."""
    rng = np.random.default_rng(3)
    data = rng.integers(-50, 50, size=(7, 16, 1, 2)).astype(float)  # 7 blocks of 16
    tree = summaries.MomentTree()
    for block in data:
        tree.push(np.full(1, 16.0), block.mean(axis=0), np.einsum("pti,ptj->tij", block - block.mean(0), block - block.mean(0)))
    n, mean, cov = tree.result()
    flat = data.reshape(-1, 2)
    assert n[0] == flat.shape[0]
    np.testing.assert_allclose(mean[0], flat.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(cov[0], np.cov(flat.T), rtol=1e-13)
