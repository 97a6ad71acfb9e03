"""Shared test configuration: strict numerics, Agg backend, seeded RNG, named statistical constants.

Markers (registered in setup.cfg with --strict-markers):
* ``slow``  — long statistical runs;
* ``torch`` — skipped cleanly when torch cannot be imported;
* ``gpu``   — skipped cleanly when ``torch.cuda.is_available()`` is false (or torch is missing).
"""
from __future__ import annotations

import importlib

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from optdyn.sim._jit import JIT_DISABLED  # noqa: E402

# Strict numerics everywhere (float64 is NumPy's default and the simulator's only precision).
# With NUMBA_DISABLE_JIT=1 (coverage runs) the random-stream code runs as Python on NumPy uint64
# scalars, whose intended wrap-around arithmetic would raise "overflow": ignore overflow there.
_ERR = dict(all="raise", under="ignore", **({"over": "ignore"} if JIT_DISABLED else {}))
np.seterr(**_ERR)

#: Significance level of every distributional test (KS etc.): small, so a correct implementation
#: fails a given test with probability ALPHA (and the seeds are fixed, so it is reproducible).
ALPHA = 1e-3
#: Number of standard errors allowed when a sample statistic is compared with its exact value.
#: P(|N(0,1)| > 4) ≈ 6e-5.
N_SE = 4.0
#: Sample sizes.
N_SMALL = 512  # path-by-path backend comparisons (the NumPy reference is slow)
N_STAT = 20_000  # Monte Carlo moment checks
N_DRAWS = 200_000  # random-number distribution checks


@pytest.fixture(autouse=True)
def _strict_numerics():
    """Re-assert strict error handling for every test (a test may have changed it)."""
    old = np.seterr(**_ERR)
    yield
    np.seterr(**old)


@pytest.fixture
def rng():
    """A seeded NumPy generator: tests are reproducible."""
    return np.random.default_rng(20240607)


def _torch():
    try:
        return importlib.import_module("torch")
    except Exception:  # ImportError, or a broken install
        return None


def pytest_collection_modifyitems(config, items):
    needs_torch = [it for it in items
                   if it.get_closest_marker("torch") or it.get_closest_marker("gpu")]
    if not needs_torch:
        return
    torch = _torch()
    skip_torch = pytest.mark.skip(reason="torch is not installed")
    has_cuda = bool(torch is not None and torch.cuda.is_available())
    skip_gpu = pytest.mark.skip(reason="no CUDA device (torch.cuda.is_available() is False)")
    for it in needs_torch:
        if torch is None:
            it.add_marker(skip_torch)
        elif it.get_closest_marker("gpu") and not has_cuda:
            it.add_marker(skip_gpu)


def compiled_step(dyn, landscape, noise):
    """A dynamics' compiled per-path step on ``landscape``/``noise`` with its scratch vector bound
    (call it as ``step(x, aux, z, c, lp, nzp, dp, g, xi)``), and the noise parameters it reads."""
    bound = noise.bind(landscape)
    step = type(dyn).make_step(landscape.numba_functions().gradient, bound.apply)
    w = dyn.scratch(landscape.dim, bound)
    return (lambda *args: step(*args, w)), bound.params


def run_compiled(dyn, landscape, noise, x0, n_steps, z=None, aux0=None):
    """Run a dynamics' compiled step ``n_steps`` times on one path from Python; returns the positions
    ``(n_steps + 1, dim)`` and the final state.  ``z`` (one row a step) defaults to zeros."""
    step, nzp = compiled_step(dyn, landscape, noise)
    dim = landscape.dim
    x = np.array(x0, dtype=float)
    aux = dyn.initial_state(dim).copy() if aux0 is None else np.array(aux0, dtype=float)
    g, xi = np.empty(dim), np.empty(dim)
    out = [x.copy()]
    for k in range(1, n_steps + 1):
        zk = np.zeros(dyn.normals_per_step(dim)) if z is None else z[k - 1]
        step(x, aux, zk, dyn.step_coefficients(k), landscape.params, nzp, dyn.params, g, xi)
        out.append(x.copy())
    return np.array(out), aux


def torch_run(make_opt, land, sigma, x0, z):
    """Positions of a ``torch.optim`` optimizer (``make_opt([p])``) on the quadratic ``land`` with the
    gradient ``H(θ - c) + σ z_k`` at step k (float64): the reference for the parity tests."""
    torch = pytest.importorskip("torch")
    h = torch.tensor(land.H, dtype=torch.float64)
    c = torch.tensor(land.center, dtype=torch.float64)
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    out = [p.detach().clone().numpy()]
    for zk in z:
        with torch.no_grad():
            p.grad = h @ (p - c) + sigma * torch.tensor(zk, dtype=torch.float64)
        opt.step()
        out.append(p.detach().clone().numpy())
    return np.array(out)
