"""The AMS checks' verdicts come from the numbers: each record builder fails (or reports a finding) when
the prediction is wrong and passes when it is right, on synthetic AMS results with known spread; and one
small AMS estimate of the SDE agrees with the exact quadrature through the check's own record."""
import numpy as np

from optdyn.sim.rare import AMSResult, AMSRun
from optdyn.validate.checks import ams as A
from optdyn.validate.records import FAIL, FINDING, PASS

SGD_SDE = next(c for c in A.CASES if c.label == "SGD SDE")
ADAM_DISCRETE = next(c for c in A.CASES if c.label.startswith("Adam (discrete"))


def _result(taus_p, rng, rel=0.05, m=10):
    """An AMSResult whose runs scatter around τ with relative spread ``rel`` (through p̂)."""
    runs = []
    for _ in range(m):
        p = taus_p * (1 + rel * rng.standard_normal())
        runs.append(AMSRun(probability=p, first_entrance_time=1.0, loop_time=2.0, reactive_time=3.0, n_loops=100,
                           n_iterations=10, n_reached=10, steps=1000, direct_steps=100, burn_in_escapes=0, wall_s=0.0))
    return AMSResult(runs, 0.01, (0.0, 0.1), 100, 10, 0)


def test_exact_record_fails_on_a_wrong_exact_value(rng):
    res = _result(1e-6, rng)
    assert A.exact_record(SGD_SDE, 20.0, res, res.mean_time, 1e-8).verdict == PASS
    assert A.exact_record(SGD_SDE, 20.0, res, 1.5 * res.mean_time, 1e-8).verdict == FAIL


def test_closed_form_record_reports_a_wrong_closed_form(rng):
    res = _result(1e-6, rng)
    assert A.closed_form_record(SGD_SDE, 40.0, res, res.mean_time).verdict == PASS
    off = A.closed_form_record(ADAM_DISCRETE, 40.0, res, 1.5 * res.mean_time)
    assert off.verdict == FINDING and abs(off.measured - 0.5) < 1e-12


def test_cost_record_tells_linear_from_exponential(rng):
    es = np.array((5.0, 10.0, 20.0, 40.0))
    lin = [1e5 * e * (1 + 0.05 * rng.standard_normal(8)) for e in es]
    assert A.cost_record("x", es, lin, np.exp(es)).verdict == PASS
    expo = [1e2 * np.exp(e) * (1 + 0.05 * rng.standard_normal(8)) for e in es]
    assert A.cost_record("x", es, expo, np.exp(es)).verdict == FINDING


def test_small_ams_estimate_passes_its_exact_record():
    """The SGD SDE case at E = 5 (the check's own problem and record) with 60 replicas × 6 runs."""
    from optdyn import sim

    prob = SGD_SDE.build(5.0)
    res = sim.rare.ams_escape(prob, n_replicas=60, n_runs=6, seed=5)
    exact, solver = A.exact_mfpt(SGD_SDE, 5.0, None)
    rec = A.exact_record(SGD_SDE, 5.0, res, exact, solver)
    assert rec.verdict == PASS, (rec.measured, rec.predicted, rec.interval)
