"""The result of an ensemble run, with save/load."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["EnsembleResult", "load_result"]


@dataclass
class EnsembleResult:
    r"""What :func:`sim.run_ensemble` returns.

    Shapes: ``n_times`` save times, ``n_paths`` paths, ``dim`` coordinates.

    Attributes
    ----------
    times : (n_times,) — the save times actually used (multiples of ``dt``).
    steps : (n_times,) — the same as step indices (iterations for a discrete optimizer).
    n_alive : (n_times,) — paths that had neither exited nor diverged at each save time; the
        moments below are over these paths.
    mean : (n_times, dim); cov : (n_times, dim, dim) — sample mean and (unbiased) covariance.
    exit_step : (n_paths,) — step of first passage into the exit region, −1 if none.
    exit_label : (n_paths,) — which exit was hit (0: none).
    diverged_step : (n_paths,) — step at which the path became non-finite, −1 if never.
    samples : (n_times, n_paths, dim) or None — states at the save times (NaN once a path stopped),
        only when ``store_samples=True``.
    trajectories : (n_record, n_record_times, dim) or None — full paths of the first ``n_record``
        paths, every ``record_every`` steps (NaN after a path stopped); times in ``trajectory_times``.
    dt, n_steps, t_max : the time step, the number of steps run, the censoring time.
    metadata : dict — seed, backend, precision, versions, the problem's description.
    """

    times: np.ndarray
    steps: np.ndarray
    n_alive: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    exit_step: np.ndarray
    exit_label: np.ndarray
    diverged_step: np.ndarray
    dt: float
    n_steps: int
    t_max: float
    samples: np.ndarray | None = None
    trajectories: np.ndarray | None = None
    trajectory_times: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    # -- escape statistics ---------------------------------------------------------------------
    @property
    def n_paths(self) -> int:
        return int(self.exit_step.shape[0])

    @property
    def escaped(self) -> np.ndarray:
        """Mask of paths that reached the exit region before ``t_max``."""
        return self.exit_step >= 0

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_step >= 0

    @property
    def censored(self) -> np.ndarray:
        """Mask of paths still running at ``t_max`` (neither escaped nor diverged)."""
        return ~self.escaped & ~self.diverged

    @property
    def n_diverged(self) -> int:
        return int(np.count_nonzero(self.diverged))

    @property
    def escape_iterations(self) -> np.ndarray:
        """First-passage step of each path (−1 where it did not escape)."""
        return self.exit_step

    @property
    def escape_times(self) -> np.ndarray:
        """First-passage time (continuous units, ``step · dt``); ``inf`` where it did not escape."""
        return np.where(self.escaped, self.exit_step * self.dt, np.inf)

    def summary(self) -> dict:
        labels, counts = np.unique(self.exit_label[self.escaped], return_counts=True)
        return {
            "n_paths": self.n_paths,
            "escaped": int(np.count_nonzero(self.escaped)),
            "censored": int(np.count_nonzero(self.censored)),
            "diverged": self.n_diverged,
            "by_exit": {int(k): int(v) for k, v in zip(labels, counts)},
        }

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path) -> None:
        """Save to a compressed ``.npz`` (arrays) with the metadata as JSON inside."""
        arrays, scalars = {}, {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "metadata":
                continue
            if isinstance(v, np.ndarray):
                arrays[f.name] = v
            elif v is not None:
                scalars[f.name] = v
        meta = json.dumps({"scalars": scalars, "metadata": self.metadata})
        np.savez_compressed(path, __meta__=np.array(meta), **arrays)

    @classmethod
    def load(cls, path) -> "EnsembleResult":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            kw = {k: data[k] for k in data.files if k != "__meta__"}
        kw.update(meta["scalars"])
        kw["metadata"] = meta["metadata"]
        return cls(**kw)


def load_result(path) -> EnsembleResult:
    """Load an :class:`EnsembleResult` written by :meth:`EnsembleResult.save`."""
    return EnsembleResult.load(path)
