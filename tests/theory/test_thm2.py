import numpy as np
import pytest
import sympy as sp

from optdyn.theory import thm2
from optdyn.theory._symbols import B, H, eta, floor, r0, t, theta0
from optdyn.theory._symbols import beta1 as b1
from optdyn.theory._symbols import beta3 as b3
from optdyn.theory.core import lambdify_cached

F = thm2.FORMULAS
SEED = 7


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


def test_formulas_solve_the_2x2_system_numerically(rng):
    # d mean/dt = A mean and dSigma/dt = A Sigma + Sigma A^T + Q at random parameter points
    a, q = F["A"], F["q"]
    mu_res = sp.diff(F["mean"], t) - a * F["mean"]
    cov_res = sp.diff(F["covariance"], t) - (a * F["covariance"] + F["covariance"] * a.T
                                             + sp.Matrix([[0, 0], [0, q]]))
    args = (H, eta, B, b1, b3, floor, theta0, r0, t)
    f_mu, f_cov = lambdify_cached(mu_res, args), lambdify_cached(cov_res, args)
    f_scale = lambdify_cached(F["covariance"], args)
    for _ in range(5):
        p = (complex(rng.uniform(-3, 3)), rng.uniform(0.01, 0.5), rng.uniform(1, 10), rng.uniform(0, 0.95),
             rng.uniform(0.05, 1), rng.uniform(0, 0.3), rng.normal(), rng.normal(),
             rng.uniform(0.1, 3))
        # residuals relative to the size of the terms (|A| * |moments|)
        a_norm = 1 + abs(p[0]) / p[1] + 1 / p[1]
        scale = np.abs(np.asarray(f_scale(*p), dtype=complex)).max()
        assert np.abs(np.asarray(f_mu(*p), dtype=complex)).max() < 1e-10 * a_norm * 10
        assert np.abs(np.asarray(f_cov(*p), dtype=complex)).max() < 1e-10 * a_norm * scale


def test_numpy_matches_lambdified_sympy(rng):
    args = (H, eta, B, b1, b3, floor, theta0, r0, t)
    f_mean, f_cov = lambdify_cached(F["mean"], args), lambdify_cached(F["covariance"], args)
    h = np.array([-2.0, -0.3, 0.4, 5.0])
    lr, bs, beta1, beta3, fl, th0, v0 = 0.05, 4.0, 0.8, 0.6, 0.1, 0.3, -0.7
    ts = np.array([0.2, 1.1])
    got_m = thm2.mean(h, lr, beta1, beta3, th0, v0, ts)
    got_c = thm2.covariance_2x2(h, lr, bs, beta1, beta3, ts, floor=fl)
    assert got_m.shape == (2, 4, 2) and got_c.shape == (2, 4, 2, 2)
    for i, ti in enumerate(ts):
        for j, hj in enumerate(h):
            pt = (complex(hj), lr, bs, beta1, beta3, fl, th0, v0, ti)
            want_m = np.asarray(f_mean(*pt), dtype=complex).ravel().real
            want_c = np.asarray(f_cov(*pt), dtype=complex).real
            np.testing.assert_allclose(got_m[i, j], want_m, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(got_c[i, j], want_c, rtol=1e-9, atol=1e-14)


def test_growth_rate_equals_lambda_plus_and_overdamped_limit(rng):
    lam = sp.Symbol("|H|", positive=True)
    diff = F["lambda_plus"].subs(H, -lam) - F["growth_rate_unstable"]
    fn = lambdify_cached(diff, (lam, eta, b1, b3))
    for _ in range(10):
        assert abs(fn(rng.uniform(0, 5), rng.uniform(0.01, 1), rng.uniform(0, 0.99),
                      rng.uniform(0.01, 1))) < 1e-10
    lim = sp.limit(F["growth_rate_unstable"], eta, 0)
    assert sp.simplify(lim - b3 * lam / (1 - b1)) == 0
    h = -np.array([0.1, 1.0, 10.0])
    lp, lm = thm2.rates(h, 0.05, 0.9, 1.0)
    np.testing.assert_allclose(thm2.growth_rate_unstable(h, 0.05, 0.9, 1.0), lp, rtol=1e-13)
    assert np.all(thm2.growth_rate_unstable(h, 0.05, 0.9, 1.0) <= 1.0 * np.abs(h) / 0.1)


def test_flat_direction_drift_limit():
    w = sp.Symbol("w", positive=True)  # w = 1 - beta1 > 0
    phi_flat = sp.simplify(F["momentum_drift"].subs(H, 0).subs(b1, 1 - w))
    assert sp.simplify(sp.limit(phi_flat, t, sp.oo) - F["flat_drift_limit"].subs(b1, 1 - w)) == 0
    drift = thm2.momentum_drift([0.0], 0.1, 0.9, 1.0, 2.0, [1e3])
    assert drift[0, 0] == pytest.approx(thm2.flat_drift_limit(0.1, 0.9, 2.0), rel=1e-12)
    # momentum drift is the mean from theta0 = 0
    m = thm2.mean([-1.0, 0.5], 0.1, 0.5, 0.5, 0.0, 1.0, [0.3, 2.0])
    np.testing.assert_allclose(thm2.momentum_drift([-1.0, 0.5], 0.1, 0.5, 0.5, 1.0, [0.3, 2.0]),
                               m[..., 0])


def test_ema_form_position_variance_tends_to_sgd_when_overdamped():
    from optdyn.theory import thm1

    h = np.array([-1.0, 0.5, 2.0])
    ts = np.array([0.5, 2.0])
    lr = 1e-4
    v_mom = thm2.position_variance(h, lr, 3.0, 0.9, 0.1, ts)
    v_sgd = thm1.variance(h, lr, 3.0, ts)
    np.testing.assert_allclose(v_mom, v_sgd, rtol=1e-2)


def test_stationary_position_variance_is_temperature_times_inverse_curvature():
    # EMA form: stationary Var theta = D/H (SGD's); beta3 = 1: D/(H(1-beta1))
    h, lr, bs, beta1 = np.array([0.7]), 0.02, 5.0, 0.9
    d = lr * h / (2 * bs)
    v = thm2.position_variance(h, lr, bs, beta1, 1 - beta1, [1e4])
    assert v[0, 0] == pytest.approx(d[0] / h[0], rel=1e-10)
    v1 = thm2.position_variance(h, lr, bs, beta1, 1.0, [1e4])
    assert v1[0, 0] == pytest.approx(d[0] / h[0] / (1 - beta1), rel=1e-10)


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=0.0), "lr"), (dict(beta1=1.0), "beta1"), (dict(beta1=-0.1), "beta1"),
    (dict(beta3=0.0), "beta3"), (dict(beta3=1.5), "beta3"), (dict(batch_size=-1.0), "batch_size"),
    (dict(t=-1.0), "t"), (dict(eigenvalues=[np.inf]), "eigenvalues"),
])
def test_bad_input(kwargs, name):
    a = dict(eigenvalues=[-1.0, 1.0], lr=0.1, batch_size=2.0, beta1=0.9, beta3=1.0, t=[1.0])
    a.update(kwargs)
    with pytest.raises(ValueError, match=name):
        thm2.covariance_2x2(**a)


def test_initial_condition_shape_mismatch():
    with pytest.raises(ValueError, match="theta0"):
        thm2.mean([-1.0, 1.0], 0.1, 0.9, 1.0, [1.0, 2.0, 3.0], 0.0, [1.0])
