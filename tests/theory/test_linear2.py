import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from optdyn.theory import _linear2 as L

S = L.SYMBOLIC


def test_symbolic_mean_solves_linear_ode():
    mu, a, t = S["mean"], S["A"], S["t"]
    assert sp.simplify(sp.diff(mu, t) - a * mu) == sp.zeros(2, 1)
    assert sp.simplify(mu.subs(t, 0) - sp.Matrix([S["theta0"], S["r0"]])) == sp.zeros(2, 1)


def test_symbolic_covariance_solves_lyapunov_ode():
    cov, a, q, t = S["cov"], S["A"], S["Q"], S["t"]
    resid = sp.diff(cov, t) - (a * cov + cov * a.T + q)
    assert sp.simplify(resid) == sp.zeros(2, 2)
    assert sp.simplify(cov.subs(t, 0)) == sp.zeros(2, 2)


def test_roots_are_eigenvalues_of_a():
    lam = sp.Symbol("x")
    k, g = sp.symbols("k g", positive=True)
    a = sp.Matrix([[0, 1], [-k, -g]])
    poly = a.charpoly(lam).as_expr()
    lp = -g / 2 + sp.sqrt(g**2 / 4 - k)
    assert sp.simplify(poly.subs(lam, lp)) == 0
    # the symbolic k, g in terms of the roots reproduce the characteristic polynomial
    assert sp.expand((lam - S["lambda_p"]) * (lam - S["lambda_m"])
                     - (lam**2 + S["g"] * lam + S["k"])) == 0


def _lyapunov_ivp(k, g, q, t):
    def f(_, y):
        a, b, c = y
        return [2 * b, c - k * a - g * b, -2 * k * b - 2 * g * c + q]

    y = solve_ivp(f, (0, t), [0, 0, 0], rtol=1e-12, atol=1e-15, method="DOP853").y[:, -1]
    return np.array([[y[0], y[1]], [y[1], y[2]]])


@pytest.mark.parametrize(
    "k, g, q, t",
    [(-1.0, 2.0, 0.5, 1.3), (3.0, 1.0, 1.0, 2.0), (1.0, 2.0, 1.0, 1.5),  # critical damping
     (1.0 + 1e-9, 2.0, 1.0, 1.5), (0.0, 3.0, 1.0, 2.0), (-0.2, 10.0, 1.0, 4.0),
     (25.0, 10.000001, 2.0, 0.7), (5.0, 0.1, 1.0, 30.0), (-0.3, 100.0, 1.0, 20.0),
     (2.0, 1.0, 1.0, 1e-6)],
)
def test_covariance_against_ode(k, g, q, t):
    got = L.covariance(k, g, q, t)
    want = _lyapunov_ivp(k, g, q, t)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-14 * np.abs(want).max())


@pytest.mark.parametrize("k, g, t", [(-1.0, 2.0, 1.3), (3.0, 1.0, 2.0), (1.0, 2.0, 1.5),
                                     (0.0, 3.0, 2.0), (-0.3, 100.0, 20.0), (1.0, 2.0, 0.0)])
def test_propagator_against_expm(k, g, t):
    from scipy.linalg import expm

    want = expm(np.array([[0.0, 1.0], [-k, -g]]) * t)
    np.testing.assert_allclose(L.propagator(k, g, t), want, rtol=1e-12, atol=1e-13)


def test_growth_rate_matches_root():
    k, g = -np.array([0.0, 1e-12, 0.5, 40.0]), np.array([1.0, 1.0, 2.0, 0.3])
    lp, _ = L.roots(k, g)
    np.testing.assert_allclose(L.growth_rate(k, g), lp, rtol=1e-14, atol=0)
    assert L.growth_rate(-1e-12, 1.0) == pytest.approx(1e-12, rel=1e-9)
