r"""Proposition 4 (Adai escapes minima with SGD's exponent: flat-minima selection as SGD), docs/theory.md §5–§7.

Exact model: the underdamped Kramers equation of the Problem's AdaiSDE along the escape coordinate,
with Adai's own inertia along e at the saddle (:func:`sim.exact.adapters.kramers_mfpt_richardson`;
γ = 1, M_e = η/(1−β₁,e)).  On the 2-D wells with a spectator of curvature 3κ, v_e/v̄ = 0.5 all along
the path (H_a = |H_b|), so the frozen mass is exact for this problem (the adapter reports the mass
variation along the path: 0 here).
With H_a ≠ |H_b| (Hessian noise: the temperature varies along the path) the 1-D Adai SDE, whose inertia
is 1−β₁ = β₀ everywhere in one dimension, is checked for the exponent factor against SGD (exact solvers,
a FINDING where it differs from 1) and by Monte Carlo.
The validity map (``validity``) and the minima selection (``selection``) also report on Proposition 4.
"""
from __future__ import annotations


from optdyn import theory

from .. import problems as P
from ..estimates import (exponent_factor_check, kramers, kramers_ratio_records, mc_rate,
                         tau_record, vt_mc_records)
from ..records import CheckRecord
from ..registry import CLOSED_VS_EXACT, SIM_VS_EXACT, check

RESULT = "prop4"
#: The sim classes these checks run (the README's results table).
SIM_CLASSES = ('PiecewiseQuadraticWells', 'HessianNoise', 'AdaiSDE', 'SGDLangevin', 'HalfSpaceExit')
BETA0 = P.BETA0
MC_GRID = (480, 193)


def _variance_ratio():
    return float(theory.prop4.variance_ratio_at_saddle([-1.0, P.SPECTATOR], 0))


@check(RESULT, kind=SIM_VS_EXACT, problems=("spectator-wells",), paths=(1000, 10000))
def check_adai_sim_vs_exact(settings) -> list[CheckRecord]:
    """Adai SDE in 2-D (spectator curvature 3: v_e/v̄ = 0.5 everywhere on the path) vs the Kramers
    solver with Adai's mass η/(β₀·0.5), E = 3."""
    lr, dt = 0.05, 0.05
    omb = float(theory.prop4.inertia_at_saddle(BETA0, _variance_ratio()))
    prob = P.adai_wells(3.0, lr=lr, dt=dt)
    exact, err = kramers(prob, settings, MC_GRID)
    est = mc_rate(prob, settings.n, 40 * exact, settings.stream(), settings)
    return [tau_record(RESULT, "sim vs exact (Kramers backward)",
                       f"Adai SDE 2-D (1−β₁,e={omb:g}), E=3: τ", est, exact, 3 * err,
                       "3× the Kramers solver's error estimate; scheme weak order 2 with continuous D")]


@check(RESULT, kind=CLOSED_VS_EXACT, problems=("spectator-wells", "unit-wells"))
def check_adai_exact(settings) -> list[CheckRecord]:
    """Exact (Kramers) τ_Adai/τ_SGD vs the theory ratio at low temperature, and the exponent's 1/κ
    scaling (theory prefactor 2π/λ₊ divided out)."""
    rho = _variance_ratio()
    omb = float(theory.prop4.inertia_at_saddle(BETA0, rho))
    return kramers_ratio_records(
        RESULT, settings, P.adai_wells,
        lambda h, lr: theory.prop4.ratio_to_sgd(h, lr, BETA0, rho),
        lambda h, lr: theory.prop4.growth_rate(h, lr, BETA0, rho), f"1−β₁,e={omb:g}")


@check(RESULT, kind=CLOSED_VS_EXACT, problems=("vt-wells",))
def check_varying_temperature_exponent(settings) -> list[CheckRecord]:
    """Proposition 4 when the Hessian-noise temperature varies along the path (H_a ≠ |H_b|): the measured
    exponent factor of the 1-D Adai SDE (1−β₁ = β₀ in one dimension, so the Kramers model with that mass is
    exact) against SGD, over E and M = η/β₀ (docs/theory.md §5)."""
    return exponent_factor_check(RESULT, settings, "adai", "Adai")


@check(RESULT, kind=SIM_VS_EXACT, problems=("vt-wells",), paths=(400, 4000))
def check_varying_temperature_mc(settings) -> list[CheckRecord]:
    """Monte Carlo of the 1-D Adai SDE on the hot-well pair H_a = 4|H_b| (M = 0.5, E = 4) against the exact
    Kramers MFPT."""
    cases = ((4.0, 0.5, 0.005),) if not settings.full else ((6.0, 0.5, 0.005), (9.0, 0.5, 0.005))
    recs = []
    for e, mass, dt in cases:
        recs += vt_mc_records(RESULT, settings, "adai", "Adai", e, mass, dt)
    return recs
