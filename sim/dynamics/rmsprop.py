r"""RMSprop, as ``torch.optim.RMSprop`` (plain, centered, with momentum and weight decay).

Per step, with the stochastic gradient :math:`g` (docs/theory.md §3 conventions):

.. math::
    g \leftarrow g + \lambda\theta,\quad v \leftarrow \alpha v + (1-\alpha) g^2,\quad
    \bar g \leftarrow \bar g + (1-\alpha)(g - \bar g)\ \text{(centered)},\\
    d = \sqrt{v - \bar g^2} + \epsilon\ \text{(centered) or}\ \sqrt v + \epsilon,\quad
    b \leftarrow \mu b + g/d,\ \theta \leftarrow \theta - \eta b\ \text{(}\mu > 0\text{) or}\
    \theta \leftarrow \theta - \eta\,(g/d).

No bias correction: :math:`v` starts at 0, so the first steps are about
:math:`\eta/\sqrt{1-\alpha}` long.

References
----------
T. Tieleman and G. Hinton, "Lecture 6.5 — RMSProp", COURSERA: Neural Networks for Machine
Learning, 2012 (no arXiv version); A. Graves, "Generating Sequences With Recurrent Neural
Networks", arXiv 1308.0850 (the centered form); PyTorch's ``torch.optim.RMSprop`` (the order of
operations reproduced here); docs/theory.md §3–§4.
"""
from __future__ import annotations

import numpy as np

from .. import _validation as V
from .. import _xp
from .._jit import jit
from .adam import AdamSDE
from .base import DiscreteOptimizerBase, beta, flag, numpy_stochastic_gradient, slots
from .registry import register

__all__ = ["RMSprop"]

P = slots("lr", "alpha", "eps", "weight_decay", "momentum", "centered")


@jit(inline=True)
def _rmsprop_update(x, aux, g, c, dp):
    lr, alpha, eps = dp[P.lr], dp[P.alpha], dp[P.eps]
    wd, mu, centered = dp[P.weight_decay], dp[P.momentum], dp[P.centered] != 0.0
    n = x.shape[0]  # aux = (v[, b][, ḡ]): the momentum buffer and the gradient average if used
    ob = n
    oa = 2 * n if mu > 0.0 else n
    for i in range(n):
        gi = g[i] + wd * x[i] if wd != 0.0 else g[i]
        v = alpha * aux[i] + (1.0 - alpha) * gi * gi
        aux[i] = v
        if centered:
            ga = aux[oa + i] + (1.0 - alpha) * (gi - aux[oa + i])
            aux[oa + i] = ga
            d = np.sqrt(v - ga * ga) + eps
        else:
            d = np.sqrt(v) + eps
        if mu > 0.0:
            b = mu * aux[ob + i] + gi / d
            aux[ob + i] = b
            x[i] -= lr * b
        else:
            x[i] -= lr * (gi / d)


@register(
    examples=[dict(lr=0.01), dict(lr=0.02, centered=True), dict(lr=0.02, alpha=0.9, momentum=0.8),
              dict(lr=0.02, alpha=0.95, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True)],
    bad=[(dict(lr=0.0), "lr"), (dict(alpha=1.0), "alpha"), (dict(eps=0.0), "eps"),
         (dict(momentum=-0.1), "momentum"), (dict(momentum=1.0), "momentum"),
         (dict(weight_decay=-1.0), "weight_decay")])
class RMSprop(DiscreteOptimizerBase):
    r"""RMSprop, step for step as ``torch.optim.RMSprop`` (defaults included; see the module
    docstring for the update).

    ``aux`` is ``(v, b, ḡ)``, each block present only where used: :math:`v` always, the momentum
    buffer :math:`b` when ``momentum > 0``, the gradient average :math:`\bar g` when
    ``centered``; all zero at the start, as in torch.

    **Continuous model.**  With ``momentum=0``, ``centered=False`` and ``weight_decay=0`` the
    update is :math:`\theta \leftarrow \theta - \eta\,g/(\sqrt v + \epsilon)` with :math:`v` an EMA
    of :math:`g^2`: Adam with :math:`\beta_1 = 0` and :math:`\beta_2 = \alpha` but without bias
    correction, a transient of about :math:`1/(1-\alpha)` steps that the quasi-static model
    (:math:`v \approx \mathrm{diag}\,C(\theta)`) ignores.  Its continuous model is therefore
    :class:`AdamSDE` with :math:`\beta_1 = 0`, the overdamped
    :math:`d\theta = -P\nabla L\,dt + \sqrt\eta\,PC^{1/2}dW` (docs/theory.md §4).  The other settings
    have no model in docs/theory.md §4 and :meth:`continuous` raises a ``ValueError`` for them
    (momentum with :math:`\beta_3 = 1` would change the mass and friction, the centered form the
    preconditioner, weight decay the landscape).

    Parameters
    ----------
    lr : float
        :math:`\eta > 0` (default 0.01).
    alpha : float
        Smoothing constant :math:`\alpha \in [0, 1)` (default 0.99).
    eps : float
        :math:`\epsilon > 0`, added to :math:`\sqrt v` (default 1e-8).
    weight_decay : float
        :math:`\lambda \ge 0`, added to the gradient as :math:`\lambda\theta` (default 0).
    momentum : float
        :math:`\mu \in [0, 1)` (default 0).
    centered : bool
        Divide by the estimated standard deviation :math:`\sqrt{v - \bar g^2}` (default False).
    """

    hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    param_slots = P
    update = staticmethod(_rmsprop_update)

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        self.lr = V.positive("lr", lr)
        self.alpha = beta("alpha", alpha)
        self.eps = V.positive("eps", eps)
        self.weight_decay = V.positive("weight_decay", weight_decay, allow_zero=True)
        self.momentum = beta("momentum", momentum)
        self.centered = flag("centered", centered)
        self.dt = self.lr
        self.params = self.pack_params(lr=self.lr, alpha=self.alpha, eps=self.eps,
                                       weight_decay=self.weight_decay, momentum=self.momentum,
                                       centered=float(self.centered))

    @property
    def n_blocks(self) -> int:
        return 1 + (self.momentum > 0.0) + self.centered

    def continuous(self, dt: float | None = None) -> AdamSDE:
        """:class:`AdamSDE` with :math:`\\beta_1 = 0` (plain RMSprop only; see the class docstring)."""
        if self.momentum != 0.0 or self.centered or self.weight_decay != 0.0:
            raise ValueError("RMSprop's continuous model (AdamSDE with beta1 = 0, docs/theory.md §4) holds "
                             "for momentum=0, centered=False and weight_decay=0 only; got "
                             f"momentum={self.momentum}, centered={self.centered}, "
                             f"weight_decay={self.weight_decay}")
        return AdamSDE(self.lr, 0.0, self.eps, dt)

    def torch_reference(self):
        return "RMSprop", self._hyper()

    def numpy_step(self, x, aux, z, k, landscape, noise):
        n, xp = x.shape[1], _xp.namespace(x)
        g = numpy_stochastic_gradient(x, z, landscape, noise)
        if self.weight_decay != 0.0:
            g = g + self.weight_decay * x
        v = self.alpha * aux[:, :n] + (1.0 - self.alpha) * g * g
        blocks = [v]
        if self.centered:
            ga = aux[:, -n:]
            ga = ga + (1.0 - self.alpha) * (g - ga)
            d = xp.sqrt(v - ga * ga) + self.eps
        else:
            d = xp.sqrt(v) + self.eps
        if self.momentum > 0.0:
            b = self.momentum * aux[:, n:2 * n] + g / d
            blocks.append(b)
            x = x - self.lr * b
        else:
            x = x - self.lr * (g / d)
        if self.centered:
            blocks.append(ga)
        return x, xp.concatenate(blocks, axis=1)
