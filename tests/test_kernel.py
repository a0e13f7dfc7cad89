"""The compiled path gives the numpy path's model, for every built-in loss and optimizer."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_iris, make_classification, make_regression

from skgd import (
    GDClassifier,
    GDRegressor,
    _draws,
    _kernel,
    _passes,
    _standardize,
    _statistics_passes,
)
from skgd.losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES, EmbeddingLoss, Loss
from skgd.optim import OPTIMIZERS


def both_paths(make, X, y, monkeypatch, **fit_params):
    """The same model trained compiled, then in numpy; checks the compiled path ran."""
    ran = []
    real_plan = _kernel.plan
    monkeypatch.setattr(_kernel, "plan", lambda *args: ran.append(real_plan(*args)) or ran[-1])
    compiled = make().fit(X, y, **fit_params)
    assert ran and all(plan is not None for plan in ran), "the compiled path did not run"
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = make().fit(X, y, **fit_params)
    return compiled, numpy


def same_model(a, b, rtol=1e-7):
    scale = max(np.abs(b.coef_).max(), np.abs(b.intercept_).max(), 1e-12)
    assert_allclose(a.coef_, b.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(a.intercept_, b.intercept_, rtol=rtol, atol=rtol * scale)
    assert a.n_iter_ == b.n_iter_ and a.t_ == b.t_
    assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=150, n_features=6, noise=5.0, random_state=0)
    return X + 3.0, y  # features off-centre: the centring matters


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


REGRESSION = sorted(
    name for name, loss in REGRESSION_LOSSES.items() if not issubclass(loss, EmbeddingLoss)
)


@pytest.mark.parametrize("loss", REGRESSION)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_regression_loss_and_optimizer(regression, loss, optimizer, monkeypatch):
    X, y = regression
    if loss == "poisson":
        y = np.exp((y - y.mean()) / y.std())
    # Two epochs: on kinked losses the descent is chaotic enough for rounding
    # differences to grow a hundredfold an epoch.
    params = dict(loss=loss, optimizer=optimizer, batch_size=16, max_iter=2, tol=None)
    compiled, numpy = both_paths(lambda: GDRegressor(**params, random_state=0), X, y, monkeypatch)
    same_model(compiled, numpy)


@pytest.mark.parametrize("loss", sorted(CLASSIFICATION_LOSSES))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_classification_loss(iris, loss, n_classes, monkeypatch):
    X, y = iris
    y = y if n_classes == 3 else (y == 1).astype(int)
    params = dict(loss=loss, batch_size=16, max_iter=4, tol=None, random_state=0)
    compiled, numpy = both_paths(lambda: GDClassifier(**params), X, y, monkeypatch)
    same_model(compiled, numpy)


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty="l1", alpha=0.05),
        dict(penalty="elasticnet", alpha=0.05, l1_ratio=0.5, optimizer="adam"),
        dict(schedule="invscaling", optimizer="sgd"),
        dict(fit_intercept=False, optimizer="adam"),
        dict(shuffle="blocks"),
        dict(shuffle=False, standardize=False, learning_rate=0.001, optimizer="sgd"),
        dict(schedule="adaptive", tol=1e-4, max_iter=60),
        dict(average=True),
        dict(average=40, optimizer="sgd", alpha=0.1),
        dict(alpha=100.0, optimizer="momentum"),
    ],
    ids=str,
)
@pytest.mark.parametrize("form", ["dense", "sparse", "float32", "weighted"])
def test_penalties_schedules_and_data_forms(regression, params, form, monkeypatch):
    X, y = regression
    fit_params = {}
    rtol = 1e-7
    if form == "sparse":
        X = sparse.csr_matrix(np.where(np.abs(X - 3) < 0.7, 0.0, X - 3))
    elif form == "float32":
        X, rtol = X.astype(np.float32), 2e-4
    elif form == "weighted":
        fit_params["sample_weight"] = np.random.RandomState(0).uniform(0, 3, len(y))
    settings = dict(batch_size=16, max_iter=4, tol=None, random_state=0) | params
    compiled, numpy = both_paths(lambda: GDRegressor(**settings), X, y, monkeypatch, **fit_params)
    same_model(compiled, numpy, rtol)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_sparse_multiclass_with_a_mean_larger_than_the_spread(iris, optimizer, monkeypatch):
    # iris' columns are all far from 0: centred implicitly, on the compiled path too
    X, y = iris
    params = dict(optimizer=optimizer, batch_size=16, max_iter=3, tol=None, random_state=0)
    compiled, numpy = both_paths(
        lambda: GDClassifier(**params), sparse.csr_matrix(X), y, monkeypatch
    )
    same_model(compiled, numpy)


def test_partial_fit_continues_the_optimizer_state_on_both_paths(regression, monkeypatch):
    X, y = regression

    def stream():
        model = GDRegressor(optimizer="adam", random_state=0)
        for chunk in np.array_split(np.arange(len(y)), 5):
            model.partial_fit(X[chunk], y[chunk])
        return model

    compiled = stream()
    monkeypatch.setattr(_kernel, "ENABLED", False)
    same_model(compiled, stream())


def test_a_user_loss_takes_the_numpy_path(regression):
    class Squared(Loss):
        def loss(self, y_true, raw_prediction):
            return 0.5 * (raw_prediction - y_true) ** 2

        def gradient(self, y_true, raw_prediction):
            return raw_prediction - y_true

    X, y = regression
    assert _kernel.plan is not None
    model = GDRegressor(loss=Squared(), max_iter=5, tol=None, random_state=0).fit(X, y)
    reference = GDRegressor(max_iter=5, tol=None, random_state=0).fit(X, y)
    # the same arithmetic, in numpy for the user's loss and compiled for the built-in
    same_model(model, reference)


@pytest.mark.parametrize("loss", ["squared_error", "l1", "huber"])
def test_multi_output_targets(regression, loss, monkeypatch):
    X, y = regression
    Y = np.column_stack([y, -0.5 * y + 10])
    params = dict(loss=loss, batch_size=16, max_iter=2, tol=None, random_state=0)
    compiled, numpy = both_paths(lambda: GDRegressor(**params), X, Y, monkeypatch)
    same_model(compiled, numpy)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_uncentred_columns_with_every_optimizer(optimizer, fit_intercept, monkeypatch):
    # Columns of mean about 0: not centred, so plain SGD and momentum take
    # their lazy O(non-zeros) paths, and the others their dense ones.
    X, y = make_classification(
        n_samples=200, n_features=30, n_informative=10, n_classes=3, random_state=0
    )
    X = sparse.csr_matrix(np.where(np.abs(X) < 0.8, 0.0, X))
    params = dict(
        optimizer=optimizer, fit_intercept=fit_intercept, batch_size=16, max_iter=3, tol=None
    )
    compiled, numpy = both_paths(lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch)
    same_model(compiled, numpy)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_sparse_lazy_paths_over_a_whole_adaptive_fit(optimizer, monkeypatch):
    # The lazy kernels keep their working table from epoch to epoch while the
    # batch grows and the step changes; rows of unequal widths, columns of
    # unequal scales, some read by several rows of a batch and some by none.
    rng = np.random.RandomState(0)
    scales = rng.uniform(0.1, 10.0, 40)
    scales[5] = 0.0  # a column no row reads
    X = sparse.csr_matrix(
        sparse.random(300, 40, density=0.15, random_state=rng) @ sparse.diags(scales)
    )
    X.eliminate_zeros()
    y = (X @ rng.standard_normal(40) > 0).astype(int) + (X[:, 0].toarray().ravel() > 1)
    params = dict(optimizer=optimizer, alpha=0.01, batch_size=8, tol=1e-4, max_iter=40)
    compiled, numpy = both_paths(lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch)
    assert compiled.n_iter_ > 10  # several stages of the adaptive schedule
    same_model(compiled, numpy)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "momentum"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_lazy_table_kept_between_epochs_as_one_filled_afresh(optimizer, dtype, monkeypatch):
    # A whole lazy epoch leaves its table holding V and the velocities; the
    # next one starts from it unless the loop wrote V (back to the lowest
    # point, recovery) or restarted the momentum. Filled afresh each epoch,
    # the same fit to the bit, through stages, restarts and returns.
    rng = np.random.RandomState(1)
    X = sparse.random(400, 60, density=0.1, random_state=rng, dtype=dtype, format="csr")
    X.eliminate_zeros()
    y = (X @ rng.standard_normal(60) > 0.1).astype(int) + (X[:, 0].toarray().ravel() > 0.5)
    params = dict(optimizer=optimizer, alpha=1e-3, batch_size=8, tol=1e-6, max_iter=60)
    fills = []
    run = _kernel.Plan.run

    def counted(plan, *args, **kwargs):
        fills.append(plan.held is None)
        return run(plan, *args, **kwargs)

    monkeypatch.setattr(_kernel.Plan, "run", counted)
    kept = GDClassifier(**params, random_state=0).fit(X, y)
    assert 1 < sum(fills) < len(fills) - 5  # the table was kept, and filled again at times

    def afresh(plan, *args, **kwargs):
        plan.forget()
        return run(plan, *args, **kwargs)

    monkeypatch.setattr(_kernel.Plan, "run", afresh)
    filled = GDClassifier(**params, random_state=0).fit(X, y)
    assert kept.n_iter_ == filled.n_iter_ > 20
    assert_array_equal(kept.coef_, filled.coef_)
    assert_array_equal(kept.intercept_, filled.intercept_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_statistics_and_peaks_as_on_the_numpy_path(dtype, monkeypatch):
    from skgd import _standardize

    rng = np.random.RandomState(0)
    dense = np.where(rng.uniform(size=(500, 12)) < 0.2, rng.normal(2.0, 30.0, (500, 12)), 0.0)
    dense[:, 1] = rng.normal(5.0, 1.0, 500)  # stored on every row: no implicit zero
    dense[:, 2] = 0.0  # nothing stored
    dense[:, 3] = 0.0
    dense[:50, 3] = 7.0  # stored only on rows of zero weight
    dense[:, 4] = np.where(dense[:, 4] != 0, -4.0, 0.0)  # one value and zeros
    dense[:, 5] = 1e-200 * dense[:, 5]  # tiny values: the exact rescaling
    dense[:, 6] *= 1e300 if dtype == np.float64 else 1e30  # huge: no square overflows
    X = sparse.csr_matrix(dense.astype(dtype))
    X.data[X.indptr[60]] = 0.0  # an explicit zero
    weights = rng.uniform(0.0, 2.0, 500)
    weights[:50] = 0.0
    monkeypatch.setattr(_standardize, "_BLOCK_ELEMENTS", 100)  # blocks of about 40 rows

    def stats():
        return *_standardize._stats_of(X, weights), _standardize.column_peak(X)

    compiled = stats()
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = stats()
    for a, b in zip(compiled, numpy, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=0)
    # the numpy path agrees with the plain formulas, so both do
    kept = weights > 0
    mean = np.average(X.toarray()[kept], axis=0, weights=weights[kept])
    assert_allclose(numpy[0], mean, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert numpy[1][2] == numpy[1][3] == 0.0  # constant columns: exactly no deviation

    # The same columns among many more than X stores values (hashed text): the
    # compiled passes then work on the stored columns alone, to the same bits.
    monkeypatch.setattr(_kernel, "ENABLED", True)
    places = np.sort(rng.choice(5000, size=12, replace=False))
    wide = sparse.csr_matrix((X.data, places[X.indices], X.indptr), shape=(500, 5000))
    assert wide.shape[1] > wide.nnz
    wide_stats = (*_standardize._stats_of(wide, weights), _standardize.column_peak(wide))
    others = np.setdiff1d(np.arange(5000), places)
    assert wide_stats[2] == compiled[2]  # the weight
    for a, b in zip(wide_stats[:2] + wide_stats[3:], compiled[:2] + compiled[3:], strict=True):
        assert_array_equal(a[places], b)
        assert not np.any(a[others])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("factor", [1e-300, 1.0, 1e150])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_curvature_as_on_the_numpy_path(dtype, factor, fit_intercept, monkeypatch):
    # The power iteration and the largest row norm, compiled, give numpy's
    # curvature; float32 X, off-centre, is summed in float64.
    from skgd import _objective, _standardize

    if dtype == np.float32 and factor != 1.0:
        pytest.skip("float32 holds neither scale")
    monkeypatch.setattr(_objective, "_SAMPLE_ROWS", 500)  # a strided sample of every 4th row
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2000, 7)) @ rng.standard_normal((7, 7))
    X[:, 0] += 1e3  # off-centre: the centring matters
    X = (X * factor).astype(dtype)
    weights = rng.uniform(0.0, 2.0, 2000)
    mean, std, _ = _standardize._stats_of(X, weights)
    ones = np.ones(1)
    objective = _objective.Objective(
        None, x_mean=mean.astype(dtype), x_scale=std.astype(dtype), y_loc=0 * ones,
        y_scale=ones, loss_scale=ones, alpha_l1=0.0, alpha_l2=0.1, reference_loss=1.0,
    )  # fmt: skip
    compiled = objective.curvature(X, weights, fit_intercept)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = objective.curvature(X, weights, fit_intercept)
    # numpy's float32 products centre after summing (x·a - mean·a): it is the less exact
    assert_allclose(compiled, numpy, rtol=1e-12 if dtype == np.float64 else 1e-5)
    Z = (X.astype(np.float64) - mean.astype(dtype)) / std.astype(dtype)
    L_max = np.max(np.sum(Z * Z, axis=1)) + fit_intercept + 0.1
    assert_allclose(compiled[1], L_max, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_sparse_curvature_as_on_the_numpy_path(dtype, centred, fit_intercept, monkeypatch):
    # The compiled power iteration numbers the columns stored in the sampled
    # rows and carries the others (constant -mean / scale) as two numbers:
    # numpy's eigenvalue, with columns stored nowhere, on rows of zero weight,
    # and duplicates (summed, as scipy's products sum them).
    from skgd import _objective

    monkeypatch.setattr(_objective, "_SAMPLE_ROWS", 200)  # every other row
    rng = np.random.RandomState(0)
    dense = np.where(rng.uniform(size=(400, 60)) < 0.1, rng.normal(1.0, 5.0, (400, 60)), 0.0)
    dense[:, [5, 7]] = 0.0  # stored nowhere
    dense[1::2, 9] = rng.normal(size=200)  # stored only on rows the sample leaves out
    X = sparse.csr_matrix(dense.astype(dtype))
    X = sparse.csr_matrix((np.append(X.data, 2.0), np.append(X.indices, 3), X.indptr.copy()))
    X.indptr[-1] += 1  # a duplicate (3 twice) in the last row
    assert not X.has_canonical_format
    mean = rng.normal(0.0, 0.3, 60) * centred
    mean[::3] = 0.0
    scale = rng.uniform(0.5, 3.0, 60)
    weights = rng.uniform(0.0, 2.0, 400)
    weights[:40] = 0.0
    ones = np.ones(1)
    objective = _objective.Objective(
        None, x_mean=mean.astype(dtype), x_scale=scale.astype(dtype), y_loc=0 * ones,
        y_scale=ones, loss_scale=ones, alpha_l1=0.0, alpha_l2=0.1, reference_loss=1.0,
    )  # fmt: skip
    rows = _objective._sample_rows(400)
    w = weights[rows] / weights[rows].sum()
    compiled = objective._largest_eigenvalue(X, rows, w, fit_intercept)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = objective._largest_eigenvalue(X, rows, w, fit_intercept)
    assert_allclose(compiled, numpy, rtol=1e-12 if dtype == np.float64 else 1e-5)
    Z = (X[rows].toarray().astype(np.float64) - mean.astype(dtype)) / scale.astype(dtype)
    Z = np.hstack([Z, np.full((len(Z), 1), float(fit_intercept))])
    exact = np.linalg.eigvalsh(Z.T @ (w[:, None] * Z)).max()
    assert_allclose(compiled, exact, rtol=1e-3)  # 20 iterations: near, not exact


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("factor", [1e-300, 1.0, 1e150])
def test_dense_statistics_in_one_pass_as_on_the_numpy_path(dtype, factor, monkeypatch):
    # The compiled pass finds each column's range block by block, and rescales
    # its running moments when a block's values outgrow the earlier ones': by
    # powers of two, exactly, so the numpy path's two passes give the same.
    from skgd import _standardize

    if dtype == np.float32 and factor != 1.0:
        pytest.skip("float32 holds neither scale")
    rng = np.random.RandomState(0)
    X = rng.normal(2.0, 30.0, (500, 8))
    X[:, 1] = 1e4 + rng.normal(size=500)  # off-centre
    X[:, 2] = 0.0
    X[300:, 2] = rng.normal(size=200)  # zeros first, values later
    X[:, 3] = np.geomspace(1e-6, 1e6, 500)  # each block outgrows the ones before
    X[:, 4] = 7.0  # one value
    X[:, 5] = np.where(np.arange(500) < 50, 3.0, 5.0)  # one value on the weighted rows
    X[:, 6] = -np.geomspace(1e3, 1e-3, 500)  # the largest magnitude first
    X = (X * factor).astype(dtype)
    weights = rng.uniform(0.0, 2.0, 500)
    weights[:50] = 0.0
    monkeypatch.setattr(_standardize, "_BLOCK_ELEMENTS", 300)  # blocks of 37 rows

    compiled = _standardize._stats_of(X, weights)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = _standardize._stats_of(X, weights)
    for a, b in zip(compiled, numpy, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=0)
    kept = weights > 0
    mean = np.average(X[kept].astype(np.float64) / factor, axis=0, weights=weights[kept])
    assert_allclose(compiled[0] / factor, mean, rtol=1e-12)
    assert compiled[1][4] == compiled[1][5] == 0.0 and compiled[0][5] == 5.0 * dtype(factor)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["spread", "sorted", "weights", "constant", "no intercept"])
def test_the_largest_row_norm_from_the_statistics_pass_is_the_full_passes(dtype, case, monkeypatch):
    # The statistics' pass keeps each row's norm under a provisional
    # standardization (a sample's); the rows that may hold the largest norm
    # under the final one are then computed exactly: the full pass's L_max,
    # to the bit, and numpy's. A row of weight 0, however long, is left out.
    from skgd import _objective, _row_norms, _standardize

    monkeypatch.setattr(_standardize, "_BLOCK_ELEMENTS", 600)  # blocks of 50 rows
    monkeypatch.setattr(_row_norms.RowNorms, "_SAMPLE_ROWS", 1000)  # every 3rd row
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3000, 12)) * rng.uniform(0.1, 10.0, 12) + rng.normal(0, 5.0, 12)
    weights = rng.uniform(0.5, 2.0, 3000)
    if case == "sorted":  # the sample's standardization far from the final one
        X = np.sort(X, axis=0)
    if case == "weights":
        weights[1::3] = 0.0
        X[1000] *= 50.0  # the longest row, of weight 0
    if case == "constant":
        X[:, 4], X[:, 5] = 0.0, 3.0
    X = X.astype(dtype)
    fit_intercept = case != "no intercept"
    row_norms = _row_norms.RowNorms.of(X, weights, fit_intercept)
    mean, std, _ = _standardize._stats_of(X, weights, row_norms)
    x_mean, x_scale, _ = _standardize.FeatureStats(mean, std, 1.0).standardization(
        fit_intercept, dtype
    )
    ones = np.ones(1)
    objective = _objective.Objective(
        None, x_mean=x_mean, x_scale=x_scale, y_loc=0 * ones, y_scale=ones, loss_scale=ones,
        alpha_l1=0.0, alpha_l2=0.1, reference_loss=1.0,
    )  # fmt: skip
    rows = row_norms.candidates(x_mean, x_scale)
    if case != "sorted":  # (sorted rows: the bound may take them all, and the full pass serves)
        assert rows is not None and 0 < len(rows) < 300, "the statistics' norms were not used"
    shortcut = objective.curvature(X, weights, fit_intercept, row_norms)
    full = objective.curvature(X, weights, fit_intercept)
    assert shortcut == full
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = objective.curvature(X, weights, fit_intercept)
    assert_allclose(shortcut, numpy, rtol=1e-12 if dtype == np.float64 else 1e-5)
    Z = (X.astype(np.float64) - x_mean) / x_scale
    L_max = np.max(np.sum(Z * Z, axis=1)[weights > 0]) + fit_intercept + 0.1
    assert_allclose(shortcut[1], L_max, rtol=1e-12)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_the_statistics_pass_row_norms_hold_on_columns_far_from_zero(seed):
    # At 1e14 + N(0, 1) the provisional norms and the bound lose digits to the
    # offset they subtract: the shortcut missed the longest row (a near tie,
    # in another direction) and gave L_max 20.589 against the full pass's 20.689.
    from skgd import _objective, _row_norms, _standardize

    rng = np.random.RandomState(seed)
    B = np.round(rng.standard_normal((10000, 2)) * 64) / 64
    center = B.mean(axis=0)
    longest = np.argmax(((B - center) ** 2).sum(axis=1))
    B[(longest + 1) % len(B)] = center + (B[longest] - center)[::-1] * (1 + 1e-7)
    X, weights = 1e14 + np.repeat(B, 10, axis=0), np.ones(100000)
    row_norms = _row_norms.RowNorms.of(X, weights, True)
    mean, std, _ = _standardize._stats_of(X, weights, row_norms)
    x_mean, x_scale, _ = _standardize.FeatureStats(mean, std, 1.0).standardization(True, X.dtype)
    ones = np.ones(1)
    objective = _objective.Objective(
        None, x_mean=x_mean, x_scale=x_scale, y_loc=0 * ones, y_scale=ones, loss_scale=ones,
        alpha_l1=0.0, alpha_l2=0.0, reference_loss=1.0,
    )  # fmt: skip
    assert objective.curvature(X, weights, True, row_norms) == objective.curvature(X, weights, True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_statistics_pass_row_norms_change_no_model(dtype, monkeypatch):
    # A fit whose L_max comes from the statistics' pass is the fit that reads X
    # once more for it, to the bit.
    from skgd import _row_norms, _standardize

    monkeypatch.setattr(_standardize, "_BLOCK_ELEMENTS", 600)
    monkeypatch.setattr(_row_norms.RowNorms, "_SAMPLE_ROWS", 500)  # (the power iteration's: all)
    X, y = make_regression(n_samples=2000, n_features=12, noise=5.0, random_state=0)
    X = (X * np.arange(1, 13) + 3.0).astype(dtype)
    found = []
    real_candidates = _row_norms.RowNorms.candidates
    monkeypatch.setattr(
        _row_norms.RowNorms,
        "candidates",
        lambda self, *args: found.append(real_candidates(self, *args)) or found[-1],
    )
    shortcut = GDRegressor(batch_size=64, max_iter=3, tol=None, random_state=0).fit(X, y)
    assert found and found[0] is not None and len(found[0]) < 200, "the shortcut did not serve"
    monkeypatch.setattr(_row_norms.RowNorms, "of", classmethod(lambda cls, *args: None))
    full = GDRegressor(batch_size=64, max_iter=3, tol=None, random_state=0).fit(X, y)
    assert_array_equal(shortcut.coef_, full.coef_)
    assert_array_equal(shortcut.intercept_, full.intercept_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_largest_row_norm_as_on_the_numpy_path(dtype, monkeypatch):
    from skgd._objective import _largest_squared_row_norm

    rng = np.random.RandomState(0)
    dense = np.where(rng.uniform(size=(300, 40)) < 0.1, rng.normal(1.0, 5.0, (300, 40)), 0.0)
    dense[7] = 0.0  # a row with nothing stored
    X = sparse.csr_matrix(dense.astype(dtype))
    mean = rng.normal(0.0, 0.1, 40).astype(dtype)  # some columns centred, some not
    mean[::2] = 0
    scale = rng.uniform(0.5, 3.0, 40).astype(dtype)
    compiled = _largest_squared_row_norm(X, mean, scale)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = _largest_squared_row_norm(X, mean, scale)
    exact = (((dense - mean) / scale) ** 2).sum(axis=1).max()
    assert_allclose(compiled, numpy, rtol=1e-12 if dtype == np.float64 else 1e-5)
    assert_allclose(compiled, exact, rtol=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_epochs_copy_penalty_and_finiteness_as_numpys(dtype, monkeypatch):
    # The loop copies V, sums its squares (and magnitudes) and checks it is
    # finite in compiled passes without temporaries: numpy's answers.
    rng = np.random.RandomState(0)
    V = (rng.standard_normal((3, 1000)) * [[1.0], [1e-3], [1e30]]).astype(dtype)
    answers = []
    for enabled in [True, False]:
        monkeypatch.setattr(_kernel, "ENABLED", enabled)
        out = np.empty_like(V)
        magnitudes, squares = _passes.copy_and_sums(V, out, absolute=True)
        assert_array_equal(out, V)
        answers.append((magnitudes, squares))
        assert _passes.copy_and_sums(V, out, absolute=False)[0] == 0.0
        assert _passes.all_finite(V) and _passes.all_finite(np.full((2, 3), np.finfo(dtype).max))
        for bad in [np.inf, -np.inf, np.nan]:
            W = V.copy()
            W[1, 777] = bad
            assert not _passes.all_finite(W)
    (m1, s1), (m2, s2) = answers
    assert_allclose(m1, m2, rtol=1e-12 if dtype == np.float64 else 1e-5)
    assert_allclose(s1, s2, rtol=1e-12 if dtype == np.float64 else 1e-5)


def test_the_streams_compiled_merge_of_statistics_is_numpys_to_the_bit(monkeypatch):
    # A partial_fit call merges its chunk's statistics into the stream's in one
    # compiled call: the numpy path's arithmetic exactly, at any scale, so that
    # a stream's model does not depend on whether numba is there.
    from skgd import _standardize

    rng = np.random.RandomState(0)
    n = 1000
    # columns of every scale up to the float limit; in each, means and deviations of about one size
    size = 10.0 ** rng.randint(-300, 300, n)
    old_mean, new_mean = rng.standard_normal((2, n)) * size
    old_std, new_std = rng.uniform(0.1, 1.0, (2, n)) * size
    new_mean[-8:] = -old_mean[-8:]  # means far apart
    old_std[:4], new_std[4:8], new_mean[8:12] = 0.0, 0.0, old_mean[8:12]  # constant, unchanged
    old_std[12:16], new_std[12:16] = 0.0, 0.0  # a constant column, and a row of its value
    new_mean[12:16] = old_mean[12:16]
    old = _standardize.FeatureStats(old_mean, old_std, 3.0)
    # the chunk's own statistics, as given: only the merge is compared
    monkeypatch.setattr(_standardize, "_stats_of", lambda X, w, *_: (new_mean, new_std, 1.5))
    found = []
    for enabled in [True, False]:
        monkeypatch.setattr(_kernel, "ENABLED", enabled)
        merged = old.update(np.zeros((2, n)), np.ones(2))
        found.append((merged.mean, merged.std, merged.weight))
    for a, b in zip(*found, strict=True):
        assert_array_equal(a, b)
    assert np.isfinite(found[0][0]).all() and np.isfinite(found[0][1]).all()
    assert (found[0][1][:4] > 0).all() and (found[0][1][12:16] == 0).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint16])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_the_streams_compiled_robust_spread_is_numpys_to_the_bit(dtype, n_outputs, monkeypatch):
    # A bounded-gradient loss's stream takes its recent targets' robust
    # spread at every call in one compiled call: the numpy path's weighted
    # medians exactly, ties, weights of 0 and wild targets among them; a
    # chunk of its own, of more rows, by numpy's sort. Integer targets' spread
    # is that of the same values as floats (unsigned ones too: no wrapping).
    from skgd._standardize import outlier_bounded_spread

    rng = np.random.RandomState(0)
    for case in range(60):
        n = rng.randint(20, 65) if case % 4 else rng.randint(65, 300)
        Y = rng.standard_normal((n, n_outputs)) * 10.0 + 100.0
        if case % 3 == 0:
            Y = np.round(Y)  # ties
        Y[rng.randint(n)] = 5e4  # a wild target
        Y = Y.astype(dtype)
        if n_outputs == 1 and case % 2:
            Y = Y[:, 0]
        weights = rng.choice([0.0, 0.5, 1.0, 3.0], size=n) if case % 2 else np.ones(n)
        weights[:20] = 1.0  # (enough rows of positive weight for a robust spread)
        spread = np.full(n_outputs, 1e4)
        answers = []
        for enabled in [True, False]:
            monkeypatch.setattr(_kernel, "ENABLED", enabled)
            answers.append(outlier_bounded_spread(spread, Y, weights))
        assert_array_equal(*answers)
        assert answers[0].dtype == answers[1].dtype == np.float64
        assert np.all(answers[0] < 1e3), "the wild target set the spread"
        if dtype in (np.int64, np.uint16):
            as_floats = outlier_bounded_spread(spread, Y.astype(np.float64), weights)
            assert_array_equal(answers[0], as_floats)


@pytest.mark.parametrize("bits", [np.random.MT19937, np.random.PCG64, np.random.Philox])
def test_the_compiled_shuffle_is_numpys_order_and_leaves_the_generator_as_numpy_does(bits):
    # An epoch's order is RandomState.permutation's, drawn in bulk and swapped
    # in compiled code: the same rows in the same order, and the generator
    # after it in the same state (the next epoch's order, the next fit's).
    # (up to _SHUFFLE_BY_NUMPY positions numpy shuffles; beyond, the compiled
    # swaps come first)
    tail = _draws._SHUFFLE_BY_NUMPY
    for seed in range(3):
        for n in [0, 1, 2, 3, 4, 5, 8, 9, 17, 255, 1000, tail + 1, tail + 2, 65537, 100_003]:
            ours, numpys = np.random.RandomState(bits(seed)), np.random.RandomState(bits(seed))
            ours.randint(7), numpys.randint(7)  # a generator already used
            order = _draws.permutation(ours, n)
            expected = numpys.permutation(n)
            assert order.dtype == expected.dtype
            assert_array_equal(order, expected)
            assert repr(ours.get_state(legacy=False)) == repr(numpys.get_state(legacy=False))
            assert ours.random_sample() == numpys.random_sample()


def test_a_shuffled_fit_is_the_same_on_both_paths_of_the_shuffle(monkeypatch):
    # The compiled shuffle changes no model: the numpy path takes numpy's own.
    X, y = make_regression(n_samples=3000, n_features=5, noise=1.0, random_state=0)
    make = lambda: GDRegressor(batch_size=64, max_iter=3, tol=None, random_state=0)  # noqa: E731
    compiled = make().fit(X, y)
    monkeypatch.setattr(_draws, "permutation", lambda rng, n: rng.permutation(n))
    numpys = make().fit(X, y)
    assert_array_equal(compiled.coef_, numpys.coef_)
    assert_array_equal(compiled.intercept_, numpys.intercept_)
    assert compiled.loss_curve_ == numpys.loss_curve_


def test_the_blocks_order_is_the_blocks_in_numpys_order_of_their_starts():
    # shuffle="blocks": contiguous blocks of batch_size rows (the last one
    # shorter), in the order RandomState.permutation gives their starts.
    from skgd._epoch import _epoch_order

    for n, batch_size in [(1000, 7), (1001, 1000), (999, 1), (5, 2), (256 * 40, 256)]:
        ours, numpys = np.random.RandomState(n), np.random.RandomState(n)
        order = _epoch_order("blocks", ours, n, batch_size)
        rows = np.arange(n)
        starts = numpys.permutation(range(0, n, batch_size))
        expected = np.concatenate([rows[start : start + batch_size] for start in starts])
        assert_array_equal(order, expected)
        assert ours.randint(2**30) == numpys.randint(2**30)


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
def test_x_stored_by_columns_reaches_the_batch_steps_by_rows(Estimator, monkeypatch):
    # A pandas DataFrame's values are stored by columns. Gathering a batch's
    # rows from them costs a cache miss per value, and each memory layout
    # compiles the batch steps again: X is copied in row order first, as
    # scikit-learn's SGD does, and the model is the row-ordered X's.
    X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    layouts = []
    batch_steps = _kernel._dense_epoch

    def spy(X, *args):
        layouts.append(X.flags.c_contiguous)
        return batch_steps(X, *args)

    monkeypatch.setattr(_kernel, "_dense_epoch", spy)
    by_rows = Estimator(random_state=0).fit(X, y)
    for columns in [np.asfortranarray(X), np.asfortranarray(np.c_[X, X])[:, :6]]:
        model = Estimator(random_state=0).fit(columns, y)
        assert_array_equal(model.coef_, by_rows.coef_)
        assert_array_equal(model.intercept_, by_rows.intercept_)
    assert layouts and all(layouts)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_lazy_epochs_copy_penalty_and_finiteness_as_the_loops_passes(
    optimizer, dtype, monkeypatch
):
    # The lazy kernels copy V as the epoch found it, sum its squares for the
    # penalty and check V after, all in their last pass over the table: the
    # loop's own passes' answers, on every epoch of a fit, diverging ones too.
    rng = np.random.RandomState(2)
    X = sparse.random(300, 50, density=0.1, random_state=rng, dtype=dtype, format="csr")
    X.eliminate_zeros()
    y = (X @ rng.standard_normal(50) > 0.1).astype(int) + (X[:, 0].toarray().ravel() > 0.5)
    seen, run = [], _kernel.Plan.run

    def checked(plan, state, *args):
        start, V = args[-1], state.V
        if len(seen) == 5:  # an infinite coefficient, which the table takes in afresh
            state.V[1, 3] = np.inf
            plan.forget()
        before = state.V.copy()
        start[...] = np.nan  # each epoch writes it afresh
        sweep, penalty, finite = run(plan, state, *args)
        # (lazy SGD hands V's array back as the epoch's start, once it swaps them)
        assert_array_equal(start if state.V is V else V, before)
        expected = plan.objective.penalty(before)
        assert penalty == pytest.approx(expected, rel=1e-12 if dtype == np.float64 else 1e-6)
        assert finite == bool(np.isfinite(state.V).all())
        seen.append(finite)
        return sweep, penalty, finite

    monkeypatch.setattr(_kernel.Plan, "run", checked)
    params = dict(optimizer=optimizer, alpha=1e-3, batch_size=8, tol=1e-6, max_iter=30)
    GDClassifier(**params, random_state=0).fit(X, y)  # recovered from the epoch of the inf
    assert len(seen) > 10 and seen[5] is False
    assert all(finite is True for finite in seen[:5] + seen[6:])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_the_lazy_tables_columns_x_does_not_store_follow_the_penalty(optimizer, monkeypatch):
    # The lazy table has rows only for the columns X stores; a column it does
    # not store (here given a coefficient by coef_init) follows the penalty
    # alone, brought up to date at the write-back: the numpy path's model.
    rng = np.random.RandomState(3)
    X = sparse.random(200, 30, density=0.15, random_state=rng).toarray()
    X[:, [4, 17, 29]] = 0.0  # stored nowhere
    X = sparse.csr_matrix(X)
    y = (X @ rng.standard_normal(30) > 0.1).astype(int) + (X[:, 0].toarray().ravel() > 0.5)
    coef_init = rng.standard_normal((3, 30))
    params = dict(optimizer=optimizer, alpha=0.05, batch_size=8, tol=1e-5, max_iter=25)
    tables, table = [], _kernel.Plan._table
    monkeypatch.setattr(_kernel.Plan, "_table", lambda *a: tables.append(table(*a)) or tables[-1])
    compiled, numpy = both_paths(
        lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch, coef_init=coef_init
    )
    assert tables and all(len(t) == 27 for t in tables)  # the lazy path, a row a stored column
    assert np.all(compiled.coef_[:, [4, 17, 29]] != 0)  # shrunk, not zeroed
    assert np.all(np.abs(compiled.coef_[:, [4, 17, 29]]) < np.abs(coef_init[:, [4, 17, 29]]))
    same_model(compiled, numpy)


def _one_row_streams_both_paths(X, y, optimizer, monkeypatch):
    """A 100-row call, then one row a call up to row 300: compiled, then numpy's."""
    models = []
    for enabled in [True, False]:
        monkeypatch.setattr(_kernel, "ENABLED", enabled)
        model = GDClassifier(optimizer=optimizer, random_state=0)
        model.partial_fit(X[:100], y[:100], classes=[0, 1])
        for i in range(100, 300):
            model.partial_fit(X[i : i + 1], y[i : i + 1])
        models.append(model)
    return models


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_a_sparse_streams_lazy_calls_take_only_their_rows_columns(optimizer, monkeypatch):
    # A one-row partial_fit call on wide sparse X gives the lazy table a row
    # for each of its row's columns only (found by sorting, not by a pass
    # over all 5000): the numpy path's model after 200 such calls.
    rng = np.random.RandomState(4)
    X = sparse.random(300, 5000, density=0.004, random_state=rng, format="csr")
    y = (X @ rng.standard_normal(5000) > 0).astype(int)
    sizes, rows = [], _kernel.Plan._rows
    monkeypatch.setattr(_kernel.Plan, "_rows", lambda p, X: sizes.append(X.nnz) or rows(p, X))
    models = _one_row_streams_both_paths(X, y, optimizer, monkeypatch)
    assert sizes[1:] == [X[i].nnz for i in range(100, 300)]  # the lazy path, each call
    assert_allclose(
        models[0].coef_, models[1].coef_, rtol=1e-9, atol=1e-9 * np.abs(models[1].coef_).max()
    )
    assert_allclose(models[0].intercept_, models[1].intercept_, rtol=1e-9, atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
@pytest.mark.parametrize("max_iter", [1, 3])
def test_the_annealed_last_epoch_of_a_sparse_fit_stays_lazy(optimizer, max_iter, monkeypatch):
    # A fit out of epochs among batches ends with steps falling by stairs:
    # lazy momentum maps a column's untouched steps one stair at a time
    # (columns read in one stair and next in a later one, or never again),
    # and trains as the numpy path does; no batch updates every column.
    from skgd import _schedules

    rng = np.random.RandomState(0)
    X = sparse.random(600, 80, density=0.05, format="csr", random_state=rng)
    X.data *= rng.uniform(0.5, 5.0, X.nnz)
    y = (X @ rng.standard_normal(80) > 0).astype(int)
    annealed = []
    real = _schedules._annealed
    monkeypatch.setattr(_schedules, "_annealed", lambda *args: annealed.append(1) or real(*args))
    monkeypatch.setattr(_schedules, "_at_noise_floor", lambda curve: True)  # even epoch 1's
    monkeypatch.setattr(_kernel, "_sparse_epoch", None)  # not the path of every column
    params = dict(optimizer=optimizer, alpha=0.01, batch_size=8, max_iter=max_iter, tol=None)
    compiled, numpy = both_paths(lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch)
    assert annealed == [1, 1]  # each path's last epoch
    same_model(compiled, numpy)


def test_lazy_momentum_catches_up_across_runs_of_steps_as_step_by_step():
    # A column untouched from step a to step b follows one map a run of
    # equal steps it crosses; a == b (a column the last batch updated, at
    # the epoch's end) leaves it as it is.
    from skgd import _lazy_momentum
    from skgd._compiled import _MOMENTUM, _NESTEROV

    steps = np.array([0.3] * 5 + [0.2] * 4 + [0.1] * 3)
    runs = _lazy_momentum.step_runs(steps)
    assert_array_equal(runs, [0, 5, 9, 12])
    l2 = np.array([0.5, 2.0])
    for opt in [_MOMENTUM, _NESTEROV]:
        powers = _lazy_momentum._momentum_powers(opt, 0.9, steps, runs, l2)
        for a in range(13):
            for b in range(a, 13):
                for k in range(2):
                    p, v = 1.5, -0.25
                    for s in range(a, b):  # step by step, as a touched column with no data
                        g = l2[k] * p
                        v_next = 0.9 * v - steps[s] * g
                        p = p + (v_next if opt == _MOMENTUM else 0.9 * v_next - steps[s] * g)
                        v = v_next
                    caught = _lazy_momentum._catch_up.py_func(powers, runs, a, b, k, 1.5, -0.25)
                    assert_allclose(caught, (p, v), rtol=1e-12, atol=1e-15)
    assert _lazy_momentum.step_runs(np.arange(40.0)) is None  # a step a batch: not lazy


def test_lazy_momentums_write_back_maps_every_column_as_its_catch_up():
    # The write-back of every column brings those without a table row from
    # step 0 by maps it reads once (not found again for each column), and
    # those with one from the step their row is up to: each (coefficient,
    # velocity) to the bit as _catch_up makes it, over 0 to 3 runs crossed.
    from skgd import _lazy_momentum
    from skgd._compiled import _MOMENTUM, _NESTEROV

    steps = np.array([0.3] * 5 + [0.2] * 4 + [0.1] * 3)
    runs = _lazy_momentum.step_runs(steps)
    l2 = np.array([0.5, 2.0])
    used = np.array([1, 4], dtype=np.intp)  # the columns with a table row
    rng = np.random.RandomState(0)
    for opt in [_MOMENTUM, _NESTEROV]:
        powers = _lazy_momentum._momentum_powers(opt, 0.9, steps, runs, l2)
        for batch in range(13):
            V0, SV0 = rng.standard_normal((2, 7)), rng.standard_normal((2, 7))
            table = np.zeros((2, 8))  # coefficients, velocities, inverse scale, step up to
            table[:, :4] = rng.standard_normal((2, 4))
            table[:, 5] = [0, min(batch, 3)]
            table0 = table.copy()
            V, SV, start = V0.copy(), SV0.copy(), np.empty_like(V0)
            outside = np.array([0, 0, 1, 0], dtype=np.int64)  # nothing known: every column
            _lazy_momentum._momentum_out(
                V, SV, table, batch, powers, runs, used, start, np.zeros(3), outside,
                np.zeros((5, 2)),
            )  # fmt: skip
            assert_array_equal(start, V0)
            for k in range(2):
                for j in range(7):
                    if j in used:
                        row = table0[list(used).index(j)]
                        a, p, v = int(row[5]), row[k], row[2 + k]
                    else:
                        a, p, v = 0, V0[k, j], SV0[k, j]
                    caught = _lazy_momentum._catch_up(powers, runs, a, batch, k, p, v)
                    assert (V[k, j], SV[k, j]) == caught, (opt, batch, k, j)


@pytest.mark.filterwarnings("ignore:Maximum number of epochs")  # (early stopping's few epochs)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["weighted", "two outputs", "classes", "early stopping"], ids=str)
def test_targets_and_weights_side_by_side_change_no_model(dtype, case, monkeypatch):
    # Dense X's epochs read a row's target and weight from one array on large
    # data (one cache line, not two): the same model to the bit as from two.
    rng = np.random.RandomState(0)
    X = (rng.standard_normal((300, 5)) + 2.0).astype(dtype)
    y = X @ rng.standard_normal(5) + rng.standard_normal(300)
    weights = rng.uniform(0, 2, 300)
    weights[::7] = 0.0
    settings = dict(batch_size=16, max_iter=3, tol=None, random_state=0)
    make, target, fit_params = GDRegressor, y, {}
    if case == "weighted":
        fit_params["sample_weight"] = weights
    elif case == "two outputs":
        target = np.column_stack([y, 1.0 - 2.0 * y])
    elif case == "classes":
        make, target = GDClassifier, np.digitize(y, np.quantile(y, [0.3, 0.7]))
        fit_params["sample_weight"] = weights
    else:
        settings = dict(early_stopping=True, n_iter_no_change=2, max_iter=6, random_state=0)
    packed = []
    real_epoch = _kernel._dense_epoch

    def spy(X, Y, indexed, weights, *rest):
        packed.append(Y.base is not None and Y.base is weights.base)
        return real_epoch(X, Y, indexed, weights, *rest)

    monkeypatch.setattr(_kernel, "_dense_epoch", spy)
    models = []
    for rows in [0, len(y) + 1]:  # every fit side by side, then none
        monkeypatch.setattr(_kernel, "_PACKED_ROWS", rows)
        packed.clear()
        models.append(make(**settings).fit(X, target, **fit_params))
        assert packed and all(packed) == (rows == 0) and any(packed) == (rows == 0)
    side_by_side, apart = models
    assert_array_equal(side_by_side.coef_, apart.coef_)
    assert_array_equal(side_by_side.intercept_, apart.intercept_)
    assert_array_equal(side_by_side.loss_curve_, apart.loss_curve_)
    assert side_by_side.n_iter_ == apart.n_iter_


@pytest.mark.parametrize("n_classes", [2, 3, 4, 8, 9, 12])
def test_lazy_sgd_on_every_width_of_its_table_as_on_the_numpy_path(n_classes, monkeypatch):
    # The lazy SGD epoch takes a table row 8, 4 or 1 outputs at a time, padding
    # included (rows of 2, 4, 8 or 16 values: 1 to 12 outputs, the inverse scale
    # in the first or the second block of 8); the padding's lanes take 0 times
    # each value, the outputs' sums keep their order.
    rng = np.random.RandomState(3)
    X = sparse.random(240, 50, density=0.12, random_state=rng, format="csr")
    X.data *= rng.uniform(0.5, 3.0, X.nnz)
    y = rng.randint(n_classes, size=240)
    widths = []
    real_table = _kernel.Plan._table
    monkeypatch.setattr(
        _kernel.Plan,
        "_table",
        lambda plan, *args: widths.append(real_table(plan, *args).shape[1]) or plan.table,
    )
    params = dict(optimizer="sgd", alpha=1e-3, batch_size=16, max_iter=4, tol=None)
    compiled, numpy = both_paths(lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch)
    n_outputs = 1 if n_classes == 2 else n_classes
    width = 2 if n_outputs == 1 else 4 if n_outputs < 4 else -(-(n_outputs + 1) // 8) * 8
    assert widths and set(widths) == {width}  # the lazy path ran
    same_model(compiled, numpy)


def _spy_lazy_sgd(monkeypatch):
    """The epochs that ran lazy SGD's kernel, appended to the returned list (True each)."""
    ran = []
    real = _kernel._sparse_sgd_epoch
    monkeypatch.setattr(_kernel, "_sparse_sgd_epoch", lambda *args: ran.append(True) or real(*args))
    return ran


def _centred_sparse_classes(seed, dtype, n_classes):
    """300 sparse rows, 41 columns (one centred, one never stored), classes, weights (zeros too)."""
    rng = np.random.RandomState(seed)
    X = sparse.random(300, 40, density=0.12, random_state=rng, format="csr")
    X.data *= rng.uniform(0.5, 3.0, X.nnz)
    X = sparse.hstack([X, rng.uniform(5.0, 6.0, (300, 1))], format="csr").astype(dtype)
    X[:, 7] = 0.0
    X.eliminate_zeros()
    y = np.digitize(X @ rng.standard_normal(41), np.linspace(-2, 2, n_classes - 1))
    weights = rng.uniform(0.0, 2.0, 300)
    weights[::7] = 0.0
    return X, y, weights


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("n_classes", [2, 3, 7, 9])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lazy_sgd_takes_l1_as_the_numpy_path(penalty, n_classes, dtype, monkeypatch):
    # Plain SGD's soft thresholds add up (S_a(S_b(u)) = S_(a+b)(u)): a column
    # takes those of the batches that did not touch it at once, when a batch
    # next reads it, and every column at the epoch's end. The numpy path takes
    # each batch's on every coefficient: the same model to rounding, the same
    # zeros. Tables of 4, 8 and 16 values a row (the step a row is up to after
    # the inverse scale), a centred column (read and moved by every batch),
    # weights with zeros, a column no row stores.
    X, y, weights = _centred_sparse_classes(2, dtype, n_classes)
    ran = _spy_lazy_sgd(monkeypatch)
    params = dict(optimizer="sgd", penalty=penalty, alpha=3e-3, batch_size=16, max_iter=25)
    compiled, numpy = both_paths(
        lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch, sample_weight=weights
    )
    assert len(ran) == compiled.n_iter_ > 10  # every epoch lazy
    assert 0 < np.sum(compiled.coef_ == 0) < compiled.coef_.size  # L1's zeros, and others
    assert_array_equal(compiled.coef_ == 0, numpy.coef_ == 0)
    # (float32: the numpy path rounds V to float32 at each batch, the table at the end)
    same_model(compiled, numpy, rtol=1e-7 if dtype == np.float64 else 1e-5)


def _strong_l2_both_paths(params, monkeypatch):
    """A regressor on 400 sparse rows, compiled then numpy; and the lazy SGD epochs run."""
    rng = np.random.RandomState(4)
    X = sparse.random(400, 30, density=0.2, random_state=rng, format="csr")
    y = X @ rng.standard_normal(30) + 0.1 * rng.standard_normal(400)
    ran = _spy_lazy_sgd(monkeypatch)
    models = []
    for enabled in [True, False]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_kernel, "ENABLED", enabled)
            models.append(GDRegressor(**params, random_state=0).fit(X, y))
    return models, ran


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lazy_sgds_l1_thresholds_survive_the_scale_taken_into_the_table(monkeypatch):
    # Under a strong L2 the scale V = scale * U falls below 1e-9 within an epoch
    # (batches of one row, each shrinking V by about a ninth: 400 of them, 7e-21)
    # and is taken into U: the thresholds owed are paid first, in the units they
    # were summed in (without, the coefficients ended 1e-3 apart), and their sums
    # start again from 0 (on the old sum, about 1e9 l1 / l2, 2e-10 apart).
    params = dict(optimizer="sgd", penalty="elasticnet", l1_ratio=0.01, alpha=1.0)
    params.update(batch_size=1, max_iter=2, tol=None, schedule="constant", learning_rate=0.9)
    models, ran = _strong_l2_both_paths(params, monkeypatch)
    assert len(ran) == 2  # (both epochs lazy)
    assert 0 < np.sum(models[0].coef_ == 0) < 30
    same_model(*models, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lazy_l1_waits_for_the_columns_x_does_not_store_to_hold_zero(monkeypatch):
    # A column no row stores keeps its value but for the penalty: at 0 (a fit's
    # start) L1 keeps it there, lazily; a warm start's or a stream's value there
    # would owe every batch's threshold, and the epoch is then the dense one.
    rng = np.random.RandomState(5)
    X = sparse.random(200, 20, density=0.2, random_state=rng, format="csr")
    X[:, 3] = 0.0
    X.eliminate_zeros()
    y = X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(200)
    ran = _spy_lazy_sgd(monkeypatch)
    params = dict(optimizer="sgd", penalty="l1", alpha=1e-3, max_iter=5, tol=None)
    GDRegressor(**params, random_state=0).fit(X, y)
    assert len(ran) == 5
    ran.clear()
    coef_init = np.zeros(20)
    coef_init[3] = 2.0  # a column X does not store, away from 0
    models = []
    for enabled in [True, False]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_kernel, "ENABLED", enabled)
            models.append(GDRegressor(**params, random_state=0).fit(X, y, coef_init=coef_init))
    assert not ran  # (the dense sparse epoch: not lazy)
    same_model(*models)
    assert 0 < abs(models[0].coef_[3]) < 2.0  # shrunk by L2's shrinks and L1's thresholds


def _hashed(rng, n_rows, n_features, columns=None):
    """Rows of a few columns among many, most columns stored nowhere (hashed text's shape)."""
    columns = np.arange(n_features) if columns is None else columns
    indices = rng.choice(columns, size=(n_rows, 6))
    X = sparse.csr_matrix(
        (rng.uniform(0.5, 2.0, n_rows * 6), indices.ravel(), np.arange(0, n_rows * 6 + 1, 6)),
        shape=(n_rows, n_features),
    )
    X.sum_duplicates()
    return X


def _without_the_skip(monkeypatch):
    """Every lazy write-back visits every column, as before the plan knew of zeros."""
    real = _kernel.Plan._outside

    def unknown(plan, V, *args):
        outside, zeros, squares = real(plan, V, *args)
        return np.zeros_like(outside), np.zeros_like(zeros), squares

    monkeypatch.setattr(_kernel.Plan, "_outside", unknown)


def _same_bits(a, b):
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(np.signbit(a.coef_), np.signbit(b.coef_))
    assert_array_equal(a.intercept_, b.intercept_)
    assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert a.n_iter_ == b.n_iter_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [16, 400], ids=["batches", "exact"])
def test_a_fits_lazy_write_back_visits_only_x_columns_once_v_is_zero_elsewhere(
    optimizer, dtype, batch_size, monkeypatch
):
    # In a fit, a column X stores nowhere is constant and its coefficient
    # (and velocity) stays +0.0: once an epoch has seen that, and the copy of
    # V it is given was filled by such an epoch, the write-back visits only
    # X's columns. The same model to the bit as visiting them all, and the
    # numpy path's; a sentinel outside X's columns shows the skip was taken.
    # Exact descent goes back to the lowest epoch's copy of V at times: that
    # copy holds V's zeros too.
    rng = np.random.RandomState(5)
    X = _hashed(rng, 400, 3000).astype(dtype)
    y = rng.randint(3, size=400)
    unstored = np.setdiff1d(np.arange(3000), X.indices)
    assert len(unstored) > 1000
    params = dict(optimizer=optimizer, alpha=1e-3, batch_size=batch_size, tol=1e-6, max_iter=12)
    if batch_size == 400:
        params.update(max_iter=60, learning_rate=0.9)
    skipped, run, forget = [], _kernel.Plan.run, _kernel.Plan.forget
    forgotten = []
    monkeypatch.setattr(_kernel.Plan, "forget", lambda plan: forgotten.append(1) or forget(plan))

    def sentinel(plan, state, *args):
        start = args[-1]
        if plan.zero is not None and any(entry[0] is start for entry in plan.clean):
            start[:, unstored[::7]] = np.nan  # left alone by a write-back of X's columns only
            result = run(plan, state, *args)
            skipped.append(bool(np.isnan(start[:, unstored[::7]]).all()))
            start[:, unstored[::7]] = 0.0
            return result
        skipped.append(False)
        return run(plan, state, *args)

    monkeypatch.setattr(_kernel.Plan, "run", sentinel)
    fast = GDClassifier(**params, random_state=0).fit(X, y)
    assert not any(skipped[:2]) and sum(skipped) >= len(skipped) - 3 - 2 * len(forgotten) >= 8
    assert bool(forgotten) == (batch_size == 400)
    monkeypatch.setattr(_kernel.Plan, "run", run)
    _without_the_skip(monkeypatch)
    _same_bits(fast, GDClassifier(**params, random_state=0).fit(X, y))
    if dtype == np.float64 or batch_size == 16:  # (float32's exact descent: not to 1e-4)
        monkeypatch.setattr(_kernel, "ENABLED", False)
        numpy = GDClassifier(**params, random_state=0).fit(X, y)
        same_model(fast, numpy, rtol=1e-7 if dtype == np.float64 else 1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
@pytest.mark.parametrize("case", ["warm start", "stream", "coef_init"])
def test_the_lazy_write_back_visits_every_column_where_v_is_not_zero_elsewhere(
    optimizer, case, monkeypatch
):
    # A warm start on other columns, a stream's call on new ones, or a
    # coef_init, leaves V (and the velocities) non-zero on columns this X
    # stores nowhere: they follow the penalty, at every epoch's write-back.
    # The numpy path's model, and the same to the bit as with no skip at all.
    rng = np.random.RandomState(6)
    first = _hashed(rng, 300, 3000, columns=np.arange(0, 1500))
    second = _hashed(rng, 300, 3000, columns=np.arange(1000, 3000))
    y1, y2 = rng.randint(3, size=300), rng.randint(3, size=300)
    coef_init = np.where(rng.uniform(size=(3, 3000)) < 0.01, 1.0, 0.0)
    params = dict(optimizer=optimizer, alpha=0.01, batch_size=16, tol=1e-6, max_iter=8)

    def train():
        model = GDClassifier(**params, random_state=0)
        if case == "warm start":
            model.fit(first, y1)
            return model.set_params(warm_start=True).fit(second, y2)
        if case == "coef_init":
            return model.fit(second, y2, coef_init=coef_init)
        for X, y in [(first, y1), (second, y2), (first[:40], y1[:40]), (second, y2)]:
            model.partial_fit(X, y, classes=[0, 1, 2])
        return model

    model = train()
    elsewhere = np.setdiff1d(np.arange(3000), second.indices)
    assert np.count_nonzero(model.coef_[:, elsewhere]) > 30  # not stored, yet not zero
    _without_the_skip(monkeypatch)
    _same_bits(model, train())
    monkeypatch.setattr(_kernel, "ENABLED", False)
    same_model(model, train())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_statistics_four_rows_at_a_time_are_one_row_at_a_times_to_the_bit(dtype):
    # The statistics' pass takes four rows of positive weight at a time, and a
    # row at a time next to a row of weight 0. Rows of weight 0 left out of X
    # make other groups of four of the same rows, in the same order: the same
    # range, sums and deviations, to the bit (one block: the same merges; no
    # unit changes, so the range's read of X gives the sums).
    # Signed zeros: np.minimum's order keeps the first of equal values.
    rng = np.random.RandomState(0)
    X = rng.uniform(-0.7, 0.7, (103, 9))
    X[50] = 0.75  # each column's unit 1, as at the start: no sum taken again
    X[:, 2], X[:, 3] = -0.0, 0.0
    X[1, 2], X[1, 3] = 0.0, -0.0  # the first row of positive weight
    X = X.astype(dtype)
    weights = rng.uniform(0.5, 2.0, 103).astype(dtype)
    weights[[0, 6, 7, 21, 51, 52, 53, 101]] = 0.0
    kept = weights > 0
    unit, none = np.array(2.0), np.empty(0)
    whole = _statistics_passes.column_statistics(X, weights, unit, 1000, none, none, none)
    compact = _statistics_passes.column_statistics(
        X[kept], weights[kept], unit, 1000, none, none, none
    )
    for a, b in zip(whole, compact, strict=True):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
    low, high, units = whole[:3]
    assert_array_equal(units, 1.0)
    assert_array_equal(low[4:], X[kept][:, 4:].min(axis=0))
    assert_array_equal(high[4:], X[kept][:, 4:].max(axis=0))
    assert not np.signbit(low[2]) and not np.signbit(high[2])  # 0.0 met first: [0, 0]
    assert np.signbit(low[3]) and np.signbit(high[3])  # -0.0 met first


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [8, 40])
def test_the_statistics_one_read_of_a_block_keeps_two_passes_accuracy(
    dtype, n_features, monkeypatch
):
    # After the first block, each block of X is read once: its deviations from
    # the running mean and their squares are summed, and the block's own
    # squared deviations are their difference, which cancels where the block's
    # mean lies far from the running one beside its spread. Such columns are
    # taken again in two passes, column by column, or the whole block where
    # they are many (8 columns): the deviations stay within a few roundings of
    # the exact ones, as the numpy path's two passes (without them, 1e-11 off
    # on the column whose first block weighs almost nothing).
    rng = np.random.RandomState(0)
    n = 4000
    X = rng.standard_normal((n, n_features)) + 3.0
    X[:100, 3] += 1e3  # the first block far away, at a weight of 1e-9
    X[:, 4] = np.sort(X[:, 4])
    X[:, 5] = np.repeat(rng.standard_normal(n // 200), 200)  # constant on each block
    X[:, 6] = np.arange(n) >= n // 2  # two levels, sorted
    X[:, 7] = np.linspace(0.0, 1.0, n) + 1e-9 * rng.standard_normal(n)
    # each column's largest magnitude in the first block: no block changes its
    # unit, which would have it summed in two passes
    X[0] = 1.5 * np.abs(X).max(axis=0)
    X = X.astype(dtype)
    weights = rng.uniform(0.5, 2.0, n)
    weights[:100] = 1e-9
    monkeypatch.setattr(_standardize, "_BLOCK_ELEMENTS", n_features * 100)  # 100 rows a block
    mean, std, _ = _standardize._stats_of(X, weights)
    exact_X, exact_weights = X.astype(np.longdouble), weights.astype(np.longdouble)
    exact_mean = exact_X.T @ exact_weights / exact_weights.sum()
    exact_var = ((exact_X - exact_mean) ** 2).T @ exact_weights / exact_weights.sum()
    assert_allclose(mean, exact_mean.astype(np.float64), rtol=1e-14)
    assert_allclose(std, np.sqrt(exact_var).astype(np.float64), rtol=1e-14)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy_mean, numpy_std, _ = _standardize._stats_of(X, weights)
    assert_allclose(std, numpy_std, rtol=1e-14)
    assert_allclose(mean, numpy_mean, rtol=1e-14)


@pytest.mark.parametrize(
    "case", ["first block far, weighed little", "levels stepping up", "a rate falling"]
)
def test_the_statistics_one_read_of_a_block_stays_accurate_on_discrete_columns(case):
    # A review's cases, at the default blocks (8 columns: 16,384 rows a block).
    # Discrete values (indicators, small integers) about a running mean they
    # do not share round the same way row after row, and the block's squared
    # deviations, a difference, multiply that rounding: 5e-12 of the deviation
    # where the difference had to keep 1/16 of the sum of squares (the first
    # case), 6e-14 where it keeps half but the block's 16,384 rows are summed
    # in one run (the third); with both half and parts of 128 rows, within a
    # few roundings of the exact moments.
    rng = np.random.RandomState(1)
    n_features = 8
    block = _standardize._BLOCK_ELEMENTS // n_features
    if case == "first block far, weighed little":
        X = (rng.uniform(size=(2 * block + 7, n_features)) < 0.5).astype(float)
        weights = np.ones(len(X))
        # the first block's mean 0.95 or 3.8 deviations off the others' (the
        # second passes half's test, the first 1/16's), at a weight of 1e-3
        X[:block, :4] = 0.5 + 0.95 * 0.5 + 1e-3 * rng.standard_normal((block, 4))
        X[:block, 4:] = 0.5 + 3.8 * 0.5 + 1e-3 * rng.standard_normal((block, 4))
        weights[:block] = 1e-3
    else:
        X = np.empty((12 * block, n_features))
        for b in range(12):
            rows = slice(b * block, (b + 1) * block)
            if case == "levels stepping up":  # integers 0 to 6, the level up every block
                X[rows] = (0 if b == 0 else 6 + b) + rng.randint(0, 7, (block, n_features))
            else:  # indicators at a rate of 1/2 on the first block, 1/4 after
                X[rows] = rng.uniform(size=(block, n_features)) < (0.5 if b == 0 else 0.25)
        weights = np.ones(len(X))
    X[0] = 1.5 * np.abs(X).max(axis=0)  # no block changes a unit
    mean, std, _ = _standardize._stats_of(X, weights)
    exact_X, exact_weights = X.astype(np.longdouble), weights.astype(np.longdouble)
    exact_mean = exact_X.T @ exact_weights / exact_weights.sum()
    exact_var = ((exact_X - exact_mean) ** 2).T @ exact_weights / exact_weights.sum()
    exact_std = np.sqrt(exact_var).astype(np.float64)
    assert_allclose(std, exact_std, rtol=2e-14)
    assert_allclose(mean, exact_mean.astype(np.float64), rtol=0, atol=2e-14 * exact_std.min())


@pytest.mark.parametrize("weight", [0.1, 0.7, 1 / 3])
def test_the_statistics_one_read_sums_a_blocks_weights_by_parts_too(weight):
    # A block's mean off the running one is its deviations' sum over its
    # weight; equal weights that round alike, summed in one run of 131,072 rows
    # (one column a block), took that mean 2e-12 of the deviation off.
    rng = np.random.RandomState(0)
    block = _standardize._BLOCK_ELEMENTS
    X = rng.randint(0, 10, (2 * block + 3, 1)).astype(float)
    X[:block] += 0.99 * 2.87  # the first block's mean about a deviation off, weighed little
    X[0] = 20.0  # no block changes a unit
    weights = np.full(len(X), weight)
    weights[:block] = 1e-9
    mean, std, _ = _standardize._stats_of(X, weights)
    exact_X, exact_weights = X.astype(np.longdouble), weights.astype(np.longdouble)
    exact_mean = exact_X.T @ exact_weights / exact_weights.sum()
    exact_std = np.sqrt(((exact_X - exact_mean) ** 2).T @ exact_weights / exact_weights.sum())
    assert_allclose(mean, exact_mean.astype(np.float64), rtol=0, atol=2e-14 * float(exact_std[0]))
    assert_allclose(std, exact_std.astype(np.float64), rtol=2e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", [8, 9, 10, 11, 40])
def test_the_statistics_range_keeps_a_nan_on_any_row_of_four(dtype, row):
    # The range of four rows at a time is taken by selects, which pass a NaN
    # by; a NaN on a row of positive weight makes the block's sum NaN, and
    # the block's range is then taken again as np.minimum takes it: NaN.
    rng = np.random.RandomState(1)
    X = rng.standard_normal((45, 6)).astype(dtype)
    X[row, 4] = np.nan
    weights = np.ones(45, dtype)
    unit, none = np.array(1.0), np.empty(0)
    for block_rows in [1000, 16]:
        low, high = _statistics_passes.column_statistics(
            X, weights, unit, block_rows, none, none, none
        )[:2]
        assert np.isnan(low[4]) and np.isnan(high[4])
        others = [0, 1, 2, 3, 5]
        assert_array_equal(low[others], X[:, others].min(axis=0))
        assert_array_equal(high[others], X[:, others].max(axis=0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows", [1, 4, 13])
def test_the_power_iterations_four_rows_at_a_time_add_each_row_in_turn(dtype, n_rows):
    # The compiled power iteration takes four rows at a time, each row's
    # product its own sum and the rows added one by one, in order. Rows of
    # weight 0 put in front shift the groups of four but add exact zeros:
    # the same eigenvalue, to the bit.
    from skgd import _curvature_passes

    rng = np.random.RandomState(2)
    X = (rng.standard_normal((n_rows, 37)) * rng.uniform(0.1, 10.0, 37) + 3.0).astype(dtype)
    weights = rng.uniform(0.5, 2.0, n_rows)
    weights /= weights.sum()
    mean, scale = X.mean(axis=0).astype(np.float64), X.std(axis=0).astype(np.float64) + 0.5
    lam = _curvature_passes.gram_power_iteration(X, weights, mean, scale, True, 20)
    for front in [1, 2, 3]:
        shifted = np.concatenate([np.repeat(X[:1] * 7, front, axis=0), X])
        shifted_weights = np.concatenate([np.zeros(front), weights])
        again = _curvature_passes.gram_power_iteration(
            shifted, shifted_weights, mean, scale, True, 20
        )
        assert np.float64(again).tobytes() == np.float64(lam).tobytes()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lazy_sgd_writes_v_into_the_start_array_and_keeps_vs_array_as_start(dtype, monkeypatch):
    # Once the write-back visits only X's columns, lazy SGD writes V as the
    # epoch leaves it into the start array the loop gave, which becomes V;
    # V's array, left alone, holds the epoch's start. No array is ever both
    # V and a start the loop keeps; the penalty of V as found is the sum the
    # last write-back took. The same model to the bit as copying V over.
    rng = np.random.RandomState(7)
    X = _hashed(rng, 600, 4000).astype(dtype)
    y = rng.randint(4, size=600)
    params = dict(optimizer="sgd", alpha=1e-3, batch_size=16, tol=None, max_iter=9)
    swapped, run = [], _kernel.Plan.run

    def watched(plan, state, *args):
        start, V = args[-1], state.V
        assert start is not V
        before = V.copy()
        result = run(plan, state, *args)
        swapped.append(state.V is start)
        if swapped[-1]:
            assert_array_equal(V, before)  # not written: the epoch's start
            expected = plan.objective.penalty(before)
            assert result[1] == pytest.approx(expected, rel=1e-12 if dtype == np.float64 else 1e-6)
        return result

    monkeypatch.setattr(_kernel.Plan, "run", watched)
    fast = GDClassifier(**params, random_state=0).fit(X, y)
    assert not swapped[0] and all(swapped[1:])  # (from the second: see the test above)

    def copied(plan, *args):
        plan.swaps = False
        return run(plan, *args)

    monkeypatch.setattr(_kernel.Plan, "run", copied)
    _same_bits(fast, GDClassifier(**params, random_state=0).fit(X, y))


def _text_with_stop_words(n_rows, n_features, frequent, n_classes, seed):
    """Sparse rows of a few columns, plus ``frequent`` columns held by most rows (stop words)."""
    rng = np.random.RandomState(seed)
    X = sparse.random(n_rows, n_features, density=0.02, random_state=rng).toarray()
    columns = rng.choice(n_features, frequent, replace=False)
    for j in columns:  # in 60-90% of the rows, values about 1: the mean outweighs the spread
        held = rng.rand(n_rows) < rng.uniform(0.6, 0.9)
        X[:, j] = np.where(held, rng.uniform(0.8, 1.5, n_rows), 0.0)
    X = sparse.csr_matrix(X)
    scores = X @ rng.standard_normal((n_features, n_classes)) + rng.standard_normal(n_classes)
    return X, np.argmax(scores + 0.3 * rng.standard_normal(scores.shape), axis=1), columns


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("frequent", [1, 3])
def test_sparse_centred_columns_train_lazily_as_the_numpy_path(
    optimizer, n_classes, frequent, monkeypatch
):
    # A column in most rows (a stop word) is centred: in standardized
    # coordinates it is non-zero in every row. The lazy kernels read and
    # move it at every batch, every other column only where a batch holds
    # it: the numpy path's model, through stages of the adaptive schedule,
    # with weights; not the epoch that updates every coefficient.
    X, y, columns = _text_with_stop_words(300, 400, frequent, n_classes, seed=frequent)
    weights = np.random.RandomState(5).uniform(0.2, 3.0, len(y))
    params = dict(optimizer=optimizer, alpha=1e-3, batch_size=16, tol=1e-4, max_iter=30)
    tables, table = [], _kernel.Plan._table
    monkeypatch.setattr(_kernel.Plan, "_table", lambda *a: tables.append(table(*a)) or tables[-1])
    monkeypatch.setattr(_kernel, "_sparse_epoch", None)  # not the path of every column
    compiled, numpy = both_paths(
        lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch, sample_weight=weights
    )
    assert tables  # the lazy path
    assert compiled.n_iter_ > 5
    same_model(compiled, numpy)


def test_the_centred_columns_are_the_frequent_ones(monkeypatch):
    # (what the test above takes for granted: its frequent columns, and only
    # those, are centred, so the lazy kernels see them)
    X, y, columns = _text_with_stop_words(300, 400, 3, 2, seed=3)
    centred = []
    real = _kernel.Plan._centred
    monkeypatch.setattr(_kernel.Plan, "_centred", lambda p: centred.append(real(p)) or centred[-1])
    GDClassifier(optimizer="sgd", max_iter=2, tol=None, random_state=0).fit(X, y)
    assert centred and all(set(c[0]) == set(columns) for c in centred)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_many_centred_columns_lazy_for_sgd_dense_for_momentum(optimizer, monkeypatch):
    # Beyond _CENTRED_SHARE of the columns centred, lazy momentum gives way
    # to the epoch that updates every coefficient (quicker on such dense
    # batches); plain SGD stays lazy. Either way the numpy path's model.
    X, y, columns = _text_with_stop_words(200, 60, 12, 3, seed=7)
    tables, table = [], _kernel.Plan._table
    monkeypatch.setattr(_kernel.Plan, "_table", lambda *a: tables.append(table(*a)) or tables[-1])
    params = dict(optimizer=optimizer, alpha=1e-3, batch_size=16, tol=None, max_iter=4)
    compiled, numpy = both_paths(lambda: GDClassifier(**params, random_state=0), X, y, monkeypatch)
    assert bool(tables) == (optimizer == "sgd")
    same_model(compiled, numpy)


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_a_streams_centred_column_its_call_does_not_store_still_moves(optimizer, monkeypatch):
    # A stream's centring comes from all its calls: a one-row call whose row
    # lacks a centred column still moves it (the row's value there is
    # -mean / scale), from a row of the lazy table the call gives it.
    X, y, columns = _text_with_stop_words(300, 2000, 2, 2, seed=11)
    assert any(not set(columns) <= set(X[i].indices) for i in range(100, 300))
    tables, table = [], _kernel.Plan._table
    monkeypatch.setattr(_kernel.Plan, "_table", lambda *a: tables.append(table(*a)) or tables[-1])
    models = _one_row_streams_both_paths(X, y, optimizer, monkeypatch)
    assert len(tables) >= 201  # the lazy path, each call
    assert_allclose(
        models[0].coef_, models[1].coef_, rtol=1e-9, atol=1e-9 * np.abs(models[1].coef_).max()
    )
    assert_allclose(models[0].intercept_, models[1].intercept_, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("started", [False, True])
def test_a_streams_walk_in_one_pass_as_on_the_numpy_path(dtype, started, monkeypatch):
    rng = np.random.RandomState(0)
    V, V_start = rng.normal(size=(2, 3, 1000)).astype(dtype)
    c, c_start = rng.normal(size=(2, 3)).astype(dtype)
    walk = rng.normal(size=3003) if started else None
    compiled = _passes.walked(V, V_start, c, c_start, walk)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = _passes.walked(V, V_start, c, c_start, walk)
    assert compiled[0].dtype == numpy[0].dtype == np.float64
    # (both subtract in float64, float32 parameters too: the same walk to the bit)
    assert_array_equal(compiled[0], numpy[0])
    assert_allclose(compiled[1:], numpy[1:], rtol=1e-12)
    if walk is not None:  # (the walk before the call is the model's: a new array)
        assert not np.shares_memory(compiled[0], walk)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("started", [False, True])
def test_a_wide_streams_walk_is_a_sketch_as_on_the_numpy_path(dtype, started, monkeypatch):
    # Past _SKETCHED_PAST parameters the walk is a count sketch, as long on both
    # paths and the same to the bit (each sum takes its moves in the same order).
    # (The threshold lowered, for arrays of a test's size.)
    monkeypatch.setattr(_passes, "_SKETCHED_PAST", _passes.WALK_SKETCH)
    rng = np.random.RandomState(0)
    n_features = _passes.WALK_SKETCH // 2 + 1000  # (three outputs: past the sketch's length)
    V, V_start = rng.normal(size=(2, 3, n_features)).astype(dtype)
    c, c_start = rng.normal(size=(2, 3)).astype(dtype)
    walk = rng.normal(size=_passes.WALK_SKETCH) if started else None
    compiled = _passes.walked(V, V_start, c, c_start, walk)
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = _passes.walked(V, V_start, c, c_start, walk)
    assert compiled[0].shape == numpy[0].shape == (_passes.WALK_SKETCH,)
    assert_array_equal(compiled[0], numpy[0])
    assert_allclose(compiled[1:], numpy[1:], rtol=1e-12)
    move = np.concatenate([(V.astype(float) - V_start).ravel(), c.astype(float) - c_start])
    assert_allclose(compiled[1], move @ move, rtol=1e-12)  # |move|²: exact
    if walk is not None:
        assert not np.shares_memory(compiled[0], walk)


def test_a_walk_is_sketched_past_two_million_parameters_alone():
    # Below, the whole walk's passes (in cache) were quicker than the sketch's
    assert _passes.walk_size(5 * 2**18 + 5) == 5 * 2**18 + 5
    assert _passes.walk_size(5 * 2**20 + 5) == _passes.WALK_SKETCH
    # The hash of each parameter's sign is part of a pickled stream's walk: a
    # stream saved by one version goes on in another only with the same signs
    signs = _passes.walk_signs(2**20 + 12)
    assert signs[:12].tolist() == [1, 1, 1, -1, 1, -1, 1, 1, 1, -1, -1, -1]
    assert signs[-12:].tolist() == [-1, -1, 1, -1, 1, -1, 1, -1, 1, 1, -1, 1]


@pytest.mark.parametrize("walk_kind", ["random", "outputs apart", "all alike", "intercepts"])
def test_a_sketched_walks_length_is_the_walks_within_a_few_percent(walk_kind, monkeypatch):
    # |D|² from the sketch, against the sum of the moves kept whole: the
    # stream's thresholds are 2 and 16 times apart. The outputs of a softmax
    # move apart on the same columns (their gradients sum to 0), and 2**20
    # columns put each column's outputs in one sum of a sketch of 2**16:
    # an odd length and a sign by parameter, not by stretch, keep them from
    # adding up or cancelling; a move alike on every parameter (an L2
    # shrink) sums 80 of them into each sum, whose signs must cancel; the
    # intercepts' moves count too.
    monkeypatch.setattr(_passes, "_SKETCHED_PAST", _passes.WALK_SKETCH)
    rng = np.random.RandomState(1)
    n_outputs, n_features = 5, 2**20
    V_start, walk, total = np.zeros((n_outputs, n_features)), None, 0.0
    c_start, c_total = np.zeros(n_outputs), 0.0
    for _ in range(3):
        move, c_move = rng.standard_t(3, size=(n_outputs, n_features)), np.zeros(n_outputs)
        if walk_kind == "outputs apart":
            move = np.outer(np.arange(n_outputs) - 2.0, move[0])  # (rows summing to 0)
        elif walk_kind == "all alike":
            move = np.full((n_outputs, n_features), rng.uniform(0.5, 1.0))
        elif walk_kind == "intercepts":
            move, c_move = np.zeros((n_outputs, n_features)), rng.normal(size=n_outputs)
        walk, _, estimate = _passes.walked(V_start + move, V_start, c_start + c_move, c_start, walk)
        total, c_total = total + move, c_total + c_move
        exact = (total**2).sum() + (c_total**2).sum()
        assert estimate == pytest.approx(exact, rel=0.03)


def test_a_wide_streams_step_keeps_a_sketch_not_the_sum_of_its_moves(monkeypatch):
    # A stream past _SKETCHED_PAST coefficients (here lowered: 2**17 columns, 5
    # classes, 655,360) kept their whole sum, as large as the model (and in its
    # pickle); its sketch is WALK_SKETCH values. A walk kept whole before
    # (another length) restarts the phase, as a walk of another model does.
    monkeypatch.setattr(_passes, "_SKETCHED_PAST", _passes.WALK_SKETCH)
    rng = np.random.RandomState(3)
    y = rng.randint(5, size=1000)
    columns = rng.randint(2**17, size=(1000, 20))
    columns[:, :5] = y[:, None] * 7 + np.arange(5)  # (a class's own words)
    X = sparse.csr_matrix(
        (np.ones(20000), columns.ravel(), np.arange(0, 20001, 20)), shape=(1000, 2**17)
    )
    X.sum_duplicates()
    model = GDClassifier(random_state=0)
    for start in range(0, 1000, 200):
        model.partial_fit(X[start : start + 200], y[start : start + 200], classes=np.arange(5))
    assert model._stream_step[3].shape == (_passes.WALK_SKETCH,)
    from skgd._stream_steps import StreamStep

    V, V_start = np.ones((5, 2**17)), np.zeros((5, 2**17))
    c = np.zeros(5)
    whole, fresh = StreamStep(walk=np.ones(5 * 2**17 + 5)), StreamStep()
    for step in (whole, fresh):
        step.observe(V, V_start, c, c, 100)
    assert_array_equal(whole.walk, fresh.walk)
    assert whole.walk.shape == (_passes.WALK_SKETCH,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_streams_schedule_on_both_paths_of_its_walk(regression, dtype, monkeypatch):
    X, y = regression
    X = X.astype(dtype)

    def stream():
        model = GDRegressor(random_state=0)
        for start in range(0, len(y), 5):
            model.partial_fit(X[start : start + 5], y[start : start + 5])
        return model

    compiled = stream()
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = stream()
    assert compiled._stream_step[0] == numpy._stream_step[0] < 1  # the step shrank alike
    same_model(compiled, numpy, rtol=1e-7 if dtype == np.float64 else 1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_classes", [2, 3, 9])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("average", [True, 1000])
def test_lazy_sgd_averages_as_the_numpy_path(n_classes, dtype, average, monkeypatch):
    # Averaged SGD on sparse X is lazy (scikit-learn's trick on sparse X): a
    # column's sum of iterates is held apart from U times the sum of the scales,
    # and a step that moves U takes its share off first; a column without a row
    # follows the shrinks; the sums join V_average at each epoch's end. The
    # numpy path adds every iterate at every batch: the same model to rounding.
    # Tables of 4, 8 and 24 values a row, a centred column (moved every batch),
    # weights with zeros, a column no row stores; the average from the start or
    # from its 1000th sample (a third into the fourth epoch), and warm-started on.
    X, y, weights = _centred_sparse_classes(5, dtype, n_classes)
    ran = _spy_lazy_sgd(monkeypatch)
    params = dict(optimizer="sgd", average=average, alpha=3e-3, batch_size=16, max_iter=8)

    def make():
        return GDClassifier(**params, tol=None, warm_start=True, random_state=0)

    def fit_twice(model):
        model.fit(X, y, sample_weight=weights)
        return model.set_params(max_iter=3).fit(X, y, sample_weight=weights)

    compiled = fit_twice(make())
    assert len(ran) == 11  # every epoch lazy
    monkeypatch.setattr(_kernel, "ENABLED", False)
    numpy = fit_twice(make())
    # (float32: the numpy path rounds V to float32 at each batch, the table at the end)
    same_model(compiled, numpy, rtol=1e-7 if dtype == np.float64 else 1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lazy_sgds_average_survives_the_scale_taken_into_the_table(monkeypatch):
    # Under a strong L2 the scale V = scale * U falls below 1e-4 (the bound while
    # averaging) within an epoch and is taken into U: the sums of iterates so far
    # go into the held sums first, in the units U had (without, the average ends
    # far from the numpy path's), and the scales' sum starts again from 0.
    params = dict(optimizer="sgd", alpha=1.0, average=True, batch_size=1, max_iter=2)
    params.update(tol=None, schedule="constant", learning_rate=0.9)
    models, ran = _strong_l2_both_paths(params, monkeypatch)
    assert len(ran) == 2  # (both epochs lazy)
    same_model(*models, rtol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_a_sparse_streams_lazy_average_follows_the_columns_a_call_does_not_store(
    n_classes, monkeypatch
):
    # A stream's call has table rows for its own rows' columns only: the others
    # were only shrunk by its steps, and their sum of iterates is V's value
    # times the sum of the shrinks. Calls of 60 rows, each missing a third of
    # the columns the first stored, the average from the second call's middle.
    rng = np.random.RandomState(6)
    X = sparse.random(300, 45, density=0.15, random_state=rng, format="csr")
    X.data *= rng.uniform(0.5, 3.0, X.nnz)
    y = np.digitize(X @ rng.standard_normal(45), np.linspace(-1, 1, n_classes - 1))
    chunks = []
    for start in range(0, 300, 60):
        chunk = X[start : start + 60].tolil()
        chunk[:, (start // 60) % 3 :: 3] = 0.0
        chunks.append(chunk.tocsr())
    chunks[0] = X[:60]
    stored = [np.unique(chunk.indices).size for chunk in chunks]
    assert stored[0] > 40 and max(stored[1:]) <= 30  # (the calls after the first, a third fewer)
    ran = _spy_lazy_sgd(monkeypatch)
    models = []
    for enabled in [True, False]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_kernel, "ENABLED", enabled)
            model = GDClassifier(optimizer="sgd", average=90, alpha=1e-2, random_state=0)
            for start, chunk in zip(range(0, 300, 60), chunks, strict=True):
                model.partial_fit(chunk, y[start : start + 60], classes=np.arange(n_classes))
            models.append(model)
    assert len(ran) == 5  # (every call lazy)
    scale = np.abs(models[1].coef_).max()
    assert_allclose(models[0].coef_, models[1].coef_, rtol=1e-7, atol=1e-7 * scale)
    assert_allclose(models[0].intercept_, models[1].intercept_, rtol=1e-7, atol=1e-7 * scale)
