"""The project's figure style (validate/style.py): colours, labels, log axes, legends, files."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from optdyn.validate import style  # noqa: E402


def test_one_colour_per_optimizer_whatever_the_spelling():
    assert style.color("SGD") == style.color("SGDLangevin") == style.color("sgd")
    assert style.color("Adam") == style.color("AdamSDE") == style.color("Adam (β₁=0)".split()[0])
    assert style.color("Momentum") == style.color("MomentumSDE")
    assert style.color("Adai") == style.color("AdaiSDE") == style.color("AdaiW")
    assert len(set(style.COLORS.values())) == len(style.COLORS)  # no two optimizers share a colour
    with pytest.raises(ValueError, match="no colour"):
        style.color("Lion")


def test_unlabelled_panel_is_refused(tmp_path):
    fig, ax = style.subplots()
    ax.plot([1, 2], [3, 4])
    ax.set_xlabel("x")
    with pytest.raises(ValueError, match="y-axis label"):
        style.save(fig, str(tmp_path), "bad")
    assert not list(tmp_path.iterdir())


def test_shared_axis_label_counts():
    fig, axes = style.subplots(1, 2, sharey=True)
    for ax in axes:
        ax.plot([1, 2], [1, 2])
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    style.tidy(fig)  # the right panel shares the left one's y label


@pytest.mark.parametrize("lo, hi", [(0.3, 0.9), (0.05, 1.0), (1e-6, 1e2)])
def test_log_axes_have_no_minor_labels(lo, hi):
    fig, ax = style.subplots()
    x = np.geomspace(lo, hi, 20)
    ax.loglog(x, x)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    style.tidy(fig)
    fig.canvas.draw()
    for axis in (ax.xaxis, ax.yaxis):
        assert isinstance(axis.get_minor_formatter(), mticker.NullFormatter)
        labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
        assert 2 <= len(labels) <= 12, labels  # readable: some labels, never a crowd


def test_legend_outside_the_data_and_parameters_in_subtitle(tmp_path):
    fig, ax = style.subplots()
    style.errorbar(ax, [1, 2, 3], [1, 2, 3], [0.1, 0.1, 0.1], optimizer="Adai", label="simulated")
    ax.plot([1, 3], [1, 3], color=style.THEORY, label="theory")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    style.title(ax, "A claim", lr=0.05, B=1.0, n=20000)
    leg = style.legend(ax)
    assert "η = 0.05 · B = 1 · n = 20 000 paths" in ax.get_title(loc="left")
    assert [t.get_text() for t in leg.get_texts()] == ["theory", "simulated (±4 SE)"]
    png = style.save(fig, str(tmp_path), "ok", close=False)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    assert not leg.get_window_extent(r).overlaps(ax.get_window_extent(r))
    assert png.endswith("ok.png") and (tmp_path / "ok.svg").stat().st_size > 1000


def test_params_text_symbols():
    assert style.params_text(lr=0.1, beta1=0.9, dt=None, n=1000) == "η = 0.1 · β₁ = 0.9 · n = 1 000 paths"
