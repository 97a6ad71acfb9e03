r"""Checks are declared and discovered (docs/theory.md §7: one check module per result id).

A check is a function of the run's settings that returns :class:`~validate.records.CheckRecord`\ s,
declared with :func:`check` in a module of :mod:`validate.checks`::

    @check("thm1", kind=SIM_VS_EXACT, problems=("thm1-saddle",), paths=(20_000, 200_000))
    def sde_covariance(settings): ...

The declaration carries the result id, the check's name (``"<result>.<function name>"``, dashes for
underscores), the kind of comparison, a one-line description (the docstring's first line), the named
problems it uses (:mod:`validate.problems`), its quick and full sizes, and the result ids it reports on
(``covers``; cross-result checks such as the validity maps cover several).  The function receives a
:class:`CheckSettings`: the run's :class:`~validate.records.Settings` plus ``size(key)`` (quick or full),
``n`` (the ``paths`` size) and ``stream(*keys)``, a seed for :func:`sim.run_ensemble` derived from
``(settings.seed, check name, *keys)`` by SHA-256 and :class:`numpy.random.SeedSequence`: no two checks
share a stream, and no seed is picked by hand.

Check modules are found by :func:`discover` (``pkgutil`` over :mod:`validate.checks`); no module
imports another, and no list of them exists anywhere.
"""
from __future__ import annotations

import hashlib
import importlib
import pkgutil
from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np

from .records import Settings

__all__ = ["check", "CheckSpec", "CheckSettings", "stream_seed", "discover", "all_checks", "result_ids",
           "result_description", "KINDS", "SIM_VS_EXACT", "CLOSED_VS_EXACT", "DISCRETE_VS_SDE", "SCALING",
           "VALIDITY_MAP", "FINDING_KIND", "SIM_VS_THEORY", "SELECTION"]

SIM_VS_EXACT = "sim-vs-exact"
CLOSED_VS_EXACT = "closed-form-vs-exact"
DISCRETE_VS_SDE = "discrete-vs-sde"
SCALING = "scaling"
VALIDITY_MAP = "validity-map"
FINDING_KIND = "finding"
SIM_VS_THEORY = "sim-vs-theory"
SELECTION = "selection"
#: The comparison kinds of docs/theory.md §7 (plus findings and minima selection).
KINDS = (SIM_VS_EXACT, CLOSED_VS_EXACT, DISCRETE_VS_SDE, SCALING, VALIDITY_MAP, FINDING_KIND, SIM_VS_THEORY,
         SELECTION)


def stream_seed(seed: int, name: str, *keys) -> int:
    """A seed in ``[0, 2**63)`` for the random stream ``keys`` of check ``name`` under run seed ``seed``.

    SHA-256 of the name and keys (stable across processes, unlike ``hash``) is the SeedSequence's
    entropy together with the run seed; distinct names or keys give independent streams.
    """
    tag = "\x1f".join([name, *map(repr, keys)]).encode()
    digest = int.from_bytes(hashlib.sha256(tag).digest()[:16], "little")
    state = np.random.SeedSequence(entropy=(int(seed), digest)).generate_state(2, np.uint32)
    return int((int(state[0]) | (int(state[1]) << 32)) & (2**63 - 1))


@dataclass
class CheckSettings(Settings):
    """The run's settings as one check sees them: its name, sizes, streams and the selected results."""

    check: str = ""
    sizes: dict = field(default_factory=dict)
    results: tuple | None = None  # result ids selected by --only (None: all)

    @classmethod
    def of(cls, settings: Settings, spec: "CheckSpec | None" = None, results=None) -> "CheckSettings":
        base = {f.name: getattr(settings, f.name) for f in fields(Settings)}
        if isinstance(settings, CheckSettings) and results is None:
            results = settings.results
        return cls(**base, check=spec.name if spec else "", sizes=dict(spec.sizes) if spec else {},
                   results=None if results is None else tuple(results))

    def size(self, key: str):
        """The declared quick or full size ``key``."""
        quick, full = self.sizes[key]
        return full if self.full else quick

    @property
    def n(self) -> int:
        """The declared ensemble size (``paths``)."""
        return self.size("paths")

    def stream(self, *keys) -> int:
        """Seed of this check's random stream ``keys`` (see :func:`stream_seed`)."""
        if not self.check:
            raise RuntimeError("stream() needs the check's name: run checks through their CheckSpec")
        return stream_seed(self.seed, self.check, *keys)

    def wants(self, result: str) -> bool:
        """Whether a cross-result check should compute its part about ``result``."""
        return self.results is None or result in self.results


@dataclass(eq=False)
class CheckSpec:
    """A declared check: see the module docstring."""

    name: str
    result: str
    kind: str
    description: str
    problems: tuple
    sizes: dict
    covers: tuple
    fn: Callable
    module: str

    def __call__(self, settings: Settings, results=None):
        return self.fn(CheckSettings.of(settings, self, results))

    @property
    def quick(self) -> dict:
        return {k: v[0] for k, v in self.sizes.items()}

    @property
    def full(self) -> dict:
        return {k: v[1] for k, v in self.sizes.items()}

    def line(self) -> str:
        sizes = ", ".join(f"{k} {q:g}/{f:g}" for k, (q, f) in self.sizes.items())
        extra = f" [covers {', '.join(self.covers)}]" if self.covers != (self.result,) else ""
        return f"{self.name}  ({self.kind}{'; ' + sizes if sizes else ''}){extra}: {self.description}"


_REGISTRY: dict[str, CheckSpec] = {}
_MODULES: dict[str, object] = {}


def check(result: str, *, kind: str, problems=(), paths=None, sizes=None, covers=None, name=None,
          description=None):
    """Declare a check of ``result`` (see the module docstring).  ``paths=(quick, full)`` is the
    ensemble size; ``sizes`` more quick/full pairs (e.g. ``{"dt": (0.01, 0.0025)}``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")

    def deco(fn):
        short = fn.__name__.removeprefix("check_").removeprefix(result.replace("-", "_") + "_")
        nm = name or f"{result}.{short.replace('_', '-')}"
        doc = description or (fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        if not doc:
            raise ValueError(f"check {nm} needs a description (docstring or description=)")
        sz = dict(sizes or {})
        if paths is not None:
            sz["paths"] = tuple(paths)
        spec = CheckSpec(nm, result, kind, " ".join(doc.split()), tuple(problems), sz,
                         tuple(covers) if covers else (result,), fn, fn.__module__)
        old = _REGISTRY.get(nm)
        if old is not None and old.module != spec.module:
            raise ValueError(f"check name {nm} declared twice ({old.module}, {spec.module})")
        _REGISTRY[nm] = spec
        return spec

    return deco


def discover() -> dict[str, object]:
    """Import every module of :mod:`validate.checks` (pkgutil); return ``{result id: module}``.

    Each module names its result in ``RESULT``; cross-result modules also set ``DESCRIPTION``.
    """
    if _MODULES:
        return _MODULES
    from . import checks as pkg

    found = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        rid = getattr(mod, "RESULT", None)
        if rid is None:
            raise ValueError(f"check module {mod.__name__} has no RESULT id")
        if rid in found:
            raise ValueError(f"result id {rid} has two check modules: {found[rid].__name__}, {mod.__name__}")
        found[rid] = mod
    _MODULES.update(found)
    return _MODULES


def result_ids() -> list[str]:
    """Suite ids: the theory registry's ids in its order, then the cross-result ids (sorted)."""
    from optdyn import theory

    mods = discover()
    ids = [i for i in theory.ids() if i in mods]
    return ids + sorted(i for i in mods if i not in ids)


def result_description(rid: str) -> str:
    from optdyn import theory

    mod = discover()[rid]
    if rid in theory.ids():
        return theory.get(rid).title
    return getattr(mod, "DESCRIPTION", (mod.__doc__ or "").strip().split("\n")[0])


def all_checks() -> list[CheckSpec]:
    """Every declared check, by result id (suite order) and declaration order."""
    mods = discover()
    order = {rid: k for k, rid in enumerate(result_ids())}
    specs = [s for s in _REGISTRY.values() if s.module in {m.__name__ for m in mods.values()}]
    decl = {s.name: k for k, s in enumerate(_REGISTRY.values())}
    return sorted(specs, key=lambda s: (order[s.result], decl[s.name]))


def results_table() -> str:
    """The markdown table of the README's "Results" section: result → theory module → check module
    → sim classes (generated; a test keeps the README's copy equal to it)."""
    from optdyn import theory

    mods = discover()
    lines = ["| result | description | theory module | check module | checks | sim classes |",
             "|---|---|---|---|---|---|"]
    specs = all_checks()
    for rid in result_ids():
        mod = mods[rid]
        th = f"`{_theory_path(rid)}`" if rid in theory.ids() else "—"
        own = [s.name for s in specs if s.result == rid]
        also = [s.name for s in specs if s.result != rid and rid in s.covers]
        checks = ", ".join(f"`{n}`" for n in own) + (("; also " + ", ".join(f"`{n}`" for n in also)) if also else "")
        cls = ", ".join(f"`sim.{c}`" for c in getattr(mod, "SIM_CLASSES", ()))
        desc = result_description(rid).replace("|", "\\|")
        lines.append(f"| `{rid}` | {desc} | {th} | `validate/checks/{mod.__name__.rsplit('.', 1)[1]}.py` "
                     f"| {checks} | {cls} |")
    return "\n".join(lines) + "\n"


def _theory_path(rid: str) -> str:
    """Repository path of the theory module of ``rid`` (``thm3`` → theory/thm3.py, ``ddt-sgd`` → theory/ddt.py)."""
    import os

    from optdyn import theory

    root = os.path.dirname(theory.__file__)
    for name in (rid.replace("-", "_"), rid.split("-")[0]):
        if os.path.exists(os.path.join(root, f"{name}.py")):
            return f"theory/{name}.py"
    raise LookupError(f"no theory module for {rid}")
