"""Validity maps: the order check has power, the quick map passes, and the underdamped exact model
(the Kramers backward solver, built from the Problem) agrees with Monte Carlo of the same Problem."""
import warnings

import numpy as np

from optdyn import sim
from optdyn.validate import problems as P
from optdyn.validate.checks import validity as vv
from optdyn.validate.estimates import order_record
from optdyn.validate.records import FINDING, PASS, Settings

TEMPS = np.array([1 / 3, 1 / 4.5, 1 / 6, 1 / 8])
SOLVER = np.full(4, 1e-6)


def test_order_record_passes_a_vanishing_error_and_flags_a_wrong_prefactor(tmp_path):
    s = Settings(out=str(tmp_path))
    assert order_record("x", "ok", TEMPS, 0.3 * TEMPS, SOLVER, s).verdict == PASS
    assert order_record("x", "fast", TEMPS, np.exp(-1 / TEMPS), SOLVER, s).verdict == PASS
    # a wrong prefactor: the error tends to a constant, not to 0
    wrong = order_record("x", "prefactor", TEMPS, 0.1 + 0.3 * TEMPS, SOLVER, s)
    assert wrong.verdict == FINDING and wrong.measured < 0.9
    # errors below the solver's accuracy: agreement within it
    tiny = order_record("x", "tiny", TEMPS, np.full(4, 1e-7), SOLVER, s)
    assert tiny.verdict == PASS and "|error| / solver error" in tiny.quantity


def test_quick_validity_maps_pass(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ValidityWarnings at the largest temperatures are expected
        recs = vv.check_validity_maps(Settings(out=str(tmp_path)))
    assert {r.result for r in recs} == {"ddt-sgd", "thm3", "prop4"}
    # the exact-solver columns pass; the AMS column (closed form vs a Monte Carlo measurement at
    # T/ΔL ≤ 1/20, docs/theory.md §7.1) is a measurement whose verdict may be a finding, never a fail
    exact_cols = [r for r in recs if not r.quantity.startswith("AMS column")]
    ams_cols = [r for r in recs if r.quantity.startswith("AMS column")]
    assert all(r.verdict == PASS for r in exact_cols), [(r.quantity, r.measured, r.note) for r in exact_cols]
    assert len(ams_cols) == 3 and all(r.verdict in (PASS, FINDING) for r in ams_cols), \
        [(r.quantity, r.measured, r.verdict, r.note) for r in ams_cols]
    assert (tmp_path / "figures" / "validity_maps.png").exists()


def test_validity_maps_restricted_to_the_selected_result(tmp_path):
    """``--only ddt-sgd`` computes only the SGD map (no Kramers solves)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recs = vv.check_validity_maps(Settings(out=str(tmp_path)), results=("ddt-sgd",))
    assert {r.result for r in recs} == {"ddt-sgd"} and all(r.verdict in (PASS, FINDING) for r in recs)


def test_underdamped_exact_mfpt_matches_monte_carlo():
    """MomentumSDE (EMA form, M = 0.5, γ = 1) escaping the piecewise-quadratic well at E = 3.

    D is constant here (H_a = |H_b|), the scheme has weak order 2, and θ is C¹ (finite velocity),
    so the integration and exit-monitoring biases are O(dt) of the step, far below the standard
    error; tolerance = 4 SE + 3× the solver's error estimate.  Exact model and Monte Carlo read the
    same Problem.
    """
    prob = P.momentum_wells(3.0, lr=0.05, dt=0.02)
    r = sim.exact.adapters.kramers_mfpt_richardson(prob)
    exact, err = r.value, r.error
    assert (r.mass, r.friction) == (0.05 / 0.1, 1.0) or np.allclose((r.mass, r.friction), (0.5, 1.0))
    res = sim.run_ensemble(prob, 2000, 40 * exact, seed=21)
    assert res.summary()["censored"] == 0
    t = res.escape_times
    se = t.std(ddof=1) / np.sqrt(t.size)
    assert abs(t.mean() - exact) <= 4 * se + 3 * err * exact, (t.mean(), se, exact, err)
