"""The one place where numba flags are set.

Every compiled function in :mod:`sim` is decorated with :func:`jit` from this module, so the
compilation options (no fastmath, NumPy error model, nogil) are uniform and can be changed in one
place.  Setting the environment variable ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain
Python, which is how coverage is measured.
"""
from __future__ import annotations

import numba

__all__ = ["jit", "prange", "JIT_DISABLED"]

#: Options shared by every compiled function.  ``fastmath`` stays off: reproducibility across
#: thread counts and agreement with the NumPy references (to round-off) matter more than the
#: last few per cent of speed.  ``error_model="numpy"`` makes 1/0 give inf (no Python exception
#: machinery in the hot loop); diverging paths are detected explicitly by the kernels.
JIT_OPTIONS = dict(nogil=True, fastmath=False, error_model="numpy")

prange = numba.prange
JIT_DISABLED = bool(numba.config.DISABLE_JIT)


def jit(fn=None, *, parallel: bool = False, cache: bool = False):
    """Compile ``fn`` with the project-wide numba options.

    Usable bare (``@jit``) or with arguments (``@jit(parallel=True)``).  ``cache=True`` only for
    module-level functions that do not close over other compiled functions.
    """

    def wrap(f):
        return numba.njit(parallel=parallel, cache=cache, **JIT_OPTIONS)(f)

    if fn is None:
        return wrap
    return wrap(fn)
