import numpy as np
import pytest
import sympy as sp

from optdyn.theory import prop3, thm1, thm2
from optdyn.theory._symbols import beta1 as b1
from optdyn.theory._symbols import beta3 as b3
from optdyn.theory._symbols import lam
from optdyn.theory.core import lambdify_cached

F = prop3.FORMULAS


def test_growth_rate_is_thm2_lambda_plus_symbolically():
    # thm2's growth rate with 1 - beta1 = beta3 = beta0 n |H| / ||H||_tr
    w = F["one_minus_beta1"]
    thm2_rate = thm2.FORMULAS["growth_rate_unstable"].subs(sp.Symbol("|H|", positive=True), lam)
    thm2_rate = thm2_rate.subs({b1: 1 - w, b3: w})
    assert sp.simplify(thm2_rate - F["growth_rate"]) == 0
    # g(x) = 2/(1+sqrt(1+4x)), g -> 1 as x -> 0
    x = sp.Symbol("x", positive=True)
    assert sp.simplify(F["g"] - 2 / (1 + sp.sqrt(1 + 4 * x))) == 0
    assert sp.limit(F["g"], x, 0) == 1


def test_drift_limit_is_thm2_flat_limit():
    w = F["one_minus_beta1"]
    flat = thm2.FORMULAS["flat_drift_limit"].subs(b1, 1 - w)
    r0 = sp.Symbol("r_0", real=True)
    assert sp.simplify(flat - F["momentum_drift_limit"].subs(sp.Symbol("r_0", real=True), r0)) == 0


def test_inertia_clip_and_closed_form():
    h = np.array([-0.01, 0.5, 1.0, -2.0, 10.0])
    n, tr = h.size, np.abs(h).sum()
    w = prop3.inertia(h, 0.1, eps=1e-3)
    np.testing.assert_allclose(w, np.clip(0.1 * n * np.abs(h) / tr, 1e-3, 1.0), rtol=1e-15)
    assert prop3.inertia([1e-9, 1.0], 0.1, eps=1e-3)[0] == 1e-3  # clipped at eps
    assert prop3.inertia([1.0, 1e-9], 5.0)[0] == 1.0  # clipped at 1 (beta1 = 0)


def test_numpy_growth_rate_vs_thm2_and_formula():
    h = np.array([-0.05, -0.3, 0.8, 2.0])
    lr, beta0 = 0.05, 0.1
    w = prop3.inertia(h, beta0)
    want = thm2.growth_rate_unstable(h, lr, 1 - w, w)
    np.testing.assert_allclose(prop3.growth_rate(h, lr, beta0), want, rtol=1e-13)
    x = lr * np.abs(h).sum() / (beta0 * h.size)
    f = lambdify_cached(F["g"], (sp.Symbol("x", positive=True),))
    np.testing.assert_allclose(prop3.growth_rate(h, lr, beta0), np.abs(h) * f(x), rtol=1e-13)


def test_drift_limit_numpy():
    h = np.array([-0.05, -0.3, 0.8, 2.0])
    got = prop3.momentum_drift_limit(h, 0.1, 0.1, 1.5)
    np.testing.assert_allclose(got, 0.1 * 1.5 * np.abs(h).sum() / (0.1 * 4 * np.abs(h)))
    # the drift of thm2 on an (almost) flat direction at large t reaches it
    d = prop3.mean([1e-12, 1.0], 0.1, 0.1, 0.0, 1.0, [1e5])[0, 0, 0]
    assert d == pytest.approx(prop3.momentum_drift_limit([1e-12, 1.0], 0.1, 0.1, 1.0)[0],
                              rel=1e-6)


def test_stationary_variance_is_sgds():
    h = np.array([0.2, 1.0, 3.0])
    v = prop3.position_variance(h, 0.01, 4.0, 0.1, [1e5])
    np.testing.assert_allclose(v[0], thm1.variance(h, 0.01, 4.0, 1e5), rtol=1e-9)


@pytest.mark.parametrize("kwargs, name", [
    (dict(beta0=0.0), "beta0"), (dict(eps=0.0), "eps"), (dict(eps=1.0), "eps"),
    (dict(eigenvalues=[0.0, 0.0]), "eigenvalues"), (dict(floor=-1.0), "floor"),
])
def test_bad_input(kwargs, name):
    a = dict(eigenvalues=[1.0, -2.0], beta0=0.1, eps=1e-3, floor=0.0)
    a.update(kwargs)
    with pytest.raises(ValueError, match=name):
        prop3.inertia(**a)
