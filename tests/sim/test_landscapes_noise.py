"""Landscapes and noise models: closed forms vs finite differences, square roots, compiled apply."""
import numpy as np
import pytest

from optdyn.sim import HessianNoise, QuadraticSaddle, WhiteNoise, random_rotation
from optdyn.sim.landscapes.quadratic import _quadratic_hessian
from optdyn.sim.noise import _make_apply_hessian_factor

# Central differences have truncation error O(h^2 * third derivative) = 0 on a quadratic, so
# the error is round-off ~ eps * |L| / h; with h = 1e-5 and |L| ~ 10 that is ~1e-10.
FD_STEP = 1e-5
FD_TOL = 1e-7


def _fd_gradient(f, x, h=FD_STEP):
    e = np.eye(x.size)
    return np.array([(f(x + h * e[i]) - f(x - h * e[i])) / (2 * h) for i in range(x.size)])


@pytest.fixture
def saddle():
    return QuadraticSaddle([2.0, -0.5, 0.3], rotation=random_rotation(3, seed=4),
                           center=[0.1, -0.2, 0.3], value_at_center=1.5)


def test_value_gradient_hessian_vs_finite_differences(saddle, rng):
    for x in rng.standard_normal((5, 3)):
        g = _fd_gradient(saddle.value, x)
        assert np.allclose(saddle.gradient(x), g, atol=FD_TOL, rtol=0)
        hfd = np.array([_fd_gradient(lambda y: saddle.gradient(y)[i], x) for i in range(3)])
        assert np.allclose(saddle.hessian(x), hfd, atol=FD_TOL, rtol=0)
    assert saddle.value(saddle.center) == pytest.approx(1.5)
    assert np.allclose(saddle.gradient(saddle.center), 0.0)


def test_vectorised_over_leading_axes(saddle, rng):
    x = rng.standard_normal((4, 2, 3))
    assert saddle.value(x).shape == (4, 2)
    assert saddle.gradient(x).shape == (4, 2, 3)
    assert saddle.hessian(x).shape == (4, 2, 3, 3)
    assert np.allclose(saddle.gradient(x)[1, 0], saddle.gradient(x[1, 0]))


def test_rotation_sets_eigenvectors(saddle):
    h = saddle.hessian(np.zeros(3))
    u, lam = saddle.rotation, saddle.eigenvalues
    assert np.allclose(h @ u, u * lam)  # columns of U are eigenvectors
    assert np.allclose(np.sort(np.linalg.eigvalsh(h)), np.sort(lam))
    r = random_rotation(4, seed=1)
    assert np.allclose(r.T @ r, np.eye(4), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_from_hessian_round_trip(saddle):
    q = QuadraticSaddle.from_hessian(saddle.H, center=saddle.center, value_at_center=1.5)
    assert np.allclose(q.H, saddle.H, atol=1e-13)
    assert np.allclose(np.sort(q.eigenvalues), np.sort(saddle.eigenvalues))
    x = np.array([0.3, 0.4, -1.0])
    assert q.value(x) == pytest.approx(saddle.value(x), abs=1e-13)


def test_compiled_landscape_functions(saddle, rng):
    f = QuadraticSaddle.numba_functions()
    for x in rng.standard_normal((3, 3)):
        g, h = np.empty(3), np.empty((3, 3))
        f.gradient(x, saddle.params, g)
        f.hessian(x, saddle.params, h)
        assert np.allclose(g, saddle.gradient(x), atol=1e-14)
        assert np.array_equal(h, saddle.H)


@pytest.mark.parametrize("floor", [0.0, 0.2])
def test_hessian_noise_sqrt_squared_is_covariance(saddle, floor, rng):
    noise = HessianNoise(batch_size=8.0, floor=floor)
    x = rng.standard_normal((4, 3))
    s = noise.sqrt_covariance(x, saddle)
    c = noise.covariance(x, saddle)
    assert np.allclose(s @ s, c, atol=1e-14)
    assert np.allclose(s, np.swapaxes(s, -1, -2))  # symmetric root
    # C = ([H]^+ + floor I)/B: eigenvalues (|lambda| + floor)/B.
    ev = np.sort(np.linalg.eigvalsh(c[0]))
    assert np.allclose(ev, np.sort((np.abs(saddle.eigenvalues) + floor) / 8.0))


def test_white_noise(saddle, rng):
    noise = WhiteNoise(0.7)
    x = rng.standard_normal((2, 3))
    assert np.allclose(noise.covariance(x, saddle), 0.49 * np.eye(3))
    assert np.allclose(noise.sqrt_covariance(x, saddle), 0.7 * np.eye(3))
    b = noise.bind(saddle)
    z, out = rng.standard_normal(3), np.empty(3)
    b.apply(x[0], z, saddle.params, b.params, out, b.scratch())
    assert np.allclose(out, 0.7 * z, atol=1e-15)


def test_compiled_apply_constant_factor(saddle, rng):
    noise = HessianNoise(4.0, floor=0.1)
    b = noise.bind(saddle)
    assert b.constant
    for x in rng.standard_normal((3, 3)):
        z, out = rng.standard_normal(3), np.empty(3)
        b.apply(x, z, saddle.params, b.params, out, b.scratch())
        assert np.allclose(out, noise.sqrt_covariance(x, saddle) @ z, atol=1e-14)


def test_compiled_apply_eigh_path(saddle, rng):
    """The position-dependent path (eigen-decomposition in the kernel), driven by the quadratic's
    compiled Hessian: must equal the NumPy symmetric square root times z."""
    noise = HessianNoise(4.0, floor=0.1)
    apply = _make_apply_hessian_factor(_quadratic_hessian, 3)
    nzp = np.array([1.0 / noise.batch_size, noise.floor])
    for x in rng.standard_normal((3, 3)):
        z, out = rng.standard_normal(3), np.empty(3)
        apply(x, z, saddle.params, nzp, out, np.empty(1))
        assert np.allclose(out, noise.sqrt_covariance(x, saddle) @ z, atol=1e-13)
