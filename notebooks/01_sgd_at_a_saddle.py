# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SGD near a saddle point (Theorem 1)
#
# Near a critical point $c$ the loss is quadratic, $L(\theta) = L_c + \tfrac12(\theta-c)^\top H(\theta-c)$,
# and the gradient noise of SGD has covariance close to $C = [H]^+/B$ (batch size $B$; $[H]^+$ takes
# absolute eigenvalues).  With one iteration lasting time $\eta$, SGD follows the Itô SDE
#
# $$ d\theta = -H(\theta - c)\,dt + \sqrt{2D}\,dW, \qquad D = \tfrac{\eta}{2} C. $$
#
# Along each eigen-direction $i$ the motion is an independent Ornstein–Uhlenbeck process, so started at
# $c$ it stays Gaussian with variance
#
# $$ \sigma_i^2(t) = \frac{D_i}{H_i}\bigl(1 - e^{-2H_i t}\bigr), \qquad D_i = \frac{\eta |H_i|}{2B}. $$
#
# For $H_i < 0$ this grows like $e^{2|H_i| t}$: the time to escape along $i$ scales as $1/|H_i|$, so SGD is
# **slow along flat escape directions**.  This notebook shows both facts with a simulation.

# %%
import os

import matplotlib
import numpy as np

if os.environ.get("MPLBACKEND", "").lower() == "agg":
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

from optdyn import sim
from optdyn import theory

N_PATHS = int(os.environ.get("OPTDYN_NOTEBOOK_PATHS", 20_000))
lr, batch = 0.05, 1.0

# %% [markdown]
# ## A rotated 2-D saddle: one stable and one unstable direction

# %%
land = sim.QuadraticSaddle([1.0, -0.5], rotation=sim.random_rotation(2, seed=4))
prob = sim.Problem(land, sim.HessianNoise(batch), sim.SGDLangevin(lr, dt=0.005), x0=np.zeros(2))
times = np.array([0.5, 1.0, 2.0, 4.0])
res = sim.run_ensemble(prob, N_PATHS, times[-1], save_times=times, seed=0, store_samples=True)

closed = theory.get("thm1").functions["covariance"](land.H, lr, batch, res.times)
print("max |simulated - Theorem 1| covariance entry:", np.abs(res.cov - closed).max())

# %% [markdown]
# The cloud of paths spreads into an ellipse that stretches along the unstable eigenvector.  The black
# curves are the $2\sigma$ ellipses of Theorem 1.

# %%
fig, axes = plt.subplots(1, len(times), figsize=(14, 3.5), sharex=True, sharey=True)
angle = np.linspace(0, 2 * np.pi, 200)
for ax, i in zip(axes, range(len(times))):
    pts = res.samples[i]
    ax.plot(pts[:2000, 0], pts[:2000, 1], ".", ms=1, alpha=0.3)
    lam, vec = np.linalg.eigh(closed[i])
    ell = vec @ (2 * np.sqrt(lam)[:, None] * np.stack([np.cos(angle), np.sin(angle)]))
    ax.plot(ell[0], ell[1], "k")
    ax.set_title(f"t = {res.times[i]:g}")
    ax.set_aspect("equal")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Escape time against the curvature of the escape direction
#
# Leave the slab $|u_i^\top\theta| < R$ along an unstable direction with eigenvalue $H_i<0$.  Theorem 1
# predicts a median exit time proportional to $1/|H_i|$ (the time change $s = |H_i| t$ removes $H_i$
# from the problem exactly).

# %%
rates = np.array([0.1, 0.2, 0.4, 0.8])
medians = []
for lam in rates:
    saddle = sim.QuadraticSaddle([1.0, -lam])
    exit = sim.SlabExit(np.zeros(2), [0.0, 1.0], half_width=1.0)
    p = sim.Problem(saddle, sim.HessianNoise(batch), sim.SGDLangevin(lr, dt=0.01), np.zeros(2), exit=exit)
    r = sim.run_ensemble(p, N_PATHS // 5, 15 / lam, seed=1)
    medians.append(np.median(r.escape_times))
slope = np.polyfit(np.log(rates), np.log(medians), 1)[0]
print(f"fitted slope of log median exit time vs log |H_i|: {slope:.3f} (Theorem 1: -1)")
pred = theory.thm1.median_exit_time(-rates, lr, batch, 1.0, corrected=True)
plt.loglog(rates, medians, "o", label="simulated median")
plt.loglog(rates, pred, "k--", label="Theorem 1")
plt.xlabel("|H_i|")
plt.ylabel("median exit time")
plt.legend()
plt.show()
