"""Checks of a user's Loss and Optimizer, once, before training starts.

A loss or an optimizer written by a user that returns the wrong thing
(a mean instead of one loss per sample, a list, a transposed gradient, a
step of the wrong shape) would otherwise fail deep inside the training
loop in numpy's words ("matmul: Input operand 1..."), be taken for a
divergence, or, worst, train silently on garbage: numpy broadcasts a step
of shape (1,) to every coefficient. So before the first batch, the
estimator evaluates the user's objects once, on the first few rows at the
initial parameters, and on a copy of the optimizer, and raises a
ValueError naming the class and the shape it expected. A user's gradient
against its loss on a sample of the rows, and on each batch in training,
is checked in :mod:`skgd._gradient_checks`.

The built-in losses and optimizers are trusted: they are tested, and the
check is not run for them, so that they pay nothing. A subclass of a
built-in written by a user is checked, since it may override anything.
Every loss's hyper-parameters are checked, built-in or not, against its
``_parameter_constraints`` (as ``Huber(delta=-1)``'s), as scikit-learn
checks an estimator's. The checks of the data itself, X and y as given,
are in :mod:`skgd._input_checks`.
"""

import copy
import functools
import math

import numpy as np
from sklearn.utils._param_validation import validate_parameter_constraints

from ._gradient_checks import (
    _AS_IN_TRAINING,
    _SAMPLE_ROWS,
    _at_first_nan,
    _check_finite_on_sample,
    values_eps,
)
from ._warning_site import warn
from .losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES
from .optim import OPTIMIZERS, Optimizer, _own_proximal_step

_BUILT_IN_LOSSES = frozenset(REGRESSION_LOSSES.values()) | frozenset(CLASSIFICATION_LOSSES.values())
_BUILT_IN_OPTIMIZERS = frozenset(OPTIMIZERS.values())


# The rows the check evaluates: enough to tell samples from outputs.
CHECK_ROWS = 5
# A slope is judged by its sign where it is this many times the loss's rounding over
# the finite difference's step, the two sums' error at most (see _check_slope; at 100 a
# squared error plus 1e9, a likelihood's constant, had its wrong sign let through, a review)
_SLOPE_MARGIN = 2.0
# A loss is asked whether it falls without limit at these distances along its
# descent direction, in units of the targets' size (see _check_bounded), on the
# first rows and on a row of each target value (at most _FEW_VALUES, found in a
# sample of at most _SAMPLE_ROWS rows)
_FAR = (1e2, 1e3, 1e4)
# ... on the rows that move this share of the longest move at least
_FAR_ENOUGH = 0.1
_FEW_VALUES = 20


def loss_tags_of(loss):
    """``loss.__sklearn_tags__()``, read only; a built-in loss's, made once for its class.

    The estimators' tags take the loss's (which targets a regression loss
    takes, whether a classification loss handles more than two classes).
    scikit-learn's validation reads the estimator's tags at every call: a
    stream's one-row call felt the loss's tags built anew each time. A
    built-in loss's tags depend on its class alone; a user's loss is asked.
    """
    kind = type(loss)
    if kind in _BUILT_IN_LOSSES:
        return _class_tags(kind)
    return loss.__sklearn_tags__()


@functools.cache
def _class_tags(kind):
    return kind().__sklearn_tags__()


def is_users_loss(loss):
    """Whether ``loss`` is a user's (checked, and named by errors), not a built-in one."""
    return type(loss) not in _BUILT_IN_LOSSES


def is_users_optimizer(optimizer):
    """Whether ``optimizer`` is a user's (checked, and named by errors), not a built-in one."""
    return optimizer is not None and type(optimizer) not in _BUILT_IN_OPTIMIZERS


def check_user_loss(
    loss, Y, n_outputs, *, single, dtype, sample=True, in_y_units=False, classifier=False
):
    """Raise ValueError if a loss's hyper-parameters, or what a user's loss returns, are wrong.

    Called before anything evaluates the loss (the target's statistics do).
    Any loss's hyper-parameters are checked against its
    ``_parameter_constraints``, as the optimizer's are (``Huber(delta=-1)``
    would train an exploded model, ``delta=0`` none at all). A user's loss
    and its gradient are then evaluated on the first targets, with raw
    predictions spread over [-1, 1] in the shape the estimator will pass,
    and with ``sample`` (a fit, or a stream's first call) on a sample of
    the rows at their median (:func:`_check_finite_on_sample`: a stream's
    later calls, a row each at times, would pay it at every call, where
    each batch's own check serves). With ``in_y_units`` (a regressor's
    loss of raw predictions in y's units), the raw predictions are spread
    over the checked targets' range instead, where the model starts: an
    identity-link Poisson loss, defined for positive predictions of counts
    from 5 to 50, was refused for its NaN at -1 (a user trial). ``classifier``:
    the targets are the classifier's encoding (what an error then says of them).
    """
    _check_parameters(loss)
    if not is_users_loss(loss):
        return
    rows = _rows(len(Y), n_outputs)
    n = rows.stop
    with np.errstate(**_AS_IN_TRAINING):
        raw = _spread_raw(Y[rows], n_outputs, single, dtype, in_y_units)
        _check_loss(loss, Y[rows], raw, classifier)
        rows = _rows_of_each_value(Y, n)
        raw = _spread_raw(Y[rows], n_outputs, single, dtype, in_y_units)
        _check_bounded(loss, Y[rows], raw, classifier)
        if sample:
            _check_finite_on_sample(loss, Y, n_outputs, single, dtype)
            if in_y_units and n_outputs == 1:
                _check_least_at_target(loss, Y, dtype)


def _check_least_at_target(loss, Y, dtype):
    """Warn if a loss of raw predictions in y's units is far from least at the target on most rows.

    Without ``inverse_link`` a regressor's raw prediction is in y's units
    (see :meth:`skgd.GDRegressor._scales_target`), and a loss of it is
    least near each row's target: not far higher there than one spread of
    y either side. A Poisson likelihood written in the log-rate without its
    ``inverse_link``, ``exp(r) - y r``, is least at ``log y``: training
    stepped its log-rate by y's spread, ``exp`` overflowed, the fit ran to
    ``max_iter``, and the model returned (R² -3.6 on diabetes, its
    predictions log-rates) was told only to lower the learning rate (a user
    trial). On the sampled rows, where more than half are so, by more than
    half the losses' size (a cosine's 1e-8 in its norms moves a flat loss's
    values by about that much; a loss not finite at a point is no
    evidence), or whose gradient has one sign a spread either side (least
    beyond them: a Gamma's ``y e^-r + r``, whose large values hide the gap),
    a warning names ``inverse_link``. Not an error: a target may
    encode more than a value (a censored row's sign), its loss least away
    from it (a review).
    """
    Y = Y[:: max(1, len(Y) // _SAMPLE_ROWS)]
    spread = float(np.std(np.asarray(Y, dtype=float)))
    spread = spread if np.isfinite(spread) and spread > 0 else 1.0
    try:
        at, below, above = (
            np.asarray(loss.loss(Y, (Y + shift).astype(dtype)), dtype=float)
            for shift in (0.0, -spread, spread)
        )
    except Exception:  # (out of its domain: the other checks and training say so)
        return
    least = np.minimum(below, above)
    with np.errstate(all="ignore"):
        wrong = at - least > 0.5 * (np.abs(at) + np.abs(least))  # (NaN: False)
    name = type(loss).__name__
    if 2 * np.count_nonzero(wrong) <= len(Y):
        # Large values hide the gap: a Gamma's y e^-r + r without its link, least at
        # log y, is about y at its target and y - spread one spread below (statsmodels'
        # scotland: 61 and 51), within half their size (a user trial: R² -53, silent).
        # A convex loss least at its target falls towards it from both sides; one that
        # slopes the same way a spread either side has its least beyond them.
        try:  # (one value a row: y may be a column, as an elementwise loss's values)
            low, high = (
                np.asarray(loss.gradient(Y, (Y + shift).astype(dtype)), dtype=float).reshape(len(Y))
                for shift in (-spread, spread)
            )
            # (a loss not finite a spread away is no evidence, as above: an identity-link
            # Poisson's mu - y log mu is NaN at mu = y - spread < 0, its gradient finite)
            finite = np.isfinite(below).reshape(len(Y)) & np.isfinite(above).reshape(len(Y))
        except Exception:
            return
        with np.errstate(all="ignore"):
            wrong = ((low > 0) & (high > 0)) | ((low < 0) & (high < 0))
            wrong &= finite
        if 2 * np.count_nonzero(wrong) <= len(Y):
            return
        values = ("gradient", low, high)
    else:
        values = ("loss", below, above)
    i = int(np.flatnonzero(wrong)[0])
    target = float(np.asarray(Y).reshape(len(Y))[i])
    method, there_below, there_above = values
    if method == "gradient":
        told = "has one sign one spread of y either side of the target"
    else:
        told = f"is far from least at the target (it is {at[i]:.4g} there)"
    where = (
        f"{name}.{method}() {told} on {int(wrong.sum())} of {len(Y)} rows checked (at "
        f"y_true={target:.6g}: {there_below[i]:.4g} at {target - spread:.6g} and "
        f"{there_above[i]:.4g} at {target + spread:.6g}, one spread of y either side)"
        + (": the loss is least beyond them, far from the target" if method == "gradient" else "")
    )
    warn(
        f"{where}: a loss without inverse_link is given raw predictions in y's units. "
        "If yours are not (a log-rate, a log-scale, a logit), give the loss "
        "inverse_link(raw_prediction), which maps them to y's units (np.exp for a "
        "log-rate, as skgd.losses.Poisson's): predict() returns it, and the target is not "
        "rescaled.",
        UserWarning,
    )


def elementwise_on_a_column(loss, Y, dtype, in_y_units):
    """Whether a user's loss, given y of one column, returns one: it was written for 1-D y.

    The README's pinball loss, ``np.maximum(q * diff, (q - 1) * diff)``,
    returns an array of y's shape: given y as a column (a DataFrame's
    ``df[["target"]]``, scikit-learn's ``check_supervised_y_2d``) it was
    refused for not returning one loss a sample, where the built-in losses
    fit that y as 1-D y (a user trial). Such a loss then sees 1-D arrays,
    as for 1-D y, and ``coef_`` keeps the column's shape. Asked on the
    first rows, as a column and as 1-D (one value a row): a loss that
    raises on either, or returns a column of 1-D rows too (one of rows
    written with ``keepdims``), keeps the column, and :func:`check_user_loss`'s
    words about the shapes given.
    """
    if Y.ndim != 2 or Y.shape[1] != 1 or not is_users_loss(loss):
        return False
    rows = Y[:CHECK_ROWS]
    raw = _spread_raw(rows, 1, False, dtype, in_y_units)
    try:
        with np.errstate(all="ignore"):
            values = loss.loss(np.array(rows), raw.copy())
            flat = loss.loss(np.array(rows[:, 0]), raw[:, 0].copy())
    except Exception:  # (told by check_user_loss, in its words)
        return False
    n = len(rows)
    shaped = isinstance(values, np.ndarray) and isinstance(flat, np.ndarray)
    return shaped and values.shape == (n, 1) and flat.shape == (n,)


def _spread_raw(Y, n_outputs, single, dtype, in_y_units):
    """Raw predictions spread evenly over [-1, 1], or over the targets' range (``in_y_units``)."""
    n = len(Y)
    raw = np.linspace(-1.0, 1.0, n * n_outputs).reshape(n, n_outputs)
    if in_y_units:
        Y2 = np.asarray(Y, dtype=np.float64).reshape(n, -1)
        low, high = Y2.min(axis=0), Y2.max(axis=0)
        if np.all(np.isfinite(low) & np.isfinite(high)):
            # (targets all alike, a stream's one row: half their value either side, on
            # its side of 0, or 1 about a target of 0)
            half = np.where(high > low, (high - low) / 2, np.where(low != 0, np.abs(low) / 2, 1.0))
            raw = (low + high) / 2 + half * raw
    raw = raw.astype(dtype)
    return raw[:, 0] if single else raw


def check_user_objects(
    objective, optimizer, X, Y, sample_weight, V, c, *, single, fit_intercept, step
):
    """Raise ValueError if a user's loss or optimizer returns what training cannot use.

    Nothing is changed: the loss is evaluated at ``V, c`` (the initial
    parameters) on the first rows of ``X``, and the optimizer takes one
    ``step`` on copies of itself and of the parameters.
    """
    loss = objective.loss
    user_loss = is_users_loss(loss)
    user_optimizer = is_users_optimizer(optimizer)
    if not (user_loss or user_optimizer):
        return
    rows = _rows(X.shape[0], len(V))
    # the batch weights the loop uses: relative to the mean weight
    weights = sample_weight[rows] / sample_weight.mean()
    X, Y = X[rows], Y[rows]
    with np.errstate(**_AS_IN_TRAINING):
        if user_loss:
            raw = objective.raw_prediction(X, V, c, single)
            _check_loss(loss, Y, raw)
        if user_optimizer:
            _, grad_V, grad_c = objective.loss_and_gradient(X, Y, weights, V, c, single)
            params, grads = [V, c], [grad_V, grad_c]
            n_params = 2 if fit_intercept else 1
            _check_optimizer(optimizer, params[:n_params], grads[:n_params], step)
            if np.any(objective.l1):
                _check_proximal(optimizer, params[:n_params], grads[:n_params], step)


def _check_parameters(loss):
    """scikit-learn's ``InvalidParameterError`` for a hyper-parameter out of its range.

    ``validate_parameter_constraints`` on the constrained attributes, not
    ``BaseEstimator._validate_params``: its ``get_params`` reads the
    signature of ``__init__``, five times the cost of the check, on every
    ``partial_fit`` call of a stream.
    """
    constraints = getattr(loss, "_parameter_constraints", None)
    if constraints:  # (the losses without hyper-parameters pay nothing)
        params = {name: getattr(loss, name) for name in constraints if hasattr(loss, name)}
        validate_parameter_constraints(constraints, params, caller_name=type(loss).__name__)


def _rows(n_samples, n_outputs):
    """How many first rows to evaluate: a number other than the number of outputs.

    A gradient transposed to (n_outputs, n_rows) then has the wrong shape.
    """
    k = min(n_samples, CHECK_ROWS)
    if k == n_outputs and k > 1:
        k -= 1
    return slice(0, k)


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _check_unchanged(name, method, Y, given_Y, raw, given_raw):
    """Raise if ``loss.method`` wrote into the arrays it was given (copies of the given ones).

    The estimators pass arrays they read again (targets, predictions): a
    gradient that turned ``y_true`` into the residual in place was told
    that it climbs its loss, the cause unnamed (a user trial).
    """
    for array, given, what in [(Y, given_Y, "y_true"), (raw, given_raw, "raw_prediction")]:
        if not np.array_equal(array, given, equal_nan=True):
            raise ValueError(
                f"{name}.{method}() changed {what} in place; the estimators read it again "
                "after the call. Compute on copies (y = y_true - raw_prediction, not "
                "y_true -= raw_prediction)."
            )


def _classes_hint(Y, raw, classifier=False):
    """For class indices and one raw column a class: how they differ from two classes'.

    A loss written for two classes (-1/+1 targets, 1-D predictions) raised
    numpy's broadcasting error on three classes' arrays, "see skgd.losses"
    its only direction (a user trial: ``check_estimator`` fails about 30
    checks so, its data having three classes). And the other way, a
    ``classifier``'s two classes to a loss written for class indices (a
    user trial: a label-smoothed cross-entropy on two classes).
    """
    if classifier and np.ndim(Y) == 1 and raw.ndim == 1:
        return (
            " With two classes the classifier gives a loss -1/+1 targets as y_true and "
            "one raw prediction a row (1-D), not class indices and a raw column a class: "
            "write the two-class case too, as skgd.losses.LogLoss does (a softmax's two "
            "columns are np.column_stack([-raw_prediction, raw_prediction]) / 2, the "
            "classes (y_true > 0), and the gradient the columns' difference over 2)."
        )
    if np.ndim(Y) != 1 or raw.ndim != 2 or np.asarray(Y).dtype.kind not in "iu":
        return ""
    k = raw.shape[1]
    return (
        f" With {k} classes the classifier gives a loss their indices (0 to {k - 1}) as "
        f"y_true and one raw prediction a class, not two classes' -1/+1 targets and 1-D "
        "predictions. A loss written for two classes takes them one-vs-rest on -1/+1 "
        f"columns, np.where(np.arange({k}) == y_true[:, None], 1.0, -1.0), its losses "
        "summed over the columns (as skgd.losses.SquaredHinge does)."
    )


def _check_loss(loss, Y, raw, classifier=False):
    name = type(loss).__name__
    n = len(raw)
    shapes = f"y_true of shape {np.shape(Y)} and raw_prediction of shape {raw.shape}"
    classes = _classes_hint(Y, raw, classifier)
    # (copies: a loss that writes into them must not change the user's targets)
    given_Y, given_raw, Y, raw = Y, raw, np.array(Y), raw.copy()
    try:
        values = loss.loss(Y, raw)
    except Exception as error:
        raise ValueError(
            f"{name}.loss() raised {type(error).__name__}: {error}, given {shapes}; "
            f"see skgd.losses for the shapes and encodings the estimators pass.{classes}"
        ) from error
    expected = (
        f"{name}.loss() must return a float numpy array of shape ({n},), one loss per "
        f"sample (summed over outputs for several outputs), given {shapes}; "
    )
    if not isinstance(values, np.ndarray) and np.ndim(values) > 0:
        raise ValueError(f"{expected}it returned {_describe(values)}. Wrap it in np.asarray.")
    if np.shape(values) != (n,):
        values = np.asarray(values)
        hint = (
            "return each sample's loss, not their mean"
            if values.ndim == 0
            else "reduce the outputs with .sum(axis=1)"
            if values.ndim == 2 and values.shape[0] == n
            else "return one value per row of raw_prediction"
        )
        raise ValueError(f"{expected}it returned {_describe(values)}: {hint}.{classes}")
    if values.dtype.kind != "f":
        raise ValueError(
            f"{expected}it returned {_describe(values)}: compute the loss in floats "
            "(an integer loss has no useful gradient, and may have been truncated)."
        )
    if np.isnan(values).any():
        raise ValueError(
            f"{name}.loss() returned NaN {_at_first_nan(values, Y, raw)}, before any "
            "training step: check its formula for these targets and predictions."
        )

    _check_unchanged(name, "loss", Y, given_Y, raw, given_raw)
    try:
        gradient = loss.gradient(Y, raw)
    except Exception as error:
        raise ValueError(
            f"{name}.gradient() raised {type(error).__name__}: {error}, given {shapes}; "
            f"see skgd.losses for the shapes and encodings the estimators pass.{classes}"
        ) from error
    _check_unchanged(name, "gradient", Y, given_Y, raw, given_raw)
    expected = (
        f"{name}.gradient() must return a numpy array of the shape of raw_prediction, "
        f"{raw.shape}: d loss_i / d raw_prediction_i; "
    )
    if not isinstance(gradient, np.ndarray):
        raise ValueError(f"{expected}it returned {_describe(gradient)}. Wrap it in np.asarray.")
    if gradient.shape != raw.shape:
        hint = "one value per sample and output, in the layout of raw_prediction"
        if gradient.shape == raw.shape[::-1]:
            hint = "it is transposed: return (n_samples, n_outputs), not (n_outputs, n_samples)"
        raise ValueError(f"{expected}it returned {_describe(gradient)}: {hint}.{classes}")
    if gradient.dtype.kind not in "fiu":
        raise ValueError(f"{expected}it returned {_describe(gradient)}, not numbers.")
    if np.isnan(gradient).any():
        raise ValueError(
            f"{name}.gradient() returned NaN {_at_first_nan(gradient, Y, raw)}, before any "
            "training step: check its formula for these targets and predictions."
        )
    _check_new_gradients(loss, Y, raw, gradient)
    _check_slope(loss, Y, raw, gradient)


def _check_new_gradients(loss, Y, raw, gradient):
    """Raise if ``gradient()`` returns the array the call before returned.

    The estimators keep one call's gradient while they take the next: the
    curvature is a difference of gradients at two points. A gradient that
    wrote into a buffer it kept (``np.exp(raw, out=self._buf)``) made that
    difference 0, and a stream of a correct Poisson loss ended in "Training
    diverged", the learning rate blamed (a user trial). A ``loss()`` that
    does so is served: its values are summed, or copied, before the next
    call (a trial's buffered losses trained as well as the others).
    """
    # (at the same values, on copies: a loss checked within its domain stays there)
    second = loss.gradient(np.array(Y), raw.copy())
    if isinstance(second, np.ndarray) and np.may_share_memory(gradient, second):
        raise ValueError(
            f"{type(loss).__name__}.gradient() returned the array it returned at the call "
            "before (a buffer it writes into again); the estimators keep one call's "
            "gradient while they take the next, to compare gradients at two points. "
            "Return a new array from each call."
        )


def _check_slope(loss, Y, raw, gradient):
    """Raise if the loss falls along the gradient: a gradient of the wrong sign.

    A forward difference of the summed loss along the gradient's direction
    is compared with the slope the gradient claims: a gradient that points
    down the loss (``-(raw - y)`` for the squared error) would train the
    model away from the targets, silently. Only the sign is judged (a
    factor is :func:`skgd._gradient_checks._check_slopes_alike`'s), and
    only where the slope stands out of the loss's rounding. Forward, not central: at a
    kink (a target on the grid of predictions), a convex loss rises along
    any of its subgradients, though its two sides' mean may not.
    """
    gradient = gradient.astype(raw.dtype, copy=False)
    size = np.abs(gradient).max(initial=0.0)
    if not (np.isfinite(size) and size > 0):
        return  # flat here: nothing to compare
    direction = gradient / size
    # (summed before the next call: a loss may return a buffer it writes into again)
    at_raw = loss.loss(Y, raw)
    # (a loss computed in float32 rounds as float32 raw does)
    eps = max(float(np.finfo(raw.dtype).eps), values_eps(at_raw))
    h = float(np.sqrt(eps))
    rounding = eps * (np.sum(np.abs(at_raw), dtype=float) + 1.0) / h  # (the sum's, over h)
    at_raw = np.sum(at_raw, dtype=float)
    claimed = float(np.sum(gradient * direction))
    if not claimed > _SLOPE_MARGIN * rounding:
        # a slope lost in the loss's rounding tells no sign: a cosine loss of 1e-12 in its
        # norms, flat at check_estimator's rows (a claimed 8.5e-12), was refused there
        # for a slope of -3e-8, the sum's rounding (the rows' own checks judge slopes so)
        return
    rise = np.sum(loss.loss(Y, raw + h * direction), dtype=float) - at_raw
    if np.isfinite(rise) and rise / h < -0.5 * claimed:
        raise ValueError(
            f"{type(loss).__name__}.gradient() must return d loss_i / d raw_prediction_i; "
            "the loss falls where the gradient says it rises (a slope of "
            f"{rise / h:.3g} by finite differences where the gradient claims "
            f"{claimed:.3g}): check the gradient's sign."
        )


def _rows_of_each_value(Y, n_first):
    """The first ``n_first`` rows and, for a 1-D target of few values, a row of each value.

    A classifier's targets: a loss written for other labels may be wrong on
    one class only, which the first rows may not hold (data sorted by
    class). The values are found in a sample of evenly spaced rows.
    """
    rows = np.arange(n_first)
    if Y.ndim == 1 and len(Y) > n_first:
        stride = max(1, len(Y) // _SAMPLE_ROWS)
        values, first = np.unique(Y[::stride], return_index=True)
        if len(values) <= _FEW_VALUES:
            rows = np.union1d(rows, first * stride)
    return rows


def _check_bounded(loss, Y, raw, classifier=False):
    """Raise if the loss falls without limit along its descent direction.

    Training would follow it as far as the epochs go: binary cross-entropy
    written for 0/1 labels (``log(1 + e^r) - y r``) falls linearly on the
    classifier's -1, and fit ran its 1000 epochs to a loss of -11,305 and an
    accuracy of 0.92 (0.99 with ``log_loss``), with only the convergence
    warning. The mean loss is taken at ``_FAR`` distances along minus the
    gradient (in units of the targets' size, so that a loss far from its
    minimum is not taken for one without any): one that falls by five times
    more over the second tenfold stretch than over the first falls as fast
    as a line, or faster. A bounded loss flattens (the logistic's) or rises
    past its minimum (the squared error's).
    """
    try:  # (rows _check_loss did not see: what they raise, training will meet)
        gradient = np.asarray(loss.gradient(Y, raw), dtype=float)
        size = np.abs(gradient).max(initial=0.0)
        if gradient.shape != raw.shape or not (np.isfinite(size) and size > 0):
            return  # (what _check_loss judges, or flat here)
        direction = gradient / size
        unit = max(1.0, float(np.abs(Y).max(initial=0.0)))
        # (copies: a loss may return a buffer it writes into again)
        losses = [np.array(loss.loss(Y, raw - far * unit * direction)) for far in _FAR]
        losses = np.array([np.asarray(values, dtype=float) for values in losses])
    except Exception:
        return
    if losses.shape != (len(_FAR), len(raw)):
        return  # (what _check_loss judges)
    # The rows that went far (a tenth of the longest move at least: where another row's
    # gradient is huge, cosh(r - y)'s, a row moved by 1e-16 of a unit looks straight)
    # and are numbers all along: not NaN (0 * log(0) on the other class in a naive
    # BCE) nor overflowed upwards (log1p(exp(r)) there, whose +inf hid the fall on -1
    # in the mean); a row's -inf is a fall without limit
    far = np.abs(direction).reshape(len(raw), -1).max(axis=1) >= _FAR_ENOUGH
    rows = far & ~np.any(np.isnan(losses) | (losses == np.inf), axis=0)
    if not rows.any():
        return
    means = losses[:, rows].mean(axis=1)
    falls = means[0] - means[1], means[1] - means[2]
    # (or reaches -inf on the way: log(sigmoid) written naively falls so on -1)
    endless = means[0] > -np.inf and -np.inf in means
    if endless or np.all(np.isfinite(means)) and falls[0] > 0 and falls[1] > 5 * falls[0]:
        name = type(loss).__name__
        # (a regressor's targets are the user's own: a loss meant for some of them only,
        # a Poisson loss's counts, falls without limit on the others, a user trial)
        hint = (
            "GDClassifier passes binary targets as -1 and +1, and K classes as 0..K-1, "
            "see skgd.losses: a loss written for 0/1 labels falls without limit on -1"
            if classifier
            else f"a loss meant for some targets only falls without limit on the others, "
            f"as a Poisson loss does on negative ones (the targets checked: {np.min(Y):.4g} to "
            f"{np.max(Y):.4g} here): check the targets, and have {name}.check_target "
            "refuse the ones the loss does not take"
        )
        raise ValueError(
            f"{name}.loss() falls without limit as the predictions move along minus its "
            f"gradient (a mean of {means[0]:.4g}, {means[1]:.4g}, then {means[2]:.4g} at "
            f"{_FAR[0]:g}, {_FAR[1]:g} and {_FAR[2]:g} times the targets' size): training "
            f"would follow it as far as its epochs go. A loss must have a lowest value ({hint})."
        )


def check_user_proba(loss, proba, n_classes, method="proba"):
    """Raise ValueError if a user's ``proba()`` (or ``log_proba()``) returned no probabilities.

    ``predict_proba`` returns what ``proba()`` returns: a sigmoid's ``(n,)``
    column, for two classes, went out as it was, and scikit-learn's scorers
    and calibration read ``(n, K)``.
    """
    if not is_users_loss(loss):
        return proba
    name = type(loss).__name__
    n = len(proba) if hasattr(proba, "__len__") else None
    what = (
        "the probabilities of classes_ in their order, summing to 1"
        if method == "proba"
        else "the logs of the probabilities of classes_ in their order (their exp summing to 1)"
    )
    expected = (
        f"{name}.{method}() must return a float numpy array of shape (n_samples, "
        f"{n_classes}), each row {what}; "
    )
    if not isinstance(proba, np.ndarray) or proba.ndim != 2 or proba.shape[1] != n_classes:
        columns = "[1 - p, p]" if method == "proba" else "[np.log1p(-p), np.log(p)]"
        hint = (
            f"for two classes, return np.column_stack({columns}) with p the second "
            "class's probability"
            if n_classes == 2 and np.ndim(proba) == 1
            else "one column per class"
        )
        raise ValueError(f"{expected}it returned {_describe(proba)} ({n} rows): {hint}.")
    with np.errstate(invalid="ignore", over="ignore"):
        values = proba if method == "proba" else np.exp(proba)
        total = values.sum(axis=1)
        valid = np.all(values >= 0) and np.allclose(total, 1.0, rtol=0.0, atol=1e-6)
    if not valid:
        raise ValueError(
            f"{expected}its rows sum to {total.min():.6g}..{total.max():.6g}, and its "
            f"smallest value is {np.min(values):.6g}."
        )
    return proba


# The peak a fresh optimizer's trial gradient is scaled to when its direction is judged
# (see _check_descends): far above any noise an optimizer adds at a step of at most 1
_LOUD = 1e6


def _check_optimizer(optimizer, params, grads, step):
    name = type(optimizer).__name__
    trial = copy.deepcopy(optimizer)  # its state (momenta) stays as it was
    start, params = params, [param.copy() for param in params]
    shapes = [param.shape for param in params]
    fresh = not any(getattr(optimizer, "state_", None) or ())  # (no momentum of earlier steps)
    if type(optimizer).step is Optimizer.step:
        # The base step subtracts whatever update returns: check that, before
        # numpy broadcasts a wrong shape to every coefficient.
        states = getattr(trial, "state_", [{} for _ in params])
        for grad, state in zip(grads, states, strict=False):
            try:
                update = trial.update(grad, state, step)
            except Exception as error:
                raise ValueError(
                    f"{name}.update() raised {type(error).__name__}: {error}, given a "
                    f"gradient of shape {grad.shape}; it must return the step to subtract "
                    "from the parameters, an array of the gradient's shape."
                ) from error
            if update is None or np.shape(update) != grad.shape:
                raise ValueError(
                    f"{name}.update() must return the step to subtract from the parameters, "
                    f"a numpy array of the gradient's shape {grad.shape}; it returned "
                    f"{'None' if update is None else _describe(np.asarray(update))}."
                )
            _check_finite(name, "update()", np.asarray(update, dtype=float))
        if fresh:
            _check_descends(optimizer, name, start, grads, step)
        return
    try:
        returned = trial.step(params, grads, step)
    except Exception as error:
        raise ValueError(
            f"{name}.step() raised {type(error).__name__}: {error}, given parameter arrays "
            f"of shapes {shapes}; it must update each array in place."
        ) from error
    if [param.shape for param in params] != shapes:
        raise ValueError(
            f"{name}.step() must update the parameter arrays in place, keeping their "
            f"shapes {shapes}."
        )
    for param in params:
        _check_finite(name, "step()", param)
    _check_moved(name, returned, trial, params, start, grads)
    if fresh:
        _check_descends(optimizer, name, start, grads, step)


def _check_descends(optimizer, name, params, grads, step):
    """Refuse a fresh optimizer whose first step climbs the gradient: a sign error.

    An update written to be added, as optax's are (``-learning_rate *
    grad``), climbed the loss: diabetes at R² -4.3, breast cancer at an
    accuracy of 0.08, after 64 to 81 epochs and a warning to lower the
    learning rate. A trial step on copies, of the gradients scaled to a
    peak of ``_LOUD`` (so that noise an optimizer adds, as Langevin
    dynamics' does, cannot decide: judged on the gradients as they are, a
    review's SGLD of one feature was refused at 9 seeds of 20), is refused
    where it points more than 120 degrees from them (cosine under -1/2): a
    descent's first step, however it is scaled or signed coordinate by
    coordinate (Adam's, Lion's), points along the gradient. Where the loud
    trial raises or overflows (a float16 state; an update that gives up on
    huge gradients), the gradients as they are judge; no verdict where both
    do. Not once the optimizer has a state, whose momentum may point anywhere.
    """
    peak = max((float(np.max(np.abs(grad), initial=0.0)) for grad in grads), default=0.0)
    if not (0.0 < peak < np.inf):
        return
    # (loud first, then as they are: a review's four sign errors, in optimizers that
    # overflow, return NaN or raise on huge gradients, trained up the loss)
    for scale in (_LOUD / peak, 1.0):
        cosine = _trial_cosine(optimizer, params, [grad * scale for grad in grads], step)
        if cosine is not None:
            break
    if cosine is None or not cosine < -0.5:
        return
    advice = (
        "skgd subtracts what update() returns (param <- param - update), so plain descent "
        "returns learning_rate * grad; an update written to be added (optax's convention, "
        "-learning_rate * grad) has the opposite sign"
        if type(optimizer).step is Optimizer.step
        else "plain descent moves each array against its gradient: param -= learning_rate * grad"
    )
    what = "update() returns" if type(optimizer).step is Optimizer.step else "step() takes"
    raise ValueError(
        f"{name}.{what} a step up the gradient on its first step (the loss rises along "
        f"it): {advice}."
    )


def _trial_cosine(optimizer, params, grads, step):
    """The cosine of a copy's first step on ``grads`` with them; None if it raises or overflows."""
    trial = copy.deepcopy(optimizer)
    try:
        if type(optimizer).step is Optimizer.step:
            states = getattr(trial, "state_", [{} for _ in params])
            steps = [
                np.asarray(trial.update(grad, state, step), dtype=float)
                for grad, state in zip(grads, states, strict=False)
            ]
        else:
            moved = [param.copy() for param in params]
            trial.step(moved, grads, step)
            steps = [before - param for param, before in zip(moved, params, strict=True)]
        with np.errstate(all="ignore"):
            dot = sum(float(np.sum(s * g)) for s, g in zip(steps, grads, strict=False))
            size = math.sqrt(sum(float(np.sum(s * s)) for s in steps))
            norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
            cosine = dot / (size * norm)
    except Exception:
        return None
    return cosine if math.isfinite(cosine) else None


def _check_proximal(optimizer, params, grads, step):
    """Warn if L1's proximal step will not take the step a user's update gives the gradient.

    L1's soft-thresholding ends at L1's optimum only if its step is the one
    the update gave the current gradient (:meth:`skgd.optim.Optimizer.proximal_step`).
    An update of one's own that divides by a running size (an RMSprop or an
    Adam variant) under the plain step's threshold ended 15-47% above the
    optimum's objective on breast cancer, with every coefficient non-zero
    where the optimum has 9, and converged, silently. Judged on a trial
    update of the coefficients' gradient, on a copy: of ``update()``, or of
    a ``step()`` of one's own, on copies of the parameters (the same
    RMSprop written as ``step()`` took the plain threshold too: 46% above
    the optimum's objective, 29 coefficients non-zero, and only the stop
    criterion's warning, which says to lower tol).
    """
    trial = copy.deepcopy(optimizer)
    cls = type(optimizer)
    own = _own_proximal_step(cls)
    stepped = cls.step is not Optimizer.step
    # A state that carries past gradients (momentum) steps as the plain step at first
    # only: a second trial step tells, unless the class takes L1's pull into its state
    # (proximal_moved; a heavy ball of one's own without it ended 49% above the optimum)
    told = own and cls.proximal_moved is not Optimizer.proximal_moved
    # (a step of one's own is tried at zero parameters: a decay of them it adds, which
    # L1's threshold need not follow, moves nothing there; from a warm start's
    # coefficients a decoupled weight decay read as another step, a review)
    grad, copies = grads[0], [np.zeros_like(param) for param in params]
    states = getattr(trial, "state_", None)
    state = states[0] if states else {}
    for second in (False,) if told else (False, True):
        try:
            if stepped:  # (the coefficients' move: the loop's threshold follows it)
                before = copies[0].copy()
                # (copies: a step of one's own may write into its gradients too)
                trial.step(copies, [np.array(g, copy=True) for g in grads], step)
                update = before - copies[0]
                states = getattr(trial, "state_", None)  # (as the loop's threshold reads it)
                state = states[0] if states else {}
            else:
                update = trial.update(grad, state, step)
            update = np.asarray(update, dtype=float)
            gain = np.asarray(trial.proximal_step(state, step) if own else step, dtype=float)
        except Exception:
            return  # (what raises, _check_optimizer has named)
        moved = (grad != 0) & np.isfinite(update) if update.shape == grad.shape else None
        if moved is None or not moved.any():
            return
        taken = update[moved] / grad[moved]  # the step each coordinate's gradient got
        gain = np.broadcast_to(gain, grad.shape)[moved]
        if not np.all(np.abs(taken - gain) <= 0.01 * np.abs(gain)):
            carried = second  # (the first step took L1's: the state's past gradients not)
            break
    else:
        return
    name = type(optimizer).__name__
    if carried:
        # (a user trial: a heavy ball was told to write proximal_step, whose default
        # was right; proximal_moved alone trains it as the built-in momentum)
        advice = (
            f"its state carries past gradients, and not L1's: write {name}.proximal_moved "
            "to take L1's move into it (see skgd.optim.Optimizer.proximal_moved)"
        )
        when = " on its second step"
    else:
        advice = (
            f"write {name}.proximal_step to return the step your update gives the current "
            f"gradient, and, if its state carries past gradients, {name}.proximal_moved "
            "(see skgd.optim.Optimizer.proximal_step)"
        )
        when = ""
    warn(
        f"{name}.{'step' if stepped else 'update'}() gave the gradient steps of "
        f"{taken.min():.3g} to {taken.max():.3g} times it{when}, where L1's proximal step "
        f"takes {np.min(gain):.3g} (the learning rate, unless {name}.proximal_step says "
        "otherwise): with an L1 penalty, training will not end at its optimum; "
        f"{advice}.",
        UserWarning,
    )


def _check_moved(name, returned, trial, params, start, grads):
    """Refuse a step that returned new arrays and moved nothing; warn of one that moved nothing.

    The loop keeps the arrays it passes and ignores what ``step`` returns:
    a step that returns new arrays (``p - lr * g``), or rebinds its loop
    variable (``p = p - lr * g``), would train nothing, and ``fit`` would
    return the random initial model without a word. The first is certain,
    and refused; the second looks like an optimizer that accumulates
    gradients over several steps before it moves, and is warned of. Where
    every gradient is 0, a step of 0 is right.
    """
    if not any(np.any(grad != 0) for grad in grads):
        return
    if any(not np.array_equal(param, before) for param, before in zip(params, start, strict=True)):
        return
    advice = (
        "step() must update each array of params in place (param -= ..., or "
        "param[...] = ...; param = param - ... makes a new array)"
    )
    if returned is not None and returned is not trial:
        raise ValueError(
            f"{name}.step() moved no parameter in a trial step before training, although the "
            f"gradients are not zero (it returned {_describe(returned)}, which the training "
            f"loop ignores): training would keep the initial model. {advice}."
        )
    warn(
        f"{name}.step() moved no parameter in a trial step before training, although the "
        f"gradients are not zero. If it does not move until later steps (it accumulates "
        f"gradients), this warning can be ignored; otherwise training will keep the initial "
        f"model: {advice}.",
        UserWarning,
    )


def _check_finite(name, method, values):
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"{name}.{method} gave NaN or infinite parameters on its first step, from "
            "finite gradients; check its formula (a division by a zero state?)."
        )
