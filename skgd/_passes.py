"""Compiled passes over X and over the coefficients, outside the batch steps.

Before training: the statistics' column range and moments (dense X by row
blocks, sparse X in one call over its stored values) and sparse X's column
peaks (the curvature's passes are in :mod:`skgd._curvature_passes`). Each
epoch: its random order (numpy's to the bit), the coefficients' copy with
their penalty's sums, and their finiteness. Each is one pass with no
temporary the size of X (issue 11's memory point), reading X in its own dtype and summing in
float64; arrays the size of a column are allocated by numpy, which gets
huge pages for them where numba's allocator does not. The numpy paths in
:mod:`skgd._standardize` and :mod:`skgd._objective` give the same results
(the tests compare both); ``skgd._kernel.ENABLED = False`` selects them.
"""

import math

import numpy as np

from . import _kernel
from ._compiled import _prefetch, _prefetch_item, aligned, jit

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
    """
    n_samples, n_features = X.shape
    with_norms = norms.shape[0] == n_samples
    low, high = np.full(n_features, np.inf), np.full(n_features, -np.inf)
    unit, inverse = np.ones(n_features), np.ones(n_features)
    mean, m2, weight = np.zeros(n_features), np.zeros(n_features), 0.0
    block_mean, block_m2 = np.empty(n_features), np.empty(n_features)
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        # the range, and the block's sum in the units so far: once the first
        # blocks have set them, they rarely change, and the sum is then done
        # in the same read of the row (else it is summed again below)
        block_weight = 0.0
        block_mean[:] = 0.0
        for i in range(start, stop):
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
        # (np.minimum, not min: numba's min stores only when the value is lower,
        # which vectorizes to masked stores, microcoded on AMD's processors: the
        # range took 2-3 times a read of X there)
        changed = False
        for j in range(n_features):
            peak = max(abs(low[j]), abs(high[j]))
            if peak > 0 and low[j] <= high[j]:
                new_unit = math.ldexp(1.0, math.frexp(peak)[1])
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
        for i in range(start, stop):
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
        if block_weight == 0:
            continue
        share = block_weight / (weight + block_weight)
        for j in range(n_features):
            delta = block_mean[j] - mean[j]
            mean[j] += delta * share
            m2[j] += block_m2[j] + delta * delta * weight * share
        weight += block_weight
    return low, high, unit, mean, m2, weight


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
    """``skgd._standardize._power_of_two`` of one value."""
    return math.ldexp(1.0, math.frexp(peak)[1]) if peak > 0 else 1.0


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
    for q in range(indices.shape[0]):  # each column's count, then where its values start
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
            exponent = (bits.view(np.int64)[0] >> 52) + 1  # (2**1024: the bits of inf, as ldexp)
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


def permutation(rng, n):
    """``rng.permutation(n)``, the same rows in the same order, and ``rng`` left in the same state.

    An epoch's order in the default shuffle. numpy's legacy shuffle draws
    each swap's target by rejection (32 random bits under the smallest mask
    of all ones that covers the position, again while above it) and swaps
    at once: 4 ms for 200,000 rows on a quiet machine, 5-10 ms on a loaded
    one, five times in a 5-epoch fit, as long in float32 as in float64.
    Here the same 32-bit draws are taken from ``rng`` in bulk, a chunk at a
    time, and compiled code finds the chunk's targets by the same rejection,
    without a branch, then swaps, asking for each target's row ahead. Each
    chunk is at most as many draws as positions are left, the fewest they
    can take, so that no draw is taken that numpy's shuffle would not take:
    ``rng`` ends in the state numpy's shuffle leaves. The chunks (a few
    hundred KB) stay in cache, where arrays of all the draws and targets
    (2.4 MB, fresh each epoch) cost page faults on a loaded machine.
    """
    if (
        n <= _SHUFFLE_BY_NUMPY
        or not _kernel.ENABLED
        or _kernel.numba is None
        or type(rng) is not np.random.RandomState
        or n - 1 > 0xFFFFFFFF  # (numpy's shuffle draws 64 bits a swap beyond)
    ):
        return rng.permutation(n)
    order = np.arange(n)
    targets = np.empty(min(n, _SHUFFLE_CHUNK), dtype=np.int64)
    left = n - 1  # the positions n - 1, ..., 1 swap in turn; left is the next one
    while left > _SHUFFLE_BY_NUMPY:
        # next_uint32, as numpy's shuffle draws
        draws = rng.randint(0, 2**32, size=min(left, _SHUFFLE_CHUNK), dtype=np.uint32)
        left = _shuffle_chunk(order, draws, left, targets)
    # The last positions: numpy's shuffle of them takes the same draws for the same
    # swaps. Chunks of a few draws each would cost a call each (a partial_fit call
    # of 100 rows took 10 times numpy's permutation).
    rng.shuffle(order[: left + 1])
    return order


# Draws taken from the generator at a time; the swaps ask for the row this many swaps ahead
_SHUFFLE_CHUNK = 1 << 15
# Positions left that numpy's own shuffle takes (see permutation)
_SHUFFLE_BY_NUMPY = 2048
_SWAPS_AHEAD = 16


@jit
def _shuffle_chunk(order, draws, position, targets):
    """The swaps of ``position``, ``position - 1``, ... that ``draws`` decide; the position left.

    numpy's ``random_interval``: a draw masked by the smallest all-ones
    mask that covers the position, rejected while above it. The mask halves
    when the position comes down to half of it.
    """
    mask = position
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    top = position
    for k in range(draws.shape[0]):
        if position == 0:
            break
        value = draws[k] & mask
        targets[top - position] = value  # (a rejected value is overwritten by the next)
        position -= value <= position
        mask >>= position <= (mask >> 1)
    done = top - position  # the positions top, ..., position + 1 have their targets
    for d in range(done):
        if d + _SWAPS_AHEAD < done:
            _prefetch_item(order, targets[d + _SWAPS_AHEAD])
        i, j = top - d, targets[d]
        order[i], order[j] = order[j], order[i]
    return position


def uniform(rng, low, high, shape, dtype, zero=None):
    """``rng.uniform(low, high, size=shape).astype(dtype)``, to the bit; ``rng`` left as by numpy.

    ``zero``, if given, says which columns (the last axis) are then set to 0.
    The random start of a fit's coefficients: on wide data (5 x 2**20)
    numpy's uniform took 50 ms, a third of SGDClassifier's whole fit, its
    cast and the zeros a few more. numpy's legacy generator is Mersenne
    Twister (MT19937); its next double is two 32-bit outputs ``a, b``,
    ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``, and a uniform value
    ``low + (high - low) * u``. Here the same twister runs compiled from the
    generator's own state, and the state is given back where numpy's
    uniform leaves it. Any other generator, or few values, go to numpy.
    """
    n = math.prod(shape)
    state = None
    if (
        n >= _UNIFORM_BY_NUMPY
        and _kernel.ENABLED
        and _kernel.numba is not None
        and type(rng) is np.random.RandomState
    ):
        state = rng.get_state(legacy=False)
    if state is None or state["bit_generator"] != "MT19937":
        values = rng.uniform(low, high, size=shape).astype(dtype, copy=False)
        if zero is not None:
            np.copyto(values, 0, where=zero)  # (a boolean index of columns: 3 times slower)
        return values
    low, high = float(low), float(high)
    span = high - low
    if not math.isfinite(span):  # numpy's own error
        return rng.uniform(low, high, size=shape).astype(dtype, copy=False)
    values = np.empty(shape, dtype=dtype)
    width = shape[-1] if len(shape) else 1
    zero = np.zeros(width, dtype=np.bool_) if zero is None else np.asarray(zero, dtype=np.bool_)
    # numpy holds the generator's lock for a whole draw: so does this one, from
    # reading the state to writing it back, or two threads sharing a generator
    # (numpy's global one, a user's) would draw the same values
    with rng._bit_generator.lock:
        state = rng.get_state(legacy=False)
        key, position = state["state"]["key"], state["state"]["pos"]
        key = np.array(key, dtype=np.uint32)  # (a copy, written by the twister)
        state["state"]["pos"] = _uniform(key, position, low, span, values.reshape(-1, width), zero)
        state["state"]["key"] = key
        rng.set_state(state)
    return values


# Fewer values than this are drawn by numpy (a stream's first call, small data)
_UNIFORM_BY_NUMPY = 4096
# MT19937's constants
_MT_N, _MT_M, _MT_MATRIX, _MT_UPPER, _MT_LOWER = 624, 397, 0x9908B0DF, 0x80000000, 0x7FFFFFFF


@_exact
def _twist(key):
    """MT19937's next 624 words of state, in place (numpy's ``mt19937_gen``).

    In its three parts, as numpy's C: loops whose indices the compiler sees
    through vectorize (as one loop with wrapped indices, 9 times slower).
    """
    for i in range(_MT_N - _MT_M):
        y = (np.int64(key[i]) & _MT_UPPER) | (np.int64(key[i + 1]) & _MT_LOWER)
        key[i] = np.int64(key[i + _MT_M]) ^ (y >> 1) ^ (-(y & 1) & _MT_MATRIX)
    for i in range(_MT_N - _MT_M, _MT_N - 1):
        y = (np.int64(key[i]) & _MT_UPPER) | (np.int64(key[i + 1]) & _MT_LOWER)
        key[i] = np.int64(key[i + _MT_M - _MT_N]) ^ (y >> 1) ^ (-(y & 1) & _MT_MATRIX)
    y = (np.int64(key[_MT_N - 1]) & _MT_UPPER) | (np.int64(key[0]) & _MT_LOWER)
    key[_MT_N - 1] = np.int64(key[_MT_M - 1]) ^ (y >> 1) ^ (-(y & 1) & _MT_MATRIX)


@_exact
def _tempered(word):
    """MT19937's output of one word of state."""
    y = np.int64(word)
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    return y ^ (y >> 18)


@_exact
def _uniform(key, position, low, span, out, zero):
    """numpy's legacy ``uniform`` into ``out`` (rows of ``zero``'s length); the position left.

    A block of the state at a time: its words tempered, then paired into
    doubles (a pair may straddle two blocks), in loops that vectorize. No
    fast-math flag: ``low + span * u`` rounds twice, as numpy's does.
    """
    flat = out.reshape(-1)
    n = flat.shape[0]
    words = np.empty(_MT_N, dtype=np.uint32)
    done, first = 0, -1  # the doubles made; the first word of a pair across two blocks
    while done < n:
        if position == _MT_N:
            _twist(key)
            position = 0
        m = _MT_N - position
        for i in range(m):
            words[i] = _tempered(key[position + i])
        i = 0
        if first >= 0:
            flat[done] = low + span * (_double(first, words[0]))
            done, i, first = done + 1, 1, -1
        pairs = min((m - i) // 2, n - done)
        for p in range(pairs):
            flat[done + p] = low + span * _double(words[i + 2 * p], words[i + 2 * p + 1])
        done, i = done + pairs, i + 2 * pairs
        if done < n and i < m:  # one word left in this block
            first, i = np.int64(words[i]), i + 1
        position += i  # (the words a pair used; numpy twists only when it needs one more)
    if zero.any():
        for k in range(out.shape[0]):
            for j in range(out.shape[1]):
                if zero[j]:
                    out[k, j] = 0.0
    return position


@_exact
def _double(a, b):
    """MT19937's double in [0, 1) of two outputs (numpy's ``mt19937_next_double``).

    Their top bits as 32-bit integers, which convert to floats in vectors
    (64-bit ones do not, before AVX-512). Times 2**-53: exactly a division.
    """
    high, low = np.int32(a >> 5), np.int32(b >> 6)
    return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0)


@_exact
def merge_statistics(mean, std, new_mean, new_std, share):
    """Chan, Golub and LeVeque's merge of two sets' means and deviations, column by column.

    ``share`` is the new set's share of the total weight. The same
    arithmetic, in the same order, as the numpy path of
    :meth:`skgd._standardize.FeatureStats.update`; its twenty-odd numpy
    calls on arrays the size of a row cost a streamed row's call more than
    this one. Returns the merged ``(mean, std)``.
    """
    n = mean.shape[0]
    merged_mean, merged_std = np.empty(n), np.empty(n)
    for j in range(n):
        delta = new_mean[j] - mean[j]
        # the larger of the deviations and |delta|, a NaN winning (np.maximum's rule)
        unit = std[j] if std[j] >= new_std[j] or std[j] != std[j] else new_std[j]
        spread = abs(delta)
        unit = unit if unit >= spread or unit != unit else spread
        if unit == 0:
            unit = 1.0
        old, new, moved = std[j] / unit, new_std[j] / unit, delta / unit
        var = (1 - share) * (old * old) + share * (new * new)
        var += moved * moved * share * (1 - share)
        merged_mean[j] = mean[j] + delta * share
        merged_std[j] = unit * np.sqrt(var)
    return merged_mean, merged_std
