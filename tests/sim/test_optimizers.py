"""The discrete optimizers of docs/theory.md §3 (sim.dynamics): update rules pinned by hand, against
transcriptions of the published Adai/AdaMod code, exact Momentum moments, edge cases.  What every
dynamics must satisfy (compiled step vs NumPy reference, backends path by path, torch.optim parity,
bad input) is in test_dynamics_contract.py, over the registry."""
import math

import numpy as np
import pytest
from conftest import run_compiled, torch_run

from optdyn.sim import (Adai, AdaMod, Adam, AdaiSDE, AdamSDE, HessianNoise, Momentum, MomentumSDE,
                        Problem, QuadraticSaddle, RMSprop, WhiteNoise, exact_scheme_moments,
                        exact_scheme_state_moments, random_rotation, run_ensemble)

ALPHA_SE = 4.0  # tolerance of Monte Carlo comparisons, in standard errors
N_PATHS_MOMENTS = 20_000


QUAD1 = QuadraticSaddle([1.0])
NO_NOISE = WhiteNoise(0.0)


# ----------------------------------------------------------------------------------------------
# hand-checked sequences (zero noise: g = H(θ - c) is a fixed function of θ)
# ----------------------------------------------------------------------------------------------
def test_momentum_hand_sequence_pytorch_form():
    # L = θ²/2, θ0 = 1, η = 0.1, β1 = 0.9, β3 = 1:
    # k=1: g=1,    m=1,               θ=0.9
    # k=2: g=0.9,  m=0.9+0.9=1.8,     θ=0.72
    # k=3: g=0.72, m=1.62+0.72=2.34,  θ=0.486
    xs, aux = run_compiled(Momentum(0.1, 0.9), QUAD1, NO_NOISE, [1.0], 3)
    np.testing.assert_allclose(xs[:, 0], [1.0, 0.9, 0.72, 0.486], rtol=1e-14)
    np.testing.assert_allclose(aux, [2.34], rtol=1e-14)


def test_momentum_hand_sequence_ema_form_2d():
    # H = diag(2, -1), θ0 = (1, 1), η = 0.1, β1 = 0.5, β3 = 1 - β1 = 0.5
    # k=1: g=(2,-1), m=0.5 g=(1,-0.5), θ=(0.9, 1.05)
    # k=2: g=(1.8,-1.05), m=0.5(1,-0.5)+0.5(1.8,-1.05)=(1.4,-0.775), θ=(0.76, 1.1275)
    land = QuadraticSaddle([2.0, -1.0])
    dyn = Momentum.ema(0.1, 0.5)
    assert dyn.beta3 == 0.5
    xs, aux = run_compiled(dyn, land, NO_NOISE, [1.0, 1.0], 2)
    np.testing.assert_allclose(xs, [[1, 1], [0.9, 1.05], [0.76, 1.1275]], rtol=1e-14)
    np.testing.assert_allclose(aux, [1.4, -0.775], rtol=1e-14)


def test_adam_first_step_is_sign_step_and_second_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    xs, aux = run_compiled(Adam(lr, b1, b2, eps), QUAD1, NO_NOISE, [1.0], 2)
    # k=1: g=1: m=0.1, v=0.001, m̂ = 1, v̂ = 1: θ1 = 1 - 0.1/(1 + 1e-8)
    th1 = 1.0 - lr / (1.0 + eps)
    assert xs[1, 0] == pytest.approx(th1, rel=1e-15)
    # k=2: g = θ1
    m2 = b1 * 0.1 + (1 - b1) * th1
    v2 = b2 * 0.001 + (1 - b2) * th1**2
    th2 = th1 - lr * (m2 / (1 - b1**2)) / (math.sqrt(v2 / (1 - b2**2)) + eps)
    assert xs[2, 0] == pytest.approx(th2, rel=1e-14)
    np.testing.assert_allclose(aux, [m2, v2], rtol=1e-14)


def test_adai_first_step_is_sgd_and_second_by_hand_2d():
    # Adai's first step: m = (1-β1) g, P = β1, so m/(1-P) = g whatever β1 is (even clipped).
    land = QuadraticSaddle([4.0, 0.25])
    lr, b0, b2, eps = 0.1, 0.1, 0.99, 1e-3
    xs, aux = run_compiled(Adai(lr, b0, b2, eps), land, NO_NOISE, [1.0, 1.0], 2)
    g1 = np.array([4.0, 0.25])
    th1 = np.array([1.0, 1.0]) - lr * g1
    np.testing.assert_allclose(xs[1], th1, rtol=1e-15)
    # k=1 by hand: v = 0.01 g², v̂ = g² = (16, 1/16), v̄ = 8.03125
    beta1_1 = np.clip(1 - b0 * np.array([16.0, 0.0625]) / 8.03125, 0, 1 - eps)
    m1, p1 = (1 - beta1_1) * g1, beta1_1
    # k=2: g = H θ1 = (4·0.6, 0.25·0.975)
    g2 = np.array([2.4, 0.24375])
    v2 = b2 * 0.01 * g1**2 + (1 - b2) * g2**2
    vhat = v2 / (1 - b2**2)
    beta1_2 = np.clip(1 - b0 * vhat / vhat.mean(), 0, 1 - eps)
    m2 = beta1_2 * m1 + (1 - beta1_2) * g2
    p2 = p1 * beta1_2
    np.testing.assert_allclose(xs[2], th1 - lr * m2 / (1 - p2), rtol=1e-14)
    np.testing.assert_allclose(aux, np.concatenate([m2, v2, p2]), rtol=1e-14)


def test_adai_weight_decay_coupled_and_decoupled_first_step():
    lr, lam, x0 = 0.1, 0.5, np.array([2.0])
    land = QuadraticSaddle([1.0], center=[1.0])  # g(2) = 1
    # plain Adai: the first step is SGD on g + λθ: θ1 = 2 - 0.1 (1 + 0.5·2) = 1.8
    xs_c, _ = run_compiled(Adai(lr, weight_decay=lam), land, NO_NOISE, x0, 3)
    assert xs_c[1, 0] == pytest.approx(1.8, rel=1e-15)
    # AdaiW: θ ← θ(1 - ηλ) = 1.9, then the SGD-like first step with g(θ0) = 1: 1.8
    xs_w, _ = run_compiled(Adai(lr, weight_decay=lam, decoupled=True), land, NO_NOISE, x0, 3)
    assert xs_w[1, 0] == pytest.approx(1.9 - 0.1, rel=1e-15)
    # later steps differ: the decoupled decay does not enter v and m
    assert abs(xs_w[3, 0] - xs_c[3, 0]) > 1e-6


def test_adamod_first_step_is_warm_up_and_second_by_hand():
    lr, b1, b2, b3, eps = 0.1, 0.9, 0.999, 0.99, 1e-8
    xs, aux = run_compiled(AdaMod(lr, b1, b2, b3, eps), QUAD1, NO_NOISE, [1.0], 2)
    # k=1: m = 0.1, v = 0.001, η_1 = η √(1-β2)/((1-β1)(√v + ε)); s_1 = (1-β3) η_1 < η_1
    eta1 = lr * math.sqrt(1 - b2) / ((1 - b1) * (math.sqrt(0.001) + eps))
    s1 = (1 - b3) * eta1
    th1 = 1.0 - s1 * 0.1
    assert xs[1, 0] == pytest.approx(th1, rel=1e-14)
    assert th1 == pytest.approx(1.0 - (1 - b3) * lr, rel=1e-6)  # (1-β3)·Adam's first step
    m2 = b1 * 0.1 + (1 - b1) * th1
    v2 = b2 * 0.001 + (1 - b2) * th1**2
    eta2 = lr * math.sqrt(1 - b2**2) / ((1 - b1**2) * (math.sqrt(v2) + eps))
    s2 = b3 * s1 + (1 - b3) * eta2
    assert xs[2, 0] == pytest.approx(th1 - min(eta2, s2) * m2, rel=1e-14)
    np.testing.assert_allclose(aux, [m2, v2, s2], rtol=1e-14)


def test_adamod_with_beta3_zero_is_adam_when_eps_negligible():
    # docs/theory.md §5 A1(i): β3 = 0 reproduces Adam up to where ε enters
    land = QuadraticSaddle([3.0, -0.2], rotation=random_rotation(2, 4))
    z = np.random.default_rng(0).standard_normal((20, 2))
    x_adam, _ = run_compiled(Adam(0.01, eps=1e-300), land, WhiteNoise(0.3), [1.0, 0.5], 20, z)
    x_mod, _ = run_compiled(AdaMod(0.01, beta3=0.0, eps=1e-300), land, WhiteNoise(0.3),
                            [1.0, 0.5], 20, z)
    np.testing.assert_allclose(x_mod, x_adam, rtol=1e-13)


def test_rmsprop_first_two_steps_by_hand():
    # L = θ²/2, θ0 = 1, no noise; k=1: g = 1, v = (1-α), θ1 = 1 - η/(√(1-α) + ε)
    lr, alpha, eps = 0.01, 0.99, 1e-8
    xs, aux = run_compiled(RMSprop(lr, alpha, eps), QUAD1, NO_NOISE, [1.0], 2)
    th1 = 1.0 - lr / (math.sqrt(1 - alpha) + eps)
    assert xs[1, 0] == pytest.approx(th1, rel=1e-15)
    v2 = alpha * (1 - alpha) + (1 - alpha) * th1**2
    assert xs[2, 0] == pytest.approx(th1 - lr * th1 / (math.sqrt(v2) + eps), rel=1e-14)
    np.testing.assert_allclose(aux, [v2], rtol=1e-14)


def test_rmsprop_centered_momentum_state_by_hand():
    # aux = (v, b, ḡ); k=1 with g = 1: v = 1-α, ḡ = 1-α, d = √((1-α)α) + ε, b = 1/d
    lr, alpha, mu = 0.01, 0.9, 0.5
    xs, aux = run_compiled(RMSprop(lr, alpha, momentum=mu, centered=True), QUAD1, NO_NOISE, [1.0], 1)
    d = math.sqrt((1 - alpha) - (1 - alpha) ** 2) + 1e-8
    np.testing.assert_allclose(aux, [1 - alpha, 1 / d, 1 - alpha], rtol=1e-14)
    assert xs[1, 0] == pytest.approx(1.0 - lr / d, rel=1e-14)


def test_rmsprop_continuous_model_is_adam_sde_without_momentum():
    model = RMSprop(0.01, eps=1e-6).continuous(0.002)
    assert isinstance(model, AdamSDE) and model.beta1 == 0.0 and model.overdamped
    assert (model.eps, model.dt) == (1e-6, 0.002)
    for kw, name in [(dict(momentum=0.9), "momentum"), (dict(centered=True), "centered"),
                     (dict(weight_decay=0.1), "weight_decay")]:
        with pytest.raises(ValueError, match=f"{name}={kw[name]}"):
            RMSprop(0.01, **kw).continuous()


# ----------------------------------------------------------------------------------------------
# edge cases
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dyn", [Adam(0.1), Adai(0.1), AdaMod(0.1),
                                 RMSprop(0.1, momentum=0.5, centered=True)], ids=repr)
def test_zero_gradients_stay_finite_and_still(dyn):
    land = QuadraticSaddle([1.0, 2.0])  # start at the critical point, no noise: g = 0
    xs, aux = run_compiled(dyn, land, NO_NOISE, [0.0, 0.0], 5)
    assert np.all(np.isfinite(aux))
    np.testing.assert_array_equal(xs, 0.0)


def test_adai_zero_second_moments_use_ratio_one():
    # v̄ = 0: β1 = 1 - β0 in every coordinate; an initial momentum decays geometrically
    lr, b0 = 0.1, 0.2
    land = QuadraticSaddle([0.0, 0.0])  # flat: g = 0 everywhere
    m0 = np.array([1.0, -2.0])
    xs, aux = run_compiled(Adai(lr, beta0=b0), land, NO_NOISE, [0.0, 0.0], 3,
                           aux0=Adai.state_with_momentum(m0))
    b1 = 1 - b0
    expect, x = [], np.zeros(2)
    for k in range(1, 4):  # m_k = b1^k m0, P_k = b1^k, step η m_k/(1-P_k)
        x = x - lr * b1**k * m0 / (1 - b1**k)
        expect.append(x)
    np.testing.assert_allclose(xs[1:], expect, rtol=1e-14)
    np.testing.assert_allclose(aux[4:], b1**3, rtol=1e-14)


def test_adai_inertia_is_clipped():
    # a dominant coordinate has β0 v̂/v̄ > 1: β1 = 0; a negligible one: β1 = 1 - ε at most
    land = QuadraticSaddle([100.0, 1e-4])
    dyn = Adai(0.001, beta0=1.0, eps=0.01)
    _, aux = run_compiled(dyn, land, NO_NOISE, [1.0, 1.0], 1)
    np.testing.assert_allclose(aux[4:], [0.0, 0.99], rtol=1e-14)


def test_initial_states():
    assert np.array_equal(Adai(0.1).initial_state(2), [0, 0, 0, 0, 1, 1])
    assert np.array_equal(Adam(0.1).initial_state(2), np.zeros(4))
    assert np.array_equal(AdaMod().initial_state(3), np.zeros(9))
    assert RMSprop().state_size(2) == 2 and RMSprop(centered=True, momentum=0.1).state_size(2) == 6
    assert np.array_equal(Momentum(0.1).state_with_momentum([1.0, 2.0]), [1.0, 2.0])
    assert np.array_equal(Adam.state_with_momentum([1.0], [2.0]), [1.0, 2.0])
    assert np.array_equal(AdaMod.state_with_momentum([1.0], s0=[3.0]), [1.0, 0.0, 3.0])
    with pytest.raises(ValueError, match="v0"):
        Adam.state_with_momentum([1.0], [-1.0])


# ----------------------------------------------------------------------------------------------
# against torch.optim and transcriptions of the published Adai / AdaMod code
# ----------------------------------------------------------------------------------------------
N_TORCH_STEPS = 25


def _torch_setup():
    land = QuadraticSaddle([2.0, -0.5, 0.1], rotation=random_rotation(3, 2), center=[0.1, 0, -0.2])
    z = np.random.default_rng(11).standard_normal((N_TORCH_STEPS, 3))
    return land, 0.7, np.array([0.5, -1.0, 0.3]), z


def _published_optimizer(kind, torch):
    """Transcriptions of the released Adai (zeke-xie) and AdaMod (lancopku) ``step`` methods."""

    class Published(torch.optim.Optimizer):
        @torch.no_grad()
        def step(self):
            group = self.param_groups[0]
            if kind == "adamod":
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    st = self.state[p]
                    if not st:
                        st["step"] = 0
                        st["exp_avg"] = torch.zeros_like(p)
                        st["exp_avg_sq"] = torch.zeros_like(p)
                        st["exp_avg_lr"] = torch.zeros_like(p)
                    st["step"] += 1
                    st["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    st["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    denom = st["exp_avg_sq"].sqrt().add_(group["eps"])
                    bc1 = 1 - beta1 ** st["step"]
                    bc2 = 1 - beta2 ** st["step"]
                    step_size = group["lr"] * math.sqrt(bc2) / bc1
                    step_size = torch.full_like(denom, step_size).div_(denom)
                    st["exp_avg_lr"].mul_(group["beta3"]).add_(step_size, alpha=1 - group["beta3"])
                    step_size = torch.min(step_size, st["exp_avg_lr"]).mul_(st["exp_avg"])
                    p.add_(-step_size)
                return
            beta0, beta2 = group["betas"]
            size, hat_sum = 0, 0.0
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    st["beta1_prod"] = torch.ones_like(p)
                size += p.numel()
                st["step"] += 1
                grad = p.grad
                if group["weight_decay"] != 0 and not group["decoupled"]:
                    grad = grad.add(p, alpha=group["weight_decay"])
                elif group["weight_decay"] != 0 and group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                st["grad"] = grad
                st["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                hat_sum += st["exp_avg_sq"].sum() / (1 - beta2 ** st["step"])
            hat_mean = hat_sum / size
            for p in group["params"]:
                st = self.state[p]
                hat = st["exp_avg_sq"] / (1 - beta2 ** st["step"])
                beta1 = (1.0 - (hat / hat_mean).mul(beta0)).clamp(0.0, 1 - group["eps"])
                st["beta1_prod"].mul_(beta1)
                st["exp_avg"].mul_(beta1).addcmul_(1 - beta1, st["grad"])
                p.add_(st["exp_avg"] / (1 - st["beta1_prod"]), alpha=-group["lr"])

    return Published


@pytest.mark.torch
@pytest.mark.parametrize("decoupled", [False, True])
def test_adai_matches_published_code(decoupled):
    torch = pytest.importorskip("torch")
    land, sigma, x0, z = _torch_setup()
    cls = _published_optimizer("adai", torch)
    ref = torch_run(lambda ps: cls(ps, dict(lr=0.05, betas=(0.1, 0.99), eps=1e-3,
                                             weight_decay=0.3, decoupled=decoupled)),
                     land, sigma, x0, z)
    dyn = Adai(0.05, 0.1, 0.99, 1e-3, weight_decay=0.3, decoupled=decoupled)
    ours, _ = run_compiled(dyn, land, WhiteNoise(sigma), x0, N_TORCH_STEPS, z)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.torch
def test_adamod_matches_published_code():
    torch = pytest.importorskip("torch")
    land, sigma, x0, z = _torch_setup()
    cls = _published_optimizer("adamod", torch)
    ref = torch_run(lambda ps: cls(ps, dict(lr=0.05, betas=(0.9, 0.999), beta3=0.9, eps=1e-8)),
                     land, sigma, x0, z)
    ours, _ = run_compiled(AdaMod(0.05, 0.9, 0.999, 0.9, 1e-8), land, WhiteNoise(sigma), x0,
                           N_TORCH_STEPS, z)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Momentum: exact affine model of (θ, m)
# ----------------------------------------------------------------------------------------------
def test_momentum_affine_model_reproduces_the_update():
    rng = np.random.default_rng(1)
    land = QuadraticSaddle([2.0, -0.5], rotation=random_rotation(2, 3), center=[0.3, -0.1])
    dyn = Momentum(0.05, 0.7, 0.6)
    F, b, Q = dyn.affine_model(land, NO_NOISE)
    assert F.shape == (4, 4) and np.all(Q == 0)
    x, m = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    x1, m1 = dyn.numpy_step(x, m, np.zeros((1, 2)), 1, land, NO_NOISE)
    np.testing.assert_allclose(F @ np.concatenate([x[0], m[0]]) + b, np.concatenate([x1[0], m1[0]]),
                               rtol=1e-14)


def test_momentum_flat_direction_drift():
    # docs/theory.md §5 Thm 2: zero gradient moves θ by -η β1 m0/(1-β1) in total
    land = QuadraticSaddle([0.0])
    dyn = Momentum(0.1, 0.9, 0.1)
    pr = Problem(land, NO_NOISE, dyn, [0.0], initial_state=dyn.state_with_momentum([2.0]))
    mean, _ = exact_scheme_moments(pr, [2000])
    assert mean[0, 0] == pytest.approx(-0.1 * 0.9 * 2.0 / 0.1, rel=1e-12)


@pytest.mark.parametrize("dyn", [Momentum(0.05, 0.9), Momentum.ema(0.05, 0.9)], ids=repr)
def test_momentum_simulation_matches_exact_discrete_moments(dyn):
    land = QuadraticSaddle([2.0, -0.5], rotation=random_rotation(2, 3))
    pr = Problem(land, HessianNoise(4.0), dyn, [0.2, 0.1],
                 initial_state=dyn.state_with_momentum([1.0, -0.5]))
    steps = np.array([5, 40, 120])
    res = run_ensemble(pr, N_PATHS_MOMENTS, steps[-1] * dyn.dt, save_times=steps * dyn.dt, seed=2)
    assert np.array_equal(res.steps, steps)
    mean, cov = exact_scheme_moments(pr, steps)
    state_mean, state_cov = exact_scheme_state_moments(pr, steps)
    np.testing.assert_array_equal(state_mean[:, :2], mean)
    n = res.n_alive[:, None]
    var = np.diagonal(cov, axis1=1, axis2=2)
    se_mean = np.sqrt(var / n)
    se_var = var * np.sqrt(2.0 / (n - 1))  # θ is exactly Gaussian (linear recursion)
    assert np.all(np.abs(res.mean - mean) < ALPHA_SE * se_mean)
    assert np.all(np.abs(np.diagonal(res.cov, axis1=1, axis2=2) - var) < ALPHA_SE * se_var)


# ----------------------------------------------------------------------------------------------
# metadata, continuous models, bad input
# ----------------------------------------------------------------------------------------------
def test_describe_and_continuous_models():
    d = Adai(0.1, weight_decay=0.01, decoupled=True).describe()
    assert d["class"] == "Adai" and d["kind"] == "discrete" and d["decoupled"] is True
    assert d["dt"] == 0.1 and d["beta2"] == 0.99
    assert Momentum(0.1, 0.8, 0.2).describe()["beta3"] == 0.2
    mom = Momentum(0.1, 0.8, 0.5).continuous(0.01)
    assert isinstance(mom, MomentumSDE) and (mom.beta1, mom.beta3, mom.dt) == (0.8, 0.5, 0.01)
    assert isinstance(Adam(0.1, 0.5, eps=1e-6).continuous(), AdamSDE)
    assert Adam(0.1, 0.5, eps=1e-6).continuous().eps == 1e-6
    assert isinstance(AdaMod(0.1).continuous(), AdamSDE)  # docs/theory.md §4: AdaMod's model is Adam's
    assert isinstance(Adai(0.1, beta0=0.2).continuous(), AdaiSDE)
    with pytest.raises(ValueError, match="weight_decay"):
        Adai(0.1, weight_decay=0.1).continuous()
    with pytest.raises(NotImplementedError, match="affine"):
        Adam(0.1).affine_model(QUAD1, NO_NOISE)


def test_bad_initial_state():
    with pytest.raises(ValueError, match="initial_state"):
        Problem(QUAD1, NO_NOISE, Adam(0.1), [0.0], initial_state=[0.0])
