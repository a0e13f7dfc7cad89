"""Sparse X's columns stored in most rows: scaled toward their root mean square."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from skgd import GDClassifier, GDRegressor
from skgd._sparse_scales import toward_root_mean_square


def _scales(share, mean=0.0, std=1.0, peak=20.0, n_rows=100_000, dtype=np.float64):
    """One uncentred column's scale, stored in ``share`` of ``n_rows`` (its peak before)."""
    counts = np.array([round(share * n_rows)])
    x_mean, x_scale = np.zeros(1, dtype=dtype), np.array([peak], dtype=dtype)
    mean, std, peak = np.array([mean]), np.array([std]), np.array([peak])
    return toward_root_mean_square(x_mean, x_scale, mean, std, peak, counts, n_rows, dtype)[0]


def test_a_column_in_a_quarter_of_the_rows_or_fewer_keeps_its_peak_to_the_bit():
    # Rare columns (every column of hashed text) are what the peak is for: the
    # same array back, no arithmetic.
    x_mean, x_scale = np.zeros(3), np.array([2.0, 3.0, 5.0])
    counts, mean, std = np.array([0, 10, 25]), np.full(3, 0.01), np.full(3, 0.1)
    same = toward_root_mean_square(x_mean, x_scale, mean, std, x_scale, counts, 100, np.float64)
    assert same is x_scale
    unknown = toward_root_mean_square(x_mean, x_scale, mean, std, x_scale, None, None, np.float64)
    assert unknown is x_scale  # (a stream from before the counts: scales kept)


def test_the_scale_moves_from_the_peak_to_the_rms_without_a_jump():
    # From a quarter of the rows to three quarters, geometrically, and times
    # 1 - |mean| / deviation: at the centred switch (|mean| = deviation) the peak,
    # which a centred column takes there (a cross-validation's folds fall either
    # side of each line: no coefficient may jump there).
    assert _scales(0.25) == 20.0
    assert_allclose(_scales(0.75), 1.0)
    assert_allclose(_scales(1.0), 1.0)
    assert_allclose(_scales(0.5), np.sqrt(20.0))  # halfway, geometrically
    for line in [0.25, 0.75]:
        assert_allclose(_scales(line - 1e-5), _scales(line + 1e-5), rtol=1e-3)
    assert_allclose(_scales(0.9, mean=0.999, std=1.0), 20.0, rtol=0.01)
    assert_allclose(_scales(0.9, mean=0.5, std=1.0), 20.0 * (np.hypot(0.5, 1.0) / 20) ** 0.5)
    # between the root mean square and the peak, in dtype, finite at the float limits
    for dtype in [np.float64, np.float32]:
        big = float(np.finfo(dtype).max) / 4
        for mean, std, peak in [(0.0, 1e-300, 1e300), (0.0, big, big * 3), (1e-30, 1e-20, 1.0)]:
            if dtype == np.float32 and (std < 1e-38 or peak > 3e38):
                continue
            scale = _scales(1.0, mean, std, peak, dtype=dtype)
            assert np.isfinite(scale) and scale > 0 and scale.dtype == dtype


def _flights_like(n=8000, seed=0):
    """A long-tailed number in every row beside a one-hot group, as sparse X."""
    rng = np.random.default_rng(seed)
    delay = rng.standard_t(2, n) * 15
    group = rng.integers(0, 8, n)
    y = delay + 5 * (group - 3.5) + rng.normal(0, 10, n)
    return sparse.csr_matrix(np.c_[delay, np.eye(8)[group]]), y


def test_a_streams_scales_count_its_rows_as_a_fit_does():
    # The share of rows is the stream's so far: after its calls, the scales a fit
    # on the same rows takes (its counts and rows add up; statistics merge).
    X, y = _flights_like()
    fit = GDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    stream = GDRegressor(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a stream's calls: not this test's concern)
        for start in range(0, X.shape[0], 1000):
            stream.partial_fit(X[start : start + 1000], y[start : start + 1000])
    assert stream._x_counted_rows == X.shape[0]
    assert_allclose(stream._x_scale, fit._x_scale, rtol=1e-9)
    assert fit._x_scale[0] < 0.2 * abs(X[:, 0]).max()  # (its root mean square, not its peak)


@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
def test_a_stream_of_a_column_in_every_row_learns_as_dense_xs(make):
    # Chunks of 1,000 rows: the delays' coefficient as a dense stream's, where
    # divided by their peak it stayed a fraction of it.
    X, y = _flights_like(20000)
    if make is GDClassifier:
        y = (y > np.median(y)).astype(int)
    classes = {"classes": [0, 1]} if make is GDClassifier else {}
    models = []
    for data in [X, X.toarray()]:
        model = make(random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for start in range(0, 20000, 1000):
                model.partial_fit(data[start : start + 1000], y[start : start + 1000], **classes)
        models.append(np.ravel(model.coef_)[0])
    assert_allclose(models[0], models[1], rtol=0.1)
    assert_array_equal(np.sign(models), np.sign(models[1]))
