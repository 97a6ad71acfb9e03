r"""The two path programs of adaptive multilevel splitting, compiled (numba) and as a NumPy reference.

Both advance paths of any dynamics (:mod:`sim.dynamics`: SDEs and the real optimizers with their full
state) with the dynamics' own compiled step, exactly as the ensemble kernel
(:mod:`sim.backends.numba_backend`) does, with one difference: **every path carries its own step index**
``k`` and the per-step coefficients (Adam's bias corrections, …) are computed per path and step, because a
cloned replica continues its parent's optimizer at the parent's iteration, not at the iteration of its
neighbours.

* **direct** (the loops around the minimum): from the problem's start, a path cycles between the set
  :math:`A = \{\ell \le z_A\}` and the surface :math:`\Sigma = \{\ell \ge z_\Sigma\}` (:math:`\ell` the
  coordinate's level, a function of the position).  Each first crossing
  of :math:`\Sigma` after a visit to :math:`A` is an *entrance*; entrances after the burn-in step are
  stored (step index and full state) until ``capacity`` of them are, or the path reaches the exit.
* **excursion** (one AMS replica): from a given state, run until :math:`\ell \le z_A` (back in A) or the
  exit region (label > 0).  Every time the running maximum of the coordinate's value :math:`\xi` (the
  importance function; it may read the optimizer state) increases, the state is stored
  (a *record*): the first state above any level :math:`z` is a record, so branching a clone at level
  :math:`z` needs the records only, not the whole path.  The exit state is stored as a record at level
  :math:`+\infty`.  When a path's record buffer is full it pauses (status ``PAUSED``) with its state and
  random stream intact; the caller empties the buffer and resumes it.

Every path draws from its own stream (:mod:`sim.backends.rng`), seeded by the caller from
``(seed, path id)``, so the results do not depend on the number of threads.  The NumPy reference
(:func:`numpy_direct`, :func:`numpy_excursions`) is written independently from the dynamics'
``numpy_step`` and draws the same numbers (:class:`sim.backends.rng.PathStreams`); the tests compare
the two path by path.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._jit import jit, prange
from ..backends.compile_cache import enable_disk_cache
from ..backends.rng import PathStreams, standard_normal

__all__ = ["RUNNING", "RETURNED", "REACHED", "PAUSED", "TOO_LONG", "DIVERGED", "DONE", "OUTSIDE",
           "make_rare_kernels", "rare_kernels_for", "numpy_direct", "numpy_excursions", "seed_states"]

#: Path status codes shared by the kernels, the reference and the driver.
RUNNING, RETURNED, REACHED, PAUSED, TOO_LONG, DIVERGED, DONE, OUTSIDE = range(8)


def seed_states(seed: int, first_id: int, n: int) -> np.ndarray:
    """``(n, 4)`` xoshiro256** states of paths ``first_id … first_id + n − 1`` under ``seed``
    (the same streams as :func:`sim.backends.rng.seed_state`)."""
    return np.ascontiguousarray(PathStreams(seed, first_id, n).state.T)


@lru_cache(maxsize=None)
def make_rare_kernels(step, step_coefficients, exit_label, coord_value, coord_level, dim, n_aux, n_z, n_coef,
                      n_work):
    """Compile ``(direct, excursion)`` for one (dynamics step, exit test, coordinate, dimensions)
    combination (memoised; the dimensions are compile-time constants as in the ensemble kernel).

    Both programs share one signature ``(x, aux, k, s, w, flag, steps, status, lp, nzp, dp, ep, cp, z_a,
    z_s, k_burn, max_steps, rec_xi, rec_k, rec_state, n_rec)``: per path its position, optimizer state,
    step index, stream and scratch, ``flag`` (direct: 1.0 while the path may enter Σ, i.e. since its last
    visit to A; excursion: the running maximum of ξ), the steps taken, the status, the parameters, the
    levels, and a buffer of stored states (direct: the entrances; excursion: the records).  Only paths
    with status ``RUNNING`` advance.
    """
    args = (step, step_coefficients, exit_label, coord_value, coord_level, dim, n_aux, n_z, n_coef, n_work)
    return _make_program(True, *args), _make_program(False, *args)


def _make_program(direct, step, step_coefficients, exit_label, coord_value, coord_level, dim, n_aux, n_z, n_coef,
                  n_work):
    """One path program; ``direct`` (a compile-time constant) selects what happens after each step."""
    n_c, n_w = max(1, n_coef), max(1, n_work)

    @jit(inline=True)
    def copy_state(q, x, aux, s, w, xq, aq, sq, wq, into_path):
        for i in range(dim):
            if into_path:
                xq[i] = x[q, i]
            else:
                x[q, i] = xq[i]
        for i in range(n_aux):
            if into_path:
                aq[i] = aux[q, i]
            else:
                aux[q, i] = aq[i]
        for i in range(4):
            if into_path:
                sq[i] = s[q, i]
            else:
                s[q, i] = sq[i]
        for i in range(n_w):
            if into_path:
                wq[i] = w[q, i]
            else:
                w[q, i] = wq[i]

    @jit(inline=True)
    def store(q, j, r, kq, xq, aq, rec_xi, rec_k, rec_state):
        rec_xi[q, j] = r
        rec_k[q, j] = kq
        for i in range(dim):
            rec_state[q, j, i] = xq[i]
        for i in range(n_aux):
            rec_state[q, j, dim + i] = aq[i]

    @jit
    def run_path(q, x, aux, k, s, w, flag, steps, status, lp, nzp, dp, ep, cp, z_a, z_s, k_burn, max_steps,
                 rec_xi, rec_k, rec_state, n_rec):
        z, c, g, xi = np.empty(n_z), np.empty(n_c), np.empty(dim), np.empty(dim)
        cap = rec_k.shape[1]
        # the path's state in arrays of compile-time size: the steps ran 8x faster than on rows of the
        # caller's arrays, whose lengths the compiler does not know (and 20x faster than behind an
        # inlined helper function, so the step is written out here)
        xq, aq, sq, wq = np.empty(dim), np.empty(n_aux), np.empty(4, np.uint64), np.empty(n_w)
        copy_state(q, x, aux, s, w, xq, aq, sq, wq, True)
        kq, fq, nq, stq = k[q], flag[q], n_rec[q], steps[q]
        st = RUNNING
        while True:
            if nq >= cap and not direct:
                st = PAUSED
                break
            if stq >= max_steps:
                st = TOO_LONG
                break
            kq += 1
            stq += 1
            step_coefficients(kq, dp, c)
            for i in range(n_z):
                z[i] = standard_normal(sq)
            step(xq, aq, z, c, lp, nzp, dp, g, xi, wq)
            finite = True
            for i in range(dim):
                if not np.isfinite(xq[i]):
                    finite = False
            if not finite:
                st = DIVERGED
                break
            inside = exit_label(xq, ep) != 0
            r = coord_level(xq, cp)  # A and Σ are sets of the level
            if direct:
                if fq == 1.0:
                    if r >= z_s:  # an entrance into Σ
                        fq = 0.0
                        if kq > k_burn:
                            store(q, nq, r, kq, xq, aq, rec_xi, rec_k, rec_state)
                            nq += 1
                    elif inside:
                        st = OUTSIDE  # the exit was reached without crossing Σ
                        break
                elif r <= z_a:
                    fq = 1.0
                if inside:
                    st = REACHED
                    break
                if nq == cap:
                    st = DONE
                    break
            else:
                if inside:
                    fq = np.inf
                    store(q, nq, fq, kq, xq, aq, rec_xi, rec_k, rec_state)
                    nq += 1
                    st = REACHED
                    break
                v = coord_value(xq, aq, cp)  # the importance function
                if v > fq:  # a new record of the running maximum
                    fq = v
                    store(q, nq, v, kq, xq, aq, rec_xi, rec_k, rec_state)
                    nq += 1
                if r <= z_a:
                    st = RETURNED
                    break
        k[q], flag[q], n_rec[q], steps[q], status[q] = kq, fq, nq, stq, st
        copy_state(q, x, aux, s, w, xq, aq, sq, wq, False)

    # The per-path program is an ordinary compiled function called from the parallel loop (as in the
    # ensemble kernel: per-step code inside an outlined prange body was measured to run ~3x slower).
    @jit(parallel=True)
    def program(x, aux, k, s, w, flag, steps, status, lp, nzp, dp, ep, cp, z_a, z_s, k_burn, max_steps,
                rec_xi, rec_k, rec_state, n_rec):
        for q in prange(x.shape[0]):
            if status[q] == RUNNING:
                run_path(q, x, aux, k, s, w, flag, steps, status, lp, nzp, dp, ep, cp, z_a, z_s, k_burn, max_steps,
                         rec_xi, rec_k, rec_state, n_rec)

    enable_disk_cache(program)
    return program


def rare_kernels_for(problem, coordinate, bound_noise):
    """The compiled ``(direct, excursion)`` of ``problem``'s combination of dynamics step, landscape
    gradient, noise model, exit test, reaction coordinate and dimensions."""
    dyn, dim = problem.dynamics, problem.dim
    return make_rare_kernels(
        type(dyn).make_step(problem.landscape.numba_functions().gradient, bound_noise.apply),
        type(dyn).make_step_coefficients(), type(problem.exit).numba_label(), type(coordinate).numba_value(),
        type(coordinate).numba_level(), dim, int(problem.initial_state.size), int(dyn.normals_per_step(dim)), int(dyn.n_step_coefficients),
        int(dyn.work_size(dim) + bound_noise.work))


# ----------------------------------------------------------------------------------------------
# NumPy reference
# ----------------------------------------------------------------------------------------------
def _numpy_advance(problem, x, aux, k, streams, idx):
    """Advance paths ``idx`` one step each at their own step indices ``k[idx] + 1`` (grouped by index,
    since ``numpy_step`` takes one step index); returns the rows that diverged."""
    dyn, land, noise = problem.dynamics, problem.landscape, problem.noise
    mask = np.zeros(x.shape[0], dtype=bool)
    mask[idx] = True
    z = streams.normals(dyn.normals_per_step(problem.dim), mask=mask)  # rows in increasing path order
    k[idx] += 1
    for kk in np.unique(k[idx]):
        sel = np.flatnonzero(k[idx] == kk)
        rows = idx[sel]
        with np.errstate(all="ignore"):  # divergence is detected by the caller
            xa, aa = dyn.numpy_step(x[rows], aux[rows], z[sel], int(kk), land, noise)
        x[rows], aux[rows] = xa, aa
    return ~np.all(np.isfinite(x[idx]), axis=1)


def numpy_direct(problem, coordinate, x0, aux0, seed, first_id, n, z_a, z_s, k_burn, capacity, max_steps):
    """Reference of the compiled ``direct`` program for ``n`` paths from ``(x0, aux0)`` at step 0:
    returns ``(status, ent_k (n, capacity), ent_state (n, capacity, width), n_ent, steps)``."""
    dim, n_aux = problem.dim, aux0.size
    x, aux = np.tile(x0, (n, 1)), np.tile(aux0, (n, 1))
    k = np.zeros(n, np.int64)
    streams = PathStreams(seed, first_id, n)
    status = np.full(n, RUNNING, np.int64)
    armed = np.ones(n, dtype=bool)
    ent_k = np.full((n, capacity), -1, np.int64)
    ent_state = np.full((n, capacity, dim + n_aux), np.nan)
    n_ent = np.zeros(n, np.int64)
    while True:
        idx = np.flatnonzero(status == RUNNING)
        if idx.size == 0:
            break
        long = k[idx] >= max_steps
        status[idx[long]] = TOO_LONG
        idx = idx[~long]
        if idx.size == 0:
            break
        bad = _numpy_advance(problem, x, aux, k, streams, idx)
        status[idx[bad]] = DIVERGED
        idx = idx[~bad]
        r = coordinate.level(x[idx])
        inside = problem.exit.label(x[idx]) != 0
        enter = armed[idx] & (r >= z_s)
        outside = armed[idx] & ~enter & inside
        rec = idx[enter & (k[idx] > k_burn)]
        ent_k[rec, n_ent[rec]] = k[rec]
        ent_state[rec, n_ent[rec]] = np.concatenate([x[rec], aux[rec]], axis=1)
        n_ent[rec] += 1
        rearm = ~armed[idx] & (r <= z_a)
        armed[idx[enter]] = False
        armed[idx[rearm]] = True
        status[idx[outside]] = OUTSIDE
        reached = inside & ~outside
        status[idx[reached]] = REACHED
        full = ~inside & (n_ent[idx] == capacity)
        status[idx[full]] = DONE
    return status, ent_k, ent_state, n_ent, k


def numpy_excursions(problem, coordinate, states, k0, m0, seed, first_id, z_a, max_steps):
    """Reference of the compiled ``excursion`` program for paths starting at ``states`` ``(n, width)``
    with step indices ``k0`` and running maxima ``m0``: returns ``(status, records, steps)`` with
    ``records[i] = (xi (r,), k (r,), state (r, width))`` of path ``i`` (no buffer limit)."""
    dim = problem.dim
    n = states.shape[0]
    x, aux = states[:, :dim].copy(), states[:, dim:].copy()
    k = np.asarray(k0, np.int64).copy()
    m = np.asarray(m0, float).copy()
    streams = PathStreams(seed, first_id, n)
    status = np.full(n, RUNNING, np.int64)
    steps = np.zeros(n, np.int64)
    recs = [([], [], []) for _ in range(n)]
    while True:
        idx = np.flatnonzero(status == RUNNING)
        if idx.size == 0:
            break
        long = steps[idx] >= max_steps
        status[idx[long]] = TOO_LONG
        idx = idx[~long]
        if idx.size == 0:
            break
        steps[idx] += 1
        bad = _numpy_advance(problem, x, aux, k, streams, idx)
        status[idx[bad]] = DIVERGED
        idx = idx[~bad]
        inside = problem.exit.label(x[idx]) != 0
        r = np.where(inside, np.inf, coordinate.value(x[idx], aux[idx]))
        new = r > m[idx]
        for q, rq in zip(idx[new], r[new]):
            recs[q][0].append(rq)
            recs[q][1].append(k[q])
            recs[q][2].append(np.concatenate([x[q], aux[q]]))
        m[idx[new]] = r[new]
        status[idx[inside]] = REACHED
        status[idx[~inside & (coordinate.level(x[idx]) <= z_a)]] = RETURNED
    width = states.shape[1]
    records = [(np.array(a, float), np.array(b, np.int64), np.array(c, float).reshape(-1, width))
               for a, b, c in recs]
    return status, records, steps
