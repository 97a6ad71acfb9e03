import numpy as np
import pytest
import sympy as sp

from optdyn.theory import _kramers, ddt, thm2, thm3
from optdyn.theory._symbols import B, Ha, Hb, dL, eta, s
from optdyn.theory._symbols import beta1 as b1
from optdyn.theory._symbols import beta3 as b3


def test_gibbs_density_is_stationary_for_momentum_with_temperature_d_over_gamma():
    th, r = sp.symbols("theta r", real=True)
    h, d, m, gam = sp.symbols("H D M gamma", positive=True)
    temp = d / gam
    p = sp.exp(-(h * th**2 / 2 + m * r**2 / 2) / temp)
    # Kramers FP for d theta = r dt, M dr = -gamma r dt - H theta dt + sqrt(2D) dW
    fp = (-sp.diff(r * p, th) + sp.diff((gam * r + h * th) / m * p, r)
          + d / m**2 * sp.diff(p, r, 2))
    assert sp.simplify(fp / p) == 0
    # with M = eta/beta3, gamma = (1-beta1)/beta3 the temperature is D beta3/(1-beta1)
    assert sp.simplify(temp.subs(gam, (1 - b1) / b3) - d * b3 / (1 - b1)) == 0


def test_exponent_is_sgd_exponent_at_effective_lr():
    e_sgd = _kramers.SGD_EXPONENT
    assert sp.simplify(thm3.FORMULAS["exponent"] - e_sgd.subs(eta, eta * b3 / (1 - b1))) == 0
    assert sp.simplify(thm3.FORMULAS["exponent"].subs(b3, 1 - b1) - e_sgd) == 0
    assert thm3.exponent(2.0, -1.0, 0.5, 0.1, 4.0, 0.9) == pytest.approx(
        ddt.sgd_exponent(2.0, -1.0, 0.5, 0.1, 4.0), rel=1e-14)
    assert thm3.exponent(2.0, -1.0, 0.5, 0.1, 4.0, 0.9, beta3=1.0) == pytest.approx(
        ddt.sgd_exponent(2.0, -1.0, 0.5, 1.0, 4.0), rel=1e-14)


def test_overdamped_limit_recovers_sgd():
    w = sp.Symbol("w", positive=True)  # 1 - beta1
    lam = thm3.FORMULAS["lambda_plus"].subs({b1: 1 - w})
    assert sp.simplify(sp.limit(lam.subs(b3, w), eta, 0) - Hb) == 0
    assert sp.limit(thm3.FORMULAS["ratio_to_sgd"].subs({b1: 1 - w}), eta, 0) == 1
    tau_m = thm3.escape_time(1.5, -0.8, 0.01, 1e-4, 1.0, 0.9)
    tau_s = ddt.sgd_escape_time(1.5, -0.8, 0.01, 1e-4, 1.0)
    assert tau_m / tau_s == pytest.approx(1.0, rel=1e-3)


def test_ratio_at_least_one_and_matches_lambda():
    rng = np.random.default_rng(11)
    for _ in range(20):
        h_b, lr, beta1 = -rng.uniform(0.01, 10), rng.uniform(1e-3, 1), rng.uniform(0, 0.99)
        for beta3 in (None, 1.0, rng.uniform(0.01, 1)):
            assert thm3.ratio_to_sgd(h_b, lr, beta1, beta3) >= 1.0 - 1e-12
    lam = thm2.growth_rate_unstable([-2.0], 0.1, 0.9, 0.1)[0]
    assert thm3.ratio_to_sgd(-2.0, 0.1, 0.9) == pytest.approx(2.0 / lam, rel=1e-14)
    # ratio = tau_Mom / tau_SGD, EMA form, both conventions
    for form in ("paper", "ito"):
        ratio = (thm3.escape_time(1.0, -2.0, 0.3, 0.1, 2.0, 0.9, form=form)
                 / ddt.sgd_escape_time(1.0, -2.0, 0.3, 0.1, 2.0, form=form))
        assert ratio == pytest.approx(thm3.ratio_to_sgd(-2.0, 0.1, 0.9), rel=1e-12)


def test_numpy_matches_sympy():
    args = (Ha, Hb, dL, eta, B, b1, b3, s)
    f = sp.lambdify(args, thm3.FORMULAS["escape_time_paper"])
    fi = sp.lambdify(args, thm3.FORMULAS["escape_time_ito"])
    vals = (1.3, 0.6, 0.2, 0.05, 2.0, 0.8, 0.5, 0.3)
    assert thm3.escape_time(1.3, -0.6, 0.2, 0.05, 2.0, 0.8, 0.5, s=0.3) == pytest.approx(
        f(*vals), rel=1e-12)
    assert thm3.escape_time(1.3, -0.6, 0.2, 0.05, 2.0, 0.8, 0.5, s=0.3, form="ito") == \
        pytest.approx(fi(*vals), rel=1e-12)


@pytest.mark.parametrize("kwargs, name", [(dict(beta1=1.0), "beta1"), (dict(beta3=0.0), "beta3"),
                                          (dict(H_be=1.0), "H_be"), (dict(lr=0.0), "lr")])
def test_bad_input(kwargs, name):
    a = dict(H_ae=1.0, H_be=-1.0, delta_L=1.0, lr=0.1, batch_size=1.0, beta1=0.9)
    a.update(kwargs)
    with pytest.raises(ValueError, match=name):
        thm3.escape_time(**a)
