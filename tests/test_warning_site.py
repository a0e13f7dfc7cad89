"""skgd's warnings point at the user's line, on every path a fit takes.

A warning shows its file and line: pointing into skgd (``skgd/_regressor.py:413:
ConvergenceWarning``), it did not tell which of a user's fits it was about.
"""

import warnings

import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd.losses import EpsilonInsensitive


def _sites(category, call):
    """The (file, line) of each warning of ``category`` that ``call()`` gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    sites = [(w.filename, w.lineno) for w in caught if issubclass(w.category, category)]
    assert sites, f"no {category.__name__}"
    return sites


def _line_of(text):
    """The line number of this file's line holding ``text``."""
    with open(__file__) as source:
        return next(
            n for n, line in enumerate(source, 1) if text in line and "_line_of" not in line
        )


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def test_a_fits_convergence_warning_points_at_the_fit_call(diabetes):
    X, y = diabetes
    model = GDRegressor(max_iter=2, random_state=0)
    sites = _sites(ConvergenceWarning, lambda: model.fit(X, y))  # the fit call
    assert set(sites) == {(__file__, _line_of("lambda: model.fit(X, y))  # the fit call"))}


def test_a_classifiers_warning_points_at_its_fit_call(diabetes):
    X, y = diabetes
    labels = (y > 140).astype(int)
    model = GDClassifier(max_iter=2, random_state=0)
    sites = _sites(ConvergenceWarning, lambda: model.fit(X, labels))  # classifier
    assert set(sites) == {(__file__, _line_of("model.fit(X, labels))  # classifier"))}


@pytest.mark.parametrize("through", ["pipeline", "cross_validate", "grid_search"], ids=lambda t: t)
def test_a_warning_through_scikit_learns_tools_points_at_the_users_call(diabetes, through):
    X, y = diabetes
    pipeline = make_pipeline(StandardScaler(), GDRegressor(max_iter=2, random_state=0))
    calls = {
        "pipeline": lambda: pipeline.fit(X, y),
        "cross_validate": lambda: cross_validate(pipeline, X, y, cv=2),
        "grid_search": lambda: GridSearchCV(
            pipeline, {"gdregressor__learning_rate": [0.1, 0.3]}, cv=2
        ).fit(X, y),
    }
    sites = _sites(ConvergenceWarning, calls[through])
    assert {site[0] for site in sites} == {__file__}


def test_a_data_warning_points_at_the_fit_call(diabetes):
    X, y = diabetes
    model = GDRegressor(loss=EpsilonInsensitive(epsilon=400.0), random_state=0)
    sites = _sites(UserWarning, lambda: model.fit(X, y))  # flat loss
    assert (__file__, _line_of("model.fit(X, y))  # flat loss")) in sites


def test_a_streams_y_shape_warning_points_at_the_partial_fit_call(diabetes):
    X, y = diabetes
    model = GDRegressor(random_state=0).partial_fit(X[:100], y[:100])
    sites = _sites(DataConversionWarning, lambda: model.partial_fit(X[100:], y[100:, None]))
    assert sites == [(__file__, _line_of("model.partial_fit(X[100:], y[100:, None]))"))]


def test_a_joblib_workers_warning_does_not_point_into_python(diabetes):
    # A worker thread's frames below the fit are Python's own (threading's): the
    # first frame outside skgd was multiprocessing's or threading's (a review)
    import sysconfig

    from joblib import parallel_backend

    X, y = diabetes
    model = GDRegressor(max_iter=2, random_state=0)
    with parallel_backend("threading"):
        sites = _sites(ConvergenceWarning, lambda: cross_validate(model, X, y, cv=2, n_jobs=2))
    standard = sysconfig.get_paths()["stdlib"]
    assert not [f for f, _ in sites if f.startswith(standard) and "-packages" not in f]
