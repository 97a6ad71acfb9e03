r"""Statistics shared by the checks: standard errors, tests and regressions with intervals.

Every tolerance in :mod:`validate` is built from these pieces, so the report can say where it came
from: ``Z_SIGMA`` standard errors (two-sided Gaussian tail probability ≈ 6.3e-5 per comparison),
plus the model error a theory or an integrator admits, computed separately.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["Z_SIGMA", "KS_ALPHA", "covariance_standard_error", "mean_standard_error",
           "ks_gaussian", "weighted_slope", "bootstrap_median_se", "local_slopes"]

#: Standard errors allowed in every Monte Carlo comparison (per-comparison false alarm ≈ 6.3e-5).
Z_SIGMA = 4.0
#: Family-wise level of the Kolmogorov–Smirnov tests of one check (Bonferroni-split).
KS_ALPHA = 1e-3


def covariance_standard_error(cov: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    r"""Standard error of the sample covariance of ``n`` Gaussian draws with covariance ``cov``.

    For Gaussian data :math:`\operatorname{Var}\hat\Sigma_{ij} = (\Sigma_{ii}\Sigma_{jj} + \Sigma_{ij}^2)/(n-1)`.
    ``cov`` is ``(..., d, d)``; ``n`` broadcasts against the leading axes.
    """
    d = np.einsum("...ii->...i", cov)
    var = (d[..., :, None] * d[..., None, :] + cov**2) / (np.asarray(n, float)[..., None, None] - 1.0)
    return np.sqrt(var)


def mean_standard_error(cov: np.ndarray, n) -> np.ndarray:
    """Standard error of the sample mean, ``(..., d)``."""
    return np.sqrt(np.einsum("...ii->...i", cov) / np.asarray(n, float)[..., None])


def ks_gaussian(samples: np.ndarray, sd: float) -> float:
    """p-value of the KS test of ``samples`` against N(0, sd²)."""
    return float(stats.kstest(samples / sd, "norm").pvalue)


def bootstrap_median_se(x: np.ndarray, rng: np.random.Generator, n_boot: int = 400) -> float:
    """Bootstrap standard error of the sample median."""
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    return float(np.std(np.median(x[idx], axis=1), ddof=1))


def weighted_slope(x: np.ndarray, y: np.ndarray, y_se: np.ndarray) -> tuple[float, float, float]:
    r"""Weighted least-squares line :math:`y = a + b x` with known errors ``y_se``.

    Returns ``(b, se_b, a)``, :math:`\operatorname{se}_b` from the given errors (not the residuals),
    so it is a genuine sampling error even with few points.
    """
    w = 1.0 / np.asarray(y_se, float) ** 2
    X = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    a, b = cov @ X.T @ (w * y)
    return float(b), float(np.sqrt(cov[1, 1])), float(a)


def local_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Slopes between consecutive points (x sorted ascending)."""
    return np.diff(y) / np.diff(x)
