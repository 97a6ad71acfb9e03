"""From per-point ensemble results to one labelled ``xarray.Dataset``.

Dimensions: one per grid key (named by :attr:`Experiment.dims`, coordinates the grid values), then
``time`` (the requested save times), ``coord``/``coord_`` (state coordinates), ``exit`` (exit labels
1, 2, …) and ``path`` where recorded.  Variables, per grid point:

* always: ``n_paths`` (paths run), ``n_escaped``, ``n_censored``, ``n_diverged``, ``dt``, ``t_end``;
* ``moments``: ``n_alive``, ``x_mean``, ``x_cov`` (mean and covariance of the state) at each save time and ``time_used`` (the save time
  rounded to the point's step, see :func:`sim.run_ensemble`);
* ``escapes`` (times in continuous units, ``t = k·dt``): ``escape_rate`` with ``escape_rate_lo/hi``
  (censored-exponential MLE, exact interval, :func:`sim.escape.exponential_rate`),
  ``mean_escape_time`` (= 1/rate, the exponential model's mean) with ``_lo/_hi``,
  ``median_escape_time`` (Kaplan–Meier, model-free; NaN when fewer than half escaped) and
  ``survival_end`` (Kaplan–Meier survival at ``t_end``);
* ``exits``: ``exit_count`` per exit label;
* ``escape_steps``: ``escape_step`` of every path (−1: did not escape, −2: not run).

The attributes hold the metadata as plain values and JSON strings (``problems``: every point's
problem description; ``experiment``; versions; ``partial``), so the file is read with xarray and
Zarr alone: ``xarray.open_zarr(path)``.
"""
from __future__ import annotations

import json
import sys
import warnings

import numpy as np

from .. import escape
from ..results import EnsembleResult
from .spec import Experiment

__all__ = ["to_dataset", "open_results", "ESCAPE_VARIABLES"]


def _coord_values(values):
    """Grid values as a coordinate: scalars as they are, anything else as its JSON text."""
    if all(isinstance(v, (int, float, str, bool)) for v in values):
        return np.asarray(values)
    return np.asarray([json.dumps(v) for v in values])


#: The escape variables of a point (``record`` ``"escapes"``).
ESCAPE_VARIABLES = ("escape_rate", "escape_rate_lo", "escape_rate_hi", "mean_escape_time", "mean_escape_time_lo",
                    "mean_escape_time_hi", "median_escape_time", "survival_end")


def _escape_summary(res: EnsembleResult) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # diverged paths: counted in n_diverged
        t, e = escape.times_from_result(res)
    out = dict.fromkeys(ESCAPE_VARIABLES, np.nan)
    if t.size == 0 or t.sum() <= 0:
        return out
    rate = escape.exponential_rate(t, e)
    km = escape.kaplan_meier(t, e)
    below = np.nonzero(km.survival <= 0.5)[0]
    out.update(escape_rate=rate.rate, escape_rate_lo=rate.rate_ci[0], escape_rate_hi=rate.rate_ci[1],
               mean_escape_time=rate.mean_time, mean_escape_time_lo=rate.mean_time_ci[0],
               mean_escape_time_hi=rate.mean_time_ci[1],
               median_escape_time=float(km.times[below[0]]) if below.size else np.nan,
               survival_end=float(km(res.t_end)))
    return out


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    out = {"python": sys.version.split()[0]}
    for pkg in ("optdyn", "numpy", "numba", "xarray", "zarr", "dask", "distributed"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def to_dataset(experiment: Experiment, results: list, *, partial: bool = False, extra_attrs=None):
    """The Dataset of an experiment from one merged :class:`EnsembleResult` per grid point (None
    where nothing ran).  See the module docstring for the variables."""
    import xarray as xr  # noqa: PLC0415 (optional until a sweep is run)

    shape, dims = experiment.shape, experiment.dims
    probs = experiment.problems()
    dim = probs[0].dim
    rec = set(experiment.record)
    save = experiment.save_times if "moments" in rec else []
    n_t = len(save or [])
    n_labels = max([int(r.exit_label.max(initial=0)) for r in results if r is not None] + [1])
    n_pts = len(results)

    def full(extra=(), fill=np.nan, dtype=float):
        return np.full((n_pts, *extra), fill, dtype=dtype)

    v = {name: full(fill=0, dtype=np.int64) for name in ("n_paths", "n_escaped", "n_censored", "n_diverged")}
    v.update(dt=full(), t_end=full())
    if n_t:
        v.update(n_alive=full((n_t,), 0, np.int64), x_mean=full((n_t, dim)), x_cov=full((n_t, dim, dim)),
                 time_used=full((n_t,)))
    if "escapes" in rec:
        v.update({k: full() for k in ESCAPE_VARIABLES})
    if "exits" in rec:
        v["exit_count"] = full((n_labels,), 0, np.int64)
    if "escape_steps" in rec:
        v["escape_step"] = full((experiment.n_paths,), -2, np.int64)
    for i, (res, prob) in enumerate(zip(results, probs)):
        v["dt"][i] = prob.dynamics.dt
        if res is None or res.n_paths == 0:
            continue
        s = res.summary()
        v["n_paths"][i], v["n_escaped"][i] = s["n_paths"], s["escaped"]
        v["n_censored"][i], v["n_diverged"][i] = s["censored"], s["diverged"]
        v["t_end"][i] = res.t_end
        if n_t:
            v["n_alive"][i], v["x_mean"][i], v["x_cov"][i], v["time_used"][i] = res.n_alive, res.mean, res.cov, res.times
        if "escapes" in rec:
            for k, val in _escape_summary(res).items():
                v[k][i] = val
        if "exits" in rec:
            lab, cnt = np.unique(res.exit_label[res.escaped], return_counts=True)
            v["exit_count"][i, lab - 1] = cnt
        if "escape_steps" in rec:
            v["escape_step"][i, :res.n_paths] = res.exit_step
    extra_dims = {"x_mean": ("time", "coord"), "x_cov": ("time", "coord", "coord_"), "n_alive": ("time",),
                  "time_used": ("time",), "exit_count": ("exit",), "escape_step": ("path",)}
    data = {k: ((*dims, *extra_dims.get(k, ())), a.reshape(*shape, *a.shape[1:])) for k, a in v.items()}
    coords = {d: _coord_values(vals) for d, vals in zip(dims, experiment.grid.values())}
    coords.update(coord=np.arange(dim), coord_=np.arange(dim))
    if n_t:
        coords["time"] = np.asarray(save, float)
    if "exits" in rec:
        coords["exit"] = np.arange(1, n_labels + 1)
    desc = experiment.describe()
    attrs = {
        "title": experiment.name, "description": experiment.description, "seed": experiment.seed,
        "n_paths_requested": experiment.n_paths, "t_max": experiment.t_max, "record": json.dumps(sorted(rec)),
        "grid_keys": json.dumps(dict(zip(dims, experiment.keys))), "partial": int(bool(partial)),
        "fingerprint": experiment.fingerprint(), "versions": json.dumps(_versions()),
        "problems": json.dumps(desc["problems"]),
        "experiment": json.dumps({k: val for k, val in desc.items() if k != "problems"}),
        "time_units": "continuous time t = k*dt (dt = lr for a discrete optimizer; docs/theory.md §0)",
    }
    attrs.update(extra_attrs or {})
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for d, key in zip(dims, experiment.keys):
        ds[d].attrs["grid_key"] = key
    return ds


def open_results(path):
    """Open a stored experiment result (``STORE/results.zarr`` or the store folder) with xarray only."""
    import os  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    import xarray as xr  # noqa: PLC0415

    p = Path(os.fspath(path))
    if (p / "results.zarr").exists():
        p = p / "results.zarr"
    return xr.open_zarr(p, consolidated=True).load()
