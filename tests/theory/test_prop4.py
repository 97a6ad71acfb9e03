import numpy as np
import pytest
import sympy as sp

from optdyn.theory import ddt, prop3, prop4, thm3
from optdyn.theory._symbols import B, Ha, Hb, dL, eta, s
from optdyn.theory._symbols import beta0 as b0


def test_ratio_is_one_over_g():
    x = sp.Symbol("x", positive=True)
    w = prop4.FORMULAS["one_minus_beta1_e"]
    g = prop3.FORMULAS["g"].subs(x, eta * Hb / w)
    assert sp.simplify(prop4.FORMULAS["ratio_to_sgd"] - 1 / g) == 0
    assert sp.simplify(prop4.FORMULAS["exponent"] - ddt.FORMULAS_SGD["exponent"]) == 0


def test_growth_rate_consistent_with_prop3_and_thm3():
    h = np.array([-0.2, 0.5, 1.0, 3.0])
    rho = prop4.variance_ratio_at_saddle(h, 0)
    assert rho == pytest.approx(0.2 / np.mean(np.abs(h)))
    lam = prop4.growth_rate(-0.2, 0.05, 0.1, rho)
    assert lam == pytest.approx(prop3.growth_rate(h, 0.05, 0.1)[0], rel=1e-13)
    w = prop4.inertia_at_saddle(0.1, rho)
    assert lam == pytest.approx(thm3.growth_rate(-0.2, 0.05, 1 - w, w), rel=1e-14)


def test_same_exponent_as_sgd_and_ratio():
    args = (1.0, -2.0, 0.3, 0.1, 2.0)
    assert prop4.exponent(*args) == ddt.sgd_exponent(*args)
    for form in ("paper", "ito"):
        r = prop4.escape_time(*args, 0.1, form=form) / ddt.sgd_escape_time(*args, form=form)
        assert r == pytest.approx(prop4.ratio_to_sgd(-2.0, 0.1, 0.1), rel=1e-12)
    assert prop4.ratio_to_sgd(-2.0, 0.1, 0.1) >= 1.0


def test_numpy_matches_sympy():
    rho = sp.Symbol("v_e/vbar", positive=True)
    f = sp.lambdify((Ha, Hb, dL, eta, B, b0, rho, s), prop4.FORMULAS["escape_time_paper"])
    got = prop4.escape_time(1.3, -0.6, 0.2, 0.05, 2.0, 0.1, variance_ratio=2.0, s=0.3)
    assert got == pytest.approx(f(1.3, 0.6, 0.2, 0.05, 2.0, 0.1, 2.0, 0.3), rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="escape_index"):
        prop4.variance_ratio_at_saddle([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="beta0"):
        prop4.escape_time(1.0, -1.0, 1.0, 0.1, 1.0, 0.0)
    with pytest.raises(ValueError, match="variance_ratio"):
        prop4.inertia_at_saddle(0.1, -1.0)
