import numpy as np
import pytest
import sympy as sp
from _theory_mfpt import mfpt

from optdyn import theory
from optdyn.theory import _kramers, ddt, landscape
from optdyn.theory._symbols import B, Ha, Hb, dL, eta, s


def _quasi_potential(force_a, diff_a, force_b, diff_b):
    """int_a^b P L'/D over the piecewise landscape (SymPy), with a = 0."""
    x = sp.Symbol("x", real=True)
    well, barrier, c, b = landscape.symbolic_profile(x)
    return (sp.integrate(force_a * sp.diff(well, x) / diff_a, (x, 0, c))
            + sp.integrate(force_b * sp.diff(barrier, x) / diff_b, (x, c, b)))


def test_sgd_exponent_is_the_ito_quasi_potential():
    phi = _quasi_potential(1, eta * Ha / (2 * B), 1, eta * Hb / (2 * B))
    e = _kramers.SGD_EXPONENT.subs(s, landscape.FORMULAS["s"])
    assert sp.simplify(phi - e) == 0


def test_laplace_prefactors_both_conventions():
    y = sp.Symbol("y", real=True)
    d_a, d_b = eta * Ha / (2 * B), eta * Hb / (2 * B)
    gauss_b = sp.integrate(sp.exp(-Hb * y**2 / (2 * d_b)), (y, -sp.oo, sp.oo))
    gauss_a = sp.integrate(sp.exp(-Ha * y**2 / (2 * d_a)), (y, -sp.oo, sp.oo))
    ito = gauss_b * gauss_a / d_a  # stationary density e^{-Phi}/D
    paper = gauss_b / d_b * gauss_a  # current -(L'p + D p')
    assert sp.simplify(ito - 2 * sp.pi / Ha) == 0
    assert sp.simplify(paper - 2 * sp.pi / Hb) == 0
    assert sp.simplify(ito / paper - _kramers.ITO_OVER_PAPER) == 0


def test_numpy_matches_sympy():
    f = sp.lambdify((Ha, Hb, dL, eta, B, s), ddt.FORMULAS_SGD["escape_time_paper"])
    fi = sp.lambdify((Ha, Hb, dL, eta, B, s), ddt.FORMULAS_SGD["escape_time_ito"])
    args = (2.0, 0.7, 0.3, 0.05, 3.0, 0.4)
    assert ddt.sgd_escape_time(2.0, -0.7, 0.3, 0.05, 3.0, s=0.4) == pytest.approx(f(*args),
                                                                                 rel=1e-13)
    assert ddt.sgd_escape_time(2.0, -0.7, 0.3, 0.05, 3.0, s=0.4, form="ito") == pytest.approx(
        fi(*args), rel=1e-13)


@pytest.mark.parametrize("h_a, h_b", [(1.0, 1.0), (4.0, 1.0), (1.0, 4.0)])
@pytest.mark.parametrize("form", ["ito", "paper"])
def test_kramers_form_approaches_exact_mfpt(h_a, h_b, form):
    """closed form vs exact 1-D MFPT: relative error shrinks as E grows (< 0.5% at E = 80)."""
    errors = []
    for e_target in (10.0, 20.0, 40.0, 80.0):
        s_ = h_b / (h_a + h_b)
        lr = 2 * (s_ / h_a + (1 - s_) / h_b) / e_target  # B = 1, dL = 1
        t_exact, e = mfpt(h_a, h_b, 1.0, 1.0, lr * h_a / 2, 1.0, lr * h_b / 2, form=form)
        assert e == pytest.approx(ddt.sgd_exponent(h_a, -h_b, 1.0, lr, 1.0), rel=1e-12)
        tau = ddt.sgd_escape_time(h_a, -h_b, 1.0, lr, 1.0, form=form) * np.exp(-e)
        errors.append(abs(t_exact / tau - 1))
    assert errors[-1] < 5e-3
    assert all(e1 > e2 for e1, e2 in zip(errors, errors[1:])) or max(errors) < 1e-3


def test_white_noise_kramers_1d_against_mfpt():
    h_a, h_b, d = 2.0, 0.5, 1.0 / 40
    t_exact, e = mfpt(h_a, h_b, 1.0, 1.0, d, 1.0, d, form="ito")
    assert e == pytest.approx(ddt.white_exponent(1.0, d), rel=1e-12)
    tau = ddt.white_escape_time([h_a], [-h_b], 1.0, d) * np.exp(-e)
    assert t_exact / tau == pytest.approx(1.0, abs=2e-2)
    assert tau == pytest.approx(2 * np.pi / np.sqrt(h_a * h_b), rel=1e-14)


def test_white_noise_determinant_prefactor():
    tau = ddt.white_escape_time([1.0, 2.0, 3.0], [4.0, -0.5, 6.0], 1.0, 0.1)
    want = 2 * np.pi * np.sqrt(4 * 0.5 * 6 / 6.0) / 0.5 * np.exp(10.0)
    assert tau == pytest.approx(want, rel=1e-13)
    f = sp.lambdify(list(ddt.FORMULAS_WHITE["escape_time"].free_symbols),
                    ddt.FORMULAS_WHITE["escape_time"])
    assert f  # symbolic form lambdifies


def test_entries_registered():
    assert theory.get("ddt-sgd").functions["escape_time"] is ddt.sgd_escape_time
    assert theory.get("ddt-white").functions["escape_time"] is ddt.white_escape_time


@pytest.mark.parametrize("kwargs, name", [
    (dict(H_ae=-1.0), "H_ae"), (dict(H_be=0.5), "H_be"), (dict(delta_L=0.0), "delta_L"),
    (dict(lr=0.0), "lr"), (dict(batch_size=-2.0), "batch_size"), (dict(s=1.0), "s"),
    (dict(form="strat"), "form"),
])
def test_bad_input(kwargs, name):
    a = dict(H_ae=1.0, H_be=-1.0, delta_L=1.0, lr=0.1, batch_size=1.0)
    a.update(kwargs)
    with pytest.raises(ValueError, match=name):
        ddt.sgd_escape_time(**a)


def test_white_bad_input():
    with pytest.raises(ValueError, match="exactly one negative"):
        ddt.white_escape_time([1.0, 1.0], [-1.0, -1.0], 1.0, 0.1)
    with pytest.raises(ValueError, match="same shape"):
        ddt.white_escape_time([1.0], [-1.0, 1.0], 1.0, 0.1)
    with pytest.raises(ValueError, match="diffusion"):
        ddt.white_escape_time([1.0], [-1.0], 1.0, 0.0)
