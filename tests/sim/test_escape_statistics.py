"""Honest escape statistics: the distribution-free Kaplan–Meier restricted mean beside the exponential
model, warnings when the exponential law is rejected or escapes sit in the initial transient, plain floats.

Tolerances: identities (restricted mean = sample mean without censoring; = mean of min(T, tau) under
type-I censoring at tau; Greenwood-type variance = plug-in variance of the mean without censoring) are
exact up to round-off (1e-12).  Coverage of the 95 % interval over R seeded replicates: binomial
se = sqrt(p(1-p)/R), allowed 4 se (tests/conftest.py N_SE).  Point estimates against exact values of a
known law: 4 of their own standard errors.
"""
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import integrate, stats

from optdyn.sim.escape import (EscapeStatisticsWarning, default_transient, escape_statistics, kaplan_meier,
                               restricted_mean)

N_SE = 4.0


def test_uncensored_restricted_mean_is_the_sample_mean():
    t = np.random.default_rng(1).exponential(2.0, 500)
    rm = restricted_mean(t, np.ones(t.size, bool))
    assert rm.complete and rm.tau == t.max()
    assert rm.value == pytest.approx(t.mean(), rel=1e-12)
    # Greenwood-type variance without censoring = plug-in variance of the mean, sum (t - mean)^2 / n^2
    assert rm.std_error == pytest.approx(t.std(ddof=0) / np.sqrt(t.size), rel=1e-9)


def test_type_one_censoring_gives_mean_of_min_and_covers_truth():
    """Exponential(mean m) censored at tau: mu_tau = m (1 - exp(-tau/m)); estimate = mean(min(T, tau))."""
    rng = np.random.default_rng(2)
    m, tau, n, reps = 3.0, 2.5, 400, 400
    truth = m * (1 - np.exp(-tau / m))
    hits = 0
    for _ in range(reps):
        t = rng.exponential(m, n)
        rm = restricted_mean(np.minimum(t, tau), t <= tau)
        assert not rm.complete
        assert rm.value == pytest.approx(np.minimum(t, tau).mean(), rel=1e-12)
        hits += rm.ci[0] <= truth <= rm.ci[1]
    cov = hits / reps
    assert abs(cov - 0.95) <= N_SE * np.sqrt(0.95 * 0.05 / reps), cov


def test_random_censoring_non_exponential_law():
    """Weibull(shape 0.5) escape times, uniform random censoring: the restricted mean estimates
    the exact integral of the survival function (the exponential MLE would not)."""
    rng = np.random.default_rng(3)
    n, k, scale, tau = 20_000, 0.5, 2.0, 6.0
    t_true = scale * rng.weibull(k, n)
    c = rng.uniform(0, 12.0, n)
    t, e = np.minimum(t_true, c), t_true <= c
    rm = restricted_mean(t, e, tau=tau)
    exact = integrate.quad(lambda s: np.exp(-(s / scale) ** k), 0, tau)[0]
    assert abs(rm.value - exact) <= N_SE * rm.std_error, (rm.value, exact, rm.std_error)
    # the survival curve is SciPy's; it agrees with the package's own Kaplan-Meier
    km = kaplan_meier(t, e)
    sf = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e])).sf
    np.testing.assert_allclose(sf.evaluate(km.times), km.survival, rtol=1e-12)


def _fake_result(steps, escaped, n_steps, dt, dynamics):
    """The fields of an EnsembleResult that escape_statistics reads."""
    steps = np.asarray(steps, np.int64)
    return SimpleNamespace(diverged=np.zeros(steps.size, bool), escaped=np.asarray(escaped),
                           exit_step=np.where(escaped, steps, -1), exit_label=np.where(escaped, 1, 0),
                           dt=dt, n_steps=n_steps, n_diverged=0, t_end=n_steps * dt,
                           time_of=lambda k: np.asarray(k) * dt,  # constant step: t = k·dt
                           metadata={"problem": {"dynamics": dynamics}})


def test_exponential_law_no_warning_and_means_agree():
    rng = np.random.default_rng(4)
    steps = np.ceil(rng.exponential(500.0, 3000)).astype(int)
    res = _fake_result(np.minimum(steps, 2000), steps <= 2000, 2000, 0.1, {"class": "SGD", "lr": 0.1})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", EscapeStatisticsWarning)
        st = escape_statistics(res)
    assert st.warnings == () and st.transient is None
    assert st.exponentiality.pvalue > 0.01
    # censored: the restricted mean is a lower bound; both intervals are plain floats
    rm = st.restricted_mean_iterations
    assert not rm.complete and rm.value < st.iterations.mean_time
    assert all(type(v) is float for v in st.iterations.mean_time_ci + rm.ci)


def test_adam_transient_and_rejected_law_warn():
    """All escapes between 1000 and 2500 iterations, inside Adam's bias-correction transient
    (3/(1 - beta2) = 3000 iterations): the exponential-model mean describes no escape rate."""
    rng = np.random.default_rng(5)
    steps = rng.integers(1000, 2500, 2000)
    dyn = {"class": "Adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999}
    res = _fake_result(steps, np.ones(steps.size, bool), 4000, 0.01, dyn)  # discrete: dt = lr
    with pytest.warns(EscapeStatisticsWarning) as rec:
        st = escape_statistics(res)
    text = " ".join(str(w.message) for w in rec)
    assert "rejected" in text and "transient" in text and len(st.warnings) == 2
    assert st.transient_fraction == 1.0 and st.transient == pytest.approx(3000 * 0.01)
    assert st.exponentiality.pvalue < 0.01
    rm = st.restricted_mean_iterations
    assert rm.complete and rm.value == pytest.approx(steps.mean(), rel=1e-12)
    summary = str(st)
    assert "np.float64" not in summary and "distribution-free" in summary and "warning:" in summary
    assert "np.float64" not in repr(st.iterations.mean_time_ci)


def test_default_transient():
    assert default_transient({"class": "Adam", "beta1": 0.9, "beta2": 0.999}) == pytest.approx(3000.0)
    assert default_transient({"class": "SGD", "lr": 0.1}) is None


def test_large_ensembles_test_a_subsample():
    rng = np.random.default_rng(6)
    steps = np.ceil(rng.exponential(100.0, 50_000)).astype(int)
    res = _fake_result(steps, np.ones(steps.size, bool), 10**6, 0.1, {"class": "SGD", "lr": 0.1})
    st = escape_statistics(res, max_test_paths=5_000, n_bootstrap=99)
    assert st.exponentiality.n_bootstrap == 99 and st.iterations.n_paths == 50_000
    assert st.exponentiality.pvalue > 0.01
    with pytest.raises(ValueError, match="max_test_paths"):
        escape_statistics(res, max_test_paths=1)
