"""The saddle checks (Theorem 2, Propositions 1 and 3): they pass (or report the designed FINDING)
on the real model and fail when the prediction is wrong."""
import numpy as np
import pytest

from optdyn import sim
import optdyn.theory.prop1
import optdyn.theory.prop3
import optdyn.theory.thm2
from optdyn.validate.checks import prop1 as v1
from optdyn.validate.checks import prop3 as v3
from optdyn.validate.checks import thm2 as v2
from optdyn.validate.cli import validate_main
from optdyn.validate.records import FAIL, FINDING, PASS, Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(out=str(tmp_path), seed=5)


def _verdicts(recs):
    return [r.verdict for r in recs]


def test_ids_are_registered(capsys):
    assert validate_main(["--list"]) == 0
    out = capsys.readouterr().out.split()
    assert {"thm2:", "prop1:", "prop3:"} <= set(out)


# -- closed forms (exact, fast) -------------------------------------------------------------------
@pytest.mark.parametrize("check, module, name", [
    (v2.check_thm2_closed_form, optdyn.theory.thm2, "covariance_2x2"),
    (v1.check_closed_form, optdyn.theory.prop1, "variance"),
    (v1.check_closed_form, optdyn.theory.prop1, "covariance_2x2"),
    (v3.check_closed_form, optdyn.theory.prop3, "covariance_2x2"),
])
def test_closed_form_checks(settings, monkeypatch, check, module, name):
    assert all(v == PASS for v in _verdicts(check(settings)))
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: 1.001 * real(*a, **k))
    assert FAIL in _verdicts(check(settings))


def test_thm2_closed_form_fails_on_wrong_mean(settings, monkeypatch):
    real = optdyn.theory.thm2.mean
    monkeypatch.setattr(optdyn.theory.thm2, "mean", lambda *a, **k: 1.001 * real(*a, **k))
    assert _verdicts(v2.check_thm2_closed_form(settings)) == [FAIL, FAIL]


# -- discrete vs SDE gap ---------------------------------------------------------------------------
def test_gap_check_passes_and_fails_on_wrong_order(settings, monkeypatch):
    recs = v2.check_thm2_gap(settings)
    assert _verdicts(recs) == [PASS, PASS]
    monkeypatch.setattr(v2, "GAP_ORDER", 0.5)
    assert _verdicts(v2.check_thm2_gap(settings)) == [FAIL, FAIL]


# -- Monte Carlo vs exact --------------------------------------------------------------------------
def _scaled_exact(real, factor):
    def f(*a, **k):
        m, c = real(*a, **k)
        return m, factor * c
    return f


def _wrong_model(monkeypatch, factor=1.1):
    """The exact model (and with it the exact scheme, so the admitted bias is unchanged) off by 10 %."""
    monkeypatch.setattr(sim, "exact_sde_moments", _scaled_exact(sim.exact_sde_moments, factor))
    monkeypatch.setattr(sim, "exact_scheme_moments", _scaled_exact(sim.exact_scheme_moments, factor))


def test_prop3_sde_check_passes_and_fails_on_wrong_exact(settings, monkeypatch):
    assert all(v == PASS for v in _verdicts(v3.check_sde(settings)))
    _wrong_model(monkeypatch)
    assert all(v == FAIL for v in _verdicts(v3.check_sde(settings)))


def test_thm2_discrete_check_fails_on_wrong_recursion(settings, monkeypatch):
    assert all(v == PASS for v in _verdicts(v2.check_thm2_discrete(settings)))
    monkeypatch.setattr(sim, "exact_scheme_moments", _scaled_exact(sim.exact_scheme_moments, 1.1))
    assert all(v == FAIL for v in _verdicts(v2.check_thm2_discrete(settings)))


@pytest.mark.slow
@pytest.mark.parametrize("check", [v2.check_thm2_sde, v1.check_sde])
def test_sde_checks_pass_and_fail(settings, monkeypatch, check):
    assert all(v == PASS for v in _verdicts(check(settings)))
    _wrong_model(monkeypatch)
    assert all(v == FAIL for v in _verdicts(check(settings)))


# -- momentum drift ---------------------------------------------------------------------------------
def test_drift_check_passes_and_fails_on_wrong_drift(settings, monkeypatch):
    recs = v2.check_momentum_drift(settings) + v3.check_adai_drift(settings)
    assert _verdicts(recs) == [PASS] * 4
    assert {r.result for r in recs} == {"thm2", "prop3"}
    assert abs(recs[3].measured + 1) < 0.02  # Adai: slope −1
    real = optdyn.theory.thm2.drift_coefficient
    monkeypatch.setattr(optdyn.theory.thm2, "drift_coefficient", lambda *a, **k: 1.05 * real(*a, **k))
    assert v2.check_momentum_drift(settings)[0].verdict == FAIL
    real3 = optdyn.theory.prop3.drift_coefficient
    monkeypatch.setattr(optdyn.theory.prop3, "drift_coefficient", lambda *a, **k: 1.05 * real3(*a, **k))
    assert v3.check_adai_drift(settings)[0].verdict == FAIL


# -- escape scaling ---------------------------------------------------------------------------------
def test_adam_escape_passes_and_fails_on_wrong_median(settings, monkeypatch):
    (rec,) = v1.check_adam_escape(settings)
    assert rec.verdict == PASS
    real = optdyn.theory.prop1.median_exit_time
    monkeypatch.setattr(optdyn.theory.prop1, "median_exit_time",
                        lambda h, *a, **k: real(h, *a, **k) * np.abs(h) ** 0.15)
    assert v1.check_adam_escape(settings)[0].verdict == FAIL


@pytest.mark.slow
def test_momentum_escape_passes_and_fails_on_wrong_median(settings, monkeypatch):
    assert v2.check_momentum_escape(settings)[0].verdict == PASS
    real = optdyn.theory.thm2.median_exit_time
    monkeypatch.setattr(optdyn.theory.thm2, "median_exit_time",
                        lambda h, *a, **k: real(h, *a, **k) * np.abs(h) ** 0.15)
    assert v2.check_momentum_escape(settings)[0].verdict == FAIL


@pytest.mark.slow
def test_adai_vs_momentum_ratio_passes_and_fails(settings, monkeypatch):
    assert v3.check_adai_vs_momentum_escape(settings)[0].verdict == PASS
    real = optdyn.theory.prop3.median_exit_time
    monkeypatch.setattr(optdyn.theory.prop3, "median_exit_time", lambda *a, **k: 1.2 * real(*a, **k))
    assert v3.check_adai_vs_momentum_escape(settings)[0].verdict == FAIL


# -- findings ----------------------------------------------------------------------------------------
def test_discrete_adai_is_a_finding(settings):
    (rec,) = v3.check_discrete(settings)
    assert rec.verdict == FINDING and "relative error" in rec.note


def test_rotated_saddle_sim_passes_and_eigenbasis_is_a_finding(settings, monkeypatch):
    recs = v3.check_rotated(settings)
    assert _verdicts(recs) == [PASS, PASS, PASS, FINDING]
    assert recs[-1].measured > 0.05
    _wrong_model(monkeypatch)
    assert _verdicts(v3.check_rotated(settings))[:3] == [FAIL] * 3


@pytest.mark.slow
def test_figure_check_passes_fails_and_writes_figure(settings, monkeypatch, tmp_path):
    (rec,) = v3.check_saddle_figure(settings)
    assert rec.verdict == PASS and (tmp_path / rec.figure).stat().st_size > 10_000
    real = optdyn.theory.prop1.variance
    monkeypatch.setattr(optdyn.theory.prop1, "variance", lambda *a, **k: 1.3 * real(*a, **k))
    assert v3.check_saddle_figure(settings)[0].verdict == FAIL
