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


# -- temperature varying along the path (Theorem 3 / Proposition 4 with H_a != |H_b|) ---------------
#: (H_a, |H_b|) pairs of the varying-temperature checks: hot well / cold saddle and the reverse.
VT_PAIRS = ((4.0, 1.0), (1.0, 4.0))


def varying_temperature_problems(exponent: float, h_a: float, h_b: float, mass: float, model: str = "momentum",
                                 dt: float | None = None, sgd_dt: float | None = None):
    r"""``(underdamped, sgd)``: the same 1-D wells (H_a, |H_b|, ΔL = 1) with Hessian noise at E_SGD =
    ``exponent``, once with the EMA momentum model of mass :math:`M` = ``mass`` (``"momentum"``:
    MomentumSDE with β₁ = 0.9, :math:`\eta = M(1-\beta_1)`; ``"adai"``: the 1-D AdaiSDE, whose inertia is
    :math:`1-\beta_1 = \beta_0` everywhere in one dimension, :math:`\eta = M\beta_0`) and once with the SGD
    SDE at the same η and B (E_SGD is the momentum models' exponent in the EMA form).  With
    :math:`H_a \ne |H_b|` the Hessian-noise temperature jumps at the junctions."""
    land = wells(h_a, h_b=h_b)
    lr = mass * (1 - BETA1) if model == "momentum" else mass * BETA0
    dyn = sim.MomentumSDE(lr, BETA1, beta3=1 - BETA1, dt=dt) if model == "momentum" else sim.AdaiSDE(lr, BETA0, dt=dt)
    noise = sim.HessianNoise(sgd_batch(lr, exponent, land))
    return escape_problem(land, noise, dyn), escape_problem(land, noise, sim.SGDLangevin(lr, dt=sgd_dt))


def vt_small_parameter(exponent, h_a, h_b, mass):
    r"""The small parameter of the varying-temperature correction, :math:`E\,M|H_b|\,|1 - D_b/D_a|` with
    :math:`D_b/D_a = |H_b|/H_a` (Hessian noise)."""
    return exponent * mass * h_b * abs(1 - h_b / h_a)


#: Selection with a varying temperature: sharp well (H=4) and flat well (H=1) behind one saddle |H_b| = 1,
#: barriers chosen so that SGD's exponents are equal (ΔL_flat = 0.85 ΔL_sharp): SGD is indifferent to
#: leading order, and any exponent Momentum gains or loses shows as a preference.
VT_SEL_SHARP, VT_SEL_FLAT, VT_SEL_HB, VT_SEL_DL = 4.0, 1.0, 1.0, 1.0


def vt_selection_problems(exponent: float, mass: float, from_min: int, model: str = "momentum",
                          dt: float | None = None):
    """``(underdamped, sgd)`` escape problems from the sharp (``from_min=0``) or the flat (1) well of the
    varying-temperature selection landscape, at SGD exponent ``exponent`` (equal for both wells); the
    underdamped model as in :func:`varying_temperature_problems`."""
    s_sharp = VT_SEL_HB / (VT_SEL_SHARP + VT_SEL_HB)
    dl_flat = VT_SEL_DL * VT_SEL_HB * (s_sharp / VT_SEL_SHARP + (1 - s_sharp) / VT_SEL_HB)  # equal E_SGD
    land = sim.PiecewiseQuadraticWells(VT_SEL_SHARP, VT_SEL_HB, VT_SEL_DL, h_a2=VT_SEL_FLAT, barrier2=dl_flat)
    lr = mass * (1 - BETA1) if model == "momentum" else mass * BETA0
    dyn = sim.MomentumSDE(lr, BETA1, beta3=1 - BETA1, dt=dt) if model == "momentum" else sim.AdaiSDE(lr, BETA0, dt=dt)
    noise = sim.HessianNoise(exponent / float(theory.ddt.sgd_exponent(VT_SEL_SHARP, -VT_SEL_HB, VT_SEL_DL, lr, 1.0)))
    return (escape_problem(land, noise, dyn, from_min), escape_problem(land, noise, sim.SGDLangevin(lr, dt=None), from_min))


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


# -- convergence (Theorem 4, docs/theory.md §5) -----------------------------------------------------
#: The 10-D chain of smooth double wells (bounded gradient), its coupling (0: separable), the start,
#: the Rademacher noise scale and the base rate η₀ of η_t = η₀/√t.
CHAIN_DIM, CHAIN_COUPLING, CHAIN_NOISE, CHAIN_ETA0 = 10, 0.5, 1.0, 0.1


def chain_problem(dynamics, coupling: float = CHAIN_COUPLING) -> sim.Problem:
    """The 10-D WellChain (coupled or separable) with Rademacher noise ±1 per coordinate, started at
    evenly spread coordinates in [−2.5, 2.5] (outside the wells, non-zero gradient)."""
    land = sim.WellChain(CHAIN_DIM, coupling)
    return sim.Problem(land, sim.TwoPointNoise.rademacher(CHAIN_NOISE), dynamics,
                       np.linspace(-2.5, 2.5, CHAIN_DIM))


#: The skewed counterexample: ξ₁ = 10 w.p. 10⁻³ (else the value that makes the mean 0), ξ₂ = ±6.3.
SKEW_VALUE, SKEW_P, SKEW_FLAT = 10.0, 1e-3, 6.3


def skewed_noise() -> sim.TwoPointNoise:
    b1 = -SKEW_P * SKEW_VALUE / (1 - SKEW_P)
    return sim.TwoPointNoise([SKEW_VALUE, SKEW_FLAT], [b1, -SKEW_FLAT], [SKEW_P, 0.5])


def skewed_problem(dynamics, landscape=None) -> sim.Problem:
    """L = ½θ₁² on R² (flat in θ₂) with :func:`skewed_noise`, start (0.5, 0)."""
    land = sim.QuadraticSaddle([1.0, 0.0]) if landscape is None else landscape
    return sim.Problem(land, skewed_noise(), dynamics, [0.5, 0.0] if landscape is None else [0.0, 0.0])


#: Reddi–Kale–Kumar's stochastic online problem: f = Cx w.p. (1+δ)/(C+1), else −x, on [−1, 1].
REDDI_C, REDDI_DELTA, REDDI_ALPHA = 3.0, 0.1, 0.5


def reddi_problem(dynamics) -> sim.Problem:
    """The stochastic counterexample in coordinate 1 (expected loss δ·x₁, minimiser x₁ = −1) beside a
    flat Rademacher coordinate (so Adai's v_i/v̄ is not identically 1), box [−1, 1]², start 0; the
    dynamics must carry the box (``opt.with_schedule(..., box=(-1, 1))``)."""
    c, d = REDDI_C, REDDI_DELTA
    noise = sim.TwoPointNoise([c - d, 1.0], [-1.0 - d, -1.0], [(1 + d) / (c + 1), 0.5])
    return sim.Problem(sim.LinearSlope([d, 0.0]), noise, dynamics, [0.0, 0.0])


# -- A1(iii): problems where Adam's first steps matter ---------------------------------------------
#: Start on the outer wall of the sharp (deeper) well of :func:`selection_landscape`, this far from its
#: minimum: the gradient there (H·d = 12) dominates the noise, so Adam's first steps are ≈ η·sign(g)
#: and, with momentum, can carry a path over the saddle into the flat (worse) well.
FIRST_STEPS_DISTANCE, FIRST_STEPS_BATCH = 3.0, 16.0
#: Styblinski–Tang start (every coordinate) on the outer wall of the global minimum r₀ ≈ −2.90, its
#: Hessian-noise floor and batch.
ST_START, ST_FLOOR, ST_BATCH = -5.0, 1.0, 16.0


def first_steps_problem(dyn) -> sim.Problem:
    """``dyn`` on the flat/sharp double well from the sharp well's outer wall (A1(iii))."""
    land = selection_landscape()
    x0 = land.minima[1] + FIRST_STEPS_DISTANCE * np.sign(land.minima[1])
    return sim.Problem(land, sim.HessianNoise(FIRST_STEPS_BATCH), dyn, x0)


def styblinski_tang_problem(dyn, dim: int) -> sim.Problem:
    """``dyn`` on Styblinski–Tang in ``dim`` dimensions from (ST_START, …), floored Hessian noise."""
    land = sim.StyblinskiTang(dim)
    return sim.Problem(land, sim.HessianNoise(ST_BATCH, floor=ST_FLOOR), dyn, np.full(dim, ST_START))


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
    "vt-wells": "1-D piecewise-quadratic wells H_a = 4|H_b| and |H_b|/4 with Hessian noise (temperature jumps at the junctions)",
    "vt-flat-sharp": "sharp (H=4) and flat (H=1) well behind one saddle |H_b|=1, equal SGD exponents",
    "spectator-wells": f"2-D wells with a spectator of curvature {SPECTATOR:g}κ (Adai: v_e/v̄ = 0.5 on the path)",
    "well-chain": f"{CHAIN_DIM}-D chain of smooth double wells (coupling {CHAIN_COUPLING:g} and 0), Rademacher noise ±{CHAIN_NOISE:g}, η_t = {CHAIN_ETA0:g}/√t",
    "adai-skewed": f"L = ½θ₁² on R², ξ₁ = {SKEW_VALUE:g} w.p. {SKEW_P:g} (mean 0), ξ₂ = ±{SKEW_FLAT:g}, η_t = 0.1/√t",
    "reddi-online": f"Reddi et al.'s stochastic online problem on [−1, 1] (C = {REDDI_C:g}, δ = {REDDI_DELTA:g}), α_t = {REDDI_ALPHA:g}/√t",
    "flat-sharp": f"flat (H={SEL_FLAT:g}, ΔL={SEL_DL:g}) vs sharp (H={SEL_SHARP:g}, ΔL={SEL_DL_SHARP:g}) double well, |H_b|={SEL_HB:g}",
    "first-steps-wells": f"flat/sharp double well, start {FIRST_STEPS_DISTANCE:g} outside the sharp minimum "
                         f"(gradient-dominated), Hessian noise B={FIRST_STEPS_BATCH:g}",
    "styblinski-tang-start": f"Styblinski–Tang (2-D quick, 10-D full) from x_i = {ST_START:g}, Hessian noise "
                             f"B={ST_BATCH:g} with floor {ST_FLOOR:g}",
}
