r"""Exact moments of linear-Gaussian models: the "exact model" of docs/theory.md §7 at saddles.

* :func:`linear_sde_moments` — :math:`dX = (AX + b)\,dt + dM`, :math:`d\langle M\rangle = Q\,dt`
  (any :math:`A`, constant :math:`Q`): mean by an augmented matrix exponential, covariance by Van
  Loan's block exponential, :math:`\Sigma(t) = e^{At}\Sigma_0 e^{A^\top t} + \int_0^t e^{As} Q e^{A^\top s} ds`.
* :func:`affine_recursion_moments` — :math:`x_{k+1} = F x_k + b + \epsilon_k`,
  :math:`\operatorname{Cov}\epsilon_k = Q`: the exact mean/covariance recursion (discrete SGD on a
  quadratic, or the Euler–Maruyama scheme itself).
* :func:`exact_sde_moments`, :func:`exact_scheme_moments` — the same for a :class:`~sim.Problem`
  (position block); :func:`exact_sde_state_moments`, :func:`exact_scheme_state_moments` — the full
  stacked state (position and optimizer state / velocity) when the model acts on it.

References
----------
C. F. Van Loan, "Computing integrals involving the matrix exponential", IEEE TAC 23 (1978).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from .. import _validation as V

__all__ = ["linear_sde_moments", "affine_recursion_moments", "exact_sde_moments",
           "exact_scheme_moments", "exact_sde_state_moments", "exact_scheme_state_moments"]


def _check_system(A, b, Q, mean0, cov0):
    A = V.finite_array("A", A, ndim=2)
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"A must be square, got shape {A.shape}")
    b = np.zeros(n) if b is None else V.vector("b", b, n)
    Q = V.symmetric_matrix("Q", Q, n)
    mean0 = V.vector("mean0", mean0, n)
    cov0 = np.zeros((n, n)) if cov0 is None else V.symmetric_matrix("cov0", cov0, n)
    return A, b, Q, mean0, cov0


#: Up to this state size the covariance is integrated in vectorised (Kronecker) form, which stays
#: accurate for stiff drift matrices (e.g. an underdamped model near its overdamped limit); above
#: it Van Loan's block exponential is used (it contains :math:`e^{-At}` and loses accuracy, or
#: overflows, when :math:`\|A\| t` is large).
KRONECKER_MAX_DIM = 16


def _covariance_propagator(A, Q, t):
    r"""``(Phi, W)``: :math:`\Phi = e^{At}`, :math:`W = \int_0^t e^{As} Q e^{A^\top s} ds`."""
    n = A.shape[0]
    if n <= KRONECKER_MAX_DIM:
        # vec(Σ)' = (A⊗I + I⊗A) vec Σ + vec Q, integrated with one augmented exponential
        k = np.kron(A, np.eye(n)) + np.kron(np.eye(n), A)
        aug = np.zeros((n * n + 1, n * n + 1))
        aug[:-1, :-1], aug[:-1, -1] = k, Q.ravel()
        w = expm(aug * t)[:-1, -1].reshape(n, n)
        return expm(A * t), w
    vl = np.zeros((2 * n, 2 * n))
    vl[:n, :n], vl[:n, n:], vl[n:, n:] = -A, Q, A.T
    f = expm(vl * t)
    phi = f[n:, n:].T  # e^{At}
    return phi, phi @ f[:n, n:]


def linear_sde_moments(A, b, Q, mean0, cov0, times):
    r"""Exact mean ``(n_t, n)`` and covariance ``(n_t, n, n)`` of a linear SDE at ``times``.

    The mean comes from the augmented exponential of ``[[A, b], [0, 0]]``; the covariance
    :math:`\Sigma(t) = e^{At}\Sigma_0 e^{A^\top t} + \int_0^t e^{As}Qe^{A^\top s}ds` from the
    vectorised Lyapunov equation (state size ≤ :data:`KRONECKER_MAX_DIM`, robust to stiffness) or
    Van Loan's block exponential (larger systems).
    """
    A, b, Q, mean0, cov0 = _check_system(A, b, Q, mean0, cov0)
    t = np.atleast_1d(V.finite_array("times", times))
    if np.any(t < 0):
        raise ValueError("times must be >= 0")
    n = A.shape[0]
    means, covs = np.empty((t.size, n)), np.empty((t.size, n, n))
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n], aug[:n, n] = A, b
    for i, ti in enumerate(t):
        e = expm(aug * ti)
        means[i] = e[:n, :n] @ mean0 + e[:n, n]
        phi, w = _covariance_propagator(A, Q, ti)
        c = phi @ cov0 @ phi.T + w
        covs[i] = 0.5 * (c + c.T)
    return means, covs


def affine_recursion_moments(F, b, Q, mean0, cov0, steps):
    """Exact mean and covariance of ``x_{k+1} = F x_k + b + eps`` at the given step indices."""
    F, b, Q, mean0, cov0 = _check_system(F, b, Q, mean0, cov0)
    steps = np.atleast_1d(np.asarray(steps))
    if steps.ndim != 1 or not np.issubdtype(steps.dtype, np.integer) or np.any(steps < 0):
        raise ValueError("steps must be a 1-D array of non-negative integers")
    order = np.argsort(steps)
    n = F.shape[0]
    means, covs = np.empty((steps.size, n)), np.empty((steps.size, n, n))
    m, c, k = mean0.copy(), cov0.copy(), 0
    for i in order:
        while k < steps[i]:
            m = F @ m + b
            c = F @ c @ F.T + Q
            k += 1
        means[i], covs[i] = m, 0.5 * (c + c.T)
    return means, covs


def _stacked_start(problem, n_model: int) -> np.ndarray:
    """Mean at step 0 of the state a linear model acts on: ``x0`` alone, or ``(x0, aux0)`` stacked.

    A model of size ``dim`` acts on the position only (SGD); one of size ``dim + state_size``
    acts on the position stacked with the optimizer state (Momentum's ``(θ, m)``, an underdamped
    SDE's ``(θ, r)``), started from ``problem.initial_state``.
    """
    dim = problem.dim
    if n_model == dim:
        return problem.x0
    if n_model == dim + problem.initial_state.size:
        return np.concatenate([problem.x0, problem.initial_state])
    raise ValueError(f"linear model of size {n_model} fits neither the position (dim {dim}) nor "
                     f"the stacked state (dim + state size = {dim + problem.initial_state.size})")


def _sde_system(problem):
    dyn = problem.dynamics
    if not hasattr(dyn, "linear_sde"):
        raise ValueError(f"{type(dyn).__name__} has no continuous linear form; use "
                         "exact_scheme_moments for a discrete update")
    return dyn.linear_sde(problem.landscape, problem.noise)


def exact_sde_state_moments(problem, times):
    """Exact mean ``(n_t, n_s)`` and covariance ``(n_t, n_s, n_s)`` of the full state of the
    continuous model of ``problem``: the position, stacked with the velocity for an underdamped
    model (first ``dim`` entries: :math:`\theta`, then :math:`r`)."""
    A, b, Q = _sde_system(problem)
    return linear_sde_moments(A, b, Q, _stacked_start(problem, A.shape[0]), None, times)


def exact_sde_moments(problem, times):
    """Exact moments of the position :math:`\theta` under the continuous model of ``problem``
    (its dynamics must be an SDE with a ``linear_sde`` form: a quadratic landscape and
    position-independent noise).  For an underdamped model the stacked :math:`(\theta, r)`
    system is solved and its :math:`\theta` block returned."""
    mean, cov = exact_sde_state_moments(problem, times)
    d = problem.dim
    return mean[:, :d], cov[:, :d, :d]


def exact_scheme_state_moments(problem, steps):
    """Exact mean and covariance of the full state that the kernels update for ``problem`` (the
    position stacked with the optimizer state when the affine model acts on both, e.g.
    Momentum's :math:`(\theta, m)`), at step indices ``steps``."""
    F, b, Q = problem.dynamics.affine_model(problem.landscape, problem.noise)
    return affine_recursion_moments(F, b, Q, _stacked_start(problem, F.shape[0]), None, steps)


def exact_scheme_moments(problem, steps):
    """Exact moments of the position that the kernels simulate for ``problem`` (discrete optimizer
    or the integration scheme of an SDE), at step indices ``steps``.  When the affine model acts
    on a stacked state (position and optimizer state) the position block is returned."""
    mean, cov = exact_scheme_state_moments(problem, steps)
    d = problem.dim
    return mean[:, :d], cov[:, :d, :d]
