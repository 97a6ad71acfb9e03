r"""Reaction coordinates for rare-event sampling: a scalar :math:`\xi` that measures progress from the
minimum a path starts in toward the exit.

A coordinate has two roles in adaptive multilevel splitting (:mod:`sim.rare.ams`):

* its **level** :math:`\ell(\theta)` (position only) defines the sets of the mean-first-passage-time
  decomposition, :math:`A = \{\ell \le z_A\}` and :math:`\Sigma = \{\ell \ge z_\Sigma\}`;
* its **value** :math:`\xi(\theta, s)` (position and, for a phase-space coordinate, the optimizer's state
  :math:`s`: velocity, momentum buffer) is the *importance function*: AMS kills and clones replicas by
  the highest value each has reached.

The estimates are unbiased for **any** importance function (Bréhier, Gazeau, Goudenège, Lelièvre &
Rousset, Ann. Appl. Probab. 26, 2016): the value sets the variance only, never the mean.  The level
fixes *what* is estimated (:math:`p`, the loops), and it is the same position coordinate whichever
value is used, so changing the value changes no estimate's expectation.

A coordinate has NumPy/torch ``value(x, aux)`` and ``level(x)`` (points ``(..., dim)``, states
``(..., n_aux)`` → ``(...)``) for the reference and the checks, and compiled ``value(x, aux, params)``,
``level(x, params)`` per class (one compiled function serves every instance, the geometry is in
``params``), like the exit regions (:mod:`sim.exits`).

* :class:`LinearCoordinate` — :math:`\xi = \ell = u^\top(\theta - o)`; built by
  :meth:`LinearCoordinate.between` so that :math:`\xi(a) = 0` at the minimum and :math:`\xi(b) = 1` at
  the saddle, along the escape direction :math:`e` (the eigenvector of :math:`H(b)` with negative
  eigenvalue, docs/theory.md §5).
* :class:`PhaseSpaceCoordinate` — :math:`\xi = u^\top(\theta - o) + w^\top s`, level
  :math:`u^\top(\theta - o)`: a linear coordinate of the whole state.  For an underdamped dynamics
  (:func:`saddle_velocity_weight`) :math:`w^\top s = c\,u^\top v` with the velocity :math:`v = V s`
  (:meth:`sim.dynamics.base.DynamicsBase.velocity_map`) and :math:`c = 1/|\lambda_-|` from the
  dynamics linearised at the saddle, so that near the saddle :math:`\xi - 1` is proportional to the
  amplitude of the unstable mode, whose sign decides (deterministically) on which side a path leaves.
* :func:`default_coordinate` — for a :class:`~sim.problem.Problem` whose landscape knows its critical
  points: the phase-space coordinate when the dynamics has a velocity (Momentum, Adai and their SDEs),
  else the linear one (SGD, Adam); for a problem whose exit is a :class:`~sim.exits.HalfSpaceExit`,
  the linear coordinate along the exit's normal from the start to the exit.
"""
from __future__ import annotations

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit

__all__ = ["ReactionCoordinateBase", "LinearCoordinate", "PhaseSpaceCoordinate", "default_coordinate",
           "saddle_velocity_weight"]


class ReactionCoordinateBase:
    """Abstract reaction coordinate; ``params`` is a flat float array read by the compiled functions."""

    dim: int
    params: np.ndarray
    #: Length of the optimizer state the value reads (``None``: the value reads the position only).
    n_state: int | None = None

    def value(self, x, aux=None):  # pragma: no cover - abstract
        """The importance function :math:`\\xi` at points ``(..., dim)`` with states ``aux``
        ``(..., n_aux)`` (NumPy or torch; ``aux`` is ignored by a position coordinate)."""
        raise NotImplementedError

    def level(self, x):  # pragma: no cover - abstract
        """The position coordinate that defines A and Σ, at points ``(..., dim)``."""
        raise NotImplementedError

    @classmethod
    def numba_value(cls):  # pragma: no cover - abstract
        """The compiled ``value(x, aux, params) -> float`` of this class."""
        raise NotImplementedError

    @classmethod
    def numba_level(cls):  # pragma: no cover - abstract
        """The compiled ``level(x, params) -> float`` of this class."""
        raise NotImplementedError

    def check_state(self, n_aux: int) -> None:
        """Raise when the coordinate reads a state of another length than the dynamics' ``n_aux``."""
        if self.n_state is not None and self.n_state != n_aux:
            raise ValueError(f"the coordinate reads a state of length {self.n_state}, the dynamics has "
                             f"{n_aux}: build it for this dynamics (default_coordinate)")

    def describe(self) -> dict:
        return {"class": type(self).__name__, "params": self.params.tolist()}


@jit(inline=True)
def _linear_value(x, p):
    s = 0.0
    n = x.shape[0]
    for i in range(n):
        s += p[n + i] * (x[i] - p[i])
    return s


@jit(inline=True)
def _linear_state_value(x, aux, p):
    return _linear_value(x, p)


@jit(inline=True)
def _phase_value(x, aux, p):
    s = _linear_value(x, p)
    off = 2 * x.shape[0]
    for j in range(aux.shape[0]):
        s += p[off + j] * aux[j]
    return s


class LinearCoordinate(ReactionCoordinateBase):
    r""":math:`\xi(\theta) = u^\top(\theta - o)` (``params = [o, u]``)."""

    def __init__(self, origin, direction):
        o = V.finite_array("origin", origin, ndim=1)
        u = V.vector("direction", direction, o.size)
        if not np.any(u):
            raise ValueError("direction must be a non-zero vector")
        self.dim, self.origin, self.direction = o.size, o, u
        self.params = np.concatenate([o, u])

    @classmethod
    def between(cls, start, end, direction=None) -> "LinearCoordinate":
        r"""The coordinate along ``direction`` (default ``end − start``) scaled so that
        :math:`\xi(\text{start}) = 0` and :math:`\xi(\text{end}) = 1`."""
        a = V.finite_array("start", start, ndim=1)
        b = V.vector("end", end, a.size)
        e = b - a if direction is None else V.vector("direction", direction, a.size)
        span = float(e @ (b - a))
        if not abs(span) > 0:
            raise ValueError("the direction must not be orthogonal to end − start (ξ(end) would equal ξ(start))")
        return cls(a, e / span)

    def level(self, x):
        return ((x - _xp.asarray_like(self.origin, x)) * _xp.asarray_like(self.direction, x)).sum(axis=-1)

    def value(self, x, aux=None):
        return self.level(x)

    @classmethod
    def numba_value(cls):
        return _linear_state_value

    @classmethod
    def numba_level(cls):
        return _linear_value

    def __repr__(self):
        return f"LinearCoordinate(origin={self.origin.tolist()}, direction={self.direction.tolist()})"


class PhaseSpaceCoordinate(ReactionCoordinateBase):
    r""":math:`\xi(\theta, s) = u^\top(\theta - o) + w^\top s` on the whole state, with the level
    :math:`u^\top(\theta - o)` (``params = [o, u, w]``).

    Parameters
    ----------
    position : LinearCoordinate
        The level (and the position part of the value).
    state_weights : array (n_aux,)
        :math:`w`, one weight per entry of the optimizer state ``aux``.
    """

    def __init__(self, position, state_weights):
        if not isinstance(position, LinearCoordinate):
            raise TypeError(f"position must be a LinearCoordinate, got {type(position).__name__}")
        self.position = position
        self.weights = V.finite_array("state_weights", state_weights, ndim=1)
        self.dim, self.n_state = position.dim, self.weights.size
        self.params = np.concatenate([position.params, self.weights])

    @classmethod
    def with_velocity(cls, position, velocity_map, weight) -> "PhaseSpaceCoordinate":
        r""":math:`\xi = u^\top(\theta - o) + c\,u^\top V s`: the position coordinate plus ``weight``
        :math:`c` times its rate of change, with the velocity :math:`v = V s` (``velocity_map``
        :math:`V`, ``(dim, n_aux)``)."""
        vm = V.finite_array("velocity_map", velocity_map, ndim=2)
        if vm.shape[0] != position.dim:
            raise ValueError(f"velocity_map must have {position.dim} rows (the dimension), got {vm.shape[0]}")
        c = V.positive("weight", weight, allow_zero=True)
        return cls(position, c * (position.direction @ vm))

    def level(self, x):
        return self.position.level(x)

    def value(self, x, aux=None):
        if aux is None:
            raise ValueError("a PhaseSpaceCoordinate reads the optimizer state: pass aux")
        return self.position.level(x) + (aux * _xp.asarray_like(self.weights, aux)).sum(axis=-1)

    @classmethod
    def numba_value(cls):
        return _phase_value

    @classmethod
    def numba_level(cls):
        return _linear_value

    def __repr__(self):
        return f"PhaseSpaceCoordinate({self.position!r}, state_weights={self.weights.tolist()})"


def saddle_velocity_weight(dynamics, landscape, noise, saddle, direction) -> float:
    r""":math:`c = 1/|\lambda_-|` of the dynamics linearised at the saddle along ``direction`` :math:`e`.

    The continuous model (:class:`~sim.dynamics.underdamped.UnderdampedSDEBase`; a discrete optimizer's
    :meth:`continuous`) along :math:`e` near the saddle, :math:`x = e^\top(\theta - b)`,
    :math:`v = \dot x`:  :math:`\dot v = -a v + \omega^2 x` with the damping rate :math:`a = \gamma/M`
    and :math:`\omega^2 = p|H_b|/M` (preconditioner :math:`p`, :math:`|H_b| = |e^\top H(b) e|`).  Its
    solutions are :math:`x = A_+ e^{\lambda_+ t} + A_- e^{\lambda_- t}`,
    :math:`\lambda_\pm = (-a \pm \sqrt{a^2 + 4\omega^2})/2`, and the unstable amplitude is
    :math:`A_+ = (v - \lambda_- x)/(\lambda_+ - \lambda_-) \propto x + v/|\lambda_-|`: its sign decides
    the side a path leaves on, so :math:`x + c v` with :math:`c = 1/|\lambda_-|` is the committor's
    linearisation at the saddle (its zero level is the stable manifold).  Overdamped
    (:math:`a^2 \gg \omega^2`): :math:`c \to M/\gamma \to 0`, the position alone; frictionless:
    :math:`c = 1/\omega`.  Coefficients are taken as :math:`e`-weighted averages of the per-coordinate
    ones (exact for an axis-aligned :math:`e` or equal coefficients).
    """
    model = dynamics.continuous() if dynamics.kind == "discrete" else dynamics
    b = V.finite_array("saddle", saddle, ndim=1)
    e = V.vector("direction", direction, b.size)
    e = e / np.linalg.norm(e)
    a, pre = model.coefficients(b[None, :], landscape, noise)
    a_e, p_e = float(e**2 @ np.asarray(a)[0]), float(e**2 @ np.asarray(pre)[0])
    h_b = abs(float(e @ landscape.hessian_at(b) @ e))
    omega2 = a_e / model.gamma * p_e * h_b
    return 2.0 / (a_e + np.sqrt(a_e**2 + 4.0 * omega2))


def default_coordinate(problem, from_min: int | None = None, via_saddle: int | None = None,
                       velocity: bool | None = None) -> ReactionCoordinateBase:
    r"""The problem's default reaction coordinate: level 0 at its minimum, 1 at the saddle, along the
    escape direction.

    For a landscape with known critical points (:class:`~sim.landscapes.WellsLandscapeBase`): minimum
    ``from_min`` (default: the one nearest the start), saddle ``via_saddle`` (default: the one nearest
    that minimum), direction :math:`e` from :meth:`~sim.landscapes.WellsLandscapeBase.escape_direction`.
    With ``velocity`` (default: when the dynamics' state has a velocity,
    :meth:`~sim.dynamics.base.DynamicsBase.velocity_map`) the value is the phase-space coordinate
    :math:`\ell + c\,u^\top v` with :math:`c` from :func:`saddle_velocity_weight`; otherwise the
    position alone (:class:`LinearCoordinate`).
    Without critical points, for a :class:`~sim.exits.HalfSpaceExit` :math:`n^\top\theta \ge c`: along :math:`n`,
    0 at the start and 1 on the exit's plane (position only).
    """
    if velocity is not None and not isinstance(velocity, (bool, np.bool_)):
        raise TypeError(f"velocity must be True, False or None, got {velocity!r}")
    dyn = problem.dynamics
    vmap = dyn.velocity_map(problem.dim)
    if velocity and vmap is None:
        raise ValueError(f"velocity=True, but the state of {dyn!r} has no velocity (velocity_map is None)")
    use_velocity = vmap is not None if velocity is None else bool(velocity)
    land = problem.landscape
    minima = getattr(land, "minima", None)
    saddles = getattr(land, "saddles", None)
    if minima is not None and saddles is not None and len(minima) and len(saddles):
        if from_min is None:
            from_min = int(np.argmin(np.linalg.norm(minima - problem.x0, axis=1)))
        a = minima[_index("from_min", from_min, len(minima))]
        if via_saddle is None:
            via_saddle = int(np.argmin(np.linalg.norm(saddles - a, axis=1)))
        b = saddles[_index("via_saddle", via_saddle, len(saddles))]
        e = land.escape_direction(via_saddle, from_min)
        pos = LinearCoordinate.between(a, b, e)
        if not use_velocity:
            return pos
        c = saddle_velocity_weight(dyn, land, problem.noise, b, e)
        return PhaseSpaceCoordinate.with_velocity(pos, vmap, c)
    if velocity:
        raise ValueError("velocity=True needs a landscape with known minima and saddles (the weight is "
                         "taken at the saddle)")
    from ..exits import HalfSpaceExit

    ex = problem.exit
    if isinstance(ex, HalfSpaceExit):
        n = ex.normal
        end = problem.x0 + n * (ex.offset - n @ problem.x0) / (n @ n)
        return LinearCoordinate.between(problem.x0, end, n)
    raise ValueError(f"no default reaction coordinate for {type(land).__name__} with exit "
                     f"{type(ex).__name__}: pass coordinate= (a ReactionCoordinateBase)")


def _index(name: str, value, n: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer index, got {value!r}")
    if not 0 <= value < n:
        raise ValueError(f"{name} must be in [0, {n - 1}], got {value}")
    return int(value)
