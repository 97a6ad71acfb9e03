r"""Adaptive rules shared by the discrete optimizers (:mod:`sim.optimizers`) and their continuous
models (:mod:`sim.sde`): Adai's per-coordinate inertia and Adam's diagonal preconditioner.

Each rule exists once as a compiled scalar/loop function (kernels) and once vectorised over paths
with NumPy (the reference backend and exact linear models).

References
----------
THEORY.md §3–§4; Xie et al., "Adaptive Inertia", arXiv 2006.15815; Kingma & Ba, "Adam",
arXiv 1412.6980.
"""
from __future__ import annotations

import numpy as np

from . import _xp
from ._jit import jit

__all__ = ["adai_inertia", "numpy_adai_inertia", "adai_inertia_vector", "numpy_adam_preconditioner"]


@jit(inline=True)
def adai_inertia(v_ratio, beta0, eps):
    r""":math:`\beta_1 = \mathrm{clip}(1 - \beta_0\,v_i/\bar v,\ 0,\ 1-\epsilon)` for one coordinate."""
    return min(max(1.0 - beta0 * v_ratio, 0.0), 1.0 - eps)


@jit(inline=True)
def adai_inertia_vector(v, beta0, eps, out):
    r"""``out[i]`` = Adai's :math:`\beta_{1,i}` for the second moments ``v`` of one path.

    :math:`\bar v` is the mean of ``v`` over the path's coordinates.  When :math:`\bar v = 0`
    (all moments zero) the ratio :math:`v_i/\bar v` is defined as 1 (no NaN).  ``out`` may be
    ``v`` itself.
    """
    n = v.shape[0]
    v_bar = 0.0
    for i in range(n):
        v_bar += v[i]
    v_bar /= n
    for i in range(n):
        ratio = v[i] / v_bar if v_bar > 0.0 else 1.0
        out[i] = adai_inertia(ratio, beta0, eps)


def numpy_adai_inertia(v, beta0, eps):
    r"""Adai's :math:`\beta_{1}` for ``v`` of shape ``(..., dim)``; :math:`\bar v` is the mean over
    the last axis (one path's coordinates, never over paths); ratio 1 where :math:`\bar v = 0`.
    NumPy arrays or torch tensors."""
    v = v if _xp.is_torch(v) else np.asarray(v, dtype=float)
    xp = _xp.namespace(v)
    v_bar = v.mean(axis=-1, keepdims=True)
    positive = v_bar > 0.0
    ratio = xp.where(positive, v / xp.where(positive, v_bar, 1.0), 1.0)
    return xp.clip(1.0 - beta0 * ratio, 0.0, 1.0 - eps)


def numpy_adam_preconditioner(v, eps):
    r""":math:`P = 1/(\sqrt v + \epsilon)` element-wise (NumPy or torch)."""
    return 1.0 / (_xp.namespace(v).sqrt(v) + eps)
