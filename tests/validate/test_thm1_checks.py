"""The Theorem 1 checks: they pass on the real model and fail when the prediction is wrong."""
import json
import os

import numpy as np
import pytest

import optdyn.theory.thm1
from optdyn.validate.checks import thm1 as vt
from optdyn.validate.estimates import moment_records
from optdyn.validate.cli import main, validate_main
from optdyn.validate.records import FAIL, PASS, Settings
from test_report import assert_tables_well_formed  # tests/validate/test_report.py


@pytest.fixture
def settings(tmp_path):
    return Settings(out=str(tmp_path), seed=3)


def test_cli_quick_thm1_passes_and_writes_report(tmp_path, capsys):
    code = validate_main(["--only", "thm1", "--out", str(tmp_path), "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "thm1" in out and "FAIL" not in out
    data = json.loads((tmp_path / "results.json").read_text())
    comparisons = {r["comparison"] for r in data["records"]}
    # the three comparisons of docs/theory.md §7 plus the scaling law are all present
    assert any(c.startswith("SDE sim") for c in comparisons)
    assert "closed form vs exact" in comparisons
    assert any(c.startswith("SGD sim") for c in comparisons) and "discrete vs SDE" in comparisons
    assert "scaling law" in comparisons
    assert all(r["verdict"] == PASS for r in data["records"])
    report = (tmp_path / "report.md").read_text()
    assert "tolerance" in report.lower() and "figures/thm1_escape_scaling.png" in report
    tab = assert_tables_well_formed(report)[0]  # renders as a table: every row has the header's columns
    assert [row[-1] for row in tab["rows"]] == ["PASS"] * len(data["records"])
    assert (tmp_path / "report.html").stat().st_size > 1000
    for name in ("thm1_variances", "thm1_marginals", "thm1_discrete_gap", "thm1_escape_scaling"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000


def test_moment_check_fails_on_wrong_covariance(settings):
    """A 10 % error in the predicted covariance is far outside 4 SE at the quick size."""
    from optdyn import sim

    prob = vt.problem(sim.SGD(vt.LR))
    res = sim.run_ensemble(prob, 20_000, 1.0, save_times=[0.5, 1.0], seed=2)
    mean, cov = sim.exact_scheme_moments(prob, res.steps)
    good = moment_records("thm1", res, mean, cov, 0 * mean, 0 * cov, "x")
    bad = moment_records("thm1", res, mean, 1.1 * cov, 0 * mean, 0 * cov, "x")
    assert [r.verdict for r in good] == [PASS, PASS]
    assert [r.verdict for r in bad] == [FAIL, FAIL]


def test_closed_form_check_fails_on_wrong_formula(settings, monkeypatch):
    real = optdyn.theory.thm1.covariance
    monkeypatch.setattr(optdyn.theory.thm1, "covariance", lambda *a, **k: 1.001 * real(*a, **k))
    (rec,) = vt.check_closed_form(settings)
    assert rec.verdict == FAIL


def test_scaling_check_fails_on_wrong_exponent(settings, monkeypatch):
    monkeypatch.setattr(optdyn.theory.thm1, "escape_time_exponent", lambda: -0.5)
    (rec,) = vt.check_escape_scaling(settings)
    assert rec.verdict == FAIL and abs(rec.measured + 1) < 0.05


def test_gap_order_is_one():
    """Gap = a η + b η² + …: the local slope s(η) → 1 and |s − 1| halves with each halving of η."""
    lrs = vt.LR * 2.0 ** -np.arange(5)
    gaps = vt.discrete_sde_gap(lrs)
    assert np.all(np.diff(gaps) < 0)  # shrinks as η → 0
    s = np.diff(np.log(gaps)) / np.diff(np.log(lrs))
    dev = np.abs(s - 1)
    # first-order convergence of the slope: successive deviations shrink by 2 (+- 10 %: the O(η²) term)
    np.testing.assert_allclose(dev[:-1] / dev[1:], 2.0, rtol=0.1)


def test_crashing_check_is_a_failure(monkeypatch, tmp_path, capsys):
    def boom(settings):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(vt.check_closed_form, "fn", boom)
    code = validate_main(["--check", "thm1.closed-form", "--out", str(tmp_path)])
    assert code == 1
    assert "kaboom" in (tmp_path / "report.md").read_text()


def test_cli_errors(tmp_path, capsys):
    assert validate_main(["--only", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown result id" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert main(["validate", "--list"]) == 0
    assert "thm1" in capsys.readouterr().out


def test_sde_check_fails_when_the_exact_sde_solver_is_wrong(settings, monkeypatch):
    """The integrator bias is estimated from the scheme alone (Richardson), so a wrong exact SDE
    solution cannot widen its own tolerance."""
    from optdyn import sim

    real = sim.exact_sde_moments
    monkeypatch.setattr(sim, "exact_sde_moments", lambda p, t: (lambda m, c: (m, 1.1 * c))(*real(p, t)))
    recs = vt.check_sde_covariance(settings)
    assert any(r.verdict == FAIL for r in recs if "max |error|" in r.quantity)


def test_richardson_bias_estimate_matches_the_exact_bias():
    from optdyn import sim
    from optdyn.validate.estimates import scheme_bias_estimate

    prob = vt.problem(sim.SGDLangevin(vt.LR, dt=0.01))
    steps = np.array([50, 100])
    _, exact = sim.exact_sde_moments(prob, steps * 0.01)
    _, scheme = sim.exact_scheme_moments(prob, steps)
    _, est = scheme_bias_estimate(prob, steps)
    # Richardson removes the O(dt) term: what remains is O(dt²), i.e. O(|H| dt) = 2 % of the bias here
    bias = scheme - exact
    assert np.abs(est - bias).max() <= 2 * np.max(np.abs(vt.EIGENVALUES)) * 0.01 * np.abs(bias).max()
