"""Input checks shared by every public entry point: clear errors that name the parameter."""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "positive",
    "in_range",
    "finite_array",
    "symmetric_matrix",
    "vector",
    "positive_int",
    "orthogonal_matrix",
    "optional_nonnegative",
]


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float after checking it is finite and > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    ok = np.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        rng = "[0, inf)" if allow_zero else "(0, inf)"
        raise ValueError(f"{name} must be finite and in {rng}, got {value!r}")
    return v


def in_range(name: str, value, lo: float, hi: float, *, lo_open=False, hi_open=True) -> float:
    """Return ``value`` as float after checking ``lo <= value < hi`` (bounds open as asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    lo_ok = v > lo if lo_open else v >= lo
    hi_ok = v < hi if hi_open else v <= hi
    if not (np.isfinite(v) and lo_ok and hi_ok):
        rng = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be in {rng}, got {value!r}")
    return v


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def finite_array(name: str, value, *, ndim: int | None = None, shape=None) -> np.ndarray:
    """Return ``value`` as a float64 array after checking finiteness and shape."""
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers") from exc
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return a


def vector(name: str, value, dim: int) -> np.ndarray:
    """A finite 1-D vector of length ``dim``."""
    return finite_array(name, value, ndim=1, shape=(dim,))


def symmetric_matrix(name: str, value, dim: int | None = None, *, rtol: float = 1e-12) -> np.ndarray:
    """A finite, square, symmetric matrix (exactly symmetrised after the check)."""
    a = finite_array(name, value, ndim=2)
    if a.shape[0] != a.shape[1] or (dim is not None and a.shape[0] != dim):
        want = f"({dim}, {dim})" if dim is not None else "square"
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")
    scale = max(1.0, float(np.max(np.abs(a))))
    if np.max(np.abs(a - a.T)) > rtol * scale:
        raise ValueError(f"{name} must be symmetric (max |A - A^T| = {np.max(np.abs(a - a.T)):.3g})")
    return 0.5 * (a + a.T)


def orthogonal_matrix(name: str, value, dim: int) -> np.ndarray:
    """A ``(dim, dim)`` orthogonal matrix (``U^T U = I`` to 1e-10); the identity when ``value`` is None."""
    if value is None:
        return np.eye(dim)
    u = finite_array(name, value, ndim=2, shape=(dim, dim))
    if np.max(np.abs(u.T @ u - np.eye(dim))) > 1e-10:
        raise ValueError(f"{name} must be orthogonal (U^T U = I to 1e-10)")
    return u


def optional_nonnegative(name: str, value, size: int) -> np.ndarray:
    """A finite vector of ``size`` entries, all >= 0 (zeros when ``value`` is None)."""
    if value is None:
        return np.zeros(size)
    v = vector(name, value, size)
    if np.any(v < 0):
        raise ValueError(f"{name} must be >= 0 (a second moment or step-size average)")
    return v
