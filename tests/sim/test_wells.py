"""Tests of the multi-well landscapes (sim.landscapes), Hessian noise on them and LocalHessianNoise.

Tolerances: analytic identities are checked to round-off (1e-12 relative); finite differences with
central step h have truncation error O(h^2 |f'''|) and round-off O(eps |f| / h), so h = 1e-5 gives
about 1e-9 — we allow 1e-6 (away from the piecewise junctions, where the Hessian jumps).
"""
import numpy as np
import pytest

from optdyn import sim
from optdyn.sim.noise import LocalHessianNoise, eigenbasis_apply
from optdyn.sim.landscapes import ST_CRITICAL_ROOTS

FD_H, FD_TOL = 1e-5, 1e-6


def make_landscapes():
    rot3 = sim.random_rotation(3, seed=3)
    return [
        sim.PiecewiseQuadraticWells(1.0, 1.0, 0.3),
        sim.PiecewiseQuadraticWells(2.0, -0.5, 0.7, h_a2=5.0, barrier2=0.4, spectators=[1.5, 3.0],
                                    rotation=rot3, center=[0.1, -0.2, 0.3]),
        sim.FlatSharpDoubleWell(0.5, 4.0, 1.0, 0.2, spectators=[2.0]),
        sim.QuarticDoubleWell(0.8, 1.3, spectators=[2.0, 0.5], rotation=rot3),
        sim.StyblinskiTang(2),
        sim.StyblinskiTang(3),
        sim.CurvedDoubleWell(),
    ]


LANDSCAPES = make_landscapes()
IDS = [repr(L) for L in LANDSCAPES]


def points(L, n=40, seed=0):
    rng = np.random.default_rng(seed)
    scale = 3.0 if isinstance(L, sim.StyblinskiTang) else 1.5
    return L.critical_points().mean(axis=0) + scale * rng.standard_normal((n, L.dim))


def away_from_junctions(L, x, margin=1e-3):
    if not isinstance(L, sim.PiecewiseQuadraticWells):
        return x
    y = L.escape_coordinate(x)
    ok = (np.abs(y - L.c1) > margin) & (np.abs(y - L.c2) > margin)
    return x[ok]


# ---------------------------------------------------------------------------------------------
# geometry of the piecewise-quadratic wells (docs/theory.md §1.2)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("h_a,h_b,dl,h_a2,dl2", [(1.0, 1.0, 0.3, None, None), (4.0, 1.0, 0.5, 0.25, 0.9),
                                                 (0.25, 3.0, 2.0, 7.0, 1.1)])
def test_piecewise_geometry(h_a, h_b, dl, h_a2, dl2):
    L = sim.PiecewiseQuadraticWells(h_a, h_b, dl, h_a2=h_a2, barrier2=dl2)
    h_a2 = h_a if h_a2 is None else h_a2
    dl2 = dl if dl2 is None else dl2
    a1, b, a2 = L.critical_points()[:, 0]
    assert b == 0.0
    # docs/theory.md §1.2 relations
    assert (L.c1 - a1) ** 2 == pytest.approx(2 * dl * h_b / (h_a * (h_a + h_b)), rel=1e-12)
    assert b - L.c1 == pytest.approx(h_a * (L.c1 - a1) / h_b, rel=1e-12)
    assert (a2 - L.c2) ** 2 == pytest.approx(2 * dl2 * h_b / (h_a2 * (h_a2 + h_b)), rel=1e-12)
    assert L.path_parameter == pytest.approx(h_b / (h_a + h_b), rel=1e-15)
    # barriers and shared saddle height
    assert L.barrier(0, 0) == pytest.approx(dl, rel=1e-12)
    assert L.barrier(1, 0) == pytest.approx(dl2, rel=1e-12)
    assert float(L.value(np.array([a1]))) == pytest.approx(0.0, abs=1e-14)
    # C^1 join: value and slope continuous at the junctions; Hessian jumps as specified
    for c, h_well in ((L.c1, h_a), (L.c2, h_a2)):
        eps = 1e-9 * max(1.0, abs(c))
        lo, hi = np.array([c - eps]), np.array([c + eps])
        slope = float(L.gradient(np.array([c]))[0])
        # value continuous: the jump across [c-eps, c+eps] is the slope term plus O(eps^2 H)
        assert abs(float(L.value(hi) - L.value(lo)) - 2 * eps * slope) < 1e-13
        assert float(L.gradient(lo)[0]) == pytest.approx(float(L.gradient(hi)[0]), abs=1e-8)
    assert L.hessian(np.array([L.c1 - 1e-6]))[0, 0] == h_a
    assert L.hessian(np.array([0.5 * (L.c1 + L.c2)]))[0, 0] == -h_b
    assert L.hessian(np.array([L.c2 + 1e-6]))[0, 0] == h_a2
    # curvatures along the escape direction
    hae, hbe = L.curvatures(0, 0)
    assert (hae, hbe) == (h_a, -h_b)
    assert L.curvatures(1, 0) == (h_a2, -h_b)
    # gradient vanishes exactly at the critical points
    assert np.abs(L.gradient(L.critical_points())).max() < 1e-14


def test_piecewise_nd_rotation_spectators():
    L = LANDSCAPES[1]
    u = L.rotation
    for p, kind in zip(L.critical_points(), L.critical_kinds):
        lam = np.linalg.eigvalsh(L.hessian_at(p))
        expect = np.sort([L.hessian_eigenvalues(p)[0], 1.5, 3.0])
        np.testing.assert_allclose(lam, expect, rtol=1e-12)
        assert (lam < 0).sum() == (kind == "saddle")
    e = L.escape_direction(0, from_min=0)
    assert abs(abs(e @ u[:, 0]) - 1.0) < 1e-12
    assert e @ (L.saddles[0] - L.minima[0]) > 0
    assert L.barrier(0, 0) == pytest.approx(0.7, rel=1e-12)


def test_flat_sharp():
    L = sim.FlatSharpDoubleWell(0.5, 4.0, 1.0, 0.2)
    assert L.curvatures(L.flat_minimum, 0)[0] == 0.5
    assert L.curvatures(L.sharp_minimum, 0)[0] == 4.0
    assert L.barrier(0, 0) == pytest.approx(L.barrier(1, 0), rel=1e-12)
    with pytest.raises(ValueError, match="h_flat"):
        sim.FlatSharpDoubleWell(4.0, 0.5, 1.0, 0.2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(h_a=-1.0, h_b=1.0, barrier=1.0), "h_a"),
    (dict(h_a=1.0, h_b=0.0, barrier=1.0), "h_b"),
    (dict(h_a=1.0, h_b=1.0, barrier=0.0), "barrier"),
    (dict(h_a=1.0, h_b=1.0, barrier=1.0, h_a2=0.0), "h_a2"),
    (dict(h_a=1.0, h_b=1.0, barrier=1.0, barrier2=-1.0), "barrier2"),
    (dict(h_a=1.0, h_b=1.0, barrier=1.0, spectators=[1.0, -2.0]), "spectators"),
    (dict(h_a=1.0, h_b=1.0, barrier=1.0, spectators=[1.0], rotation=[[1.0, 1.0], [0.0, 1.0]]), "rotation"),
    (dict(h_a=1.0, h_b=1.0, barrier=1.0, center=[0.0, 1.0]), "center"),
])
def test_piecewise_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sim.PiecewiseQuadraticWells(**kwargs)


def test_other_bad_input():
    with pytest.raises(ValueError, match="barrier"):
        sim.QuarticDoubleWell(barrier=-1.0)
    with pytest.raises(ValueError, match="a "):
        sim.QuarticDoubleWell(a=0.0)
    with pytest.raises(ValueError, match="dim"):
        sim.StyblinskiTang(0)
    with pytest.raises(ValueError, match="tilt"):
        sim.CurvedDoubleWell(tilt=2.0)
    with pytest.raises(ValueError, match="from_min"):
        LANDSCAPES[0].barrier(5, 0)
    with pytest.raises(ValueError, match="at must be"):
        LANDSCAPES[0].exit_beyond(0, 0, at="nowhere")


# ---------------------------------------------------------------------------------------------
# smooth landscapes: critical points
# ---------------------------------------------------------------------------------------------
def test_quartic_geometry():
    L = sim.QuarticDoubleWell(0.8, 1.3)
    a1, b, a2 = L.critical_points()[:, 0]
    assert (a1, b, a2) == (-1.3, 0.0, 1.3)
    assert L.barrier(0, 0) == pytest.approx(0.8, rel=1e-14)
    hae, hbe = L.curvatures(0, 0)
    assert hae == pytest.approx(8 * 0.8 / 1.3**2, rel=1e-14)
    assert hbe == pytest.approx(-4 * 0.8 / 1.3**2, rel=1e-14)
    for y in L.inflection_points:
        assert abs(L.hessian(np.array([y]))[0, 0]) < 1e-14


def test_styblinski_tang_critical_points():
    r = ST_CRITICAL_ROOTS
    np.testing.assert_allclose(4 * r**3 - 32 * r + 5, 0.0, atol=1e-12)
    L = sim.StyblinskiTang(3)
    crit = L.critical_points()
    assert crit.shape == (27, 3)
    assert np.abs(L.gradient(crit)).max() < 1e-12
    kinds = L.critical_kinds
    assert kinds.count("min") == 8 and kinds.count("saddle") == 12 and kinds.count("max") == 1
    for p, k in zip(crit, kinds):
        n_neg = int((np.linalg.eigvalsh(L.hessian_at(p)) < 0).sum())
        assert {"min": 0, "saddle": 1, "max": 3}.get(k, int(k.split("-")[-1]) if "-" in k else -1) == n_neg
    # region_of indexes critical_points
    x = points(L, 200)
    np.testing.assert_array_equal(crit[L.region_of(x)], L.local_critical_point(x))
    # global minimum value
    assert L.value(np.full(3, r[0])) == pytest.approx(-39.16616570377142 * 3, rel=1e-12)


def test_curved_double_well_critical_points_vs_reduced_cubic():
    L = sim.CurvedDoubleWell(barrier=1.0, a=1.0, tilt=0.25, k=4.0, gamma=0.5)
    crit = L.critical_points()
    assert np.abs(L.gradient(crit)).max() < 1e-12
    # independent route: y = gamma x^2 and 4 dL u (u^2 - 1)/a + tau = 0
    xs = np.sort(np.roots([4.0, 0.0, -4.0, 0.25]).real)
    np.testing.assert_allclose(crit[:, 0], xs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(crit[:, 1], 0.5 * xs**2, rtol=1e-10, atol=1e-12)
    assert L.critical_kinds == ["min", "saddle", "min"]
    # non-separable: Hessian at the saddle is not diagonal
    hb = L.hessian_at(L.saddles[0])
    assert abs(hb[0, 1]) > 0.1
    e = L.escape_direction(0, from_min=0)
    assert e @ hb @ e < 0 and abs(e[1]) > 1e-3
    assert L.barrier(0, 0) > L.barrier(1, 0)  # tilt deepens the left well


# ---------------------------------------------------------------------------------------------
# analytic derivatives vs finite differences; compiled vs NumPy
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", LANDSCAPES, ids=IDS)
def test_gradient_hessian_vs_finite_differences(L):
    x = away_from_junctions(L, points(L))
    eye = np.eye(L.dim)
    fd_g = np.stack([(L.value(x + FD_H * e) - L.value(x - FD_H * e)) / (2 * FD_H) for e in eye], axis=-1)
    scale = 1.0 + np.abs(L.gradient(x)).max()
    np.testing.assert_allclose(L.gradient(x), fd_g, atol=FD_TOL * scale)
    fd_h = np.stack([(L.gradient(x + FD_H * e) - L.gradient(x - FD_H * e)) / (2 * FD_H) for e in eye], axis=-1)
    scale = 1.0 + np.abs(L.hessian(x)).max()
    np.testing.assert_allclose(L.hessian(x), fd_h, atol=FD_TOL * scale)
    np.testing.assert_allclose(L.hessian(x), np.swapaxes(L.hessian(x), -1, -2), atol=0)


@pytest.mark.parametrize("L", LANDSCAPES, ids=IDS)
def test_compiled_vs_numpy(L):
    lf = L.numba_functions()
    x = points(L, 30, seed=1)
    g, h, lam, cp = np.empty(L.dim), np.empty((L.dim, L.dim)), np.empty(L.dim), np.empty(L.dim)
    for xi in x:
        lf.gradient(xi, L.params, g)
        lf.hessian(xi, L.params, h)
        np.testing.assert_allclose(g, L.gradient(xi), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(h, L.hessian(xi), rtol=1e-13, atol=1e-13)
        if lf.hessian_eigenvalues is not None:
            lf.hessian_eigenvalues(xi, L.params, lam)
            np.testing.assert_allclose(lam, L.hessian_eigenvalues(xi), rtol=1e-13, atol=1e-13)
        lf.critical_point(xi, L.params, cp)
        np.testing.assert_allclose(cp, L.local_critical_point(xi), rtol=1e-13, atol=1e-13)


def test_one_compiled_function_per_class():
    a = sim.PiecewiseQuadraticWells(1.0, 1.0, 0.3)
    b = sim.PiecewiseQuadraticWells(2.0, 3.0, 0.1, spectators=[1.0])
    assert a.numba_functions() is b.numba_functions()


@pytest.mark.parametrize("L", [LANDSCAPES[0], LANDSCAPES[1], LANDSCAPES[3], LANDSCAPES[6]], ids=str)
def test_torch_matches_numpy(L):
    torch = pytest.importorskip("torch")
    x = points(L, 10)
    xt = torch.as_tensor(x, dtype=torch.float64)
    for name in ("value", "gradient", "hessian"):
        np.testing.assert_allclose(getattr(L, name)(xt).numpy(), getattr(L, name)(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(L.region_of(xt).numpy(), L.region_of(x))
    z = np.random.default_rng(2).standard_normal(x.shape)
    for noise in (sim.HessianNoise(4.0, floor=0.1), LocalHessianNoise(4.0, floor=0.1)):
        np.testing.assert_allclose(noise.apply(xt, torch.as_tensor(z), L).numpy(), noise.apply(x, z, L),
                                   rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Hessian noise: eigenbasis fast path == eigh path; compiled == NumPy; local == Hessian on wells
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", LANDSCAPES, ids=IDS)
@pytest.mark.parametrize("floor", [0.0, 0.2])
def test_noise_apply_compiled_vs_numpy(L, floor):
    x = points(L, 30, seed=4)
    z = np.random.default_rng(5).standard_normal(x.shape)
    for noise in (sim.HessianNoise(3.0, floor), LocalHessianNoise(3.0, floor)):
        ref = noise.apply(x, z, L)
        # the generic (eigh) square root agrees with the fast path
        np.testing.assert_allclose(ref, np.einsum("pij,pj->pi", noise.sqrt_covariance(x, L), z),
                                   rtol=1e-12, atol=1e-12)
        bound = noise.bind(L)
        out = np.empty(L.dim)
        for xi, zi, ri in zip(x, z, ref):
            bound.apply(xi, zi, L.params, bound.params, out, bound.scratch())
            np.testing.assert_allclose(out, ri, rtol=1e-12, atol=1e-12)


def test_eigenbasis_fast_path_is_used():
    L = LANDSCAPES[1]
    bound = sim.HessianNoise(2.0).bind(L)
    assert bound.params.size == 2 + L.dim**2  # [1/B, floor, U]
    x = points(L, 5)
    z = np.ones_like(x)
    np.testing.assert_allclose(eigenbasis_apply(x, z, L, 0.5, 0.0),
                               sim.noise.abs_sqrt(L.hessian(x), 0.5) @ np.ones(L.dim), rtol=1e-12)


@pytest.mark.parametrize("L", LANDSCAPES[:3], ids=IDS[:3])
def test_local_equals_hessian_noise_on_piecewise(L):
    x = points(L, 200, seed=6)
    z = np.random.default_rng(7).standard_normal(x.shape)
    hn, ln = sim.HessianNoise(5.0), LocalHessianNoise(5.0)
    np.testing.assert_array_equal(ln.covariance(x, L), hn.covariance(x, L))
    np.testing.assert_array_equal(ln.apply(x, z, L), hn.apply(x, z, L))
    bh, bl = hn.bind(L), ln.bind(L)
    o1, o2 = np.empty(L.dim), np.empty(L.dim)
    for xi, zi in zip(x, z):
        bh.apply(xi, zi, L.params, bh.params, o1, bh.scratch())
        bl.apply(xi, zi, L.params, bl.params, o2, bl.scratch())
        np.testing.assert_array_equal(o1, o2)


def test_local_differs_from_hessian_on_quartic():
    L = sim.QuarticDoubleWell(1.0, 1.0)
    x = np.array([[-0.8], [0.3], [0.9]])
    c_loc = LocalHessianNoise(1.0).covariance(x, L)[:, 0, 0]
    np.testing.assert_allclose(c_loc, [8.0, 4.0, 8.0], rtol=1e-14)
    assert not np.allclose(c_loc, sim.HessianNoise(1.0).covariance(x, L)[:, 0, 0])
    with pytest.raises(TypeError, match="LocalHessianNoise"):
        LocalHessianNoise(1.0).bind(sim.QuadraticSaddle([1.0]))


# ---------------------------------------------------------------------------------------------
# exits and ensembles
# ---------------------------------------------------------------------------------------------
def test_exit_beyond():
    L = LANDSCAPES[1]
    a, b, a2 = L.critical_points()
    ex_s, ex_m = L.exit_beyond(0, 0, at="saddle"), L.exit_beyond(0, 0, at="next_minimum")
    assert ex_s.label(a[None])[0] == 0 and ex_m.label(a[None])[0] == 0
    e = L.escape_direction(0, 0)
    assert ex_s.label((b + 1e-9 * e)[None])[0] == 1 and ex_s.label((b - 1e-9 * e)[None])[0] == 0
    assert ex_m.label(a2[None])[0] == 1 and ex_m.label(b[None])[0] == 0
    # from the other minimum the exit points the other way
    ex_back = L.exit_beyond(0, 1)
    assert ex_back.label(a[None])[0] == 1 and ex_back.label(a2[None])[0] == 0


@pytest.mark.parametrize("L,noise", [
    (sim.PiecewiseQuadraticWells(2.0, -0.5, 0.02, h_a2=5.0, spectators=[1.5, 3.0],
                                 rotation=sim.random_rotation(3, seed=3)), sim.HessianNoise(2.0)),
    (sim.PiecewiseQuadraticWells(1.0, 1.0, 0.01), LocalHessianNoise(4.0)),
    (sim.CurvedDoubleWell(barrier=0.01, tilt=0.001), sim.HessianNoise(0.5, floor=0.3)),
], ids=["pq-3d-hessian", "pq-1d-local", "curved-eigh"])
def test_run_ensemble_numba_vs_numpy(L, noise):
    """Path by path: same exit steps, states equal to round-off (different operation order)."""
    x0 = L.minima[0]
    prob = sim.Problem(L, noise, sim.SGD(0.05), x0, exit=L.exit_beyond(0, 0, at="saddle"))
    kw = dict(n_paths=32, t_max=10.0, save_times=[0.0, 1.0, 5.0], seed=11, store_samples=True)
    r_nb = sim.run_ensemble(prob, backend="numba", **kw)
    r_np = sim.run_ensemble(prob, backend="numpy", **kw)
    np.testing.assert_array_equal(r_nb.exit_step, r_np.exit_step)
    np.testing.assert_allclose(r_nb.samples, r_np.samples, rtol=1e-10, atol=1e-10, equal_nan=True)
    assert r_nb.escaped.sum() > 0  # the check exercises exits


@pytest.mark.slow
def test_eigenbasis_fast_path_faster_than_eigh():
    """The fixed-eigenbasis path (no eigh per step) beats the generic eigh path on the same 2-D wells.

    Same random numbers, same result to round-off; timing compared on the same machine and run, so
    the check does not depend on the machine's speed (best of 2 to reduce load noise).
    """
    import time

    L = sim.PiecewiseQuadraticWells(1.0, 1.0, 0.3, spectators=[2.0], rotation=sim.random_rotation(2, 1))
    L_eigh = sim.PiecewiseQuadraticWells(1.0, 1.0, 0.3, spectators=[2.0], rotation=sim.random_rotation(2, 1))
    L_eigh.hessian_eigenbasis = None  # forces the eigh path
    timings, results = [], []
    for land in (L, L_eigh):
        prob = sim.Problem(land, sim.HessianNoise(1.0), sim.SGDLangevin(0.1, dt=0.01), land.minima[0])
        sim.run_ensemble(prob, n_paths=8, t_max=0.1)  # compile
        best = np.inf
        for _ in range(2):
            t0 = time.perf_counter()
            res = sim.run_ensemble(prob, n_paths=512, t_max=5.0, save_times=[5.0])
            best = min(best, time.perf_counter() - t0)
        timings.append(best)
        results.append(res)
    np.testing.assert_allclose(results[0].mean, results[1].mean, rtol=1e-9)
    assert timings[0] < timings[1], timings
