"""Which code names a built-in loss or optimizer to the compiled batch steps.

The kernels branch on the codes of :mod:`skgd._compiled`; here, the loss and
optimizer classes each code stands for, and an optimizer's hyper-parameters
as the kernels read them. A class not named here (a user's, or a subclass
of a built-in one) takes the numpy path. Apart from :mod:`skgd._kernel`,
which decides when and how the compiled steps run, since this is the one
place a new built-in loss or optimizer is added to them.
"""

import numpy as np

from . import losses as L
from . import optim as O
from ._compiled import (
    _ABSOLUTE,
    _ADAGRAD,
    _ADAM,
    _CRAMMER_SINGER,
    _EPSILON,
    _HINGE,
    _HUBER,
    _LOGISTIC,
    _MODIFIED_HUBER,
    _MOMENTUM,
    _NESTEROV,
    _PERCEPTRON,
    _POISSON,
    _RMSPROP,
    _SGD,
    _SOFTMAX,
    _SQUARED,
    _SQUARED_EPSILON,
    _SQUARED_HINGE,
)

_RESIDUAL_LOSSES = {
    L.SquaredError: _SQUARED,
    L.AbsoluteError: _ABSOLUTE,
    L.L1Distance: _ABSOLUTE,
    L.Huber: _HUBER,
    L.EpsilonInsensitive: _EPSILON,
    L.SquaredEpsilonInsensitive: _SQUARED_EPSILON,
    L.Poisson: _POISSON,
}
_MARGIN_LOSSES = {
    L.LogLoss: _LOGISTIC,
    L.Hinge: _HINGE,
    L.SquaredHinge: _SQUARED_HINGE,
    L.ModifiedHuber: _MODIFIED_HUBER,
    L.Perceptron: _PERCEPTRON,
}
_OPTIMIZERS = {
    O.SGD: (_SGD, ()),
    O.Momentum: (_MOMENTUM, ("velocity",)),
    O.Nesterov: (_NESTEROV, ("velocity",)),
    O.Adagrad: (_ADAGRAD, ("sum_sq",)),
    O.RMSprop: (_RMSPROP, ("mean_sq",)),
    O.Adam: (_ADAM, ("m", "v")),
}


def _loss_code(loss, Y, single):
    """The kernel's code for ``loss`` and its parameter, or None for the numpy path."""
    kind = type(loss)  # exactly: a user's subclass may change anything
    param = float(getattr(loss, "delta", getattr(loss, "epsilon", 0.0)))
    if kind in _RESIDUAL_LOSSES:
        return _RESIDUAL_LOSSES[kind], param
    if kind in _MARGIN_LOSSES:
        if single or np.ndim(Y) == 2:
            return _MARGIN_LOSSES[kind], param
        # K classes as indices: one-vs-rest, except the two true multiclass forms
        return {L.LogLoss: _SOFTMAX, L.Hinge: _CRAMMER_SINGER}.get(kind, _MARGIN_LOSSES[kind]), 0.0
    return None


def _hyper(optimizer):
    """The optimizer's hyper-parameters as the kernel reads them: (decay, decay_2, epsilon)."""
    if isinstance(optimizer, O.Momentum):
        return np.array([optimizer.momentum, 0.0, 0.0])
    if isinstance(optimizer, O.RMSprop):
        return np.array([optimizer.rho, 0.0, optimizer.epsilon])
    if isinstance(optimizer, O.Adam):
        return np.array([optimizer.beta_1, optimizer.beta_2, optimizer.epsilon])
    if isinstance(optimizer, O.Adagrad):
        return np.array([0.0, 0.0, optimizer.epsilon])
    return np.zeros(3)
