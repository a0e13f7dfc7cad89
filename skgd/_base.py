"""The estimator base shared by GDRegressor and GDClassifier.

It holds the common parameters and turns a call of ``fit`` or
``partial_fit`` into the three things the course's loop needs
(:func:`skgd._loop.train`):

- an objective (:mod:`skgd._objective`): the loss, the standardization of
  X and y, the penalty;
- a training state: the parameters, initialised at random (the course's
  step 1) or continued, the optimizer's state, the random generator;
- the loop's settings, among them the step: γ times the largest stable
  step 1/L for this data, so that γ means the same on every problem.

The public estimators only turn targets into the encoded form the losses
expect (see :mod:`skgd.losses`) and raw predictions back into predictions.
"""

import copy
import functools
import math
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._callbacks import CALLBACKS_SUPPORTED, CallbackSupportMixin, EpochTasks
from ._checks import (
    check_user_loss,
    check_user_objects,
    elementwise_on_a_column,
    is_users_optimizer,
)
from ._compact_state import compacted, expanded
from ._data_warnings import (
    warn_if_far_from_the_origin,
    warn_if_flat,
    warn_if_shrunk_by_peaks,
)
from ._draws import uniform
from ._fit_warnings import (
    start_loss,
    warn_if_float32_cannot_hold,
    warn_if_held_out_below_a_constant,
    warn_if_held_out_followed_nothing,
    warn_if_kept_worse_than_a_constant,
    warn_if_stopped_short,
    warn_if_worse_than_a_constant,
    warn_max_iter,
)
from ._generators import copy_generator, generator_in, restore, state_of, take_snapshot
from ._held_out import HeldOut
from ._input_checks import canonical, error_unchecked_input
from ._loop import Settings, TrainingState, train
from ._loss_identity import _same_loss, _trained_copy
from ._objective import (
    Objective,
    _sample_rows,
    blind_to_length,
    curves_with_prediction,
    link_outputs_apart,
    reachable_reference,
    target_scaling,
)
from ._passes import all_finite
from ._products import rows_times_coefficients
from ._row_norms import RowNorms
from ._schedules import _MANY_BATCHES, continued_stream_fraction
from ._sparse_scales import near_constant_ranges, toward_root_mean_square
from ._sparse_statistics_passes import sparse_standardization
from ._standardize import (
    _ROBUST_SPREADS,
    ColumnFinds,
    FeatureStats,
    _compiled_standardization,
    _power_of_two,
    first_rows_scales,
    outlier_bounded_spread,
    rounding_scales,
)
from ._stopping import held_out_salt, split_validation
from ._stream_columns import _FIRST_ROWS, StreamColumns, _kept_model
from ._stream_steps import StreamStep
from .losses import AbsoluteError, EpsilonInsensitive, Hinge, Huber, LogLoss, SquaredError
from .optim import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Optimizer, RMSprop

# Built-in optimizers whose restart forgets all their state (momentum's velocity)
_RESTART_FORGETS_ALL = frozenset({SGD, Momentum, Nesterov})
# Built-in optimizers whose state a stream's rescale keeps, restarted (the gradient's
# sizes). Not Adagrad's: its sum, kept from a stream's first rows, decayed its steps
# (one-row streams: breast_cancer held-out 0.86 -> 0.61), where a new one's steps did not
_KEEP_SCALE = frozenset({RMSprop, Adam})
# Losses whose gradient is bounded: one wild target must not set a stream's target
# spread (see skgd._standardize.outlier_bounded_spread)
_BOUNDED_GRADIENT = (AbsoluteError, Huber, EpsilonInsensitive)
# Losses whose curvature the step's measure bounds everywhere (the squared error's is
# constant, the log loss's at most a quarter): a stable step's rises are the batches'
# noise (skgd._fit_warnings._rose_often). Not a kinked loss's, nor Huber's of a small
# delta (its curvature 1 within delta of the target: lowering γ from 0.5 to 0.02
# took noiseless diabetes' training MAE from 0.32 to 0.11, a review), nor a user's.
_CURVATURE_BOUNDED = (SquaredError, LogLoss)
# The least loss scale of the softmax (the log loss of K > 2 classes), and of the
# hinge (below). At the constant, where it is measured, every class has probability
# 1/K and an output is curved about 0.76 / K; a row whose two classes come to compete
# is curved up to 1/4, K / 3 times more. With hundreds of classes the step so set was
# far too long: make_blobs' 400 classes (3,000 rows) took 158 to 207 epochs under
# Nesterov, climbing past twice the first epoch's loss, to 1.4 to 1.8 times
# LogisticRegression's objective, and a stream of them raised "Training diverged"
# in its first call of 500 rows. At
# 1/32 (no change below 25 classes) the fit takes 58 to 69 epochs to 1.07-1.08 times
# the optimum's objective, without a climb, and the stream learns (held-out accuracy
# 0.88, 0.99, 1.00 after each of three passes). 1/16 and more shortened plain SGD's
# fits of 13 to 40 classes (the standard library's lines of its 40 largest modules,
# hashed: held-out accuracy 0.642 to 0.637; make_blobs' 20: 1.009 to 1.023-1.028
# times the optimum's objective). The Crammer-Singer hinge of K > 2 classes, whose
# scale is measured at 1/K, has the same floor (from 33 classes on): on the standard
# library's lines of 220 modules (tf-idf) its first epoch's loss was 20 times the
# constant's, and after 280 epochs the fit returned that constant (held-out accuracy
# 0.004; a user trial); now 0.408 in 109 epochs (SGDClassifier's hinge 0.411), and
# make_blobs' 200 classes climbed to 38-40 times the constant's loss, now 2.2-2.4.
_MANY_CLASSES_LEAST_SCALE = 1 / 32

# Up to this many samples, "auto" trains full-batch: the gradient is then the
# exact gradient of the weighted objective, so sample weights are exactly
# equivalent to repeated samples. Beyond, small batches: many cheap steps an
# epoch, each as long as the data allows (the step size accounts for the
# batch's noise).
_FULL_BATCH_UP_TO = 64
_AUTO_BATCH_SIZE = 32
# A stream call's rows, for the batch size a stream that continues a fit will take
# (more than _FULL_BATCH_UP_TO: batches of the "auto" size, or batch_size)
_STREAM_ROWS = 1000

# "auto" trains sparse X that stores fewer than this share of its entries with plain SGD
# (see _auto_optimizer)
_AUTO_SGD_DENSITY = 0.01
# A stream's statistics that move a scale by more than this (in log) restart the optimizer.
_TEN_PERCENT = float(np.log(1.1))
_TEN_PERCENT_UP, _TEN_PERCENT_DOWN = math.exp(_TEN_PERCENT), math.exp(-_TEN_PERCENT)

# A stream's calls are weighed against the weight this many of its rows reached (see
# BaseGD._stream_weight): one row heavier than all the others, in a call of its own, is
# capped, and two clean rows hold the weight that light ones after them are weighed
# against (one clean row first is that heavy row: the light ones step fully)
_HEAVY_ROWS = 2

# loss_curve_ keeps the last max(max_iter, this many) epochs.
_LOSS_CURVE_KEEP = 1000

# A stream's loss scale is measured on its last this many targets at least:
# one row says little of a kinked loss's curvature (issue: one-row streams).
_RECENT_ROWS = 64

# float32 X's predictions are taken in float64 by blocks of rows of this many values
# (2 MB of float64), not by a float64 copy of X
_PREDICTION_BLOCK = 2**18

# The square root of float64's smallest normal number: a spread of y below it has a
# square below that (see _check_loss_above_underflow)
_SQRT_TINY = math.sqrt(float(np.finfo(np.float64).tiny))


def partial_fit_available(estimator):
    """``partial_fit`` exists unless ``early_stopping``, which needs the whole data."""
    if estimator.early_stopping:
        raise AttributeError(
            "partial_fit is not available with early_stopping=True: it runs one epoch "
            "on the data it is given, with nothing held out. Use fit, or hold out data "
            "yourself and stop when its score stops improving."
        )
    return True


def keep_state_on_error(method):
    """Make a fitting method all-or-nothing.

    If ``method`` raises, every attribute of the estimator is put back as it
    was before the call, so a rejected ``partial_fit`` (unseen labels, wrong
    number of features, divergence) loses nothing; and a NaN in the data
    that scikit-learn's ``assume_finite`` let in is named as the cause.
    Training works on copies of the parameters and assigns them only at the
    end, which is what makes a shallow copy of ``__dict__`` enough here.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException as error:
            # the estimator's own generator, if the call drew from it in place
            # (see BaseGD._fit): back to its state before the call
            drawn = self.__dict__.get("_rng_drawn")
            if drawn is not None:
                restore(*drawn)
            self.__dict__.clear()
            self.__dict__.update(saved)
            unchecked = error_unchecked_input(method, args, kwargs, error)
            if unchecked is not None:
                raise unchecked from error
            raise

    return wrapper


class BaseGD(CallbackSupportMixin, StreamColumns, BaseEstimator):
    """Parameters, initialisation and the training loop of the skgd estimators."""

    # Set by the subclasses: the built-in losses by name, the base class of
    # the built-in losses meant for the other kind of estimator, the metric
    # of ``score`` (for early stopping) and whether the validation split is
    # stratified.
    _losses = {}
    _other_kind = ()
    _score_metric = None
    _stratify = False

    _parameter_constraints = {
        "learning_rate": [Interval(Real, 0, 1, closed="neither")],
        "optimizer": [StrOptions({"auto", *OPTIMIZERS}), Optimizer],
        "schedule": [StrOptions({"constant", "invscaling", "adaptive"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],  # None: not elasticnet
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "shuffle": ["boolean", StrOptions({"blocks"})],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self):
        """Whether the estimator holds a model: ``coef_``, which every fit and stream call sets.

        scikit-learn's own test reads the name of every attribute (over 50
        once fitted), at every ``partial_fit`` call and every ``predict``:
        about 4 us of a one-row call. ``coef_`` is set with the rest of the
        model, after training, and a call that fails leaves it as it was.
        """
        return hasattr(self, "coef_")

    def __getstate__(self):
        """:meth:`_state`, a wide model's columns compacted (see :mod:`skgd._compact_state`)."""
        return compacted(self._state())

    def _state(self):
        """scikit-learn's; a copy taken during a call has the generator as the call found it.

        A call draws from the estimator's own generator in place (see
        ``_fit``), but the rest of a copy taken during it (a callback's
        ``fitted_estimator``) is the estimator as the call found it: so is
        its generator, from the state the call noted before drawing.
        """
        state = super().__getstate__()
        drawn = state.get("_rng_drawn")
        if drawn is not None:
            state = {key: value for key, value in state.items() if key != "_rng_drawn"}
            state["_rng"] = generator_in(state_of(*drawn), drawn[0])
        return state

    def __copy__(self):
        """``copy.copy``: :meth:`_state` as it is, not compacted.

        scikit-learn's callbacks copy the estimator at every epoch: through
        the file's compaction, a copy of a model of 2**20 columns took 24 ms
        instead of 0.2 (a review).
        """
        copied = type(self).__new__(type(self))
        copied.__setstate__(self._copied_state())
        return copied

    def __deepcopy__(self, memo):
        """``copy.deepcopy``, likewise without the file's compaction."""
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        copied.__setstate__(copy.deepcopy(self._copied_state(), memo))
        return copied

    def _copied_state(self):
        """What a copy takes: :meth:`_state`, or a subclass's own ``__getstate__``."""
        if type(self).__getstate__ is not BaseGD.__getstate__:
            return self.__getstate__()
        return self._state()

    def __setstate__(self, state):
        """scikit-learn's, and a generator of its own for a copy (``copy.copy`` too).

        A stream draws from its own generator in place (see ``_fit``): a
        shallow copy (scikit-learn's callbacks' ``fitted_estimator``, a
        checkpoint to replay from) must not share it with the live estimator.
        """
        super().__setstate__(expanded(dict(state)))
        if self.__dict__.get("_rng_own"):
            self._rng = copy_generator(self._rng)

    # ------------------------------------------------- the swappable objects

    def _get_loss(self):
        """The loss object named or given by the ``loss`` parameter."""
        if isinstance(self.loss, str):
            if self.loss not in self._losses:
                raise ValueError(
                    f"Unknown loss {self.loss!r} for {type(self).__name__}; "
                    f"valid names are {sorted(self._losses)}, or pass a skgd.losses.Loss."
                )
            return self._losses[self.loss]()
        if isinstance(self.loss, self._other_kind):
            raise ValueError(
                f"{type(self.loss).__name__} is a loss for the other kind of estimator; "
                f"{type(self).__name__} takes {sorted(self._losses)} or a Loss of its own kind."
            )
        return self.loss

    def _fitted_loss(self):
        """The loss the model was trained with (before any fit, the ``loss`` parameter's).

        Its link makes the predictions: ``set_params(loss="poisson")`` on a
        fitted squared-error model sent its predictions through exp (3e89
        for diabetes), as scikit-learn's estimators fix theirs at fit.
        """
        trained = self.__dict__.get("_trained_loss")
        return self._get_loss() if trained is None else trained

    def _new_optimizer(self, X=None, streaming=False):
        """A fresh, validated copy of the ``optimizer`` parameter, with no state.

        ``"auto"`` names the optimizer for ``X`` (see :func:`_auto_optimizer`),
        or in a stream it chose at a call before, the one it chose then: a
        chunk passed dense, or denser, is the same stream.
        """
        if isinstance(self.optimizer, str):
            if self.optimizer not in OPTIMIZERS and self.optimizer != "auto":
                # set between partial_fit calls, which skip scikit-learn's validation
                self._validate_params()
            name = _auto_optimizer(self.optimizer, X)
            if streaming and self.optimizer == self.__dict__.get("_trained_optimizer") == "auto":
                name = "sgd" if type(self.optimizer_) is SGD else "nesterov"
            return OPTIMIZERS[name]()
        optimizer = clone(self.optimizer)
        optimizer._validate_params()
        return optimizer

    def _same_optimizer(self, X=None):
        """Whether ``optimizer`` still names the optimizer that trained the model.

        ``set_params(optimizer=...)`` between ``partial_fit`` calls takes
        effect at the next call, which starts the new optimizer afresh.
        """
        if isinstance(self.optimizer, str) and self.optimizer == getattr(
            self, "_trained_optimizer", None
        ):
            # The name that trained it: a stream of calls need not build and
            # compare the optimizer's parameters on every call.
            return True
        new, old = self._new_optimizer(X, streaming=True), self.optimizer_
        return type(new) is type(old) and new.get_params() == old.get_params()

    def _trained_standardized(self):
        """Whether the model was trained standardized: it keeps the scales then (_keep_stream)."""
        return self.__dict__.get("_x_scale") is not None

    def _check_stream_parameters(self):
        """Refuse, in ``partial_fit``, a parameter that cannot change within a stream.

        ``fit_intercept`` is the model's form: a model trained with an
        intercept would lose it, and one without would gain a parameter its
        optimizer has no state for. scikit-learn refuses such changes between
        ``partial_fit`` calls (``IncrementalPCA``, a changed ``n_components``); so here.
        """
        trained = getattr(self, "_trained_fit_intercept", self.fit_intercept)
        if self.fit_intercept != trained:
            raise ValueError(
                f"fit_intercept={self.fit_intercept!r}, but the model was trained with "
                f"fit_intercept={trained!r}; it cannot change between partial_fit calls. "
                f"Call fit to train a new model with fit_intercept={self.fit_intercept!r}, "
                f"or set fit_intercept={trained!r} again to continue this one."
            )

    def _check_same_link(self, loss, incremental):
        """Refuse to continue a model with a loss whose link reads its raw predictions otherwise.

        A squared-error stream's raw predictions (diabetes' 150) went through
        Poisson's exp after ``set_params(loss="poisson")``: predictions of
        1e120, silently, call after call (a user trial); a warm fit
        diverged, the learning rate blamed. The links are compared at a few
        raw predictions, so that two losses of the same link (a user's
        Poisson and the built-in) go on.
        """
        trained = self.__dict__.get("_trained_loss")
        # (isinstance, not is_regressor, which builds every tag, the loss's too: 2 us a call)
        regressor = isinstance(self, RegressorMixin)
        if trained is None or not regressor or _same_loss(trained, loss):
            return  # (a classifier's predictions take no link; a stream's every call: 50 µs)
        # five raw predictions, in the shape the estimator passes (a column an output)
        points = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
        points = np.tile(points[:, None], (1, len(self.intercept_)))
        points = points[:, 0] if np.ndim(self.coef_) == 1 else points  # (1-D y: 1-D raw)
        try:
            with np.errstate(all="ignore"):
                before, after = trained.inverse_link(points), loss.inverse_link(points)
                same = np.shape(before) == np.shape(after) and np.allclose(before, after)
        except Exception:  # (a link of a user's that takes no such array: not compared)
            return
        if same:
            return
        how = (
            "Call fit with warm_start=False to train a new model"
            if not incremental
            else "Call fit to train a new model"
        )
        raise ValueError(
            f"The model was trained with {trained!r}, whose link maps raw predictions to "
            f"predictions otherwise than {loss!r}'s: its coefficients mean nothing to that "
            f"loss, and training on from them would not start from a model. {how} with "
            f"this loss, or set the loss back to {trained!r} to continue this one."
        )

    # ------------------------------------------------------------ input data

    def _validate_X(self, X, reset):
        return validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=reset
        )

    @property
    def _W(self):
        """``coef_`` as a 2-D (n_outputs, n_features) array, a view."""
        return self.coef_.reshape(len(self.intercept_), -1)

    def _raw_prediction(self, X):
        """``X @ coef_.T + intercept_``, shape (n_samples, n_outputs).

        float32 X is multiplied in float64 (a block of rows at a time, with
        no float64 copy of X), then rounded to the model's dtype: in X's units a
        column far from 0 has a coefficient whose product the intercept
        cancels, and float32 sums lost it (breast cancer's columns shifted
        by 1e6: the intercept 1e8, decision values off by 13, accuracy
        0.79 where the same model scores 0.95; a user trial).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        W = self._W
        if X.dtype != np.float32:
            return rows_times_coefficients(X, W) + self.intercept_
        b64 = self.intercept_.astype(np.float64)
        dtype = np.result_type(np.float32, W.dtype)  # (a float64 model's: float64)
        if sparse.issparse(X):  # (its stored values alone, and their coefficients: O(nnz))
            product = rows_times_coefficients(X.astype(np.float64), W, float64=True)
            return (product + b64).astype(dtype)
        W64 = W.astype(np.float64)
        raw = np.empty((X.shape[0], len(b64)), dtype=dtype)
        # (16 rows at least: wider X took a numpy call a row, 70 times the product's time)
        rows = max(16, _PREDICTION_BLOCK // max(X.shape[1], 1))
        # one buffer for every block, in cache (a new 8 MB array a block cost its page
        # faults: predictions took 7 times the float32 product's time)
        buffer = np.empty((min(rows, X.shape[0]), X.shape[1]))
        W64_T = None if sparse.issparse(W64) else np.ascontiguousarray(W64.T)  # (sparsify())
        for start in range(0, X.shape[0], rows):
            block = buffer[: min(rows, X.shape[0] - start)]
            block[...] = X[start : start + rows]
            product = rows_times_coefficients(block, W64) if W64_T is None else block @ W64_T
            raw[start : start + rows] = product + b64
        return raw

    # --------------------------------------------------------------- fitting

    def _fit(
        self, X, Y, sample_weight, *, incremental, coef_init=None, intercept_init=None, finite=None
    ):
        """Train on validated ``X`` and encoded ``Y``; set the fitted attributes.

        ``incremental`` is True for ``partial_fit``: one epoch, starting from
        the current model, with statistics that follow the stream. ``fit``
        starts afresh unless ``warm_start``. Subclasses say how many outputs
        ``Y`` needs (``_n_outputs``), whether a single output keeps a 1-D
        ``coef_`` (``_squeeze_coef``), whether the target is rescaled
        (``_scales_target``) and how raw predictions become predictions
        (``_predict_from_raw``). ``finite``: a :class:`skgd._input_checks.FiniteLater`
        when ``fit`` left X's finiteness to the statistics.

        The steps are the course's: the training set's statistics (and the
        objective in their coordinates), the parameters (at random, or
        continued), the loop (:func:`skgd._loop.train`), then the model in
        the data's units.
        """
        X = canonical(X)
        loss = self._get_loss()
        loss.check_target(Y)
        n_outputs = self._n_outputs(Y)
        squeeze = self._squeeze_coef(Y)  # (coef_'s shape follows y as given)
        column = elementwise_on_a_column(loss, Y, X.dtype, self._scales_target(loss))
        if column:
            Y = Y[:, 0]  # (a user's loss written for 1-D y: it sees 1-D y, as the README's)
        single = Y.ndim == 1 and n_outputs == 1  # the loss sees 1-D arrays then
        continuing = (incremental or self.warm_start) and hasattr(self, "coef_")
        streaming = incremental and continuing  # the stream's statistics carry on
        check_user_loss(
            loss, Y, n_outputs, single=single, dtype=X.dtype, sample=not streaming,
            in_y_units=self._scales_target(loss), classifier=isinstance(self, ClassifierMixin),
        )  # fmt: skip
        if streaming:
            self._check_stream_parameters()
        if continuing:
            self._check_same_link(loss, incremental)
            X = self._continued_data(X, n_outputs)
        if Y.dtype.kind == "f":
            Y = Y.astype(X.dtype, copy=False)
        # (a strided y, a column of a 2-D array's rows or y[::2], took compiled code of
        # its own layout: a first fit's 5 to 10 s of compiling again, a user trial; a
        # copy of y costs a read of it)
        Y = np.ascontiguousarray(Y)
        sample_weight, weighted, weight_unit = _training_weights(sample_weight, X)
        rng, rng_own = self._generator(X.shape[0], incremental, continuing)
        validation = None
        if self.early_stopping:
            # (a warm fit holds out the rows its fit held out, as MLPClassifier's of a
            # random_state: see held_out_salt)
            salt = self.__dict__.get("_held_out_salt") if continuing else None
            self._held_out_salt = held_out_salt(rng) if salt is None else salt
            X, Y, sample_weight, validation = split_validation(
                X, Y, sample_weight, rng, self.validation_fraction, self._stratify,
                salt=self._held_out_salt,
            )  # fmt: skip

        # the training set's statistics, and the objective in their coordinates
        # (each row's norm, taken in the statistics' pass for the curvature's L_max)
        row_norms = RowNorms.of(X, sample_weight, self.fit_intercept) if self.standardize else None
        finds = ColumnFinds()  # (sparse X: its columns' peaks and counts, from that pass)
        stats = self._statistics(
            X, Y, sample_weight, streaming, weight_unit, row_norms, loss, finds
        )
        if finite is not None:
            finite.statistics_taken(X, sample_weight, stats[0])
        peak = self._column_peak(X, sample_weight, streaming, finds.peak)
        counts = last = rows = stored = None
        ranges = (None, None)  # a dense stream's columns' ranges: before this call, and with it
        if self.standardize:
            counts, last = self._value_counts(X, incremental, streaming, finds.counts)
            ranges = self._value_ranges(X, streaming, counts, finds.range)
            rows = self._stream_rows(X, sample_weight, incremental, streaming)
            stored = self._stored_weight(
                X, sample_weight, weighted, weight_unit, streaming, counts, finds.counts
            )
        # dense X's exact (low, high) over the statistics' rows: the stream's, or this fit's
        x_range = finds.range if ranges[1] is None and not streaming else ranges[1]
        if sparse.issparse(X) and self.standardize and self.fit_intercept and not incremental:
            # (a sparse fit's columns that may be constant but for rounding, theirs alone;
            # a sparse stream keeps no ranges: its exact constants only. Without an
            # intercept nothing is centred: a constant column is the intercept's stand-in)
            x_range = near_constant_ranges(X, sample_weight, stats[0].mean, stats[0].std)
        recent = None  # a stream's recent targets and weights, whose loss scale a chunk continues
        if stats[1] is not None:
            recent = self._recent_targets(Y, sample_weight, weight_unit, streaming)
        objective = self._objective(
            loss, Y, sample_weight, stats, single, X.dtype, n_outputs, peak,
            recent[:2] if streaming and recent is not None else None, streaming=streaming,
            rows=rows, spread_rows=recent[:2] if incremental and recent is not None else None,
            stops=not incremental, stored=stored, x_range=x_range,
        )  # fmt: skip

        # (a stream's chunk may hold few targets; a homogeneous loss is flat at 0 by nature)
        if not incremental and not getattr(loss, "homogeneous", False):
            warn_if_flat(self, loss, Y, sample_weight, objective.y_loc, single)
        if not incremental and not self.fit_intercept and self.standardize:
            warn_if_far_from_the_origin(stats[0])
        if not streaming and self.standardize:  # (a stream's first call only: once)
            warn_if_shrunk_by_peaks(self, X, objective, stats[0], stored)

        # the parameters: continued, given, or at random (the course's step 1)
        kept = (
            self._kept_scales(objective, X, Y, sample_weight, single, ranges[0])
            if streaming
            else None
        )
        V, c = self._start(
            objective, rng, stats, X.dtype, n_outputs, continuing, incremental,
            coef_init, intercept_init, kept,
        )  # fmt: skip
        optimizer = self._call_optimizer(X, stats, streaming, objective)
        state = self._training_state(objective, V, c, optimizer, rng, continuing, streaming, kept)
        if state.seen + X.shape[0] * (1 if incremental else self.max_iter) < state.average_from:
            # averaging that cannot start in this call changes none of its steps: with
            # average=10**9, diabetes trained 28 epochs where average=False trains 39
            # (SGDRegressor's two are the same); the call still counts its samples
            state.average_from = np.inf
        curvature = None  # standardize=False: the course's plain step γ
        if self.standardize:
            curvature = _curvature(
                objective, X, sample_weight, self.fit_intercept, row_norms,
                set_apart=_proportional(optimizer),
                batch_size=self._long_rows_batch(X),
            )  # fmt: skip
        row_norms = None  # (a row's worth of values and the sample's copy: not kept while training)
        weight_scale, heaviest, mean_weight = self._stream_weight(
            sample_weight, weighted, weight_unit, streaming
        )
        # (the momentum the call inherits was built at the call before's weight)
        before = self.__dict__.get("_last_weight") if streaming else None
        momentum_scale = (
            mean_weight / before if before is not None and mean_weight < before else 1.0
        )
        row_share, largest_batch, many_batches = self._stream_batch(X.shape[0], streaming)
        stage_key, resume = (
            (None, None) if incremental else self._stage(objective, X, Y, sample_weight, continuing)
        )
        settings = self._settings(
            curvature, X.shape[0], incremental, weight_scale, resume, row_share,
            objective.outliers, momentum_scale,
            isinstance(X, np.ndarray) and state.average_from == np.inf,
            streaming and many_batches,
        )  # fmt: skip
        # before any step: a user's loss or optimizer that returns the wrong thing
        check_user_objects(
            objective,
            optimizer,
            X,
            Y,
            sample_weight,
            V,
            c,
            single=single,
            fit_intercept=self.fit_intercept,
            step=self.learning_rate,
        )
        validate = None
        if validation is not None:
            X_val, Y_val, w_val = validation  # (predicted at every epoch: see HeldOut)
            validation = (HeldOut(X_val), Y_val, w_val)
            validate = functools.partial(self._validate, objective, validation, single)
        tasks, on_epoch = self._epoch_tasks(
            X, Y[:, None] if column else Y, sample_weight if weighted else None,
            settings.max_epochs, objective, state, squeeze,
        )  # fmt: skip

        # the course's loop
        epochs_before = len(state.loss_curve)
        history = train(
            objective,
            state,
            X,
            Y,
            sample_weight,
            settings,
            single=single,
            validate=validate,
            on_epoch=on_epoch,
        )
        # (the loss the fit started near, if it started at random: asked for by a warning)
        fresh = not continuing and coef_init is None and intercept_init is None
        start = functools.partial(
            start_loss, self, objective, state, Y, sample_weight, single, fresh
        )
        if not incremental:
            # (judged first: a model that ended above every epoch is told its step may be
            # too long by both warnings)
            # (γ < 1 of the stable step, along the gradient, of a loss whose measured
            # curvature bounds it everywhere: rises are the batches' noise)
            stable = (
                self.standardize
                and _proportional(optimizer)
                and type(objective.loss) in _CURVATURE_BOUNDED
            )
            worse, ended_above = warn_if_worse_than_a_constant(
                self, objective, state, state.loss_curve[epochs_before:], X, Y, sample_weight,
                single, start, stable, history["search_rises"], history["converged"],
            )  # fmt: skip
            if not history["converged"] and self.tol is not None:
                curve = state.loss_curve[epochs_before:]
                warn_max_iter(self, curve, start, ended_above, stable, history["search_rises"])
            if history["converged"] and not worse:
                warn_if_stopped_short(
                    self, objective, state, X, Y, sample_weight, single, curvature
                )  # fmt: skip
            scores = history["validation_scores"]
            if validate is not None and scores:  # early stopping's kept model
                best = max(scores)
                warn_if_held_out_followed_nothing(
                    self, objective, state, validation, single, scores
                )  # fmt: skip
                if best < 0 and self._held_out_baseline(objective.loss):
                    # (R² and D²: a constant, the held-out mean, scores 0)
                    warn_if_held_out_below_a_constant(
                        self, objective, state, validation, single, best
                    )  # fmt: skip
                elif best != min(scores):  # (scores that never moved: the first warning's)
                    warn_if_kept_worse_than_a_constant(
                        objective, state, X, Y, sample_weight, single, best
                    )  # fmt: skip

        # the model in the data's units, and what a stream's next call continues from
        W, b = self._trained_model(objective, state, optimizer, tasks)
        if not incremental and W.dtype == np.float32:  # (a stream's rows: spreads unseen)
            dense = not sparse.issparse(X)
            warn_if_float32_cannot_hold(self, objective, b, stats[1], dense)
        self.coef_ = W[0] if squeeze else W
        self.intercept_ = b
        self._keep_average(objective, state, W, b)
        least = self._least_scale(objective, streaming, kept)
        self._keep_stream(
            objective, stats, peak, (counts, last, rows, stored), least, recent, rng, rng_own,
        )  # fmt: skip
        self._x_range = ranges[1]
        self.optimizer_ = optimizer
        self._heaviest_weights, self._last_weight = heaviest, mean_weight
        self._largest_batch, self._many_batches = largest_batch, many_batches
        if stage_key is not None and not incremental:  # (what a warm start goes on from)
            self._warm_stage = (stage_key, history["stage"])
        else:
            self.__dict__.pop("_warm_stage", None)
        # the name, if one was given, of the optimizer_ just trained (with its defaults)
        self._trained_optimizer = self.optimizer if isinstance(self.optimizer, str) else None
        self._trained_fit_intercept = self.fit_intercept
        # (a copy: a later set_params(loss__delta=...), or loss__base__delta=... on a
        # loss nested in it, changes the next fit, not this model; and a model's pickle
        # is the same whichever object set_params gives back, as a rejected call's tests
        # compare)
        self._trained_loss = _trained_copy(loss)
        self._trained_penalty = self._penalty_strengths()
        self.t_ = state.t
        stream = state.stream  # plain values, for persistence
        if not incremental:  # a stream that goes on from this fit, at its last stage's noise
            stream.fraction = continued_stream_fraction(
                settings, X.shape[0], history["noise"], self._batch_size(_STREAM_ROWS),
                optimizer,
            )  # fmt: skip
        self._stream_step = (
            stream.fraction,
            stream.squares,
            stream.rows,
            stream.walk,
            stream.settled,
        )
        self._keep_history(state.loss_curve, history, continuing, streaming)
        if tasks is not None:
            tasks.end()
        self.__dict__.pop("_rng_drawn", None)  # (the call succeeded: its draws stand)
        return self

    def _continued_data(self, X, n_outputs):
        """``X`` in the model's dtype, after checking it has the model's shape."""
        W_model = self._W
        if W_model.shape != (n_outputs, X.shape[1]):
            raise ValueError(
                f"The model has {W_model.shape[0]} output(s) and {W_model.shape[1]} "
                f"feature(s) but the data has {n_outputs} output(s) and {X.shape[1]} feature(s); "
                "a model continues (partial_fit, or fit with warm_start=True) only on data of "
                "its shape: pass such data, or call fit with warm_start=False to start a new "
                "model."
            )
        return X.astype(self.coef_.dtype, copy=False)  # a model keeps its dtype

    def _generator(self, n_samples, incremental, continuing):
        """The random generator this call draws from, and whether it is the estimator's own.

        A partial_fit call of a single batch draws nothing from the
        generator (one batch is not shuffled). Otherwise, the estimator's
        own generator (one it made, not the user's nor numpy's global one)
        is drawn from in place: its state is kept, so that a rejected call
        puts it back (keep_state_on_error), and a copy of the estimator gets
        a generator of its own (__setstate__). Any other is copied first
        (numpy's RandomState() seeds itself from the system, then set_state:
        0.2 ms, a fifth of a 100-row call), and the copy is the estimator's
        own from then on.
        """
        if not continuing:
            rng = check_random_state(self.random_state)
            return rng, isinstance(self.random_state, Integral)  # (None: numpy's global one)
        rng, rng_own = self._rng, self.__dict__.get("_rng_own", False)
        if not (incremental and self._batch_size(n_samples) >= n_samples):
            if rng_own:
                self._rng_drawn = (rng, take_snapshot(rng))
            else:
                rng, rng_own = copy_generator(rng), True
        return rng, rng_own

    def _start(
        self, objective, rng, stats, dtype, n_outputs, continuing, incremental, coef_init,
        intercept_init, kept=None,
    ):  # fmt: skip
        """The parameters training starts from, ``(V, c)`` in standardized coordinates.

        At random (the course's step 1), unless the model is continued or
        ``coef_init``/``intercept_init`` are given; a stream's first call
        starts its coefficients at 0, and the intercept of targets that do
        not vary at their constant. ``kept``: a stream's
        factors for the columns that keep their standardized coefficient
        (:meth:`_kept_scales`), or None.
        """
        if not continuing:
            V, c = self._initial_params(rng, n_outputs, stats, dtype, objective.blind, incremental)
            if incremental:  # one chunk's statistics may be far from the stream's
                V[...] = 0
            elif objective.rounding is not None:  # (constant but for rounding: as a constant)
                V[:, objective.rounding] = 0
            y_stats = stats[1]
            if y_stats is not None and self.fit_intercept:
                # Targets that do not vary (a stream's first row, or an output of
                # one value) are their own best constant, and give y no spread:
                # its unit is then 1 in y's units, whatever their scale. A random
                # intercept there, which a stream's step took back only in part,
                # started a stream of targets near 1e-6 0.02 from them, and its
                # later calls never came back (diabetes' targets times 1e-6: R²
                # -61, 0.45 at their own scale); a fit's random coefficients, which
                # a kinked loss's steps of a unit never settle, predicted a
                # constant output of 3.0 between 2.97 and 3.09 (absolute error).
                # At 0, the model is the targets' constant, where such a loss's
                # gradient is 0.
                constant = y_stats.constant(True)
                V[constant] = 0
                c[constant] = 0
        if continuing or coef_init is not None or intercept_init is not None:
            if continuing:
                W, b = self._continued_model()
                if kept is not None:  # (new arrays: coef_'s view is never written)
                    W, b = _kept_model(W, b, *kept, self.fit_intercept)
            else:  # (at random, V and c need no round trip: on wide data, two passes)
                W, b = objective.to_model(V, c)
            if coef_init is not None:
                W = _as_init(coef_init, "coef_init", W.shape)
            if intercept_init is not None:
                b = _as_init(intercept_init, "intercept_init", b.shape)
                if not self.fit_intercept and np.any(b):
                    # (dropped, the model came out without it: R² -3.4 for 0.51 on
                    # diabetes' standardized X, intercept_init=y.mean(), a user trial)
                    raise ValueError(
                        "intercept_init is not 0, but fit_intercept=False fits a model "
                        "without an intercept (scikit-learn's SGD estimators keep such an "
                        "intercept fixed). Set fit_intercept=True to start from it, or leave "
                        "intercept_init out (a regressor's fixed offset: subtract it from y)."
                    )
            # (no copies: from_model makes new arrays of V and c)
            V, c = objective.from_model(W.astype(dtype, copy=False), b.astype(dtype, copy=False))
        if not self.fit_intercept:
            c[:] = 0
        return V, c

    def _continued_model(self):
        """The model a stream's call continues from, in X's units: its last iterate.

        (``coef_`` is the average when averaging.)
        """
        W_model = self._W
        W, b = getattr(self, "_iterate", None) or (W_model, self.intercept_)
        return W.reshape(W_model.shape), b

    def _call_optimizer(self, X, stats, streaming, objective):
        """The optimizer this call trains with: the stream's, continued, or a new one."""
        n_samples = X.shape[0]
        # A chunk of at most 64 rows ("auto" takes it in one batch): its
        # step fits this chunk, not the momentum gathered on others
        # (one-row streams would overshoot, and moves aligned by
        # momentum would hide the stream's plateaus).
        restart = n_samples <= _FULL_BATCH_UP_TO
        # (a restart that forgets all the state starts as afresh: the statistics
        # need no test then, a tenth of a one-row call)
        forgets_all = restart and type(self.__dict__.get("optimizer_")) in _RESTART_FORGETS_ALL
        # Over a stream's first rows its steps warm up (see first_rows_scales): running
        # sizes of the gradient of those short steps would lengthen the next ones
        # (RAND HIE sorted by coinsurance, one-row calls: RMSprop's held-out deviance
        # 408 after a pass, the exact solver's 3.9)
        rows = self.__dict__.get("_x_rows") if streaming else None
        if rows is not None and rows < _FIRST_ROWS and not forgets_all:
            return self._new_optimizer(X, streaming)
        # Another standardize: the state was gathered in the other coordinates. Adam's
        # running sizes of the standardized gradient damped the raw steps of digits just
        # enough that no batch overflowed: a stream at 0.90 accuracy fell to 0.17 in one
        # call, silently, where a fresh one is told it diverged (a user trial)
        if streaming and self._trained_standardized() != self.standardize:
            return self._new_optimizer(X, streaming)
        if streaming and self._same_optimizer(X):
            if forgets_all or not self._rescaled(stats, self._bounded_spread(objective)):
                return _copy_optimizer(self.optimizer_, restart=restart)
        if streaming and self._same_optimizer(X) and type(self.optimizer_) in _KEEP_SCALE:
            # RMSprop's and Adam's running sizes of the gradient, off by the rescale,
            # beat none: a new one's first step is a sign step of every coordinate,
            # and a stream whose statistics move at each call (sparse rows,
            # densified) walked away pass after pass. Adam's mean goes.
            return _copy_optimizer(self.optimizer_, restart=True)
        # momenta in the old coordinates would point the wrong way
        # (and a new optimizer set between partial_fit calls starts afresh)
        return self._new_optimizer(X, streaming)

    def _objective_changed(self, objective):
        """Whether the loss (or its parameters) or the penalty changed since the last call.

        A stream's step shortens as it settles on its optimum; another
        objective has another optimum, which the settled step crawled to:
        after ``set_params(loss__quantile=0.2)`` on a pinball stream settled
        at 0.8, five passes over diabetes left 47% of the targets below the
        predictions, where a new stream had 19% (a user trial). Such a call
        starts the stream's schedule afresh.
        """
        trained_loss = self.__dict__.get("_trained_loss")
        trained_penalty = self.__dict__.get("_trained_penalty")
        if trained_loss is not None and not _same_loss(trained_loss, objective.loss):
            return True
        return trained_penalty is not None and trained_penalty != self._penalty_strengths()

    def _training_state(self, objective, V, c, optimizer, rng, continuing, streaming, kept=None):
        """What the loop trains: parameters, optimizer, generator, step count, curve, averages.

        ``kept``: as for :meth:`_start`, for the average's coefficients too.
        """
        curve = list(self.loss_curve_) if continuing else []  # (the call's own copy)
        stream = None  # a stream's schedule, continued (of the same objective)
        if streaming and getattr(self, "_stream_step", None) is not None:
            if not self._objective_changed(objective):
                stream = StreamStep(*self._stream_step)
        state = TrainingState(
            V, c, optimizer, rng, self.t_ if continuing else 0, curve, stream=stream,
            curve_start=self.__dict__.get("_curve_start", 0) if continuing else 0,
        )  # fmt: skip
        if self.average:  # averaged SGD: the mean of the iterates after `average` samples
            state.average_from = int(self.average)
            if continuing and getattr(self, "_average", None) is not None:
                W_average, b_average, state.n_averaged, state.seen = self._average
                if kept is not None:
                    W_average, b_average = _kept_model(
                        W_average, b_average, *kept, self.fit_intercept
                    )
                V_average, c_average = objective.from_model(W_average, b_average)
                state.V_average[...], state.c_average[...] = V_average, c_average
        return state

    def _settings(
        self, curvature, n_samples, incremental, weight_scale=1.0, resume=None, row_share=1.0,
        outliers=None, momentum_scale=1.0, plain=False, many_batches=False,
    ):  # fmt: skip
        """The loop's settings for this call (one epoch for ``partial_fit``).

        ``plain``: X is an ndarray, and the call does not average (averaging
        that cannot start in it averages nothing). A stream's call of many
        batches runs in segments (see :class:`skgd._epoch._ObservedRun`)
        only for a regressor (a classifier's rare one-hot columns, far from their
        optimum when the rest were at the floor, looked still to the
        segments' walk, which cut the step early: nycflights13's
        delayed-or-not in calls of 5,000 rows, three passes, held-out log
        loss 0.477 where whole calls reached 0.458), on dense X (sparse X,
        scaled by its columns' peaks, has such rare columns too: diamonds
        as CSR in calls of 5,000 rows, six passes, held-out MAE 0.113 where
        whole calls reached 0.108), standardized (a user's plain step too
        long for momentum swings, and the segments' walk read the swing as
        a floor and cut it: the call that raised "Training diverged" ended
        silently at training R² -0.27), and not averaging (the average
        damps the noise a cut is for: Wages in whole calls, averaging, the
        second pass's held-out R² 0.389 where it reached 0.398). A loss
        with a link runs its call batch by batch instead (capped, see
        :class:`skgd._epoch._CappedRun`).
        """
        return Settings(
            learning_rate=self.learning_rate,
            curvature=curvature,
            batch_size=self._batch_size(n_samples),
            max_epochs=1 if incremental else self.max_iter,
            shuffle=self.shuffle,
            schedule=self.schedule,
            power_t=self.power_t,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            stop=not incremental,
            fit_intercept=self.fit_intercept,
            verbose=self.verbose,
            weight_scale=weight_scale,
            momentum_scale=momentum_scale,
            resume=resume,
            row_share=row_share,
            many_batches=many_batches,
            outliers=outliers,
            # (a regressor's: isinstance, not is_regressor's tags, 2.5 us of a one-row call)
            segments=(
                incremental and plain and curvature is not None and isinstance(self, RegressorMixin)
            ),
            regressor=isinstance(self, RegressorMixin),
            class_counts=self._stream_class_counts() if incremental else None,
        )

    def _stream_class_counts(self):
        """A classifier's stream: each class's rows in its calls so far (None: not one)."""
        return None

    def _stage(self, objective, X, Y, weights, continuing):
        """A warm start's key to the fit before it, and the stage to resume (or None).

        The key: the data's size, standardization, targets and weights, the
        loss, the penalty and the schedule's parameters. Only a warm start of
        the same problem (more epochs, another ``tol``) goes on from the stage
        its fit ended at: a regularization path resumed at the stage of the
        alpha before ended further from each optimum (diabetes, alpha from 10
        to 1e-4: 25 to 100 times the gap of a fresh schedule). Kept after every
        fit, ``warm_start`` or not: a fit then ``set_params(warm_start=True)``
        (scikit-learn's usual way to train on) restarted at batches of 32 at
        the full step, and ten more epochs took star98's least squares from
        R² 0.333 to 0.278. The arrays enter the key by their sums, not a hash
        of their bytes (a pass over 2**20 columns' four arrays cost 30 ms):
        equal data give equal sums, and a chance equality of other data's
        would only resume a stage. The targets by their sums by output, and
        those of every seventh (a permutation keeps their mean and spread,
        a swap of outputs their total), and X, at
        ``standardize=False`` (no statistics), by the sum of its values (a
        review: another fold of as many rows resumed the stage, R² 0.531
        where a fresh fit reaches 0.564). Not after a ``partial_fit`` (a
        stream since moved the model).
        """
        arrays = (objective.x_mean, objective.x_scale, objective.y_loc, objective.y_scale, weights)
        with np.errstate(all="ignore"):
            sums = [float(np.add.reduce(a, axis=None, dtype=np.float64)) for a in arrays]
            for targets in (Y, Y[::7]):  # (views: no copy; by output, swapped outputs differ)
                sums.extend(np.add.reduce(targets, axis=0, dtype=np.float64).ravel().tolist())
            if not self.standardize:
                values = X.data if sparse.issparse(X) else X
                sums.append(float(np.add.reduce(values, axis=None, dtype=np.float64)))
        key = (
            X.shape, tuple(sums), tuple(np.shape(a) for a in arrays), self.learning_rate,
            self.schedule, self.batch_size,
            self.optimizer if isinstance(self.optimizer, str) else repr(self.optimizer),
            self.alpha, self.penalty, self.l1_ratio, repr(self._get_loss()), self.average,
            self.power_t,
        )  # fmt: skip
        kept = self.__dict__.get("_warm_stage")
        resume = kept[1] if continuing and kept is not None and kept[0] == key else None
        return key, resume

    def _stream_weight(self, sample_weight, weighted, weight_unit, streaming):
        """This call's weight scale, and the heaviest mean weights of calls so far.

        Each call's weights are taken relative to their own mean (scaled
        weights change nothing), so a stream's call of weights 1e-3 moved
        the model as far as one of weights 1: on breast cancer, chunks of
        flipped labels at weight 1e-3 between clean ones at 1 ended at an
        accuracy of 0.59 (SGDClassifier 0.96, fit on the same rows and
        weights 0.98). A call's steps on the loss are shortened by its mean
        weight over the weight that ``_HEAVY_ROWS`` rows so far reached,
        each row counted at its call's mean weight (this call's and a fit's,
        for a stream that continues it, among them; the heaviest's while
        fewer rows were seen): never lengthened, so that no call steps past
        the stable step, and a call heavier than that is capped there;
        weights all scaled by one factor still change nothing, and weights
        that recur (a class's) keep their ratio. By the heaviest call's
        alone, one row of weight 100 in a one-row stream shortened every
        later step a hundredfold (TrumpApproval's prequential MAE 0.35 ->
        5.89; 0.38 so). Scaled weights changing nothing, one clean row
        before light ones is such a heavy row (the light ones step fully),
        and a heavy row in a call of several counts at the call's mean (one
        of 100 in a call of two sets a reference of 50.5): the user guide
        says so. A call without weights weighs 1 a row. Returns the
        scale, the heaviest calls' ``(mean weight, rows)`` (the heaviest
        first, as many as hold ``_HEAVY_ROWS`` rows), and this call's mean
        weight.
        """
        mean = weight_unit * float(sample_weight.mean()) if weighted else 1.0
        kept = self.__dict__.get("_heaviest_weights") if streaming else None
        if kept is None and streaming and "_heaviest_weight" in self.__dict__:
            kept = ((self._heaviest_weight, math.inf),)  # (a model pickled before: kept)
        calls = sorted((*(kept or ()), (mean, sample_weight.shape[0])), reverse=True)
        heaviest, rows = [], 0
        for call in calls:  # (the lighter ones can never be the reference again)
            heaviest.append(call)
            rows += call[1]
            if rows >= _HEAVY_ROWS:
                break
        reference = heaviest[-1][0] if rows >= _HEAVY_ROWS else heaviest[0][0]
        return (mean / reference if mean < reference else 1.0), tuple(heaviest), mean

    def _stream_batch(self, n_samples, streaming):
        """This call's share of a step (its batch's rows over the stream's largest batch's).

        Each call's step is the stable step of its own batches, so a call of
        one row moved the model halfway to fitting that row: after three
        calls of 110 diabetes rows (batches of 32), one more row took the
        held-out R² from 0.29 to 0.06, and from 0.35 to -0.70 at worst (the
        last short chunk of a file read in chunks; SGDRegressor moved by
        0.008). A call of batches smaller than the stream's largest so far (a
        fit's, for a stream that continues it) steps their rows' share, as a
        call's last short batch does (see Schedule.steps): a row moves the
        model as far in any chunking. Not with ``standardize=False``, whose
        step is the user's plain γ. Likewise a call of fewer batches than
        ``_MANY_BATCHES`` after one of as many (or a fit's epoch of as many)
        keeps the step that momentum's noise gain shortens (see
        :func:`skgd._schedules._largest_stable_step`). Returns the share, the
        largest batch and whether a call so far had many batches.
        """
        rows = self._batch_size(n_samples)
        largest = self.__dict__.get("_largest_batch") if streaming else None
        many = n_samples // rows >= _MANY_BATCHES
        many = many or bool(streaming and self.__dict__.get("_many_batches"))
        if largest is None or rows >= largest or not self.standardize:
            return 1.0, max(rows, largest or 0), many
        return rows / largest, largest, many

    def _epoch_tasks(self, X, Y, sample_weight, max_epochs, objective, state, squeeze):
        """scikit-learn's callbacks for this fit, and what the loop calls after each epoch.

        ``(None, None)`` when no callback is set (or scikit-learn has none).
        ``squeeze``: whether ``coef_`` is 1-D (y was).
        """
        if not (CALLBACKS_SUPPORTED and EpochTasks.wanted(self)):
            return None, None
        tasks = EpochTasks(self, X, lambda: self._decode_targets(Y), sample_weight, max_epochs)
        if not tasks.any:
            return tasks, None

        def model(state=state):
            W, b = objective.to_model(state.V, state.c)
            return {"coef_": W[0] if squeeze else W, "intercept_": b}

        tasks.begin_training(model)
        return tasks, lambda epoch, state, loss: tasks.end_epoch(model)

    def _trained_model(self, objective, state, optimizer, tasks):
        """The trained model ``(W, b)`` in the data's units; refused if it overflows."""
        units = state.in_model_units  # (a stream's call has its iterate in these units already)
        if units and not self.average:
            (W, b), finite = units, None
        else:
            # Without averaging, the model is the iterate V, which no one reads
            # after this, unless a callback's reconstruction or a user's
            # optimizer kept it: without them, the model is written over it.
            spent = not self.average and tasks is None and not is_users_optimizer(optimizer)
            with np.errstate(over="ignore", invalid="ignore"):  # (refused below, clearly)
                W, b, finite = objective.to_model_checked(*state.model(), overwrite=spent)
        # (wide data: the pass that made W checked it, see Objective.to_model_checked)
        finite = all_finite(W) if finite is None else finite
        if not (finite and all_finite(b)):
            # (training's checks read the standardized parameters: their model
            # units, y's unit over X's, can pass the dtype's range on their own)
            raise ValueError(
                f"The trained model's coefficients overflow {np.dtype(W.dtype).name}: the "
                "targets' scale over the features' is beyond its range. Rescale X or y "
                "(StandardScaler), or pass X as float64."
            )
        return W, b

    def _keep_average(self, objective, state, W, b):
        """Averaged SGD: keep the last iterate and the average, to continue from.

        ``(W, b)``: the trained model, the average's once it runs (a copy
        of it is kept, not a second pass from V's units: on wide data each
        such pass, its new array's pages included, took 39 ms).
        """
        self._iterate, self._average = None, None  # plain arrays, for persistence
        if self.average:
            self._iterate = state.in_model_units or objective.to_model(state.V, state.c)
            if state.n_averaged:  # (copied: coef_ is the user's, and theirs to change)
                W_average, b_average = W.copy(), b.copy()
            else:
                W_average, b_average = objective.to_model(state.V_average, state.c_average)
            self._average = (W_average, b_average, state.n_averaged, state.seen)

    def _keep_stream(self, objective, stats, peak, counts, least, recent, rng, rng_own):
        """What a stream's next call continues from: statistics, origin, recent targets.

        ``counts``: :meth:`_value_counts`' counts and last row, and
        :meth:`_stream_rows`'; ``least``: :meth:`_least_scale`'s.
        """
        # plain arrays, so that persisted models name no private type
        self._x_stats = _as_tuple(stats[0])  # no copy: statistics are never changed in place
        self._y_stats = None if stats[1] is None else _as_tuple(stats[1])
        self._y_loc = objective.y_loc.astype(np.float64)  # a stream's origin, from now on
        self._y_spread = self._bounded_spread(objective)
        self._x_peak = peak
        # (a new array each call, never changed in place; X's own units: no scale to keep)
        self._x_scale = objective.x_scale if self.standardize else None
        self._x_least = least
        # (each column's values so far, see _value_counts, the stream's rows, and
        # the weight of each column's rows and of all rows, see _stored_weight)
        self._x_counts, self._x_last, self._x_rows, self._x_stored = counts
        # the last targets and weights, as plain arrays of their own (bounded, and
        # not views of the caller's y, which a stream may refill for its next chunk)
        self._y_recent = None
        if recent is not None:  # (targets, weights, whether they are arrays of their own)
            Y_recent, w_recent, own = recent
            self._y_recent = (_kept(Y_recent, own), _kept(w_recent, own))
        self._rng, self._rng_own = rng, rng_own

    def _bounded_spread(self, objective):
        """A bounded-gradient loss's target spread, which the robust bound may set; else None."""
        bounded = isinstance(objective.loss, _BOUNDED_GRADIENT) and self.fit_intercept
        if bounded and self.standardize:
            return objective.y_scale.astype(np.float64)
        return None

    def _keep_history(self, curve, history, continuing, streaming):
        """``loss_curve_``, ``best_loss_``, the validation scores and ``n_iter_``."""
        # Bounded, so that endless streams of partial_fit do not grow it (in place:
        # the list is this call's own copy, see _training_state).
        n_earlier = len(self.loss_curve_) if continuing else 0
        n_kept = min(len(curve), max(self.max_iter, _LOSS_CURVE_KEEP))
        earlier = (n_earlier, self.__dict__.get("_curve_min")) if continuing else (0, None)
        self.best_loss_, self._curve_min = _least_losses(curve, n_kept, *earlier)
        # (the epochs before the curve's first: ConvergenceDisplay numbers from there)
        start = self.__dict__.get("_curve_start", 0) if continuing else 0
        self._curve_start = start + len(curve) - n_kept
        del curve[: len(curve) - n_kept]
        self.loss_curve_ = curve
        if self.early_stopping:
            scores = list(history["validation_scores"])
            # the model kept is this fit's best: its score
            self.best_validation_score_ = max(scores)
            if continuing:  # (a warm start goes on, as loss_curve_ does, and MLP's scores: a
                # loop of one-epoch fits drew one point where 20 epochs, a user trial)
                scores = list(self.__dict__.get("validation_scores_", [])) + scores
            self.validation_scores_ = scores[-len(curve) :]
        else:  # an earlier fit's scores describe another model's epochs (SGD drops them too)
            self.__dict__.pop("validation_scores_", None)
            self.__dict__.pop("best_validation_score_", None)
        # partial_fit counts epochs across calls; each fit counts its own.
        self.n_iter_ = (self.n_iter_ if streaming else 0) + history["epochs"]

    def _rescaled(self, stats, spread=None):
        """Whether a stream's new statistics move its coordinates by more than 10%.

        ``spread``: a bounded-gradient loss's target spread (:meth:`_bounded_spread`),
        which the robust bound may move while y's statistics do not.
        """
        with np.errstate(all="ignore"):
            before = self.__dict__.get("_y_spread")
            if spread is not None and before is not None:
                if np.logical_or.reduce(np.abs(np.log(spread / before)) > _TEN_PERCENT):
                    return True
            for old, new in [(self._x_stats, stats[0]), (self._y_stats, stats[1])]:
                if old is not None:
                    ratio = new.std / old[1]  # (old: a plain tuple, see _as_tuple)
                    # |log(ratio)| > 10% as two comparisons: a log a column took most of
                    # this test on a wide sparse stream's call. NaN, a constant feature
                    # (0 / 0), never
                    if ratio.size == 1:  # (one output: a number's test, not three ufuncs')
                        one = ratio.item()
                        if one > _TEN_PERCENT_UP or one < _TEN_PERCENT_DOWN:
                            return True
                        continue
                    # (ndarray.any's reduction, unwrapped)
                    beyond = (ratio > _TEN_PERCENT_UP) | (ratio < _TEN_PERCENT_DOWN)
                    if np.logical_or.reduce(beyond, axis=None):
                        return True
        return False

    def _statistics(
        self, X, Y, sample_weight, streaming, weight_unit=1.0, row_norms=None, loss=None,
        finds=None,
    ):  # fmt: skip
        """The statistics of X and of the target: this data's, or the stream's so far.

        Returns ``(x_stats, y_stats, y_loc)``; ``y_stats`` is None when the
        target is not rescaled, and ``y_loc`` (the origin of the raw
        predictions) is fixed by the first call of a stream. ``sample_weight``
        was divided by ``weight_unit`` (:func:`_weights_in_range`); the
        statistics keep the weight in the units the user gave, which a
        stream's later chunks are merged in. ``loss``: the loss object, if
        the caller has made it already. ``row_norms`` and ``finds`` are
        filled by X's pass, as :meth:`FeatureStats.update` says.
        """
        if streaming:
            x_stats, y_stats, y_loc = FeatureStats(*self._x_stats), self._y_stats, self._y_loc
            y_stats = None if y_stats is None else FeatureStats(*y_stats)
        else:
            x_stats, y_stats, y_loc = FeatureStats.empty(X.shape[1]), None, None
        x_stats = x_stats.update(X, sample_weight, weight_unit, row_norms, finds)
        if self._scales_target(loss or self._get_loss()) and self.standardize:
            Y_2d = Y.reshape(len(Y), -1)
            y_stats = (y_stats or FeatureStats.empty(Y_2d.shape[1])).update(
                Y_2d, sample_weight, weight_unit
            )
        return x_stats, y_stats, y_loc

    def _recent_targets(self, Y, sample_weight, weight_unit, streaming):
        """The targets a stream's loss scale is measured on, and their weights.

        A chunk of fewer than ``_RECENT_ROWS`` rows follows the stream's last
        rows (``_y_recent``), up to that many; a larger chunk stands alone.
        ``fit`` and a stream's first call keep only their last rows, for the
        calls to come. The weights are in the user's units (a chunk's were
        divided by ``weight_unit`` to keep their sums finite).
        """
        if not streaming:
            Y, sample_weight = Y[-_RECENT_ROWS:], sample_weight[-_RECENT_ROWS:]
        # (no copy of float64 weights: the arrays returned are new, or copied when kept)
        w = sample_weight.astype(np.float64, copy=False)
        if weight_unit != 1.0:  # (weights given in range: no second copy to multiply by 1)
            w = w * weight_unit
        previous = getattr(self, "_y_recent", None) if streaming else None
        if previous is not None and len(Y) < _RECENT_ROWS:
            kept = _RECENT_ROWS - len(Y)  # the stream's rows that stay
            # (in this chunk's shape: a one-output stream may pass y as (n,) or (n, 1))
            Y = np.concatenate([previous[0][-kept:].reshape((-1, *Y.shape[1:])), Y])
            w = np.concatenate([previous[1][-kept:], w])
            return Y, w, True  # arrays of their own, of at most _RECENT_ROWS rows
        return Y, w, False

    def _objective(
        self, loss, Y, sample_weight, stats, single, dtype, n_outputs, peak=None, recent=None,
        streaming=False, rows=None, spread_rows=None, stops=False, stored=None, x_range=None,
    ):  # fmt: skip
        """The objective for this data: the loss in standardized coordinates, and the penalty.

        ``peak`` (sparse X: each column's largest magnitude) says to scale
        the features without centring them, so that a row's update touches
        only its non-zero columns. Each column is divided by its largest
        magnitude, as ``MaxAbsScaler`` does: dividing a rare column by its
        small standard deviation (``StandardScaler(with_mean=False)``) would
        make the rows holding it huge, and the stable step tiny. A column
        whose mean outweighs its spread is still centred: uncentred, it and
        the intercept would be nearly collinear, and the descent would crawl;
        its scale is :func:`_centred_scale`'s. A column stored in most rows
        (``stored``: the weight of the rows storing each column and of all
        rows, see :meth:`_stored_weight`, or None) is divided by a scale
        nearer its root mean square (:mod:`skgd._sparse_scales`).

        ``recent`` (a stream's later calls: its last targets and weights, this
        chunk's among them) is where the loss scale is measured: the curvature
        of a kinked loss is the share of the targets near the model, which one
        row cannot tell, and a batch of few rows sees its largest row's too.
        ``streaming``: a stream's later call, whose step, for a loss with a
        link, is capped where the model is (:meth:`skgd._objective.Objective.step_cap`),
        as is that of a first call of several batches; so for a loss blind to
        lengths (the cosine's curvature grows as predictions shorten: a second
        call over linnerud's rows overshot to "Training diverged"). ``rows``: a dense
        stream's rows so far (:meth:`_stream_rows`), over whose first
        ``_FIRST_ROWS`` the columns' scales are longer
        (:func:`skgd._standardize.first_rows_scales`). ``spread_rows``: a
        stream's recent targets and weights (its first call's last rows
        too), which bound the target's spread for a loss of bounded gradient
        (:func:`skgd._standardize.outlier_bounded_spread`). ``stops``: a fit,
        whose stop criterion takes the reference loss as its unit.
        """
        x_stats, y_stats, y_loc = stats
        ones = None if y_stats is not None and self.fit_intercept else np.ones(n_outputs)
        spread, y_mean, wild = ones, None, False
        blind = isinstance(self, RegressorMixin) and blind_to_length(loss, n_outputs)
        if y_stats is not None:  # (compiled: a stream's call of one row feels numpy's calls)
            y_mean, spread, _ = y_stats.standardization(self.fit_intercept, np.float64)
            # (with an intercept only: without one, y's spread is its root mean square,
            # which no deviation from the median measures)
            bounded = isinstance(loss, _BOUNDED_GRADIENT) and self.fit_intercept
            if spread_rows is None and bounded and stops:
                # A fit's targets too (up to _SAMPLE_ROWS of them): one of 1e8 among
                # diabetes' 25-346 took the spread from 77 to 4.8e6, its steps as long,
                # and the fit to the constant model at every seed (1e5: held-out R²
                # -0.55 to 0.51 by seed, absolute error)
                sampled = _sample_rows(len(Y), sample_weight)
                spread_rows = (Y[sampled], sample_weight[sampled])
            if spread_rows is not None and bounded:
                robust = outlier_bounded_spread(spread, *spread_rows)
                wild = stops and bool(np.any(robust != spread))
                spread = robust
        # Several outputs of a link that the loss treats apart (Poisson's): each its own
        # origin and scale, as each alone has (one origin at 0 for counts near 180
        # measured a curvature 180 times too small: a stream's first call diverged)
        apart = y_stats is None and link_outputs_apart(loss, Y, n_outputs, single)
        if y_loc is not None:  # a stream keeps its first origin: no need to search again
            center = np.asarray(y_loc, dtype=np.float64)
        elif not self.fit_intercept:
            center = 0 * ones
        else:  # the origin: the best constant (or the mean of several outputs)
            # (a column y too: the same model as a 1-D y; and several outputs whose mean a
            # wild target moved, each its own best constant: linnerud, one target of 1e8,
            # started an output at 5e6, a robust spread's steps from its median)
            one = n_outputs == 1 or apart or wild
            center = None if one else (y_mean if y_mean is not None else 0 * ones)
        # a stream's call of a loss with a link: its step is capped where the model is (the
        # loop caps no fit's). Its first call too, of several batches: the first starts where
        # every row is as curved as the scale measured, the later ones where the model moved
        # (400 rows of counts up to 100: its 13th batch diverged)
        several = self._batch_size(len(Y)) < len(Y)
        curved = curves_with_prediction(loss) or blind
        # (a stream's first call of the cosine, of one batch too: it starts at coefficients
        # of 0, its predictions far shorter than the spread its scale is measured over)
        first_blind = blind and not stops
        capped = (streaming or several or first_blind) and self.standardize and curved
        if recent is None:  # (largest: the most curved row's curvature, for that cap)
            center, loss_scale, reference, largest = target_scaling(
                loss, Y, sample_weight, single=single, spread=spread, loc=center, largest=True,
                blind=blind,
            )  # fmt: skip
            if stops and not self.fit_intercept and y_stats is not None:
                # Without an intercept the origin is 0, and its loss (y's mean square, in
                # the squared error's case) is no unit of progress for targets far from
                # 0: Longley's (near 65,000, spread 3,500), 350 times their variance,
                # stopped the fit after 9 epochs at R² -2.8 (0.988 exact). Progress is
                # in units of the best constant's loss, as with an intercept.
                constant = target_scaling(
                    loss, Y, sample_weight, single=single, spread=spread, blind=blind
                )
                reference = min(reference, constant[2])
            if wild:
                # ... and the stop's unit: the wild targets' losses, which no model in
                # reach moves, made it 3,500 times the rest's (1e8: 226,309 against 65)
                # and the fit stopped as it began. Each residual counts up to
                # _ROBUST_SPREADS robust spreads (the bound above), as Huber's would.
                reference = min(reference, reachable_reference(
                    loss, Y, sample_weight, center, _ROBUST_SPREADS * spread, single
                ))  # fmt: skip
        else:
            # A stream's batch of b rows sees the recent targets' mean curvature, and
            # the largest row's (a row of a kinked loss near its target) 1/b of the
            # way: as batch_curvature mixes the data's L and the largest row's.
            Y_recent, w_recent = recent
            # weights near the float limit: sums overflow (ndarray.max's reduction, unwrapped)
            top = np.maximum.reduce(w_recent, initial=0.0)
            # (x / 1 is x: a stream without weights keeps its ones)
            w_recent = w_recent / top if top > 0 and top != 1 else w_recent
            # (a bounded gradient's curvature is the share of rows near where it is
            # measured: see _recent_origin)
            bounded = isinstance(loss, _BOUNDED_GRADIENT) and y_stats is not None
            at = _recent_origin(Y_recent, w_recent, n_outputs) if bounded else center
            _, loss_scale, reference, largest = target_scaling(
                loss, Y_recent, w_recent, single=single, spread=spread, loc=at, largest=True,
                blind=blind,
            )  # fmt: skip
            if bounded and isinstance(loss, EpsilonInsensitive):
                # The median lies on a target, inside the tube, where few rows are
                # curved: star98's shares, one weighted row a call, measured a secant a
                # hundred times the origin's smaller and the second call raised "Training
                # diverged" (a review). The larger of the two.
                there = target_scaling(
                    loss, Y_recent, w_recent, single=single, spread=spread, loc=center,
                    largest=True,
                )  # fmt: skip
                if there[1].sum() > loss_scale.sum():
                    _, loss_scale, reference, largest = there
            batch = self._batch_size(len(Y))
            share = np.maximum(largest - loss_scale, 0)
            loss_scale = loss_scale + (share / batch if batch > 1 else share)  # (x / 1 is x)
        if y_stats is not None:
            _check_loss_above_underflow(loss, center, spread, single)
        if y_stats is None and not apart:  # outputs in no unit of y (classes): one scale for all
            loss_scale = np.full(n_outputs, loss_scale.mean())
            # (the softmax and the Crammer-Singer hinge: see _MANY_CLASSES_LEAST_SCALE)
            if type(loss) in (LogLoss, Hinge) and n_outputs > 2:
                loss_scale = np.maximum(loss_scale, _MANY_CLASSES_LEAST_SCALE)
        rounding = None  # (dense X's columns constant but for rounding, see rounding_scales)
        if not self.standardize:  # the course's plain descent on X and y as they are
            # (a stream standardized until set_params(standardize=False) has y_stats)
            ones = np.ones(n_outputs)
            zeros = np.zeros(len(x_stats.mean), dtype=dtype)
            x_mean, x_scale, y_loc, spread, loss_scale = zeros, zeros + 1, 0 * ones, ones, ones
        else:
            mean, std = x_stats.mean, x_stats.std
            if peak is not None and self.fit_intercept and _compiled_standardization(mean, dtype):
                # the same in one pass: numpy's mask, where and casts below made
                # 40 MB of new arrays on 2**20 columns, 11 ms with their page faults
                x_mean, x_scale = sparse_standardization(mean, std, peak, dtype)
            else:
                x_mean, x_scale, _ = x_stats.standardization(self.fit_intercept, dtype)
                if peak is None and rows is not None and rows < _FIRST_ROWS:
                    x_scale = first_rows_scales(x_scale, x_stats, rows / _FIRST_ROWS)
                if peak is not None:
                    uncentred = (np.abs(x_mean) <= x_scale) & (peak > 0)
                    centred = _centred_scale(x_mean, x_scale, peak)
                    x_mean = np.where(uncentred, 0, x_mean).astype(dtype)
                    x_scale = np.where(uncentred, peak, centred).astype(dtype)
            if peak is not None and stored is not None:
                x_scale = toward_root_mean_square(x_mean, x_scale, mean, std, peak, *stored, dtype)
            if peak is not None and x_range is not None:
                # (a sparse fit's exact constant of |mean| <= 1, scale 1, was left
                # uncentred: a second intercept, with a coefficient of its own; centred
                # now, as dense X's, and so divided by |mean| below)
                x_mean = np.where(x_range[0] == x_range[1], mean, x_mean).astype(dtype)
            if peak is None or x_range is not None:  # (sparse X's: a fit's near constants)
                x_scale, rounding = rounding_scales(x_mean, x_scale, mean, std, dtype, x_range)
            # A subnormal scale has no inverse (1 / 1e-310 overflows): the loss was NaN
            # before any step, blamed on values too large. Such a column's values are
            # below anything a coefficient weighs: taken at scale 1, as a constant's.
            tiny = np.finfo(x_scale.dtype).tiny
            if len(x_scale) and x_scale.min() < tiny:
                x_scale = np.where(x_scale < tiny, 1, x_scale).astype(dtype)
            y_loc = center if y_loc is None else y_loc
        alpha_l1, alpha_l2 = self._penalty_strengths()
        return Objective(
            loss,
            x_mean=x_mean,
            x_scale=x_scale,
            y_loc=np.asarray(y_loc, dtype=dtype),
            y_scale=np.asarray(spread, dtype=dtype),
            loss_scale=loss_scale,
            alpha_l1=alpha_l1,
            alpha_l2=alpha_l2,
            reference_loss=reference,
            # With a rescaled target, alpha is in its units, so that one alpha
            # suits any scale of y (for the squared error: exactly Ridge's).
            penalty_unit=loss_scale if y_stats is not None else 1.0,
            largest_curvature=largest if capped else None,
            # (without standardization the origin is 0, not the best constant: diabetes at
            # standardize=False and a step too short, R² -3.9, beat a prediction of 0)
            best_constant=np.asarray(y_loc if center is None else center, dtype=dtype),
            blind=blind,
            rounding=rounding,
        )

    def _initial_params(self, rng, n_outputs, stats, dtype, blind=False, stream=False):
        """Random parameters: uniform, at ``_START_FRACTION`` of scikit-learn's MLP scale.

        A linear model's gradient has no part along the null space of X, so
        a start's component there stays, shrunk by L2 alone at alpha's pace.
        At the MLP's (Glorot's) scale it predicted new rows by the seed:
        100 rows of 300 columns, held-out R² -0.6 to -0.9 by seed (Ridge
        0.33); diabetes' bmi column twice, coefficients split 48 / 472 or
        -215 / 730 (an even 263 / 263 for Ridge); one-hot columns beside
        the intercept, an unseen category predicted -0.08 or 3.03. A
        thousandth of it keeps the course's random start and leaves that
        component a thousandth of the targets' spread (the same fits: 0.33,
        260 / 260, 0.71 whatever the seed). Not for the cosine distance,
        or any loss ``blind`` to lengths (:func:`~skgd._objective.blind_to_length`):
        it is nearly flat about a constant prediction (every row the same
        direction), and from there took 600 to 1000 epochs where the MLP's
        scale takes 26 to 250.

        In standardized coordinates an intercept of 0 is the loss's best
        constant: the random intercept starts near it, not on it (an adaptive
        optimizer would amplify the rounding noise of a zero gradient). A
        ``stream``'s first call (coefficients at 0, see :meth:`_start`) starts
        a regressor's intercept at the MLP's scale: from a thousandth of it,
        Adagrad's one-row Poisson stream of diabetes sorted by bmi ended at
        3.5 times PoissonRegressor's held-out deviance (2.4 from it), its
        first steps on the intercept's small gradient kept in its sums for
        good. Not a classifier's, whose origin is even odds: one call could
        not bring back an intercept started up to 0.44 from it, and a first
        chunk of one class (20 breast-cancer rows of class 1) was predicted
        the other class at half the seeds.
        Constant features get a zero coefficient: their data cannot move it.
        """
        constant = stats[0].constant(self.fit_intercept)
        n_features = len(constant)
        fraction = 1.0 if blind else _START_FRACTION
        scale = np.sqrt(6.0 / (n_features + n_outputs))
        # (rng.uniform's values, compiled: on wide data, 3x quicker)
        V = uniform(rng, -fraction * scale, fraction * scale, (n_outputs, n_features), dtype,
                    zero=constant)  # fmt: skip
        if stream and isinstance(self, RegressorMixin):  # (see the docstring)
            fraction = 1.0
        c = rng.uniform(-fraction * scale, fraction * scale, size=n_outputs).astype(dtype)
        return V, c

    def _validate(self, objective, validation, single, V, c):
        """Early stopping's score and the mean loss on the held-out data.

        A loss whose tags say the estimator's score judges it poorly (a
        regressor's ``poor_score``: R² of the cosine distance, which ignores
        the predictions' lengths) is followed by its own value: its negative
        is the score. Early stopping on R² ran the cosine to ``max_iter``
        (1,000 epochs where 27 converged), its best score -12 or -4,093.
        Otherwise the score is :meth:`_held_out_score`'s.
        """
        X_val, Y_val, w_val = validation  # (X_val: a HeldOut)
        raw = X_val.raw_prediction(objective, V, c, single=False)
        losses = objective.loss.loss(Y_val, raw[:, 0] if single else raw)
        loss = float(np.average(losses, weights=w_val))
        if _scored_poorly(objective.loss):
            return -loss, loss
        return self._held_out_score(objective.loss, Y_val, raw, w_val, loss), loss

    def _held_out_baseline(self, loss):
        """Whether early stopping's score puts a constant prediction at 0 (R², D²).

        A classifier's accuracy has no such baseline (a constant scores its
        majority class's share); see the regressor's.
        """
        return False

    def _held_out_score(self, loss, Y, raw, weights, mean_loss):
        """Early stopping's score of held-out rows: the estimator's score (R², accuracy).

        ``raw``: their raw predictions, of shape (n_samples, n_outputs);
        ``mean_loss``: their mean loss, for a subclass that scores by it.
        """
        y_true, y_pred = self._decode_targets(Y), self._predict_from_raw(raw)
        return float(self._score_metric(y_true, y_pred, sample_weight=weights))

    def _penalty_strengths(self):
        """The L1 and L2 parts of ``alpha``, by ``penalty`` and ``l1_ratio``."""
        if self.penalty is None:
            return 0.0, 0.0
        l1_share = {"l2": 0.0, "l1": 1.0, "elasticnet": self.l1_ratio}[self.penalty]
        return self.alpha * l1_share, self.alpha * (1.0 - l1_share)

    def _long_rows_batch(self, X):
        """The first batches' size, if X's long rows may be set apart (see skgd._long_rows).

        Only for the "adaptive" schedule: longer steps raise the batches'
        noise floor, which its larger batches (a stream's shorter steps at
        its plateaus) then lower, where a constant step ended at it
        (flights and diamonds, one-hot: the stop held short of the optimum,
        7 epochs where 17 reached it). None: no row set apart, as where
        the first batches are too few for the schedule to set rows apart at
        (its stages of many batches, see Schedule._stage_settings): a
        stream's calls of 1,000 rows then pay no pass over their norms.
        """
        if self.schedule != "adaptive":
            return None
        batch_size = self._batch_size(X.shape[0])
        return batch_size if X.shape[0] // batch_size >= _MANY_BATCHES else None

    def _batch_size(self, n_samples):
        """``"auto"``: the whole data up to 64 rows (exact descent), else batches of 32."""
        if self.batch_size == "auto":
            return n_samples if n_samples <= _FULL_BATCH_UP_TO else _AUTO_BATCH_SIZE
        return min(self.batch_size, n_samples)


# The random start's scale, a fraction of scikit-learn's MLP's (see BaseGD._initial_params)
_START_FRACTION = 1e-3


def _auto_optimizer(name, X):
    """The optimizer ``"auto"`` names: ``"sgd"`` on sparse X of few values, else ``"nesterov"``.

    On sparse X that stores under ``_AUTO_SGD_DENSITY`` of its entries
    (hashed or tf-idf text, one-hot codes of many categories) plain SGD's
    steps are lazy, L1's too: a batch costs O(its non-zeros). Momentum's
    lazy steps replay the steps a coefficient missed, and its L1 moves
    every coefficient at every batch. Stdlib source lines hashed to 2**20
    columns (11 classes): Nesterov 2.6 s and 42 epochs for held-out
    accuracy 0.7105, SGD 0.5 s and 27 epochs for 0.7101; with L1, over
    60 s against 0.8 s; tf-idf's 15,000 columns alike. Where X stores more
    (tables of one-hot codes beside numbers, X made sparse from dense
    data), momentum's steps cost little more, and plain SGD needed more
    epochs and stopped short of them on real sets (mpg as sparse one-hot
    and standardized numbers: held-out R² 0.833 against 0.880). The rows
    a call trains on decide (early stopping's training split; a stream's
    first call, for the whole stream): X near 1% may take either.
    """
    if name != "auto":
        return name
    if not sparse.issparse(X):
        return "nesterov"
    # (values, not places: explicitly stored zeros train as the zeros left out do)
    values = np.count_nonzero(X.data) if hasattr(X, "data") else X.count_nonzero()
    return "sgd" if values < _AUTO_SGD_DENSITY * (X.shape[0] * X.shape[1]) else "nesterov"


def _proportional(optimizer):
    """Whether the optimizer's step is the gradient's times a rate (SGD, momentum, Nesterov).

    Sparse X's far longer rows shorten only the steps of their own batches
    (:meth:`skgd._objective.Objective._outlier_rows`), which keeps them safe
    for such a step alone: Adam and RMSprop move every coordinate about the
    rate at every batch, and the long rows' predictions with them (Poisson:
    a first epoch's loss of 1e22).
    """
    return type(optimizer) in (SGD, Momentum, Nesterov)


def _recent_origin(Y, weights, n_outputs):
    """Where a stream's call measures a bounded-gradient loss's curvature: the recent targets'.

    Huber's, the absolute error's and the epsilon-insensitive loss's
    curvature is the share of rows near where it is measured. At the
    stream's first origin, which it keeps, a stream that drifted had none
    near: one-row Huber calls on river's TrumpApproval (approval from 37
    to 42) measured a secant of 0, stepped by the gradient's size instead,
    and a call carried its row from 0.95 off its target to a loss 30 times
    higher ("Training diverged", then predictions of 80 for targets of 42).
    Each output's weighted median of the recent targets is near where a
    model that follows them predicts (these losses' best constants lie
    between the median and the mean; a search for them cost a one-row call
    0.4 ms more).
    """
    Y = Y.reshape(len(Y), n_outputs)
    outputs = np.arange(n_outputs)
    order = np.argsort(Y, axis=0, kind="stable")
    cumulative = np.cumsum(weights[order], axis=0)
    # (in each output's order, the first row at which half the weight is reached)
    half = np.argmax(cumulative >= 0.5 * cumulative[-1], axis=0)
    return Y[order[half, outputs], outputs]


def _centred_scale(mean, std, peak):
    """A centred sparse column's scale: its deviation, or up to its peak near the switch.

    Sparse X's columns are divided by their peak, uncentred, unless the mean
    outweighs the deviation; a centred column divided by its deviation made
    the penalty's weight jump there (a 0/1 column's from 1 to 0.5 as its
    share of ones passed a half: an L1 coefficient of 0.70 at a share of
    0.498 was 1.34 at 0.502, and a cross-validation's folds could fall
    either side). ``peak * std / |mean|`` is the peak at the switch and about
    the deviation where the values gather near their mean (1000 ± 1), which
    a peak would squeeze to a thousandth of their spread; the larger of it
    and the deviation. (The compiled pass, ``_sparse_standardization``,
    computes it in the same order, to the bit.) A column stored in more
    than a quarter of the rows then takes its root mean square, or a blend,
    for its peak (:func:`skgd._sparse_scales.toward_root_mean_square`).
    """
    with np.errstate(all="ignore"):
        between = peak * (std / np.abs(mean))
        return np.where(between > std, between, std)


def _scored_poorly(loss):
    """Whether a regressor's score (R²) judges this loss poorly, by its tags."""
    try:
        regressor_tags = get_tags(loss).regressor_tags
    except Exception:  # (a user's loss of tags scikit-learn cannot read)
        return False
    return bool(regressor_tags is not None and regressor_tags.poor_score)


def _check_loss_above_underflow(loss, center, spread, single):
    """Raise ValueError when the targets vary by so little that their losses underflow to 0.

    A squared error in y's units is the square of its residuals: diabetes'
    y times 1e-170 (a spread of 8e-169) made every loss 0, and fit and
    streams returned the intercept alone (R² 0.002), silently (a user
    trial). Each output whose spread's square is below float64's smallest
    normal number is judged on its own: a residual of one spread of it
    whose loss is 0, where a residual of that number's square root has a
    positive loss, underflowed (a loss that is 0 there too, the
    epsilon-insensitive's dead zone, did not; a subnormal loss still trains).
    """
    small = np.flatnonzero((spread > 0) & (spread < _SQRT_TINY))
    if not len(small):
        return  # (its square is a normal number)
    center = np.asarray(center, dtype=np.float64).reshape(1, -1)
    Y = center[:, 0] if single else center

    def loss_at(k, residual):
        raw = center.copy()
        raw[0, k] += residual
        with np.errstate(all="ignore"):
            return float(np.sum(loss.loss(Y, raw[:, 0] if single else raw)))

    for k in small:
        if loss_at(k, float(spread[k])) == 0 and loss_at(k, _SQRT_TINY) > 0:
            raise ValueError(
                f"y varies by too little for float64: a residual of its spread, "
                f"{float(spread[k]):.3g}{f' (output {k})' if len(spread) > 1 else ''}, has "
                "a loss of 0, underflowed (a residual of 1.5e-154 has a loss above 0), "
                "and the loss and its gains round to nothing. Rescale y (multiply it by "
                "a power of ten, then divide the predictions by it)."
            )


def _training_weights(sample_weight, X):
    """The weights training uses: ``(weights, weighted, unit)``.

    Given weights are checked (scikit-learn's ``_check_sample_weight``) and
    brought into range (:func:`_weights_in_range`, which divided them by
    ``unit``); without weights, ones.
    """
    if sample_weight is None:  # _check_sample_weight's ones, without its checks (a tenth
        ones = np.empty(X.shape[0], dtype=X.dtype)  # of a one-row call)
        ones.fill(1)  # (np.ones' own steps, without its Python wrapper)
        return ones, False, 1.0  # ones are in range: a stream without weights skips the check
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    sample_weight, unit = _weights_in_range(sample_weight)
    return sample_weight, True, unit


def _curvature(
    objective, X, sample_weight, fit_intercept, row_norms, set_apart=False, batch_size=None
):  # fmt: skip
    """The curvature of the standardized objective on this data, which sets the step."""
    curvature = objective.curvature(
        X, sample_weight, fit_intercept, row_norms, set_apart, batch_size
    )
    if math.inf in curvature:
        # (a step of 0, which training could not move by; a NaN, from
        # statistics beyond the float range, meets the loop's own error)
        raise ValueError(
            "The step size cannot be measured: the curvature of the standardized "
            "data overflows. The standardization's scales, from the data seen so "
            "far, are tiny against these rows (sample weights spanning hundreds "
            "of orders of magnitude do this: one row then outweighs all others). "
            "Rescale or clip sample_weight, or pass standardize=False."
        )
    return curvature


def _weights_in_range(sample_weight):
    """``sample_weight`` divided by a power of two when its size risks over- or underflow.

    Only the ratios of the weights change the model, but sums and means of
    weights near the float limit overflow (and tiny ones lose their
    precision): such weights are brought to a largest weight in [0.5, 1),
    exactly. Returns the weights and the factor they were divided by. Raises
    ValueError when even their float64 sum overflows.
    """
    with np.errstate(over="ignore"):  # an overflow is the error below
        total = float(np.sum(sample_weight, dtype=np.float64))
    if not np.isfinite(total):
        raise ValueError(
            f"sample_weight sums to more than the largest float64 ({np.finfo(np.float64).max:.3g}"
            "): divide all the weights by one constant. Only their ratios matter."
        )
    safe = float(np.sqrt(np.finfo(sample_weight.dtype).max))  # far from either limit
    largest = float(sample_weight.max(initial=0.0))
    if largest == 0 or 1 / safe < largest and total < safe:
        return sample_weight, 1.0
    unit = float(_power_of_two(largest))  # (2**1023 at most: 2**1024 is no float)
    # in float64: the power of two above float32's largest weight is no float32
    return (sample_weight.astype(np.float64) / unit).astype(sample_weight.dtype), unit


def _least_losses(curve, n_kept, n_earlier, earlier_least):
    """``min(curve)``, and the least of its last ``n_kept`` values (the ``loss_curve_`` kept).

    ``earlier_least``, if known, is the least of the first ``n_earlier``
    values (the curve a call continued): the call's new epochs are then
    compared with it, not the thousand values kept, whose ``min`` alone
    cost a one-row ``partial_fit`` call more than its batch step. The same
    value as ``min(curve)``: ties go to the earlier value either way.
    """
    new = curve[n_earlier:]
    least = min(curve) if earlier_least is None or not new else min(earlier_least, min(new))
    dropped = curve[: len(curve) - n_kept]
    if dropped and min(dropped) <= least:  # the least has just left the curve kept
        return least, min(curve[-n_kept:])
    return least, least


def _copy_optimizer(optimizer, restart):
    """A copy of a trained optimizer, its state copied too; restarted if ``restart``.

    Training writes the copy's state in place, so that a rejected call leaves
    ``optimizer_`` as it was. ``copy.deepcopy`` goes through scikit-learn's
    ``__getstate__`` and ``__setstate__`` (a tenth of a one-row call): a
    built-in optimizer, whose parameters are numbers and whose state is a
    list of dicts of arrays and counts, is copied directly, and what
    ``restart`` drops (momentum's velocity) is not copied at all.
    """
    if is_users_optimizer(optimizer):
        optimizer = copy.deepcopy(optimizer)
        if restart:
            optimizer.restart()
        return optimizer
    new = object.__new__(type(optimizer))
    new.__dict__.update(optimizer.__dict__)
    if hasattr(optimizer, "state_"):
        new.state_ = [dict(state) for state in optimizer.state_]  # (restart pops from these)
        if restart:
            new.restart()
        for state in new.state_:
            for key, value in state.items():
                if isinstance(value, np.ndarray):
                    state[key] = value.copy()
    return new


def _as_tuple(stats):
    """``FeatureStats`` as a plain tuple, so that persisted models name no private type."""
    return (stats.mean, stats.std, stats.weight)


def _kept(array, own):
    """The last ``_RECENT_ROWS`` values of ``array``, in an array of their own.

    ``own``: ``array`` is one already (made by ``_recent_targets``), not a
    view of the caller's ``y``, which a stream may refill for its next chunk.
    """
    return array if own else np.array(array[-_RECENT_ROWS:])


def _as_init(values, name, shape):
    """``values`` as an array of ``shape``: one output's in any shape of its size."""
    values = np.asarray(values, dtype=np.float64)
    # One output's values take any shape of its size, as scikit-learn's SGD
    # takes them; several outputs' must be the model's (a same-sized array of
    # another shape, such as coef_.T, would be reshaped into a scrambled model).
    if shape[0] == 1 and values.size == math.prod(shape):
        values = values.reshape(shape)
    if values.shape != shape:
        form = "(n_outputs, n_features)" if len(shape) == 2 else "(n_outputs,)"
        size = math.prod(shape)
        any_shape = ""  # (one output's values take any shape of their size)
        if shape[0] == 1:
            any_shape = ", or one number" if size == 1 else f", or any shape of {size} values"

        raise ValueError(
            f"{name} has shape {values.shape}; the model needs {form} = {shape}{any_shape}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return values
