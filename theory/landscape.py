r"""Geometry of the piecewise-quadratic Kramers landscape (docs/theory.md section 1.2).

Along the escape coordinate x, with the minimum at a and the saddle at b > a:

.. math::

    L(x) = \begin{cases} L_a + \tfrac12 H_a (x-a)^2, & x \le c,\\
                         L_a + \Delta L - \tfrac12|H_b|(x-b)^2, & c \le x \le b,\end{cases}

mirrored about b into a second well. :math:`C^1` at c and barrier :math:`L(b) - L(a) = \Delta L`
force

.. math::

    (c-a)^2 = \frac{2\Delta L|H_b|}{H_a(H_a+|H_b|)}, \qquad b - c = \frac{H_a(c-a)}{|H_b|},
    \qquad s = \frac{L(c)-L(a)}{\Delta L} = \frac{|H_b|}{H_a+|H_b|},

s being the path parameter of [DDT] (the fraction of the barrier climbed in the well region).

References
----------
docs/theory.md section 1.2. Z. Xie, I. Sato, M. Sugiyama, "A Diffusion Theory for Deep Learning
Dynamics", ICLR 2021, arXiv 2002.03495 (path parameter s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import _checks
from ._symbols import Ha, Hb, dL

__all__ = ["PiecewiseQuadraticGeometry", "piecewise_quadratic_geometry", "path_parameter",
           "FORMULAS", "symbolic_profile"]

_CA = sp.sqrt(2 * dL * Hb / (Ha * (Ha + Hb)))

FORMULAS = {
    "c_minus_a": _CA,
    "b_minus_c": Ha * _CA / Hb,
    "s": Hb / (Ha + Hb),
}


def symbolic_profile(x: sp.Symbol):
    """SymPy ``(well, barrier, c, b)``: the two pieces of L - L_a with a = 0, and the join and
    saddle positions (for checks: C^1 at c, barrier dL at b, quasi-potential integrals)."""
    c = FORMULAS["c_minus_a"]
    b = c + FORMULAS["b_minus_c"]
    return Ha * x**2 / 2, dL - Hb * (x - b) ** 2 / 2, c, b


@dataclass(frozen=True)
class PiecewiseQuadraticGeometry:
    """Distances and path parameter of the piecewise-quadratic landscape (arrays broadcast)."""

    c_minus_a: np.ndarray
    b_minus_c: np.ndarray
    s: np.ndarray

    @property
    def b_minus_a(self):
        return self.c_minus_a + self.b_minus_c


def path_parameter(H_ae, H_be) -> np.ndarray:
    r""":math:`s = |H_{be}|/(H_{ae} + |H_{be}|)` (``H_be`` < 0, given with its sign)."""
    h_a = _checks.positive("H_ae", H_ae)
    h_b = _checks.negative("H_be", H_be)
    return -h_b / (h_a - h_b)


def piecewise_quadratic_geometry(H_ae, H_be, delta_L) -> PiecewiseQuadraticGeometry:
    r"""Given :math:`H_a > 0`, :math:`H_{be} < 0`, :math:`\Delta L > 0`: :math:`c-a`, :math:`b-c`, s.

    Examples
    --------
    >>> g = piecewise_quadratic_geometry(1.0, -1.0, 2.0)
    >>> float(g.c_minus_a), float(g.b_minus_c), float(g.s)
    (1.4142135623730951, 1.4142135623730951, 0.5)
    """
    h_a = _checks.positive("H_ae", H_ae)
    h_b = -_checks.negative("H_be", H_be)
    d_l = _checks.positive("delta_L", delta_L)
    ca = np.sqrt(2.0 * d_l * h_b / (h_a * (h_a + h_b)))
    return PiecewiseQuadraticGeometry(ca, h_a * ca / h_b, h_b / (h_a + h_b))
