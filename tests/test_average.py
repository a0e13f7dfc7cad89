"""Averaged SGD: ``average=True | int``, with scikit-learn's meaning."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDClassifier, GDRegressor


@pytest.fixture(scope="module")
def noisy():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2000, 5))
    y = X @ [1.0, 2.0, 3.0, -1.0, 0.5] + 3.0 * rng.standard_normal(2000)
    return X, y


CONSTANT_STEP = dict(schedule="constant", optimizer="sgd", batch_size=8, tol=None)


@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_the_average_of_a_noisy_constant_step_descent_is_closer_to_ridge(noisy, form):
    X, y = noisy
    ridge = Ridge(alpha=1e-4 * len(y)).fit(X, y)
    X = sparse.csr_matrix(X) if form == "sparse" else X

    def error(model):
        return np.abs(model.coef_ - ridge.coef_).max() + np.abs(model.intercept_ - ridge.intercept_)

    last = GDRegressor(**CONSTANT_STEP, max_iter=10, random_state=0).fit(X, y)
    averaged = GDRegressor(**CONSTANT_STEP, max_iter=10, average=True, random_state=0).fit(X, y)
    assert error(averaged) < error(last) / 5
    assert error(averaged) < 0.05


def test_the_average_carries_across_partial_fit_calls(noisy):
    X, y = noisy
    ridge = Ridge(alpha=1e-4 * len(y)).fit(X, y)
    streams = {}
    for average in [False, True]:
        model = GDRegressor(**CONSTANT_STEP, average=average, random_state=0)
        for _ in range(3):
            for chunk in np.array_split(np.arange(len(y)), 20):
                model.partial_fit(X[chunk], y[chunk])
        streams[average] = np.abs(model.coef_ - ridge.coef_).max()
    assert streams[True] < streams[False] / 3


def test_averaging_starts_after_that_many_samples(noisy):
    X, y = noisy
    plain = GDRegressor(**CONSTANT_STEP, max_iter=2, random_state=0).fit(X, y)
    # 2 epochs see 4000 samples: averaging from sample 5000 never starts
    never = GDRegressor(**CONSTANT_STEP, max_iter=2, average=5000, random_state=0).fit(X, y)
    assert_allclose(never.coef_, plain.coef_)
    late = GDRegressor(**CONSTANT_STEP, max_iter=2, average=3000, random_state=0).fit(X, y)
    early = GDRegressor(**CONSTANT_STEP, max_iter=2, average=1, random_state=0).fit(X, y)
    assert not np.allclose(late.coef_, plain.coef_)
    assert not np.allclose(late.coef_, early.coef_)
    # the next call continues the iterate, not the average
    assert_allclose(late.partial_fit(X[: 0 + 8], y[:8])._iterate[0].ravel().shape, (5,))


@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_averaging_that_no_epoch_reaches_trains_as_no_averaging_at_defaults(form):
    # the adaptive schedule's step search, annealing and the lazy sparse path
    # were turned off by any `average`: diabetes trained 28 epochs, not 39
    X, y = load_diabetes(return_X_y=True)
    X = sparse.csr_matrix(X) if form == "sparse" else X
    plain = GDRegressor(random_state=0).fit(X, y)
    never = GDRegressor(average=10**9, random_state=0).fit(X, y)
    assert never.n_iter_ == plain.n_iter_
    assert_allclose(never.coef_, plain.coef_, rtol=1e-9)
    assert never._average[2:] == (0, plain.n_iter_ * len(y))  # its samples still count


def test_averaged_classifier_reaches_logistic_regression(noisy):
    X, y = noisy
    y = (y > 0).astype(int)
    reference = LogisticRegression(C=1 / (1e-4 * len(y))).fit(X, y)
    model = GDClassifier(**CONSTANT_STEP, max_iter=20, average=True, random_state=0).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, atol=0.05 * np.abs(reference.coef_).max())
    assert model.score(X, y) >= reference.score(X, y) - 0.01


@parametrize_with_checks([GDRegressor(average=True), GDClassifier(average=10)])
def test_averaged_estimators_pass_scikit_learn_checks(estimator, check):
    check(estimator)
