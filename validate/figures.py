"""Figure helpers: one place for matplotlib's backend and file naming."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plt", "save"]


def save(fig, settings, name: str) -> str:
    """Save ``fig`` as ``<out>/figures/<name>.png`` and return the path relative to ``out``."""
    folder = os.path.join(settings.out, "figures")
    os.makedirs(folder, exist_ok=True)
    rel = os.path.join("figures", f"{name}.png")
    fig.savefig(os.path.join(settings.out, rel), dpi=110, bbox_inches="tight")
    plt.close(fig)
    return rel
