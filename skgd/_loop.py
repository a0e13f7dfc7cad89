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
"""

import functools
import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import _draws, _kernel, _passes
from ._objective import batch_curvature
from ._stopping import better, check_diverging, diverged_error
from .optim import SGD, Momentum, Optimizer, invscaling

# The "adaptive" schedule grows the batch by this factor at a plateau, or
# at the whole data divides the step by this one, at this many plateaus at most.
_BATCH_GROWTH = 4
_STEP_DIVISION = 5.0
_ROUNDING = 1e-9
_RECOVERIES = 3
_PLATEAUS = 8
_MANY_BATCHES = 100
_SHORT_PATIENCE = 2
# Exact descent's step search (:class:`StepSearch`):
_BACKOFF = 2.0  # a rise halves the step
_GROWTH = 1.1  # after the doubling, the growth at each fall ...
_CALM = 5  # ... once this many epochs in a row have fallen
_LONGEST = 1e6  # times γ/L at most: separable classes fall at any step
_WORTH = 0.01  # times tol: a doubled step falling less is no search worth waiting for
# A stream's step shrinks by the factor the fit's batch grows by, at its plateaus,
# and grows back by it (:class:`StreamStep`): |D|² / the sum of |move|² below this
# is a plateau, above that a walk away; a phase lasts at most this many times the
# rows a step takes to reach its floor
_STREAM_DIVISION = float(_BATCH_GROWTH)
_STREAM_STILL = 0.5
_STREAM_AWAY = 16.0
_STREAM_PHASE = 16
_STAIRS = 16  # the last epoch's steps, when a fit runs out of epochs among batches ...
_FLAT = 0.01  # ... at its noise floor: an epoch gained less than this share of the loss
# The intercept's curvature, the objective's less L2's, is measured apart below this share
# of it (the difference would keep fewer than about 6 of the data's 16 digits)
_DIGITS_KEPT = 1e-6


@dataclass
class TrainingState:
    """What training changes and a later call continues."""

    V: np.ndarray  # (n_outputs, n_features), the standardized coefficients
    c: np.ndarray  # (n_outputs,), the standardized intercepts
    optimizer: object
    rng: np.random.RandomState
    t: int = 0  # updates so far
    loss_curve: list = field(default_factory=list)
    # Averaged SGD: after ``average_from`` samples, the mean of the iterates
    seen: int = 0  # samples seen so far
    average_from: float = np.inf
    V_average: np.ndarray = None
    c_average: np.ndarray = None
    n_averaged: int = 0

    # a stream's "adaptive" schedule (partial_fit calls), :class:`StreamStep`
    stream: object = None
    # A stream's call: ``objective.to_model(V, c)`` as the call left them, which its
    # divergence check computed (the estimator reports it without a second conversion).
    in_model_units: tuple = None

    def __post_init__(self):
        if self.stream is None:
            self.stream = StreamStep()
        if self.V_average is None:
            self.V_average, self.c_average = np.zeros(self.V.shape), np.zeros(self.c.shape)

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


def train(objective, state, X, Y, sample_weight, settings, *, single, validate=None, on_epoch=None):
    """Run the course's loop on ``state``, in place; return what happened.

    ``single`` says whether the loss sees 1-D targets and raw predictions.
    ``validate(V, c)``, for early stopping, returns the held-out score and
    loss; the loop then stops on the score and keeps the best parameters.
    ``on_epoch(epoch, state, epoch_loss)``, if given, is called at the end
    of each epoch (the estimators' callbacks, :mod:`skgd._callbacks`).
    """
    n_samples = X.shape[0]
    batch_size = settings.batch_size
    # the course's γ, as a fraction of the largest stable step 1/L
    rate = settings.learning_rate
    stable_step = _largest_stable_step(settings, n_samples, batch_size, state.optimizer)
    # each batch: an unbiased gradient (the mean as np.mean takes it, without its overhead;
    # a row's weight is its sum, a number: see _sum)
    total = _sum(sample_weight) if n_samples == 1 else sample_weight.sum()
    weights = sample_weight / (total / n_samples)
    # the batch steps compiled, for built-in losses and optimizers; else numpy's
    # a stream's "adaptive" schedule: a shorter step at each of its plateaus
    streams = not settings.stop and settings.schedule == "adaptive"
    stream_step = state.stream.fraction if streams else 1.0
    # a stream's call of a loss with a link: each batch's step no longer than the
    # loss's curvature where the model is allows (see Objective.step_cap)
    capped = not settings.stop and objective.largest_curvature is not None
    momentum = None  # the optimizer's own, while a stream's call runs damped (see _damped)
    # (a call of one batch takes a single step: no swing within it to damp, and
    # its momentum's longer first step is what carries a stream of such calls)
    damps = not settings.stop and settings.curvature is not None and batch_size < n_samples
    if damps and isinstance(state.optimizer, Momentum):
        first = _scheduled(rate, settings, state.t + 1) * stream_step * stable_step
        momentum = _damped(state.optimizer, first * objective.largest_l2)
    kernel = _kernel.plan(objective, state.optimizer, X, Y, single, settings.fit_intercept)
    if capped:  # each batch's step capped where the batches before it left the model
        kernel = _CappedRun(kernel, objective, stable_step, Y, single, settings.fit_intercept)
    first_t, first_epoch = state.t, len(state.loss_curve)
    n_params = state.V.size + state.c.size
    rounding = _rounding(X.dtype)
    # tol=None runs every epoch, yet the "adaptive" schedule still adapts
    tol, stops = (_ROUNDING, False) if settings.tol is None else (settings.tol, True)
    plateaus = 0  # seen by the "adaptive" schedule
    best, kept, no_improvement, converged = None, None, 0, False
    last = None  # the last epoch's progress
    stage_best = None  # the best progress of the last stage of the "adaptive" schedule
    stage_noise = None  # and its step / batch size, which sets its noise floor
    lowest = None  # (loss, V, c) of the exact epoch with the lowest training loss
    # the "adaptive" schedule's exact descent, in fit: its step follows the loss
    # (not for early stopping, which wants the best held-out score, not the
    # optimum; not without standardization, where γ is the user's own step;
    # not for averaging, which wants the iterates of one step)
    adapts = settings.schedule == "adaptive" and settings.stop and validate is None
    adapts = adapts and settings.curvature is not None and state.average_from == np.inf
    # (a stream's call, one epoch without a stop criterion, searches nothing)
    search = StepSearch(_LONGEST * settings.learning_rate) if settings.stop else None
    searching = False
    # A fit that reaches max_iter among batches, at the batches' noise floor,
    # ends its last epoch's steps falling by stairs: the model returned then
    # sits below that noise, not wherever the last step threw it (as averaging
    # would, without averaging's other epochs; not for averaging, which wants
    # the iterates of one step). Stairs, not a line: lazy momentum on sparse X
    # maps a column's untouched steps one run of equal steps at a time.
    anneals = settings.schedule == "adaptive" and settings.stop and state.average_from == np.inf
    # the same over all epochs (at first, the start), and recoveries from divergence
    # (only fit recovers: a stream's call, one epoch, needs no copy of its start)
    start = (state.V.copy(), state.c.copy()) if settings.stop else (None, None)
    safest, recoveries = (np.inf, *start), 0
    # copies of V that neither safest nor lowest holds any more, to reuse (the
    # start's too: on wide data a new array costs the system's zeroing of its pages)
    spares = [safest[1]] if settings.stop else []

    def recoverable():
        """Whether a divergence of this fit is the measured step's fault, and can be undone."""
        standardized = settings.curvature is not None  # else γ is the user's step
        return settings.stop and standardized and recoveries < _RECOVERIES

    validation_scores = []
    if settings.verbose:
        print(_log_header(validate is not None))

    # Overflow is how divergence shows: every batch loss and each epoch's
    # parameters are checked, and a clear error is raised instead.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, settings.max_epochs + 1):
            tic = time.perf_counter()
            # where the epoch starts, kept (V is copied there below, with its
            # penalty: the epoch's first loss)
            at_start = (_spare(state.V, spares, safest, lowest), state.c.copy())
            order = _epoch_order(settings.shuffle, state.rng, n_samples, batch_size)
            n_batches = -(-n_samples // batch_size)
            steps = [
                _scheduled(rate, settings, state.t + k) * stream_step * stable_step
                for k in range(1, n_batches + 1)
            ]
            if anneals and epoch == settings.max_epochs and batch_size < n_samples:
                if _at_noise_floor(state.loss_curve[first_epoch:]):
                    steps = _annealed(steps, getattr(state.optimizer, "noise_gain", 1.0))
            # The intercept is not penalized: its step leaves out L2's curvature.
            c_ratio = _intercept_ratio(
                settings, objective, stable_step, n_samples, batch_size, state.optimizer
            )
            if kernel is not None:  # the same batch steps, compiled
                # (copying V to at_start, taking its penalty and checking V after
                # on the way: on wide data, in the lazy kernels' last pass over V)
                sweep, penalty, finite = kernel.run(
                    state, X, weights, order, batch_size, steps, c_ratio, at_start[0]
                )  # fmt: skip
            else:
                penalty = objective.penalty(state.V, copy_to=at_start[0])
                sweep = descend(
                    objective, state, X, Y, weights, order, batch_size, steps, c_ratio, single,
                    settings.fit_intercept,
                )  # fmt: skip
                finite = None
            epoch_loss, done, first_loss, failed = sweep
            state.t += done
            rate_t = steps[max(done - 1, 0)] / stable_step
            if done < n_batches:  # a batch's loss overflowed: diverging
                if state.t == first_t or not recoverable():
                    raise diverged_error(
                        epoch, failed, before_any_step=state.t == first_t, loss=objective.loss
                    )
                epoch_loss = np.inf  # recovered below
            epoch_loss = epoch_loss / n_samples + penalty
            finite = finite if finite is not None else _passes.all_finite(state.V)
            finite = finite and _passes.all_finite(state.c)
            try:
                if not (math.isfinite(epoch_loss) and finite):  # (a number: math's test)
                    raise diverged_error(epoch, epoch_loss, loss=objective.loss)
                if settings.stop:
                    slack = float(np.sum(objective.loss_scale))
                    curve = state.loss_curve[first_epoch:] + [epoch_loss]
                    check_diverging(curve, epoch, slack, loss=objective.loss)
            except ValueError:
                if not recoverable():
                    raise
                # The step was measured where training started; a loss whose
                # curvature grows as the model moves (Poisson's) outgrew it.
                # Back to the lowest epoch so far, with a step 5 times shorter.
                state.V[...], state.c[...] = safest[1:]
                state.optimizer.restart()
                _forget(kernel)
                rate /= _STEP_DIVISION
                recoveries += 1
                search = StepSearch(search.longest, doubling=False)
                continue
            if epoch_loss < safest[0]:
                safest = (epoch_loss, *at_start)
            exact = batch_size == n_samples  # then the epoch's loss is that of at_start
            # (by more than X's rounding, so that weights and repeated rows, and
            # the compiled and numpy sums, decide alike)
            rose = len(state.loss_curve) > first_epoch and (
                epoch_loss - state.loss_curve[-1] > rounding * objective.reference_loss
            )
            if rose and exact:
                state.optimizer.restart()  # exact descent rose: momentum overshot
            state.loss_curve.append(float(epoch_loss))
            if exact and (lowest is None or epoch_loss < lowest[0]):
                lowest = (epoch_loss, *at_start)
            hopeless = False  # see below
            if exact and adapts:
                fall, doubled = search.last - epoch_loss if search.started else 0.0, search.doubling
                # The bound L holds everywhere; where the model is, the curvature
                # is often far lower (a logistic loss flattens as the classes
                # separate), and exact descent can follow it.
                rate, back, searching = search.update(
                    epoch_loss, rate, rounding * objective.reference_loss,
                    _WORTH * tol * objective.reference_loss,
                )  # fmt: skip
                # Along a descent direction the loss is convex in the step, so
                # twice the step gains at most twice as much. A fall so small that
                # the doublings of the next n_iter_no_change epochs (2 + 4 + ...),
                # times the momentum's gain, would still not reach tol, shows the
                # plateau now.
                if doubled and search.doubling and not searching and fall > 0:
                    window = (2.0 ** (settings.n_iter_no_change + 1) - 2.0) * getattr(
                        state.optimizer, "noise_gain", 1.0
                    )
                    hopeless = fall * window <= tol * objective.reference_loss
                if back:  # to the lowest point, with a shorter step
                    state.V[...], state.c[...] = lowest[1:]
                    _forget(kernel)
            # A fit is judged on its epochs (above), a stream's call on its first
            # batch. A batch near its targets (one row of a kinked loss, which a
            # stable step can carry past its target) is judged against the
            # loss of the best constant on it: the rise of a diverging step
            # is many times that, a stable step's never.
            if not settings.stop:
                batch = X, Y, weights  # (a batch of every row takes them in order: no copies)
                if batch_size < n_samples:
                    idx = order[:batch_size]
                    batch = X[idx], Y[idx], weights[idx]
                model = objective.to_model(state.V, state.c)
                after = objective.batch_loss(*batch, state.V, state.c, single, model)
                batch_weight = _sum(batch[2])
                floor = objective.reference_loss * batch_weight
                # (and, as fit's epochs, a unit residual's loss of slack: the first
                # call of a one-row stream starts at that row's own best constant,
                # a loss of 0, which Adam's first step, of a fixed length whatever
                # the gradient, leaves by a unit's fraction)
                slack = _sum(objective.loss_scale) * batch_weight
                check_diverging(
                    [first_loss, after], epoch, slack=slack, floor=floor, loss=objective.loss
                )
            if streams:  # how far this call moved, for the stream's schedule
                move = np.concatenate([(state.V - at_start[0]).ravel(), state.c - at_start[1]])
                state.stream.observe(move, n_params, n_samples)

            # the stop criterion, in units of the best constant model's loss
            if validate is not None:
                score, validation_loss = validate(*state.model())
                validation_scores.append(score)
                # A coarse score (accuracy on few samples) can stall while the
                # model still learns; the validation loss shows that progress.
                progress = (score, -validation_loss / objective.reference_loss)
                if kept is None or better(progress, kept[0], tol):
                    kept = (progress, state.V.copy(), state.c.copy())
                    kept += (state.V_average.copy(), state.c_average.copy(), state.n_averaged)
            else:
                progress = (-epoch_loss / objective.reference_loss,)
            if settings.verbose:
                print(_log_row(len(state.loss_curve), epoch_loss, validation_scores, rate_t, tic))
            if on_epoch is not None:
                on_epoch(len(state.loss_curve), state, epoch_loss)
            if not settings.stop:
                state.in_model_units = model  # (V and c as this call leaves them)
                continue
            improved = best is None or any(
                now > then + tol for now, then in zip(progress, best, strict=True)
            )
            if not searching:
                no_improvement = 0 if improved else no_improvement + 1
            best = progress if best is None else tuple(map(max, progress, best))
            patience = settings.n_iter_no_change
            if settings.schedule == "adaptive" and batch_size < n_samples:
                # An epoch of many batches averages their noise away: its loss
                # shows a noisy stage's plateau sooner (a plateau there costs
                # only a larger batch, never the stop).
                if n_samples // batch_size >= _MANY_BATCHES:
                    patience = min(patience, _SHORT_PATIENCE)
                    # Its progress is smooth too: an epoch that gained less than
                    # tol / patience shows the plateau now, not patience epochs on.
                    if last is not None and max(map(np.subtract, progress, last)) * patience <= tol:
                        no_improvement = max(no_improvement, patience)
            last = progress
            if hopeless:
                no_improvement = max(no_improvement, patience)
            if no_improvement >= patience and search.started:
                converged = stops  # exact descent, whose step adapts, is flat: the optimum
                if stops:
                    # back to the lowest point if the loss drifted above it (by
                    # less than a rise); loss_curve_ keeps the epochs as they were
                    if epoch_loss > lowest[0]:
                        state.V[...], state.c[...] = lowest[1:]
                        _forget(kernel)
                    break
                continue  # tol=None: on, and patience stays run out
            if no_improvement >= patience:
                if settings.schedule == "adaptive" and plateaus < _PLATEAUS:
                    # Less noise, then go on: a larger batch, whose stable step is
                    # longer. At the whole data the descent is exact, and a loss
                    # that still rises is crossing a kink (absolute error, hinge):
                    # a shorter step. A plateau that needs neither is convergence.
                    plateaus, no_improvement = plateaus + 1, 0
                    if batch_size < n_samples:
                        # A stage that gained less than tol on the one before it
                        # shows the batches' noise no longer matters: on to the
                        # whole data at once, whose exact descent finds the optimum.
                        stalled = stage_best is not None and not any(
                            now > then + tol for now, then in zip(best, stage_best, strict=True)
                        )
                        # At stages of many batches, so does one whose noise floor
                        # left is under tol, whatever it gained (see _floor_left; a
                        # floor of the training loss, not of a held-out score; and of
                        # steps in proportion to the gradient, which Adagrad's,
                        # RMSprop's and Adam's, divided by its running size, are not).
                        noise = rate * stable_step / batch_size
                        many = n_samples // batch_size >= _MANY_BATCHES
                        proportional = isinstance(state.optimizer, (SGD, Momentum))
                        if stage_best is not None and many and validate is None and proportional:
                            left = _floor_left(best, stage_best, noise, stage_noise)
                            stalled = stalled or left <= tol
                        stage_best, stage_noise = best, noise
                        batch_size = min(n_samples, batch_size * _BATCH_GROWTH)
                        if stalled:
                            batch_size = n_samples
                        stable_step = _largest_stable_step(
                            settings, n_samples, batch_size, state.optimizer
                        )
                        best = None  # a new footing: progress is measured afresh
                        continue
                    recent = state.loss_curve[-settings.n_iter_no_change :]
                    if max(recent) <= lowest[0] + tol * objective.reference_loss:
                        converged = stops  # flat at its lowest: the optimum
                        if stops:
                            break
                        continue
                    # Exact descent, momentum restarted at every rise, and still it
                    # wanders above its lowest: a kink (absolute error, hinge) or an
                    # adaptive optimizer's constant stride. Back to the lowest loss,
                    # with a shorter step.
                    state.V[...], state.c[...] = lowest[1:]
                    state.optimizer.restart()
                    _forget(kernel)
                    rate /= _STEP_DIVISION
                    continue
                if stops:
                    converged = True
                    break

    if kept is not None:  # early stopping keeps the best model seen
        state.V[...], state.c[...], state.V_average[...], state.c_average[...] = kept[1:5]
        state.n_averaged = kept[5]
    if momentum is not None:  # (a call that raises leaves it damped: its optimizer, a
        state.optimizer.momentum = momentum  # copy or a new one, is then dropped)
    return {"epochs": epoch, "converged": converged, "validation_scores": validation_scores}


def _damped(optimizer, step_l2):
    """A stream's call of several batches: momentum at most critically damped for L2.

    A stream reports its model after each call, a few batches. Where L2
    dominates a coefficient's curvature (``step_l2``: the step times it),
    momentum above ``(1 - sqrt(step_l2))**2`` swings past the optimum
    (Polyak's critical damping; Nesterov's look-ahead damps more), and a
    call ends mid-swing: alpha set from 1e-4 to 1 in a stream on digits
    carried the coefficients through 0 (correlation -0.65 with the model
    before, held-out accuracy 0.07). Critically damped, the penalty shrinks
    them without a swing, and no slower (the intercept, unpenalized, loses
    momentum's gain on such a call). With Nesterov's 0.9 it acts from a step
    times L2 of 0.0026: alpha of 0.01 and more, or a rare class's small loss
    scale at the default alpha (a stream of 60 classes). (A fit's epochs,
    and its restarts at a rise, end the swing: its momentum stays.)
    Returns the optimizer's own momentum (a :class:`~skgd.optim.Momentum`'s),
    to put back after the call; None if it was damped already.
    """
    momentum = optimizer.momentum
    critical = max(1.0 - math.sqrt(step_l2), 0.0) ** 2 if step_l2 < 1 else 0.0
    if momentum <= critical:
        return None
    optimizer.momentum = critical
    return momentum


@dataclass
class StreamStep:
    """The "adaptive" schedule of a stream: a shorter step at each plateau, a longer one off it.

    ``partial_fit`` calls show no plateau of the loss (one epoch each, no
    stop criterion), yet a constant step keeps each row's noise: a row of a
    kinked loss (absolute error) moves the model by a fixed length, however
    near its target it was. While the model is far from the optimum, the
    calls move it on one way; at the noise floor, each call undoes part of
    those before (Pflug, 1990; Chee and Toulis, 2018).

    Successive moves alone tell these apart too weakly: a one-row move
    points along its own row, so two rows' moves have a cosine of random
    sign (on diabetes a spread of 0.39 about a mean of -0.02 at the floor),
    and a sum of a few fell below 0 by chance, far from the optimum: the
    step froze at 1/1024. So the test takes all the moves of a phase as a
    walk, ``D`` their sum (Pesme, Dieuleveut and Flammarion, 2020, watch the
    distance walked likewise): ``|D|²`` over the sum of the moves' ``|move|²``
    grows with the phase's length on one way, stays near 1 for independent
    moves, and falls as ``n_params / (rows * step)`` about the optimum,
    whose spread bounds ``|D|``. Below ``_STREAM_STILL``: a plateau, and
    the step shrinks fourfold, as fit's batch grows fourfold at a plateau.
    Not before ``n_params / step`` rows, the time a step takes to reach its
    floor (a shorter walk near its start is chance, or the rows of a pass,
    whose gradients sum to about 0 near the optimum): the step falls as
    1/rows at most. Above ``_STREAM_AWAY``, or still a random walk at the
    phase's end (``_STREAM_PHASE`` times longer: the floor was not reached),
    the step is too short for where the model is (the data, alpha or the
    loss changed), and it grows back fourfold, up to γ/L. Either way a new
    phase begins. Nearly noiseless data keeps its step until the model is
    near the optimum. (Momentum aligns successive moves: a call of one
    small batch starts without it.)
    """

    fraction: float = 1.0  # of γ/L
    squares: float = 0.0  # the sum of the moves' |move|², this phase
    rows: int = 0  # seen this phase
    walk: np.ndarray = None  # the sum of the moves this phase: D

    def observe(self, move, n_params, n_rows):
        """After a call of ``n_rows`` rows that moved the standardized parameters by ``move``."""
        # (a float: math's test, not a ufunc's)
        square = float(move @ move)
        if not square > 0 or not math.isfinite(square):
            return  # a call of zero weights, or at a flat point: no evidence
        if self.walk is None or self.walk.shape != move.shape:
            self.squares, self.rows, self.walk = 0.0, 0, np.zeros(move.shape)
        self.squares += square
        self.walk = self.walk + move  # (a new array: the model's, from its last call, stays)
        self.rows += n_rows
        spread = float(self.walk @ self.walk) / self.squares
        # (a call of many rows: as many of its size as a call of one row)
        longest = _STREAM_PHASE * max(n_params, n_rows) / self.fraction
        if self.rows >= n_params / self.fraction and spread < _STREAM_STILL:
            self.fraction /= _STREAM_DIVISION
        elif spread > _STREAM_AWAY or (self.rows >= longest and spread >= 1.0):
            self.fraction = min(self.fraction * _STREAM_DIVISION, 1.0)
        elif self.rows < longest:
            return
        self.squares, self.rows, self.walk = 0.0, 0, np.zeros(move.shape)


class StepSearch:
    """Exact descent's step, following the curvature where the model is.

    After each epoch whose loss fell, the step doubles, until a first rise or
    flat epoch; from then on it grows by a tenth at each fall once five in a
    row have fallen. A rise goes back to the lowest point with half the
    step. The epochs of this search (a doubled step that bought a fall worth
    having, a rise, the lowest point seen again) are not a plateau.
    """

    def __init__(self, longest, doubling=True):
        self.longest = longest  # the longest step allowed
        self.doubling, self.retrying, self.calm = doubling, False, 0
        self.last = None  # the last exact epoch's loss

    @property
    def started(self):
        return self.last is not None

    def update(self, loss, rate, rounding, worth):
        """After an exact epoch at ``loss``, with the step ``rate``.

        Returns the next step, whether to go back to the lowest point, and
        whether this epoch searched. Changes within ``rounding`` are neither
        rises nor falls; a doubled step's fall under ``worth`` is no search.
        """
        if self.last is None:
            self.last = loss
            return rate, False, False
        change, self.last, doubling = loss - self.last, loss, self.doubling
        rose, fell = change > rounding, change < -rounding
        searching = self.retrying or rose or (doubling and -change > worth)
        back = rose
        if rose:
            rate, self.doubling, self.retrying = rate / _BACKOFF, False, True
        elif self.retrying:  # the lowest point seen again
            self.retrying = False
        elif fell and (doubling or self.calm >= _CALM):
            rate = min(rate * (2.0 if doubling else _GROWTH), self.longest)
            self.doubling = doubling and rate < self.longest
        elif doubling:  # flat: a longer step no longer helps
            self.doubling = False
        self.calm = self.calm + 1 if fell else 0
        return rate, back, searching


def descend(
    objective, state, X, Y, weights, order, batch_size, steps, c_ratio, single, fit_intercept
):
    """The batch steps of one epoch, in place: the course's inner loop.

    Batch after batch of ``order``: forward, loss, backward, then the
    update ``w <- w - step * grad`` by the optimizer (the intercept's step
    is ``c_ratio`` times longer). Returns the summed weighted loss of the
    batches, the number of batches done, the first batch's loss, and the
    loss of the batch that overflowed (if one did, training stops there:
    it is diverging).
    """
    params = [state.V, state.c] if fit_intercept else [state.V]
    total, first = 0.0, np.nan
    for batch, start in enumerate(range(0, len(order), batch_size)):
        idx = order[start : start + batch_size]
        batch_loss, grad_V, grad_c = objective.loss_and_gradient(
            X[idx], Y[idx], weights[idx], state.V, state.c, single
        )  # forward, loss, backward
        if not np.isfinite(batch_loss):
            return total, batch, first, batch_loss
        first = batch_loss if batch == 0 else first
        total += batch_loss
        rates = steps[batch]
        if type(state.optimizer).step is Optimizer.step:  # (a user's step takes one rate)
            rates = [steps[batch], steps[batch] * c_ratio][: len(params)]
        state.optimizer.step(params, [grad_V, grad_c][: len(params)], rates)  # update
        objective.soft_threshold(state.V, steps[batch], state.optimizer)
        state.step_taken(len(idx))
    return total, len(steps), first, np.nan


def _capped(steps, stable_step, objective, state, X, Y, weights, order, batch_size, single):
    """Each batch's step, shortened where its rows are more curved than the loss scale saw.

    Measured where the model is now, for every batch of ``order``: a row
    far from the others in any batch would overshoot (see
    :meth:`skgd._objective.Objective.step_cap`).
    """
    capped = []
    for batch, step in enumerate(steps):
        idx = order[batch * batch_size : (batch + 1) * batch_size]
        share = objective.step_cap(
            X[idx], Y[idx], weights[idx], state.V, state.c, single, len(idx), step / stable_step
        )
        capped.append(step * share)
    return capped


class _CappedRun:
    """A stream's call of a loss with a link, each batch capped where the model then is.

    Stands for the compiled plan (its :meth:`run` and :meth:`forget`), or
    for :func:`descend` without one. The cap of a batch measured where the
    call starts holds for its first batch only: a call of 13 batches of
    Poisson counts moved the model, batch after batch, where later rows
    were far more curved, and diverged (``exp`` of the prediction). So
    each batch runs alone, its cap measured where the batches before left
    the model (:func:`_capped`).
    """

    def __init__(self, kernel, objective, stable_step, Y, single, fit_intercept):
        self.kernel, self.objective, self.stable_step = kernel, objective, stable_step
        self.Y, self.single, self.fit_intercept = Y, single, fit_intercept
        self.scratch = None  # where the later batches' runs copy V (only the first's is kept)

    def forget(self):
        _forget(self.kernel)

    def run(self, state, X, weights, order, batch_size, steps, c_ratio, start):
        """As the compiled plan's ``run``: the summed loss, batches done, ..., penalty, finite."""
        total, done, first, failed = 0.0, 0, np.nan, np.nan
        penalty, finite = None, None
        for batch in range(len(steps)):
            rows = order[batch * batch_size : (batch + 1) * batch_size]
            step = _capped(
                steps[batch : batch + 1], self.stable_step, self.objective, state, X, self.Y,
                weights, rows, batch_size, self.single,
            )  # fmt: skip
            steps[batch] = step[0]  # (the step taken, as the loop's log shows it)
            if batch == 0:
                into = start
            elif self.scratch is None or self.scratch.shape != state.V.shape:
                into = self.scratch = np.empty_like(state.V)
            else:
                into = self.scratch
            (loss, ran, loss_first, failed), taken, finite = self._one(
                state, X, weights, rows, batch_size, step, c_ratio, into
            )  # fmt: skip
            penalty = taken if batch == 0 else penalty  # (V as the call found it)
            first = loss_first if batch == 0 else first
            if not ran:  # its loss overflowed: diverging, the batches after it not run
                return (total, done, first, failed), penalty, finite
            total, done = total + loss, done + 1
        return (total, done, first, failed), penalty, finite

    def _one(self, state, X, weights, rows, batch_size, step, c_ratio, start):
        if self.kernel is not None:
            return self.kernel.run(state, X, weights, rows, batch_size, step, c_ratio, start)
        penalty = self.objective.penalty(state.V, copy_to=start)
        sweep = descend(
            self.objective, state, X, self.Y, weights, rows, batch_size, step, c_ratio,
            self.single, self.fit_intercept,
        )  # fmt: skip
        return sweep, penalty, None


def _floor_left(best, stage_best, noise, stage_noise):
    """What all the stages to come could still gain, from the one that just ended.

    A stage of many batches ends at its noise floor, which a constant step
    sets in proportion to step / batch size (``noise``, the stage before's
    ``stage_noise``). The stage's gain on the one before is the fall of that
    floor, from ``stage_noise`` to ``noise``; the floor left, ``noise`` in
    the same units, is the most that larger batches and exact descent can
    gain on it.
    """
    gain = max(map(np.subtract, best, stage_best))
    if not stage_noise > noise:  # (a shorter step after a recovery): no measure of it
        return np.inf
    return gain * noise / (stage_noise - noise)


def _forget(kernel):
    """After the loop writes V itself: the compiled plan's lazy table no longer holds it."""
    if kernel is not None:
        kernel.forget()


def _spare(V, spares, *kept):
    """An array for a copy of V: an earlier copy that none of ``kept`` holds, if there is one.

    Each epoch keeps where it started; on wide data a new array each epoch
    costs the system's zeroing of its pages more than the copy itself.
    """
    spare = None
    if spares:  # (a stream's call, one epoch, keeps none: nothing to look through)
        held = [id(k[1]) for k in kept if k is not None]
        spare = next((a for a in spares if id(a) not in held), None)
    if spare is None:
        spare = np.empty_like(V)
        spares.append(spare)
    return spare


def _epoch_order(shuffle, rng, n_samples, batch_size):
    """The rows of an epoch, in the order the batches take them.

    ``True``: every row in a random order. ``"blocks"``: contiguous blocks of
    ``batch_size`` rows, the blocks in a random order, so that a batch
    reads one stretch of memory (less mixed, if the rows are sorted).
    ``False``, or a single batch: the rows as they are.
    """
    if not shuffle or batch_size >= n_samples:
        return np.arange(n_samples)
    if shuffle == "blocks":
        # (the blocks' rows at once, not a concatenation of 782 slices: 3 ms to 0.5 ms)
        starts = rng.permutation(np.arange(0, n_samples, batch_size))
        order = (starts[:, None] + np.arange(batch_size)).ravel()
        return order[order < n_samples] if n_samples % batch_size else order
    return _draws.permutation(rng, n_samples)  # (rng.permutation's, compiled)


@functools.cache
def _rounding(dtype):
    """The relative change of a loss that is X's rounding, not progress (made once a dtype)."""
    return max(_ROUNDING, 64 * np.finfo(dtype).eps)


def _largest_stable_step(settings, n_samples, batch_size, optimizer):
    """1/L for batches of this size; 1 (the course's plain γ) without standardization.

    A momentum that sums about ``1 / (1 - momentum)`` batches' gradients
    sums their noise too, and the batches' extra curvature (their noise)
    then counts that many times. Always for a fixed schedule, which never
    grows the batch; for the "adaptive" one, at stages of many batches an
    epoch (``_MANY_BATCHES``), where a stage's constant step would
    otherwise end each epoch at its noise floor (200,000 x 100 after 5
    epochs: training mse 1.22x SGDRegressor's, 1.11x with it). Not at
    fewer: the toy sets would take more epochs, and diabetes would miss
    Ridge's R².
    """
    if settings.curvature is None:
        return 1.0
    L = batch_curvature(*settings.curvature, n_samples, batch_size)
    many = n_samples // batch_size >= _MANY_BATCHES
    if settings.schedule != "adaptive" or many:
        L += (L - settings.curvature[0]) * (getattr(optimizer, "noise_gain", 1.0) - 1.0)
    return 1.0 / L


def _intercept_ratio(settings, objective, stable_step, n_samples, batch_size, optimizer):
    """How much longer the intercept's stable step is than the coefficients'.

    L2 adds its curvature to every coefficient's, but not the intercept's,
    which a strong penalty would otherwise leave where it started. A penalty
    that swamps the data's curvature leaves only rounding in the difference
    (alpha=1e20: a step 1e12 times too short, the intercept at its random
    start): the intercept's curvature is then the data's own, measured apart.
    """
    l2 = objective.largest_l2
    if settings.curvature is None or not l2:
        return 1.0
    curvature = 1.0 / stable_step
    if curvature - l2 < _DIGITS_KEPT * curvature:
        data = settings._replace(curvature=objective.data_curvature)
        return curvature * _largest_stable_step(data, n_samples, batch_size, optimizer)
    return curvature / max(curvature - l2, 1e-12 * curvature)


def _sum(values):
    """``float(values.sum())``: for one value, numpy's sum (0.0 + it) without its call.

    A stream's one-row call takes a few such sums of one value (its weight,
    one output's loss scale), where the reduction's set-up costs more than
    the sum.
    """
    if values.size == 1:
        return 0.0 + values.item()  # (as numpy's sum: from 0.0, so -0.0 sums to 0.0)
    return float(values.sum())


def _at_noise_floor(curve):
    """Whether an epoch of this fit has gained less than _FLAT of its loss.

    The walk down from the start is then over (a stage's plateau, or a
    rise): what is left is the floor of the batches' noise, which annealing
    lowers. While every epoch still gains more (the first epochs from the
    start on the toy sets), annealing would cost about half an epoch's
    progress for little.
    """
    gains = np.subtract(curve[:-1], curve[1:])
    return bool(np.any(gains < _FLAT * np.abs(curve[1:])))


def _annealed(steps, memory=1.0):
    """The steps falling in up to _STAIRS equal stairs, from the whole step to 1/stairs of it.

    A stair lasts at least ``memory`` batches: momentum's velocity, in the
    parameters' units, carries about that many batches' steps, and on
    shorter stairs the model would coast on the longer steps before
    (diabetes' 14 batches an epoch, heavy-ball momentum: a worse model).
    Too few batches for two stairs: the steps as they are.
    """
    n = len(steps)
    stairs = min(_STAIRS, int(n // np.ceil(memory)))
    if stairs < 2:
        return steps
    return [step * (stairs - stairs * k // n) / stairs for k, step in enumerate(steps)]


def _scheduled(rate, settings, t):
    if settings.schedule == "invscaling":
        return invscaling(rate, t, settings.power_t)
    return rate


def _log_header(with_validation):
    validation = f"{'val score':>12}  " if with_validation else ""
    return f"{'epoch':>6}  {'train loss':>12}  {validation}{'lr':>9}  {'seconds':>8}"


def _log_row(epoch, epoch_loss, validation_scores, rate, tic):
    validation = f"{validation_scores[-1]:12.6g}  " if validation_scores else ""
    seconds = time.perf_counter() - tic
    return f"{epoch:6d}  {epoch_loss:12.6g}  {validation}{rate:9.3g}  {seconds:8.3f}"
