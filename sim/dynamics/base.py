r"""What every dynamics shares: :class:`DynamicsBase` (the contract), named parameter slots, the
discrete-optimizer base with its one step factory, and small helpers (validation, bias corrections,
the quadratic parts of an exact affine model).

A dynamics object says *what* update a path performs each step; the ensemble kernel
(:mod:`sim.backends.numba_backend`) says *how* paths are run.  The compiled step has the signature
``step(x, aux, z, c, lp, nzp, dp, g, xi, w)`` and advances one path in place: ``x`` is the position
``(dim,)``, ``aux`` the optimizer state (momentum, …; empty for SGD), ``z`` the standard normals of
this step (``normals_per_step(dim)`` of them), ``c`` the step's coefficients (what depends on the
1-based step index only, e.g. Adam's bias corrections; filled once per step for a block of paths),
``lp``/``nzp``/``dp`` the landscape, noise and dynamics parameters, ``g`` and ``xi`` scratch vectors
of length ``dim``, ``w`` a scratch vector of length ``work_size(dim)`` + the bound noise's ``work``,
whose first ``work_size(dim)`` entries the step may use and whose rest it passes to the noise
function (nothing is allocated per step).

Time: one optimizer iteration advances continuous time by :math:`\eta` (docs/theory.md §0), so a
discrete optimizer has ``dt = lr``; an SDE is integrated with its own step ``dt``.

References
----------
docs/theory.md §3 (discrete updates) and §4 (continuous models).
"""
from __future__ import annotations

from collections import namedtuple
from functools import lru_cache

import numpy as np

from .. import _validation as V
from .._jit import jit

__all__ = ["DynamicsBase", "DiscreteOptimizerBase", "slots", "pack", "no_step_coefficients",
           "make_stochastic_gradient", "make_discrete_step", "numpy_stochastic_gradient"]


# ----------------------------------------------------------------------------------------------
# named slots
# ----------------------------------------------------------------------------------------------
def slots(*names: str):
    """Named positions ``0 … n-1`` of a parameter vector: a namedtuple of ints.

    Declare it once per dynamics at module level (``P = slots("lr", "beta1")``) and read the
    vector by name in compiled code (``dp[P.beta1]``): numba freezes a global tuple of ints into
    compile-time constants, so ``dp[P.beta1]`` compiles to the same machine code as ``dp[1]``
    (checked on the assembly of a small function, and by the throughput of
    ``benchmarks/bench_optimizers.py``, unchanged).  Build the vector with :func:`pack`.
    """
    if len(set(names)) != len(names):
        raise ValueError(f"slot names must be unique, got {names}")
    return namedtuple("Slots", names)(*range(len(names)))


def pack(slot_names, **values) -> np.ndarray:
    """The float vector with ``values[name]`` at slot ``slot_names.name``; every slot exactly once."""
    fields = slot_names._fields
    if set(values) != set(fields):
        raise TypeError(f"pack needs exactly the slots {fields}; missing "
                        f"{sorted(set(fields) - set(values))}, unknown {sorted(set(values) - set(fields))}")
    out = np.empty(len(fields))
    for name, i in zip(fields, slot_names):
        out[i] = float(values[name])
    return out


@jit(inline=True)
def no_step_coefficients(k, dp, c):
    """The default per-step coefficients: a step that does not depend on its index."""
    return None


# ----------------------------------------------------------------------------------------------
# the contract
# ----------------------------------------------------------------------------------------------
class DynamicsBase:
    """Abstract dynamics: a discrete optimizer or a continuous model (SDE) of one.

    **The contract.**  A new dynamics is one module in :mod:`sim.dynamics` that provides:

    1. ``kind``: ``"discrete"`` (an optimizer's real update; ``dt = lr``) or ``"sde"`` (a
       continuous model integrated with its own ``dt``); attributes ``lr`` and ``dt``.
    2. ``hyper``: the names of the constructor's arguments, each stored as an attribute of the same
       name (``dt`` excluded).  ``describe()``, ``repr`` (which ``eval`` turns back into an equal
       dynamics) and ``with_dt`` are built from it.
    3. Validation in ``__init__``: every argument checked by name with :mod:`sim._validation`
       (a ``ValueError`` naming the parameter and its allowed range, a ``TypeError`` for a wrong
       type) before anything is compiled or run.
    4. ``param_slots = slots("lr", ...)``: the named layout of ``params``, declared once at module
       level; ``__init__`` sets ``self.params = self.pack_params(lr=..., ...)`` and compiled code
       reads ``dp[P.name]``, never a bare index.
    5. The compiled step, declared on the class as data (all factories are ``lru_cache``-d and return
       numba dispatchers that close only over other dispatchers, ints, floats and tuples):

       * a discrete optimizer (:class:`DiscreteOptimizerBase`) declares ``update``, a compiled
         ``update(x, aux, g, c, dp)`` that receives the stochastic gradient ``g`` (the base
         class draws it, as SGD does) and updates ``x`` and ``aux`` in place;
       * an underdamped SDE (:class:`sim.dynamics.underdamped.UnderdampedSDEBase`) declares
         ``coefficients_factory`` (damping rates and preconditioner at a point);
       * anything else overrides ``make_step(gradient_fn, noise_fn)``.
    6. Per-step coefficients (optional): ``coefficient_slots = slots(...)`` and
       ``step_coefficients_rule``, a compiled ``rule(k, dp, c)`` filling ``c[C.name]`` at the
       1-based step ``k``; ``n_step_coefficients`` follows from the slots.
    7. The state layout: ``state_size(dim)``, ``initial_state(dim)``, ``normals_per_step(dim)``,
       ``work_size(dim)`` (defaults: no state, ``dim`` normals, no scratch), and builders such as
       ``state_with_momentum`` for non-default starts, documented in the class docstring.
    8. ``numpy_step(x, aux, z, k, landscape, noise)``: the same update vectorised over paths,
       written independently of the compiled step with operations NumPy and torch share
       (:mod:`sim._xp`); the NumPy and torch backends run it, and tests compare it path by path.
    9. The other side of docs/theory.md §4: ``continuous(dt=None)`` for a discrete optimizer (its SDE
       model), ``discrete()`` for an SDE; a ``ValueError`` saying why where no model holds.
    10. Optional closed forms: ``affine_model`` (exact moments of an affine update),
        ``linear_sde``, ``drift_diffusion``; ``torch_reference()`` naming the ``torch.optim``
        optimizer it reproduces step for step (checked to 1e-12), or None.
    11. Registration: decorate the class with :func:`sim.dynamics.registry.register`, giving
        example keyword arguments (several settings) and bad ones with the parameter name the error
        must contain, and import the module in ``sim/dynamics/__init__.py`` (one line).  The
        contract tests (``tests/sim/test_dynamics_contract.py``) then run over it: compiled vs
        NumPy path by path, numba vs NumPy and torch backends, chunk and thread independence,
        bad input, ``describe``/``repr``, the continuous model.
    """

    #: "discrete" (an optimizer's real update) or "sde" (its continuous model).
    kind: str
    lr: float
    dt: float
    params: np.ndarray
    #: Names of the constructor arguments (attributes of the same name); ``dt`` excluded.
    hyper: tuple = ("lr",)
    #: Named layout of ``params`` (:func:`slots`).
    param_slots = None
    #: Named layout of the per-step coefficients ``c`` (:func:`slots`); none by default.
    coefficient_slots = slots()
    #: Compiled ``rule(k, dp, c)`` filling ``c`` at 1-based step ``k``.
    step_coefficients_rule = staticmethod(no_step_coefficients)
    #: Weak order of the integration scheme of an SDE model on quadratics with constant noise
    #: (None for a discrete optimizer, whose update is exact by definition).
    weak_order: int | None = None

    # -- parameters ----------------------------------------------------------------------------
    def pack_params(self, **values) -> np.ndarray:
        """``params`` from keyword values, one per name of ``param_slots``."""
        return pack(type(self).param_slots, **values)

    def _hyper(self) -> dict:
        return {name: getattr(self, name) for name in self.hyper}

    # -- state -----------------------------------------------------------------------------------
    def state_size(self, dim: int) -> int:
        """Length of the per-path optimizer state ``aux``."""
        return 0

    def initial_state(self, dim: int) -> np.ndarray:
        """The per-path optimizer state at step 0."""
        return np.zeros(self.state_size(dim))

    def velocity_map(self, dim: int) -> np.ndarray | None:
        r"""``(dim, state_size)`` matrix :math:`V` with the velocity :math:`d\theta/dt \approx V\,`aux
        (continuous time, ``t = k·dt``), or ``None`` when the state carries no velocity (SGD, the
        overdamped models, Adam's preconditioned moment).  Rare-event sampling reads it to build a
        phase-space reaction coordinate (:func:`sim.rare.default_coordinate`)."""
        return None

    def normals_per_step(self, dim: int) -> int:
        """Standard normals a path draws per step (the length of ``z``); ``dim`` by default.

        A scheme that needs more randomness per step (e.g. the underdamped integrator, which
        samples the velocity and its time integral) returns more; both the numba kernel and the
        NumPy reference draw exactly this many, in order, from the path's stream.
        """
        return dim

    @property
    def n_step_coefficients(self) -> int:
        """Length of the per-step coefficient vector ``c``."""
        return len(type(self).coefficient_slots)

    def work_size(self, dim: int) -> int:
        """Scratch entries the compiled step uses itself (before the noise function's).  The
        kernel gives each path its own scratch, filled with NaN before the first step and kept
        across steps (a step may cache in it what depends only on values it can compare)."""
        return 0

    def scratch(self, dim: int, bound_noise) -> np.ndarray:
        """A scratch vector ``w`` (NaN-filled) for calling the compiled step from Python."""
        return np.full(max(1, self.work_size(dim) + bound_noise.work), np.nan)

    # -- compiled pieces ---------------------------------------------------------------------------
    @classmethod
    def make_step(cls, gradient_fn, noise_fn):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def make_step_coefficients(cls):
        """The compiled ``step_coefficients(k, dp, c)`` of this class."""
        return cls.step_coefficients_rule

    def step_coefficients(self, k: int) -> np.ndarray:
        """The coefficients ``c`` the compiled step reads at 1-based step ``k`` (for calling a
        compiled step from Python, as the tests do); at least one element."""
        c = np.zeros(max(1, self.n_step_coefficients))
        type(self).make_step_coefficients()(np.int64(k), self.params, c)
        return c

    def numpy_step(self, x, aux, z, k, landscape, noise):  # pragma: no cover - abstract
        raise NotImplementedError

    def affine_model(self, landscape, noise):
        raise NotImplementedError(f"{type(self).__name__} is not an affine update (its step depends "
                                  "nonlinearly on the gradient); only Momentum and SGD have an "
                                  "exact affine model")

    def torch_reference(self):
        """``(name, kwargs)`` of the ``torch.optim`` optimizer this update reproduces step for step,
        or None."""
        return None

    # -- metadata ----------------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"class": type(self).__name__, "kind": self.kind, "lr": self.lr, "dt": self.dt,
                **self._hyper()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        dt = f", dt={self.dt!r}" if self.kind == "sde" else ""
        return f"{type(self).__name__}({args}{dt})"

    def with_dt(self, dt: float) -> "DynamicsBase":
        """The same continuous model integrated with step ``dt`` (SDE models only)."""
        if self.kind != "sde":
            raise ValueError(f"{type(self).__name__} is a discrete optimizer: its step is its learning rate")
        return type(self)(**self._hyper(), dt=dt)


# ----------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------
def beta(name: str, value) -> float:
    """A decay rate in ``[0, 1)``."""
    return V.in_range(name, value, 0.0, 1.0)


def flag(name: str, value) -> bool:
    """A bool argument (``TypeError`` naming it otherwise)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def quadratic_parts(landscape, noise):
    """``(H, c, C)`` of a quadratic landscape with position-independent noise, else an error."""
    if not landscape.constant_hessian:
        raise ValueError("an exact affine model needs a quadratic landscape (constant Hessian)")
    x = landscape.center if hasattr(landscape, "center") else np.zeros(landscape.dim)
    return landscape.hessian(x), x, noise.covariance(x, landscape)


def log_beta(b: float) -> float:
    r""":math:`\log\beta` (``-inf`` for :math:`\beta = 0`), stored in the parameter arrays."""
    return float(np.log(b)) if b > 0.0 else -np.inf


def bias_correction(log_b: float, k) -> float:
    r""":math:`1 - \beta^k = -\mathrm{expm1}(k\log\beta)`.

    The same number as the reference implementations' ``1 - beta ** k`` (to round-off; more
    accurate for :math:`\beta` near 1), at the cost of one ``expm1`` instead of a ``pow``, which
    matters in the kernels.  ``k`` is the 1-based step; :math:`\beta = 0` gives 1.
    """
    return float(-np.expm1(k * log_b))


bias_correction_jit = jit(bias_correction, inline=True)


# ----------------------------------------------------------------------------------------------
# discrete optimizers: stochastic gradient + update
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def make_stochastic_gradient(gradient_fn, noise_fn):
    """Compiled ``sg(x, z, lp, nzp, g, xi, w)``: ``g = ∇L(x) + C(x)^{1/2} z`` (``w`` is the noise
    function's scratch)."""

    @jit(inline=True)
    def stochastic_gradient(x, z, lp, nzp, g, xi, w):
        gradient_fn(x, lp, g)
        noise_fn(x, z, lp, nzp, xi, w)
        for i in range(x.shape[0]):
            g[i] += xi[i]

    return stochastic_gradient


@lru_cache(maxsize=None)
def make_discrete_step(gradient_fn, noise_fn, update):
    """The compiled step of a discrete optimizer: draw the stochastic gradient, then
    ``update(x, aux, g, c, dp)`` (the one piece an optimizer declares)."""
    sg = make_stochastic_gradient(gradient_fn, noise_fn)

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        sg(x, z, lp, nzp, g, xi, w)
        update(x, aux, g, c, dp)

    return step


def numpy_stochastic_gradient(x, z, landscape, noise):
    """``g = ∇L(x) + C(x)^{1/2} z`` for ``x, z`` of shape ``(n_paths, dim)`` (NumPy or torch)."""
    return landscape.gradient(x) + noise.apply(x, z, landscape)


class DiscreteOptimizerBase(DynamicsBase):
    """Shared plumbing of the discrete optimizers: ``dt = lr``, a state of ``n_blocks`` blocks of
    ``dim`` and the compiled step assembled from the class's ``update`` (contract item 5)."""

    kind = "discrete"
    #: number of ``dim``-blocks in ``aux``
    n_blocks: int = 0
    #: compiled ``update(x, aux, g, c, dp)``
    update = None

    def state_size(self, dim: int) -> int:
        return self.n_blocks * dim

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return make_discrete_step(gradient_fn, noise_fn, cls.update)

    def continuous(self, dt: float | None = None) -> DynamicsBase:  # pragma: no cover - abstract
        """The continuous model of this optimizer (docs/theory.md §4)."""
        raise NotImplementedError

    def with_schedule(self, schedule=None, box=None):
        """This optimizer with a learning-rate ``schedule`` and/or a ``box=(lo, hi)`` projected onto
        after every step (:mod:`sim.schedules`, whose docstring has the API and an example)."""
        from ..schedules import scheduled_class  # noqa: PLC0415 (schedules imports this module)

        return scheduled_class(type(self))(self, schedule, box)
