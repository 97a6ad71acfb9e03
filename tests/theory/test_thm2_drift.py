"""The momentum-drift decomposition of Theorem 2 / Proposition 3 (left eigenvector, d, Var Z∞,
median exit time)."""
import numpy as np
import sympy as sp
from scipy import stats

from optdyn.theory import _ou, prop3, thm2
from optdyn.theory._symbols import B, H, eta, floor, r0, t, theta0
from optdyn.theory._symbols import beta1 as b1
from optdyn.theory._symbols import beta3 as b3
from optdyn.theory.core import lambdify_cached

F = thm2.FORMULAS
ARGS = (H, eta, B, b1, b3, floor, theta0, r0)


def _point(rng):
    return (-rng.uniform(0.01, 2), rng.uniform(0.005, 0.1), rng.uniform(0.5, 4), rng.uniform(0, 0.95),
            rng.uniform(0.05, 1), 0.0, rng.uniform(-1, 1), rng.uniform(-1, 1))


def test_left_eigenvector_symbolic(rng):
    """w A = λ₊ w and w·(1, λ₊) = 1 (at random unstable parameter points)."""
    w, a, lp = F["left_eigenvector"], F["A"], F["lambda_plus"]
    res = lambdify_cached(sp.Matrix([w * a - lp * w, [(w * sp.Matrix([1, lp]))[0] - 1, 0]]), ARGS)
    for _ in range(10):
        np.testing.assert_allclose(np.asarray(res(*_point(rng)), float), 0, atol=1e-9)


def test_drift_coefficient_gives_the_exact_mean(rng):
    lam = np.array([-0.05, -0.3, -1.0])
    for lr, beta1, beta3 in ((0.01, 0.9, 0.1), (0.05, 0.9, 1.0), (0.1, 0.5, 0.5)):
        d = thm2.drift_coefficient(lam, lr, beta1, beta3, 0.7)
        lp, lm = thm2.rates(lam, lr, beta1, beta3)
        tt = np.array([0.1, 1.0, 3.0])
        mean = thm2.momentum_drift(lam, lr, beta1, beta3, 0.7, tt)
        np.testing.assert_allclose(d * (np.exp(np.outer(tt, lp)) - np.exp(np.outer(tt, lm))), mean, rtol=1e-10)
        closed = lr * 0.7 / (1 - beta1) / np.sqrt(1 + 4 * beta3 * lr * np.abs(lam) / (1 - beta1) ** 2)
        np.testing.assert_allclose(d, closed, rtol=1e-12)


def test_drift_coefficient_with_theta0_matches_symbolic(rng):
    f = lambdify_cached(F["drift_coefficient"], ARGS)
    for _ in range(5):
        p = _point(rng)
        got = thm2.drift_coefficient([p[0]], p[1], p[3], p[4], p[7], theta0=p[6])[0]
        np.testing.assert_allclose(got, float(f(*p)), rtol=1e-10)


def test_stationary_z_variance_is_the_limit_of_the_exact_variance():
    lam = np.array([-0.2, -1.0])
    lr, beta1, beta3, batch = 0.05, 0.9, 1.0, 2.0
    lp, _ = thm2.rates(lam, lr, beta1, beta3)
    tt = np.array([40.0 / lp.min()])
    var = thm2.position_variance(lam, lr, batch, beta1, beta3, tt)[0]
    np.testing.assert_allclose(var * np.exp(-2 * lp * tt[0]), thm2.stationary_z_variance(lam, lr, batch, beta1, beta3),
                               rtol=1e-8)


def test_adai_drift_is_exactly_inverse_in_curvature():
    lam = np.array([2.0, -0.05, -0.1, -0.2, -0.4, -0.8])
    lr, beta0 = 0.01, 0.1
    d = prop3.drift_coefficient(lam, lr, beta0, 1.0)[1:]
    tr, n = np.abs(lam).sum(), lam.size
    x = lr * tr / (beta0 * n)
    np.testing.assert_allclose(d, lr * tr / (beta0 * n * np.abs(lam[1:]) * np.sqrt(1 + 4 * x)), rtol=1e-12)
    assert abs(np.polyfit(np.log(-lam[1:]), np.log(d), 1)[0] + 1) < 1e-12


def test_median_exit_time_at_rest_and_folded_normal_median(rng):
    lam = np.array([-0.1, -0.5])
    lr, beta1, beta3, batch, radius = 0.05, 0.9, 0.1, 1.0, 2.0
    lp = thm2.growth_rate_unstable(lam, lr, beta1, beta3)
    var = thm2.stationary_z_variance(lam, lr, batch, beta1, beta3)
    np.testing.assert_allclose(thm2.median_exit_time(lam, lr, batch, beta1, beta3, radius),
                               _ou.median_exit_time(lp, var, radius, warn=False), rtol=1e-10)
    for mu, sd in ((0.3, 0.1), (0.0, 1.0), (2.0, 0.5)):
        m = thm2._median_abs_normal(mu, sd)
        np.testing.assert_allclose(stats.foldnorm(mu / sd, scale=sd).median(), m, rtol=1e-8)
    # Adai's median is Theorem 2's with Adai's inertia
    full = np.array([2.0, -0.05, -0.4])
    w = prop3.inertia(full, 0.1)
    np.testing.assert_allclose(prop3.median_exit_time(full, 0.01, 1.0, 0.1, 1.0, r0=0.1)[1:],
                               thm2.median_exit_time(full[1:], 0.01, 1.0, 1 - w[1:], w[1:], 1.0, r0=0.1))
