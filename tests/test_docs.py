"""The documentation site builds with warnings as errors, executing every course notebook once.

One Sphinx build per test session (module fixture): myst-nb executes the notebooks (a fresh execution
cache in a temporary folder, so nothing stale is reused) and the assertions read the HTML.  This is
also the test that runs the notebooks (tests/test_notebooks.py checks their structure)."""
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    env = dict(os.environ, OPTDYN_DOCS_CACHE=str(tmp / "cache"), OPTDYN_DOCS_EXECUTE="cache")
    env.pop("MPLBACKEND", None)
    env.pop("OPTDYN_NOTEBOOK_PATHS", None)  # the notebooks run at their default size
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(ROOT / "docs"), str(tmp / "html")], capture_output=True, text=True, env=env,
                          cwd=ROOT)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    print(f"docs build with notebook execution: {elapsed:.0f} s")
    return tmp / "html"


def test_every_notebook_is_rendered_with_its_figures(site):
    for name in NOTEBOOKS:
        page = (site / "notebooks" / f"{name}.html").read_text()
        assert page.count("<img") >= 1 or "data:image/png" in page, f"{name}: no figure"
        assert "within 4 SE: False" not in page, f"{name}: a claim failed its check"
        assert "Traceback" not in page
        assert "<details>" in page and "Solution" in page  # exercises with folded solutions


def test_notebook_2_has_the_animation(site):
    page = (site / "notebooks" / "02_momentum_drift.html").read_text()
    assert "Animation" in page and "anim" in page and page.count("data:image/png;base64") > 10


def test_reference_pages(site):
    api = (site / "api.html").read_text()
    for name in ("optdyn.sim.ensemble.run_ensemble", "optdyn.theory.thm1.covariance", "optdyn.validate.style.color"):
        assert name in api
    report = (site / "report.html").read_text()
    assert "error / tolerance (pass ≤ 1)" in report and "<table" in report
    assert "Theorem 1 (SGD at a saddle)" in (site / "theory.html").read_text()


def test_execution_times_are_listed(site):
    """The course page carries myst-nb's execution table: every notebook with its run time."""
    course = (site / "course.html").read_text()
    assert "Run Time (s)" in course
    course = course[course.index("Run Time (s)"):]  # the table, not the navigation links
    for name in NOTEBOOKS:
        row = re.search(rf"notebooks/{name}.*?</tr>", course, re.S)
        assert row and "✅" in row.group(0), f"{name}: not executed successfully"
