"""Figure helpers of the validation suite: the non-interactive backend for the command line and
the report's file naming.  The look of every figure is :mod:`validate.style`'s."""
from __future__ import annotations

import os
import sys

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # the command line draws to files only; Jupyter keeps its inline backend
import matplotlib.pyplot as plt  # noqa: E402

from . import style  # noqa: E402

__all__ = ["plt", "save", "style"]


def save(fig, settings, name: str) -> str:
    """Save ``fig`` as ``<out>/figures/<name>.png`` and ``.svg`` in the project's style
    (:func:`validate.style.save`) and return the PNG's path relative to ``out``."""
    style.save(fig, os.path.join(settings.out, "figures"), name)
    return os.path.join("figures", f"{name}.png")
