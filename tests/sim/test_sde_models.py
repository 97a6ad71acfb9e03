"""Continuous models of docs/theory.md §4 (sim.dynamics): the kick – exact OU – kick integrator (weak order,
overdamped limit, stiffness), its exact affine model against Monte Carlo, and the models' structure
(Theorem 2's drift matrix, Adai's masses, Adam's isotropic diffusion).  Compiled step vs NumPy
reference and the backends: test_dynamics_contract.py, over the registry."""
import mpmath
import numpy as np
import pytest
from scipy.stats import linregress

from optdyn.sim import (AdaiSDE, AdamSDE, HessianNoise, MomentumSDE, Problem, QuadraticSaddle,
                 SGDLangevin, WhiteNoise, exact_scheme_moments, exact_scheme_state_moments,
                 exact_sde_moments, exact_sde_state_moments, random_rotation, run_ensemble)
from optdyn.sim.dynamics.underdamped import numpy_ou_step_coefficients, ou_step_coefficients

ALPHA_SE = 4.0
N_PATHS_MC = 20_000
T_ORDER = 1.0
DT_FRACTIONS = np.array([8, 16, 32, 64, 128])  # steps per unit time in the order fits

ROTATED = QuadraticSaddle([2.0, -0.5], rotation=random_rotation(2, 1), center=[0.05, 0.0])
AXIS = QuadraticSaddle([2.0, -0.5])
NOISE = HessianNoise(2.0)
X0 = [0.2, 0.1]
R0 = [0.3, -0.2]


def problem(dyn, landscape=ROTATED, noise=NOISE, r0=R0):
    init = None if dyn.overdamped else dyn.state_with_velocity(r0)
    return Problem(landscape, noise, dyn, X0, initial_state=init)


def second_moment_error(make, landscape, dt):
    """|E θ₁² (scheme, exact recursion) - E θ₁² (SDE, exact)| at T_ORDER."""
    pr = problem(make(dt), landscape)
    m_e, c_e = exact_sde_moments(pr, [T_ORDER])
    m_s, c_s = exact_scheme_moments(pr, [int(round(T_ORDER / dt))])
    return abs((c_s[0, 0, 0] + m_s[0, 0] ** 2) - (c_e[0, 0, 0] + m_e[0, 0] ** 2))


# ----------------------------------------------------------------------------------------------
# order of convergence (weak), from the exact moments of the scheme (no Monte Carlo noise)
# ----------------------------------------------------------------------------------------------
ORDER_CASES = {
    "momentum": (lambda dt: MomentumSDE(0.1, 0.8, 1.0, dt), ROTATED, 2.0),
    "momentum-ema": (lambda dt: MomentumSDE(0.1, 0.8, 0.2, dt), ROTATED, 2.0),
    "adam": (lambda dt: AdamSDE(0.1, 0.8, 1e-8, dt), ROTATED, 2.0),
    "adai-rotated": (lambda dt: AdaiSDE(0.1, 0.5, 1e-3, dt), ROTATED, 2.0),
    "adai-axis": (lambda dt: AdaiSDE(0.1, 0.5, 1e-3, dt), AXIS, 2.0),
    "adam-overdamped-em": (lambda dt: AdamSDE(0.1, 0.0, 1e-8, dt), ROTATED, 1.0),
}


@pytest.mark.parametrize("case", list(ORDER_CASES))
def test_weak_order_of_convergence(case):
    make, landscape, order = ORDER_CASES[case]
    dts = T_ORDER / DT_FRACTIONS
    errors = [second_moment_error(make, landscape, dt) for dt in dts]
    fit = linregress(np.log(dts), np.log(errors))
    # measured: 1.98 (momentum), 2.00 (ema, adam), 1.99 / 2.01 (adai), 0.89 (Euler–Maruyama,
    # whose pre-asymptotic slope approaches 1 from below)
    assert abs(fit.slope - order) < 0.15, (case, fit.slope, errors)
    assert fit.rvalue > 0.99


# ----------------------------------------------------------------------------------------------
# overdamped (stiff) limit
# ----------------------------------------------------------------------------------------------
def _overdamped_em(dyn, landscape, noise, n_steps):
    """Exact moments of Euler–Maruyama for γ dθ = -∇L dt + √η C^{1/2} dW (time rescaled to SGD's)."""
    g = dyn.gamma
    em = SGDLangevin(dyn.lr / g, dyn.dt / g)
    return exact_scheme_moments(Problem(landscape, noise, em, X0), [n_steps])


@pytest.mark.parametrize("lr", [1e-6, 1e-9, 1e-13])
def test_overdamped_limit_is_euler_maruyama_of_the_limit_equation(lr):
    # M/γ = lr/(1-β1) ≪ Δt: the θ-law of the scheme is that of Euler–Maruyama for the
    # overdamped equation, up to O(M/(γΔt)); exponentials never overflow (a·Δt up to 1e11)
    dt = 0.01
    for beta3 in (0.1, 1.0):
        dyn = MomentumSDE(lr, 0.9, beta3, dt)
        n = int(round(T_ORDER / dt))
        m_s, c_s = exact_scheme_moments(problem(dyn, r0=[0.0, 0.0]), [n])
        m_em, c_em = _overdamped_em(dyn, ROTATED, NOISE, n)
        assert np.all(np.isfinite(c_s))
        np.testing.assert_allclose(c_s, c_em, rtol=200 * lr / dt)
        # the mean misses half a drift step at the start (r0 = 0 is not the quasi-static
        # velocity): a one-off O(Δt) error, bounded by Δt·max|H|/(2γ) relative
        rtol = dt * np.max(np.abs(ROTATED.eigenvalues)) / (2 * dyn.gamma)
        assert np.linalg.norm(m_s - m_em) < rtol * np.linalg.norm(m_em)


def test_overdamped_limit_converges_to_the_sde_at_first_order():
    lr = 1e-7  # M/γ = 1e-6: Δt/(M/γ) ≥ 5e3 for every Δt below
    dts = T_ORDER / np.array([50, 100, 200, 400])
    errors = [second_moment_error(lambda dt: MomentumSDE(lr, 0.9, 0.1, dt), ROTATED, dt)
              for dt in dts]
    slope = linregress(np.log(dts), np.log(errors)).slope
    assert abs(slope - 1.0) < 0.15


def test_monte_carlo_in_the_stiff_regime_matches_the_scheme():
    dyn = MomentumSDE(1e-6, 0.9, 0.1, dt=0.02)  # a·Δt = 2e4
    pr = problem(dyn, r0=[0.0, 0.0])
    _check_mc_against_scheme(pr, np.array([10, 50]))


# ----------------------------------------------------------------------------------------------
# Monte Carlo against the exact moments of the scheme (the kernel implements the scheme)
# ----------------------------------------------------------------------------------------------
def _check_mc_against_scheme(pr, steps):
    dt = pr.dynamics.dt
    res = run_ensemble(pr, N_PATHS_MC, steps[-1] * dt, save_times=steps * dt, seed=4)
    mean, cov = exact_scheme_moments(pr, steps)
    n = res.n_alive[:, None]
    var = np.diagonal(cov, axis1=1, axis2=2)
    assert np.all(np.abs(res.mean - mean) < ALPHA_SE * np.sqrt(var / n))
    assert np.all(np.abs(np.diagonal(res.cov, axis1=1, axis2=2) - var)
                  < ALPHA_SE * var * np.sqrt(2.0 / (n - 1)))


@pytest.mark.parametrize("dyn", [MomentumSDE(0.1, 0.8, 1.0, dt=0.05), AdaiSDE(0.1, 0.5, dt=0.05),
                                 AdamSDE(0.1, 0.8, dt=0.05)], ids=repr)
def test_monte_carlo_matches_exact_scheme_moments(dyn):
    _check_mc_against_scheme(problem(dyn), np.array([4, 20]))


# ----------------------------------------------------------------------------------------------
# the exact affine model of the scheme (compiled step vs NumPy reference and the backends: the
# registry's contract tests, test_dynamics_contract.py)
# ----------------------------------------------------------------------------------------------
def test_affine_model_reproduces_the_numpy_step():
    rng = np.random.default_rng(8)
    dyn = AdaiSDE(0.1, 0.5, dt=0.07)
    F, b, Q = dyn.affine_model(ROTATED, NOISE)
    x, r = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    z = np.zeros((1, 4))  # the deterministic part
    x1, r1 = dyn.numpy_step(x, r, z, 1, ROTATED, NOISE)
    np.testing.assert_allclose(F @ np.concatenate([x[0], r[0]]) + b, np.concatenate([x1[0], r1[0]]),
                               rtol=1e-13)
    # the noise part: covariance of the step's response to z, Jacobian-wise
    jac = np.empty((4, 4))
    for j in range(4):
        zj = np.zeros((1, 4))
        zj[0, j] = 1.0
        xj, rj = dyn.numpy_step(x, r, zj, 1, ROTATED, NOISE)
        jac[:, j] = np.concatenate([xj[0] - x1[0], rj[0] - r1[0]])
    np.testing.assert_allclose(jac @ jac.T, Q, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------------------
# OU coefficients
# ----------------------------------------------------------------------------------------------
def _ou_exact(a, h, gamma):
    mpmath.mp.dps = 40
    a, h, gamma = mpmath.mpf(a), mpmath.mpf(h), mpmath.mpf(gamma)
    x = a * h
    e1, e2 = -mpmath.expm1(-x), -mpmath.expm1(-2 * x)
    alpha = mpmath.sqrt(a * e2 / 2) / gamma
    beta = e1**2 / (2 * gamma**2) / alpha
    var_tt = (x - 2 * e1 + e2 / 2) / (a * gamma**2)
    return [float(v) for v in (mpmath.exp(-x), e1 / a, alpha, beta,
                               mpmath.sqrt(var_tt - beta**2))]


@pytest.mark.parametrize("a", [1e-9, 1e-4, 3.0, 4.99, 5.01, 40.0, 1e4, 1e12])
def test_ou_step_coefficients_against_high_precision(a):
    h, gamma = 0.1, 0.7
    ref = _ou_exact(a, h, gamma)
    np.testing.assert_allclose(ou_step_coefficients(a, h, gamma), ref, rtol=1e-11)
    np.testing.assert_allclose([c.item() for c in numpy_ou_step_coefficients([a], h, gamma)], ref,
                               rtol=1e-11)


# ----------------------------------------------------------------------------------------------
# structure of the models (docs/theory.md §4–§5)
# ----------------------------------------------------------------------------------------------
def test_momentum_linear_sde_is_theorem_2_system():
    eta, b1, b3 = 0.1, 0.8, 0.5
    dyn = MomentumSDE(eta, b1, b3)
    lam = np.array([2.0, -0.5])
    A, b, Q = dyn.linear_sde(AXIS, NOISE)
    for i in range(2):  # per eigen-direction: (θ_i, r_i)
        idx = [i, i + 2]
        np.testing.assert_allclose(A[np.ix_(idx, idx)], [[0, 1], [-b3 * lam[i] / eta, -(1 - b1) / eta]])
        d_i = eta * abs(lam[i]) / (2 * NOISE.batch_size)
        np.testing.assert_allclose(Q[i + 2, i + 2], 2 * d_i * b3**2 / eta**2)
    assert dyn.mass(np.zeros(2), AXIS, NOISE)[0] == pytest.approx(eta / b3)
    assert dyn.gamma == pytest.approx((1 - b1) / b3)


def test_momentum_flat_direction_drift_of_the_sde():
    # docs/theory.md §5 Thm 2: μ(∞) = η r0/(1-β1) along a flat direction
    dyn = MomentumSDE(0.1, 0.9, 0.3)
    pr = Problem(QuadraticSaddle([0.0]), WhiteNoise(0.0), dyn, [0.0],
                 initial_state=dyn.state_with_velocity([2.0]))
    mean, _ = exact_sde_moments(pr, [50.0])
    assert mean[0, 0] == pytest.approx(0.1 * 2.0 / 0.1, rel=1e-10)
    state_mean, _ = exact_sde_state_moments(pr, [50.0])
    assert state_mean.shape == (1, 2) and abs(state_mean[0, 1]) < 1e-10


def test_adai_masses_are_proposition_3():
    beta0, n = 0.1, 3
    land = QuadraticSaddle([4.0, -1.0, 0.5])
    dyn = AdaiSDE(0.1, beta0)
    one_minus = 1 - dyn.inertia(np.zeros(n), land, HessianNoise(5.0))
    np.testing.assert_allclose(one_minus, beta0 * n * np.abs(land.eigenvalues)
                               / np.abs(land.eigenvalues).sum(), rtol=1e-14)
    np.testing.assert_allclose(dyn.mass(np.zeros(n), land, HessianNoise(5.0)), 0.1 / one_minus)
    # v̄ = 0 (no noise): ratio 1, β1 = 1 - β0 everywhere, no NaN
    np.testing.assert_allclose(dyn.inertia(np.zeros(n), land, WhiteNoise(0.0)), 1 - beta0)


def test_adam_diffusion_is_isotropic_for_axis_aligned_hessian_noise():
    # docs/theory.md §4/Prop. 1: diffusion (η/2) I, rate κ_i = sign(H_i) √(B|H_i|)
    eta, batch = 0.1, 2.0
    dyn = AdamSDE(eta, 0.0, eps=1e-12)
    A, _, Q = dyn.linear_sde(AXIS, HessianNoise(batch))
    np.testing.assert_allclose(Q, eta * np.eye(2), rtol=1e-9)
    np.testing.assert_allclose(-np.diag(A), np.sign([2.0, -0.5]) * np.sqrt(batch * np.abs([2.0, -0.5])),
                               rtol=1e-9)
    assert dyn.state_size(2) == 0 and dyn.normals_per_step(2) == 2
    assert AdamSDE(eta, 0.5).normals_per_step(2) == 4


def test_describe_discrete_and_errors():
    d = AdaiSDE(0.1, 0.2, dt=0.01).describe()
    assert d["class"] == "AdaiSDE" and d["kind"] == "sde" and d["beta0"] == 0.2 and d["dt"] == 0.01
    assert MomentumSDE(0.1).dt == pytest.approx(0.01)
    assert MomentumSDE(0.1, 0.7, 0.3).discrete().beta3 == 0.3
    assert AdamSDE(0.1, 0.5).discrete().beta1 == 0.5
    assert AdaiSDE(0.1, 0.3).discrete().beta0 == 0.3
    with pytest.raises(ValueError, match="overdamped"):
        AdamSDE(0.1, 0.0).state_with_velocity([0.0])
    with pytest.raises(ValueError, match="beta3"):
        MomentumSDE(0.1, 0.5, 0.0)
    with pytest.raises(ValueError, match="beta1"):
        AdamSDE(0.1, 1.0)
    with pytest.raises(ValueError, match="eps"):
        AdaiSDE(0.1, eps=0.0)
    with pytest.raises(ValueError, match="dt"):
        MomentumSDE(0.1, dt=-1.0)
    with pytest.raises(ValueError, match="lr"):
        AdaiSDE(0.0)


def test_cached_ou_coefficients_equal_recomputed_ones():
    """The per-path cache of the OU coefficients returns exactly what a recomputation gives, for
    repeated rates, changed rates and two coordinates sharing one cache vector."""
    from optdyn.sim.dynamics.underdamped import cached_ou_step_coefficients

    cache = np.full(12, np.nan)
    for a0, a1 in [(0.3, 2.0), (0.3, 2.0), (0.3, 5.0), (1e-4, 5.0), (0.3, 2.0)]:
        for i, a in enumerate((a0, a1)):
            got = cached_ou_step_coefficients(a, 0.05, 0.7, cache, i)
            assert got == ou_step_coefficients(a, 0.05, 0.7)
            assert cache[6 * i] == a
