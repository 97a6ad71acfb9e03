r"""The ``"torch"`` backend (``"torch:cpu"``): the op-by-op reference of the numba streams in torch.

Imported only when ``backend="torch"`` (or ``"torch:cpu"``) is asked for; ``import sim`` never
imports torch.  It runs the NumPy reference formulas op by op on tensors and reproduces the
xoshiro/ziggurat streams bit for bit, which makes it the torch-side correctness reference, not a fast
path: per normal it launches ~20 elementwise kernels and synchronises once.  ``"torch:cuda"`` is the
fused GPU path instead (:mod:`sim.backends.cuda_backend`, Philox streams); this class still accepts a
CUDA ``device`` when constructed directly.

* **Same random numbers as the numba kernels.** Each path's xoshiro256** stream
  (:mod:`sim.backends.rng`) is reproduced with int64 tensor arithmetic (wrapping multiplication, logical
  shifts by masking), so torch, numba and the NumPy reference draw bit-identical integer streams for
  the same ``(seed, path)``.  The ziggurat's fast path (an integer comparison and a multiplication)
  runs on the device; the ≈ 1 % of draws it rejects are finished on the CPU by the kernels' own
  compiled slow path (:func:`sim.backends.rng.finish_normals`), so the normals are bit-identical too and
  results do not depend on chunk size.  Normals are formed in float64 and cast to the working
  precision.
* **Same updates as the NumPy reference.** Each step calls the dynamics' ``numpy_step`` on tensors
  (it is written against the shared NumPy/torch namespace, :mod:`sim._xp`), so no formula exists
  twice.
* **Few host synchronisations.** All paths of a chunk advance together; paths that have
  exited or diverged are frozen with ``where`` instead of being compacted, and the chunk stops early
  (checked every :data:`SYNC_EVERY` steps) once no path is alive.  The one synchronisation per
  normal drawn is the ziggurat's: which paths' draws were rejected (see above).
* **Precision.** ``float64`` (default) or ``float32`` (``run_ensemble(..., precision="float32")``);
  the precision is stored in every result's metadata.

Memory is bounded by :func:`sim.run_ensemble`'s ``chunk_size``: per chunk the device holds the
state, four int64 stream words per path and the saved states.
"""
from __future__ import annotations

import numpy as np

from .base import check_rng
from .rng import _ZIG_KI, _ZIG_WI, finish_normals

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("the torch backend needs torch: pip install 'optdyn[torch]' "
                      "(CPU build: pip install torch==2.13.0)") from exc

__all__ = ["TorchBackend", "TorchPathStreams", "SYNC_EVERY"]

#: Steps between checks whether any path of a chunk is still alive (one host sync each).
SYNC_EVERY = 64


def _signed(c: int) -> int:
    """The uint64 constant ``c`` as the int64 with the same bits."""
    return c - (1 << 64) if c >= 1 << 63 else c


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)
_MASK52 = (1 << 52) - 1


def _shr(x, k: int):
    """Logical right shift of int64 bit patterns."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _rotl(x, k: int):
    return (x << k) | _shr(x, 64 - k)


def _mix(z):
    z = (z ^ _shr(z, 30)) * _MIX1
    z = (z ^ _shr(z, 27)) * _MIX2
    return z ^ _shr(z, 31)


class TorchPathStreams:
    """xoshiro256** streams of paths ``path_start …`` as int64 tensors, and their ziggurat normals,
    bit-identical to :mod:`sim.backends.rng` (integers and normals).

    ``n_slow`` counts the normals that took the ziggurat's slow path (diagnostics).
    """

    def __init__(self, seed: int, path_start: int, n_paths: int, device):
        paths = torch.arange(path_start, path_start + n_paths, dtype=torch.int64, device=device)
        base = _mix(torch.tensor(_signed((seed + 0x9E3779B97F4A7C15) % (1 << 64)), dtype=torch.int64,
                                 device=device))
        z = base ^ (paths * _GOLDEN)
        words = []
        for _ in range(4):
            z = z + _GOLDEN
            words.append(_mix(z))
        self.s = words
        self.device = torch.device(device)
        # ziggurat tables (k < 2**52 fits int64)
        self._ki = torch.as_tensor(_ZIG_KI.astype(np.int64), device=device)
        self._wi = torch.as_tensor(_ZIG_WI, device=device)
        self.n_slow = 0

    def next_u64(self):
        s0, s1, s2, s3 = self.s
        result = _rotl(s1 * 5, 7) * 9
        t = s1 << 17
        s2 = s2 ^ s0
        s3 = s3 ^ s1
        s1 = s1 ^ s2
        s0 = s0 ^ s3
        s2 = s2 ^ t
        s3 = _rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def normals(self, n: int, dtype):
        """``(n_paths, n)`` standard normals (ziggurat, one per draw call), cast to ``dtype``.

        Per normal: one 64-bit draw and the fast path for every path on the device, then the
        rejected paths (≈ 1 %) are moved to the CPU and finished by the kernels' compiled slow path
        (:func:`sim.backends.rng.finish_normals`), which advances each one's own state.  Knowing which
        paths were rejected costs one host synchronisation per normal.
        """
        cols = []
        for _ in range(n):
            r = self.next_u64()
            idx = r & 0xFF
            rabs = _shr(r, 9) & _MASK52
            x = rabs.to(torch.float64) * self._wi[idx]
            x = torch.where((_shr(r, 8) & 1) != 0, -x, x)
            bad = torch.nonzero(rabs >= self._ki[idx]).squeeze(1)
            m = int(bad.numel())
            if m:
                st = torch.stack([w[bad] for w in self.s], dim=1).cpu().numpy().copy().view(np.uint64)
                vals = np.empty(m)
                finish_normals(st, r[bad].cpu().numpy().view(np.uint64), vals)
                st_t = torch.from_numpy(st.view(np.int64)).to(self.device)
                for w in range(4):
                    self.s[w][bad] = st_t[:, w]
                x[bad] = torch.from_numpy(vals).to(self.device)
                self.n_slow += m
            cols.append(x)
        return torch.stack(cols, dim=1).to(dtype)


_PRECISIONS = {"float64": torch.float64, "float32": torch.float32}


class TorchBackend:
    """torch backend.  ``device`` is any torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``)."""

    name = "torch"
    rngs = ("xoshiro",)

    def __init__(self, device: str = "cpu", precision: str = "float64", rng: str | None = None):
        self.rng = check_rng(self, rng)
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {sorted(_PRECISIONS)}, got {precision!r}")
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"backend 'torch:{device}' asked for, but torch sees no CUDA device "
                               f"(torch {torch.__version__}, built with CUDA: {torch.version.cuda})")
        self.device, self.precision, self.dtype = dev, precision, _PRECISIONS[precision]
        self.name = f"torch:{dev}"

    def simulate_chunk(self, problem, bound_noise, path_start, out, n_steps, save_steps, seed,
                       n_record, record_every):
        dev, dt = self.device, self.dtype
        n, dim = out.saved.shape[0], problem.dim
        land, noise, dyn, ex = problem.landscape, problem.noise, problem.dynamics, problem.exit
        x = torch.as_tensor(problem.x0, dtype=dt, device=dev).expand(n, dim).clone()
        aux = torch.as_tensor(problem.initial_state, dtype=dt, device=dev).expand(n, -1).clone()
        streams = TorchPathStreams(seed, path_start, n, dev)
        alive = torch.ones(n, dtype=torch.bool, device=dev)
        exit_step = torch.full((n,), -1, dtype=torch.int64, device=dev)
        exit_lab = torch.zeros(n, dtype=torch.int64, device=dev)
        div_step = torch.full((n,), -1, dtype=torch.int64, device=dev)
        saved = torch.full((n, save_steps.size, dim), float("nan"), dtype=dt, device=dev)
        nan = torch.tensor(float("nan"), dtype=dt, device=dev)
        save_at = {}
        for j, k in enumerate(save_steps.tolist()):
            save_at.setdefault(k, []).append(j)
        for j in save_at.get(0, []):
            saved[:, j] = x
        n_rec = max(0, min(n, n_record - path_start))
        rec = None
        if n_rec:
            rec = torch.full((n_rec, out.record.shape[1], dim), float("nan"), dtype=dt, device=dev)
            rec[:, 0] = x[:n_rec]
        n_z = dyn.normals_per_step(dim)
        for k in range(1, n_steps + 1):
            z = streams.normals(n_z, dt)
            xn, auxn = dyn.numpy_step(x, aux, z, k, land, noise)
            finite = torch.isfinite(xn).all(dim=1)
            div_step = torch.where(alive & ~finite, k, div_step)
            alive = alive & finite
            x = torch.where(alive[:, None], xn, x)
            if aux.shape[1]:
                aux = torch.where(alive[:, None], auxn, aux)
            for j in save_at.get(k, ()):
                saved[:, j] = torch.where(alive[:, None], x, nan)
            if rec is not None and k % record_every == 0:
                rec[:, k // record_every] = torch.where(alive[:n_rec, None], x[:n_rec], nan)
            lab = ex.label(x)
            hit = alive & (lab != 0)
            exit_step = torch.where(hit, k, exit_step)
            exit_lab = torch.where(hit, lab, exit_lab)
            alive = alive & ~hit
            if k % SYNC_EVERY == 0 and not bool(alive.any()):
                break
        out.saved[:] = saved.cpu().numpy()
        out.exit_step[:] = exit_step.cpu().numpy()
        out.exit_label[:] = exit_lab.cpu().numpy()
        out.diverged_step[:] = div_step.cpu().numpy()
        if rec is not None:
            out.record[path_start:path_start + n_rec] = rec.cpu().numpy()
