"""Backends behind a lazy registry.

``"numba"`` (default, compiled), ``"numpy"`` (plain reference), ``"torch"`` / ``"torch:cpu"`` (op by
op, the bit-exact reference of the numba streams), ``"torch:cuda"`` / ``"torch:cuda:1"`` (the fused
numba-cuda kernels, :mod:`.cuda_backend`) and ``"cuda-sim"`` (the same kernels in numba-cuda's CPU
simulator); optional ones are imported only when asked for.  An unknown name, a missing optional dependency or a
missing device is a clear error, never a silent fallback.
"""
from __future__ import annotations

import importlib

__all__ = ["get_backend", "available_backends", "register_backend"]


_REGISTRY: dict[str, tuple[str, str, dict]] = {
    "numba": ("optdyn.sim.backends.numba_backend", "NumbaBackend", {}),
    "numpy": ("optdyn.sim.backends.numpy_backend", "NumpyBackend", {}),
    "torch": ("optdyn.sim.backends.torch_backend", "TorchBackend", {}),
    "torch:cuda": ("optdyn.sim.backends.cuda_backend", "FusedCudaBackend", {}),
    "cuda-sim": ("optdyn.sim.backends.cuda_backend", "FusedCudaBackend", {"simulator": True}),
}


def register_backend(name: str, module: str, cls: str, **kwargs) -> None:
    """Register a backend class by import path (imported only when first used)."""
    _REGISTRY[name] = (module, cls, kwargs)


def available_backends() -> list[str]:
    return sorted(_REGISTRY)


def get_backend(name: str, precision: str = "float64", rng: str | None = None):
    """Instantiate the backend ``name`` (e.g. ``"numba"``, ``"numpy"``, ``"torch:cuda"``).

    ``precision`` is ``"float64"`` (every backend) or ``"float32"`` (torch and the fused GPU
    backend); ``rng`` names the random streams (``None``: the backend's default; see each backend's
    ``rngs``).
    """
    if not isinstance(name, str):
        raise TypeError(f"backend must be a string, got {type(name).__name__}")
    base = "torch:cuda" if name.startswith("torch:cuda") else name.split(":", 1)[0]
    key = name if name in _REGISTRY else base
    if key not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; available: {', '.join(available_backends())}")
    module, cls, kwargs = _REGISTRY[key]
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"backend {name!r} needs a package that is not installed: {exc}") from exc
    backend_cls = getattr(mod, cls)
    if ":" in name and key == base:
        kwargs = {**kwargs, "device": name.split(":", 1)[1]}
    return backend_cls(precision=precision, rng=rng, **kwargs)
