import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.stats import ortho_group

from optdyn import theory
from optdyn.theory import thm1
from optdyn.theory._symbols import B, H, R, eta, floor, lam, q34, t

RNG_SEED = 20240611


@pytest.fixture
def rng():
    return np.random.default_rng(RNG_SEED)


def test_sigma2_solves_scalar_lyapunov_ode():
    s2 = thm1.FORMULAS["sigma2"]
    d = thm1.FORMULAS["D"]
    assert sp.simplify(sp.diff(s2, t) - (-2 * H * s2 + 2 * d)) == 0
    assert sp.simplify(s2.subs(t, 0)) == 0


def test_sigma2_limits():
    s2 = thm1.FORMULAS["sigma2"]
    # H -> 0: 2 D t
    assert sp.simplify(sp.limit(s2.subs(floor, 0) / sp.Abs(H), H, 0, "+") - eta * t / B) == 0
    assert sp.simplify(sp.limit(s2, H, 0) - thm1.FORMULAS["sigma2_flat"]) == 0
    # unstable direction: (eta/2B)(e^{2|H|t} - 1)
    neg = s2.subs({H: -lam, floor: 0})
    assert sp.simplify(neg - eta / (2 * B) * (sp.exp(2 * lam * t) - 1)) == 0


def test_variance_matches_lambdified_sympy(rng):
    f = thm1._sympy_sigma2()
    h = rng.uniform(-3, 3, size=7)
    ts = rng.uniform(0, 2, size=5)
    lr, bs, fl = 0.05, 8.0, 0.3
    got = thm1.variance(h, lr, bs, ts, floor=fl)
    want = f(h[None, :], lr, bs, ts[:, None], fl)
    assert got.shape == (5, 7)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_variance_flat_and_tiny_curvature():
    ts = np.array([0.0, 0.5, 3.0])
    v = thm1.variance([0.0, 1e-12, -1e-12], 0.1, 2.0, ts, floor=0.5)
    np.testing.assert_allclose(v[:, 0], 2 * 0.1 * 0.5 / 4.0 * ts, rtol=0, atol=0)
    np.testing.assert_allclose(v[:, 1], v[:, 0], rtol=1e-11)
    np.testing.assert_allclose(v[:, 2], v[:, 0], rtol=1e-11)
    # scalar t gives shape (n,)
    assert thm1.variance([1.0, -1.0], 0.1, 2.0, 1.0).shape == (2,)


def test_covariance_solves_matrix_lyapunov_ode_for_rotated_hessian(rng):
    n = 4
    u = ortho_group.rvs(n, random_state=rng)
    lamb = np.array([-2.0, -0.3, 0.7, 1.5])
    hess = u @ np.diag(lamb) @ u.T
    lr, bs, fl = 0.1, 5.0, 0.05
    dmat = lr / (2 * bs) * (u @ np.diag(np.abs(lamb) + fl) @ u.T)

    def rhs(_, y):
        s = y.reshape(n, n)
        return (-hess @ s - s @ hess + 2 * dmat).ravel()

    ts = np.array([0.0, 0.3, 1.0, 2.5])
    sol = solve_ivp(rhs, (0, ts[-1]), np.zeros(n * n), t_eval=ts, rtol=1e-12, atol=1e-14,
                    method="DOP853")
    want = sol.y.T.reshape(len(ts), n, n)
    got = thm1.covariance(hess, lr, bs, ts, floor=fl)
    assert got.shape == (4, n, n)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(got, np.swapaxes(got, -1, -2), atol=1e-15)


def test_escape_exponent_and_exact_scaling():
    assert thm1.escape_time_exponent() == -1.0
    h = -np.array([0.01, 0.1, 1.0, 10.0])
    tm = thm1.median_exit_time(h, 0.01, 1.0, 1.0, corrected=True)
    slope = np.polyfit(np.log(-h), np.log(tm), 1)[0]
    assert slope == pytest.approx(-1.0, abs=1e-12)


def test_median_exit_time_matches_sympy():
    args = (lam, eta, B, R, floor)
    lead = thm1.lambdify_cached(thm1.FORMULAS["median_exit_time"], args)
    corr = thm1.lambdify_cached(thm1.FORMULAS["median_exit_time_corrected"], args)
    for h, lr, bs, rad, fl in [(-0.5, 0.01, 4.0, 0.8, 0.0), (-2.0, 0.1, 16.0, 2.0, 0.3)]:
        assert thm1.median_exit_time(h, lr, bs, rad, fl) == pytest.approx(
            lead(-h, lr, bs, rad, fl), rel=1e-13)
        assert thm1.median_exit_time(h, lr, bs, rad, fl, corrected=True) == pytest.approx(
            corr(-h, lr, bs, rad, fl), rel=1e-13)
    assert float(q34) == pytest.approx(0.6744897501960817, rel=1e-15)


def test_median_correction_coefficient_from_density_of_log_abs_normal():
    # d/dv log f_V(v) at the median, V = -log|G|, G ~ N(0,1): equals q^2 - 1
    v = sp.Symbol("v", real=True)
    f_v = 2 * sp.exp(-sp.exp(-2 * v) / 2) / sp.sqrt(2 * sp.pi) * sp.exp(-v)
    dlog = sp.diff(sp.log(f_v), v).subs(v, -sp.log(q34))
    assert sp.simplify(dlog - (q34**2 - 1)) == 0
    # E log|1+delta| = -eps^2/2 + O(eps^4), E log^2|1+delta| = eps^2 + O(eps^4) (Taylor moments)
    e, d = sp.symbols("epsilon delta", positive=True)
    series = sp.series(sp.log(1 + d), d, 0, 5).removeO()
    gauss = {d: 0, d**2: e**2, d**3: 0, d**4: 3 * e**4}

    def expect(poly):
        poly = sp.expand(poly)
        return sum(poly.coeff(d, k) * gauss.get(d**k, 0) for k in range(1, 5))

    mean, second = expect(series), expect(series**2)
    assert sp.series(mean, e, 0, 3).removeO() == -e**2 / 2
    assert sp.series(second, e, 0, 3).removeO() == e**2


def test_median_exit_warns_outside_regime():
    with pytest.warns(theory.ValidityWarning):
        thm1.median_exit_time(-1.0, 1.0, 1.0, 0.5)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(lr=0.0), "lr"),
        (dict(lr=-1.0), "lr"),
        (dict(batch_size=0.0), "batch_size"),
        (dict(floor=-0.1), "floor"),
        (dict(t=[-1.0]), "t"),
        (dict(t=[[1.0]]), "t"),
        (dict(eigenvalues=[np.nan]), "eigenvalues"),
        (dict(eigenvalues=[[1.0, 2.0]]), "eigenvalues"),
    ],
)
def test_variance_bad_input(kwargs, name):
    args = dict(eigenvalues=[1.0, -1.0], lr=0.1, batch_size=2.0, t=[0.0, 1.0], floor=0.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        thm1.variance(**args)


@pytest.mark.parametrize("hess", [np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones((2, 3)),
                                  np.array([[np.inf, 0.0], [0.0, 1.0]])])
def test_covariance_bad_hessian(hess):
    with pytest.raises(ValueError, match="hessian"):
        thm1.covariance(hess, 0.1, 2.0, 1.0)


def test_median_exit_bad_input():
    with pytest.raises(ValueError, match="eigenvalue"):
        thm1.median_exit_time(0.5, 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="radius"):
        thm1.median_exit_time(-0.5, 0.1, 1.0, 0.0)
