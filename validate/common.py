"""Helpers shared by several validation modules (moment records, eigen-direction variances)."""
from __future__ import annotations

import numpy as np

from .records import CheckRecord
from .stats import Z_SIGMA, covariance_standard_error, mean_standard_error

__all__ = ["moment_records", "eigen_variances"]


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
                       + (f" + exact integrator bias |Σ_scheme−Σ| (≤ {bias_se:.2f} SE)" if bias_se > 0 else "")),
            note=f"trace Σ̂ = {np.trace(res.cov[i]):.5g}, exact {np.trace(exact_cov[i]):.5g}"))
    return records


def eigen_variances(cov, u):
    """Variances along the columns of ``u`` of covariances ``(n_t, d, d)``: ``(n_t, d)``."""
    return np.einsum("ki,tkl,li->ti", u, cov, u)
