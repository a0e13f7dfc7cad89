"""Compiled passes over X for the curvature: the largest row norm and the power iteration.

Before training, the step's scale comes from how curved the objective is
(:meth:`skgd._objective.Objective.curvature`): the largest squared norm of
a standardized row, and the largest eigenvalue of the standardized Gram
matrix of the sampled rows, by power iteration. Each is one pass over X
(dense, or CSR's stored values) an iteration, in float64, with no copy of
X and no standardized temporary. The numpy path in :mod:`skgd._objective`
gives the same results (the tests compare both).
"""

import math

import numpy as np

from ._compiled import _exact, _prefetch_item, jit
from ._sparse_statistics_passes import _STORED_AHEAD, _columns


def _inverse(scale):
    """``1 / scale`` in float64 if every inverse is finite (multiplying beats dividing), else None.

    One compiled call, not numpy's four (the cast, the division, the test
    and its ``all``, with an ``errstate``): on a streamed row's few columns
    they cost more than the pass over the row.
    """
    inverse = np.empty(len(scale))
    return inverse if _inverse_into(scale, inverse) else None


@_exact
def _inverse_into(scale, inverse):
    """``inverse = 1 / scale`` in float64, as numpy's; False if one is not finite."""
    finite = True
    for j in range(scale.shape[0]):
        inverse[j] = 1.0 / np.float64(scale[j])
        finite &= np.isfinite(inverse[j])
    return finite


def largest_squared_row_norm(X, mean, scale):
    """max_i ||(x_i - mean) / scale||^2, in one pass over X, in float64.

    Multiplied by ``1 / scale``: a division per value would make the pass
    several times slower than reading X (scales so small that their
    inverse overflows divide). No numpy warning is raised.
    """
    mean = np.asarray(mean, dtype=np.float64)
    inverse = _inverse(scale)
    if inverse is None:
        return _largest_squared_row_norm_divided(X, mean, np.asarray(scale, dtype=np.float64))
    return _largest_squared_row_norm(X, mean, inverse)


@jit
def _largest_squared_row_norm(X, mean, inverse):
    best = 0.0
    for i in range(X.shape[0]):
        total = 0.0
        for j in range(X.shape[1]):
            z = (X[i, j] - mean[j]) * inverse[j]
            total += z * z
        best = max(best, total)
    return best


@jit
def _largest_squared_row_norm_divided(X, mean, scale):
    best = 0.0
    for i in range(X.shape[0]):
        total = 0.0
        for j in range(X.shape[1]):
            z = (X[i, j] - mean[j]) / scale[j]
            total += z * z
        best = max(best, total)
    return best


def gram_power_iteration(X, weights, mean, scale, fit_intercept, iterations):
    """The largest eigenvalue of the weighted Gram matrix of X's standardized rows.

    :meth:`skgd._objective.Objective.curvature`'s power iteration, compiled:
    the standardized rows ``z_i = (x_i - mean) / scale``, with the
    intercept's 1 appended (0 without an intercept), each weighted by
    ``weights``; X (the sampled rows) is read once an iteration, float32 as
    it is, and summed in float64. None if ``1 / scale`` overflows. Compiled,
    the iteration calls no multithreaded BLAS: on a loaded machine numpy's
    forty small products took 30 times their quiet time, 0.6 s a fit.

    The rows are centred once, in float64, before the iterations: each
    iteration subtracted the mean twice from every value (and converted
    float32 to float64 twice), the same differences every time. Stored,
    they are the same numbers, so the iteration's result is the same to the
    bit; the twenty iterations took a fifth less (float64 sample of 10,000
    rows of 100: 5.9 ms to 4.7 with the centring). The copy is the sample's
    (at most ``skgd._objective._SAMPLE_ROWS`` rows), not X's.
    """
    mean = np.asarray(mean, dtype=np.float64)
    inverse = _inverse(scale)
    if inverse is None:
        return None
    centred = np.empty(X.shape)
    _centre(X, mean, centred)
    return _gram_power_iteration(centred, weights, inverse, fit_intercept, iterations)


@jit
def _centre(X, mean, centred):
    """``centred = X - mean``, row by row, in float64 (a difference rounds the same anywhere)."""
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            centred[i, j] = X[i, j] - mean[j]


@jit
def _gram_power_iteration(X, weights, inverse, fit_intercept, iterations):
    """The power iteration on X's rows, centred already (see :func:`gram_power_iteration`)."""
    n_features = X.shape[1]
    v = np.ones(n_features + 1)
    a = np.empty(n_features)
    top = np.empty(n_features)
    lam = 0.0
    for _ in range(iterations):
        norm = math.sqrt(np.sum(v * v))
        for j in range(n_features):
            a[j] = v[j] / norm * inverse[j]
        last = v[n_features] / norm
        top[:] = 0.0
        total = 0.0
        n_four = X.shape[0] - X.shape[0] % 4
        for i in range(0, n_four, 4):
            # Four rows' products, then top takes the four in one pass, held in
            # registers across them, not loaded and stored for each row. Each
            # row's product is its own sum, as one row at a time, and top adds
            # the rows one by one, in order: the same numbers to the bit.
            u0 = 0.0
            for j in range(n_features):
                u0 += X[i, j] * a[j]
            u1 = 0.0
            for j in range(n_features):
                u1 += X[i + 1, j] * a[j]
            u2 = 0.0
            for j in range(n_features):
                u2 += X[i + 2, j] * a[j]
            u3 = 0.0
            for j in range(n_features):
                u3 += X[i + 3, j] * a[j]
            u0 = (u0 + last) * weights[i]
            u1 = (u1 + last) * weights[i + 1]
            u2 = (u2 + last) * weights[i + 2]
            u3 = (u3 + last) * weights[i + 3]
            total += u0
            total += u1
            total += u2
            total += u3
            for j in range(n_features):
                summed = top[j]
                summed += u0 * X[i, j]
                summed += u1 * X[i + 1, j]
                summed += u2 * X[i + 2, j]
                summed += u3 * X[i + 3, j]
                top[j] = summed
        for i in range(n_four, X.shape[0]):
            u = 0.0
            for j in range(n_features):
                u += X[i, j] * a[j]
            u = (u + last) * weights[i]
            total += u
            for j in range(n_features):
                top[j] += u * X[i, j]
        for j in range(n_features):
            v[j] = top[j] * inverse[j]
        v[n_features] = total if fit_intercept else 0.0
        lam, previous = math.sqrt(np.sum(v * v)), lam
        if not (lam > 0 and np.isfinite(lam)):
            break
        if lam - previous <= 1e-7 * lam:  # settled
            break
    return lam


# The smallest scale whose inverse is finite in float64: 1 / 2**-1024 overflows.
_TINY_SCALE = float(np.nextafter(2.0**-1024, 1.0))
# unshifted's block of columns, read before it looks whether one was shifted
_UNSHIFTED_BLOCK = 4096


def unshifted(mean, scale):
    """Whether every column's shift ``mean / scale`` is 0 and its ``1 / scale`` finite.

    Sparse X's columns are centred only where their mean outweighs their
    spread (a stop word of hashed text): often none. Then the sparse passes
    below need ``1 / scale`` at the columns X stores alone, and nothing of
    the others, whose standardized values are all 0: their shifts' sums,
    taken over every column in an order the compiler picks, are sums of
    zeros, exactly 0 in any order. One read of ``mean`` and ``scale``,
    stopped at the first block with a shifted column.
    """
    return bool(_unshifted(mean, scale))


@_exact
def _unshifted(mean, scale):
    for start in range(0, mean.shape[0], _UNSHIFTED_BLOCK):
        shifted = 0
        for j in range(start, min(start + _UNSHIFTED_BLOCK, mean.shape[0])):
            # (a NaN scale fails the comparison: its inverse is not finite)
            shifted += (mean[j] != 0) | (not abs(np.float64(scale[j])) >= _TINY_SCALE)
        if shifted:
            return False
    return True


def sparse_gram_power_iteration(
    X, weights, mean, scale, fit_intercept, iterations, unshifted=False
):  # fmt: skip
    """:func:`gram_power_iteration` for CSR X (canonical), in O(its stored values) an iteration.

    The numpy path's products on sparse X touch every column twice an
    iteration (2**20-long vectors: threaded BLAS, slow on a loaded machine).
    Here the columns with a value stored in X are numbered once; every other
    column's standardized values are its constant ``-mean / scale``, so its
    part of v stays ``alpha + beta * shift`` (ones at first, then a multiple
    of the shift), carried as two numbers. None if ``1 / scale`` overflows.

    ``unshifted`` (:func:`unshifted` of ``mean`` and ``scale``, True): every
    shift is 0 and every ``1 / scale`` finite, so the shifts are not made:
    the pass reads numpy's zeros, pages the system has not given (they all
    read its one page of zeros), and the places start at -1 by numpy's fill.
    """
    # mean / scale and the columns' places (-1: none yet) in one pass, not numpy's
    # five over every column (2**20 of them on hashed text); 1 / scale is taken
    # again at the stored columns alone: an array of it over every column took
    # more of the call in its fresh pages than in its divisions
    n_features = len(mean)
    # a stored column's place, or -1 (int32 when it holds them: half the fresh pages)
    index = np.int32 if X.nnz < 2**31 else np.int64
    if unshifted:
        # (+0 where mean / scale may be -0: no sum, product or maximum of the pass
        # tells them apart from the other values they meet)
        shift = np.zeros(n_features)
        number = _columns(n_features, dtype=index, fill=-1)
    else:
        shift = _columns(n_features)
        number = _columns(n_features, dtype=index)
        if not _shifts(mean, scale, shift, number):
            return None
    return _sparse_gram_power_iteration(
        X.data, X.indices, X.indptr, weights, shift, scale, fit_intercept, iterations, number,
    )  # fmt: skip


@_exact
def _shifts(mean, scale, shift, number):
    """``mean * (1 / scale)`` in float64, as numpy's; False if a ``1 / scale`` overflows."""
    finite = True
    for j in range(mean.shape[0]):
        inverse = 1.0 / np.float64(scale[j])
        finite &= np.isfinite(inverse)
        shift[j] = np.float64(mean[j]) * inverse
        number[j] = -1
    return finite


@jit
def _sparse_gram_power_iteration(
    data, indices, indptr, weights, shift, scale, fit_intercept, iterations, number
):
    n_features = shift.shape[0]
    # the stored columns, numbered as first met, and each stored value's place;
    # without a branch (a column seen before or not: a coin toss on hashed text,
    # whose mispredictions made half of this setup's time)
    columns = np.empty(min(n_features, data.shape[0]) + 1, dtype=np.int64)
    local = np.empty(data.shape[0], dtype=number.dtype)
    m = 0
    for q in range(data.shape[0]):
        if q + _STORED_AHEAD < data.shape[0]:  # (a miss a value on wide X: overlapped)
            _prefetch_item(number, indices[q + _STORED_AHEAD])
        j = indices[q]
        place = number[j]
        fresh = place < 0
        place = m if fresh else place
        number[j], local[q] = place, place
        columns[m] = j  # (kept only if j is new: else the next new column's overwrites it)
        m += fresh
    inv = np.empty(m)
    sh = np.empty(m)
    for p in range(m):
        if p + _STORED_AHEAD < m:
            _prefetch_item(scale, columns[p + _STORED_AHEAD])
            _prefetch_item(shift, columns[p + _STORED_AHEAD])
        inv[p], sh[p] = 1.0 / np.float64(scale[columns[p]]), shift[columns[p]]
    # the other columns: how many, and their shifts' sum and squared sum
    n_other, other_sum, other_squares = n_features - m, 0.0, 0.0
    for j in range(n_features):
        if number[j] < 0:
            other_sum += shift[j]
            other_squares += shift[j] * shift[j]
    alpha, beta = 1.0, 0.0  # their part of v: alpha + beta * shift
    n_stored = data.shape[0]
    v = np.ones(m)
    last_v = 1.0
    a = np.empty(m)
    lam = 0.0
    for _ in range(iterations):
        squares = 0.0
        for p in range(m):
            squares += v[p] * v[p]
        squares += alpha * alpha * n_other + 2.0 * alpha * beta * other_sum
        squares += beta * beta * other_squares + last_v * last_v
        norm = math.sqrt(squares)
        centre = 0.0  # shift . v / norm, over every column
        for p in range(m):
            a[p] = v[p] / norm
        for p in range(m):  # (a loop of its own: see skgd._compiled.jit)
            centre += sh[p] * a[p]
        centre += (alpha * other_sum + beta * other_squares) / norm
        last = last_v / norm
        for p in range(m):
            a[p] *= inv[p]
            v[p] = 0.0
        total = 0.0
        for i in range(indptr.shape[0] - 1):
            u = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                u += data[q] * a[local[q]]
            u = (u - centre + last) * weights[i]
            total += u
            for q in range(indptr[i], indptr[i + 1]):
                # the next rows' a and v asked for here, not in the sum above: a
                # call there keeps it from vectorizing, which changes its rounding
                if q + _STORED_AHEAD < n_stored:  # (see sparse_largest_squared_row_norm)
                    _prefetch_item(a, local[q + _STORED_AHEAD])
                    _prefetch_item(v, local[q + _STORED_AHEAD])
                v[local[q]] += u * data[q]
        for p in range(m):
            v[p] = v[p] * inv[p] - sh[p] * total
        alpha, beta = 0.0, -total
        last_v = total if fit_intercept else 0.0
        squares = 0.0
        for p in range(m):
            squares += v[p] * v[p]
        squares += beta * beta * other_squares + last_v * last_v
        lam, previous = math.sqrt(squares), lam
        if not (lam > 0 and np.isfinite(lam)):
            break
        if lam - previous <= 1e-7 * lam:  # settled
            break
    return lam


def sparse_largest_squared_row_norm(data, indices, indptr, mean, scale, unshifted=False):
    """:func:`largest_squared_row_norm` for CSR X, in one pass over its stored values.

    With ``z = x / scale`` and ``s = mean / scale``, a row's
    ``||z - s||^2`` is the sum over its stored values of ``z^2 - 2 z s``,
    plus ``||s||^2`` (the same for every row). On wide data each stored
    value's scale and shift are cache misses: asked for ahead, they
    overlap (on hashed text, 2**18 columns, the pass took a quarter of its
    time; 2**20, 0.4 of it). ``unshifted`` (:func:`unshifted`, True): every
    ``s`` is 0, and the shifts are neither made nor read (on hashed text,
    2**20 columns, making them took as long as the pass).
    """
    if unshifted:
        # the same arithmetic with the shifts' zero, of the dtype numpy's division gives
        zero = (mean[:0] / scale[:0]).dtype.type(0)
        return _sparse_largest_unshifted_squared_row_norm(data, indices, indptr, scale, zero)
    shift = mean / scale  # (by numpy: see _columns)
    return _sparse_largest_squared_row_norm(data, indices, indptr, shift, scale)


def sparse_squared_row_norms(data, indices, indptr, mean, scale, unshifted=False):
    """Each row's ``||(x_i - mean) / scale||^2`` for CSR X.

    :func:`sparse_largest_squared_row_norm`'s sums, each kept (see
    :meth:`skgd._objective.Objective._outlier_rows`); ``unshifted`` as there:
    the shifts, all 0, are neither made nor read.
    """
    norms = np.empty(indptr.shape[0] - 1)
    if unshifted:
        zero = (mean[:1] / scale[:1]) * 0.0  # (one shift of 0, read for every value)
        _sparse_squared_row_norms(data, indices, indptr, zero, scale, norms, True)
        return norms
    shift = mean / scale  # (by numpy, as sparse_largest_squared_row_norm's)
    _sparse_squared_row_norms(data, indices, indptr, shift, scale, norms, False)
    return norms + float(shift @ shift)


@jit
def _sparse_squared_row_norms(data, indices, indptr, shift, scale, norms, unshifted):
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            z = data[q] / scale[j]
            total += z * z - 2.0 * z * shift[0 if unshifted else j]
        norms[i] = total


@jit
def _sparse_largest_squared_row_norm(data, indices, indptr, shift, scale):
    best = -np.inf
    n_stored = indices.shape[0]
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            if q + _STORED_AHEAD < n_stored:
                _prefetch_item(scale, indices[q + _STORED_AHEAD])
                _prefetch_item(shift, indices[q + _STORED_AHEAD])
            j = indices[q]
            z = data[q] / scale[j]
            total += z * z - 2.0 * z * shift[j]
        best = max(best, total)
    squares = 0.0
    for j in range(shift.shape[0]):
        squares += shift[j] * shift[j]
    return best + squares


@jit
def _sparse_largest_unshifted_squared_row_norm(data, indices, indptr, scale, zero):
    """:func:`_sparse_largest_squared_row_norm` with every shift ``zero``, to the bit the same.

    Its sum and rounding, term for term: ``z * z - 2.0 * z * zero`` is
    ``z * z`` but for a NaN or infinite ``z`` (a NaN either way), and
    ``||s||^2`` is ``zero * zero``.
    """
    best = -np.inf
    n_stored = indices.shape[0]
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            if q + _STORED_AHEAD < n_stored:
                _prefetch_item(scale, indices[q + _STORED_AHEAD])
            j = indices[q]
            z = data[q] / scale[j]
            total += z * z - 2.0 * z * zero
        best = max(best, total)
    return best + zero * zero
