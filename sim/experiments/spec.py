"""What an experiment is: a problem template, a parameter grid, and how many paths to run at each point.

An :class:`Experiment` is data.  Its problem template is either a *spec* (a dict, as written in a TOML
file) naming the classes and their keyword arguments, or a Python function ``point -> Problem``.  The
grid maps dotted keys of the spec (``"dynamics.lr"``, ``"noise.batch_size"``, ``"dynamics.type"``,
``"landscape.barrier"``, ``"x0"``…) to lists of values; the experiment runs every combination.

The work is split into *units* — (grid point, path range) — of ``paths_per_unit`` paths (a multiple
of ``BLOCK``).  Because every path's random stream depends only on ``(seed, path)``, a unit gives the
same numbers wherever and whenever it runs, and the units of a point merge exactly
(:func:`sim.merge`) into the result of one ``run_ensemble`` over all its paths.  All points share
the seed: the same path index draws the same normals at every point (common random numbers, which
makes differences between neighbouring points less noisy).
"""
from __future__ import annotations

import copy
import hashlib
import importlib
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import _validation as V
from ..dynamics import DynamicsBase
from ..ensemble import BLOCK
from ..exits import ExitRegionBase
from ..landscapes import LandscapeBase
from ..noise import NoiseBase
from ..problem import Problem

__all__ = ["Experiment", "Unit", "Recipe", "build_problem", "read_toml", "RECORD_CHOICES"]

#: What an experiment can record at each point (see :func:`optdyn.sim.experiments.to_dataset`).
RECORD_CHOICES = ("moments", "escapes", "exits", "escape_steps")

#: The parts of a problem spec that name a class, and the base class each must derive from.
_PARTS = {"landscape": LandscapeBase, "noise": NoiseBase, "dynamics": DynamicsBase, "exit": ExitRegionBase}


def _resolve_class(part: str, name: str) -> type:
    """The class named ``name`` for ``part``: an ``optdyn.sim`` name (``"Adam"``) or ``"module:Class"``."""
    from optdyn import sim  # noqa: PLC0415 (the public namespace, complete only after import)

    base = _PARTS[part]
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"{part}.type={name!r}: cannot import it ({exc})") from exc
    else:
        cls = getattr(sim, name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        known = sorted(n for n in dir(sim) if isinstance(getattr(sim, n), type)
                       and issubclass(getattr(sim, n), base) and not n.endswith("Base"))
        raise ValueError(f"{part}.type={name!r} is not a {base.__name__}; use one of {known} or "
                         "'module:Class'")
    return cls


def _is_class(part: str, name: str) -> bool:
    from optdyn import sim  # noqa: PLC0415

    obj = getattr(sim, name, None)
    return isinstance(obj, type) and issubclass(obj, _PARTS[part])


def _build_part(part: str, spec) -> Any:
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"problem.{part} must be a table with a 'type' (a class name), got {spec!r}")
    cls = _resolve_class(part, spec["type"])
    # a table named after a class of this part holds settings for that class only, e.g.
    # [problem.dynamics.Adam]; any other value (a table too, e.g. a formula's params) is an argument
    kwargs = {k: v for k, v in spec.items() if k != "type" and not (isinstance(v, dict) and _is_class(part, k))}
    kwargs.update(spec.get(cls.__name__, {}))
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"problem.{part}: {cls.__name__}({', '.join(kwargs)}) failed: {exc}") from exc


def build_problem(spec: dict, memo: dict | None = None) -> Problem:
    """A :class:`Problem` from a spec: tables ``landscape``, ``noise``, ``dynamics`` (each with a
    ``type`` and keyword arguments), optional ``exit``, and ``x0`` (optional ``initial_state``).

    A sub-table named after a class holds settings used only when that class is chosen, e.g.
    ``{"type": "Adam", "lr": 0.01, "Adam": {"beta2": 0.99}}`` — so a grid over ``dynamics.type`` can
    give each optimizer its own extra arguments.

    ``memo``: a dict shared between calls; a part with the same spec as before is reused, not built
    again (a formula landscape is derived and searched for critical points when it is built).
    """
    if not isinstance(spec, dict):
        raise TypeError(f"problem spec must be a dict, got {type(spec).__name__}")
    unknown = set(spec) - {"landscape", "noise", "dynamics", "exit", "x0", "initial_state"}
    if unknown:
        raise ValueError(f"problem spec: unknown keys {sorted(unknown)} (allowed: landscape, noise, dynamics, "
                         "exit, x0, initial_state)")
    for key in ("landscape", "noise", "dynamics", "x0"):
        if key not in spec:
            raise ValueError(f"problem spec needs {key!r}")
    parts = {}
    for p in _PARTS:
        if p in spec:
            key = (p, json.dumps(spec[p], sort_keys=True, default=repr))
            if memo is None or key not in memo:
                built = _build_part(p, spec[p])
                if memo is None:
                    parts[p] = built
                    continue
                memo[key] = built
            parts[p] = memo[key]
    return Problem(parts["landscape"], parts["noise"], parts["dynamics"], spec["x0"], exit=parts.get("exit"),
                   initial_state=spec.get("initial_state"))


def _set_dotted(spec: dict, key: str, value) -> None:
    node = spec
    *path, last = key.split(".")
    for name in path:
        if not isinstance(node.get(name), dict):
            raise ValueError(f"grid key {key!r}: the problem spec has no table {name!r}")
        node = node[name]
    node[last] = value


def _dim_names(keys) -> list[str]:
    """Short, distinct dimension names: the last part of each key (``dynamics.type`` -> ``dynamics``)."""
    short = [k.split(".")[0] if k.endswith(".type") else k.split(".")[-1] for k in keys]
    return [s if short.count(s) == 1 else k.replace(".", "_") for s, k in zip(short, keys)]


@dataclass(frozen=True)
class Recipe:
    """A problem spec, or a function and its keyword arguments: ``build()`` makes the Problem."""

    spec: dict | None = None
    function: Callable[..., Problem] | None = None
    point: dict | None = None

    def build(self, memo: dict | None = None) -> Problem:
        if self.spec is not None:
            return build_problem(self.spec, memo)
        prob = self.function(**self.point)
        if not isinstance(prob, Problem):
            raise TypeError(f"problem(**{self.point}) returned {type(prob).__name__}, not a Problem")
        return prob


@dataclass(frozen=True)
class Unit:
    """One piece of work: paths ``start … start + n - 1`` of grid point ``point``."""

    point: int
    start: int
    n: int

    @property
    def name(self) -> str:
        return f"p{self.point:05d}-{self.start:013d}"


@dataclass
class Experiment:
    r"""A declarative sweep.

    Parameters
    ----------
    problem : dict or callable
        A problem spec (see :func:`build_problem`) whose entries the grid overrides, or a function
        ``problem(**point) -> Problem`` called with one value per grid key.
    grid : dict
        ``{key: [values…]}``; every combination is a point.  With a spec, keys are dotted paths into
        it (``"dynamics.lr"``); with a function, its keyword names.  Values: numbers, strings or lists.
    n_paths : int
        Paths per grid point.
    t_max : float
        Censoring time (continuous units, ``t = k·dt``; see :func:`sim.run_ensemble`).
    save_times : list of float, optional
        Times of the moments (``record`` ``"moments"``).
    record : list of str, optional
        Default: ``"moments"`` (when ``save_times`` are given), ``"escapes"``, ``"exits"``.
        ``"moments"`` (count, mean, covariance at ``save_times``), ``"escapes"`` (counts, exponential
        rate and mean escape time with intervals, Kaplan–Meier median and survival at the end),
        ``"exits"`` (escapes per exit label), ``"escape_steps"`` (every path's exit step: large).
    seed : int
        One seed for every point (common random numbers).
    paths_per_unit : int
        Paths per work unit (rounded up to a multiple of ``BLOCK``).  Smaller units: finer
        resume and load balance; larger: fewer files.  Does not change the result.
    backend, precision, chunk_size, n_threads
        Passed to :func:`sim.run_ensemble` (none changes the result).
    name, description : str
        Stored with the results.
    """

    problem: dict | Callable[..., Problem]
    grid: dict
    n_paths: int
    t_max: float
    save_times: list | None = None
    record: tuple | None = None
    seed: int = 0
    paths_per_unit: int = 16 * BLOCK
    backend: str = "numba"
    precision: str = "float64"
    chunk_size: int = 65536
    n_threads: int | None = None
    name: str = "experiment"
    description: str = ""
    _problems: list = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not (isinstance(self.problem, dict) or callable(self.problem)):
            raise TypeError(f"problem must be a spec dict or a function point -> Problem, got {type(self.problem).__name__}")
        if not isinstance(self.grid, dict) or not self.grid:
            raise ValueError("grid must be a non-empty dict {key: [values...]}")
        grid = {}
        for key, values in self.grid.items():
            vals = list(values) if isinstance(values, (list, tuple, np.ndarray)) else [values]
            if not vals:
                raise ValueError(f"grid[{key!r}] is empty")
            if len(set(map(json.dumps, map(_plain, vals)))) != len(vals):
                raise ValueError(f"grid[{key!r}] has repeated values: {vals}")
            grid[str(key)] = [_plain(v) for v in vals]
        self.grid = grid
        self.n_paths = V.positive_int("n_paths", self.n_paths)
        self.t_max = V.positive("t_max", self.t_max)
        self.seed = V.positive_int("seed", self.seed, minimum=0)
        self.paths_per_unit = BLOCK * math.ceil(V.positive_int("paths_per_unit", self.paths_per_unit) / BLOCK)
        if self.record is None:
            self.record = (("moments",) if self.save_times else ()) + ("escapes", "exits")
        self.record = tuple(self.record)
        bad = [r for r in self.record if r not in RECORD_CHOICES]
        if bad:
            raise ValueError(f"record: unknown {bad}; choose from {list(RECORD_CHOICES)}")
        if "moments" in self.record and not self.save_times:
            raise ValueError("record 'moments' needs save_times")
        if self.save_times is not None:
            self.save_times = [float(t) for t in np.atleast_1d(V.finite_array("save_times", self.save_times))]

    # -- the grid --------------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        return list(self.grid)

    @property
    def dims(self) -> list[str]:
        """Dimension names of the result (one per grid key)."""
        return _dim_names(self.keys)

    @property
    def shape(self) -> tuple:
        return tuple(len(v) for v in self.grid.values())

    def points(self) -> list[dict]:
        """Every grid point as ``{key: value}``, in C order of the grid (last key fastest)."""
        return [dict(zip(self.keys, combo)) for combo in itertools.product(*self.grid.values())]

    def recipe(self, point: dict) -> "Recipe":
        """How to build the problem at ``point`` (what is sent to a worker: a spec, or the function and
        the point; never a compiled object)."""
        if isinstance(self.problem, dict):
            spec = copy.deepcopy(self.problem)
            for key, value in point.items():
                _set_dotted(spec, key, value)
            return Recipe(spec=spec)
        return Recipe(function=self.problem, point=point)

    def problem_at(self, point: dict, memo: dict | None = None) -> Problem:
        return self.recipe(point).build(memo)

    def problems(self) -> list[Problem]:
        """The problem of every point (built once; bad settings raise here, before anything runs)."""
        if self._problems is None:
            out, memo = [], {}
            for point in self.points():
                try:
                    out.append(self.problem_at(point, memo))
                except (ValueError, TypeError) as exc:
                    raise type(exc)(f"grid point {point}: {exc}") from exc
            self._problems = out
        return self._problems

    def units(self) -> list[Unit]:
        """The work units, point by point, in path order."""
        return [Unit(i, s, min(self.paths_per_unit, self.n_paths - s))
                for i in range(len(self.points())) for s in range(0, self.n_paths, self.paths_per_unit)]

    def run_kwargs(self) -> dict:
        """Keyword arguments of :func:`sim.run_ensemble` shared by every unit."""
        return dict(save_times=self.save_times, seed=self.seed, backend=self.backend, precision=self.precision,
                    chunk_size=self.chunk_size, n_threads=self.n_threads)

    # -- identity --------------------------------------------------------------------------------
    def describe(self) -> dict:
        """JSON description: everything that determines the numbers (and the name)."""
        return {"name": self.name, "description": self.description, "grid": self.grid, "dims": self.dims,
                "n_paths": self.n_paths, "t_max": self.t_max, "save_times": self.save_times,
                "record": list(self.record), "seed": self.seed, "paths_per_unit": self.paths_per_unit,
                "backend": self.backend, "precision": self.precision,
                "problem_spec": self.problem if isinstance(self.problem, dict) else None,
                "problems": [p.describe() for p in self.problems()]}

    def fingerprint(self) -> str:
        """SHA-256 of what determines the units' numbers: a store of another experiment is refused."""
        d = self.describe()
        keep = {k: d[k] for k in ("grid", "n_paths", "t_max", "save_times", "seed", "paths_per_unit", "backend",
                                  "precision", "problems")}
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()

    def run(self, store=None, **kwargs):
        """:func:`optdyn.sim.experiments.run_experiment` of this experiment (same arguments)."""
        from .runner import run_experiment  # noqa: PLC0415 (runner imports this module)

        return run_experiment(self, store, **kwargs)

    # -- from a file -----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, config: dict) -> "Experiment":
        """From the tables of an experiment file: ``[experiment]``, ``[problem]``, ``[grid]``."""
        unknown = set(config) - {"experiment", "problem", "grid", "run"}
        if unknown:
            raise ValueError(f"unknown tables {sorted(unknown)} (allowed: experiment, problem, grid, run)")
        for key in ("experiment", "problem", "grid"):
            if key not in config:
                raise ValueError(f"the experiment file needs a [{key}] table")
        exp = dict(config["experiment"])
        names = {f for f in cls.__dataclass_fields__ if not f.startswith("_")} - {"problem", "grid"}
        bad = set(exp) - names
        if bad:
            raise ValueError(f"[experiment]: unknown keys {sorted(bad)} (allowed: {sorted(names)})")
        return cls(problem=config["problem"], grid=config["grid"], **exp)

    @classmethod
    def from_toml(cls, path) -> "Experiment":
        """From an experiment file (TOML); its ``[run]`` table is read by :func:`read_toml`."""
        return cls.from_dict(read_toml(path))


def read_toml(path) -> dict:
    """The tables of a TOML file (``tomllib``, Python >= 3.11; ``tomli`` on 3.10)."""
    try:
        import tomllib  # noqa: PLC0415
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # noqa: PLC0415
        except ImportError as exc:
            raise ImportError("reading experiment files needs Python >= 3.11 or the 'tomli' package") from exc
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _plain(v):
    """A grid value as plain Python (JSON-able): NumPy scalars and arrays become floats/ints/lists."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v
