"""The lazy epochs' write-back, as its faster forms must keep it: the same values, the same sums.

The write-back (:mod:`skgd._writeback`) takes several outputs of a table
row at once, their sums of squares side by side. Each output's sum must
stay in the order of its columns, a block of 512 columns at a time (the
loop's penalty reads them, and a fit's models follow them to the bit),
for any number of outputs: fewer than a group, a group, and past it.
"""

import numpy as np
import pytest

pytest.importorskip("numba")

from skgd._compiled import jit  # noqa: E402
from skgd._lazy_table import _add_product  # noqa: E402
from skgd._writeback import _BLOCK, _unscale  # noqa: E402

N_FEATURES = 3 * _BLOCK + 100  # (blocks of columns, and a short last one)


@jit
def _ordered_squares(values):
    """The sum of ``values`` squared in their order, each step as the write-back rounds it."""
    total = 0.0
    for x in values:
        total = _add_product(total, x, x)
    return total


def _block_sums(values, columns):
    """By output: each block's ordered sum of squares, the blocks' sums added in order."""
    sums = np.zeros(values.shape[0])
    for k in range(values.shape[0]):
        for j in range(0, N_FEATURES, _BLOCK):
            inside = (columns >= j) & (columns < j + _BLOCK)
            sums[k] += _ordered_squares(values[k, inside].astype(np.float64))
    return sums


def _state(n_outputs, dtype, seed):
    """V (zero off X's columns), the lazy table of X's columns, their scales and shrinks."""
    rng = np.random.RandomState(seed)
    used = np.sort(rng.choice(N_FEATURES, size=N_FEATURES // 3, replace=False)).astype(np.intp)
    V = np.zeros((n_outputs, N_FEATURES), dtype=dtype)
    V[:, used] = rng.randn(n_outputs, len(used))
    width = n_outputs + 1
    width = 1 << (width - 1).bit_length() if width <= 8 else -(-width // 8) * 8
    table = np.zeros((len(used), width))
    table[:, :n_outputs] = rng.randn(len(used), n_outputs) * 3.0
    table[:, n_outputs] = rng.uniform(0.5, 2.0, len(used))  # (the inverse scales: kept)
    scale = rng.uniform(0.9, 1.0, n_outputs)
    return V, table, scale, used, scale * rng.uniform(0.99, 1.0, n_outputs)


OUTPUTS = [1, 2, 3, 4, 5, 7, 8, 9]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_outputs", OUTPUTS)
def test_first_write_back_of_every_column(n_outputs, dtype):
    """Nothing known of V off X's columns: every column is copied, shrunk and summed."""
    V, table, scale, used, unused = _state(n_outputs, dtype, seed=n_outputs)
    V[:, ~np.isin(np.arange(N_FEATURES), used)] = -0.0  # (off X's columns: a zero, signed)
    old, old_table = V.copy(), table.copy()
    start = np.full_like(V, np.nan)
    sums, zeros = np.zeros(n_outputs + 1), np.zeros((5, n_outputs))
    outside = np.array([0, 0, 1, 0], dtype=np.int64)
    _unscale(V, table, scale, used, unused, start, sums, outside, zeros)

    np.testing.assert_array_equal(start, old)
    new = (unused[:, None] * old.astype(np.float64)).astype(dtype)
    new[:, used] = (scale[:, None] * old_table[:, :n_outputs].T).astype(dtype)
    np.testing.assert_array_equal(V, new)
    np.testing.assert_array_equal(table[:, :n_outputs], new[:, used].T.astype(np.float64))
    np.testing.assert_array_equal(table[:, n_outputs:], old_table[:, n_outputs:])
    everything = np.arange(N_FEATURES)
    np.testing.assert_array_equal(sums[:-1], _block_sums(old, everything))
    np.testing.assert_array_equal(zeros[4], _block_sums(new[:, used], used))
    assert sums[-1] == 0.0
    assert outside[1] == 1 and outside[0] == 1  # (found alike off X's columns, and zeros)
    assert np.all(np.signbit(zeros[0])) and np.all(np.signbit(zeros[2]))


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_outputs", OUTPUTS)
def test_swapped_write_back_of_x_columns(n_outputs, dtype, whole):
    """V's zeros known off X's columns: V as left goes to ``start``, summed; V is not touched."""
    V, table, scale, used, unused = _state(n_outputs, dtype, seed=10 + n_outputs)
    old, old_table = V.copy(), table.copy()
    start = np.full_like(V, np.nan) if whole else V.copy()  # (whole: not known to hold zeros)
    sums, zeros = np.zeros(n_outputs + 1), np.zeros((5, n_outputs))
    outside = np.array([1, 0 if whole else 1, 1, 1], dtype=np.int64)
    _unscale(V, table, scale, used, unused, start, sums, outside, zeros)

    np.testing.assert_array_equal(V, old)
    new = np.zeros_like(V)
    new[:, used] = (scale[:, None] * old_table[:, :n_outputs].T).astype(dtype)
    np.testing.assert_array_equal(start, new)
    np.testing.assert_array_equal(table[:, :n_outputs], new[:, used].T.astype(np.float64))
    np.testing.assert_array_equal(table[:, n_outputs:], old_table[:, n_outputs:])
    np.testing.assert_array_equal(zeros[4], _block_sums(new[:, used], used))
    assert sums[-1] == 0.0 and outside[3] == 1


@pytest.mark.parametrize("n_outputs", [3, 5])
def test_swapped_write_back_sees_a_value_that_is_not_finite(n_outputs):
    """Any output's value, past the first group too, makes the finiteness sum NaN."""
    for k in range(n_outputs):
        V, table, scale, used, unused = _state(n_outputs, np.float64, seed=20 + k)
        table[len(used) // 2, k] = np.inf
        start, sums, zeros = V.copy(), np.zeros(n_outputs + 1), np.zeros((5, n_outputs))
        outside = np.array([1, 1, 1, 1], dtype=np.int64)
        _unscale(V, table, scale, used, unused, start, sums, outside, zeros)
        assert np.isnan(sums[-1]), k
