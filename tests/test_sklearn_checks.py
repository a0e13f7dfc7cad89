"""scikit-learn's own estimator checks, on the configurations users run."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDClassifier, GDRegressor
from skgd.utils import expected_failed_checks

CONFIGURATIONS = [
    {},
    {"optimizer": "adam"},
    {"penalty": "elasticnet"},
    {"early_stopping": True},
]


@parametrize_with_checks(
    [Estimator(**params) for Estimator in (GDRegressor, GDClassifier) for params in CONFIGURATIONS],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
