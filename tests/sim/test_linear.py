"""Exact linear-Gaussian moments vs closed forms, ODE integration and plain iteration."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from optdyn.sim import (SGD, HessianNoise, NoExit, Problem, QuadraticSaddle, SGDLangevin,
                 affine_recursion_moments, exact_scheme_moments, exact_sde_moments,
                 linear_sde_moments, random_rotation)

# expm and the recursions are exact up to round-off (~1e-14 relative); the ODE solver is run with
# rtol/atol 1e-11, so a comparison with it is good to ~1e-9.
TOL_EXACT = 1e-12
TOL_ODE = 1e-8


def test_linear_sde_diagonal_closed_form():
    a = np.array([-1.0, 0.5, 0.0])
    q = np.array([0.3, 0.2, 0.7])
    b = np.array([0.4, -0.1, 0.2])
    m0 = np.array([1.0, 2.0, -1.0])
    c0 = np.diag([0.1, 0.0, 0.05])
    t = np.array([0.0, 0.5, 2.0])
    mean, cov = linear_sde_moments(np.diag(a), b, np.diag(q), m0, c0, t)
    for i, ti in enumerate(t):
        e = np.exp(a * ti)
        # m(t) = e^{at} m0 + b (e^{at} - 1)/a   (b t for a = 0)
        growth = np.where(a != 0, np.expm1(a * ti) / np.where(a != 0, a, 1.0), ti)
        assert np.allclose(mean[i], e * m0 + b * growth, rtol=TOL_EXACT, atol=TOL_EXACT)
        # s^2(t) = e^{2at} s0^2 + (q / 2a)(e^{2at} - 1)   (q t for a = 0); off-diagonals stay 0.
        var_growth = np.where(a != 0, np.expm1(2 * a * ti) / np.where(a != 0, 2 * a, 1.0), ti)
        want = np.diag(e**2 * np.diag(c0) + q * var_growth)
        assert np.allclose(cov[i], want, rtol=TOL_EXACT, atol=TOL_EXACT)


def test_linear_sde_nonsymmetric_vs_ode():
    A = np.array([[-0.5, 1.2], [-0.3, 0.2]])
    b = np.array([0.1, -0.2])
    L = np.array([[0.5, 0.0], [0.3, 0.4]])
    Q = L @ L.T
    m0, c0 = np.array([0.3, -0.7]), np.array([[0.2, 0.05], [0.05, 0.1]])
    t = np.array([0.3, 1.0, 2.5])
    mean, cov = linear_sde_moments(A, b, Q, m0, c0, t)

    def rhs(_, y):
        m, S = y[:2], y[2:].reshape(2, 2)
        return np.concatenate([A @ m + b, (A @ S + S @ A.T + Q).ravel()])

    sol = solve_ivp(rhs, (0, t[-1]), np.concatenate([m0, c0.ravel()]), t_eval=t, rtol=1e-11,
                    atol=1e-11, method="DOP853")
    assert sol.success
    for i in range(t.size):
        assert np.allclose(mean[i], sol.y[:2, i], atol=TOL_ODE, rtol=0)
        assert np.allclose(cov[i], sol.y[2:, i].reshape(2, 2), atol=TOL_ODE, rtol=0)


def test_affine_recursion_vs_iteration(rng):
    F = rng.standard_normal((3, 3)) * 0.4
    b = rng.standard_normal(3)
    L = rng.standard_normal((3, 3))
    Q = L @ L.T
    m0 = rng.standard_normal(3)
    steps = np.array([7, 0, 3, 12])  # unsorted on purpose
    mean, cov = affine_recursion_moments(F, b, Q, m0, None, steps)
    for i, k in enumerate(steps):
        m, S = m0.copy(), np.zeros((3, 3))
        for _ in range(k):
            m, S = F @ m + b, F @ S @ F.T + Q
        assert np.allclose(mean[i], m, rtol=TOL_EXACT, atol=TOL_EXACT)
        assert np.allclose(cov[i], S, rtol=TOL_EXACT, atol=TOL_EXACT)
    # Closed-form covariance: sum_{j<k} F^j Q F^jT.
    k = 12
    S = sum(np.linalg.matrix_power(F, j) @ Q @ np.linalg.matrix_power(F, j).T for j in range(k))
    assert np.allclose(cov[3], S, rtol=1e-10)


@pytest.fixture
def saddle_problem():
    land = QuadraticSaddle([1.5, -0.4], rotation=random_rotation(2, seed=8), center=[0.2, -0.1])
    return Problem(land, HessianNoise(2.0, floor=0.1), SGD(0.05), [0.5, 0.3], exit=NoExit())


def test_exact_scheme_moments_sgd(saddle_problem):
    p = saddle_problem
    H, eta = p.landscape.H, p.dynamics.lr
    C = p.noise.covariance(np.zeros(2), p.landscape)
    F, Q = np.eye(2) - eta * H, eta**2 * C
    b = eta * H @ p.landscape.center
    steps = np.array([0, 1, 10, 40])
    got = exact_scheme_moments(p, steps)
    want = affine_recursion_moments(F, b, Q, p.x0, None, steps)
    for g, w in zip(got, want):
        assert np.allclose(g, w, rtol=TOL_EXACT, atol=TOL_EXACT)
    # One step by hand: x1 = x0 - eta (H (x0 - c) + xi).
    assert np.allclose(got[0][1], p.x0 - eta * H @ (p.x0 - p.landscape.center))
    assert np.allclose(got[1][1], eta**2 * C)


def test_euler_scheme_converges_to_sde(saddle_problem):
    """The exact moments of the Euler–Maruyama scheme approach those of the SDE at rate O(dt)."""
    t = 1.0
    errs = []
    dts = [0.02, 0.01, 0.005]
    for dt in dts:
        p = saddle_problem.replace(dynamics=SGDLangevin(0.05, dt=dt))
        ms, cs = exact_scheme_moments(p, [round(t / dt)])
        me, ce = exact_sde_moments(p, [t])
        errs.append(np.max(np.abs(cs - ce)) + np.max(np.abs(ms - me)))
    order = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert order == pytest.approx(1.0, abs=0.1)
