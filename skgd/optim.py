"""Optimizers and learning-rate schedules: how a gradient becomes a step.

The course's update is plain gradient descent, ``w <- w - γ * grad``
(:class:`SGD`). The others are the optimizers deep-learning users know; each
keeps its own state for each parameter array (momenta, running averages) and
is a scikit-learn ``BaseEstimator``, so ``clone``, ``repr`` and grid-search
names such as ``optimizer__beta_1`` work.

An optimizer object is a *specification*: the estimators never mutate the
object passed as their ``optimizer`` parameter; they train a private copy
(``optimizer_``), which ``partial_fit`` and ``warm_start`` continue and
``fit`` starts anew.

Writing an optimizer
--------------------
Subclass :class:`Optimizer` and implement :meth:`~Optimizer.update`, which
returns the step to subtract from one parameter array, given that array's
gradient, its state dict (empty on the first step) and the learning rate::

    class SignSGD(Optimizer):
        def update(self, grad, state, learning_rate):
            return learning_rate * np.sign(grad)
"""

import functools
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adagrad",
    "RMSprop",
    "Adam",
    "OPTIMIZERS",
    "invscaling",
]


class Optimizer(BaseEstimator):
    """Base class of the optimizers, built-in or written by a user.

    The training loop calls :meth:`step` once per batch with the list of
    parameter arrays and their gradients; :meth:`step` updates the arrays in
    place with what :meth:`update` returns for each, keeping one state dict
    per array in ``self.state_``. When the loss rises, the loop calls
    :meth:`restart`, which by default forgets the whole state: override it
    if part of your state should stay (a running scale, as Adam's).

    A momentum of your own sums about ``1 / (1 - momentum)`` batches'
    gradients in each step. Give it a ``noise_gain`` attribute (or property)
    of that number and the schedules shorten its step for that noise, as
    they do the built-in :class:`Momentum`'s; with a ``momentum`` parameter
    in [0, 1) as well, a stream's call damps it under L2 as it damps the
    built-in's. Without them it is taken as a plain step: a heavy ball of
    one's own at ``schedule="constant"`` took steps about ten times past the
    stable one (diabetes, batches of 8, γ = 0.9: training R² -0.61 where
    ``"momentum"`` reached 0.52).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import SGD
    >>> w = np.array([1.0, 2.0])
    >>> SGD().step([w], [np.array([10.0, -10.0])], learning_rate=0.01)
    >>> w
    array([0.9, 2.1])
    """

    # Hyper-parameter constraints, checked when an estimator starts training;
    # a user's optimizer may declare its own in the same form.
    _parameter_constraints: dict = {}

    def update(self, grad, state, learning_rate):
        """The step for one parameter array; ``param <- param - step``.

        Parameters
        ----------
        grad : ndarray
            The gradient of the objective with respect to the parameter array.
        state : dict
            This array's state, kept between calls; empty on the first call.
        learning_rate : float
            The step size γ of this step.

        Returns
        -------
        step : ndarray of the same shape as ``grad``
            What is subtracted from the parameters.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def step(self, params, grads, learning_rate):
        """Update every parameter array in place.

        Parameters
        ----------
        params : list of ndarray
            The parameter arrays, updated in place.
        grads : list of ndarray
            Their gradients, in the same order.
        learning_rate : float or list of float
            The step size γ of this step, or one for each parameter array.
        """
        if not hasattr(self, "state_"):
            self.state_ = [{} for _ in params]
        rates = learning_rate if isinstance(learning_rate, list) else [learning_rate] * len(params)
        for param, grad, state, rate in zip(params, grads, self.state_, rates, strict=True):
            param -= self.update(grad, state, rate)

    def proximal_step(self, state, learning_rate):
        """The step of L1's proximal step on a parameter array just updated.

        With ``penalty="l1"`` or ``"elasticnet"``, after each update every
        coefficient moves toward 0 by this step times L1's strength, and
        stops at 0 (soft-thresholding). The model it ends at is L1's optimum
        only if this is the step the update gave the current gradient: the
        default, ``learning_rate``, is that of an update ``learning_rate *
        grad``. An optimizer whose update scales the gradient otherwise (a
        momentum's look-ahead, a division by a running size) returns its
        own; one whose state carries past gradients (a momentum) must also
        take L1's into it, in :meth:`proximal_moved`. A subclass of a
        built-in that writes its own ``update`` or ``step`` (a clipped Adam)
        takes the plain step, and tells its state nothing, until it writes
        its own ``proximal_step``: its state and step may not be the
        built-in's. Without L1 it is never called.

        Parameters
        ----------
        state : dict
            This array's state, as :meth:`update` just left it.
        learning_rate : float
            The step size γ of this step.

        Returns
        -------
        step : float or ndarray of the array's shape
            The step of each coefficient's proximal step.

        Examples
        --------
        An update that divides the gradient by its running root-mean-square
        (as :class:`RMSprop`) takes L1's step divided by it too:

        >>> import numpy as np
        >>> from skgd.optim import Optimizer
        >>> class Scaled(Optimizer):
        ...     def update(self, grad, state, learning_rate):
        ...         state["rms"] = np.sqrt(0.9 * state.get("rms", 0.0) ** 2 + 0.1 * grad**2)
        ...         return learning_rate * grad / (state["rms"] + 1e-8)
        ...     def proximal_step(self, state, learning_rate):
        ...         return learning_rate / (state["rms"] + 1e-8)
        >>> opt, state = Scaled(), {}
        >>> opt.update(np.array([2.0]), state, 0.1).round(6)
        array([0.316228])
        >>> opt.proximal_step(state, 0.1).round(6)
        array([0.158114])
        """
        return learning_rate

    def proximal_moved(self, state, learning_rate, subgradient, held):
        """Take L1's part of the move into the state, after L1's proximal step.

        An optimizer whose state carries past gradients (a momentum) must
        carry L1's gradient too: the proximal step moved the coefficients by
        it, and a momentum of the loss's gradient alone would keep pushing
        against it, so that the model ends short of L1's optimum. The
        built-ins with momentum add it to what they carry, and drop the
        momentum of a coefficient set to 0. The default does nothing, which
        is right for a state without past gradients. Without L1 it is never
        called.

        Parameters
        ----------
        state : dict
            This array's state, as :meth:`update` just left it.
        learning_rate : float
            The step size γ of this step.
        subgradient : ndarray of the array's shape
            L1's gradient of each coefficient: its sign times L1's strength.
        held : ndarray of bool, of the array's shape
            The coefficients the proximal step moved toward 0 but not to it
            (the others it set to 0, or kept there).

        Examples
        --------
        A heavy-ball momentum adds L1's gradient to its velocity, as it adds
        the loss's in :meth:`update`:

        >>> import numpy as np
        >>> from skgd.optim import Optimizer
        >>> class HeavyBall(Optimizer):
        ...     def update(self, grad, state, learning_rate):
        ...         state["v"] = 0.9 * state.get("v", 0.0) - learning_rate * grad
        ...         return -state["v"]
        ...     def proximal_moved(self, state, learning_rate, subgradient, held):
        ...         state["v"] = np.where(held, state["v"] - learning_rate * subgradient, 0.0)
        >>> opt, state = HeavyBall(), {}
        >>> opt.update(np.array([1.0, 0.1]), state, 0.5)
        array([0.5 , 0.05])
        >>> opt.proximal_moved(state, 0.5, np.array([0.2, 0.2]), np.array([True, False]))
        >>> state["v"]
        array([-0.6,  0. ])
        """

    def _soft_threshold(self, param, learning_rate, l1):
        """L1's proximal step on the first parameter array (the coefficients), in place.

        ``l1`` is the penalty's strength of each row. Called by the
        training loop after :meth:`step`, with the same rate.
        """
        state = self.state_[0] if getattr(self, "state_", None) else {}
        cls = type(self)
        own = _own_proximal_step(cls)
        gain = self.proximal_step(state, learning_rate) if own else learning_rate
        threshold = gain * l1
        magnitude, sign = np.abs(param), np.sign(param)
        shrunk = sign * np.maximum(magnitude - threshold, 0)
        # (a state told of L1 is the state of the update the proximal step was written for)
        if own and cls.proximal_moved is not Optimizer.proximal_moved:
            self.proximal_moved(state, learning_rate, sign * l1, magnitude > threshold)
        param[...] = shrunk

    def reset(self):
        """Forget the state, so that the next step starts afresh."""
        if hasattr(self, "state_"):
            del self.state_

    def restart(self):
        """Forget the momentum, keep the rest: the loop calls it when the loss rises.

        A rise means the momentum carried the parameters past the bottom of
        a valley (O'Donoghue and Candès's adaptive restart), and the descent
        goes back to its lowest point. The built-in optimizers say what to
        forget (Momentum its velocity, Adam its mean; SGD, Adagrad and
        RMSprop nothing). This class cannot tell a momentum from the rest of
        a state it did not write, so it forgets all of it (:meth:`reset`):
        else a heavy ball of your own carried the parameters on from the
        point the descent went back from (the docs' own heavy ball diverged
        on breast cancer in 3 of 5 folds, where Momentum converged).
        Override it to keep what should stay, as Adam keeps its scale.
        """
        self.reset()


@functools.cache
def _own_proximal_step(cls):
    """Whether ``cls.proximal_step`` was written for ``cls.update`` (or ``cls.step``).

    A subclass that writes its own update or step under a class's proximal
    step (a user's variant of Momentum, whose state is not Momentum's)
    takes the plain step, ``learning_rate``, and tells its state nothing,
    until it writes its proximal step too. The base class's default, the
    plain step, serves any update.
    """
    owner = next(k for k in cls.__mro__ if "proximal_step" in vars(k))
    if owner is Optimizer:
        return True
    updater = next((k for k in cls.__mro__ if "update" in vars(k) or "step" in vars(k)), owner)
    return not (updater is not owner and issubclass(updater, owner))


class SGD(Optimizer):
    """Plain gradient descent, the course's update: ``w <- w - γ * grad``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import SGD
    >>> SGD().update(np.array([2.0]), {}, learning_rate=0.5)
    array([1.])
    """

    def restart(self):
        """Nothing to forget: plain descent keeps no state."""

    def update(self, grad, state, learning_rate):
        return learning_rate * grad


class Momentum(Optimizer):
    """Gradient descent with heavy-ball momentum.

    ``v <- momentum * v - γ * grad``; ``w <- w + v``.

    Parameters
    ----------
    momentum : float, default=0.9
        How much of the previous step carries on, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import Momentum
    >>> opt, state = Momentum(momentum=0.5), {}
    >>> opt.update(np.array([1.0]), state, 1.0), opt.update(np.array([1.0]), state, 1.0)
    (array([1.]), array([1.5]))
    """

    _parameter_constraints = {"momentum": [Interval(Real, 0, 1, closed="left")]}

    def __init__(self, momentum=0.9):
        self.momentum = momentum

    def restart(self):
        for state in getattr(self, "state_", []):
            state.pop("velocity", None)

    @property
    def noise_gain(self):
        """How many batches' gradients (and noise) a step sums: ``1 / (1 - momentum)``."""
        return 1.0 / (1.0 - self.momentum)

    def proximal_step(self, state, learning_rate):
        return learning_rate  # the velocity's gradient step

    def proximal_moved(self, state, learning_rate, subgradient, held):
        # Where the coefficient keeps its sign, the velocity takes in L1's
        # gradient as the update's: the descent is heavy ball on the whole
        # objective (a proximal heavy ball, as iPiano, Ochs et al., 2014), and
        # its fixed point L1's optimum, whatever the momentum and the step: a
        # restart (velocity 0), a stream's damped momentum or a new step leave
        # it where it is. Thresholding instead at the velocity's gain, step /
        # (1 - momentum), with the velocity of the gradient alone, puts the
        # optimum at a velocity that L1 alone holds back: each restart of exact
        # descent then threw the coefficients toward 0 (the tester's problem:
        # 0.13-0.35 away). A coefficient set to 0 stops there, its velocity
        # dropped: kept (the move it made), the iterates parted with rounding
        # (compiled and numpy paths 1e-3 apart after 40 epochs on breast_cancer).
        velocity = state["velocity"] - learning_rate * subgradient
        state["velocity"] = np.where(held, velocity, 0.0)

    def update(self, grad, state, learning_rate):
        velocity = state.get("velocity", 0.0)
        state["velocity"] = self.momentum * velocity - learning_rate * grad
        return -state["velocity"]


class Nesterov(Momentum):
    """Momentum with Nesterov's look-ahead (in the form sklearn's MLP uses).

    Parameters
    ----------
    momentum : float, default=0.9
        How much of the previous step carries on, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import Nesterov
    >>> Nesterov(momentum=0.5).update(np.array([1.0]), {}, 1.0)
    array([1.5])
    """

    def proximal_step(self, state, learning_rate):
        # the update's gradient step: the velocity's and the look-ahead's
        return learning_rate * (1 + self.momentum)

    def update(self, grad, state, learning_rate):
        super().update(grad, state, learning_rate)  # the velocity, as Momentum
        return -(self.momentum * state["velocity"] - learning_rate * grad)


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with its accumulated squared gradients.

    Parameters
    ----------
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import Adagrad
    >>> Adagrad().update(np.array([3.0, -4.0]), {}, 0.1).round(6)
    array([ 0.1, -0.1])
    """

    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, epsilon=1e-8):
        self.epsilon = epsilon

    def proximal_step(self, state, learning_rate):
        # each coordinate's own step (proximal Adagrad: Duchi, Hazan and Singer, 2011)
        return learning_rate / (np.sqrt(state["sum_sq"]) + self.epsilon)

    def restart(self):
        """Nothing to forget: the running size of the gradient is no momentum."""

    def update(self, grad, state, learning_rate):
        state["sum_sq"] = state.get("sum_sq", 0.0) + grad * grad
        return learning_rate * grad / (np.sqrt(state["sum_sq"]) + self.epsilon)


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running root-mean-square of the gradients.

    Parameters
    ----------
    rho : float, default=0.9
        Decay of the running average of squared gradients, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import RMSprop
    >>> RMSprop(rho=0.0).update(np.array([3.0]), {}, 0.1).round(6)
    array([0.1])
    """

    _parameter_constraints = {
        "rho": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, rho=0.9, epsilon=1e-8):
        self.rho = rho
        self.epsilon = epsilon

    def proximal_step(self, state, learning_rate):
        return learning_rate / (np.sqrt(state["mean_sq"]) + self.epsilon)

    def restart(self):
        """Nothing to forget: the running size of the gradient is no momentum."""

    def update(self, grad, state, learning_rate):
        mean_sq = state.get("mean_sq", 0.0)
        state["mean_sq"] = self.rho * mean_sq + (1 - self.rho) * grad * grad
        return learning_rate * grad / (np.sqrt(state["mean_sq"]) + self.epsilon)


class Adam(Optimizer):
    """Adam: momentum and RMSprop with bias correction (Kingma and Ba, 2015).

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first-moment (mean) estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay of the second-moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optim import Adam
    >>> Adam().update(np.array([5.0, -0.1]), {}, 0.01).round(6)
    array([ 0.01, -0.01])
    """

    _parameter_constraints = {
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def restart(self):
        for state in getattr(self, "state_", []):  # the direction goes, the scale stays
            state.pop("m", None)

    def proximal_step(self, state, learning_rate):
        # the current gradient's share of the step: (1 - beta_1) of the mean, then
        # its bias correction, over each coordinate's running size
        t = state["t"]
        scale = np.sqrt(state["v"] / (1 - self.beta_2**t)) + self.epsilon
        return (learning_rate * (1 - self.beta_1)) / ((1 - self.beta_1**t) * scale)

    def proximal_moved(self, state, learning_rate, subgradient, held):
        # the mean takes in L1's gradient too (see Momentum.proximal_moved)
        state["m"] = np.where(held, state["m"] + (1 - self.beta_1) * subgradient, 0.0)

    def update(self, grad, state, learning_rate):
        t = state["t"] = state.get("t", 0) + 1
        state["m"] = self.beta_1 * state.get("m", 0.0) + (1 - self.beta_1) * grad
        state["v"] = self.beta_2 * state.get("v", 0.0) + (1 - self.beta_2) * grad * grad
        m_hat = state["m"] / (1 - self.beta_1**t)
        v_hat = state["v"] / (1 - self.beta_2**t)
        return learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}
"""Names of the built-in optimizers, as the estimators' ``optimizer`` parameter takes them.

The estimators' default, ``"auto"``, is not one: it names ``"sgd"`` or
``"nesterov"`` by X (see :class:`skgd.GDClassifier`).
"""


def invscaling(learning_rate, t, power_t=0.5):
    """The ``"invscaling"`` schedule: ``learning_rate / t ** power_t`` at step ``t`` (from 1).

    Parameters
    ----------
    learning_rate : float
        The initial step size γ.
    t : int
        The number of the update, counting from 1.
    power_t : float, default=0.5
        The exponent of the decay.

    Returns
    -------
    learning_rate_t : float
        The step size of update ``t``.

    Examples
    --------
    >>> from skgd.optim import invscaling
    >>> invscaling(0.1, t=4)
    0.05
    """
    # t ** -power_t in floats: a large power_t makes the step underflow to 0
    # (the schedule has then ended) instead of overflowing t ** power_t.
    return learning_rate * float(t) ** -float(power_t)
