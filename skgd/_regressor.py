"""GDRegressor: a linear regressor trained by minibatch gradient descent."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseGD, keep_state_on_error
from .losses import REGRESSION_LOSSES, ClassificationLoss, Loss


class GDRegressor(RegressorMixin, BaseGD):
    """Linear regression trained by minibatch gradient descent with a pluggable loss.

    The model is ``y = X @ coef_.T + intercept_`` (mapped through the loss's
    ``inverse_link``, e.g. ``exp`` for ``"poisson"``). Training minimises the
    mean ``sample_weight``-weighted loss plus ``alpha / 2 * ||coef_||^2`` by
    the course's loop: random initialisation, then for each shuffled batch a
    forward pass, the loss, its gradient and the update
    ``w <- w - learning_rate * grad``, until the training loss stops improving.

    Scale the features first (``make_pipeline(StandardScaler(), GDRegressor())``):
    gradient descent with one learning rate for every coefficient needs
    features on comparable scales.

    Parameters
    ----------
    loss : str or Loss, default="squared_error"
        The loss minimised: ``"squared_error"``, ``"absolute_error"``,
        ``"huber"``, ``"epsilon_insensitive"``, ``"poisson"``, or any
        :class:`skgd.losses.Loss` instance, built-in (``Huber(delta=2.0)``)
        or written by you.
    learning_rate : float, default=0.01
        The step size γ of ``w <- w - γ * grad``, with ``0 < γ < 1``.
    batch_size : int or "auto", default="auto"
        Samples per gradient step. ``"auto"`` is ``min(200, n_samples)``, so
        small data is trained full-batch (exact gradient descent).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data) in ``fit``.
    tol : float or None, default=1e-4
        The stop criterion: training stops when the epoch's training loss
        has not improved by more than ``tol`` for ``n_iter_no_change``
        consecutive epochs. ``None`` runs all ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Epochs without improvement that stop the training.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 * ||coef_||^2``.
    penalty : {"l2"} or None, default="l2"
        The regularisation term; ``None`` ignores ``alpha``.
    fit_intercept : bool, default=True
        Whether to learn ``intercept_``; if False it stays 0.
    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch's batches.
    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation and the shuffling; an int gives
        identical models from identical data.
    warm_start : bool, default=False
        Whether ``fit`` starts from the previous solution instead of a new
        random initialisation.
    verbose : int, default=0
        If positive, print one line per epoch.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        The weights; 1-D when ``y`` is 1-D.
    intercept_ : ndarray of shape (n_outputs,)
        The intercepts.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.
    n_iter_ : int
        Epochs run by the last ``fit``; ``partial_fit`` adds one a call.
    t_ : int
        Number of weight updates (batches) since the model was initialised.
    loss_curve_ : list of float
        The mean training loss (with the penalty) of each epoch, measured
        during the epoch; ``partial_fit`` appends one value a call.

    See Also
    --------
    GDClassifier : The same training loop for classification.
    sklearn.linear_model.SGDRegressor : Per-sample stochastic gradient descent.
    sklearn.linear_model.Ridge : The exact solver of the squared error with an
        L2 penalty.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDRegressor
    >>> from skgd.losses import Huber
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> reg = make_pipeline(StandardScaler(), GDRegressor(loss=Huber(delta=1.0), random_state=0))
    >>> reg.fit(X, y).score(X, y) > 0.99
    True
    """

    _losses = REGRESSION_LOSSES
    _other_kind = ClassificationLoss
    _parameter_constraints = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES)), Loss],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        learning_rate=0.01,
        batch_size="auto",
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=5,
        alpha=0.0001,
        penalty="l2",
        fit_intercept=True,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.loss = loss
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.alpha = alpha
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate_Xy(self, X, y, reset):
        return validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
            reset=reset,
        )

    @staticmethod
    def _n_outputs(Y):
        return 1 if Y.ndim == 1 else Y.shape[1]

    @staticmethod
    def _squeeze_coef(Y):
        return Y.ndim == 1

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by minibatch gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        coef_init : array-like of shape (n_features,) or (n_outputs, n_features), default=None
            Starting coefficients instead of the random initialisation.
        intercept_init : array-like of shape (n_outputs,), default=None
            Starting intercepts instead of the random initialisation.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples; integer weights are equivalent to
            repeating samples.

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        X, y = self._validate_Xy(X, y, reset=True)
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=False,
            coef_init=coef_init,
            intercept_init=intercept_init,
        )

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of minibatch gradient descent over the given data.

        The first call initialises the model; later calls continue from it,
        which suits data that arrives in chunks. A call that raises leaves
        the model exactly as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        X, y = self._validate_Xy(X, y, reset=not hasattr(self, "coef_"))
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict targets with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        raw = self._raw_prediction(X)
        raw = raw[:, 0] if self.coef_.ndim == 1 else raw
        return self._get_loss().inverse_link(raw)
