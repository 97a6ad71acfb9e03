"""Array-namespace helpers so one vectorised NumPy reference also runs on torch tensors.

The reference implementations (``value/gradient/hessian`` of landscapes, ``apply`` of noise models,
``numpy_step`` of dynamics) are written with operators and functions that NumPy and torch share
(``einsum``, ``sqrt``, ``where``, ``clip``, ``mean(axis=)`` …), taking the namespace from their
input.  Constant parameters (NumPy arrays) are converted once per (array, dtype, device) with
:func:`asarray_like`.  Nothing here imports torch unless a torch tensor is passed in.
"""
from __future__ import annotations

import numpy as np

__all__ = ["namespace", "asarray_like", "copy", "is_torch"]

_CACHE: dict = {}


def is_torch(x) -> bool:
    return type(x).__module__.split(".", 1)[0] == "torch"


def namespace(x):
    """``numpy`` or ``torch``, whichever ``x`` belongs to."""
    if is_torch(x):
        import torch

        return torch
    return np


def asarray_like(a: np.ndarray, like):
    """The constant NumPy array ``a`` in the namespace, dtype and device of ``like`` (cached)."""
    if not is_torch(like):
        return a
    import torch

    key = (id(a), like.dtype, like.device)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not a:
        hit = (a, torch.as_tensor(np.asarray(a), dtype=like.dtype, device=like.device))
        _CACHE[key] = hit
    return hit[1]


def copy(x):
    """A copy of ``x`` (``.copy()`` for NumPy, ``.clone()`` for torch)."""
    return x.clone() if is_torch(x) else x.copy()


def matvec_rows(x, m):
    """Rows of ``x`` times ``m`` transposed, :math:`y_{p,i} = \\sum_j m_{ij} x_{p,j}`.

    Written as a broadcast product and a sum over the last (small) axis rather than a BLAS matmul,
    so the rounding of each row does not depend on how many rows are computed together (chunk
    size) or on the BLAS library's threading.
    """
    return (x[..., None, :] * asarray_like(m, x)).sum(axis=-1)
