"""Compiled passes over sparse X's stored values before training: statistics, peaks.

Each column's weighted mean and deviation (:func:`sparse_statistics`), its
largest magnitude (:func:`sparse_column_peak`) and, from those, sparse X's
standardization (:func:`sparse_standardization`); the columns X stores
(:func:`stored_columns`). Apart from the dense passes
(:mod:`skgd._statistics_passes`) since on wide data each stored value's
column is a cache miss: these passes sort or number the values by column,
or ask for their columns ahead. Each reads X in its own dtype and sums in
float64, with no temporary the size of X beyond ``_SORTED_BUDGET``; arrays
the size of a column are allocated by numpy (see :func:`_columns`). The
numpy paths in :mod:`skgd._standardize` and :meth:`skgd._base.BaseGD._objective`
give the same results (the tests compare both).
"""

import math

import numpy as np

from ._compiled import _exact, _prefetch, _prefetch_item, aligned, jit, numba

# The sparse statistics sort the stored values by column when that copy of them
# (16 bytes a value) takes at most this many bytes; beyond, passes by row serve
_SORTED_BUDGET = 2**26
# The passes over sparse X's stored values ask for the column data of the value
# this many ahead: on wide data each is a cache miss, and asked for ahead, the
# misses overlap (see skgd._curvature_passes.sparse_largest_squared_row_norm).
_STORED_AHEAD = 32


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


def sparse_statistics(data, indices, indptr, weights, weight_unit, n_features, peaks=False):
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
    no row has a non-zero weight. With ``peaks``, returns
    ``(statistics, peak, counts)``: those (or None), each column's largest
    magnitude over all its stored values (:func:`sparse_column_peak`'s) and
    its number of stored values (``np.bincount(indices)``), from the same pass.

    On wide data each stored value's column is a cache miss: three passes
    over the stored values, each reading and writing a table of the
    columns at random, took 30 ms on hashed text (15,000 rows of 30 values,
    2**18 columns), a quarter of SGDClassifier's whole fit. Here the stored
    values are first sorted by column, in row order (a counting sort: one
    pass to count, one to place each value and its row's weight), and each
    column's three sums are then taken from its own values, in cache, in
    the same order as the passes by row: the same numbers, to the bit. The
    sorted copy (16 bytes a value) is kept under ``_SORTED_BUDGET``; beyond
    (more than 4 million values), or for a ``weight_unit`` that is no power
    of two with an exact inverse, :func:`_statistics_by_rows` serves, with
    no temporary the size of X.
    """
    inverse_unit = 1.0 / float(weight_unit)
    exact = math.isfinite(inverse_unit) and math.frexp(float(weight_unit))[0] == 0.5
    if indices.shape[0] * 16 > _SORTED_BUDGET or not exact:
        statistics = _statistics_by_rows(data, indices, indptr, weights, weight_unit, n_features)
        if not peaks:
            return statistics
        counts = np.bincount(indices, minlength=n_features)
        return statistics, sparse_column_peak(data, indices, n_features), counts
    # Each column's count, then where its values start, then end, then its count
    # again: the array the counts are returned in (no other of the columns' size)
    counts = _columns(n_features, dtype=np.intp, fill=0)
    # the stored columns, ascending, then in place those of one value; the others
    # and where their values start (arrays written only as far as there are such)
    places = np.promote_types(indices.dtype, indptr.dtype)  # (holds a column and a place)
    n_room = min(n_features, indices.shape[0]) + 1  # (at most a column a value, and one more)
    used, others = np.empty(n_room, dtype=places), np.empty((n_room, 2), dtype=places)
    # each value, and its row's weight if the weights differ, by column (8 or 16 bytes)
    uniform = weights.shape[0] > 0 and weights.min() == weights.max()
    pairs = aligned((indices.shape[0], 1 if uniform else 2), 8 if uniform else 16)
    # (zeros from numpy, of pages it has touched: a column with no value stored is never written)
    mean, std, peak = (_columns(n_features, fill=0.0) for _ in range(3))
    arrays = (data, indices, indptr, weights, float(weight_unit), inverse_unit)
    found = _sparse_statistics(*arrays, counts, used, others, pairs, mean, std, peak)
    statistics = (mean, std) if found else None
    return (statistics, peak, counts) if peaks else statistics


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
    """``skgd._standardize._power_of_two`` of one value (2**-1021 to 2**1023)."""
    return math.ldexp(1.0, min(max(math.frexp(peak)[1], -1021), 1023)) if peak > 0 else 1.0


if numba is not None:
    from llvmlite import ir as _ir
    from numba.extending import intrinsic as _intrinsic

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

        float64 = numba.types.float64
        return float64(float64, float64, float64), codegen

    @_intrinsic
    def _exponent_bits(typingctx, x):
        """The biased exponent of a double (0: zero or subnormal; 2047: inf or NaN).

        A bit cast, which numba has no name for: a view of a one-value array
        per column took a reference count's atomic adds each.
        """

        def codegen(context, builder, signature, args):
            int64 = _ir.IntType(64)
            bits = builder.bitcast(args[0], int64)
            return builder.and_(builder.lshr(bits, int64(52)), int64(2047))

        return numba.types.int64(numba.types.float64), codegen

    @_intrinsic
    def _power_of_exponent(typingctx, exponent):
        """The double ``2**(exponent - 1023)`` for a biased exponent in 1..2046, from its bits."""

        def codegen(context, builder, signature, args):
            int64 = _ir.IntType(64)
            bits = builder.shl(args[0], int64(52))
            return builder.bitcast(bits, _ir.DoubleType())

        return numba.types.float64(numba.types.int64), codegen

else:  # pragma: no cover

    def _fmuladd(a, b, c):
        return a * b + c

    def _exponent_bits(x):
        return (int(np.float64(x).view(np.int64)) >> 52) & 2047

    def _power_of_exponent(exponent):
        return float(np.int64(exponent << 52).view(np.float64))


@_exact
def _sparse_statistics(
    data, indices, indptr, weights, weight_unit, inverse_unit, cursor, used, others, pairs,
    mean, std, peak,
):  # fmt: skip
    n_samples, n_features = indptr.shape[0] - 1, cursor.shape[0]
    n_stored = indices.shape[0]
    for q in range(n_stored):  # each column's count
        if q + _STORED_AHEAD < n_stored:
            _prefetch_item(cursor, indices[q + _STORED_AHEAD])
        cursor[indices[q]] += 1
    # where each column's values start, and the stored columns (no branch: whether
    # a column is stored is a coin toss on hashed text, see _number_stored)
    start, n_used = 0, 0
    for j in range(n_features):
        count = cursor[j]
        used[n_used] = j
        n_used += count > 0
        cursor[j], start = start, start + count
    n_rows, weight = 0, 0.0
    weighted = pairs.shape[1] == 2  # (else every row's weight is weights[0])
    half = _STORED_AHEAD // 2
    for i in range(n_samples):
        if weights[i] > 0:
            n_rows += 1
        weight += weights[i] / weight_unit
        for q in range(indptr[i], indptr[i + 1]):
            if q + _STORED_AHEAD < n_stored:  # (a column's cursor: a cache miss on wide data)
                _prefetch_item(cursor, indices[q + _STORED_AHEAD])
            if q + half < n_stored:  # (and where its value goes, read from the cursor asked for)
                _prefetch(pairs, cursor[indices[q + half]], 0)
            p = cursor[indices[q]]  # (from here, cursor[j] is where column j's values end)
            pairs[p, 0] = data[q]
            if weighted:
                pairs[p, 1] = weights[i]
            cursor[indices[q]] = p + 1
    row_weight = np.float64(weights[0]) if n_samples > 0 else 0.0
    # The columns of one value, of positive weight, a normal number, among implicit
    # zeros (most of hashed text's), apart: their arithmetic below needs no loop nor
    # branch, so that the processor overlaps the columns' divisions, where a
    # column's loops of a random length (a mispredicted branch each) kept them in turn.
    n_singles, n_others, stop = 0, 0, 0
    for k in range(n_used):
        j = used[k]
        start, stop = stop, cursor[j]
        exponent = _exponent_bits(pairs[start, 0])
        w = pairs[start, 1] if weighted else row_weight
        single = (stop - start == 1) & (w > 0) & (n_rows > 1)
        single &= (exponent > 0) & (exponent < 2045)
        used[n_singles] = j  # (read at k, written at n_singles <= k)
        others[n_others, 0], others[n_others, 1] = j, start
        n_singles += single
        n_others += not single
    if n_rows == 0:  # no statistics: the peaks alone (every column is among the others)
        for k in range(n_others):
            j, start = others[k, 0], others[k, 1]
            largest = 0.0
            for p in range(start, cursor[j]):
                largest = max(largest, abs(pairs[p, 0]))
            peak[j] = largest
        _ends_to_counts(cursor)
        return False
    # The arithmetic of the passes by row that this replaced, as numba compiled
    # them with jit's flags (here spelt out, and compiled without them, so that
    # the sums by column are not reordered): the two multiply-adds fused, and a
    # squared deviation times the row's weight before the division by the unit
    # (here times its inverse, a power of two whose inverse is exact: the same number).
    for j in used[:n_singles]:
        p = cursor[j] - 1
        row_w = pairs[p, 1] if weighted else row_weight
        value, w = pairs[p, 0], row_w * inverse_unit
        # the steps below for one value v != 0 among zeros: its range [min(v, 0),
        # max(v, 0)], whose peak is |v|; its unit's inverse is normal (exponent < 2045)
        exponent = _exponent_bits(value) + 1
        unit, inverse = _power_of_exponent(exponent), _power_of_exponent(2046 - exponent)
        total = _fmuladd(w, value * inverse, 0.0)
        centre = total / weight
        deviation = _fmuladd(value, inverse, -centre)
        m2 = 0.0 + deviation * deviation * row_w * inverse_unit
        m2 = _fmuladd(centre * centre, weight - (0.0 + w), m2)
        mean[j] = centre * unit
        std[j] = math.sqrt(max(m2, 0.0) / weight) * unit
        peak[j] = abs(value)
    for k in range(n_others):
        j, start = others[k, 0], others[k, 1]
        stop = cursor[j]
        largest = 0.0  # (as _sparse_column_peak takes it: every value, in row order)
        low, high, count = np.inf, -np.inf, 0.0
        for p in range(start, stop):
            largest = max(largest, abs(pairs[p, 0]))
            if (pairs[p, 1] if weighted else row_weight) > 0:
                low = min(low, pairs[p, 0])
                high = max(high, pairs[p, 0])
                count += 1.0
        peak[j] = largest
        if count < n_rows:  # implicit zeros on rows that count
            low = min(low, 0.0)
            high = max(high, 0.0)
        if low == high:  # one value: it is the mean, and there is no deviation
            mean[j], std[j] = low, 0.0
            continue
        largest = max(abs(low), abs(high))
        if _SMALLEST_NORMAL <= largest < np.inf:  # _unit's power of two, from the exponent
            # (2**1023 at most, as _unit: 2047, one more, is the exponent of inf)
            unit = _power_of_exponent(min(_exponent_bits(largest) + 1, 2046))
        else:  # (libm's frexp and ldexp: 15 ns a call, a column)
            unit = _unit(largest)
        inverse = 1.0 / unit  # (a power of two: multiplying is exact)
        total, stored = 0.0, 0.0  # the sum of X / unit, and the weight of the stored values
        for p in range(start, stop):
            w = (pairs[p, 1] if weighted else row_weight) * inverse_unit
            total = _fmuladd(w, pairs[p, 0] * inverse, total)
            stored += w
        centre = total / weight
        m2 = 0.0
        for p in range(start, stop):
            deviation = _fmuladd(pairs[p, 0], inverse, -centre)
            m2 += deviation * deviation * (pairs[p, 1] if weighted else row_weight) * inverse_unit
        m2 = _fmuladd(centre * centre, weight - stored, m2)  # the implicit zeros' deviations
        mean[j] = centre * unit
        std[j] = math.sqrt(max(m2, 0.0) / weight) * unit
    _ends_to_counts(cursor)
    return True


@_exact
def _ends_to_counts(cursor):
    """Where each column's sorted values end, made in place their count."""
    for j in range(cursor.shape[0] - 1, 0, -1):
        cursor[j] -= cursor[j - 1]


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


def sparse_standardization(mean, std, peak, dtype):
    """Sparse X's ``(mean, scale)``: :func:`standardization`'s, or uncentred and by the peak.

    A column with ``|mean| <= scale`` (cast to ``dtype``) and a positive
    ``peak`` gets mean 0 and scale ``peak`` (cast to ``dtype``); another, its
    mean and the larger of its scale and ``peak * scale / |mean|``
    (:func:`skgd._base._centred_scale`'s), as the numpy
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
        between = p * (c / abs(s))  # (see _centred_scale)
        centred = between if between > c else c
        shift[j] = 0.0 if uncentred else s
        scale[j] = p if uncentred else centred
