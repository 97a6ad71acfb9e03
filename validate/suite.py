"""The validation suite: which checks exist, running them, writing the report."""
from __future__ import annotations

import json
import os
import platform
import time
import traceback

import numpy as np

from .records import FAIL, FINDING, PASS, CheckRecord, Settings

__all__ = ["SUITES", "run_suite", "write_report", "format_table"]


def _checks(module: str, attr: str = "CHECKS"):
    """A loader for the check functions ``validate.<module>.<attr>`` (imported when first run)."""

    def load():
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{module}"), attr)

    return load


#: Result id → a loader returning that result's check functions (imported lazily).
SUITES = {
    "thm1": _checks("thm1"),
    "thm2": _checks("saddles", "THM2_CHECKS"),
    "prop1": _checks("saddles", "PROP1_CHECKS"),
    "prop3": _checks("saddles", "PROP3_CHECKS"),
    "validity": _checks("validity"),
    "ddt-sgd-escape": _checks("minima", "SGD_CHECKS"),
    "ddt-white": _checks("minima", "WHITE_CHECKS"),
    "prop2": _checks("minima", "PROP2_CHECKS"),
    "thm3-escape": _checks("minima", "THM3_CHECKS"),
    "prop4-escape": _checks("minima", "PROP4_CHECKS"),
    "adamod-a1": _checks("minima", "ADAMOD_CHECKS"),
    "minima-selection": _checks("minima", "SELECTION_CHECKS"),
}


def run_suite(only=None, settings: Settings | None = None, log=print) -> list[CheckRecord]:
    """Run the checks of the results in ``only`` (all if None) and return their records.

    A check that raises becomes a failing record carrying the traceback: a crash is never a pass.
    """
    settings = settings or Settings()
    ids = list(SUITES) if not only else list(only)
    unknown = [i for i in ids if i not in SUITES]
    if unknown:
        raise ValueError(f"unknown result id(s) {unknown}; known: {', '.join(SUITES)}")
    records = []
    for rid in ids:
        for check in SUITES[rid]():
            t0 = time.perf_counter()
            try:
                recs = check(settings)
            except Exception as exc:  # reported, never swallowed
                recs = [CheckRecord(rid, check.__name__, "check raised an exception", np.nan, np.nan,
                                    (0, 0), "n/a", verdict=FAIL, note=f"{type(exc).__name__}: {exc}",
                                    details={"traceback": traceback.format_exc()})]
            el = time.perf_counter() - t0
            for r in recs:
                r.details.setdefault("seconds", el)
            log(f"  {rid}/{check.__name__}: {', '.join(r.verdict for r in recs)} ({el:.1f} s)")
            records.extend(recs)
    return records


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return str(x)
    return f"{x:.4g}"


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


def _validity_table(maps: dict, temps: list) -> list[str]:
    """Markdown table of a validity map: relative error of each closed form per T/ΔL and η|H_b|."""
    head = "| result | η\\|H_b\\| | " + " | ".join(f"T/ΔL = {t:.3g}" for t in temps) + " |"
    lines = ["", "## Validity map: relative error of the closed forms against the exact MFPT", "",
             head, "|" + "---|" * (len(temps) + 2)]
    for rid, cols in maps.items():
        for col, errs in cols.items():
            lines.append(f"| {rid} | {col} | " + " | ".join(f"{e:+.2e}" for e in errs) + " |")
    return lines + [""]


def write_report(records, settings: Settings, elapsed: float) -> tuple[str, str]:
    """Write ``report.md`` and ``results.json`` under ``settings.out``; return their paths."""
    os.makedirs(settings.out, exist_ok=True)
    n_pass = sum(r.verdict == PASS for r in records)
    n_fail = sum(r.verdict == FAIL for r in records)
    n_find = sum(r.verdict == FINDING for r in records)
    md = ["# optdyn validation report", "",
          f"Suite: {'full' if settings.full else 'quick'}; seed {settings.seed}; backend "
          f"`{settings.backend}`; {elapsed:.0f} s on {os.cpu_count()} cores ({platform.platform()}).",
          "", f"**{n_pass} passed, {n_fail} failed, {n_find} findings.**", "",
          "Each row compares a measured number with a prediction; it passes when the measured value "
          "lies in the interval.  Intervals come from standard errors (4 SE unless stated: a two-sided "
          "false-alarm probability of 6.3e-5 per comparison) plus the model error the theory or the "
          "integrator admits, computed separately and stated in the *tolerance* column.  "
          "A *finding* is a deviation that is measured and explained, not hidden.", "",
          "| result | comparison | quantity | measured | predicted | interval | verdict | tolerance |",
          "|---|---|---|---|---|---|---|---|"]
    for r in records:
        md.append(f"| {r.result} | {r.comparison} | {r.quantity} | {_fmt(r.measured)} | "
                  f"{_fmt(r.predicted)} | [{_fmt(r.interval[0])}, {_fmt(r.interval[1])}] | "
                  f"**{r.verdict.upper()}** | {r.tolerance} |")
    md += ["", "## Notes and figures", ""]
    for r in records:
        if r.note or r.figure:
            md.append(f"- **{r.result} — {r.quantity}.** {r.note}")
            if r.figure:
                md += ["", f"  ![{r.quantity}]({r.figure})", ""]
    for r in records:
        if "maps" in r.details:
            md += _validity_table(r.details["maps"], r.details["temperatures"])
    fails = [r for r in records if r.verdict == FAIL and "traceback" in r.details]
    if fails:
        md += ["", "## Errors", ""]
        for r in fails:
            md += [f"```\n{r.details['traceback']}\n```"]
    report = os.path.join(settings.out, "report.md")
    with open(report, "w") as fh:
        fh.write("\n".join(md) + "\n")
    js = os.path.join(settings.out, "results.json")
    with open(js, "w") as fh:
        json.dump({"settings": settings.__dict__, "elapsed_s": elapsed,
                   "records": [r.to_json() for r in records]}, fh, indent=2, default=float)
    return report, js
