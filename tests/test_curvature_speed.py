"""The curvature's shortcuts on sparse X with no centred column give what the full passes give.

When every column's shift ``mean / scale`` is 0 (sparse X's columns are
centred only where their mean outweighs their spread: often none), the
passes skip the shifts (:func:`skgd._curvature_passes.unshifted`). Their
results must be those of the passes that make and read the shifts, to the
bit: the curvature sets the step, and so every model.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse

from skgd import GDClassifier, GDRegressor, _curvature_passes, _objective


def wide_sparse(n_samples, n_features, dtype, seed=0):
    """CSR X of a few stored values a row over many columns, some rows empty, some duplicated."""
    rng = np.random.RandomState(seed)
    density = min(0.5, 8 / n_features)
    X = sparse.random(n_samples, n_features, density=density, random_state=rng, format="csr")
    X.data = rng.choice([1.0, 2.0, 0.5, -3.0, 1e-3, 70.0], size=X.nnz)
    X = X.astype(dtype).tolil()
    X[3] = 0  # a row with nothing stored
    X[5] = X[4]
    X = X.tocsr()
    scale = np.where(rng.uniform(size=n_features) < 0.7, 1.0, rng.uniform(0.01, 4.0, n_features))
    weights = rng.uniform(0.1, 1.0, n_samples)
    return X, scale.astype(dtype), weights / weights.sum()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unshifted_tells_every_zero_shift_and_finite_inverse(dtype):
    n = 3 * _curvature_passes._UNSHIFTED_BLOCK + 5  # (blocks, and a part of one)
    mean, scale = np.zeros(n, dtype=dtype), np.full(n, 0.5, dtype=dtype)
    assert _curvature_passes.unshifted(mean, scale)
    assert _curvature_passes.unshifted(-mean, scale)  # -0 is 0
    for column in (0, n // 2, n - 1):  # a centred column anywhere is seen
        shifted = mean.copy()
        shifted[column] = 1e-30
        assert not _curvature_passes.unshifted(shifted, scale)
        shifted[column] = np.nan
        assert not _curvature_passes.unshifted(shifted, scale)
        nan_scale = scale.copy()
        nan_scale[column] = np.nan
        assert not _curvature_passes.unshifted(mean, nan_scale)


def test_unshifted_takes_the_scales_whose_inverse_is_finite():
    tiny = _curvature_passes._TINY_SCALE
    with np.errstate(over="ignore", divide="ignore"):
        assert np.isfinite(1.0 / tiny) and not np.isfinite(1.0 / np.nextafter(tiny, 0.0))
    mean = np.zeros(10)
    for value, finite in [(tiny, True), (np.nextafter(tiny, 0.0), False), (0.0, False),
                          (np.inf, True), (-tiny, True)]:  # fmt: skip
        scale = np.ones(10)
        scale[7] = value
        assert _curvature_passes.unshifted(mean, scale) is finite, value


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_features", [7, 300, 2**16])
def test_power_iteration_without_shifts_as_with_them(dtype, fit_intercept, n_features):
    X, scale, weights = wide_sparse(400, n_features, dtype)
    for mean in (np.zeros(n_features, dtype=dtype), np.full(n_features, -0.0, dtype=dtype)):
        assert _curvature_passes.unshifted(mean, scale)
        args = X, weights, mean, scale, fit_intercept, 20
        full = _curvature_passes.sparse_gram_power_iteration(*args)
        short = _curvature_passes.sparse_gram_power_iteration(*args, unshifted=True)
        assert full > 0 and repr(short) == repr(full)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [7, 300, 2**16])
def test_row_norm_without_shifts_as_with_them(dtype, n_features):
    X, scale, _ = wide_sparse(400, n_features, dtype, seed=1)
    for mean in (np.zeros(n_features, dtype=dtype), np.full(n_features, -0.0, dtype=dtype)):
        arrays = X.data, X.indices, X.indptr, mean, scale
        full = _curvature_passes.sparse_largest_squared_row_norm(*arrays)
        short = _curvature_passes.sparse_largest_squared_row_norm(*arrays, unshifted=True)
        assert full > 0 and repr(short) == repr(full)
        assert repr(_objective._largest_squared_row_norm(X, mean, scale, True)) == repr(full)
    # X's values that overflow when scaled: a NaN or an infinity, the full pass's
    X.data[0], scale[X.indices[0]] = 1e30, 1e-300
    if dtype == np.float64:
        mean = np.zeros(n_features)
        arrays = X.data, X.indices, X.indptr, mean, scale
        full = _curvature_passes.sparse_largest_squared_row_norm(*arrays)
        short = _curvature_passes.sparse_largest_squared_row_norm(*arrays, unshifted=True)
        assert repr(short) == repr(full)


@pytest.mark.parametrize("make", [
    lambda: GDClassifier(random_state=0, max_iter=3, tol=None),
    lambda: GDRegressor(random_state=0, max_iter=3, tol=None, fit_intercept=False),
])  # fmt: skip
def test_sparse_fit_takes_the_shortcut_to_the_same_model(make, monkeypatch):
    X, _, _ = wide_sparse(2000, 2**14, np.float64, seed=2)
    y = (X @ np.random.RandomState(3).normal(size=2**14) > 0).astype(int)
    asked = []
    real = _curvature_passes.unshifted
    told = lambda *args: asked.append(real(*args)) or asked[-1]  # noqa: E731
    monkeypatch.setattr(_curvature_passes, "unshifted", told)
    short = make().fit(X, y)
    assert asked == [True], "the shortcut did not serve"
    monkeypatch.setattr(_curvature_passes, "unshifted", lambda *a: False)
    full = make().fit(X, y)
    assert_array_equal(short.coef_, full.coef_)
    assert_array_equal(short.intercept_, full.intercept_)
