r"""SGD escape from a minimum ([DDT] baseline, docs/theory.md §5): Monte Carlo vs exact quadrature, the real
SGD vs its SDE as η → 0, the scaling laws of log τ, and the backward-Kolmogorov grid solvers against Monte
Carlo of the same Problem (1-D and 2-D box exits).

Verdicts: a simulation that disagrees with the exact model of the same SDE is a FAIL (simulator); a
theory that disagrees with the exact model beyond the stated tolerance is a FINDING, with numbers.
"""
from __future__ import annotations

import numpy as np

from optdyn import sim

from .. import problems as P
from ..estimates import (discrete_gap_record, em_bias, exact_1d, log_se, mc_rate, monitoring_shift,
                         slope_record, tau_record)
from ..records import CheckRecord
from ..registry import (DISCRETE_VS_SDE, SCALING, SIM_VS_EXACT, check)

RESULT = "ddt-sgd"
#: The sim classes these checks run (the README's results table).
SIM_CLASSES = ('PiecewiseQuadraticWells', 'HessianNoise', 'SGDLangevin', 'SGD', 'HalfSpaceExit', 'BoxExit', 'QuadraticSaddle')


def _sgd_mc(exponent, settings, stream, n=None, kappa=1.0):
    """SGD SDE Monte Carlo on wells(κ) at E_SGD = exponent vs the exact quadrature MFPT (monitoring-shifted)."""
    prob = P.sgd_wells(exponent, kappa)
    shift = monitoring_shift(prob)
    exact = exact_1d(prob, shift)
    n = n or settings.n
    est = mc_rate(prob, n, 40 * exact, settings.stream(*stream), settings)
    return est, exact, em_bias(exponent, kappa, P.SGD_DT)


@check(RESULT, kind=SIM_VS_EXACT, problems=("unit-wells",), paths=(2000, 20000))
def check_sgd_sim_vs_exact(settings) -> list[CheckRecord]:
    """SGD SDE (Euler–Maruyama) escape time against the exact quadrature MFPT, H_a = |H_b| = 1, E = 3."""
    est, exact, bias = _sgd_mc(3.0, settings, ("E", 3.0))
    return [tau_record(RESULT, "sim vs exact (quadrature)", "SGD SDE, E_SGD=3: mean escape time τ",
                       est, exact, bias, f"Euler–Maruyama bias E·|H|dt/2 at dt={P.SGD_DT} (scheme-only estimate); "
                       "exit wall moved out by the discrete-monitoring shift", fail_verdict=None)]


@check(RESULT, kind=DISCRETE_VS_SDE, problems=("unit-wells",), paths=(2000, 30000))
def check_sgd_discrete_vs_sde(settings) -> list[CheckRecord]:
    """Real SGD (t = kη) vs the exact MFPT of its SDE at fixed T = η/(2B), η = 0.2, 0.1, 0.05, E = 3."""
    lrs = np.array((0.2, 0.1, 0.05) if not settings.full else (0.2, 0.1, 0.05, 0.025))
    land = P.wells()
    n = settings.n
    taus = []

    def exact_fn(lr):
        return exact_1d(P.escape_problem(land, sim.HessianNoise(P.sgd_batch(lr, 3.0, land)), sim.SGDLangevin(lr)))

    for i, lr in enumerate(lrs):
        prob = P.escape_problem(land, sim.HessianNoise(P.sgd_batch(lr, 3.0, land)), sim.SGD(lr))
        taus.append(mc_rate(prob, n, 40 * exact_fn(lr), settings.stream(float(lr)), settings))
    return [discrete_gap_record(RESULT, "SGD", lrs, taus, exact_fn)]


@check(RESULT, kind=SCALING, problems=("unit-wells", "asymmetric-wells"), paths=(2000, 20000))
def check_sgd_scaling(settings) -> list[CheckRecord]:
    """log τ vs B/η (slope 2ΔL(s/H_a + (1−s)/|H_b|)) and vs 1/κ (H_a = |H_b| = κ): exact quadrature at
    low temperature, confirmed by Monte Carlo at E = 2.5, 3, 3.5 (H_a = |H_b| = 1)."""
    recs = []
    lr = P.SGD_LR
    exps = np.array((6.0, 8.0, 10.0, 12.0) if not settings.full else (6.0, 8.0, 10.0, 12.0, 16.0, 20.0))
    for ha, hb in ((1.0, 1.0), (1.0, 3.0)):
        land = sim.PiecewiseQuadraticWells(ha, hb, 1.0)
        s = land.path_parameter
        pred = 2 * land.delta_l * (s / ha + (1 - s) / hb)
        x, y = [], []
        for e in exps:
            b = P.sgd_batch(lr, e, land)
            x.append(b / lr)
            y.append(np.log(exact_1d(P.escape_problem(land, sim.HessianNoise(b), sim.SGDLangevin(lr)))))
        recs.append(slope_record(RESULT, "scaling law (exact quadrature)",
                                 f"d log τ / d(B/η), H_a={ha:g}, |H_b|={hb:g}", x, y, np.full(len(x), 1e-8), pred,
                                 1 / exps[0] ** 2, "admitted O((T/ΔL)²) slope bias of an O(T/ΔL) prefactor "
                                 "correction with unit coefficient, (1/E_min)²; quadrature error 1e-8",
                                 note=f"E_SGD = {exps[0]:g}…{exps[-1]:g}; predicted 2ΔL(s/H_a+(1−s)/|H_b|), s={s:.3f}"))
    # vs 1/kappa at fixed B, eta (H_a = |H_b| = kappa): divide out the Itô prefactor 2π/κ
    b = P.sgd_batch(lr, 6.0, P.wells(1.0))
    kappas = 6.0 / exps  # E = 6/κ
    x, y = [], []
    for k in kappas:
        land = P.wells(k)
        tau = exact_1d(P.escape_problem(land, sim.HessianNoise(b), sim.SGDLangevin(lr)))
        x.append(1 / k)
        y.append(np.log(tau * k / (2 * np.pi)))
    pred = 2 * b * 1.0 / lr
    recs.append(slope_record(RESULT, "scaling law (exact quadrature)", "d log(τκ/2π) / d(1/κ), H_a=|H_b|=κ",
                             x, y, np.full(len(x), 1e-8), pred, 1 / exps[0] ** 2,
                             "(1/E_min)² as above; the Itô prefactor 2π/κ (docs/theory.md §6) divided out",
                             note="predicted 2BΔL/η (E_SGD ∝ 1/H)"))
    # Monte Carlo confirmation at three moderate barriers: MC slope vs the exact model's slope there
    mc_exps = (2.5, 3.0, 3.5)
    x, y, se, yex, bias = [], [], [], [], []
    for e in mc_exps:
        est, exact, bs = _sgd_mc(e, settings, ("E", e))
        x.append(P.sgd_batch(P.SGD_LR, e, P.wells()) / P.SGD_LR)
        y.append(np.log(est.mean_time))
        se.append(log_se(est))
        yex.append(np.log(exact))
        bias.append(bs)
    ex_slope = np.polyfit(x, yex, 1)[0]
    recs.append(slope_record(RESULT, "scaling law (sim vs exact)", "MC d log τ / d(B/η) at E=2.5–3.5",
                             x, y, se, ex_slope, 2 * max(bias) / (max(mc_exps) - min(mc_exps)),
                             "Euler–Maruyama bias (E|H|dt/2 per point) over the E range; predicted = the exact "
                             "model's slope at the same points", verdict_out="fail",
                             note=f"asymptotic theory slope {2.0:g}; exact-model slope {ex_slope:.4f}"))
    return recs


def _mc_mean_exit(prob, n, seed, settings):
    res = sim.run_ensemble(prob, n, 1e4, seed=seed, backend=settings.backend)
    t = res.escape_times[res.escaped]
    return t.mean(), t.std(ddof=1) / np.sqrt(t.size), int(np.count_nonzero(res.censored))


@check(RESULT, kind=SIM_VS_EXACT, problems=("box-exits",), paths=(3000, 30000))
def check_box_exit_grid(settings) -> list[CheckRecord]:
    """The overdamped backward-Kolmogorov grid solvers against Monte Carlo of the same Problem (docs/theory.md §7, 1):
    1-D and 2-D (rotated Hessian: anisotropic noise with D_xy ≠ 0, box exit)."""
    n = settings.n
    dt = 1e-3
    records = []
    cases = ((1, sim.QuadraticSaddle([1.0]), np.array([0.5]), (1000, 2000)),
             (2, sim.QuadraticSaddle([1.0, 0.4], rotation=sim.random_rotation(2, 3)), np.array([0.6, 0.6]),
              (64, 128)))
    for dim, land, half, grids in cases:
        prob = sim.Problem(land, sim.HessianNoise(1.0), sim.SGDLangevin(0.1, dt=dt), np.zeros(dim),
                           exit=sim.BoxExit(-half, half))
        walls = half + sim.escape.discrete_monitoring_shift(prob)
        coarse, fine = (sim.exact.adapters.box_mfpt(prob, walls, g) for g in grids)
        unshifted = sim.exact.adapters.box_mfpt(prob, half, grids[1])
        mean, se, cens = _mc_mean_exit(prob, n, settings.stream(dim), settings)
        tol = 4 * se + abs(fine - coarse) + 0.5 * abs(fine - unshifted)
        records.append(CheckRecord(
            RESULT, "sim vs exact (backward Kolmogorov)", f"{dim}-D SGD SDE, box exit: mean exit time",
            measured=mean, predicted=fine, interval=(fine - tol, fine + tol),
            tolerance="4 SE + grid error (two grids) + half the continuity correction for discrete exit "
                      f"monitoring (walls moved out by 0.5826 σ√dt; its effect: {abs(fine - unshifted):.3g})",
            note=f"{n} paths, dt={dt:g}, {cens} censored; exact on the unshifted walls: {unshifted:.4g}"))
    return records
