"""Compiled passes for the statistics of dense X, and for what follows from them.

Before training: each column's range and weighted moments, one pass over X
by row blocks (:func:`column_statistics`); a running statistic's merge with
a new set's (:func:`merge_statistics`); and the standardization's arrays
from the statistics (:func:`standardization`). Each is one pass with no
temporary the size of X (issue 11's memory point), reading X in its own
dtype and summing in float64. The numpy paths in :mod:`skgd._standardize`
give the same results (the tests compare both); ``skgd._kernel.ENABLED =
False`` selects them. Sparse X's statistics, which sort or number its
stored values by column, are in :mod:`skgd._sparse_statistics_passes`.
"""

import math

import numpy as np

from ._compiled import _exact, _prefetch, jit, jit_inline

# A block read once sums its rows' deviations from the running mean by parts of
# this many rows: where the deviations share a sign (the block's mean off the
# running one), their sum's rounding grows with the rows added in a row.
_PART_ROWS = 128


@jit
def column_statistics(X, weights, weight_unit, block_rows, shift, inverse_scale, norms):
    """Each column's range, and the weighted mean and squared deviations of ``X / unit``.

    One pass over X, by row blocks of ``block_rows``, in float64. Each
    block is read from memory once, for its range (over the rows of
    non-zero ``weights``) and its weighted sum (with ``weights /
    weight_unit``). The first block of positive weight has its squared
    deviations taken by a second pass over it in cache; each block after it
    sums its deviations from the running mean and their squares in its one
    read, which give its mean and squared deviations (the second pass was
    compute-bound: the whole took 2.5 reads of X on an Intel Xeon, and
    200,000 x 100 fits spent a sixth of five epochs' time in it). A column
    whose sums cancel (the block's mean far from the running one, beside its
    spread) takes two passes over the block in cache; a block that changed a
    unit, or where more than an eighth of the columns cancel, is taken as
    the first is. On two reviews' adversarial columns (indicators and small
    integers, blocks off the running mean) the moments stayed within 1e-14
    of the exact ones (the two passes': 1e-15); where the blocks' means sit
    far from the running one for their spread (years, sorted), the merges
    of either lose more (a trial's sorted years: 4e-13, the two passes
    7e-13). Each block's moments are merged into the running ones by Chan,
    Golub and LeVeque's formula, as the numpy path of
    :func:`skgd._standardize._stats_of` does.

    ``unit`` is a power of two near each column's largest magnitude (the
    numpy path's ``_power_of_two``), so that no square under- or
    overflows. The numpy path finds it in a pass of its own first; here it
    is that of the blocks read so far, and when a block raises it, the
    running mean and squared deviations are rescaled by the ratio of the
    two powers of two. Scaling by a power of two is exact, so the
    rescaling adds no rounding (unless a ratio beyond 2**500 takes a
    running sum below the smallest float: a part far under the rounding of
    the new block's), though a block that raises a unit is summed in two
    passes where, the unit known from the start, it would have been read
    once; the numpy path's sums differ by rounding (about 1e-15). Returns
    ``(low, high, unit, mean, m2, weight)``.

    ``norms``, if it has a place for every row, receives each row's squared
    norm standardized provisionally, ``||x_i * inverse_scale - shift||^2``
    (-inf on rows of weight 0), in the read of the row that sums its
    squares: the curvature's largest row norm then needs no read of X of its
    own (see :class:`skgd._row_norms.RowNorms`).

    Both passes take four rows of positive weight at a time, in one pass
    over the columns, each column's range and sums held in registers across
    them: one row at a time, loading and storing them for every value made
    the pass compute-bound (float32 X: 18 ms, three times a read of it;
    four at a time, 12). Each column's sums still add the rows one by one,
    in order: the same numbers, to the bit. (A row's provisional norm is a
    sum over its columns, which the compiler orders its own way: within
    1e-15 of a row at a time's, far inside the bound's slack.)
    """
    n_samples, n_features = X.shape
    with_norms = norms.shape[0] == n_samples
    low, high = np.full(n_features, np.inf), np.full(n_features, -np.inf)
    unit, inverse = np.ones(n_features), np.ones(n_features)
    mean, m2, weight = np.zeros(n_features), np.zeros(n_features), 0.0
    block_mean, block_m2 = np.empty(n_features), np.empty(n_features)
    low_before, high_before = np.empty(n_features), np.empty(n_features)
    fails = np.empty(n_features, np.bool_)
    part_sum, part_squares = np.zeros(n_features), np.zeros(n_features)
    line = max(1, 64 // X.itemsize)  # values a cache line
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        block_weight, part_weight = 0.0, 0.0
        block_mean[:] = 0.0
        block_m2[:] = 0.0
        low_before[:] = low
        high_before[:] = high
        # One read of the block: its range, the sums of its deviations from the
        # running mean in the units so far and of their squares, and the rows'
        # norms. Once a block of positive weight has set that mean, and the
        # units rarely change, these give the block's own mean and squared
        # deviations (see the docstring). Before it, the running mean is 0:
        # the sums are the block's sum, in the same bits as ``w * (x * v)``.
        one_pass = weight > 0
        # (in parts of _PART_ROWS rows, added to the block's sums: see below)
        part_end = start + _PART_ROWS if one_pass else stop
        i = start
        while i < stop:
            if i >= part_end:
                _add_part(block_mean, block_m2, part_sum, part_squares)
                block_weight += part_weight
                part_weight = 0.0
                part_end += _PART_ROWS
            w0, w1, w2, w3 = _four_weights(weights, i, stop, weight_unit)
            if w0 > 0 and w1 > 0 and w2 > 0 and w3 > 0:
                # The next four rows asked for now: four rows read side by side
                # are four streams, which the processor's own prefetcher served
                # poorly (float64 X: 25 ms without this, 23 a row at a time, 17 with).
                # Row by row, a line's column counted, not found by dividing its
                # place in X by n_features: a division a line took 7% of the pass
                # (200,000 x 100: 20.7 -> 19.1 ms float64, 14.1 -> 12.6 float32).
                if i + 8 <= n_samples:
                    for ahead in range(i + 4, i + 8):
                        for j in range(0, n_features, line):
                            _prefetch(X, ahead, j)
                        _prefetch(X, ahead, n_features - 1)
                part_weight += w0
                part_weight += w1
                part_weight += w2
                part_weight += w3
                t0, t1, t2, t3 = 0.0, 0.0, 0.0, 0.0
                for j in range(n_features):
                    x0, x1 = np.float64(X[i, j]), np.float64(X[i + 1, j])
                    x2, x3 = np.float64(X[i + 2, j]), np.float64(X[i + 3, j])
                    # np.minimum's order (the first of equal values, so a zero's
                    # sign stays), as selects: no NaN test (a NaN is met below)
                    lo, hi = low[j], high[j]
                    lo, hi = x0 if x0 < lo else lo, x0 if x0 > hi else hi
                    lo, hi = x1 if x1 < lo else lo, x1 if x1 > hi else hi
                    lo, hi = x2 if x2 < lo else lo, x2 if x2 > hi else hi
                    lo, hi = x3 if x3 < lo else lo, x3 if x3 > hi else hi
                    low[j], high[j] = lo, hi
                    v, centre = inverse[j], mean[j]
                    d0, d1 = x0 * v - centre, x1 * v - centre
                    d2, d3 = x2 * v - centre, x3 * v - centre
                    total = part_sum[j]
                    total += w0 * d0
                    total += w1 * d1
                    total += w2 * d2
                    total += w3 * d3
                    part_sum[j] = total
                    part_squares[j] = _four_squares(part_squares[j], w0, d0, w1, d1, w2, d2, w3, d3)
                    if with_norms:
                        t0, t1, t2, t3 = _four_norms(
                            t0, t1, t2, t3, x0, x1, x2, x3, inverse_scale[j], shift[j]
                        )
                if with_norms:
                    norms[i], norms[i + 1], norms[i + 2], norms[i + 3] = t0, t1, t2, t3
                i += 4
                continue
            w = weights[i] / weight_unit
            total = 0.0
            if w > 0:
                part_weight += w
            if weights[i] > 0:  # (a weight below weight_unit's reach counts for the range)
                for j in range(n_features):
                    value = np.float64(X[i, j])
                    low[j] = np.minimum(low[j], value)
                    high[j] = np.maximum(high[j], value)
                    if w > 0:
                        deviation = X[i, j] * inverse[j] - mean[j]
                        part_sum[j] += w * deviation
                        part_squares[j] += w * deviation * deviation
                    if with_norms:
                        z = X[i, j] * inverse_scale[j] - shift[j]
                        total += z * z
            if with_norms:
                norms[i] = total if weights[i] > 0 else -np.inf
            i += 1
        _add_part(block_mean, block_m2, part_sum, part_squares)
        block_weight += part_weight
        part_weight = 0.0
        # (np.minimum, not min: numba's min stores only when the value is lower,
        # which vectorizes to masked stores, microcoded on AMD's processors: the
        # range took 2-3 times a read of X there)
        # A NaN on a row of positive weight makes its column's sum NaN; the
        # selects above may have passed it by, so the block's range is taken
        # again as np.minimum takes it (a NaN stays): the same range, to the bit.
        nan = False
        for j in range(n_features):
            nan |= block_mean[j] != block_mean[j]
        if nan:
            low[:] = low_before
            high[:] = high_before
            for i in range(start, stop):
                if weights[i] > 0:
                    for j in range(n_features):
                        value = np.float64(X[i, j])
                        low[j] = np.minimum(low[j], value)
                        high[j] = np.maximum(high[j], value)
        changed = False
        for j in range(n_features):
            peak = max(abs(low[j]), abs(high[j]))
            if peak > 0 and low[j] <= high[j]:
                # (see skgd._sparse_statistics_passes._unit)
                new_unit = math.ldexp(1.0, min(max(math.frexp(peak)[1], -1021), 1023))
            else:
                new_unit = 1.0
            if new_unit != unit[j]:
                # A unit only grows, once a column has a non-zero value: before
                # that (the first 1), its mean and squared deviations are 0.
                if new_unit > unit[j]:
                    ratio = unit[j] / new_unit
                    mean[j] *= ratio
                    m2[j] *= ratio * ratio
                unit[j], inverse[j] = new_unit, 1.0 / new_unit
                changed = True
        if one_pass and not changed and block_weight > 0:
            # The block's mean and squared deviations from the sums about the
            # running mean: ``m2 = sum w d**2 - (sum w d)**2 / W``. Where the
            # block's mean lies far from the running mean, beside its spread
            # (sorted data, a column constant on the block), the difference
            # cancels the leading bits. Taken only where it keeps half the sum
            # of squares, its rounding stays within about twice the sums' own
            # (which the parts keep small); the other columns' (a NaN's too) are
            # taken again by two passes over the block in cache, column by
            # column, or the whole block's as the first block's if they are many.
            failing = 0
            for j in range(n_features):
                delta = block_mean[j] / block_weight  # the block's mean - the running one
                own = block_m2[j] - block_mean[j] * delta
                fails[j] = not own >= block_m2[j] * 0.5
                failing += fails[j]
                block_mean[j], block_m2[j] = delta, own
            changed = failing * 8 > n_features
            if not changed:
                for j in range(n_features):
                    if fails[j]:
                        block_mean[j], block_m2[j] = _column_moments(
                            X, weights, weight_unit, start, stop, j, inverse[j], block_weight
                        )
                        block_mean[j] -= mean[j]
                share = block_weight / (weight + block_weight)
                for j in range(n_features):
                    delta = block_mean[j]
                    mean[j] += delta * share
                    m2[j] += block_m2[j] + delta * delta * weight * share
                weight += block_weight
                continue
        elif one_pass and not changed:
            continue  # no row of positive weight: the range and the norms are done
        if changed:  # the sum again, in the new units
            block_mean[:] = 0.0
            for i in range(start, stop):
                w = weights[i] / weight_unit
                if w > 0:
                    for j in range(n_features):
                        block_mean[j] += w * (X[i, j] * inverse[j])
        if block_weight > 0:
            block_mean /= block_weight
        block_m2[:] = 0.0
        i = start
        while i < stop:
            w0, w1, w2, w3 = _four_weights(weights, i, stop, weight_unit)
            if w0 > 0 and w1 > 0 and w2 > 0 and w3 > 0:
                if with_norms:
                    t0, t1, t2, t3 = 0.0, 0.0, 0.0, 0.0
                    for j in range(n_features):
                        x0, x1 = np.float64(X[i, j]), np.float64(X[i + 1, j])
                        x2, x3 = np.float64(X[i + 2, j]), np.float64(X[i + 3, j])
                        v, centre = inverse[j], block_mean[j]
                        d0, d1 = x0 * v - centre, x1 * v - centre
                        d2, d3 = x2 * v - centre, x3 * v - centre
                        block_m2[j] = _four_squares(block_m2[j], w0, d0, w1, d1, w2, d2, w3, d3)
                        t0, t1, t2, t3 = _four_norms(
                            t0, t1, t2, t3, x0, x1, x2, x3, inverse_scale[j], shift[j]
                        )
                    norms[i], norms[i + 1], norms[i + 2], norms[i + 3] = t0, t1, t2, t3
                else:
                    for j in range(n_features):
                        v, centre = inverse[j], block_mean[j]
                        d0, d1 = X[i, j] * v - centre, X[i + 1, j] * v - centre
                        d2, d3 = X[i + 2, j] * v - centre, X[i + 3, j] * v - centre
                        block_m2[j] = _four_squares(block_m2[j], w0, d0, w1, d1, w2, d2, w3, d3)
                i += 4
                continue
            w = weights[i] / weight_unit
            if w > 0 and with_norms:
                total = 0.0
                for j in range(n_features):
                    deviation = X[i, j] * inverse[j] - block_mean[j]
                    block_m2[j] += w * deviation * deviation
                    z = X[i, j] * inverse_scale[j] - shift[j]
                    total += z * z
                norms[i] = total
            elif w > 0:
                for j in range(n_features):
                    deviation = X[i, j] * inverse[j] - block_mean[j]
                    block_m2[j] += w * deviation * deviation
            elif with_norms and weights[i] > 0:
                total = 0.0
                for j in range(n_features):
                    z = X[i, j] * inverse_scale[j] - shift[j]
                    total += z * z
                norms[i] = total
            elif with_norms:
                norms[i] = -np.inf  # a row of weight 0 is never a batch's gradient
            i += 1
        if block_weight == 0:
            continue
        share = block_weight / (weight + block_weight)
        for j in range(n_features):
            delta = block_mean[j] - mean[j]
            mean[j] += delta * share
            m2[j] += block_m2[j] + delta * delta * weight * share
        weight += block_weight
    return low, high, unit, mean, m2, weight


@jit_inline
def _four_norms(t0, t1, t2, t3, x0, x1, x2, x3, scale, shift):
    """Four rows' squared norms so far, each plus its value's ``(x * scale - shift)**2``."""
    z0, z1, z2, z3 = x0 * scale - shift, x1 * scale - shift, x2 * scale - shift, x3 * scale - shift
    return t0 + z0 * z0, t1 + z1 * z1, t2 + z2 * z2, t3 + z3 * z3


@jit_inline
def _add_part(block_sum, block_squares, part_sum, part_squares):
    """Add a part's sums to its block's, and empty the part's."""
    for j in range(block_sum.shape[0]):
        block_sum[j] += part_sum[j]
        block_squares[j] += part_squares[j]
        part_sum[j], part_squares[j] = 0.0, 0.0


@jit_inline
def _column_moments(X, weights, weight_unit, start, stop, j, inverse, block_weight):
    """Column ``j``'s weighted mean and squared deviations on rows ``start:stop``, in two passes."""
    total = 0.0
    for i in range(start, stop):
        w = weights[i] / weight_unit
        if w > 0:
            total += w * (X[i, j] * inverse)
    centre = total / block_weight
    squares = 0.0
    for i in range(start, stop):
        w = weights[i] / weight_unit
        if w > 0:
            deviation = X[i, j] * inverse - centre
            squares += w * deviation * deviation
    return centre, squares


@jit_inline
def _four_weights(weights, i, stop, weight_unit):
    """Rows ``i`` to ``i + 3``'s weights over ``weight_unit``; zeros if ``stop`` comes first."""
    if i + 4 > stop:
        return 0.0, 0.0, 0.0, 0.0
    w = weights[i : i + 4]
    return w[0] / weight_unit, w[1] / weight_unit, w[2] / weight_unit, w[3] / weight_unit


@jit_inline
def _four_squares(total, w0, d0, w1, d1, w2, d2, w3, d3):
    """``total`` plus four rows' weighted squared deviations, added in the rows' order."""
    total += w0 * d0 * d0
    total += w1 * d1 * d1
    total += w2 * d2 * d2
    total += w3 * d3 * d3
    return total


@_exact
def merge_statistics(mean, std, new_mean, new_std, share):
    """Chan, Golub and LeVeque's merge of two sets' means and deviations, column by column.

    ``share`` is the new set's share of the total weight. The same
    arithmetic, in the same order, as the numpy path of
    :meth:`skgd._standardize.FeatureStats.update`; its twenty-odd numpy
    calls on arrays the size of a row cost a streamed row's call more than
    this one. ``new_std`` empty: the new set is one row, ``new_mean`` (a row
    of X, in its dtype), of deviation 0 (its copy in float64 and the zeros
    cost a streamed row's call more than this pass). Returns the merged
    ``(mean, std)``.
    """
    n = mean.shape[0]
    merged_mean, merged_std = np.empty(n), np.empty(n)
    one_row = new_std.shape[0] == 0
    for j in range(n):
        new_deviation = 0.0 if one_row else new_std[j]
        delta = np.float64(new_mean[j]) - mean[j]
        # the larger of the deviations and |delta|, a NaN winning (np.maximum's rule)
        unit = std[j] if std[j] >= new_deviation or std[j] != std[j] else new_deviation
        spread = abs(delta)
        unit = unit if unit >= spread or unit != unit else spread
        if unit == 0:
            unit = 1.0
        old, new, moved = std[j] / unit, new_deviation / unit, delta / unit
        var = (1 - share) * (old * old) + share * (new * new)
        var += moved * moved * share * (1 - share)
        merged_mean[j] = mean[j] + delta * share
        merged_std[j] = unit * np.sqrt(var)
    return merged_mean, merged_std


def standardization(mean, std, dtype):
    """:meth:`skgd._standardize.FeatureStats.standardization` with an intercept, in one pass.

    ``(mean, scale, constant)``: the mean and the deviation (1 where it is 0
    or not finite) cast to ``dtype``, and where the deviation is 0.
    """
    n = mean.shape[0]
    shift, scale, constant = np.empty(n, dtype), np.empty(n, dtype), np.empty(n, np.bool_)
    _standardization(mean, std, shift, scale, constant)
    return shift, scale, constant


@_exact
def _standardization(mean, std, shift, scale, constant):
    for j in range(mean.shape[0]):
        deviation = std[j]
        constant[j] = deviation == 0
        scale[j] = deviation if np.isfinite(deviation) and deviation != 0 else 1.0
        shift[j] = mean[j]


def rounding_columns(low, high, x_mean, dtype):
    """:func:`skgd._standardize.within_rounding` over a range, ``& (x_mean != 0)``, in one pass.

    Which centred columns are constant but for rounding: a half range of at
    most one ulp, in ``dtype`` (X's), of the largest magnitude. numpy's
    dozen calls on a streamed row's few columns (an ``errstate``, the
    casts, ``spacing``) took 12 us of each call (diabetes' ten columns, on
    a loaded machine); this one, 2.4.
    Returns the columns as a boolean array, or None if there are none.
    """
    rounding = np.empty(len(low), np.bool_)
    single = np.dtype(dtype) == np.float32
    return rounding if _rounding_columns(low, high, x_mean, single, rounding) else None


@_exact
def _rounding_columns(low, high, x_mean, single, rounding):
    # np.spacing in X's dtype, from the exponent: numba's float32 spacing does not compile
    digits, least = (24, 2.0**-149) if single else (53, 2.0**-1074)
    top = 3.4028234663852886e38 if single else 1.7976931348623157e308  # (the largest float)
    found = False
    for j in range(low.shape[0]):
        lo, hi = np.float64(low[j]), np.float64(high[j])
        largest = max(abs(lo), abs(hi))
        if not (np.isfinite(lo) and np.isfinite(hi)) or x_mean[j] == 0:
            rounding[j] = False  # (numpy's: a NaN or an infinity is no rounding)
            continue
        # the gap above |largest|: 2**(e - digits) for |largest| in [2**(e-1), 2**e),
        # the least subnormal's at and below the normal range (and at 0)
        ulp = max(math.ldexp(1.0, math.frexp(largest)[1] - digits), least)
        if largest == top:  # (numpy's: the gap above the largest float overflows)
            ulp = np.inf
        rounding[j] = 0.5 * (hi - lo) <= ulp
        found |= rounding[j]
    return found
