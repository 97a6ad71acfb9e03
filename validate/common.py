"""Helpers shared by several validation modules (moment records, eigen-direction variances)."""
from __future__ import annotations

import numpy as np

from .records import CheckRecord
from .stats import Z_SIGMA, covariance_standard_error, mean_standard_error

__all__ = ["moment_records", "eigen_variances", "scheme_bias_estimate", "sde_vs_exact"]


def moment_records(result_id, res, exact_mean, exact_cov, bias_mean, bias_cov, comparison):
    """One record per save time: every covariance and mean entry within Z SE + admitted bias."""
    records = []
    se_c = covariance_standard_error(exact_cov, res.n_alive)
    se_m = mean_standard_error(exact_cov, res.n_alive)
    for i, t in enumerate(res.times):
        if t == 0:
            continue
        tol_c = Z_SIGMA * se_c[i] + np.abs(bias_cov[i])
        tol_m = Z_SIGMA * se_m[i] + np.abs(bias_mean[i])
        ratio = max(np.max(np.abs(res.cov[i] - exact_cov[i]) / tol_c),
                    np.max(np.abs(res.mean[i] - exact_mean[i]) / tol_m))
        bias_se = float(np.max(np.abs(bias_cov[i]) / se_c[i]))
        records.append(CheckRecord(
            result_id, comparison, f"t={t:g}: max |error|/tol over Σ and mean entries",
            measured=ratio, predicted=0.0, interval=(0.0, 1.0),
            tolerance=(f"tol = {Z_SIGMA:g} SE (Gaussian: Var Σ̂_ij = (Σ_iiΣ_jj+Σ_ij²)/(n−1), n={res.n_alive[i]})"
                       + (f" + the integrator's bias, Richardson-estimated from the scheme's exact moments at dt "
                          f"and dt/2 (≤ {bias_se:.2f} SE)" if bias_se > 0 else "")),
            note=f"trace Σ̂ = {np.trace(res.cov[i]):.5g}, exact {np.trace(exact_cov[i]):.5g}"))
    return records


def scheme_bias_estimate(problem, steps):
    r"""Richardson estimate of the integration scheme's bias in the moments, from the scheme alone.

    With weak order :math:`p`, :math:`m_{dt} - m = c\,dt^p + \dots`, so
    :math:`m_{dt} - m \approx (m_{dt} - m_{dt/2})\,2^p/(2^p - 1)`, computed from the exact moments of
    the scheme at ``dt`` and ``dt/2`` (:func:`sim.exact_scheme_moments`).  It does not use the exact
    solution of the SDE, so an error there can never widen the tolerance that tests it.
    Returns ``(bias_mean, bias_cov)`` at the given steps.
    """
    from optdyn import sim

    dyn = problem.dynamics
    p = dyn.weak_order
    half = problem.replace(dynamics=dyn.with_dt(dyn.dt / 2), initial_state=problem.initial_state)
    m1, c1 = sim.exact_scheme_moments(problem, steps)
    m2, c2 = sim.exact_scheme_moments(half, 2 * np.asarray(steps))
    factor = 2.0**p / (2.0**p - 1.0)
    return (m1 - m2) * factor, (c1 - c2) * factor


def sde_vs_exact(result_id, problem, res, comparison):
    """Records of an SDE Monte Carlo ``res`` against the exact moments of the SDE itself, with the
    scheme's bias (Richardson, :func:`scheme_bias_estimate`) admitted."""
    from optdyn import sim

    mean, cov = sim.exact_sde_moments(problem, res.times)
    bias_m, bias_c = scheme_bias_estimate(problem, res.steps)
    return moment_records(result_id, res, mean, cov, bias_m, bias_c, comparison)


def eigen_variances(cov, u):
    """Variances along the columns of ``u`` of covariances ``(n_t, d, d)``: ``(n_t, d)``."""
    return np.einsum("ki,tkl,li->ti", u, cov, u)
