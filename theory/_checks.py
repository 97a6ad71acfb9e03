"""Input validation shared by the theory entries: clear ``ValueError`` naming the parameter."""
from __future__ import annotations

import numpy as np

__all__ = [
    "positive",
    "nonnegative",
    "negative",
    "unit_interval",
    "eigenvalues",
    "times",
    "symmetric_matrix",
    "finite",
]


def finite(name: str, value) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` if any entry is NaN or infinite."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def positive(name: str, value) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` unless every entry is finite and > 0."""
    arr = finite(name, value)
    if not np.all(arr > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


def nonnegative(name: str, value) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` unless every entry is finite and >= 0."""
    arr = finite(name, value)
    if not np.all(arr >= 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return arr


def negative(name: str, value) -> np.ndarray:
    """``value`` as a float array; ``ValueError`` unless every entry is finite and < 0."""
    arr = finite(name, value)
    if not np.all(arr < 0):
        raise ValueError(f"{name} must be < 0, got {value!r}")
    return arr


def unit_interval(name: str, value, *, closed_right: bool = False, open_left: bool = False):
    """``value`` in [0, 1) (default), (0, 1), [0, 1] or (0, 1]; ``ValueError`` otherwise."""
    arr = finite(name, value)
    lo_ok = arr > 0 if open_left else arr >= 0
    hi_ok = arr <= 1 if closed_right else arr < 1
    if not np.all(lo_ok & hi_ok):
        rng = ("(" if open_left else "[") + "0, 1" + ("]" if closed_right else ")")
        raise ValueError(f"{name} must lie in {rng}, got {value!r}")
    return arr


def eigenvalues(name: str, value) -> np.ndarray:
    """A non-empty 1-D finite float array (a scalar becomes shape ``(1,)``)."""
    arr = np.atleast_1d(finite(name, value))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    return arr


def times(name: str, value) -> np.ndarray:
    """Times: a finite float array of at most one dimension with entries >= 0."""
    arr = nonnegative(name, value)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or 1-D array, got shape {arr.shape}")
    return arr


def symmetric_matrix(name: str, value, *, rtol: float = 1e-10) -> np.ndarray:
    """A finite, square, symmetric float matrix (up to ``rtol`` times its largest entry)."""
    arr = finite(name, value)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    scale = max(np.abs(arr).max(), np.finfo(float).tiny)
    if np.abs(arr - arr.T).max() > rtol * scale:
        raise ValueError(f"{name} must be symmetric")
    return 0.5 * (arr + arr.T)
