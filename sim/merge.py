"""Merge ensemble results over adjacent path ranges into one, exactly.

Runs of the same problem and seed over adjacent path ranges (``run_ensemble(..., path_start=…)``)
hold every path's own numbers (its random stream depends only on ``(seed, path)``) and the moments
of each reduction block of ``BLOCK`` paths, aligned to global path indices.  :func:`merge`
concatenates the per-path arrays and the block moments in path order and combines the blocks with
the same function, in the same order, as one run over all the paths does, so the merged result is
that run's result bit for bit, however the paths were split (over processes, machines, resumed
sessions).
"""
from __future__ import annotations

import numpy as np

from .ensemble import BLOCK, _combine_blocks
from .results import EnsembleResult

__all__ = ["merge"]

#: Fields that must agree between the pieces of a merge (the same run, split).
_SAME = ("dt", "n_steps", "t_max")
_SAME_METADATA = ("seed", "backend", "precision", "problem")


def _check_pieces(pieces: list[EnsembleResult]) -> None:
    first = pieces[0]
    for i, r in enumerate(pieces):
        if not isinstance(r, EnsembleResult):
            raise TypeError(f"results[{i}] must be an EnsembleResult, got {type(r).__name__}")
        if r.block_count is None:
            raise ValueError(f"results[{i}] has no block moments (written by an older optdyn); rerun it")
        for name in _SAME:
            if getattr(r, name) != getattr(first, name):
                raise ValueError(f"results differ in {name}: {getattr(first, name)!r} vs {getattr(r, name)!r} "
                                 f"(results[{i}]); only pieces of one run can be merged")
        if not np.array_equal(r.steps, first.steps):
            raise ValueError(f"results differ in their save steps (results[{i}]): {first.steps} vs {r.steps}")
        for key in _SAME_METADATA:
            if r.metadata.get(key) != first.metadata.get(key):
                raise ValueError(f"results differ in metadata[{key!r}] (results[{i}]); only pieces of one "
                                 "run (same problem, seed, backend and precision) can be merged")
    for a, b in zip(pieces, pieces[1:]):
        end = a.path_start + a.n_paths
        if b.path_start != end:
            what = "overlap" if b.path_start < end else "leave a gap"
            raise ValueError(f"path ranges {what}: [{a.path_start}, {end}) then [{b.path_start}, "
                             f"{b.path_start + b.n_paths}); merge needs adjacent ranges")
        if a.n_paths % BLOCK:
            raise ValueError(f"the piece [{a.path_start}, {end}) is followed by another but its size is not a "
                             f"multiple of BLOCK={BLOCK}: its last reduction block is incomplete")


def merge(results) -> EnsembleResult:
    """One :class:`EnsembleResult` from runs over adjacent path ranges of the same problem and seed.

    The pieces may come in any order; they are merged in path order.  The result equals, bit for
    bit, one ``run_ensemble`` over all the paths (moments, exit steps and labels, samples).
    Metadata are the first piece's, with ``n_paths`` the total, ``wall_time_s`` the sum and
    ``merged_from`` the number of pieces; trajectories are those of the piece starting at path 0.

    Raises
    ------
    ValueError
        Pieces of different runs (time step, steps, save steps, seed, backend, precision or
        problem differ), ranges that overlap or leave a gap, a piece other than the last whose size
        is not a multiple of ``BLOCK``.
    """
    pieces = sorted(list(results), key=lambda r: r.path_start if isinstance(r, EnsembleResult) else 0)
    if not pieces:
        raise ValueError("results must hold at least one EnsembleResult")
    _check_pieces(pieces)
    first = pieces[0]
    cat = lambda name, axis=0: np.concatenate([getattr(r, name) for r in pieces], axis=axis)  # noqa: E731
    block_count, block_mean, block_m2 = cat("block_count"), cat("block_mean"), cat("block_m2")
    dim = first.mean.shape[-1]
    if first.steps.size and block_count.shape[0]:
        _, order = np.unique(first.steps, return_inverse=True)
        n_alive, mean, cov = _combine_blocks(block_count, block_mean, block_m2)
        order = order.reshape(-1)
        n_alive, mean, cov = n_alive[order], mean[order], cov[order]
    else:
        n_alive, mean, cov = np.zeros(0, np.int64), np.zeros((0, dim)), np.zeros((0, dim, dim))
    samples = cat("samples", axis=1) if all(r.samples is not None for r in pieces) else None
    metadata = {k: v for k, v in first.metadata.items() if k not in ("partial", "n_paths_requested")}
    n_paths = sum(r.n_paths for r in pieces)
    metadata.update(n_paths=n_paths, merged_from=len(pieces),
                    wall_time_s=sum(r.metadata.get("wall_time_s", 0.0) for r in pieces))
    return EnsembleResult(
        times=first.times, steps=first.steps, n_alive=n_alive, mean=mean, cov=cov,
        exit_step=cat("exit_step"), exit_label=cat("exit_label"), diverged_step=cat("diverged_step"),
        dt=first.dt, n_steps=first.n_steps, t_max=first.t_max, samples=samples,
        trajectories=first.trajectories if first.path_start == 0 else None,
        trajectory_times=first.trajectory_times if first.path_start == 0 else None,
        metadata=metadata, path_start=first.path_start, block_count=block_count, block_mean=block_mean,
        block_m2=block_m2)
