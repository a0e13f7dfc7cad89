"""GDRegressor: a linear regressor trained by minibatch gradient descent."""

import functools

import numpy as np
from scipy import sparse
from scipy.special import xlogy
from sklearn.base import RegressorMixin, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_array, validate_data

from ._base import BaseGD, _scored_poorly, keep_state_on_error, partial_fit_available
from ._checks import loss_tags_of
from ._input_checks import FiniteLater, valid_as_is
from ._parity import (
    SGDParityMixin,
    available_with_reason,
    explain_sgd_arguments,
)
from ._stream_order import TargetOrder, warn_of_sorted_targets
from ._warning_site import warn
from .losses import REGRESSION_LOSSES, ClassificationLoss, Loss, Poisson


def _r2(y_true, y_pred, sample_weight):
    """R^2 for early stopping: ``r2_score``'s value, without its checks, and on one sample too.

    One sample has no variance, like a constant target, for which sklearn's
    r2_score gives 1.0 to a perfect prediction and 0.0 otherwise; so here.
    Otherwise this is r2_score's own arithmetic (its float dtype, sums and
    "uniform_average" of the outputs): its checks took 1.4 ms a call, more
    than an epoch of a small data set, and early stopping scores every epoch.
    """
    if len(y_true) < 2:
        return float(np.allclose(y_true, y_pred))
    given = () if sample_weight is None else (sample_weight,)
    dtype = np.result_type(y_true, y_pred, *given, np.float32)
    y_true = np.asarray(y_true, dtype=dtype).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=dtype).reshape(len(y_pred), -1)
    weight = 1.0
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
        weight = sample_weight[:, None]
    mean = np.average(y_true, axis=0, weights=sample_weight)
    numerator = np.sum(weight * (y_true - y_pred) ** 2, axis=0)
    denominator = np.sum(weight * (y_true - mean) ** 2, axis=0)
    # a perfect prediction scores 1, a constant target predicted wrong 0 (force_finite)
    scores = np.ones(y_true.shape[1], dtype=dtype)
    valid = (denominator != 0) & (numerator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    scores[(numerator != 0) & (denominator == 0)] = 0.0
    return float(np.average(scores))


def _poisson_d2(loss, y_true, raw, sample_weight):
    """D² of the Poisson deviance for early stopping: ``PoissonRegressor.score``'s value.

    ``d2_tweedie_score(power=1)`` of each output, averaged over outputs (as
    R²'s "uniform_average"), from the raw predictions: the deviance of a
    prediction past ``loss``'s tangent (raw > 500, where ``exp`` overflows)
    is its loss's, finite. An output of constant targets scores as R²
    does: 1 if predicted exactly, else 0.
    """
    Y = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    raw = np.asarray(raw, dtype=np.float64).reshape(Y.shape)
    mean = loss._exp_and_slope(raw)[0]
    # half of each value's deviance, y log(y / mean) - y + mean, with log(mean) as raw
    deviance = np.average(xlogy(Y, Y) - Y * raw - Y + mean, axis=0, weights=sample_weight)
    centre = np.average(Y, axis=0, weights=sample_weight)  # (the null model's prediction)
    null = np.average(xlogy(Y, Y) - xlogy(Y, centre) - Y + centre, axis=0, weights=sample_weight)
    scores = np.where(deviance == 0, 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(null > 0, 1.0 - deviance / null, scores)
    return float(np.mean(scores))


class GDRegressor(RegressorMixin, SGDParityMixin, BaseGD):
    """Linear regression trained by minibatch gradient descent with a pluggable loss.

    The model is ``y = X @ coef_.T + intercept_`` (mapped through the loss's
    ``inverse_link``, e.g. ``exp`` for ``"poisson"``). Training minimises the
    mean ``sample_weight``-weighted loss plus the penalty by the course's
    loop: random initialisation, then for each shuffled batch a forward
    pass, the loss, its gradient and the update ``w <- w - step * grad``,
    until the training loss stops improving. The step is ``learning_rate``
    times the largest stable step for the data (see Notes).

    The estimator standardizes X (and y) internally, in its parameters; in a
    pipeline, a ``StandardScaler`` first changes nothing but keeps the
    statistics of each fold's training data apart.

    Parameters
    ----------
    loss : str or Loss, default="squared_error"
        The loss minimised: ``"squared_error"``, ``"absolute_error"``,
        ``"huber"``, ``"epsilon_insensitive"``,
        ``"squared_epsilon_insensitive"``, ``"poisson"``, the embedding
        losses ``"l1"``, ``"l2"``, ``"cosine"`` (for 2-D ``y``), or any
        :class:`skgd.losses.Loss` instance, built-in (``Huber(delta=2.0)``)
        or written by you.
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
        Maximum number of epochs (passes over the training data) in ``fit``.
    tol : float or None, default=1e-3
        The stop criterion: training stops when the epoch's training loss
        (or validation score, with ``early_stopping``) has not improved by
        more than ``tol`` times the loss of the best constant prediction
        (for the validation score, by ``tol``) for ``n_iter_no_change``
        consecutive epochs. Relative, so that a target of any scale stops
        alike (for ``loss="poisson"``, the unit is the best constant's
        deviance, and at the whole data the deviance left once smaller, as
        the squared error's is the loss left, 1 - R² of it; for
        a user's loss with an ``inverse_link``, the best constant's gap to
        second order if smaller, blind to terms in y alone: see the user
        guide). ``None`` runs all ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Epochs without improvement that make a plateau. With the default
        ``schedule="adaptive"`` a plateau first grows the batch (see
        ``schedule``), early stopping's too, and the plateau at the whole
        data stops the training; with the other schedules, the first one.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data,
        score it after each epoch with the estimator's ``score`` (weighted by
        ``sample_weight``, as the training loss is), stop when neither that
        score nor the held-out loss (which a coarse score such as a few rows'
        accuracy hides) has improved by ``tol`` for ``n_iter_no_change``
        epochs, and keep the coefficients of the best score seen.
        A loss with a link, whose predictions are on another scale than its
        loss, is scored by its held-out deviance instead: ``"poisson"`` by
        D² of the Poisson deviance (``PoissonRegressor``'s score), a user's
        loss with an ``inverse_link`` by minus its mean loss (as
        ``HistGradientBoostingRegressor``'s ``scoring="loss"``); R², which
        the largest counts dominate, kept epochs of far higher deviance.
        A loss that R² judges poorly (its tags' ``poor_score``: the cosine
        distance, blind to the predictions' lengths) is scored by minus its
        mean loss too. ``score`` stays R² whatever the loss. Not available
        in ``partial_fit``.
    validation_fraction : float, default=0.1
        The share of the training data held out by ``early_stopping``: two
        samples at least, as R² (and D²) is undefined on one.
    alpha : float, default=0.0001
        Strength of the penalty, on the standardized problem (y over its
        standard deviation s, unless the loss has a link), so that one
        ``alpha`` suits any scale of y. For the squared error, ``"l2"`` is
        then ``Ridge(alpha=n_samples * alpha)`` on standardized X, and
        ``"l1"`` is ``Lasso(alpha=alpha * s)``: see the user guide's "What
        alpha weighs" for the conversions.
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
        Whether to learn ``intercept_``; if False it stays 0.
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
        Seeds the random initialisation and the shuffling; an int gives
        identical models from identical data.
    warm_start : bool, default=False
        Whether ``fit`` starts from the previous solution instead of a new
        random initialisation.
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

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        The weights; 1-D when ``y`` is 1-D.
    intercept_ : ndarray of shape (n_outputs,)
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
        epoch: R²; D² of the deviance for ``"poisson"``; minus the mean loss
        of a user's loss with a link, or of a loss that R² judges poorly (see
        ``early_stopping``). A warm start continues them, as ``loss_curve_``,
        after a fit with early stopping.
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
    ``learning_rate / L``: stable on any data for every built-in loss but
    Poisson, whose curvature grows with its predictions (see the user guide).

    The penalty acts on ``V``, as glmnet's ``standardize=TRUE`` does, in the
    units of the standardized target where there is one; after a
    StandardScaler, the squared error's objective is exactly Ridge's, and
    the log loss's LogisticRegression's, divided by the number of samples.
    With ``standardize=False``, ``V`` is ``coef_`` and the step is
    ``learning_rate``.

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
    >>> reg = make_pipeline(StandardScaler(), GDRegressor(random_state=0))
    >>> reg.fit(X, y).score(X, y) > 0.99
    True

    Huber's ``delta`` is in the units of ``y``, and the target needs no scaling:

    >>> robust = make_pipeline(StandardScaler(), GDRegressor(loss=Huber(delta=5.0)))
    >>> robust.fit(X, y).score(X, y) > 0.99
    True
    """

    _losses = REGRESSION_LOSSES
    _other_kind = ClassificationLoss
    _score_metric = staticmethod(_r2)
    _parameter_constraints = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES)), Loss],
    }

    @explain_sgd_arguments
    def __init__(
        self,
        loss="squared_error",
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # The loss says which targets it takes (non-negative ones for Poisson,
        # vectors only for the embedding losses) and whether R^2 suits it. A
        # loss may not be valid yet: tags are read before fit validates it.
        try:
            loss_tags = loss_tags_of(self._get_loss())
        except (ValueError, AttributeError):
            return tags
        tags.target_tags.positive_only = loss_tags.target_tags.positive_only
        tags.target_tags.single_output = loss_tags.target_tags.single_output
        if loss_tags.regressor_tags is not None:
            tags.regressor_tags.poor_score = loss_tags.regressor_tags.poor_score
        if loss_tags.target_tags.positive_only and not self.fit_intercept:
            # A log link with no intercept predicts a mean of 1 at the data's
            # centre, whatever the targets' level: PoissonRegressor(fit_intercept=False)
            # scores as poorly on the checks' data.
            tags.regressor_tags.poor_score = True
        return tags

    def _validate_Xy(self, X, y, reset, ensure_all_finite=True):
        # a stream's later call of a small, plain, finite chunk: what validation would return
        if not reset and valid_as_is(self, X, y, y_kinds="f", y_ndims=(1, 2)):
            return X, y
        if sparse.issparse(y):  # (multi_output=True lets scikit-learn's check take it)
            check_array(y, accept_sparse=False, input_name="y")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            # Each batch reads whole rows: X stored by columns (a pandas DataFrame's
            # values, X.T) is copied in row order once, as scikit-learn's SGD does;
            # gathering its rows would cost a cache miss per value (5x the epoch
            # on 200,000 x 100), and each other layout compiles the kernels again.
            order="C",
            multi_output=True,
            y_numeric=True,
            reset=reset,
            ensure_all_finite=ensure_all_finite,
        )
        # The losses are promised float targets (skgd.losses): integer counts too.
        return X, (y if y.dtype.kind == "f" else y.astype(X.dtype))

    @staticmethod
    def _n_outputs(Y):
        return 1 if Y.ndim == 1 else Y.shape[1]

    @staticmethod
    def _squeeze_coef(Y):
        return Y.ndim == 1

    @staticmethod
    def _scales_target(loss):
        """Whether raw predictions are in y's units (no link), so y's spread is their unit."""
        return type(loss).inverse_link is Loss.inverse_link

    def _held_out_by_deviance(self, loss):
        """Whether early stopping scores ``loss`` by D² of its deviance (Poisson's)."""
        return isinstance(loss, Poisson)

    def _held_out_baseline(self, loss):
        """Whether early stopping's score puts a constant prediction at 0: R² or D².

        Not a loss followed by minus its mean loss (see :meth:`_validate`).
        """
        if _scored_poorly(loss):
            return False
        return self._held_out_by_deviance(loss) or self._scales_target(loss)

    def _held_out_score(self, loss, Y, raw, weights, mean_loss):
        """Early stopping's score of held-out rows: R², unless the loss has a link.

        A link's predictions (Poisson's counts) are on another scale than its
        loss: R² is dominated by the largest counts, and kept epochs of a far
        higher deviance than the last one (star98's counts: a held-out mean
        deviance of 343 to 719 over seeds, where fits without early stopping
        reached 359 to 378). Poisson is scored by D² of its deviance, as
        ``PoissonRegressor.score``; a user's loss with a link by minus its
        mean loss (``HistGradientBoostingRegressor``'s ``scoring="loss"``).
        """
        if self._held_out_by_deviance(loss):
            return _poisson_d2(loss, Y, raw, weights)
        if not self._scales_target(loss):
            return -mean_loss
        return super()._held_out_score(loss, Y, raw, weights, mean_loss)

    @staticmethod
    def _decode_targets(Y):
        return Y

    def _predict_from_raw(self, raw):
        """Predictions from raw predictions of shape (n_samples, n_outputs)."""
        single = raw.shape[1] == 1 and (not hasattr(self, "coef_") or self._coef_ndim == 1)
        return self._fitted_loss().inverse_link(raw[:, 0] if single else raw)

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
            Starting intercepts instead of the random initialisation; with
            ``fit_intercept=False``, none but 0 (a ValueError: the model has no
            intercept, where scikit-learn's SGD keeps it fixed).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples; integer weights are equivalent to
            repeating samples;
            only their ratios count (the loss is their weighted mean: all
            multiplied by 10 change nothing, where scikit-learn's estimators
            weigh the loss tenfold against the penalty);
            non-negative, else a ValueError (scikit-learn's SGD estimators accept
            negative weights, whose rows' losses are then maximized).

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        self._prepare_to_train()
        self.__dict__.pop("_target_order", None)  # (a stream after it starts its own run)
        validate = functools.partial(self._validate_Xy, reset=True)
        with FiniteLater.for_fit(self, X, y, validate) as finite:  # (X's finiteness: statistics)
            X, y = validate(X, y, **finite.relaxed)
            return self._fit(
                X,
                y,
                sample_weight,
                incremental=False,
                coef_init=coef_init,
                intercept_init=intercept_init,
                finite=finite,
            )

    @available_with_reason(partial_fit_available)
    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of minibatch gradient descent over the given data.

        The first call initialises the model; later calls continue from it,
        which suits data that arrives in chunks. A call that raises leaves
        the model exactly as it was.

        Parameters changed with ``set_params`` since the last call take
        effect in this one; a new ``optimizer`` starts afresh. A changed
        ``fit_intercept`` is refused: it is the model's form, so call ``fit``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples:
            non-negative, else a ValueError (scikit-learn's SGD estimators accept
            negative weights, whose rows' losses are then maximized).

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        self._prepare_to_train()
        X, y = self._validate_Xy(X, y, reset=not hasattr(self, "coef_"))
        if hasattr(self, "coef_"):
            y = self._in_the_models_form(y)
        self._fit(X, y, sample_weight, incremental=True)
        # (a new one: a call the warning fails, as an error, leaves the stream as it was)
        order = TargetOrder.restored(self.__dict__.get("_target_order"))
        if order.observe(y, sample_weight):
            warn_of_sorted_targets(order)
        self._target_order = order.state()
        return self

    def _in_the_models_form(self, y):
        """A stream's chunk of one output as the model has it: 1-D y, or a column.

        ``coef_`` is 1-D for a model trained on 1-D y, 2-D for a column (as
        Ridge's). A chunk of the other form turned it over mid-stream,
        silently: a column after 1-D chunks made ``predict`` return (n, 1),
        and a naive mse over those predictions broadcast to (n, n) (9978 for
        a true 3021, a user trial through dask-ml's Incremental). The chunk
        takes the model's form, with a warning, as scikit-learn's SGD takes
        a column as 1-D.
        """
        one_output = y.ndim == 1 or y.shape[1] == 1
        if not one_output or len(self.intercept_) != 1 or (y.ndim == 1) == (self._coef_ndim == 1):
            return y
        given, kept = ("a column (n_samples, 1)", "1-D") if y.ndim == 2 else ("1-D", "a column")
        warn(
            f"y is {given}, but this stream's model was trained on y as {kept}: the chunk "
            f"is taken as {kept}, and coef_ keeps its shape {np.shape(self.coef_)}. Pass "
            "every chunk's y in one form.",
            DataConversionWarning,
        )
        return y.reshape(-1) if y.ndim == 2 else y.reshape(-1, 1)

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
        return self._predict_from_raw(self._raw_prediction(X))


# Public under this name: pickles, skops files and the docs name it skgd.GDRegressor.
GDRegressor.__module__ = "skgd"
