r"""Validity maps of the escape-time laws (docs/theory.md §5–§7): where each closed form may be trusted.

The exact model is the mean first-passage time of the continuous dynamics on the 1-D
piecewise-quadratic landscape (:class:`sim.PiecewiseQuadraticWells`, :math:`H_a = |H_b| = 1`,
barrier :math:`\Delta L = 1`, so :math:`s = 1/2` and both prefactor conventions of §6 coincide), from
the minimum :math:`a=-2` to absorption at the next minimum :math:`a'=+2` (Kramers' τ counts
crossings):

* **SGD law** ([DDT]): the overdamped Itô SDE, exact MFPT by quadrature (:func:`sim.escape.problem_mfpt_1d`);
* **Theorem 3** (Momentum, EMA form β₃ = 1−β₁): the underdamped Kramers equation of the same Problem,
  MFPT from its backward equation (:func:`sim.exact.adapters.kramers_mfpt_richardson`);
* **Proposition 4** (Adai, 2-D wells with a spectator of curvature 3: v_e/v̄ = 0.5 on the whole path):
  the same equation with Adai's mass along the escape direction at its saddle value,
  1−β₁,e = β₀ v_e/v̄ (the proposition's own assumption; constant along this path).

The small parameters are the temperature over the barrier, :math:`T/\Delta L` with
:math:`T = \eta/(2B)` (the Hessian-noise temperature :math:`D/|H|`), and :math:`\eta|H_b|`, which sets
the mass (inertia) relative to the curvature.  At fixed :math:`T` the overdamped SGD SDE does not
depend on :math:`\eta` at all, so its map has one axis.  The relative error of a closed form must
shrink toward 0 as :math:`T/\Delta L \to 0` (asymptotic error :math:`O(T/\Delta L)`, §6), which the
checks test by the fitted order; a column where it does not is reported as a finding.

**Monte Carlo column** (docs/theory.md §7.1): the grid solvers stop near :math:`T/\Delta L = 1/25`, so each
map also carries the closed form against adaptive multilevel splitting of the same SDE
(:func:`sim.rare.ams_escape`) at :math:`T/\Delta L = 1/20, 1/30, 1/40` (quick: 1/20, 1/40), with the AMS
standard error in place of the solver's error; the SGD law's quadrature itself runs to 1/40.
"""
from __future__ import annotations

import warnings

import numpy as np

from optdyn import theory

from .. import problems as P
from ..estimates import ams, exact_1d, kramers, order_record
from ..figures import save, style
from ..records import CheckRecord
from ..registry import VALIDITY_MAP, check

RESULT = "validity"
#: The sim classes these checks run (the README's results table).
SIM_CLASSES = ('PiecewiseQuadraticWells', 'HessianNoise', 'SGDLangevin', 'MomentumSDE', 'AdaiSDE', 'HalfSpaceExit',
               'rare')
DESCRIPTION = ("Validity maps: relative error of the escape-time laws (SGD, Theorem 3, Proposition 4) over T/ΔL "
               "(to 1/40, with an AMS column) and η|H_b|")
COVERS = ("ddt-sgd", "thm3", "prop4")
HA, HB, BARRIER = 1.0, 1.0, 1.0
BETA1 = P.BETA1  # Momentum, EMA form (beta3 = 1 - beta1)
BETA0, VARIANCE_RATIO = P.BETA0, 0.5  # Adai; v_e / v_bar at the saddle with one spectator of curvature 3
LR_SGD = 0.1


def _exponents(settings):
    return np.array((3.0, 4.5, 6.0, 8.0, 11.0, 14.0) if settings.full else (3.0, 4.5, 6.0, 8.0))


def _lrs(settings):
    return np.array((0.01, 0.05, 0.2, 0.5) if settings.full else (0.01, 0.1))


def _batch(lr: float, exponent: float) -> float:
    """B such that T = lr/(2B) = ΔL/E (here E_SGD = ΔL/T since H_a = |H_b|)."""
    return lr * exponent / (2.0 * BARRIER)


def exact_sgd(exponent: float) -> float:
    """Exact MFPT of the SGD SDE (quadrature)."""
    return exact_1d(P.sgd_wells(exponent, lr=LR_SGD, dt=None))


def exact_momentum(exponent, lr, settings):
    """Exact (Kramers) MFPT and error of the EMA Momentum SDE on the unit wells."""
    return kramers(P.momentum_wells(exponent, lr=lr), settings)


def exact_adai(exponent, lr, settings):
    """Exact (Kramers) MFPT and error of the AdaiSDE on the spectator wells."""
    return kramers(P.adai_wells(exponent, lr=lr), settings)


def closed_sgd(exponent):
    b = _batch(LR_SGD, exponent)
    return theory.ddt.sgd_escape_time(HA, -HB, BARRIER, LR_SGD, b, form="ito")


def closed_momentum(exponent, lr):
    return theory.thm3.escape_time(HA, -HB, BARRIER, lr, _batch(lr, exponent), BETA1, form="ito")


def closed_adai(exponent, lr):
    return theory.prop4.escape_time(HA, -HB, BARRIER, lr, _batch(lr, exponent), BETA0,
                                    variance_ratio=VARIANCE_RATIO, form="ito")


#: Name of the Monte Carlo column (adaptive multilevel splitting, :func:`sim.rare.ams_escape`).
AMS_COLUMN = "AMS"


@check(RESULT, kind=VALIDITY_MAP, problems=("unit-wells", "spectator-wells"), covers=COVERS,
       sizes={"replicas": (60, 500), "runs": (6, 20)})
def check_validity_maps(settings) -> list[CheckRecord]:
    """The three maps (SGD law, Theorem 3, Proposition 4), one figure, one record per column (only the
    maps of the results selected by ``--only``).

    The maps deliberately evaluate the closed forms outside their regime (large T/ΔL), so the
    theory's ValidityWarnings are silenced here: the map itself shows the error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.ValidityWarning)
        return _validity_maps(settings)


def _ams_exponents(settings):
    """Where the AMS column sits: T/ΔL = 1/20 … 1/40, beyond the grid solvers' reach."""
    return np.array((20.0, 30.0, 40.0) if settings.full else (20.0, 40.0))


#: The AMS column's η|H_b| (Momentum and Adai SDEs; the SGD SDE's τ does not depend on η at fixed T).
AMS_LR = 0.05
#: Euler–Maruyama step of the SGD SDE in the AMS column: bias E·|H|·dt/2 ≤ 2 % at E = 40.
AMS_SGD_DT = 1e-3


def ams_problem(rid, exponent):
    """The SDE Problem of the AMS column of map ``rid`` at E = ``exponent`` (the maps' own problems)."""
    if rid == "ddt-sgd":
        return P.with_monitoring_shift(P.sgd_wells(exponent, lr=LR_SGD, dt=AMS_SGD_DT))
    if rid == "thm3":
        return P.momentum_wells(exponent, lr=AMS_LR)
    return P.adai_wells(exponent, lr=AMS_LR)


def _ams_column(rid, closed, settings):
    """``(temperatures, relative errors, relative SE)`` of the closed form against AMS at T/ΔL ≤ 1/20."""
    exps = _ams_exponents(settings)
    errs, ses = [], []
    for e in exps:
        res = ams(ams_problem(rid, e), settings.size("replicas"), settings.size("runs"),
                  settings.stream("ams", rid, float(e)), backend="numpy" if settings.backend == "numpy" else "numba")
        errs.append(closed(e) / res.mean_time - 1)
        ses.append((1 + errs[-1]) * res.relative_se)
    return BARRIER / exps, np.array(errs), np.array(ses)


def _validity_maps(settings) -> list[CheckRecord]:
    exps = _exponents(settings)
    temps = BARRIER / exps
    lrs = _lrs(settings)
    rids = [r for r in COVERS if settings.wants(r)]
    records = []
    # maps[rid][column] = (T/ΔL, relative error, error of the reference: solver estimate or AMS SE)
    maps = {rid: {} for rid in rids}
    closed_at = {"ddt-sgd": closed_sgd, "thm3": lambda e: closed_momentum(e, AMS_LR),
                 "prop4": lambda e: closed_adai(e, AMS_LR)}
    if "ddt-sgd" in rids:
        # quadrature to T/ΔL = 1/40 (its error estimate is ~1e-9; use 1e-8)
        sgd_exps = np.concatenate([exps, _ams_exponents(settings)])
        ex = np.array([exact_sgd(e) for e in sgd_exps])
        maps["ddt-sgd"]["—"] = (BARRIER / sgd_exps, closed_sgd(sgd_exps) / ex - 1, np.full(sgd_exps.size, 1e-8))
    for lr in lrs:
        for rid, exact, closed in (("thm3", exact_momentum, closed_momentum), ("prop4", exact_adai, closed_adai)):
            if rid not in rids:
                continue
            ex_err = np.array([exact(e, lr, settings) for e in exps])
            maps[rid][f"{lr * HB:g}"] = (temps, closed(exps, lr) / ex_err[:, 0] - 1, ex_err[:, 1])
    for rid in rids:  # the Monte Carlo column: AMS, T/ΔL = 1/20 … 1/40
        maps[rid][AMS_COLUMN] = _ams_column(rid, closed_at[rid], settings)
    fig, axes = style.subplots(1, len(rids), width=4.7 * len(rids) + 0.6, height=4.6, sharey=True, squeeze=False)
    axes = axes[0]
    titles = {"ddt-sgd": "SGD law (overdamped, quadrature)", "thm3": "Theorem 3: Momentum (β₁=0.9, EMA)",
              "prop4": f"Proposition 4: Adai (β₀={BETA0}, v_e/v̄={VARIANCE_RATIO})"}
    optimizer = {"ddt-sgd": "SGD", "thm3": "Momentum", "prop4": "Adai"}
    for ax, rid in zip(axes, rids):
        c = style.color(optimizer[rid])
        for k, (col, (t, errs, ref)) in enumerate(maps[rid].items()):
            if col == AMS_COLUMN:
                ax.errorbar(t, np.abs(errs), yerr=2 * ref, fmt="s", color=style.THEORY, capsize=3,
                            label="AMS" + ("" if rid == "ddt-sgd" else f" (η|H_b| = {AMS_LR:g})") + ", ±2 SE")
                continue
            ax.loglog(t, np.abs(errs), "osD^v"[k % 5] + "-", color=c, mfc="white", alpha=1 - 0.18 * k,
                      label=("η|H_b| = " + col) if col != "—" else "any η")
            ax.loglog(t, ref, ":", color=c, alpha=0.5)
        t0, e0, _ = next(iter(maps[rid].values()))
        tt = np.array([1 / 40, t0.max()])
        ax.loglog(tt, tt * np.abs(e0[np.argmin(t0)]) / t0.min(), "--", color=style.THEORY, lw=0.8, label="slope 1")
        ax.plot([], [], ":", color="0.5", label="exact solver's error estimate")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(titles[rid], fontsize=10)
        ax.set_xlabel("temperature over barrier, T/ΔL")
        style.legend(ax, where="below", ncol=2)
    axes[0].set_ylabel("|closed form / reference − 1|")
    style.title(fig, "Validity maps: relative error of the escape-time laws against the exact MFPT and AMS",
                subtitle="markers: closed form vs exact; squares: vs AMS (T/ΔL ≤ 1/20); dotted: the exact solver's error")
    figure = save(fig, settings, "validity_maps")
    for k, rid in enumerate(rids):
        for col, (t, errs, ref) in maps[rid].items():
            ams_label = "AMS column" + ("" if rid == "ddt-sgd" else f" (η|H_b|={AMS_LR:g})") + ", error vs AMS SE"
            label = {"—": "SGD law", AMS_COLUMN: ams_label}.get(col, f"η|H_b|={col}")
            records.append(order_record(rid, label, t, errs, ref, settings,
                                         figure if k == 0 and not records else None))
    records[0].details["maps"] = map_details(maps)
    return records


def map_details(maps) -> dict:
    """``{result: {column: {"T/ΔL": [...], "error": [...], "reference_error": [...]}}}`` from the maps'
    ``(temperatures, errors, reference errors)`` arrays: what the report's validity tables read."""
    return {rid: {c: {"T/ΔL": np.asarray(v[0]).tolist(), "error": np.asarray(v[1]).tolist(),
                      "reference_error": np.asarray(v[2]).tolist()} for c, v in m.items()} for rid, m in maps.items()}
