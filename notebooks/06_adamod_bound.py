# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. AdaMod: a bound on Adam's step sizes and an automatic warm-up (A1)
#
# **The maths.**  Adam's per-coordinate step size is
# $\eta_k = \eta\sqrt{1-\beta_2^k}\,/\,\bigl((1-\beta_1^k)(\sqrt{v_k} + \epsilon)\bigr)$: when $v_k$ is
# small (early on, or for a coordinate with little gradient noise) $\eta_k$ can be huge.  AdaMod
# keeps an exponential average of the step sizes, starting from zero,
#
# $$ s_k = \beta_3 s_{k-1} + (1-\beta_3)\,\eta_k, \qquad s_0 = 0, \qquad
#    \theta_{k} = \theta_{k-1} - \min(\eta_k, s_k)\, m_k , $$
#
# and never takes a step larger than the average (docs/theory.md §3, §5 A1).  Two exact consequences:
#
# * **(i)** with $\beta_3 = 0$, $s_k = \eta_k$ and AdaMod **is Adam**, up to where $\epsilon$ is added;
# * **(ii)** $s_k = (1-\beta_3)\sum_{j\le k}\beta_3^{k-j}\eta_j \le (1-\beta_3^k)\max_{j\le k}\eta_j$:
#   the first steps are cut down by the factor $1 - \beta_3^k \approx k(1-\beta_3)$, a **warm-up**
#   lasting about $1/(1-\beta_3)$ iterations, without a schedule.
#
# Claims:
#
# 1. (Simulation) AdaMod with $\beta_3 = 0$ follows Adam path by path, to the size of $\epsilon$.
# 2. (Simulation of the step sizes) $s_k$ obeys the bound (ii), and the effective step
#    $\min(\eta_k, s_k)$ ramps up over $\sim 1/(1-\beta_3)$ iterations.
# 3. (Simulation) The real AdaMod starts to move later than Adam: its spread around a minimum lags by
#    the warm-up.

# %%
import os

import matplotlib
import numpy as np

if os.environ.get("MPLBACKEND", "").lower() == "agg":
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

from optdyn import sim
from optdyn.theory import adamod
from optdyn.validate import style

N_PATHS = int(os.environ.get("OPTDYN_NOTEBOOK_PATHS", 4_000))
lr, beta1, beta2, batch = 0.01, 0.9, 0.999, 1.0

# %% [markdown]
# ## Claim 1: $\beta_3 = 0$ is Adam
#
# The same problem (a 2-D quadratic minimum with Hessian noise), the same seed: the two optimizers see
# the same gradient noise, so their paths can be compared one by one.

# %%
land = sim.QuadraticSaddle([1.0, 0.2])  # a minimum: both eigenvalues positive
x0 = np.array([1.0, -1.0])
steps = 200
paths = {}
for name, dyn in (("Adam", sim.Adam(lr, beta1, beta2, eps=1e-12)),
                  ("AdaMod β₃=0", sim.AdaMod(lr, beta1, beta2, beta3=0.0, eps=1e-12))):
    prob = sim.Problem(land, sim.HessianNoise(batch), dyn, x0)
    paths[name] = sim.run_ensemble(prob, N_PATHS, steps * lr, save_times=[steps * lr], seed=7,
                                   store_samples=True).samples[0]
gap = np.max(np.abs(paths["Adam"] - paths["AdaMod β₃=0"]))
print(f"largest |θ_AdaMod − θ_Adam| over {N_PATHS} paths after {steps} iterations: {gap:.1e} "
      f"(path scale {np.abs(paths['Adam']).mean():.2f}; ε = 1e-12)")

# %% [markdown]
# **What to notice.**  The paths agree to about $10^{-8}$ of their size after 200 iterations: with
# $\beta_3 = 0$ the bound is the step itself.  What is left is round-off (AdaMod computes its step from
# the uncorrected $v$, Adam from $\hat v$: the same number by a different sequence of operations) and
# the placement of $\epsilon$ (`adamod.adam_step_ratio` gives the exact ratio of the steps), amplified
# a little by the noise-driven dynamics.
#
# ## Claim 2: the bound and the warm-up
#
# Adam's step size $\eta_k$ for one coordinate whose gradient is pure noise, $g_k \sim N(0, \sigma^2)$
# (a plain NumPy recursion of Adam's moment estimate, 200 independent coordinates), then AdaMod's
# $s_k$ (`adamod.smoothed_step_sizes`) and the bound (ii) (`adamod.step_size_bound`).

# %%
rng = np.random.default_rng(0)
K, beta3 = 3000, 0.99
g = rng.normal(0.0, 0.5, size=(K, 200))
v = np.zeros(200)
eta_k = np.empty_like(g)
for k in range(1, K + 1):
    v = beta2 * v + (1 - beta2) * g[k - 1] ** 2
    eta_k[k - 1] = lr * np.sqrt(1 - beta2**k) / ((1 - beta1**k) * (np.sqrt(v) + 1e-8))
s = adamod.smoothed_step_sizes(eta_k, beta3)
bound = adamod.step_size_bound(eta_k, beta3)
effective = np.minimum(eta_k, s)
print(f"s_k ≤ (1 − β₃^k)·max_j≤k η_j at every k and coordinate: {bool(np.all(s <= bound * (1 + 1e-12)))}")
print(f"first step: min(η_1, s_1) / η_1 = {np.median(effective[0] / eta_k[0]):.4f} (1 − β₃ = {1 - beta3:g})")
for kk in (10, 100, 1000):
    print(f"k = {kk}: AdaMod's step / Adam's step, median over coordinates = {np.median(effective[kk - 1] / eta_k[kk - 1]):.3f}")

# %%
k = np.arange(1, K + 1)
fig, ax = style.subplots()
ax.plot(k, np.median(eta_k, axis=1), color=style.color("Adam"), label="Adam: η_k (median)")
ax.plot(k, np.median(effective, axis=1), color=style.color("AdaMod"), label="AdaMod: min(η_k, s_k) (median)")
ax.plot(k, np.median(bound, axis=1), "--", color=style.THEORY, label="bound (1 − β₃^k) max η_j (median)")
ax.axvline(1 / (1 - beta3), color="0.6", ls=":", label="1/(1 − β₃) iterations")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("iteration k")
ax.set_ylabel("per-coordinate step size")
style.title(ax, "AdaMod's automatic warm-up", lr=lr, beta1=beta1, beta2=beta2, beta3=beta3)
style.legend(ax)
plt.show()

# %% [markdown]
# **What to notice.**
# * Adam's $\eta_k$ is largest at the start (the bias-corrected $v$ is a noisy estimate from few
#   samples) and settles after $\sim 1/(1-\beta_2) = 1000$ iterations.
# * AdaMod's effective step starts at $1-\beta_3 = 1\,\%$ of Adam's, is about a quarter of it at
#   $k = 10$ and 80 % at $k = 1/(1-\beta_3) = 100$: a learning-rate warm-up that nobody scheduled.
#   (It grows faster than $k(1-\beta_3)$ because Adam's own early steps are the largest, and $s_k$
#   remembers them.)
# * The bound (ii) is respected at every step; it is tight only during the warm-up.
#
# ## Claim 3: the real AdaMod starts later
#
# The real optimizers (AdaMod with its default $\beta_3 = 0.999$, and Adam), started at $\theta_0 = (1, -1)$
# in the quadratic minimum: the mean distance to the minimum over the first 2000 iterations.

# %%
save_k = np.unique(np.geomspace(1, 2000, 30).astype(int))
dist = {}
for name, dyn in (("Adam", sim.Adam(lr, beta1, beta2)), ("AdaMod", sim.AdaMod(lr, beta1, beta2, beta3=0.999))):
    prob = sim.Problem(land, sim.HessianNoise(batch), dyn, x0)
    res = sim.run_ensemble(prob, N_PATHS // 4, save_k[-1] * lr, save_times=save_k * lr, seed=3, store_samples=True)
    dist[name] = np.linalg.norm(res.samples, axis=2).mean(axis=1)
k_adam = save_k[np.argmax(dist["Adam"] < 0.5 * np.linalg.norm(x0))]
k_mod = save_k[np.argmax(dist["AdaMod"] < 0.5 * np.linalg.norm(x0))]
print(f"iterations to halve the distance to the minimum: Adam {k_adam}, AdaMod {k_mod}")

fig, ax = style.subplots()
for name in dist:
    ax.plot(save_k, dist[name], "o-", color=style.color(name), mfc="white", ms=4, label=name)
ax.set_xscale("log")
ax.set_xlabel("iteration k")
ax.set_ylabel("mean distance to the minimum ‖θ_k‖")
style.title(ax, "The warm-up in the real optimizers", lr=lr, beta1=beta1, beta2=beta2, beta3=0.999,
            n=N_PATHS // 4)
style.legend(ax)
plt.show()

# %% [markdown]
# **What to notice.**
# * Adam moves from the first iteration (its first steps have size $\approx\eta$ whatever the
#   gradient's scale); AdaMod barely moves for the first hundred iterations, then catches up.
# * Later, near the minimum, both fluctuate with the gradient noise.  There AdaMod escapes minima like
#   Adam, with Adam's exponent $\propto\sqrt{B}\,\Delta L/(\eta\sqrt{H})$ (A1 (iv), a project
#   extension), but more slowly (about 1.2 times Adam's escape time at $\beta_3 = 0.999$).  Almost all
#   of that gap is the warm-up delay again: started from $s_0 = 0$, the bound holds AdaMod back at the
#   start of every run; started warm, the ratio drops to about 1.04, and the clipping of occasional
#   large steps once warm costs only about 2 % (docs/theory.md §5, AdaMod A1).
#
# ## Exercises
#
# **Exercise 1.** With $\beta_3 = 0.999$, how many iterations does the warm-up last?  What fraction of
# Adam's step does AdaMod take at $k = 10$?
#
# <details><summary>Solution</summary>
#
# About $1/(1-\beta_3) = 1000$ iterations.  At $k = 10$, $s_k \le (1-0.999^{10})\max\eta_j \approx 0.01\max\eta_j$:
# at most about 1 % of Adam's largest step so far.
#
# </details>
#
# **Exercise 2.** In claim 1, set `eps=1e-3` for both optimizers.  Does the gap grow?  Use
# `adamod.adam_step_ratio(v, k, beta2, eps)` to predict by how much the steps differ at $k = 1$ and at
# $k = 1000$.
#
# <details><summary>Solution</summary>
#
# Yes.  The ratio of the steps is $1 - \epsilon(1-\sqrt{1-\beta_2^k})/(\sqrt{v_k}+\epsilon)$: at $k = 1$,
# $\sqrt{1-\beta_2} \approx 0.03$, so the steps differ by almost $\epsilon/(\sqrt{v_1} + \epsilon)$; as
# $k$ grows the bias correction tends to 1 and the difference vanishes.  A1 (i) is exact only at
# $\epsilon = 0$.
#
# </details>
