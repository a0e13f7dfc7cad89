"""The course's first step: standardize X with the training data's statistics.

The estimators never transform X. They keep the weighted mean and variance
of each feature (:class:`FeatureStats`), and the objective trains the
coefficients of the standardized features from them (see
:mod:`skgd._objective`). X is never copied, and sparse X stays sparse.

``fit`` takes the statistics of its data; each ``partial_fit`` call merges
its chunk into running statistics, as ``StandardScaler.partial_fit`` does,
so that the standardization follows a stream.
"""

import math
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

from . import _kernel, _sparse_statistics_passes, _statistics_passes
from ._compiled import _exact

# Statistics are accumulated over blocks of rows of about this many values,
# in float64: a temporary of 1 MB, whatever the size of X or its dtype.
_BLOCK_ELEMENTS = 2**17
# the deviations that say "one row" to skgd._statistics_passes.merge_statistics
_ONE_ROW = np.zeros(0)
# A stream's target spread for a loss of bounded gradient: its recent targets' robust
# spread where y's standard deviation is more than this many of it (see
# outlier_bounded_spread)
_ROBUST_SPREADS = 3.0
# ... of at least this many rows: a stream's first call of 10 rows holding the wild
# target set the spread for good (its origin and first steps: held-out R² -24,600 where
# the target in a later call left 0.33). A first call of 10 clean normal targets takes
# the robust spread 3.3% of the time, that call's steps then shorter (8 rows: 7.1%; 20:
# 0.1%; a review)
_ROBUST_ROWS = 10
# ... taken by an insertion sort compiled up to this many rows (a stream's recent
# targets, skgd._base._RECENT_ROWS of them), by numpy's sort beyond (a chunk of its own)
_SORTED_IN_PLACE = 64


class ColumnFinds:
    """What the statistics' pass finds beside them: column peaks and counts, or ranges.

    A sparse fit hands one to :meth:`FeatureStats.update` and takes them
    for its column peaks and value counts, instead of two more passes over
    X (hashed text at 2**20 columns: ~5 ms of a ~150 ms fit, page faults
    included). ``peak``: each column's largest magnitude over the rows of
    positive weight (:func:`column_peak`'s); ``counts``: its number of
    stored values (``np.bincount(X.indices)``), None when rows of weight 0
    were left out (the counts are over every row). Both None until a
    compiled sparse pass fills them. ``range``: dense X's ``(low, high)``,
    each column's least and greatest value over the rows of positive
    weight, which the dense passes find on their way (None until they do;
    ``low > high`` where no row counts).
    """

    __slots__ = ("peak", "counts", "range")

    def __init__(self):
        self.peak = self.counts = self.range = None


class FeatureStats(NamedTuple):
    """Weighted mean and standard deviation of each feature, and the weight they summarise.

    The standard deviation, not the variance, so that values near the float
    limit keep finite statistics. Read-only: :meth:`update` returns new
    statistics, so a rejected ``partial_fit`` keeps the old ones untouched.
    (A tuple, not a frozen dataclass, which sets each field through
    ``object.__setattr__``: a stream's call makes four.)
    """

    mean: np.ndarray
    std: np.ndarray
    weight: float

    @classmethod
    def empty(cls, n_features):
        zeros = np.zeros(n_features)
        return cls(zeros, zeros, 0.0)

    def update(self, X, sample_weight, weight_unit=1.0, row_norms=None, finds=None):
        """These statistics merged with those of ``X`` (Chan, Golub and LeVeque).

        ``weight_unit``: ``sample_weight`` is in units of it (the weights the
        user gave, divided by it, so that they sum without overflow).
        ``row_norms``: a :class:`skgd._row_norms.RowNorms` of X, filled on the way if it can be;
        ``finds``: a :class:`ColumnFinds`, likewise.
        """
        if X.shape[0] == 1 and self.weight != 0 and type(X) is np.ndarray:
            merged = self._with_row(X[0], float(sample_weight[0]), weight_unit)
            if merged is not None:  # (a row of positive weight: its own range)
                if finds is not None:
                    finds.range = (X[0], X[0])
                return merged
        mean, std, weight = _stats_of(X, sample_weight, row_norms, finds)
        weight *= weight_unit
        if weight == 0:
            return self
        if self.weight == 0:
            return FeatureStats(mean, std, weight)
        share = weight / (self.weight + weight)
        if _kernel.ENABLED and _kernel.numba is not None:  # one compiled call, to the bit the same
            merged = _statistics_passes.merge_statistics(self.mean, self.std, mean, std, share)
            return FeatureStats(*merged, self.weight + weight)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            delta = mean - self.mean
            unit = np.maximum(np.maximum(self.std, std), np.abs(delta))  # no overflow
            unit[unit == 0] = 1.0
            var = (1 - share) * (self.std / unit) ** 2 + share * (std / unit) ** 2
            var += (delta / unit) ** 2 * share * (1 - share)
        return FeatureStats(self.mean + delta * share, unit * np.sqrt(var), self.weight + weight)

    def _with_row(self, row, weight, weight_unit):
        """:meth:`update` by one dense row of positive weight in one compiled call; else None.

        What the general path gives, to the bit (the same merge, of the row's
        values and deviations of 0), without its copies and calls: a
        streamed row's call is all fixed costs.
        """
        if not (weight > 0 and _kernel.ENABLED and _kernel.numba is not None):
            return None
        weight *= weight_unit
        if weight == 0:  # (a weight that underflows in the user's units: nothing to merge)
            return self
        share = weight / (self.weight + weight)
        merged = _statistics_passes.merge_statistics(self.mean, self.std, row, _ONE_ROW, share)
        return FeatureStats(*merged, self.weight + weight)

    def standardization(self, fit_intercept, dtype):
        """The ``(mean, scale)`` that standardize X, and which features are constant.

        Without an intercept the data cannot be centred (the intercept is
        what absorbs the mean): the mean is 0 and the scale is the root mean
        square. A constant feature (a single value on the rows of non-zero
        weight: a deviation of exactly 0, see :func:`_stats_of`) gets scale 1
        here and stays at its starting coefficient. No tolerance here: a
        feature of any scale that varies is a feature. (The objective then
        gives a centred column constant but for its last bits the scale of
        its mean, see :func:`rounding_scales`.)
        """
        if fit_intercept and _compiled_standardization(self.mean, dtype):
            return _statistics_passes.standardization(self.mean, self.std, dtype)
        constant = self.constant(fit_intercept)
        scale = self.std if fit_intercept else np.hypot(self.std, self.mean)
        # (a constant feature's scale is 0 already: std 0, or std and mean 0)
        scale = np.where(~np.isfinite(scale) | (scale == 0), 1.0, scale)
        mean = self.mean if fit_intercept else np.zeros_like(self.mean)
        return mean.astype(dtype), scale.astype(dtype), constant

    def constant(self, fit_intercept):
        """Which features are constant, as :meth:`standardization` says, without its scales."""
        if fit_intercept:
            return self.std == 0
        return (self.std == 0) & (self.mean == 0)


def within_rounding(std, dtype, value_range=None):
    """Which columns are constant, or vary by rounding alone: three adjacent floats at most.

    ``std``: the columns' deviations (float64); ``dtype``: X's;
    ``value_range``: the columns' ``(low, high)`` over the same rows, or
    None. A column whose half range is at most one ulp (in ``dtype``) of
    its largest magnitude: ``{m - u, m, m + u}`` at most, whatever the
    number of rows (scikit-learn's ``StandardScaler`` tests ``n_samples *
    eps``: at 200,000 rows, a 0.1% flag added to 2e9 fell below it). The
    range, which dense X gives, is exact, where the deviation is not: the
    statistics' sums round, and deviations from a mean rounded by some ulps
    are as many ulps (diabetes' 442 rows of ``1e20 * (t * 0.37 / t /
    0.37)``, values one ulp apart: a deviation of 35 ulps, numpy's two
    passes 0.12). And only the range tells a few levels from rounding:
    float32 epoch seconds (an ulp of 128 s) over 600 s, five levels, have a
    deviation of an ulp, and over 400 s four; both are features (rules by
    the deviation at 4 units, then by the half range at ``eps * |mean|``,
    up to two ulps, muted them: held-out R² 0.94 to 0.21, 0.92 to 0.40;
    two reviews). Without a range (sparse X, whose pass does not keep one,
    or a stream from before ranges were kept): the exactly constant ones.
    """
    if value_range is None:
        return std == 0
    low, high = (np.asarray(bound, dtype=np.float64) for bound in value_range)
    with np.errstate(over="ignore", invalid="ignore"):
        largest = np.maximum(np.abs(low), np.abs(high)).astype(dtype)
        ulp = np.spacing(largest).astype(np.float64)
        return 0.5 * (high - low) <= ulp  # (a NaN or an infinity: no)


def rounding_scales(x_mean, x_scale, mean, std, dtype, value_range=None):
    """``x_scale``, with their mean's magnitude for centred columns constant but for rounding.

    A centred constant column had scale 1: its values as they are, whose
    centring, ``x - mean`` taken as ``x * V - mean * V``, rounded at their
    size. A column of 1e20 beside diabetes' (float64, or float32) took its
    coefficient from that rounding and the fit diverged ("Training
    diverged at epoch 8"); at 1e10 its coefficient was -1.7e-4, not 0.
    A column constant but for its rounding (``t * 0.37 / t / 0.37``: 1,
    give or take an ulp) has a deviation of about an ulp of its mean. Its
    standardized values, divided by that deviation, were a feature of
    noise of unit spread, and its coefficient in X's units that noise's
    over 1e-16: diabetes with such a column, a coefficient of 1.8e17 and
    an intercept of -1.8e17, held-out R² 0.25 where it is 0.36 without the
    column, predictions moved by up to 32 with the column's last bit.
    Divided by its mean's magnitude, its standardized values are within
    :func:`within_rounding`'s ulps of 0: no gradient moves its coefficient,
    and its values, of any size, weigh nothing in the loss or the
    curvature. (Scale 1, as a constant's, left the ulps in X's units:
    values of 1e20 differ from their mean by 1e5.) ``value_range``: see
    :func:`within_rounding`. Returns ``(x_scale, rounding)``: a new array
    if any scale changes, else ``x_scale``; and which columns, or None.
    """
    if value_range is not None and _compiled_standardization(x_mean, dtype):
        rounding = _statistics_passes.rounding_columns(*value_range, x_mean, dtype)
    else:
        rounding = within_rounding(std, dtype, value_range) & (x_mean != 0)
    if rounding is None or not rounding.any():
        return x_scale, None
    at = np.flatnonzero(rounding)
    x_scale = np.array(x_scale, copy=True)
    x_scale[at] = np.maximum(x_scale[at], np.abs(mean[at]).astype(dtype))
    return x_scale, rounding


def first_rows_scales(scale, stats, share):
    """``scale``, ``1 / share**2`` times longer for the columns that vary: a stream's first rows.

    ``share``: the rows a dense stream has seen, over the rows it takes
    before their deviations are trusted
    (:meth:`skgd._stream_columns.StreamColumns._stream_rows`).
    Two rows' deviations say little of the columns' spreads: diabetes' X,
    as scikit-learn ships it, gave some columns 1/100 of theirs, and the
    second call's step, stable for those two rows, set coefficients whose
    held-out predictions of counts below 10 reached 2e12 (Nesterov; 1e5
    plain SGD) before the third row showed the scales. A longer scale makes
    the columns' standardized values, and so their steps, shorter: most at
    the stream's first rows, less at each row, not at all once the rows
    are enough (the steps warm up, as the statistics settle). Deviations
    only, never the values' size: the model stays the same wherever X's
    origin is. A constant column keeps its scale of 1; a scale that would
    overflow keeps its own.
    """
    with np.errstate(over="ignore"):
        longer = scale / np.asarray(share * share, dtype=scale.dtype)
    return np.where((stats.std > 0) & np.isfinite(longer), longer, scale)


def outlier_bounded_spread(spread, Y, weights):
    """``spread`` (y's running standard deviation), or ``Y``'s robust spread if far below it.

    For a stream's loss whose gradient is bounded (absolute error, Huber's,
    epsilon-insensitive), ``Y`` its recent targets: the spread is the unit
    of the model's moves, and one wild target inflates a standard
    deviation for good (diabetes, one target of 1e5 among values up to 346:
    from 79 to 7,869; the moves, 100 times longer, ended the stream at a
    held-out R² of -16 with the absolute error, against 0.28 without it;
    scikit-learn's SGD ignores the row). The robust spread is the weighted
    median absolute deviation from the weighted median, times 1.4826 (a
    normal sample's standard deviation), which one target of 64 cannot
    move, and takes the spread's place where the spread is more than
    _ROBUST_SPREADS of it. Below, as with the targets of few outliers, the
    spread is kept to the bit; and so it is over fewer than _ROBUST_ROWS
    rows, or with no robust spread (half the targets of one value).
    """
    if np.count_nonzero(weights > 0) < _ROBUST_ROWS:  # (too few to tell a median's spread)
        return spread
    weights = weights / np.maximum.reduce(weights)  # (sums of weights near the float limit)
    Y = Y.reshape(len(Y), -1)
    if Y.dtype.kind != "f":  # (integer targets: their deviations from the median in float)
        Y = Y.astype(np.float64)
    compiled = _kernel.ENABLED and _kernel.numba is not None
    if compiled and len(Y) <= _SORTED_IN_PLACE:  # (a stream's call of one row feels numpy's)
        robust = np.empty(Y.shape[1])
        _compiled_median_deviations(Y, weights, np.empty(len(Y), dtype=np.intp), robust)
    else:
        robust = _weighted_medians(np.abs(Y - _weighted_medians(Y, weights)), weights)
        robust = robust.astype(np.float64)  # (as the compiled path keeps it)
    robust *= 1.4826
    return np.where((robust > 0) & (_ROBUST_SPREADS * robust < spread), robust, spread)


def _weighted_medians(Y, weights):
    """Each column's weighted median: its lowest value with half the weight at or below it."""
    order = np.argsort(Y, axis=0, kind="stable")
    cumulative = np.cumsum(weights[order], axis=0)
    # (the first place where the cumulative weight reaches half: searchsorted's, a column at once)
    at = (cumulative < 0.5 * cumulative[-1]).sum(axis=0)
    columns = np.arange(Y.shape[1])
    return Y[order[at, columns], columns]


@_exact
def _compiled_median_deviations(Y, weights, order, robust):
    """``robust[k]``: column k's weighted median absolute deviation from its weighted median.

    :func:`_weighted_medians`' twice, to the bit: the same stable order
    (an insertion sort, for at most ``_SORTED_IN_PLACE`` rows) and the same
    sums.
    """
    deviations = np.empty(Y.shape[0])
    for k in range(Y.shape[1]):
        centre = _compiled_median(Y[:, k], weights, order)
        for i in range(Y.shape[0]):
            deviations[i] = abs(Y[i, k] - centre)
        robust[k] = _compiled_median(deviations, weights, order)


@_exact
def _compiled_median(values, weights, order):
    n = values.shape[0]
    for i in range(n):  # a stable insertion sort of the places
        value, j = values[i], i
        while j > 0 and values[order[j - 1]] > value:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i
    total = 0.0
    for i in range(n):
        total += weights[order[i]]
    half, cumulative = 0.5 * total, 0.0
    for i in range(n):
        cumulative += weights[order[i]]
        if not cumulative < half:
            return values[order[i]]
    return values[order[n - 1]]


def _stats_of(X, sample_weight, row_norms=None, finds=None):
    """Weighted mean, standard deviation and total weight of the columns of ``X``, in float64.

    Two passes over row blocks, so that no temporary the size of X is made
    and float32 X is summed in float64. The first finds each column's range;
    the second sums each block divided by a power of two near the column's
    largest magnitude, an exact rescaling: values of any size, from 1e-300 to
    the float limit, then give the same statistics, scaled, and no square
    under- or overflows. A column that takes a single value on the rows of
    non-zero weight is constant: its mean is that value and its deviation
    exactly 0; only such columns have a deviation of 0. ``row_norms`` (a
    :class:`skgd._row_norms.RowNorms` of dense X) is filled by the compiled pass,
    and ``finds`` (a :class:`ColumnFinds`) by either.
    """
    whole = True  # (every row of X counts: the pass's counts are X's own)
    if sparse.issparse(X):  # (its compiled pass reads every stored value, of any weight)
        counted = rows_that_count(X, sample_weight)
        whole = counted is X
        if not whole:
            X, sample_weight = counted, sample_weight[sample_weight > 0]
    n_samples, n_features = X.shape
    if n_samples == 1:
        # A stream of single rows: each column takes one value, so what the
        # passes below would find is that value and a deviation of exactly 0,
        # without their fixed cost on every call.
        total = float(sample_weight[0])  # (the sum of one weight, in float64: the weight)
        if not total > 0:
            return np.zeros(n_features), np.zeros(n_features), total
        row = X.toarray()[0] if sparse.issparse(X) else X[0]
        if finds is not None and not sparse.issparse(X):
            finds.range = (row, row)
        return row.astype(np.float64), np.zeros(n_features), total
    # ndarray.sum's and np.max's reductions without their wrappers (a stream's call feels them)
    total = float(np.add.reduce(sample_weight, dtype=np.float64))
    weight_unit = _weight_unit(sample_weight)
    rows = rows_per_block(X)
    if _compiled(X):
        return _compiled_stats_of(
            X, sample_weight, weight_unit, total, rows, row_norms, finds, whole
        )
    blocks = [slice(start, start + rows) for start in range(0, n_samples, rows)]
    blocks = [b for b in blocks if np.any(sample_weight[b] > 0)]  # the others add nothing

    low, high = np.full(n_features, np.inf), np.full(n_features, -np.inf)
    for b in blocks:
        block, weighted = X[b], sample_weight[b] > 0
        if not weighted.all():
            block = block[weighted]
        block_low, block_high = _column_range(block)
        low, high = np.minimum(low, block_low), np.maximum(high, block_high)
    if finds is not None and not sparse.issparse(X):
        finds.range = (low, high)
    if not blocks:
        return np.zeros(n_features), np.zeros(n_features), total
    unit = _power_of_two(np.maximum(np.abs(low), np.abs(high)))

    mean, m2, weight = np.zeros(n_features), np.zeros(n_features), 0.0
    for b in blocks:
        w = sample_weight[b].astype(np.float64) / weight_unit
        block_weight = w.sum()
        if sparse.issparse(X):
            block = X[b].astype(np.float64)  # a copy of the block's rows only
            block.data /= unit[block.indices]
            block_mean, block_var = mean_variance_axis(block, axis=0, weights=w)
            block_m2 = block_var * block_weight
        else:
            block = X[b].astype(np.float64)  # the one temporary, in place from here
            block[w == 0] = 0.0  # absent rows: their values must not overflow the sums
            block /= unit
            block_mean = (w @ block) / block_weight
            block -= block_mean
            block *= block
            block_m2 = w @ block
        # Chan, Golub and LeVeque's merge of two sets' statistics
        share = block_weight / (weight + block_weight)
        delta = block_mean - mean
        mean = mean + delta * share
        m2 = m2 + block_m2 + delta * delta * weight * share
        weight += block_weight

    return (*_in_units(mean, m2, weight, unit, low, high), total)


def _weight_unit(sample_weight):
    """:func:`_power_of_two` of the largest weight (of 0 if none), as the 0-d array it gives.

    Compiled where the passes are (numpy's max and four calls cost a
    stream's call of a few rows microseconds); a 0-d array either way, so
    that the passes keep the one compiled version.
    """
    if _kernel.ENABLED and _kernel.numba is not None:
        return np.array(_largest_power_of_two(sample_weight))
    return _power_of_two(np.max(sample_weight, initial=0.0))


@_exact
def _largest_power_of_two(weights):
    """``_power_of_two(np.max(weights, initial=0.0))``, as a float: a NaN weight gives 1."""
    peak = 0.0
    for i in range(weights.shape[0]):
        w = np.float64(weights[i])
        if w > peak or w != w:  # (a NaN stays, as np.max keeps it)
            peak = w
    return math.ldexp(1.0, min(max(math.frexp(peak)[1], -1021), 1023)) if peak > 0 else 1.0


def _in_units(mean, m2, weight, unit, low, high):
    """Mean and deviation in X's units, from moments in ``unit``; exactly one value: std 0."""
    std = np.sqrt(np.maximum(m2, 0) / weight) * unit
    constant = low == high
    mean = np.where(constant, low, mean * unit)
    std[constant] = 0.0
    return mean, std


def _compiled_standardization(mean, dtype):
    """Whether :func:`skgd._statistics_passes.standardization` serves: compiled code, a float dtype.

    Its one pass took the place of eight (the where, the tests and the casts)
    over wide data's columns, and of their eight calls' cost on a stream's
    few features (about 5 us a call).
    """
    compiled = _kernel.ENABLED and _kernel.numba is not None
    return compiled and dtype in (np.float32, np.float64)


def _compiled(X):
    """Whether the compiled passes over X serve: dense X, or CSR X without duplicates."""
    if not _kernel.ENABLED or _kernel.numba is None:
        return False
    return not sparse.issparse(X) or (X.format == "csr" and X.has_canonical_format)


def _compiled_stats_of(
    X, sample_weight, weight_unit, total, rows, row_norms=None, finds=None, whole=True
):
    """:func:`_stats_of` compiled: one pass over dense X, three over sparse X's stored values.

    For sparse X, the numpy path's scipy and scikit-learn calls convert
    each block to columns: about 0.2 s on 15,000 rows of 2**18 columns,
    a quarter of SGDClassifier's whole fit. The compiled passes
    (:func:`skgd._sparse_statistics_passes.sparse_statistics`) cost O(the stored values)
    and a few passes over the columns in all. Given ``finds``, they also
    find each column's peak and count of values (the counts only if
    ``whole``: X is the caller's, no row left out).
    """
    if not sparse.issparse(X):  # one pass: the range found block by block
        none = np.empty(0)
        shift, inverse, norms = (none, none, none) if row_norms is None else row_norms.arrays()
        low, high, unit, mean, m2, weight = _statistics_passes.column_statistics(
            X, sample_weight, weight_unit, rows, shift, inverse, norms
        )
        if finds is not None:
            finds.range = (low, high)
        if row_norms is not None:
            row_norms.filled = True
        # mean and m2 become the mean and deviation in X's units, in place
        if not _in_units_in_place(low, high, unit, mean, m2, weight):
            return np.zeros(X.shape[1]), np.zeros(X.shape[1]), total
        return mean, m2, total
    arrays = (X.data, X.indices, X.indptr, sample_weight)
    if finds is None:
        found = _sparse_statistics_passes.sparse_statistics(*arrays, weight_unit, X.shape[1])
    else:
        found, finds.peak, counts = _sparse_statistics_passes.sparse_statistics(
            *arrays, weight_unit, X.shape[1], peaks=True
        )
        finds.counts = counts if whole else None
    if found is None:  # no row of non-zero weight
        return np.zeros(X.shape[1]), np.zeros(X.shape[1]), total
    return (*found, total)


@_exact
def _in_units_in_place(low, high, unit, mean, m2, weight):
    """:func:`_in_units` compiled, into ``mean`` and ``m2``; False if no row counted (low > high).

    numpy's eight calls on arrays of a few columns cost a stream's call more
    than its pass over the rows. Compiled without fast-math flags: each
    value is numpy's, to the bit (``m2`` is never negative, nor -0).
    """
    counted = False
    for j in range(low.shape[0]):
        counted |= not low[j] > high[j]  # (a column with a NaN: counted, as np.all says)
    if not counted:
        return False
    for j in range(low.shape[0]):
        m = m2[j] if m2[j] >= 0 or m2[j] != m2[j] else 0.0  # np.maximum(m2, 0): NaN stays
        if low[j] == high[j]:
            mean[j], m2[j] = low[j], 0.0
        else:
            mean[j], m2[j] = mean[j] * unit[j], np.sqrt(m / weight) * unit[j]
    return True


def rows_that_count(X, sample_weight):
    """The rows of X whose weight is positive (X itself when every weight is).

    A row of weight 0 is as good as absent (scikit-learn's meaning of sample
    weights), so it must not decide a column's scale or the largest step,
    however large its values. Rows are copied only when some weight is 0.
    """
    if sample_weight is None:
        return X
    counts = sample_weight > 0
    if counts.all() or not counts.any():
        return X
    return X[counts]


def column_peak(X, sample_weight=None):
    """The largest magnitude of each column of sparse X over its rows of positive weight."""
    X = rows_that_count(X, sample_weight)
    if _compiled(X):
        return _sparse_statistics_passes.sparse_column_peak(X.data, X.indices, X.shape[1])
    low, high = min_max_axis(X, axis=0)
    return np.maximum(np.abs(low), np.abs(high)).astype(np.float64)


def rows_per_block(X):
    """How many rows of X hold about ``_BLOCK_ELEMENTS`` stored values.

    By the non-zeros for sparse X: wide sparse rows (2**18 columns, 30
    values) would otherwise make blocks of one row, a Python loop per row.
    """
    if type(X) is np.ndarray and X.shape[0] > 0:  # (its columns: a call of few rows feels issparse)
        per_row = max(float(X.shape[1]), 1.0)
    else:
        stored = X.nnz if sparse.issparse(X) else X.shape[0] * X.shape[1]
        per_row = max(stored / max(X.shape[0], 1), 1.0)
    return max(1, int(_BLOCK_ELEMENTS // per_row))


def _column_range(block):
    """The smallest and largest value of each column of a block, as float64."""
    if sparse.issparse(block):
        low, high = min_max_axis(block, axis=0)  # implicit zeros count
    else:
        low, high = block.min(axis=0), block.max(axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _power_of_two(values):
    """A power of two near each value (1 for 0): dividing by it is exact and leaves 0.5..1.

    At most 2**1023, the largest power of two a float holds (2**1024 would be
    inf, and a column divided by it NaN): values past it are left in 1..2.
    At least 2**-1021, the smallest whose inverse a float holds: a column of
    subnormal values (1e-310) made its inverse inf, and its mean NaN.
    """
    exponent = np.frexp(np.asarray(values, dtype=np.float64))[1]
    exponent = np.clip(exponent, _LEAST_EXPONENT, 1023)
    return np.where(np.asarray(values) > 0, np.ldexp(1.0, exponent), 1.0)


# The least exponent of a unit: 2**-1021, whose inverse 2**1021 a float holds
_LEAST_EXPONENT = -1021
