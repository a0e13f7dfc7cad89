"""Compiled passes over the coefficients each epoch, outside the batch steps.

The coefficients' copy with their penalty's sums (:func:`copy_and_sums`),
their finiteness (:func:`all_finite`), and their conversion to the model's
units (:func:`model_coefficients`): on wide data each is a pass over V,
with no temporary the size of V, summing in float64. The numpy paths in
:mod:`skgd._objective` and :mod:`skgd._loop` give the same results (the
tests compare both); ``skgd._kernel.ENABLED = False`` selects them. The
passes over X before training are in :mod:`skgd._statistics_passes`,
:mod:`skgd._sparse_statistics_passes` and :mod:`skgd._curvature_passes`,
the random order and start in :mod:`skgd._draws`.
"""

import functools

import numpy as np

from . import _kernel
from ._compiled import _exact, jit, jit_inline


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
    magnitudes, squares = np.zeros((2, V.shape[0]))  # (one allocation: a streamed row's call)
    _copy_and_sums(V, out, magnitudes, squares)
    if V.dtype != np.float64:  # in V's dtype, as numpy's: float32 sums beyond it overflow
        with np.errstate(over="ignore"):
            magnitudes, squares = magnitudes.astype(V.dtype), squares.astype(V.dtype)
    return (magnitudes if absolute else 0.0), squares


def magnitudes(V):
    """Each row's sum of magnitudes, as :func:`copy_and_sums` takes it, without a copy of V.

    For a lazy epoch's L1 penalty (its write-back summed the squares):
    ``np.abs(V)`` was an array V's size an epoch (9 ms of a 41 ms epoch at
    5 x 2**20 coefficients).
    """
    if not _kernel.ENABLED or _kernel.numba is None or not V.flags.c_contiguous:
        return np.abs(V).sum(axis=1)
    sums = np.zeros(V.shape[0])
    _magnitudes(V, sums)
    if V.dtype != np.float64:  # in V's dtype, as copy_and_sums' (float32's may overflow)
        with np.errstate(over="ignore"):
            sums = sums.astype(V.dtype)
    return sums


@jit
def _magnitudes(V, sums):
    for k in range(V.shape[0]):
        a = 0.0
        for j in range(V.shape[1]):
            a += abs(np.float64(V[k, j]))
        sums[k] = a


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
    return model_coefficients_checked(V, x_scale, y_scale, x_scale)[0]


def model_coefficients_in_place(V, x_scale, y_scale):
    """:func:`model_coefficients` written over V itself, to the bit, and V returned.

    For a V that nothing reads afterwards: the end of a fit. A new W cost its
    page faults (wide data: 40 MB, about 3 ms), and the pass that wrote it,
    with V and W both its arguments, ran unvectorized once they were one array
    (its check of their overlap): 7.5 ms on 5 x 2**20 coefficients, this 2.7.
    """
    return model_coefficients_checked(V, x_scale, y_scale, x_scale, in_place=True)[0]


def model_coefficients_checked(V, x_scale, y_scale, x_mean, in_place=False):
    """:func:`model_coefficients` (over V if ``in_place``), whether W is finite, and x_mean's use.

    Returns ``(W, finite, centred)``: ``centred``, whether ``x_mean`` holds a
    non-zero value. The model's intercept takes ``W @ x_mean``, and the end of
    a fit checks W for overflow: on wide data, two more passes over W (5 x
    2**20 coefficients: 40 MB each, about as long as this one), both taken
    here on the way. On sparse X, whose columns are rarely centred, ``W @
    x_mean`` is then known to be 0 (see :meth:`skgd._objective.Objective.to_model`).
    """
    flags = np.zeros(2, dtype=np.int64)  # overflowed values, centred columns
    if in_place:
        _model_coefficients_in_place(V, x_scale, y_scale, x_mean, flags)
        W = V
    else:
        W = np.empty_like(V)  # (by numpy: see skgd._sparse_statistics_passes._columns)
        _model_coefficients(V, x_scale, y_scale, x_mean, W, flags)
    return W, bool(flags[0] == 0), bool(flags[1] != 0)


@_exact
def _model_coefficients(V, x_scale, y_scale, x_mean, W, flags):
    for k in range(V.shape[0]):
        overflowed = False
        for j in range(V.shape[1]):
            w = y_scale[k] * (V[k, j] / x_scale[j])
            W[k, j] = w
            overflowed |= _not_finite(w)
        flags[0] += overflowed
    flags[1] = _any_non_zero(x_mean)


@_exact
def _model_coefficients_in_place(V, x_scale, y_scale, x_mean, flags):
    for k in range(V.shape[0]):
        overflowed = False
        for j in range(V.shape[1]):
            w = y_scale[k] * (V[k, j] / x_scale[j])
            V[k, j] = w
            overflowed |= _not_finite(w)
        flags[0] += overflowed
    flags[1] = _any_non_zero(x_mean)


def standardized_coefficients(W, x_scale, y_scale):
    """``np.multiply(W, x_scale) / y_scale[:, None]`` in one pass, to the bit; None if not served.

    :meth:`skgd._objective.Objective.from_model`'s V, new and C-ordered, for W
    of :func:`model_coefficients_serve`'s kind. numpy's two operations made
    two passes over V (a stream's every call on wide data: 5 x 2**20
    coefficients, 40 MB each; the division by a classifier's y_scale of ones too).
    """
    if not model_coefficients_serve(W, x_scale, y_scale):
        return None
    V = np.empty_like(W)  # (by numpy: see skgd._sparse_statistics_passes._columns)
    _standardized_coefficients(W, x_scale, y_scale, V)
    return V


@_exact
def _standardized_coefficients(W, x_scale, y_scale, V):
    for k in range(W.shape[0]):
        if y_scale[k] == 1.0:  # (a classifier's: x / 1 is x, and a division a value saved)
            for j in range(W.shape[1]):
                V[k, j] = W[k, j] * x_scale[j]
        else:
            for j in range(W.shape[1]):
                V[k, j] = (W[k, j] * x_scale[j]) / y_scale[k]


@_exact
def _not_finite(w):
    """Whether ``w`` is an infinity or a NaN: ``w - w`` is NaN then, else 0 (no branch)."""
    d = w - w
    return d != d


@_exact
def _any_non_zero(a):
    found = False
    for j in range(a.shape[0]):
        found |= a[j] != 0
    return found


def all_finite(A):
    """``np.isfinite(A).all()``, without its boolean temporary the size of A."""
    if not _kernel.ENABLED or _kernel.numba is None or not A.flags.c_contiguous:
        return bool(np.isfinite(A).all())
    return bool(_all_finite(A if A.ndim == 1 else A.reshape(-1)))  # (c and b: no reshape to pay)


@jit
def _all_finite(a):
    total = 0.0
    for q in range(a.shape[0]):
        total += a[q] * 0.0  # NaN for an infinity or a NaN, else 0 (no fast-math flag assumes)
    return total == 0.0


# A stream's walk over more parameters than _SKETCHED_PAST is kept as WALK_SKETCH sums
# (see walked). Below, the whole walk's passes, in cache, took half the sketch's time
# (5 x 2**17 coefficients: 0.59 ms, sketched 0.95; at 5 x 2**20, 12.1 and 9.2). The
# length is odd: V's outputs lie n_features apart, a power of two on hashed text, and
# a length dividing it put each column's outputs in one sum (a softmax moves them
# apart: their gradients sum to 0), where the sketch took them as one value
_SKETCHED_PAST = 2**21
WALK_SKETCH = 2**16 - 1
# ... and sketched a block of this many parameters at a time (see _sketched)
_SKETCH_BLOCK = 4096


def walk_size(n_params):
    """The length of a stream's walk over ``n_params`` parameters (see :func:`walked`)."""
    return n_params if n_params <= _SKETCHED_PAST else WALK_SKETCH


def walked(V, V_start, c, c_start, walk):
    """A stream call's move, ``(V, c) - (V_start, c_start)`` flat, added to ``walk``: one pass.

    Returns ``(new_walk, |move|², |new_walk|²)``, ``new_walk`` a new float64
    array (``walk`` itself is the model's until the call succeeds); ``walk``
    None is a walk of zeros. numpy's path made the move and its flat copy,
    then summed, added and summed again: on wide data (5 x 2**18
    coefficients) a quarter of a 100-row call's time.

    Past ``_SKETCHED_PAST`` parameters (2**21) the walk is a count sketch of
    the sum of moves (Charikar, Chen and Farach-Colton, 2002): parameter ``p``
    adds its move, times a sign drawn by a hash of ``p``, to sum ``p mod
    WALK_SKETCH``, and ``|new_walk|²`` estimates the sum's squared length
    without bias (a relative spread of ``sqrt(2 / WALK_SKETCH)``, 0.6%, on
    moves spread over many parameters; a review measured a median of 0.8%
    and at most 1.3% on a one-row stream's few hundred). The sum itself, as
    long as the model, made a stream call at 2**20 columns (5 classes) write
    and read 40 MB more and keep them (the model's pickle too), for a ratio
    whose thresholds of 0.5 and 16 have room for such noise (its phase-end
    test at 1, a random walk's, is a coin toss either way).
    """
    n_params = V.size + c.size
    compiled = _kernel.ENABLED and _kernel.numba is not None
    if n_params > _SKETCHED_PAST:
        return _sketched_walk(V, V_start, c, c_start, walk, compiled)
    if not (compiled and V.flags.c_contiguous and V_start.flags.c_contiguous):
        move = _move(V, V_start, c, c_start)
        new_walk = move if walk is None else walk + move
        return new_walk, float(move @ move), float(new_walk @ new_walk)
    new_walk = np.empty(n_params)
    sums = np.zeros(2)
    old = np.zeros(0) if walk is None else walk
    _walked(V.reshape(-1), V_start.reshape(-1), c, c_start, old, new_walk, sums)
    return new_walk, float(sums[0]), float(sums[1])


def _move(V, V_start, c, c_start):
    """The move flat, in float64 (float32's own differences round otherwise)."""
    as_float = functools.partial(np.asarray, dtype=np.float64)
    return np.concatenate(
        [(as_float(V) - as_float(V_start)).ravel(), as_float(c) - as_float(c_start)]
    )


def _sketched_walk(V, V_start, c, c_start, walk, compiled):
    """:func:`walked` past ``_SKETCHED_PAST`` parameters: the walk a count sketch."""
    new_walk = np.zeros(WALK_SKETCH) if walk is None else walk.copy()
    if compiled and V.flags.c_contiguous and V_start.flags.c_contiguous:
        sums = np.zeros(2)
        block = np.empty((2, _SKETCH_BLOCK))  # (a block's signs, and its moves)
        _sketched(V.reshape(-1), V_start.reshape(-1), c, c_start, new_walk, block, sums)
        return new_walk, float(sums[0]), float(sums[1])
    move = _move(V, V_start, c, c_start)
    signed = move * walk_signs(len(move))
    for start in range(0, len(move), WALK_SKETCH):  # (in the compiled pass's order of sums)
        part = signed[start : start + WALK_SKETCH]
        new_walk[: len(part)] += part
    return new_walk, float(move @ move), float(new_walk @ new_walk)


def walk_signs(n):
    """The sketch's sign of each of ``n`` parameters, +1 or -1: numpy's :func:`_sign`."""
    h = np.arange(n, dtype=np.uint64) & np.uint64(_LOW_32)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(_MIX_1)) & np.uint64(_LOW_32)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(_MIX_2)) & np.uint64(_LOW_32)
    h ^= h >> np.uint64(16)
    return 1.0 - 2.0 * (h >> np.uint64(31)).astype(np.float64)


# MurmurHash3's 32-bit finalizer (fmix32): every bit of p moves each bit of the hash
_LOW_32, _MIX_1, _MIX_2 = 0xFFFFFFFF, 0x85EBCA6B, 0xC2B2AE35


@jit_inline
def _sign(p):
    h = np.uint64(p) & np.uint64(_LOW_32)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(_MIX_1)) & np.uint64(_LOW_32)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(_MIX_2)) & np.uint64(_LOW_32)
    h ^= h >> np.uint64(16)
    return 1.0 - 2.0 * np.float64(h >> np.uint64(31))


@jit
def _sketched(v, v_start, c, c_start, sketch, block, sums):
    # A block's signs in a loop of their own (in one with the moves, the hash's
    # integer steps did not vectorize: 10.1 ms on 5 x 2**20 parameters, this 8.9,
    # the pass without signs 6.5); its moves to the sketch in loops that store,
    # then to the squares in a loop that sums, from cache (as _walked: a loop
    # that did both summed in an order that changed from one run to the next)
    n, m = v.shape[0], sketch.shape[0]
    signs, moves = block[0], block[1]
    square = 0.0
    for row in range(0, n, m):  # (the parameters that sum into the sketch's m sums once)
        for at in range(0, min(m, n - row), _SKETCH_BLOCK):
            start = row + at
            width = min(_SKETCH_BLOCK, m - at, n - start)
            for b in range(width):
                signs[b] = _sign(start + b)
            for b in range(width):
                move = np.float64(v[start + b]) - np.float64(v_start[start + b])
                moves[b] = move
                sketch[at + b] += signs[b] * move
            for b in range(width):
                square += moves[b] * moves[b]
    for k in range(c.shape[0]):
        move = np.float64(c[k]) - np.float64(c_start[k])
        sketch[(n + k) % m] += _sign(n + k) * move
        square += move * move
    walk_square = 0.0
    for b in range(m):
        walk_square += sketch[b] * sketch[b]
    sums[0], sums[1] = square, walk_square


@jit
def _walked(v, v_start, c, c_start, walk, new_walk, sums):
    # A loop that stores, then loops that sum: a loop that did both vectorized its
    # sums or not by how far apart its arrays lay (LLVM's run-time test), and so summed
    # in an order that changed from one run to the next (in blocks, 3.5x slower)
    n, n_params = v.shape[0], new_walk.shape[0]
    if walk.shape[0]:
        for p in range(n):
            new_walk[p] = walk[p] + (np.float64(v[p]) - np.float64(v_start[p]))
        for k in range(c.shape[0]):
            new_walk[n + k] = walk[n + k] + (np.float64(c[k]) - np.float64(c_start[k]))
    else:
        for p in range(n):
            new_walk[p] = np.float64(v[p]) - np.float64(v_start[p])
        for k in range(c.shape[0]):
            new_walk[n + k] = np.float64(c[k]) - np.float64(c_start[k])
    square = 0.0
    for p in range(n):
        move = np.float64(v[p]) - np.float64(v_start[p])
        square += move * move
    for k in range(c.shape[0]):
        move = np.float64(c[k]) - np.float64(c_start[k])
        square += move * move
    walk_square = 0.0
    for p in range(n_params):
        walk_square += new_walk[p] * new_walk[p]
    sums[0], sums[1] = square, walk_square
