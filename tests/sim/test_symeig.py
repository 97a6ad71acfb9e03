"""Closed-form 2×2 / 3×3 symmetric eigen-decompositions (sim.symeig) and Hessian noise built on them.

Tolerances: ``numpy.linalg.eigh`` (LAPACK) and the closed forms are both backward stable, so
eigenvalues agree to a few ulps of the matrix scale, ``|Δλ| <= c·eps·max|h|``; we allow 1e-13 relative
to ``max|h|`` (c ≈ 450, covering the few dozen operations of the 3×3 path).  Eigenvectors are
determined only up to sign and, inside a (near-)degenerate eigenspace, only as a subspace: their
perturbation is ``eps/gap`` (Davis–Kahan), so vectors are compared (up to sign) only where the relative gap
exceeds 1e-6 (tolerance 1e-13/gap), and everywhere through the reconstruction ``U diag(λ) U^T = H``
and orthonormality ``U^T U = I``.
"""
import warnings

import numpy as np
import pytest

from optdyn import sim
from optdyn.sim import noise as noise_mod
from optdyn.sim.symeig import eigh2, eigh2_reference, eigh3, eigh3_reference

TOL = 1e-13


def random_symmetric(rng, n, count):
    a = rng.standard_normal((count, n, n))
    return 0.5 * (a + np.swapaxes(a, 1, 2))


def near_degenerate(rng, n, count):
    """Matrices with two eigenvalues 1e-16..1e-4 apart (and, every other one, three equal ones in 3-D)."""
    out = []
    for k in range(count):
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        lam = rng.standard_normal(n)
        lam[1] = lam[0] + 10.0 ** rng.uniform(-16, -4) * rng.choice([-1.0, 1.0])
        if n == 3 and k % 2:
            lam[2] = lam[1]
        out.append(q @ np.diag(lam) @ q.T)
    return out


def special(n):
    big = np.diag([1e300, -1e300, 3.0][:n])
    tiny = np.diag([1e-300, 2e-300, -1e-300][:n])
    return [np.eye(n), 2.5 * np.eye(n), np.zeros((n, n)), big, tiny, np.diag(np.arange(n, 0, -1.0)),
            np.diag([1.0, 1.0, 2.0][:n]) if n == 3 else np.diag([1.0, 1.0 + 1e-17])]


def cases(n, seed):
    rng = np.random.default_rng(seed)
    return (list(random_symmetric(rng, n, 400)) + near_degenerate(rng, n, 200)
            + [np.diag(d) for d in rng.standard_normal((50, n))] + special(n))


FUNCS = {2: (eigh2, eigh2_reference), 3: (eigh3, eigh3_reference)}


@pytest.mark.parametrize("n", [2, 3])
def test_closed_form_vs_lapack(n):
    compiled, reference = FUNCS[n]
    hs = cases(n, seed=n)
    lam_ref, u_ref = reference(np.array(hs))
    for h, l_np, u_np in zip(hs, lam_ref, u_ref):
        lam, u = np.empty(n), np.empty((n, n))
        compiled(h, lam, u)
        scale = np.abs(h).max() or 1.0
        lam_la, u_la = np.linalg.eigh(h)
        np.testing.assert_allclose(lam / scale, lam_la / scale, rtol=0, atol=TOL)
        assert np.all(np.diff(lam) >= -TOL * scale)  # ascending
        np.testing.assert_allclose(u.T @ u, np.eye(n), rtol=0, atol=TOL)
        np.testing.assert_allclose((u * lam) @ u.T / scale, h / scale, rtol=0, atol=TOL)
        gap = np.diff(lam_la).min() / scale
        if gap > 1e-6:  # vectors determined up to sign
            signs = np.sign(np.sum(u * u_la, axis=0))
            np.testing.assert_allclose(u * signs, u_la, rtol=0, atol=TOL / gap)
        # NumPy reference == compiled function (same formulas)
        np.testing.assert_allclose(l_np / scale, lam / scale, rtol=0, atol=TOL)
        np.testing.assert_allclose((u_np * l_np) @ u_np.T / scale, h / scale, rtol=0, atol=TOL)
        if gap > 1e-6:
            np.testing.assert_allclose(u_np, u, rtol=0, atol=TOL / gap)


@pytest.mark.parametrize("n", [2, 3])
def test_diagonal_is_exact(n):
    """A diagonal matrix: eigenvalues are its sorted diagonal exactly, vectors signed unit vectors."""
    compiled, reference = FUNCS[n]
    d = np.array([3.0, -1.0, 0.5][:n])
    lam, u = np.empty(n), np.empty((n, n))
    compiled(np.diag(d), lam, u)
    np.testing.assert_array_equal(lam, np.sort(d))
    np.testing.assert_array_equal(np.abs(u), np.eye(n)[:, np.argsort(d)])
    lr, ur = reference(np.diag(d))
    np.testing.assert_array_equal(lr, np.sort(d))


@pytest.mark.parametrize("n", [2, 3])
def test_non_finite_input(n):
    compiled, reference = FUNCS[n]
    h = np.eye(n)
    h[0, n - 1] = h[n - 1, 0] = np.inf
    lam, u = np.empty(n), np.empty((n, n))
    if n == 3:
        compiled(h, lam, u)
        assert np.isnan(lam).all()
        assert np.isnan(reference(h)[0]).all()
    with pytest.raises(ValueError, match=r"\(\.\.\., 2, 2\)"):
        eigh2_reference(np.eye(3))


# ---------------------------------------------------------------------------------------------
# Hessian noise on landscapes without a fixed eigenbasis: closed form (dim 1-3), warned eigh (dim >= 4)
# ---------------------------------------------------------------------------------------------
def general_quartic(dim):
    """A quartic double well with its fixed eigenbasis hidden, so Hessian noise takes the general path."""
    rest = [2.0, 0.5, 1.5][:dim - 1]
    land = sim.QuarticDoubleWell(0.8, 1.3, spectators=rest, rotation=sim.random_rotation(dim, seed=dim))
    land.hessian_eigenbasis = None
    return land


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_closed_form_noise_equals_lapack_path(dim):
    land = general_quartic(dim)
    noise = sim.HessianNoise(3.0, floor=0.1)
    bound = noise.bind(land)
    lapack = noise_mod._make_apply_hessian_factor(land.numba_functions().hessian, dim)
    rng = np.random.default_rng(dim)
    x = 1.5 * rng.standard_normal((40, dim))
    z = rng.standard_normal((40, dim))
    ref = noise.apply(x, z, land)  # NumPy reference (numpy.linalg.eigh)
    o1, o2 = np.empty(dim), np.empty(dim)
    for xi, zi, ri in zip(x, z, ref):
        bound.apply(xi, zi, land.params, bound.params, o1, bound.scratch())
        lapack(xi, zi, land.params, bound.params, o2, bound.scratch())
        np.testing.assert_allclose(o1, ri, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(o1, o2, rtol=1e-12, atol=1e-12)
    out = np.empty(dim)
    with np.errstate(all="ignore"):  # (as Python under NUMBA_DISABLE_JIT, inf - inf would raise)
        bound.apply(np.full(dim, np.inf), z[0], land.params, bound.params, out, bound.scratch())
    assert np.isnan(out).all()  # a diverging path is marked, not raised


def test_slow_path_warns_once_naming_why():
    land = general_quartic(4)
    noise_mod._WARNED.discard(("HessianNoise", "QuarticDoubleWell", 4))
    with pytest.warns(noise_mod.SlowPathWarning, match=r"no fixed eigenbasis.*dim <= 3.*eigh"):
        sim.HessianNoise(1.0).bind(land)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.HessianNoise(2.0).bind(land)  # once per landscape class and dimension
        sim.HessianNoise(1.0).bind(general_quartic(3))  # closed form: no warning


def test_eigh2_projector_is_the_spectral_projector():
    """P from eigh2_projector equals v v^T of eigh2's top eigenvector (and eigenvalues agree)."""
    from optdyn.sim.symeig import eigh2_projector

    for h in cases(2, seed=7):
        lo, hi, c2, s2 = eigh2_projector(h[0, 0], h[0, 1], h[1, 1])
        lam, u = np.empty(2), np.empty((2, 2))
        eigh2(h, lam, u)
        scale = np.abs(h).max() or 1.0
        np.testing.assert_allclose(np.array([lo, hi]) / scale, lam / scale, rtol=0, atol=TOL)
        p = 0.5 * np.array([[1 + c2, s2], [s2, 1 - c2]])
        if lam[1] - lam[0] > 1e-6 * scale:
            np.testing.assert_allclose(p, np.outer(u[:, 1], u[:, 1]), rtol=0, atol=TOL * scale / (lam[1] - lam[0]))
        np.testing.assert_allclose(lo * (np.eye(2) - p) + hi * p, h, rtol=0, atol=TOL * scale)
