"""The fused passes over sparse X's stored values give what the separate passes gave.

The statistics' pass also finds each column's peak and count of values, which a
sparse fit then takes instead of passing over X twice more; columns of one value
take a path of their own. Results only: the speed lives in benchmarks/.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse

from skgd import GDClassifier, _kernel, _sparse_statistics_passes, _standardize


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.int64)


def _hashed(n_rows, n_features, dtype, rng):
    """Rows of a few values in many columns, most columns of one value; special values too."""
    X = sparse.random(n_rows, n_features, density=4.0 / n_features, format="csr", random_state=rng)
    X.data = (rng.standard_normal(X.nnz) * np.exp(rng.uniform(-30, 30, X.nnz))).astype(dtype)
    X.data[::7] = 0.0  # explicit zeros
    X.data[1::11] = 3.0
    X.data[2::13] = np.finfo(dtype).tiny / 4  # subnormal
    X.data[3::17] = np.finfo(dtype).max  # the largest: its unit is 2**1023 (float64)
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [40, 20_000])
@pytest.mark.parametrize("weights_kind", ["ones", "halves", "varied", "zeros", "all zero"])
def test_fused_pass_gives_the_separate_passes_results_to_the_bit(dtype, n_features, weights_kind):
    rng = np.random.RandomState(n_features)
    X = _hashed(3000, n_features, dtype, rng)
    weights = {
        "ones": np.ones(3000, dtype=dtype),
        "halves": np.full(3000, 0.5),  # equal weights, not 1: the 8-byte sorted values
        "varied": rng.uniform(0.1, 2.0, 3000),
        "zeros": rng.uniform(0, 2, 3000) * (rng.uniform(size=3000) > 0.3),
        "all zero": np.zeros(3000),
    }[weights_kind]
    arrays = (X.data, X.indices, X.indptr, weights, 0.5, n_features)
    statistics, peak, counts = _sparse_statistics_passes.sparse_statistics(*arrays, peaks=True)
    assert_array_equal(_bits(peak), _bits(_sparse_statistics_passes.sparse_column_peak(
        X.data, X.indices, n_features)))  # fmt: skip
    assert_array_equal(counts, np.bincount(X.indices, minlength=n_features))
    assert counts.dtype == np.intp
    # the statistics alone, and those of the passes by row (no sort, no column apart)
    alone = _sparse_statistics_passes.sparse_statistics(*arrays)
    by_rows = _sparse_statistics_passes._statistics_by_rows(*arrays)
    if weights_kind == "all zero":
        assert statistics is None and alone is None and by_rows is None
        return
    for a, b, c in zip(statistics, alone, by_rows, strict=True):
        assert_array_equal(_bits(a), _bits(b))
        assert_array_equal(_bits(a), _bits(c))
    assert np.count_nonzero(statistics[1]) > n_features // 10


def test_a_weight_unit_with_no_exact_inverse_is_served_by_the_passes_by_row():
    # 3 is no power of two: x / 3 is not x * (1 / 3), so the sorted pass (which
    # multiplies) must not serve; the results are the passes by row's.
    rng = np.random.RandomState(0)
    X = _hashed(500, 300, np.float64, rng)
    weights = rng.uniform(0.5, 2.0, 500)
    for unit in (3.0, 2.0**-1060):  # (the latter's inverse overflows)
        arrays = (X.data, X.indices, X.indptr, weights, unit, 300)
        statistics, peak, counts = _sparse_statistics_passes.sparse_statistics(*arrays, peaks=True)
        by_rows = _sparse_statistics_passes._statistics_by_rows(*arrays)
        for a, b in zip(statistics, by_rows, strict=True):
            assert_array_equal(_bits(a), _bits(b))
        assert_array_equal(
            peak, _sparse_statistics_passes.sparse_column_peak(X.data, X.indices, 300)
        )
        assert_array_equal(counts, np.bincount(X.indices, minlength=300))


def test_a_fit_takes_the_statistics_passes_peaks_and_counts(monkeypatch):
    # A sparse fit's column_peak and value_counts come from the statistics' pass
    # (no pass of their own), and are what their own passes give.
    rng = np.random.RandomState(0)
    X = _hashed(400, 5000, np.float64, rng)
    X.data = rng.uniform(-3.0, 3.0, X.nnz)  # values of a sensible size
    y = rng.randint(3, size=400)
    own = {}

    def no_pass(name):
        def refuse(*args, **kwargs):
            own[name] = True
            raise AssertionError(f"{name} passed over X again")

        return refuse

    monkeypatch.setattr(_sparse_statistics_passes, "sparse_column_peak", no_pass("peak"))
    monkeypatch.setattr(np, "bincount", no_pass("bincount"))
    model = GDClassifier(random_state=0, max_iter=3, tol=None).partial_fit(X, y, classes=[0, 1, 2])
    monkeypatch.undo()
    assert not own
    expected = _sparse_statistics_passes.sparse_column_peak(X.data, X.indices, 5000)
    assert_array_equal(model._x_peak, expected)
    assert_array_equal(model._x_counts, np.bincount(X.indices, minlength=5000))


def test_the_statistics_pass_finds_peaks_and_counts_over_the_rows_that_count():
    rng = np.random.RandomState(1)
    X = _hashed(300, 2000, np.float64, rng)
    X.data = rng.uniform(-3.0, 3.0, X.nnz)
    weights = np.ones(300)
    finds = _standardize.ColumnFinds()
    _standardize._stats_of(X, weights, finds=finds)
    assert_array_equal(
        finds.peak, _sparse_statistics_passes.sparse_column_peak(X.data, X.indices, 2000)
    )
    assert_array_equal(finds.counts, np.bincount(X.indices, minlength=2000))
    # rows of weight 0 left out: the peak is over the others; the counts, of every row,
    # are not this pass's to give
    weights[::3] = 0.0
    finds = _standardize.ColumnFinds()
    _standardize._stats_of(X, weights, finds=finds)
    kept = X[weights > 0]
    assert_array_equal(
        finds.peak, _sparse_statistics_passes.sparse_column_peak(kept.data, kept.indices, 2000)
    )
    assert_array_equal(finds.peak, _standardize.column_peak(X, weights))
    assert finds.counts is None


def test_the_numpy_path_finds_nothing(monkeypatch):
    monkeypatch.setattr(_kernel, "ENABLED", False)
    rng = np.random.RandomState(2)
    X = _hashed(200, 500, np.float64, rng)
    finds = _standardize.ColumnFinds()
    _standardize._stats_of(X, np.ones(200), finds=finds)
    assert finds.peak is None and finds.counts is None
