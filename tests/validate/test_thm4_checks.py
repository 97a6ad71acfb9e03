"""The Theorem 4 checks at tiny sizes: they pass on the real model and fail when the bound or its rate
is wrong; the counterexample shows Adai's bias as a finding; Reddi et al.'s example sends Adam to +1."""
import numpy as np
import pytest

from optdyn.theory import thm4
from optdyn.validate.checks import thm4 as vt
from optdyn.validate.records import FAIL, FINDING, PASS
from optdyn.validate.registry import CheckSettings

SIZES = {"paths": (64, 64), "T": (1000, 1000), "n_T": (2, 2)}


def _settings(tmp_path, name, **sizes):
    return CheckSettings(out=str(tmp_path), seed=2, check=name, sizes={**SIZES, **sizes})


@pytest.fixture(autouse=True)
def _fresh_cache():
    vt._CACHE.clear()
    yield
    vt._CACHE.clear()


def test_bound_passes_and_fails_when_the_bound_is_too_small(tmp_path, monkeypatch):
    s = _settings(tmp_path, "thm4.bound")
    recs = vt.check_bound.fn(s)
    assert all(r.verdict == PASS for r in recs), [r.quantity for r in recs if r.verdict != PASS]
    assert (tmp_path / "figures" / "thm4_bound.png").stat().st_size > 1000
    real = thm4.min_grad_bound
    monkeypatch.setattr(thm4, "min_grad_bound", lambda T, **kw: 1e-4 * real(T, **kw))
    vt._CACHE.clear()
    assert any(r.verdict == FAIL for r in vt.check_bound.fn(s))


@pytest.mark.slow
def test_rate_fails_when_the_bound_decays_too_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(vt, "RATE_FROM", 100)
    s = _settings(tmp_path, "thm4.decay-rate")
    assert all(r.verdict == PASS for r in vt.check_decay_rate.fn(s))
    monkeypatch.setattr(thm4, "min_grad_bound", lambda T, **kw: np.asarray(T, float) ** -3.0)
    assert all(r.verdict == FAIL for r in vt.check_decay_rate.fn(s))


@pytest.mark.slow
def test_adai_bias_is_a_finding_and_controls_pass(tmp_path):
    s = _settings(tmp_path, "thm4.adai-bias", paths=(100, 100), T=(4000, 4000), frozen_paths=(64, 64),
                  frozen_T=(4000, 4000))
    recs = vt.check_adai_bias.fn(s)
    findings = [r for r in recs if r.verdict == FINDING]
    assert len(findings) == 2 and all(r.measured < 0 for r in findings)  # E θ₁ < 0: the rare +10 wins
    proposition = [r for r in recs if "bias proposition" in r.quantity]
    assert [r.verdict for r in proposition] == [PASS, PASS], [(r.quantity, r.measured, r.interval) for r in recs]


def test_reddi_adam_goes_to_the_wrong_end(tmp_path):
    s = _settings(tmp_path, "thm4.reddi", T=(400, 400))
    recs = {r.quantity.split(":")[0]: r for r in vt.check_reddi.fn(s)}
    assert recs["Adam"].measured > 0.5 and recs["SGD"].measured < 0
    assert all(r.verdict in (PASS, FINDING) for r in recs.values())
