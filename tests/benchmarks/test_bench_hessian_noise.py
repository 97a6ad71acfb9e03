"""The Hessian-noise benchmark runs (timings are reported, never asserted)."""
import numpy as np
import pytest

from optdyn.benchmarks import bench_hessian_noise


@pytest.mark.slow  # compiles four kernels (~1 min cold); the paths it times are checked by tests/sim/test_symeig.py
def test_bench_hessian_noise_quick_runs(capsys):
    out = bench_hessian_noise.main(["--quick"])
    text = capsys.readouterr().out
    assert "closed form / eigh" in text and "/ baseline" in text
    assert {"baseline", "2d-eigh", "2d-closed", "2d-symbolic-closed"} <= set(out["rates"])
    assert all(np.isfinite(v) and v > 0 for v in out["rates"].values())
