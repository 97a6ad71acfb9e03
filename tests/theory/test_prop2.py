import numpy as np
import pytest
import sympy as sp
from _theory_mfpt import mfpt

from optdyn.theory import adamod, landscape, prop2
from optdyn.theory._symbols import B, Ha, Hb, dL, eta, s
from optdyn.theory._symbols import beta1 as b1


def test_adam_exponent_is_the_quasi_potential():
    x = sp.Symbol("x", real=True)
    well, barrier, c, b = landscape.symbolic_profile(x)
    d = eta / 2
    phi = (sp.integrate(sp.sqrt(B / Ha) * sp.diff(well, x) / d, (x, 0, c))
           + sp.integrate(sp.sqrt(B / Hb) * sp.diff(barrier, x) / d, (x, c, b)))
    e = prop2.FORMULAS["exponent"].subs(s, landscape.FORMULAS["s"])
    assert sp.simplify(phi - e) == 0


def test_laplace_prefactor():
    y = sp.Symbol("y", real=True)
    d = eta / 2
    curv_a, curv_b = sp.sqrt(B / Ha) * Ha / d, sp.sqrt(B / Hb) * Hb / d  # Phi'' at a and b
    pref = (sp.integrate(sp.exp(-curv_b * y**2 / 2), (y, -sp.oo, sp.oo))
            * sp.integrate(sp.exp(-curv_a * y**2 / 2), (y, -sp.oo, sp.oo)) / d)
    want = prop2.FORMULAS["escape_time_alr"] / sp.exp(prop2.FORMULAS["exponent"])
    assert sp.simplify(pref - want) == 0


@pytest.mark.parametrize("h_a, h_b", [(1.0, 1.0), (4.0, 1.0), (1.0, 4.0)])
def test_alr_escape_time_approaches_exact_mfpt(h_a, h_b):
    bs = 2.0
    errors = []
    for e_target in (20.0, 40.0, 80.0):
        s_ = h_b / (h_a + h_b)
        lr = 2 * np.sqrt(bs) * (s_ / np.sqrt(h_a) + (1 - s_) / np.sqrt(h_b)) / e_target
        t_exact, e = mfpt(h_a, h_b, 1.0, np.sqrt(bs / h_a), lr / 2, np.sqrt(bs / h_b), lr / 2)
        assert e == pytest.approx(prop2.exponent(h_a, -h_b, 1.0, lr, bs), rel=1e-12)
        tau = prop2.escape_time_alr(h_a, -h_b, 1.0, lr, bs) * np.exp(-e)
        errors.append(abs(t_exact / tau - 1))
    assert errors[-1] < 5e-3


def test_momentum_factor_and_limits():
    # beta1 = 0 keeps the EMA model's mass eta: equal to tau_ALR up to O(eta kappa_b)
    ratio = (prop2.escape_time(1.0, -2.0, 0.3, 1e-2, 2.0, 0.0)
             / prop2.escape_time_alr(1.0, -2.0, 0.3, 1e-2, 2.0))
    assert ratio == pytest.approx(2.0 / prop2.growth_rate(-2.0, 1e-2, 2.0, 0.0), rel=1e-13)
    for lr in (1e-2, 1e-4):
        kappa_eta = lr * 2.0
        ratio = 2.0 / prop2.growth_rate(-2.0, lr, 2.0, 0.0)
        assert ratio == pytest.approx(1.0 + kappa_eta, rel=2 * kappa_eta**2)
    w = sp.Symbol("w", positive=True)
    lam = prop2.FORMULAS["lambda_plus"].subs(b1, 1 - w)
    assert sp.simplify(sp.limit(lam, eta, 0) - sp.sqrt(B * Hb)) == 0
    assert prop2.escape_time(1.0, -2.0, 0.3, 0.1, 2.0, 0.9) > prop2.escape_time_alr(
        1.0, -2.0, 0.3, 0.1, 2.0)


def test_scaling_laws_of_the_exponent():
    # log tau ~ 1/sqrt(H_ae) and sqrt(B)/eta (SGD: 1/H_ae and B/eta)
    e = prop2.FORMULAS["exponent"]
    assert sp.simplify(sp.diff(e, B) * 2 * B - e) == 0  # e proportional to sqrt(B)
    assert sp.simplify(sp.diff(e, eta) * eta + e) == 0  # e proportional to 1/eta
    u = sp.Symbol("u", positive=True)  # u = 1/sqrt(H_ae)
    e_u = e.subs(Ha, 1 / u**2)
    assert sp.simplify(sp.diff(e_u, u, 2)) == 0  # linear in 1/sqrt(H_ae)


def test_numpy_matches_sympy_and_adamod_delegates():
    f = sp.lambdify((Ha, Hb, dL, eta, B, b1, s), prop2.FORMULAS["escape_time"])
    got = prop2.escape_time(1.3, -0.6, 0.2, 0.05, 2.0, 0.8, s=0.3)
    assert got == pytest.approx(f(1.3, 0.6, 0.2, 0.05, 2.0, 0.8, 0.3), rel=1e-12)
    assert adamod.escape_time(1.3, -0.6, 0.2, 0.05, 2.0, 0.8, s=0.3) == got
    assert adamod.exponent(1.3, -0.6, 0.2, 0.05, 2.0) == prop2.exponent(1.3, -0.6, 0.2, 0.05, 2.0)


def test_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        prop2.escape_time(1.0, -1.0, 1.0, 0.1, 0.0)
    with pytest.raises(ValueError, match="beta1"):
        prop2.escape_time(1.0, -1.0, 1.0, 0.1, 1.0, beta1=-0.5)
