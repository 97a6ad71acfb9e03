"""Counter-based Philox streams (sim/backends/philox.py): published known-answer vectors, Triton's
implementation (in its CPU interpreter), the compiled scalar functions against the NumPy reference,
statelessness (a normal depends only on (seed, path, step, index)), and the distribution of the
normals.

Tolerance of compiled vs NumPy normals: the integers are exact; the normals go through log, sqrt
and cos/sin, which the compiled code takes from the C library and NumPy from its own (possibly
SIMD) implementations, each within 1–2 ulp; 4e-16 relative plus 1e-16 absolute (values near 0) covers
two such roundings."""
import numpy as np
import pytest
from conftest import ALPHA, N_DRAWS, N_SE
from scipy import stats

from optdyn.sim.backends import philox as P

U = np.uint64
F = 0xFFFFFFFF

#: Known-answer vectors of Philox4x32-10 (counter, key, output) from the Random123 distribution's
#: ``kat_vectors`` (Salmon et al., SC11).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((F, F, F, F), (F, F), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_known_answer_vectors(ctr, key, expected):
    args = [U(v) for v in ctr + key]
    assert tuple(int(w) for w in P.philox4x32(*args)) == expected
    ref = P._np_philox([np.array([U(v)]) for v in ctr], *key)
    assert tuple(int(w[0]) for w in ref) == expected


def test_compiled_normals_match_numpy_reference():
    seed, start, n, nz = 2**40 + 17, 2**33 - 5, 300, 5  # paths across the 32-bit boundary, odd nz
    k0, k1 = (U(v) for v in P.philox_key(seed))
    ref = P.PhiloxStreams(seed, start, n)
    for step in (1, 2, 12345, P.MAX_STEPS):
        out = np.empty((n, nz))
        P.fill_philox_normals(k0, k1, start, step, out)
        np.testing.assert_allclose(out, ref.normals(step, nz), rtol=4e-16, atol=1e-16)


def test_normals_depend_only_on_seed_path_step():
    a = P.PhiloxStreams(5, 0, 40)
    b = P.PhiloxStreams(5, 10, 20)
    mask = np.zeros(40, bool)
    mask[[3, 17, 25]] = True
    np.testing.assert_array_equal(a.normals(7, 3)[10:30], b.normals(7, 3))  # any path_start
    np.testing.assert_array_equal(a.normals(7, 3)[mask], a.normals(7, 3, mask=mask))  # any subset
    np.testing.assert_array_equal(a.normals(9, 3), a.normals(9, 3))  # any order: stateless
    assert not np.array_equal(a.normals(7, 3), a.normals(8, 3))
    assert not np.array_equal(a.normals(7, 3), P.PhiloxStreams(6, 0, 40).normals(7, 3))
    # an odd count is the prefix of the next even one (the last sine is discarded)
    np.testing.assert_array_equal(a.normals(7, 3), a.normals(7, 4)[:, :3])


def test_normal_distribution():
    """N_DRAWS normals over paths × steps × index: mean 0 and variance 1 within N_SE standard errors,
    Kolmogorov–Smirnov against N(0, 1), and no lag-one correlation between steps or between the two
    normals of one Box–Muller pair."""
    s = P.PhiloxStreams(123, 0, N_DRAWS // 20)
    z = np.stack([s.normals(k, 2) for k in range(1, 11)])  # (step, path, 2)
    flat = z.ravel()
    n = flat.size
    assert abs(flat.mean()) < N_SE / np.sqrt(n)
    assert abs(flat.var() - 1.0) < N_SE * np.sqrt(2.0 / n)
    assert stats.kstest(flat, "norm").pvalue > ALPHA
    for a, b in ((z[:-1], z[1:]), (z[..., 0], z[..., 1])):
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < N_SE / np.sqrt(a.size)


_TRITON = """
import os, sys
os.environ["TRITON_INTERPRET"] = "1"
try:
    import numpy as np, torch, triton, triton.language as tl
except ImportError as exc:
    print(exc); sys.exit(77)

@triton.jit
def words(out_ptr, seed, n: tl.constexpr):
    offs = tl.arange(0, n)
    a, b, c, d = tl.randint4x(seed, offs, n_rounds=10)
    for i, w in enumerate((a, b, c, d)):
        tl.store(out_ptr + offs * 4 + i, w)

out = torch.zeros(64 * 4, dtype=torch.int32)
words[(1,)](out, {seed}, 64)
print(" ".join(str(v) for v in out.numpy().view(np.uint32)))
"""


def test_matches_triton_philox():
    """An independent implementation: Triton's ``tl.randint4x`` (Philox4x32-10, counter
    ``(offset, 0, 0, 0)``, key ``(seed, 0)``) in Triton's CPU interpreter, 64 counters."""
    import os
    import subprocess
    import sys

    seed = 1234567
    out = subprocess.run([sys.executable, "-c", _TRITON.format(seed=seed)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "TRITON_INTERPRET": "1"})
    if out.returncode == 77:
        pytest.skip(f"triton/torch not importable: {out.stdout.strip()}")
    assert out.returncode == 0, out.stderr[-2000:]
    got = np.array(out.stdout.split(), dtype=np.uint64).reshape(64, 4)
    zero = np.zeros(64, np.uint64)
    ref = P._np_philox([np.arange(64, dtype=np.uint64), zero, zero, zero], seed, 0)
    np.testing.assert_array_equal(got, np.stack(ref, axis=1))
