"""The validation report: Markdown tables that parse, the error/tolerance column, details and figures
attached to their check, and the HTML version with figures inline."""
import json
import re

import numpy as np
import pytest
from markdown_it import MarkdownIt

from optdyn.validate import report, style, suite
from optdyn.validate.figures import plt, save
from optdyn.validate.records import FAIL, FINDING, PASS, CheckRecord, Settings

NASTY = ["max |error|/tol over Σ", "d log |H_i| / d log |d_i|", "a*b*c and x_1 < y_2", "line\nbreak | `code`"]


def _cell_text(inline_token) -> str:
    return "".join(c.content for c in inline_token.children if c.type in ("text", "code_inline"))


def parse_tables(md: str) -> list[dict]:
    """Every table of ``md`` as parsed by markdown-it-py (GFM tables): header cells, body rows of cells,
    and the raw source lines of the rows (markdown-it pads short rows and drops extra cells, so the
    number of cells is also counted on the source, splitting at unescaped pipes as GFM does)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    lines = md.splitlines()
    tables, cur, row, section = [], None, None, None
    for t in tokens:
        if t.type == "table_open":
            cur = {"header": [], "rows": [], "source": lines[t.map[0]:t.map[1]]}
        elif t.type in ("thead_open", "tbody_open"):
            section = t.type[:5]
        elif t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(_cell_text(t))
        elif t.type == "tr_close":
            (cur["header"].extend(row) if section == "thead" else cur["rows"].append(row))
            row = None
        elif t.type == "table_close":
            tables.append(cur)
    return tables


def raw_cells(line: str) -> int:
    return len(re.split(r"(?<!\\)\|", line.strip().strip("|")))


def assert_tables_well_formed(md: str) -> list[dict]:
    tables = parse_tables(md)
    assert tables
    for tab in tables:
        n = len(tab["header"])
        for line in [tab["source"][0]] + tab["source"][2:]:
            assert raw_cells(line) == n, line
        for row in tab["rows"]:
            assert len(row) == n
    return tables


def _records(tmp_path):
    fig, ax = style.subplots()
    ax.plot([1, 2], [1, 2])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    figure = save(fig, Settings(out=str(tmp_path)), "demo")
    recs = [CheckRecord("thm1", "sim vs exact", q, 0.5 * k, 0.0, (-1.0, 1.0), "4 SE | model", note="n|o*t_e")
            for k, q in enumerate(NASTY)]
    recs[2].verdict = FINDING
    recs[1].figure = recs[3].figure = figure
    for r, name in zip(recs, ["c.one", "c.one", "c.two", "c.two"]):
        r.details["check"] = name
    return recs


def test_report_tables_parse_and_keep_every_cell(tmp_path):
    recs = _records(tmp_path)
    md_path, _ = suite.write_report(recs, Settings(out=str(tmp_path)), 1.0)
    md = open(md_path).read()
    tab = assert_tables_well_formed(md)[0]
    h = tab["header"]
    assert report.RATIO_HEADER in h
    for rec, row in zip(recs, tab["rows"]):
        cell = dict(zip(h, row))
        assert cell["quantity"] == " ".join(rec.quantity.split())  # the text survives escaping
        assert cell["verdict"] == rec.verdict.upper() and cell["result"] == "thm1"
        assert float(cell[report.RATIO_HEADER]) == pytest.approx(abs(rec.measured))
    assert len(tab["rows"]) == len(recs)


def test_figures_follow_the_records_they_show(tmp_path):
    recs = _records(tmp_path)
    md_path, _ = suite.write_report(recs, Settings(out=str(tmp_path)), 1.0)
    md = open(md_path).read()
    details = md.split("## Details by check")[1]
    one, two = details.split("### c.two")
    assert one.count("figures/demo.png") == 1 and two.count("figures/demo.png") == 1
    assert one.index("#2 ") < one.index("figures/demo.png")  # below its record, not under the first
    assert "Tolerance:" in one and "4 SE \\| model" not in one  # details are running text, not cells


def test_html_report_has_the_figures_inline(tmp_path):
    recs = _records(tmp_path)
    suite.write_report(recs, Settings(out=str(tmp_path)), 1.0)
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert page.count("<tr id='r") == len(recs)
    assert "max |error|/tol over Σ" in page and "a*b*c and x_1 &lt; y_2" in page


@pytest.mark.parametrize("seed", range(5))
def test_error_ratio_is_at_most_one_exactly_inside_the_interval(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        lo, hi = np.sort(rng.normal(size=2))
        if rng.random() < 0.2:
            hi = np.inf
        pred = rng.choice([lo, hi if np.isfinite(hi) else lo, rng.uniform(lo - 1, lo + 3)])
        m = rng.normal(scale=2)
        r = report.error_ratio(m, pred, (lo, hi))
        assert (r <= 1) == (lo <= m <= hi), (m, pred, lo, hi, r)


def test_error_ratio_examples():
    assert report.error_ratio(0.25, 0.0, (0.0, 1.0)) == 0.25  # already a ratio
    assert report.error_ratio(-0.99, -1.0, (-1.1, -0.9)) == pytest.approx(0.1)
    assert report.error_ratio(0.8, 1.0, (0.9, np.inf)) == pytest.approx(2.0)
    assert report.error_ratio(5.0, 1.0, (0.9, np.inf)) == 0.0
    assert np.isnan(report.error_ratio(np.nan, 0.0, (0.0, 1.0)))


def test_verdicts_in_summary(tmp_path):
    recs = [CheckRecord("thm1", "x", "q", 2.0, 0.0, (0, 1), "t")]
    assert recs[0].verdict == FAIL
    md = report.to_markdown(report.build(recs, Settings(out=str(tmp_path)), 1.0))
    assert "0 passed, 1 failed, 0 findings" in md and PASS.upper() not in md.split("| verdict |")[1]
    json.dumps(recs[0].to_json())
    plt.close("all")


def test_validity_tables_read_the_maps_as_the_check_writes_them():
    """Each map column has its own temperatures (the AMS column sits below the exact ones): the report
    lays them on one temperature axis with "—" where a column has no value (regression: the report read
    a former layout and the whole suite ended in a KeyError)."""
    import numpy as np

    from optdyn.validate import report
    from optdyn.validate.checks.validity import map_details
    from optdyn.validate.records import CheckRecord

    maps = {"thm3": {"0.01": (np.array([1 / 3, 1 / 8]), np.array([0.1, 0.01]), np.zeros(2)),
                     "AMS": (np.array([1 / 20, 1 / 40]), np.array([0.02, -0.01]), np.full(2, 0.1))}}
    rec = CheckRecord("thm3", "closed form vs exact (validity map)", "q", measured=1.0, predicted=1.0,
                      interval=(0.9, np.inf), tolerance="t", details={"maps": map_details(maps)})
    (title, header, rows), = report._validity_tables([rec])
    assert header[2:] == [f"T/ΔL = {t:.3g}" for t in (1 / 3, 1 / 8, 1 / 20, 1 / 40)]
    assert rows == [["thm3", "0.01", "+1.00e-01", "+1.00e-02", "—", "—"],
                    ["thm3", "AMS", "—", "—", "+2.00e-02", "-1.00e-02"]]
