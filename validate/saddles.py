r"""Theorem 2 (Momentum), Proposition 1 (Adam) and Proposition 3 (Adai) at quadratic saddles,
checked the three ways of THEORY.md §7, plus the momentum drift, escape-time scaling laws, the
rotated-saddle finding and a picture of the four optimizers leaving one saddle.

Result ids: ``thm2`` (:data:`THM2_CHECKS`), ``prop1`` (:data:`PROP1_CHECKS`), ``prop3``
(:data:`PROP3_CHECKS`).  Every Monte Carlo tolerance is ``Z_SIGMA`` standard errors plus the model
error admitted, computed exactly where possible (integrator bias = exact scheme moments − exact SDE
moments on quadratics) and stated in the record's ``tolerance`` text.
"""
from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from optdyn import sim
from optdyn.theory import prop1
from optdyn.theory import prop3
from optdyn.theory import thm1
from optdyn.theory import thm2
from optdyn.theory import _ou

from .common import eigen_variances, moment_records, sde_vs_exact
from .figures import plt, save
from .records import FINDING, PASS, CheckRecord, Settings
from .stats import Z_SIGMA, bootstrap_median_se, local_slopes, weighted_slope
from .thm1 import saddle

LR, BATCH, BETA1, BETA0 = 0.05, 1.0, 0.9, 0.1
TIMES = (0.25, 0.5, 1.0)
#: the two Momentum forms: PyTorch heavy ball (β₃ = 1) and EMA (β₃ = 1 − β₁)
FORMS = {"β₃=1": 1.0, "EMA β₃=1−β₁": 1.0 - BETA1}
#: axis-aligned saddle with several unstable directions of different flatness
DRIFT_EIGENVALUES = (2.0, -0.05, -0.1, -0.2, -0.4, -0.8)
DRIFT_LR = 0.01
DRIFT_TIMES = (1.5, 3.0, 4.5, 6.0)
EXIT_RADIUS = 1.0
#: axis-aligned saddle of the Proposition 1/3 comparisons
AXIS_EIGENVALUES = (2.0, 0.5, -1.0)
PROP_TIMES = (0.5, 1.0, 2.0)
#: order in η of the discrete-vs-SDE gap of Momentum at fixed β₁ (derived in check_thm2_gap)
GAP_ORDER = 1.0


def _problem(dynamics, landscape, exit=None, initial_state=None):
    return sim.Problem(landscape, sim.HessianNoise(BATCH), dynamics, np.zeros(landscape.dim), exit=exit,
                       initial_state=initial_state)


def _axis(eigenvalues=AXIS_EIGENVALUES):
    return sim.QuadraticSaddle(eigenvalues)


def _run(prob, n, times, seed, settings, **kw):
    return sim.run_ensemble(prob, n, max(times), save_times=(0.0,) + tuple(times), seed=seed,
                            backend=settings.backend, **kw)


def _sde_vs_exact(rid, prob, n, times, seed, settings, label):
    """Monte Carlo of an SDE model vs its exact moments, the scheme's exact bias admitted."""
    res = _run(prob, n, times, seed, settings)
    return sde_vs_exact(rid, prob, res, label), res


def _rotate_blocks(c2, u):
    """Per-direction 2×2 covariances ``(n_t, n, 2, 2)`` → stacked (θ, r) covariance in the
    original coordinates, ``(n_t, 2n, 2n)``."""
    n = u.shape[0]
    out = np.empty((c2.shape[0], 2 * n, 2 * n))
    for a in range(2):
        for b in range(2):
            out[:, a * n:(a + 1) * n, b * n:(b + 1) * n] = np.einsum("ik,tk,jk->tij", u, c2[:, :, a, b], u)
    return out


# ==============================================================================================
# Theorem 2
# ==============================================================================================
def check_thm2_sde(settings: Settings) -> list[CheckRecord]:
    """(1a) MomentumSDE Monte Carlo vs the exact linear-SDE moments, both forms, all entries."""
    n = settings.paths(20_000, 200_000)
    dt = 0.005 if not settings.full else 0.00125
    recs = []
    for k, (name, b3) in enumerate(FORMS.items()):
        prob = _problem(sim.MomentumSDE(LR, BETA1, b3, dt=dt), saddle())
        r, _ = _sde_vs_exact("thm2", prob, n, TIMES, settings.seed + 20 + k, settings,
                             f"SDE sim ({name}, splitting dt={dt:g}) vs exact")
        recs += r
    return recs


def closed_form_state(eigenvalues, u, lr, beta1, beta3, r0_eig, times):
    """Theorem 2 per eigen-direction, rotated back: stacked (θ, r) mean and covariance."""
    lam = np.asarray(eigenvalues, float)
    c2 = thm2.covariance_2x2(lam, lr, BATCH, beta1, beta3, times)
    m2 = thm2.mean(lam, lr, beta1, beta3, 0.0, r0_eig, times)
    mean = np.concatenate([m2[..., 0] @ u.T, m2[..., 1] @ u.T], axis=-1)
    return mean, _rotate_blocks(c2, u)


def check_thm2_closed_form(settings: Settings) -> list[CheckRecord]:
    """(1b) Theorem 2's closed form (per eigen-direction, rotated back) vs the exact stacked moments."""
    land = saddle()
    u = land.rotation
    r0_eig = np.array([0.3, -0.2, 0.5])
    times = np.array(TIMES)
    recs = []
    for name, b3 in FORMS.items():
        dyn = sim.MomentumSDE(LR, BETA1, b3)
        prob = _problem(dyn, land, initial_state=dyn.state_with_velocity(u @ r0_eig))
        mean_x, cov_x = sim.exact_sde_state_moments(prob, times)
        mean_c, cov_c = closed_form_state(thm1_eigs(), u, LR, BETA1, b3, r0_eig, times)
        err_c = np.max(np.linalg.norm(cov_c - cov_x, axis=(1, 2)) / np.linalg.norm(cov_x, axis=(1, 2)))
        err_m = np.max(np.linalg.norm(mean_c - mean_x, axis=1) / np.linalg.norm(mean_x, axis=1))
        growth = float(np.max(np.real(thm2.rates(np.array(thm1_eigs()), LR, BETA1, b3)[0])))
        tol = 64 * np.finfo(float).eps * np.exp(2 * growth * times.max()) * 100
        recs.append(CheckRecord(
            "thm2", "closed form vs exact", f"{name}: max relative error of (θ, r) mean and covariance",
            measured=max(err_c, err_m), predicted=0.0, interval=(0.0, tol),
            tolerance=f"round-off: 6400 ε e^(2λ₊t) = {tol:.1e} (the exact side integrates a 36-dim "
                      "Kronecker Lyapunov system with expm; Theorem 2 is exact for the linear SDE)",
            note=f"Σ error {err_c:.2e}, mean error {err_m:.2e}"))
    return recs


def check_thm2_discrete(settings: Settings) -> list[CheckRecord]:
    """(1c) discrete Momentum Monte Carlo vs its exact affine recursion, both forms."""
    n = settings.paths(40_000, 400_000)
    recs = []
    for k, (name, b3) in enumerate(FORMS.items()):
        prob = _problem(sim.Momentum(LR, BETA1, b3), saddle())
        res = _run(prob, n, TIMES, settings.seed + 30 + k, settings)
        mean, cov = sim.exact_scheme_moments(prob, res.steps)
        recs += moment_records("thm2", res, mean, cov, 0 * mean, 0 * cov,
                               f"Momentum sim ({name}, η={LR:g}) vs exact recursion")
    return recs


def momentum_gap(lrs, beta3, t: float = 1.0):
    """Relative Frobenius gap between exact discrete-Momentum and exact SDE θ-covariances at ``t``."""
    gaps = []
    for lr in lrs:
        pd = _problem(sim.Momentum(lr, BETA1, beta3), saddle())
        pc = _problem(sim.MomentumSDE(lr, BETA1, beta3), saddle())
        _, cd = sim.exact_scheme_moments(pd, [int(round(t / lr))])
        _, cc = sim.exact_sde_moments(pc, [t])
        gaps.append(np.linalg.norm(cd[0] - cc[0]) / np.linalg.norm(cc[0]))
    return np.array(gaps)


def check_thm2_gap(settings: Settings) -> list[CheckRecord]:
    r"""(1c) the exact discrete-vs-SDE covariance gap as η → 0 at fixed β₁: order 1.

    Expected order: with t = kη both the recursion and the SDE relax the momentum on the same
    time scale η/(1−β₁) (ratio step/relaxation = 1−β₁, fixed), and both converge to the same
    overdamped SDE (drift −β₃H/(1−β₁), diffusion ηβ₃²C/(1−β₁)²).  Their inertial corrections are
    both O(β₃η|H|/(1−β₁)²) but with different coefficients, so the relative gap is O(η): order 1,
    reached only once β₃η|H|/(1−β₁)² ≪ 1 (η ≪ 5e-3 for β₃ = 1 at |H| = 2).
    """
    lrs = LR * 2.0 ** -np.arange(0, 12 if settings.full else 10)
    recs = []
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, b3 in FORMS.items():
        gaps = momentum_gap(lrs, b3)
        x, y = np.log(lrs[::-1]), np.log(gaps[::-1])
        s = local_slopes(x, y)
        fine = stats.linregress(x[:3], y[:3]).slope
        drift = abs(s[1] - s[0])
        tol = max(2 * drift, 1e-3)
        ax.loglog(lrs, gaps, "o-", label=f"{name}")
        recs.append(CheckRecord(
            "thm2", "discrete vs SDE", f"{name}: order in η of the exact Momentum-vs-SDE Σ gap",
            measured=fine, predicted=GAP_ORDER, interval=(GAP_ORDER - tol, GAP_ORDER + tol),
            tolerance=f"remaining O(η) bias of the local slope, 2×|Δ local slope| of the two finest "
                      f"pairs = {2 * drift:.1e} (exact moments, no sampling)",
            note="expected order 1 (both converge to the same overdamped SDE; their O(β₃η|H|/(1−β₁)²) "
                 "inertial corrections differ). Local slopes (η descending): "
                 + ", ".join(f"{v:.3f}" for v in s[::-1]) + "; gaps: "
                 + ", ".join(f"{a:.3g}:{b:.2e}" for a, b in zip(lrs, gaps))))
    ax.loglog(lrs, 0.5 * gaps[-1] * lrs / lrs[-1], "k--", label="slope 1")
    ax.set_xlabel("learning rate η (β₁ = 0.9 fixed)")
    ax.set_ylabel("‖Σ_Momentum − Σ_SDE‖/‖Σ_SDE‖ at t=1")
    ax.legend()
    recs[0].figure = save(fig, settings, "thm2_discrete_gap")
    return recs


# ----------------------------------------------------------------------------------------------
def _drift_fit(res, lp, lm, n_dirs):
    """Weighted fit of d_i in mean θ_i(t) = d_i(e^{λ₊t} − e^{λ₋t}) over the save times; the SE is
    the sample SE of the per-path linear functional (accounts for correlation across times)."""
    t = res.times[1:]
    f = np.exp(np.outer(t, lp)) - np.exp(np.outer(t, lm))  # (n_t, n)
    samp = res.samples[1:]  # (n_t, n_paths, dim)
    w = 1.0 / np.var(samp, axis=1, ddof=1)[:, :f.shape[1]]  # 1/Var θ_i(t_j)
    c = w * f / np.sum(w * f**2, axis=0)  # weighted LS: d̂ = Σ_j c_j θ̄_j, Σ_j c_j f_j = 1
    per_path = np.einsum("ti,tpi->pi", c, samp)[:, :n_dirs]
    return per_path.mean(axis=0), per_path.std(axis=0, ddof=1) / np.sqrt(per_path.shape[0]), c


def _drift_case(settings, model, n, dt, seed):
    """Run one drift ensemble; return measured d, SE, predicted d, scheme bias in d, λ±."""
    lam = np.array(DRIFT_EIGENVALUES)
    land = sim.QuadraticSaddle(lam)
    r0 = np.ones(lam.size)
    if model == "Momentum":
        b3 = 1.0 - BETA1
        dyn = sim.MomentumSDE(DRIFT_LR, BETA1, b3, dt=dt)
        lp, lm = thm2.rates(lam, DRIFT_LR, BETA1, b3)
        pred = thm2.drift_coefficient(lam, DRIFT_LR, BETA1, b3, r0)
    else:
        dyn = sim.AdaiSDE(DRIFT_LR, BETA0, dt=dt)
        w = prop3.inertia(lam, BETA0)
        lp, lm = thm2.rates(lam, DRIFT_LR, 1 - w, w)
        pred = prop3.drift_coefficient(lam, DRIFT_LR, BETA0, r0)
    prob = _problem(dyn, land, initial_state=dyn.state_with_velocity(r0))
    res = _run(prob, n, DRIFT_TIMES, seed, settings, store_samples=True)
    u = lam < 0
    d, se, c = _drift_fit(res, np.real(lp), np.real(lm), lam.size)
    m_sde, _ = sim.exact_sde_moments(prob, res.times)
    m_sch, _ = sim.exact_scheme_moments(prob, res.steps)
    bias = np.sum(c * (m_sch[1:] - m_sde[1:]), axis=0)
    return d[u], se[u], pred[u], bias[u], -lam[u]


def check_momentum_drift(settings: Settings) -> list[CheckRecord]:
    """(2) momentum drift d_i = r₀/(λ₊−λ₋) per unstable direction and its log-log slope vs |H_i|:
    ≈ 0 (exact value from the formula) for Momentum, exactly −1 for Adai."""
    n = settings.paths(6_000, 100_000)
    dt = 0.02 if not settings.full else 0.005
    recs, data = [], {}
    for k, model in enumerate(("Momentum", "Adai")):
        d, se, pred, bias, h = _drift_case(settings, model, n, dt, settings.seed + 40 + k)
        data[model] = (d, se, pred, bias, h)
        tol = Z_SIGMA * se + np.abs(bias)
        ratio = np.max(np.abs(d - pred) / tol)
        recs.append(CheckRecord(
            "thm2" if model == "Momentum" else "prop3", "sim vs theory",
            f"{model}: max |d̂_i − d_i|/tol over {h.size} unstable directions (momentum drift)",
            measured=ratio, predicted=0.0, interval=(0.0, 1.0),
            tolerance=f"{Z_SIGMA:g} SE of d̂_i (per-path SE of the weighted fit over t = "
                      f"{', '.join(map(str, DRIFT_TIMES))}) + exact splitting bias in d (≤ {np.max(np.abs(bias)):.1e})",
            note=f"{model} ({'EMA, β₁=0.9' if model == 'Momentum' else 'β₀=0.1'}, η={DRIFT_LR:g}, r₀=1, dt={dt:g}, "
                 f"{n} paths): " + ", ".join(f"|H|={a:g}: d̂={b:.4g}±{c:.1g} (pred {e:.4g})"
                                             for a, b, c, e in zip(h, d, se, pred))))
        x = np.log(h)
        slope, sse, _ = weighted_slope(x, np.log(d), np.sqrt(se**2) / d)
        pslope = stats.linregress(x, np.log(pred)).slope
        bslope = stats.linregress(x, np.log(pred + bias)).slope - pslope
        tol_s = Z_SIGMA * sse + abs(bslope)
        label = "≈ 0" if model == "Momentum" else "−1"
        recs.append(CheckRecord(
            "thm2" if model == "Momentum" else "prop3", "scaling law",
            f"{model}: d log d_i / d log |H_i| (predicted {label})",
            measured=slope, predicted=pslope, interval=(pslope - tol_s, pslope + tol_s),
            tolerance=f"{Z_SIGMA:g} × SE of the weighted fit ({sse:.2g}) + slope shift of the exact splitting "
                      f"bias ({abs(bslope):.1e}); predicted slope = regression of the exact formula",
            note=(f"predicted exactly from d = ηr₀/(1−β₁)/√(1+4β₃η|H|/(1−β₁)²): {pslope:.4f}"
                  if model == "Momentum" else
                  f"d = ηr₀‖H‖_tr/(β₀n|H_i|√(1+4x)), x = {DRIFT_LR * np.sum(np.abs(DRIFT_EIGENVALUES)) / (BETA0 * 6):.3g}: "
                  f"slope exactly {pslope:.4f}")))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    hh = np.geomspace(0.04, 1.0, 100)
    lam = np.array(DRIFT_EIGENVALUES)
    for model, color in (("Momentum", "C0"), ("Adai", "C3")):
        d, se, pred, _, h = data[model]
        ax.errorbar(h, d, yerr=Z_SIGMA * se, fmt="o", color=color, label=f"{model}: simulated d_i (±4 SE)")
        if model == "Momentum":
            curve = thm2.drift_coefficient(-hh, DRIFT_LR, BETA1, 1 - BETA1, 1.0)
        else:
            x = DRIFT_LR * np.sum(np.abs(lam)) / (BETA0 * lam.size)
            curve = DRIFT_LR * np.sum(np.abs(lam)) / (BETA0 * lam.size * hh * np.sqrt(1 + 4 * x))
        ax.loglog(hh, curve, "-", color=color, label=f"{model}: predicted")
    ax.set_xlabel("|H_i| (unstable eigenvalue)")
    ax.set_ylabel("momentum drift coefficient d_i")
    ax.set_title("Initial velocity r₀ = 1: Adai's drift ∝ 1/|H_i|")
    ax.legend(fontsize=8)
    recs[-1].figure = save(fig, settings, "saddle_momentum_drift")
    return recs


# ----------------------------------------------------------------------------------------------
def _escape_medians(settings, dyn_factory, lam, dirs, n, t_max, seed0, initial_state=None):
    land = sim.QuadraticSaddle(lam)
    rng = np.random.default_rng(settings.seed + 99)
    med, ses, cens = [], [], 0
    for k, i in enumerate(dirs):
        e = np.zeros(lam.size)
        e[i] = 1.0
        prob = _problem(dyn_factory(), land, exit=sim.SlabExit(np.zeros(lam.size), e, EXIT_RADIUS),
                        initial_state=initial_state)
        res = sim.run_ensemble(prob, n, t_max[k], seed=seed0 + k, backend=settings.backend)
        tt = res.escape_times
        cens += int(np.count_nonzero(res.censored))
        med.append(np.median(tt))
        ses.append(bootstrap_median_se(tt, rng))
    return np.array(med), np.array(ses), cens


def _scheme_growth_and_noise(dyn, lam, i, t):
    """Growth rate and Var θ_i(t)/e^{2λt} of the integration scheme vs the SDE (exact, per direction)."""
    prob = _problem(dyn, sim.QuadraticSaddle(lam))
    F, _, _ = dyn.affine_model(prob.landscape, prob.noise)
    n = lam.size
    idx = [i, n + i] if F.shape[0] == 2 * n else [i]
    rho = np.max(np.abs(np.linalg.eigvals(F[np.ix_(idx, idx)])))
    lam_s = np.log(rho) / dyn.dt
    k = int(round(t / dyn.dt))
    _, cs = sim.exact_scheme_moments(prob, [k])
    _, cc = sim.exact_sde_moments(prob, [k * dyn.dt])
    return lam_s, cs[0, i, i] / cc[0, i, i]


def check_momentum_escape(settings: Settings) -> list[CheckRecord]:
    """(3) MomentumSDE (EMA, from rest): median exit time vs |H_i|, slope vs the regressed prediction."""
    n = settings.paths(4_000, 40_000)
    dt = 0.05 if not settings.full else 0.0125
    lam = np.array(DRIFT_EIGENVALUES)
    dirs = np.flatnonzero(lam < 0)
    h = -lam[dirs]
    b3 = 1.0 - BETA1
    pred = thm2.median_exit_time(lam[dirs], LR, BATCH, BETA1, b3, EXIT_RADIUS)
    med, ses, cens = _escape_medians(settings, lambda: sim.MomentumSDE(LR, BETA1, b3, dt=dt), lam, dirs, n,
                                     2.5 * pred, settings.seed + 50)
    x = np.log(h)
    slope, se, icpt = weighted_slope(x, np.log(med), ses / med)
    w = (med / ses) ** 2

    def wslope(y):
        return weighted_slope(x, np.log(y), 1 / np.sqrt(w))[0]
    pslope = wslope(pred)
    # admitted: (i) the O(VarZ∞/R²) term (size of the SGD-form correction), (ii) the scheme's growth
    # rate and noise amplitude (exact, from its affine model), (iii) discrete monitoring (≤ one step)
    var = thm2.stationary_z_variance(lam[dirs], LR, BATCH, BETA1, b3)
    lp = thm2.growth_rate_unstable(lam[dirs], LR, BETA1, b3)
    corr = pred - _ou.CORRECTION_COEFFICIENT * var / EXIT_RADIUS**2 / lp  # relative to the prediction
    adm_model = abs(wslope(corr) - pslope)
    scheme = [_scheme_growth_and_noise(sim.MomentumSDE(LR, BETA1, b3, dt=dt), lam, i, p) for i, p in zip(dirs, pred)]
    lam_s = np.array([s[0] for s in scheme])
    vfac = np.array([s[1] for s in scheme])
    # the scheme's growth rate and noise amplitude applied to the prediction (T·λ = ln R/(q σ_Z))
    pred_s = (pred * lp - 0.5 * np.log(vfac * np.exp(2 * (lam_s - lp) * pred))) / lam_s
    adm_int = abs(wslope(pred_s) - pslope) + abs(wslope(pred + dt) - pslope)
    tol = Z_SIGMA * se + adm_model + adm_int
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.errorbar(h, med, yerr=Z_SIGMA * ses, fmt="o", label="MomentumSDE median (±4 SE)")
    ax.loglog(h, pred, "k--", label=f"Theorem 2 median (regressed slope {pslope:.3f})")
    ax.set_xlabel("|H_i|")
    ax.set_ylabel(f"median time to leave |θ_i| < {EXIT_RADIUS:g}")
    ax.legend()
    return [CheckRecord(
        "thm2", "scaling law", "Momentum (EMA): d log(median exit time) / d log |H_i|",
        measured=slope, predicted=pslope, interval=(pslope - tol, pslope + tol),
        tolerance=f"{Z_SIGMA:g} × SE of the weighted fit ({se:.3f}, bootstrap SEs) + O(VarZ∞/R²) term "
                  f"{adm_model:.1e} + exact scheme growth/noise and one-step monitoring shift {adm_int:.1e} (dt={dt:g})",
        note=f"{n} paths per direction, {cens} censored; medians/pred − 1: "
             + ", ".join(f"{a:+.3f}" for a in med / pred - 1),
        figure=save(fig, settings, "thm2_escape_scaling"))]


def check_adam_escape(settings: Settings) -> list[CheckRecord]:
    """(3) AdamSDE β₁ = 0: median exit time vs |H_i| against the local slope −1/2 + 1/(4L)."""
    n = settings.paths(4_000, 40_000)
    dt = 0.01 if not settings.full else 0.0025
    lam = np.array(DRIFT_EIGENVALUES)
    dirs = np.flatnonzero(lam < 0)
    h = -lam[dirs]
    eps = 1e-8
    pred = prop1.median_exit_time(lam[dirs], LR, BATCH, EXIT_RADIUS, eps=eps, corrected=True, warn=False)
    med, ses, cens = _escape_medians(settings, lambda: sim.AdamSDE(LR, 0.0, eps, dt=dt), lam, dirs, n,
                                     3 * pred, settings.seed + 60)
    x = np.log(h)
    slope, se, _ = weighted_slope(x, np.log(med), ses / med)
    w_se = ses / med

    def wslope(y):
        return weighted_slope(x, np.log(y), w_se)[0]
    pslope = wslope(pred)
    local = prop1.median_exit_time_local_slope(lam[dirs], LR, BATCH, EXIT_RADIUS, eps=eps, corrected=True)
    kappa = -prop1.rates(lam[dirs], BATCH, eps=eps)
    eff = np.log1p(kappa * dt) / dt
    adm = abs(wslope(pred * kappa / eff) - pslope) + 0.5 * np.max(kappa) * dt + abs(wslope(pred + dt) - pslope)
    tol = Z_SIGMA * se + adm
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.errorbar(h, med, yerr=Z_SIGMA * ses, fmt="o", label="AdamSDE (β₁=0) median (±4 SE)")
    ax.loglog(h, pred, "k--", label=f"Prop. 1 median (slope {pslope:.3f})")
    ax.loglog(h, pred[0] * (h / h[0]) ** -0.5, "g:", label="slope −1/2")
    ax.set_xlabel("|H_i|")
    ax.set_ylabel(f"median time to leave |θ_i| < {EXIT_RADIUS:g}")
    ax.legend()
    return [CheckRecord(
        "prop1", "scaling law", "Adam (β₁=0): d log(median exit time) / d log |H_i|",
        measured=slope, predicted=pslope, interval=(pslope - tol, pslope + tol),
        tolerance=f"{Z_SIGMA:g} × SE of the weighted fit ({se:.3f}) + Euler–Maruyama rate/noise shift and "
                  f"one-step monitoring {adm:.3f} (dt={dt:g})",
        note=f"local slope −1/2 + 1/(4L) from {local.max():.3f} to {local.min():.3f} across |H_i|; "
             f"{n} paths per direction, {cens} censored; medians/pred − 1: "
             + ", ".join(f"{a:+.3f}" for a in med / pred - 1),
        figure=save(fig, settings, "prop1_escape_scaling"))]


def check_adai_vs_momentum_escape(settings: Settings) -> list[CheckRecord]:
    """(3) Adai vs Momentum (EMA) on the flattest unstable direction, both with initial velocity r₀:
    measured median ratio Momentum/Adai vs the ratio of the predicted medians."""
    n = settings.paths(3_000, 40_000)
    dt = 0.04 if not settings.full else 0.01
    lam = np.array(DRIFT_EIGENVALUES)
    i = int(np.argmax(np.where(lam < 0, lam, -np.inf)))  # flattest unstable
    r0 = 0.2
    b3 = 1.0 - BETA1
    p_mom = thm2.median_exit_time(lam[i], DRIFT_LR, BATCH, BETA1, b3, EXIT_RADIUS, r0=r0)[0]
    p_adai = prop3.median_exit_time(lam, DRIFT_LR, BATCH, BETA0, EXIT_RADIUS, r0=r0)[i]
    rest_ratio = (thm2.median_exit_time(lam[i], DRIFT_LR, BATCH, BETA1, b3, EXIT_RADIUS)[0]
                  / prop3.median_exit_time(lam, DRIFT_LR, BATCH, BETA0, EXIT_RADIUS)[i])
    res = {}
    for k, (name, dyn, p) in enumerate((("Momentum", sim.MomentumSDE(DRIFT_LR, BETA1, b3, dt=dt), p_mom),
                                         ("Adai", sim.AdaiSDE(DRIFT_LR, BETA0, dt=dt), p_adai))):
        st = dyn.state_with_velocity(np.full(lam.size, r0))
        med, se, _ = _escape_medians(settings, lambda d=dyn: d, lam, [i], n, [1.8 * p],
                                     settings.seed + 70 + k, initial_state=st)
        res[name] = (med[0], se[0])
    ratio = res["Momentum"][0] / res["Adai"][0]
    rse = ratio * np.hypot(res["Momentum"][1] / res["Momentum"][0], res["Adai"][1] / res["Adai"][0])
    pr = p_mom / p_adai
    # admitted: monitoring ≤ one step on each, O(VarZ∞/R²) ~ the SGD-form correction on each
    var_m = thm2.stationary_z_variance(lam[i:i + 1], DRIFT_LR, BATCH, BETA1, b3)[0]
    lp_m = thm2.growth_rate_unstable(lam[i:i + 1], DRIFT_LR, BETA1, b3)[0]
    lp_a = prop3.growth_rate(lam, DRIFT_LR, BETA0)[i]
    var_a = prop3.stationary_z_variance(lam, DRIFT_LR, BATCH, BETA0)[i]
    c2 = _ou.CORRECTION_COEFFICIENT
    adm = pr * (dt / p_mom + dt / p_adai + c2 * var_m / EXIT_RADIUS**2 / (lp_m * p_mom)
                + c2 * var_a / EXIT_RADIUS**2 / (lp_a * p_adai))
    tol = Z_SIGMA * rse + adm
    return [CheckRecord(
        "prop3", "sim vs theory", f"median exit time ratio Momentum/Adai, flattest direction |H|={-lam[i]:g}, r₀={r0:g}",
        measured=ratio, predicted=pr, interval=(pr - tol, pr + tol),
        tolerance=f"{Z_SIGMA:g} SE of the ratio ({rse:.3f}, bootstrap) + monitoring (≤ dt={dt:g}) and "
                  f"O(VarZ∞/R²) terms of both medians ({adm:.3f})",
        note=(f"medians: Momentum {res['Momentum'][0]:.3g} (pred {p_mom:.3g}), Adai {res['Adai'][0]:.3g} "
              f"(pred {p_adai:.3g}). Adai is faster only through its momentum drift ∝ 1/|H_i|: from rest "
              f"(r₀ = 0) the predicted ratio is {rest_ratio:.3f} < 1 (Adai's growth rate |H|g(x) and "
              "stationary Var Z equal EMA Momentum's up to g(x)), i.e. Adai is not faster from rest."))]


# ==============================================================================================
# Propositions 1 and 3 (axis-aligned), and the rotated-saddle finding
# ==============================================================================================
def _prop_models():
    return {"Adam β₁=0": ("prop1", lambda dt: sim.AdamSDE(LR, 0.0, dt=dt)),
            "Adam β₁=0.9": ("prop1", lambda dt: sim.AdamSDE(LR, 0.9, dt=dt)),
            "Adai": ("prop3", lambda dt: sim.AdaiSDE(LR, BETA0, dt=dt))}


def _closed_form_cov(name, eigenvalues, times):
    """Eigenbasis closed form of the θ-covariance per direction, shape (n_t, n)."""
    lam = np.asarray(eigenvalues, float)
    if name == "Adam β₁=0":
        return prop1.variance(lam, LR, BATCH, times, eps=1e-8)
    if name == "Adam β₁=0.9":
        return prop1.covariance_2x2(lam, LR, BATCH, 0.9, times, eps=1e-8)[..., 0, 0]
    return prop3.covariance_2x2(lam, LR, BATCH, BETA0, times)[..., 0, 0]


def _sde_checks(settings, landscape, rid_filter, seed0, suffix):
    n = settings.paths(20_000, 200_000)
    recs = []
    for k, (name, (rid, make)) in enumerate(_prop_models().items()):
        if rid not in rid_filter:
            continue
        dt = (0.002 if name == "Adam β₁=0" else 0.01) / (4 if settings.full else 1)
        prob = _problem(make(dt), landscape)
        r, _ = _sde_vs_exact(rid, prob, n, PROP_TIMES, seed0 + k, settings,
                             f"SDE sim ({name}{suffix}, dt={dt:g}) vs exact")
        recs += r
    return recs


def check_prop1_sde(settings):
    """(4) AdamSDE (β₁ = 0 and 0.9) Monte Carlo vs exact moments, axis-aligned saddle."""
    return _sde_checks(settings, _axis(), ("prop1",), settings.seed + 80, "")


def check_prop3_sde(settings):
    """(4) AdaiSDE Monte Carlo vs exact moments, axis-aligned saddle."""
    return _sde_checks(settings, _axis(), ("prop3",), settings.seed + 80, "")


def _closed_checks(settings, rid):
    recs = []
    times = np.array(PROP_TIMES)
    land = _axis()
    for name, (r, make) in _prop_models().items():
        if r != rid:
            continue
        _, cov = sim.exact_sde_moments(_problem(make(None), land), times)
        closed = _closed_form_cov(name, AXIS_EIGENVALUES, times)
        exact = np.einsum("tii->ti", cov)
        off = np.max(np.abs(cov - np.einsum("ti,ij->tij", exact, np.eye(len(AXIS_EIGENVALUES)))))
        err = max(float(np.max(np.abs(closed / exact - 1))), off / float(np.max(exact)))
        tol = 64 * np.finfo(float).eps * np.exp(2 * 2.0 * times.max()) * 100
        recs.append(CheckRecord(
            rid, "closed form vs exact", f"{name}: max relative error of Σ(t) (axis-aligned)",
            measured=err, predicted=0.0, interval=(0.0, tol),
            tolerance=f"round-off of the exact solver: 6400 ε e^(4t) = {tol:.1e} (closed form exact for the "
                      "quasi-static linear SDE)"))
    return recs


def check_prop1_closed_form(settings):
    """(4) prop1.variance / covariance_2x2 vs exact (axis-aligned)."""
    return _closed_checks(settings, "prop1")


def check_prop3_closed_form(settings):
    """(4) prop3.covariance_2x2 vs exact (axis-aligned)."""
    return _closed_checks(settings, "prop3")


def _discrete_vs_sde(settings, rid):
    n = settings.paths(20_000, 200_000)
    land = _axis()
    recs = []
    opt = {"prop1": [("Adam β₁=0.9", sim.Adam(LR, 0.9)), ("Adam β₁=0", sim.Adam(LR, 0.0))],
           "prop3": [("Adai", sim.Adai(LR, BETA0))]}[rid]
    i_u = int(np.argmin(AXIS_EIGENVALUES))
    for k, (name, dyn) in enumerate(opt):
        res = _run(_problem(dyn, land), n, PROP_TIMES, settings.seed + 90 + k, settings)
        _, cov = sim.exact_sde_moments(_problem(dyn.continuous(), land), res.times)
        v_mc, v_ex = np.einsum("tii->ti", res.cov)[1:], np.einsum("tii->ti", cov)[1:]
        se = v_ex * np.sqrt(2.0 / (res.n_alive[1:, None] - 1))
        z = (v_mc - v_ex) / se
        rel = v_mc / v_ex - 1
        zmax = float(np.max(np.abs(z)))
        verdict = PASS if zmax <= Z_SIGMA else FINDING
        recs.append(CheckRecord(
            rid, "discrete vs SDE", f"{name} (real update, v online) vs quasi-static SDE: max |Var θ_i error|/SE",
            measured=zmax, predicted=0.0, interval=(0.0, Z_SIGMA), verdict=verdict,
            tolerance=f"{Z_SIGMA:g} SE (statistics only: the SDE's quasi-static v is an idealisation, "
                      "its error is not bounded by the theory and is reported, not admitted)",
            note=(f"η={LR:g}, t = {', '.join(map(str, PROP_TIMES))}: relative error of Var θ along the unstable "
                  f"direction " + ", ".join(f"{a:+.3f}" for a in rel[:, i_u]) + "; all directions max "
                  f"{np.max(np.abs(rel)):.3f}. The theory admits O(η√(B|H|)) (= {LR * np.sqrt(2.0):.2f} "
                  "on the sharpest direction) for Adam / O(η|H|) for Adai, and only after v has "
                  "equilibrated (k ≫ 1/(1−β₂) = "
                  f"{1 / (1 - dyn.beta2):.0f} steps; here t={max(PROP_TIMES):g} is "
                  f"{int(max(PROP_TIMES) / LR)} steps): the online v̂ averages few, noisy g² (a "
                  "random, correlated preconditioner), which the quasi-static model ignores; the bias "
                  "corrections make the first steps ≈ η·g/|g| (sign-like, size η), an early transient "
                  "the SDE started at rest does not have.")))
    return recs


def check_prop1_discrete(settings):
    """(4) discrete Adam (real updates) vs AdamSDE: measured discrepancy (FINDING unless within statistics)."""
    return _discrete_vs_sde(settings, "prop1")


def check_prop3_discrete(settings):
    """(4) discrete Adai (real updates) vs AdaiSDE: measured discrepancy (FINDING unless within statistics)."""
    return _discrete_vs_sde(settings, "prop3")


def _rotated(settings, rid):
    """(5) rotated saddle: (i) simulator vs exact per-coordinate model (PASS); (ii) the eigenbasis
    closed form vs the exact model (FINDING)."""
    land = saddle()
    recs = _sde_checks(settings, land, (rid,), settings.seed + 110, ", rotated")
    u = land.rotation
    lam = np.array(thm1_eigs())
    times = np.array(PROP_TIMES)
    for name, (r, make) in _prop_models().items():
        if r != rid:
            continue
        _, cov = sim.exact_sde_moments(_problem(make(None), land), times)
        closed = np.einsum("ik,tk,jk->tij", u, _closed_form_cov(name, lam, times), u)
        dev = np.linalg.norm(closed - cov, axis=(1, 2)) / np.linalg.norm(cov, axis=(1, 2))
        recs.append(CheckRecord(
            rid, "closed form vs exact", f"{name}, rotated saddle: relative deviation of eigenbasis Σ (max over t)",
            measured=float(np.max(dev)), predicted=0.0, interval=(0.0, 1e-8), verdict=FINDING,
            tolerance="none admitted: the eigenbasis formula is exact only for axis-aligned H (per-coordinate "
                      "preconditioner/inertia do not commute with the rotation)",
            note=f"‖Σ_eig − Σ_exact‖/‖Σ_exact‖ at t = {', '.join(map(str, PROP_TIMES))}: "
                 + ", ".join(f"{d:.3f}" for d in dev)
                 + ". The simulator matches the exact per-coordinate model (records above); the "
                   "deviation is the theory's, from v = diag C taken in the coordinate basis."))
    return recs


def thm1_eigs():
    from .thm1 import EIGENVALUES

    return EIGENVALUES


def check_prop1_rotated(settings):
    return _rotated(settings, "prop1")


def check_prop3_rotated(settings):
    return _rotated(settings, "prop3")


# ----------------------------------------------------------------------------------------------
FIG_EIGENVALUES = (1.0, -0.5)
FIG_TIMES = (1.0, 2.0, 3.0)


def _inside_probability(s_true, s_pred, radius2=4.0):
    """P(xᵀ Σ_pred⁻¹ x ≤ radius2) for x ~ N(0, Σ_true) (2-D, by quadrature)."""
    lc = np.linalg.cholesky(s_pred)
    m = np.linalg.solve(lc, np.linalg.solve(lc, s_true).T).T
    a = np.linalg.eigvalsh(0.5 * (m + m.T))

    def f(z):
        rest = (radius2 - a[1] * z * z) / a[0]
        return stats.norm.pdf(z) * (2 * stats.norm.cdf(np.sqrt(rest)) - 1 if rest > 0 else 0.0)
    zmax = np.sqrt(radius2 / a[1])
    return integrate.quad(f, -zmax, zmax, epsabs=1e-12)[0]


def check_saddle_figure(settings: Settings) -> list[CheckRecord]:
    """(6) SGD, Momentum, Adam and Adai leaving the same 2-D saddle, with predicted 2σ ellipses;
    the fraction of paths inside each ellipse vs 1 − e^{−2}."""
    n = settings.paths(3_000, 40_000)
    lam = np.array(FIG_EIGENVALUES)
    land = sim.QuadraticSaddle(lam)
    dt = 0.01 if not settings.full else 0.0025
    t = np.array(FIG_TIMES)
    models = {
        "SGD": (sim.SGDLangevin(LR, dt=dt), thm1.variance(lam, LR, BATCH, t)),
        "Momentum (EMA)": (sim.MomentumSDE(LR, BETA1, 1 - BETA1, dt=dt),
                           thm2.position_variance(lam, LR, BATCH, BETA1, 1 - BETA1, t)),
        "Adam (β₁=0)": (sim.AdamSDE(LR, 0.0, dt=dt), prop1.variance(lam, LR, BATCH, t, eps=1e-8)),
        "Adai": (sim.AdaiSDE(LR, BETA0, dt=dt), prop3.position_variance(lam, LR, BATCH, BETA0, t)),
    }
    p0 = 1 - np.exp(-2.0)
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.3), sharex=True, sharey=True)
    worst, worst_note, notes = 0.0, "", []
    phi = np.linspace(0, 2 * np.pi, 200)
    colors = ("C0", "C1", "C2")
    for k, (ax, (name, (dyn, var))) in enumerate(zip(axes, models.items())):
        prob = _problem(dyn, land)
        res = _run(prob, n, t, settings.seed + 120 + k, settings, store_samples=True)
        _, cov_s = sim.exact_scheme_moments(prob, res.steps)
        _, cov_x = sim.exact_sde_moments(prob, res.times)
        for j in range(t.size):
            s_pred = np.diag(var[j])
            x = res.samples[j + 1]
            q = np.einsum("pi,pi->p", x @ np.linalg.inv(s_pred), x)
            frac = float(np.mean(q <= 4.0))
            p_s = _inside_probability(cov_s[j + 1], cov_x[j + 1])  # scheme effect, vs the exact SDE
            se = np.sqrt(p0 * (1 - p0) / x.shape[0])
            r = abs(frac - p0) / (Z_SIGMA * se + abs(p_s - p0))
            notes.append(f"{name} t={t[j]:g}: {frac:.3f}")
            if r > worst:
                worst, worst_note = r, f"{name} at t={t[j]:g}"
            sub = x[:800]
            ax.scatter(sub[:, 1], sub[:, 0], s=2, alpha=0.35, color=colors[j],
                       label=f"t = {t[j]:g}")
            sd = np.sqrt(var[j])
            ax.plot(2 * sd[1] * np.cos(phi), 2 * sd[0] * np.sin(phi), color=colors[j], lw=2)
        ax.set_title(name)
        ax.set_xlabel("unstable direction θ₂ (H = −0.5)")
        ax.set_xlim(-4, 4)
        ax.set_ylim(-1.2, 1.2)
    axes[0].set_ylabel("stable direction θ₁ (H = 1)")
    axes[0].legend(loc="upper left", fontsize=8, markerscale=4)
    fig.suptitle("Four optimizers leaving the same saddle: dots = simulated paths, lines = predicted 2σ "
                 "ellipses (Theorem 1, Theorem 2, Prop. 1, Prop. 3). Adam spreads fastest along the flat "
                 "unstable direction; its noise is isotropic.", fontsize=10)
    return [CheckRecord(
        "prop3", "sim vs theory", "fraction inside predicted 2σ ellipse vs 1−e⁻² (SGD/Mom/Adam/Adai, max |err|/tol)",
        measured=worst, predicted=0.0, interval=(0.0, 1.0),
        tolerance=f"{Z_SIGMA:g} binomial SE + exact effect of the scheme's covariance on the fraction (quadrature)",
        note=f"worst: {worst_note}; fractions (expected {p0:.3f}): " + "; ".join(notes),
        figure=save(fig, settings, "saddle_four_optimizers"))]


THM2_CHECKS = (check_thm2_closed_form, check_thm2_sde, check_thm2_discrete, check_thm2_gap,
               check_momentum_drift, check_momentum_escape)
PROP1_CHECKS = (check_prop1_closed_form, check_prop1_sde, check_prop1_discrete, check_prop1_rotated,
                check_adam_escape)
PROP3_CHECKS = (check_prop3_closed_form, check_prop3_sde, check_prop3_discrete, check_prop3_rotated,
                check_adai_vs_momentum_escape, check_saddle_figure)
