"""Escape-from-minima checks (validate/minima.py): each passes on the project's theory and turns
into FINDING/FAIL when a prediction is made wrong (monkeypatched theory functions or exact models)."""
import warnings

import numpy as np
import pytest

from optdyn import sim
from optdyn import theory
from optdyn.validate import estimates
from optdyn.validate import problems as P
from optdyn.validate.checks import adamod_a1, ddt_sgd, ddt_white, prop2, prop4, selection, thm3
from optdyn.validate.records import FAIL, FINDING, PASS, Settings


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ValidityWarnings at moderate barriers are expected
        yield


def _verdicts(recs):
    return [(r.quantity, r.verdict, r.measured, r.predicted, r.note[:200]) for r in recs]


def test_adam_sde_drift_diffusion_and_quadrature():
    """AdamSDE(β₁=0) has D = (η/2)P²C = η/2 for Hessian noise; the quadrature MFPT uses it."""
    land = sim.PiecewiseQuadraticWells(1.0, 1.0, 1.0)
    dyn = sim.AdamSDE(0.1, beta1=0.0)
    drift, diff = dyn.drift_diffusion(land, sim.HessianNoise(0.04))
    x = np.array([[-2.5], [-1.0], [0.3]])
    assert np.allclose(diff(x)[:, 0, 0], 0.05, rtol=1e-6)
    assert np.allclose(drift(x)[:, 0], -np.sqrt(0.04) * land.gradient(x)[:, 0], rtol=1e-6)
    prob = P.escape_problem(land, sim.HessianNoise(0.16), dyn)
    tau = estimates.exact_1d(prob)
    closed = theory.prop2.escape_time_alr(1.0, -1.0, 1.0, 0.1, 0.16)
    assert abs(closed / tau - 1) < 5e-3  # E_Adam = 8: measured Laplace error -2.3e-3
    with pytest.raises(ValueError, match="overdamped"):
        sim.AdamSDE(0.1, beta1=0.9).drift_diffusion(land, sim.HessianNoise(0.04))


def test_prop2_exact_passes_and_flags_a_wrong_exponent(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    recs = prop2.check_prop2_exact(s)
    assert all(r.verdict == PASS for r in recs), _verdicts(recs)
    real = theory.prop2.exponent
    monkeypatch.setattr(theory.prop2, "exponent", lambda *a, **k: 1.1 * real(*a, **k))
    bad = prop2.check_prop2_exact(s)
    assert any(r.verdict == FINDING for r in bad if "scaling" in r.comparison), _verdicts(bad)
    real_t = theory.prop2.escape_time_alr
    monkeypatch.setattr(theory.prop2, "exponent", real)
    monkeypatch.setattr(theory.prop2, "escape_time_alr", lambda *a, **k: 1.2 * real_t(*a, **k))
    bad = prop2.check_prop2_exact(s)
    assert all(r.verdict == FINDING for r in bad if "validity" in r.comparison), _verdicts(bad)


def test_white_exact_passes_and_flags_a_sharpness_dependent_exponent(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    recs = ddt_white.check_white_exact(s)
    assert all(r.verdict == PASS for r in recs), _verdicts(recs)
    real = theory.ddt.white_escape_time

    def wrong(ha, hb, dl, d):  # an SGD-like law: the exponent grows with 1/H
        return real(ha, hb, dl, d) * np.exp(dl / d * (1 / np.asarray(ha)[0] - 1))

    monkeypatch.setattr(theory.ddt, "white_escape_time", wrong)
    bad = ddt_white.check_white_exact(s)
    assert any(r.verdict == FINDING for r in bad if "scaling" in r.comparison), _verdicts(bad)


def test_momentum_adai_exact_passes_and_flags_wrong_ratios(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    recs = thm3.check_momentum_exact(s) + prop4.check_adai_exact(s)
    assert {r.result for r in recs} == {"thm3", "prop4"}
    assert all(r.verdict == PASS for r in recs), _verdicts(recs)
    real_m, real_a = theory.thm3.ratio_to_sgd, theory.prop4.ratio_to_sgd
    monkeypatch.setattr(theory.thm3, "ratio_to_sgd", lambda *a, **k: 1.5 * real_m(*a, **k))
    monkeypatch.setattr(theory.prop4, "ratio_to_sgd", lambda *a, **k: 0.6 * real_a(*a, **k))
    real_g = theory.thm3.growth_rate
    # a growth rate that scales like √|H| (not |H|) would change the fitted exponent
    monkeypatch.setattr(theory.thm3, "growth_rate", lambda h, *a, **k: real_g(h, *a, **k) * np.abs(h) ** 4)
    bad = thm3.check_momentum_exact(s) + prop4.check_adai_exact(s)
    assert all(r.verdict == FINDING for r in bad if "ratio" in r.comparison), _verdicts(bad)
    assert any(r.verdict == FINDING for r in bad if r.result == "thm3" and "scaling" in r.comparison)


def test_sgd_sim_vs_exact_passes_and_fails_on_a_wrong_exact_model(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    recs = ddt_sgd.check_sgd_sim_vs_exact(s)
    assert all(r.verdict == PASS for r in recs), _verdicts(recs)
    real = ddt_sgd.exact_1d
    monkeypatch.setattr(ddt_sgd, "exact_1d", lambda *a, **k: 1.3 * real(*a, **k))
    bad = ddt_sgd.check_sgd_sim_vs_exact(s)  # the Monte Carlo is cached: only the exact value changes
    assert all(r.verdict == FAIL for r in bad), _verdicts(bad)


@pytest.mark.slow
def test_minima_selection_passes_and_flags_an_sgd_like_adam_law(tmp_path, monkeypatch):
    s = Settings(out=str(tmp_path))
    recs = selection.check_minima_selection(s)
    assert all(r.verdict == PASS for r in recs), _verdicts(recs)
    assert (tmp_path / "figures" / "minima_selection.png").exists()
    # if Adam escaped like SGD (Hessian-dependent exponent), it would prefer the flat well
    monkeypatch.setattr(theory.prop2, "escape_time",
                        lambda ha, hb, dl, lr, b, *a, **k: theory.ddt.sgd_escape_time(ha, hb, dl, lr, 20 * b))
    bad = selection.check_minima_selection(s)
    assert all(r.verdict == FINDING for r in bad if r.result == "prop2"), _verdicts(bad)


@pytest.mark.slow
@pytest.mark.parametrize("module, name", [
    (ddt_sgd, "check_sgd_discrete_vs_sde"), (thm3, "check_momentum_discrete_vs_sde"), (ddt_sgd, "check_sgd_scaling"),
    (ddt_white, "check_white_sim_vs_exact"), (prop2, "check_prop2_sim_vs_exact"),
    (thm3, "check_momentum_sim_vs_exact"), (prop4, "check_adai_sim_vs_exact"), (thm3, "check_ratio_mc"),
    (adamod_a1, "check_adamod_vs_adam"), (thm3, "check_kramers_vs_monte_carlo"), (ddt_sgd, "check_box_exit_grid")])
def test_monte_carlo_checks_pass(tmp_path, module, name):
    recs = getattr(module, name)(Settings(out=str(tmp_path)))
    assert all(r.verdict in (PASS, FINDING) for r in recs), _verdicts(recs)


@pytest.mark.slow
def test_adamod_check_flags_a_different_escape_law(tmp_path, monkeypatch):
    """Driving 'AdaMod' at a lower temperature (a wrong A1(iv)) must not pass."""
    real = adamod_a1.problem

    def colder(land, noise, dyn, *a, **k):
        if isinstance(dyn, sim.AdaMod):
            noise = sim.HessianNoise(noise.batch_size * 1.5)
        return real(land, noise, dyn, *a, **k)

    monkeypatch.setattr(adamod_a1, "problem", colder)
    estimates.clear_cache()
    recs = adamod_a1.check_adamod_vs_adam(Settings(out=str(tmp_path), seed=5))
    assert all(r.verdict == FINDING for r in recs), _verdicts(recs)


def test_sweep_z_scores():
    assert adamod_a1._z(1.0, 0.1, 0.5, 0.0) == pytest.approx(5.0)
    assert adamod_a1._z(np.nan, np.nan, 0.5, 0.1) == np.inf  # only AdaMod diverged: worse
    assert adamod_a1._z(0.5, 0.0, 0.5, 0.0) == 0.0
    assert adamod_a1._z_fraction(0.0, 100, 0.0, 100) == 0.0
    p = 0.5 * (0.3 + 0.1)
    assert adamod_a1._z_fraction(0.3, 100, 0.1, 100) == pytest.approx(0.2 / np.sqrt(p * (1 - p) * 0.02))


@pytest.mark.slow
def test_eta_sweep_passes_and_flags_an_optimizer_that_needs_warm_up(tmp_path, monkeypatch):
    """A1(iii) passes for the real AdaMod; with Adam in AdaMod's place (no bound) 'needs no warm-up' fails."""
    spec = adamod_a1.check_eta_sweep
    recs = spec(Settings(out=str(tmp_path)))
    assert all(r.verdict == PASS for r in recs), _verdicts(recs)
    monkeypatch.setitem(adamod_a1.SWEEP_OPTIMIZERS, "AdaMod", adamod_a1.SWEEP_OPTIMIZERS["Adam"])
    bad = spec(Settings(out=str(tmp_path), seed=3))
    wells = [r for r in bad if "first-steps" in r.comparison and "AdaMod" in r.quantity]
    assert wells and all(r.verdict == FINDING for r in wells), _verdicts(bad)
