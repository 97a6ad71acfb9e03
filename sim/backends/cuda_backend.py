r"""The fused GPU path: ``run_ensemble(..., backend="torch:cuda")``.

One CUDA thread advances one path for a whole window of steps with its state in registers:
normals (:mod:`sim.backends.philox`), stochastic gradient, update, divergence test, saving at the
requested steps, recording, exit test.  A chunk of paths is a few launches of
:data:`STEPS_PER_LAUNCH` steps each (plus one tiny launch per window for the per-step coefficients);
between launches the host reads one number, how many paths are still alive, and stops when none is
(at most one host synchronisation per window, never inside it).  A path that stops early leaves its
loop: it costs a masked lane of its warp until the warp's last path stops.

**One source per formula.**  The kernel calls the *same* per-step functions as the numba CPU
kernel (:func:`sim.backends.numba_backend.kernel_for`): the dynamics' ``make_step`` /
``make_step_coefficients``, the landscape's compiled gradient, the bound noise's ``apply`` and the
exit's ``numba_label``.  Those are numba CPU dispatchers; :func:`device_function` compiles each
one's Python source again as a CUDA device function, after replacing the dispatchers it refers to
(closure cells and module globals) by their own device versions, recursively.  So no optimizer,
landscape or noise model exists twice.  Two exceptions, both mechanical and tested:

* the general Hessian-noise factor (non-separable landscapes) calls LAPACK's ``eigh``, which has no
  device version; :data:`DEVICE_REPLACEMENTS` maps it to :func:`jacobi_eigh`-based code (cyclic
  Jacobi, compiled for both targets and compared with ``np.linalg.eigh`` and with the CPU path);
* numba-cuda 0.30 lowers only some NumPy ufuncs on scalars (``np.sqrt``, ``np.exp``, ``np.expm1``,
  ``np.log1p``, ``np.isfinite``, ``np.abs`` are missing); :func:`_register_scalar_ufuncs` adds them to
  its table, mapped to the libdevice functions numba-cuda uses for ``math.sqrt`` etc.
  (``np.isfinite`` as ``x - x == 0``);
* :func:`sim._jit.stack_empty` (a CPU stack intrinsic of the closed-form Hessian factors) gets a
  CUDA lowering: a thread-local array of the same compile-time size (:func:`_register_stack_empty`).

Why numba-cuda rather than Triton: Triton programs are block-vectorised (tensors of lanes), so every
per-path scalar function of every optimizer, landscape and noise model would have to be rewritten (or
generated) in ``tl`` operations: a second copy of each formula.  numba-cuda compiles the existing
scalar sources, so the GPU path and the CPU kernel cannot drift apart.

**Streams.**  Counter-based Philox (:mod:`sim.backends.philox`): a path's normals depend only on
``(seed, path, step)``, so results are independent of the launch geometry and the chunk size, and the
numba CPU backend with ``rng="philox"`` gives the same paths (to round-off of the transcendental
functions: libdevice and the CPU's libm may differ in the last bit).

**Precision.**  ``float32`` or ``float64`` state (positions, optimizer state, scratch, normals);
parameters stay float64.  The shared sources write literals such as ``1.0`` as float64, so in a
float32 run the arithmetic inside an expression is float64 and every *store* into the state rounds
to float32: the float32/float64 difference is the propagated rounding of the stores (bound derived
in ``tests/sim/test_cuda_backend.py``).

**Without a GPU.**  ``backend="cuda-sim"`` runs the same kernels in numba-cuda's simulator
(``NUMBA_ENABLE_CUDASIM=1`` must be set before numba-cuda is first imported): every device function
then runs as its Python source, which is how the tests compare the kernel with the CPU kernel path by
path.  :func:`compile_ptx` compiles a problem's kernels to PTX without a device (needs the CUDA
toolkit's NVVM and NVRTC libraries), which checks what the simulator cannot: that every piece lowers
for the GPU.
"""
from __future__ import annotations

import math
import os
import time
import types
from functools import lru_cache

import numpy as np
from numba.core.dispatcher import Dispatcher

try:
    from numba import cuda
except ImportError as exc:  # pragma: no cover - numba-cuda missing
    raise ImportError("the fused GPU backend needs numba-cuda: pip install 'optdyn[gpu]'") from exc

from .._jit import jit
from .numba_backend import kernel_pieces
from .philox import philox_key, philox_normals

__all__ = ["FusedCudaBackend", "device_function", "make_cuda_kernels", "cuda_kernels_for", "compile_ptx",
           "jacobi_eigh", "simulator_active", "STEPS_PER_LAUNCH", "THREADS_PER_BLOCK"]

#: Steps per launch (one host synchronisation each: "is any path still alive?").  Must be >= 64.
STEPS_PER_LAUNCH = 1024
#: CUDA threads per block (one path per thread).  Results do not depend on it.
THREADS_PER_BLOCK = 128
#: Sweeps of the cyclic Jacobi eigen-solver; quadratic convergence makes 2-4 enough for dim <= 10,
#: the rest are no-ops once the off-diagonal part is zero.
JACOBI_SWEEPS = 12


def simulator_active() -> bool:
    """True when numba-cuda runs in its CPU simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    import numba

    return bool(int(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") or 0)) or bool(
        getattr(numba.config, "ENABLE_CUDASIM", False))


# ----------------------------------------------------------------------------------------------
# scalar NumPy ufuncs for the CUDA target
# ----------------------------------------------------------------------------------------------
_SCALAR_UFUNCS = {"sqrt": math.sqrt, "exp": math.exp, "expm1": math.expm1, "log1p": math.log1p,
                  "log": math.log, "absolute": math.fabs, "tanh": math.tanh}


def _isfinite_lowering(context, builder, sig, args):
    """``isfinite(x)`` as ``x - x == 0`` (ordered): false for ±inf (inf − inf is NaN) and NaN."""
    diff = builder.fsub(args[0], args[0])
    return builder.fcmp_ordered("==", diff, diff.type(0.0))


@lru_cache(maxsize=None)
def _register_scalar_ufuncs() -> None:
    """Let numba-cuda lower the scalar NumPy ufuncs the shared sources use.

    numba-cuda 0.30 types ``np.sqrt(x)`` on a float but its CUDA ufunc table
    (``numba.cuda.ufuncs.ufunc_db``) has no entry for it and lowering fails; the entries added here
    use the same libdevice implementations as ``math.sqrt`` etc.  Existing entries are kept.
    """
    if simulator_active():
        return
    from numba.cuda import ufuncs
    from numba.cuda.mathimpl import get_unary_impl_for_fn_and_ty

    db = ufuncs.ufunc_db()

    def lowering(fn):
        def impl(context, builder, sig, args):
            return get_unary_impl_for_fn_and_ty(fn, sig.args[0])(context, builder, sig, args)
        return impl

    for name, fn in _SCALAR_UFUNCS.items():
        db.setdefault(getattr(np, name), {f"{t}->{t}": lowering(fn) for t in "fd"})
    db.setdefault(np.isfinite, {f"{t}->?": _isfinite_lowering for t in "fd"})


@lru_cache(maxsize=None)
def _register_stack_empty() -> None:
    """The CUDA lowering of :func:`sim._jit.stack_empty` (a CPU stack intrinsic): a thread-local array
    of the same compile-time size, reshaped like the CPU one."""
    if simulator_active():  # the simulator runs stack_empty's Python body (np.empty)
        return
    from numba import float64, types
    from numba.core.errors import TypingError
    from numba.cuda.extending import overload

    from .._jit import stack_empty

    @overload(stack_empty, target="cuda", prefer_literal=True, inline="always")
    def _stack_empty_cuda(size, shape):
        if not isinstance(size, types.IntegerLiteral):
            raise TypingError("stack_empty: size must be a compile-time constant integer")
        n = size.literal_value

        def impl(size, shape):
            return cuda.local.array(n, float64).reshape(shape)

        return impl


# ----------------------------------------------------------------------------------------------
# CPU dispatchers -> CUDA device functions
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def jacobi_eigh(a, v, n_sweeps):
    """Eigen-decomposition of the symmetric ``a`` (n×n) by cyclic Jacobi rotations, in place:
    on return ``a``'s diagonal holds the eigenvalues and ``v``'s columns the eigenvectors
    (``A = V diag(λ) Vᵀ``).  No allocation, so it runs inside a GPU thread; the stable rotation
    formulas of Golub & Van Loan, "Matrix Computations", §8.5 (Rutishauser's variant)."""
    n = a.shape[0]
    for i in range(n):
        for j in range(n):
            v[i, j] = 1.0 if i == j else 0.0
    for _ in range(n_sweeps):
        off = 0.0
        for p in range(n):
            for q in range(p + 1, n):
                off += a[p, q] * a[p, q]
        if off == 0.0:
            return
        for p in range(n - 1):
            for q in range(p + 1, n):
                apq = a[p, q]
                if apq == 0.0:
                    continue
                tau = (a[q, q] - a[p, p]) / (2.0 * apq)
                if abs(tau) > 1e150:  # τ² would overflow: t = 1/(τ + sign(τ)√(1+τ²)) ≈ 1/(2τ)
                    t = 0.5 / tau
                else:
                    t = (1.0 if tau >= 0.0 else -1.0) / (abs(tau) + math.sqrt(1.0 + tau * tau))
                c = 1.0 / math.sqrt(1.0 + t * t)
                s = t * c
                for k in range(n):  # A <- A J
                    akp, akq = a[k, p], a[k, q]
                    a[k, p] = c * akp - s * akq
                    a[k, q] = s * akp + c * akq
                for k in range(n):  # A <- Jᵀ A
                    apk, aqk = a[p, k], a[q, k]
                    a[p, k] = c * apk - s * aqk
                    a[q, k] = s * apk + c * aqk
                a[p, q] = 0.0
                a[q, p] = 0.0
                for k in range(n):  # V <- V J
                    vkp, vkq = v[k, p], v[k, q]
                    v[k, p] = c * vkp - s * vkq
                    v[k, q] = s * vkp + c * vkq


def _device_hessian_factor(dim, cells):
    """Device replacement of :func:`sim.noise._make_apply_hessian_factor`'s ``apply`` (LAPACK eigh):
    the same ``U diag(√((|λ|+floor)/B)) Uᵀ z`` with :func:`jacobi_eigh` on ``dim×dim`` local arrays."""
    from numba import float64

    d_hess, d_eigh = device_function(cells["hessian_fn"], dim), device_function(jacobi_eigh, dim)
    sweeps = JACOBI_SWEEPS

    def apply(x, z, lp, nzp, out, work):
        h = cuda.local.array((dim, dim), float64)
        u = cuda.local.array((dim, dim), float64)
        d_hess(x, lp, h)
        finite = True
        for i in range(dim):
            for j in range(dim):
                if not math.isfinite(h[i, j]):
                    finite = False
        if not finite:  # a path running off to infinity: NaN marks it diverged (as on the CPU)
            for i in range(dim):
                out[i] = math.nan
            return
        d_eigh(h, u, sweeps)
        inv_b, floor = nzp[0], nzp[1]
        for k in range(dim):  # h's first row: the scaled projections (its diagonal stays intact)
            proj = 0.0
            for j in range(dim):
                proj += u[j, k] * z[j]
            h[k, (k + 1) % dim] = math.sqrt((abs(h[k, k]) + floor) * inv_b) * proj
        for i in range(dim):
            acc = 0.0
            for k in range(dim):
                acc += u[i, k] * h[k, (k + 1) % dim]
            out[i] = acc

    return cuda.jit(device=True)(apply)


#: ``__qualname__`` of a CPU function without a device version → factory ``(dim, closure) -> device
#: fn``, ``closure`` mapping the CPU function's free-variable names to their values.
DEVICE_REPLACEMENTS = {"_make_apply_hessian_factor.<locals>.apply": _device_hessian_factor}


@lru_cache(maxsize=None)
def device_function(fn, dim: int):
    """The CUDA device function compiled from the numba CPU dispatcher ``fn``'s Python source.

    The dispatchers ``fn`` refers to, through its closure cells or its module's globals, are replaced
    by their own device versions (recursively, memoised), so a step built by the CPU factories
    (dynamics ``make_step``, noise ``bind``, landscape ``numba_functions``) becomes one device
    function tree with no CPU code left in it.  ``dim`` is the problem's dimension (a compile-time
    constant for the replacements in :data:`DEVICE_REPLACEMENTS`; part of the memo key).
    """
    _register_scalar_ufuncs()
    _register_stack_empty()
    py = fn.py_func if isinstance(fn, Dispatcher) else fn
    cells = tuple(c.cell_contents for c in (py.__closure__ or ()))
    replacement = DEVICE_REPLACEMENTS.get(py.__qualname__)
    if replacement is not None:
        return replacement(dim, dict(zip(py.__code__.co_freevars, cells)))

    def convert(value):
        return device_function(value, dim) if isinstance(value, Dispatcher) else value

    closure = tuple(types.CellType(convert(c)) for c in cells) if py.__closure__ else None
    g = py.__globals__
    used = [n for n in py.__code__.co_names if isinstance(g.get(n), Dispatcher)]
    if used:
        g = dict(g)
        for n in used:
            g[n] = convert(g[n])
    clone = types.FunctionType(py.__code__, g, py.__name__, py.__defaults__, closure)
    clone.__qualname__ = py.__qualname__
    return cuda.jit(device=True)(clone)


# ----------------------------------------------------------------------------------------------
# the kernels
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def make_cuda_kernels(step, step_coefficients, exit_label, dim, n_aux, n_z, n_coef, n_work, precision):
    """``(coefficients_kernel, step_kernel)`` for one combination (see :func:`cuda_kernels_for`).

    ``coefficients_kernel[blocks, threads](k_begin, dp, table, n_alive)`` fills ``table[k - k_begin]``
    with the dynamics' per-step coefficients (computed once per step, as the CPU kernel does per
    block) and zeroes the alive counter;
    ``step_kernel[blocks, threads](...)`` advances every alive path of the chunk from step
    ``k_begin`` to ``k_end`` (see :meth:`FusedCudaBackend.simulate_chunk` for the arguments).
    """
    from numba import float32, float64

    fdt = float64 if precision == "float64" else float32
    d_step = device_function(step, dim)
    d_coef = device_function(step_coefficients, dim)
    d_exit = device_function(exit_label, dim)
    d_normals = device_function(philox_normals, dim)
    n_a, n_zz, n_w = max(1, n_aux), max(1, n_z), max(1, n_work)

    @cuda.jit
    def coefficients_kernel(k_begin, dp, table, n_alive):
        i = cuda.grid(1)
        if i == 0:
            n_alive[0] = 0  # reset for the step kernel that follows on the same stream
        if i < table.shape[0]:
            d_coef(k_begin + i, dp, table[i])

    @cuda.jit
    def step_kernel(x_st, aux_st, w_st, alive_st, k_begin, k_end, j_begin, save_steps, ctab,
                    lp, nzp, dp, ep, key0, key1, path_start, saved, exit_step, exit_lab,
                    diverged_step, n_record, record_every, record, n_alive):
        p = cuda.grid(1)
        if p >= x_st.shape[0] or alive_st[p] == 0:
            return
        x = cuda.local.array(dim, fdt)
        aux = cuda.local.array(n_a, fdt)
        z = cuda.local.array(n_zz, fdt)
        g = cuda.local.array(dim, fdt)
        xi = cuda.local.array(dim, fdt)
        w = cuda.local.array(n_w, fdt)
        for i in range(dim):
            x[i] = x_st[p, i]
        for i in range(n_a):
            aux[i] = aux_st[p, i]
        for i in range(n_w):
            w[i] = w_st[p, i]
        gp = path_start + p
        n_save = save_steps.shape[0]
        j = j_begin
        alive = True
        for k in range(k_begin, k_end + 1):
            d_normals(key0, key1, gp, k, z[:n_z])
            d_step(x, aux[:n_aux], z[:n_z], ctab[k - k_begin], lp, nzp, dp, g, xi, w)
            finite = True
            for i in range(dim):
                if not math.isfinite(x[i]):
                    finite = False
            j_end = j
            while j_end < n_save and save_steps[j_end] == k:
                j_end += 1
            if not finite:
                diverged_step[p] = k
                alive = False
                break
            for jj in range(j, j_end):
                for i in range(dim):
                    saved[p, jj, i] = x[i]
            j = j_end
            if gp < n_record and k % record_every == 0:
                for i in range(dim):
                    record[p, k // record_every, i] = x[i]
            lab = d_exit(x, ep)
            if lab != 0:
                exit_step[p] = k
                exit_lab[p] = lab
                alive = False
                break
        for i in range(dim):
            x_st[p, i] = x[i]
        for i in range(n_a):
            aux_st[p, i] = aux[i]
        for i in range(n_w):
            w_st[p, i] = w[i]
        if alive:
            cuda.atomic.add(n_alive, 0, 1)
        else:
            alive_st[p] = 0

    return coefficients_kernel, step_kernel


def cuda_kernels_for(problem, bound_noise=None, precision: str = "float64"):
    """The CUDA kernels of ``problem``'s combination: the same per-step pieces as the numba CPU kernel
    (:func:`sim.backends.numba_backend.kernel_pieces`), compiled for the device."""
    if bound_noise is None:
        bound_noise = problem.noise.bind(problem.landscape)
    return make_cuda_kernels(*kernel_pieces(problem, bound_noise), precision)


def compile_ptx(problem, precision: str = "float64", cc=(9, 0)) -> str:
    """PTX of ``problem``'s step kernel for compute capability ``cc``, compiled without a device.

    Needs the CUDA toolkit's NVVM (``libnvvm``) and NVRTC libraries (e.g. the ``nvidia-cuda-nvrtc``
    wheel); not available in the simulator.  The signature is that of the launch in
    :meth:`FusedCudaBackend.simulate_chunk`.
    """
    if simulator_active():
        raise RuntimeError("compile_ptx needs the real numba-cuda target (NUMBA_ENABLE_CUDASIM is set)")
    from numba import float32, float64, int8, int64, uint64
    from numba.cuda import dispatcher as cuda_dispatcher

    _, step_kernel = cuda_kernels_for(problem, precision=precision)
    f = float64 if precision == "float64" else float32
    a2, a3, i1 = f[:, :], f[:, :, :], int64[:]
    sig = (a2, a2, a2, int8[:], int64, int64, int64, i1, float64[:, :], float64[:], float64[:],
           float64[:], float64[:], uint64, uint64, int64, a3, i1, i1, i1, int64, int64, a3, int64[:])

    # Device functions ask the current device for its compute capability while they are typed;
    # without a device (the point of this function) it is given: ``cc``.
    current = cuda_dispatcher.get_current_device
    cuda_dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=tuple(cc))
    try:
        ptx, _ = cuda.compile_ptx(step_kernel.py_func, sig, cc=cc)
    finally:
        cuda_dispatcher.get_current_device = current
    return ptx


# ----------------------------------------------------------------------------------------------
# the backend
# ----------------------------------------------------------------------------------------------
_PRECISIONS = {"float64": np.float64, "float32": np.float32}


class FusedCudaBackend:
    """Fused numba-cuda kernels on a CUDA device (``"torch:cuda"``, ``"torch:cuda:1"``) or in
    numba-cuda's simulator (``"cuda-sim"``).  Philox streams only.

    ``stats`` counts, over the backend's life, ``launches``, ``host_syncs`` (one per step window),
    ``steps`` (step indices run, summed over chunks) and ``chunks``: the evidence that the step loop
    never synchronises (``host_syncs <= steps / STEPS_PER_LAUNCH + chunks``); ``kernel_s`` is the
    time from each chunk's first launch to its last synchronisation (what ``benchmarks/bench_gpu.py``
    reports as kernel throughput).  ``run_ensemble`` copies them into ``metadata["backend_stats"]``.
    """

    rngs = ("philox",)

    def __init__(self, device: str = "cuda", precision: str = "float64", rng: str | None = None,
                 simulator: bool = False, steps_per_launch: int = STEPS_PER_LAUNCH,
                 threads_per_block: int = THREADS_PER_BLOCK):
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {sorted(_PRECISIONS)}, got {precision!r}")
        if rng not in (None, "philox"):
            raise ValueError(f"rng={rng!r}: the fused GPU backend draws from counter-based Philox streams "
                             "only (rng='philox'); the xoshiro streams are sequential per path")
        if int(steps_per_launch) < 64:
            raise ValueError(f"steps_per_launch must be >= 64, got {steps_per_launch}")
        if simulator and not simulator_active():
            raise RuntimeError("backend 'cuda-sim' runs numba-cuda's simulator: set NUMBA_ENABLE_CUDASIM=1 "
                               "before numba-cuda is first imported")
        if not simulator:
            if simulator_active():
                raise RuntimeError(f"backend 'torch:{device}' needs a CUDA device, but numba-cuda runs its "
                                   "simulator (NUMBA_ENABLE_CUDASIM=1); use backend='cuda-sim' for it")
            if not cuda.is_available():
                raise RuntimeError(f"backend 'torch:{device}' asked for, but numba-cuda sees no CUDA device")
        self.device_index = int(device.split(":", 1)[1]) if ":" in device else 0
        self.simulator, self.precision, self.rng = simulator, precision, "philox"
        self.dtype = _PRECISIONS[precision]
        self.steps_per_launch, self.threads = int(steps_per_launch), int(threads_per_block)
        self.name = "cuda-sim" if simulator else f"torch:cuda:{self.device_index}"
        self.stats = dict(launches=0, host_syncs=0, steps=0, chunks=0, kernel_s=0.0)
        self._buffers = {}

    def _upload(self, name, host):
        """``host`` on the device, in the buffer ``name`` when one of the same shape and type exists
        (chunks of equal size reuse their device memory instead of queueing frees)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != host.shape or buf.dtype != host.dtype or host.size == 0:
            buf = self._buffers[name] = cuda.to_device(np.ascontiguousarray(host))
        else:
            buf.copy_to_device(np.ascontiguousarray(host))
        return buf

    def simulate_chunk(self, problem, bound_noise, path_start, out, n_steps, save_steps, seed,
                       n_record, record_every):
        if self.simulator:
            self._run(problem, bound_noise, path_start, out, n_steps, save_steps, seed, n_record,
                      record_every)
        else:
            with cuda.gpus[self.device_index]:
                self._run(problem, bound_noise, path_start, out, n_steps, save_steps, seed,
                          n_record, record_every)

    def _run(self, problem, bound_noise, path_start, out, n_steps, save_steps, seed, n_record,
             record_every):
        pieces = kernel_pieces(problem, bound_noise)
        coef_kernel, step_kernel = make_cuda_kernels(*pieces, self.precision)
        n, dim = out.saved.shape[0], problem.dim
        n_aux, n_work, n_coef = pieces[4], pieces[7], pieces[6]
        f = self.dtype
        x0 = np.asarray(problem.x0, f)
        save_steps = np.ascontiguousarray(save_steps, np.int64)
        j0 = int(np.searchsorted(save_steps, 1))  # saves at step 0 are the start
        saved_h = np.full(out.saved.shape, np.nan, f)
        saved_h[:, :j0] = x0
        n_rec = max(0, min(n, n_record - path_start))
        rec_h = np.full((max(1, n_rec), max(1, out.record.shape[1]), dim), np.nan, f)
        if n_rec:
            rec_h[:, 0] = x0
        d = self._upload
        x_st = d("x", np.tile(x0, (n, 1)))
        aux_st = d("aux", np.tile(np.asarray(problem.initial_state, f).reshape(1, -1), (n, 1))
                   if n_aux else np.zeros((n, 1), f))
        w_st = d("w", np.full((n, max(1, n_work)), np.nan, f))
        alive = d("alive", np.ones(n, np.int8))
        saved = d("saved", saved_h)
        exit_step, exit_lab = d("exit_step", out.exit_step), d("exit_label", out.exit_label)
        div_step = d("diverged_step", out.diverged_step)
        record = d("record", rec_h)
        lp, nzp, dp, ep = (d(name, np.ascontiguousarray(a, np.float64)) for name, a in
                           (("lp", problem.landscape.params), ("nzp", bound_noise.params),
                            ("dp", problem.dynamics.params), ("ep", problem.exit.params)))
        steps_d = d("save_steps", save_steps)
        k0, k1 = (np.uint64(v) for v in philox_key(seed))
        tpb = self.threads
        blocks = -(-n // tpb)
        ctab = cuda.device_array((self.steps_per_launch, max(1, n_coef)), np.float64)
        n_alive = cuda.device_array(1, np.int64)
        self.stats["chunks"] += 1
        t0 = time.perf_counter()
        for k_begin in range(1, n_steps + 1, self.steps_per_launch):
            k_end = min(n_steps, k_begin + self.steps_per_launch - 1)
            width = k_end - k_begin + 1
            coef_kernel[-(-width // tpb), tpb](np.int64(k_begin), dp, ctab[:width], n_alive)
            j_begin = int(np.searchsorted(save_steps, k_begin))
            step_kernel[blocks, tpb](x_st, aux_st, w_st, alive, np.int64(k_begin), np.int64(k_end),
                                     np.int64(j_begin), steps_d, ctab, lp, nzp, dp, ep, k0, k1,
                                     np.int64(path_start), saved, exit_step, exit_lab, div_step,
                                     np.int64(n_record), np.int64(record_every), record, n_alive)
            self.stats["launches"] += 2
            self.stats["steps"] += width
            self.stats["host_syncs"] += 1
            if int(n_alive.copy_to_host()[0]) == 0:  # the one synchronisation per window
                break
        self.stats["kernel_s"] += time.perf_counter() - t0
        if f is np.float64:
            saved.copy_to_host(out.saved)
        else:
            out.saved[:] = saved.copy_to_host()
        exit_step.copy_to_host(out.exit_step)
        exit_lab.copy_to_host(out.exit_label)
        div_step.copy_to_host(out.diverged_step)
        if n_rec:
            out.record[path_start:path_start + n_rec] = record.copy_to_host()
