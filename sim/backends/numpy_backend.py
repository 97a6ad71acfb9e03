r"""The ``"numpy"`` backend: a plain NumPy reference for the compiled kernels.

All paths of a chunk advance in lockstep, vectorised over paths, with the landscapes' and noise
models' NumPy methods and each dynamics' ``numpy_step`` (written independently of the compiled
step).  It draws the same per-path random numbers as the kernels (:class:`sim.backends.rng.PathStreams`),
so the two backends agree to round-off path by path, which the tests check; with ``rng="philox"``
the counter-based streams of :mod:`sim.backends.philox` (NumPy reference :class:`PhiloxStreams`).  It is slow; use it
for checking, not for production.
"""
from __future__ import annotations

import numpy as np

from .base import Float64BackendBase
from .philox import PhiloxStreams
from .rng import PathStreams

__all__ = ["NumpyBackend"]


class NumpyBackend(Float64BackendBase):
    name = "numpy"
    rngs = ("xoshiro", "philox")

    def simulate_chunk(self, problem, bound_noise, path_start, out, n_steps, save_steps, seed,
                       n_record, record_every):
        n = out.saved.shape[0]
        dim = problem.dim
        land, noise, dyn = problem.landscape, problem.noise, problem.dynamics
        x = np.tile(problem.x0, (n, 1))
        aux = np.tile(problem.initial_state, (n, 1))
        philox = self.rng == "philox"
        streams = (PhiloxStreams if philox else PathStreams)(seed, path_start, n)
        n_z = dyn.normals_per_step(dim)
        alive = np.ones(n, dtype=bool)
        gidx = path_start + np.arange(n)
        rec = gidx < n_record
        out.saved[:, save_steps == 0, :] = x[:, None, :]
        if np.any(rec):
            out.record[gidx[rec], 0, :] = x[rec]
        for k in range(1, n_steps + 1):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            z = streams.normals(k, n_z, mask=alive) if philox else streams.normals(n_z, mask=alive)
            with np.errstate(all="ignore"):  # divergence is detected below, not raised
                xa, auxa = dyn.numpy_step(x[idx], aux[idx], z, k, land, noise)
            x[idx], aux[idx] = xa, auxa
            bad = ~np.all(np.isfinite(xa), axis=1)
            out.diverged_step[idx[bad]] = k
            alive[idx[bad]] = False
            idx = idx[~bad]
            for j in np.flatnonzero(save_steps == k):
                out.saved[idx, j, :] = x[idx]
            if n_record and k % record_every == 0:
                r = idx[rec[idx]]
                out.record[gidx[r], k // record_every, :] = x[r]
            lab = problem.exit.label(x[idx])
            hit = lab != 0
            out.exit_step[idx[hit]] = k
            out.exit_label[idx[hit]] = lab[hit]
            alive[idx[hit]] = False
