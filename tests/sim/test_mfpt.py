"""Tests of the 1-D mean-first-passage-time quadrature (sim.exact.mfpt)."""
import numpy as np
import pytest
from scipy import integrate, stats

from optdyn.sim.exact.mfpt import mean_first_passage_time_1d, mean_first_passage_time_1d_two_sided

CONVENTIONS = ("ito", "ddt")


def const(c):
    return lambda x: np.full_like(np.asarray(x, dtype=float), c)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("x0", [0.0, 0.3, 1.7])
def test_pure_diffusion_reflect_at_zero(convention, x0):
    d, length = 0.7, 2.0
    res = mean_first_passage_time_1d(const(0.0), const(d), x0, 0.0, length, convention)
    exact = (length**2 - x0**2) / (2 * d)
    assert res.value == pytest.approx(exact, rel=1e-12)
    # mirrored orientation: reflecting at the right end
    res = mean_first_passage_time_1d(const(0.0), const(d), length - x0, length, 0.0, convention)
    assert res.value == pytest.approx(exact, rel=1e-12)


def test_pure_diffusion_two_absorbing_ends():
    d, lo, hi = 0.4, -1.0, 2.0
    for x0 in (-1.0, 0.0, 0.5, 1.9):
        res = mean_first_passage_time_1d_two_sided(const(0.0), const(d), x0, lo, hi)
        assert res.value == pytest.approx((x0 - lo) * (hi - x0) / (2 * d), rel=1e-10, abs=1e-13)


def test_constant_drift_closed_form():
    """Reflect at 0, absorb at L, drift v, constant D: T(0) = L/v - D/v^2 (1 - e^{-vL/D})."""
    v, d, length = 0.8, 0.3, 1.5
    res = mean_first_passage_time_1d(const(v), const(d), 0.0, 0.0, length)
    exact = length / v - d / v**2 * (1 - np.exp(-v * length / d))
    assert res.value == pytest.approx(exact, rel=1e-10)


def _brute_force(drift_over_d, diffusion, x0, r, b, ito):
    """Nested adaptive quadrature of the reflecting/absorbing formula (independent implementation)."""

    def log_ps(y):
        phi = integrate.quad(drift_over_d, 0.0, y, epsabs=1e-13, epsrel=1e-13)[0]
        return phi - (np.log(diffusion(y)) if ito else 0.0)

    def outer(y):
        inner = integrate.quad(lambda z: np.exp(log_ps(z) - log_ps(y)), r, y, epsabs=1e-13, epsrel=1e-12)[0]
        return inner / diffusion(y)

    return abs(integrate.quad(outer, x0, b, epsabs=1e-12, epsrel=1e-11)[0])


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_ou_with_state_dependent_diffusion_vs_nested_quad(convention):
    """OU drift -k x with D = D0 (1 + x^2): compare with brute-force nested scipy.integrate.quad."""
    k, d0 = 1.5, 0.2
    drift = lambda x: -k * x
    diff = lambda x: d0 * (1 + x**2)
    x0, r, b = -0.5, -3.0, 1.0
    res = mean_first_passage_time_1d(drift, diff, x0, r, b, convention)
    ref = _brute_force(lambda y: drift(y) / diff(y), diff, x0, r, b, convention == "ito")
    # Simpson on 20000 intervals is accurate to ~1e-12 here; quad's own tolerance is ~1e-10.
    assert res.value == pytest.approx(ref, rel=1e-8)
    assert res.error < 1e-8 * res.value


def test_ddt_equals_ito_with_shifted_drift():
    """ddt with drift a is the Itô SDE with drift a + D' (module docstring): same MFPT."""
    drift = lambda x: -(x**3 - x)
    diff = lambda x: 0.1 + 0.05 * np.sin(2 * x) ** 2
    ddiff = lambda x: 0.05 * 2 * np.sin(2 * x) * np.cos(2 * x) * 2
    a = mean_first_passage_time_1d(drift, diff, -1.0, -2.5, 0.7, "ddt")
    b = mean_first_passage_time_1d(lambda x: drift(x) + ddiff(x), diff, -1.0, -2.5, 0.7, "ito")
    assert a.value == pytest.approx(b.value, rel=1e-8)
    # and the conventions genuinely differ when D varies
    c = mean_first_passage_time_1d(drift, diff, -1.0, -2.5, 0.7, "ito")
    assert abs(c.value / a.value - 1) > 0.05


def _piecewise_quadratic_landscape(h_a=2.0, h_b=1.0, barrier=0.5):
    """Minimum at 0 (curvature h_a), C^1 junction at c, maximum at the saddle s (curvature -h_b)."""
    c = np.sqrt(2 * barrier * h_b / (h_a * (h_a + h_b)))
    s = c + h_a * c / h_b

    def grad(x):
        return np.where(x < c, h_a * x, -h_b * (x - s))

    def curv(x):
        return np.where(x < c, h_a, h_b)

    return grad, curv, c, s


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_error_estimate_and_fourth_order_with_breakpoints(convention):
    """Hessian noise on the piecewise-quadratic landscape: D jumps at the junction c.

    With ``c`` as a breakpoint each panel is smooth, so the Simpson error must fall as h^4; we assert a
    fitted order >= 3.5 (the asymptotic 4 is reached up to round-off in the smallest errors).  The
    returned error estimate must bound the true error.
    """
    grad, curv, c, s = _piecewise_quadratic_landscape()
    eta_over_2b = 0.05
    drift = lambda x: -grad(x)
    diff = lambda x: eta_over_2b * curv(x)
    args = (drift, diff, 0.0, -1.5, s + 0.3, convention)
    ref = mean_first_passage_time_1d(*args, breakpoints=[c], n_intervals=200000).value
    ns = np.array([40, 80, 160, 320])
    errs = []
    for n in ns:
        res = mean_first_passage_time_1d(*args, breakpoints=[c], n_intervals=int(n))
        err = abs(res.value - ref)
        assert err <= res.error
        errs.append(err)
    order = -stats.linregress(np.log(ns), np.log(errs)).slope
    assert order >= 3.5
    # Without the breakpoint the jump of D sits inside a Simpson panel: the order collapses (to ~1).
    res = mean_first_passage_time_1d(*args, n_intervals=320)
    assert abs(res.value - ref) > 100 * errs[-1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x0=3.0, reflecting=0.0, absorbing=1.0), "x0"),
        (dict(x0=0.5, reflecting=1.0, absorbing=1.0), "differ"),
        (dict(x0=np.nan, reflecting=0.0, absorbing=1.0), "x0"),
        (dict(x0=0.5, reflecting=0.0, absorbing=1.0, convention="stratonovich"), "convention"),
        (dict(x0=0.5, reflecting=0.0, absorbing=1.0, n_intervals=4), "n_intervals"),
    ],
)
def test_input_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mean_first_passage_time_1d(const(0.0), const(1.0), **kwargs)


def test_bad_diffusion_is_rejected():
    with pytest.raises(ValueError, match="diffusion"):
        mean_first_passage_time_1d(const(0.0), lambda x: x, 0.5, -1.0, 1.0)
    with pytest.raises(ValueError, match="diffusion"):
        mean_first_passage_time_1d(const(0.0), lambda x: np.full_like(x, np.inf), 0.5, -1.0, 1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        mean_first_passage_time_1d_two_sided(const(0.0), const(1.0), 0.5, 1.0, 0.0)
