import numpy as np
import pytest
import sympy as sp

from optdyn import theory
from optdyn.theory import adamod

F = adamod.FORMULAS


def test_warmup_weight_is_geometric_sum():
    assert sp.simplify(F["warmup_weight"].doit() - F["warmup_weight_closed"]) == 0


def test_smoothed_steps_obey_the_bound():
    rng = np.random.default_rng(5)
    eta = rng.lognormal(size=(200, 3))
    for beta3 in (0.0, 0.5, 0.9, 0.999):
        s = adamod.smoothed_step_sizes(eta, beta3)
        bound = adamod.step_size_bound(eta, beta3)
        assert np.all(s <= bound * (1 + 1e-14))
    np.testing.assert_array_equal(adamod.smoothed_step_sizes(eta, 0.0), eta)
    # constant step sizes attain the bound
    const = np.full(50, 0.3)
    np.testing.assert_allclose(adamod.smoothed_step_sizes(const, 0.9),
                               adamod.step_size_bound(const, 0.9), rtol=1e-13)


def _adam_step(m, v, k, lr, beta1, beta2, eps):
    return lr * (m / (1 - beta1**k)) / (np.sqrt(v / (1 - beta2**k)) + eps)


def _adamod_step_beta3_zero(m, v, k, lr, beta1, beta2, eps):
    eta_k = lr * np.sqrt(1 - beta2**k) / ((1 - beta1**k) * (np.sqrt(v) + eps))
    return min(eta_k, eta_k) * m


def test_beta3_zero_is_adam_up_to_eps():
    rng = np.random.default_rng(9)
    for _ in range(20):
        m, v, k = rng.normal(), rng.lognormal(-10, 3), int(rng.integers(1, 5000))
        for eps in (0.0, 1e-8):
            adam = _adam_step(m, v, k, 1e-3, 0.9, 0.999, eps)
            amod = _adamod_step_beta3_zero(m, v, k, 1e-3, 0.9, 0.999, eps)
            ratio = adamod.adam_step_ratio(v, k, 0.999, eps)
            assert amod / adam == pytest.approx(ratio, rel=1e-12)
            assert abs(ratio - 1) <= eps / (np.sqrt(v) + eps) + 1e-15
    assert adamod.adam_step_ratio(1e-6, 10, 0.999, 0.0) == 1.0


def test_symbolic_ratio():
    r = F["adam_step_ratio"]
    sym = {x.name: x for x in r.free_symbols}
    sv, eps, b2, k = sym["sqrt_v"], sym["epsilon"], sym["beta_2"], sym["k"]
    assert r.subs(eps, 0) == 1  # exact when eps = 0
    assert sp.simplify(r.subs(b2**k, 0)) == 1  # bias correction -> 1: exact again
    # relative difference eps (1 - sqrt(1 - beta2^k)) / (sqrt(v) + eps)
    want = 1 - eps * (1 - sp.sqrt(1 - b2**k)) / (sv + eps)
    assert sp.simplify(r - want) == 0


def test_entry():
    e = theory.get("adamod-a1")
    assert "(iii)" in e.statement and "empirical" in e.statement
    assert "1910.12249" in e.source


def test_bad_input():
    with pytest.raises(ValueError, match="beta3"):
        adamod.step_size_bound([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="step_sizes"):
        adamod.smoothed_step_sizes([-1.0], 0.5)
    with pytest.raises(ValueError, match="step_sizes"):
        adamod.smoothed_step_sizes(1.0, 0.5)
