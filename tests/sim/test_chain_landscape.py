"""WellChain and LinearSlope (sim/landscapes/chain.py): gradient and Hessian against finite
differences, compiled against NumPy, and the rigorous constants Theorem 4's bound uses."""
import numpy as np
import pytest

from optdyn import sim


@pytest.mark.parametrize("coupling", [0.0, 0.5, -1.3])
def test_derivatives(coupling, rng):
    land = sim.WellChain(6, coupling)
    x = 1.5 * rng.standard_normal((20, 6))
    h = 1e-6
    fd = np.stack([(land.value(x + h * e) - land.value(x - h * e)) / (2 * h) for e in np.eye(6)], -1)
    np.testing.assert_allclose(land.gradient(x), fd, rtol=1e-7, atol=1e-8)
    fdh = np.stack([(land.gradient(x + h * e) - land.gradient(x - h * e)) / (2 * h) for e in np.eye(6)], -1)
    np.testing.assert_allclose(land.hessian(x), fdh, rtol=1e-6, atol=1e-7)
    f = land.numba_functions()
    g, hh = np.empty(6), np.empty((6, 6))
    for p in range(20):
        f.gradient(x[p], land.params, g)
        f.hessian(x[p], land.params, hh)
        np.testing.assert_allclose(g, land.gradient(x[p]), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(hh, land.hessian(x[p]), rtol=1e-14, atol=1e-15)


def test_constants_bound_the_landscape(rng):
    land = sim.WellChain(10, 0.5)
    c = land.constants()
    x = np.concatenate([3 * rng.standard_normal((20000, 10)), rng.uniform(-30, 30, (2000, 10))])
    assert np.abs(land.gradient(x)).max() <= c["grad_inf"]
    assert np.abs(np.linalg.eigvalsh(land.hessian(x[:4000]))).max() <= c["smoothness"]
    assert land.value(x).min() >= c["inf_value"]
    # the tails beyond the grid of _sup_abs and the Lipschitz constant of φ'' used there
    t = np.linspace(12, 1e4, 100000)
    assert np.all(np.abs(land.phi1(t)) <= 4.1 / t) and np.all(np.abs(land.phi2(t)) <= 12 / t**2)
    s = np.linspace(-12, 12, 200001)
    assert np.abs(np.diff(land.phi2(s)) / np.diff(s)).max() < 10.0


def test_linear_slope():
    land = sim.LinearSlope([0.1, -2.0])
    x = np.array([[0.5, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(land.value(x), [-1.95, -0.1])
    np.testing.assert_allclose(land.gradient(x), [[0.1, -2.0]] * 2)
    g = np.empty(2)
    land.numba_functions().gradient(x[0], land.params, g)
    np.testing.assert_array_equal(g, [0.1, -2.0])
