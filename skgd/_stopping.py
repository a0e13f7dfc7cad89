"""When training stops: early stopping's split, the best epoch, divergence."""

import math

import numpy as np
from scipy import sparse

from ._checks import CHECK_ROWS, is_users_loss, is_users_optimizer
from ._held_out import HeldOut
from ._objective import _sample_rows
from ._standardize import rows_per_block
from .optim import SGD, Momentum, Nesterov

# A loss this many times above its best, and above where the run started,
# is growing, not wandering at the noise floor.
_DIVERGENCE_FACTOR = 10.0
# Scores closer than this, relative, are equal but for rounding.
_ROUNDING = 1e-9
# A regressor's early stopping holds out at least this many distinct samples (see
# split_validation)
_LEAST_HELD_OUT = 2


def split_validation(X, Y, sample_weight, rng, fraction, stratify, salt=None):
    """Hold out a uniform random ``fraction`` of the training weight, per class if ``stratify``.

    Each row gets a random key from a seeded hash of its values (features
    and target), so copies of a row get the same key and fall on the same
    side: nothing leaks from training into validation, except through the
    samples split below. Within each class, distinct samples are taken in key order
    until the held-out weight reaches its share, always leaving one for training; a class with a
    single distinct sample trains. Without ``stratify`` (a regressor) two
    samples at least are held out: R² is undefined on one (diabetes at
    ``validation_fraction=1e-9`` scored every epoch 0, and early stopping
    followed nothing, silently), and two at least train.

    A sample that, held out whole, would take the held-out weight past
    twice the share, or past half-way from the share to the whole (data of
    few distinct values), or leave a regressor a single one to train on, is
    split instead: its rows go to both sides, their weights cut in the ratio
    that fills the share (a sample held out past it, a regressor's second,
    gives the fraction of its weight). x of three values, 2,000 rows, held
    out two thirds of them at ``validation_fraction=0.1``, and the model
    trained on one value of x predicted a constant, silently. Weights and
    copies split alike: a sample of weight 3 is split exactly as three
    copies of it would be. The rows of a split sample train too: on data of
    a few rows (a regressor's three), the held-out score is theirs.
    Raises ValueError when nothing is held out, or a regressor's single
    sample (data of two distinct samples).
    """
    keys = _row_keys(X, Y, held_out_salt(rng) if salt is None else salt)
    groups = Y if stratify else np.zeros(len(Y))
    held = np.zeros(len(Y))  # each row's held-out weight
    for group in np.unique(groups):  # a loop over classes, not samples
        members = np.flatnonzero((groups == group) & (sample_weight > 0))
        if not len(members):
            continue  # a class of weight 0 trains nothing and validates nothing
        _, of_row = np.unique(keys[members], return_inverse=True)
        weights = np.bincount(of_row, weights=sample_weight[members])
        before = np.cumsum(weights) - weights  # the weight of the samples before each
        share = fraction * weights.sum()
        taken = before < share
        if not stratify:  # (R², a regressor's score, is undefined on one sample)
            taken[:_LEAST_HELD_OUT] = True
        taken[-1] = False  # one sample, at least, trains
        rows = members[taken[of_row]]
        held[rows] = sample_weight[rows]
        total = weights.sum()
        # (held out whole, past twice the share, or half-way from it to the whole)
        split = taken & (before + weights > share + min(share, (total - share) / 2))
        if not stratify and len(weights) > 2 and np.count_nonzero(~taken) < 2:
            split[np.flatnonzero(taken)[-1]] = True  # (two samples, at least, train)
        if split.any():
            cut = _split_samples(np.flatnonzero(split), before, weights, share, fraction)
            rows = members[split[of_row]]
            held[rows] = sample_weight[rows] * cut[of_row[split[of_row]]]
    val = held > 0
    if not val.any():
        n_classes = len(np.unique(groups[sample_weight > 0]))
        what = f"{n_classes} class{'es' if n_classes > 1 else ''}, each" if stratify else "data"
        # (rows of weight 0 train and validate nothing: where they are most of the rows,
        # the count of those that weigh is what the user must see)
        weighing = np.count_nonzero(sample_weight > 0)
        of = f"the {weighing} of n_samples = {len(Y)} with a sample_weight above 0"
        raise ValueError(
            f"validation_fraction={fraction} holds out nothing from "
            f"{of if weighing < len(Y) else f'n_samples = {len(Y)}'}: "
            f"{what} with a single distinct sample. Use more data, or early_stopping=False."
        )
    if not stratify and len(np.unique(keys[val])) < _LEAST_HELD_OUT:
        raise ValueError(
            f"early stopping holds out a single sample of n_samples = {len(Y)} (two distinct "
            "samples): R², which it follows, is undefined on one. Use more data, or "
            "early_stopping=False."
        )
    left = sample_weight - held
    train = ~val | (left > 0)
    validation = (X[val], Y[val], held[val].astype(sample_weight.dtype))
    return X[train], Y[train], left[train].astype(sample_weight.dtype), validation


def _split_samples(samples, before, weights, share, fraction):
    """The share of its weight each of ``samples`` holds out (indexed by sample).

    In key order, each fills what is left of the share after the samples
    before it (held out whole, or in part); one past the share, or whose
    whole weight fits what is left (a regressor's last taken, split so that
    two train), holds out ``fraction`` of its weight.
    """
    cut = np.ones(len(weights))
    less = 0.0  # what the split samples before this one hold out less than whole
    for sample in samples:  # (in key order: few)
        room = share - (before[sample] - less)
        part = room if 0 < room < weights[sample] else fraction * weights[sample]
        cut[sample] = part / weights[sample]
        less += weights[sample] - part
    return cut


def held_out_salt(rng):
    """The seed of the rows' keys (:func:`_row_keys`): which rows a split holds out.

    A warm fit keeps its fit's (see :meth:`skgd._base.BaseGD._fit`): drawn
    anew at each fit of a loop of one-epoch warm fits, the rows held out
    changed at every call and each had trained before, and the epochs'
    losses took in rows the last fit had held out (a user trial: the loss
    curve leapt to 2-3 times its neighbours where the model's loss fell).
    """
    return int(rng.randint(1, 2**62))


def _row_keys(X, Y, salt):
    """A uniform random 64-bit key per row, equal for equal rows: a hash seeded by ``salt``.

    Each non-zero value is hashed with its column, and a row's key is the
    (wrapping) sum of its values' hashes and its target's, mixed once more:
    exact integer arithmetic, so equal rows get equal keys whatever their
    position, dense or sparse alike.
    """
    salt = np.uint64(salt)
    n_samples, n_features = X.shape
    if sparse.issparse(X):
        X = X.tocsr()
    with np.errstate(over="ignore"):
        # (in uint64: an int64 arange plus a uint64 salt is float64 in numpy, which
        # rounded every column to one seed above 2**53, 99.8% of the salts drawn:
        # a row's key was then the hash of its values alone, and one-hot rows of
        # as many ones had one key. Titanic's 2,201 people, three columns in
        # one-hot codes, were "2 classes, each with a single distinct sample" at
        # every seed, and binarized digits held out 240 rows, 56 of them
        # training too, where 180; a user trial)
        column_hashes = _mix(np.arange(n_features, dtype=np.uint64) + salt)
        keys = np.empty(n_samples, dtype=np.uint64)
        # in blocks of rows: the hashes are 8 bytes a value, more than X itself
        rows = rows_per_block(X)
        for start in range(0, n_samples, rows):
            block = X[start : start + rows]
            if sparse.issparse(block):
                values, columns, row_ends = block.data, block.indices, block.indptr[1:]
            else:
                values = np.ravel(block)
                columns = np.tile(np.arange(n_features), block.shape[0])
                row_ends = np.arange(1, block.shape[0] + 1) * n_features
            hashes = _mix(values.astype(np.float64).view(np.uint64) ^ column_hashes[columns])
            hashes[values == 0] = 0  # an explicit zero is no value, as in a sparse row
            totals = np.concatenate([[np.uint64(0)], np.cumsum(hashes, dtype=np.uint64)])
            starts = np.concatenate([[0], row_ends[:-1]])
            keys[start : start + rows] = totals[row_ends] - totals[starts]
        targets = np.reshape(Y, (len(Y), -1)).astype(np.float64).view(np.uint64)
        for column, target in enumerate(targets.T):
            keys += _mix(target ^ _mix(np.uint64(column) + ~salt))
        return _mix(keys)


def _mix(z):
    """splitmix64's finaliser: every bit of the output depends on every bit of the input."""
    z = np.asarray(z, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def better(progress, than, tol):
    """Whether an epoch's (score, -validation loss) beats the best kept so far.

    The higher score wins, whatever ``tol``: early stopping keeps the model
    of the best score, and reports that score (``tol`` only decides when to
    stop, in the loop). Equal scores, to rounding, tie and the validation
    loss decides: a coarse score (accuracy on few samples) stalls while the
    model still improves.
    """
    del tol  # the choice of the model does not depend on it (issue 10)
    score, neg_loss = progress
    if abs(score - than[0]) > _ROUNDING * max(1.0, abs(than[0])):
        return score > than[0]
    return neg_loss > than[1]


def check_diverging(
    curve, epoch, slack=0.0, floor=0.0, loss=None, optimizer=None, plain_step=False,
    penalty_step=0.0, stream=False,
):  # fmt: skip
    """Raise the divergence error if the loss has grown far past its best and its start.

    A step too large for the data makes the loss grow geometrically, and it
    may stay finite for many epochs; such a run passes this bound within a
    few epochs. A run that wanders at its noise floor, or rises a little
    after a warm start at the optimum, never does (at the floor, rises reach
    2.5 times the best: absolute error with Nesterov momentum, modified
    Huber on one-row batches). ``slack`` is added to the bound, for losses
    that may start at 0. A NaN loss is divergence. ``floor``, in the units of
    the loss, is the least the bound counts the start as: a rise from near 0
    is judged against it. ``loss``: the loss trained, named by the error if
    it is a user's (see :func:`diverged_error`), and so ``optimizer``;
    ``plain_step``: the error's advice is for γ as the plain step, and
    ``penalty_step`` is then γ times the L2 penalty's strength; ``stream``:
    a ``partial_fit`` call's (see :func:`diverged_error`).
    """
    now, base = curve[-1], max(min(curve), curve[0])
    # (in differences, for losses that may be negative: Poisson's, up to a constant;
    # NaN compares false, so it is named: the loss of an overflowed model)
    if math.isnan(now) or now - base > (_DIVERGENCE_FACTOR - 1) * max(abs(base), floor) + slack:
        raise diverged_error(
            epoch, now, loss=loss, optimizer=optimizer, plain_step=plain_step,
            penalty_step=penalty_step, stream=stream,
        )  # fmt: skip


def _momentum_free(optimizer):
    """Whether ``optimizer`` is a built-in one of no momentum (plain SGD's, or at 0)."""
    if type(optimizer) in (Momentum, Nesterov):
        return optimizer.momentum == 0
    return type(optimizer) is SGD


def diverged_error(
    epoch,
    value,
    before_any_step=False,
    loss=None,
    optimizer=None,
    parameters_finite=True,
    plain_step=False,
    penalty_step=0.0,
    stream=False,
):
    """The error of a loss that grew or is not finite, with what to do.

    A built-in loss is finite wherever the model's predictions are, and its
    gradient is tested, so its NaN, overflow or growth comes from the data's
    scale or too long a step. A user's loss may be NaN on its own (a log of
    a negative prediction) on rows that the check before training did not
    evaluate, or its gradient may climb it: then ``loss``, if given, is named
    as a possible cause too; and so is a user's ``optimizer``, whose update
    was tried on one step only (one that gave NaN from its 20th step on was
    reported as a divergence, with a smaller learning rate advised alone).
    ``plain_step``: γ is a step in the units of X and y
    (``standardize=False``), not a share of the stable step (a user trial:
    on diabetes scaled by StandardScaler, the default γ with Nesterov
    momentum diverged, and the error said to scale X). Nothing is read of
    the optimizer for it: a user's ``momentum`` may be anything. Its
    ``penalty_step``, γ times the L2 penalty's strength, at 1 or more is
    named: the penalty alone swings the coefficients about 0 ever wider
    from 2 on (``1 - γα`` a step), from about 1.4 with Nesterov momentum
    (``alpha=1e4`` at ``learning_rate=0.01``: 100; a trial's error spoke of
    X's units alone). ``stream``: a ``partial_fit`` call diverged, which
    leaves the model as it was; it is named so, not "epoch 1" (a user trial
    read that on a stream's 18th call), and Nesterov's momentum (``"auto"``
    on dense X) is named too: in a stream it carries the kicks of rows far
    heavier than the rest, a class weighted 50 or a rare class's, from
    batch to batch, and such streams diverged where ``"sgd"``, heavy-ball
    ``"momentum"`` (damped in streams) and ``"adam"`` did not (1% positives
    under ``class_weight`` {0: 0.505, 1: 50} in calls of 1,000 rows: 3 of 10
    streams raised, none with those three; scaling X, which the error
    advised alone, did not help).
    """
    if before_any_step:
        message = (
            f"The loss is not finite (loss={value}) before any step of this call: X or y "
            "holds values too large for the loss in this floating-point type, or the "
            "model's predictions on this data overflow. Rescale X and y."
        )
    else:
        overflowed = "" if parameters_finite else ", coefficients not finite"
        where = "in this partial_fit call" if stream else f"at epoch {epoch}"
        message = f"Training diverged {where} (loss={value}{overflowed}); "
        if plain_step and penalty_step >= 1.0:
            message += (
                f"with standardize=False, learning_rate times the L2 penalty's alpha is "
                f"{penalty_step:.3g}: the penalty alone swings the coefficients about 0, its "
                "optimum, further at each step from 2 on with plain 'sgd' (from about 1.4 "
                "with Nesterov momentum). Take learning_rate below 1 / alpha, or "
                "standardize=True (the default), which measures the stable step on the "
                "data, penalty included."
            )
        elif plain_step:
            # (said of plain 'sgd' too, a trial found: only a built-in free of momentum is
            # known to be; a user's optimizer may have any)
            still = "" if _momentum_free(optimizer) else (
                " (momentum makes the stable step shorter still)"
            )  # fmt: skip
            message += (
                "with standardize=False, learning_rate is a step in the units of X and y as "
                f"they are, not a share of the stable step{still}: try a far smaller "
                "learning_rate, or standardize=True (the default), which measures the stable "
                "step on the data."
            )
        else:
            message += (
                "try a smaller learning_rate, or scale X with StandardScaler (in a Pipeline; "
                "for sparse X, MaxAbsScaler), or look for values far larger than the rest."
            )
        if stream and type(optimizer) is Nesterov and optimizer.momentum > 0:
            message += (
                " In a stream, Nesterov's momentum (optimizer='auto' on dense X) carries the "
                "kicks of rows far heavier than the rest (class_weight, sample_weight) or of "
                "a rare class from batch to batch: optimizer='sgd' or 'momentum' (damped in "
                "streams) does not."
            )
    if stream:
        message += " The call was not taken: the model is as it was before it."
    if loss is not None and is_users_loss(loss):
        name = type(loss).__name__
        if math.isfinite(value) and parameters_finite:  # it grew: a gradient that climbs it?
            message += (
                f" Or {name}, your loss, has a gradient that does not match its value "
                "(a wrong sign or scale): check it against finite differences."
            )
        elif math.isnan(value) and parameters_finite:
            # NaN at finite coefficients is the loss's own first (a user trial: a stream's
            # NaN outside a loss's domain read as a step too long, the loss named last)
            message = (
                f"{name}, your loss, gave NaN (the checks before training evaluated it on "
                f"the first {CHECK_ROWS} rows, and at the targets' median on a sample of "
                "rows, only): check its formula and domain on all of these targets and "
                f"predictions. Else: {message}"
            )
        else:
            message += (
                f" Or {name}, your loss, gives NaN or infinity for some of these targets and "
                f"predictions (the checks before training evaluated it on the first "
                f"{CHECK_ROWS} rows, and at the targets' median on a sample of rows, only): "
                "check its formula and domain on all of them."
            )
    if is_users_optimizer(optimizer):
        name = type(optimizer).__name__
        if math.isfinite(value) and parameters_finite:
            message += f" Or {name}, your optimizer, takes steps too long for the data."
        else:
            message += (
                f" Or {name}, your optimizer, gives NaN or infinity on some steps (its "
                "update was tried on one step only): check its formula."
            )
    return ValueError(message)


class Progress:
    """The stop criterion's measure of an epoch: minus its loss, in the reference loss's units.

    Not so for a loss positively homogeneous of degree 1 (the perceptron's,
    whose ``homogeneous`` is True): it scales with the predictions, and
    shrinking them towards 0, its optimum with a penalty or on classes no
    plane separates, lowers it and changes no class (on breast_cancer 250
    to 540 epochs went on so, SGDClassifier's 13 to 32). Its progress is
    the parting of the classes: its loss over the loss of predictions of
    the same size all on the wrong side (their mean absolute value, summed
    over outputs), both at the epoch's model, on up to ``_SAMPLE_ROWS``
    evenly spaced rows. (Not the loss over the parameters' norm: columns
    that repeat others, make_classification's, keep the norm while the
    predictions shrink.) Nor do its updates settle where no plane separates
    the classes: each epoch's model is a draw about the best one (held-out
    accuracy 0.51 to 0.78 epoch to epoch on make_classification), so a fit
    keeps the best seen, the pocket algorithm's way (Gallant, 1990): see
    :meth:`keep_best`. ``stop``: False for a stream's call, which has no
    stop criterion and measures nothing.
    """

    def __init__(self, objective, X, Y, sample_weight, single, stop=True):
        self.objective, self.single = objective, single
        self.homogeneous = stop and getattr(objective.loss, "homogeneous", False)
        self.pocket = None  # (wrong share, V, c) of the best epoch so far
        if self.homogeneous:
            rows = _sample_rows(X.shape[0], sample_weight)
            self.X, self.Y = HeldOut(X[rows]), Y[rows]  # (predicted at every epoch)
            self.weights = sample_weight[rows] / np.sum(sample_weight[rows])

    def __call__(self, epoch_loss, V, c):
        """The progress of an epoch of loss ``epoch_loss`` that ends at ``(V, c)``."""
        if not self.homogeneous:
            return -epoch_loss / self.objective.reference_loss
        loss, size = self._loss_and_size(V, c)
        share = loss / size if size > 0 else 1.0  # (predictions all 0: nothing parted)
        if self.pocket is None or share < self.pocket[0]:
            self.pocket = (share, V.copy(), c.copy())
        return -share

    def unit(self, V, c):
        """What a validation loss is divided by at ``(V, c)``: as :meth:`__call__` divides."""
        if not self.homogeneous:
            return self.objective.reference_loss
        size = self._loss_and_size(V, c)[1]
        return size if math.isfinite(size) and size > 0 else self.objective.reference_loss

    def keep_best(self, state):
        """At the end of a fit, a homogeneous loss's model is the pocket's (unless averaged)."""
        if self.pocket is not None and not state.n_averaged:
            state.V[...], state.c[...] = self.pocket[1:]

    def _loss_and_size(self, V, c):
        """The loss at ``(V, c)`` and the mean size of its predictions, on the sampled rows."""
        raw = self.X.raw_prediction(self.objective, V, c, self.single)
        sizes = np.abs(raw) if raw.ndim == 1 else np.abs(raw).sum(axis=1)
        losses = self.objective.loss.loss(self.Y, raw)
        return float(self.weights @ losses), float(self.weights @ sizes)
