r"""Learning-rate schedules and box constraints for every discrete optimizer.

A schedule multiplies the optimizer's learning rate by a factor :math:`f_k` at the 1-based step
:math:`k` (the convention of ``torch.optim.lr_scheduler.LambdaLR``): :math:`\eta_k = \eta f_k`, with
:math:`\eta` the optimizer's ``lr``.  The step :math:`k` uses :math:`\eta_k` wherever the optimizer's
update reads its learning rate (Adam's step size, AdaMod's :math:`\eta_k` and its running average
:math:`s`, AdaiW's decoupled decay …), exactly as the reference implementations do when a scheduler
changes ``group["lr"]`` before the step.

==========================  ================================================  =====================
schedule                    factor :math:`f_k` (:math:`k = 1, 2, …`)           rate
==========================  ================================================  =====================
``Constant()``              1                                                  :math:`\eta`
``InverseSqrt()``           :math:`1/\sqrt{k}`                                  :math:`\eta_0/\sqrt t`
``InverseSqrt(shift=1)``    :math:`1/\sqrt{k+1}`                                :math:`\eta_0/\sqrt{t+1}`
``StepDecay(s, gamma)``     :math:`\gamma^{\lfloor (k-1)/s\rfloor}`              ``StepLR``
``LinearWarmup(W)``         :math:`\min(1, k/W)`                               warm-up, then η
``FromArray(f)``            ``f[k-1]`` (a user array; the run may not be       any
                            longer than ``len(f)`` steps)
==========================  ================================================  =====================

**Time.**  One step advances continuous time by the learning rate it used (docs/theory.md §0), so
with a schedule :math:`t_k = \sum_{j\le k}\eta_j`: :func:`sim.run_ensemble` reads ``t_max`` and
``save_times`` on this axis and every result reports both the iterations (``result.steps``) and the
times (``result.times``; ``result.step_times`` is the whole axis).  ``dyn.time_at(k)`` gives
:math:`t_k`, so a run of exactly ``T`` iterations is ``run_ensemble(problem, n, dyn.time_at(T))``.

**Box.**  ``box=(lo, hi)`` (scalars or per-coordinate arrays) projects the position onto
:math:`[lo, hi]` after every step, coordinate by coordinate (Reddi, Kale, Kumar, "On the Convergence
of Adam and Beyond", ICLR 2018, arXiv 1904.09237: the projected setting of their counterexample).
For a box, the projection in the norm weighted by a diagonal preconditioner (:math:`\sqrt{\hat v}`
in Adam/AMSGrad) is the same clip, so one projection serves every optimizer.  The optimizer's state
(momentum, second moments) is not projected.  A non-finite coordinate stays non-finite, so
divergence is still detected.

Example::

    from optdyn import sim
    from optdyn.sim.schedules import InverseSqrt, LinearWarmup

    adam = sim.Adam(0.1).with_schedule(LinearWarmup(100))        # η_k = 0.1·min(1, k/100)
    sgd = sim.SGD(0.1).with_schedule(InverseSqrt(), box=(-1, 1))  # η_k = 0.1/√k, θ ∈ [-1, 1]
    problem = sim.Problem(landscape, noise, sgd, x0)
    r = sim.run_ensemble(problem, 1000, sgd.time_at(10_000), save_times=sgd.time_at([10, 100, 10_000]))
    r.steps, r.times                                              # iterations and t = Σ η_k

How it runs.  ``with_schedule`` returns a :class:`ScheduledOptimizer` wrapping the optimizer; its
class is made once per optimizer class (:func:`scheduled_class`), so the compiled kernel is found by
class as for any dynamics.  Its parameter vector is the optimizer's followed by the box and the
schedule; its per-step coefficients (computed once per block of paths and step by the kernel) are a
copy of the optimizer's parameters with ``lr`` replaced by :math:`\eta_k`, followed by the
optimizer's own coefficients computed from that copy.  The optimizer's unchanged compiled step reads
the copy as its parameters, so no optimizer knows about schedules and no kernel changed.  The NumPy
and torch references build the optimizer with ``lr = η_k`` at each step and call its ``numpy_step``
(independently of the compiled path); the tests compare them path by path.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _validation as V
from . import _xp
from ._jit import jit
from .dynamics.base import DiscreteOptimizerBase, DynamicsBase

__all__ = ["Schedule", "Constant", "InverseSqrt", "StepDecay", "LinearWarmup", "FromArray",
           "ScheduledOptimizer", "scheduled_class", "schedule_factor"]

# codes of the compiled factor function (the first entry of a packed schedule)
_CONSTANT, _INV_SQRT, _STEP, _WARMUP, _ARRAY = 0, 1, 2, 3, 4
#: a packed schedule: [code, p0, p1, n_array, array …]
_HEADER = 4


@jit(inline=True)
def schedule_factor(k, sp, o):
    r"""The factor :math:`f_k` of the schedule packed at ``sp[o:]`` (1-based step ``k``)."""
    code = sp[o]
    if code == _CONSTANT:
        return 1.0
    if code == _INV_SQRT:
        return 1.0 / np.sqrt(k + sp[o + 1])
    if code == _STEP:
        return sp[o + 2] ** float((k - 1) // np.int64(sp[o + 1]))
    if code == _WARMUP:
        return min(1.0, k / sp[o + 1])
    return sp[o + _HEADER + k - 1]


class Schedule:
    """A learning-rate factor :math:`f_k` (module docstring).  Subclasses set ``code`` and the two
    numbers ``p`` of the packed form and implement :meth:`factors` (the NumPy reference)."""

    code: int
    p: tuple = (0.0, 0.0)
    #: steps the schedule defines (None: all)
    max_steps: int | None = None

    def factors(self, k) -> np.ndarray:  # pragma: no cover - abstract
        """:math:`f_k` for 1-based steps ``k`` (an int array)."""
        raise NotImplementedError

    def packed(self) -> np.ndarray:
        """``[code, p0, p1, n_array, array …]``: what the compiled :func:`schedule_factor` reads."""
        arr = self._array()
        return np.concatenate([[float(self.code), *map(float, self.p), float(arr.size)], arr])

    def _array(self) -> np.ndarray:
        return np.zeros(0)

    def describe(self) -> dict:
        return {"class": type(self).__name__, **self._args()}

    def _args(self) -> dict:
        return {}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._args().items())})"

    def __eq__(self, other):
        return type(self) is type(other) and np.array_equal(self.packed(), other.packed())

    __hash__ = None


class Constant(Schedule):
    r""":math:`f_k = 1`: the optimizer's own constant rate."""

    code = _CONSTANT

    def factors(self, k):
        return np.ones(np.shape(k))


class InverseSqrt(Schedule):
    r""":math:`f_k = 1/\sqrt{k + \mathrm{shift}}`: :math:`\eta_0/\sqrt t` (shift 0, the rate of
    Theorem 4, docs/theory.md §5) or :math:`\eta_0/\sqrt{t+1}` (shift 1)."""

    code = _INV_SQRT

    def __init__(self, shift: float = 0.0):
        self.shift = V.positive("shift", shift, allow_zero=True)
        self.p = (self.shift, 0.0)

    def factors(self, k):
        return 1.0 / np.sqrt(np.asarray(k, np.int64) + self.shift)

    def _args(self):
        return {"shift": self.shift}


class StepDecay(Schedule):
    r""":math:`f_k = \gamma^{\lfloor (k-1)/s\rfloor}`: multiply the rate by ``gamma`` every
    ``step_size`` steps (``torch.optim.lr_scheduler.StepLR`` stepped once per iteration)."""

    code = _STEP

    def __init__(self, step_size: int, gamma: float = 0.1):
        self.step_size = V.positive_int("step_size", step_size)
        self.gamma = V.in_range("gamma", gamma, 0.0, 1.0, lo_open=True, hi_open=False)
        self.p = (float(self.step_size), self.gamma)

    def factors(self, k):
        return self.gamma ** ((np.asarray(k, np.int64) - 1) // self.step_size).astype(float)

    def _args(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


class LinearWarmup(Schedule):
    r""":math:`f_k = \min(1, k/W)`: a linear warm-up over ``W = warmup_steps`` steps (first step
    :math:`\eta/W`, full rate from step ``W`` on), then constant."""

    code = _WARMUP

    def __init__(self, warmup_steps: int):
        self.warmup_steps = V.positive_int("warmup_steps", warmup_steps)
        self.p = (float(self.warmup_steps), 0.0)

    def factors(self, k):
        return np.minimum(1.0, np.asarray(k, np.int64) / float(self.warmup_steps))

    def _args(self):
        return {"warmup_steps": self.warmup_steps}


class FromArray(Schedule):
    r""":math:`f_k` = ``factors[k-1]``, a user array of positive factors; a run may not be longer
    than ``len(factors)`` steps (``t_max`` beyond :math:`t_{len}` raises).  For absolute rates
    :math:`\eta_k` use an optimizer with ``lr=1``."""

    code = _ARRAY

    def __init__(self, factors):
        f = V.finite_array("factors", factors, ndim=1)
        if f.size == 0 or np.any(f <= 0):
            raise ValueError("factors must be a non-empty 1-D array of positive learning-rate factors")
        self.values = f
        self.max_steps = int(f.size)

    def factors(self, k):
        k = np.asarray(k, np.int64)
        if np.any((k < 1) | (k > self.values.size)):
            raise ValueError(f"FromArray defines steps 1 … {self.values.size} only")
        return self.values[k - 1]

    def _array(self):
        return self.values

    def _args(self):
        return {"factors": self.values.tolist()}


# ----------------------------------------------------------------------------------------------
# the wrapper
# ----------------------------------------------------------------------------------------------
def _box(box):
    """``(lo, hi)`` as 1-D float arrays of equal length (1 = the same bounds for every coordinate)."""
    if box is None:
        return None
    try:
        lo, hi = box
    except (TypeError, ValueError) as exc:
        raise TypeError("box must be a pair (lo, hi) of scalars or 1-D arrays") from exc
    lo = np.atleast_1d(V.finite_array("box lo", lo))
    hi = np.atleast_1d(V.finite_array("box hi", hi))
    if lo.ndim != 1 or hi.ndim != 1:
        raise ValueError("box bounds must be scalars or 1-D arrays")
    lo, hi = np.broadcast_arrays(lo, hi) if lo.size == 1 or hi.size == 1 else (lo, hi)
    if lo.shape != hi.shape:
        raise ValueError(f"box lo and hi must have the same length, got {lo.size} and {hi.size}")
    if np.any(lo >= hi):
        raise ValueError("box must have lo < hi in every coordinate")
    return lo.astype(float).copy(), hi.astype(float).copy()


@jit(inline=True)
def _schedule_offset(dp, nd):
    """Where the packed schedule starts: after the optimizer's ``nd`` parameters and the box
    (``[n_box, lo …, hi …]``)."""
    return nd + 1 + 2 * np.int64(dp[nd])


@jit(inline=True)
def _project(x, dp, nd):
    """Clip ``x`` to the box stored at ``dp[nd:]`` (nothing when ``n_box = 0``); NaN stays NaN."""
    nb = np.int64(dp[nd])
    if nb == 0:
        return
    for i in range(x.shape[0]):
        j = i if nb > 1 else 0
        lo, hi = dp[nd + 1 + j], dp[nd + 1 + nb + j]
        if x[i] < lo:
            x[i] = lo
        elif x[i] > hi:
            x[i] = hi


@lru_cache(maxsize=None)
def _make_scheduled_step(inner_step, nd):
    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        inner_step(x, aux, z, c[nd:], lp, nzp, c[:nd], g, xi, w)
        _project(x, dp, nd)

    return step


@lru_cache(maxsize=None)
def _make_scheduled_coefficients(inner_rule, nd, lr_slot):
    @jit(inline=True)
    def rule(k, dp, c):
        for i in range(nd):
            c[i] = dp[i]
        c[lr_slot] = dp[lr_slot] * schedule_factor(k, dp, _schedule_offset(dp, nd))
        inner_rule(k, c[:nd], c[nd:])

    return rule


class ScheduledOptimizer(DynamicsBase):
    r"""A discrete optimizer run with a learning-rate schedule and/or a box (module docstring).

    Made by ``optimizer.with_schedule(schedule, box=None)``; its class is
    :func:`scheduled_class` of the optimizer's class.  Attributes: ``inner`` (the optimizer, whose
    ``lr`` is :math:`\eta`), ``schedule``, ``box`` (``None`` or ``(lo, hi)`` arrays), ``lr``
    (:math:`\eta`) and ``dt`` (:math:`\eta`, nominal: the time axis is :meth:`step_times`).
    """

    kind = "discrete"
    variable_steps = True
    inner_class: type = None

    def __init__(self, inner, schedule=None, box=None):
        if not isinstance(inner, self.inner_class):
            raise TypeError(f"inner must be a {self.inner_class.__name__}, got {type(inner).__name__}")
        schedule = Constant() if schedule is None else schedule
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a Schedule (sim.schedules), got {type(schedule).__name__}")
        self.inner, self.schedule, self.box = inner, schedule, _box(box)
        self.lr = self.dt = inner.lr
        self.hyper = ("inner", "schedule", "box")
        nb = 0 if self.box is None else self.box[0].size
        box_part = [float(nb)] + ([] if self.box is None else [*self.box[0], *self.box[1]])
        self.params = np.concatenate([inner.params, box_part, schedule.packed()])

    # -- the layout the kernel sees ---------------------------------------------------------------
    @classmethod
    def _nd(cls):
        return len(cls.inner_class.param_slots)

    @property
    def n_step_coefficients(self) -> int:
        return self._nd() + self.inner.n_step_coefficients

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_scheduled_step(cls.inner_class.make_step(gradient_fn, noise_fn), cls._nd())

    @classmethod
    def make_step_coefficients(cls):
        return _make_scheduled_coefficients(cls.inner_class.make_step_coefficients(), cls._nd(),
                                            cls.inner_class.param_slots.lr)

    def step_coefficients(self, k: int) -> np.ndarray:
        c = np.zeros(max(1, self.n_step_coefficients))
        type(self).make_step_coefficients()(np.int64(k), self.params, c)
        return c

    def _check_dim(self, dim):
        if self.box is not None and self.box[0].size not in (1, dim):
            raise ValueError(f"box has {self.box[0].size} bounds per side; the problem has dim={dim} "
                             "(give scalars or arrays of length dim)")

    def state_size(self, dim):
        self._check_dim(dim)
        return self.inner.state_size(dim)

    def initial_state(self, dim):
        self._check_dim(dim)
        return self.inner.initial_state(dim)

    def normals_per_step(self, dim):
        return self.inner.normals_per_step(dim)

    def work_size(self, dim):
        return self.inner.work_size(dim)

    # -- the reference ------------------------------------------------------------------------------
    def rate(self, k) -> np.ndarray:
        r""":math:`\eta_k = \eta f_k` at 1-based steps ``k`` (the same product the kernel forms)."""
        return self.lr * self.schedule.factors(np.asarray(k, np.int64))

    def inner_at(self, k: int):
        """The optimizer with ``lr = η_k`` (what step ``k`` runs)."""
        lr_k = float(self.rate(k))
        cached = getattr(self, "_inner_cache", None)
        if cached is None or cached[0] != lr_k:
            cached = (lr_k, type(self.inner)(**{**self.inner._hyper(), "lr": lr_k}))
            self._inner_cache = cached
        return cached[1]

    def project(self, x):
        """The box projection of rows ``x`` (NumPy or torch); ``x`` unchanged without a box."""
        if self.box is None:
            return x
        xp = _xp.namespace(x)
        lo = _xp.asarray_like(self.box[0], x)
        hi = _xp.asarray_like(self.box[1], x)
        return xp.where(x < lo, lo, xp.where(x > hi, hi, x))

    def numpy_step(self, x, aux, z, k, landscape, noise):
        x, aux = self.inner_at(k).numpy_step(x, aux, z, k, landscape, noise)
        return self.project(x), aux

    # -- the time axis ------------------------------------------------------------------------------
    def step_times(self, n_steps: int) -> np.ndarray:
        r""":math:`t_0 = 0, t_1, …, t_n` with :math:`t_k = \sum_{j\le k}\eta_j` (a running sum, so
        a prefix of a longer axis is bit-identical)."""
        n_steps = V.positive_int("n_steps", n_steps, minimum=0)
        if self.schedule.max_steps is not None and n_steps > self.schedule.max_steps:
            raise ValueError(f"the schedule defines {self.schedule.max_steps} steps; asked for {n_steps}")
        return np.concatenate([[0.0], np.cumsum(self.rate(np.arange(1, n_steps + 1)))])

    def time_at(self, k):
        r""":math:`t_k` for step(s) ``k`` (int or int array)."""
        k = np.asarray(k, np.int64)
        t = self.step_times(int(k.max()) if k.size else 0)
        return float(t[k]) if k.ndim == 0 else t[k]

    def time_axis(self, t_max: float) -> np.ndarray:
        """The step times up to the last step with :math:`t_k \\le t_{max}` (to a relative 1e-12)."""
        n = 1024
        while True:
            cap = self.schedule.max_steps
            m = n if cap is None else min(n, cap)
            t = self.step_times(m)
            if t[-1] > t_max * (1.0 + 1e-12) or m == cap:
                break
            if n > 2**36:
                raise ValueError(f"t_max={t_max!r} needs more than {2**36} steps with this schedule")
            n *= 4
        last = int(np.searchsorted(t, t_max * (1.0 + 1e-12), side="right")) - 1
        if t[-1] < t_max * (1.0 - 1e-12) and cap is not None and m == cap:
            raise ValueError(f"t_max={t_max!r} is beyond the end of the schedule (FromArray of {cap} "
                             f"steps reaches t = {t[-1]!r})")
        return t[:last + 1]

    # -- metadata -------------------------------------------------------------------------------------
    def _hyper(self):
        box = None if self.box is None else (self.box[0].tolist(), self.box[1].tolist())
        return {"inner": self.inner, "schedule": self.schedule, "box": box}

    def describe(self):
        return {"class": type(self).__name__, "kind": self.kind, "lr": self.lr, "dt": self.dt,
                "inner": self.inner.describe(), "schedule": self.schedule.describe(),
                "box": self._hyper()["box"]}

    def __repr__(self):
        h = self._hyper()
        return f"{self.inner!r}.with_schedule({h['schedule']!r}, box={h['box']!r})"

    def continuous(self, dt=None):
        raise ValueError("a scheduled optimizer has no constant-temperature continuous model "
                         "(docs/theory.md §4 assumes a constant lr); use the inner optimizer's")


@lru_cache(maxsize=None)
def scheduled_class(inner_class: type) -> type:
    """The :class:`ScheduledOptimizer` subclass for one optimizer class (one per class, so the
    kernel factory, which works on classes, finds it)."""
    if not (isinstance(inner_class, type) and issubclass(inner_class, DiscreteOptimizerBase)):
        raise TypeError(f"schedules apply to discrete optimizers, got {inner_class!r}")
    if inner_class.param_slots is None or "lr" not in inner_class.param_slots._fields:
        raise TypeError(f"{inner_class.__name__} has no 'lr' parameter slot")
    return type(f"Scheduled{inner_class.__name__}", (ScheduledOptimizer,),
                {"inner_class": inner_class, "__module__": __name__,
                 "__doc__": f"{inner_class.__name__} with a schedule/box (:class:`ScheduledOptimizer`)."})
