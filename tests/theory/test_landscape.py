import numpy as np
import pytest
import sympy as sp

from optdyn.theory import landscape
from optdyn.theory._symbols import Ha, Hb, dL


def test_profile_is_c1_with_the_stated_barrier_and_path_parameter():
    x = sp.Symbol("x", real=True)
    well, barrier, c, b = landscape.symbolic_profile(x)
    assert sp.simplify(well.subs(x, c) - barrier.subs(x, c)) == 0  # continuous
    assert sp.simplify(sp.diff(well, x).subs(x, c) - sp.diff(barrier, x).subs(x, c)) == 0  # C^1
    assert sp.simplify(barrier.subs(x, b) - dL) == 0  # barrier height
    assert sp.diff(barrier, x).subs(x, b) == 0  # b is critical
    assert sp.simplify(well.subs(x, c) / dL - landscape.FORMULAS["s"]) == 0
    assert sp.diff(well, x, 2) == Ha and sp.diff(barrier, x, 2) == -Hb


def test_numpy_geometry_matches_sympy():
    f = {k: sp.lambdify((Ha, Hb, dL), v) for k, v in landscape.FORMULAS.items()}
    g = landscape.piecewise_quadratic_geometry([1.0, 4.0], [-2.0, -0.5], 3.0)
    for i, (ha, hb) in enumerate([(1.0, 2.0), (4.0, 0.5)]):
        assert g.c_minus_a[i] == pytest.approx(f["c_minus_a"](ha, hb, 3.0), rel=1e-14)
        assert g.b_minus_c[i] == pytest.approx(f["b_minus_c"](ha, hb, 3.0), rel=1e-14)
        assert g.s[i] == pytest.approx(f["s"](ha, hb, 3.0), rel=1e-14)
    np.testing.assert_allclose(g.s, landscape.path_parameter([1.0, 4.0], [-2.0, -0.5]))
    np.testing.assert_allclose(g.b_minus_a, g.c_minus_a + g.b_minus_c)


@pytest.mark.parametrize("args, name", [((0.0, -1.0, 1.0), "H_ae"), ((1.0, 1.0, 1.0), "H_be"),
                                        ((1.0, -1.0, -1.0), "delta_L")])
def test_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        landscape.piecewise_quadratic_geometry(*args)
