"""The validation report as Markdown (``report.md``) and as HTML with its figures inline (``report.html``).

Both are rendered from one document model (:func:`build`), so they always say the same thing:

* a summary table, one row per comparison, with the column **error / tolerance (pass ≤ 1)**
  (:func:`error_ratio`: how far the measured value sits from the prediction, in units of the
  tolerance on that side; a row passes exactly when this is ≤ 1);
* a *details* section, one block per check, listing each of its records with its comparison
  (measured vs predicted, interval, tolerance, note) followed by the check's figures: a figure is
  shown once, under the records it illustrates;
* the validity maps as tables, and the tracebacks of checks that raised.

Markdown table cells are escaped (:func:`md_cell`): a ``|`` inside a quantity such as ``max |error|/tol``
would otherwise split the cell and shift the row in a GitHub-style renderer.
"""
from __future__ import annotations

import base64
import html
import os
import platform
from dataclasses import dataclass, field

import numpy as np

from .records import FAIL, FINDING, PASS, CheckRecord, Settings

__all__ = ["RATIO_HEADER", "error_ratio", "md_text", "md_cell", "build", "to_markdown", "to_html", "Report"]

#: Header of the column that puts every comparison on one scale.
RATIO_HEADER = "error / tolerance (pass ≤ 1)"

INTRO = ("Each row compares a measured number with a prediction; it passes when the measured value lies in "
         "the interval, that is, when *error / tolerance* is at most 1 (the distance of the measured value "
         "from the prediction divided by the interval's half-width on that side).  Intervals come from "
         "standard errors (4 SE unless stated: a two-sided false-alarm probability of 6.3e-5 per comparison) "
         "plus the model error the theory or the integrator admits, computed separately and stated in each "
         "record's *tolerance* under *Details by check*.  A *finding* is a deviation that is measured and "
         "explained, not hidden.")


def error_ratio(measured: float, predicted: float, interval: tuple[float, float]) -> float:
    """Distance of ``measured`` from the centre of the interval in units of the interval's half-width
    on that side: ≤ 1 exactly when ``measured`` lies in ``interval``.

    The centre is ``predicted`` when it lies in the interval (intervals may be asymmetric or one-sided:
    on an infinite side the ratio is 0), else the interval's midpoint.  NaN measured → NaN."""
    lo, hi = interval
    if not np.isfinite(measured):
        return float("nan")
    c = predicted if (np.isfinite(predicted) and lo <= predicted <= hi) else 0.5 * (lo + hi)
    if not np.isfinite(c):
        return 0.0 if lo <= measured <= hi else float("inf")
    if measured >= c:
        span = hi - c
        return 0.0 if measured == c or np.isinf(span) else (measured - c) / span if span > 0 else float("inf")
    span = c - lo
    return 0.0 if np.isinf(span) else (c - measured) / span if span > 0 else float("inf")


def fmt(x: float) -> str:
    """A number as the report prints it (4 significant digits)."""
    if not np.isfinite(x):
        return str(x)
    return f"{x:.4g}"


def md_text(text) -> str:
    """Escape running text for Markdown: backslash, asterisk, underscore and backtick are escaped and ``<``
    becomes ``&lt;``, so quantities like ``d log |H_i|`` render as written; line breaks become spaces."""
    s = str(text).replace("\\", "\\\\")
    for ch in "*_`":
        s = s.replace(ch, "\\" + ch)
    return " ".join(s.replace("<", "&lt;").split())


def md_cell(text) -> str:
    """Escape text for one GitHub-flavoured Markdown table cell: :func:`md_text`, and ``|`` escaped."""
    return md_text(text).replace("|", "\\|")


@dataclass
class Row:
    number: int
    record: CheckRecord
    ratio: float

    def cells(self) -> list[str]:
        r = self.record
        return [str(self.number), r.result, r.details.get("check", ""), r.comparison, r.quantity, fmt(r.measured),
                fmt(r.predicted), f"[{fmt(r.interval[0])}, {fmt(r.interval[1])}]", fmt(self.ratio),
                r.verdict.upper()]


HEADER = ["#", "result", "check", "comparison", "quantity", "measured", "predicted", "interval", RATIO_HEADER,
          "verdict"]


@dataclass
class CheckBlock:
    """One check's records and the figures they show (each figure once)."""

    name: str
    rows: list = field(default_factory=list)
    figures: list = field(default_factory=list)


@dataclass
class Report:
    """The document model both renderers read."""

    title: str
    setup: str
    counts: dict
    rows: list
    blocks: list
    validity: list  # (title, header, rows) tables
    errors: list  # tracebacks


def _validity_tables(records) -> list:
    """One table per validity-map record: a row per (result, column), a column per temperature T/ΔL that
    any of them has (each map column carries its own temperatures: the AMS column sits lower); "—" where a
    column has no value."""
    tables = []
    for r in records:
        maps = r.details.get("maps")
        if not maps:
            continue
        cols = [(rid, col, v) for rid, m in maps.items() for col, v in m.items()]
        temps = sorted({t for _, _, v in cols for t in v["T/ΔL"]}, reverse=True)
        header = ["result", "column"] + [f"T/ΔL = {t:.3g}" for t in temps]
        rows = []
        for rid, col, v in cols:
            by_t = dict(zip(v["T/ΔL"], v["error"]))
            rows.append([rid, col] + [f"{by_t[t]:+.2e}" if t in by_t else "—" for t in temps])
        tables.append(("Validity map: relative error of the closed forms against the exact MFPT (AMS column: "
                       "against adaptive multilevel splitting)", header, rows))
    return tables


def build(records, settings: Settings, elapsed: float) -> Report:
    """The report's content from the suite's records."""
    rows = [Row(k + 1, r, error_ratio(r.measured, r.predicted, r.interval)) for k, r in enumerate(records)]
    blocks: dict[str, CheckBlock] = {}
    for row in rows:
        name = row.record.details.get("check") or row.record.result
        b = blocks.setdefault(name, CheckBlock(name))
        b.rows.append(row)
        if row.record.figure and row.record.figure not in b.figures:
            b.figures.append(row.record.figure)
    counts = {v: sum(r.verdict == v for r in records) for v in (PASS, FAIL, FINDING)}
    setup = (f"Suite: {'full' if settings.full else 'quick'}; seed {settings.seed}; backend `{settings.backend}`; "
             f"{elapsed:.0f} s on {os.cpu_count()} cores ({platform.platform()}).")
    errors = [r.details["traceback"] for r in records if r.verdict == FAIL and "traceback" in r.details]
    return Report("optdyn validation report", setup, counts, rows, list(blocks.values()), _validity_tables(records),
                  errors)


def _summary(rep: Report) -> str:
    return f"{rep.counts[PASS]} passed, {rep.counts[FAIL]} failed, {rep.counts[FINDING]} findings."


def _md_table(header, rows) -> list[str]:
    out = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out


def _record_lines(row: Row) -> list[str]:
    """A record as a Markdown list item: the comparison on the first line, tolerance and note below."""
    r = row.record
    lines = [f"- **#{row.number} {md_text(r.quantity)}** ({md_text(r.comparison)}): measured {fmt(r.measured)}, "
             f"predicted {fmt(r.predicted)}, interval [{fmt(r.interval[0])}, {fmt(r.interval[1])}], error / "
             f"tolerance {fmt(row.ratio)} → **{r.verdict.upper()}**.  ",
             f"  *Tolerance:* {md_text(r.tolerance)}" + ("  " if r.note else "")]
    if r.note:
        lines.append(f"  *Note:* {md_text(r.note)}")
    return lines


def to_markdown(rep: Report) -> str:
    """``report.md``: GitHub-flavoured Markdown, every table cell escaped."""
    md = [f"# {rep.title}", "", rep.setup, "", f"**{_summary(rep)}**", "", INTRO, ""]
    md += _md_table(HEADER, [row.cells() for row in rep.rows])
    md += ["", "## Details by check", ""]
    for b in rep.blocks:
        md += [f"### {b.name}", ""]
        for row in b.rows:
            md += _record_lines(row) + [""]
        for fig in b.figures:
            md += [f"![figure of check {b.name}: {os.path.basename(fig)}]({fig})", ""]
    for title, header, rows in rep.validity:
        md += ["", f"## {title}", ""] + _md_table(header, rows) + [""]
    if rep.errors:
        md += ["", "## Errors", ""] + [f"```\n{tb}\n```" for tb in rep.errors]
    return "\n".join(md) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.4}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 6px;
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.finding{color:#9a6700;font-weight:bold}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}pre{background:#f6f8fa;padding:1em;overflow:auto}
.rec{margin:0.6em 0}.small{color:#555;font-size:0.9em}"""


def _img(out: str, rel: str) -> str:
    """An <img> with the PNG embedded (the HTML file stands alone); a missing file is said, not hidden."""
    path = os.path.join(out, rel)
    alt = html.escape(os.path.basename(rel))
    if not os.path.exists(path):
        return f"<p class='fail'>figure {alt} is missing</p>"
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return f"<img alt='{alt}' src='data:image/png;base64,{data}'>"


def to_html(rep: Report, out: str) -> str:
    """``report.html``: the same content with the figures embedded."""
    e = html.escape
    h = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(rep.title)}</title><style>{_CSS}</style>"
         f"</head><body><h1>{e(rep.title)}</h1><p>{e(rep.setup)}</p><p><b>{e(_summary(rep))}</b></p>"
         f"<p class='small'>{e(INTRO).replace('*', '')}</p><table><tr>"
         + "".join(f"<th>{e(c)}</th>" for c in HEADER) + "</tr>"]
    numeric = {0, 5, 6, 8}
    for row in rep.rows:
        cells = row.cells()
        tds = [f"<td class='num'>{e(c)}</td>" if i in numeric else f"<td>{e(c)}</td>" for i, c in enumerate(cells[:-1])]
        v = row.record.verdict
        tds.append(f"<td class='{e(v)}'>{e(cells[-1])}</td>")
        h.append(f"<tr id='r{row.number}'>" + "".join(tds) + "</tr>")
    h.append("</table><h2>Details by check</h2>")
    for b in rep.blocks:
        h.append(f"<h3>{e(b.name)}</h3>")
        for row in b.rows:
            r = row.record
            h.append(f"<div class='rec'><b>#{row.number} {e(r.quantity)}</b> ({e(r.comparison)}): measured "
                     f"{e(fmt(r.measured))}, predicted {e(fmt(r.predicted))}, interval [{e(fmt(r.interval[0]))}, "
                     f"{e(fmt(r.interval[1]))}], error / tolerance {e(fmt(row.ratio))} → "
                     f"<span class='{e(r.verdict)}'>{e(r.verdict.upper())}</span><br>"
                     f"<span class='small'><i>Tolerance:</i> {e(r.tolerance)}</span>"
                     + (f"<br><span class='small'><i>Note:</i> {e(r.note)}</span>" if r.note else "") + "</div>")
        h += [_img(out, fig) for fig in b.figures]
    for title, header, rows in rep.validity:
        h.append(f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(c)}</th>" for c in header) + "</tr>")
        h += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        h.append("</table>")
    if rep.errors:
        h.append("<h2>Errors</h2>" + "".join(f"<pre>{e(tb)}</pre>" for tb in rep.errors))
    h.append("</body></html>")
    return "\n".join(h) + "\n"
