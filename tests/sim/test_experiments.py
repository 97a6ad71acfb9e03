"""Sweeps (sim.experiments): units merge to the single-run result bit for bit, the same bits on a
2-worker Dask LocalCluster, resume after SIGKILL and Ctrl-C, atomic stores, the TOML command, bad input."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import xarray as xr

from optdyn import sim
from optdyn.sim import BLOCK, run_ensemble
from optdyn.sim.experiments import Experiment, Store, build_problem, open_results, run_experiment
from optdyn.validate.cli import main as cli_main

SPEC = {"landscape": {"type": "QuarticDoubleWell", "barrier": 0.1, "spectators": [1.0]},
        "noise": {"type": "HessianNoise", "batch_size": 1.0, "floor": 0.05},
        "dynamics": {"type": "SGD", "lr": 0.1, "Adam": {"beta2": 0.99}},
        "x0": [-1.0, 0.0],
        "exit": {"type": "HalfSpaceExit", "normal": [1.0, 0.0], "offset": 0.0}}
GRID = {"dynamics.type": ["SGD", "Adam"], "dynamics.lr": [0.1, 0.3]}
# Run-dependent attributes (how and how long, not what): everything else must be identical.
RUN_ATTRS = ("wall_time_s", "units_run", "client")


def _experiment(**kw):
    args = dict(problem=SPEC, grid=GRID, n_paths=2 * BLOCK + 300, t_max=8.0, save_times=[1.0, 4.0],
                paths_per_unit=BLOCK, record=("moments", "escapes", "exits", "escape_steps"), seed=3)
    args.update(kw)
    return Experiment(**args)


def _same(a: xr.Dataset, b: xr.Dataset, ignore=()):
    """Bit-for-bit equality of the data and of every attribute but the run-dependent ones."""
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    strip = lambda d: {k: v for k, v in d.attrs.items() if k not in RUN_ATTRS + ignore}  # noqa: E731
    assert strip(a) == strip(b)


@pytest.fixture(scope="module")
def serial():
    return _experiment().run(None, client="serial", progress=False)


def test_units_merge_to_one_run_per_point(serial):
    exp = _experiment()
    assert serial.attrs["partial"] == 0 and serial.attrs["units_total"] == 4 * 3
    assert serial.sizes == {"dynamics": 2, "lr": 2, "time": 2, "coord": 2, "coord_": 2, "exit": 1,
                            "path": exp.n_paths}
    assert 0 < int(serial.n_escaped.sum()) < 4 * exp.n_paths  # escapes and censoring both present
    for point, prob in zip(exp.points(), exp.problems()):
        one = run_ensemble(prob, exp.n_paths, exp.t_max, save_times=exp.save_times, seed=exp.seed)
        at = serial.sel(dynamics=point["dynamics.type"], lr=point["dynamics.lr"])
        assert np.array_equal(at.x_mean.values, one.mean) and np.array_equal(at.x_cov.values, one.cov)
        assert np.array_equal(at.n_alive.values, one.n_alive)
        assert np.array_equal(at.escape_step.values, one.exit_step)
        assert int(at.n_escaped) == int(one.escaped.sum())
        est = sim.escape.exponential_rate(*sim.escape.times_from_result(one))
        assert float(at.escape_rate) == est.rate and float(at.mean_escape_time_hi) == est.mean_time_ci[1]
    assert json.loads(serial.attrs["problems"])[3]["dynamics"] == exp.problems()[3].describe()["dynamics"]
    assert json.loads(serial.attrs["problems"])[3]["dynamics"]["beta2"] == 0.99  # the [dynamics.Adam] table


def test_unit_size_does_not_change_the_bits(serial):
    other = _experiment(paths_per_unit=2 * BLOCK).run(None, client="serial", progress=False)
    assert other.attrs["units_total"] == 4 * 2
    _same(other, serial, ignore=("units_total", "experiment", "fingerprint"))  # these name the unit size


def test_two_worker_local_cluster_gives_the_same_bits(serial):
    """Work units on a Dask LocalCluster of 2 worker processes: same Dataset bit for bit."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:
        ds = _experiment().run(None, client=client, progress=False)
        workers = {ts for ts in client.run(os.getpid).values()}
    assert len(workers) == 2
    _same(ds, serial)


def test_results_are_stored_and_load_with_xarray_alone(serial, tmp_path):
    ds = _experiment().run(tmp_path / "s", client="serial", progress=False)
    _same(ds, serial)
    code = textwrap.dedent(f"""
        import sys, xarray as xr
        ds = xr.open_zarr({str(tmp_path / "s" / "results.zarr")!r}).load()
        print(int(ds.n_escaped.sum()), "optdyn" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}).stdout.split()
    assert out == [str(int(serial.n_escaped.sum())), "False"]
    _same(open_results(tmp_path / "s"), serial)


def test_a_finished_store_runs_nothing_and_refuses_another_experiment(tmp_path):
    exp = _experiment(grid={"dynamics.lr": [0.1]})
    first = exp.run(tmp_path, client="serial", progress=False)
    again = exp.run(tmp_path, client="serial", progress=False)
    assert again.attrs["units_run"] == 0
    _same(again, first)
    with pytest.raises(ValueError, match="another experiment"):
        _experiment(grid={"dynamics.lr": [0.1]}, seed=4).run(tmp_path, client="serial", progress=False)


def test_a_broken_unit_file_runs_again(tmp_path):
    exp = _experiment(grid={"dynamics.lr": [0.1]})
    first = exp.run(tmp_path, client="serial", progress=False)
    unit = exp.units()[1]
    path = Store(tmp_path, exp).unit_path(unit)
    path.write_bytes(path.read_bytes()[:100])  # as if the disk had lost its end
    with pytest.warns(RuntimeWarning, match="does not load"):
        again = exp.run(tmp_path, client="serial", progress=False)
    assert again.attrs["units_run"] == 1
    _same(again, first)


_KILLED = """
import sys
from optdyn.sim.experiments import Experiment
spec = {spec!r}
exp = Experiment(spec, {{"dynamics.lr": [0.1, 0.05]}}, n_paths=8 * 1024, t_max=400.0, paths_per_unit=1024)
exp.run(sys.argv[1], client="serial", progress=False)
"""


def test_a_killed_sweep_resumes_to_the_same_bits(tmp_path):
    """SIGKILL during a sweep: the units on disk are whole, a rerun does the rest, same bits."""
    spec = dict(SPEC, landscape=dict(SPEC["landscape"], barrier=2.0))  # no escapes: every path runs long
    exp = Experiment(spec, {"dynamics.lr": [0.1, 0.05]}, n_paths=8 * 1024, t_max=400.0, paths_per_unit=1024)
    store = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED.format(spec=spec), str(store)])
    units = store / "units"
    deadline = time.monotonic() + 120
    while not (units.is_dir() and len(list(units.glob("p*.npz"))) >= 2) and time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_done = len(list(units.glob("p*.npz")))
    assert 2 <= n_done < len(exp.units())
    assert len(list(units.glob(".*.tmp"))) <= 1  # a save in flight leaves its temporary file, never a unit
    resumed = exp.run(store, client="serial", progress=False)
    assert not list(units.glob(".*.tmp"))  # removed when the store is opened again
    assert resumed.attrs["units_run"] == len(exp.units()) - n_done
    _same(resumed, exp.run(None, client="serial", progress=False))


def test_ctrl_c_keeps_what_finished_and_marks_it_partial(tmp_path, monkeypatch):
    # a shell's background job inherits SIGINT ignored: restore Python's handler (Ctrl-C -> KeyboardInterrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    exp = _experiment(grid={"dynamics.lr": [0.1, 0.3]})
    saved = []
    real = Store.save

    def save_then_interrupt(self, unit, result):
        real(self, unit, result)
        saved.append(unit)
        if len(saved) == 4:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(Store, "save", save_then_interrupt)
    with pytest.warns(RuntimeWarning, match=r"interrupted: partial result \(4 of 6 units"):
        part = exp.run(tmp_path, client="serial", progress=False)
    assert part.attrs["partial"] == 1 and not (tmp_path / "results.zarr").exists()
    assert list(part.n_paths.values.ravel()) == [exp.n_paths, BLOCK]  # point 2: its first unit only
    monkeypatch.setattr(Store, "save", real)
    full = exp.run(tmp_path, client="serial", progress=False)
    assert full.attrs["partial"] == 0 and full.attrs["units_run"] == 2
    _same(full, exp.run(None, client="serial", progress=False))


def test_the_command_runs_an_experiment_file(tmp_path, capsys):
    text = textwrap.dedent("""
        [experiment]
        name = "tiny"
        n_paths = 1500
        t_max = 8.0
        save_times = [1.0, 4.0]
        seed = 3
        paths_per_unit = 1024

        [run]
        client = "serial"

        [problem]
        x0 = [-1.0, 0.0]
        landscape = { type = "QuarticDoubleWell", barrier = 0.1, spectators = [1.0] }
        noise = { type = "HessianNoise", batch_size = 1.0, floor = 0.05 }
        dynamics = { type = "SGD", lr = 0.1 }
        exit = { type = "HalfSpaceExit", normal = [1.0, 0.0], offset = 0.0 }

        [grid]
        "dynamics.lr" = [0.1, 0.3]
    """)
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    assert cli_main(["run", str(path), "--store", str(tmp_path / "st"), "--no-progress"]) == 0
    assert "results.zarr" in capsys.readouterr().out
    ds = open_results(tmp_path / "st")
    exp = Experiment.from_toml(path)
    _same(ds, exp.run(None, client="serial", progress=False))
    assert ds.attrs["title"] == "tiny"
    (tmp_path / "bad.toml").write_text(text.replace('"SGD"', '"NoSuchOptimizer"'))
    assert cli_main(["run", str(tmp_path / "bad.toml"), "--no-progress"]) == 2
    assert "NoSuchOptimizer" in capsys.readouterr().err


@pytest.mark.parametrize("change, match", [
    (dict(grid={}), "grid"),
    (dict(grid={"dynamics.lr": []}), "empty"),
    (dict(grid={"dynamics.lr": [0.1, 0.1]}), "repeated"),
    (dict(record=("moments", "nonsense")), "record"),
    (dict(save_times=None, record=("moments",)), "save_times"),
    (dict(n_paths=0), "n_paths"),
    (dict(t_max=-1.0), "t_max"),
])
def test_bad_experiments_are_refused_before_anything_runs(change, match):
    with pytest.raises(ValueError, match=match):
        _experiment(**change)


@pytest.mark.parametrize("grid, match", [
    ({"dynamics.type": ["NoSuchOptimizer"]}, "NoSuchOptimizer"),
    ({"nothing.lr": [0.1]}, "no table 'nothing'"),
    ({"dynamics.lr": [-0.1]}, "lr"),
    ({"dynamics.momentum": [0.9]}, "momentum"),
])
def test_bad_grid_points_are_named(grid, match):
    with pytest.raises(ValueError, match=match):
        _experiment(grid=grid).problems()
    with pytest.raises(ValueError, match="problem spec needs 'x0'"):
        build_problem({k: v for k, v in SPEC.items() if k != "x0"})


def test_run_experiment_checks_its_arguments():
    with pytest.raises(TypeError, match="Experiment"):
        run_experiment({"not": "an experiment"})
    with pytest.raises(TypeError, match="client"):
        _experiment().run(None, client=3.5, progress=False)


def test_a_function_template(serial):
    """The template as a Python function of the grid values gives the same as the spec."""
    def problem(kind, lr):
        return build_problem({**SPEC, "dynamics": {**SPEC["dynamics"], "type": kind, "lr": lr}})

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = _experiment(problem=problem, grid={"kind": GRID["dynamics.type"], "lr": GRID["dynamics.lr"]}).run(
            None, client="serial", progress=False)
    assert np.array_equal(ds.x_mean.values, serial.x_mean.values)
    assert np.array_equal(ds.escape_step.values, serial.escape_step.values)
