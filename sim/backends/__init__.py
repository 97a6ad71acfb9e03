"""Backends: *how* an ensemble is run (the registry, the chunk contract, the numba kernel, the NumPy
reference, the torch backend, and the per-path random streams).

``"numba"`` (default, compiled), ``"numpy"`` (plain reference), ``"torch"`` and ``"torch:cuda"``
(optional; imported only when asked for).
"""
from .base import Float64BackendBase
from .registry import available_backends, get_backend, register_backend

__all__ = ["Float64BackendBase", "available_backends", "get_backend", "register_backend"]
