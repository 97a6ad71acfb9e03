"""Per-path random streams: numba == NumPy bit for bit (ziggurat fast, wedge and tail paths),
normality (including the tail), independence of streams."""
import numpy as np
import pytest
from scipy import stats

from conftest import ALPHA, N_DRAWS, N_SE
from optdyn.sim._jit import jit
from optdyn.sim.backends.rng import ZIGGURAT_R, PathStreams, fill_normals, next_u64, seed_state


@jit
def _numba_normals(seed, path_start, n_paths, draws, out):
    """Per path: successive ``fill_normals`` calls of the sizes in ``draws``, concatenated."""
    for p in range(n_paths):
        s = np.empty(4, np.uint64)
        seed_state(seed, path_start + p, s)
        pos = 0
        for d in draws:
            z = np.empty(d)
            fill_normals(s, z)
            out[p, pos:pos + d] = z
            pos += d


@jit
def _numba_u64(seed, path, n, out):
    s = np.empty(4, np.uint64)
    seed_state(seed, path, s)
    for i in range(n):
        out[i] = next_u64(s)


def numba_normals(seed, path_start, n_paths, draws):
    draws = np.asarray(draws, dtype=np.int64)
    out = np.empty((n_paths, int(draws.sum())))
    _numba_normals(np.uint64(seed), np.int64(path_start), n_paths, draws, out)
    return out


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 1])
@pytest.mark.parametrize("path_start", [0, 7, 10**9])
@pytest.mark.parametrize("draws", [[1, 1, 1, 1, 1], [2, 2, 2], [3, 3, 1, 5], [1, 2, 3, 4]])
def test_numba_equals_numpy_streams(seed, path_start, draws):
    n_paths = 9
    st = PathStreams(seed, path_start, n_paths)
    ref = np.concatenate([st.normals(d) for d in draws], axis=1)
    got = numba_normals(seed, path_start, n_paths, draws)
    assert np.array_equal(got, ref)  # bit for bit
    # the streams end in the same state: both consumed the same number of 64-bit draws
    st2 = PathStreams(seed, path_start, n_paths)
    st2.normals(int(np.sum(draws)))
    assert np.array_equal(st.state, st2.state)


@pytest.mark.parametrize("seed,path_start", [(0, 0), (31, 5000), (2**62 + 1, 10**9)])
@pytest.mark.parametrize("draws", [[1] * 7, [2, 3, 2], [5]])
def test_numba_equals_numpy_through_wedge_and_tail(seed, path_start, draws):
    """Enough draws that the slow path (wedge tests, restarts, tail) occurs many times: the
    vectorised fast path plus the compiled slow path on the rejected paths reproduce the scalar
    kernel bit for bit, and the following draws stay aligned (same consumption per normal)."""
    n_paths = 3000
    st = PathStreams(seed, path_start, n_paths)
    ref = np.concatenate([st.normals(d) for d in draws], axis=1)
    got = numba_normals(seed, path_start, n_paths, draws)
    assert np.array_equal(got, ref)
    n_tail = int(np.count_nonzero(np.abs(ref) > ZIGGURAT_R))  # only the tail sampler goes beyond R
    assert n_tail > 0  # the tail path occurred
    assert st.n_slow > n_tail  # and the wedge path (every slow normal below R took it)
    assert np.array_equal(st.next_u64(), _next_after(seed, path_start, n_paths, int(np.sum(draws))))


def _next_after(seed, path_start, n_paths, n_normals):
    """The 64-bit draw that follows ``n_normals`` normals of each path, from the numba streams."""
    out = np.empty(n_paths, np.uint64)
    _numba_next_after(np.uint64(seed), np.int64(path_start), np.int64(n_normals), out)
    return out


@jit
def _numba_next_after(seed, path_start, n_normals, out):
    z = np.empty(n_normals)
    for p in range(out.shape[0]):
        s = np.empty(4, np.uint64)
        seed_state(seed, path_start + p, s)
        fill_normals(s, z)
        out[p] = next_u64(s)


def test_raw_u64_equal():
    n = 50
    out = np.empty(n, np.uint64)
    _numba_u64(np.uint64(99), np.int64(3), n, out)
    st = PathStreams(99, 3, 1)
    ref = np.array([st.next_u64()[0] for _ in range(n)], dtype=np.uint64)
    assert np.array_equal(out, ref)


def test_masked_draws_match_per_path_streams():
    """Paths that stop drawing (masked out) keep their stream; the others continue exactly as the
    numba per-path stream, whatever the other paths did."""
    seed, n_paths, dim = 5, 600, 3
    st = PathStreams(seed, 0, n_paths)
    alive = np.ones(n_paths, bool)
    rows = [[] for _ in range(n_paths)]
    stop_after = np.arange(n_paths) % 5  # path p stops after stop_after[p] + 1 draws
    for k in range(6):
        z = st.normals(dim, mask=alive)
        for r, p in enumerate(np.flatnonzero(alive)):
            rows[p].append(z[r])
        alive &= ~(stop_after == k)
    full = numba_normals(seed, 0, n_paths, [dim] * 6)
    assert st.n_slow > 0  # rejected draws happened while other paths were masked out
    for p in range(n_paths):
        got = np.concatenate(rows[p])
        assert got.size == dim * (stop_after[p] + 1)
        assert np.array_equal(got, full[p, :got.size])


def test_normality(rng):
    z = numba_normals(2024, 0, 200, [N_DRAWS // 200]).ravel()
    n = z.size
    # KS against N(0, 1) at level ALPHA.
    assert stats.kstest(z, "norm").pvalue > ALPHA
    # Mean: SE = 1/sqrt(n).  Variance: SE of the sample variance of N(0,1) is sqrt(2/(n-1)).
    assert abs(z.mean()) < N_SE / np.sqrt(n)
    assert abs(z.var(ddof=1) - 1.0) < N_SE * np.sqrt(2.0 / (n - 1))
    # Fourth moment (kurtosis 3): Var(z^4) = E z^8 - 9 = 105 - 9 = 96.
    assert abs(np.mean(z**4) - 3.0) < N_SE * np.sqrt(96.0 / n)


def test_tail_probability():
    """The ziggurat samples |z| > R by a separate (tail) algorithm: check P(|z| > 3.5) and
    P(|z| > R) against their exact values within N_SE binomial standard errors, and that the
    two signs are balanced there."""
    z = numba_normals(99, 0, 1000, [4000]).ravel()
    n = z.size
    for c in (3.5, ZIGGURAT_R):
        p = 2.0 * stats.norm.sf(c)
        assert abs(np.mean(np.abs(z) > c) - p) < N_SE * np.sqrt(p * (1 - p) / n)
    big = z[np.abs(z) > 3.5]
    assert abs(np.mean(big > 0) - 0.5) < N_SE * 0.5 / np.sqrt(big.size)
    assert stats.kstest(np.abs(big), lambda x: 1 - stats.norm.sf(x) / stats.norm.sf(3.5)).pvalue > ALPHA


def test_pairs_uncorrelated():
    """Successive normals of a stream (in pairs and one pair apart) are uncorrelated."""
    z = numba_normals(7, 0, 100, [2000]).reshape(-1, 2)
    n = z.shape[0]
    r = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert abs(r) < N_SE / np.sqrt(n)  # SE of a correlation near 0 is 1/sqrt(n)
    r1 = np.corrcoef(z[:-1, 0], z[1:, 0])[0, 1]
    assert abs(r1) < N_SE / np.sqrt(n)


def test_streams_differ_between_paths_and_seeds():
    a = numba_normals(1, 0, 64, [16])
    assert len({row.tobytes() for row in a}) == 64  # all paths different
    b = numba_normals(2, 0, 64, [16])
    assert not np.any(np.all(a == b, axis=1))
    # Different paths are independent: the cross-path correlation is at noise level.
    z = numba_normals(3, 0, 2, [N_DRAWS // 2])
    r = np.corrcoef(z[0], z[1])[0, 1]
    assert abs(r) < N_SE / np.sqrt(z.shape[1])
    # Path offsets address the same streams: paths 10.. of a start-0 run == a start-10 run.
    c = numba_normals(1, 10, 54, [16])
    assert np.array_equal(a[10:], c)
