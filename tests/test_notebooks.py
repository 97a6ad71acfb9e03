"""The course notebooks (jupytext percent format): their structure.  They are *executed* once, by the
documentation build (tests/test_docs.py), which fails on any error in a notebook."""
import pathlib
import re

import jupytext
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_the_course_has_its_seven_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    index = (ROOT / "docs" / "index.md").read_text()
    for p in NOTEBOOKS:  # every notebook is a page of the site
        assert f"notebooks/{p.stem}" in index


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_structure(path):
    nb = jupytext.read(path, fmt="py:percent")
    cells = nb.cells
    md = [c.source for c in cells if c.cell_type == "markdown"]
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert cells[0].cell_type == "markdown" and "**The maths.**" in cells[0].source or "$" in cells[0].source
    assert re.search(r"\$\$.+?\$\$", cells[0].source, re.S), "the maths comes first, with a display formula"
    assert any("**What to notice.**" in m for m in md)
    assert any("## Exercises" in m for m in md)
    solutions = sum(m.count("<details><summary>Solution</summary>") for m in md)
    exercises = sum(len(re.findall(r"\*\*Exercise \d+\.\*\*", m)) for m in md)
    assert exercises >= 2 and solutions == exercises, "every exercise has a folded solution"
    assert "OPTDYN_NOTEBOOK_PATHS" in code  # the size can be reduced
    assert "THEORY.md" not in path.read_text() and "shared/" not in path.read_text()
    # labelled axes and the project's style: no bare pyplot figures
    assert "plt.subplots(" not in code and "plt.figure(" not in code
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "ipynb" in nb.metadata["jupytext"]["formats"]  # pairs with a .ipynb when opened in Jupyter
