import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from optdyn.theory import prop1, thm2
from optdyn.theory._symbols import B, H, R, eta, floor, lam, q34, t
from optdyn.theory.core import lambdify_cached

F = prop1.FORMULAS
EPS = sp.Symbol("epsilon", nonnegative=True)


def test_paper_form_rate_and_isotropic_diffusion():
    kappa = F["kappa"].subs({floor: 0, EPS: 0})
    for sign in (+1, -1):
        hval = sign * lam
        assert sp.simplify(kappa.subs(H, hval) - sign * sp.sqrt(B * lam)) == 0
    assert sp.simplify(F["diffusion"].subs(EPS, 0) - eta / 2) == 0


def test_sigma2_solves_ode_and_limits():
    s2, kap, d = F["sigma2"], F["kappa"], F["diffusion"]
    assert sp.simplify(sp.diff(s2, t) - (-2 * kap * s2 + 2 * d)) == 0
    neg = s2.subs({H: -lam, floor: 0, EPS: 0})
    want = eta / (2 * sp.sqrt(B * lam)) * (sp.exp(2 * sp.sqrt(B * lam) * t) - 1)
    assert sp.simplify(neg - want) == 0


def test_variance_matches_sympy():
    f = lambdify_cached(F["sigma2"], (H, eta, B, t, floor, EPS))
    h = np.array([-3.0, -0.2, 0.5, 4.0])
    ts = np.array([0.1, 1.0])
    got = prop1.variance(h, 0.05, 8.0, ts, floor=0.1, eps=0.01)
    np.testing.assert_allclose(got, f(h[None], 0.05, 8.0, ts[:, None], 0.1, 0.01), rtol=1e-12)


def test_local_slope_closed_form():
    # without floor / eps: slope = -1/2 + 1/(4 L), L = ln(R/(q sigma_inf)), sigma_inf^2 = eta/(2 lam)
    lam_k = sp.sqrt(B * lam)
    big_l = sp.log(R / (q34 * sp.sqrt(eta / (2 * lam_k))))
    slope = F["local_slope"].subs({floor: 0, EPS: 0})
    fn = lambdify_cached(slope - (-sp.Rational(1, 2) + 1 / (4 * big_l)), (lam, eta, B, R))
    rng = np.random.default_rng(3)
    for _ in range(5):
        assert abs(fn(rng.uniform(0.01, 10), rng.uniform(1e-3, 0.1), rng.uniform(1, 64),
                      rng.uniform(0.5, 3))) < 1e-12
    # corrected: (1/2)[-1 + (1/2 + c2 e2)/(L - c2 e2)]
    c2, e2 = 1 - q34**2 / 2, eta / (2 * lam_k * R**2)
    want_c = (-1 + (sp.Rational(1, 2) + c2 * e2) / (big_l - c2 * e2)) / 2
    fc = lambdify_cached(F["local_slope_corrected"].subs({floor: 0, EPS: 0}) - want_c,
                         (lam, eta, B, R))
    assert abs(fc(0.7, 0.01, 4.0, 1.2)) < 1e-12


def test_local_slope_matches_finite_difference():
    h = -np.array([0.05, 0.5, 5.0])
    for corrected in (False, True):
        for fl, ep in ((0.0, 0.0), (0.2, 1e-2)):
            args = (0.01, 4.0, 1.0, fl, ep)
            d = 1e-5
            hi = prop1.median_exit_time(h * np.exp(d), *args, corrected=corrected, warn=False)
            lo = prop1.median_exit_time(h * np.exp(-d), *args, corrected=corrected, warn=False)
            fd = (np.log(hi) - np.log(lo)) / (2 * d)
            got = prop1.median_exit_time_local_slope(h, *args, corrected=corrected)
            np.testing.assert_allclose(got, fd, rtol=1e-7)
    assert prop1.escape_time_exponent() == -0.5


def test_median_exit_time_matches_sympy():
    args = (lam, eta, B, R, floor, EPS)
    f = lambdify_cached(F["median_exit_time_corrected"], args)
    got = prop1.median_exit_time(-0.3, 0.01, 4.0, 1.5, 0.1, 1e-3, corrected=True)
    assert got == pytest.approx(f(0.3, 0.01, 4.0, 1.5, 0.1, 1e-3), rel=1e-13)


def test_momentum_covariance_solves_lyapunov():
    h = np.array([-2.0, 0.3])
    lr, bs, beta1, ts = 0.05, 4.0, 0.9, 1.7
    got = prop1.covariance_2x2(h, lr, bs, beta1, [ts])[0]
    kappa = np.sign(h) * np.sqrt(bs * np.abs(h))
    for i in range(2):
        a = np.array([[0, 1], [-(1 - beta1) * kappa[i] / lr, -(1 - beta1) / lr]])
        qn = (1 - beta1) ** 2 / lr  # 2 D_A (1-beta1)^2 / eta^2 with D_A = eta/2

        def rhs(_, y):
            s = y.reshape(2, 2)
            return (a @ s + s @ a.T + np.diag([0.0, qn])).ravel()

        want = solve_ivp(rhs, (0, ts), np.zeros(4), rtol=1e-12, atol=1e-15,
                         method="DOP853").y[:, -1].reshape(2, 2)
        np.testing.assert_allclose(got[i], want, rtol=1e-8)


def test_momentum_tends_to_beta1_zero_when_overdamped():
    h, ts = np.array([-1.0, 2.0]), np.array([0.5, 1.0])
    v = prop1.position_variance(h, 1e-5, 2.0, 0.5, ts)
    np.testing.assert_allclose(v, prop1.variance(h, 1e-5, 2.0, ts), rtol=1e-3)
    # growth rate agrees with thm2's formula applied to kappa with beta3 = 1 - beta1
    g = prop1.growth_rate_unstable(h, 0.1, 2.0, 0.9)
    kappa = np.sqrt(2.0 * np.abs(h))
    np.testing.assert_allclose(g, thm2.growth_rate_unstable(kappa, 0.1, 0.9, 0.1), rtol=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="eigenvalues"):
        prop1.rates([0.0, 1.0], 2.0)
    assert np.isfinite(prop1.rates([0.0, 1.0], 2.0, floor=0.1)).all()
    with pytest.raises(ValueError, match="batch_size"):
        prop1.rates([1.0], 0.0)
    with pytest.raises(ValueError, match="eps"):
        prop1.rates([1.0], 1.0, eps=-1.0)
    with pytest.raises(ValueError, match="eigenvalue"):
        prop1.median_exit_time(1.0, 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="beta1"):
        prop1.covariance_2x2([1.0], 0.1, 1.0, 1.0, [1.0])
    with pytest.raises(ValueError, match="lr"):
        prop1.variance([1.0], -0.1, 1.0, [1.0])
