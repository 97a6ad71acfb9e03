"""Exact solvers: the exact models a simulation is compared with.

* :mod:`.linear` — moments of linear-Gaussian SDEs and affine recursions (quadratic landscapes);
* :mod:`.mfpt` — 1-D mean first-passage times by quadrature;
* :mod:`.fokker_planck` — Fokker–Planck and backward-Kolmogorov grid solvers (1-D/2-D overdamped,
  underdamped phase space).
"""
from . import fokker_planck, linear, mfpt
from . import adapters  # Problem -> exact model (mfpt_1d, kramers_mfpt)
from .linear import (affine_recursion_moments, exact_scheme_moments, exact_scheme_state_moments,
                     exact_sde_moments, exact_sde_state_moments, linear_sde_moments)

__all__ = ["adapters", "fokker_planck", "linear", "mfpt", "affine_recursion_moments", "exact_scheme_moments",
           "exact_scheme_state_moments", "exact_sde_moments", "exact_sde_state_moments", "linear_sde_moments"]
