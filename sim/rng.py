r"""Random streams that depend only on ``(seed, path index)``.

Every path of an ensemble owns an independent xoshiro256** generator whose 256-bit state is
derived from ``(seed, path)`` by SplitMix64.  Normal variates come from the Box–Muller transform,
consumed strictly in order (the second variate of a pair is kept as a *spare* for the next draw),
so a path's sequence of normals is a pure function of ``(seed, path)``: results never depend on the
number of threads, on chunk sizes or on which paths ran beside it.

The same algorithm exists twice: as numba functions used inside kernels (scalar, one path) and as
NumPy functions vectorised over paths (:class:`PathStreams`), which the NumPy reference backend
and the tests use to reproduce the kernels' random numbers bit for bit.

References
----------
D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators", arXiv 1805.01407.
G. E. P. Box and M. E. Muller, "A note on the generation of random normal deviates" (1958).
"""
from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["PathStreams", "seed_state", "next_u64", "fill_normals", "normal_buffer"]

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
_U1 = np.uint64(1)
_TWO_M53 = 2.0**-53
_TWO_PI = 2.0 * np.pi


# ----------------------------------------------------------------------------------------------
# numba (one path)
# ----------------------------------------------------------------------------------------------
@jit
def _splitmix_mix(z):
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@jit
def seed_state(seed, path, state):
    """Fill ``state`` (4 uint64) with the xoshiro256** state of path ``path`` under ``seed``."""
    z = _splitmix_mix(np.uint64(seed) + _GOLDEN) ^ (np.uint64(path) * _GOLDEN)
    for i in range(4):
        z = z + _GOLDEN
        state[i] = _splitmix_mix(z)


@jit
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


@jit
def normal_buffer():
    """Spare-variate buffer ``[has_spare, spare]`` for :func:`fill_normals`."""
    return np.zeros(2)


@jit
def fill_normals(s, spare, z):
    """Fill ``z`` with standard normals from stream ``s`` (Box–Muller, spare kept in ``spare``)."""
    for i in range(z.shape[0]):
        if spare[0] != 0.0:
            z[i] = spare[1]
            spare[0] = 0.0
        else:
            u1 = (np.float64(next_u64(s) >> _U11) + 1.0) * _TWO_M53  # in (0, 1]
            u2 = np.float64(next_u64(s) >> _U11) * _TWO_M53  # in [0, 1)
            rad = np.sqrt(-2.0 * np.log(u1))
            ang = _TWO_PI * u2
            z[i] = rad * np.cos(ang)
            spare[1] = rad * np.sin(ang)
            spare[0] = 1.0


# ----------------------------------------------------------------------------------------------
# NumPy (vectorised over paths): the reference for the kernels above
# ----------------------------------------------------------------------------------------------
@jit
def _box_muller(u1, u2, c, s):
    """Box–Muller on arrays with the same libm ``log``/``cos``/``sin`` as :func:`fill_normals`.

    NumPy's own ``np.log``/``np.cos``/``np.sin`` dispatch to SIMD implementations (e.g. AVX-512)
    that differ from the C library in the last bit for ~0.2% of arguments, so computing these in
    NumPy would break the bit-for-bit agreement with the kernels on such CPUs.
    """
    for i in range(u1.shape[0]):
        rad = np.sqrt(-2.0 * np.log(u1[i]))
        ang = _TWO_PI * u2[i]
        c[i] = rad * np.cos(ang)
        s[i] = rad * np.sin(ang)


def _np_mix(z):
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


class PathStreams:
    """The per-path streams of paths ``path_start … path_start + n_paths − 1``, vectorised.

    Produces exactly the numbers the numba kernels draw for the same ``(seed, path)``.
    """

    def __init__(self, seed: int, path_start: int, n_paths: int):
        with np.errstate(over="ignore"):
            paths = np.arange(path_start, path_start + n_paths, dtype=np.uint64)
            z = _np_mix(np.uint64(seed) + _GOLDEN) ^ (paths * _GOLDEN)
            self.state = np.empty((4, n_paths), dtype=np.uint64)
            for i in range(4):
                z = z + _GOLDEN
                self.state[i] = _np_mix(z)
        # Paths draw in lockstep while alive, so one flag says whether every alive path holds a
        # spare variate; a path that stops drawing (it exited) never draws again.
        self.has_spare = False
        self.spare = np.zeros(n_paths)

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
        that have exited in a kernel).  All paths of one stream object must draw in lockstep
        whenever they draw, which is how the ensemble reference uses it.
        """
        sel = slice(None) if mask is None else mask
        n_sel = self.state.shape[1] if mask is None else int(np.count_nonzero(mask))
        out = np.empty((n_sel, n))
        for i in range(n):
            if self.has_spare:
                out[:, i] = self.spare[sel]
                self.has_spare = False
                continue
            u1 = ((self.next_u64(mask) >> _U11).astype(np.float64) + 1.0) * _TWO_M53
            u2 = (self.next_u64(mask) >> _U11).astype(np.float64) * _TWO_M53
            c, s = np.empty_like(u1), np.empty_like(u1)
            _box_muller(u1, u2, c, s)
            out[:, i] = c
            self.spare[sel] = s
            self.has_spare = True
        return out
