r"""Proposition 1 (Adam at a quadratic saddle: isotropic noise, escape time ∝ |H_i|^(-1/2)), checked the
ways of docs/theory.md §7 on the quasi-static continuous model (β₁ = 0 and 0.9), plus the rotated-saddle
finding and the escape-time scaling law.
"""
from __future__ import annotations

import numpy as np

from optdyn import sim
from optdyn.theory import prop1

from .. import problems as P
from ..estimates import (axis_closed_records, discrete_vs_quasistatic_record, escape_medians,
                         model_sde_records, rotated_finding_records, run_saved)
from ..figures import save, style
from ..records import CheckRecord
from ..registry import (CLOSED_VS_EXACT, DISCRETE_VS_SDE, FINDING_KIND, SCALING, SIM_VS_EXACT, check)
from ..stats import Z_SIGMA, weighted_slope

RESULT = "prop1"
#: The sim classes these checks run (the README's results table).
SIM_CLASSES = ('QuadraticSaddle', 'HessianNoise', 'AdamSDE', 'Adam', 'SlabExit')
LR, BATCH = P.LR, P.BATCH


def models():
    """Adam's continuous models checked here: name → ``dt ↦ AdamSDE``."""
    return {name: make for name, (rid, make) in P.saddle_models().items() if rid == RESULT}


def closed_form_cov(name, eigenvalues, times):
    """Eigenbasis closed form of the θ-covariance per direction, shape (n_t, n)."""
    lam = np.asarray(eigenvalues, float)
    if name == "Adam β₁=0":
        return prop1.variance(lam, LR, BATCH, times, eps=1e-8)
    return prop1.covariance_2x2(lam, LR, BATCH, 0.9, times, eps=1e-8)[..., 0, 0]


def _dts(settings):
    return {name: (0.002 if name == "Adam β₁=0" else 0.01) / (4 if settings.full else 1) for name in models()}


@check(RESULT, kind=CLOSED_VS_EXACT, problems=("axis-saddle",))
def check_closed_form(settings) -> list[CheckRecord]:
    """(4) prop1.variance / covariance_2x2 vs exact (axis-aligned)."""
    return axis_closed_records(RESULT, models(), closed_form_cov, P.axis_saddle(), P.AXIS_EIGENVALUES)


@check(RESULT, kind=SIM_VS_EXACT, problems=("axis-saddle",), paths=(20_000, 200_000))
def check_sde(settings) -> list[CheckRecord]:
    """(4) AdamSDE (β₁ = 0 and 0.9) Monte Carlo vs exact moments, axis-aligned saddle (dt 0.002 / 0.01, full ÷ 4)."""
    return model_sde_records(RESULT, models(), P.axis_saddle(), settings.n, _dts(settings),
                             {name: settings.stream(name) for name in models()}, settings)


@check(RESULT, kind=DISCRETE_VS_SDE, problems=("axis-saddle",), paths=(20_000, 200_000))
def check_discrete(settings) -> list[CheckRecord]:
    """(4) discrete Adam (real updates) vs AdamSDE: measured discrepancy (FINDING unless within statistics)."""
    recs = []
    for name, dyn in (("Adam β₁=0.9", sim.Adam(LR, 0.9)), ("Adam β₁=0", sim.Adam(LR, 0.0))):
        prob = P.saddle_problem(dyn, P.axis_saddle())
        res = run_saved(prob, settings.n, P.PROP_TIMES, settings.stream(name), settings)
        recs.append(discrete_vs_quasistatic_record(RESULT, name, prob, res, LR))
    return recs


@check(RESULT, kind=FINDING_KIND, problems=("rotated-saddle",), paths=(20_000, 200_000))
def check_rotated(settings) -> list[CheckRecord]:
    """(5) rotated saddle: (i) simulator vs exact per-coordinate model (PASS); (ii) the eigenbasis closed
    form vs the exact model (FINDING)."""
    land = P.rotated_saddle()
    recs = model_sde_records(RESULT, models(), land, settings.n, _dts(settings),
                             {name: settings.stream(name) for name in models()}, settings, ", rotated")
    return recs + rotated_finding_records(RESULT, models(), closed_form_cov, land, P.EIGENVALUES)


@check(RESULT, kind=SCALING, problems=("drift-saddle",), paths=(4_000, 40_000), sizes={"dt": (0.01, 0.0025)})
def check_adam_escape(settings) -> list[CheckRecord]:
    """(3) AdamSDE β₁ = 0: median exit time vs |H_i| against the local slope −1/2 + 1/(4L)."""
    n, dt = settings.n, settings.size("dt")
    lam = np.array(P.DRIFT_EIGENVALUES)
    dirs = np.flatnonzero(lam < 0)
    h = -lam[dirs]
    eps = 1e-8
    pred = prop1.median_exit_time(lam[dirs], LR, BATCH, P.EXIT_RADIUS, eps=eps, corrected=True, warn=False)
    land = P.axis_saddle(lam)
    probs = [P.saddle_problem(sim.AdamSDE(LR, 0.0, eps, dt=dt), land, exit=P.slab_exit(land, i)) for i in dirs]
    med, ses, cens = escape_medians(probs, n, 3 * pred, [settings.stream(int(i)) for i in dirs], settings,
                                    np.random.default_rng(settings.stream("bootstrap")))
    x = np.log(h)
    slope, se, _ = weighted_slope(x, np.log(med), ses / med)
    w_se = ses / med

    def wslope(y):
        return weighted_slope(x, np.log(y), w_se)[0]
    pslope = wslope(pred)
    local = prop1.median_exit_time_local_slope(lam[dirs], LR, BATCH, P.EXIT_RADIUS, eps=eps, corrected=True)
    kappa = -prop1.rates(lam[dirs], BATCH, eps=eps)
    eff = np.log1p(kappa * dt) / dt
    adm = abs(wslope(pred * kappa / eff) - pslope) + 0.5 * np.max(kappa) * dt + abs(wslope(pred + dt) - pslope)
    tol = Z_SIGMA * se + adm
    fig, ax = style.subplots()
    style.errorbar(ax, h, med, ses, optimizer="Adam", n_se=Z_SIGMA, label="AdamSDE (β₁=0) median")
    ax.loglog(h, pred, "--", color=style.THEORY, label=f"Prop. 1 median (slope {pslope:.3f})")
    ax.loglog(h, pred[0] * (h / h[0]) ** -0.5, ":", color="0.5", label="slope −1/2")
    ax.set_xlabel("|H_i| (unstable eigenvalue)")
    ax.set_ylabel(f"median time to leave |θ_i| < {P.EXIT_RADIUS:g}")
    style.title(ax, "Adam: escape time from a saddle ∝ |H_i|^(−1/2)", lr=LR, B=BATCH, beta1=0.0, dt=dt, n=n)
    style.legend(ax)
    return [CheckRecord(
        RESULT, "scaling law", "Adam (β₁=0): d log(median exit time) / d log |H_i|",
        measured=slope, predicted=pslope, interval=(pslope - tol, pslope + tol),
        tolerance=f"{Z_SIGMA:g} × SE of the weighted fit ({se:.3f}) + Euler–Maruyama rate/noise shift and "
                  f"one-step monitoring {adm:.3f} (dt={dt:g})",
        note=f"local slope −1/2 + 1/(4L) from {local.max():.3f} to {local.min():.3f} across |H_i|; "
             f"{n} paths per direction, {cens} censored; medians/pred − 1: "
             + ", ".join(f"{a:+.3f}" for a in med / pred - 1),
        figure=save(fig, settings, "prop1_escape_scaling"))]
