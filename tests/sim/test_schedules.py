"""Learning-rate schedules and the box projection (sim.schedules) on every discrete optimizer:
compiled kernel vs NumPy reference vs torch backend path by path, against torch.optim with a
LambdaLR scheduler, the time axis t = Σ η_k, and bad input.

Tolerances: as tests/sim/test_dynamics_contract.py (same operations up to summation order,
≤ 30 steps: RTOL = 1e-12, ATOL = 1e-14)."""
import numpy as np
import pytest
from conftest import run_compiled, torch_run

from optdyn import sim
from optdyn.sim.dynamics import registry
from optdyn.sim.schedules import (Constant, FromArray, InverseSqrt, LinearWarmup, StepDecay,
                                  schedule_factor)

RTOL, ATOL = 1e-12, 1e-14
DIM = 3
LAND = sim.QuadraticSaddle([1.5, -0.4, 0.3], rotation=sim.random_rotation(DIM, 3), center=[0.05, 0.0, -0.1])
NOISE = sim.HessianNoise(2.0)
X0 = np.array([0.1, -0.2, 0.05])
N_PATHS, N_STEPS = 96, 30

SCHEDULES = [Constant(), InverseSqrt(), InverseSqrt(shift=1), StepDecay(7, 0.5), LinearWarmup(10),
             FromArray(np.linspace(1.0, 0.2, 40))]
DISCRETE = [d for d in registry.examples() if d.kind == "discrete"]
# every discrete example, each with one schedule (cycled) and a box on every other one
CASES = [(d, SCHEDULES[i % len(SCHEDULES)], (-0.15, 0.2) if i % 2 else None)
         for i, d in enumerate(DISCRETE)]


def _ids(case):
    d, s, b = case
    return f"{d!r}-{s!r}-box={b}"


def _run(dyn, backend, **kw):
    t = dyn.time_at([0, 10, N_STEPS])
    return sim.run_ensemble(sim.Problem(LAND, NOISE, dyn, X0), N_PATHS, dyn.time_at(N_STEPS), backend=backend,
                            save_times=t, seed=4, store_samples=True, n_record=2, record_every=5,
                            observables=True, **kw)


def _assert_same(a, b):
    for name in ("steps", "n_alive", "diverged_step", "step_times", "times"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("samples", "mean", "trajectories", "loss_mean", "grad_norm2_mean"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=RTOL, atol=ATOL, err_msg=name)


def test_compiled_factor_equals_reference():
    k = np.arange(1, 41)
    for s in SCHEDULES:
        sp = np.concatenate([[7.0], s.packed()])  # at an offset, as in the parameter vector
        got = np.array([schedule_factor(np.int64(i), sp, 1) for i in k])
        np.testing.assert_allclose(got, s.factors(k), rtol=1e-15, err_msg=repr(s))
    np.testing.assert_array_equal(StepDecay(7, 0.5).factors([1, 7, 8, 15]), [1, 1, 0.5, 0.25])
    np.testing.assert_array_equal(LinearWarmup(4).factors([1, 2, 4, 9]), [0.25, 0.5, 1, 1])
    np.testing.assert_allclose(InverseSqrt(shift=1).factors([1, 3]), [2 ** -0.5, 0.5])


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_numba_and_numpy_agree_path_by_path(case):
    dyn, schedule, box = case
    s = dyn.with_schedule(schedule, box=box)
    a, b = _run(s, "numba"), _run(s, "numpy")
    _assert_same(a, b)
    if box is not None:
        after = a.samples[1:]  # (the start lies outside the box in one coordinate)
        assert np.all(after >= -0.15) and np.all(after <= 0.2)
        assert np.any(after == 0.2) or np.any(after == -0.15)  # the box is active


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES[::2], ids=_ids)
def test_torch_backend_agrees(case):
    dyn, schedule, box = case
    s = dyn.with_schedule(schedule, box=(-0.2, 0.25))
    _assert_same(_run(s, "torch"), _run(s, "numba"))


def test_constant_schedule_is_the_optimizer():
    """Constant() without a box reproduces the plain optimizer bit for bit (same kernel arithmetic)."""
    for dyn in DISCRETE[:4]:
        a = _run(dyn.with_schedule(Constant()), "numba")
        b = sim.run_ensemble(sim.Problem(LAND, NOISE, dyn, X0), N_PATHS, N_STEPS * dyn.lr,
                             save_times=[0, 10 * dyn.lr, N_STEPS * dyn.lr], seed=4, store_samples=True)
        np.testing.assert_array_equal(a.samples, b.samples)


@pytest.mark.torch
@pytest.mark.parametrize("schedule", SCHEDULES[1:], ids=repr)
def test_matches_torch_optim_with_lambda_lr(schedule):
    """Scheduled Adam and heavy-ball Momentum against torch.optim + LambdaLR (whose epoch e is our k - 1)."""
    torch = pytest.importorskip("torch")
    sigma, x0, n = 0.7, np.array([0.5, -1.0, 0.3]), 25
    land = sim.QuadraticSaddle([2.0, -0.5, 0.1], rotation=sim.random_rotation(3, 2), center=[0.1, 0, -0.2])
    z = np.random.default_rng(11).standard_normal((n, 3))
    for dyn in (sim.Adam(0.05, beta1=0.8, beta2=0.99), sim.Momentum(0.05, 0.9)):
        name, kwargs = dyn.torch_reference()

        class Stepper:  # optimizer.step() followed by the scheduler's step, as in a training loop
            def __init__(self, params):
                self.opt = getattr(torch.optim, name)(params, **kwargs)
                self.sched = torch.optim.lr_scheduler.LambdaLR(
                    self.opt, lambda e: float(schedule.factors(e + 1)))

            def step(self):
                self.opt.step()
                self.sched.step()

        ref = torch_run(Stepper, land, sigma, x0, z)
        ours, _ = run_compiled(dyn.with_schedule(schedule), land, sim.WhiteNoise(sigma), x0, n, z)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_time_axis():
    s = sim.SGD(0.1).with_schedule(InverseSqrt())
    t = s.step_times(100)
    np.testing.assert_allclose(np.diff(t), 0.1 / np.sqrt(np.arange(1, 101)), rtol=0, atol=4e-16)  # ulp(t ≤ 2)
    assert s.time_at(100) == t[100] and s.time_at(0) == 0.0
    r = sim.run_ensemble(sim.Problem(LAND, NOISE, s, X0), 8, s.time_at(100),
                         save_times=[s.time_at(3), s.time_at(50) + 1e-9, 0.0])
    assert r.n_steps == 100 and list(r.steps) == [3, 50, 0]
    np.testing.assert_array_equal(r.times, t[[3, 50, 0]])
    assert r.t_end == t[100] and r.step_times.shape == (101,)
    # a run of a user array cannot be longer than the array
    f = sim.SGD(0.1).with_schedule(FromArray([1.0, 0.5, 0.25]))
    assert f.time_axis(f.time_at(3)).size == 4
    with pytest.raises(ValueError, match="t_max"):
        sim.run_ensemble(sim.Problem(LAND, NOISE, f, X0), 8, 1.0)
    with pytest.raises(ValueError, match="first step"):
        sim.run_ensemble(sim.Problem(LAND, NOISE, s, X0), 8, 0.05)


def test_observables_are_the_landscape_at_the_samples():
    """Observables are exact functions of the saved states: mean and standard error of L and ‖∇L‖²."""
    s = sim.Adam(0.05).with_schedule(InverseSqrt())
    r = _run(s, "numba")
    x = r.samples
    for name, vals in (("loss", LAND.value(x.reshape(-1, DIM)).reshape(x.shape[:2])),
                       ("grad_norm2", (LAND.gradient(x.reshape(-1, DIM)) ** 2).sum(-1).reshape(x.shape[:2]))):
        np.testing.assert_allclose(getattr(r, f"{name}_mean"), vals.mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(getattr(r, f"{name}_sem")[1:], vals.std(axis=1, ddof=1)[1:] / np.sqrt(N_PATHS),
                                   rtol=1e-10)
    mins, sems = r.running_min_grad_norm2()
    assert np.all(np.diff(mins[np.argsort(r.times)]) <= 0)
    g = r.grad_norm2_mean
    assert mins[2] == min(g) and mins[0] == g[0]


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="step_size"):
        StepDecay(0)
    with pytest.raises(ValueError, match="gamma"):
        StepDecay(3, 1.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        LinearWarmup(0)
    with pytest.raises(ValueError, match="shift"):
        InverseSqrt(-1.0)
    with pytest.raises(ValueError, match="factors"):
        FromArray([1.0, -1.0])
    with pytest.raises(TypeError, match="schedule"):
        sim.SGD(0.1).with_schedule("1/sqrt(t)")
    with pytest.raises(ValueError, match="box"):
        sim.SGD(0.1).with_schedule(box=(1.0, -1.0))
    with pytest.raises(ValueError, match="box"):
        sim.Problem(LAND, NOISE, sim.SGD(0.1).with_schedule(box=([0, 0], [1, 1])), X0)
    with pytest.raises(TypeError, match="box"):
        sim.SGD(0.1).with_schedule(box=3.0)


_KERNELS = """
import sys
import numpy as np
from optdyn import sim
from optdyn.sim.schedules import InverseSqrt
out = []
for name in sys.argv[2:]:
    opt = dict(sgd=sim.SGD(0.1), mom=sim.Momentum.ema(0.1, 0.7))[name]
    d = opt.with_schedule(InverseSqrt())
    pb = sim.Problem(sim.QuadraticSaddle([1.0, 0.5]), sim.WhiteNoise(0.3), d, [1.0, -1.0])
    r = sim.run_ensemble(pb, 8, d.time_at(20), save_times=[d.time_at(20)], seed=1, store_samples=True)
    out.append(r.samples[0])
np.save(sys.argv[1], np.array(out))
"""


def test_two_cached_kernels_in_one_process(tmp_path):
    """Two kernels compiled in *separate* processes and then loaded from the disk cache into one
    process give their own numbers (numba names a function by qualified name and a per-process
    counter; without the content tag of sim.backends.numba_backend the second kernel ran the first
    one's step)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPTDYN_CACHE_DIR": str(tmp_path / "cache"), "OPTDYN_CACHE": "1"}

    def run(*names):
        path = str(tmp_path / f"{'-'.join(names)}.npy")
        subprocess.run([sys.executable, "-c", _KERNELS, path, *names], check=True, env=env)
        return np.load(path)

    alone = [run("sgd")[0], run("mom")[0]]  # each compiled first in its own process
    both = run("sgd", "mom")  # both loaded from the cache
    np.testing.assert_array_equal(both, np.array(alone))
    assert not np.array_equal(alone[0], alone[1])
