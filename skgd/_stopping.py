"""When training stops: the stop criterion's helpers, divergence, early stopping's split."""

import numpy as np


def split_validation(X, Y, sample_weight, rng, fraction, stratify):
    """Hold out ``fraction`` of the training weight, per class if ``stratify``.

    The rows are ranked by a random projection of (X, y) seeded by
    ``rng``, so the split is random, yet copies of a sample always fall
    on the same side: nothing leaks from training into validation, and a
    sample of weight 3 is split exactly as three copies of it would be.
    The one row on the boundary of each class has its weight shared
    between the two sides, so that each side gets exactly its share and
    neither is ever empty.
    """
    Y_2d = np.reshape(Y, (len(Y), -1))
    key = np.asarray(X @ rng.normal(size=X.shape[1])).ravel() + Y_2d @ rng.normal(
        size=Y_2d.shape[1]
    )
    groups = Y if stratify else np.zeros(len(Y))
    val_weight = np.zeros_like(sample_weight)
    for group in np.unique(groups):  # a loop over classes, not samples
        members = np.flatnonzero(groups == group)
        members = members[np.argsort(key[members], kind="stable")]
        weights = sample_weight[members]
        wanted = fraction * weights.sum()
        before = np.cumsum(weights) - weights
        val_weight[members] = np.clip(wanted - before, 0, weights)
    train_weight = sample_weight - val_weight
    train, val = train_weight > 0, val_weight > 0
    validation = (X[val], Y[val], val_weight[val])
    return X[train], Y[train], train_weight[train], validation


def better(progress, than, tol):
    """Whether an epoch's (score, -validation loss) beats the best kept so far.

    Scores within ``tol`` of each other tie, and the validation loss decides.
    """
    score, neg_loss = progress
    if abs(score - than[0]) > tol:
        return score > than[0]
    return neg_loss > than[1]


def check_not_rising(curve, window):
    """Raise the divergence error for a loss that grows steadily past its start.

    A step too large for the data makes the loss grow geometrically, and it
    may stay finite for many epochs: the stop criterion would then see "no
    improvement" and stop, leaving a useless model. A converging run, even a
    noisy one, does not rise in every one of its last epochs to end above
    the loss of its first epoch.
    """
    window = min(window, len(curve) - 1)
    recent = np.asarray(curve[-(window + 1) :])
    if window >= 2 and np.all(np.diff(recent) > 0) and recent[-1] > curve[0]:
        raise diverged_error(len(curve), recent[-1])


def diverged_error(epoch, value, before_any_step=False):
    if before_any_step:
        return ValueError(
            f"The loss is not finite (loss={value}) before any step of this call: X or y "
            "holds values too large for the loss in this floating-point type, or the "
            "model's predictions on this data overflow. Rescale X and y."
        )
    return ValueError(
        f"Training diverged at epoch {epoch} (loss={value}); try a smaller "
        "learning_rate, or scale X with StandardScaler (in a Pipeline)."
    )
