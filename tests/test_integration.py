"""skgd inside scikit-learn's tools: pipelines, cross-validation, grid search, pickle."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, load_iris, make_regression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd.losses import Huber, Loss
from skgd.optim import Adam


def test_the_readme_pipelines():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()  # Huber's delta is in units of y
    reg = make_pipeline(
        StandardScaler(), GDRegressor(loss=Huber(delta=1.0), learning_rate=0.01, random_state=0)
    )
    assert reg.fit(X, y).score(X, y) > 0.98
    X, labels = load_iris(return_X_y=True)
    clf = make_pipeline(StandardScaler(), GDClassifier(loss="log_loss", random_state=0))
    clf.fit(X, labels)
    assert clf.score(X, labels) > 0.9


def test_cross_validate_with_macro_precision_and_recall():
    X, y = load_digits(return_X_y=True)
    scoring = ["precision_macro", "recall_macro"]
    gd = cross_validate(
        make_pipeline(StandardScaler(), GDClassifier(random_state=0)), X, y, cv=3, scoring=scoring
    )
    exact = cross_validate(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        X,
        y,
        cv=3,
        scoring=scoring,
    )
    for metric in scoring:
        assert gd[f"test_{metric}"].mean() > exact[f"test_{metric}"].mean() - 0.02
        assert np.all(gd[f"test_{metric}"] > 0.85)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_the_learning_rate(n_jobs):
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GDClassifier(max_iter=20, tol=None, random_state=0)),
        {"gdclassifier__learning_rate": [1e-4, 0.1]},
        cv=3,
        n_jobs=n_jobs,
    ).fit(X, y)
    # Twenty full-batch steps of 1e-4 barely leave the random start.
    assert search.best_params_ == {"gdclassifier__learning_rate": 0.1}
    means = search.cv_results_["mean_test_score"]
    assert means[1] > means[0] + 0.1


def test_grid_search_reaches_loss_and_optimizer_hyper_parameters():
    X, y = make_regression(n_samples=120, n_features=3, noise=5.0, random_state=0)
    search = GridSearchCV(
        GDRegressor(loss=Huber(), optimizer=Adam(), max_iter=50, random_state=0),
        {"loss__delta": [0.5, 5.0], "optimizer__beta_1": [0.5, 0.9]},
        cv=2,
    ).fit(X, y)
    assert set(search.best_params_) == {"loss__delta", "optimizer__beta_1"}
    assert isinstance(search.best_estimator_.loss, Huber)
    assert search.best_estimator_.loss.delta == search.best_params_["loss__delta"]


class Cubic(Loss):
    """A user's loss, defined at module level so that it pickles."""

    def loss(self, y_true, raw_prediction):
        return np.abs(raw_prediction - y_true) ** 3 / 3

    def gradient(self, y_true, raw_prediction):
        r = raw_prediction - y_true
        return r * np.abs(r)


@pytest.mark.parametrize(
    "estimator",
    [GDRegressor(loss=Cubic(), random_state=0), GDClassifier(optimizer=Adam(), random_state=0)],
    ids=["user-loss-regressor", "adam-classifier"],
)
def test_pickle_round_trip_keeps_predictions_and_training_state(estimator):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    unfitted = pickle.loads(pickle.dumps(estimator))
    assert unfitted.get_params()["random_state"] == 0
    fitted = estimator.fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict(X), fitted.predict(X))
    # Training goes on from the same state in both.
    fitted.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert_array_equal(restored.coef_, fitted.coef_)


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
def test_same_random_state_same_model_and_another_one_differs(Estimator):
    X, y = load_iris(return_X_y=True)
    params = dict(batch_size=16, max_iter=5, tol=None)
    first = Estimator(random_state=3, **params).fit(X, y)
    again = Estimator(random_state=3, **params).fit(X, y)
    other = Estimator(random_state=4, **params).fit(X, y)
    assert_array_equal(first.coef_, again.coef_)
    assert_array_equal(first.intercept_, again.intercept_)
    assert not np.allclose(first.coef_, other.coef_)


def test_feature_names_are_recorded_and_checked():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = GDClassifier(max_iter=5, tol=None).fit(X, y)
    assert_array_equal(clf.feature_names_in_, X.columns)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X.to_numpy())
    renamed = X.rename(columns=lambda name: name.upper())
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)
    assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert isinstance(X, pd.DataFrame)
