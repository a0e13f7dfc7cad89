"""scikit-learn's own estimator checks, on the configurations users run."""

import pytest
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDClassifier, GDRegressor
from skgd.losses import CosineDistance, L1Distance, Poisson
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


# The losses whose targets are not any float y: their tags tell the checks so
# (Poisson's y is non-negative, the embedding losses' y is 2-D), and the
# losses and arguments that came with scikit-learn SGD parity.
LOSS_CONFIGURATIONS = [
    GDRegressor(loss="poisson"),
    GDRegressor(loss=Poisson(), optimizer="adam"),
    GDRegressor(loss="l1"),
    GDRegressor(loss="l2"),
    GDRegressor(loss="cosine"),
    GDRegressor(loss=L1Distance(), penalty="l1", l1_ratio=None),
    GDRegressor(loss="squared_epsilon_insensitive"),
    GDClassifier(loss="squared_error"),
    GDClassifier(loss="huber", penalty=None, l1_ratio=None),
    GDClassifier(loss="epsilon_insensitive"),
    GDClassifier(loss="squared_epsilon_insensitive"),
]


@parametrize_with_checks(LOSS_CONFIGURATIONS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_for_every_kind_of_target(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator, positive_only, single_output, poor_score",
    [
        (GDRegressor(), False, True, False),
        (GDRegressor(loss="poisson"), True, True, False),
        (GDRegressor(loss=Poisson()), True, True, False),
        (GDRegressor(loss="l1"), False, False, False),
        (GDRegressor(loss="l2"), False, False, False),
        (GDRegressor(loss="cosine"), False, False, True),
        (GDRegressor(loss=CosineDistance()), False, False, True),
        (GDRegressor(loss="not a loss"), False, True, False),  # tags never raise
    ],
    ids=repr,
)
def test_regressor_tags_follow_the_loss(estimator, positive_only, single_output, poor_score):
    tags = get_tags(estimator)
    assert tags.target_tags.positive_only is positive_only
    assert tags.target_tags.single_output is single_output
    assert tags.target_tags.multi_output is True
    assert tags.regressor_tags.poor_score is poor_score


def test_declared_failures_have_reasons_and_are_few():
    for estimator in LOSS_CONFIGURATIONS:
        failures = expected_failed_checks(estimator)
        assert all(isinstance(reason, str) and reason for reason in failures.values())
        positive_multi_output = isinstance(estimator._get_loss(), Poisson)
        assert set(failures) == (
            {"check_regressor_multioutput"} if positive_multi_output else set()
        )
