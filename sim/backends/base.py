"""What every backend shares.

A backend runs one chunk of paths of a :class:`~optdyn.sim.problem.Problem` (``simulate_chunk``):
:func:`optdyn.sim.run_ensemble` validates, splits the paths into chunks, allocates the chunk's output
arrays and reduces them; the backend only fills them.  Path ``i`` of a chunk starting at
``path_start`` is global path ``path_start + i`` and draws only from its own random stream, so a
result does not depend on the chunk size, the thread count or the backend's geometry.
"""
from __future__ import annotations

__all__ = ["Float64BackendBase"]


class Float64BackendBase:
    """Base of the backends that compute in float64 only (numba, NumPy reference)."""

    name = "float64"
    precision = "float64"
    #: A launch costs about in proportion to its paths (CPU): :mod:`sim.launches` sizes launches by time.
    launch_cost_per_path = True

    def __init__(self, precision: str = "float64"):
        if precision != "float64":
            raise ValueError(f"the {self.name} backend computes in float64 only; precision={precision!r} "
                             "needs backend='torch'")
