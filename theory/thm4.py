r"""Theorem 4 (project form): momentum with noise-independent inertia converges; released Adai's
inertia, which depends on the current gradient, biases it under skewed noise.

**Setting.**  :math:`L` is :math:`\mathcal L`-smooth (:math:`\|\nabla L(x) - \nabla L(y)\| \le
\mathcal L\|x-y\|`) with :math:`L^* = \inf L > -\infty`; stochastic gradients
:math:`g_t = \nabla L(\theta_t) + \xi_t` with :math:`\|g_t\|_\infty \le G` almost surely; momentum

.. math::
    m_t = \beta_t\odot m_{t-1} + (1-\beta_t)\odot g_t,\quad m_0 = 0,\quad
    \theta_{t+1} = \theta_t - \eta_t m_t,

inertia :math:`\beta_t \in [0, 1-\epsilon]^n` **independent of the noise** (the sequence
:math:`(\beta_t)` is independent of :math:`(\xi_t)`, and :math:`E[\xi_s \mid \mathcal F_{s-1},
(\beta_t)] = 0`), :math:`\eta_t` non-increasing.

**Theorem.**

.. math::
    \sum_{t=1}^T \eta_t E\|\nabla L(\theta_t)\|^2 \le L(\theta_1) - L^*
    + \eta_1 nG^2\frac{1-\epsilon}{\epsilon}
    + n\mathcal L G^2\Big(\frac12 + \frac{3(1-\epsilon)}{\epsilon^2}\Big)\sum_{t=1}^T\eta_t^2,

so for :math:`\eta_t = \eta_0/\sqrt t` (:math:`\sum_{t\le T}\eta_t \ge 2\eta_0(\sqrt{T+1}-1)`,
:math:`\sum\eta_t^2 \le \eta_0^2(1+\ln T)`)

.. math::
    \min_{t\le T} E\|\nabla L(\theta_t)\|^2 \le
    \frac{(L(\theta_1)-L^*)/\eta_0 + nG^2(1-\epsilon)/\epsilon
          + \eta_0 n\mathcal L G^2(\tfrac12 + 3(1-\epsilon)/\epsilon^2)(1+\ln T)}{2(\sqrt{T+1}-1)}
    = O\Big(\frac{\log T}{\sqrt T}\Big).

**Proof sketch.**  (i) Descent lemma: :math:`L(\theta_{t+1}) \le L(\theta_t) - \eta_t\langle\nabla
L_t, m_t\rangle + \tfrac{\mathcal L}2\eta_t^2\|m_t\|^2`, and :math:`\|m_t\|^2 \le nG^2` (each
:math:`m_{t,i}` is a sub-convex combination of :math:`g_{s,i}`).  (ii) Unroll
:math:`m_t = \sum_{s\le t} w_{t,s}\odot g_s`, :math:`w_{t,s} = (1-\beta_s)\prod_{r=s+1}^t\beta_r
\le (1-\epsilon)^{t-s}`, :math:`\sum_s w_{t,s} = 1 - \prod_{r\le t}\beta_r \ge 1 - (1-\epsilon)^t`.
(iii) Split :math:`g_s = \nabla L_t + (\nabla L_s - \nabla L_t) + \xi_s`.  The first part gives
:math:`\ge (1-(1-\epsilon)^t)\|\nabla L_t\|^2`; the deficit :math:`\sum_t \eta_t(1-\epsilon)^t
\|\nabla L_t\|^2 \le \eta_1 nG^2 (1-\epsilon)/\epsilon` (:math:`\|\nabla L\|_\infty \le G`).
(iv) Lag: :math:`|\langle\nabla L_t, w_{t,s}\odot(\nabla L_s - \nabla L_t)\rangle| \le
(1-\epsilon)^{k}\sqrt nG\,\mathcal L\,k\eta_s\sqrt nG` with :math:`k = t-s`
(:math:`\|\theta_t-\theta_s\| \le k\eta_s\sqrt nG`, :math:`\eta` non-increasing).
(v) Noise: :math:`E\langle\nabla L_s, w_{t,s}\odot\xi_s\rangle = 0` **because** :math:`w_{t,s}` is
independent of :math:`\xi_s` and :math:`\nabla L_s` is :math:`\mathcal F_{s-1}`-measurable — the
step that fails for released Adai; the remainder :math:`\langle\nabla L_t - \nabla L_s,
w_{t,s}\odot\xi_s\rangle` is a lag term with :math:`\|\xi_s\| \le 2\sqrt nG`, twice (iv).
(vi) Sum over :math:`t` with :math:`\eta_t\eta_s \le \eta_s^2` and
:math:`\sum_{k\ge1}k(1-\epsilon)^k = (1-\epsilon)/\epsilon^2` (SymPy, :data:`FORMULAS`): lag + noise
:math:`\le 3n\mathcal LG^2(1-\epsilon)/\epsilon^2\sum_s\eta_s^2`; telescope :math:`L(\theta_1) -
L(\theta_{T+1}) \le L(\theta_1) - L^*`.

**Bias-corrected variant** (:math:`\theta_{t+1} = \theta_t - \eta_t m_t/(1-\prod_{r\le t}\beta_r)`,
as Adai): the weights :math:`\hat w_{t,s} = w_{t,s}/(1-\prod\beta_r)` sum to 1 (no deficit term) but
are only bounded by :math:`(1-\epsilon)^{t-s}/\epsilon`, so

.. math::
    \sum_t\eta_t E\|\nabla L_t\|^2 \le L(\theta_1) - L^* + n\mathcal LG^2\Big(\frac12 +
    \frac{3(1-\epsilon)}{\epsilon^3}\Big)\sum_t\eta_t^2.

**Which constants are whose.**  [Adai] states an :math:`O(\log T/\sqrt T)` rate for Adai with
:math:`\eta_t \propto 1/\sqrt t` under these assumptions and the clip :math:`\beta_1 \le 1-\epsilon`;
its printed constants could not be read.  Every constant here (the :math:`(1-\epsilon)/\epsilon`
deficit, the factor 3, the :math:`\epsilon^{-3}` of the corrected form, the integral bounds of the
sums) is the project's own derivation.  The bound is a worst case: vacuous (above the trivial
:math:`nG^2`) at :math:`\epsilon = 10^{-3}`, informative from :math:`\epsilon \approx 0.3` with
:math:`n \le 10`.

**Proposition (released Adai is biased under skewed noise).**  Released Adai's inertia
:math:`\beta_{t,i} = \mathrm{clip}(1 - \beta_0\hat v_{t,i}/\bar v_t, 0, 1-\epsilon)` uses
:math:`v_t \ni (1-\beta_2)g_t^2`, so :math:`w_{t,s}` depends on :math:`\xi_s` and step (v) fails.
Freeze :math:`\theta` (the limit :math:`\eta_t \to 0`, in which the iterates follow the averaged
field): the chain :math:`(v_t, m_t)` with :math:`g_t = \nabla L(\theta) + \xi_t` is stationary with
:math:`\sum_s w_{t,s} \to 1`, and

.. math::
    M(\theta) := E_\theta[m_\infty] = \nabla L(\theta) + b(\theta),\qquad
    b(\theta) = E_\theta\Big[\sum_s w_{\infty,s}\odot\xi_s\Big]
    = E_\theta[m_\infty \text{ of the chain driven by } \xi \text{ with the inertia of } g],

so the iterates settle at zeros of :math:`M`: :math:`\nabla L(\theta^*) = -b(\theta^*)`, an
**additive**, :math:`\eta`-independent gradient bias.  :math:`b = 0` when the inertia is independent
of the noise (Theorem 4) and also when each :math:`\xi_i` is symmetric given the past and
independent across coordinates (the inertia sees :math:`\xi` only through :math:`\xi^2`, so
:math:`\xi \to -\xi` leaves :math:`w` unchanged and :math:`b = -b`); then the inertia only rescales the
effective rate (multiplicative).  For :math:`L = \tfrac h2\theta_1^2`, :math:`E\theta_1^* =
-b_1/h` and the plateau :math:`\min E\|\nabla L\|^2 \ge h^2 (E\theta_1^*)^2 = b_1^2 > 0`.
:func:`bias_fixed_point` evaluates it; :math:`b` is a stationary expectation of the frozen chain
(evaluated by ``validate/checks/thm4.py``).

References
----------
docs/theory.md §5 (Theorem 4, project form); Z. Xie, X. Wang, H. Zhang, I. Sato, M. Sugiyama,
"Adaptive Inertia: Disentangling the Effects of Adaptive Learning Rate and Momentum", ICML 2022,
arXiv 2006.15815 (the convergence theorem).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import _checks
from .core import TheoryEntry, register

__all__ = ["weighted_sum_bound", "min_grad_bound", "inv_sqrt_sums", "trivial_bound", "is_vacuous",
           "bound_log_slope", "bias_fixed_point", "FORMULAS", "ENTRY"]

# symbols: smoothness, gradient bound, dimension, clip, base rate, initial gap, horizon
Ls, G, eps, eta0, gap = sp.symbols("mathcal_L G epsilon eta_0 Delta", positive=True)
n, T, k = sp.symbols("n T k", positive=True, integer=True)
S1, S2 = sp.symbols("S_1 S_2", positive=True)  # Σ η_t and Σ η_t²
q = 1 - eps

#: Σ_{k≥1} q^k and Σ_{k≥1} k q^k, q = 1 - ε, summed by SymPy
SUM_GEOMETRIC = sp.simplify(sp.summation(q**k, (k, 1, sp.oo)).rewrite(sp.Piecewise).args[0][0])
SUM_K_GEOMETRIC = sp.simplify(sp.summation(k * q**k, (k, 1, sp.oo)).rewrite(sp.Piecewise).args[0][0])

_DEFICIT = n * G**2 * SUM_GEOMETRIC  # per η₁
_LAG_NOISE = 3 * n * Ls * G**2 * SUM_K_GEOMETRIC  # lag (1×) + noise remainder (2×)
_DESCENT = n * Ls * G**2 / 2

FORMULAS = {
    "sum_geometric": SUM_GEOMETRIC,
    "sum_k_geometric": SUM_K_GEOMETRIC,
    # Σ η_t E‖∇L‖² ≤ …  (η₁ = η₀ for the 1/√t schedule)
    "weighted_sum": gap + eta0 * _DEFICIT + (_DESCENT + _LAG_NOISE) * S2,
    "weighted_sum_corrected": gap + (_DESCENT + _LAG_NOISE / eps) * S2,
    "min_grad_inv_sqrt": (gap + eta0 * _DEFICIT + (_DESCENT + _LAG_NOISE) * eta0**2 * (1 + sp.log(T)))
    / (2 * eta0 * (sp.sqrt(T + 1) - 1)),
    "min_grad_inv_sqrt_corrected": (gap + (_DESCENT + _LAG_NOISE / eps) * eta0**2 * (1 + sp.log(T)))
    / (2 * eta0 * (sp.sqrt(T + 1) - 1)),
    "trivial": n * G**2,
}


def _args(smoothness, grad_bound, dim, eps_, gap_):
    return (_checks.positive("smoothness", smoothness), _checks.positive("grad_bound", grad_bound),
            _checks.positive("dim", dim), _check_eps(eps_), _checks.nonnegative("gap", gap_))


def _check_eps(value):
    v = float(value)
    if not (0.0 < v <= 1.0):
        raise ValueError(f"eps must lie in (0, 1] (the inertia is at most 1 - eps), got {value!r}")
    return v


def weighted_sum_bound(etas, *, smoothness, grad_bound, dim, eps, gap, corrected=False):
    r"""Right side of :math:`\sum_{t\le T}\eta_t E\|\nabla L_t\|^2 \le …` for the rates ``etas``
    (:math:`\eta_1 … \eta_T`, non-increasing), with the exact sums :math:`\sum\eta_t^2`."""
    lc, g, d, e, gp = _args(smoothness, grad_bound, dim, eps, gap)
    etas = np.asarray(etas, float)
    if etas.ndim != 1 or etas.size == 0 or np.any(etas <= 0) or np.any(np.diff(etas) > 0):
        raise ValueError("etas must be a non-empty, positive, non-increasing 1-D array")
    s2 = float(np.sum(etas**2))
    descent, lag = d * lc * g * g / 2, 3 * d * lc * g * g * (1 - e) / e**2
    if corrected:
        return gp + (descent + lag / e) * s2
    return gp + etas[0] * d * g * g * (1 - e) / e + (descent + lag) * s2


def inv_sqrt_sums(T):
    r"""``(lower bound of Σ_{t≤T} t^{-1/2}, upper bound of Σ_{t≤T} 1/t)``: :math:`2(\sqrt{T+1}-1)`,
    :math:`1 + \ln T`."""
    T = np.asarray(T, float)
    return 2.0 * (np.sqrt(T + 1.0) - 1.0), 1.0 + np.log(T)


def min_grad_bound(T, *, eta0, smoothness, grad_bound, dim, eps, gap, corrected=False):
    r"""The bound on :math:`\min_{t\le T}E\|\nabla L(\theta_t)\|^2` for :math:`\eta_t = \eta_0/\sqrt t`
    (module docstring), vectorised over ``T``."""
    lc, g, d, e, gp = _args(smoothness, grad_bound, dim, eps, gap)
    e0 = _checks.positive("eta0", eta0)
    s1, h = inv_sqrt_sums(T)
    descent, lag = d * lc * g * g / 2, 3 * d * lc * g * g * (1 - e) / e**2
    if corrected:
        num = gp / e0 + (descent + lag / e) * e0 * h
    else:
        num = gp / e0 + d * g * g * (1 - e) / e + (descent + lag) * e0 * h
    return num / s1


def trivial_bound(*, grad_bound, dim):
    r""":math:`nG^2 \ge \|\nabla L\|^2` (as :math:`\|\nabla L\|_\infty \le G`): a bound above it says nothing."""
    return _checks.positive("dim", dim) * _checks.positive("grad_bound", grad_bound) ** 2


def is_vacuous(T, **kw):
    """True where :func:`min_grad_bound` exceeds :func:`trivial_bound`."""
    return np.asarray(min_grad_bound(T, **kw)) >= trivial_bound(grad_bound=kw["grad_bound"], dim=kw["dim"])


def bound_log_slope(T, **kw):
    r""":math:`d\log B/d\log T` of :func:`min_grad_bound` at ``T`` (→ −½ as :math:`T\to\infty`, through
    the :math:`\log T/\sqrt T` of the bound); by a central difference in :math:`\log T`."""
    T = np.asarray(T, float)
    h = 1e-4
    return (np.log(min_grad_bound(T * np.exp(h), **kw)) - np.log(min_grad_bound(T * np.exp(-h), **kw))) / (2 * h)


def bias_fixed_point(bias, curvature=1.0):
    r"""Proposition: on :math:`L = \tfrac h2\theta_1^2` released Adai settles at
    :math:`E\theta_1^* = -b_1/h` (``bias`` = :math:`b_1`, the stationary mean momentum of the frozen
    noise-driven chain); returns ``(theta_star, grad_norm2_floor = b_1^2)``."""
    h = _checks.positive("curvature", curvature)
    b = float(bias)
    return -b / h, b * b


def eps_parameter(*, eps, **kw):
    """Small parameter of the informative regime: the clip's :math:`(1-ε)/ε²` factor."""
    e = _check_eps(eps)
    return (1 - e) / e**2


ENTRY = register(
    TheoryEntry(
        id="thm4",
        title="Momentum with noise-independent inertia converges at O(log T/√T); released Adai is biased under skewed noise",
        statement=(
            "For m_t = β_t⊙m_{t−1} + (1−β_t)⊙g_t, θ_{t+1} = θ_t − η_t m_t with inertia β_t ∈ [0, 1−ε]ⁿ "
            "independent of the gradient noise, L 𝓛-smooth, ‖g_t‖∞ ≤ G, η_t non-increasing: "
            "Σ η_t E‖∇L_t‖² ≤ L(θ₁) − L* + η₁nG²(1−ε)/ε + n𝓛G²(½ + 3(1−ε)/ε²)Σ η_t²; for η_t = η₀/√t, "
            "min_{t≤T} E‖∇L_t‖² ≤ [(L(θ₁)−L*)/η₀ + nG²(1−ε)/ε + η₀n𝓛G²(½ + 3(1−ε)/ε²)(1 + ln T)]/(2(√(T+1) − 1)). "
            "Bias-corrected m̂: no deficit term, 3(1−ε)/ε³. Released Adai (inertia from v ∋ g_t²): "
            "∇L(θ*) = −b(θ*), b the stationary mean momentum of the frozen noise-driven chain; b ≠ 0 "
            "under skewed noise, b = 0 for coordinate-wise symmetric noise."
        ),
        assumptions=(
            "L is 𝓛-smooth and bounded below (L* = inf L).",
            "Bounded stochastic gradients ‖g_t‖∞ ≤ G a.s., E[ξ_s | past, β] = 0.",
            "Inertia (β_t) independent of the noise (ξ_t), β_t ∈ [0, 1−ε]ⁿ; m₀ = 0.",
            "η_t non-increasing (η₀/√t for the rate).",
        ),
        formulas=FORMULAS,
        functions={"weighted_sum_bound": weighted_sum_bound, "min_grad_bound": min_grad_bound,
                   "trivial_bound": trivial_bound, "bound_log_slope": bound_log_slope,
                   "bias_fixed_point": bias_fixed_point},
        validity=(
            "A worst-case bound, valid for every T; informative (below nG²) only for large ε and small n: "
            "vacuous at ε = 1e-3 (released Adai's default clip), informative from ε ≈ 0.3 with n ≤ 10 "
            "(eps_parameter (1−ε)/ε² ≲ 10). The bias proposition is the η → 0 (averaging) limit."
        ),
        small_parameters={"eps_parameter": eps_parameter},
        source=("Xie et al., Adaptive Inertia, ICML 2022, arXiv 2006.15815 (convergence theorem; "
                "statement re-derived in project form, docs/theory.md §5)"),
        constants=("project: every constant (the (1−ε)/ε deficit, the factor 3 of lag + noise, ε⁻³ of the "
                   "corrected form, 2(√(T+1)−1) and 1 + ln T) is the project's derivation; the paper "
                   "gives the O(log T/√T) rate only"),
    )
)
