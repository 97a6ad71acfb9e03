r"""Random streams that depend only on ``(seed, path index)``.

Every path of an ensemble owns an independent xoshiro256** generator whose 256-bit state is
derived from ``(seed, path)`` by SplitMix64.  Standard normals come from a 256-layer **ziggurat**
(Marsaglia & Tsang 2000, in the 64-bit layout of NumPy's legacy ``gauss_zig``):

* one 64-bit draw ``r`` gives the layer ``i = r & 0xff``, the sign bit ``(r >> 8) & 1`` and a
  52-bit integer ``a = (r >> 9) & (2**52 - 1)``; the candidate is ``x = a * w[i]``;
* **fast path** (≈ 99 % of draws): ``a < k[i]`` (``x`` inside layer ``i``'s rectangle) → return
  ``±x``.  This is an integer comparison and one multiplication, exact in every library;
* **slow path** otherwise: in the base layer (``i = 0``) the tail beyond :math:`R = 3.6541528853610088`
  is sampled with two uniforms per try, :math:`\xi = -\log(1-U_1)/R`, :math:`\eta = -\log(1-U_2)`,
  accepted when :math:`2\eta > \xi^2`, giving :math:`\pm(R + \xi)`; in the other layers one uniform
  tests the wedge :math:`f_i + U (f_{i-1} - f_i) < e^{-x^2/2}`; on rejection a new 64-bit draw
  starts over.  Uniforms are ``(next_u64 >> 11) * 2**-53``.

**Consumption rule.**  One normal consumes one 64-bit draw on the fast path and a variable number
on the slow path (one per wedge test, two per tail try, one per restart), always from its own
path's stream and in order, one normal per call (no spare variate).  So a path's sequence of
normals is a pure function of ``(seed, path)``: results never depend on the number of threads, on
chunk sizes or on which paths ran beside it.

The same algorithm exists three times, bit for bit: as numba functions used inside kernels
(scalar, one path: :func:`standard_normal`, :func:`fill_normals`), vectorised over paths with
NumPy (:class:`PathStreams`, the NumPy reference backend and the tests) and with torch
(:class:`sim.backends.torch_backend.TorchPathStreams`).  The vectorised versions draw the first 64-bit word
for every path, apply the fast path (:func:`ziggurat_fast`) and hand only the rejected paths, with
their states, to the compiled slow path (:func:`finish_normals`, the kernels' own
:func:`_normal_slow`), which advances each rejected path's state by exactly the draws the scalar
kernel consumes.  ``exp``/``log1p`` therefore run in one implementation only, and accept/reject
decisions cannot differ between backends by a last-bit difference of the libraries.

The ziggurat tables (:data:`ZIGGURAT_R`, ``k``, ``w``, ``f``) are computed once at import with
Python's ``math`` (Marsaglia & Tsang's recursion) and compiled into the kernels as constants.

References
----------
D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators", arXiv 1805.01407.
G. Marsaglia and W. W. Tsang, "The Ziggurat Method for Generating Random Variables", Journal of
Statistical Software 5(8), 2000.
NumPy, ``random/src/legacy/legacy-distributions.c`` (``legacy_gauss_zig``: the 64-bit layout).
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import jit

__all__ = ["PathStreams", "seed_state", "next_u64", "standard_normal", "fill_normals",
           "finish_normals", "ziggurat_fast", "ZIGGURAT_R"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U30 = np.uint64(30)
_U27 = np.uint64(27)
_U31 = np.uint64(31)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_U7 = np.uint64(7)
_U57 = np.uint64(57)
_U11 = np.uint64(11)
_U5 = np.uint64(5)
_U9 = np.uint64(9)
_U8 = np.uint64(8)
_U1 = np.uint64(1)
_U0 = np.uint64(0)
_U255 = np.uint64(255)
_MASK52 = np.uint64((1 << 52) - 1)
_TWO_M53 = 2.0**-53

# ----------------------------------------------------------------------------------------------
# ziggurat tables (Marsaglia & Tsang 2000, 256 layers, 52-bit integers)
# ----------------------------------------------------------------------------------------------
#: Start of the tail (right edge of the widest rectangle) of the 256-layer ziggurat.
ZIGGURAT_R = 3.6541528853610088
_ZIG_V = 0.00492867323399  # common area of every layer (unnormalised density exp(-x²/2))


def _ziggurat_tables():
    m = 2.0**52
    ki = np.zeros(256, dtype=np.uint64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    dn = tn = ZIGGURAT_R
    q = _ZIG_V / math.exp(-0.5 * dn * dn)
    ki[0] = np.uint64(int(dn / q * m))  # base layer: a < k[0] ⇔ a·q/2^52 < R
    ki[1] = 0  # top layer: always the wedge test
    wi[0] = q / m
    wi[255] = dn / m
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_ZIG_V / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64(int(dn / tn * m))
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m
    return ki, wi, fi


_ZIG_KI, _ZIG_WI, _ZIG_FI = _ziggurat_tables()
_ZIG_INV_R = 1.0 / ZIGGURAT_R


# ----------------------------------------------------------------------------------------------
# numba (one path)
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def _splitmix_mix(z):
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@jit(inline=True)
def seed_state(seed, path, state):
    """Fill ``state`` (4 uint64) with the xoshiro256** state of path ``path`` under ``seed``."""
    z = _splitmix_mix(np.uint64(seed) + _GOLDEN) ^ (np.uint64(path) * _GOLDEN)
    for i in range(4):
        z = z + _GOLDEN
        state[i] = _splitmix_mix(z)


@jit(inline=True)
def next_u64(s):
    """Advance the xoshiro256** state ``s`` and return the next 64-bit output."""
    s1 = s[1]
    x = s1 * _U5
    result = ((x << _U7) | (x >> _U57)) * _U9
    t = s1 << _U17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = (s[3] << _U45) | (s[3] >> _U19)
    return result


@jit(inline=True)
def _normal_slow(s, r):
    """Finish a normal whose first draw ``r`` missed the ziggurat's fast path (wedge or tail).

    Consumes further draws from ``s`` until a variate is accepted, and returns it.  This is the one
    implementation of the rejection steps (``exp``/``log1p``): the kernels reach it through
    :func:`standard_normal`, the NumPy and torch references through :func:`finish_normals`.
    """
    while True:
        idx = np.intp(r & _U255)
        rabs = (r >> _U9) & _MASK52
        x = np.float64(rabs) * _ZIG_WI[idx]
        neg = ((r >> _U8) & _U1) != _U0
        if rabs < _ZIG_KI[idx]:  # (only after a restart: the first r was rejected here)
            return -x if neg else x
        if idx == 0:  # base layer beyond the rectangles: the tail |z| > R
            while True:
                xx = -np.log1p(-(np.float64(next_u64(s) >> _U11) * _TWO_M53)) * _ZIG_INV_R
                yy = -np.log1p(-(np.float64(next_u64(s) >> _U11) * _TWO_M53))
                if yy + yy > xx * xx:
                    return -(ZIGGURAT_R + xx) if neg else ZIGGURAT_R + xx
        else:  # the wedge between the rectangle and the density
            u = np.float64(next_u64(s) >> _U11) * _TWO_M53
            if (_ZIG_FI[idx - 1] - _ZIG_FI[idx]) * u + _ZIG_FI[idx] < np.exp(-0.5 * x * x):
                return -x if neg else x
        r = next_u64(s)


@jit(inline=True)
def standard_normal(s):
    """One standard normal from stream ``s`` (256-layer ziggurat; see the module docstring)."""
    r = next_u64(s)
    idx = np.intp(r & _U255)
    rabs = (r >> _U9) & _MASK52
    if rabs < _ZIG_KI[idx]:  # ≈ 99 % of draws: inside a rectangle
        x = np.float64(rabs) * _ZIG_WI[idx]
        return -x if ((r >> _U8) & _U1) != _U0 else x
    return _normal_slow(s, r)


@jit(refcount=False)
def fill_normals(s, z):
    """Fill ``z`` with standard normals from stream ``s``, one :func:`standard_normal` each, in order."""
    for i in range(z.shape[0]):
        z[i] = standard_normal(s)


@jit
def finish_normals(states, first, out):
    """``out[j]`` = the normal of the stream ``states[j]`` whose rejected first draw was ``first[j]``.

    ``states`` is ``(m, 4)`` uint64, one xoshiro256** state per row, advanced in place by exactly
    the draws the scalar kernel consumes.  The vectorised references call this for the few paths
    that missed the fast path, so the slow path is the kernels' own compiled code.
    """
    for j in range(first.shape[0]):
        out[j] = _normal_slow(states[j], first[j])


# ----------------------------------------------------------------------------------------------
# NumPy (vectorised over paths): the reference for the kernels above
# ----------------------------------------------------------------------------------------------
def ziggurat_fast(r):
    """The ziggurat's fast path on an array of first draws ``r`` (uint64): ``(x, accepted)``.

    ``x`` is the candidate (final where ``accepted``); exact in any library (an integer comparison
    and one float multiplication of a 52-bit integer).
    """
    idx = (r & _U255).astype(np.intp)
    rabs = (r >> _U9) & _MASK52
    x = rabs.astype(np.float64) * _ZIG_WI[idx]
    x = np.where(((r >> _U8) & _U1) != _U0, -x, x)
    return x, rabs < _ZIG_KI[idx]


def _np_mix(z):
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


class PathStreams:
    """The per-path streams of paths ``path_start … path_start + n_paths − 1``, vectorised.

    Produces exactly the numbers the numba kernels draw for the same ``(seed, path)``.
    ``n_slow`` counts the normals that took the ziggurat's slow path (wedge or tail; diagnostics).
    """

    def __init__(self, seed: int, path_start: int, n_paths: int):
        with np.errstate(over="ignore"):
            paths = np.arange(path_start, path_start + n_paths, dtype=np.uint64)
            z = _np_mix(np.uint64(seed) + _GOLDEN) ^ (paths * _GOLDEN)
            self.state = np.empty((4, n_paths), dtype=np.uint64)
            for i in range(4):
                z = z + _GOLDEN
                self.state[i] = _np_mix(z)
        self.n_slow = 0

    def next_u64(self, mask=None):
        s = self.state if mask is None else self.state[:, mask]
        with np.errstate(over="ignore"):
            s1 = s[1].copy()
            result = _rotl(s1 * _U5, 7) * _U9
            t = s1 << _U17
            s[2] ^= s[0]
            s[3] ^= s[1]
            s[1] ^= s[2]
            s[0] ^= s[3]
            s[2] ^= t
            s[3] = _rotl(s[3], 45)
        if mask is not None:
            self.state[:, mask] = s
        return result

    def normals(self, n: int, mask=None) -> np.ndarray:
        """Draw ``n`` normals for each (selected) path: array ``(n_selected, n)``.

        ``mask`` selects the paths that draw; the others' streams do not advance (as for paths
        that have exited in a kernel).  Per normal: one vectorised 64-bit draw and the fast path
        for every selected path, then the compiled slow path (:func:`finish_normals`) for the
        rejected ones only, each advancing its own stream.
        """
        rows = np.arange(self.state.shape[1]) if mask is None else np.flatnonzero(mask)
        out = np.empty((rows.size, n))
        for i in range(n):
            r = self.next_u64(mask)
            x, ok = ziggurat_fast(r)
            bad = np.flatnonzero(~ok)
            if bad.size:
                cols = rows[bad]
                st = np.ascontiguousarray(self.state[:, cols].T)
                vals = np.empty(bad.size)
                finish_normals(st, np.ascontiguousarray(r[bad]), vals)
                self.state[:, cols] = st.T
                x[bad] = vals
                self.n_slow += bad.size
            out[:, i] = x
        return out
