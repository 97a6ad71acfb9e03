"""What every backend shares.

A backend runs one chunk of paths of a :class:`~optdyn.sim.problem.Problem` (``simulate_chunk``):
:func:`optdyn.sim.run_ensemble` validates, splits the paths into chunks, allocates the chunk's output
arrays and reduces them; the backend only fills them.  Path ``i`` of a chunk starting at
``path_start`` is global path ``path_start + i`` and draws only from its own random stream, so a
result does not depend on the chunk size, the thread count or the backend's geometry.
"""
from __future__ import annotations

__all__ = ["Float64BackendBase", "check_rng"]


class Float64BackendBase:
    """Base of the backends that compute in float64 only (numba, NumPy reference)."""

    name = "float64"
    precision = "float64"
    #: The random streams the backend can draw from; the first is its default.
    rngs = ("xoshiro",)
    #: A launch costs about in proportion to its paths (CPU): :mod:`sim.launches` sizes launches by time.
    launch_cost_per_path = True

    def __init__(self, precision: str = "float64", rng: str | None = None):
        if precision != "float64":
            raise ValueError(f"the {self.name} backend computes in float64 only; precision={precision!r} "
                             "needs backend='torch'")
        self.rng = check_rng(self, rng)


def check_rng(backend, rng):
    """``rng`` if ``backend`` supports it (``None``: its default, ``backend.rngs[0]``), else a
    ValueError naming ``rng`` and the choices."""
    if rng is None:
        return backend.rngs[0]
    if rng not in backend.rngs:
        raise ValueError(f"rng must be one of {list(backend.rngs)} for backend {backend.name!r}, got {rng!r}")
    return rng
