r"""A1: AdaMod (Ding et al.) — step bound, relation to Adam, escape like Adam.

AdaMod (docs/theory.md section 3): Adam's m, v; per-coordinate step
:math:`\eta_k = \eta\sqrt{1-\beta_2^k}/((1-\beta_1^k)(\sqrt{v_k}+\epsilon))`; smoothed bound
:math:`s_k = \beta_3 s_{k-1} + (1-\beta_3)\eta_k`, :math:`s_0 = 0`; update
:math:`\theta \leftarrow \theta - \min(\eta_k, s_k)\,m_k`.

(i) **β₃ = 0 is Adam up to ε.** Then :math:`s_k = \eta_k` and the step is :math:`\eta_k m_k`;
Adam's is :math:`\eta\hat m/(\sqrt{\hat v}+\epsilon) = \eta\sqrt{1-\beta_2^k}\,m/((1-\beta_1^k)
(\sqrt v + \epsilon\sqrt{1-\beta_2^k}))`. The ratio AdaMod/Adam is

.. math::

    \frac{\sqrt{v_k} + \epsilon\sqrt{1-\beta_2^k}}{\sqrt{v_k} + \epsilon}
    = 1 - \frac{\epsilon\,(1 - \sqrt{1-\beta_2^k})}{\sqrt{v_k}+\epsilon},

exactly 1 when ε = 0; the relative difference is at most :math:`\epsilon/(\sqrt{v_k}+\epsilon)
\approx \epsilon/\sqrt{v_k}` and decays to 0 as the bias correction :math:`\to 1`.

(ii) **Automatic warm-up.** :math:`s_k = (1-\beta_3)\sum_{j\le k}\beta_3^{k-j}\eta_j
\le (1-\beta_3)\sum_{j\le k}\beta_3^{k-j}\max_{j\le k}\eta_j = (1-\beta_3^k)\max_{j\le k}\eta_j`,
so every step obeys :math:`|\Delta\theta_k| \le s_k|m_k|`: a warm-up with memory
:math:`1/(1-\beta_3)` iterations.

(iii) No-warm-up / insensitivity to η over two orders of magnitude is an **empirical** claim of
[AdaMod]; it is measured by the validation, not assumed here.

(iv) **Project extension.** At quasi-stationarity :math:`s_k \to E[\eta_k]` and
:math:`\min(\eta_k, s_k)` differs from :math:`\eta_k` only on fluctuations, so the continuous
model is Adam's and the escape exponent is :math:`E_{Adam}` (Proposition 2), not :math:`E_{SGD}`.

References
----------
docs/theory.md section 5, A1; section 3 (AdaMod update).
J. Ding, X. Ren, R. Luo, X. Sun, "An Adaptive and Momental Bound Method for Stochastic
Learning", arXiv 1910.12249.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia", ICML 2022, arXiv 2006.15815.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks, prop2
from .core import TheoryEntry, register

__all__ = ["smoothed_step_sizes", "step_size_bound", "adam_step_ratio", "exponent",
           "escape_time", "FORMULAS", "ENTRY"]

_b3, _b2 = sp.symbols("beta_3 beta_2", positive=True)
_k, _j = sp.symbols("k j", positive=True, integer=True)
_sv, _eps = sp.symbols("sqrt_v epsilon", positive=True)

FORMULAS = {
    "warmup_weight": (1 - _b3) * sp.Sum(_b3 ** (_k - _j), (_j, 1, _k)),
    "warmup_weight_closed": 1 - _b3**_k,
    "adam_step_ratio": (_sv + _eps * sp.sqrt(1 - _b2**_k)) / (_sv + _eps),
    "exponent": prop2.FORMULAS["exponent"],
}


def _step_sequence(step_sizes, beta3):
    eta = _checks.nonnegative("step_sizes", step_sizes)
    if eta.ndim == 0:
        raise ValueError("step_sizes must have a leading iteration axis (k = 1, 2, ...)")
    beta3 = _checks.unit_interval("beta3", beta3)
    return eta, float(beta3)


def smoothed_step_sizes(step_sizes, beta3) -> np.ndarray:
    r"""Exact :math:`s_k = \beta_3 s_{k-1} + (1-\beta_3)\eta_k`, :math:`s_0 = 0` (a deterministic
    recursion on given :math:`\eta_k`), shape of ``step_sizes`` (iterations on axis 0)."""
    eta, beta3 = _step_sequence(step_sizes, beta3)
    out = np.empty_like(eta)
    acc = np.zeros(eta.shape[1:])
    for k in range(eta.shape[0]):
        acc = beta3 * acc + (1.0 - beta3) * eta[k]
        out[k] = acc
    return out


def step_size_bound(step_sizes, beta3) -> np.ndarray:
    r"""Bound (ii): :math:`(1-\beta_3^k)\max_{j\le k}\eta_j \ge s_k`, shape of ``step_sizes``.

    Parameters
    ----------
    step_sizes : array_like, shape (K, ...)
        :math:`\eta_1, \dots, \eta_K` (per coordinate on trailing axes).
    beta3 : float
        In [0, 1).
    """
    eta, beta3 = _step_sequence(step_sizes, beta3)
    k = np.arange(1, eta.shape[0] + 1).reshape((-1,) + (1,) * (eta.ndim - 1))
    return (1.0 - beta3**k) * np.maximum.accumulate(eta, axis=0)


def adam_step_ratio(v, k, beta2, eps) -> np.ndarray:
    r"""(i): AdaMod(β₃ = 0) step / Adam step :math:`= (\sqrt{v} + \epsilon\sqrt{1-\beta_2^k})/(\sqrt v + \epsilon)`.

    ``v`` is AdaMod's (uncorrected) second moment, ``k`` ≥ 1 the iteration.
    """
    v = _checks.nonnegative("v", v)
    k = _checks.positive("k", k)
    beta2 = _checks.unit_interval("beta2", beta2)
    eps = _checks.nonnegative("eps", eps)
    sv = np.sqrt(v)
    if np.any(sv + eps == 0):
        raise ValueError("v and eps: sqrt(v) + eps must be > 0")
    return (sv + eps * np.sqrt(1.0 - beta2**k)) / (sv + eps)


def exponent(H_ae, H_be, delta_L, lr, batch_size, s=None) -> np.ndarray:
    r"""(iv): AdaMod's escape exponent, :math:`E_{Adam}` (:func:`theory.prop2.exponent`)."""
    return prop2.exponent(H_ae, H_be, delta_L, lr, batch_size, s)


def escape_time(H_ae, H_be, delta_L, lr, batch_size, beta1=0.0, s=None) -> np.ndarray:
    r"""(iv): AdaMod's escape time at quasi-stationarity = Adam's (:func:`theory.prop2.escape_time`)."""
    return prop2.escape_time(H_ae, H_be, delta_L, lr, batch_size, beta1, s)


def epsilon_ratio(v, k, beta2, eps):
    r"""Small parameter of (i): :math:`\epsilon/(\sqrt v + \epsilon)`."""
    v = _checks.nonnegative("v", v)
    return _checks.nonnegative("eps", eps) / (np.sqrt(v) + eps)


ENTRY = register(
    TheoryEntry(
        id="adamod-a1",
        title="AdaMod: Adam up to ε at β₃ = 0, automatic warm-up bound, escapes like Adam",
        statement=(
            "(i) β₃ = 0 reproduces Adam step for step, exactly when ε = 0 and to relative "
            "ε(1−√(1−β₂ᵏ))/(√v+ε) ≤ ε/√v otherwise (AdaMod adds ε to √v, Adam to √v̂). "
            "(ii) Every step obeys |Δθ_k| ≤ s_k|m_k| with s_k ≤ (1−β₃ᵏ) max_{j≤k} η_j: an "
            "automatic warm-up with memory 1/(1−β₃). (iii) Insensitivity to η and no need for "
            "warm-up are empirical claims, measured not assumed. (iv) Project extension: at "
            "quasi-stationarity AdaMod escapes minima like Adam (exponent E_Adam), not like SGD."
        ),
        assumptions=(
            "Update rule of the published implementation (docs/theory.md §3): s₀ = 0, no bias "
            "correction of s, ε added to √v.",
            "(iv): quasi-stationary s_k ≈ E[η_k] so the bound is inactive; Proposition 2's "
            "assumptions.",
        ),
        formulas=FORMULAS,
        functions={"smoothed_step_sizes": smoothed_step_sizes, "step_size_bound": step_size_bound,
                   "adam_step_ratio": adam_step_ratio, "exponent": exponent,
                   "escape_time": escape_time},
        validity=(
            "(i) and (ii) are exact statements about the update rule. (iv) requires the escape "
            "to be slow compared with 1/(1−β₃) iterations and Proposition 2's small parameters."
        ),
        small_parameters={"epsilon_ratio": epsilon_ratio},
        source=("Ding, Ren, Luo, Sun, An Adaptive and Momental Bound Method for Stochastic "
                "Learning, arXiv 1910.12249, Section 3 (AdaMod); (iv) is a project extension of "
                "Xie et al., arXiv 2006.15815, Proposition 2"),
        constants=(
            "(i) exact ratio and (ii) bound derived here; (iv) is the project's extension "
            "(project form), with Proposition 2's constants."
        ),
    )
)
