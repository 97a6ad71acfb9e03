"""Backends: *how* an ensemble is run (the registry, the chunk contract, the numba kernel, the NumPy
reference, the torch backend, and the per-path random streams).

``"numba"`` (default, compiled), ``"numpy"`` (plain reference), ``"torch"`` / ``"torch:cpu"`` (op by
op, the bit-exact reference of the numba streams), ``"torch:cuda"`` (fused numba-cuda kernels,
:mod:`.cuda_backend`) and ``"cuda-sim"`` (the same in numba-cuda's simulator); the optional ones are
imported only when asked for.  Streams: xoshiro/ziggurat (:mod:`.rng`, the CPU default) or Philox
(:mod:`.philox`, counter-based; ``rng="philox"``).
"""
from .base import Float64BackendBase
from .registry import available_backends, get_backend, register_backend

__all__ = ["Float64BackendBase", "available_backends", "get_backend", "register_backend"]
