"""Ensembles: numba kernel vs NumPy reference path by path, divergence, censoring, determinism,
Monte Carlo vs exact moments, save/load."""
import numpy as np
import pytest

from conftest import N_SE, N_SMALL, N_STAT
from optdyn.sim import (SGD, BallExit, EnsembleResult, HalfSpaceExit, HessianNoise, NoExit, Problem,
                 QuadraticSaddle, SGDLangevin, SlabExit, exact_scheme_moments, load_result,
                 random_rotation, run_ensemble)
from optdyn.sim._jit import jit
from optdyn.sim.landscapes import LandscapeBase, LandscapeFunctions

# Backends must agree to round-off: the only differences are summation orders (kernel loops vs
# matmul/einsum), ~1e-16 per operation, amplified by at most e^{|lambda| t} ~ 10 over the runs here.
RTOL_BACKEND = 1e-12

# One landscape/noise pair for everything, so each (dynamics, exit) kernel compiles once.
LAND = QuadraticSaddle([1.0, -0.5], rotation=random_rotation(2, seed=3))
NOISE = HessianNoise(batch_size=4.0, floor=0.05)
X0 = np.array([0.1, -0.05])
UNSTABLE = LAND.rotation[:, 1]
EXITS = {
    "none": NoExit(),
    "ball": BallExit([0.0, 0.0], 0.8),
    "slab": SlabExit([0.0, 0.0], UNSTABLE, 0.5),
    "halfspace": HalfSpaceExit([1.0, 1.0], 0.6),
}
DYNAMICS = {"sgd": SGD(0.1), "langevin": SGDLangevin(0.1, dt=0.05)}
T_MAX = 5.0
SAVE = [0.0, 1.0, 2.5, 5.0]


def _problem(dyn="langevin", exit="ball"):
    return Problem(LAND, NOISE, DYNAMICS[dyn], X0, exit=EXITS[exit])


def _assert_same_paths(a, b, rtol=RTOL_BACKEND):
    assert np.array_equal(a.exit_step, b.exit_step)
    assert np.array_equal(a.exit_label, b.exit_label)
    assert np.array_equal(a.diverged_step, b.diverged_step)
    assert np.array_equal(a.n_alive, b.n_alive)
    np.testing.assert_allclose(a.mean, b.mean, rtol=rtol, atol=1e-14)
    np.testing.assert_allclose(a.cov, b.cov, rtol=rtol, atol=1e-14)
    np.testing.assert_allclose(a.samples, b.samples, rtol=rtol, atol=1e-14)  # NaN == NaN
    if a.trajectories is not None:
        np.testing.assert_allclose(a.trajectories, b.trajectories, rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("exit", list(EXITS))
@pytest.mark.parametrize("dyn", list(DYNAMICS))
def test_numba_matches_numpy_reference(dyn, exit):
    prob = _problem(dyn, exit)
    kw = dict(save_times=SAVE, seed=11, n_record=4, record_every=5, store_samples=True)
    a = run_ensemble(prob, N_SMALL, T_MAX, backend="numba", **kw)
    b = run_ensemble(prob, N_SMALL, T_MAX, backend="numpy", **kw)
    _assert_same_paths(a, b)
    assert a.metadata["backend"] == "numba" and b.metadata["backend"] == "numpy"
    # The comparison is not vacuous: exits happen (except for NoExit) and some paths run on.
    if exit != "none":
        assert 0 < np.count_nonzero(a.escaped) < N_SMALL
        assert set(np.unique(a.exit_label[a.escaped])) <= ({1, 2} if exit == "slab" else {1})
        # Every escaped path is really in the region at its exit step, in no earlier saved state.
        lab = EXITS[exit].label(a.samples[-1][a.escaped & (a.exit_step == a.n_steps)])
        assert np.all(lab != 0)
    else:
        assert not np.any(a.escaped)
    # Trajectories start at x0 and agree with the samples at the save steps (all multiples of 5).
    assert np.array_equal(a.trajectories[:, 0], np.tile(X0, (4, 1)))
    for t, k in enumerate(a.steps):
        assert np.array_equal(a.trajectories[:, k // 5], a.samples[t, :4], equal_nan=True)


def test_exit_labels_both_sides_of_slab():
    r = run_ensemble(_problem("langevin", "slab").replace(x0=[0.0, 0.0]), 2048, 20.0, seed=2)
    counts = r.summary()["by_exit"]
    n = counts[1] + counts[2]
    assert n == r.n_paths  # t_max is long enough for every path to leave
    # Started at the saddle, the dynamics are symmetric under x -> -x, so each side is hit with
    # probability 1/2: binomial SE of the fraction is 0.5/sqrt(n).
    assert abs(counts[1] / n - 0.5) < N_SE * 0.5 / np.sqrt(n)


def test_censoring():
    r = run_ensemble(_problem("langevin", "ball"), 2048, 1.5, seed=4)
    s = r.summary()
    assert s["escaped"] > 0 and s["censored"] > 0 and s["diverged"] == 0
    assert s["escaped"] + s["censored"] + s["diverged"] == r.n_paths
    et = r.escape_times
    assert np.all(np.isinf(et[r.censored]))
    assert np.allclose(et[r.escaped], r.exit_step[r.escaped] * r.dt)
    assert np.all(et[r.escaped] <= r.t_max + 1e-12) and np.all(r.exit_step[r.censored] == -1)
    assert np.all(r.exit_label[r.censored] == 0)


def test_moments_only_over_alive_paths():
    r = run_ensemble(_problem("langevin", "ball"), 2048, T_MAX, save_times=SAVE, seed=5,
                     store_samples=True)
    for t in range(len(SAVE)):
        ok = np.isfinite(r.samples[t]).all(axis=1)
        assert r.n_alive[t] == np.count_nonzero(ok)
        np.testing.assert_allclose(r.mean[t], r.samples[t][ok].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(r.cov[t], np.cov(r.samples[t][ok].T), rtol=1e-10, atol=1e-15)
    # Alive at t = paths that have not exited by then.
    k = r.steps[-1]
    assert r.n_alive[-1] == np.count_nonzero((r.exit_step < 0) | (r.exit_step >= k))
    assert r.n_alive[0] == r.n_paths


# ---------------------------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------------------------
def test_divergence_on_unstable_minimum():
    """SGD with lr*lambda_max = 3 > 2 on a minimum: |x| grows like 2^k and overflows."""
    land = QuadraticSaddle([3.0, 1.0])
    prob = Problem(land, NOISE, SGD(1.0), [0.0, 0.0])
    for backend in ("numba", "numpy"):
        with pytest.warns(RuntimeWarning, match="diverged"):
            r = run_ensemble(prob, 64, 2000.0, save_times=[0.0, 2000.0], seed=1, backend=backend)
        assert np.all(r.diverged) and r.n_diverged == 64
        assert not np.any(r.censored) and not np.any(r.escaped)
        # Overflow of 2^k |x_1| (x_1 = O(1)) needs k ~ 1024 steps.
        assert np.all((r.diverged_step > 900) & (r.diverged_step < 1200))
        assert list(r.n_alive) == [64, 0]
        if backend == "numba":
            first = r.diverged_step
        else:
            assert np.array_equal(first, r.diverged_step)


@jit
def _quartic_gradient(x, p, out):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s += p[1 + i] * x[i]
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += p[1 + n + i * n + j] * x[j]
        out[i] = acc - p[0] * s * s * s * p[1 + i]


@jit
def _quartic_hessian(x, p, out):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s += p[1 + i] * x[i]
    for i in range(n):
        for j in range(n):
            out[i, j] = p[1 + n + i * n + j] - 3.0 * p[0] * s * s * p[1 + i] * p[1 + j]


class QuarticRim(LandscapeBase):
    """L(x) = x^T H x / 2 - (a/4) (u^T x)^4: a well whose wall falls away along u; a path over the
    rim runs to infinity within a few steps.  Its Hessian depends on position, so Hessian noise
    takes the kernel's eigen-decomposition path."""

    constant_hessian = False

    def __init__(self, H, u, a):
        self.H = np.asarray(H, float)
        self.u = np.asarray(u, float) / np.linalg.norm(u)
        self.a = float(a)
        self.dim = self.H.shape[0]
        self.params = np.concatenate([[self.a], self.u, self.H.ravel()])

    def value(self, x):
        x = self._points(x)
        s = x @ self.u
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.H, x) - 0.25 * self.a * s**4

    def gradient(self, x):
        x = self._points(x)
        return x @ self.H.T - self.a * ((x @ self.u) ** 3)[..., None] * self.u

    def hessian(self, x):
        x = self._points(x)
        s2 = (x @ self.u) ** 2
        return self.H - 3.0 * self.a * s2[..., None, None] * np.outer(self.u, self.u)

    @classmethod
    def numba_functions(cls):
        return LandscapeFunctions(gradient=_quartic_gradient, hessian=_quartic_hessian)


def test_quartic_rim_landscape_is_consistent(rng):
    land = QuarticRim([[1.0, 0.3], [0.3, 2.0]], [1.0, 0.5], 1.0)
    h = 1e-6
    for x in rng.standard_normal((3, 2)):
        g = np.array([(land.value(x + h * e) - land.value(x - h * e)) / (2 * h) for e in np.eye(2)])
        assert np.allclose(land.gradient(x), g, atol=1e-7)
        gc, hc = np.empty(2), np.empty((2, 2))
        _quartic_gradient(x, land.params, gc), _quartic_hessian(x, land.params, hc)
        assert np.allclose(gc, land.gradient(x), atol=1e-14)
        assert np.allclose(hc, land.hessian(x), atol=1e-14)


def test_divergence_mixed_with_survivors_position_dependent_noise():
    """Some paths run over the rim (to inf), others stay: diverged ones are counted, warned about,
    excluded from moments, and the kernel (position-dependent Hessian noise, eigh in the kernel)
    agrees with the reference path by path.  Regression: the kernel used to abort with numba's
    LinAlgError when a diverging path's Hessian became infinite."""
    land = QuarticRim([[1.0, 0.3], [0.3, 2.0]], [1.0, 0.5], 1.0)
    prob = Problem(land, HessianNoise(0.3, floor=0.05), SGD(0.1), [0.0, 0.0])
    res = {}
    for backend in ("numba", "numpy"):
        with pytest.warns(RuntimeWarning, match="diverged"):
            res[backend] = run_ensemble(prob, 300, 20.0, save_times=[0.0, 1.0, 20.0], seed=3,
                                        backend=backend, store_samples=True)
    a, b = res["numba"], res["numpy"]
    # One survivor is caught mid-blow-up at t = 20 (|x| ~ 1e90): the cubic growth amplifies the
    # round-off differences to ~3e-12 relative, hence a looser tolerance here.
    _assert_same_paths(a, b, rtol=1e-9)
    assert 0 < a.n_diverged < a.n_paths
    assert a.n_alive[-1] == np.count_nonzero(a.censored) == a.n_paths - a.n_diverged
    assert np.all(np.isnan(a.samples[-1][a.diverged]))
    ok = a.censored
    np.testing.assert_allclose(a.mean[-1], a.samples[-1][ok].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(a.cov[-1], np.cov(a.samples[-1][ok].T), rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------
def test_independent_of_chunk_size_and_threads():
    import numba

    prob = _problem("langevin", "ball")
    kw = dict(save_times=SAVE, seed=9, store_samples=True, n_record=3)
    ref = run_ensemble(prob, 5000, T_MAX, chunk_size=1024, n_threads=1, **kw)
    threads = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]
    for chunk in (1024, 3000, 65536):
        for nt in threads:
            r = run_ensemble(prob, 5000, T_MAX, chunk_size=chunk, n_threads=nt, **kw)
            for name in ("exit_step", "exit_label", "diverged_step", "n_alive", "mean", "cov",
                         "samples", "trajectories"):
                assert np.array_equal(getattr(r, name), getattr(ref, name), equal_nan=True), name
    other = run_ensemble(prob, 5000, T_MAX, seed=10, save_times=SAVE)
    assert not np.array_equal(other.mean, ref.mean)


@pytest.mark.parametrize("dyn", ["langevin", "adam"])
def test_independent_of_path_block_size(dyn, monkeypatch):
    """The kernel advances blocks of paths together and swaps stopped paths out of a block's active
    set; neither the block size nor the swaps may change any path (exits, divergence, saves,
    trajectories), including for dynamics with per-step coefficients (Adam)."""
    import optdyn.sim.backends.numba_backend

    from optdyn.sim import Adam

    prob = _problem("langevin", "ball") if dyn == "langevin" else Problem(
        LAND, NOISE, Adam(0.1), X0, exit=EXITS["slab"])
    kw = dict(save_times=SAVE, seed=4, store_samples=True, n_record=40, record_every=3)
    results = []
    for block in (1, 5, 32):
        monkeypatch.setattr(optdyn.sim.backends.numba_backend, "PATH_BLOCK", block)
        results.append(run_ensemble(prob, 400, T_MAX, **kw))
    ref = results[0]
    assert 0 < np.count_nonzero(ref.escaped) < ref.n_paths  # blocks do lose paths mid-run
    for r in results[1:]:
        for name in ("exit_step", "exit_label", "diverged_step", "n_alive", "mean", "cov",
                     "samples", "trajectories"):
            assert np.array_equal(getattr(r, name), getattr(ref, name), equal_nan=True), name


def test_paths_do_not_depend_on_ensemble_size():
    prob = _problem("langevin", "ball")
    small = run_ensemble(prob, 100, T_MAX, seed=9)
    big = run_ensemble(prob, 3000, T_MAX, seed=9)
    assert np.array_equal(small.exit_step, big.exit_step[:100])


# ---------------------------------------------------------------------------------------------
# Monte Carlo vs exact moments of the simulated scheme
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dyn", ["sgd", "langevin"])
def test_monte_carlo_moments_match_exact_scheme(dyn):
    prob = _problem(dyn, "none")
    r = run_ensemble(prob, N_STAT, T_MAX, save_times=SAVE[1:], seed=21)
    mean, cov = exact_scheme_moments(prob, r.steps)
    n = N_STAT
    for t in range(len(r.steps)):
        sig = cov[t]
        # Mean: SE_i = sqrt(Sigma_ii / n).
        se_mean = np.sqrt(np.diag(sig) / n)
        assert np.all(np.abs(r.mean[t] - mean[t]) < N_SE * se_mean)
        # Gaussian sample covariance: Var(S_ij) = (Sigma_ii Sigma_jj + Sigma_ij^2) / (n - 1).
        se_cov = np.sqrt((np.outer(np.diag(sig), np.diag(sig)) + sig**2) / (n - 1))
        assert np.all(np.abs(r.cov[t] - sig) < N_SE * se_cov)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    r = run_ensemble(_problem("langevin", "ball"), 1500, T_MAX, save_times=SAVE, seed=7,
                     n_record=2, store_samples=True)
    md = r.metadata
    assert md["seed"] == 7 and md["backend"] == "numba" and md["precision"] == "float64"
    for key in ("optdyn_version", "numpy_version", "numba_version", "problem", "n_threads"):
        assert key in md
    assert md["problem"]["landscape"]["eigenvalues"] == [1.0, -0.5]
    path = tmp_path / "res.npz"
    r.save(path)
    q = load_result(path)
    assert isinstance(q, EnsembleResult)
    for name in ("times", "steps", "n_alive", "mean", "cov", "exit_step", "exit_label",
                 "diverged_step", "samples", "trajectories", "trajectory_times"):
        assert np.array_equal(getattr(q, name), getattr(r, name), equal_nan=True), name
    assert (q.dt, q.n_steps, q.t_max) == (r.dt, r.n_steps, r.t_max)
    assert q.metadata == r.metadata
    assert q.summary() == r.summary()
