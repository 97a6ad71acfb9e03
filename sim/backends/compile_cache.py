r"""A disk cache for the compiled ensemble kernels: compiled once per machine, not once per process.

Why numba's own cache cannot do it.  An ensemble kernel is a *closure*: it is assembled by a
factory (:func:`~optdyn.sim.backends.numba_backend.make_ensemble_kernel`) from compiled pieces (the
dynamics step, the landscape's gradient, the noise model, the exit test) and compile-time constants
(the dimensions).  ``numba.njit(cache=True)`` keys a closure on the pickled closure cells, and a
pickled dispatcher carries a random per-process UUID: the key never matches in another process
(measured: a miss in every fresh process, a new data file each time).

What this module does instead.  :func:`enable_disk_cache` gives a kernel dispatcher a numba
``FunctionCache`` whose index key is a **content key**: a SHA-256 over

1. the *package fingerprint* — the source of every ``.py`` file of the installed ``optdyn`` package
   (so any change of the package invalidates every entry), with the numba, llvmlite, NumPy and Python
   versions (numba adds the CPU name and features, ``codegen.magic_tuple()``);
2. a *structural description of the closure tree* — for every compiled function reachable from the
   kernel through closure cells and through global names: its module, qualified name and
   compilation options; for numbers, strings and tuples their type and value; for code outside the
   package (a user's landscape) the SHA-256 of its module's source, else of its byte code and
   constants; for code generated at run time (a function carrying ``__optdyn_source__``, such as
   :class:`~optdyn.sim.landscapes.SymbolicLandscape`'s) the SHA-256 of that source.  Anything else (an array captured in a closure, an unknown object) makes the kernel
   *uncachable*: it is compiled as before and nothing is written, so a kernel is never returned for
   other code.

Entries live in ``$OPTDYN_CACHE_DIR`` (default ``$XDG_CACHE_HOME/optdyn`` or ``~/.cache/optdyn``),
one folder per package fingerprint (``numba-<fingerprint>``; older folders are left for
:func:`clear_cache`).  ``OPTDYN_CACHE=0`` turns the cache off; under ``NUMBA_DISABLE_JIT=1`` it is
off.  numba writes the data files atomically (temporary file + rename), so concurrent processes
and an interrupted write never leave a corrupt entry.

Measured (``python -m benchmarks.bench_startup``; the numbers are in ``docs/NOTES.md``): the first
ensemble of a fresh process takes the time of a cache load instead of a compilation.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import types
from pathlib import Path

import llvmlite
import numba
import numpy as np
from numba.core import caching
from numba.core.dispatcher import Dispatcher

from .._jit import JIT_DISABLED

__all__ = ["enable_disk_cache", "content_key", "package_fingerprint", "cache_dir", "clear_cache",
           "Uncachable"]

#: The package root (the folder that holds ``sim/``, ``theory/``, ``validate/``).
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_PACKAGE_NAME = __name__.split(".")[0]
#: The package's folders whose sources the fingerprint covers (with the root's ``*.py``).
_PACKAGE_PARTS = ("sim", "theory", "validate", "benchmarks")


class Uncachable(Exception):
    """A closure tree holds something whose content cannot be described: do not cache it."""


@functools.lru_cache(maxsize=None)
def package_fingerprint() -> str:
    """SHA-256 of the package's Python sources and the versions of what compiles them."""
    h = hashlib.sha256()
    for part in (sys.version, numba.__version__, llvmlite.__version__, np.__version__):
        h.update(part.encode() + b"\0")
    files = list(_PACKAGE_ROOT.glob("*.py"))
    for part in _PACKAGE_PARTS:  # only the package's own folders (never a .venv or build/ beside them)
        files += (_PACKAGE_ROOT / part).rglob("*.py")
    for path in sorted(files):
        h.update(path.relative_to(_PACKAGE_ROOT).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_dir() -> Path:
    """The folder of this package version's cache entries (not created here)."""
    base = os.environ.get("OPTDYN_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "optdyn")
    return Path(base) / f"numba-{package_fingerprint()[:20]}"


def clear_cache(all_versions: bool = True) -> int:
    """Delete cached kernels (of every package version, or of this one); returns folders removed."""
    here = cache_dir()
    targets = [p for p in here.parent.glob("numba-*") if p.is_dir()] if all_versions else [here]
    for p in targets:
        shutil.rmtree(p, ignore_errors=True)
    return len(targets)


def _enabled() -> bool:
    return not JIT_DISABLED and os.environ.get("OPTDYN_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


# ------------------------------------------------------------------------------------------------
# the content key
# ------------------------------------------------------------------------------------------------
def _in_package(module_name: str | None) -> bool:
    return bool(module_name) and (module_name == _PACKAGE_NAME or module_name.startswith(_PACKAGE_NAME + "."))


@functools.lru_cache(maxsize=None)
def _module_source_hash(module_name: str) -> str | None:
    mod = sys.modules.get(module_name)
    path = getattr(mod, "__file__", None)
    if not path or not os.path.isfile(path):
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _code_hash(code: types.CodeType) -> str:
    """SHA-256 of a code object's byte code, names and constants (nested code included)."""
    h = hashlib.sha256(code.co_code)
    h.update(repr(code.co_names).encode())
    for c in code.co_consts:
        h.update(_code_hash(c).encode() if isinstance(c, types.CodeType) else repr(c).encode())
    return h.hexdigest()


def _global_names(code: types.CodeType):
    yield from code.co_names
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _global_names(c)


def _describe(obj, seen: dict) -> str:
    """A string that determines ``obj``'s compiled behaviour (see the module docstring)."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, np.number, np.bool_)):
        return f"{type(obj).__name__}:{obj!r}"
    if isinstance(obj, tuple):
        return "(" + ",".join(_describe(o, seen) for o in obj) + ")"
    if isinstance(obj, np.ndarray):  # frozen into the code as a constant: its bytes matter
        return f"ndarray:{obj.dtype.str}:{obj.shape}:{hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()}"
    if isinstance(obj, types.ModuleType):
        return f"module:{obj.__name__}"
    if isinstance(obj, Dispatcher):
        return _describe_function(obj.py_func, seen, options=obj.targetoptions)
    if isinstance(obj, types.FunctionType):  # e.g. a Python function numba inlines via overload
        return _describe_function(obj, seen, options=None)
    if isinstance(obj, type) or (callable(obj) and getattr(obj, "__module__", "").startswith("numba")):
        return f"ref:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"
    raise Uncachable(f"cannot describe {type(obj).__name__} {obj!r:.80}")


def _describe_function(fn: types.FunctionType, seen: dict, options) -> str:
    ident = id(fn)
    if ident in seen:  # recursion or a shared piece: described once
        return f"fn#{seen[ident]}"
    seen[ident] = len(seen)
    module = fn.__module__ or ""
    parts = [f"fn:{module}.{fn.__qualname__}", f"opts:{sorted((options or {}).items())!r}"]
    generated = getattr(fn, "__optdyn_source__", None)
    if generated is not None:  # code generated at run time (a SymbolicLandscape's formula): its source
        parts.append(f"gen:{hashlib.sha256(generated.encode()).hexdigest()}")
    elif _in_package(module):
        parts.append("pkg")  # its source is in the package fingerprint
    else:
        src = _module_source_hash(module)
        parts.append(f"src:{src}" if src else f"code:{_code_hash(fn.__code__)}")
    if fn.__closure__:
        parts.append("cells:" + ",".join(_describe(c.cell_contents, seen) for c in fn.__closure__))
    # globals may live in other modules (always so for a user's code): follow the ones numba freezes
    for name in sorted(set(_global_names(fn.__code__))):
        if name in fn.__globals__:
            val = fn.__globals__[name]
            if isinstance(val, (Dispatcher, types.FunctionType, np.ndarray, int, float)):
                parts.append(f"g:{name}=" + _describe(val, seen))
    return "[" + ";".join(parts) + "]"


def content_key(dispatcher: Dispatcher) -> str:
    """The content key of a compiled function (raises :class:`Uncachable`)."""
    desc = _describe(dispatcher, {})
    return hashlib.sha256((package_fingerprint() + "\0" + desc).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------
# numba plumbing: a FunctionCache whose index key and files are the content key's
# ------------------------------------------------------------------------------------------------
class _Locator(caching._CacheLocator):
    def __init__(self, path: Path):
        self._path = str(path)

    def get_cache_path(self):
        return self._path

    def get_source_stamp(self):  # the key already holds the package fingerprint
        return "optdyn"

    def get_disambiguator(self):
        return ""

    @classmethod
    def from_function(cls, py_func, py_file):  # never chosen by numba's own search
        return None


class _Impl(caching.CompileResultCacheImpl):
    def __init__(self, py_func, key: str, path: Path):  # noqa: D107 - bypasses numba's locator search
        self._lifted_from = None
        self._locator = _Locator(path)
        self._filename_base = f"{py_func.__name__}-{key[:32]}.py{sys.version_info[0]}{sys.version_info[1]}"


class _ContentKeyedCache(caching.FunctionCache):
    """numba's FunctionCache with the index key replaced by the content key."""

    def __init__(self, py_func, key: str, path: Path):  # noqa: D107 - numba's __init__ would search locators
        self._name = repr(py_func)
        self._py_func = py_func
        self._key = key
        self._impl = _Impl(py_func, key, path)
        self._cache_path = str(path)
        self._cache_file = caching.IndexDataCacheFile(
            cache_path=self._cache_path, filename_base=self._impl.filename_base, source_stamp="optdyn")
        self.enable()

    def _index_key(self, sig, codegen):
        return (sig, codegen.magic_tuple(), self._key)


def _process_unique_symbol_ids() -> None:
    """Start numba's function-id counter at a random 40-bit offset in this process.

    numba names every compiled function ``qualname$uid`` (also in the machine code) with ``uid`` from a
    per-process counter that starts at 1.  Two kernels compiled in different processes therefore carry
    the *same* symbol names for different code (e.g. the block function with and without an exit
    test); when one process loads both from the disk cache, the second library links against the
    first one's functions and runs the wrong kernel (measured: exits never detected, or every path
    "diverged").  A random start makes the ids of different processes disjoint (two processes'
    ranges of ~10⁴ ids overlap with probability ~10⁻⁸)."""
    import itertools

    from numba.core import bytecode

    start = int.from_bytes(os.urandom(5), "little") << 8
    bytecode.FunctionIdentity._unique_ids = itertools.count(start + 1)


if _enabled():
    _process_unique_symbol_ids()


def enable_disk_cache(dispatcher: Dispatcher) -> bool:
    """Give ``dispatcher`` the content-keyed disk cache; returns whether it is cached.

    Call it before the first call of the dispatcher.  Returns False (and changes nothing) when the
    cache is off or the closure tree cannot be described.
    """
    if not _enabled() or not isinstance(dispatcher, Dispatcher):
        return False
    try:
        key = content_key(dispatcher)
    except Uncachable:
        return False
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: compile as before
        return False
    dispatcher._cache = _ContentKeyedCache(dispatcher.py_func, key, path)
    return True
