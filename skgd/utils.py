"""Small helpers that have no better home."""


def expected_failed_checks(estimator):
    """The scikit-learn estimator checks that an skgd estimator is known to fail.

    Passed to :func:`sklearn.utils.estimator_checks.parametrize_with_checks`
    and :func:`~sklearn.utils.estimator_checks.check_estimator`, so that a
    known failure is declared with its reason in one place instead of being
    skipped silently.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being checked.

    Returns
    -------
    failures : dict
        Check name -> reason. Empty: every check passes.

    Examples
    --------
    >>> from skgd import GDRegressor
    >>> from skgd.utils import expected_failed_checks
    >>> expected_failed_checks(GDRegressor())
    {}
    """
    return {}
