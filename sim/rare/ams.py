r"""Adaptive multilevel splitting (AMS) for escape times that direct simulation cannot reach.

The escape time from a minimum grows like :math:`e^{E}`; direct Monte Carlo stops at :math:`E \approx 10`.
AMS (Cérou & Guyader, "Adaptive multilevel splitting for rare event analysis", Stoch. Anal. Appl. 25,
2007) estimates the small probability :math:`p` that an excursion from the minimum reaches the exit
before returning, at a cost that grows like :math:`\log(1/p) \propto E`, and the decomposition of
Cérou, Guyader, Lelièvre & Pommier ("A multiple replica approach to simulate reactive trajectories",
J. Chem. Phys. 134, 054108, 2011) turns it into the mean escape time.

**Decomposition.**  With a reaction coordinate (:mod:`sim.rare.coordinate`) whose *level*
:math:`\ell(\theta)` (a function of the position; 0 at the minimum, 1 at the saddle by default) defines
the set :math:`A = \{\ell \le z_A\}` around the minimum and the surface
:math:`\Sigma = \{\ell \ge z_\Sigma\}`, a path from the start alternates *loops* (enter :math:`\Sigma`,
return to :math:`A`, enter :math:`\Sigma` again) until an excursion from :math:`\Sigma` reaches the exit
region :math:`B` before :math:`A`.  The number of failed excursions is geometric with success probability
:math:`p`, so

.. math:: \tau = T_0 + \Big(\frac1p - 1\Big)\,\bar L + \bar R,

:math:`T_0` the mean time from the start to the first entrance into :math:`\Sigma`, :math:`\bar L` the
mean duration of a failed loop (entrance to next entrance), :math:`\bar R` the mean duration of a
successful excursion (entrance to exit).  :math:`T_0` and :math:`\bar L` come from direct simulation
(cheap: loops are frequent), and so does the distribution of entrance states (position **and the full
optimizer state**: momentum, second moments, products, step index) from which the AMS replicas start;
:math:`p` and :math:`\bar R` come from AMS.  The formula is exact when the entrance states of successive
loops are independent and identically distributed (a renewal; e.g. the overdamped 1-D SDE); for
dynamics with memory (momentum, adaptive moments) it is the standard approximation that a return to
:math:`A` forgets the entrance state, and the checks compare it with exact MFPTs.

**AMS** (the generalised algorithm of Bréhier, Gazeau, Goudenège, Lelièvre & Rousset, "Unbiasedness of
some generalized adaptive multilevel splitting algorithms", Ann. Appl. Probab. 26, 2016): ``n_replicas``
excursions start from entrance states; each runs to :math:`A` or :math:`B` and is scored by the largest
*value* :math:`\xi` of the coordinate it reached (:math:`+\infty` in :math:`B`; the importance function,
which may read the optimizer state: the default for Momentum, Adai and their SDEs adds the velocity,
:class:`~sim.rare.coordinate.PhaseSpaceCoordinate`).  Each iteration takes the ``n_kill``-th smallest
score :math:`Z`, kills every replica with score :math:`\le Z` (ties included: :math:`K' \ge` ``n_kill``),
multiplies the weight by :math:`1 - K'/N`, and restarts each killed replica as a clone of a survivor
chosen uniformly, from the survivor's first state with :math:`\xi > Z` and with a new random stream.  It
stops when :math:`Z = +\infty`; then :math:`\hat p = (\prod_j (1 - K'_j/N))\cdot N_B/N` is an **unbiased**
estimate of :math:`p`, and the successful replicas' durations (measured from their ancestor's entrance)
give :math:`\bar R` (an unbiased estimate of :math:`\mathbb E[R\,1_B]` divided by :math:`\hat p`).
A clone keeps its parent's step index ``k``, so step coefficients (bias corrections) continue correctly.
The estimates are unbiased for any value :math:`\xi`; the value only sets their variance.  The level,
which fixes what :math:`p`, :math:`T_0`, :math:`\bar L`, :math:`\bar R` are, is the same position
coordinate whichever value is used.  A poor value shows as a heavy right tail of :math:`\hat p` over
runs (most runs low, rare runs high, so that a few runs understate both :math:`p` and the SE): for
the underdamped models the position-only value had max/mean 8.7 of :math:`\hat p` over 100 runs (Adai
SDE, :math:`E = 10`, 100 replicas), the phase-space value 2.2 (docs/theory.md §7.1).

**Runs and intervals.**  ``n_runs`` independent AMS runs (each with its own direct phase) give
:math:`\hat p` as the mean of unbiased estimates with its standard error, and
:math:`\hat\tau = \bar T_0 + (1/\bar p - 1)\bar L + \bar R` with a jackknife standard error over runs
(:math:`\hat\tau` is consistent, not unbiased: :math:`1/\bar p` has a bias of relative order
:math:`\mathrm{Var}(\hat p)/(M p^2)`; the jackknife's bias estimate is reported as ``mean_time_bias``).
The interval is :math:`\hat\tau \pm t_{0.975, M-1}\,\mathrm{SE}`.

**Streams.**  Run ``m`` derives three seeds from ``(seed, m)`` (:class:`numpy.random.SeedSequence`): the
direct paths' streams (path ids 0…), the replicas' streams (the initial replicas are ids 0…N−1, each
clone takes the next id in creation order) and the selection of initial states and parents.  Every path
draws only from its own stream, so the estimates do not depend on the number of threads.

**Cost** grows like :math:`N\log(1/p)/K` excursions of bounded length, i.e. linearly in :math:`E`
(``AMSResult.steps``: path-steps per estimate), where direct simulation needs :math:`\propto e^E`.

References
----------
docs/theory.md §7 (rare-event estimates of escape times).  F. Cérou, A. Guyader, Stoch. Anal. Appl. 25
(2007) 417–443.  F. Cérou, A. Guyader, T. Lelièvre, D. Pommier, J. Chem. Phys. 134 (2011) 054108.
C.-E. Bréhier, M. Gazeau, L. Goudenège, T. Lelièvre, M. Rousset, Ann. Appl. Probab. 26 (2016) 3559–3601.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .. import _validation as V
from .coordinate import ReactionCoordinateBase, default_coordinate
from .kernels import (DIVERGED, OUTSIDE, PAUSED, REACHED, RUNNING, TOO_LONG, numpy_direct, numpy_excursions,
                      rare_kernels_for, seed_states)

__all__ = ["ams_escape", "AMSRun", "AMSResult", "default_burn_in_steps"]

#: Records buffered per path in the compiled excursion program before it pauses to hand them over.
RECORD_CAPACITY = 64


# ----------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------
@dataclass
class AMSRun:
    """One independent AMS run (times in continuous units, ``t = k·dt``)."""

    probability: float  #: unbiased p̂ (excursion from Σ reaches the exit before A)
    first_entrance_time: float  #: T̂_0 (start → first entrance into Σ after the burn-in)
    loop_time: float  #: L̂ (mean failed loop: entrance → next entrance)
    reactive_time: float  #: R̂ (mean successful excursion: entrance → exit); nan when p̂ = 0
    n_loops: int
    n_iterations: int
    n_reached: int  #: replicas in the exit region at the end
    steps: int  #: path-steps simulated (direct phase + AMS)
    direct_steps: int
    burn_in_escapes: int  #: direct paths that reached the exit before their first counted entrance
    wall_s: float

    @property
    def mean_time(self) -> float:
        """τ̂ of this run alone (∞ when p̂ = 0)."""
        if self.probability == 0:
            return np.inf
        return self.first_entrance_time + (1 / self.probability - 1) * self.loop_time + self.reactive_time


@dataclass
class AMSResult:
    """Escape-time estimate from independent AMS runs (see the module docstring).

    Times are continuous (``t = k·dt``; a discrete optimizer has ``dt = lr``, so ``/ dt`` gives
    iterations).  ``mean_time_ci`` is the 95 % interval :math:`\\hat\\tau \\pm t_{0.975,M-1}` SE.
    """

    runs: list
    dt: float
    levels: tuple
    n_replicas: int
    n_kill: int
    burn_in_steps: int
    probability: float = field(init=False)
    probability_se: float = field(init=False)
    mean_time: float = field(init=False)
    mean_time_se: float = field(init=False)
    mean_time_bias: float = field(init=False)
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        p = np.array([r.probability for r in self.runs])
        m = p.size
        self.probability = float(p.mean())
        self.probability_se = float(p.std(ddof=1) / np.sqrt(m)) if m > 1 else np.nan
        self.mean_time = _pooled_time(self.runs)
        if m > 1:
            jack = np.array([_pooled_time(self.runs[:i] + self.runs[i + 1:]) for i in range(m)])
            self.mean_time_se = float(np.sqrt((m - 1) / m * np.sum((jack - jack.mean()) ** 2)))
            self.mean_time_bias = float((m - 1) * (jack.mean() - self.mean_time))
        else:
            self.mean_time_se = self.mean_time_bias = np.nan

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    @property
    def mean_time_ci(self) -> tuple:
        q = stats.t.ppf(0.975, self.n_runs - 1) if self.n_runs > 1 else np.nan
        return (self.mean_time - q * self.mean_time_se, self.mean_time + q * self.mean_time_se)

    @property
    def relative_se(self) -> float:
        return self.mean_time_se / self.mean_time

    @property
    def steps(self) -> float:
        """Mean path-steps per run (the cost of one AMS estimate)."""
        return float(np.mean([r.steps for r in self.runs]))

    def summary(self) -> dict:
        return {"mean_time": self.mean_time, "mean_time_se": self.mean_time_se,
                "mean_time_ci": list(self.mean_time_ci), "mean_time_bias": self.mean_time_bias,
                "probability": self.probability, "probability_se": self.probability_se,
                "loop_time": float(np.mean([r.loop_time for r in self.runs])),
                "reactive_time": float(np.nanmean([r.reactive_time for r in self.runs])),
                "first_entrance_time": float(np.mean([r.first_entrance_time for r in self.runs])),
                "steps_per_run": self.steps, "n_runs": self.n_runs, "n_replicas": self.n_replicas,
                "n_kill": self.n_kill, "levels": list(self.levels), "burn_in_steps": self.burn_in_steps,
                "burn_in_escapes": int(sum(r.burn_in_escapes for r in self.runs)),
                "wall_s": float(sum(r.wall_s for r in self.runs)), **self.details}


def _pooled_time(runs) -> float:
    """τ̂ from pooled runs: mean T̂_0, loop-weighted L̂, unbiased p̄, R̄ = Σ p̂R̂ / Σ p̂."""
    p = np.array([r.probability for r in runs])
    if p.sum() == 0:
        return np.inf
    t0 = np.mean([r.first_entrance_time for r in runs])
    n_loops = np.array([r.n_loops for r in runs], float)
    loop = np.sum(n_loops * [r.loop_time for r in runs]) / n_loops.sum()
    reac = np.sum([pi * r.reactive_time for pi, r in zip(p, runs) if pi > 0]) / p.sum()
    return float(t0 + (1 / p.mean() - 1) * loop + reac)


# ----------------------------------------------------------------------------------------------
# path programs: compiled and reference
# ----------------------------------------------------------------------------------------------
class _NumbaPrograms:
    """The compiled direct/excursion programs with the NumPy reference's interface."""

    def __init__(self, problem, coordinate):
        self.problem, self.coordinate = problem, coordinate
        self.noise = problem.noise.bind(problem.landscape)
        self.direct_kernel, self.excursion_kernel = rare_kernels_for(problem, coordinate, self.noise)
        dyn = problem.dynamics
        self.n_work = max(1, dyn.work_size(problem.dim) + self.noise.work)
        p = problem
        self.params = (p.landscape.params, self.noise.params, dyn.params, p.exit.params, coordinate.params)

    def _scratch(self, n):
        return np.full((n, self.n_work), np.nan)

    def direct(self, seed, first_id, n, z_a, z_s, k_burn, capacity, max_steps):
        p = self.problem
        dim, n_aux = p.dim, p.initial_state.size
        x, aux = np.tile(p.x0, (n, 1)), np.tile(p.initial_state, (n, 1)).reshape(n, n_aux)
        k, steps = np.zeros(n, np.int64), np.zeros(n, np.int64)
        status = np.full(n, RUNNING, np.int64)
        ent_k = np.full((n, capacity), -1, np.int64)
        ent_state = np.full((n, capacity, dim + n_aux), np.nan)
        n_ent = np.zeros(n, np.int64)
        self.direct_kernel(x, aux, k, seed_states(seed, first_id, n), self._scratch(n), np.ones(n), steps, status,
                           *self.params, float(z_a), float(z_s), np.int64(k_burn), np.int64(max_steps),
                           np.empty((n, capacity)), ent_k, ent_state, n_ent)
        return status, ent_k, ent_state, n_ent, k

    def excursions(self, states, k0, m0, seed, first_id, z_a, max_steps):
        dim = self.problem.dim
        n, width = states.shape
        x, aux = states[:, :dim].copy(), states[:, dim:].copy()
        k, m = np.asarray(k0, np.int64).copy(), np.asarray(m0, float).copy()
        s, w = seed_states(seed, first_id, n), self._scratch(n)
        steps, status = np.zeros(n, np.int64), np.full(n, RUNNING, np.int64)
        rec_xi = np.empty((n, RECORD_CAPACITY))
        rec_k = np.empty((n, RECORD_CAPACITY), np.int64)
        rec_state = np.empty((n, RECORD_CAPACITY, width))
        n_rec = np.zeros(n, np.int64)
        parts = [[] for _ in range(n)]
        while np.any(status == RUNNING):
            self.excursion_kernel(x, aux, k, s, w, m, steps, status, *self.params, float(z_a), np.inf, np.int64(0),
                                  np.int64(max_steps), rec_xi, rec_k, rec_state, n_rec)
            for q in np.flatnonzero(n_rec):
                r = n_rec[q]
                parts[q].append((rec_xi[q, :r].copy(), rec_k[q, :r].copy(), rec_state[q, :r].copy()))
            n_rec[:] = 0
            status[status == PAUSED] = RUNNING
        records = [(np.concatenate([a for a, _, _ in pq]) if pq else np.empty(0),
                    np.concatenate([b for _, b, _ in pq]) if pq else np.empty(0, np.int64),
                    np.concatenate([c for _, _, c in pq]) if pq else np.empty((0, width)))
                   for pq in parts]
        return status, records, steps


class _NumpyPrograms:
    """The NumPy reference programs (:func:`sim.rare.kernels.numpy_direct`, ``numpy_excursions``)."""

    def __init__(self, problem, coordinate):
        self.problem, self.coordinate = problem, coordinate

    def direct(self, seed, first_id, n, z_a, z_s, k_burn, capacity, max_steps):
        p = self.problem
        return numpy_direct(p, self.coordinate, p.x0, p.initial_state, seed, first_id, n, z_a, z_s, k_burn,
                            capacity, max_steps)

    def excursions(self, states, k0, m0, seed, first_id, z_a, max_steps):
        return numpy_excursions(self.problem, self.coordinate, states, k0, m0, seed, first_id, z_a, max_steps)


_PROGRAMS = {"numba": _NumbaPrograms, "numpy": _NumpyPrograms}


# ----------------------------------------------------------------------------------------------
# the algorithm
# ----------------------------------------------------------------------------------------------
def default_burn_in_steps(dynamics, rtol: float = 1e-3) -> int:
    """Steps after which the dynamics' per-step coefficients (bias corrections) are within ``rtol`` of
    their limit: entrances before it are not used (0 for a step that does not depend on its index)."""
    if dynamics.n_step_coefficients == 0:
        return 0
    limit = dynamics.step_coefficients(10**15)

    def close(k):
        c = dynamics.step_coefficients(k)
        return bool(np.all(np.abs(c - limit) <= rtol * np.abs(limit)))

    hi = 1
    while not close(hi):
        hi *= 2
        if hi > 10**12:
            raise ValueError(f"the step coefficients of {dynamics!r} do not converge; pass burn_in=")
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if close(mid) else (mid, hi)
    return hi if hi > 1 else 0


def _check_status(status, what, max_steps):
    if np.any(status == TOO_LONG):
        raise RuntimeError(f"{int(np.sum(status == TOO_LONG))} {what} ran past max_steps={max_steps}: raise "
                           "max_steps or check that the levels are reachable")
    if np.any(status == DIVERGED):
        raise FloatingPointError(f"{int(np.sum(status == DIVERGED))} {what} diverged (non-finite position)")
    if np.any(status == OUTSIDE):
        raise ValueError("a path reached the exit region without crossing the level z_sigma: the levels must "
                         "separate the start from the exit (z_A < z_sigma < ξ on the exit)")


def _one_run(programs, problem, coordinate, n, n_kill, z_a, z_s, k_burn, n_entries, max_steps, seeds):
    """One AMS run with its direct phase; returns an :class:`AMSRun`."""
    t_start = time.perf_counter()
    dt = problem.dynamics.dt
    seed_direct, seed_ams, seed_select = seeds
    rng = np.random.default_rng(seed_select)
    # -- direct phase: entrances into Σ, loops, T_0
    status, ent_k, ent_state, n_ent, k_end = programs.direct(seed_direct, 0, n, z_a, z_s, k_burn, n_entries,
                                                                     max_steps)
    _check_status(status, "direct paths", max_steps)
    direct_steps = int(k_end.sum())
    has = n_ent > 0
    burn_in_escapes = int(np.sum(~has & (status == REACHED)))
    if not np.any(has):
        raise RuntimeError("no direct path entered Σ after the burn-in: lower z_sigma or raise max_steps")
    t0 = float(ent_k[has, 0].mean() * dt)
    loops = np.concatenate([np.diff(ent_k[i, :n_ent[i]]) for i in range(n)]) * dt
    if loops.size == 0:
        raise RuntimeError("no complete loop A → Σ → A → Σ in the direct phase: the escape is not rare at "
                           "these levels (raise z_sigma or use direct simulation)")
    pool_k = np.concatenate([ent_k[i, :n_ent[i]] for i in range(n)])
    pool_state = np.concatenate([ent_state[i, :n_ent[i]] for i in range(n)])
    pick = rng.choice(pool_k.size, size=n, replace=pool_k.size < n)
    # -- AMS
    starts, k0 = pool_state[pick], pool_k[pick]
    dim = problem.dim
    level0 = np.where(problem.exit.label(starts[:, :dim]) != 0, np.inf,
                      coordinate.value(starts[:, :dim], starts[:, dim:]))
    root = k0.copy()  # step index of each replica's ancestral entrance
    records = [(np.array([level0[i]]), np.array([k0[i]]), starts[i:i + 1]) for i in range(n)]
    levels, final_k = level0.copy(), k0.copy()
    run = np.flatnonzero(np.isfinite(level0))
    next_id = 0
    ams_steps = 0

    def simulate(idx):
        nonlocal next_id, ams_steps
        st = np.stack([records[i][2][-1] for i in idx])
        kk = np.array([records[i][1][-1] for i in idx])
        status, recs, steps = programs.excursions(st, kk, levels[idx], seed_ams, next_id, z_a, max_steps)
        _check_status(status, "replicas", max_steps)
        next_id += idx.size
        ams_steps += int(steps.sum())
        for i, (xi, kr, sr) in zip(idx, recs):
            a, b, c = records[i]
            records[i] = (np.concatenate([a, xi]), np.concatenate([b, kr]), np.concatenate([c, sr]))
            levels[i] = records[i][0].max()
            final_k[i] = kr[-1] if kr.size else final_k[i]
        reached = status == REACHED
        levels[idx[reached]] = np.inf

    simulate(run)
    log_weight, n_iter = 0.0, 0
    while True:
        z = np.partition(levels, n_kill - 1)[n_kill - 1]
        if z == np.inf:
            break
        killed = np.flatnonzero(levels <= z)
        survivors = np.flatnonzero(levels > z)
        n_iter += 1
        if survivors.size == 0:  # extinction: every replica has the same score
            log_weight = -np.inf
            break
        log_weight += np.log1p(-killed.size / n)
        parents = survivors[rng.integers(0, survivors.size, size=killed.size)]
        for i, par in zip(killed, parents):
            xi, kr, sr = records[par]
            j = int(np.argmax(xi > z))  # first state above the level
            records[i] = (xi[j:j + 1].copy(), kr[j:j + 1].copy(), sr[j:j + 1].copy())
            levels[i], final_k[i], root[i] = xi[j], kr[j], root[par]
        fresh = killed[np.isfinite(levels[killed])]
        if fresh.size:
            simulate(fresh)
    reached = np.isinf(levels) & (levels > 0)
    p_hat = float(np.exp(log_weight) * reached.sum() / n) if np.isfinite(log_weight) else 0.0
    reactive = float(np.mean((final_k[reached] - root[reached]) * dt)) if reached.any() else np.nan
    return AMSRun(probability=p_hat, first_entrance_time=t0, loop_time=float(loops.mean()), reactive_time=reactive,
                  n_loops=int(loops.size), n_iterations=n_iter, n_reached=int(reached.sum()),
                  steps=direct_steps + ams_steps, direct_steps=direct_steps, burn_in_escapes=burn_in_escapes,
                  wall_s=time.perf_counter() - t_start)


def ams_escape(problem, *, n_replicas: int = 100, n_kill: int | None = None, n_runs: int = 10, seed: int = 0,
               coordinate: ReactionCoordinateBase | None = None, levels=(0.0, 0.1), burn_in: float | None = None,
               n_entries: int = 4, max_steps: int = 10**7, backend: str = "numba") -> AMSResult:
    r"""Mean escape time of ``problem`` (from its start to its exit region) by adaptive multilevel splitting.

    Parameters
    ----------
    problem : Problem
        Any dynamics (SDE or discrete optimizer, any state), any dimension; the exit region is the target
        :math:`B`; the start must lie in :math:`A`.
    n_replicas : int
        Replicas :math:`N` per run (≥ 2); the relative variance of :math:`\hat p` is about
        :math:`\log(1/p)/N` for a good coordinate.
    n_kill : int, optional
        Replicas killed per iteration, :math:`K` (1 ≤ K < N); default ``max(1, N // 10)``.
    n_runs : int
        Independent runs :math:`M` (≥ 2 for an interval).
    seed : int
        Seed of every stream (see the module docstring).
    coordinate : ReactionCoordinateBase, optional
        Level :math:`\ell` (A, Σ) and value :math:`\xi` (the importance function); default
        :func:`sim.rare.coordinate.default_coordinate` (level 0 at the minimum, 1 at the saddle; the value
        adds the velocity for dynamics that have one).
    levels : (z_A, z_sigma)
        :math:`A = \{\ell \le z_A\}` (must contain the start) and :math:`\Sigma = \{\ell \ge z_\Sigma\}`,
        :math:`z_A < z_\Sigma`.  The default (0, 0.1) puts :math:`\Sigma` a tenth of the way to the saddle.
    burn_in : float, optional
        Time before which entrances are not used (default: :func:`default_burn_in_steps` · dt, where the
        bias corrections have converged to 1e-3; 0 for SDEs and Momentum).
    n_entries : int
        Entrances each direct path records (≥ 2: loops need two).
    max_steps : int
        Upper bound on the steps of one path (an error beyond it).
    backend : {"numba", "numpy"}
        Compiled programs or the NumPy reference (same numbers, slow).
    """
    from ..problem import Problem

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    n = V.positive_int("n_replicas", n_replicas, minimum=2)
    k = max(1, n // 10) if n_kill is None else V.positive_int("n_kill", n_kill)
    if k >= n:
        raise ValueError(f"n_kill must be in [1, n_replicas - 1] = [1, {n - 1}], got {k}")
    m = V.positive_int("n_runs", n_runs)
    ent = V.positive_int("n_entries", n_entries, minimum=2)
    max_steps = V.positive_int("max_steps", max_steps)
    if backend not in _PROGRAMS:
        raise ValueError(f"backend must be one of {sorted(_PROGRAMS)}, got {backend!r}")
    coordinate = default_coordinate(problem) if coordinate is None else coordinate
    if not isinstance(coordinate, ReactionCoordinateBase):
        raise TypeError(f"coordinate must be a ReactionCoordinateBase, got {type(coordinate).__name__}")
    if coordinate.dim != problem.dim:
        raise ValueError(f"coordinate has dimension {coordinate.dim}, the problem {problem.dim}")
    lv = V.finite_array("levels", levels, shape=(2,))
    z_a, z_s = float(lv[0]), float(lv[1])
    if not z_a < z_s:
        raise ValueError(f"levels must satisfy z_A < z_sigma, got {tuple(lv)}")
    coordinate.check_state(int(problem.initial_state.size))
    xi0 = float(coordinate.level(problem.x0))
    if xi0 > z_a:
        raise ValueError(f"the start must lie in A = {{ℓ <= z_A = {z_a}}}, but ℓ(x0) = {xi0:.6g}: lower the start "
                         "or raise levels[0]")
    dt = problem.dynamics.dt
    if burn_in is None:
        k_burn = default_burn_in_steps(problem.dynamics)
    else:
        k_burn = int(np.ceil(V.positive("burn_in", burn_in, allow_zero=True) / dt))
    programs = _PROGRAMS[backend](problem, coordinate)
    runs = []
    for r in range(m):
        st = np.random.SeedSequence(entropy=int(seed), spawn_key=(r,)).generate_state(6, np.uint64)
        seeds = tuple(int(v) & (2**63 - 1) for v in st[:3])
        runs.append(_one_run(programs, problem, coordinate, n, k, z_a, z_s, k_burn, ent, max_steps, seeds))
    return AMSResult(runs, dt, (z_a, z_s), n, k, k_burn,
                     details={"coordinate": coordinate.describe(), "backend": backend})
