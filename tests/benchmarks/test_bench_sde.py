"""The benchmark runs (timings are reported, never asserted)."""
import numpy as np

from optdyn.benchmarks import bench_sde


def test_bench_sde_quick_runs(capsys):
    out = bench_sde.main(["--quick"])
    text = capsys.readouterr().out
    assert "kernel/numpy" in text and "kernel/floor" in text
    assert set(out["rates"]) == {"kernel", "numpy", "floor"}
    assert all(np.isfinite(v) and v > 0 for v in out["rates"].values())
    assert out["frac_full"] > 0.9  # the exit region is far: most paths run the full length
