"""The step of each epoch: the schedules, and the measures they take.

The training loop (:func:`skgd._loop.train`) asks, for each epoch, which
steps its batches take, and at a plateau of the stop criterion what next.
:class:`Schedule` answers both: its :meth:`~Schedule.at_plateau` is the one
place that decides what a plateau brings (a larger batch, exact descent, a
shorter step, or the stop). With it here: exact descent's lowest point and
its step, which follows the loss (:class:`ExactDescent`, :class:`StepSearch`);
the largest stable step 1/L of a batch size and the intercept's; the
"invscaling" decay; the annealed last epoch of a fit that runs out of
epochs among batches; and a stream's schedule across ``partial_fit`` calls
(:class:`StreamStep`), with its damped momentum and its step cap.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from ._objective import batch_curvature
from ._stopping import _ROUNDING
from .optim import SGD, Momentum, invscaling

# The "adaptive" schedule grows the batch by this factor at a plateau, or
# at the whole data divides the step by this one, at this many plateaus at most.
_BATCH_GROWTH = 4
_STEP_DIVISION = 5.0
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


class Schedule:
    """The steps and batch size of each epoch; the "adaptive" schedule's stages.

    The course's γ (``rate``) is a fraction of the largest stable step 1/L
    of the batch size (``stable_step``): fixed for "constant", decaying for
    "invscaling". The "adaptive" schedule starts at the batch size given and
    at each plateau of the stop criterion takes the next stage
    (:meth:`at_plateau`): less noise, a larger batch, whose stable step is
    longer; at the whole data exact descent (:class:`ExactDescent`), then a
    shorter step; a plateau that needs none of these is the optimum. A
    stream's call of it takes the stream's step (:class:`StreamStep`).
    """

    def __init__(self, settings, state, n_samples):
        self.settings, self.n_samples, self.optimizer = settings, n_samples, state.optimizer
        self.adaptive = settings.schedule == "adaptive"
        self.batch_size = settings.batch_size
        # the course's γ, as a fraction of the largest stable step 1/L
        self.rate = settings.learning_rate
        self.stable_step = _largest_stable_step(
            settings, n_samples, self.batch_size, self.optimizer
        )
        # a stream's "adaptive" schedule: a shorter step at each of its plateaus
        self.streams = not settings.stop and self.adaptive
        self.stream_step = state.stream.fraction if self.streams else 1.0
        # A fit that reaches max_iter among batches, at the batches' noise floor,
        # ends its last epoch's steps falling by stairs: the model returned then
        # sits below that noise, not wherever the last step threw it (as averaging
        # would, without averaging's other epochs; not for averaging, which wants
        # the iterates of one step). Stairs, not a line: lazy momentum on sparse X
        # maps a column's untouched steps one run of equal steps at a time.
        self.anneals = self.adaptive and settings.stop and state.average_from == np.inf
        self.plateaus = 0  # seen by the "adaptive" schedule
        self.stage_best = None  # the best progress of its last stage
        self.stage_noise = None  # and its step / batch size, which sets its noise floor

    def steps(self, t, n_batches):
        """The steps of the next ``n_batches`` batches, after ``t`` updates."""
        rate, settings, stream_step, stable_step = (
            self.rate, self.settings, self.stream_step, self.stable_step,
        )  # fmt: skip
        steps = [
            _scheduled(rate, settings, t + k) * stream_step * stable_step
            for k in range(1, n_batches + 1)
        ]
        # A stream's call of several batches: a last batch of fewer rows takes
        # its rows' share of a step. At a full step, a last batch of 4 rows (of
        # 100, in batches of 32) moved the model as far as 32 rows, on 8 times
        # their noise; with Nesterov's momentum (the default), three calls of 100
        # raw diabetes rows ended at held-out R² from -0.14 to 0.47 by the seed
        # (0.38 to 0.48 so). (Heavy-ball momentum's calls of a few batches end
        # wherever its swing leaves them, with or without this share.)
        last = self.n_samples - (n_batches - 1) * self.batch_size
        if not settings.stop and n_batches > 1 and last < self.batch_size:
            steps[-1] *= last / self.batch_size
        return steps

    def last_epoch(self, steps, epoch, curve, first_epoch):
        """The epoch's steps, annealed if it is a fit's last among batches at its noise floor.

        ``curve[first_epoch:]`` holds this fit's epochs so far.
        """
        last = epoch == self.settings.max_epochs and self.batch_size < self.n_samples
        if self.anneals and last and _at_noise_floor(curve[first_epoch:]):
            return _annealed(steps, getattr(self.optimizer, "noise_gain", 1.0))
        return steps

    def intercept_ratio(self, objective):
        """How much longer the intercept's step is (see :func:`_intercept_ratio`)."""
        return _intercept_ratio(
            self.settings, objective, self.stable_step, self.n_samples, self.batch_size,
            self.optimizer,
        )  # fmt: skip

    def shorter_step(self):
        """After a recovery from divergence, or a kink: γ divided by _STEP_DIVISION."""
        self.rate /= _STEP_DIVISION

    def patience(self, n_iter_no_change):
        """The stop criterion's patience, and whether the epochs' progress is smooth.

        An epoch of many batches averages their noise away: its loss shows
        a noisy stage's plateau sooner (a plateau there costs only a larger
        batch, never the stop), and its progress is smooth.
        """
        if self.adaptive and self.batch_size < self.n_samples:
            if self.n_samples // self.batch_size >= _MANY_BATCHES:
                return min(n_iter_no_change, _SHORT_PATIENCE), True
        return n_iter_no_change, False

    def at_plateau(self, stop, descent, state, kernel):
        """At a plateau of the stop criterion: what next. True: the optimum, where a fit stops.

        (With ``tol=None`` the loop goes on even then: a plateau whose
        stages are spent is then no change, and patience stays run out.)
        Else the "adaptive" schedule changes something and goes on: a larger
        batch, or at the whole data a shorter step, at ``_PLATEAUS`` at most.
        """
        if descent.search.started:
            # exact descent, whose step adapts, is flat: the optimum
            if stop.stops and state.loss_curve[-1] > descent.lowest[0]:
                # back to the lowest point if the loss drifted above it (by
                # less than a rise); loss_curve_ keeps the epochs as they were
                _back_to(state, descent.lowest[1:], kernel)
            return True
        if not self.adaptive or self.plateaus >= _PLATEAUS:
            return True
        # Less noise, then go on: a larger batch, whose stable step is
        # longer. At the whole data the descent is exact, and a loss
        # that still rises is crossing a kink (absolute error, hinge):
        # a shorter step. A plateau that needs neither is convergence.
        self.plateaus, stop.no_improvement = self.plateaus + 1, 0
        if self.batch_size < self.n_samples:
            self._next_stage(stop)
            return False
        recent = state.loss_curve[-stop.n_iter_no_change :]
        if max(recent) <= descent.lowest[0] + stop.tol * stop.objective.reference_loss:
            return True  # flat at its lowest: the optimum
        # Exact descent, momentum restarted at every rise, and still it
        # wanders above its lowest: a kink (absolute error, hinge) or an
        # adaptive optimizer's constant stride. Back to the lowest loss,
        # with a shorter step.
        _back_to(state, descent.lowest[1:], kernel, restart=True)
        self.shorter_step()
        return False

    def _next_stage(self, stop):
        """A larger batch, or the whole data at once if the stage just ended stalled."""
        tol, best, n_samples = stop.tol, stop.best, self.n_samples
        # A stage that gained less than tol on the one before it
        # shows the batches' noise no longer matters: on to the
        # whole data at once, whose exact descent finds the optimum.
        stalled = self.stage_best is not None and not any(
            now > then + tol for now, then in zip(best, self.stage_best, strict=True)
        )
        # At stages of many batches, so does one whose noise floor
        # left is under tol, whatever it gained (see _floor_left; a
        # floor of the training loss, not of a held-out score; and of
        # steps in proportion to the gradient, which Adagrad's,
        # RMSprop's and Adam's, divided by its running size, are not).
        noise = self.rate * self.stable_step / self.batch_size
        many = n_samples // self.batch_size >= _MANY_BATCHES
        proportional = isinstance(self.optimizer, (SGD, Momentum))
        if self.stage_best is not None and many and stop.validate is None and proportional:
            left = _floor_left(best, self.stage_best, noise, self.stage_noise)
            stalled = stalled or left <= tol
        self.stage_best, self.stage_noise = best, noise
        self.batch_size = min(n_samples, self.batch_size * _BATCH_GROWTH)
        if stalled:
            self.batch_size = n_samples
        self.stable_step = _largest_stable_step(
            self.settings, n_samples, self.batch_size, self.optimizer
        )
        stop.best = None  # a new footing: progress is measured afresh


class ExactDescent:
    """Epochs of the whole data at once: their lowest point, and the adaptive step search.

    Exact descent's epoch loss is that of where the epoch started, which it
    keeps as the lowest point (the "adaptive" schedule's way back), and a
    rise shows momentum overshot (it restarts). In a fit of the "adaptive"
    schedule its step follows the loss (:class:`StepSearch`): not for early
    stopping, which wants the best held-out score, not the optimum; not
    without standardization, where γ is the user's own step; not for
    averaging, which wants the iterates of one step.
    """

    def __init__(self, settings, state, objective, validate, dtype):
        adapts = settings.schedule == "adaptive" and settings.stop and validate is None
        self.adapts = adapts and settings.curvature is not None and state.average_from == np.inf
        # (a stream's call, one epoch without a stop criterion, searches nothing)
        self.search = StepSearch(_LONGEST * settings.learning_rate) if settings.stop else None
        self.searching = False  # the last exact epoch searched: no plateau
        self.hopeless = False  # this epoch's fall shows the plateau now
        self.lowest = None  # (loss, V, c) of the exact epoch with the lowest training loss
        self.objective, self.rounding = objective, _rounding(dtype)
        self.memory = getattr(state.optimizer, "noise_gain", 1.0)
        self.n_iter_no_change = settings.n_iter_no_change

    def search_afresh(self):
        """After a recovery from divergence: a search without the doubling."""
        self.search = StepSearch(self.search.longest, doubling=False)

    def after_epoch(self, epoch_loss, at_start, first_epoch, state, kernel, schedule, stop):
        """After an epoch at ``epoch_loss``, before the loss curve takes it.

        An epoch of the whole data in one batch is exact: its loss is that
        of ``at_start``. Sets ``schedule.rate`` to the search's next step,
        and goes back to the lowest point where the search says so.
        (``state.loss_curve[first_epoch:]``: this fit's epochs before.)
        """
        self.hopeless = False
        if schedule.batch_size != schedule.n_samples:
            return
        reference, curve = self.objective.reference_loss, state.loss_curve
        # (by more than X's rounding, so that weights and repeated rows, and
        # the compiled and numpy sums, decide alike)
        if len(curve) > first_epoch and epoch_loss - curve[-1] > self.rounding * reference:
            state.optimizer.restart()  # exact descent rose: momentum overshot
        if self.lowest is None or epoch_loss < self.lowest[0]:
            self.lowest = (epoch_loss, *at_start)
        if not self.adapts:
            return
        search, tol = self.search, stop.tol
        fall, doubled = search.last - epoch_loss if search.started else 0.0, search.doubling
        # The bound L holds everywhere; where the model is, the curvature
        # is often far lower (a logistic loss flattens as the classes
        # separate), and exact descent can follow it.
        schedule.rate, back, self.searching = search.update(
            epoch_loss, schedule.rate, self.rounding * reference, _WORTH * tol * reference
        )
        # Along a descent direction the loss is convex in the step, so
        # twice the step gains at most twice as much. A fall so small that
        # the doublings of the next n_iter_no_change epochs (2 + 4 + ...),
        # times the momentum's gain, would still not reach tol, shows the
        # plateau now.
        if doubled and search.doubling and not self.searching and fall > 0:
            window = (2.0 ** (self.n_iter_no_change + 1) - 2.0) * self.memory
            self.hopeless = fall * window <= tol * reference
        if back:  # to the lowest point, with a shorter step
            _back_to(state, self.lowest[1:], kernel)


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


def damp_stream_momentum(settings, schedule, state, objective):
    """A stream's call of several batches: its momentum damped (see :func:`_damped`).

    Returns the optimizer's own momentum, to put back after the call, or
    None. (A call of one batch takes a single step: no swing within it to
    damp, and its momentum's longer first step is what carries a stream of
    such calls.)
    """
    damps = not settings.stop and settings.curvature is not None
    damps = damps and schedule.batch_size < schedule.n_samples
    if not (damps and isinstance(state.optimizer, Momentum)):
        return None
    first = schedule.steps(state.t, 1)[0]
    return _damped(state.optimizer, first * objective.largest_l2)


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


def _capped(steps, stable_step, objective, state, X, Y, weights, order, batch_size, single):
    """Each batch's step, shortened where its rows are more curved than the loss scale saw.

    Measured where the model is now, for every batch of ``order`` (a capped
    call passes one batch at a time, see :class:`skgd._loop._CappedRun`): a row
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


def _scheduled(rate, settings, t):
    if settings.schedule == "invscaling":
        return invscaling(rate, t, settings.power_t)
    return rate


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


@functools.cache
def _rounding(dtype):
    """The relative change of a loss that is X's rounding, not progress (made once a dtype)."""
    return max(_ROUNDING, 64 * np.finfo(dtype).eps)


def _back_to(state, point, kernel, restart=False):
    """The parameters back to ``point`` (V, c), and the optimizer restarted if ``restart``."""
    state.V[...], state.c[...] = point
    if restart:
        state.optimizer.restart()
    _forget(kernel)


def _forget(kernel):
    """After the loop writes V itself: the compiled plan's lazy table no longer holds it."""
    if kernel is not None:
        kernel.forget()
