r"""The numba ensemble kernel and the ``"numba"`` backend.

One kernel factory, :func:`make_ensemble_kernel`, composes a dynamics step with an exit test.  The
compiled kernel runs paths in parallel (``prange``); each path draws from its own stream
(:mod:`sim.rng`), stops at its first passage into the exit region (cost ∝ the sum of the paths'
durations, not the maximum), is marked diverged at the first non-finite coordinate, saves its state
at the requested steps and, for the first ``n_record`` paths, its trajectory.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._jit import jit, prange
from .backends import Float64BackendBase
from .rng import fill_normals, seed_state

__all__ = ["make_ensemble_kernel", "NumbaBackend"]


@lru_cache(maxsize=None)
def make_ensemble_kernel(step, exit_label):
    """Compile the ensemble kernel for one (dynamics step, exit test) pair."""

    # The per-path loop is an ordinary compiled function called once per path from the parallel
    # loop: numba outlines a prange body into a separately optimised gufunc in which the per-step
    # functions were measured to run ~3x slower (they are not inlined there).
    @jit
    def run_path(p, x0, aux0, n_steps, save_steps, lp, nzp, dp, ep, seed, path_start,
                 saved, exit_step, exit_lab, diverged_step, n_record, record_every, record, n_z):
        dim = x0.shape[0]
        n_save = save_steps.shape[0]
        gp = path_start + p
        s = np.empty(4, np.uint64)
        seed_state(seed, gp, s)
        x = x0.copy()
        aux = aux0.copy()
        z = np.empty(n_z)  # normals per step (dynamics.normals_per_step)
        g = np.empty(dim)
        xi = np.empty(dim)
        recording = gp < n_record
        j = 0
        while j < n_save and save_steps[j] == 0:
            saved[p, j, :] = x
            j += 1
        if recording:
            record[gp, 0, :] = x
        for k in range(1, n_steps + 1):
            fill_normals(s, z)
            step(x, aux, z, k, lp, nzp, dp, g, xi)
            bad = False
            for i in range(dim):
                if not np.isfinite(x[i]):
                    bad = True
            if bad:
                diverged_step[p] = k
                break
            while j < n_save and save_steps[j] == k:
                for i in range(dim):
                    saved[p, j, i] = x[i]
                j += 1
            if recording and k % record_every == 0:
                for i in range(dim):
                    record[gp, k // record_every, i] = x[i]
            lab = exit_label(x, ep)
            if lab != 0:
                exit_step[p] = k
                exit_lab[p] = lab
                break

    @jit(parallel=True)
    def kernel(x0, aux0, n_steps, save_steps, lp, nzp, dp, ep, seed, path_start,
               saved, exit_step, exit_lab, diverged_step, n_record, record_every, record, n_z):
        for p in prange(saved.shape[0]):
            run_path(p, x0, aux0, n_steps, save_steps, lp, nzp, dp, ep, seed, path_start,
                     saved, exit_step, exit_lab, diverged_step, n_record, record_every, record, n_z)

    return kernel


class NumbaBackend(Float64BackendBase):
    """The default backend: compiled, parallel over paths."""

    name = "numba"

    def simulate_chunk(self, problem, bound_noise, path_start, out, n_steps, save_steps, seed,
                       n_record, record_every):
        lf = problem.landscape.numba_functions()
        step = type(problem.dynamics).make_step(lf.gradient, bound_noise.apply)
        kernel = make_ensemble_kernel(step, type(problem.exit).numba_label())
        kernel(problem.x0, problem.initial_state, np.int64(n_steps), save_steps,
               problem.landscape.params, bound_noise.params, problem.dynamics.params,
               problem.exit.params, np.uint64(seed), np.int64(path_start), out.saved,
               out.exit_step, out.exit_label, out.diverged_step, np.int64(n_record),
               np.int64(record_every), out.record,
               np.int64(problem.dynamics.normals_per_step(problem.dim)))
