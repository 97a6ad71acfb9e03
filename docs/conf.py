"""Sphinx configuration of optdyn's documentation site.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (from the repository root; needs the
``docs`` extra).  The site renders the course notebooks (``notebooks/*.py``, jupytext percent format,
executed by myst-nb during the build, once per change of a notebook: ``docs/_build/.jupyter_cache``, or
``OPTDYN_DOCS_CACHE``; ``OPTDYN_DOCS_EXECUTE=force`` re-executes, ``off`` skips), the theory
document, an API reference from the docstrings, and a validation report (see :func:`_report`).
"""
from __future__ import annotations

import os
import pathlib
import shutil
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent

project = "optdyn"
author = "the optdyn authors"
copyright = "optdyn authors, MIT licence"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3
# the notebooks are jupytext percent-format text files: myst-nb reads them through jupytext
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = os.environ.get("OPTDYN_DOCS_EXECUTE", "cache")
nb_execution_cache_path = os.environ.get("OPTDYN_DOCS_CACHE", str(DOCS / "_build" / ".jupyter_cache"))
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

source_suffix = {".md": "myst-nb", ".py": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_report", "conf.py", "NOTES.md", "**/__pycache__", "notebooks/.ipynb_checkpoints"]

html_theme = "furo"
html_title = "optdyn"

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "description"
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # "Attributes" sections as fields: autodoc documents the attributes themselves
# docstring type fields such as "(n_paths, dim)" name several attributes called ``dim``: an ambiguous
# automatic link is not an error of the text
suppress_warnings = ["ref.python"]
# the API reference documents the package as installed (or from PYTHONPATH); a checkout works too
try:
    import optdyn  # noqa: F401
except ImportError:  # a bare checkout: the repository root is the package ``optdyn``
    shim = DOCS / "_build" / "pkg"
    shim.mkdir(parents=True, exist_ok=True)
    if not (shim / "optdyn").exists():
        (shim / "optdyn").symlink_to(ROOT)
    sys.path.insert(0, str(shim))

#: Checks quick enough to give every docs build a real report (exact, deterministic; seconds).
FAST_CHECKS = ("thm1.closed-form", "thm1.discrete-gap", "thm2.closed-form", "thm2.gap", "prop1.closed-form",
               "prop3.closed-form")


def _report(app) -> None:
    """Put a validation report into ``docs/_report/`` for the *Validation report* page.

    ``OPTDYN_DOCS_REPORT=DIR`` (e.g. ``validate-report`` after ``optdyn validate``) uses that report and its
    figures; otherwise the build runs the exact checks in :data:`FAST_CHECKS` (seconds) and the page
    says so."""
    dest = DOCS / "_report"
    shutil.rmtree(dest, ignore_errors=True)
    src = os.environ.get("OPTDYN_DOCS_REPORT")
    if src:
        src = pathlib.Path(src)
        if not (src / "report.md").exists():
            raise FileNotFoundError(f"OPTDYN_DOCS_REPORT={src} holds no report.md (run optdyn validate --out {src})")
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.json", "*.html"))
        (dest / "scope.md").write_text(f"This is the report written by `optdyn validate` into `{src}`.\n")
        return
    from optdyn.validate import Settings, run_suite, write_report

    settings = Settings(out=str(dest))
    records = run_suite(settings=settings, names=list(FAST_CHECKS), log=lambda *a: None)
    write_report(records, settings, 0.0)
    (dest / "scope.md").write_text(
        "This build ran only the fast exact checks (" + ", ".join(f"`{c}`" for c in FAST_CHECKS) + ").  "
        "For the whole suite run `optdyn validate` (it writes `validate-report/`) and rebuild with "
        "`OPTDYN_DOCS_REPORT=validate-report`.\n")


def setup(app):
    app.connect("builder-inited", _report)
