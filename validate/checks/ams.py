r"""Escape times at low temperature by rare-event Monte Carlo (adaptive multilevel splitting,
:func:`sim.rare.ams_escape`; docs/theory.md §7.1): the simulator against exact MFPTs at E = 5–25, the
closed forms of the SGD law ([DDT]), Theorem 3 (Momentum), Proposition 2 (Adam) and Proposition 4
(Adai) against AMS at E = 20–40 for the SDEs **and the real discrete optimizers**, and the cost of an
estimate against E.

Problems: the unit piecewise-quadratic wells (:math:`H_a = |H_b| = 1`, :math:`\Delta L = 1`: constant
diffusion along the path, both prefactor forms coincide), from the minimum to absorption at the next
minimum; Adai on the 2-D wells with a spectator of curvature 3 (:math:`v_e/\bar v = 0.5` on the whole
path).  E is the result's own exponent (:math:`E_{SGD}` for SGD, Momentum and Adai, :math:`E_{Adam}`
for Adam), set through B.

Reaction coordinate: :func:`sim.rare.default_coordinate` — for Momentum and Adai (SDE and discrete) the
phase-space value (position plus :math:`c` times the velocity, :math:`c = 1/|\lambda_-|` at the saddle),
whose estimates have a far lighter tail over runs than the position-only value's (docs/theory.md §7.1);
for SGD and Adam the position.  Sizes: more replicas and fewer runs are the better use of a budget
(the tail of :math:`\hat p` shrinks with the replicas, not with the runs).

Verdicts: AMS against an exact MFPT of the same SDE beyond 4 SE plus the scheme's and the solver's
stated errors is a FAIL (simulator); a closed form against AMS beyond 4 SE plus the error the theory
admits (:math:`O(T/\Delta L)` with unit coefficient, :math:`1/E`; for a discrete optimizer also
:math:`O(\eta|H|)`) is a FINDING, with numbers.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from optdyn import sim
from optdyn import theory

from .. import problems as P
from ..estimates import ams, em_bias, exact_1d, kramers
from ..figures import plt, save
from ..records import FINDING, PASS, CheckRecord
from ..registry import CLOSED_VS_EXACT, SCALING, SIM_VS_EXACT, check
from ..stats import Z_SIGMA, weighted_slope

RESULT = "ams"
DESCRIPTION = ("Rare-event Monte Carlo (AMS): escape times of the SDEs and the real optimizers at E = 5–40 "
               "against exact MFPTs and the closed forms (SGD law, Theorem 3, Proposition 2, Proposition 4)")
COVERS = ("ams", "ddt-sgd", "thm3", "prop2", "prop4")
#: The sim classes these checks run (the README's results table).
SIM_CLASSES = ("PiecewiseQuadraticWells", "HessianNoise", "SGDLangevin", "SGD", "MomentumSDE", "Momentum",
               "AdamSDE", "Adam", "AdaiSDE", "Adai", "HalfSpaceExit", "rare")

#: Learning rates: the SDEs at the validity maps' settings, the discrete optimizers at η = 0.01 (their
#: exponent differs from the SDE's by O(E·η|H|), see the closed-form check).
SGD_LR, MOM_LR, ADAM_LR, ADAI_LR, DISCRETE_LR = 0.1, 0.05, 0.05, 0.05, 0.01
#: Euler–Maruyama steps of the overdamped SDEs: bias E·κ·dt/2 ≤ 2 % at E = 40 (κ = |H| = 1 for SGD,
#: κ = √(B|H|) = Eη/2 for Adam).
SGD_DT, ADAM_DT = 1e-3, 1e-3
BETA1, BETA0, RHO = P.BETA1, P.BETA0, 0.5  # Momentum β₁ (EMA), Adai β₀, Adai's v_e/v̄ on the spectator wells


@dataclass(frozen=True)
class Case:
    """One optimizer model on the wells: its Problem at exponent E, the closed form, the exact MFPT (None
    where no exact solver exists) and the relative errors admitted besides statistics."""

    rid: str
    label: str
    build: Callable  # E -> Problem
    closed: Callable  # E -> closed-form τ (continuous time)
    exact: str | None  # "quadrature" (1-D overdamped), "Kramers" (underdamped backward equation) or None
    scheme_bias: Callable  # E -> admitted relative bias of the integration scheme (SDEs)
    lr_curvature: float  # η|H| admitted by the theory for a discrete optimizer (0 for SDEs)
    scheme_text: str


def _wells():
    return P.wells()


def _sgd_batch(lr, e):
    return P.sgd_batch(lr, e, _wells())


def _sgd_sde(e):
    return P.with_monitoring_shift(P.sgd_wells(e, lr=SGD_LR, dt=SGD_DT))


def _adam_sde(e):
    return P.with_monitoring_shift(P.adam_wells(1.0, e, lr=ADAM_LR, dt=ADAM_DT)[0])


def _adai_discrete(e):
    land = P.wells(spectators=[P.SPECTATOR])
    return P.escape_problem(land, sim.HessianNoise(_sgd_batch(DISCRETE_LR, e)), sim.Adai(DISCRETE_LR, BETA0))


def _adam_discrete(e):
    land = _wells()
    return P.escape_problem(land, sim.HessianNoise(P.adam_batch(DISCRETE_LR, e, land)),
                            sim.Adam(DISCRETE_LR, beta1=BETA1, beta2=0.999))


def _sgd_discrete(e):
    return P.escape_problem(_wells(), sim.HessianNoise(_sgd_batch(DISCRETE_LR, e)), sim.SGD(DISCRETE_LR))


def exact_mfpt(case, e, settings) -> tuple[float, float]:
    """Exact MFPT of the case's SDE at exponent E and the solver's relative error estimate."""
    prob = case.build(e)
    if case.exact == "quadrature":
        return exact_1d(prob), 1e-6
    return kramers(prob, settings)


def _closed_sgd(lr):
    return lambda e: float(theory.ddt.sgd_escape_time(1.0, -1.0, 1.0, lr, _sgd_batch(lr, e), form="ito"))


def _closed_momentum(lr):
    return lambda e: float(theory.thm3.escape_time(1.0, -1.0, 1.0, lr, _sgd_batch(lr, e), BETA1, form="ito"))


def _closed_adai(lr):
    return lambda e: float(theory.prop4.escape_time(1.0, -1.0, 1.0, lr, _sgd_batch(lr, e), BETA0,
                                                    variance_ratio=RHO, form="ito"))


def _closed_adam(lr, beta1):
    def closed(e):
        b = P.adam_batch(lr, e, _wells())
        if beta1 == 0:
            return float(theory.prop2.escape_time_alr(1.0, -1.0, 1.0, lr, b))
        return float(theory.prop2.escape_time(1.0, -1.0, 1.0, lr, b, beta1=beta1))
    return closed


def _no_bias(e):
    return 0.0


UNDERDAMPED_TEXT = "kick–OU–kick splitting (weak order 2) at dt = η/10: its bias is not admitted"
CASES = (
    Case("ddt-sgd", "SGD SDE", _sgd_sde, _closed_sgd(SGD_LR), "quadrature",
         lambda e: em_bias(e, 1.0, SGD_DT), 0.0, f"Euler–Maruyama bias E·|H|·dt/2 at dt={SGD_DT:g}"),
    Case("ddt-sgd", "SGD (discrete)", _sgd_discrete, _closed_sgd(DISCRETE_LR), None, _no_bias, DISCRETE_LR, ""),
    Case("thm3", "Momentum SDE", lambda e: P.momentum_wells(e, lr=MOM_LR), _closed_momentum(MOM_LR),
         "Kramers", _no_bias, 0.0, UNDERDAMPED_TEXT),
    Case("thm3", "Momentum (discrete)", lambda e: P.momentum_wells(e, lr=DISCRETE_LR, discrete=True),
         _closed_momentum(DISCRETE_LR), None, _no_bias, DISCRETE_LR, ""),
    Case("prop2", "Adam SDE (β₁=0)", _adam_sde, _closed_adam(ADAM_LR, 0.0), "quadrature",
         lambda e: em_bias(e, e * ADAM_LR / 2, ADAM_DT), 0.0, f"Euler–Maruyama bias E·√(B|H|)·dt/2 at dt={ADAM_DT:g}"),
    Case("prop2", "Adam (discrete, β₁=0.9)", _adam_discrete, _closed_adam(DISCRETE_LR, BETA1), None, _no_bias,
         DISCRETE_LR, ""),
    Case("prop4", "Adai SDE", lambda e: P.adai_wells(e, lr=ADAI_LR), _closed_adai(ADAI_LR),
         "Kramers", _no_bias, 0.0, UNDERDAMPED_TEXT),
    Case("prop4", "Adai (discrete)", _adai_discrete, _closed_adai(DISCRETE_LR), None, _no_bias, DISCRETE_LR, ""),
)


def _cases(settings, exact_only=False):
    return [c for c in CASES if settings.wants(c.rid) or settings.wants(RESULT)
            if not exact_only or c.exact is not None]


def _estimate(case, e, settings, tag):
    n, m = settings.size("replicas"), settings.size("runs")
    backend = "numpy" if settings.backend == "numpy" else "numba"  # the compiled programs serve numba and torch
    return ams(case.build(e), n, m, settings.stream(case.label, float(e), tag), backend=backend)


# --------------------------------------------------------------------------------------------------
# AMS against the exact MFPT
# --------------------------------------------------------------------------------------------------
def size_note(res) -> str:
    """Replicas × runs, the coordinate, path-steps per run and the wall time of an AMS estimate."""
    coord = res.details.get("coordinate", {}).get("class", "?")
    return (f"{res.n_replicas} replicas × {res.n_runs} runs, {coord}, {res.steps:.3g} path-steps per run, "
            f"{sum(r.wall_s for r in res.runs):.3g} s")


def _exact_exponents(settings, case):
    """E = 5–25 (quick: 5, 15, 25; the underdamped cases stop at 15 in the quick suite to bound its time:
    their AMS runs are the slowest.  The local-Gibbs Kramers solver itself states ~1e-3 at E = 25.)"""
    if settings.full:
        return (5.0, 10.0, 15.0, 20.0, 25.0)
    return (5.0, 15.0) if case.exact == "Kramers" else (5.0, 15.0, 25.0)


def exact_record(case, e, res, exact, solver) -> CheckRecord:
    """AMS τ̂ against the exact MFPT: within 4 jackknife SE + the scheme's admitted bias + 3× the solver's
    error estimate (quadrature: none); a miss is a FAIL (the simulator is under test)."""
    solver_rel = 3 * solver if solver > 1e-5 else 0.0
    bias = case.scheme_bias(e)
    half = Z_SIGMA * res.mean_time_se + (bias + solver_rel) * exact
    return CheckRecord(
        case.rid, "sim vs exact (AMS)", f"{case.label}, E={e:g}: mean escape time τ",
        measured=res.mean_time, predicted=exact, interval=(exact - half, exact + half),
        tolerance=f"{Z_SIGMA:g} jackknife SE over {res.n_runs} independent AMS runs (relative SE "
                  f"{res.relative_se:.3f}) + {bias:.3g} relative: {case.scheme_text or 'none'}"
                  + (f" + 3× the Kramers solver's error estimate ({solver:.3g})" if solver_rel else ""),
        note=f"τ_AMS/τ_exact − 1 = {res.mean_time / exact - 1:+.3f}; p̂ = {res.probability:.3g}; " + size_note(res),
        details=res.summary())


@check(RESULT, kind=SIM_VS_EXACT, problems=("unit-wells", "spectator-wells"), sizes={"replicas": (100, 500),
       "runs": (8, 20)}, covers=COVERS)
def check_ams_vs_exact(settings) -> list[CheckRecord]:
    """AMS of the SDEs (SGD, Momentum, Adam β₁=0, Adai) against their exact MFPTs (quadrature, Kramers) at
    E = 5–25: within 4 jackknife SE plus the scheme's and the solver's stated errors."""
    recs = []
    for case in _cases(settings, exact_only=True):
        for e in _exact_exponents(settings, case):
            res = _estimate(case, e, settings, "exact")
            exact, solver = exact_mfpt(case, e, settings)
            recs.append(exact_record(case, e, res, exact, solver))
    return recs


# --------------------------------------------------------------------------------------------------
# closed forms against AMS at E = 20–40
# --------------------------------------------------------------------------------------------------
def _closed_exponents(settings):
    """E = 20, 30, 40 (quick: 20, 40)."""
    return (20.0, 30.0, 40.0) if settings.full else (20.0, 40.0)


def closed_form_record(case, e, res, closed, note=""):
    """Relative error r = closed/τ_AMS − 1 against 0, within 4 SE (delta method) plus the theory's admitted
    O(T/ΔL) = 1/E (unit coefficient), for a discrete optimizer O(η|H|), for an SDE its scheme's bias;
    FINDING beyond."""
    r = closed / res.mean_time - 1
    se = (1 + r) * res.relative_se
    bias = case.scheme_bias(e)
    admitted = 1 / e + case.lr_curvature + bias
    half = Z_SIGMA * se + admitted
    rec = CheckRecord(
        case.rid, "closed form vs AMS", f"{case.label}, E={e:g}: relative error of the closed form",
        measured=r, predicted=0.0, interval=(-half, half),
        tolerance=f"{Z_SIGMA:g} SE of τ_AMS (jackknife, relative {res.relative_se:.3f}) + admitted O(T/ΔL) = "
                  f"1/E = {1 / e:.3g}" + (f" + O(η|H|) = {case.lr_curvature:g}" if case.lr_curvature else "")
                  + (f" + scheme bias {bias:.3g} ({case.scheme_text})" if bias else
                     (f"; scheme: {case.scheme_text}" if case.scheme_text else "")),
        note=f"τ_closed = {closed:.4g}, τ_AMS = {res.mean_time:.4g} (95% CI {res.mean_time_ci[0]:.4g}–"
             f"{res.mean_time_ci[1]:.4g}); r = {r:+.3f} ± {se:.3f} (1 SE); " + size_note(res) + note,
        details=res.summary())
    if rec.verdict != PASS:
        rec.verdict = FINDING
    return rec


@check(RESULT, kind=CLOSED_VS_EXACT, problems=("unit-wells", "spectator-wells"),
       sizes={"replicas": (60, 500), "runs": (6, 20)}, covers=COVERS)
def check_ams_closed_forms(settings) -> list[CheckRecord]:
    """The SGD law, Theorem 3, Proposition 2 and Proposition 4 against AMS at E = 20–40, SDEs and the real
    discrete optimizers; figure: relative error of each closed form against E, exact and AMS points."""
    recs, points = [], {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.ValidityWarning)
        for case in _cases(settings):
            for e in _closed_exponents(settings):
                res = _estimate(case, e, settings, "closed")
                closed = case.closed(e)
                note = ""
                if case.exact == "quadrature":
                    ex = exact_mfpt(case, e, settings)[0]
                    note = f"; exact (quadrature) τ = {ex:.4g}, closed/exact − 1 = {closed / ex - 1:+.3f}"
                recs.append(closed_form_record(case, e, res, closed, note))
                points.setdefault(case.label, []).append((e, closed / res.mean_time - 1,
                                                          (closed / res.mean_time) * res.relative_se))
        recs[0].figure = _error_figure(settings, points)
    return recs


def _exact_curve(case, settings):
    """Relative error of the closed form against the exact model over E (quadrature to 40, Kramers to 20)."""
    if case.exact is None:
        return None
    es = np.array((3.0, 5.0, 8.0, 12.0, 16.0, 20.0) if case.exact == "Kramers"
                  else (3.0, 5.0, 8.0, 12.0, 16.0, 20.0, 25.0, 30.0, 35.0, 40.0))
    errs = np.array([case.closed(e) / exact_mfpt(case, e, settings)[0] - 1 for e in es])
    return es, errs


def _error_figure(settings, points):
    groups = [("ddt-sgd", "SGD law ([DDT])"), ("thm3", "Theorem 3 (Momentum)"), ("prop2", "Proposition 2 (Adam)"),
              ("prop4", "Proposition 4 (Adai)")]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), sharey=True)
    for ax, (rid, title) in zip(axes, groups):
        for k, case in enumerate(c for c in CASES if c.rid == rid):
            color = f"C{k}"
            curve = _exact_curve(case, settings) if settings.wants(rid) or settings.wants(RESULT) else None
            if curve is not None:
                ax.plot(curve[0], np.abs(curve[1]), "-", color=color, lw=1, label=f"{case.label}: exact model")
            pts = points.get(case.label)
            if pts:
                e, r, se = np.array(pts).T
                ax.errorbar(e, np.abs(r), yerr=2 * se, fmt="o" if "SDE" in case.label else "s", color=color,
                            capsize=3, label=f"{case.label}: AMS (±2 SE)")
        es = np.linspace(3, 40, 50)
        ax.plot(es, 1 / es, "k:", lw=0.8, label="1/E (admitted O(T/ΔL))")
        ax.set_yscale("log")
        ax.set_xlabel("E (exponent = ΔL/T)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("|closed form / measured − 1|")
    return save(fig, settings, "ams_closed_form_errors")


# --------------------------------------------------------------------------------------------------
# cost against E
# --------------------------------------------------------------------------------------------------
#: The cost cases and the exponent of their time scale in E: SGD's relaxation time 1/|H| does not depend on
#: E (0); Adam's preconditioned drift is ∇L/√v with v ∝ 1/B and E_Adam ∝ √B, so its excursions last
#: ∝ 1/E steps (−1).
COST_CASES = {"SGD SDE": 0.0, "Adam (discrete, β₁=0.9)": -1.0}


def cost_record(label, es, runs, direct_steps, predicted=1.0, what="path-steps per estimate",
                why="iterations ∝ log(1/p) ∝ E, excursions of bounded length") -> CheckRecord:
    """Weighted log-log slope a of the mean cost per run against E (SE of each log-mean from the
    run-to-run spread) against ``predicted``; FINDING outside 4 SE + 1/log(E_min)."""
    es = np.asarray(es, float)
    cost = np.array([r.mean() for r in runs])
    se = np.array([r.std(ddof=1) / np.sqrt(r.size) / r.mean() for r in runs])
    a, sa, _ = weighted_slope(np.log(es), np.log(cost), se)
    allowance = 1 / np.log(es[0])
    half = Z_SIGMA * sa + allowance
    rec = CheckRecord(
        RESULT, "scaling law (cost)", f"{label}: exponent a of AMS cost ∝ E^a ({what})",
        measured=a, predicted=predicted, interval=(predicted - half, predicted + half),
        tolerance=f"{Z_SIGMA:g} SE of the weighted log-log slope (SE={sa:.3g}, from the run-to-run spread of "
                  f"the cost) + {allowance:.2f}: {why} (a = {predicted:g}), up to corrections of relative order "
                  "log E / E (log(1/p) = E + O(log E); d log log E / d log E = 1/log E at E_min)",
        note=f"{what}: " + ", ".join(f"E={e:g}: {c:.3g}" for e, c in zip(es, cost))
             + "; direct simulation per escape: τ/dt = " + ", ".join(f"{t:.2g}" for t in direct_steps),
        details={"E": es.tolist(), "cost": cost.tolist(), "direct_steps": list(map(float, direct_steps))})
    if rec.verdict != PASS:
        rec.verdict = FINDING
    return rec


@check(RESULT, kind=SCALING, problems=("unit-wells",), sizes={"replicas": (50, 200), "runs": (4, 10)})
def check_ams_cost(settings) -> list[CheckRecord]:
    """Cost of one AMS estimate against E, where direct simulation needs τ/dt ∝ e^E steps: the splitting's
    iterations grow like log(1/p) ∝ E (a = 1), and its path-steps like E times the length of an excursion
    in steps, E^(1+b) with b the exponent of the dynamics' time scale (SGD: b = 0; Adam: b = −1, its
    preconditioned drift grows like E_Adam, so its excursions shorten like 1/E and the path-steps stay
    flat).  The direct phase (loops and, for Adam, the burn-in of the bias corrections: a fixed
    ~ln(1e-3)/ln β₂ steps) does not grow with E and is reported beside the fit, not in it: at the quick
    sizes it is a third of the work, and fitting it in would measure the burn-in, not the splitting."""
    es = np.array((5.0, 10.0, 20.0, 30.0, 40.0) if settings.full else (5.0, 10.0, 20.0, 40.0))
    recs, curves = [], {}
    for case in (c for c in CASES if c.label in COST_CASES):
        runs, iters, taus, direct = [], [], [], []
        for e in es:
            res = _estimate(case, e, settings, "cost")
            runs.append(np.array([r.steps - r.direct_steps for r in res.runs], float))
            iters.append(np.array([r.n_iterations for r in res.runs], float))
            direct.append(np.mean([r.direct_steps for r in res.runs]))
            taus.append(res.mean_time / res.dt)
        b = COST_CASES[case.label]
        recs.append(cost_record(case.label, es, iters, taus, 1.0, "AMS iterations per run",
                                "one iteration per factor 1 − K/N of p"))
        rec = cost_record(case.label, es, runs, taus, 1.0 + b, "splitting path-steps per run",
                          f"iterations ∝ E times excursions of E^{b:g} steps")
        rec.note += "; direct phase per run (not in the fit): " + ", ".join(f"{d:.3g}" for d in direct)
        recs.append(rec)
        curves[case.label] = (np.array([r.mean() for r in runs]), taus)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for k, (label, (cost, taus)) in enumerate(curves.items()):
        ax.semilogy(es, cost, "o-", color=f"C{k}", label=f"{label}: AMS, path-steps per estimate")
        ax.semilogy(es, taus, "--", color=f"C{k}", label=f"{label}: direct, steps per escape (τ/dt)")
    ax.set_xlabel("E")
    ax.set_ylabel("path-steps")
    ax.legend(fontsize=7)
    recs[0].figure = save(fig, settings, "ams_cost")
    return recs
