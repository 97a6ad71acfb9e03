r"""Analytic loss landscapes: value, gradient and Hessian in closed form.

A landscape describes *what* is minimised.  Each class offers

* a NumPy interface, vectorised over leading axes: ``value(x)``, ``gradient(x)``, ``hessian(x)``
  for ``x`` of shape ``(..., dim)``;
* compiled functions for the kernels (``numba_functions()``), module-level and shared by every
  instance of the class, that read all numbers from one flat parameter array ``params``:
  ``gradient(x, params, out)`` and ``hessian(x, params, out)``.  So one compiled kernel serves every
  instance of the class (no recompilation when eigenvalues change).

References
----------
docs/theory.md §1 (landscapes).

Multi-well landscapes for escape from minima: geometry, critical points and natural exits.

Every class here is a :class:`~sim.landscapes.LandscapeBase` (NumPy/torch ``value``, ``gradient``,
``hessian`` vectorised over ``(..., dim)``, compiled functions reading one flat ``params`` array, one
compiled function per *class*) that also knows its geometry:

* ``critical_points()`` (shape ``(m, dim)``), ``critical_kinds`` (``"min"``, ``"saddle"`` (index 1),
  ``"max"``/``"saddle-k"``), the properties ``minima`` / ``saddles`` (positions) and
  ``hessian_at(point)``;
* ``barrier(from_min, via_saddle)`` :math:`\Delta L = L(b) - L(a)` (indices into ``minima`` and
  ``saddles``), ``escape_direction(saddle)`` (the eigenvector of :math:`H(b)` with negative
  eigenvalue, pointing away from the minimum), ``path_parameter`` where defined;
* ``exit_beyond(saddle, from_min, at="next_minimum" | "saddle")``: a
  :class:`~sim.exits.HalfSpaceExit` across the saddle, either through the saddle itself (first
  passage to :math:`b`, about :math:`\tau/2`) or through the next minimum (Kramers' :math:`\tau`
  counts crossings, docs/theory.md §6);
* ``region_of(x)`` (index of the critical point whose region contains ``x``) and
  ``local_critical_point(x)`` (its position), used by :class:`sim.noise.LocalHessianNoise`.
  Regions are documented per class.

Landscapes whose Hessian is diagonal in a *fixed* orthonormal basis :math:`U`,
:math:`H(x) = U\operatorname{diag}(\lambda(x))U^\top`, expose ``hessian_eigenbasis = U`` and
``hessian_eigenvalues(x)`` (plus a compiled ``hessian_eigenvalues(x, params, out)``), so Hessian
noise needs no eigen-decomposition per step (:class:`sim.noise.HessianNoise` uses it).

:class:`SymbolicLandscape` (:mod:`sim.landscapes.symbolic`) is any landscape given by one formula:
value, gradient and Hessian derived by SymPy and compiled, critical points found numerically.

Smooth landscapes (:class:`QuarticDoubleWell`, :class:`StyblinskiTang`, :class:`CurvedDoubleWell`)
have inflection points where an eigenvalue of :math:`H` vanishes: Hessian noise there is zero in
that direction, so use ``HessianNoise(batch_size, floor=h_min)`` with :math:`h_{min} > 0` whenever
a diffusion coefficient must stay positive (1-D MFPT quadrature, Fokker–Planck solvers).  The
piecewise-quadratic landscape has a piecewise *constant* Hessian that never vanishes.

References
----------
docs/theory.md §1.2 (piecewise-quadratic wells), §1.3 (smooth multi-well landscapes), §2 (noise models),
§5 (escape notation), §6 (absorb beyond the saddle).  Z. Xie, I. Sato, M. Sugiyama, "A Diffusion
Theory for Deep Learning Dynamics", arXiv 2002.03495.  M. Styblinski, T. Tang, "Experiments in
nonconvex optimization: stochastic approximation with function smoothing and simulated annealing",
Neural Networks 3 (1990).
"""
from .base import LandscapeBase, LandscapeFunctions, WellFunctions, WellsLandscapeBase, random_rotation
from .chain import LinearSlope, WellChain
from .curved import CurvedDoubleWell
from .profile import FlatSharpDoubleWell, PiecewiseQuadraticWells, QuarticDoubleWell
from .quadratic import QuadraticSaddle
from .styblinski_tang import ST_CRITICAL_ROOTS, StyblinskiTang
from .symbolic import SymbolicLandscape

__all__ = ["LandscapeBase", "LandscapeFunctions", "WellFunctions", "WellsLandscapeBase", "random_rotation",
           "QuadraticSaddle", "PiecewiseQuadraticWells", "FlatSharpDoubleWell", "QuarticDoubleWell",
           "StyblinskiTang", "ST_CRITICAL_ROOTS", "CurvedDoubleWell", "WellChain", "LinearSlope",
           "SymbolicLandscape"]
