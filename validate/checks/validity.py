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
"""
from __future__ import annotations

import warnings

import numpy as np

from optdyn import theory

from .. import problems as P
from ..estimates import exact_1d, kramers, order_record
from ..figures import save, style
from ..records import CheckRecord
from ..registry import VALIDITY_MAP, check

RESULT = "validity"
#: The sim classes these checks run (the README's results table).
SIM_CLASSES = ('PiecewiseQuadraticWells', 'HessianNoise', 'SGDLangevin', 'MomentumSDE', 'AdaiSDE', 'HalfSpaceExit')
DESCRIPTION = "Validity maps: relative error of the escape-time laws (SGD, Theorem 3, Proposition 4) over T/ΔL and η|H_b|"
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


#: Allowance for the higher-order terms of an O(T/ΔL) error in a fitted order (order ≥ 1 − this).


@check(RESULT, kind=VALIDITY_MAP, problems=("unit-wells", "spectator-wells"), covers=COVERS)
def check_validity_maps(settings) -> list[CheckRecord]:
    """The three maps (SGD law, Theorem 3, Proposition 4), one figure, one record per column (only the
    maps of the results selected by ``--only``).

    The maps deliberately evaluate the closed forms outside their regime (large T/ΔL), so the
    theory's ValidityWarnings are silenced here: the map itself shows the error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.ValidityWarning)
        return _validity_maps(settings)


def _validity_maps(settings) -> list[CheckRecord]:
    exps = _exponents(settings)
    temps = BARRIER / exps
    lrs = _lrs(settings)
    rids = [r for r in COVERS if settings.wants(r)]
    records = []
    # SGD law: quadrature (error estimate from the quadrature itself is ~1e-9; use 1e-8)
    maps = {rid: {} for rid in rids}
    grid = {rid: {} for rid in rids}
    if "ddt-sgd" in rids:
        ex = np.array([exact_sgd(e) for e in exps])
        maps["ddt-sgd"]["—"] = closed_sgd(exps) / ex - 1
        grid["ddt-sgd"]["—"] = np.full(exps.size, 1e-8)
    for lr in lrs:
        for rid, exact, closed in (("thm3", exact_momentum, closed_momentum), ("prop4", exact_adai, closed_adai)):
            if rid not in rids:
                continue
            ex_err = np.array([exact(e, lr, settings) for e in exps])
            maps[rid][f"{lr * HB:g}"] = closed(exps, lr) / ex_err[:, 0] - 1
            grid[rid][f"{lr * HB:g}"] = ex_err[:, 1]
    fig, axes = style.subplots(1, len(rids), width=4.7 * len(rids) + 0.6, height=4.6, sharey=True, squeeze=False)
    axes = axes[0]
    titles = {"ddt-sgd": "SGD law (overdamped, quadrature)", "thm3": "Theorem 3: Momentum (β₁=0.9, EMA)",
              "prop4": f"Proposition 4: Adai (β₀={BETA0}, v_e/v̄={VARIANCE_RATIO})"}
    optimizer = {"ddt-sgd": "SGD", "thm3": "Momentum", "prop4": "Adai"}
    for ax, rid in zip(axes, rids):
        c = style.color(optimizer[rid])
        for k, (col, errs) in enumerate(maps[rid].items()):
            ax.loglog(temps, np.abs(errs), "osD^v"[k % 5] + "-", color=c, mfc="white", alpha=1 - 0.18 * k,
                      label=("η|H_b| = " + col) if col != "—" else "any η")
            ax.loglog(temps, grid[rid][col], ":", color=c, alpha=0.5)
        ax.loglog(temps, temps * np.abs(maps[rid][next(iter(maps[rid]))][-1]) / temps[-1], "--",
                  color=style.THEORY, lw=0.8, label="slope 1")
        ax.plot([], [], ":", color="0.5", label="exact solver's error estimate")
        ax.set_title(titles[rid], fontsize=10)
        ax.set_xlabel("temperature over barrier, T/ΔL")
        style.legend(ax, where="below", ncol=2)
    axes[0].set_ylabel("|closed form / exact − 1|")
    style.title(fig, "Validity maps: relative error of the escape-time laws against the exact MFPT",
                subtitle="markers: closed form vs exact; dotted: the exact solver's own error estimate")
    figure = save(fig, settings, "validity_maps")
    for k, rid in enumerate(rids):
        for col, errs in maps[rid].items():
            label = "SGD law" if rid == "ddt-sgd" else f"η|H_b|={col}"
            records.append(order_record(rid, label, temps, errs, grid[rid][col], settings,
                                         figure if k == 0 and not records else None))
    records[0].details["maps"] = {rid: {c: v.tolist() for c, v in m.items()} for rid, m in maps.items()}
    records[0].details["temperatures"] = temps.tolist()
    return records
