"""The contract of a dynamics (DynamicsBase's docstring), checked on every example of every registered
class (sim.dynamics.registry): a new optimizer is tested here without editing this file.

Tolerances.  The compiled step, the NumPy reference and the torch backend do the same operations
except for summation orders (matrix-vector products, reductions), ~1e-16 relative per operation;
over the ≤ 30 steps here perturbations grow by far less than 1e3 on these mildly unstable
landscapes, so path-by-path agreement is asserted to RTOL = 1e-12 (ATOL = 1e-14 for values that
pass through 0).  Chunking and threading change nothing at all: equality is exact."""
import importlib
import json
import pkgutil
import re

import numpy as np
import pytest
from conftest import compiled_step, run_compiled, torch_run

from optdyn import sim
from optdyn.sim import dynamics as dynamics_pkg
from optdyn.sim.dynamics import registry
from optdyn.sim.dynamics.base import DynamicsBase

RTOL, ATOL = 1e-12, 1e-14
DIM = 3
LAND = sim.QuadraticSaddle([1.5, -0.4, 0.3], rotation=sim.random_rotation(DIM, 3), center=[0.05, 0.0, -0.1])
NOISE = sim.HessianNoise(2.0)
X0 = np.array([0.1, -0.2, 0.05])
N_PATHS, N_STEPS = 200, 30

EXAMPLES = registry.examples()


def pytest_generate_tests(metafunc):
    """Parametrise over the registry: ``dyn`` (every example), ``discrete``, ``sde``,
    ``torch_referenced`` (examples with a torch.optim twin) and ``bad`` (invalid settings)."""
    cases = {
        "dyn": EXAMPLES,
        "discrete": [d for d in EXAMPLES if d.kind == "discrete"],
        "sde": [d for d in EXAMPLES if d.kind == "sde"],
        "torch_referenced": [d for d in EXAMPLES if d.torch_reference() is not None],
    }
    for name, values in cases.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values, ids=repr)
    if "bad" in metafunc.fixturenames:
        bad = registry.bad_examples()
        metafunc.parametrize("bad", bad, ids=[f"{c.__name__}-{kw}" for c, kw, _ in bad])


def _problem(dyn, exit=None):
    return sim.Problem(LAND, NOISE, dyn, X0, exit=exit)


def _exit():
    return sim.BallExit(np.zeros(DIM), 0.3)


# ----------------------------------------------------------------------------------------------
# registry and declared layout
# ----------------------------------------------------------------------------------------------
def test_every_dynamics_class_is_registered():
    """Every concrete DynamicsBase subclass in any module of sim.dynamics is registered and exported
    by optdyn.sim, and the registry's examples cover every class, discrete and SDE."""
    registered = {e.cls for e in registry.entries()}
    for info in pkgutil.iter_modules(dynamics_pkg.__path__):
        mod = importlib.import_module(f"{dynamics_pkg.__name__}.{info.name}")
        for obj in vars(mod).values():
            if (isinstance(obj, type) and issubclass(obj, DynamicsBase) and obj.__module__ == mod.__name__
                    and not obj.__name__.endswith("Base")):
                assert obj in registered, f"{obj.__name__} is not registered"
                assert getattr(sim, obj.__name__) is obj and obj.__name__ in sim.__all__
    assert {type(d) for d in EXAMPLES} == registered
    assert {d.kind for d in EXAMPLES} == {"discrete", "sde"}


def test_declared_layout(dyn):
    assert dyn.kind in ("discrete", "sde")
    assert dyn.params.shape == (len(type(dyn).param_slots),) and not np.any(np.isnan(dyn.params))  # log β = -inf for β = 0
    assert dyn.params[type(dyn).param_slots.lr] == dyn.lr
    assert dyn.n_step_coefficients == len(type(dyn).coefficient_slots)
    assert dyn.initial_state(DIM).shape == (dyn.state_size(DIM),)
    assert dyn.normals_per_step(DIM) >= DIM and dyn.work_size(DIM) >= 0
    if dyn.kind == "discrete":
        assert dyn.dt == dyn.lr
    c = dyn.step_coefficients(3)
    assert c.shape == (max(1, dyn.n_step_coefficients),) and np.all(np.isfinite(c))


# ----------------------------------------------------------------------------------------------
# the compiled step against the NumPy reference, and the backends
# ----------------------------------------------------------------------------------------------
def test_compiled_step_equals_numpy_step(dyn):
    """Path by path, position and whole state, at every step of a noisy run from the default start."""
    rng = np.random.default_rng(5)
    n_paths, n_steps = 6, 12
    step, nzp = compiled_step(dyn, LAND, NOISE)
    x = X0 + 0.3 * rng.standard_normal((n_paths, DIM))
    aux = np.tile(dyn.initial_state(DIM), (n_paths, 1))
    xs, auxs = x.copy(), aux.copy()
    g, xi = np.empty(DIM), np.empty(DIM)
    for k in range(1, n_steps + 1):
        z = rng.standard_normal((n_paths, dyn.normals_per_step(DIM)))
        x, aux = dyn.numpy_step(x, aux, z, k, LAND, NOISE)
        c = dyn.step_coefficients(k)
        for p in range(n_paths):
            step(xs[p], auxs[p], z[p], c, LAND.params, nzp, dyn.params, g, xi)
        assert x.shape == xs.shape and aux.shape == auxs.shape
        np.testing.assert_allclose(xs, x, rtol=RTOL, atol=ATOL)
        scale = max(1.0, float(np.abs(aux).max())) if aux.size else 1.0  # r ~ 1/M when stiff
        np.testing.assert_allclose(auxs, aux, rtol=RTOL, atol=ATOL * scale)
    assert np.all(np.isfinite(xs))


def _run(dyn, backend, **kw):
    args = dict(save_times=[0.0, 10 * dyn.dt, N_STEPS * dyn.dt], seed=9, store_samples=True,
                n_record=3, record_every=5)
    args.update(kw)
    return sim.run_ensemble(_problem(dyn, _exit()), N_PATHS, N_STEPS * dyn.dt, backend=backend, **args)


def _assert_same_paths(a, b):
    for name in ("exit_step", "exit_label", "diverged_step", "n_alive", "steps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("samples", "mean", "cov", "trajectories"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=RTOL, atol=ATOL, err_msg=name)


def test_numba_and_numpy_backends_agree_path_by_path(dyn):
    _assert_same_paths(_run(dyn, "numba"), _run(dyn, "numpy"))


@pytest.mark.torch
def test_torch_backend_agrees_with_numba(dyn):
    _assert_same_paths(_run(dyn, "torch"), _run(dyn, "numba"))


def test_independent_of_chunk_size_and_threads(dyn):
    ref = _run(dyn, "numba", chunk_size=N_PATHS, n_threads=1)
    for chunk, threads in ((64, 2), (37, 1)):
        r = _run(dyn, "numba", chunk_size=chunk, n_threads=threads)
        for name in ("exit_step", "exit_label", "diverged_step", "n_alive", "mean", "cov", "samples",
                     "trajectories"):
            assert np.array_equal(getattr(r, name), getattr(ref, name), equal_nan=True), name


# ----------------------------------------------------------------------------------------------
# against torch.optim (every example whose torch_reference() names an optimizer)
# ----------------------------------------------------------------------------------------------
N_TORCH_STEPS = 25


@pytest.mark.torch
def test_matches_torch_optim(torch_referenced):
    """Step for step against torch.optim on a rotated 3-D quadratic with noisy gradients."""
    torch = pytest.importorskip("torch")
    name, kwargs = torch_referenced.torch_reference()
    land = sim.QuadraticSaddle([2.0, -0.5, 0.1], rotation=sim.random_rotation(3, 2), center=[0.1, 0, -0.2])
    sigma, x0 = 0.7, np.array([0.5, -1.0, 0.3])
    z = np.random.default_rng(11).standard_normal((N_TORCH_STEPS, 3))
    ref = torch_run(lambda ps: getattr(torch.optim, name)(ps, **kwargs), land, sigma, x0, z)
    ours, _ = run_compiled(torch_referenced, land, sim.WhiteNoise(sigma), x0, N_TORCH_STEPS, z)
    assert np.max(np.abs(ref[-1] - ref[0])) > 1e-3  # the run moves
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# bad input, metadata, the continuous model
# ----------------------------------------------------------------------------------------------
def test_bad_hyperparameters_name_the_parameter(bad):
    cls, kwargs, name = bad
    with pytest.raises(ValueError, match=re.escape(name)):
        cls(**kwargs)


def test_wrong_types_name_the_parameter(dyn):
    for name in dyn.hyper:
        kwargs = {**dyn._hyper(), name: "0.1"}
        if dyn.kind == "sde":
            kwargs["dt"] = dyn.dt
        with pytest.raises(TypeError, match=re.escape(name)):
            type(dyn)(**kwargs)


def test_describe_and_repr(dyn):
    d = dyn.describe()
    assert d["class"] == type(dyn).__name__ and d["kind"] == dyn.kind
    assert d["lr"] == dyn.lr and d["dt"] == dyn.dt
    assert all(d[name] == getattr(dyn, name) for name in dyn.hyper)
    json.dumps(d)  # goes into result metadata
    again = eval(repr(dyn), vars(sim))  # noqa: S307 - our own repr
    assert type(again) is type(dyn) and np.array_equal(again.params, dyn.params)
    assert again.dt == dyn.dt


def test_continuous_model_of_a_discrete_optimizer_runs(discrete):
    try:
        model = discrete.continuous(discrete.lr / 5)
    except ValueError as err:  # a setting without a model must say why, naming a parameter
        assert any(name in str(err) for name in discrete.hyper), err
        return
    assert model.kind == "sde" and model.lr == discrete.lr and model.dt == discrete.lr / 5
    r = sim.run_ensemble(_problem(model), 64, 20 * model.dt, save_times=[20 * model.dt], seed=1)
    assert r.n_alive[-1] == 64 and np.all(np.isfinite(r.mean))


def test_sde_round_trips_through_its_optimizer(sde):
    opt = sde.discrete()
    assert opt.kind == "discrete" and opt.lr == sde.lr
    again = opt.continuous(sde.dt)
    assert type(again) is type(sde) and np.array_equal(again.params, sde.params)
    half = sde.with_dt(sde.dt / 2)
    assert type(half) is type(sde) and half.dt == sde.dt / 2 and half._hyper() == sde._hyper()
    with pytest.raises(ValueError, match="discrete"):
        opt.with_dt(0.1)
