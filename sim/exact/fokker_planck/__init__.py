r"""Fokker–Planck and backward-Kolmogorov grid solvers (overdamped 1-D/2-D, underdamped phase space).

The exact models of docs/theory.md §7 that need a grid: densities of the forward equation, stationary and
quasi-stationary densities, escape rates and mean first-passage times from the backward equation.  One
package, split by equation:

* :mod:`.elimination` — the subtraction-free (GTH-type) elimination every backward solve and escape
  rate uses (:class:`BandedGTH`, :class:`BlockGTH`), right at any barrier, with a stated accuracy and
  :class:`ConditioningWarning` / :class:`ResolutionWarning` naming the cause when it cannot be given.
* :mod:`.grid` — :class:`Grid1D`, :class:`Grid2D`, the boundary names (:data:`BOUNDARIES`), and the
  discretisation both equations share: Scharfetter–Gummel / cross / upwind flux kernels, operator
  assembly, the time integrator (:data:`TIME_METHODS`), the backward solve and :class:`GridMFPTResult`.
* :mod:`.overdamped` — the overdamped equation :math:`\mathrm{d}x = a\,\mathrm{d}t + \sqrt{2D}\,\mathrm{d}W`
  in the Itô or [DDT] convention (:data:`CONVENTIONS`, :func:`check_convention`):
  :func:`assemble_generator`, :func:`evolve_density`, :func:`stationary_density`, :func:`escape_rate`
  (:class:`EscapeRateResult`), :func:`mean_first_passage_time_backward`.
* :mod:`.kramers` — the underdamped (Kramers) equation in phase space :math:`(\theta, r)`:
  :func:`default_r_max`, :func:`kramers_generator` (:data:`THETA_SCHEMES`),
  :func:`evolve_phase_space_density`, :func:`mean_first_passage_time_underdamped`.

Every public name is re-exported here, so ``from optdyn.sim.exact import fokker_planck as fp; fp.<name>``
is the way to use the package.  Forward and backward answers are exactly dual on a grid (the backward
generator is the transpose of the forward matrix), and every solver checks its inputs by name.

References
----------
docs/theory.md §0 (conventions), §4 (continuous models), §6 (Itô vs [DDT] currents), §7 (exact model solvers).
"""
from . import elimination, grid, kramers, overdamped
from .elimination import *  # noqa: F403
from .grid import *  # noqa: F403
from .kramers import *  # noqa: F403
from .overdamped import *  # noqa: F403

__all__ = [*elimination.__all__, *grid.__all__, *overdamped.__all__, *kramers.__all__]
