"""theory/thm4.py: the SymPy algebra of the bound, its NumPy functions, the regime where it is
vacuous, its rate, and the bias proposition's fixed point."""
import numpy as np
import pytest
import sympy as sp

from optdyn import theory
from optdyn.theory import thm4

KW = dict(eta0=0.1, smoothness=4.8, grad_bound=3.9, dim=10, eps=0.3, gap=10.0)


def test_geometric_sums_symbolically():
    e, k = thm4.eps, sp.Symbol("k", positive=True, integer=True)
    assert sp.simplify(thm4.FORMULAS["sum_geometric"] - (1 - e) / e) == 0
    assert sp.simplify(thm4.FORMULAS["sum_k_geometric"] - (1 - e) / e**2) == 0
    # numerically at ε = 0.3, partial sums converge to the closed forms
    kk = np.arange(1, 400)
    assert np.isclose((kk * 0.7**kk).sum(), 0.7 / 0.09, rtol=1e-12)


def test_functions_equal_formulas():
    T = np.array([1e2, 1e4, 1e6])
    sub = {thm4.Ls: KW["smoothness"], thm4.G: KW["grad_bound"], thm4.n: KW["dim"], thm4.eps: KW["eps"],
           thm4.eta0: KW["eta0"], thm4.gap: KW["gap"]}
    for name, corrected in (("min_grad_inv_sqrt", False), ("min_grad_inv_sqrt_corrected", True)):
        f = sp.lambdify(thm4.T, thm4.FORMULAS[name].subs(sub), "numpy")
        np.testing.assert_allclose(thm4.min_grad_bound(T, corrected=corrected, **KW), f(T), rtol=1e-12)


def test_min_bound_dominates_the_exact_sums():
    """The 1/√t form uses Σ η_t ≥ 2η₀(√(T+1)−1) and Σ η_t² ≤ η₀²(1 + ln T): it is ≥ the weighted-sum
    bound with the exact sums divided by the exact Σ η_t."""
    base = {k: v for k, v in KW.items() if k != "eta0"}
    for T in (1, 10, 1000, 100_000):
        etas = KW["eta0"] / np.sqrt(np.arange(1, T + 1))
        exact = thm4.weighted_sum_bound(etas, **base) / etas.sum()
        assert exact <= thm4.min_grad_bound(T, **KW) * (1 + 1e-12)


def test_vacuous_at_small_eps_informative_at_large():
    T = np.array([1e2, 1e4, 1e6, 1e8])
    assert np.all(thm4.is_vacuous(T, **{**KW, "eps": 1e-3}))
    assert not thm4.is_vacuous(1e5, **KW)


def test_rate_is_log_t_over_sqrt_t():
    slopes = thm4.bound_log_slope(np.array([1e4, 1e8, 1e16]), **KW)
    assert np.all(np.diff(slopes) < 0) and slopes[-1] < -0.45  # → −½ from above, slowly (log T)
    T = 1e12
    ratio = thm4.min_grad_bound(T, **KW) / (np.log(T) / np.sqrt(T))
    assert 0 < ratio < np.inf


def test_corrected_has_no_deficit_and_eps_cubed():
    b = thm4.min_grad_bound(1e4, corrected=True, **{**KW, "gap": 0.0})
    e = KW["eps"]
    s1, h = thm4.inv_sqrt_sums(1e4)
    lc, g, n = KW["smoothness"], KW["grad_bound"], KW["dim"]
    assert np.isclose(b, KW["eta0"] * n * lc * g * g * (0.5 + 3 * (1 - e) / e**3) * h / s1, rtol=1e-12)


def test_bias_fixed_point_and_entry():
    assert thm4.bias_fixed_point(0.02, 2.0) == (-0.01, 0.02**2)
    assert theory.get("thm4") is thm4.ENTRY
    with pytest.raises(ValueError, match="eps"):
        thm4.min_grad_bound(10, **{**KW, "eps": 0.0})
    with pytest.raises(ValueError, match="etas"):
        thm4.weighted_sum_bound([0.1, 0.2], smoothness=1, grad_bound=1, dim=1, eps=0.5, gap=0)
