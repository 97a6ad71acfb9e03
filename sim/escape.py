r"""Escape-time statistics of ensembles: censored exponential rates, survival curves, exact 1-D MFPT.

Pure NumPy/SciPy, on an :class:`~sim.results.EnsembleResult` or on arrays ``(times, escaped)``
where ``times[i]`` is path :math:`i`'s exit time if ``escaped[i]`` and its censoring time otherwise.

* :func:`exponential_rate` — maximum-likelihood rate of censored exponential data,
  :math:`\hat\lambda = k/E` with :math:`k` events and exposure :math:`E = \sum_i \min(T_i, t_{max})`,
  with an exact confidence interval, and the mean escape time :math:`1/\hat\lambda` with its interval.
* :func:`exponentiality_test` — is the escape law exponential?  Kolmogorov–Smirnov distance between
  the Kaplan–Meier curve and the fitted exponential, with a parametric-bootstrap p-value.
* :func:`kaplan_meier` — the survival curve with Greenwood standard errors.
* :func:`restricted_mean` — the distribution-free Kaplan–Meier restricted mean escape time with its
  interval (the mean itself when every path escaped).
* :func:`escape_statistics` — all of the above from an ensemble result, times in continuous units and
  in steps / optimizer iterations, with warnings when the exponential model's mean should not be read
  as an escape rate (exponential law rejected; most escapes inside the initial transient).
* :func:`problem_mfpt_1d` — the exact mean first-passage time of the SGD SDE of a 1-D
  :class:`~sim.problem.Problem` by quadrature (:func:`sim.exact.mfpt.mean_first_passage_time_1d`).

References
----------
docs/theory.md §0 (time t = kη), §5–§7 (escape times, comparisons).  Z. Xie, I. Sato, M. Sugiyama, "A Diffusion
Theory for Deep Learning Dynamics", arXiv 2002.03495.  F. Garwood, "Fiducial limits for the Poisson
distribution", Biometrika 28 (1936).  E. L. Kaplan, P. Meier, "Nonparametric estimation from incomplete
observations", JASA 53 (1958).  J. F. Lawless, *Statistical Models and Methods for Lifetime Data*, §3.5
(exponential model, censored data).  H. W. Lilliefors, "On the Kolmogorov–Smirnov test for the exponential
distribution with mean unknown", JASA 64 (1969).  J. P. Klein, M. L. Moeschberger, *Survival Analysis*, §4.5
(restricted mean and its variance).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import _validation as V

__all__ = ["RateEstimate", "exponential_rate", "kaplan_meier", "KaplanMeier", "exponentiality_test",
           "ExponentialityTest", "EscapeStatistics", "escape_statistics", "restricted_mean", "RestrictedMean",
           "EscapeStatisticsWarning", "default_transient", "problem_mfpt_1d",
           "times_from_result", "discrete_monitoring_shift", "CONTINUITY_CORRECTION"]


# ----------------------------------------------------------------------------------------------
# input
# ----------------------------------------------------------------------------------------------
def _times(times, escaped):
    t = V.finite_array("times", times, ndim=1)
    e = np.asarray(escaped)
    if e.shape != t.shape:
        raise ValueError(f"escaped must have the shape of times {t.shape}, got {e.shape}")
    if e.dtype != bool:
        if not np.isin(e, (0, 1)).all():
            raise ValueError("escaped must be a boolean mask")
        e = e.astype(bool)
    if t.size == 0:
        raise ValueError("times must not be empty")
    if np.any(t < 0):
        raise ValueError("times must be >= 0")
    return t, e


def times_from_result(result, label: int | None = None):
    r"""``(times, escaped)`` of an :class:`~sim.results.EnsembleResult`.

    Escaped paths give their exit time ``exit_step·dt``; paths still running give the time they were
    observed for, ``n_steps·dt`` (``result.t_end`` :math:`\le t_{max}`).  Diverged paths are dropped (with a warning).
    With ``label``, only exits with that label count as events; other exits are censored at their
    exit time (cause-specific hazard, competing risks).
    """
    keep = ~result.diverged
    if not keep.all():
        warnings.warn(f"{int((~keep).sum())} diverged paths are excluded from the escape statistics",
                      RuntimeWarning, stacklevel=3)
    t = np.where(result.escaped, result.time_of(result.exit_step), result.t_end)
    ev = result.escaped.copy()
    if label is not None:
        ev &= result.exit_label == int(label)
    return t[keep].astype(float), ev[keep]


# ----------------------------------------------------------------------------------------------
# rate MLE and exact interval
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RateEstimate:
    r"""Censored exponential fit.

    Attributes
    ----------
    n_events : int
        :math:`k`, the number of escapes.
    n_paths : int
    exposure : float
        :math:`E = \sum_i \min(T_i, t_{max})` (time units of the input).
    rate, rate_ci : float, (float, float)
        :math:`\hat\lambda = k/E` and its confidence interval.
    mean_time, mean_time_ci : float, (float, float)
        :math:`1/\hat\lambda` and :math:`(1/\lambda_{hi}, 1/\lambda_{lo})` (``inf`` when :math:`k = 0`).
    confidence : float
    method : str
        ``"gamma"`` (no censoring: exact pivot :math:`2\lambda E \sim \chi^2_{2k}`) or ``"poisson"``
        (censoring: Garwood's exact Poisson interval for :math:`k` given the exposure).
    """

    n_events: int
    n_paths: int
    exposure: float
    rate: float
    rate_ci: tuple
    mean_time: float
    mean_time_ci: tuple
    confidence: float
    method: str

    def __post_init__(self):  # plain Python floats, so that intervals print as numbers
        for name in ("exposure", "rate", "mean_time", "confidence"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("rate_ci", "mean_time_ci"):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))

    def scaled(self, unit: float) -> "RateEstimate":
        """The same estimate with times measured in units of ``unit`` (e.g. ``dt`` for steps)."""
        return RateEstimate(self.n_events, self.n_paths, self.exposure / unit, self.rate * unit,
                            (self.rate_ci[0] * unit, self.rate_ci[1] * unit), self.mean_time / unit,
                            (self.mean_time_ci[0] / unit, self.mean_time_ci[1] / unit), self.confidence,
                            self.method)

    def contains_mean_time(self, value: float, extra_relative: float = 0.0) -> bool:
        """Whether ``value`` lies in the mean-time interval widened by a relative model error."""
        lo, hi = self.mean_time_ci
        return lo * (1 - extra_relative) <= value <= hi * (1 + extra_relative)


def exponential_rate(times, escaped, t_max: float | None = None, confidence: float = 0.95) -> RateEstimate:
    r"""Maximum-likelihood escape rate of censored exponential data with an exact interval.

    The likelihood of independent exponential times observed up to :math:`t_{max}` is
    :math:`\lambda^k e^{-\lambda E}`, so :math:`\hat\lambda = k/E`, :math:`E = \sum_i \min(T_i, t_{max})`.

    Interval (level :math:`1-\alpha`):

    * no censored path: :math:`2\lambda E \sim \chi^2_{2k}` exactly (sum of :math:`k` exponentials), so
      :math:`[\chi^2_{2k,\alpha/2},\, \chi^2_{2k,1-\alpha/2}]/(2E)`;
    * with censoring (type I): Garwood's Poisson interval
      :math:`[\chi^2_{2k,\alpha/2},\, \chi^2_{2k+2,1-\alpha/2}]/(2E)` — exact for the event count of a
      Poisson process observed for a fixed exposure, and conservative-to-nominal here (the tests
      measure its coverage on censored exponential samples).  For :math:`k = 0` the lower limit is 0.

    Parameters
    ----------
    times : array_like, shape (n,)
        Exit time of escaped paths, censoring time of the others.
    escaped : array_like of bool, shape (n,)
    t_max : float, optional
        Censoring time; times are clipped to it (default: no clipping).
    confidence : float
        :math:`1-\alpha \in (0, 1)`.

    References
    ----------
    Lawless, *Statistical Models and Methods for Lifetime Data*, §3.5; Garwood (1936).
    """
    t, e = _times(times, escaped)
    conf = V.in_range("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
    if t_max is not None:
        t_max = V.positive("t_max", t_max)
        e = e & (t <= t_max)
        t = np.minimum(t, t_max)
    k, n, expo = int(e.sum()), t.size, float(t.sum())
    if expo <= 0:
        raise ValueError("total exposure is zero: every path escaped at time 0")
    alpha = 1.0 - conf
    censored = k < n
    lo = stats.chi2.ppf(alpha / 2, 2 * k) / (2 * expo) if k > 0 else 0.0
    hi_df = 2 * k + 2 if censored else 2 * k
    hi = stats.chi2.ppf(1 - alpha / 2, hi_df) / (2 * expo)
    rate = k / expo
    mean = expo / k if k > 0 else np.inf
    return RateEstimate(k, n, expo, rate, (float(lo), float(hi)), mean,
                        (1.0 / hi, (1.0 / lo) if lo > 0 else np.inf), conf,
                        "poisson" if censored else "gamma")


# ----------------------------------------------------------------------------------------------
# Kaplan–Meier
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KaplanMeier:
    r"""Kaplan–Meier survival curve :math:`\hat S(t) = \prod_{t_j \le t}(1 - d_j/n_j)`.

    Attributes
    ----------
    times : (m,) — distinct event times; survival : (m,) — :math:`\hat S` just after each;
    std_error : (m,) — Greenwood's :math:`\hat S\sqrt{\sum d_j/(n_j(n_j-d_j))}`;
    at_risk, events : (m,) — :math:`n_j`, :math:`d_j`.
    """

    times: np.ndarray
    survival: np.ndarray
    std_error: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray

    def __call__(self, t):
        """:math:`\\hat S(t)` (right-continuous step function)."""
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right")
        return np.concatenate([[1.0], self.survival])[idx]


def kaplan_meier(times, escaped) -> KaplanMeier:
    """Kaplan–Meier estimate of the survival (not-yet-escaped) probability, ties handled.

    A censoring at the same time as an event counts as at risk for that event (the usual convention).
    """
    t, e = _times(times, escaped)
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    uniq, first = np.unique(t, return_index=True)
    n_at = t.size - first
    d = np.add.reduceat(e.astype(np.int64), first)
    m = d > 0
    uniq, n_at, d = uniq[m], n_at[m], d[m]
    s = np.cumprod(1.0 - d / n_at)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n_at > d, d / (n_at * (n_at - d)), np.inf))
    se = np.where(s > 0, s * np.sqrt(np.where(np.isfinite(gw), gw, 0.0)), 0.0)
    return KaplanMeier(uniq, s, se, n_at, d)


# ----------------------------------------------------------------------------------------------
# exponentiality
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExponentialityTest:
    """KS distance between Kaplan–Meier and the fitted exponential, and its bootstrap p-value."""

    statistic: float
    pvalue: float
    n_bootstrap: int
    rate: float


def _ks_km_exp(t, e, rate):
    km = kaplan_meier(t, e)
    if km.times.size == 0:
        return 0.0
    s_before = np.concatenate([[1.0], km.survival[:-1]])
    model = np.exp(-rate * km.times)
    return float(max(np.abs(km.survival - model).max(), np.abs(s_before - model).max()))


def exponentiality_test(times, escaped, t_max: float | None = None, *, n_bootstrap: int = 499,
                        seed: int = 0, dt: float | None = None) -> ExponentialityTest:
    r"""Test that escape times are exponential, allowing censoring at ``t_max``.

    Statistic: :math:`D = \sup_t |\hat S_{KM}(t) - e^{-\hat\lambda t}|` on the observed range, with
    :math:`\hat\lambda` the censored MLE.  Because :math:`\hat\lambda` is fitted from the same data,
    the classical KS null distribution does not apply (Lilliefors); the p-value is from a parametric
    bootstrap: samples of the fitted exponential, censored the same way (at ``t_max``, or at each
    path's own censoring time when ``t_max`` is None), optionally rounded up to the step grid
    ``dt`` (escape times of a simulation are multiples of ``dt``), refitted and re-tested.  Without
    censoring this is the Lilliefors test for the exponential.  Note: real first-passage laws have a
    short non-exponential transient (relaxation in the well), which a large sample will detect.

    Parameters
    ----------
    times, escaped, t_max
        As in :func:`exponential_rate`.
    n_bootstrap : int
        Bootstrap replicates; the p-value resolution is :math:`1/(n+1)`.
    seed : int
    dt : float, optional
        Step of the time grid of the data.
    """
    t, e = _times(times, escaped)
    n_bootstrap = V.positive_int("n_bootstrap", n_bootstrap)
    if t_max is not None:
        t_max = V.positive("t_max", t_max)
        e = e & (t <= t_max)
        t = np.minimum(t, t_max)
    cens = np.full(t.size, t_max) if t_max is not None else np.where(e, np.inf, t)
    if t_max is None and not np.all(e):
        # censoring times of escaped paths are unknown: use the largest observed censoring time
        cens = np.where(e, t[~e].max() if (~e).any() else np.inf, t)
    rate = exponential_rate(t, e).rate
    if rate == 0:
        return ExponentialityTest(0.0, 1.0, n_bootstrap, 0.0)
    d_obs = _ks_km_exp(t, e, rate)
    rng = np.random.default_rng(seed)
    exceed = 0
    for _ in range(n_bootstrap):
        s = rng.exponential(1.0 / rate, t.size)
        if dt is not None:
            s = np.ceil(s / dt) * dt
        eb = s <= cens
        tb = np.minimum(s, cens)
        rb = exponential_rate(tb, eb).rate
        exceed += _ks_km_exp(tb, eb, rb) >= d_obs if rb > 0 else 0
    return ExponentialityTest(d_obs, (exceed + 1) / (n_bootstrap + 1), n_bootstrap, rate)


# ----------------------------------------------------------------------------------------------
# distribution-free mean: restricted mean survival time
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestrictedMean:
    r"""Kaplan–Meier restricted mean escape time :math:`\mu_\tau = \int_0^\tau \hat S(t)\,dt`.

    Distribution-free: no law is assumed for the escape times.  When every path has escaped by
    :math:`\tau` (``complete``), :math:`\mu_\tau` is the plain sample mean and its interval the
    usual CLT interval of a mean.  With censoring it is the mean of :math:`\min(T, \tau)`, a
    *lower bound* of the mean escape time (which the data cannot determine without a model).

    Attributes
    ----------
    value, std_error : float — :math:`\hat\mu_\tau` and its Greenwood-type standard error
    :math:`\sqrt{\sum_{t_j\le\tau} A_j^2 d_j/(n_j(n_j-d_j))}`, :math:`A_j = \int_{t_j}^\tau \hat S`;
    ci : (float, float) — normal interval at ``confidence`` (lower end clipped at 0);
    tau : float; complete : bool; confidence : float.
    """

    value: float
    std_error: float
    ci: tuple
    tau: float
    complete: bool
    confidence: float

    def scaled(self, unit: float) -> "RestrictedMean":
        """The same estimate with times measured in units of ``unit``."""
        return RestrictedMean(self.value / unit, self.std_error / unit, (self.ci[0] / unit, self.ci[1] / unit),
                              self.tau / unit, self.complete, self.confidence)


def restricted_mean(times, escaped, tau: float | None = None, confidence: float = 0.95) -> RestrictedMean:
    r"""Restricted mean escape time :math:`\int_0^\tau \hat S(t)\,dt` from the Kaplan–Meier curve.

    The survival curve is SciPy's (:func:`scipy.stats.ecdf` on :class:`scipy.stats.CensoredData`); the
    variance is the Greenwood-type formula of Klein & Moeschberger, *Survival Analysis*, §4.5
    (at-risk counts :math:`n_j` and events :math:`d_j` at the event times :math:`t_j \le \tau`).

    Parameters
    ----------
    times, escaped
        As in :func:`exponential_rate`.
    tau : float, optional
        Horizon; default the largest observed time (then ``complete`` when the last path escaped).
    confidence : float
        Level of the normal interval.
    """
    t, e = _times(times, escaped)
    conf = V.in_range("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
    tau = float(t.max()) if tau is None else V.positive("tau", tau)
    if not e.any():  # no event: S = 1 on [0, tau]
        return RestrictedMean(tau, 0.0, (tau, tau), tau, False, conf)
    sf = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e])).sf
    q, s = np.asarray(sf.quantiles, float), np.asarray(sf.probabilities, float)
    keep = q <= tau
    q, s = q[keep], s[keep]
    before = np.concatenate([[1.0], s[:-1]])  # S just before each knot
    cum = np.cumsum(before * np.diff(np.concatenate([[0.0], q])))  # area up to each knot
    area_tau = (cum[-1] + s[-1] * (tau - q[-1])) if q.size else tau
    km = kaplan_meier(t, e)
    ev = km.times <= tau
    a = area_tau - cum[np.searchsorted(q, km.times[ev])]  # A_j
    n_j, d_j = km.at_risk[ev].astype(float), km.events[ev].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_j > d_j, a * a * d_j / (n_j * (n_j - d_j)), np.where(a > 0, np.inf, 0.0))
    se = float(np.sqrt(terms.sum()))
    z = float(stats.norm.ppf(0.5 + conf / 2))
    complete = bool(q.size and s[-1] == 0.0)
    return RestrictedMean(float(area_tau), se, (max(0.0, float(area_tau) - z * se), float(area_tau) + z * se),
                          tau, complete, conf)


# ----------------------------------------------------------------------------------------------
# from an ensemble result
# ----------------------------------------------------------------------------------------------
class EscapeStatisticsWarning(UserWarning):
    """The exponential-model mean escape time should not be read as a stationary escape rate."""


@dataclass(frozen=True)
class EscapeStatistics:
    r"""Escape statistics of one ensemble.

    ``time`` is in continuous units (:math:`t = k\,\mathrm{dt}`), ``steps`` in simulation steps
    (``time.scaled(dt)``) and ``iterations`` in optimizer iterations (``time.scaled(lr)``,
    :math:`t = k\eta`, docs/theory.md §0; equal to ``steps`` for a discrete optimizer).

    The headline mean comes twice: the exponential-model MLE with its exact interval (``time``), and
    the distribution-free Kaplan–Meier restricted mean (``restricted_mean``, in time units;
    ``restricted_mean_iterations``).  They agree when escape is a Poisson process; ``warnings`` lists
    why they may not (exponential law rejected by ``exponentiality``, or most escapes inside the
    initial ``transient``), and :func:`escape_statistics` issues them as :class:`EscapeStatisticsWarning`.
    ``str()`` prints a summary in iterations with plain numbers.
    """

    time: RateEstimate
    steps: RateEstimate
    iterations: RateEstimate
    sample_mean: float  # plain mean of the escape times (nan when some paths were censored)
    sample_mean_se: float
    survival: KaplanMeier
    n_censored: int
    n_diverged: int
    dt: float
    lr: float
    restricted_mean: RestrictedMean | None = None
    exponentiality: ExponentialityTest | None = None
    transient: float | None = None  # initial transient (time units) used for the transient check
    transient_fraction: float = float("nan")  # fraction of the escapes within it
    warnings: tuple = ()

    @property
    def restricted_mean_iterations(self) -> RestrictedMean | None:
        return None if self.restricted_mean is None else self.restricted_mean.scaled(self.lr)

    def summary(self) -> str:
        """A few lines, in optimizer iterations, with plain numbers."""
        it = self.iterations
        lines = [f"escapes: {it.n_events} of {it.n_paths} paths ({self.n_censored} censored, "
                 f"{self.n_diverged} diverged)",
                 f"mean escape time, exponential model: {it.mean_time:.6g} iterations, "
                 f"{100 * it.confidence:g}% CI [{it.mean_time_ci[0]:.6g}, {it.mean_time_ci[1]:.6g}]"]
        rm = self.restricted_mean_iterations
        if rm is not None:
            what = "mean" if rm.complete else f"restricted mean up to {rm.tau:.6g} (a lower bound of the mean)"
            lines.append(f"{what}, distribution-free (Kaplan-Meier): {rm.value:.6g} iterations, "
                         f"{100 * rm.confidence:g}% CI [{rm.ci[0]:.6g}, {rm.ci[1]:.6g}]")
        if self.exponentiality is not None:
            lines.append(f"exponential law: KS distance {self.exponentiality.statistic:.3g}, "
                         f"bootstrap p = {self.exponentiality.pvalue:.3g}")
        if self.transient is not None:
            lines.append(f"escapes within the initial transient (first {self.transient / self.lr:.6g} iterations): "
                         f"{100 * self.transient_fraction:.3g}%")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


#: Bias corrections :math:`1 - \beta^k` below :math:`e^{-3} \approx 5\%` after :math:`3/(1-\beta)` iterations.
_TRANSIENT_E_FOLDINGS = 3.0


def default_transient(dynamics: dict) -> float | None:
    r"""Initial transient of a dynamics (iterations) from its description, or None when it has none
    known: :math:`3/(1-\beta)` for the slowest bias-corrected moment (:math:`\beta_1`, :math:`\beta_2`
    of Adam-like optimizers), after which the bias correction is within :math:`e^{-3}` of 1."""
    betas = [float(dynamics[k]) for k in ("beta1", "beta2") if k in dynamics and 0 <= float(dynamics[k]) < 1]
    return _TRANSIENT_E_FOLDINGS / (1.0 - max(betas)) if betas else None


def escape_statistics(result, confidence: float = 0.95, label: int | None = None, *,
                      transient_iterations: float | None = None, test_exponential: bool = True,
                      n_bootstrap: int = 199, alpha: float = 0.01, seed: int = 0,
                      max_test_paths: int = 20_000) -> EscapeStatistics:
    """Rate MLE with exact interval, Kaplan–Meier curve and restricted mean, plain-mean cross-check and
    the checks that tell whether the exponential-model mean means anything.

    Parameters
    ----------
    result : EnsembleResult
    confidence : float
        Level of the intervals.
    label : int, optional
        Count only exits with this label (others censored).
    transient_iterations : float, optional
        Length of the initial transient in optimizer iterations (default: :func:`default_transient` of
        the dynamics, e.g. :math:`3/(1-\beta_2)` for Adam; none for SGD).  A warning is issued when more
        than half of the escapes happen within it.
    test_exponential : bool
        Run :func:`exponentiality_test` (``n_bootstrap`` replicates, ``seed``) and warn when it rejects
        the exponential law at level ``alpha``; on at most ``max_test_paths`` paths (a random subset
        drawn with ``seed`` beyond that: each replicate sorts the sample, and 20 000 paths already
        resolve deviations of the survival curve of about 0.01).
    """
    t, e = times_from_result(result, label)
    est = exponential_rate(t, e, confidence=confidence)
    dyn = result.metadata.get("problem", {}).get("dynamics", {}) if result.metadata else {}
    lr = float(dyn.get("lr", result.dt))
    alpha = V.in_range("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    if np.all(e):
        mean, se = float(t.mean()), float(t.std(ddof=1) / np.sqrt(t.size)) if t.size > 1 else np.nan
    else:
        mean, se = np.nan, np.nan
    rmst = restricted_mean(t, e, confidence=confidence)
    msgs = []
    expo = None
    if test_exponential and e.sum() >= 2:
        max_test_paths = V.positive_int("max_test_paths", max_test_paths, minimum=2)
        sub = (np.sort(np.random.default_rng(seed).choice(t.size, max_test_paths, replace=False))
               if t.size > max_test_paths else slice(None))
        expo = exponentiality_test(t[sub], e[sub], n_bootstrap=n_bootstrap, seed=seed, dt=float(result.dt))
        if expo.pvalue < alpha:
            msgs.append(f"the exponential law of escape times is rejected (bootstrap KS p = {expo.pvalue:.3g} "
                        f"< {alpha:g}): the exponential-model mean and interval assume it; prefer the "
                        "distribution-free (Kaplan-Meier) mean")
    if transient_iterations is None:
        transient_iterations = default_transient(dyn)
    transient = frac = None
    if transient_iterations is not None:
        transient = V.positive("transient_iterations", transient_iterations, allow_zero=True) * lr
        frac = float(np.mean(t[e] <= transient)) if e.any() else float("nan")
        if e.any() and frac > 0.5:
            msgs.append(f"{100 * frac:.0f}% of the escapes happen within the initial transient (first "
                        f"{transient / lr:.6g} iterations): the mean escape time describes that transient, "
                        "not a stationary escape rate")
    for m in msgs:
        warnings.warn(m, EscapeStatisticsWarning, stacklevel=2)
    return EscapeStatistics(est, est.scaled(result.dt), est.scaled(lr), mean, se, kaplan_meier(t, e),
                            int((~e).sum()), result.n_diverged, float(result.dt), lr, rmst, expo, transient,
                            float("nan") if frac is None else frac, tuple(msgs))


# ----------------------------------------------------------------------------------------------
# exact 1-D MFPT of a Problem's SGD SDE
# ----------------------------------------------------------------------------------------------
def problem_mfpt_1d(problem, *, reflecting: float | None = None, absorbing: float | None = None,
                    convention: str = "ito", n_intervals: int = 20000):
    """Exact MFPT of an overdamped 1-D problem by quadrature: moved to
    :func:`sim.exact.adapters.mfpt_1d` (the adapters from a Problem to the exact models); kept here
    as an alias."""
    from .exact.adapters import mfpt_1d

    return mfpt_1d(problem, reflecting=reflecting, absorbing=absorbing, convention=convention,
                   n_intervals=n_intervals)


#: Broadie–Glasserman–Kou constant, :math:`-\zeta(1/2)/\sqrt{2\pi}`.
CONTINUITY_CORRECTION = 0.5825971579390106


def discrete_monitoring_shift(problem, x=None) -> np.ndarray:
    r"""How far discrete exit monitoring effectively moves flat walls outward, per axis.

    A simulation that checks the exit only every ``dt`` detects a crossing late; for a diffusion
    this equals moving each flat wall outward by :math:`0.5826\,\sigma_n\sqrt{dt}`, where
    :math:`\sigma_n^2 = 2 D_{nn}` is the diffusion across the wall (Broadie, Glasserman, Kou, "A
    continuity correction for discrete barrier options", Mathematical Finance 7, 1997).  Use it to
    move the walls of a grid solver's domain when comparing its MFPT with Monte Carlo; the
    remaining error is of higher order in ``dt``.

    Parameters
    ----------
    problem : Problem
        With an overdamped SDE (``problem.overdamped_coefficients()``).
    x : array_like, optional
        Where :math:`D` is evaluated (default: the start).

    Returns
    -------
    ndarray, shape (dim,)
        The shift for walls normal to each axis.
    """
    _, diffusion = problem.overdamped_coefficients()
    x = problem.x0 if x is None else np.asarray(x, dtype=float)
    d = np.asarray(diffusion(x[None, :] if problem.dim > 1 else x[:1]), dtype=float)
    d_nn = np.diagonal(d[0]) if problem.dim > 1 else d[:1]
    return CONTINUITY_CORRECTION * np.sqrt(2.0 * d_nn * problem.dynamics.dt)
