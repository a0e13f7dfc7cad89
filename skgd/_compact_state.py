"""A wide model's per-column state, pickled by the few values that are not 0 or 1.

A model keeps, beside ``coef_``, what a stream continues from, column by
column (:meth:`skgd._base.BaseGD._keep_stream`): the statistics, the
peaks, the scales, the counts, the stream's walk. On hashed text of 2**20
columns, of which a fit's rows stored about 10,000, those arrays are 0 or 1
everywhere else, and a binary classifier's pickle took 48 MiB (72 after a
stream) where ``coef_`` is 8, SGDClassifier's whole pickle (a user trial).
:meth:`~skgd._base.BaseGD.__getstate__` keeps such an array as its length,
dtype, background value and the places and values that differ from it
(:func:`_compact`), and ``__setstate__`` restores it, to the bit
(:func:`_expand`). Plain tuples of numbers, strings and arrays: skops reads
them with no type to trust. An array held twice is restored as one.
"""

import numpy as np

# The marker of a compacted array (a plain tuple's first item), with its format's version
_TAG = "skgd-compact-1"
# Arrays of fewer entries are kept as they are
_LEAST = 2**16
# ... and of more unless their places and values take at most this share of their bytes
_SHARE = 0.75
# The model's attributes whose arrays (or tuples' arrays) may be compacted
STATE = ("_x_stats", "_x_stored", "_x_scale", "_x_peak", "_x_least", "_x_counts", "_stream_step")


def compacted(state):
    """``state`` (a model's ``__dict__``) with the arrays of :data:`STATE` compacted."""
    memo = {}
    out = dict(state)
    for key in STATE:
        if key in out:
            out[key] = _each(out[key], lambda array: _compact(array, memo))
    return out


def expanded(state):
    """``state`` with every compacted array of :data:`STATE` restored (in place).

    A file is checked before anything is allocated: each array's length is
    the model's number of columns (or of parameters, for the stream's walk),
    its places ascend within it, and its values are numbers of its dtype. A
    skops file that passed the allow-list asked for 1 TiB through one edited
    length (a review): it is refused, as a corrupt file.
    """
    memo = {}
    sizes = _sizes(state)
    for key in STATE:
        if key in state:
            state[key] = _each(state[key], lambda value: _expand(value, memo, sizes))
    return state


def _sizes(state):
    """The lengths a model's per-column arrays may have: its columns, its parameters.

    From ``coef_``'s shape, which the file holds as an array (dense, or sparse
    after ``sparsify()``), not from a number such as ``n_features_in_``,
    which one edit changes (a review allocated 1 TiB so).
    """
    coef, intercept = state.get("coef_"), state.get("intercept_")
    shape = getattr(coef, "shape", None)
    if not shape or intercept is None:
        return set()
    n_columns, n_params = int(shape[-1]), int(np.prod(shape)) + int(np.size(intercept))
    return {n_columns, n_params}


def _each(value, change):
    """``change`` of ``value``, or of each item of a tuple (one level: the state's shapes)."""
    if isinstance(value, tuple) and not _is_compact(value):
        return tuple(change(item) for item in value)
    return change(value)


def _is_compact(value):
    return (
        isinstance(value, tuple) and len(value) == 6 and isinstance(value[0], str)
        and value[0] == _TAG
    )  # fmt: skip


def _compact(array, memo):
    """A 1-D array of at least ``_LEAST`` numbers as its values that differ from 0 or 1.

    Only where their places and values take at most ``_SHARE`` of the array's
    bytes: for float64, under half the entries.
    """
    if not (
        type(array) is np.ndarray
        and array.ndim == 1
        and array.size >= _LEAST
        and array.dtype.kind in "fiub"
        and array.dtype.isnative
    ):
        return array
    if id(array) in memo:
        return memo[id(array)][1]
    bits = array.view(f"u{array.itemsize}")  # (by bits: -0.0 is not 0.0, a NaN is itself)
    index = np.dtype(np.int32 if array.size < 2**31 else np.int64)
    for background in (0, 1):
        differs = bits != np.asarray(background, dtype=array.dtype).view(bits.dtype)
        if np.count_nonzero(differs) * (index.itemsize + array.itemsize) <= _SHARE * array.nbytes:
            places = np.flatnonzero(differs).astype(index)
            compact = (_TAG, array.size, array.dtype.str, background, places, array[places])
            memo[id(array)] = (array, compact)  # (the array kept alive: its id stays its own)
            return compact
    return array


def _expand(value, memo, sizes):
    """The array a :func:`_compact` tuple holds; anything else as it is."""
    if not _is_compact(value):
        return value
    if id(value) in memo:
        return memo[id(value)][1]
    _, size, dtype, background, places, values = value
    dtype = np.dtype(dtype) if isinstance(dtype, str) else None
    valid = (
        dtype is not None and dtype.kind in "fiub" and size in sizes and background in (0, 1)
        and isinstance(places, np.ndarray) and places.ndim == 1 and places.dtype.kind == "i"
        and isinstance(values, np.ndarray) and values.dtype == dtype
        and values.shape == places.shape
        and (places.size == 0 or (places[0] >= 0 and places[-1] < size))
        and bool(np.all(places[1:] > places[:-1]))
    )  # fmt: skip
    if not valid:
        raise ValueError(
            "The model's saved state is corrupt: a column array's length, places or values "
            "do not fit the model. Load it only from a file saved by skgd."
        )
    array = np.full(size, background, dtype=dtype)
    array[places] = values
    memo[id(value)] = (value, array)
    return array
