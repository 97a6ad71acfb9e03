"""The start-up benchmark runs; a kernel loaded from the disk cache gives the same numbers as one
compiled in the process (timings are reported, never asserted)."""
import numpy as np

from optdyn.benchmarks import bench_startup


def test_bench_startup_quick_runs(capsys):
    rows = bench_startup.main(["--quick"])
    assert "warm/off" in capsys.readouterr().out
    (row,) = rows.values()
    assert row["same_numbers"]
    assert all(np.isfinite(row[k]) and row[k] > 0 for k in ("import", "off", "cold", "warm"))
