"""Path ranges on run_ensemble and the exact merge of results (sim.merge), launch sizes and Ctrl-C."""
import dataclasses
import signal

import numpy as np
import pytest

from optdyn import sim
from optdyn.sim import (BLOCK, SGD, BallExit, HessianNoise, Problem, QuadraticSaddle, load_result, merge,
                        random_rotation, run_ensemble)
from optdyn.sim.launches import LaunchPlan

LAND = QuadraticSaddle([1.0, -0.5], rotation=random_rotation(2, seed=3))
PROB = Problem(LAND, HessianNoise(batch_size=4.0, floor=0.05), SGD(0.1), [0.1, -0.05],
               exit=BallExit([0.0, 0.0], 0.8))
KW = dict(save_times=[0.0, 2.5, 1.0, 2.5], seed=5, store_samples=True)
N, T = 3 * BLOCK + 100, 5.0


def _assert_identical(a, b):
    """Bit for bit: every array of the result (NaN where NaN)."""
    for name in ("times", "steps", "n_alive", "mean", "cov", "exit_step", "exit_label", "diverged_step",
                 "samples", "block_count", "block_mean", "block_m2"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    assert (a.n_paths, a.path_start, a.dt, a.n_steps) == (b.n_paths, b.path_start, b.dt, b.n_steps)


@pytest.fixture(scope="module")
def whole():
    return run_ensemble(PROB, N, T, **KW)


def test_ranges_merge_bit_for_bit(whole):
    cuts = [0, BLOCK, 3 * BLOCK, N]
    pieces = [run_ensemble(PROB, hi - lo, T, path_start=lo, chunk_size=BLOCK, **KW)
              for lo, hi in zip(cuts, cuts[1:])]
    assert 0 < np.count_nonzero(whole.escaped) < N  # escapes and censoring both present
    for p, lo in zip(pieces, cuts):  # a range holds exactly those paths of the whole run
        assert p.path_start == lo
        assert np.array_equal(p.exit_step, whole.exit_step[lo:lo + p.n_paths])
    merged = merge(pieces[::-1])  # any order: merged in path order
    _assert_identical(merged, whole)
    assert merged.metadata["merged_from"] == 3 and merged.metadata["n_paths"] == N


def test_merge_of_saved_pieces(tmp_path, whole):
    a = run_ensemble(PROB, 2 * BLOCK, T, **KW)
    b = run_ensemble(PROB, N - 2 * BLOCK, T, path_start=2 * BLOCK, **KW)
    _assert_identical(merge([load_result(a.save(tmp_path / "a")), load_result(b.save(tmp_path / "b"))]), whole)


def test_merge_rejects_what_is_not_one_run(whole):
    a = run_ensemble(PROB, BLOCK, T, **KW)
    with pytest.raises(ValueError, match="overlap"):
        merge([a, a])
    with pytest.raises(ValueError, match="gap"):
        merge([a, run_ensemble(PROB, BLOCK, T, path_start=2 * BLOCK, **KW)])
    with pytest.raises(ValueError, match="seed"):
        merge([a, run_ensemble(PROB, BLOCK, T, path_start=BLOCK, **{**KW, "seed": 6})])
    with pytest.raises(ValueError, match="multiple of BLOCK"):  # hand-made: run_ensemble aligns path_start
        merge([run_ensemble(PROB, 100, T, **KW), dataclasses.replace(a, path_start=100)])
    with pytest.raises(ValueError, match="at least one"):
        merge([])


@pytest.mark.parametrize("bad, match", [(dict(path_start=-1024), "path_start"), (dict(path_start=100), "multiple"),
                                        (dict(path_start=BLOCK, n_record=2), "n_record")])
def test_bad_path_start(bad, match):
    with pytest.raises(ValueError, match=match):
        run_ensemble(PROB, 10, T, **bad)


def test_launch_plan_covers_paths_in_whole_blocks():
    for adapt in (True, False):
        ranges = list(LaunchPlan(10 * BLOCK + 7, 4 * BLOCK, BLOCK, adapt=adapt, target_s=1e-9))
        assert ranges[0][0] == 0 and ranges[-1][1] == 10 * BLOCK + 7
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
        assert all((hi - lo) % BLOCK == 0 and hi - lo <= 4 * BLOCK for lo, hi in ranges[:-1])
    # adapting to a tiny target keeps launches at one block (the finest progress and Ctrl-C)
    assert {hi - lo for lo, hi in LaunchPlan(5 * BLOCK, 4 * BLOCK, BLOCK, target_s=1e-9)} == {BLOCK}


def _count_launches(monkeypatch):
    from optdyn.sim.backends.numba_backend import NumbaBackend

    sizes, real = [], NumbaBackend.simulate_chunk

    def counted(self, problem, noise, path_start, out, *a):
        sizes.append(out.exit_step.size)
        return real(self, problem, noise, path_start, out, *a)

    monkeypatch.setattr(NumbaBackend, "simulate_chunk", counted)
    return sizes


def test_result_independent_of_launch_sizes(whole, monkeypatch):
    """Launches of one block each (the adaptive plan's finest) give the same bits as one big chunk."""
    monkeypatch.setattr(sim.launches, "TARGET_S", 1e-9)
    sizes = _count_launches(monkeypatch)
    small = run_ensemble(PROB, N, T, **KW)
    assert sizes == [BLOCK, BLOCK, BLOCK, 100]
    _assert_identical(small, whole)


def test_ctrl_c_returns_partial_result(whole, monkeypatch):
    """SIGINT during a run: the launches that finished come back, marked partial, and merge on."""
    # a shell's background job inherits SIGINT ignored: restore Python's handler (Ctrl-C -> KeyboardInterrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from optdyn.sim.backends.numba_backend import NumbaBackend

    calls = []
    real = NumbaBackend.simulate_chunk

    def slow_after_two(self, *a, **k):
        real(self, *a, **k)
        calls.append(1)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # as if Ctrl-C came during the second launch

    monkeypatch.setattr(NumbaBackend, "simulate_chunk", slow_after_two)
    with pytest.warns(RuntimeWarning, match="partial"):
        part = run_ensemble(PROB, N, T, chunk_size=BLOCK, **KW)
    assert part.metadata["partial"] and part.metadata["n_paths_requested"] == N
    assert part.n_paths in (BLOCK, 2 * BLOCK)  # the interrupt lands after launch 2's kernel
    assert np.array_equal(part.exit_step, whole.exit_step[:part.n_paths])
    monkeypatch.setattr(NumbaBackend, "simulate_chunk", real)
    rest = run_ensemble(PROB, N - part.n_paths, T, path_start=part.n_paths, **KW)
    _assert_identical(merge([part, rest]), whole)


def test_progress_function_sees_every_path_and_escape(whole, monkeypatch):
    monkeypatch.setattr(sim.launches, "TARGET_S", 1e-9)  # one launch per block: several reports
    reports = []
    res = run_ensemble(PROB, N, T, progress=lambda n, esc: reports.append((n, esc)), **KW)
    assert len(reports) == 4
    assert sum(n for n, _ in reports) == N and sum(e for _, e in reports) == int(whole.escaped.sum())
    _assert_identical(res, whole)


def test_progress_bar_shows_paths_and_escapes(capsys, monkeypatch):
    monkeypatch.setattr(sim.launches, "TARGET_S", 1e-9)
    monkeypatch.setattr(sim.launches.Progress.__init__, "__kwdefaults__",
                        {**sim.launches.Progress.__init__.__kwdefaults__, "delay_s": 0.0})
    run_ensemble(PROB, N, T, progress=True, **KW)
    err = capsys.readouterr().err  # tqdm's line: paths done/total (scaled), rate, escapes so far
    assert "3.17k/3.17k" in err and "path/s" in err and "escaped" in err
