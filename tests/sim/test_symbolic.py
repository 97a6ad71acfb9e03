"""SymbolicLandscape: a landscape from one formula, checked against the hand-written landscapes.

Tolerances: the symbolic and the hand-written code evaluate the same mathematical expressions in a
different order of operations (and NumPy's/libm's ``pow`` against repeated multiplication), so they
agree to a few ulps of the terms summed: 1e-12 relative to the largest entry.  Ensembles use the
same random numbers; a path's state then differs by round-off amplified by at most the number of
steps (1e-10 absolute over 200 steps at |x| ~ 1), and exit steps are identical unless a path lands
within round-off of the exit boundary (not the case for these seeds; a failure would show which).
"""
import numpy as np
import pytest

from optdyn import sim
from optdyn.sim.backends import compile_cache as cc
from optdyn.sim.backends.numba_backend import kernel_for
from optdyn.sim.landscapes.symbolic import find_critical_points, parse_formula

RTOL = 1e-12


def _quartic():
    hand = sim.QuarticDoubleWell(0.8, 1.3, spectators=[2.0])
    sym = sim.SymbolicLandscape("dl*((x/a)**2 - 1)**2 + k/2*y**2", ("x", "y"), {"dl": 0.8, "a": 1.3, "k": 2.0},
                                search_box=[(-2, 2), (-1, 1)])
    return hand, sym


def _styblinski_tang(dim):
    coords = ("x", "y", "z")[:dim]
    formula = "0.5*(" + " + ".join(f"{c}**4 - 16*{c}**2 + 5*{c}" for c in coords) + ")"
    return sim.StyblinskiTang(dim), sim.SymbolicLandscape(formula, coords, search_box=[(-4, 4)] * dim)


def _curved():
    hand = sim.CurvedDoubleWell(barrier=1.0, a=1.0, tilt=0.25, k=4.0, gamma=0.5)
    sym = sim.SymbolicLandscape("dl*((x/a)**2 - 1)**2 + tau*x + k/2*(y - g*x**2)**2", ("x", "y"),
                                {"dl": 1.0, "a": 1.0, "tau": 0.25, "k": 4.0, "g": 0.5},
                                search_box=[(-2, 2), (-1, 2)])
    return hand, sym


def _quadratic():
    hand = sim.QuadraticSaddle([1.0, -0.5], rotation=sim.random_rotation(2, seed=1), center=[0.2, -0.1])
    (h00, h01), (_, h11) = hand.H
    sym = sim.SymbolicLandscape("(h00*(x - cx)**2 + 2*h01*(x - cx)*(y - cy) + h11*(y - cy)**2)/2", ("x", "y"),
                                dict(h00=h00, h01=h01, h11=h11, cx=0.2, cy=-0.1), search_box=[(-1, 1), (-1, 1)])
    return hand, sym


PAIRS = {"quartic": _quartic(), "st2": _styblinski_tang(2), "st3": _styblinski_tang(3), "curved": _curved(),
         "quadratic": _quadratic()}


def _points(hand, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return 1.5 * rng.standard_normal((n, hand.dim))


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("name", PAIRS)
def test_same_numbers_as_hand_written(name):
    hand, sym = PAIRS[name]
    x = _points(hand)
    for what in ("value", "gradient", "hessian"):
        _close(getattr(sym, what)(x), getattr(hand, what)(x))
    f, fh = sym.numba_functions(), hand.numba_functions()
    g, gh = np.empty(hand.dim), np.empty(hand.dim)
    h, hh = np.empty((hand.dim,) * 2), np.empty((hand.dim,) * 2)
    for xi in x[:10]:
        f.gradient(xi, sym.params, g)
        fh.gradient(xi, hand.params, gh)
        f.hessian(xi, sym.params, h)
        fh.hessian(xi, hand.params, hh)
        _close(g, gh)
        _close(h, hh)
        _close(f.value(xi, sym.params), hand.value(xi))


@pytest.mark.parametrize("name", ["quartic", "st2", "st3", "curved"])
def test_critical_points_and_hessians_as_hand_written(name):
    hand, sym = PAIRS[name]
    order = np.lexsort(np.round(hand.critical_points() / 1e-6).T[::-1])  # the order of the search
    np.testing.assert_allclose(sym.critical_points(), hand.critical_points()[order], rtol=0, atol=1e-10)
    assert sym.critical_kinds == [hand.critical_kinds[i] for i in order]
    for p, hs in zip(sym.critical_points(), sym.critical_hessians):
        _close(hs, hand.hessian_at(p))
    if name != "st3":
        assert sym.barrier() == pytest.approx(hand.barrier(), rel=1e-12)


def test_detected_structure_selects_noise_fast_paths():
    hand, quad = PAIRS["quadratic"]
    assert quad.constant_hessian and sim.HessianNoise(2.0).bind(quad).constant
    _close(sim.HessianNoise(2.0).constant_factor(quad), sim.HessianNoise(2.0).constant_factor(hand))
    _, st = PAIRS["st2"]
    assert not st.constant_hessian and np.array_equal(st.hessian_eigenbasis, np.eye(2))
    assert sim.HessianNoise(2.0).bind(st).params.size == 2 + 4  # the eigenbasis path: [1/B, floor, U]
    _, curved = PAIRS["curved"]
    assert curved.hessian_eigenbasis is None  # closed-form 2x2 per step


@pytest.mark.parametrize("name", ["curved", "st3"])
def test_noise_apply_compiled_vs_numpy(name):
    _, sym = PAIRS[name]
    noise = sim.HessianNoise(3.0, floor=0.2)
    x = _points(sym, 20, seed=3)
    z = np.random.default_rng(4).standard_normal(x.shape)
    ref = noise.apply(x, z, sym)
    bound, out = noise.bind(sym), np.empty(sym.dim)
    for xi, zi, ri in zip(x, z, ref):
        bound.apply(xi, zi, sym.params, bound.params, out, bound.scratch())
        np.testing.assert_allclose(out, ri, rtol=1e-12, atol=1e-12)


def test_ensemble_paths_identical_to_hand_written():
    """Same problem with the hand-written and the symbolic curved double well: same exit steps,
    same states to round-off (numba), and the NumPy reference backend agrees path by path."""
    hand, sym = PAIRS["curved"]

    def problem(land):
        return sim.Problem(land, sim.HessianNoise(0.5, floor=0.3), sim.SGD(0.05), land.minima[0],
                           exit=land.exit_beyond(0, 0, at="saddle"))

    kw = dict(n_paths=64, t_max=10.0, save_times=[0.0, 1.0, 5.0, 10.0], seed=11, store_samples=True)
    r_hand = sim.run_ensemble(problem(hand), **kw)
    r_sym = sim.run_ensemble(problem(sym), **kw)
    r_ref = sim.run_ensemble(problem(sym), backend="numpy", **kw)
    assert r_sym.escaped.sum() > 0  # the check exercises exits
    for r in (r_sym, r_ref):
        np.testing.assert_array_equal(r.exit_step, r_hand.exit_step)
        np.testing.assert_allclose(r.samples, r_hand.samples, rtol=0, atol=1e-10, equal_nan=True)


@pytest.mark.torch
def test_torch_reference_matches_numpy():
    import torch

    for name in ("curved", "st3"):
        _, sym = PAIRS[name]
        x = _points(sym, 10, seed=5)
        for what in ("value", "gradient", "hessian"):
            got = getattr(sym, what)(torch.as_tensor(x))
            assert isinstance(got, torch.Tensor)
            np.testing.assert_allclose(got.numpy(), getattr(sym, what)(x), rtol=1e-14, atol=1e-14)
        got32 = sym.gradient(torch.as_tensor(x, dtype=torch.float32))
        assert got32.dtype == torch.float32


@pytest.mark.skipif(cc.JIT_DISABLED, reason="no kernel cache under NUMBA_DISABLE_JIT")
def test_one_compiled_set_per_formula_and_cache_keys_by_formula():
    a = sim.SymbolicLandscape("c*(x**2 - 1)**2 + y**2", ("x", "y"), {"c": 1.0})
    b = sim.SymbolicLandscape("c*(x**2 - 1)**2 + y**2", ("x", "y"), {"c": 3.0})
    other = sim.SymbolicLandscape("c*(x**2 - 1)**2 + 2*y**2", ("x", "y"), {"c": 1.0})
    assert a.numba_functions() is b.numba_functions()
    assert a.numba_functions().gradient is not other.numba_functions().gradient

    def key(land):
        return cc.content_key(kernel_for(sim.Problem(land, sim.WhiteNoise(0.1), sim.SGD(0.1), [0.0, 0.0])))

    assert key(a) == key(b)
    assert key(a) != key(other)  # two formulas never share a cached kernel


def test_sympy_expression_input_and_abs():
    import sympy

    x, y, s = sympy.symbols("x y s")
    land = sim.SymbolicLandscape(s * sympy.Abs(x) + sympy.cosh(y), (x, y), {s: 2.0})
    pts = np.array([[-0.5, 0.3], [0.7, -1.0]])
    _close(land.value(pts), 2 * np.abs(pts[:, 0]) + np.cosh(pts[:, 1]))
    _close(land.gradient(pts), np.stack([2 * np.sign(pts[:, 0]), np.sinh(pts[:, 1])], -1))
    _close(land.hessian(pts)[:, 0, 0], [0.0, 0.0])  # the delta of |x|'' is dropped (almost everywhere)
    g = np.empty(2)
    land.numba_functions().gradient(pts[0], land.params, g)
    _close(g, land.gradient(pts[0]))


def test_find_critical_points_reports_hessians_and_kinds():
    land = sim.SymbolicLandscape("(x**2 - 1)**2 + (y**2 - 1)**2", ("x", "y"))
    pts, kinds, hess = find_critical_points(land, [(-2, 2), (-2, 2)])
    assert len(pts) == 9
    assert kinds.count("min") == 4 and kinds.count("saddle") == 4 and kinds.count("max") == 1
    _close(hess, land.hessian(pts))
    with pytest.raises(ValueError, match="box"):
        find_critical_points(land, [(1, -1), (0, 1)])
    with pytest.raises(ValueError, match="no critical points"):
        land.region_of(np.zeros(2))


# ---------------------------------------------------------------------------------------------
# parsing without eval: a whitelist, with errors naming the offending token
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("formula,match", [
    ("__import__('os').system('echo hi')", r"call of \"__import__\('os'\).system\" at column 1"),
    ("__import__('os')", r"function '__import__' at column 1 is not allowed"),
    ("eval('1')", r"function 'eval'"),
    ("x.real", r"Attribute 'x.real'"),
    ("x[0]", r"Subscript 'x\[0\]'"),
    ("(lambda: 1)()", r"call of 'lambda: 1' at column 2"),
    ("x ^ 2", r"BitXor.*use \*\* for powers"),
    ("x if y else 1", r"IfExp"),
    ("x < y", r"Compare"),
    ("'x'", r"constant \"'x'\""),
    ("True*x", r"constant 'True'"),
    ("zz + x", r"unknown name 'zz'"),
    ("exp(x, y)", r"exactly one argument"),
    ("exp(x=1)", r"exactly one argument"),
    ("2**10**10", r"numeric power"),
    ("x +", r"not a valid expression"),
    ("", r"empty"),
    ("1e999*x", r"not finite"),
    ("().__class__", r"Attribute"),
])
def test_parse_rejects_with_named_token(formula, match):
    with pytest.raises(ValueError, match=match):
        sim.SymbolicLandscape(formula, ("x", "y"))


def test_parse_builds_expected_expression():
    import sympy

    x, a = sympy.Symbol("x", real=True), sympy.Symbol("a", real=True)
    e = parse_formula("-a*arctan(x)**2/2 + sqrt(abs(x)) - 0.1 + pi", {"x": x, "a": a})
    assert sympy.simplify(e - (-a * sympy.atan(x) ** 2 / 2 + sympy.sqrt(sympy.Abs(x)) - sympy.Rational(1, 10)
                               + sympy.pi)) == 0


@pytest.mark.parametrize("kwargs,match", [
    (dict(coords=("x", "x")), "unique"),
    (dict(coords=("x",), params={"x": 1.0}), "unique"),
    (dict(coords=("_x",)), "identifier"),
    (dict(coords=("exp",)), "reserved"),
    (dict(coords=("lambda",)), "identifier"),
    (dict(coords=()), "at least one"),
    (dict(coords=("x",), params={"a": float("nan")}), r"params\['a'\]"),
    (dict(coords=("x",), params=[1.0]), "mapping"),
])
def test_bad_names_and_params(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sim.SymbolicLandscape("x**2", **kwargs)


def test_sympy_input_is_checked():
    import sympy

    x = sympy.Symbol("x")
    with pytest.raises(ValueError, match="erf"):
        sim.SymbolicLandscape(sympy.erf(x), (x,))
    with pytest.raises(ValueError, match="'q'"):
        sim.SymbolicLandscape(x * sympy.Symbol("q"), (x,))
    with pytest.raises(ValueError, match="ImaginaryUnit 'I' is not allowed"):
        sim.SymbolicLandscape(x + sympy.I, (x,))


def test_readme_example_runs(capsys):
    """The README's "own landscape" example runs as written (its kernel is the one of
    test_ensemble_paths_identical_to_hand_written: same formula, same dynamics/noise/exit types)."""
    import pathlib
    import re
    import warnings

    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    code = [c for c in re.findall(r"```python\n(.*?)```", readme.read_text(), re.S) if "SymbolicLandscape" in c]
    assert code, "README has no SymbolicLandscape example"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example may warn (that is its point)
        exec(compile("import numpy as np\nfrom optdyn import sim\n" + code[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "distribution-free" in out and "exponential model" in out


def test_local_hessian_noise_regions_as_hand_written():
    """Nearest-critical-point regions (compiled and NumPy) equal the hand-written curved well's."""
    from optdyn.sim.noise import LocalHessianNoise

    hand, sym = PAIRS["curved"]
    x = _points(hand, 30, seed=6)
    z = np.random.default_rng(7).standard_normal(x.shape)
    np.testing.assert_array_equal(sym.region_of(x), hand.region_of(x))
    noise = LocalHessianNoise(2.0, floor=0.1)
    _close(noise.apply(x, z, sym), noise.apply(x, z, hand))
    bs, bh = noise.bind(sym), noise.bind(hand)
    o1, o2, cp = np.empty(2), np.empty(2), np.empty(2)
    for xi, zi in zip(x, z):
        bs.apply(xi, zi, sym.params, bs.params, o1, bs.scratch())
        bh.apply(xi, zi, hand.params, bh.params, o2, bh.scratch())
        _close(o1, o2)
        sym.numba_functions().critical_point(xi, sym.params, cp)
        _close(cp, sym.local_critical_point(xi))


@pytest.mark.torch
def test_torch_backend_ensemble_matches_numpy_reference():
    _, sym = PAIRS["curved"]
    prob = sim.Problem(sym, sim.HessianNoise(0.5, floor=0.3), sim.SGD(0.05), sym.minima[0],
                       exit=sym.exit_beyond(0, 0, at="saddle"))
    kw = dict(n_paths=32, t_max=5.0, save_times=[0.0, 2.5, 5.0], seed=3, store_samples=True)
    r_t = sim.run_ensemble(prob, backend="torch", **kw)
    r_n = sim.run_ensemble(prob, backend="numpy", **kw)
    np.testing.assert_array_equal(r_t.exit_step, r_n.exit_step)
    np.testing.assert_allclose(r_t.samples, r_n.samples, rtol=0, atol=1e-10, equal_nan=True)


def test_pickle_round_trip_rebuilds_functions():
    """Problems travel to worker processes by pickle: the generated functions are rebuilt there."""
    import pickle

    _, sym = PAIRS["curved"]
    back = pickle.loads(pickle.dumps(sym))
    x = _points(sym, 5)
    np.testing.assert_array_equal(back.gradient(x), sym.gradient(x))
    np.testing.assert_array_equal(back.critical_points(), sym.critical_points())
    assert back.numba_functions() is sym.numba_functions()  # same process: the memoised set
    g = np.empty(2)
    back.numba_functions().gradient(x[0], back.params, g)
    _close(g, sym.gradient(x[0]))


def test_described_formula_rebuilds_the_landscape():
    """``describe()`` (stored in result metadata, read by sweep configs) is enough to rebuild it."""
    land = sim.SymbolicLandscape("s*abs(x) + cosh(y) - atan(x*y)/3", ("x", "y"), {"s": 2.0})
    d = land.describe()
    again = sim.SymbolicLandscape(d["formula"], d["coords"], d["params"])
    x = _points(land, 10)
    np.testing.assert_array_equal(again.gradient(x), land.gradient(x))
    assert again.numba_functions() is land.numba_functions()
