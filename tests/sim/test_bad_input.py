"""Bad input, the remaining cases: step longer than t_max, save_times order, save/load names and files,
runs too large for memory.  Each fails before any kernel runs with an error naming the parameter, or
(save_times order, save/load names) is given a documented, friendly meaning that is tested here."""
import os
import zipfile

import numpy as np
import pytest

from optdyn.sim import (SGD, BallExit, EnsembleResult, HessianNoise, Problem, QuadraticSaddle, SGDLangevin,
                        load_result, run_ensemble)
from optdyn.sim import ensemble as ens
from optdyn.sim import results as res_mod

LAND = QuadraticSaddle([1.0, -0.5])
NOISE = HessianNoise(4.0)
EXIT = BallExit([0.0, 0.0], 1.0)
SGD_PROB = Problem(LAND, NOISE, SGD(0.1), [0.0, 0.0], exit=EXIT)
SDE_PROB = Problem(LAND, NOISE, SGDLangevin(0.1, dt=0.05), [0.0, 0.0], exit=EXIT)

BACKENDS = ["numpy", "numba", pytest.param("torch", marks=pytest.mark.skipif(
    __import__("importlib").util.find_spec("torch") is None, reason="torch not installed"))]


def _no_kernel(monkeypatch):
    """Make any backend call fail loudly: the error must come before a kernel runs."""
    from optdyn.sim.backends import numpy_backend

    def boom(*a, **k):
        raise AssertionError("a kernel ran")

    monkeypatch.setattr(numpy_backend.NumpyBackend, "simulate_chunk", boom)


# ---------------------------------------------------------------------------------------------
# dt / lr against t_max
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prob, name", [(SGD_PROB, "lr"), (SDE_PROB, "dt")])
def test_step_longer_than_t_max(prob, name, monkeypatch):
    _no_kernel(monkeypatch)
    t_max = 0.5 * prob.dynamics.dt
    with pytest.raises(ValueError, match=rf"t_max.*{name}=") as err:
        run_ensemble(prob, 10, t_max, backend="numpy")
    assert "t_max" in str(err.value) and name in str(err.value)


@pytest.mark.parametrize("t_max, n_steps", [(1.0, 10), (0.3, 3), (0.95, 9), (0.1, 1), (0.19999, 1)])
def test_last_step_never_passes_t_max(t_max, n_steps):
    r = run_ensemble(SGD_PROB, 16, t_max, save_times=[t_max], backend="numpy")
    assert r.n_steps == n_steps
    assert r.t_end == pytest.approx(n_steps * 0.1) and r.t_end <= t_max * (1 + 1e-12)
    assert r.steps.tolist() == [n_steps]  # a save time past the last step is the last step run
    assert np.all(r.escape_times[r.escaped] <= t_max * (1 + 1e-12))


# ---------------------------------------------------------------------------------------------
# save_times order and duplicates: rows in the order asked, identical on every backend
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_save_times_rows_follow_the_request(backend):
    asked = [1.0, 0.0, 0.5, 0.52, 0.5]  # unsorted; 0.5 twice; 0.52 rounds to the same step as 0.5
    kw = dict(seed=3, backend=backend, store_samples=True)
    a = run_ensemble(SGD_PROB, 64, 1.0, save_times=asked, **kw)
    b = run_ensemble(SGD_PROB, 64, 1.0, save_times=[0.0, 0.5, 1.0], **kw)
    idx = [2, 0, 1, 1, 1]
    assert a.steps.tolist() == [10, 0, 5, 5, 5]
    np.testing.assert_allclose(a.times, [1.0, 0.0, 0.5, 0.5, 0.5])
    for name in ("n_alive", "mean", "cov", "samples"):
        assert np.array_equal(getattr(a, name), getattr(b, name)[idx], equal_nan=True), name
    assert np.array_equal(a.exit_step, b.exit_step)


# ---------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def result():
    return run_ensemble(SGD_PROB, 32, 1.0, save_times=[0.5, 1.0], seed=1, backend="numpy",
                        store_samples=True, n_record=2)


def _same(a, b):
    for f in ("times", "steps", "n_alive", "mean", "cov", "exit_step", "samples", "trajectories"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f
    assert a.metadata == b.metadata and (a.dt, a.n_steps, a.t_max) == (b.dt, b.n_steps, b.t_max)


@pytest.mark.parametrize("name", ["run1", "run1.npz", "run1.v2"])
def test_save_and_load_agree_on_the_name(result, tmp_path, name):
    written = result.save(tmp_path / name)
    assert written.exists() and written.suffix == ".npz"
    _same(load_result(tmp_path / name), result)  # the name given to save
    _same(load_result(str(written)), result)  # the path save returned
    assert sorted(os.listdir(tmp_path)) == [written.name]  # no temporary file left


def test_save_is_atomic(result, tmp_path, monkeypatch):
    good = result.save(tmp_path / "run")
    before = good.read_bytes()

    def killed(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt  # the process is interrupted mid-write

    monkeypatch.setattr(res_mod.np, "savez_compressed", killed)
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path / "run")
    assert good.read_bytes() == before  # the old file is untouched
    assert os.listdir(tmp_path) == [good.name]  # and the partial temporary file is gone


def test_save_into_missing_folder(result, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        result.save(tmp_path / "nope" / "run")


def test_load_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="run9"):
        load_result(tmp_path / "run9")


def test_load_truncated(result, tmp_path):
    path = result.save(tmp_path / "run")
    data = path.read_bytes()
    for n in (len(data) // 2, 30):
        path.write_bytes(data[:n])
        with pytest.raises(ValueError, match=r"run\.npz.*(truncated|corrupt)"):
            load_result(path)


def test_load_corrupt_member(result, tmp_path):
    path = result.save(tmp_path / "run")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("mean.npy")
    extra = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + len(info.filename) + extra  # first byte of the compressed data
    mid = start + info.compress_size // 2
    data[mid:mid + 4] = bytes(255 - b for b in data[mid:mid + 4])
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"run\.npz.*(truncated|corrupt)"):
        load_result(path)


def test_load_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match=r"other\.npz.*not written by EnsembleResult.save"):
        load_result(tmp_path / "other.npz")
    np.save(tmp_path / "arr.npy", np.arange(3))
    with pytest.raises(ValueError, match=r"arr\.npy.*single NumPy array"):
        load_result(tmp_path / "arr.npy")
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(ValueError, match=r"notes\.txt.*not an \.npz"):
        load_result(tmp_path / "notes.txt")


def _rewrite_meta(path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    import json

    meta = json.loads(str(arrays["__meta__"]))
    change(meta)
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)


def test_load_incompatible_version(result, tmp_path):
    path = result.save(tmp_path / "run")
    _rewrite_meta(path, lambda m: m.update(format_version=res_mod.FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match=r"run\.npz.*incompatible"):
        load_result(path)
    path = result.save(tmp_path / "run")
    _rewrite_meta(path, lambda m: m["scalars"].update(new_field=1.0))
    with pytest.raises(ValueError, match=r"run\.npz.*incompatible.*new_field"):
        load_result(path)


def test_load_file_from_before_the_format_tag(result, tmp_path):
    """Files written before the tag (format 0: same layout) still load."""
    path = result.save(tmp_path / "run")
    _rewrite_meta(path, lambda m: (m.pop("format"), m.pop("format_version")))
    _same(EnsembleResult.load(path), result)


# ---------------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------------
def test_n_paths_too_large_for_memory(monkeypatch):
    _no_kernel(monkeypatch)
    monkeypatch.setattr(ens, "_physical_memory", lambda: 8 * 2**30)
    with pytest.raises(ValueError, match=r"n_paths=10+.*GiB.*8 GiB"):
        run_ensemble(SGD_PROB, 10**15, 1.0, backend="numpy", keep_paths=True)
    # summaries only (the default this large): one chunk's memory, so the run would start
    with pytest.raises(AssertionError, match="a kernel ran"):
        run_ensemble(SGD_PROB, 10**15, 1.0, backend="numpy")
    # samples are counted: 1e8 paths x 1000 times x 2 coordinates = 1.5 TB
    with pytest.raises(ValueError, match=r"n_paths=.*store_samples"):
        run_ensemble(SGD_PROB, 10**8, 100.0, save_times=np.linspace(0, 100, 1000), store_samples=True,
                     backend="numpy")


def test_memory_estimate_counts_what_is_allocated():
    per_path = 3 * 8
    assert ens._output_bytes(10**6, 1024, 0, 0, 2, False, 0, 0) == 10**6 * per_path + 1024 * 24
    with_samples = ens._output_bytes(10**6, 1024, 5, 4, 2, True, 3, 11)
    blocks = -(-10**6 // ens.BLOCK) * 8 * 4 * (1 + 2 + 4)
    assert with_samples == 10**6 * (per_path + 8 * 5 * 2) + blocks + 8 * 3 * 11 * 2 + 1024 * (24 + 8 * 4 * 2)


def test_memory_unknown_skips_the_check(monkeypatch):
    monkeypatch.setattr(ens, "_physical_memory", lambda: None)
    r = run_ensemble(SGD_PROB, 8, 0.2, backend="numpy")
    assert r.n_paths == 8
