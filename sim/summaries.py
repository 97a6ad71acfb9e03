r"""Run summaries whose size does not grow with the number of paths.

``run_ensemble(..., keep_paths=False)`` (the default beyond :data:`KEEP_PATHS_LIMIT` paths) keeps no
per-path array: memory is bounded by ``chunk_size`` however many paths are run (10⁸–10⁹ paths as one
call).  What it keeps instead:

* **Moments** at the save times, from the same fixed blocks of :data:`sim.ensemble.BLOCK` paths as
  the full mode, combined (Chan et al.'s pairwise update) along a fixed binary tree over the block
  sequence (:class:`MomentTree`): ``O(log n_blocks)`` partial results, and the tree's shape depends
  only on the block index, so the result is bit-identical for every chunk size and thread count.
  (It is not bit-identical to the full mode, which sums all blocks at once: the two agree to
  round-off.)
* **Escape statistics** (:class:`EscapeTally`): counts of escaped, censored and diverged paths, per
  exit label, and the exit step's count, sum, sum of squares (exact Python integers, so mean and
  variance do not depend on the order), minimum, maximum and a histogram over ``1 … n_steps``
  (:data:`N_BINS` equal bins) from which quantiles can be read to one bin's width.
"""
from __future__ import annotations

import numpy as np

__all__ = ["MomentTree", "EscapeTally", "KEEP_PATHS_LIMIT", "N_BINS"]

#: Beyond this many paths ``run_ensemble`` keeps summaries only unless ``keep_paths=True`` is asked
#: for (three int64 per path: 400 MB at the limit).
KEEP_PATHS_LIMIT = 2**24
#: Bins of the exit-step histogram.
N_BINS = 1024


def _chan(a, b):
    """Combine two ``(count, mean, m2)`` statistics (per save time) by Chan's pairwise update."""
    na, ma, sa = a
    nb, mb, sb = b
    n = na + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        wb = np.where(n > 0, nb / np.where(n > 0, n, 1.0), 0.0)
    d = mb - ma
    mean = ma + wb[:, None] * d
    m2 = sa + sb + (na * wb)[:, None, None] * d[:, :, None] * d[:, None, :]
    return n, mean, m2


class MomentTree:
    """Deterministic streaming combination of block moments (count, mean, scatter per save time).

    Blocks are pushed in global block order; two partial results of equal size (2^l blocks) are
    merged as soon as both exist, as in a binary counter, so every block's place in the tree is a
    function of its index alone.
    """

    def __init__(self):
        self._stack = []  # (level, (count, mean, m2))

    def push(self, count, mean, m2) -> None:
        node = (0, (np.asarray(count, np.float64), np.asarray(mean), np.asarray(m2)))
        while self._stack and self._stack[-1][0] == node[0]:
            level, left = self._stack.pop()
            node = (level + 1, _chan(left, node[1]))
        self._stack.append(node)

    def result(self):
        """``(n_alive, mean, cov)`` as in the full mode (cov unbiased, ``m2/(n-1)``)."""
        acc = self._stack[-1][1]
        for _, part in reversed(self._stack[:-1]):
            acc = _chan(part, acc)
        n, mean, m2 = acc
        mean = np.where(n[:, None] > 0, mean, np.nan)  # as the full mode: no path alive → NaN
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = np.where(n[:, None, None] > 0, m2 / (n - 1.0)[:, None, None], np.nan)
        return n.astype(np.int64), mean, cov


class EscapeTally:
    """Escape statistics accumulated chunk by chunk (see the module docstring)."""

    def __init__(self, n_steps: int, dt: float):
        self.n_steps, self.dt = int(n_steps), float(dt)
        self.n_paths = self.escaped = self.diverged = 0
        self.by_exit: dict[int, int] = {}
        self.step_sum = self.step_sumsq = 0
        self.step_min, self.step_max = None, None
        self.edges = np.linspace(0.5, self.n_steps + 0.5, N_BINS + 1)
        self.hist = np.zeros(N_BINS, np.int64)

    def add(self, exit_step, exit_label, diverged_step) -> None:
        self.n_paths += int(exit_step.size)
        self.diverged += int(np.count_nonzero(diverged_step >= 0))
        hit = exit_step >= 0
        steps = exit_step[hit]
        self.escaped += int(steps.size)
        if not steps.size:
            return
        counts = np.bincount(exit_label[hit])  # labels are small positive ints
        for lab in np.flatnonzero(counts).tolist():
            self.by_exit[lab] = self.by_exit.get(lab, 0) + int(counts[lab])
        # exact integer sums: steps < 2**32 split into 16-bit halves, s² = a²·2³² + 2ab·2¹⁶ + b²,
        # each partial sum fits int64 for any chunk up to 2**30 paths
        a, b = steps >> 16, steps & 0xFFFF
        self.step_sum += int(steps.sum())
        self.step_sumsq += (int((a * a).sum()) << 32) + (int((a * b).sum()) << 17) + int((b * b).sum())
        lo, hi = int(steps.min()), int(steps.max())
        self.step_min = lo if self.step_min is None else min(self.step_min, lo)
        self.step_max = hi if self.step_max is None else max(self.step_max, hi)
        self.hist += np.histogram(steps, bins=self.edges)[0]

    def result(self) -> dict:
        """A JSON-friendly dict: counts, exit-step moments (and the escape time's, ``t = step·dt``),
        extremes and histogram (``histogram_edges`` in steps)."""
        e = self.escaped
        mean = self.step_sum / e if e else float("nan")
        var = (self.step_sumsq - self.step_sum**2 / e) / (e - 1) if e > 1 else float("nan")
        return {
            "n_paths": self.n_paths, "escaped": e, "diverged": self.diverged,
            "censored": self.n_paths - e - self.diverged,
            "by_exit": [[k, v] for k, v in sorted(self.by_exit.items())],
            "exit_step_sum": self.step_sum, "exit_step_sumsq": self.step_sumsq,
            "exit_step_min": self.step_min, "exit_step_max": self.step_max,
            "escape_time_mean": mean * self.dt, "escape_time_std": float(np.sqrt(var)) * self.dt,
            "escape_time_se": float(np.sqrt(var / e)) * self.dt if e > 1 else float("nan"),
            "exit_step_histogram": self.hist.tolist(), "histogram_edges": self.edges.tolist(),
        }
