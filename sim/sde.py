r"""Continuous models (SDEs) of Momentum, Adam, Adai and AdaMod (THEORY.md §4), with an
integrator that is right both at finite mass and in the overdamped (stiff) limit.

All three models are *EMA-type momentum* in the velocity :math:`r` (state :math:`(\theta, r)`,
:math:`r` in ``aux``), per coordinate :math:`i`:

.. math::
    d\theta_i = r_i\,dt,\qquad
    M_i\,dr_i = -\gamma\, r_i\,dt + F_i(\theta)\,dt + (G(\theta)\,dW)_i ,

with force :math:`F = -p\odot\nabla L`, noise factor :math:`G = \sqrt\eta\,\mathrm{diag}(p)\,C^{1/2}`
(:math:`GG^\top = 2D` when :math:`p = 1`) and per-coordinate damping rate :math:`a_i = \gamma/M_i`:

===============  ==========================  ==================  ===================================
model            mass :math:`M_i`            :math:`\gamma`      preconditioner :math:`p_i`
===============  ==========================  ==================  ===================================
MomentumSDE      :math:`\eta/\beta_3`        :math:`(1-\beta_1)/\beta_3`    1
AdamSDE          :math:`\eta/(1-\beta_1)`    1                   :math:`1/(\sqrt{v_i}+\epsilon)`, :math:`v = \mathrm{diag}\,C(\theta)`
AdaiSDE          :math:`\eta/(1-\beta_{1,i}(\theta))`  1         1
===============  ==========================  ==================  ===================================

with Adai's :math:`\beta_{1,i}(\theta) = \mathrm{clip}(1-\beta_0 v_i/\bar v, 0, 1-\epsilon)`,
:math:`v = \mathrm{diag}\,C(\theta)`, :math:`\bar v` its mean over coordinates.  AdamSDE with
:math:`\beta_1 = 0` is the overdamped model :math:`d\theta = -p\odot\nabla L\,dt + \sqrt\eta\,
\mathrm{diag}(p) C^{1/2} dW` (no velocity), integrated by Euler–Maruyama.

Integrator (kick – exact OU flow – kick)
----------------------------------------
One step of length :math:`h` is a Strang splitting of the generator into the force part and the
linear part (free streaming + friction + noise), each solved exactly with coefficients frozen at
the start of the sub-step:

1. half kick :math:`r \leftarrow r + \tfrac h2\, w\odot F(\theta)`, :math:`w = 1/M = a/\gamma`;
2. exact flow of :math:`d\theta = r\,dt`, :math:`dr = -a\odot r\,dt + w\odot G\,dW` over
   :math:`h`: with :math:`x = a h`, :math:`\varphi_1 = (1-e^{-x})/a`,

   .. math::
       r \leftarrow e^{-x} r + I_r,\qquad \theta \leftarrow \theta + \varphi_1 r + I_\theta,

   where per coordinate (in units of :math:`(G G^\top)_{ii}`)
   :math:`\operatorname{Var} I_r = a(1-e^{-2x})/(2\gamma^2)`,
   :math:`\operatorname{Cov}(I_r, I_\theta) = (1-e^{-x})^2/(2\gamma^2)`,
   :math:`\operatorname{Var} I_\theta = h\,q(x)/(x\gamma^2)`,
   :math:`q(x) = x - 2(1-e^{-x}) + (1-e^{-2x})/2` (a series for small :math:`x`).  They are
   sampled from two independent normal vectors per step, :math:`\xi_1 = G z_1`,
   :math:`\xi_2 = G z_2`: :math:`I_r = \alpha\xi_1`, :math:`I_\theta = \beta\xi_1 + \delta\xi_2`
   (so ``normals_per_step = 2 dim``);
3. half kick with the force (and mass) at the new :math:`\theta`.

Properties:

* **Overdamped limit.**  When :math:`a h \gg 1` (:math:`M \to 0`, stiff) the step reduces to
  Euler–Maruyama for :math:`\gamma\,d\theta = F\,dt + G\,dW`: the drift is
  :math:`hF/\gamma` (the two half kicks damp through :math:`\varphi_1 \to 1/a`) and
  :math:`\operatorname{Var} I_\theta \to h\,GG^\top/\gamma^2`.  No step-size restriction comes
  from the friction; all exponentials are evaluated with ``expm1`` and are finite for any
  :math:`a h`.
* **Finite mass.**  For a quadratic landscape with constant noise the scheme is affine
  (:meth:`affine_model`) and the splitting of two exactly solved linear flows has **weak order
  2**: the measured error of :math:`E\,\theta^2` at fixed :math:`t` against the exact linear-SDE
  value (:func:`sim.linear_sde_moments` for the stacked :math:`(\theta, r)` system), at
  :math:`\Delta t = T/8 \dots T/128`, falls with fitted slopes (``scipy.stats.linregress``)
  1.98 (MomentumSDE, :math:`\beta_3 = 1`), 2.00 (EMA form), 2.00 (AdamSDE), 1.99 / 2.01
  (AdaiSDE, rotated / axis-aligned Hessian); Euler–Maruyama (AdamSDE, :math:`\beta_1 = 0`) gives
  0.89 on the same grid and 0.99 on :math:`T/64 \dots T/1024` (``tests/sim/test_sde_models.py``).
  In the stiff regime (:math:`M/\gamma = 10^{-6}`, :math:`\Delta t/(M/\gamma) \ge 2500`) the
  error against the exact SDE falls at first order (slope 1.00), as Euler–Maruyama's for the
  limit equation; the first step misses half a drift step when :math:`r_0` is not the
  quasi-static velocity (a one-off :math:`O(\Delta t)` error).
  With position-dependent noise the diffusion is frozen at the start of the step, which makes the
  scheme weak order 1 in general.
* **Exactness of the noise.**  For frozen coefficients the joint law of :math:`(I_\theta, I_r)` is
  exact when the damping rate is the same in every coordinate (MomentumSDE, AdamSDE) or the noise
  is diagonal.  For AdaiSDE with correlated noise *and* different masses the cross-coordinate
  covariances use :math:`\sqrt{\mathrm{Var}_i\mathrm{Var}_j}`-type products instead of the exact
  integrals, an :math:`O(h^3 (a_i-a_j)^2)` error per step that keeps weak order 2.

References
----------
THEORY.md §4 (models), §5 Theorems 2–3, Props. 1–4, §7 (checks).
Z. Xie et al., "Adaptive Inertia", arXiv 2006.15815.  D. P. Kingma and J. Ba, "Adam",
arXiv 1412.6980.  J. Ding et al. (AdaMod), arXiv 1910.12249.
B. Leimkuhler and C. Matthews, "Rational construction of stochastic numerical methods for
molecular sampling", AMRX 2013 (splittings with an exact OU part).
"""
from __future__ import annotations

import math

from functools import lru_cache
from math import factorial

import numpy as np

from . import _validation as V
from . import _xp
from ._adaptive import adai_inertia_vector, numpy_adai_inertia, numpy_adam_preconditioner
from ._jit import jit
from .dynamics import DynamicsBase, _quadratic_parts

__all__ = ["MomentumSDE", "AdamSDE", "AdaiSDE", "UnderdampedSDEBase", "ou_step_coefficients"]

# dynamics-parameter layout shared by every model (dp array)
_LR, _DT, _GAMMA, _SQRT_LR, _OVERDAMPED, _RATE, _P0, _P1 = range(8)

# q(x)/x = sum_{k>=3} c_k x^{k-1},  c_k = (-1)^{k+1} (2^{k-1} - 2) / k!   (|x| < 1/2)
_Q_SERIES_X = 0.5
_Q_COEFFS = np.array([(-1.0) ** (k + 1) * (2.0 ** (k - 1) - 2.0) / factorial(k)
                      for k in range(3, 27)])  # c_3 … c_26
_Q_COEFFS_DESC = _Q_COEFFS[::-1].copy()  # for Horner / np.polyval


# ----------------------------------------------------------------------------------------------
# OU flow coefficients
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def _q_over_x(x):
    r""":math:`q(x)/x`, :math:`q(x) = x - 2(1-e^{-x}) + (1-e^{-2x})/2`, accurate for every x ≥ 0."""
    if x < _Q_SERIES_X:
        acc = 0.0
        for c in _Q_COEFFS_DESC:
            acc = acc * x + c
        return acc * x * x
    return (x + 2.0 * np.expm1(-x) - 0.5 * np.expm1(-2.0 * x)) / x


@jit(inline=True)
def ou_step_coefficients(a, h, gamma):
    r"""Coefficients of the exact step of :math:`d\theta = r\,dt`, :math:`dr = -a r\,dt + (a/\gamma)\,dB`.

    Returns ``(decay, phi1, alpha, beta, delta)``: :math:`r \leftarrow \text{decay}\, r + \alpha\xi_1`,
    :math:`\theta \leftarrow \theta + \varphi_1 r + \beta\xi_1 + \delta\xi_2` for independent
    :math:`\xi_1, \xi_2` with the covariance of :math:`B` per unit time.
    """
    x = a * h
    one_minus = -np.expm1(-x)
    decay = np.exp(-x)
    phi1 = one_minus / a
    alpha = np.sqrt(-0.5 * a * np.expm1(-2.0 * x)) / gamma
    cov_rt = 0.5 * one_minus * one_minus / (gamma * gamma)
    var_tt = h * _q_over_x(x) / (gamma * gamma)
    beta = cov_rt / alpha
    delta = np.sqrt(max(var_tt - beta * beta, 0.0))
    return decay, phi1, alpha, beta, delta


@jit(inline=True)
def cached_ou_step_coefficients(a, h, gamma, cache, i):
    r""":func:`ou_step_coefficients` for coordinate ``i``, recomputed only when its rate ``a``
    differs from the one cached in ``cache[6i : 6i+6]`` (``(a, decay, phi1, alpha, beta, delta)``).

    The coefficients are a pure function of ``(a, h, γ)`` and ``h, γ`` are fixed for a run, so the
    cache returns exactly what a recomputation would; it saves the ``exp``/``expm1``/``sqrt`` of every
    step where the rate is constant (Momentum and Adam models).  The cache lives in the per-path
    scratch, which the kernel fills with NaN at the start (NaN never equals a rate).
    """
    o = 6 * i
    if cache[o] != a:
        decay, phi1, alpha, beta, delta = ou_step_coefficients(a, h, gamma)
        cache[o], cache[o + 1], cache[o + 2] = a, decay, phi1
        cache[o + 3], cache[o + 4], cache[o + 5] = alpha, beta, delta
    return cache[o + 1], cache[o + 2], cache[o + 3], cache[o + 4], cache[o + 5]


def _horner(coeffs_desc, x):
    """Polynomial with coefficients in descending order at ``x`` (NumPy or torch)."""
    acc = x * 0.0 + coeffs_desc[0]
    for c in coeffs_desc[1:]:
        acc = acc * x + c
    return acc


def numpy_ou_step_coefficients(a, h, gamma):
    """:func:`ou_step_coefficients` vectorised over an array of rates ``a`` (NumPy or torch
    reference)."""
    a = a if _xp.is_torch(a) else np.asarray(a, dtype=float)
    xp = _xp.namespace(a)
    x = a * h
    small = x < _Q_SERIES_X
    xs = xp.where(small, x, 0.0)
    xl = xp.where(small, 1.0, x)
    q_over_x = xp.where(small, _horner(_Q_COEFFS_DESC, xs) * xs * xs,
                        (xl + 2.0 * xp.expm1(-xl) - 0.5 * xp.expm1(-2.0 * xl)) / xl)
    one_minus = -xp.expm1(-x)
    alpha = xp.sqrt(-0.5 * a * xp.expm1(-2.0 * x)) / gamma
    beta = 0.5 * one_minus**2 / gamma**2 / alpha
    delta = xp.sqrt(xp.clip(h * q_over_x / gamma**2 - beta**2, 0.0, None))
    return xp.exp(-x), one_minus / a, alpha, beta, delta


# ----------------------------------------------------------------------------------------------
# per-model coefficients: damping rates a_i and preconditioner p_i at a point
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_diag_covariance(noise_fn):
    """Compiled ``diag_cov(x, lp, nzp, e, col, out, w)``: ``out = diag C(x)`` from the noise factor.

    :math:`C_{ii} = \\sum_j (C^{1/2})_{ij}^2`, one column :math:`C^{1/2}e_j` at a time, so it works
    for every noise model (``e``, ``col`` are scratch vectors, ``w`` the noise function's scratch).
    """

    @jit(inline=True)
    def diag_cov(x, lp, nzp, e, col, out, w):
        n = x.shape[0]
        for i in range(n):
            out[i] = 0.0
            e[i] = 0.0
        for j in range(n):
            e[j] = 1.0
            noise_fn(x, e, lp, nzp, col, w)
            e[j] = 0.0
            for i in range(n):
                out[i] += col[i] * col[i]

    return diag_cov


@lru_cache(maxsize=None)
def _momentum_coefficients(noise_fn):
    @jit(inline=True)
    def coefficients(x, lp, nzp, dp, a, pre, e, col, w):
        for i in range(x.shape[0]):
            a[i] = dp[_RATE]
            pre[i] = 1.0

    return coefficients


@lru_cache(maxsize=None)
def _adam_coefficients(noise_fn):
    diag_cov = _make_diag_covariance(noise_fn)

    @jit(inline=True)
    def coefficients(x, lp, nzp, dp, a, pre, e, col, w):
        diag_cov(x, lp, nzp, e, col, pre, w)
        for i in range(x.shape[0]):
            a[i] = dp[_RATE]
            pre[i] = 1.0 / (np.sqrt(pre[i]) + dp[_P0])

    return coefficients


@lru_cache(maxsize=None)
def _adai_coefficients(noise_fn):
    diag_cov = _make_diag_covariance(noise_fn)

    @jit(inline=True)
    def coefficients(x, lp, nzp, dp, a, pre, e, col, w):
        diag_cov(x, lp, nzp, e, col, a, w)
        adai_inertia_vector(a, dp[_P0], dp[_P1], a)
        for i in range(x.shape[0]):
            a[i] = (1.0 - a[i]) / dp[_LR]
            pre[i] = 1.0

    return coefficients


def _numpy_diag_covariance(x, landscape, noise):
    c = noise.covariance(x, landscape)
    return c.diagonal(0, -2, -1)


# ----------------------------------------------------------------------------------------------
# the integrator
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _make_underdamped_step(gradient_fn, noise_fn, coefficients_factory):
    coefficients = coefficients_factory(noise_fn)

    @jit(inline=True)
    def half_kick(x, r, lp, nzp, dp, g, a, pre, e, col, w):
        coefficients(x, lp, nzp, dp, a, pre, e, col, w)
        gradient_fn(x, lp, g)
        half = 0.5 * dp[_DT] / dp[_GAMMA]
        for i in range(x.shape[0]):
            r[i] -= half * a[i] * pre[i] * g[i]

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        n = x.shape[0]
        h, gamma, sqrt_lr = dp[_DT], dp[_GAMMA], dp[_SQRT_LR]
        # scratch (work_size = 10n): rates, preconditioner, two columns, the OU-coefficient
        # cache (6 per coordinate), then the noise function's
        a, pre, e, col = w[:n], w[n:2 * n], w[2 * n:3 * n], w[3 * n:4 * n]
        cache, wn = w[4 * n:10 * n], w[10 * n:]
        if dp[_OVERDAMPED] != 0.0:  # Euler–Maruyama for gamma dθ = -p∇L dt + G dW
            coefficients(x, lp, nzp, dp, a, pre, e, col, wn)
            gradient_fn(x, lp, g)
            noise_fn(x, z[:n], lp, nzp, xi, wn)
            amp = np.sqrt(h) * sqrt_lr
            for i in range(n):
                x[i] += pre[i] * (amp * xi[i] - h * g[i]) / gamma
            return
        half_kick(x, aux, lp, nzp, dp, g, a, pre, e, col, wn)
        noise_fn(x, z[:n], lp, nzp, xi, wn)
        noise_fn(x, z[n:], lp, nzp, col, wn)
        for i in range(n):
            decay, phi1, alpha, beta, delta = cached_ou_step_coefficients(a[i], h, gamma, cache, i)
            s1 = sqrt_lr * pre[i] * xi[i]
            s2 = sqrt_lr * pre[i] * col[i]
            x[i] += phi1 * aux[i] + beta * s1 + delta * s2
            aux[i] = decay * aux[i] + alpha * s1
        half_kick(x, aux, lp, nzp, dp, g, a, pre, e, col, wn)

    return step


class UnderdampedSDEBase(DynamicsBase):
    r"""Common machinery of the momentum-type SDE models (see the module docstring).

    Subclasses set the friction :math:`\gamma`, the constant damping rate (if any), extra
    parameters, the compiled coefficient factory and :meth:`coefficients`.
    """

    kind = "sde"
    _coefficients_factory = None  # staticmethod(factory(noise_fn) -> compiled coefficients)

    def work_size(self, dim: int) -> int:
        """The step's own scratch: damping rates, preconditioner, two column vectors and the cache
        of :func:`cached_ou_step_coefficients`."""
        return 10 * dim

    def _setup(self, lr, dt, gamma, rate, extra=(), overdamped=False):
        self.lr = V.positive("lr", lr)
        self.dt = self.lr / 10.0 if dt is None else V.positive("dt", dt)
        self.gamma = float(gamma)
        self.overdamped = bool(overdamped)
        self.params = np.array([self.lr, self.dt, self.gamma, np.sqrt(self.lr),
                                float(self.overdamped), float(rate), *extra, 0.0, 0.0])

    # -- state ---------------------------------------------------------------------------------
    def state_size(self, dim: int) -> int:
        return 0 if self.overdamped else dim

    def normals_per_step(self, dim: int) -> int:
        return dim if self.overdamped else 2 * dim

    def state_with_velocity(self, r0) -> np.ndarray:
        r"""The ``aux`` vector for an initial velocity :math:`r_0` (shape ``(dim,)``).

        For the discrete optimizer the velocity is :math:`r = -m` (THEORY.md §4), so a start
        with momentum :math:`m_0` corresponds to :math:`r_0 = -m_0`.
        """
        if self.overdamped:
            raise ValueError(f"{self!r} is overdamped: it has no velocity")
        return V.finite_array("r0", r0, ndim=1).copy()

    # -- model ---------------------------------------------------------------------------------
    def coefficients(self, x, landscape, noise):
        r"""Damping rates :math:`a_i = \gamma/M_i` and preconditioner :math:`p_i` at points
        ``x`` of shape ``(..., dim)``: two arrays of that shape."""
        raise NotImplementedError  # pragma: no cover - abstract

    def mass(self, x, landscape, noise):
        r"""Per-coordinate mass :math:`M_i(\theta) = \gamma/a_i`, shape of ``x``."""
        a, _ = self.coefficients(x, landscape, noise)
        return self.gamma / a

    @classmethod
    def make_step(cls, gradient_fn, noise_fn):
        return _make_underdamped_step(gradient_fn, noise_fn, cls._coefficients_factory)

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n, h, gamma = x.shape[1], self.dt, self.gamma
        sq_lr = math.sqrt(self.lr)
        a, pre = self.coefficients(x, landscape, noise)
        xi1 = sq_lr * pre * noise.apply(x, z[:, :n], landscape)
        if self.overdamped:
            return x + (math.sqrt(h) * xi1 - h * pre * landscape.gradient(x)) / gamma, aux
        xi2 = sq_lr * pre * noise.apply(x, z[:, n:], landscape)
        r = aux - 0.5 * h / gamma * a * pre * landscape.gradient(x)
        decay, phi1, alpha, beta, delta = numpy_ou_step_coefficients(a, h, gamma)
        x_new = x + phi1 * r + beta * xi1 + delta * xi2
        r = decay * r + alpha * xi1
        a, pre = self.coefficients(x_new, landscape, noise)
        return x_new, r - 0.5 * h / gamma * a * pre * landscape.gradient(x_new)

    def _linear_parts(self, landscape, noise):
        """Constant ``(a, p, A_f, c, S)`` on a quadratic: force ``-A_f(θ-c)``, noise ``GGᵀ = S``."""
        h_mat, c, cov = _quadratic_parts(landscape, noise)
        a, pre = self.coefficients(c, landscape, noise)
        return a, pre, pre[:, None] * h_mat, c, self.lr * pre[:, None] * cov * pre[None, :]

    def linear_sde(self, landscape, noise):
        r"""The model on a quadratic with constant noise as :math:`dX = (AX+b)dt + dM`,
        :math:`d\langle M\rangle = Q\,dt`, for the stacked state :math:`X = (\theta, r)`
        (:math:`\theta` alone when overdamped).  Returns ``(A, b, Q)``.

        .. math::
            A = \begin{pmatrix} 0 & I \\ -W A_f & -\mathrm{diag}(a)\end{pmatrix},\quad
            b = \begin{pmatrix} 0 \\ W A_f c\end{pmatrix},\quad
            Q = \begin{pmatrix} 0 & 0 \\ 0 & W S W\end{pmatrix},

        :math:`W = \mathrm{diag}(1/M)`, :math:`A_f = \mathrm{diag}(p) H`,
        :math:`S = \eta\,\mathrm{diag}(p)\,C\,\mathrm{diag}(p)`.
        """
        a, _, af, c, s = self._linear_parts(landscape, noise)
        g = self.gamma
        if self.overdamped:
            return -af / g, af @ c / g, s / g**2
        n = a.size
        w = a / g
        A = np.block([[np.zeros((n, n)), np.eye(n)], [-w[:, None] * af, -np.diag(a)]])
        b = np.concatenate([np.zeros(n), w * (af @ c)])
        Q = np.zeros((2 * n, 2 * n))
        Q[n:, n:] = w[:, None] * s * w[None, :]
        return A, b, Q

    def affine_model(self, landscape, noise):
        """Exact affine model ``(F, b, Q)`` of the *integration scheme* (not of the SDE) on a
        quadratic with constant noise, acting on the stacked ``(θ, r)`` (θ alone when
        overdamped): kick ∘ OU flow ∘ kick composed exactly, including the two-normal noise."""
        a, _, af, c, s = self._linear_parts(landscape, noise)
        h, g, n = self.dt, self.gamma, a.size
        if self.overdamped:
            return np.eye(n) - h * af / g, h * af @ c / g, h * s / g**2
        w = a / g
        eye, zero = np.eye(n), np.zeros((n, n))
        kick = (np.block([[eye, zero], [-0.5 * h * w[:, None] * af, eye]]),
                np.concatenate([np.zeros(n), 0.5 * h * w * (af @ c)]), np.zeros((2 * n, 2 * n)))
        decay, phi1, alpha, beta, delta = numpy_ou_step_coefficients(a, h, g)
        l1 = np.vstack([np.diag(beta), np.diag(alpha)])
        l2 = np.vstack([np.diag(delta), zero])
        flow = (np.block([[eye, np.diag(phi1)], [zero, np.diag(decay)]]), np.zeros(2 * n),
                l1 @ s @ l1.T + l2 @ s @ l2.T)
        return _compose(_compose(kick, flow), kick)

    def describe(self) -> dict:
        return {**super().describe(), **self._hyper(), "gamma": self.gamma,
                "overdamped": self.overdamped,
                "integrator": "euler-maruyama" if self.overdamped else "kick-exact-OU-kick (Strang)"}

    def _hyper(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def weak_order(self) -> int:
        """2 for the kick – exact OU – kick splitting, 1 for the overdamped (Euler–Maruyama) form."""
        return 1 if self.overdamped else 2

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args}, dt={self.dt!r})"


def _compose(first, second):
    """Affine map ``second ∘ first`` of two ``(F, b, Q)`` triples."""
    f1, b1, q1 = first
    f2, b2, q2 = second
    return f2 @ f1, f2 @ b1 + b2, f2 @ q1 @ f2.T + q2


# ----------------------------------------------------------------------------------------------
# the three models
# ----------------------------------------------------------------------------------------------
class MomentumSDE(UnderdampedSDEBase):
    r"""Continuous model of heavy-ball Momentum (THEORY.md §4):

    .. math::
        d\theta = r\,dt,\qquad M\,dr = -\gamma r\,dt - \nabla L\,dt + \sqrt{2D}\,dW,\qquad
        M = \eta/\beta_3,\ \gamma = (1-\beta_1)/\beta_3,\ D = \tfrac\eta2 C(\theta).

    Integrated by the kick – exact OU – kick splitting of :mod:`sim.sde`: **weak order 2**
    (measured slope 2.00 of the error in :math:`E\theta^2` at fixed :math:`t` on a quadratic
    saddle with Hessian noise, against the exact :math:`(\theta, r)` moments), and in the
    overdamped limit (:math:`\Delta t \gg M/\gamma`) it becomes Euler–Maruyama for SGD with
    learning rate :math:`\eta\beta_3/(1-\beta_1)`, stable and consistent.  The state
    ``aux`` is the velocity :math:`r` (:meth:`state_with_velocity`; :math:`r = -m`).

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta1 : float
        :math:`\beta_1 \in [0, 1)`.
    beta3 : float
        :math:`\beta_3 \in (0, 1]`.
    dt : float, optional
        Integration step; default ``lr / 10``.

    References
    ----------
    THEORY.md §4, §5 Theorems 2–3; Xie et al., arXiv 2006.15815.
    """

    _coefficients_factory = staticmethod(_momentum_coefficients)

    def __init__(self, lr: float, beta1: float = 0.9, beta3: float = 1.0, dt: float | None = None):
        self.beta1 = V.in_range("beta1", beta1, 0.0, 1.0)
        self.beta3 = V.in_range("beta3", beta3, 0.0, 1.0, lo_open=True, hi_open=False)
        lr = V.positive("lr", lr)
        self._setup(lr, dt, gamma=(1.0 - self.beta1) / self.beta3, rate=(1.0 - self.beta1) / lr)

    def coefficients(self, x, landscape, noise):
        x = x if _xp.is_torch(x) else np.asarray(x, dtype=float)
        ones = x * 0.0 + 1.0
        return ones * float(self.params[_RATE]), ones

    def discrete(self):
        """The optimizer whose continuous model this is."""
        from .optimizers import Momentum

        return Momentum(self.lr, self.beta1, self.beta3)

    def _hyper(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta3": self.beta3}


class AdamSDE(UnderdampedSDEBase):
    r"""Continuous model of Adam (and of AdaMod) with the quasi-static preconditioner (THEORY.md §4):

    .. math::
        d\theta = r\,dt,\quad M\,dr = -r\,dt - P\nabla L\,dt + \sqrt\eta\,P C^{1/2} dW,\quad
        M = \frac{\eta}{1-\beta_1},\quad P = \mathrm{diag}\Big(\frac{1}{\sqrt{v}+\epsilon}\Big),\
        v = \mathrm{diag}\,C(\theta);

    with :math:`\beta_1 = 0` the overdamped :math:`d\theta = -P\nabla L\,dt + \sqrt\eta\,PC^{1/2}dW`
    (Euler–Maruyama, weak order 1; no velocity state).  For :math:`\beta_1 > 0` the kick – exact
    OU – kick splitting of :mod:`sim.sde`: **weak order 2** measured (slope 2.00) on a quadratic
    with constant noise, consistent in the overdamped limit.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta1 : float
        :math:`\beta_1 \in [0, 1)`.
    eps : float
        :math:`\epsilon > 0`.
    dt : float, optional
        Integration step; default ``lr / 10``.

    References
    ----------
    THEORY.md §4, §5 Props. 1–2, A1(iv); Kingma & Ba, arXiv 1412.6980.
    """

    _coefficients_factory = staticmethod(_adam_coefficients)

    def __init__(self, lr: float, beta1: float = 0.9, eps: float = 1e-8, dt: float | None = None):
        self.beta1 = V.in_range("beta1", beta1, 0.0, 1.0)
        self.eps = V.positive("eps", eps)
        lr = V.positive("lr", lr)
        self._setup(lr, dt, gamma=1.0, rate=(1.0 - self.beta1) / lr, extra=(self.eps,),
                    overdamped=self.beta1 == 0.0)

    def coefficients(self, x, landscape, noise):
        v = _numpy_diag_covariance(x, landscape, noise)
        return v * 0.0 + float(self.params[_RATE]), numpy_adam_preconditioner(v, self.eps)

    def drift_diffusion(self, landscape, noise):
        r"""The overdamped model's coefficients (:math:`\beta_1 = 0` only) for the Fokker–Planck
        solvers: ``drift(x) = -P(x)∇L(x)`` and ``diffusion(x) = (η/2) P C P`` for points
        ``(n, dim)``, with the quasi-static :math:`P = \mathrm{diag}(1/(\sqrt{v}+\epsilon))`,
        :math:`v = \mathrm{diag}\,C(\theta)` (THEORY.md §4).  For Hessian noise on an
        axis-aligned landscape the diffusion is :math:`(\eta/2)\,\mathrm{diag}(v/(\sqrt v+\epsilon)^2)
        \approx (\eta/2) I`."""
        if not self.overdamped:
            raise ValueError("drift_diffusion needs the overdamped model (beta1 = 0); with beta1 > 0 "
                             "the model has a velocity (use an underdamped solver)")
        lr, eps = self.lr, self.eps

        def drift(x):
            x = np.asarray(x, dtype=float)
            pre = numpy_adam_preconditioner(_numpy_diag_covariance(x, landscape, noise), eps)
            return -pre * landscape.gradient(x)

        def diffusion(x):
            x = np.asarray(x, dtype=float)
            c = noise.covariance(x, landscape)
            pre = numpy_adam_preconditioner(c.diagonal(0, -2, -1), eps)
            return 0.5 * lr * pre[..., :, None] * c * pre[..., None, :]

        return drift, diffusion

    def discrete(self):
        """Adam with these parameters (β₂ at its default)."""
        from .optimizers import Adam

        return Adam(self.lr, self.beta1, eps=self.eps)

    def _hyper(self):
        return {"lr": self.lr, "beta1": self.beta1, "eps": self.eps}


class AdaiSDE(UnderdampedSDEBase):
    r"""Continuous model of Adai (THEORY.md §4): EMA momentum (:math:`\gamma = 1`) with
    per-coordinate, position-dependent mass

    .. math::
        M_i(\theta) = \frac{\eta}{1-\beta_{1,i}(\theta)},\quad
        \beta_{1,i} = \mathrm{clip}\Big(1 - \beta_0\frac{v_i}{\bar v}, 0, 1-\epsilon\Big),\quad
        v = \mathrm{diag}\,C(\theta),

    force :math:`-\nabla L`, noise :math:`\sqrt{2D}`.  For diagonal Hessian noise
    :math:`1-\beta_{1,i} = \beta_0 n|H_{ii}|/\|H\|_{tr}` before clipping.  If :math:`\bar v = 0`
    the ratio is taken as 1 (as in :class:`sim.optimizers.Adai`).  Integrated by the kick –
    exact OU – kick splitting of :mod:`sim.sde` with the masses of the kick's position:
    **weak order 2** measured (slope 2.00) on a quadratic with constant noise, consistent in the
    overdamped limit.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta0 : float
        :math:`\beta_0 \in (0, 1]`.
    eps : float
        :math:`\epsilon \in (0, 1)`.
    dt : float, optional
        Integration step; default ``lr / 10``.

    References
    ----------
    THEORY.md §4, §5 Props. 3–4; Xie et al., "Adaptive Inertia", arXiv 2006.15815.
    """

    _coefficients_factory = staticmethod(_adai_coefficients)

    def __init__(self, lr: float, beta0: float = 0.1, eps: float = 1e-3, dt: float | None = None):
        self.beta0 = V.in_range("beta0", beta0, 0.0, 1.0, lo_open=True, hi_open=False)
        self.eps = V.in_range("eps", eps, 0.0, 1.0, lo_open=True)
        self._setup(lr, dt, gamma=1.0, rate=0.0, extra=(self.beta0, self.eps))

    def inertia(self, x, landscape, noise):
        r""":math:`\beta_{1,i}(\theta)` at points ``x`` of shape ``(..., dim)``."""
        return numpy_adai_inertia(_numpy_diag_covariance(x, landscape, noise), self.beta0, self.eps)

    def coefficients(self, x, landscape, noise):
        beta1 = self.inertia(x, landscape, noise)
        return (1.0 - beta1) / self.lr, beta1 * 0.0 + 1.0

    def discrete(self):
        """Adai with these parameters (β₂ at its default)."""
        from .optimizers import Adai

        return Adai(self.lr, self.beta0, eps=self.eps)

    def _hyper(self):
        return {"lr": self.lr, "beta0": self.beta0, "eps": self.eps}
