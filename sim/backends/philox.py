r"""Counter-based random streams: Philox4x32-10 and Box–Muller normals.

A path's normals are a pure function of ``(seed, path, step, index)``: no state is carried from one
step to the next, so any number of steps of any path can be drawn in any order, by any thread, in
any launch geometry, and the numbers are the same.  This is what a fused GPU kernel needs (no
per-path generator state in memory, no sequential dependence between launches) and what lets the
numba CPU kernel (``run_ensemble(..., rng="philox")``) and the CUDA kernel
(:mod:`sim.backends.cuda_backend`) be compared path by path.

**Generator.**  Philox4x32 with 10 rounds (Salmon, Moraes, Dror, Shaw, "Parallel random numbers:
as easy as 1, 2, 3", SC11): a 128-bit counter ``(c0, c1, c2, c3)`` and a 64-bit key ``(k0, k1)``
give four 32-bit words.  The 4x32 variant (rather than 4x64) because a 32×32→64-bit product is one
instruction on a GPU while a 64×64→128-bit one is emulated; it is the generator of cuRAND's and
Triton's ``randn``.  Checked against the published known-answer vectors and against Triton's
``tl.randint4x`` (an independent implementation; ``tests/sim/test_philox.py``).

**Layout.**  key = ``(seed mod 2³², seed >> 32)``; counter = ``(path mod 2³², path >> 32, step, j)``
where ``step`` is the 1-based step (< 2³²) and ``j`` numbers the Philox blocks of that step.  Block
``j`` gives normals ``2j`` and ``2j + 1`` of the step: the four words form two 53-bit integers
``m1 = w0·2²¹ + ⌊w1/2¹¹⌋`` and ``m2 = w2·2²¹ + ⌊w3/2¹¹⌋``, the uniforms
``u1 = (m1 + 1)·2⁻⁵³ ∈ (0, 1]`` and ``u2 = m2·2⁻⁵³ ∈ [0, 1)``, and Box–Muller
``r = √(−2 ln u1)``, ``z_{2j} = r cos 2πu2``, ``z_{2j+1} = r sin 2πu2``.  A step with an odd number
of normals discards the last sine.  The normals are computed in float64 in every precision (a
float32 run rounds them), so float32 and float64 runs see the same noise and differ by the state
arithmetic's round-off only; the largest normal is √(106 ln 2) ≈ 8.57.

**One implementation, two vectorisations.**  The scalar functions below (:func:`philox4x32`,
:func:`philox_normals`) are compiled by numba for the CPU kernel and, unchanged, as CUDA device
functions (:func:`sim.backends.cuda_backend.device_function`); they use ``math`` functions only
(numba-cuda lowers those to libdevice).  :class:`PhiloxStreams` is the plain NumPy reference,
vectorised over paths, written separately and compared with the compiled functions in the tests.
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import jit

__all__ = ["philox4x32", "philox_normals", "philox_key", "PhiloxStreams", "MAX_STEPS"]

_M32 = np.uint64(0xFFFFFFFF)
_MUL0 = np.uint64(0xD2511F53)
_MUL1 = np.uint64(0xCD9E8D57)
_BUMP0 = np.uint64(0x9E3779B9)
_BUMP1 = np.uint64(0xBB67AE85)
_S32 = np.uint64(32)
_S21 = np.uint64(21)
_S11 = np.uint64(11)
_TWO_M53 = 2.0**-53
_TWO_PI = 2.0 * math.pi
#: Steps a run may have: the step is one 32-bit counter word.
MAX_STEPS = 2**32 - 1


def philox_key(seed: int) -> tuple[int, int]:
    """The Philox key words ``(seed mod 2³², seed >> 32)`` of a seed ``0 <= seed < 2⁶³``."""
    return seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF


@jit(inline=True)
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter ``(c0, c1, c2, c3)`` under key ``(k0, k1)``: four words.

    Every argument is a ``np.uint64`` holding a 32-bit value; so is every result.
    """
    for _ in range(10):
        p0 = _MUL0 * c0
        p1 = _MUL1 * c2
        c0, c1, c2, c3 = ((p1 >> _S32) ^ c1 ^ k0), (p1 & _M32), ((p0 >> _S32) ^ c3 ^ k1), (p0 & _M32)
        k0 = (k0 + _BUMP0) & _M32
        k1 = (k1 + _BUMP1) & _M32
    return c0, c1, c2, c3


@jit(inline=True)
def philox_normals(k0, k1, path, step, z):
    """Fill ``z`` with the standard normals of ``path`` at 1-based ``step`` (see the module docstring).

    ``k0, k1`` are the key words (:func:`philox_key`) as ``np.uint64``; ``path`` and ``step`` are
    non-negative integers.  ``z`` may be float32 (the float64 normals are rounded on store).
    """
    c0 = np.uint64(path) & _M32
    c1 = np.uint64(path) >> _S32
    c2 = np.uint64(step) & _M32
    n = z.shape[0]
    for j in range((n + 1) // 2):
        w0, w1, w2, w3 = philox4x32(c0, c1, c2, np.uint64(j), k0, k1)
        u1 = (np.float64((w0 << _S21) | (w1 >> _S11)) + 1.0) * _TWO_M53
        u2 = np.float64((w2 << _S21) | (w3 >> _S11)) * _TWO_M53
        r = math.sqrt(-2.0 * math.log(u1))
        theta = _TWO_PI * u2
        z[2 * j] = r * math.cos(theta)
        if 2 * j + 1 < n:
            z[2 * j + 1] = r * math.sin(theta)


@jit
def fill_philox_normals(k0, k1, path_start, step, out):
    """``out[q]`` = the normals of path ``path_start + q`` at ``step`` (compiled, for callers outside
    a kernel such as the tests)."""
    for q in range(out.shape[0]):
        philox_normals(k0, k1, path_start + q, step, out[q])


# ----------------------------------------------------------------------------------------------
# NumPy reference (vectorised over paths)
# ----------------------------------------------------------------------------------------------
def _np_philox(c, k0, k1):
    """Philox4x32-10 on arrays: ``c`` is a list of four uint64 arrays (32-bit values)."""
    c0, c1, c2, c3 = c
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0, p1 = _MUL0 * c0, _MUL1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _M32, (p0 >> _S32) ^ c3 ^ k1, p0 & _M32
        k0, k1 = (k0 + _BUMP0) & _M32, (k1 + _BUMP1) & _M32
    return c0, c1, c2, c3


class PhiloxStreams:
    """The Philox normals of paths ``path_start … path_start + n_paths − 1``, vectorised with NumPy.

    The reference of :func:`philox_normals`: ``normals(step, n)`` returns ``(n_paths, n)`` (rows of
    the selected paths only when ``mask`` is given; the others draw nothing, as stopped paths in a
    kernel).  Stateless: any step can be asked for in any order.
    """

    def __init__(self, seed: int, path_start: int, n_paths: int):
        self.k0, self.k1 = philox_key(int(seed))
        self.paths = np.arange(path_start, path_start + n_paths, dtype=np.uint64)

    def normals(self, step: int, n: int, mask=None) -> np.ndarray:
        paths = self.paths if mask is None else self.paths[mask]
        lo, hi = paths & _M32, paths >> _S32
        c2 = np.full(paths.shape, np.uint64(step) & _M32)
        out = np.empty((paths.size, n))
        for j in range((n + 1) // 2):
            w0, w1, w2, w3 = _np_philox([lo, hi, c2, np.full(paths.shape, np.uint64(j))], self.k0, self.k1)
            u1 = (((w0 << _S21) | (w1 >> _S11)).astype(np.float64) + 1.0) * _TWO_M53
            u2 = ((w2 << _S21) | (w3 >> _S11)).astype(np.float64) * _TWO_M53
            r = np.sqrt(-2.0 * np.log(u1))
            out[:, 2 * j] = r * np.cos(_TWO_PI * u2)
            if 2 * j + 1 < n:
                out[:, 2 * j + 1] = r * np.sin(_TWO_PI * u2)
        return out
