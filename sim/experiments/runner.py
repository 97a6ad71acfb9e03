"""Run an :class:`Experiment`: work units in this process or on a Dask cluster, resumable, with progress.

``client`` chooses where the units run:

* ``"local"`` (default): a Dask ``LocalCluster`` on this machine, started and closed here — one
  single-threaded worker process per core (``n_workers``), each numba kernel single-threaded;
* ``"serial"`` (or None): in this process, one unit after another (no Dask);
* a ``distributed.Client``, or a scheduler address (``"tcp://host:8786"``): a user's cluster.

Wherever units run, the result is the same bit for bit: a unit's numbers depend only on the seed
and its path range, and each point's units are merged in path order (:func:`sim.merge`).  Workers
return their unit's :class:`EnsembleResult`; this process writes it to the store atomically, so the
workers need no shared file system.

Progress: one ``tqdm.auto`` bar over all paths (escapes so far, rate, time left), updated after each
kernel launch of every worker (launches take about 0.5 s, :mod:`sim.launches`; Dask workers report
through the scheduler's event log).  Ctrl-C stops the sweep within about a second: the units
already written stay in the store, the Dataset of what finished is returned with
``attrs["partial"] = 1`` and a warning, and running the same experiment on the same store again
resumes it.
"""
from __future__ import annotations

import atexit
import collections
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path

from ..ensemble import run_ensemble
from ..launches import Progress, progress_default
from ..merge import merge
from .dataset import to_dataset
from .spec import Experiment, Recipe, Unit
from .store import Store

__all__ = ["run_experiment"]

_TOPIC = "optdyn-progress"


#: Problems built in this process, by recipe (a worker builds each point's problem once: a
#: formula landscape is derived and its critical points searched when it is built).
_BUILT: dict = {}
_PARTS: dict = {}  # parts (landscape, noise, …) by spec: points that share a landscape share one object


def _problem(recipe: Recipe, key: str):
    if key not in _BUILT:
        if len(_BUILT) >= 8:  # units come roughly point by point: a few recent points suffice
            _BUILT.pop(next(iter(_BUILT)))
        if len(_PARTS) > 64:
            _PARTS.clear()
        _BUILT[key] = recipe.build(_PARTS)
    return _BUILT[key]


def _run_unit(recipe, key: str, unit: Unit, t_max: float, kwargs: dict, report=None):
    """Run one unit (on a worker or here).  ``recipe``: a :class:`Recipe` or a built Problem (``key``
    names it); ``report``: a topic name (Dask) or a callable."""
    problem = _problem(recipe, key) if isinstance(recipe, Recipe) else recipe
    if isinstance(report, str):
        from distributed import get_worker  # noqa: PLC0415

        worker = get_worker()

        def report_fn(n, esc, _w=worker, _name=unit.name):
            _w.log_event(report, {"unit": _name, "n": n, "escaped": esc})
    else:
        report_fn = report or False
    return run_ensemble(problem, unit.n, t_max, path_start=unit.start, progress=report_fn, **kwargs)


class _Bar:
    """The sweep's bar: counts paths of finished units exactly and of running units from reports."""

    def __init__(self, total: int, done_paths: int, done_escaped: int, enabled: bool, desc: str):
        self.bar = Progress(total, enabled=enabled, desc=desc, delay_s=0.0, initial=done_paths)
        self.bar.escaped = done_escaped
        self.running = collections.defaultdict(lambda: [0, 0])  # unit name -> [paths, escaped] reported
        self.closed = set()  # finished units: a late report of theirs is ignored

    def report(self, name: str, n: int, escaped: int) -> None:
        if name in self.closed:
            return
        self.running[name][0] += n
        self.running[name][1] += escaped
        self.bar.update(n, escaped)

    def finished(self, unit: Unit, result) -> None:
        self.closed.add(unit.name)
        n, esc = self.running.pop(unit.name, (0, 0))
        self.bar.update(result.n_paths - n, int(result.escaped.sum()) - esc)


def _connect(client, n_workers, n_units):
    """``(client, cluster_to_close)`` for the ``client`` argument."""
    from distributed import Client, LocalCluster  # noqa: PLC0415

    if isinstance(client, Client):
        return client, None
    if client == "local":
        n = n_workers or min(os.cpu_count() or 1, n_units)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        return Client(cluster), cluster
    if isinstance(client, str):
        return Client(client), None
    raise TypeError(f"client must be 'local', 'serial', None, a scheduler address or a distributed.Client, "
                    f"got {client!r}")


def _run_serial(experiment, todo, store, bar):
    probs, kw = experiment.problems(), experiment.run_kwargs()
    for unit in todo:
        with warnings.catch_warnings():  # a unit cut by Ctrl-C is dropped, not returned: no warning of it
            warnings.filterwarnings("ignore", message="interrupted: returning a partial result")
            res = _run_unit(probs[unit.point], "", unit, experiment.t_max, kw,
                            report=lambda n, esc, _u=unit.name: bar.report(_u, n, esc))
        if res.metadata.get("partial"):  # Ctrl-C inside the unit: its finished launches are dropped
            raise KeyboardInterrupt
        store.save(unit, res)
        bar.finished(unit, res)


def _run_dask(experiment, todo, store, bar, client, n_workers):
    from distributed import as_completed  # noqa: PLC0415

    client, cluster = _connect(client, n_workers, len(todo))
    events = collections.deque()
    fp = experiment.fingerprint()[:12]
    topic = f"{_TOPIC}-{fp}"
    futures = []
    interrupted = False
    try:
        client.subscribe_topic(topic, events.append)
        points, kw = experiment.points(), experiment.run_kwargs()
        recipes = {}
        by_key = {}
        for unit in todo:
            if unit.point not in recipes:
                recipes[unit.point] = client.scatter(experiment.recipe(points[unit.point]))
            fut = client.submit(_run_unit, recipes[unit.point], f"{fp}-{unit.point}", unit, experiment.t_max, kw,
                                topic, key=f"optdyn-{fp}-{unit.name}", pure=False, retries=1)
            by_key[fut.key] = unit
            futures.append(fut)
        pending = as_completed(futures, with_results=False)
        while not pending.is_empty():
            for fut in pending.next_batch(block=False) if pending.has_ready() else ():
                res = fut.result()  # a unit's exception is raised here
                unit = by_key.pop(fut.key)
                fut.release()  # its result is written here: the worker may forget it
                store.save(unit, res)
                bar.finished(unit, res)
            while events:
                _, msg = events.popleft()
                bar.report(msg["unit"], msg["n"], msg["escaped"])
            time.sleep(0.1)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if interrupted:  # return at once: closing a local cluster takes seconds (its workers are killed)
            closing = threading.Thread(target=_shutdown, args=(client, cluster, futures, topic), daemon=True)
            closing.start()
            atexit.register(closing.join, 30)  # runs before distributed's own atexit close (LIFO)
        else:
            _shutdown(client, cluster, futures, topic)


def _shutdown(client, cluster, futures, topic) -> None:
    """Cancel what still runs and close the cluster started here; never raises (it runs on Ctrl-C too)."""
    with _quiet():
        for step in (lambda: client.cancel(futures), lambda: client.unsubscribe_topic(topic)):
            try:
                step()
            except Exception:  # noqa: BLE001 (closing: nothing left to report to)
                pass
        if cluster is not None:
            for closer in (client, cluster):
                try:
                    closer.close(timeout=10)
                except Exception:  # noqa: BLE001 (a worker busy in a kernel is killed by its nanny)
                    pass


class _quiet:
    """Silence the shutdown chatter of a cancelled Dask cluster."""

    def __enter__(self):
        import logging  # noqa: PLC0415

        self.loggers = [logging.getLogger(n) for n in ("distributed", "distributed.nanny", "distributed.worker",
                                                        "distributed.scheduler", "distributed.core")]
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.CRITICAL)
        return self

    def __exit__(self, *exc):
        for lg, level in zip(self.loggers, self.levels):
            lg.setLevel(level)
        return False


def _collect(experiment, store):
    """One merged result per point from the units on disk (the contiguous finished prefix of each
    point's paths), and whether any unit is missing."""
    results, complete = [], True
    units_by_point = collections.defaultdict(list)
    for u in experiment.units():
        units_by_point[u.point].append(u)
    for i in range(len(experiment.points())):
        pieces = []
        for u in units_by_point[i]:
            res = store.load(u)
            if res is None:
                complete = False
                break
            pieces.append(res)
        complete &= len(pieces) == len(units_by_point[i])
        results.append(merge(pieces) if pieces else None)
    return results, complete


def run_experiment(experiment: Experiment, store=None, *, client="local", n_workers: int | None = None,
                   progress: bool | None = None):
    """Run every unit of ``experiment`` not yet in ``store``; return the labelled ``xarray.Dataset``.

    Parameters
    ----------
    experiment : Experiment
    store : path, optional
        Folder of the units and of ``results.zarr`` (created when missing).  Running again on the
        same store resumes: finished units are not run again.  Default: a temporary folder, removed
        at the end (no resume).
    client : "local", "serial", None, str or distributed.Client
        Where the units run (see the module docstring).  Same result whatever is chosen.
    n_workers : int, optional
        Worker processes of the ``"local"`` cluster (default: the number of cores).
    progress : bool, optional
        The progress bar (default: when stderr is a terminal or in Jupyter).

    Returns
    -------
    xarray.Dataset
        See :func:`optdyn.sim.experiments.to_dataset`; ``attrs["partial"]`` is 1 when the sweep was
        interrupted (and then only the finished units are in it).  A complete one is also written
        to ``STORE/results.zarr``.
    """
    if not isinstance(experiment, Experiment):
        raise TypeError(f"experiment must be an Experiment, got {type(experiment).__name__}")
    import xarray  # noqa: F401, PLC0415 (imported now, not after a Ctrl-C: ~1 s)
    if client not in (None, "serial", "local") and not hasattr(client, "submit") and not isinstance(client, str):
        raise TypeError(f"client must be 'local', 'serial', None, a scheduler address or a distributed.Client, "
                        f"got {client!r}")
    experiment.problems()  # every point's problem is checked before anything runs
    tmp = None
    if store is None:
        tmp = tempfile.TemporaryDirectory(prefix="optdyn-experiment-")
        store = tmp.name
    st = Store(store, experiment)
    units = experiment.units()
    done_paths = done_escaped = 0
    todo = []
    for u in units:  # finished units load (and are checked); a broken one runs again
        res = st.load(u) if st.unit_path(u).exists() else None
        if res is None:
            todo.append(u)
        else:
            done_paths += res.n_paths
            done_escaped += int(res.escaped.sum())
    total = experiment.n_paths * len(experiment.points())
    show = progress_default() if progress is None else bool(progress)
    bar = _Bar(total, done_paths, done_escaped, show, desc=experiment.name)
    t0 = time.perf_counter()
    interrupted = False
    try:
        if todo and client in (None, "serial"):
            _run_serial(experiment, todo, st, bar)
        elif todo:
            _run_dask(experiment, todo, st, bar, client, n_workers)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.bar.close()
    results, complete = _collect(experiment, st)
    n_done = len(st.done(units))
    ds = to_dataset(experiment, results, partial=not complete,
                    extra_attrs={"wall_time_s": time.perf_counter() - t0, "units_run": len(todo),
                                 "units_total": len(units),
                                 "client": client if isinstance(client, str) or client is None else repr(client)})
    if tmp is not None:
        ds = ds.load()
        tmp.cleanup()
    elif complete:  # a partial Dataset is only returned: its units are on disk, the rerun writes it
        st.write_dataset(ds)
    if not complete:
        how = (f"run the experiment again on store {str(Path(store))!r} to resume" if tmp is None
               else "no store was given, so nothing is kept: pass store=... to be able to resume")
        warnings.warn(f"{'interrupted: ' if interrupted else ''}partial result ({n_done} of {len(units)} units "
                      f"finished, attrs['partial'] = 1); {how}", RuntimeWarning, stacklevel=2)
    return ds
