"""Bounded gradient noise (sim.bounded_noise): its law (frequencies, moments, bounds), identical
draws on every backend (two-point: exact equality, a threshold comparison; uniform: to round-off,
one erfc), and bad input.  Statistical tolerances: N_SE standard errors (tests/conftest.py)."""
import numpy as np
import pytest
from conftest import N_SE

from optdyn import sim
from optdyn.sim.bounded_noise import TwoPointNoise, UniformNoise

LAND = sim.QuadraticSaddle([1.0, 0.0, 0.5])
N = 40_000


def _draws(noise, rng):
    z = rng.standard_normal((N, 3))
    return noise.apply(np.zeros((N, 3)), z, LAND), z


def test_two_point_law(rng):
    noise = TwoPointNoise.zero_mean([10.0, 1.0, 2.0], [0.01, 0.5, 0.2])
    xi, _ = _draws(noise, rng)
    a, b, p = noise.a, noise.b, noise.p
    assert set(np.unique(xi[:, 0])) == {a[0], b[0]}
    freq = (xi == a).mean(axis=0)
    assert np.all(np.abs(freq - p) < N_SE * np.sqrt(p * (1 - p) / N))
    np.testing.assert_allclose(noise.mean(3), 0.0, atol=1e-15)
    sd = np.sqrt(noise.variance(3))
    assert np.all(np.abs(xi.mean(axis=0)) < N_SE * sd / np.sqrt(N))
    np.testing.assert_allclose(np.diag(noise.covariance(np.zeros(3), LAND)), noise.variance(3))
    assert np.all(np.abs(xi) <= noise.bound(3))
    r = TwoPointNoise.rademacher(2.0)
    assert set(np.unique(_draws(r, rng)[0])) == {-2.0, 2.0}


def test_uniform_law(rng):
    noise = UniformNoise([-1.0, 0.0, -3.0], [1.0, 2.0, -1.0])
    xi, _ = _draws(noise, rng)
    assert np.all(xi >= noise.low) and np.all(xi <= noise.high)
    # each coordinate uniform: its CDF at the quartiles, N_SE binomial standard errors
    for q in (0.25, 0.5, 0.75):
        x = noise.low + q * (noise.high - noise.low)
        assert np.all(np.abs((xi <= x).mean(axis=0) - q) < N_SE * np.sqrt(q * (1 - q) / N))
    np.testing.assert_allclose(noise.variance(3), [1 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize("noise", [TwoPointNoise.zero_mean(5.0, 0.1), UniformNoise(-0.5, 1.0)], ids=repr)
def test_compiled_equals_reference(noise, rng):
    bound = noise.bind(LAND)
    z = rng.standard_normal((200, 3))
    out, ref = np.empty(3), noise.apply(np.zeros((200, 3)), z, LAND)
    for p in range(200):
        bound.apply(np.zeros(3), z[p], LAND.params, bound.params, out, bound.scratch())
        if isinstance(noise, TwoPointNoise):
            np.testing.assert_array_equal(out, ref[p])
        else:
            np.testing.assert_allclose(out, ref[p], rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_backends_agree(backend):
    noise = TwoPointNoise([10.0, 1.0, -0.5], [-0.01, -1.0, 0.5], [0.05, 0.5, 0.5])
    dyn = sim.Adai(0.05, eps=0.3)
    pb = sim.Problem(LAND, noise, dyn, [0.3, -0.2, 0.1])
    kw = dict(save_times=[0.5, 1.0], seed=3, store_samples=True)
    a = sim.run_ensemble(pb, 64, 1.0, backend="numba", **kw)
    b = sim.run_ensemble(pb, 64, 1.0, backend=backend, **kw)
    np.testing.assert_allclose(a.samples, b.samples, rtol=1e-12, atol=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="p must"):
        TwoPointNoise(1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        UniformNoise(1.0, 0.5)
    with pytest.raises(ValueError, match="dim=3"):
        TwoPointNoise.rademacher([1.0, 2.0]).bind(LAND)
    with pytest.raises(TypeError, match="a"):
        TwoPointNoise("x", 1.0, 0.5)
