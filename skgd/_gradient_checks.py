"""A user's loss and gradient on the rows: finite where the loss is, and of its slope.

:mod:`skgd._checks` judges what a user's loss returns on the first rows
before training; here, the loss and its gradient on a sample of the rows
at their targets' median (:func:`_check_finite_on_sample`: a loss NaN on a
few targets, a gradient not finite where the loss is, or off the loss's
slope by finite differences), and on each batch in training
(:func:`check_user_gradient`, which :class:`skgd._objective.Objective`
calls for a user's loss). Each error names the row's target and
prediction.
"""

import math

import numpy as np

# The training loop's floating-point settings: overflow shows as infinity,
# which the checks and the loop report in their own words.
_AS_IN_TRAINING = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}
# The rows a check samples at most (evenly spaced), as the statistics before training do
_SAMPLE_ROWS = 10_000
# The gradient is compared with the loss's slope by finite differences on this many
# of the sampled rows (2 evaluations of the loss an output)
_SLOPE_ROWS = 1000
# Gradient-to-slope factors this far apart (or from 1) are a gradient of another loss
_FACTOR_APART = 1.1


def _at_first_nan(values, Y, raw):
    """Where the first NaN of ``values`` (a row a sample) is: its row's target and prediction."""
    i = int(np.flatnonzero(np.isnan(values.reshape(len(values), -1)).any(axis=1))[0])
    return f"at y_true={np.asarray(Y[i]).tolist()} and raw_prediction={np.asarray(raw[i]).tolist()}"


def _check_finite_on_sample(loss, Y, n_outputs, single, dtype):
    """A loss NaN, or :func:`check_user_gradient`, on a sample of the rows at their targets' median.

    The statistics before training (the loss's scale, its best constant)
    take the gradient on every row: a NaN on a few rows there set a step
    that sent the first batches' predictions to 1e24; a loss NaN on a few
    targets was reported at epoch 4 as a divergence. Evenly spaced rows,
    at most ``_SAMPLE_ROWS``, as those statistics sample them.
    """
    Y = Y[:: max(1, len(Y) // _SAMPLE_ROWS)]
    raw = np.empty((len(Y), n_outputs), dtype=dtype)
    raw[...] = np.median(Y, axis=0)  # (a number, or one a column of 2-D targets)
    raw = raw[:, 0] if single else raw
    evaluated = _loss_and_gradient(loss, Y, raw)
    if evaluated is None:
        return
    losses, gradient = evaluated
    nan = np.isnan(losses)
    if nan.any():  # (at a prediction of the targets' own range: no step took it there)
        name = type(loss).__name__
        raise ValueError(
            f"{name}.loss() returned NaN {_at_first_nan(losses, Y, raw)} (on "
            f"{int(nan.sum())} of {len(Y)} rows checked, at the targets' median), before any "
            "training step: check its formula and domain for these targets."
        )
    ones = np.ones(len(Y))
    check_user_gradient(loss, Y, raw, losses, gradient, ones, before_training=True)
    rows = slice(None, None, -(-len(Y) // _SLOPE_ROWS))
    with np.errstate(**_AS_IN_TRAINING):
        at_median = _check_slopes_alike(loss, Y[rows], raw[rows], losses[rows], gradient[rows])
        _check_one_factor(loss, at_median, _check_slopes_apart(loss, Y[rows], raw[rows]))


def _check_slopes_apart(loss, Y, raw):
    """:func:`_check_slopes_alike` again, each row at a prediction of its own about the median.

    Classes' targets take two values (or one a class), and at one prediction
    for every row they make two rows: a classifier's gradient off by a
    factor of the prediction (``1 + |raw|``, or of the spread of a row's
    predictions) was one factor there, and trained another model (a user
    trial: coefficients 16% and 17% from the right ones, breast cancer and
    the digits). Predictions spread over two of the targets' deviations
    each side (over 2, for targets of no spread), a fixed draw.
    """
    unit = float(np.std(np.asarray(Y, dtype=float)))
    unit = unit if np.isfinite(unit) and unit > 0 else 1.0
    offsets = np.random.RandomState(0).uniform(-2.0, 2.0, size=np.shape(raw)) * unit
    apart = (raw + offsets).astype(raw.dtype, copy=False)
    evaluated = _loss_and_gradient(loss, Y, apart)
    if evaluated is not None:
        return _check_slopes_alike(loss, Y, apart, *evaluated)
    return None


def _loss_and_gradient(loss, Y, raw):
    """A user's loss and gradient at ``raw``, in float64, a row each; None if not so.

    What they raise, or return in the wrong shape, the other checks and
    training meet, in their own words. The losses are a copy (see
    :func:`_check_slopes_alike`), the gradient a row a sample.
    """
    try:
        losses = np.array(loss.loss(Y, raw), dtype=float)
        gradient = np.asarray(loss.gradient(Y, raw), dtype=float).reshape(len(Y), -1)
    except Exception:
        return None
    if losses.shape != (len(Y),) or gradient.shape != (len(Y), raw.reshape(len(Y), -1).shape[1]):
        return None
    return losses, gradient


def _check_slopes_alike(loss, Y, raw, losses, gradient):
    """Raise if the gradient is off the loss's slope by a factor that varies; else the factor.

    Each row's slope by one-sided finite differences, an output at a time
    (a row's loss depends on its own predictions alone). A factor that
    varies trains another model: a squared error whose gradient is ten
    times too large on one side of the target, whose sign every check
    passed, ended at R² -0.06 on diabetes (0.36 exact). So does one
    constant factor k, though the step is measured on the gradient: the
    steps minimize k times the loss beside the penalty, alpha/k in effect
    (a user trial: a log loss's gradient times 1e-6 at the default alpha
    trained the model of alpha=100, breast cancer's training log loss 0.64
    where 0.05, silently). Factors within ``_FACTOR_APART`` of each other
    (and of 1, :func:`_check_one_factor`) pass: the finite differences' own
    error is far below it. Returns the least and largest factors and where
    the largest is, or None. Rows at a kink (the sides' slopes apart), or
    where the slope is lost in the loss's rounding, are not judged.
    """
    n = len(losses)
    # in float64 (a float32 prediction would round a step of 1e-8 away)
    raw2 = np.asarray(raw, dtype=float).reshape(n, -1)
    ratios, where, slopes = [], [], []
    try:
        losses = loss.loss(Y, raw2.reshape(raw.shape))
    except Exception:
        return
    # A loss computed in float32 rounds at 1e-7 of its value: steps and noise in its
    # precision (a correct float32 log-cosh was told its gradient does not match)
    eps = values_eps(losses)
    losses = np.array(losses, dtype=float)
    size = np.abs(raw2)
    Y2 = np.asarray(Y, dtype=float).reshape(n, -1)
    in_float32 = eps > np.finfo(float).eps

    def on_grid(points):  # (float32's points, where a loss that rounds its inputs is exact)
        return points.astype(np.float32).astype(float) if in_float32 else points

    if in_float32:
        if Y2.shape == raw2.shape:
            # float32's step sized by the residual where it is the smaller: a step of
            # sqrt(eps) |raw| at predictions of 1e3 (targets near 1e3 + 100) made the two
            # sides' slopes of a squared error differ by 0.4%, taken for a kink (a
            # review: a gradient ten times too large on one side went through)
            size = np.minimum(size, np.abs(raw2 - Y2))
        # the points on float32's grid, the steps as taken there, at least 64 of its
        # spacings (a loss that casts its input rounded a step of one spacing by 30%)
        raw2 = on_grid(raw2)
        try:
            losses = np.array(loss.loss(Y, raw2.reshape(raw.shape)), dtype=float)
        except Exception:
            return
    h = np.sqrt(eps) * np.maximum(1.0, size)
    if in_float32:
        h = np.maximum(h, 64 * eps * np.abs(raw2))
    noise = 100 * eps * (np.abs(losses)[:, None] + 1.0) / h
    # Slopes judged where a hundred roundings of the loss err by 1e-3 of them (float32's
    # step, the square root of its epsilon, is long enough for that), 1e-5 in float64
    margin = 1e3 if eps == np.finfo(float).eps else 10.0
    # Two sides' slopes this far apart are a kink's: a smooth loss's sides differ by its
    # step times its curvature, up to a few percent of the slope at float32's longer step
    # (a kink's sides differ by all of it: the absolute error's -1 and 1)
    apart = 3e-2 if in_float32 else 1e-3
    for k in range(raw2.shape[1]):
        step = np.zeros_like(raw2)
        step[:, k] = h[:, k]
        above, below = on_grid(raw2 + step), on_grid(raw2 - step)
        try:
            # (copies, as losses above: a loss may return a buffer it writes into again)
            up = np.array(loss.loss(Y, above.reshape(raw.shape)), dtype=float)
            down = np.array(loss.loss(Y, below.reshape(raw.shape)), dtype=float)
        except Exception:
            return
        with np.errstate(divide="ignore", invalid="ignore"):  # (a step rounded to 0: NaN)
            right = (up - losses) / (above[:, k] - raw2[:, k])
            left = (losses - down) / (raw2[:, k] - below[:, k])
        slope, g = (right + left) / 2, gradient[:, k]
        sides = np.abs(right - left) <= apart * np.maximum(np.abs(right), np.abs(left))
        # (a gradient of 0 where the loss has a slope is judged too: ratio 0)
        # (a gradient not finite is check_user_gradient's to name, in training if not here)
        judged = sides & (np.abs(slope) > margin * noise[:, k]) & np.isfinite(slope)
        judged &= np.isfinite(g)
        ratios.append(g[judged] / slope[judged])
        slopes.append(slope[judged])
        where.append(np.column_stack([np.flatnonzero(judged), np.full(judged.sum(), k)]))
    ratios, where, slopes = np.concatenate(ratios), np.concatenate(where), np.concatenate(slopes)
    if len(ratios) == 0:
        return
    name = type(loss).__name__
    high, low = int(np.argmax(ratios)), int(np.argmin(ratios))

    def at(i):
        row, k = where[i]
        prediction = raw2[row].tolist()
        prediction = prediction[0] if len(prediction) == 1 else prediction
        place = f"y_true={np.asarray(Y[row]).tolist()}, raw_prediction={prediction}"
        return f"{gradient[row, k]:.4g} at {place}, where the slope is {slopes[i]:.4g}"

    if ratios[low] <= 0:  # (on rows the first ones' sign check did not see)
        raise ValueError(
            f"{name}.gradient() must return d loss_i / d raw_prediction_i; it has the wrong "
            f"sign, or 0, on some rows: {at(low)} (finite differences of loss()): check "
            "the gradient's formula there."
        )
    if ratios[high] > _FACTOR_APART * ratios[low]:
        raise ValueError(
            f"{name}.gradient() does not match {name}.loss(): {at(high)}, and {at(low)} "
            f"(finite differences): {ratios[high]:.3g} and {ratios[low]:.3g} times the "
            "slope. A gradient off by a factor that varies from row to row trains another "
            "model: check gradient()'s formula."
        )
    return ratios[low], ratios[high], at(high)


def _check_one_factor(loss, *factors):
    """Raise if the gradient's factors on the slope (:func:`_check_slopes_alike`'s) are not 1.

    Checked once the rows at the median and apart passed, so that a factor
    of the prediction is named as one that varies (at one prediction for
    every row it is one number).
    """
    factors = [f for f in factors if f is not None]
    if not factors:
        return
    low, high = min(f[0] for f in factors), max(f[1] for f in factors)
    factor, where = math.sqrt(low * high), max(factors, key=lambda f: f[1])[2]
    if _FACTOR_APART * factor >= 1.0 and factor <= _FACTOR_APART:
        return
    name = type(loss).__name__
    raise ValueError(
        f"{name}.gradient() is {factor:.3g} times the slope of {name}.loss() on every "
        f"row checked ({where}; finite differences). Training steps along the "
        f"gradient, so it would minimize {factor:.3g} times your loss beside the penalty "
        f"as set (alpha in effect divided by {factor:.3g}), while the stop criterion and "
        "loss_curve_ read loss(): return d loss_i / d raw_prediction_i of loss() itself "
        "(a loss of 0.5 * r**2 has the gradient r), or scale both alike."
    )


def values_eps(values):
    """Machine epsilon of what a loss returned: float32's (or float16's), else float64's."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
        return float(np.finfo(dtype).eps)
    return float(np.finfo(float).eps)


def check_user_gradient(loss, Y, raw, losses, gradient, weights, before_training=False):
    """Raise ValueError if a user's gradient is not finite on a row where its loss is.

    Called on each batch of a user's loss (``gradient`` as the loop shaped
    it, a row a sample), and ``before_training`` on a sample of the rows.
    Such a gradient puts NaN into the coefficients, and the next batch's
    loss showed it as a divergence, whose advice (a smaller learning rate,
    after the fit had gone back three times with shorter steps) cannot
    help: the formula is wrong at those values. The derivative of a loss
    finite at a finite prediction is a number (at a cusp, any value
    between its sides'). Rows of weight 0 count for nothing, as in training.
    """
    finite = np.isfinite(gradient)
    if finite.all():
        return
    n = len(gradient)
    wrong = ~finite.all(axis=1) & np.isfinite(losses) & (weights != 0)
    wrong &= np.isfinite(raw.reshape(n, -1)).all(axis=1)
    if not wrong.any():
        return
    i = int(np.flatnonzero(wrong)[0])
    name = type(loss).__name__
    rows, stopped = (
        (f"{n} rows checked", "Training did not start.")
        if before_training
        else (f"this batch's {n} rows", "Training stopped before taking that step.")
    )
    raise ValueError(
        f"{name}.gradient() returned {gradient[i].tolist()} on a row where {name}.loss() is "
        f"finite ({float(losses[i]):.6g}, at y_true={np.asarray(Y[i]).tolist()} and "
        f"raw_prediction={np.asarray(raw[i]).tolist()}; so on {int(wrong.sum())} of {rows}). "
        "The derivative of a finite loss is a number (at a cusp, any value between "
        f"its sides'): check gradient()'s formula at these values. {stopped}"
    )
