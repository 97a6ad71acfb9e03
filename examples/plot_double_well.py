"""Plot the double-well sweep: P(escape before t_max) against the learning rate, per batch size.

    optdyn run examples/double_well.toml              # writes double_well.store/results.zarr
    python examples/plot_double_well.py [STORE] [OUT.png]

Reads the Dataset with xarray alone (optdyn is not imported).
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

store = sys.argv[1] if len(sys.argv) > 1 else "double_well.store"
out = sys.argv[2] if len(sys.argv) > 2 else "double_well.png"
ds = xr.open_zarr(f"{store}/results.zarr").load()
escaped = ds.n_escaped / ds.n_paths
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True, layout="constrained")
for ax, name in zip(axes, ds.dynamics.values):
    escaped.sel(dynamics=name).plot.line(x="lr", hue="batch_size", xscale="log", marker="o", ax=ax)
    ax.set_xticks(ds.lr.values, [f"{v:g}" for v in ds.lr.values], minor=False)
    ax.minorticks_off()
    ax.set_title(f"{name}: {int(ds.n_paths.max())} paths per point")
    ax.set_ylabel(f"P(escape before t = {ds.attrs['t_max']:g})")
fig.savefig(out, dpi=110)
print(out)
