"""``X @ W.T`` on wide sparse X: the same numbers, without a copy of the coefficients."""

import tracemalloc

import numpy as np
import pytest
from scipy import sparse

from skgd import GDClassifier, GDRegressor, _kernel, _products
from skgd._products import rows_times_coefficients


@pytest.mark.parametrize("n_outputs", [1, 2, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [0, 1, 7])
def test_same_numbers_as_scipy_to_the_bit(n_outputs, dtype, n_rows):
    rng = np.random.RandomState(0)
    X = sparse.random(n_rows, 5000, density=0.002, format="lil", dtype=dtype, random_state=rng)
    if n_rows:
        X[0, :] = 0  # a row that stores nothing
    X = X.tocsr()
    W = rng.normal(size=(n_outputs, 5000)).astype(dtype)
    expected = np.asarray(X @ W.T)
    raw = rows_times_coefficients(X, W)
    assert raw.dtype == expected.dtype and raw.shape == expected.shape
    np.testing.assert_array_equal(raw, expected)


@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("w_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("float64", [False, True])
@pytest.mark.parametrize("enabled", [True, False])
def test_many_rows_of_mixed_dtypes_as_scipy_to_the_bit(x_dtype, w_dtype, float64, enabled):
    # The compiled product reads W where X stores values, for any number of
    # rows (scipy copies W.T whole first, and so does the numpy path past an
    # eighth of the columns stored): scipy's sums in scipy's order, in the
    # result's dtype, whichever of X and W is float32; W strided too.
    rng = np.random.RandomState(1)
    X = sparse.random(400, 300, density=0.05, format="csr", dtype=x_dtype, random_state=rng)
    X.data = (X.data * rng.uniform(-3.0, 3.0, X.nnz)).astype(x_dtype)
    W = rng.normal(size=(6, 600)).astype(w_dtype)[:, ::2]  # (not contiguous)
    if float64:
        X = X.astype(np.float64)
    expected = np.asarray(X @ (W.astype(np.float64) if float64 else W).T)
    ran = []
    real = _products._csr_times_transposed
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_kernel, "ENABLED", enabled)
        patch.setattr(
            _products, "_csr_times_transposed", lambda *args: ran.append(True) or real(*args)
        )
        raw = rows_times_coefficients(X, W, float64=float64)
    assert ran == ([True] if enabled else [])
    assert raw.dtype == expected.dtype and raw.shape == expected.shape
    np.testing.assert_array_equal(raw, expected)


@pytest.mark.parametrize("X", [np.ones((3, 4)), sparse.csr_matrix(np.ones((3, 4)))])
def test_dense_and_many_stored_values_as_scipy(X):
    W = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(rows_times_coefficients(X, W), np.asarray(X @ W.T))


def _peak_allocation(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("Estimator", [GDClassifier, GDRegressor])
def test_predicting_a_few_wide_rows_copies_no_coefficients(Estimator):
    # scipy copies W.T (not C-contiguous) before multiplying: 5 x 2**18
    # coefficients, 10 MB, to predict one row of 30 values
    rng = np.random.RandomState(0)
    n_features = 2**18
    X = sparse.random(200, n_features, density=30 / n_features, format="csr", random_state=rng)
    y = rng.randint(5, size=200)
    Y = rng.normal(size=(200, 5))
    model = Estimator(optimizer="sgd", max_iter=2, tol=None, random_state=0)
    model.fit(X, y if Estimator is GDClassifier else Y)
    row = X[:1]
    expected = np.asarray(row @ model.coef_.T) + model.intercept_
    np.testing.assert_array_equal(model._raw_prediction(row), expected)
    peak = _peak_allocation(lambda: model.predict(row))
    assert peak < model.coef_.nbytes / 20


@pytest.mark.parametrize("Estimator", [GDClassifier, GDRegressor])
def test_a_float32_models_few_wide_rows_are_predicted_without_a_float64_copy(Estimator):
    # (a user trial) float32 sparse rows are multiplied in float64: the whole float32
    # coef_ was cast to float64 first at each call, 176 MB for 21 classes on 2**20
    # columns (39 ms a row, where float64's took 0.2). Only the stored columns' now:
    # the same numbers to the bit.
    rng = np.random.RandomState(0)
    n_features = 2**18
    X = sparse.random(
        200, n_features, density=30 / n_features, format="csr", random_state=rng, dtype=np.float32
    )
    y = rng.randint(5, size=200)
    Y = rng.normal(size=(200, 5)).astype(np.float32)
    model = Estimator(optimizer="sgd", max_iter=2, tol=None, random_state=0)
    model.fit(X, y if Estimator is GDClassifier else Y)
    assert model.coef_.dtype == np.float32
    rows = X[:3]
    W64, b64 = model.coef_.astype(np.float64), model.intercept_.astype(np.float64)
    expected = (np.asarray(rows.astype(np.float64) @ W64.T) + b64).astype(np.float32)
    np.testing.assert_array_equal(model._raw_prediction(rows), expected)
    peak = _peak_allocation(lambda: model.predict(rows[:1]))
    assert peak < model.coef_.nbytes / 20


def test_predicting_many_wide_rows_copies_no_coefficients():
    # 10,000 rows of 30 values on 2**18 columns store more than an eighth of
    # them: the numpy path copies W.T (10 MB); the compiled product reads W
    rng = np.random.RandomState(0)
    n_features = 2**18
    columns = rng.randint(n_features, size=(10_000, 30))
    X = sparse.csr_matrix(
        (rng.uniform(size=300_000), columns.ravel(), np.arange(0, 300_001, 30)),
        shape=(10_000, n_features),
    )
    y = rng.randint(5, size=10_000)
    model = GDClassifier(optimizer="sgd", max_iter=1, tol=None, random_state=0).fit(X, y)
    expected = np.asarray(X @ model.coef_.T) + model.intercept_
    np.testing.assert_array_equal(model.decision_function(X), expected)
    peak = _peak_allocation(lambda: model.decision_function(X))
    assert peak < model.coef_.nbytes / 4
