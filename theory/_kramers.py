r"""Shared pieces of the escape-from-minimum entries (docs/theory.md sections 5 and 6).

Quasi-potential of a 1-D Itô SDE :math:`dx = -P(x)L'(x)dt + \sqrt{2D(x)}dW` with P, D
constant on the well region [a, c] and on the barrier region [c, b] (piecewise-quadratic
landscape): :math:`\Phi(b) - \Phi(a) = \int_a^b P L'/D\,dx = \Delta L\,(s P_a/D_a +
(1-s) P_b/D_b)`. With SGD's :math:`P = 1`, :math:`D = \eta|L''|/(2B)` this is
:math:`E_{SGD} = (2B\Delta L/\eta)(s/H_{ae} + (1-s)/|H_{be}|)`.

Prefactor conventions (section 6): the paper's current :math:`J = -(P\nabla L + D\nabla p)` gives
:math:`2\pi/|H_{be}|`, the Itô current :math:`J = -(P\nabla L + \nabla(Dp))` gives
:math:`2\pi/H_{ae}`; Itô/paper :math:`= |H_{be}|/H_{ae}`. Exponents do not depend on it.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from ._symbols import B, Ha, Hb, dL, eta, s
from .core import warn_if_large
from .landscape import path_parameter

__all__ = ["FORMS", "escape_args", "convention_factor", "sgd_exponent", "SGD_EXPONENT",
           "temperature_ratio", "warn_low_temperature"]

#: prefactor conventions
FORMS = ("paper", "ito")

#: E_SGD as SymPy
SGD_EXPONENT = 2 * B * dL / eta * (s / Ha + (1 - s) / Hb)
#: Itô prefactor / paper prefactor
ITO_OVER_PAPER = Hb / Ha


def escape_args(H_ae, H_be, delta_L, s=None):
    r"""Validate; return :math:`(H_{ae}, |H_{be}|, \Delta L, s)`; ``s=None`` uses the
    piecewise-quadratic value :math:`|H_{be}|/(H_{ae}+|H_{be}|)`."""
    h_a = _checks.positive("H_ae", H_ae)
    h_b = -_checks.negative("H_be", H_be)
    d_l = _checks.positive("delta_L", delta_L)
    if s is None:
        s = path_parameter(h_a, -h_b)
    else:
        s = _checks.finite("s", s)
        if not np.all((s > 0) & (s < 1)):
            raise ValueError(f"s must lie in (0, 1), got {s!r}")
    return h_a, h_b, d_l, s


def convention_factor(form: str, H_ae, H_be_abs):
    """1 for the paper form, :math:`|H_{be}|/H_{ae}` for the Itô form."""
    if form == "paper":
        return np.ones_like(np.asarray(H_ae, dtype=float) * H_be_abs)
    if form == "ito":
        return H_be_abs / H_ae
    raise ValueError(f"form must be one of {FORMS}, got {form!r}")


def sgd_exponent(H_ae, H_be_abs, delta_L, lr, batch_size, s) -> np.ndarray:
    r""":math:`E_{SGD} = (2B\Delta L/\eta)(s/H_{ae} + (1-s)/|H_{be}|)` (validated scalars/arrays)."""
    lr = _checks.positive("lr", lr)
    batch_size = _checks.positive("batch_size", batch_size)
    return 2.0 * batch_size * delta_L / lr * (s / H_ae + (1.0 - s) / H_be_abs)


#: 1/E above which escape_time functions warn (Kramers asymptotics need E >> 1)
LOW_TEMPERATURE_MAX = 0.2


def warn_low_temperature(e, entry_id: str):
    """ValidityWarning when the exponent E is not large (1/E > LOW_TEMPERATURE_MAX)."""
    warn_if_large("1/E (temperature over barrier)", 1.0 / np.asarray(e, dtype=float),
                  LOW_TEMPERATURE_MAX, entry_id=entry_id, stacklevel=4)


def temperature_ratio(H_ae, H_be_abs, delta_L, lr, batch_size, s):
    r"""Low-temperature small parameter :math:`1/E` (relative error of the Kramers form)."""
    return 1.0 / sgd_exponent(H_ae, H_be_abs, delta_L, lr, batch_size, s)
