r"""Rare-event Monte Carlo: escape times where direct simulation cannot go (docs/theory.md §7).

* :func:`ams_escape` — adaptive multilevel splitting with the mean-first-passage-time decomposition,
  for every dynamics the ensembles run (SDEs and discrete optimizers with their full state), in any
  dimension; unbiased escape probabilities, mean escape times with intervals from independent runs
  (:class:`AMSResult`).
* :mod:`sim.rare.coordinate` — reaction coordinates (:class:`LinearCoordinate`,
  :class:`PhaseSpaceCoordinate` (position and velocity), :func:`default_coordinate`: level 0 at the
  minimum, 1 at the saddle, along the escape direction; the velocity added for underdamped dynamics).
* :mod:`sim.rare.kernels` — the compiled path programs and their NumPy reference.
"""
from .ams import AMSResult, AMSRun, ams_escape, default_burn_in_steps
from .coordinate import (LinearCoordinate, PhaseSpaceCoordinate, ReactionCoordinateBase, default_coordinate,
                         saddle_velocity_weight)

__all__ = ["ams_escape", "AMSResult", "AMSRun", "default_burn_in_steps", "LinearCoordinate",
           "PhaseSpaceCoordinate", "ReactionCoordinateBase", "default_coordinate", "saddle_velocity_weight"]
