"""Small helpers that have no better home."""

from sklearn.utils import get_tags

__all__ = ["expected_failed_checks"]


def expected_failed_checks(estimator):
    """The scikit-learn estimator checks that an skgd estimator is known to fail.

    Passed to :func:`sklearn.utils.estimator_checks.parametrize_with_checks`
    and :func:`~sklearn.utils.estimator_checks.check_estimator`, so that a
    known failure is declared with its reason in one place instead of being
    skipped silently. It covers the estimators that standardize (the
    default). With ``standardize=False``, ``learning_rate`` is a step in
    X's units, and whether a check's fits train or diverge depends on it
    and on the check's data: nothing is declared for them
    (``GDRegressor(standardize=False)`` fails 28 of 62 checks at the
    default ``learning_rate``, 3 at ``1e-3``).

    Parameters
    ----------
    estimator : estimator instance
        The estimator being checked.

    Returns
    -------
    failures : dict
        Check name -> reason. Empty for most configurations that
        standardize: every check passes. An integer ``batch_size`` fails
        the sample-weight equivalence checks wherever it is smaller than
        their data, as minibatch SGD does; Poisson's positive targets fail
        ``check_regressor_multioutput``, whose y has negative values.

    Examples
    --------
    >>> from skgd import GDRegressor
    >>> from skgd.utils import expected_failed_checks
    >>> expected_failed_checks(GDRegressor())
    {}
    >>> list(expected_failed_checks(GDRegressor(loss="poisson")))
    ['check_regressor_multioutput']
    >>> sorted(expected_failed_checks(GDRegressor(batch_size=8)))  # doctest: +NORMALIZE_WHITESPACE
    ['check_sample_weight_equivalence_on_dense_data',
     'check_sample_weight_equivalence_on_sparse_data']
    """
    failures = {}
    batch_size = estimator.get_params().get("batch_size", "auto")
    if batch_size != "auto":
        # "auto" is the whole data up to 64 rows: the checks' 15 weighted rows
        # and their repeats are each one exact batch, and the check passes.
        reason = (
            f"batch_size={batch_size} is smaller than the check's data (15 rows, about "
            "30 once repeated by their integer weights): minibatches draw a weighted "
            "row once an epoch but its repeats in several batches, so the updates "
            "differ, as in scikit-learn's SGD"
        )
        for check in ("dense", "sparse"):
            failures[f"check_sample_weight_equivalence_on_{check}_data"] = reason
    tags = get_tags(estimator)
    if tags.target_tags.positive_only and tags.target_tags.multi_output:
        failures["check_regressor_multioutput"] = (
            "the check trains on make_regression's multi-output y, negative values "
            "included, without making it positive as the positive_only tag asks "
            "(it does not call _enforce_estimator_tags_y, as the other checks do); "
            "the loss rejects negative targets"
        )
    return failures
