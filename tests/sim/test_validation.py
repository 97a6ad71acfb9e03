"""Bad input: every public entry point fails early with an error that names the parameter."""
import math

import numpy as np
import pytest

from optdyn.sim import (SGD, BallExit, HalfSpaceExit, HessianNoise, NoExit, Problem, QuadraticSaddle,
                 SGDLangevin, SlabExit, WhiteNoise, get_backend, linear_sde_moments,
                 run_ensemble)

LAND = QuadraticSaddle([1.0, -0.5])
NOISE = HessianNoise(4.0)


def _problem(**kw):
    args = dict(landscape=LAND, noise=NOISE, dynamics=SGD(0.1), x0=[0.0, 0.0])
    args.update(kw)
    return Problem(**args)


GOOD = _problem(exit=BallExit([0.0, 0.0], 1.0))


@pytest.mark.parametrize("lr", [0.0, -0.1, math.inf, math.nan])
@pytest.mark.parametrize("cls", [SGD, SGDLangevin])
def test_lr(cls, lr):
    with pytest.raises(ValueError, match="lr"):
        cls(lr)


@pytest.mark.parametrize("bad", ["0.1", None, True])
def test_lr_type(bad):
    with pytest.raises(TypeError, match="lr"):
        SGD(bad)


@pytest.mark.parametrize("dt", [0.0, -1.0, math.nan])
def test_dt(dt):
    with pytest.raises(ValueError, match="dt"):
        SGDLangevin(0.1, dt=dt)


@pytest.mark.parametrize("b", [0.0, -2.0, math.inf])
def test_batch_size(b):
    with pytest.raises(ValueError, match="batch_size"):
        HessianNoise(b)


def test_noise_floor_and_sigma():
    with pytest.raises(ValueError, match="floor"):
        HessianNoise(1.0, floor=-0.1)
    with pytest.raises(ValueError, match="sigma"):
        WhiteNoise(-1.0)


@pytest.mark.parametrize("h", [[[1.0, np.nan], [np.nan, 2.0]], [[1.0, np.inf], [np.inf, 2.0]]])
def test_hessian_not_finite(h):
    with pytest.raises(ValueError, match="hessian"):
        QuadraticSaddle.from_hessian(h)


def test_hessian_not_symmetric_or_square():
    with pytest.raises(ValueError, match="hessian"):
        QuadraticSaddle.from_hessian([[1.0, 0.5], [0.2, 2.0]])
    with pytest.raises(ValueError, match="hessian"):
        QuadraticSaddle.from_hessian([[1.0, 0.5, 0.0], [0.5, 2.0, 0.0]])


def test_eigenvalues_rotation_center():
    with pytest.raises(ValueError, match="eigenvalues"):
        QuadraticSaddle([1.0, np.nan])
    with pytest.raises(ValueError, match="eigenvalues"):
        QuadraticSaddle([])
    with pytest.raises(ValueError, match="rotation"):
        QuadraticSaddle([1.0, 2.0], rotation=[[1.0, 0.1], [0.0, 1.0]])
    with pytest.raises(ValueError, match="rotation"):
        QuadraticSaddle([1.0, 2.0], rotation=np.eye(3))
    with pytest.raises(ValueError, match="center"):
        QuadraticSaddle([1.0, 2.0], center=[0.0, 0.0, 0.0])


def test_x0_dimension():
    with pytest.raises(ValueError, match="x0"):
        _problem(x0=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="x0"):
        _problem(x0=[0.0, np.nan])


@pytest.mark.parametrize("exit", [BallExit([0.0, 0.0, 0.0], 1.0), HalfSpaceExit([1.0], 1.0),
                                  SlabExit([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], 1.0)])
def test_exit_dimension(exit):
    with pytest.raises(ValueError, match="exit"):
        _problem(exit=exit)


@pytest.mark.parametrize("exit", [BallExit([2.0, 0.0], 1.0), HalfSpaceExit([1.0, 0.0], -1.0),
                                  SlabExit([0.5, 0.0], [1.0, 0.0], 0.2)])
def test_exit_contains_start(exit):
    with pytest.raises(ValueError, match="x0 lies in the exit region"):
        _problem(exit=exit)


def test_exit_region_parameters():
    with pytest.raises(ValueError, match="radius"):
        BallExit([0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="direction"):
        SlabExit([0.0, 0.0], [0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="half_width"):
        SlabExit([0.0, 0.0], [1.0, 0.0], -1.0)
    with pytest.raises(ValueError, match="normal"):
        HalfSpaceExit([0.0, 0.0], 1.0)


def test_initial_state_length():
    with pytest.raises(ValueError, match="initial_state"):
        _problem(initial_state=[1.0])


def test_problem_part_types():
    with pytest.raises(TypeError, match="landscape"):
        _problem(landscape="quadratic")
    with pytest.raises(TypeError, match="noise"):
        _problem(noise=None)
    with pytest.raises(TypeError, match="dynamics"):
        _problem(dynamics=0.1)
    with pytest.raises(TypeError, match="exit"):
        _problem(exit="ball")
    with pytest.raises(TypeError, match="problem"):
        run_ensemble("not a problem", 10, 1.0)


@pytest.mark.parametrize("n", [0, -5])
def test_n_paths(n):
    with pytest.raises(ValueError, match="n_paths"):
        run_ensemble(GOOD, n, 1.0)


def test_n_paths_type():
    with pytest.raises(TypeError, match="n_paths"):
        run_ensemble(GOOD, 10.5, 1.0)


@pytest.mark.parametrize("t", [0.0, -1.0, math.inf, math.nan])
def test_t_max(t):
    with pytest.raises(ValueError, match="t_max"):
        run_ensemble(GOOD, 10, t)


@pytest.mark.parametrize("times", [[-0.1], [0.5, 1.5], [np.nan], [[0.1, 0.2]]])
def test_save_times(times):
    with pytest.raises(ValueError, match="save_times"):
        run_ensemble(GOOD, 10, 1.0, save_times=times)


@pytest.mark.parametrize("seed", [-1, 2**63])
def test_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        run_ensemble(GOOD, 10, 1.0, seed=seed)


def test_seed_type():
    with pytest.raises(TypeError, match="seed"):
        run_ensemble(GOOD, 10, 1.0, seed=1.5)


def test_backend():
    with pytest.raises(ValueError, match="backend"):
        run_ensemble(GOOD, 10, 1.0, backend="fortran")
    with pytest.raises(TypeError, match="backend"):
        get_backend(3)


@pytest.mark.parametrize("c", [0, -1])
def test_chunk_size(c):
    with pytest.raises(ValueError, match="chunk_size"):
        run_ensemble(GOOD, 10, 1.0, chunk_size=c)


def test_threads_and_recording():
    with pytest.raises(ValueError, match="n_threads"):
        run_ensemble(GOOD, 10, 1.0, n_threads=0)
    with pytest.raises(ValueError, match="n_threads"):
        run_ensemble(GOOD, 10, 1.0, n_threads=10**6)
    with pytest.raises(ValueError, match="record_every"):
        run_ensemble(GOOD, 10, 1.0, record_every=0)
    with pytest.raises(ValueError, match="n_record"):
        run_ensemble(GOOD, 10, 1.0, n_record=-1)


def test_linear_solver_inputs():
    with pytest.raises(ValueError, match="Q"):
        linear_sde_moments(-np.eye(2), None, [[1.0, 0.2], [0.0, 1.0]], [0.0, 0.0], None, [1.0])
    with pytest.raises(ValueError, match="A"):
        linear_sde_moments(-np.ones((2, 3)), None, np.eye(2), [0.0, 0.0], None, [1.0])
    with pytest.raises(ValueError, match="times"):
        linear_sde_moments(-np.eye(2), None, np.eye(2), [0.0, 0.0], None, [-1.0])
    with pytest.raises(ValueError, match="mean0"):
        linear_sde_moments(-np.eye(2), None, np.eye(2), [0.0], None, [1.0])
