r"""Named problems shared by the checks (docs/theory.md §5, §7): landscapes, noise, dynamics, starts, exits.

One Problem feeds the Monte Carlo and every exact model of a comparison (:mod:`sim.exact.adapters`),
so a check never rebuilds a model from hand-made coefficients.  Names used in the check declarations
(``problems=(...)``) are the keys of :data:`PROBLEMS`.

Saddles (Theorems 1–2, Propositions 1 and 3): quadratic saddles with Hessian noise :math:`C = [H]^+/B`,
started at the saddle point.  Minima (baselines, Theorem 3, Propositions 2 and 4, AdaMod A1(iv)): the
1-D piecewise-quadratic wells (:class:`sim.PiecewiseQuadraticWells`), from a minimum to absorption at
the next minimum (Kramers' τ counts crossings, docs/theory.md §6); with :math:`H_a = |H_b|` the diffusion
is continuous along the path.  Minima selection: :class:`sim.FlatSharpDoubleWell`.
"""
from __future__ import annotations

import numpy as np

from optdyn import sim
from optdyn import theory

# -- saddles ----------------------------------------------------------------------------------------
#: Hyper-parameters shared by the saddle checks.
LR, BATCH, BETA1, BETA0 = 0.05, 1.0, 0.9, 0.1
#: Eigenvalues of the rotated 3-D saddle: a sharp and a flat stable direction and one unstable one.
EIGENVALUES = (2.0, 0.5, -1.0)
#: Rotation seed of that saddle (a property of the landscape, not a random stream of a check).
ROTATION_SEED = 2022
#: Axis-aligned saddle of the Proposition 1/3 comparisons.
AXIS_EIGENVALUES = (2.0, 0.5, -1.0)
PROP_TIMES = (0.5, 1.0, 2.0)
#: Axis-aligned saddle with several unstable directions of different flatness (drift, escape scaling).
DRIFT_EIGENVALUES = (2.0, -0.05, -0.1, -0.2, -0.4, -0.8)
DRIFT_LR = 0.01
DRIFT_TIMES = (1.5, 3.0, 4.5, 6.0)
#: Half-width of the slab a path leaves at a saddle.
EXIT_RADIUS = 1.0


def rotated_saddle(eigenvalues=EIGENVALUES, seed: int = ROTATION_SEED) -> sim.QuadraticSaddle:
    """The rotated saddle of Theorems 1–2 and of the rotated Proposition 1/3 findings."""
    return sim.QuadraticSaddle(eigenvalues, rotation=sim.random_rotation(len(eigenvalues), seed))


def axis_saddle(eigenvalues=AXIS_EIGENVALUES) -> sim.QuadraticSaddle:
    return sim.QuadraticSaddle(eigenvalues)


def saddle_problem(dynamics, landscape=None, exit=None, initial_state=None, batch: float = BATCH) -> sim.Problem:
    """Hessian noise with batch ``batch``, start at the saddle point (the origin)."""
    land = rotated_saddle() if landscape is None else landscape
    return sim.Problem(land, sim.HessianNoise(batch), dynamics, np.zeros(land.dim), exit=exit,
                       initial_state=initial_state)


def slab_exit(landscape, direction: int, radius: float = EXIT_RADIUS) -> sim.SlabExit:
    """Leave ``|u_iᵀθ| < radius`` along the eigen-direction ``direction`` of a quadratic saddle."""
    u = getattr(landscape, "rotation", None)
    e = np.eye(landscape.dim)[:, direction] if u is None else u[:, direction]
    return sim.SlabExit(np.zeros(landscape.dim), e, radius)


def saddle_models():
    """Proposition 1/3 continuous models: name → (result id, ``dt ↦ dynamics``)."""
    return {"Adam β₁=0": ("prop1", lambda dt: sim.AdamSDE(LR, 0.0, dt=dt)),
            "Adam β₁=0.9": ("prop1", lambda dt: sim.AdamSDE(LR, 0.9, dt=dt)),
            "Adai": ("prop3", lambda dt: sim.AdaiSDE(LR, BETA0, dt=dt))}


# -- minima -----------------------------------------------------------------------------------------
#: Adai's spectator curvature on the unit wells: v_e/v̄ = 2/(1+3) = 0.5 all along the path.
SPECTATOR = 3.0
SGD_LR, SGD_DT = 0.1, 0.01
ADAM_LR, ADAM_DT = 0.1, 0.1
MOM_LR = 0.05


def wells(kappa: float = 1.0, barrier: float = 1.0, h_b: float | None = None, spectators=None):
    """Piecewise-quadratic wells with H_a = κ and |H_b| = κ (or ``h_b``)."""
    return sim.PiecewiseQuadraticWells(kappa, kappa if h_b is None else h_b, barrier, spectators=spectators)


def escape_problem(land, noise, dyn, from_min: int = 0, shift: float = 0.0) -> sim.Problem:
    """Start at minimum ``from_min``, absorb at the next minimum (moved out by ``shift``)."""
    ex = land.exit_beyond(0, from_min)
    ex = sim.HalfSpaceExit(ex.normal, ex.offset + shift)
    return sim.Problem(land, noise, dyn, land.minima[from_min], exit=ex)


def with_monitoring_shift(prob) -> sim.Problem:
    """``prob`` (an overdamped SDE escaping to the next minimum) with its exit moved out by the
    Broadie–Glasserman–Kou shift of discretely monitored exits (docs/theory.md §7)."""
    shift = float(sim.escape.discrete_monitoring_shift(prob, prob.landscape.minima[-1])[0])
    return escape_problem(prob.landscape, prob.noise, prob.dynamics, shift=shift)


def sgd_batch(lr, exponent, land):
    """B with E_SGD = exponent (theory.ddt.sgd_exponent is linear in B)."""
    h_a, h_b = land.curvatures()
    return exponent / float(theory.ddt.sgd_exponent(h_a, h_b, land.delta_l, lr, 1.0))


def adam_batch(lr, exponent, land):
    """B with E_Adam = exponent (E_Adam ∝ √B)."""
    h_a, h_b = land.curvatures()
    return (exponent / float(theory.prop2.exponent(h_a, h_b, land.delta_l, lr, 1.0))) ** 2


def sgd_wells(exponent: float, kappa: float = 1.0, lr: float = SGD_LR, dt: float | None = SGD_DT,
              dynamics=None) -> sim.Problem:
    """SGD SDE (or ``dynamics``) on wells(κ) at E_SGD = ``exponent``."""
    land = wells(kappa)
    dyn = sim.SGDLangevin(lr, dt=dt) if dynamics is None else dynamics
    return escape_problem(land, sim.HessianNoise(sgd_batch(lr, exponent, land)), dyn)


def white_wells(kappa, exponent, lr=SGD_LR, dt=SGD_DT, hb=None):
    """White-noise GD SDE on wells(κ) at ΔL/D = ``exponent``; returns ``(problem, D)``."""
    land = wells(kappa, h_b=hb)
    d = land.delta_l / exponent  # D = ησ²/2
    sigma = np.sqrt(2 * d / lr)
    return escape_problem(land, sim.WhiteNoise(sigma), sim.SGDLangevin(lr, dt=dt)), d


def adam_wells(kappa, exponent, lr=ADAM_LR, dt=ADAM_DT, batch=None):
    """Adam's overdamped SDE (β₁ = 0) on wells(κ); returns ``(problem, B)``."""
    land = wells(kappa)
    b = adam_batch(lr, exponent, land) if batch is None else batch
    return escape_problem(land, sim.HessianNoise(b), sim.AdamSDE(lr, beta1=0.0, dt=dt)), b


def momentum_wells(exponent: float, lr: float = MOM_LR, beta1: float = BETA1, beta3: float | None = None,
                   kappa: float = 1.0, batch: float | None = None, dt: float | None = None,
                   discrete: bool = False) -> sim.Problem:
    """Momentum (EMA form unless ``beta3``) on wells(κ) with Hessian noise at E_SGD = ``exponent`` (or
    batch ``batch``).  ``discrete``: the real optimizer instead of its SDE."""
    land = wells(kappa)
    b3 = 1.0 - beta1 if beta3 is None else beta3
    b = sgd_batch(lr, exponent, land) if batch is None else batch
    dyn = sim.Momentum(lr, beta1, b3) if discrete else sim.MomentumSDE(lr, beta1, beta3=b3, dt=dt)
    return escape_problem(land, sim.HessianNoise(b), dyn)


def adai_wells(exponent: float, lr: float = MOM_LR, kappa: float = 1.0, batch: float | None = None,
               dt: float | None = None) -> sim.Problem:
    """AdaiSDE on the 2-D wells(κ) with one spectator of curvature 3κ (v_e/v̄ = 0.5 along the whole
    path, so the frozen-mass Kramers model is exact), Hessian noise at E_SGD = ``exponent`` of the
    escape coordinate (or batch ``batch``)."""
    land = wells(kappa, spectators=[SPECTATOR * kappa])
    b = sgd_batch(lr, exponent, wells(kappa)) if batch is None else batch
    return escape_problem(land, sim.HessianNoise(b), sim.AdaiSDE(lr, BETA0, dt=dt))


# -- minima selection -------------------------------------------------------------------------------
SEL_FLAT, SEL_SHARP, SEL_HB, SEL_DL, SEL_DL_SHARP = 1.0, 4.0, 4.0, 1.0, 2.5
SEL_SGD_LR, SEL_ADAM_LR = 0.02, 0.1


def selection_landscape(spectators=None):
    return sim.FlatSharpDoubleWell(SEL_FLAT, SEL_SHARP, SEL_HB, SEL_DL, barrier_sharp=SEL_DL_SHARP,
                                   spectators=spectators)


def selection_setup():
    """(name, dynamics, lr, B, spectators) per optimizer; B puts the larger exponent at 4."""
    land = selection_landscape()
    hs = (land.curvatures(0)[0], land.curvatures(1)[0])
    e_sgd = [float(theory.ddt.sgd_exponent(h, -SEL_HB, dl, SEL_SGD_LR, 1.0)) for h, dl in zip(hs, (SEL_DL, SEL_DL_SHARP))]
    b_sgd = 4.0 / max(e_sgd)
    e_adam = [float(theory.prop2.exponent(h, -SEL_HB, dl, SEL_ADAM_LR, 1.0)) for h, dl in zip(hs, (SEL_DL, SEL_DL_SHARP))]
    b_adam = (4.0 / max(e_adam)) ** 2
    return [("SGD", sim.SGD(SEL_SGD_LR), SEL_SGD_LR, b_sgd, None),
            ("Momentum", sim.Momentum.ema(SEL_SGD_LR, BETA1), SEL_SGD_LR, b_sgd, None),
            ("Adai", sim.Adai(SEL_SGD_LR, BETA0), SEL_SGD_LR, b_sgd, [SEL_SHARP]),
            ("Adam", sim.Adam(SEL_ADAM_LR, BETA1), SEL_ADAM_LR, b_adam, None),
            ("AdaMod", sim.AdaMod(SEL_ADAM_LR, BETA1), SEL_ADAM_LR, b_adam, None)]


def selection_problem(land, batch, dyn, from_min):
    return escape_problem(land, sim.HessianNoise(batch), dyn, from_min=from_min)


#: Problem names used in check declarations → a one-line description (checked by the tests).
PROBLEMS = {
    "rotated-saddle": f"3-D saddle, eigenvalues {EIGENVALUES}, random rotation (seed {ROTATION_SEED}), Hessian noise B={BATCH:g}, start at the saddle",
    "scaling-saddle": "5-D rotated saddle with four unstable directions over one decade, slab exits",
    "axis-saddle": f"axis-aligned saddle {AXIS_EIGENVALUES}, Hessian noise",
    "drift-saddle": f"axis-aligned saddle {DRIFT_EIGENVALUES}, η={DRIFT_LR:g}, initial velocity or slab exits",
    "figure-saddle": "2-D saddle (1, −0.5), four optimizers",
    "box-exits": "1-D and 2-D (rotated) quadratic wells, box exits (backward Kolmogorov)",
    "unit-wells": "1-D piecewise-quadratic wells H_a=|H_b|=κ, ΔL=1, minimum → next minimum",
    "asymmetric-wells": "1-D piecewise-quadratic wells with H_a ≠ |H_b| (exact solvers only)",
    "spectator-wells": f"2-D wells with a spectator of curvature {SPECTATOR:g}κ (Adai: v_e/v̄ = 0.5 on the path)",
    "flat-sharp": f"flat (H={SEL_FLAT:g}, ΔL={SEL_DL:g}) vs sharp (H={SEL_SHARP:g}, ΔL={SEL_DL_SHARP:g}) double well, |H_b|={SEL_HB:g}",
}
