r"""The integrator shared by the continuous models (SDEs) of Momentum, Adam (and AdaMod, RMSprop)
and Adai (docs/theory.md §4): right both at finite mass and in the overdamped (stiff) limit.  The models
themselves live beside their optimizers (:mod:`.momentum`, :mod:`.adam`, :mod:`.adai`).

All the models are *EMA-type momentum* in the velocity :math:`r` (state :math:`(\theta, r)`,
:math:`r` in ``aux``), per coordinate :math:`i`:

.. math::
    d\theta_i = r_i\,dt,\qquad
    M_i\,dr_i = -\gamma\, r_i\,dt + F_i(\theta)\,dt + (G(\theta)\,dW)_i ,

with force :math:`F = -p\odot\nabla L`, noise factor :math:`G = \sqrt\eta\,\mathrm{diag}(p)\,C^{1/2}`
(:math:`GG^\top = 2D` when :math:`p = 1`) and per-coordinate damping rate :math:`a_i = \gamma/M_i`:

===========  ====================================  ===========================  =====================================================================
model        mass :math:`M_i`                      :math:`\gamma`               preconditioner :math:`p_i`
===========  ====================================  ===========================  =====================================================================
MomentumSDE  :math:`\eta/\beta_3`                  :math:`(1-\beta_1)/\beta_3`  1
AdamSDE      :math:`\eta/(1-\beta_1)`              1                            :math:`1/(\sqrt{v_i}+\epsilon)`, :math:`v = \mathrm{diag}\,C(\theta)`
AdaiSDE      :math:`\eta/(1-\beta_{1,i}(\theta))`  1                            1
===========  ====================================  ===========================  =====================================================================

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
docs/theory.md §4 (models), §5 Theorems 2–3, Props. 1–4, §7 (checks).
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

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .base import DynamicsBase, quadratic_parts, slots

__all__ = ["UnderdampedSDEBase", "underdamped_slots", "ou_step_coefficients",
           "numpy_ou_step_coefficients", "cached_ou_step_coefficients", "make_diag_covariance",
           "numpy_diag_covariance"]

#: The parameter slots every underdamped model starts with (the integrator reads these);
#: a model appends its own with :func:`underdamped_slots`.
_BASE_NAMES = ("lr", "dt", "gamma", "sqrt_lr", "overdamped", "rate")
U = slots(*_BASE_NAMES)


def underdamped_slots(*extra: str):
    """The parameter slots of an underdamped model: the integrator's (``lr, dt, gamma, sqrt_lr,
    overdamped, rate``; ``rate`` is the constant damping rate, if any) and then ``extra``."""
    return slots(*_BASE_NAMES, *extra)


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
def make_diag_covariance(noise_fn):
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


def numpy_diag_covariance(x, landscape, noise):
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
        half = 0.5 * dp[U.dt] / dp[U.gamma]
        for i in range(x.shape[0]):
            r[i] -= half * a[i] * pre[i] * g[i]

    @jit(inline=True)
    def step(x, aux, z, c, lp, nzp, dp, g, xi, w):
        n = x.shape[0]
        h, gamma, sqrt_lr = dp[U.dt], dp[U.gamma], dp[U.sqrt_lr]
        # scratch (work_size = 10n): rates, preconditioner, two columns, the OU-coefficient
        # cache (6 per coordinate), then the noise function's
        a, pre, e, col = w[:n], w[n:2 * n], w[2 * n:3 * n], w[3 * n:4 * n]
        cache, wn = w[4 * n:10 * n], w[10 * n:]
        if dp[U.overdamped] != 0.0:  # Euler–Maruyama for gamma dθ = -p∇L dt + G dW
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

    A model declares ``param_slots = underdamped_slots(...)`` (its own parameters after the
    integrator's), ``coefficients_factory`` (a cached ``factory(noise_fn)`` returning the compiled
    ``coefficients(x, lp, nzp, dp, a, pre, e, col, w)`` that writes the damping rates ``a`` and the
    preconditioner ``pre`` at ``x``), its NumPy twin :meth:`coefficients`, and calls
    :meth:`_setup` from ``__init__``.
    """

    kind = "sde"
    coefficients_factory = None  # staticmethod(factory(noise_fn) -> compiled coefficients)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.param_slots is not None and cls.param_slots._fields[:len(U)] != U._fields:
            raise TypeError(f"{cls.__name__}.param_slots must start with {U._fields} "
                            "(use underdamped_slots)")

    def work_size(self, dim: int) -> int:
        """The step's own scratch: damping rates, preconditioner, two column vectors and the cache
        of :func:`cached_ou_step_coefficients`."""
        return 10 * dim

    def _setup(self, lr, dt, gamma, rate, overdamped=False, **extra):
        """Validate ``lr``/``dt`` and set ``params`` (``extra``: the model's own slots)."""
        self.lr = V.positive("lr", lr)
        self.dt = self.lr / 10.0 if dt is None else V.positive("dt", dt)
        self.gamma = float(gamma)
        self.overdamped = bool(overdamped)
        self.params = self.pack_params(lr=self.lr, dt=self.dt, gamma=self.gamma,
                                       sqrt_lr=np.sqrt(self.lr), overdamped=float(self.overdamped),
                                       rate=float(rate), **extra)

    # -- state ---------------------------------------------------------------------------------
    def state_size(self, dim: int) -> int:
        return 0 if self.overdamped else dim

    def normals_per_step(self, dim: int) -> int:
        return dim if self.overdamped else 2 * dim

    def velocity_map(self, dim: int) -> np.ndarray | None:
        """The state is the velocity :math:`r` itself (none when overdamped)."""
        return None if self.overdamped else np.eye(dim)

    def state_with_velocity(self, r0) -> np.ndarray:
        r"""The ``aux`` vector for an initial velocity :math:`r_0` (shape ``(dim,)``).

        For the discrete optimizer the velocity is :math:`r = -m` (docs/theory.md §4), so a start
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
        return _make_underdamped_step(gradient_fn, noise_fn, cls.coefficients_factory)

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
        h_mat, c, cov = quadratic_parts(landscape, noise)
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
        return {**super().describe(), "gamma": self.gamma,
                "overdamped": self.overdamped,
                "integrator": "euler-maruyama" if self.overdamped else "kick-exact-OU-kick (Strang)"}

    @property
    def weak_order(self) -> int:
        """2 for the kick – exact OU – kick splitting, 1 for the overdamped (Euler–Maruyama) form."""
        return 1 if self.overdamped else 2


def _compose(first, second):
    """Affine map ``second ∘ first`` of two ``(F, b, Q)`` triples."""
    f1, b1, q1 = first
    f2, b2, q2 = second
    return f2 @ f1, f2 @ b1 + b2, f2 @ q1 @ f2.T + q2
