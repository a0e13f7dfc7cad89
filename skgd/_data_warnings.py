"""What the data make a fit warn of before it trains: problems no descent can solve.

:func:`warn_if_flat`, the loss has no gradient at the constant;
:func:`warn_if_far_from_the_origin`, columns far from 0 without an
intercept; :func:`warn_if_shrunk_by_peaks`, sparse X's columns of values
penalized far more than dense X's. Each names what to change (the loss's
parameters, an intercept or centred columns, dense X or a lower alpha).
The estimator (``estimator``) is asked for its parameters only.
"""

import numpy as np
from scipy import sparse

from ._objective import blind_to_length, flat_outputs
from ._warning_site import warn

# Without an intercept, columns whose means pass this many spreads are far from the
# origin (see warn_if_far_from_the_origin)
_FAR_FROM_THE_ORIGIN = 10.0
# A penalty this strong against a column's own curvature shrinks its coefficient by about
# a twentieth (warn_if_shrunk_by_peaks); one this strong shrinks dense X's (of curvature 1)
# by a tenth itself; a column stored in this share of the rows or more holds values, not
# the rare features sparse X is scaled for (not a quarter, skgd._sparse_scales' own line:
# from there it warned of tf-idf's common words at the default alpha, a review); a column
# curved this much of dense X's or less is shrunk at least twice as much as there
_SHRINK, _DENSE_SHRUNK, _DENSE_VALUED, _LESS_CURVED = 0.05, 0.1, 0.5, 0.5


def warn_if_flat(estimator, loss, Y, sample_weight, loc, single):
    """Warn of outputs whose loss is flat on every row at the constant (see flat_outputs)."""
    flat = flat_outputs(loss, Y, sample_weight, loc, single)
    if not flat.any():
        return
    which = "" if len(flat) == 1 else f" of outputs {np.flatnonzero(flat).tolist()}"
    where = "the best constant" if estimator.fit_intercept else "the origin (no intercept)"
    if len(flat) == 1 and blind_to_length(loss, 2):
        # (the cosine of one output: its direction is its sign, and the best constant's
        # matches every target's; an epsilon to choose was no advice for it, a user trial)
        advice = (
            "A loss of the predictions' directions compares one output's signs alone: give "
            'y two columns or more (an embedding), or take a loss of the values ("squared_error", '
            '"huber").'
        )
    elif hasattr(loss, "epsilon"):
        advice = (
            "Choose the loss's parameters for these targets (an epsilon below the residuals "
            "you want to ignore)."
        )
    else:
        advice = "Choose the loss's parameters for these targets, or another loss."
    warn(
        f"{loss!r} has a gradient of 0 on every training target{which} at {where}, "
        f"{_listed(np.asarray(loc)[flat])}, though the targets vary: training has no "
        f"gradient to follow there, and the model is one of many equally good. {advice}",
        UserWarning,
    )


def warn_if_shrunk_by_peaks(estimator, X, objective, x_stats, stored):
    """Warn when sparse X's columns of values are shrunk by alpha far more than dense X's.

    Sparse X is divided by each column's largest magnitude (as
    ``MaxAbsScaler``: a rare feature divided by its small deviation would
    make its rows huge), dense X by each column's deviation, and ``alpha``
    penalizes the coefficients in those units. A column stored in most rows
    with a long tail was then curved ``E[x²] / peak²`` in them, a thousandth
    for the flight delays a ``ColumnTransformer`` passes beside one-hot
    columns (sparse by its default ``sparse_threshold``; largest 1,301
    minutes for a deviation of 40): ``alpha=1e-4`` shrank its coefficient
    from 0.107 to 0.023 and the accuracy from 0.90 to 0.85, with no word.
    Such a column is now scaled nearer its root mean square the more rows
    store it (:mod:`skgd._sparse_scales`: from a quarter of them, all the
    way from three quarters), and one stored in half the rows halfway: its
    penalty can still weigh far more than dense X's. The fit converges to
    that optimum, so only the data can tell. Warned of: a column stored in
    at least half the rows (by their weight, as the scales count them:
    ``stored``, the weight of the rows that store each column and of all
    rows, see :meth:`skgd._stream_columns.StreamColumns._stored_weight`;
    counted by rows, man pages' tf-idf under balanced class weights was
    warned of for words in more than half the pages, 'access', 'commands',
    whose rows weigh under a quarter and which are scaled by their peak as
    rare features: lowering alpha changed nothing, and X dense is 1.2 GB, a
    user trial), uncentred,
    whose curvature the L2 penalty reaches a twentieth of (a flights
    regression's delays at 0.075, under a former gate of a tenth: R² 0.878
    where Ridge reaches 0.886), where the same penalty on dense X (a
    curvature of 1) would not, its curvature at most half of dense X's. Not
    one in a third of the rows, which keeps most of its peak's scale
    (positive delays alone, in 39% of the flights: scaled 640 for a root
    mean square of 43, accuracy 0.895 where dense X reaches 0.904): from a
    quarter of the rows on, the warning fired on tf-idf text's common words
    at the default alpha, where passing X dense is no remedy. Asked at a
    fit and a stream's first call only: once, not at every chunk (a stream
    whose later chunks grow a column's peak is not warned of).
    """
    if not sparse.issparse(X) or stored is None or X.shape[0] == 0:
        return
    # (L2's part: it shrinks a coefficient in proportion to its curvature; L1 moves
    # each by a fixed amount, and a review found it lost 0.001 on the same flights)
    strength = float(np.max(objective.l2))
    # (no L2, or one that shrinks dense X by a tenth itself: the gate a column's own
    # shrinking takes is no bound here, as a review found at alpha=0.07, which left
    # sparse X's delays 0.023 of dense X's coefficient unwarned)
    if not 0 < strength < _DENSE_SHRUNK:
        return
    # (the few columns stored in most rows first: wide text has none, and 2**20 columns
    # of arithmetic would cost a wide fit milliseconds)
    weight, total = stored
    stored = np.flatnonzero(np.asarray(weight) >= _DENSE_VALUED * total)
    stored = stored[np.asarray(objective.x_mean)[stored] == 0]
    with np.errstate(all="ignore"):
        mean, std = np.asarray(x_stats.mean)[stored], np.asarray(x_stats.std)[stored]
        scale = np.asarray(objective.x_scale)[stored]
        curvature = (std * std + mean * mean) / (scale * scale)
        shrunk = (curvature > 0) & (strength >= _SHRINK * curvature)
        shrunk &= curvature <= _LESS_CURVED  # (else about as dense X's: alpha's own doing)
    if not shrunk.any():
        return
    which, curvature = stored[shrunk], curvature[shrunk]
    names = getattr(estimator, "feature_names_in_", None)
    named = [str(names[j]) if names is not None else str(j) for j in which[:3]]
    more = f" and {len(which) - 3} more" if len(which) > 3 else ""
    ratio = float(np.max(1.0 / np.sqrt(curvature)))
    warn(
        f"Sparse X has columns of values stored in many rows (column {', '.join(named)}"
        f"{more}; up to {ratio:.3g} times their root mean square): sparse X is scaled "
        "toward each column's largest magnitude (as MaxAbsScaler) the fewer rows store it, "
        "dense X by its deviation, so "
        f"alpha={estimator.alpha!r} shrinks their coefficients far more than on dense X "
        "(a ColumnTransformer's numeric columns beside one-hot ones are sparse by its "
        "default sparse_threshold=0.3; its get_feature_names_out() names the columns). "
        "Pass X dense (ColumnTransformer(..., sparse_threshold=0)), or lower alpha.",
        UserWarning,
    )


def warn_if_far_from_the_origin(x_stats):
    """Warn when, without an intercept, columns of X lie far from 0 for their spread.

    Without an intercept X is not centred (its mean is part of the model),
    and columns whose means dwarf their spreads share one direction: the
    descent's curvature along it is their means' squares, along the rest
    their spreads', and it crawls there. Five columns of about 50 +- 1:
    R² -0.08 with "sgd", 0.79 with "nesterov", where least squares reaches
    0.95, with no word (a user trial). Two such columns at least: one alone
    is its own direction. A constant column of X (``sm.add_constant``'s
    ones, with the intercept off, as statsmodels users pass it) is such a
    column, its spread 0: beside one column of 50 +- 1, R² 0.56 where least
    squares reaches 0.91; Participation's logit 11% of its gap from the
    constant model short, with no word (a user trial).
    """
    mean, std = np.abs(np.asarray(x_stats.mean)), np.asarray(x_stats.std)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = (mean > 0) & (mean > _FAR_FROM_THE_ORIGIN * std)
        ratio = np.where(std > 0, mean / std, np.inf)
    spread = far & (std > 0)
    constant = np.count_nonzero(far) - np.count_nonzero(spread)
    # (constant columns share one direction, and nothing between them to crawl along:
    # a review's [ones, ones, z] warned, its fit equal to least squares)
    if np.count_nonzero(spread) + min(constant, 1) < 2:
        return
    which = f" ({constant} of them constant)" if constant else ""
    warn(
        f"Without an intercept, {np.count_nonzero(far)} columns of X{which} have means over "
        f"{_FAR_FROM_THE_ORIGIN:g} times their spread (up to {np.max(ratio[spread]):.3g} "
        "times): the descent crawls along their differences and stops far from the "
        "optimum. Fit an intercept (and drop a column of ones), or centre those columns "
        "(a StandardScaler in a Pipeline), or lower tol.",
        UserWarning,
    )


def _listed(values):
    """An array's values for a message: one as its number, several as a list."""
    values = np.asarray(values, dtype=float).ravel().tolist()
    return f"{values[0]:.6g}" if len(values) == 1 else str(values)
