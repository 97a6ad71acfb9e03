"""Declarative sweeps: a problem template, a parameter grid, paths per point; run here or on Dask.

>>> from optdyn.sim.experiments import Experiment          # doctest: +SKIP
>>> exp = Experiment.from_toml("examples/double_well.toml") # doctest: +SKIP
>>> ds = exp.run("double_well.store")                       # doctest: +SKIP

* :class:`Experiment` (:mod:`.spec`): what to run — the work units are (grid point, path range);
* :func:`run_experiment` (:mod:`.runner`): where — this process, a local Dask cluster (default) or
  a user's cluster; resumable (:mod:`.store`), with a progress bar, Ctrl-C keeps what finished;
* :func:`to_dataset` / :func:`open_results` (:mod:`.dataset`): the labelled ``xarray.Dataset``,
  stored as Zarr and readable with xarray alone.

The same experiment gives the same bits whatever the number of workers, the unit size or how often
it was interrupted and resumed (``tests/sim/test_experiments.py``).
"""
from .dataset import ESCAPE_VARIABLES, open_results, to_dataset
from .runner import run_experiment
from .spec import RECORD_CHOICES, Experiment, Unit, build_problem, read_toml
from .store import Store

__all__ = ["Experiment", "Unit", "build_problem", "read_toml", "run_experiment", "to_dataset", "open_results",
           "Store", "RECORD_CHOICES", "ESCAPE_VARIABLES"]
