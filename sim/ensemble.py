r"""The one ensemble entry point, :func:`run_ensemble`.

It validates input, converts requested times to steps, splits the paths into chunks of bounded
memory, lets a backend simulate each chunk, and reduces moments in fixed blocks of
:data:`BLOCK` paths aligned to global path indices.  Because random streams depend only on
``(seed, path)`` and the reduction blocks do not move with the chunking, the result is the same for
any chunk size and thread count (bit for bit on one backend).
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass

import numba
import numpy as np

from . import _validation as V
from .backends import get_backend
from .backends.philox import MAX_STEPS as PHILOX_MAX_STEPS
from .launches import LaunchPlan, Progress, progress_default
from .problem import Problem
from .results import EnsembleResult
from .summaries import KEEP_PATHS_LIMIT, EscapeTally, MomentTree

__all__ = ["run_ensemble", "BLOCK"]

#: Paths per reduction block.  Chunk sizes are rounded up to a multiple of it.
BLOCK = 1024


@dataclass
class ChunkOutput:
    """Arrays a backend fills for one chunk of paths (path-major)."""

    saved: np.ndarray  # (n, n_save, dim), NaN where a path had stopped
    exit_step: np.ndarray  # (n,) int64, -1
    exit_label: np.ndarray  # (n,) int64, 0
    diverged_step: np.ndarray  # (n,) int64, -1
    record: np.ndarray  # (n_record, n_rec_times, dim), shared by all chunks

    @classmethod
    def empty(cls, n, n_save, dim, record):
        return cls(np.full((n, n_save, dim), np.nan), np.full(n, -1, np.int64),
                   np.zeros(n, np.int64), np.full(n, -1, np.int64), record)


def _block_moments(saved: np.ndarray):
    """Count, mean and scatter matrix of one block ``(n, n_save, dim)``, ignoring NaN rows."""
    ok = np.isfinite(saved).all(axis=2)  # (n, n_save)
    cnt = ok.sum(axis=0).astype(np.float64)
    xs = np.where(ok[..., None], saved, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = xs.sum(axis=0) / cnt[:, None]
    dev = np.where(ok[..., None], saved - np.nan_to_num(mean)[None], 0.0)
    m2 = np.einsum("pti,ptj->tij", dev, dev)
    return cnt, np.nan_to_num(mean), m2


def _combine_blocks(counts, means, m2s):
    """Chan's parallel combination of block statistics, in block order (deterministic)."""
    counts, means, m2s = np.stack(counts), np.stack(means), np.stack(m2s)
    total = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (counts[..., None] * means).sum(axis=0) / total[:, None]
        d = means - mean[None]
        m2 = m2s.sum(axis=0) + np.einsum("bt,bti,btj->tij", counts, d, d)
        cov = m2 / (total - 1.0)[:, None, None]
    return total.astype(np.int64), mean, cov


def _n_steps(dt: float, t_max: float, dt_name: str) -> int:
    """Number of steps run: the largest ``n`` with ``n·dt <= t_max`` (to a relative 1e-12).

    The last step never goes past ``t_max``, so every reported escape time is ``<= t_max`` and a
    censored path is one that had not exited by ``n_steps·dt`` (the result's ``t_end``).  A ``t_max``
    shorter than one step would run nothing and is rejected naming both parameters.
    """
    n = math.floor(t_max / dt * (1.0 + 1e-12))
    if n < 1:
        raise ValueError(f"t_max={t_max!r} is shorter than one step ({dt_name}={dt!r}): nothing would be "
                         f"simulated; use t_max >= {dt_name} or a smaller {dt_name}")
    return n


def _steps_for(save_times, dt: float, t_max: float, n_steps: int):
    """Validated save steps.

    Returns ``(unique_steps, order, steps, times)``: the sorted distinct steps the backends simulate,
    the index of each requested time in ``unique_steps``, and the requested steps and times in the
    order asked (``steps = unique_steps[order]``, ``times = steps·dt``).
    """
    empty = np.array([], dtype=np.int64)
    if save_times is None:
        return empty, empty, empty, np.array([])
    t = V.finite_array("save_times", save_times)
    t = np.atleast_1d(t)
    if t.ndim != 1:
        raise ValueError(f"save_times must be 1-dimensional, got shape {t.shape}")
    bad = (t < 0) | (t > t_max * (1 + 1e-12))
    if np.any(bad):
        raise ValueError(f"save_times must lie in [0, t_max] = [0, {t_max}]; got {t[bad].tolist()}")
    steps = np.minimum(np.rint(t / dt).astype(np.int64), n_steps)
    unique_steps, order = np.unique(steps, return_inverse=True)
    return unique_steps, order.astype(np.int64).reshape(-1), steps, steps * dt


def _steps_on_axis(save_times, step_times: np.ndarray, t_max: float):
    """:func:`_steps_for` on a non-uniform time axis ``step_times`` (``t_0 = 0 … t_n``, a
    learning-rate schedule, :mod:`sim.schedules`): each time goes to the step of nearest time."""
    empty = np.array([], dtype=np.int64)
    if save_times is None:
        return empty, empty, empty, np.array([])
    t = np.atleast_1d(V.finite_array("save_times", save_times))
    if t.ndim != 1:
        raise ValueError(f"save_times must be 1-dimensional, got shape {t.shape}")
    bad = (t < 0) | (t > t_max * (1 + 1e-12))
    if np.any(bad):
        raise ValueError(f"save_times must lie in [0, t_max] = [0, {t_max}]; got {t[bad].tolist()}")
    hi = np.clip(np.searchsorted(step_times, t), 1, step_times.size - 1)
    lo = hi - 1
    steps = np.where(t - step_times[lo] <= step_times[hi] - t, lo, hi).astype(np.int64)
    unique_steps, order = np.unique(steps, return_inverse=True)
    return unique_steps, order.astype(np.int64).reshape(-1), steps, step_times[steps]


def _observables(landscape, saved: np.ndarray) -> np.ndarray:
    """``(n, n_save, 2)``: the loss and ``‖∇L‖²`` of every saved state (NaN where a path had stopped)."""
    n, n_save, dim = saved.shape
    x = saved.reshape(-1, dim)
    ok = np.isfinite(x).all(axis=1)
    out = np.full((x.shape[0], 2), np.nan)
    if np.any(ok):
        out[ok, 0] = landscape.value(x[ok])
        out[ok, 1] = np.sum(landscape.gradient(x[ok]) ** 2, axis=1)
    return out.reshape(n, n_save, 2)


def _physical_memory() -> int | None:
    """Bytes of physical memory (Linux/macOS ``sysconf``), or None where it cannot be read."""
    try:
        n = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return int(n) if n > 0 else None


def _output_bytes(n_paths: int, chunk: int, n_save: int, n_unique: int, dim: int, store_samples: bool,
                  n_record: int, n_rec_times: int) -> int:
    """Bytes :func:`run_ensemble` allocates for its outputs and one chunk (exact ints, no overflow).

    Per path: exit step, exit label and divergence step (three int64), plus ``n_save·dim`` floats of
    samples when ``store_samples``.  Per reduction block of :data:`BLOCK` paths: count, mean and
    scatter matrix per save time.  Once: the recorded trajectories and one chunk's arrays (the
    backend's own per-chunk state is of the same order and bounded by ``chunk_size``).
    """
    per_path = 3 * 8 + (8 * n_save * dim if store_samples else 0)
    n_blocks = -(-n_paths // BLOCK)
    blocks = n_blocks * 8 * n_unique * (1 + dim + dim * dim)
    record = 8 * n_record * n_rec_times * dim
    chunk_arrays = chunk * (3 * 8 + 8 * n_unique * dim)
    return n_paths * per_path + blocks + record + chunk_arrays


def _check_memory(need: int, n_paths: int, store_samples: bool, n_record: int) -> None:
    have = _physical_memory()
    if have is None or need <= have:
        return
    gib = 2.0 ** 30
    hints = ["n_paths"] + (["store_samples=False"] if store_samples else []) + (["n_record", "record_every"] if n_record else [])
    raise ValueError(f"n_paths={n_paths}: the run's outputs need {need / gib:.3g} GiB but this machine has "
                     f"{have / gib:.3g} GiB of memory; reduce {', '.join(hints)} (or split the paths into "
                     "several runs with different seeds)")


@contextlib.contextmanager
def _threads(n_threads):
    if n_threads is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("optdyn")
    except Exception:  # not installed (running from a checkout)
        return "unknown"


def run_ensemble(problem: Problem, n_paths: int, t_max: float, *, save_times=None, seed: int = 0,
                 backend: str = "numba", n_record: int = 0, record_every: int = 1,
                 store_samples: bool = False, chunk_size: int = 65536, n_threads: int | None = None,
                 progress: bool | None = None, precision: str = "float64",
                 observables: bool = False, path_start: int = 0, rng: str | None = None,
                 keep_paths: bool | None = None) -> EnsembleResult:
    r"""Run ``n_paths`` independent paths of ``problem`` up to time ``t_max``.

    Parameters
    ----------
    problem : Problem
        Landscape, noise, dynamics, start and exit region.
    n_paths : int
        Number of paths (≥ 1).
    t_max : float
        Censoring time in continuous units (time ``t = k·dt``; ``dt = lr`` for a discrete
        optimizer).  The run makes ``n_steps = floor(t_max/dt)`` steps (to a relative 1e-12), so
        the last step never goes past ``t_max``; when ``t_max`` is not a multiple of ``dt`` the
        run ends at ``result.t_end = n_steps·dt < t_max``.  Paths that have not exited by then are
        *censored* and kept.  ``t_max`` shorter than one step raises a ValueError.
    save_times : array_like, optional
        Times in ``[0, t_max]`` at which moments (and samples) are taken; each is rounded to the
        nearest step that is run (``0 … n_steps``), and the result's ``times`` are the ones used.
        Rows come back **in the order asked**, one per requested time: unsorted times are kept in
        their order and duplicates (also two times that round to the same step) give repeated,
        identical rows.  So ``result.mean[i]`` always belongs to ``save_times[i]``, whatever the
        backend: the backends all simulate the sorted distinct steps and :func:`run_ensemble`
        reorders, which keeps them consistent and costs nothing (rejecting unsorted input would
        only push the bookkeeping onto every caller).
    seed : int
        Seed (≥ 0).  Path ``p`` always draws the same random numbers for the same seed.
    backend : str
        ``"numba"`` (default), ``"numpy"`` (reference), ``"torch"`` / ``"torch:cpu"`` (op-by-op
        torch, the bit-exact reference of the numba streams; needs torch), ``"torch:cuda"`` /
        ``"torch:cuda:1"`` (fused GPU kernels, needs numba-cuda and a CUDA device; Philox streams)
        or ``"cuda-sim"`` (the same kernels in numba-cuda's CPU simulator, for testing).
    precision : str
        ``"float64"`` (default) or ``"float32"`` (torch and the GPU backends); stored in the metadata.
    rng : str, optional
        The random streams: ``"xoshiro"`` (xoshiro256** + ziggurat, the CPU backends' default) or
        ``"philox"`` (counter-based, :mod:`sim.backends.philox`; the GPU backends' only streams, and
        an option of ``"numba"`` and ``"numpy"`` so that CPU and GPU runs can be compared path by
        path).  Stored in the metadata.
    keep_paths : bool, optional
        Keep the per-path arrays (``exit_step``, ``exit_label``, ``diverged_step``).  ``False``
        keeps summaries only (:mod:`sim.summaries`: moments, escape counts and exit-step
        statistics in ``result.escape_summary``; the per-path fields are None), so memory is
        bounded by ``chunk_size`` for any ``n_paths``.  Default: True up to
        :data:`sim.summaries.KEEP_PATHS_LIMIT` paths or with ``store_samples``, False otherwise.
    n_record, record_every : int
        Store full trajectories of the first ``n_record`` paths every ``record_every`` steps.
    store_samples : bool
        Keep every path's state at the save times (memory ``n_times · n_paths · dim`` floats).
    chunk_size : int
        Paths simulated at once (memory bound); rounded up to a multiple of :data:`BLOCK`.
        Does not change the result.
    n_threads : int, optional
        numba threads for this run (default: numba's setting).  Does not change the result.
    progress : bool or callable, optional
        A ``tqdm`` progress bar (paths done, escapes so far, rate, time left), shown once the run
        has taken 2 s; default: when stderr is a terminal or in Jupyter.  On the CPU backends the
        paths run as launches of about 0.5 s (:mod:`sim.launches`), so the bar moves and Ctrl-C is
        honoured within about a second; the launch sizes do not change the result.
        Ctrl-C returns the paths finished so far as a *partial* result (``metadata["partial"]``
        is True, with a warning): paths ``path_start … path_start + result.n_paths - 1``.
        A function ``f(n_paths, n_escaped)`` instead is called after each launch (no bar).
    path_start : int
        Global index of the first path (a multiple of :data:`BLOCK`; default 0): the run covers
        paths ``path_start … path_start + n_paths - 1``, which draw the same numbers as in any
        other run of the same seed.  Runs over adjacent ranges combine with
        :func:`sim.merge` into exactly (bit for bit) the result of one run over all of them.
        Trajectories (``n_record``) are those of global paths ``0 … n_record - 1``, so need
        ``path_start = 0``.
    observables : bool
        Also reduce the loss :math:`L(\theta)` and :math:`\|\nabla L(\theta)\|^2` of every path at
        the save times (ensemble means and standard errors, no trajectories kept): the result's
        ``loss_mean``/``loss_sem``/``grad_norm2_mean``/``grad_norm2_sem`` and
        :meth:`~sim.results.EnsembleResult.running_min_grad_norm2`.  Evaluated with the landscape's
        vectorised NumPy functions on each chunk's saved states, so every backend gives them.

    Returns
    -------
    EnsembleResult
        Its ``times``/``steps``/``n_alive``/``mean``/``cov``/``samples`` rows follow ``save_times``
        as given; ``n_steps`` and ``t_end`` say what was run.

    Raises
    ------
    TypeError, ValueError
        Before any allocation or kernel, naming the parameter: every argument above, a ``t_max``
        shorter than one step (naming ``lr`` for a discrete optimizer, ``dt`` for an SDE, and
        ``t_max``), and a run whose outputs cannot fit in memory: the bytes of the outputs (three
        int64 per path, the samples, the recorded trajectories, the per-block moments, one chunk)
        are compared with the machine's physical memory, and the error names ``n_paths`` and the
        GiB needed and available (no check where the physical memory cannot be read; an
        allocation that still fails raises a MemoryError with the same numbers).
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    n_paths = V.positive_int("n_paths", n_paths)
    t_max = V.positive("t_max", t_max)
    seed = V.positive_int("seed", seed, minimum=0)
    if seed >= 2**63:
        raise ValueError(f"seed must be < 2**63, got {seed}")
    n_record = V.positive_int("n_record", n_record, minimum=0)
    record_every = V.positive_int("record_every", record_every)
    chunk_size = V.positive_int("chunk_size", chunk_size)
    path_start = V.positive_int("path_start", path_start, minimum=0)
    if path_start % BLOCK:
        raise ValueError(f"path_start must be a multiple of BLOCK={BLOCK} (reduction blocks are aligned to "
                         f"global path indices), got {path_start}")
    if path_start + n_paths > 2**63 - 1:
        raise ValueError(f"path_start + n_paths must be < 2**63, got {path_start} + {n_paths}")
    if n_record and path_start:
        raise ValueError(f"n_record={n_record} records global paths 0 … n_record-1; it needs path_start=0, "
                         f"got path_start={path_start}")
    if n_threads is not None:
        n_threads = V.positive_int("n_threads", n_threads)
        if n_threads > numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"n_threads must be <= {numba.config.NUMBA_NUM_THREADS} (numba's maximum)")
    dyn = problem.dynamics
    dt = dyn.dt
    if getattr(dyn, "variable_steps", False):  # a learning-rate schedule: t_k = Σ_{j≤k} η_j
        step_times = dyn.time_axis(t_max)
        n_steps = step_times.size - 1
        if n_steps < 1:
            raise ValueError(f"t_max={t_max!r} is shorter than the first step (lr·f_1 = "
                             f"{dyn.time_at(1)!r}): nothing would be simulated")
        save_steps, order, steps_asked, times = _steps_on_axis(save_times, step_times, t_max)
    else:
        step_times = None
        n_steps = _n_steps(dt, t_max, "lr" if dyn.kind == "discrete" else "dt")
        save_steps, order, steps_asked, times = _steps_for(save_times, dt, t_max, n_steps)
    keep = (store_samples or n_paths <= KEEP_PATHS_LIMIT) if keep_paths is None else bool(keep_paths)
    if store_samples and not keep:
        raise ValueError("store_samples=True keeps every path's states: it cannot be combined with "
                         "keep_paths=False")
    be = get_backend(backend, precision=precision, rng=rng)
    if be.rng == "philox" and n_steps > PHILOX_MAX_STEPS:
        raise ValueError(f"t_max={t_max!r} is {n_steps} steps, more than the Philox streams' step counter "
                         f"holds ({PHILOX_MAX_STEPS}); use a larger step or rng='xoshiro' (CPU backends)")
    bound_noise = problem.noise.bind(problem.landscape)

    dim, n_save = problem.dim, save_steps.size
    n_asked = steps_asked.size
    n_record = min(n_record, n_paths)
    n_rec_times = n_steps // record_every + 1
    chunk = BLOCK * max(1, math.ceil(min(chunk_size, n_paths) / BLOCK))
    need = _output_bytes(n_paths if keep else 0, chunk, n_asked, n_save, dim, store_samples, n_record,
                         n_rec_times if n_record else 0)
    _check_memory(need, n_paths, store_samples, n_record)
    try:
        record = np.full((n_record, n_rec_times if n_record else 0, dim), np.nan)
        exit_step, exit_label, diverged_step = (np.empty(n_paths, np.int64) if keep else None
                                                for _ in range(3))
        samples = np.empty((n_asked, n_paths, dim)) if store_samples else None
    except MemoryError as exc:  # fits the machine but not what is free now
        raise MemoryError(f"n_paths={n_paths}: could not allocate the run's outputs "
                          f"({need / 2.0 ** 30:.3g} GiB); reduce n_paths or free memory") from exc
    counts, means, m2s, obs_blocks = [], [], [], []
    tree, tally = MomentTree(), EscapeTally(n_steps, dt)
    show = progress_default() if progress is None else progress
    plan = LaunchPlan(n_paths, chunk, BLOCK, adapt=getattr(be, "launch_cost_per_path", False))
    done, interrupted = 0, False
    t_start = time.perf_counter()
    with _threads(n_threads), Progress(n_paths, enabled=show) as bar:
        try:
            for lo, hi in plan:
                out = ChunkOutput.empty(hi - lo, n_save, dim, record)
                be.simulate_chunk(problem, bound_noise, path_start + lo, out, n_steps, save_steps, seed,
                                  n_record, record_every)
                if keep:
                    exit_step[lo:hi], exit_label[lo:hi] = out.exit_step, out.exit_label
                    diverged_step[lo:hi] = out.diverged_step
                else:
                    tally.add(out.exit_step, out.exit_label, out.diverged_step)
                if store_samples:
                    samples[:, lo:hi] = out.saved.transpose(1, 0, 2)[order]
                obs = _observables(problem.landscape, out.saved) if observables else None
                for b in range(0, hi - lo, BLOCK):
                    cnt, mean, m2 = _block_moments(out.saved[b:b + BLOCK])
                    if keep:
                        counts.append(cnt), means.append(mean), m2s.append(m2)
                    else:
                        tree.push(cnt, mean, m2)
                    if observables:
                        obs_blocks.append(_block_moments(obs[b:b + BLOCK]))
                done = hi
                bar.update(hi - lo, int(np.count_nonzero(out.exit_step >= 0)))
        except KeyboardInterrupt:
            if done == 0:
                raise
            interrupted = True
    if interrupted:  # keep the launches that finished: paths path_start … path_start + done - 1
        n_blocks = -(-done // BLOCK)
        del counts[n_blocks:], means[n_blocks:], m2s[n_blocks:], obs_blocks[n_blocks:]
        if keep:
            exit_step, exit_label, diverged_step = exit_step[:done], exit_label[:done], diverged_step[:done]
        samples = samples[:, :done] if store_samples else None
        n_record = min(n_record, done)
        record = record[:n_record]
        import warnings

        warnings.warn(f"interrupted: returning a partial result of {done} of {n_paths} paths "
                      "(result.metadata['partial'] is True)", RuntimeWarning, stacklevel=2)
    if n_save:
        n_alive, mean, cov = _combine_blocks(counts, means, m2s) if keep else tree.result()
        n_alive, mean, cov = n_alive[order], mean[order], cov[order]  # rows in the order asked
    else:
        n_alive, mean, cov = np.zeros(0, np.int64), np.zeros((0, dim)), np.zeros((0, dim, dim))
    obs_fields = {}
    if observables:
        cnt, obs_mean, obs_cov = (_combine_blocks(*zip(*obs_blocks)) if n_save else
                                  (np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2, 2))))
        with np.errstate(invalid="ignore", divide="ignore"):
            sem = np.sqrt(np.diagonal(obs_cov, axis1=1, axis2=2) / cnt[:, None])
        obs_mean, sem = obs_mean[order], sem[order]
        obs_fields = dict(loss_mean=obs_mean[:, 0], loss_sem=sem[:, 0], grad_norm2_mean=obs_mean[:, 1],
                          grad_norm2_sem=sem[:, 1])
    n_div = int(np.count_nonzero(diverged_step >= 0)) if keep else tally.diverged
    n_paths_asked, n_paths = n_paths, done
    if n_div:
        import warnings

        warnings.warn(f"{n_div} of {n_paths} paths diverged (non-finite state); they are counted in "
                      "result.diverged and excluded from moments", RuntimeWarning, stacklevel=2)
    metadata = {
        "seed": seed, "backend": be.name, "precision": be.precision, "rng": be.rng, "n_paths": n_paths,
        "t_max": t_max, "dt": dt, "n_steps": n_steps, "chunk_size": chunk,
        "n_threads": numba.get_num_threads() if n_threads is None else n_threads,
        "optdyn_version": _version(), "numpy_version": np.__version__,
        "numba_version": numba.__version__, "problem": problem.describe(),
        "wall_time_s": time.perf_counter() - t_start, "path_start": path_start,
    }
    if hasattr(be, "stats"):  # launches and host synchronisations of the GPU backends
        metadata["backend_stats"] = dict(be.stats)
    if interrupted:
        metadata.update(partial=True, n_paths_requested=n_paths_asked)
    return EnsembleResult(
        times=times, steps=steps_asked, n_alive=n_alive, mean=mean, cov=cov, exit_step=exit_step,
        exit_label=exit_label, diverged_step=diverged_step, dt=dt, n_steps=n_steps, t_max=t_max,
        samples=samples, trajectories=record if n_record else None,
        trajectory_times=(((np.arange(n_rec_times) * record_every * dt) if step_times is None
                           else step_times[::record_every]) if n_record else None),
        step_times=step_times, metadata=metadata, path_start=path_start, **obs_fields,
        escape_summary=None if keep else tally.result(),
        **_block_fields(counts, means, m2s, n_save, dim))


def _block_fields(counts, means, m2s, n_save, dim) -> dict:
    """The per-block moments as result fields (kept so that :func:`sim.merge` can recombine exactly)."""
    n = len(counts)
    if n == 0 or n_save == 0:
        return {"block_count": np.zeros((n, n_save)), "block_mean": np.zeros((n, n_save, dim)),
                "block_m2": np.zeros((n, n_save, dim, dim))}
    return {"block_count": np.stack(counts), "block_mean": np.stack(means), "block_m2": np.stack(m2s)}
