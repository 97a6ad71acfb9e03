"""The result of an ensemble run, with save/load.

A saved result is one compressed ``.npz``: the arrays by field name plus ``__meta__``, a JSON string
with the scalars, the metadata and a format tag (:data:`FORMAT`, :data:`FORMAT_VERSION`).  The file
name rule is NumPy's: a name without the ``.npz`` suffix gets it, and :func:`load_result` applies the
same rule, so ``load_result(name)`` reads what ``result.save(name)`` wrote.  Writes are atomic
(temporary file in the same folder, then :func:`os.replace`): a killed save leaves either the old
file or none, never a truncated one that looks complete.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import numpy as np

__all__ = ["EnsembleResult", "load_result", "FORMAT", "FORMAT_VERSION"]

#: Tag stored in every saved result; a file without it is not an optdyn result.
FORMAT = "optdyn.EnsembleResult"
#: Version of the file layout.  0: files written before the tag existed (same layout, read as is);
#: 1: the tag added.  A file with a newer version than this was written by a newer optdyn.
FORMAT_VERSION = 1


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask can only be read by setting it


def _npz_path(path) -> Path:
    """The file ``save``/``load_result`` use for ``path``: NumPy's rule, ``.npz`` appended if absent."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


@dataclass
class EnsembleResult:
    r"""What :func:`sim.run_ensemble` returns.

    Shapes: ``n_times`` save times, ``n_paths`` paths, ``dim`` coordinates.

    Attributes
    ----------
    times : (n_times,) — the save times actually used (multiples of ``dt``), one per requested time and
        in the order asked (duplicates repeated); every per-time array below follows this order.
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
    dt, n_steps, t_max : the time step, the number of steps run, the censoring time asked for;
        ``t_end = n_steps·dt <= t_max`` is when the run stopped (docs/theory.md §0: ``t = k·dt``).
    metadata : dict — seed, backend, precision, versions, the problem's description; ``partial`` is
        True when the run was interrupted (``n_paths`` then counts the paths that finished).
    step_times : (n_steps + 1,) or None — :math:`t_k = \sum_{j \le k}\eta_j` when the learning rate
        follows a schedule (:mod:`sim.schedules`; then ``times`` and every time above are on this
        axis, and ``dt`` is the nominal ``lr``); None for a constant step (``t_k = k·dt``).
    loss_mean, loss_sem, grad_norm2_mean, grad_norm2_sem : (n_times,) or None — ensemble mean and
        standard error of :math:`L` and :math:`\|\nabla L\|^2` at the save times
        (``run_ensemble(..., observables=True)``).
    path_start : int — global index of the first path (the run covered the paths ``path_start`` to
        ``path_start + n_paths - 1``; see ``run_ensemble(path_start=…)``).
    block_count : (n_blocks, n_steps_saved); block_mean : (n_blocks, n_steps_saved, dim);
    block_m2 : (n_blocks, n_steps_saved, dim, dim) or None — count, mean and scatter matrix of each
        reduction block of ``BLOCK`` paths at each distinct save step (sorted), from which ``n_alive``,
        ``mean`` and ``cov`` were combined; :func:`sim.merge` recombines them exactly.
    escape_summary : dict or None — with ``run_ensemble(..., keep_paths=False)``: the escape
        statistics of :class:`sim.summaries.EscapeTally` (``exit_step``, ``exit_label`` and
        ``diverged_step`` are then None).
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
    step_times: np.ndarray | None = None
    loss_mean: np.ndarray | None = None
    loss_sem: np.ndarray | None = None
    grad_norm2_mean: np.ndarray | None = None
    grad_norm2_sem: np.ndarray | None = None
    path_start: int = 0
    block_count: np.ndarray | None = None
    block_mean: np.ndarray | None = None
    block_m2: np.ndarray | None = None
    escape_summary: dict | None = None

    def time_of(self, steps):
        """Continuous time of step indices: ``steps·dt``, or ``step_times[steps]`` with a schedule."""
        steps = np.asarray(steps)
        if self.step_times is None:
            return steps * self.dt
        return self.step_times[np.clip(steps, 0, self.step_times.size - 1)]

    def running_min_grad_norm2(self):
        r""":math:`\min_{t' \le t} E\|\nabla L(\theta_{t'})\|^2` at each save time ``t`` and its
        standard error, ``(min, sem)``, rows in the order of ``times``.

        The minimum is over the **save times** up to ``t`` (not over every step: the ensemble mean at
        every step is not reduced); use dense, log-spaced save times.  The standard error is the one
        of the mean at the time that attains the minimum (the selection of that time is ignored).
        Needs ``run_ensemble(..., observables=True)``.
        """
        if self.grad_norm2_mean is None:
            raise ValueError("no observables in this result: run with run_ensemble(..., observables=True)")
        by_time = np.argsort(self.times, kind="stable")
        g = self.grad_norm2_mean[by_time]
        arg = np.zeros(g.size, np.int64)
        for i in range(1, g.size):
            arg[i] = i if g[i] < g[arg[i - 1]] else arg[i - 1]
        mins, sems = np.empty_like(g), np.empty_like(g)
        mins[by_time] = g[arg]
        sems[by_time] = self.grad_norm2_sem[by_time][arg]
        return mins, sems

    # -- escape statistics ---------------------------------------------------------------------
    @property
    def t_end(self) -> float:
        """Time of the last step run, ``n_steps·dt`` (``<= t_max``; censored paths were observed until then)."""
        return float(self.time_of(self.n_steps))

    @property
    def n_paths(self) -> int:
        if self.exit_step is None:
            return int(self.escape_summary["n_paths"])
        return int(self.exit_step.shape[0])

    def _per_path(self, name):
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"this result kept summaries only (run_ensemble(..., keep_paths=False)): no "
                             f"per-path {name}; see result.escape_summary")
        return value

    @property
    def escaped(self) -> np.ndarray:
        """Mask of paths that reached the exit region before ``t_max``."""
        return self._per_path("exit_step") >= 0

    @property
    def diverged(self) -> np.ndarray:
        return self._per_path("diverged_step") >= 0

    @property
    def censored(self) -> np.ndarray:
        """Mask of paths still running at ``t_max`` (neither escaped nor diverged)."""
        return ~self.escaped & ~self.diverged

    @property
    def n_diverged(self) -> int:
        if self.exit_step is None:
            return int(self.escape_summary["diverged"])
        return int(np.count_nonzero(self.diverged))

    @property
    def escape_iterations(self) -> np.ndarray:
        """First-passage step of each path (−1 where it did not escape)."""
        return self._per_path("exit_step")

    @property
    def escape_times(self) -> np.ndarray:
        """First-passage time (continuous units, ``step · dt``); ``inf`` where it did not escape."""
        return np.where(self.escaped, self.time_of(self.exit_step), np.inf)

    def summary(self) -> dict:
        if self.exit_step is None:
            e = self.escape_summary
            return {**{k: e[k] for k in ("n_paths", "escaped", "censored", "diverged")},
                    "by_exit": {int(k): int(v) for k, v in e["by_exit"]}}
        labels, counts = np.unique(self.exit_label[self.escaped], return_counts=True)
        return {
            "n_paths": self.n_paths,
            "escaped": int(np.count_nonzero(self.escaped)),
            "censored": int(np.count_nonzero(self.censored)),
            "diverged": self.n_diverged,
            "by_exit": {int(k): int(v) for k, v in zip(labels, counts)},
        }

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Save to a compressed ``.npz`` (arrays) with the metadata as JSON inside; return the path written.

        ``.npz`` is appended to ``path`` when it has another suffix or none (NumPy's rule; pass the same
        ``path`` to :func:`load_result`).  The write is atomic: a temporary file in the same folder is
        written, flushed to disk and renamed over ``path`` with :func:`os.replace`.
        """
        target = _npz_path(path)
        arrays, scalars = {}, {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "metadata":
                continue
            if isinstance(v, np.ndarray):
                arrays[f.name] = v
            elif v is not None:
                scalars[f.name] = v
        meta = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "scalars": scalars,
                           "metadata": self.metadata})
        folder = target.parent
        if not folder.is_dir():
            raise FileNotFoundError(f"cannot save to {str(target)!r}: folder {str(folder)!r} does not exist")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, __meta__=np.array(meta), **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            # mkstemp makes the file private (0600); give it the mode a plain open() would have
            os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target

    @classmethod
    def load(cls, path) -> "EnsembleResult":
        """Read a file written by :meth:`save`; see :func:`load_result`."""
        target = _npz_path(path)
        if not target.exists() and Path(os.fspath(path)).is_file():
            target = Path(os.fspath(path))  # a file of that exact name: read it (and check it)
        if not target.exists():
            raise FileNotFoundError(f"no saved result at {os.fspath(path)!r} (looked for {str(target)!r})")

        def bad(what):
            return ValueError(f"{str(target)!r} is not a loadable optdyn result: {what}")

        try:
            data = np.load(target, allow_pickle=False)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            raise
        except Exception as exc:  # BadZipFile, a text file (ValueError: pickled data), EOFError, ...
            raise bad(f"not an .npz archive, or truncated/corrupt ({type(exc).__name__}: {exc})") from exc
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise bad("it holds a single NumPy array (.npy), not an .npz archive")
        with data:
            if "__meta__" not in data.files:
                raise bad(f"no '__meta__' entry (arrays {sorted(data.files)[:6]}); it was not written by "
                          "EnsembleResult.save")
            try:
                broken = data.zip.testzip()  # every member's CRC: a flipped byte is not read silently
                if broken is not None:
                    raise ValueError(f"member {broken!r} fails its CRC check")
                meta = json.loads(str(data["__meta__"]))
                arrays = {k: data[k] for k in data.files if k != "__meta__"}
            except Exception as exc:  # zlib.error, BadZipFile (CRC), EOFError, JSONDecodeError, ...
                raise bad(f"truncated or corrupt ({type(exc).__name__}: {exc})") from exc
        if not (isinstance(meta, dict) and isinstance(meta.get("scalars"), dict) and "metadata" in meta):
            raise bad("its '__meta__' entry is not an EnsembleResult header")
        version = meta.get("format_version", 0)
        if "format" in meta and meta["format"] != FORMAT:
            raise bad(f"format {meta['format']!r}, expected {FORMAT!r}")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise bad(f"written by an incompatible (newer) optdyn: format version {version!r}, this "
                      f"version reads <= {FORMAT_VERSION}")
        kw = dict(arrays)
        kw.update(meta["scalars"])
        kw["metadata"] = meta["metadata"]
        if kw.get("escape_summary") is not None:  # summaries only: no per-path arrays were saved
            for name in ("exit_step", "exit_label", "diverged_step"):
                kw.setdefault(name, None)
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kw) - names)
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        missing = sorted(required - set(kw))
        if unknown or missing:
            raise bad(f"written by an incompatible optdyn version (unknown fields {unknown}, missing {missing})")
        return cls(**kw)


def load_result(path) -> EnsembleResult:
    """Load an :class:`EnsembleResult` written by :meth:`EnsembleResult.save`.

    ``path`` is what was given to ``save`` (``.npz`` is appended by the same rule) or the path it
    returned.  A missing file raises FileNotFoundError; a file that is not a saved result (another
    ``.npz``, a text file, a truncated or corrupt archive, one written by a newer optdyn) raises a
    ValueError naming the file and what is wrong.
    """
    return EnsembleResult.load(path)
