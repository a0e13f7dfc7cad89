"""Compiled passes over X and over the coefficients, outside the batch steps.

Before training: the statistics' column range and moments (dense X by row
blocks, sparse X in one call over its stored values) and sparse X's column
peaks (the curvature's passes are in :mod:`skgd._curvature_passes`, the
random order and start in :mod:`skgd._draws`). Each epoch: the coefficients'
copy with their penalty's sums, and their finiteness. Each is one pass with no
temporary the size of X (issue 11's memory point), reading X in its own dtype and summing in
float64; arrays the size of a column are allocated by numpy, which gets
huge pages for them where numba's allocator does not. The numpy paths in
:mod:`skgd._standardize` and :mod:`skgd._objective` give the same results
(the tests compare both); ``skgd._kernel.ENABLED = False`` selects them.
"""

import math

import numpy as np

from . import _kernel
from ._compiled import _prefetch, _prefetch_item, aligned, jit, jit_inline

# The sparse statistics sort the stored values by column when that copy of them
# (16 bytes a value) takes at most this many bytes; beyond, passes by row serve
_SORTED_BUDGET = 2**26
# The passes over sparse X's stored values ask for the column data of the value
# this many ahead: on wide data each is a cache miss, and asked for ahead, the
# misses overlap (see skgd._curvature_passes.sparse_largest_squared_row_norm).
_STORED_AHEAD = 32


@jit
def column_statistics(X, weights, weight_unit, block_rows, shift, inverse_scale, norms):
    """Each column's range, and the weighted mean and squared deviations of ``X / unit``.

    One pass over X, by row blocks of ``block_rows``, in float64. Each
    block is read from memory once, for its range (over the rows of
    non-zero ``weights``) and its weighted sum (with ``weights /
    weight_unit``); its squared deviations then take a second pass over it
    in cache (and its sum too, when the block changed a unit), and are merged
    into the running ones by Chan, Golub and LeVeque's formula, as the
    numpy path of :func:`skgd._standardize._stats_of` does.

    ``unit`` is a power of two near each column's largest magnitude (the
    numpy path's ``_power_of_two``), so that no square under- or
    overflows. The numpy path finds it in a pass of its own first; here it
    is that of the blocks read so far, and when a block raises it, the
    running mean and squared deviations are rescaled by the ratio of the
    two powers of two. Scaling by a power of two is exact, so the result
    is, to the bit, that of the same blocks with the final unit known from
    the start (unless a ratio beyond 2**500 takes a running sum below the
    smallest float: a part far under the rounding of the new block's); the
    numpy path's sums differ from it by rounding (about 1e-15). Returns
    ``(low, high, unit, mean, m2, weight)``.

    ``norms``, if it has a place for every row, receives each row's squared
    norm standardized provisionally, ``||x_i * inverse_scale - shift||^2``
    (-inf on rows of weight 0), in the second pass over the block, in
    cache: the curvature's largest row norm then needs no read of X of its
    own (see :class:`skgd._standardize.RowNorms`).

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
    line = max(1, 64 // X.itemsize)  # values a cache line
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        # the range, and the block's sum in the units so far: once the first
        # blocks have set them, they rarely change, and the sum is then done
        # in the same read of the row (else it is summed again below)
        block_weight = 0.0
        block_mean[:] = 0.0
        low_before[:] = low
        high_before[:] = high
        i = start
        while i < stop:
            w0, w1, w2, w3 = _four_weights(weights, i, stop, weight_unit)
            if w0 > 0 and w1 > 0 and w2 > 0 and w3 > 0:
                # The next four rows asked for now: four rows read side by side
                # are four streams, which the processor's own prefetcher served
                # poorly (float64 X: 25 ms without this, 23 a row at a time, 17 with).
                if i + 8 <= n_samples:
                    first = (i + 4) * n_features
                    for e in range(first, first + 4 * n_features, line):
                        _prefetch(X, e // n_features, e % n_features)
                block_weight += w0
                block_weight += w1
                block_weight += w2
                block_weight += w3
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
                    v, total = inverse[j], block_mean[j]
                    total += w0 * (x0 * v)
                    total += w1 * (x1 * v)
                    total += w2 * (x2 * v)
                    total += w3 * (x3 * v)
                    block_mean[j] = total
                i += 4
                continue
            w = weights[i] / weight_unit
            if w > 0:
                block_weight += w
                for j in range(n_features):
                    value = np.float64(X[i, j])
                    low[j] = np.minimum(low[j], value)
                    high[j] = np.maximum(high[j], value)
                    block_mean[j] += w * (X[i, j] * inverse[j])
            elif weights[i] > 0:  # (a weight below weight_unit's reach still counts here)
                for j in range(n_features):
                    value = np.float64(X[i, j])
                    low[j] = np.minimum(low[j], value)
                    high[j] = np.maximum(high[j], value)
            i += 1
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
                new_unit = math.ldexp(1.0, min(math.frexp(peak)[1], 1023))  # (see _unit)
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
                        a, b = inverse_scale[j], shift[j]
                        z0, z1, z2, z3 = x0 * a - b, x1 * a - b, x2 * a - b, x3 * a - b
                        t0 += z0 * z0
                        t1 += z1 * z1
                        t2 += z2 * z2
                        t3 += z3 * z3
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


def _columns(n_features, *shape, dtype=np.float64, fill=None):
    """An array of one row a column of X, allocated by numpy, not in compiled code.

    numpy asks the system for huge pages for large arrays; numba's
    allocator does not, and a 2**20-long temporary made in compiled code
    cost about 5 ms in page faults on a loaded machine, more than the pass
    that fills it. The compiled passes below take such arrays as arguments.
    """
    if fill is None:
        return np.empty((n_features, *shape), dtype=dtype)
    return np.full((n_features, *shape), fill, dtype=dtype)


def sparse_statistics(data, indices, indptr, weights, weight_unit, n_features):
    """Each column's weighted mean and deviation for CSR X, as :func:`skgd._standardize._stats_of`.

    Each column's range over the rows of non-zero weight (implicit zeros
    count), which gives its unit (a power of two near its largest
    magnitude); then the weighted sum of ``X / unit``; then the squared
    deviations from their mean. The squared deviations are those of the
    stored values plus the implicit zeros' (their weight times the squared
    mean), as scikit-learn's ``mean_variance_axis`` counts them. A column
    that takes one value on the rows of non-zero weight has that mean and a
    deviation of exactly 0. The sums run over all rows at once, not in
    blocks merged by Chan, Golub and LeVeque's formula as the numpy path
    does (its blocks bound the size of its temporaries): the same sums,
    rounded differently. Returns ``(mean, std)`` in X's units, or None when
    no row has a non-zero weight.

    On wide data each stored value's column is a cache miss: three passes
    over the stored values, each reading and writing a table of the
    columns at random, took 30 ms on hashed text (15,000 rows of 30 values,
    2**18 columns), a quarter of SGDClassifier's whole fit. Here the stored
    values are first sorted by column, in row order (a counting sort: one
    pass to count, one to place each value and its row's weight), and each
    column's three sums are then taken from its own values, in cache, in
    the same order as the passes by row: the same numbers, to the bit, in
    half the time. No numbering of the stored columns is needed on data
    wider than it stores values: an empty column is 0 on every row. The
    sorted copy (16 bytes a value) is kept under ``_SORTED_BUDGET``; beyond
    (more than 4 million values), :func:`_statistics_by_rows` serves, with
    no temporary the size of X.
    """
    if indices.shape[0] * 16 > _SORTED_BUDGET:
        return _statistics_by_rows(data, indices, indptr, weights, weight_unit, n_features)
    # (a column's place in the sorted values: indptr's dtype holds their count)
    cursor = _columns(n_features, dtype=indptr.dtype, fill=0)
    pairs = aligned((indices.shape[0], 2), 16)  # each value and its row's weight, by column
    mean, std = _columns(n_features), _columns(n_features)
    arrays = (data, indices, indptr, weights)
    found = _sparse_statistics(*arrays, weight_unit, cursor, pairs, mean, std)
    return (mean, std) if found else None


def stored_columns(indices, n_features):
    """The columns CSR X stores a value in, ascending, and its indices as their places there."""
    seen = _columns(n_features, dtype=np.uint8, fill=0)
    used = _columns(n_features, dtype=np.int64)
    place = _columns(n_features, dtype=indices.dtype)
    rows = np.empty(indices.shape[0], dtype=indices.dtype)
    n_used = _number_stored(indices, seen, used, place, rows)
    return used[:n_used], rows


@jit
def _number_stored(indices, seen, used, place, rows):
    for q in range(indices.shape[0]):
        seen[indices[q]] = 1
    # Without a branch: whether a column is stored is a coin toss on hashed text
    # (a quarter of 2**20 columns), and its mispredictions took most of the call.
    # A column not stored gets a place too, never read, and is overwritten in used.
    n_used = 0
    for j in range(seen.shape[0]):
        used[n_used] = j
        place[j] = n_used
        n_used += seen[j]
    for q in range(indices.shape[0]):
        rows[q] = place[indices[q]]
    return n_used


_SMALLEST_NORMAL = float(np.finfo(np.float64).smallest_normal)


@jit
def _unit(peak):
    """``skgd._standardize._power_of_two`` of one value (2**1023 at most)."""
    return math.ldexp(1.0, min(math.frexp(peak)[1], 1023)) if peak > 0 else 1.0


if _kernel.numba is not None:
    from llvmlite import ir as _ir
    from numba.extending import intrinsic as _intrinsic

    # numpy's elementwise arithmetic to the bit: no fast-math flag (a contracted
    # multiply-add rounds once where numpy rounds twice), and numpy's division by
    # 0 (an infinity or NaN, not Python's ZeroDivisionError)
    _exact = _kernel.numba.njit(cache=True, nogil=True, error_model="numpy")

    @_intrinsic
    def _fmuladd(typingctx, a, b, c):
        """``a * b + c``, fused where the processor can (LLVM's ``llvm.fmuladd``).

        What ``a * b + c`` compiles to under the ``contract`` flag of
        :func:`skgd._compiled.jit`: code compiled without fast-math flags
        rounds, with this, as jit's code rounds such a sum, without letting
        the compiler reorder its other sums (jit's ``reassoc``).
        """

        def codegen(context, builder, signature, args):
            double = _ir.DoubleType()
            kind = _ir.FunctionType(double, [double] * 3)
            function = builder.module.declare_intrinsic("llvm.fmuladd", [double], kind)
            return builder.call(function, args)

        float64 = _kernel.numba.types.float64
        return float64(float64, float64, float64), codegen

else:  # pragma: no cover

    def _exact(function):
        return function

    def _fmuladd(a, b, c):
        return a * b + c


@_exact
def _sparse_statistics(data, indices, indptr, weights, weight_unit, cursor, pairs, mean, std):
    n_samples, n_features = indptr.shape[0] - 1, cursor.shape[0]
    n_stored = indices.shape[0]
    for q in range(n_stored):  # each column's count, then where its values start
        if q + _STORED_AHEAD < n_stored:
            _prefetch_item(cursor, indices[q + _STORED_AHEAD])
        cursor[indices[q]] += 1
    start = 0
    for j in range(n_features):
        start, cursor[j] = start + cursor[j], start
    n_rows, weight = 0, 0.0
    for i in range(n_samples):
        if weights[i] > 0:
            n_rows += 1
        weight += weights[i] / weight_unit
        for q in range(indptr[i], indptr[i + 1]):
            if q + _STORED_AHEAD < n_stored:  # (a column's cursor: a cache miss on wide data)
                _prefetch_item(cursor, indices[q + _STORED_AHEAD])
            p = cursor[indices[q]]  # (from here, cursor[j] is where column j's values end)
            pairs[p, 0], pairs[p, 1] = data[q], weights[i]
            cursor[indices[q]] = p + 1
    if n_rows == 0:
        return False
    # The arithmetic of the passes by row that this replaced, as numba compiled
    # them with jit's flags (here spelt out, and compiled without them, so that
    # the sums by column are not reordered): the two multiply-adds fused, and a
    # squared deviation times the row's weight before the division by the unit.
    bits = np.empty(1)  # (a double's bits: numba has no view of a number)
    stop = 0
    for j in range(n_features):
        start, stop = stop, cursor[j]
        if start == stop:  # (0 on every row: its range is [0, 0], below)
            mean[j], std[j] = 0.0, 0.0
            continue
        low, high, count = np.inf, -np.inf, 0.0
        for p in range(start, stop):
            if pairs[p, 1] > 0:
                low = min(low, pairs[p, 0])
                high = max(high, pairs[p, 0])
                count += 1.0
        if count < n_rows:  # implicit zeros on rows that count
            low = min(low, 0.0)
            high = max(high, 0.0)
        if low == high:  # one value: it is the mean, and there is no deviation
            mean[j], std[j] = low, 0.0
            continue
        peak = max(abs(low), abs(high))
        if _SMALLEST_NORMAL <= peak < np.inf:  # _unit's power of two, from the exponent's bits
            bits[0] = peak
            # (2**1023 at most, as _unit: 2047, one more, is the exponent of inf)
            exponent = min((bits.view(np.int64)[0] >> 52) + 1, 2046)
            bits.view(np.int64)[0] = exponent << 52
            unit = bits[0]
        else:  # (libm's frexp and ldexp: 15 ns a call, a column)
            unit = _unit(peak)
        inverse = 1.0 / unit  # (a power of two: multiplying is exact)
        total, stored = 0.0, 0.0  # the sum of X / unit, and the weight of the stored values
        for p in range(start, stop):
            w = pairs[p, 1] / weight_unit
            total = _fmuladd(w, pairs[p, 0] * inverse, total)
            stored += w
        centre = total / weight
        m2 = 0.0
        for p in range(start, stop):
            deviation = _fmuladd(pairs[p, 0], inverse, -centre)
            m2 += deviation * deviation * pairs[p, 1] / weight_unit
        m2 = _fmuladd(centre * centre, weight - stored, m2)  # the implicit zeros' deviations
        mean[j] = centre * unit
        std[j] = math.sqrt(max(m2, 0.0) / weight) * unit
    return True


def _statistics_by_rows(data, indices, indptr, weights, weight_unit, n_features):
    """:func:`sparse_statistics` in three passes over the stored values by row, no sort.

    Each pass reads and writes a table of the columns at random (a cache
    miss a value on wide data), but makes no temporary the size of X: for
    data whose sorted values would exceed ``_SORTED_BUDGET``. Wider than
    it stores values, the passes number the stored columns first and work
    on theirs alone (a smaller table read at random). The same numbers to
    the bit as the sorted passes (the tests compare both).
    """
    if n_features > indices.shape[0]:
        used, rows = stored_columns(indices, n_features)
        statistics = _statistics_by_rows(data, rows, indptr, weights, weight_unit, len(used))
        if statistics is None:
            return None
        mean, std = _columns(n_features, fill=0.0), _columns(n_features, fill=0.0)
        mean[used], std[used] = statistics
        return mean, std
    table = aligned((n_features, 4), 32)  # (rows of 32 bytes, two a cache line)
    mean, std = _columns(n_features), _columns(n_features)
    low, high = _columns(n_features), _columns(n_features)
    found = _sparse_statistics_by_rows(
        data, indices, indptr, weights, weight_unit, table, mean, std, low, high
    )
    return (mean, std) if found else None


@jit
def _ask_ahead(indices, q, table):
    """Ask for ``table``'s row of the column of stored value ``q + _STORED_AHEAD``.

    On wide data the passes over the stored values read and write their
    columns' rows at random, each a cache miss. Asked for ahead, the misses
    overlap; met one at a time, each waits in turn (on 2**20 columns, the
    statistics' three passes took 70 ms, then 26). A hint: no load, no fault.
    """
    if q + _STORED_AHEAD < indices.shape[0]:
        _prefetch(table, indices[q + _STORED_AHEAD], 0)


@jit
def _sparse_statistics_by_rows(
    data, indices, indptr, weights, weight_unit, table, mean, std, low, high
):
    n_samples, n_features = indptr.shape[0] - 1, table.shape[0]
    # the range: table[j] = low, high, count of values stored on weighted rows
    for j in range(n_features):
        table[j, 0], table[j, 1], table[j, 2] = np.inf, -np.inf, 0.0
    n_rows = 0
    for i in range(n_samples):
        if weights[i] > 0:
            n_rows += 1
            for q in range(indptr[i], indptr[i + 1]):
                _ask_ahead(indices, q, table)
                j = indices[q]
                table[j, 0] = min(table[j, 0], data[q])
                table[j, 1] = max(table[j, 1], data[q])
                table[j, 2] += 1.0
    if n_rows == 0:
        return False
    # then table[j] = sum (then mean) of X / unit, squared deviations, weight
    # on the stored values, 1 / unit (a power of two: multiplying is exact)
    for j in range(n_features):
        low[j], high[j] = table[j, 0], table[j, 1]
        if table[j, 2] < n_rows:
            low[j] = min(low[j], 0.0)
            high[j] = max(high[j], 0.0)
        unit = _unit(max(abs(low[j]), abs(high[j])))
        table[j, 0], table[j, 1], table[j, 2], table[j, 3] = 0.0, 0.0, 0.0, 1.0 / unit
        std[j] = unit  # (kept for the last pass: 1 / table[j, 3] may be inf, _unit is slow)
    weight = 0.0
    for i in range(n_samples):
        w = weights[i] / weight_unit
        weight += w
        for q in range(indptr[i], indptr[i + 1]):
            _ask_ahead(indices, q, table)
            j = indices[q]
            table[j, 0] += w * (data[q] * table[j, 3])
            table[j, 2] += w
    for j in range(n_features):
        table[j, 0] /= weight
    for i in range(n_samples):
        w = weights[i] / weight_unit
        for q in range(indptr[i], indptr[i + 1]):
            _ask_ahead(indices, q, table)
            j = indices[q]
            deviation = data[q] * table[j, 3] - table[j, 0]
            table[j, 1] += w * deviation * deviation
    # in X's units (skgd._standardize._in_units)
    for j in range(n_features):
        if low[j] == high[j]:  # one value: it is the mean, and there is no deviation
            mean[j], std[j] = low[j], 0.0
            continue
        block_mean = table[j, 0]
        m2 = table[j, 1] + (weight - table[j, 2]) * block_mean * block_mean
        unit = std[j]
        mean[j] = block_mean * unit
        std[j] = math.sqrt(max(m2, 0.0) / weight) * unit
    return True


def sparse_column_peak(data, indices, n_features):
    """The largest magnitude of each column of CSR X (0 for a column with none stored)."""
    peak = _columns(n_features, fill=0.0)
    _sparse_column_peak(data, indices, peak)
    return peak


@jit
def _sparse_column_peak(data, indices, peak):
    for q in range(data.shape[0]):
        peak[indices[q]] = max(peak[indices[q]], abs(data[q]))


def copy_and_sums(V, out, absolute):
    """``np.copyto(out, V)``, and each row's sum of squares (and of magnitudes) on the way.

    The loop keeps where each epoch starts and takes the penalty there: on
    wide data (5 x 2**20 coefficients) two passes over V, one here, summed
    in float64. ``absolute``: whether the sums of magnitudes are wanted
    (else 0.0, as the numpy path skips them).
    """
    if (
        not _kernel.ENABLED
        or _kernel.numba is None
        or not (V.flags.c_contiguous and out.flags.c_contiguous)
    ):
        np.copyto(out, V)
        magnitudes = np.abs(V).sum(axis=1) if absolute else 0.0
        return magnitudes, np.einsum("ij,ij->i", V, V)
    magnitudes, squares = np.zeros(V.shape[0]), np.zeros(V.shape[0])
    _copy_and_sums(V, out, magnitudes, squares)
    if V.dtype != np.float64:  # in V's dtype, as numpy's: float32 sums beyond it overflow
        with np.errstate(over="ignore"):
            magnitudes, squares = magnitudes.astype(V.dtype), squares.astype(V.dtype)
    return (magnitudes if absolute else 0.0), squares


@jit
def _copy_and_sums(V, out, magnitudes, squares):
    for k in range(V.shape[0]):
        a, s = 0.0, 0.0
        for j in range(V.shape[1]):
            v = np.float64(V[k, j])
            out[k, j] = V[k, j]
            a += abs(v)
            s += v * v
        magnitudes[k], squares[k] = a, s


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


def sparse_standardization(mean, std, peak, dtype):
    """Sparse X's ``(mean, scale)``: :func:`standardization`'s, or uncentred and by the peak.

    A column with ``|mean| <= scale`` (cast to ``dtype``) and a positive
    ``peak`` gets mean 0 and scale ``peak`` (cast to ``dtype``), as the numpy
    of :meth:`skgd._base.BaseGD._objective` does with an intercept, to the
    bit. numpy's mask, its two ``where`` and casts made about 40 MB of new
    arrays on 2**20 columns (their page faults: most of their 11 ms).
    """
    n = mean.shape[0]
    shift, scale = _columns(n, dtype=dtype), _columns(n, dtype=dtype)
    _sparse_standardization(mean, std, peak, shift, scale)
    return shift, scale


@_exact
def _sparse_standardization(mean, std, peak, shift, scale):
    for j in range(mean.shape[0]):
        deviation = std[j]
        # (stored first, so that the test compares the values cast to dtype, as numpy's)
        shift[j] = mean[j]
        scale[j] = deviation if (abs(deviation) < np.inf) & (deviation != 0) else 1.0
        # selects, not branches: which columns are stored is random (twice as quick)
        s, c, p = shift[j], scale[j], peak[j]
        uncentred = (abs(s) <= c) & (p > 0)
        shift[j] = 0.0 if uncentred else s
        scale[j] = p if uncentred else c


def model_coefficients_serve(V, x_scale, y_scale):
    """Whether :func:`model_coefficients` gives numpy's ``y_scale[:, None] * (V / x_scale)``."""
    return (
        _kernel.ENABLED
        and _kernel.numba is not None
        and V.ndim == 2
        and V.flags.c_contiguous
        and V.dtype in (np.float32, np.float64)
        and V.dtype == x_scale.dtype == y_scale.dtype
        and x_scale.shape == (V.shape[1],)
        and y_scale.shape == (V.shape[0],)
    )


def model_coefficients(V, x_scale, y_scale):
    """``y_scale[:, None] * (V / x_scale)`` in one pass over V, in its dtype, to the bit.

    numpy's two operations made a pass each over a new array the size of V
    (on wide data, 5 x 2**20 coefficients: 40 MB).
    """
    W = np.empty_like(V)  # (by numpy: see _columns)
    _model_coefficients(V, x_scale, y_scale, W)
    return W


@_exact
def _model_coefficients(V, x_scale, y_scale, W):
    for k in range(V.shape[0]):
        for j in range(V.shape[1]):
            W[k, j] = y_scale[k] * (V[k, j] / x_scale[j])


def model_coefficients_in_place(V, x_scale, y_scale):
    """:func:`model_coefficients` written over V itself, to the bit, and V returned.

    For a V that nothing reads afterwards: the end of a fit. A new W cost its
    page faults (wide data: 40 MB, about 3 ms), and the pass that wrote it,
    with V and W both its arguments, ran unvectorized once they were one array
    (its check of their overlap): 7.5 ms on 5 x 2**20 coefficients, this 2.7.
    """
    _model_coefficients_in_place(V, x_scale, y_scale)
    return V


@_exact
def _model_coefficients_in_place(V, x_scale, y_scale):
    for k in range(V.shape[0]):
        for j in range(V.shape[1]):
            V[k, j] = y_scale[k] * (V[k, j] / x_scale[j])


def all_finite(A):
    """``np.isfinite(A).all()``, without its boolean temporary the size of A."""
    if not _kernel.ENABLED or _kernel.numba is None or not A.flags.c_contiguous:
        return bool(np.isfinite(A).all())
    return bool(_all_finite(A.reshape(-1)))


@jit
def _all_finite(a):
    total = 0.0
    for q in range(a.shape[0]):
        total += a[q] * 0.0  # NaN for an infinity or a NaN, else 0 (no fast-math flag assumes)
    return total == 0.0


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
