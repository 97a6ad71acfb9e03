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
# # 5. Flat vs sharp minima: which optimizer selects which (Theorem 3, Propositions 2 and 4)
#
# **The maths.**  Notebook 4 showed that SGD leaves a minimum after a time $\tau \approx
# (2\pi/H_a)e^{E}$.  What changes between optimizers is the exponent $E$ (docs/theory.md §5):
#
# | optimizer | exponent $E$ | result |
# |---|---|---|
# | SGD | $\dfrac{2B\Delta L}{\eta}\Bigl(\dfrac{s}{H_a} + \dfrac{1-s}{\lvert H_b\rvert}\Bigr)$ | [DDT] |
# | Momentum | SGD's (same temperature, prefactor $2\pi/\lambda_+$) | Theorem 3 |
# | Adai | SGD's (Adai's temperature is SGD's) | Proposition 4 |
# | Adam | $\dfrac{2\sqrt{B}\,\Delta L}{\eta}\Bigl(\dfrac{s}{\sqrt{H_a}} + \dfrac{1-s}{\sqrt{\lvert H_b\rvert}}\Bigr)$ | Proposition 2 |
#
# SGD's exponent scales as $\Delta L/H$: a sharp minimum (large $H$) is left much sooner than a
# flat one.  Adam's scales as $\Delta L/\sqrt{H}$: its preference for flat minima is much weaker.
# On a landscape with a flat well and a sharp but deeper well, an optimizer hopping between the two
# spends, in the long run, the fraction
#
# $$ p_{\rm flat} = \frac{k_{s\to f}}{k_{s\to f} + k_{f\to s}} = \frac{\tau_{\rm flat}}{\tau_{\rm flat} + \tau_{\rm sharp}} $$
#
# of its time in the flat well ($k$ are the escape rates).
#
# Claims:
#
# 1. (Theory) SGD, Momentum and Adai should prefer the flat well; Adam the sharp, deeper one.
# 2. (Simulation) The real optimizers, run step by step, do exactly that, close to the predicted
#    fractions.

# %%
import os
import warnings

import matplotlib
import numpy as np

if os.environ.get("MPLBACKEND", "").lower() == "agg":
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

from optdyn import sim, theory
from optdyn.validate import style

N_PATHS = int(os.environ.get("OPTDYN_NOTEBOOK_PATHS", 2_000)) // 4
warnings.simplefilter("ignore", theory.ValidityWarning)  # E ≈ 2.5–4 here: mildly outside the asymptotic regime

# %% [markdown]
# The landscape (`sim.FlatSharpDoubleWell`): a flat well ($H = 1$, barrier $\Delta L = 1$) and a sharp
# well ($H = 4$, barrier $\Delta L = 2.5$), separated by a saddle with $|H_b| = 4$.  The batch sizes are
# chosen so that the larger of the two exponents is 4 for each family.

# %%
H_FLAT, H_SHARP, H_B, DL_FLAT, DL_SHARP = 1.0, 4.0, 4.0, 1.0, 2.5
beta1, beta0 = 0.9, 0.1
land = sim.FlatSharpDoubleWell(H_FLAT, H_SHARP, H_B, DL_FLAT, barrier_sharp=DL_SHARP)
wells = {"flat": (H_FLAT, DL_FLAT), "sharp": (H_SHARP, DL_SHARP)}
lr_sgd, lr_adam = 0.02, 0.1
b_sgd = 4.0 / max(float(theory.ddt.sgd_exponent(h, -H_B, dl, lr_sgd, 1.0)) for h, dl in wells.values())
b_adam = (4.0 / max(float(theory.prop2.exponent(h, -H_B, dl, lr_adam, 1.0)) for h, dl in wells.values())) ** 2


def predicted_times(name):
    """Theory escape times (continuous time) from the flat and the sharp well."""
    out = {}
    for well, (h, dl) in wells.items():
        if name == "SGD":
            out[well] = theory.ddt.sgd_escape_time(h, -H_B, dl, lr_sgd, b_sgd, form="ito")
        elif name == "Momentum":
            out[well] = theory.thm3.escape_time(h, -H_B, dl, lr_sgd, b_sgd, beta1, 1 - beta1, form="ito")
        elif name == "Adai":
            rho = float(theory.prop4.variance_ratio_at_saddle([-H_B, H_SHARP], 0))
            out[well] = theory.prop4.escape_time(h, -H_B, dl, lr_sgd, b_sgd, beta0, variance_ratio=rho, form="ito")
        else:
            out[well] = theory.prop2.escape_time(h, -H_B, dl, lr_adam, b_adam, beta1)
    return {k: float(v) for k, v in out.items()}


optimizers = {  # name: (real optimizer, batch size, spectator curvatures)
    "SGD": (sim.SGD(lr_sgd), b_sgd, None),
    "Momentum": (sim.Momentum.ema(lr_sgd, beta1), b_sgd, None),
    "Adai": (sim.Adai(lr_sgd, beta0), b_sgd, [H_SHARP]),  # Adai needs a 2nd coordinate to be adaptive
    "Adam": (sim.Adam(lr_adam, beta1), b_adam, None),
}
for name in optimizers:
    t = predicted_times(name)
    print(f"{name}: predicted τ_flat = {t['flat']:.4g}, τ_sharp = {t['sharp']:.4g}, "
          f"p_flat = {t['flat'] / (t['flat'] + t['sharp']):.3f}")

# %% [markdown]
# ## Claim 2: the real optimizers select as predicted
#
# For each optimizer and each well, `N_PATHS` paths start at the bottom of the well and stop when they
# reach the other minimum; the mean escape time is a censored exponential fit.

# %%
rows = []
for k, (name, (dyn, batch, spectators)) in enumerate(optimizers.items()):
    land_k = sim.FlatSharpDoubleWell(H_FLAT, H_SHARP, H_B, DL_FLAT, barrier_sharp=DL_SHARP, spectators=spectators)
    pred = predicted_times(name)
    tau, log_se = {}, {}
    for i, well in enumerate(("flat", "sharp")):
        ex = land_k.exit_beyond(0, i)
        prob = sim.Problem(land_k, sim.HessianNoise(batch), dyn, land_k.minima[i], exit=ex)
        res = sim.run_ensemble(prob, N_PATHS, 30 * max(pred.values()), seed=100 * k + i)
        est = sim.escape.exponential_rate(*sim.escape.times_from_result(res))
        tau[well] = est.mean_time
        log_se[well] = 1 / np.sqrt(max(int(res.escaped.sum()), 1))  # SE of log τ: 1/√(number of escapes)
    p = tau["flat"] / (tau["flat"] + tau["sharp"])
    p_se = p * (1 - p) * np.hypot(log_se["flat"], log_se["sharp"])  # delta method on log(τ_sharp/τ_flat)
    p_pred = pred["flat"] / (pred["flat"] + pred["sharp"])
    rows.append((name, p, p_se, p_pred))
    print(f"{name}: simulated p_flat = {p:.3f} ± {p_se:.3f}, predicted {p_pred:.3f} "
          f"(prefers the {'flat' if p > 0.5 else 'sharp'} well)")

# %%
fig, ax = style.subplots(width=8)
xs = np.arange(len(rows))
ax.bar(xs, [r[1] for r in rows], 0.55, color=[style.color(r[0]) for r in rows], alpha=0.75,
       label="simulated (real optimizer)")
ax.errorbar(xs, [r[1] for r in rows], yerr=[4 * r[2] for r in rows], fmt="none", ecolor="black", capsize=4,
            zorder=3, label="±4 SE")
ax.plot(xs, [r[3] for r in rows], "D", color=style.THEORY, mfc="white", ms=7, zorder=4, label="theory")
ax.axhline(0.5, color="gray", lw=0.8, ls="--", label="no preference")
ax.set_xticks(xs, [r[0] for r in rows])
ax.set_ylim(0, 1.05)
ax.set_xlabel("optimizer")
ax.set_ylabel("long-run fraction of time in the flat well")
style.title(ax, "Minima selection: flat (H = 1, ΔL = 1) vs sharp (H = 4, ΔL = 2.5)",
            subtitle=f"η = {lr_sgd:g} (SGD family), {lr_adam:g} (Adam) · {N_PATHS} paths per well")
style.legend(ax)
plt.show()

# %% [markdown]
# **What to notice.**
# * SGD, Momentum and Adai spend most of their time in the **flat** well, although the sharp well is
#   2.5 times deeper: their noise is large where the curvature is large, so the sharp well is
#   "hot" and left quickly.
# * Adam prefers the **sharp, deeper** well: its noise is isotropic (notebook 3), so what matters most
#   is the depth, through $\Delta L/\sqrt{H}$.
# * Momentum and Adai select like SGD (Theorem 3, Proposition 4): momentum changes the prefactor, not
#   the exponent.  Adai's advantage (notebook 2) is escaping saddles fast; at minima it keeps SGD's
#   preference for flatness.  The paper's summary: Adai = SGD's flat-minima selection + fast saddle
#   escape.
# * The simulated fractions differ from the theory by a few hundredths, more than the ±4 SE bars:
#   the theory is asymptotic (relative error $O(1/E)$ in each $\tau$, and $E \approx 2.5$–$4$ here) and
#   the real optimizers are discrete ($O(\eta|H|)$ in the exponent).  The validation suite's
#   `selection.minima-selection` check states these allowances and compares within them.
#
# ## Exercises
#
# **Exercise 1.** Halve the batch size of the SGD family.  How do $\tau_{\rm flat}$, $\tau_{\rm sharp}$
# and $p_{\rm flat}$ change?
#
# <details><summary>Solution</summary>
#
# Both exponents halve, so both times shrink by large factors and the ratio
# $\tau_{\rm flat}/\tau_{\rm sharp} = (\ldots)e^{E_{\rm flat} - E_{\rm sharp}}$ moves toward 1:
# $p_{\rm flat}$ moves toward $1/2$.  Large noise (small batch) means less selective; selection is an
# effect of the *exponents' difference*, which scales with $B/\eta$.
#
# </details>
#
# **Exercise 2.** For which depth ratio $\Delta L_{\rm sharp}/\Delta L_{\rm flat}$ does SGD have no
# preference ($p_{\rm flat} = 1/2$)?  And Adam?  (Ignore the prefactors.)
#
# <details><summary>Solution</summary>
#
# Equal exponents.  Both exponents are proportional to $\Delta L$, so the depth ratio that balances them is
# the ratio of the exponents at equal depth: `theory.ddt.sgd_exponent(h, -4, 1, lr, 1)` gives 85 for
# the flat well and 25 for the sharp one (at $\eta = 0.02$, $B = 1$): ratio 3.4.  For Adam,
# `theory.prop2.exponent(h, -4, 1, lr, 1)` gives 18 and 10: ratio 1.8.  A sharp well must be 3.4 times
# deeper to attract SGD, only 1.8 times deeper to attract Adam: Adam is fooled by depth much sooner.
#
# </details>
