"""Every teaching notebook (jupytext percent format) runs top to bottom, with small ensembles."""
import pathlib
import runpy

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch, capsys):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OPTDYN_NOTEBOOK_PATHS", "4000")
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "slope" in out or "max" in out  # the notebook printed its result lines


def test_there_are_notebooks():
    assert NOTEBOOKS
