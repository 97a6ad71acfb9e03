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

(v) **Project result: the bound delays escape; prediction.**  Write the bound as a learning-rate
multiplier: :math:`q_k = \min(\eta_k, s_k)/\eta_k \in (0, 1]`.  Since :math:`\eta_k m_k` is Adam's
step (up to ε, (i)), **AdaMod is exactly Adam with the per-step learning rate** :math:`q_k\eta`.
Proof sketch of the prediction, in the noise-dominated regime (:math:`|\nabla L|^2 \ll C =
\sigma^2`, true near a minimum at low temperature):

1. *Time change.*  Adam's continuous model at learning rate :math:`\eta' = q\eta`, read in the
   time :math:`t = k\eta` of the unmodified optimizer, has drift :math:`q` times and diffusion
   :math:`q^2\eta/2` times Adam's: it is Adam's model at :math:`\eta'` run at speed :math:`q`.
   Its escape hazard is :math:`h(q) = q/\tau_{Adam}(q\eta)` (:math:`\tau_{Adam}(\eta')` in the
   time units of :math:`\eta'`), with exponent :math:`E_{Adam}/q`.
2. *Mean field.*  With :math:`v_k \approx \sigma^2(1-\beta_2^k)`,
   :math:`\eta_j \approx \eta/(\sigma(1-\beta_1^j))`, so
   :math:`\mu_k = \bar s_k/\bar\eta_k = (1-\beta_1^k)(1-\beta_3)\sum_{j\le k}\beta_3^{k-j}/(1-\beta_1^j)`
   (:func:`bound_ratio_mean_field`), :math:`\mu_k \approx 1-\beta_3^k`: the bound is a
   **warm-up of** :math:`1/(1-\beta_3)` **iterations**, active from :math:`s_0 = 0`.
3. *Fluctuations (Jensen on the EMA).*  :math:`v_k = \sigma^2(1+\delta_k)`,
   :math:`\delta_k = \sum_l a_l\zeta_{k-l}`, :math:`a_l = (1-\beta_2)\beta_2^l`, i.i.d.
   :math:`\zeta = g^2/\sigma^2 - 1` of variance :math:`\kappa_4 - 1` (2 for Gaussian noise).  To
   first order :math:`\eta_k \propto 1 - \delta_k/2` and :math:`s_k` is the EMA(β₃) of it, so
   :math:`Y = s_k/\eta_k - \mu_k \approx \tfrac12(\delta_k - \tilde\delta_k) = \tfrac12\sum_l
   (a_l - c_l)\zeta_{k-l}` with :math:`c_l = \sum_{i\le l}(1-\beta_3)\beta_3^i a_{l-i}`, a sum of
   many independent terms, hence Gaussian with (SymPy, ``FORMULAS["clip_variance"]``)

   .. math::

       \sigma_Y^2 = \frac{\kappa_4-1}{4}\sum_{l\ge0}(a_l-c_l)^2
       = \frac{(\kappa_4-1)\,\beta_3^2(1-\beta_2)^2}{2(1+\beta_2)(1+\beta_3)(1-\beta_2\beta_3)} .

   Then :math:`q_k = \min(1, \mu_k + Y)`; at stationarity the bound clips the larger half of the
   step sizes and :math:`E[1-q] = \sigma_Y/\sqrt{2\pi}` (:func:`clip_deficit`; 0.45 % at
   β₂ = β₃ = 0.999): the step size, hence the temperature, is lowered by Jensen's inequality on
   the EMA, but only by :math:`O(\sqrt{1-\beta_3})`.
4. *Adiabatic escape.*  :math:`\mu_k` changes on :math:`1/(1-\beta_3)` iterations and
   :math:`Y` on :math:`1/(1-\beta_2)`, both slow against the relaxation in the well, so the
   hazard is :math:`\bar h_k = E_Y[h(\min(1, \mu_k + Y))]` and the survival
   :math:`S(t) = \exp(-\eta\sum_{j\le t/\eta}\bar h_j)` (:func:`escape_time_with_bound`).
5. *Closed form of the delay.*  For an Arrhenius hazard ratio :math:`h(q)/h(1) =
   e^{-E(1/q-1)}`, :math:`q = 1-\beta_3^k` and a delay small against τ, the mean escape time is
   :math:`\tau_{Adam} + \Delta` with

   .. math::

       \Delta = \frac{\eta}{1-\beta_3}\int_0^1 \frac{1-e^{-Eu/(1-u)}}{u}\,du
       = \frac{\eta}{1-\beta_3}\bigl(\ln E + \gamma + e^{E}E_1(E)\bigr)

   (:func:`warmup_delay`; substitute :math:`w = u/(1-u)`; the antiderivative is checked by
   SymPy, ``FORMULAS["warmup_delay"]``): :math:`1/(1-\beta_3)` iterations times
   :math:`\ln E + \gamma + \dots`, about 1.9 at :math:`E = 3`, not 1.  Relative to
   :math:`\tau_{Adam}` the delay grows as the barrier falls, which also lowers the slope of
   :math:`\log\tau` against :math:`1/\sqrt\kappa`.  Neglected: the heavy tail of
   :math:`\eta_1 \propto 1/|g_1|` (under 1 % of paths start with an inactive bound) and
   :math:`E[1/\sqrt{\hat v_k}] - 1/\sigma = O(1/k)`, both early and negligible.

References
----------
docs/theory.md section 5, A1; section 3 (AdaMod update).
J. Ding, X. Ren, R. Luo, X. Sun, "An Adaptive and Momental Bound Method for Stochastic
Learning", arXiv 1910.12249.
Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama, "Adaptive Inertia", ICML 2022, arXiv 2006.15815.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import _checks, prop2
from .core import TheoryEntry, register

__all__ = ["smoothed_step_sizes", "step_size_bound", "adam_step_ratio", "exponent",
           "escape_time", "bound_ratio_mean_field", "clip_sd", "clip_deficit", "warmup_delay",
           "escape_time_with_bound", "BoundedEscape", "adiabatic_parameter", "FORMULAS", "ENTRY"]

_b3, _b2 = sp.symbols("beta_3 beta_2", positive=True)
_k, _j = sp.symbols("k j", positive=True, integer=True)
_sv, _eps = sp.symbols("sqrt_v epsilon", positive=True)

_l = sp.symbols("l", integer=True, nonnegative=True)
_kurt, _E, _u = sp.symbols("kappa_4 E u", positive=True)

FORMULAS = {
    "warmup_weight": (1 - _b3) * sp.Sum(_b3 ** (_k - _j), (_j, 1, _k)),
    "warmup_weight_closed": 1 - _b3**_k,
    "adam_step_ratio": (_sv + _eps * sp.sqrt(1 - _b2**_k)) / (_sv + _eps),
    "exponent": prop2.FORMULAS["exponent"],
    # (v) 3: the weights of δ_k (a_l), of its EMA(β₃) (c_l), and Var Y = (κ₄−1)/4 Σ (a_l − c_l)².
    "clip_a": (1 - _b2) * _b2**_l,
    "clip_c": (1 - _b3) * (1 - _b2) * (_b2 ** (_l + 1) - _b3 ** (_l + 1)) / (_b2 - _b3),
    "clip_variance": (_kurt - 1) * _b3**2 * (1 - _b2) ** 2
    / (2 * (1 + _b2) * (1 + _b3) * (1 - _b2 * _b3)),
    # (v) 5: Δ(1−β₃)/η as a function of E, and the integrand in w = u/(1−u).
    "warmup_delay": sp.log(_E) + sp.EulerGamma + sp.exp(_E) * sp.expint(1, _E),
    "warmup_delay_integrand": (1 - sp.exp(-_E * _u)) / (_u * (1 + _u)),
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


def adiabatic_parameter(relaxation_time, lr, beta3):
    r"""Small parameter of (v): relaxation time in the well over the warm-up time
    :math:`\eta/(1-\beta_3)`."""
    t = _checks.positive("relaxation_time", relaxation_time)
    return t * (1 - _checks.unit_interval("beta3", beta3)) / _checks.positive("lr", lr)


def epsilon_ratio(v, k, beta2, eps):
    r"""Small parameter of (i): :math:`\epsilon/(\sqrt v + \epsilon)`."""
    v = _checks.nonnegative("v", v)
    return _checks.nonnegative("eps", eps) / (np.sqrt(v) + eps)


# -- (v) the bound's delay ---------------------------------------------------------------------
def bound_ratio_mean_field(n_iterations, beta1, beta3, s0=0.0) -> np.ndarray:
    r"""(v) 2: :math:`\mu_k = \bar s_k/\bar\eta_k`, k = 1 … ``n_iterations``, in the noise-dominated
    mean field :math:`\eta_j = \eta/(\sigma(1-\beta_1^j))`.

    ``s0`` is the initial bound in units of :math:`\eta/\sigma` (0: the published
    initialisation; 1: a bound warm from the start).  Exact recursion
    :math:`\bar s_k = \beta_3\bar s_{k-1} + (1-\beta_3)/(1-\beta_1^k)`,
    :math:`\mu_k = (1-\beta_1^k)\bar s_k`; it tends to 1 (to :math:`1-\beta_3^k` when β₁ = 0).
    """
    from scipy.signal import lfilter

    n = int(_checks.positive("n_iterations", n_iterations))
    beta1 = float(_checks.unit_interval("beta1", beta1))
    beta3 = float(_checks.unit_interval("beta3", beta3))
    s0 = float(_checks.nonnegative("s0", s0))
    bc1 = -np.expm1(np.arange(1, n + 1) * np.log(beta1)) if beta1 > 0 else np.ones(n)
    s_bar = lfilter([1.0 - beta3], [1.0, -beta3], 1.0 / bc1, zi=[beta3 * s0])[0]
    return bc1 * s_bar


def clip_sd(beta2, beta3, kurtosis=3.0) -> np.ndarray:
    r"""(v) 3: :math:`\sigma_Y`, the stationary standard deviation of :math:`s_k/\eta_k - 1`
    (``FORMULAS["clip_variance"]``); ``kurtosis`` :math:`\kappa_4 = E g^4/\sigma^4` of the
    gradient noise (3: Gaussian)."""
    b2 = _checks.unit_interval("beta2", beta2)
    b3 = _checks.unit_interval("beta3", beta3)
    k4 = _checks.finite("kurtosis", kurtosis)
    if np.any(k4 < 1):
        raise ValueError(f"kurtosis must be >= 1, got {kurtosis!r}")
    return np.sqrt((k4 - 1) * b3**2 * (1 - b2) ** 2 / (2 * (1 + b2) * (1 + b3) * (1 - b2 * b3)))


def clip_deficit(beta2, beta3, kurtosis=3.0) -> np.ndarray:
    r"""(v) 3: stationary :math:`E[1 - q_k] = \sigma_Y/\sqrt{2\pi}`, the fraction of the step size
    (and of the temperature) that the bound removes once warm."""
    return clip_sd(beta2, beta3, kurtosis) / np.sqrt(2 * np.pi)


def warmup_delay(exponent, lr, beta3) -> np.ndarray:
    r"""(v) 5: :math:`\Delta = \eta(\ln E + \gamma + e^E E_1(E))/(1-\beta_3)`, the delay of the
    escape caused by the warm-up of the bound (continuous time), for an Arrhenius hazard and
    :math:`\Delta \ll \tau`."""
    from scipy.special import exp1

    e = _checks.positive("exponent", exponent)
    lr = _checks.positive("lr", lr)
    beta3 = _checks.unit_interval("beta3", beta3)
    return lr * (np.log(e) + np.euler_gamma + np.exp(e) * exp1(e)) / (1 - beta3)


@dataclass(frozen=True)
class BoundedEscape:
    r"""Prediction of :func:`escape_time_with_bound`.

    ``mean_time``: :math:`\int_0^\infty S`; ``censored_mean``: the expected censored-exponential
    estimate :math:`E[\min(T, t_{max})]/P(T \le t_{max})` (= ``mean_time`` without ``t_max``);
    ``adam_time``: :math:`\tau_{Adam}(\eta)`; ``ratio``: ``censored_mean / adam_time``;
    ``delay``: ``mean_time - adam_time``; ``stationary_factor``: hazard once warm over
    :math:`1/\tau_{Adam}(\eta)` (:math:`\approx 1 - (1+E)\,E[1-q]`)."""

    mean_time: float
    censored_mean: float
    adam_time: float
    ratio: float
    delay: float
    stationary_factor: float
    hazard: np.ndarray = field(repr=False, default=None)  # per iteration over the warm-up
    lr: float = field(repr=False, default=np.nan)

    def survival(self, t) -> np.ndarray:
        r"""Predicted :math:`S(t) = \exp(-\int_0^t \bar h)` (continuous time, array_like ``t``)."""
        t = _checks.nonnegative("t", t)
        cum = np.concatenate([[0.0], np.cumsum(self.hazard) * self.lr])
        edge = np.arange(cum.size) * self.lr
        h_inf = self.stationary_factor / self.adam_time
        lam = np.where(t <= edge[-1], np.interp(t, edge, cum), cum[-1] + h_inf * (t - edge[-1]))
        return np.exp(-lam)


def escape_time_with_bound(lr, beta1, beta2, beta3, adam_escape_time, t_max=None, s0=0.0,
                           kurtosis=3.0, n_grid=64) -> BoundedEscape:
    r"""(v) 4: AdaMod's mean escape time from Adam's, :math:`\tau_{Adam}(\eta')` given as a function.

    Parameters
    ----------
    lr, beta1, beta2, beta3 : float
        AdaMod's hyper-parameters.
    adam_escape_time : callable
        ``adam_escape_time(lrs)`` → Adam's mean escape time at each learning rate of the array
        ``lrs`` (:math:`0 < \eta' \le \eta`), in the continuous time of that learning rate
        (:math:`t = k\eta'`): an exact solver or a closed form.  It is tabulated at ``n_grid``
        multipliers :math:`q` and :math:`\log\tau` is interpolated linearly in :math:`1/q`
        (Arrhenius), extrapolated below the table.
    t_max : float, optional
        Censoring time of the estimate to predict.
    s0 : float
        Initial bound in units of :math:`\eta/\sigma` (0: published).
    kurtosis : float
        :math:`E g^4/\sigma^4` of the noise (3: Gaussian).

    Returns
    -------
    BoundedEscape
    """
    from scipy.special import ndtr

    lr = float(_checks.positive("lr", lr))
    beta2 = float(_checks.unit_interval("beta2", beta2))
    beta3 = float(_checks.unit_interval("beta3", beta3))
    if not callable(adam_escape_time):
        raise ValueError("adam_escape_time must be a callable lrs -> escape times")
    n_grid = int(_checks.positive("n_grid", n_grid))
    if n_grid < 8:
        raise ValueError(f"n_grid must be >= 8, got {n_grid}")
    q_tab = np.geomspace(0.02, 1.0, n_grid)
    tau_tab = _checks.positive("adam_escape_time(lrs)", adam_escape_time(lr * q_tab))
    tau_tab = np.broadcast_to(tau_tab, q_tab.shape)
    tau1 = float(tau_tab[-1])
    slope = np.polyfit(1 / q_tab[:2], np.log(tau_tab[:2]), 1)[0]

    def hazard(q):  # h(q) = q / τ(qη), log τ linear in 1/q (extrapolated below the table); h(0) = 0
        q = np.asarray(q, float)
        qs = np.maximum(q, 1e-300)
        log_tau = np.interp(-1 / qs, -1 / q_tab, np.log(tau_tab))
        low = qs < q_tab[0]
        log_tau = np.where(low, np.log(tau_tab[0]) + slope * (1 / qs - 1 / q_tab[0]), log_tau)
        return np.where(q > 0, qs * np.exp(-np.minimum(log_tau, 700.0)), 0.0)

    # E_Y[h(min(1, μ + Y))], Y ~ N(0, σ_Y²), tabulated in μ: Gauss–Legendre over Y ∈ [−8σ_Y, 1 − μ]
    # (where q = μ + Y < 1), plus h(1) P(Y ≥ 1 − μ).
    sd = float(clip_sd(beta2, beta3, kurtosis))
    mu_tab = np.linspace(0.0, 1.0 + 8 * sd, 1025)
    if sd > 0:
        x, wx = np.polynomial.legendre.leggauss(64)
        lo = -8 * sd
        hi = np.clip(1.0 - mu_tab, lo, 8 * sd)[:, None]
        y = lo + (hi - lo) * (x + 1) / 2
        dens = np.exp(-0.5 * (y / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        h_mix = np.sum(wx * hazard(mu_tab[:, None] + y) * dens, axis=1) * (hi[:, 0] - lo) / 2
        h_mix += hazard(1.0) * ndtr((mu_tab - 1) / sd)
        h_inf = float(np.interp(1.0, mu_tab, h_mix))
    else:
        h_mix = hazard(np.minimum(mu_tab, 1.0))
        h_inf = float(hazard(1.0))
    # iterate until the mean field is within 1e-12 of 1; afterwards the hazard is h_inf
    n_warm = max(_iterations_to(1e-12, beta3), _iterations_to(1e-12, beta1))
    mu = bound_ratio_mean_field(n_warm, beta1, beta3, s0)
    h = np.interp(np.minimum(mu, mu_tab[-1]), mu_tab, h_mix)
    mean_all, _ = _survival_integral(h, h_inf, lr, np.inf)
    if t_max is None:
        censored = mean_all
    else:
        area, s_end = _survival_integral(h, h_inf, lr, float(_checks.positive("t_max", t_max)))
        censored = area / (1 - s_end)
    return BoundedEscape(mean_time=mean_all, censored_mean=censored, adam_time=tau1,
                         ratio=censored / tau1, delay=mean_all - tau1, stationary_factor=h_inf * tau1,
                         hazard=h, lr=lr)


def _iterations_to(tol, beta):
    """Iterations until ``beta**k < tol`` (1 when β = 0)."""
    return int(np.ceil(np.log(tol) / np.log(beta))) + 1 if beta > 0 else 1


def _survival_integral(h, h_inf, dt, horizon):
    r""":math:`(\int_0^{T} S\,dt, S(T))` for a hazard ``h[k]`` constant on iteration k (length dt)
    and ``h_inf`` afterwards; :math:`S = \exp(-\int h)`."""
    n = int(min(len(h), np.floor(horizon / dt))) if np.isfinite(horizon) else len(h)
    h = h[:n]
    cum = np.concatenate([[0.0], np.cumsum(h) * dt])
    s_start = np.exp(-cum[:-1])
    safe = np.where(h > 0, h, 1.0)
    area = float(np.sum(np.where(h > 0, s_start * -np.expm1(-h * dt) / safe, s_start * dt)))
    s_n = float(np.exp(-cum[-1]))
    rest = horizon - n * dt
    if not np.isfinite(rest):
        return area + s_n / h_inf, 0.0
    return area + s_n * -np.expm1(-h_inf * rest) / h_inf, s_n * float(np.exp(-h_inf * rest))


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
            "quasi-stationarity AdaMod escapes minima like Adam (exponent E_Adam), not like SGD. "
            "(v) Project result: AdaMod is Adam with the learning-rate multiplier q_k = "
            "min(η_k, s_k)/η_k; from s₀ = 0 the bound is a warm-up of 1/(1−β₃) iterations that "
            "delays escape by Δ ≈ η(ln E + γ + e^E E₁(E))/(1−β₃), and once warm it clips the "
            "larger half of the fluctuating step sizes, E[1−q] = σ_Y/√(2π) (Jensen on the EMA), "
            "lowering the escape rate by ≈ (1+E)E[1−q]; the mean escape time follows from "
            "Adam's τ(η') by the adiabatic hazard q/τ_Adam(qη)."
        ),
        assumptions=(
            "Update rule of the published implementation (docs/theory.md §3): s₀ = 0, no bias "
            "correction of s, ε added to √v.",
            "(iv): quasi-stationary s_k ≈ E[η_k] so the bound is inactive; Proposition 2's "
            "assumptions.",
            "(v): noise-dominated gradients (|∇L|² ≪ C) so v_k ≈ σ²; q_k varies slowly against "
            "the relaxation in the well (adiabatic hazard); stationary Gaussian law of "
            "Y = s_k/η_k − μ_k (first order in the v fluctuations).",
        ),
        formulas=FORMULAS,
        functions={"smoothed_step_sizes": smoothed_step_sizes, "step_size_bound": step_size_bound,
                   "adam_step_ratio": adam_step_ratio, "exponent": exponent,
                   "escape_time": escape_time, "bound_ratio_mean_field": bound_ratio_mean_field,
                   "clip_sd": clip_sd, "clip_deficit": clip_deficit, "warmup_delay": warmup_delay,
                   "escape_time_with_bound": escape_time_with_bound},
        validity=(
            "(i) and (ii) are exact statements about the update rule. (iv) requires the escape "
            "to be slow compared with 1/(1−β₃) iterations and Proposition 2's small parameters. "
            "(v) requires the relaxation time in the well to be short against the warm-up "
            "(adiabatic_parameter) and the v fluctuations to be small (σ_Y ≪ 1); its error is "
            "about one relaxation time of delay."
        ),
        small_parameters={"epsilon_ratio": epsilon_ratio, "adiabatic_parameter": adiabatic_parameter},
        source=("Ding, Ren, Luo, Sun, An Adaptive and Momental Bound Method for Stochastic "
                "Learning, arXiv 1910.12249, Section 3 (AdaMod); (iv) is a project extension of "
                "Xie et al., arXiv 2006.15815, Proposition 2"),
        constants=(
            "(i) exact ratio and (ii) bound derived here; (iv) is the project's extension "
            "(project form), with Proposition 2's constants; (v) is the project's (not in "
            "[AdaMod])."
        ),
    )
)
