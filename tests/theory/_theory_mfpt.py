"""Exact 1-D mean first-passage time by quadrature on the piecewise-quadratic landscape.

Used by the theory tests as an independent exact model (no simulation): the Kramers formulas of
theory/ must approach it as the temperature goes to 0.
"""
import numpy as np
from scipy.integrate import cumulative_trapezoid

from optdyn.theory.landscape import piecewise_quadratic_geometry


def mfpt(h_a, h_b_abs, delta_l, p_a, d_a, p_b, d_b, form="ito", n=400_001):
    """MFPT from a to the mirrored minimum a' = 2b - a (reflecting far left).

    Drift -P L', diffusion D, with (P, D) = (p_a, d_a) on the wells and (p_b, d_b) on the barrier
    region. ``form="ito"`` (stationary density e^{-Phi}/D) or ``"paper"`` (e^{-Phi}). Returns
    (T, E) with T relative to e^E factored out: T = tau * e^{-E}; E = Phi(b) - Phi(a).
    """
    g = piecewise_quadratic_geometry(h_a, -h_b_abs, delta_l)
    ca, bc = float(g.c_minus_a), float(g.b_minus_c)
    b = ca + bc
    width = np.sqrt(d_a / (p_a * h_a))
    left = -12 * width
    x = np.unique(np.concatenate([np.linspace(left, ca, n // 2), np.linspace(ca, 2 * b, n // 2)]))
    xm = np.where(x <= b, x, 2 * b - x)  # mirror
    well = xm <= ca
    loss = np.where(well, h_a * xm**2 / 2, delta_l - h_b_abs * (xm - b) ** 2 / 2)
    phi_c = p_a / d_a * h_a * ca**2 / 2
    phi = np.where(well, p_a / d_a * loss, phi_c + p_b / d_b * (loss - h_a * ca**2 / 2))
    e = p_a / d_a * h_a * ca**2 / 2 + p_b / d_b * (delta_l - h_a * ca**2 / 2)
    dd = np.where(well, d_a, d_b)
    w_out, w_in = (1.0, 1.0 / dd) if form == "ito" else (1.0 / dd, 1.0)
    inner = cumulative_trapezoid(np.exp(-phi) * w_in, x, initial=0.0)
    start = np.searchsorted(x, 0.0)
    outer = np.exp(phi - e) * w_out * inner
    return np.trapezoid(outer[start:], x[start:]), e
