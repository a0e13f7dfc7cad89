"""The course's first step: standardize X with the training data's statistics.

The estimators do not transform X; they train the coefficients of the
standardized features, ``V = coef_ * std``, and convert between those and
the coefficients in X's units with the two functions below. X is never
copied, and sparse X stays sparse.
"""

import numpy as np
from scipy import sparse
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis


def standardization(X, sample_weight, fit_intercept, standardize=True):
    """The training data's weighted mean and standard deviation, per feature.

    Also returns which features are constant; their scale is set to 1.
    Without an intercept the data cannot be centred (the intercept is what
    absorbs the mean), so the mean is taken as 0 and only the scale is used.
    Without ``standardize``, mean 0 and scale 1: the descent is on X as it is.
    """
    if not standardize:
        ones = np.ones(X.shape[1], dtype=X.dtype)
        return np.zeros_like(ones), ones, np.zeros(X.shape[1], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        if sparse.issparse(X):
            mean, var = mean_variance_axis(X, axis=0, weights=sample_weight)
            if not fit_intercept:
                var = var + mean**2  # the second moment about 0
        else:
            mean = np.average(X, axis=0, weights=sample_weight)
            centred_at = mean if fit_intercept else 0.0
            var = np.average((X - centred_at) ** 2, axis=0, weights=sample_weight)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        # Values near the float limit overflow the variance: the same
        # statistics, computed on X / max|X| and scaled back.
        low, high = min_max_axis(X, axis=0) if sparse.issparse(X) else (X.min(0), X.max(0))
        peak = np.maximum(np.abs(low), np.abs(high))
        peak[peak == 0] = 1.0
        scaled = X.multiply(1.0 / peak).tocsr() if sparse.issparse(X) else X / peak
        mean, scale, constant = standardization(scaled, sample_weight, fit_intercept)
        return (mean * peak).astype(X.dtype), (scale * peak).astype(X.dtype), constant
    if not fit_intercept:
        mean = np.zeros_like(mean)
    scale = np.sqrt(var)
    # Rounding leaves a tiny spread on a constant feature: treat it as none.
    constant = scale <= 100 * np.finfo(X.dtype).eps * (np.abs(mean) + 1)
    scale[constant] = 1.0
    return mean.astype(X.dtype), scale.astype(X.dtype), constant


def to_standardized(W, b, mean, scale):
    """Coefficients in X's units -> coefficients of the standardized features."""
    V = W * scale
    return V, b + W @ mean


def from_standardized(V, c, mean, scale):
    """Coefficients of the standardized features -> coefficients in X's units."""
    W = V / scale
    return W, c - W @ mean
