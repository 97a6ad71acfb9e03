"""The validation suite: selecting checks by result id or name, running them, writing the report.

Suite ids are the theory registry's ids (``optdyn.theory.ids()``) plus the cross-result ids of
:mod:`validate.checks` (``validity``, ``selection``); ``--only thm3`` runs every check that covers
Theorem 3 (its own module and the parts of the cross-result checks about it).
"""
from __future__ import annotations

import json
import os
import tempfile
import time
import traceback

import numpy as np

from . import registry, report
from .report import fmt as _fmt
from .records import FAIL, CheckRecord, Settings

__all__ = ["ALIASES", "select", "run_suite", "write_report", "format_table", "list_text", "atomic_write"]

#: Former suite keys → the result ids that replaced them.
ALIASES = {"ddt-sgd-escape": "ddt-sgd", "thm3-escape": "thm3", "prop4-escape": "prop4",
           "minima-selection": "selection"}


def select(only=None, names=None) -> list[tuple]:
    """The checks to run, as ``(check, results)`` pairs: those covering any result in ``only`` (with
    ``results`` = ``only``, so a cross-result check computes only those parts) plus those named in
    ``names`` (whole, ``results`` None); all checks if both are empty.  Unknown ids or names raise
    ValueError listing the known ones."""
    ids = registry.result_ids()
    specs = registry.all_checks()
    only = [ALIASES.get(i, i) for i in (only or [])]
    names = list(names or [])
    unknown = [i for i in only if i not in ids]
    if unknown:
        raise ValueError(f"unknown result id(s) {unknown}; known: {', '.join(ids)}")
    known = {s.name for s in specs}
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown check name(s) {bad}; known: {', '.join(sorted(known))}")
    if not only and not names:
        return [(s, None) for s in specs]
    # a check asked for by its own result id computes every part it covers (``--only selection``)
    return [(s, None if s.name in names else tuple(dict.fromkeys(only + (list(s.covers) if s.result in only else []))))
            for s in specs
            if s.name in names or s.result in only or any(r in only for r in s.covers)]


def list_text() -> str:
    """One line per result id and one per check (``optdyn validate --list``)."""
    lines = []
    specs = registry.all_checks()
    for rid in registry.result_ids():
        lines.append(f"{rid}: {registry.result_description(rid)}")
        for s in specs:
            if s.result == rid:
                lines.append(f"  {s.line()}")
        also = [s.name for s in specs if s.result != rid and rid in s.covers]
        if also:
            lines.append(f"  (also in: {', '.join(also)})")
    return "\n".join(lines)


def run_suite(only=None, settings: Settings | None = None, log=print, names=None) -> list[CheckRecord]:
    """Run the checks of the results in ``only`` and the checks in ``names`` (all if both empty) and
    return their records.

    A check that raises becomes a failing record carrying the traceback: a crash is never a pass.
    """
    settings = settings or Settings()
    records = []
    for spec, results in select(only, names):
        t0 = time.perf_counter()
        try:
            recs = spec(settings, results)
        except Exception as exc:  # reported, never swallowed
            recs = [CheckRecord(spec.result, spec.name, "check raised an exception", np.nan, np.nan,
                                (0, 0), "n/a", verdict=FAIL, note=f"{type(exc).__name__}: {exc}",
                                details={"traceback": traceback.format_exc()})]
        el = time.perf_counter() - t0
        for r in recs:
            r.details.setdefault("seconds", el)
            r.details.setdefault("check", spec.name)
        log(f"  {spec.name}: {', '.join(r.verdict for r in recs)} ({el:.1f} s)")
        records.extend(recs)
    return records


def atomic_write(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``: a
    reader sees the old file or the new one, never a partial one."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def format_table(records) -> str:
    """A plain-text table: result, comparison, quantity, measured, predicted, interval, verdict."""
    rows = [("result", "comparison", "quantity", "measured", "predicted", "interval", "verdict")]
    for r in records:
        rows.append((r.result, r.comparison, r.quantity, _fmt(r.measured), _fmt(r.predicted),
                     f"[{_fmt(r.interval[0])}, {_fmt(r.interval[1])}]", r.verdict.upper()))
    widths = [min(max(len(row[i]) for row in rows), 70 if i == 2 else 40) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(c[:w].ljust(w) for c, w in zip(row, widths)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_report(records, settings: Settings, elapsed: float) -> tuple[str, str]:
    """Write ``report.md``, ``report.html`` (figures embedded) and ``results.json`` under ``settings.out``
    (each atomically); return the paths of ``report.md`` and ``results.json``."""
    os.makedirs(settings.out, exist_ok=True)
    rep = report.build(records, settings, elapsed)
    md_path = os.path.join(settings.out, "report.md")
    js = os.path.join(settings.out, "results.json")
    payload = json.dumps({"settings": settings.__dict__, "elapsed_s": elapsed,
                          "records": [r.to_json() for r in records]}, indent=2, default=float)
    atomic_write(md_path, report.to_markdown(rep))
    atomic_write(os.path.join(settings.out, "report.html"), report.to_html(rep, settings.out))
    atomic_write(js, payload)
    return md_path, js
