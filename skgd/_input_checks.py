"""Checks of the data as given, X and y, that skgd makes cheaper than scikit-learn's own.

X's finiteness in ``fit``, taken from the statistics' pass instead of a
read of X of its own (:class:`FiniteLater`), and a stream's small chunks,
which pass scikit-learn's validation unchanged, told without it
(:func:`valid_as_is`); under scikit-learn's ``assume_finite``, the data's
NaN found after training failed on it (:func:`error_unchecked_input`).
Either way scikit-learn's validation raises its own errors, in its own
words and order; the checks of a user's loss and optimizer are in
:mod:`skgd._checks`.
"""

import inspect
import warnings

import numpy as np
from scipy import sparse
from sklearn import config_context, get_config
from sklearn.utils import check_array

# Rows of weight 0 whose finiteness FiniteLater checks at a time
_ROWS_AT_A_TIME = 1024


class FiniteLater:
    """X's finiteness in ``fit``, read from its statistics instead of a pass over X of its own.

    scikit-learn's ``validate_data`` reads all of X for its finiteness before
    anything else: on 200,000 x 100 float32, a fifth of an epoch, which the
    5-epoch fit's time against float64 felt (issue 11). The statistics' pass
    reads X anyway, and a NaN or an infinity on a row it sums makes a
    column's mean or deviation not finite. So ``fit`` on dense X validates
    without the check (``relaxed``), and scikit-learn validates the data as
    given again, with it, before anything else can happen:

    - when anything raises before the statistics are taken (the target, the
      sample weights, the classes, ...): then its error for X, if X has one,
      replaces the other, as scikit-learn's order (X before y before the
      weights) has it;
    - when the statistics are not finite, or a row they do not sum (of
      weight 0, or below the weights' float range) has a value that is not:
      its error, the same as it would have raised first.

    Its second validation is only asked for an error: when it raises none
    (finite X whose squares overflow the statistics, or scikit-learn's
    ``assume_finite``), training goes on as before. Sparse X, whose
    statistics skip implicit zeros, and early stopping, whose held-out rows
    are not in the statistics, keep scikit-learn's check as it is.
    """

    def __init__(self, validate, X, y, defer):
        self._validate, self._X, self._y = validate, X, y
        self.pending = defer
        self.relaxed = {"ensure_all_finite": False} if defer else {}

    @classmethod
    def for_fit(cls, estimator, X, y, validate, *, warns_on_2d_y=False):
        """A check for ``validate(X, y)``: deferred to the statistics where they can tell.

        ``validate(X, y, **checks)`` validates as ``fit`` does; ``checks``
        are ``relaxed`` at first. ``warns_on_2d_y``: the validation warns
        about a column of targets, which scikit-learn's order gives only once
        X passed; then only an array of one dimension is deferred.
        """
        defer = not sparse.issparse(X) and not estimator.early_stopping
        if warns_on_2d_y and len(getattr(y, "shape", ())) != 1:
            defer = False
        return cls(validate, X, y, defer)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is not None and self.pending and isinstance(error, Exception):
            self._check()  # scikit-learn's error for X, if any, comes first
        return False

    def _check(self):
        self.pending = False
        X, y, self._X, self._y = self._X, self._y, None, None
        try:
            with warnings.catch_warnings():  # (its warnings were given by the first validation)
                warnings.simplefilter("ignore")
                self._validate(X, y)
        except Exception as error:
            raise error from None

    def statistics_taken(self, X, sample_weight, x_stats):
        """After the statistics of X: scikit-learn's error if they or the rows they skip say so."""
        if not self.pending:
            return
        if sparse.issparse(X):  # (a pandas sparse DataFrame, sparse once validated)
            self._check()
            return
        finite = bool(np.isfinite(x_stats.mean).all() and np.isfinite(x_stats.std).all())
        if finite:
            # rows the statistics do not sum: weight 0, or too small to count
            # beside the largest (far above the float range's reach); a few at
            # a time, since most rows may be such (a copy of them all took X's size)
            weight = np.asarray(sample_weight, dtype=np.float64)
            skipped = np.flatnonzero(weight <= weight.max(initial=0.0) * 2.0**-1000)
            finite = all(
                np.isfinite(X[skipped[start : start + _ROWS_AT_A_TIME]]).all()
                for start in range(0, len(skipped), _ROWS_AT_A_TIME)
            )
        if finite:
            self.pending, self._X, self._y = False, None, None
        else:
            self._check()


def error_unchecked_input(method, args, kwargs, error):
    """scikit-learn's error for a NaN or infinity that its ``assume_finite`` let reach training.

    With scikit-learn's ``assume_finite=True`` the data reach training
    unchecked, and a NaN there surfaces as training's own error, whose
    advice is wrong: a NaN target read "Training diverged at epoch 4; try a
    smaller learning_rate", a NaN weight "sample_weight sums to more than
    the largest float64". So when ``method`` (a fit) raised ``error``, a
    ValueError, under that config, its inputs are checked, as scikit-learn
    would have before training: the first error found (X, then y, then the
    weights) is returned, naming the config, or None. Nothing is read on
    success, nor without the config.
    """
    if not isinstance(error, ValueError) or not get_config()["assume_finite"]:
        return None
    try:
        given = inspect.signature(method).bind(None, *args, **kwargs).arguments
    except TypeError:
        return None
    with config_context(assume_finite=False):
        for name in ("X", "y", "sample_weight"):
            value = given.get(name)
            if value is None or isinstance(value, int | float | str):
                continue
            try:  # (scikit-learn's own reading: a sparse DataFrame stays sparse, a review)
                check_array(
                    value, accept_sparse=True, dtype=None, ensure_2d=False, allow_nd=True,
                    ensure_min_samples=0, ensure_min_features=0, input_name=name,
                )  # fmt: skip
            except ValueError as unchecked:
                if "infinity" not in str(unchecked) and "NaN" not in str(unchecked):
                    continue  # (another complaint: the error stays training's)
                return ValueError(
                    f"{str(unchecked).rstrip('.')}: scikit-learn's assume_finite=True let "
                    "it reach training, which failed on it."
                )
            except Exception:  # (values it cannot read: the error stays training's)
                continue
    return None


# A stream's chunk up to this many values is checked here (two small reads); a
# larger one goes through scikit-learn's validation, whose cost it hardly feels.
_SMALL_CHUNK = 1 << 16
# (native byte order: a big-endian float64 is no np.float64 to validation, which converts it)
_FLOAT_TYPES = (np.dtype(np.float64), np.dtype(np.float32))


def valid_as_is(estimator, X, y, y_kinds, y_ndims):
    """Whether ``validate_data(estimator, X, y, reset=False, ...)`` returns X and y as they are.

    scikit-learn's validation of a one-row ``partial_fit`` call costs more
    than the call's training (dataframe libraries probed, tags built,
    config read): a third of the call. A later call of a stream whose X is
    a small C-ordered float ndarray of the fitted width, its y a finite
    ndarray of ``y_kinds`` dtype and ``y_ndims`` dimensions, and the
    estimator fitted without feature names, passes every one of its checks
    unchanged: it is checked here, and the caller skips that validation.
    Anything else (NaN, another width, a list, a DataFrame, a sparse
    matrix) answers False, and the caller's validation raises, warns or
    converts in scikit-learn's own words.
    """
    if type(X) is not np.ndarray or type(y) is not np.ndarray:
        return False
    if X.ndim != 2 or X.dtype not in _FLOAT_TYPES or not X.flags.c_contiguous:
        return False
    n_samples, n_features = X.shape
    if not 0 < n_samples * n_features <= _SMALL_CHUNK or y.shape[:1] != (n_samples,):
        return False  # (a 0-d y has no length: validation says so in its words)
    state = estimator.__dict__
    if state.get("n_features_in_") != n_features or "feature_names_in_" in state:
        return False
    if y.ndim not in y_ndims or y.dtype.kind not in y_kinds or y.size == 0:
        return False  # (y.size: a 2-D y of no column is an error)
    # all finite (np.isfinite, not a sum: sklearn's sum under its errstate, else an overflow warns)
    if not np.logical_and.reduce(np.isfinite(X), axis=None):
        return False
    return y.dtype.kind != "f" or bool(np.logical_and.reduce(np.isfinite(y), axis=None))


def canonical(X):
    """Sparse X storing each value once and no zero, in a copy when it does not; any other X as is.

    The statistics square each stored value: a value stored as two halves
    counted half its square, and the standardization, hence the model,
    changed (digits stored so: coefficients 0.95 apart, the largest 0.80).
    Products with X (predictions) sum the parts alike, and need nothing.
    scipy's ``has_canonical_format`` also asks for sorted indices: rows
    unsorted but without repeats are copied sorted too, a rare layout.

    A stored zero is no value either. The sparse scales count the rows that
    store a value in a column (see :mod:`skgd._sparse_scales`), and a matrix
    that stores some of its zeros (scipy's arithmetic and masks leave them)
    trained another model than the same matrix without them (digits as 0/1,
    every entry stored: the coefficients' magnitudes summed to 957 against
    755; a user trial). Finding them is a pass over the stored values, with
    no temporary of their size.
    """
    if sparse.issparse(X) and (
        not X.has_canonical_format or not np.logical_and.reduce(X.data, axis=None)
    ):
        X = X.copy()
        X.sum_duplicates()
        X.eliminate_zeros()  # (those stored, and those the sums made)
    return X
