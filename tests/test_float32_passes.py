"""The dense epoch's rows taken four at a time: each row still added in turn; float32 fits."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skgd import GDRegressor, _steps
from skgd._compiled import _NESTEROV, _SOFTMAX, _SQUARED


def _one_epoch(X, y, weights, order, kind, n_outputs, batch_size):
    """One compiled dense epoch of Nesterov steps from a fixed start; (V, c, loss)."""
    rng = np.random.RandomState(3)
    n_features = X.shape[1]
    V = (0.1 * rng.standard_normal((n_outputs, n_features))).astype(X.dtype)
    c = (0.1 * rng.standard_normal(n_outputs)).astype(X.dtype)
    ones, zeros = np.ones(n_outputs), np.zeros(n_outputs)
    x_mean = X.astype(np.float64).mean(axis=0)
    x_scale = X.astype(np.float64).std(axis=0)
    Y = y.astype(np.float64).reshape(len(y), -1)
    n_batches = -(-len(order) // batch_size)
    total, done, first, failed, t = _steps._dense_epoch(
        X, Y, kind == _SOFTMAX, weights, order, batch_size, np.full(n_batches, 0.05), 1.0,
        V, c, True, x_mean, x_scale, zeros, ones, ones, zeros, np.full(n_outputs, 1e-3),
        kind, 0.0, _NESTEROV, np.array([0.9, 0.999, 1e-8]), np.zeros(V.shape),
        np.zeros((0, n_features)), np.zeros(n_outputs), np.zeros(0), 0,
        np.zeros(V.shape), np.zeros(c.shape), np.array([np.inf, 0.0, 0.0]),
    )  # fmt: skip
    assert done == n_batches and np.isfinite(total)
    return V, c, total


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, n_outputs", [(_SQUARED, 1), (_SQUARED, 3), (_SOFTMAX, 4)])
def test_the_dense_epoch_adds_each_row_in_turn_however_its_rows_group(dtype, kind, n_outputs):
    # The dense epoch takes four rows of non-zero weight at a time, one
    # backward pass for the four, each gradient still adding the rows one by
    # one, in order. A row of weight 0 moved within its batch shifts the
    # groups of four (a group with it in is taken a row at a time) but adds
    # nothing: the same model, to the bit. A backward pass that summed a
    # group's four products before adding them would not give it.
    rng = np.random.RandomState(0)
    n, batch_size = 67, 32
    X = (rng.standard_normal((n, 11)) * rng.uniform(0.5, 3.0, 11) + 2.0).astype(dtype)
    if kind == _SOFTMAX:
        y = rng.randint(n_outputs, size=n).astype(np.float64)
    else:
        y = rng.standard_normal((n, n_outputs))
    weights = rng.uniform(0.5, 2.0, n)
    weights[[5, 40]] = 0.0  # one row of weight 0 in each of the first two batches
    rows = [i for i in rng.permutation(n) if weights[i] != 0]
    front = np.array([5, *rows[:31], 40, *rows[31:]])  # each batch's first row of weight 0
    reference = _one_epoch(X, y, weights, front, kind, n_outputs, batch_size)
    for place in [1, 2, 3, 6]:  # the rows of weight 0 further in, the others in order
        order = [*rows[:place], 5, *rows[place:31], *rows[31 : 31 + place], 40, *rows[31 + place :]]
        moved = _one_epoch(X, y, weights, np.array(order), kind, n_outputs, batch_size)
        for a, b in zip(moved, reference, strict=True):
            assert_array_equal(a, b)


def _power_iteration_data(dtype, offset):
    rng = np.random.RandomState(1)
    X = (rng.standard_normal((203, 9)) * rng.uniform(0.1, 10.0, 9) + offset).astype(dtype)
    weights = rng.uniform(0.5, 2.0, len(X))
    weights /= weights.sum()
    mean = X.astype(np.float64).mean(axis=0)
    scale = X.astype(np.float64).std(axis=0) + 0.5
    return X, weights, mean, scale


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_float32_fit_keeps_float64s_accuracy():
    # float32 X's power iteration in float32 arithmetic: the
    # training and held-out mean squared errors are float64's, to 1e-6.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((6000, 40)) * rng.uniform(0.5, 4.0, 40) + 1.5
    y = X @ rng.standard_normal(40) + 0.5 * rng.standard_normal(6000)
    train, test = slice(0, 5000), slice(5000, None)
    errors = []
    for dtype in [np.float64, np.float32]:
        model = GDRegressor(batch_size=256, max_iter=5, tol=None, random_state=0)
        model.fit(X[train].astype(dtype), y[train])
        predict = model.predict
        errors.append([np.mean((predict(X[p].astype(dtype)) - y[p]) ** 2) for p in (train, test)])
    assert_allclose(errors[1], errors[0], rtol=1e-6)
