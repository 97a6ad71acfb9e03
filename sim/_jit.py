"""The one place where numba flags are set.

Every compiled function in :mod:`sim` is decorated with :func:`jit` from this module, so the
compilation options (no fastmath, NumPy error model, nogil) are uniform and can be changed in one
place.  Setting the environment variable ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain
Python, which is how coverage is measured.

Compilation is paid once per machine, not once per process: the ensemble kernels are closures over
compiled pieces, which numba's own ``cache=True`` cannot keep between processes (its key contains a
per-process UUID), so :mod:`optdyn.sim.backends.compile_cache` gives each kernel a disk cache keyed
by its content (package fingerprint + the closure tree).  Measured: the first ensemble of a fresh
process 3.2–7.2 s compiled, 0.2 s loaded (``python -m benchmarks.bench_startup``).
``OPTDYN_CACHE=0`` turns it off, ``OPTDYN_CACHE_DIR`` moves it.
"""
from __future__ import annotations

import itertools
import secrets

import numba
import numpy as np
from numba import types
from numba.core import bytecode, cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic, overload

__all__ = ["jit", "prange", "JIT_DISABLED", "stack_empty"]

#: Options shared by every compiled function.  ``fastmath`` stays off: reproducibility across
#: thread counts and agreement with the NumPy references (to round-off) matter more than the
#: last few per cent of speed.  ``error_model="numpy"`` makes 1/0 give inf (no Python exception
#: machinery in the hot loop); diverging paths are detected explicitly by the kernels.
JIT_OPTIONS = dict(nogil=True, fastmath=False, error_model="numpy")

prange = numba.prange
JIT_DISABLED = bool(numba.config.DISABLE_JIT)


def _distinct_symbol_names() -> None:
    """Start numba's function counter at a random offset in this process (once, at import).

    numba mangles every compiled function's symbol with a per-process counter
    (``FunctionIdentity.unique_id``: 1, 2, 3, … in every process).  Closures made by the same
    factory (the kernel's ``run_block``, the step closures) have the same qualified name, so two
    kernels compiled in two processes could hold inner functions with the same symbol and different
    code; loading both from the disk cache into one process, LLVM resolved the second kernel's calls
    to the first one's functions and the second kernel silently ran the first one's code (measured:
    a ``BallExit`` kernel compiled in one process and a ``NoExit`` kernel in another, loaded in that
    order: 512 escapes of 512 paths without an exit; ``tests/sim/test_compile_cache.py``).  A random
    48-bit start (times 2**14) makes the names of different processes distinct: two processes
    compiling 10⁴ functions each overlap with probability ~1e-10.  Done here, before any optdyn
    function compiles, because a kernel's library carries copies of every function it calls.
    """
    if not getattr(bytecode.FunctionIdentity, "_optdyn_distinct", False):
        bytecode.FunctionIdentity._unique_ids = itertools.count(secrets.randbits(48) << 14)
        bytecode.FunctionIdentity._optdyn_distinct = True


_distinct_symbol_names()


def jit(fn=None, *, parallel: bool = False, cache: bool = False, inline: bool = False,
        refcount: bool = True):
    """Compile ``fn`` with the project-wide numba options.

    Usable bare (``@jit``) or with arguments (``@jit(parallel=True)``).  ``cache=True`` only for
    module-level functions that do not close over other compiled functions.

    ``inline=True`` (numba ``inline="always"``) inlines the function into every compiled caller at
    the numba IR level.  Use it for the small functions called once per path-step (random-number
    helpers, gradients, noise application, exit labels, dynamics steps, adaptive helpers): an
    ordinary call between compiled functions that passes arrays costs call overhead and atomic
    NRT incref/decref pairs comparable to the arithmetic itself.

    ``refcount=False`` (numba ``_nrt=False``) compiles a function that allocates nothing without
    NRT reference counting; callers then pass arrays to it for free.  Use it for a per-step function
    with a loop over an array argument (``sim.backends.rng.fill_normals``): IR-inlining such a function
    still leaves an incref/decref pair per array argument per call.  Measured, per normal, on
    ``fill_normals`` called in a loop: 13.4 ns as an ordinary call, 10.7 ns IR-inlined, 2.9 ns with
    ``refcount=False``; with the gradient/noise/step functions IR-inlining was the faster choice
    (3 ns against 8.6 ns per gradient call).  Both kinds remain callable from Python.
    """

    def wrap(f):
        opts = dict(JIT_OPTIONS)
        if inline:
            opts["inline"] = "always"
        if not refcount:
            opts["_nrt"] = False
        return numba.njit(parallel=parallel, cache=cache, **opts)(f)

    if fn is None:
        return wrap
    return wrap(fn)


def stack_empty(size, shape):
    """An uninitialised float64 array of ``shape`` (``size`` entries) that costs nothing per call.

    In compiled code it lives on the stack of the compiled caller (``size`` must be a compile-time
    constant, e.g. a closure variable of a factory): no heap allocation, no reference counting, valid
    until the caller returns.  Why: a per-step scratch matrix taken from the kernel's scratch vector by
    ``reshape`` was measured at ~250 ns per call, one ``np.empty`` at ~40 ns, against ~3 ns for a
    2-D gradient.  From Python (and under ``NUMBA_DISABLE_JIT=1``) it is ``np.empty(shape)``.
    """
    return np.empty(shape)


@intrinsic
def _stack_pointer(typingctx, size):
    if not isinstance(size, types.IntegerLiteral):
        return None

    def codegen(context, builder, signature, args):
        # alloca_once places the allocation in the entry block: once per call of the outer function
        return cgutils.alloca_once(builder, context.get_value_type(types.float64), size=size.literal_value)

    return types.CPointer(types.float64)(size), codegen


@overload(stack_empty, inline="always", prefer_literal=True)
def _stack_empty_compiled(size, shape):
    if not isinstance(size, types.IntegerLiteral):
        raise TypingError("stack_empty: size must be a compile-time constant integer")
    n = size.literal_value

    def impl(size, shape):
        return numba.carray(_stack_pointer(n), shape)

    return impl
