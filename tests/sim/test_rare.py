"""Adaptive multilevel splitting (sim.rare): the compiled path programs against the NumPy reference
(every dynamics, full optimizer state, per-path step indices), thread independence, bad input, the
reaction coordinate, and the estimate against the exact MFPT of the overdamped SDE.

Tolerances.  The compiled programs and the reference draw the same numbers and do the same arithmetic
up to summation order (~1e-16 relative per operation, over a few hundred steps of mildly unstable
excursions), so the run's estimates agree to RTOL = 1e-9; a kill/branch decision could only differ on
an exact tie of two levels, which would show as a gross mismatch.  Threads change nothing: equality
is exact."""
import warnings

import numba
import numpy as np
import pytest
from conftest import N_SE

from optdyn import sim
from optdyn.sim.dynamics import registry
from optdyn.sim.exact.fokker_planck import ResolutionWarning
from optdyn.sim.rare import (LinearCoordinate, PhaseSpaceCoordinate, ams_escape, default_burn_in_steps,
                             default_coordinate)
from optdyn.sim.rare.kernels import numpy_excursions

RTOL = 1e-9
LAND2 = sim.PiecewiseQuadraticWells(1.0, 1.0, 1.0, spectators=[3.0])
FIELDS = ("probability", "first_entrance_time", "loop_time", "reactive_time", "n_loops", "n_iterations",
          "n_reached", "steps")


def _problem(dyn, land=LAND2, batch=1.0):
    """Start at the first minimum, exit at the next."""
    ex = land.exit_beyond(0, 0)
    return sim.Problem(land, sim.HessianNoise(batch), dyn, land.minima[0], exit=ex)


def _batch(dyn):
    """Noise scale for short excursions and a not-too-rare escape: E ≈ 2 (E_SGD = 2B/η on the unit wells;
    Adam-like preconditioned updates: E_Adam = 2√B/η)."""
    return dyn.lr**2 if isinstance(dyn, (sim.Adam, sim.AdaMod, sim.AdamSDE, sim.RMSprop)) else dyn.lr


def _assert_runs_equal(a, b):
    for ra, rb in zip(a.runs, b.runs):
        for f in FIELDS:
            np.testing.assert_allclose(getattr(ra, f), getattr(rb, f), rtol=RTOL, err_msg=f)


#: The default run covers a step-index-dependent optimizer (Adam: bias corrections), an underdamped SDE
#: (velocity state) and a 2-D optimizer with a product in its state (Adai); the slow run every example.
REPRESENTATIVE = [sim.Adam(0.05, beta1=0.8, beta2=0.99), sim.MomentumSDE(0.1, 0.8, beta3=0.2, dt=0.03), sim.Adai(0.05)]


def _compare_backends(dyn):
    prob = _problem(dyn, batch=_batch(dyn))
    kw = dict(n_replicas=6, n_kill=2, n_runs=2, seed=3, n_entries=3, burn_in=0.0, max_steps=200_000)
    a = ams_escape(prob, backend="numba", **kw)
    b = ams_escape(prob, backend="numpy", **kw)
    _assert_runs_equal(a, b)
    assert 0 < a.probability < 1 and any(r.n_iterations > 0 for r in a.runs)


@pytest.mark.parametrize("dyn", REPRESENTATIVE, ids=repr)
def test_compiled_matches_reference(dyn):
    """The compiled direct and excursion programs against the NumPy reference, through the whole AMS
    run (selection, branching at records, per-replica step indices for bias corrections)."""
    _compare_backends(dyn)


@pytest.mark.slow
@pytest.mark.parametrize("dyn", registry.examples(), ids=repr)
def test_compiled_matches_reference_every_dynamics(dyn):
    _compare_backends(dyn)


def test_excursion_records_resume_across_pauses():
    """Long excursions overflow the compiled record buffer and resume: the records equal the
    reference's (no buffer) one for one."""
    from optdyn.sim.rare.ams import RECORD_CAPACITY, _NumbaPrograms

    prob = _problem(sim.SGDLangevin(0.05, dt=0.001), land=sim.PiecewiseQuadraticWells(1.0, 1.0, 1.0), batch=0.02)
    coord = default_coordinate(prob)
    states = np.tile(prob.landscape.minima[0] + 0.05, (4, 1))
    m0 = coord.value(states, np.empty((4, 0)))
    k0 = np.arange(4, dtype=np.int64)
    s1, r1, n1 = _NumbaPrograms(prob, coord).excursions(states, k0, m0, 5, 10, -0.5, 10**6)
    s2, r2, n2 = numpy_excursions(prob, coord, states, k0, m0, 5, 10, -0.5, 10**6)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(n1, n2)
    assert max(r[0].size for r in r1) > RECORD_CAPACITY  # the buffer did overflow
    for a, b in zip(r1, r2):
        np.testing.assert_allclose(a[0], b[0], rtol=RTOL)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_allclose(a[2], b[2], rtol=RTOL)


def test_thread_count_changes_nothing():
    prob = _problem(sim.Adam(0.05, beta1=0.8, beta2=0.99), batch=0.05)
    kw = dict(n_replicas=40, n_kill=5, n_runs=2, seed=11, burn_in=0.0)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = ams_escape(prob, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = ams_escape(prob, **kw)
    finally:
        numba.set_num_threads(old)
    for ra, rb in zip(a.runs, b.runs):
        for f in FIELDS:
            assert getattr(ra, f) == getattr(rb, f) or (np.isnan(getattr(ra, f)) and np.isnan(getattr(rb, f)))


def test_default_coordinate_is_zero_at_minimum_one_at_saddle():
    land = sim.PiecewiseQuadraticWells(2.0, 0.5, 1.0, spectators=[3.0], rotation=sim.random_rotation(2, 4))
    prob = _problem(sim.SGD(0.1), land=land)
    c = default_coordinate(prob)
    np.testing.assert_allclose(c.value(land.minima[0]), 0.0, atol=1e-12)
    np.testing.assert_allclose(c.value(land.saddles[0]), 1.0, rtol=1e-12)
    # along the escape direction only: a spectator displacement does not move ξ
    e_perp = land.rotation[:, 1]
    np.testing.assert_allclose(c.value(land.minima[0] + 0.3 * e_perp), 0.0, atol=1e-12)


def test_default_burn_in():
    assert default_burn_in_steps(sim.SGD(0.1)) == 0
    assert default_burn_in_steps(sim.MomentumSDE(0.1, 0.9)) == 0
    k = default_burn_in_steps(sim.Adam(0.1, beta1=0.9, beta2=0.999))
    # 1 − β₂^k within 1e-3 of 1 (the slowest coefficient): k = ceil(ln 1e-3 / ln 0.999) up to the sqrt
    assert abs(k - np.log(1e-3) / np.log(0.999)) <= 2 or abs(k - np.log(2e-3) / np.log(0.999)) <= 2


@pytest.mark.parametrize("kw, name", [(dict(n_replicas=1), "n_replicas"), (dict(n_kill=10, n_replicas=10), "n_kill"),
                                      (dict(n_runs=0), "n_runs"), (dict(levels=(0.2, 0.1)), "levels"),
                                      (dict(levels=(-0.5, 0.1)), "start"), (dict(n_entries=1), "n_entries"),
                                      (dict(backend="gpu"), "backend"), (dict(burn_in=-1.0), "burn_in"),
                                      (dict(coordinate=LinearCoordinate([0.0], [1.0])), "dimension")])
def test_bad_input_names_the_parameter(kw, name):
    prob = _problem(sim.SGD(0.1))
    with pytest.raises((ValueError, TypeError), match=name):
        ams_escape(prob, **kw)


def test_against_exact_mfpt_quadrature():
    """AMS of the SGD SDE at E_SGD = 6 against the exact quadrature MFPT: within 4 jackknife SE plus
    the Euler–Maruyama bias E·|H|·dt/2 (the exit wall moved out by the discrete-monitoring shift)."""
    land = sim.PiecewiseQuadraticWells(1.0, 1.0, 1.0)
    lr, dt, e = 0.1, 0.01, 6.0
    batch = e * lr / 2.0  # E_SGD = (2BΔL/η)(s/H_a + (1−s)/|H_b|) = 2B/η on the unit wells
    base = _problem(sim.SGDLangevin(lr, dt=dt), land=land, batch=batch)
    shift = float(sim.escape.discrete_monitoring_shift(base, land.minima[-1])[0])
    ex = sim.HalfSpaceExit(base.exit.normal, base.exit.offset + shift)
    prob = sim.Problem(land, base.noise, base.dynamics, base.x0, exit=ex)
    exact = sim.exact.adapters.mfpt_1d(prob, absorbing=ex.offset / ex.normal[0]).value
    res = ams_escape(prob, n_replicas=100, n_runs=10, seed=2)
    bias = np.expm1(e * 1.0 * dt / 2)
    tol = N_SE * res.mean_time_se + bias * exact
    assert abs(res.mean_time - exact) <= tol, (res.mean_time, exact, res.mean_time_se)
    assert res.relative_se < 0.3  # informative


# ----------------------------------------------------------------------------------------------
# phase-space coordinate (position and velocity) for the underdamped dynamics
# ----------------------------------------------------------------------------------------------
def test_default_coordinate_adds_the_velocity_only_where_there_is_one():
    land = sim.PiecewiseQuadraticWells(1.0, 1.0, 1.0)
    for dyn in (sim.SGD(0.1), sim.SGDLangevin(0.1), sim.Adam(0.05), sim.AdamSDE(0.05, beta1=0.0)):
        assert type(default_coordinate(_problem(dyn, land=land))) is LinearCoordinate, dyn
    for dyn in (sim.Momentum(0.05, 0.9), sim.MomentumSDE(0.05, 0.9), sim.Adai(0.05), sim.AdaiSDE(0.05)):
        assert type(default_coordinate(_problem(dyn, land=land))) is PhaseSpaceCoordinate, dyn
    prob = _problem(sim.MomentumSDE(0.05, 0.9), land=land)
    assert type(default_coordinate(prob, velocity=False)) is LinearCoordinate
    with pytest.raises(ValueError, match="velocity"):
        default_coordinate(_problem(sim.SGD(0.1), land=land), velocity=True)


def test_phase_coordinate_level_and_value():
    """Level 0 at the minimum and 1 at the saddle whatever the velocity; the value adds c·u·v with the
    dynamics' velocity (r for the SDE, −m for the discrete optimizer: the same c·u·v for r = −m)."""
    land = sim.PiecewiseQuadraticWells(2.0, 0.5, 1.0, spectators=[3.0], rotation=sim.random_rotation(2, 4))
    a, b = land.minima[0], land.saddles[0]
    e = land.escape_direction(0, 0)
    sde = default_coordinate(_problem(sim.MomentumSDE(0.05, 0.9, beta3=0.1), land=land))
    disc = default_coordinate(_problem(sim.Momentum(0.05, 0.9, beta3=0.1), land=land))
    r = np.array([[0.3, -0.2], [1.0, 2.0]])
    for c in (sde, disc):
        np.testing.assert_allclose(c.level(np.stack([a, b])), [0.0, 1.0], atol=1e-12)
    span = e @ (b - a)
    weight = sim.rare.saddle_velocity_weight(sim.MomentumSDE(0.05, 0.9, beta3=0.1), land, sim.HessianNoise(1.0), b, e)
    expect = sde.level(np.stack([b, b])) + weight * (r @ e) / span
    np.testing.assert_allclose(sde.value(np.stack([b, b]), r), expect, rtol=1e-12)
    np.testing.assert_allclose(disc.value(np.stack([b, b]), -r), expect, rtol=1e-12)  # m = −r
    with pytest.raises(ValueError, match="aux"):
        sde.value(b)


@pytest.mark.parametrize("dyn", [sim.MomentumSDE(0.05, 0.9, beta3=0.1), sim.MomentumSDE(0.1, 0.5, beta3=1.0),
                                 sim.AdaiSDE(0.05), sim.Momentum(0.01, 0.9, beta3=0.1)], ids=repr)
def test_velocity_weight_is_the_unstable_modes_left_eigenvector(dyn):
    """c = 1/|λ₋| makes x + c·v proportional to the unstable amplitude of the dynamics linearised at the
    saddle: (1, c) is the left eigenvector of J = [[0, 1], [ω², −a]] for λ₊ (a = γ/M, ω² = p|H_b|/M),
    computed here by numpy.linalg.eig from the model's own mass, friction and preconditioner."""
    land = sim.PiecewiseQuadraticWells(1.0, 2.0, 1.0, spectators=[3.0])
    noise = sim.HessianNoise(1.0)
    b, e = land.saddles[0], land.escape_direction(0, 0)
    c = sim.rare.saddle_velocity_weight(dyn, land, noise, b, e)
    model = dyn.continuous() if dyn.kind == "discrete" else dyn
    mass = float(model.mass(b[None], land, noise)[0] @ e**2)
    pre = float(model.coefficients(b[None], land, noise)[1][0] @ e**2)
    h_b = abs(float(e @ land.hessian_at(b) @ e))
    jac = np.array([[0.0, 1.0], [pre * h_b / mass, -model.gamma / mass]])
    lam, left = np.linalg.eig(jac.T)
    w = left[:, np.argmax(lam.real)].real
    np.testing.assert_allclose(w[1] / w[0], c, rtol=1e-10)


@pytest.mark.parametrize("dyn", [sim.Momentum(0.05, 0.9), sim.Momentum(0.05, 0.8, ema=True), sim.Adai(0.05)],
                         ids=repr)
def test_velocity_map_is_the_displacement_per_time(dyn):
    """A noiseless step at a critical point of a flat direction moves θ by dt·V·aux' exactly (Adai with its
    inertia product P = 0, the limit the map takes)."""
    land = sim.PiecewiseQuadraticWells(1.0, 1.0, 1.0)
    noise = sim.HessianNoise(1.0)  # (z = 0: no noise)
    x = land.minima[0][None, :]  # ∇L = 0
    aux = dyn.initial_state(1)[None, :].copy()
    aux[0, 0] = 0.7  # the first moment
    if isinstance(dyn, sim.Adai):
        aux[0, 1], aux[0, 2] = 1.0, 0.0  # v > 0, P = 0
    x1, aux1 = dyn.numpy_step(x, aux, np.zeros((1, dyn.normals_per_step(1))), 10**6, land, noise)
    np.testing.assert_allclose((x1 - x)[0] / dyn.dt, dyn.velocity_map(1) @ aux1[0], rtol=1e-12)


def test_phase_coordinate_bad_input():
    pos = LinearCoordinate([0.0], [1.0])
    with pytest.raises(TypeError, match="position"):
        PhaseSpaceCoordinate([0.0], [1.0])
    with pytest.raises(ValueError, match="velocity_map"):
        PhaseSpaceCoordinate.with_velocity(pos, np.eye(2), 0.5)
    with pytest.raises(ValueError, match="weight"):
        PhaseSpaceCoordinate.with_velocity(pos, np.eye(1), -0.5)
    prob = _problem(sim.Adai(0.05))  # state (m, v, P) of length 6 on the 2-D wells
    wrong = PhaseSpaceCoordinate(LinearCoordinate([0.0, 0.0], [1.0, 0.0]), np.ones(2))
    with pytest.raises(ValueError, match="state of length"):
        ams_escape(prob, coordinate=wrong)


def _momentum_problem(e):
    """The Momentum SDE (EMA form, M = 0.5, γ = 1) on the 2-D wells with a spectator at E_SGD = e
    (B = eη/2); the same compiled programs as the Momentum SDE of the reference comparison above."""
    lr = 0.05
    return _problem(sim.MomentumSDE(lr, 0.9, beta3=0.1), batch=e * lr / 2)


def _unbiased_against_kramers(e, grid, n, m, velocities):
    """AMS against the exact (Kramers) MFPT: within 4 jackknife SE plus the solver's stated error, with
    the phase-space value (and the position-only one): the coordinate changes the variance, not the mean."""
    prob = _momentum_problem(e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResolutionWarning)  # the coarse grid states its larger error
        exact = sim.exact.adapters.kramers_mfpt_richardson(prob, *grid)
    out = {}
    for velocity in velocities:
        res = ams_escape(prob, n_replicas=n, n_runs=m, seed=21, coordinate=default_coordinate(prob, velocity=velocity))
        tol = N_SE * res.mean_time_se + exact.error * exact.value
        assert abs(res.mean_time - exact.value) <= tol, (velocity, res.mean_time, exact.value, res.mean_time_se)
        out[velocity] = res
    return out


def test_phase_coordinate_is_unbiased_small():
    """E = 4 (τ ≈ 480), coarse Kramers grid (stated error ~5 %), the phase-space value."""
    _unbiased_against_kramers(4.0, (120, 49), 60, 8, (True,))


@pytest.mark.slow
def test_phase_coordinate_is_unbiased_and_cuts_the_variance():
    """E = 8 with the solver's default grid, both values; the phase-space one has the smaller SE
    (docs/theory.md §7.1 gives the measured ratios)."""
    out = _unbiased_against_kramers(8.0, (480, 193), 100, 40, (True, False))
    assert out[True].mean_time_se < out[False].mean_time_se
