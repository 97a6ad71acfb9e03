r"""The numba ensemble kernel and the ``"numba"`` backend.

One kernel factory, :func:`make_ensemble_kernel`, composes a dynamics step with an exit test.  The
compiled kernel runs **blocks of paths** in parallel (``prange`` over blocks of
:data:`PATH_BLOCK` paths); within a block all paths advance together, step by step:

1. the dynamics' per-step coefficients (bias corrections, …: everything that depends on the step
   index only) are computed **once per block and step** (``step_coefficients(k, dp, c)``);
2. every active path of the block draws its normals from its own stream (:mod:`sim.backends.rng`) and takes
   its step (``step(x, aux, z, c, …)``);
3. every active path is checked: marked diverged at the first non-finite coordinate, its state
   saved at the requested steps and, for the first ``n_record`` paths, recorded; a path that has
   entered the exit region stops there.  Stopped paths leave the block's active set (swapped to its
   end), so the cost is ∝ the sum of the paths' durations, not the maximum.

Why blocks (measured on the 2-D Adam benchmark, ``benchmarks/bench_optimizers.py``): a path's
step depends on its previous step, so one path at a time runs at the latency of that chain (for
Adam: gradient → v → √v → division, ~60 cycles).  Advancing a block of independent paths lets the
processor overlap their steps, and computing the bias corrections once per block-step removes two
``expm1`` per path-step.  The block's arrays are allocated inside the compiled block function with
the problem's dimensions as compile-time constants (:func:`make_ensemble_kernel` closes over
them), so the short per-coordinate loops of the landscapes, noise models and steps are unrolled.

Results do not depend on the block size, the thread count or the chunk size: each path draws only
from its own stream, in order, and its arithmetic is the same whichever paths run beside it.
"""
from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

from .._jit import jit, prange
from .base import Float64BackendBase
from .compile_cache import enable_disk_cache
from .philox import philox_normals
from .rng import seed_state, standard_normal

__all__ = ["make_ensemble_kernel", "kernel_for", "kernel_pieces", "NumbaBackend", "PATH_BLOCK", "RNGS"]

#: Paths advanced together by one thread (fewer when a chunk has fewer paths than
#: ``PATH_BLOCK × threads``, so that every thread gets work).  32 was the fastest of 8–512 on
#: the 2-D Adam and SGD benchmarks (larger blocks fall out of the L1 cache).
PATH_BLOCK = 32


@jit(inline=True)
def _xoshiro_normals(s, k0, k1, path, k, z):
    """The default streams: the next ``len(z)`` ziggurat normals of the path's xoshiro state ``s``."""
    for i in range(z.shape[0]):
        z[i] = standard_normal(s)


@jit(inline=True)
def _philox_normals(s, k0, k1, path, k, z):
    """Counter-based streams: the normals of ``(seed, path, step k)`` (:mod:`.philox`; ``s`` unused)."""
    philox_normals(k0, k1, path, k, z)


#: The random streams a kernel can draw from: ``"xoshiro"`` (default; :mod:`.rng`) or ``"philox"``
#: (counter-based, :mod:`.philox`; the streams of the fused GPU backend).
RNGS = {"xoshiro": _xoshiro_normals, "philox": _philox_normals}


def _unique_names(*pieces):
    """A decorator that appends a tag of the kernel's content to a closure's ``__qualname__``.

    Why: numba names a compiled function by its qualified name and a per-process counter
    (``run_block$12``).  Two kernels compiled in *different* processes can get the same name, and
    when both are loaded from the disk cache (:mod:`.compile_cache`) into one process, the second
    kernel's calls resolve to the first one's symbols: it silently runs the other problem's step
    (measured: a scheduled Momentum kernel ran the scheduled SGD step after both were cached).  A
    tag derived from the kernel's content (the same description as the cache key) makes the names
    distinct exactly when the code differs.
    """
    import hashlib

    from .compile_cache import Uncachable, _describe

    try:
        tag = hashlib.sha256(_describe(tuple(pieces), {}).encode()).hexdigest()[:16]
    except Uncachable:  # not cached anyway: any unique tag
        import uuid

        tag = uuid.uuid4().hex[:16]

    def named(fn):
        fn.__qualname__ = f"{fn.__qualname__}_{tag}"
        return fn

    return named


@lru_cache(maxsize=None)
def make_ensemble_kernel(step, step_coefficients, exit_label, dim, n_aux, n_z, n_coef, n_work,
                         rng="xoshiro"):
    """Compile the ensemble kernel for one (dynamics step, exit test, dimensions, streams) combination.

    ``dim``, ``n_aux`` (optimizer state per path), ``n_z`` (normals per step), ``n_coef``
    (per-step coefficients) and ``n_work`` (per-path scratch of the step and its noise function)
    become compile-time constants of the kernel; ``rng`` names the streams (:data:`RNGS`).
    """
    n_c, n_w = max(1, n_coef), max(1, n_work)
    draw = RNGS[rng]
    named = _unique_names(step, step_coefficients, exit_label, dim, n_aux, n_z, n_coef, n_work, draw)

    @jit
    @named
    def swap_rows(a, i, j):
        for col in range(a.shape[1]):
            t = a[i, col]
            a[i, col] = a[j, col]
            a[j, col] = t

    # The block loop is an ordinary compiled function called from the parallel loop: numba
    # outlines a prange body into a separately optimised gufunc in which the per-step functions
    # were measured to run ~3x slower (they are not inlined there).
    @jit
    @named
    def run_block(lo, hi, x0, aux0, n_steps, save_steps, lp, nzp, dp, ep, seed, path_start,
                  saved, exit_step, exit_lab, diverged_step, n_record, record_every, record):
        nb = hi - lo
        x_b = np.empty((nb, dim))
        aux_b = np.empty((nb, n_aux))
        z_b = np.empty((nb, n_z))
        g_b = np.empty((nb, dim))
        xi_b = np.empty((nb, dim))
        w_b = np.full((nb, n_w), np.nan)  # scratch; NaN at the start (see DynamicsBase.work_size)
        s_b = np.empty((nb, 4), np.uint64)
        pid = np.empty(nb, np.int64)  # chunk-local path index of each row
        c = np.empty(n_c)
        k0, k1 = np.uint64(seed) & np.uint64(0xFFFFFFFF), np.uint64(seed) >> np.uint64(32)
        for q in range(nb):
            pid[q] = lo + q
            for i in range(dim):
                x_b[q, i] = x0[i]
            for i in range(n_aux):
                aux_b[q, i] = aux0[i]
            seed_state(seed, path_start + lo + q, s_b[q])
        n_save = save_steps.shape[0]
        j = 0
        while j < n_save and save_steps[j] == 0:
            for q in range(nb):
                for i in range(dim):
                    saved[pid[q], j, i] = x_b[q, i]
            j += 1
        for q in range(nb):
            if path_start + pid[q] < n_record:
                for i in range(dim):
                    record[path_start + pid[q], 0, i] = x_b[q, i]
        active = nb
        for k in range(1, n_steps + 1):
            if active == 0:
                break
            step_coefficients(k, dp, c)
            for q in range(active):
                draw(s_b[q], k0, k1, path_start + pid[q], k, z_b[q])
                step(x_b[q], aux_b[q], z_b[q], c, lp, nzp, dp, g_b[q], xi_b[q], w_b[q])
            j_end = j
            while j_end < n_save and save_steps[j_end] == k:
                j_end += 1
            rec = k % record_every == 0
            # descending, so that a stopped path can be replaced by the (already checked) last one
            for q in range(active - 1, -1, -1):
                p = pid[q]
                x = x_b[q]
                stop = False
                for i in range(dim):
                    if not np.isfinite(x[i]):
                        stop = True
                if stop:
                    diverged_step[p] = k
                else:
                    for jj in range(j, j_end):
                        for i in range(dim):
                            saved[p, jj, i] = x[i]
                    if rec and path_start + p < n_record:
                        for i in range(dim):
                            record[path_start + p, k // record_every, i] = x[i]
                    lab = exit_label(x, ep)
                    if lab != 0:
                        exit_step[p] = k
                        exit_lab[p] = lab
                        stop = True
                if stop:
                    last = active - 1
                    if q != last:
                        swap_rows(x_b, q, last)
                        swap_rows(aux_b, q, last)
                        swap_rows(s_b, q, last)
                        pid[q], pid[last] = pid[last], p
                    active -= 1
            j = j_end

    @jit(parallel=True)
    @named
    def kernel(x0, aux0, n_steps, save_steps, lp, nzp, dp, ep, seed, path_start,
               saved, exit_step, exit_lab, diverged_step, n_record, record_every, record, block):
        n = saved.shape[0]
        n_blocks = (n + block - 1) // block
        for b in prange(n_blocks):
            lo = b * block
            run_block(lo, min(lo + block, n), x0, aux0, n_steps, save_steps, lp, nzp, dp, ep,
                      seed, path_start, saved, exit_step, exit_lab, diverged_step, n_record,
                      record_every, record)

    enable_disk_cache(kernel)  # compiled once per machine (see compile_cache)
    return kernel


def block_size(n_paths: int, n_threads: int) -> int:
    """Paths per block: :data:`PATH_BLOCK`, or fewer so that every thread gets a block."""
    return int(max(1, min(PATH_BLOCK, -(-n_paths // max(1, n_threads)))))


class NumbaBackend(Float64BackendBase):
    """The default backend: compiled, parallel over blocks of paths; xoshiro (default) or Philox
    streams (``rng="philox"``, the fused GPU backend's, for path-by-path comparisons with it)."""

    name = "numba"
    rngs = tuple(RNGS)

    def simulate_chunk(self, problem, bound_noise, path_start, out, n_steps, save_steps, seed,
                       n_record, record_every):
        kernel = kernel_for(problem, bound_noise, self.rng)
        n = out.saved.shape[0]
        kernel(problem.x0, problem.initial_state, np.int64(n_steps), save_steps,
               problem.landscape.params, bound_noise.params, problem.dynamics.params, problem.exit.params,
               np.uint64(seed), np.int64(path_start), out.saved, out.exit_step, out.exit_label,
               out.diverged_step, np.int64(n_record), np.int64(record_every), out.record,
               np.int64(block_size(n, numba.get_num_threads())))


def kernel_pieces(problem, bound_noise):
    """What a kernel is compiled from: ``(step, step_coefficients, exit_label, dim, n_aux, n_z,
    n_coef, n_work)``, the compiled per-step functions of ``problem``'s dynamics (built on its
    landscape's gradient and the bound noise), its exit test and the dimensions.  The CPU kernel and
    the CUDA kernels (:mod:`.cuda_backend`) are built from the same pieces."""
    dyn, dim = problem.dynamics, problem.dim
    return (type(dyn).make_step(problem.landscape.numba_functions().gradient, bound_noise.apply),
            type(dyn).make_step_coefficients(), type(problem.exit).numba_label(), dim,
            int(problem.initial_state.size), int(dyn.normals_per_step(dim)), int(dyn.n_step_coefficients),
            int(dyn.work_size(dim) + bound_noise.work))


def kernel_for(problem, bound_noise=None, rng="xoshiro"):
    """The compiled kernel (a numba dispatcher) for ``problem``'s combination of dynamics step,
    landscape gradient, noise model, exit test and dimensions: one per combination and process
    (:func:`make_ensemble_kernel` is memoised), loaded from the disk cache when compiled before on
    this machine (:mod:`.compile_cache`).  ``kernel.stats.cache_hits`` tells which happened."""
    if bound_noise is None:
        bound_noise = problem.noise.bind(problem.landscape)
    return make_ensemble_kernel(*kernel_pieces(problem, bound_noise), rng)
