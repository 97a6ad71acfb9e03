"""One figure style for the whole project: validation figures, notebooks and docs.

Every figure that optdyn draws goes through this module, so that a reader sees the same conventions
everywhere:

* **one colour per optimizer** (:func:`color`, a fixed map by name: ``"SGD"``, ``"SGDLangevin"`` and
  ``"sgd"`` all give SGD's colour; theory curves are black, :data:`THEORY`);
* **labelled axes always** (:func:`save` and :func:`tidy` raise if a panel lacks a label);
* **log axes without clashing minor labels** (:func:`tidy` relabels every log axis: decades only, or
  1-2-5 ticks when the axis spans less than about two decades, never minor labels);
* **legends off the data** (:func:`legend`: to the right of a panel, or below a multi-panel figure);
* **parameters in a subtitle** (:func:`title`: a title line and a parameter line such as
  ``η = 0.05 · B = 1 · n = 20 000 paths``);
* **error bars that are seen**: :func:`errorbar` draws open markers under the ±k SE bars;
* **PNG plus SVG** (:func:`save`, written atomically).

The API, for a new figure::

    from optdyn.validate import style
    fig, ax = style.subplots()
    style.errorbar(ax, x, y, se, optimizer="Adai", label="simulated")
    ax.plot(xx, curve, color=style.THEORY, label="Proposition 3")
    ax.set_xlabel("|H_i|"); ax.set_ylabel("drift d_i")
    style.title(ax, "Adai's momentum drift", lr=0.05, B=1, n=20_000)
    style.legend(ax)
    style.save(fig, "out/figures", "prop3_drift")   # → out/figures/prop3_drift.png and .svg

This module never selects a matplotlib backend (so it works inside Jupyter); :mod:`validate.figures`
selects the non-interactive one for the command line.
"""
from __future__ import annotations

import os
import re
import tempfile

import matplotlib
import matplotlib.ticker as mticker
import numpy as np

__all__ = ["COLORS", "THEORY", "EXACT", "RC", "color", "subplots", "title", "legend", "errorbar",
           "log_axes", "tidy", "save", "params_text"]

#: Optimizer → colour (Okabe–Ito palette, distinguishable with colour-blindness).  Fixed: the same
#: optimizer has the same colour in every figure of the project.
COLORS = {
    "SGD": "#0072B2",        # blue
    "Momentum": "#D55E00",   # vermillion
    "Adam": "#009E73",       # green
    "Adai": "#CC79A7",       # purple-pink
    "AdaMod": "#E69F00",     # orange
    "RMSprop": "#56B4E9",    # sky blue
    "AMSGrad": "#F0E442",    # yellow
    "White noise": "#777777",  # grey: gradient descent with isotropic white noise
}
#: Colour of closed-form (theory) curves and of exact solutions.
THEORY = "black"
EXACT = "#444444"

#: rcParams of the style (applied by :func:`subplots` through ``matplotlib.rc_context``-free updates
#: of the figure, so importing this module changes nothing globally).
RC = {"font.size": 9.5, "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 8.5,
      "figure.dpi": 110, "savefig.dpi": 130, "axes.grid": True, "grid.alpha": 0.25,
      "axes.spines.top": False, "axes.spines.right": False}

_ALIASES = {"sgdlangevin": "SGD", "gd": "SGD", "whitenoise": "White noise", "white": "White noise",
            "momentumsde": "Momentum", "heavyball": "Momentum", "adamsde": "Adam", "adaisde": "Adai",
            "adaiw": "Adai", "amsgradsde": "AMSGrad"}


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def color(optimizer: str) -> str:
    """The project's colour of ``optimizer`` (class or display name, any case; ``…SDE``/``…Langevin``
    continuous models share their optimizer's colour).  Unknown names raise ValueError listing the
    known ones: a new optimizer gets its entry in :data:`COLORS`, never an ad-hoc colour."""
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a name (str), got {type(optimizer).__name__}")
    k = _key(optimizer)
    by_key = {_key(n): n for n in COLORS}
    if k in by_key:
        return COLORS[by_key[k]]
    if k in _ALIASES:
        return COLORS[_ALIASES[k]]
    for suffix in ("sde", "langevin"):
        if k.endswith(suffix) and k[:-len(suffix)] in by_key:
            return COLORS[by_key[k[:-len(suffix)]]]
    raise ValueError(f"optimizer {optimizer!r} has no colour; known: {', '.join(COLORS)} "
                     "(add it to optdyn.validate.style.COLORS)")


def subplots(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
             **kwargs):
    """``plt.subplots`` with the project's style and constrained layout (titles, subtitles and outside
    legends get room automatically).  Default size: 4.4 in per column plus 3 in for a legend at the right
    (at most 16 in) by 3.2 in per row plus 0.8 in."""
    import matplotlib.pyplot as plt

    width = width or min(16.0, 3.0 + 4.4 * ncols)
    height = height or (0.8 + 3.2 * nrows)
    with matplotlib.rc_context(RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)
        for ax in np.atleast_1d(axes).ravel():
            ax.grid(True, alpha=RC["grid.alpha"])
            ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


_SYMBOLS = {"lr": "η", "eta": "η", "eta0": "η₀", "B": "B", "batch": "B", "n": "n", "dt": "dt", "beta1": "β₁",
            "beta2": "β₂", "beta3": "β₃", "beta0": "β₀", "T": "T", "seed": "seed", "eps": "ε"}


def _fmt_value(v) -> str:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{int(v):,}".replace(",", " ")
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def params_text(**params) -> str:
    """``η = 0.05 · B = 1 · n = 20 000`` from keyword parameters (``lr``/``eta`` → η, ``beta1`` → β₁ …;
    other names are shown as given; a ``None`` value is skipped; ``n`` is followed by "paths")."""
    parts = []
    for k, v in params.items():
        if v is None:
            continue
        sym = _SYMBOLS.get(k, k)
        txt = f"{sym} = {_fmt_value(v)}"
        if k == "n":
            txt += " paths"
        parts.append(txt)
    return " · ".join(parts)


def title(target, text: str, subtitle: str | None = None, **params) -> None:
    """Title plus a parameter subtitle.  ``target`` is an Axes (title above the panel) or a Figure
    (a two-line ``suptitle`` above all panels).  The subtitle is ``subtitle`` if given, else
    :func:`params_text` of ``params``."""
    sub = subtitle if subtitle is not None else params_text(**params)
    if hasattr(target, "suptitle"):
        target.suptitle(text + (f"\n{sub}" if sub else ""), fontsize=11)
    else:
        target.set_title(text + (f"\n{sub}" if sub else ""), fontsize=9.5, loc="left")


def legend(target, where: str = "right", **kwargs):
    """A legend that does not cover data: for an Axes, outside to its right (``where="right"``) or
    below it (``"below"``); for a Figure, one legend below all panels with each label once."""
    kw = dict(frameon=False)
    kw.update(kwargs)
    if hasattr(target, "suptitle"):  # a Figure: collect handles across panels, each label once
        handles, labels = [], []
        for ax in target.axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        loc = "outside lower center" if where == "below" else "outside right upper"
        ncol = kw.pop("ncol", min(len(labels), 4) if where == "below" else 1)
        return target.legend(handles, labels, loc=loc, ncol=ncol, **kw)
    if where == "below":
        return target.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=kw.pop("ncol", 2), **kw)
    if where == "right":
        return target.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)
    raise ValueError(f"where must be 'right' or 'below', got {where!r}")


def errorbar(ax, x, y, se, *, optimizer: str | None = None, color: str | None = None, label: str = "",
             n_se: float = 4.0, marker: str = "o", **kwargs):
    """Points with ±``n_se`` SE bars that stay visible: open markers drawn under the bars, caps on.
    The colour is the optimizer's (:func:`color`) unless ``color`` is given; the label gets
    " (±4 SE)" appended."""
    c = color or (globals()["color"](optimizer) if optimizer else THEORY)
    lab = f"{label} (±{n_se:g} SE)" if label else None
    return ax.errorbar(x, y, yerr=n_se * np.asarray(se, float), fmt=marker, color=c, mfc="white", mew=1.3,
                       ms=5.5, capsize=3, elinewidth=1.2, label=lab, zorder=3, **kwargs)


def log_axes(ax, x: bool = True, y: bool = True) -> None:
    """Make the chosen axes logarithmic (their tick labels are fixed by :func:`tidy`)."""
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")


def _plain(v, _pos=None) -> str:
    if v <= 0:
        return ""
    if 1e-3 <= v < 1e4:
        return f"{v:g}"
    e = int(np.floor(np.log10(v) + 1e-9))
    m = v / 10**e
    return f"$10^{{{e}}}$" if abs(m - 1) < 1e-9 else f"${m:g}\\times10^{{{e}}}$"


def _tidy_log(axis, lo, hi) -> None:
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi <= lo:
        return
    decades = np.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if decades < 2.2 else (1.0,)
    if decades < 0.5:
        subs = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    axis.set_major_locator(mticker.LogLocator(base=10.0, subs=subs, numticks=12))
    axis.set_major_formatter(mticker.FuncFormatter(_plain))
    axis.set_minor_locator(mticker.LogLocator(base=10.0, subs=np.arange(2, 10) * 1.0, numticks=12))
    axis.set_minor_formatter(mticker.NullFormatter())


def _labelled(ax, which: str) -> bool:
    get = ax.get_xlabel if which == "x" else ax.get_ylabel
    if get():
        return True
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return any((o.get_xlabel() if which == "x" else o.get_ylabel()) for o in shared.get_siblings(ax))


def tidy(fig) -> None:
    """Apply the conventions that need the final data limits, and check the labels: every log axis
    gets plain labels and no minor labels; every visible panel with data must have an x and a y
    label (a panel sharing an axis with a labelled one counts as labelled).  Raises ValueError
    naming the unlabelled panel."""
    for ax in fig.axes:
        if not ax.get_visible() or not ax.has_data():
            continue
        for which in ("x", "y"):
            axis = ax.xaxis if which == "x" else ax.yaxis
            if axis.get_scale() == "log":
                lo, hi = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
                _tidy_log(axis, lo, hi)
            if not _labelled(ax, which):
                raise ValueError(f"figure panel {ax.get_title(loc='left') or ax.get_title() or '?'!r} has no "
                                 f"{which}-axis label (the project's figure style requires labelled axes)")


def _atomic_savefig(fig, path: str, **kwargs) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=ext, dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, format=ext[1:], **kwargs)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(fig, folder: str, name: str, close: bool = True) -> str:
    """:func:`tidy` ``fig`` and write ``<folder>/<name>.png`` and ``<folder>/<name>.svg`` (atomically);
    return the PNG's path.  ``close`` releases the figure from pyplot."""
    tidy(fig)
    os.makedirs(folder, exist_ok=True)
    png = os.path.join(folder, f"{name}.png")
    _atomic_savefig(fig, png, dpi=RC["savefig.dpi"])
    _atomic_savefig(fig, os.path.join(folder, f"{name}.svg"))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return png
