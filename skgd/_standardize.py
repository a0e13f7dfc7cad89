"""The course's first step: standardize X with the training data's statistics.

The estimators never transform X. They keep the weighted mean and variance
of each feature (:class:`FeatureStats`), and the objective trains the
coefficients of the standardized features from them (see
:mod:`skgd._objective`). X is never copied, and sparse X stays sparse.

``fit`` takes the statistics of its data; each ``partial_fit`` call merges
its chunk into running statistics, as ``StandardScaler.partial_fit`` does,
so that the standardization follows a stream.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.preprocessing._data import _is_constant_feature
from sklearn.utils.extmath import _incremental_mean_and_var
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

# Dense statistics are accumulated over blocks of this many rows, in float64,
# so that no temporary the size of X is made (and float32 loses nothing).
_BLOCK_ROWS = 4096


@dataclass(frozen=True)
class FeatureStats:
    """Weighted mean and standard deviation of each feature, and the weight they summarise.

    The standard deviation, not the variance, so that values near the float
    limit keep finite statistics. Frozen: :meth:`update` returns new
    statistics, so a rejected ``partial_fit`` keeps the old ones untouched.
    """

    mean: np.ndarray
    std: np.ndarray
    weight: float

    @classmethod
    def empty(cls, n_features):
        zeros = np.zeros(n_features)
        return cls(zeros, zeros, 0.0)

    def update(self, X, sample_weight):
        """These statistics merged with those of ``X`` (Chan, Golub and LeVeque)."""
        mean, std, weight = _stats_of(X, sample_weight)
        if weight == 0:
            return self
        if self.weight == 0:
            return FeatureStats(mean, std, weight)
        share = weight / (self.weight + weight)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            delta = mean - self.mean
            unit = np.maximum(np.maximum(self.std, std), np.abs(delta))  # no overflow
            unit[unit == 0] = 1.0
            var = (1 - share) * (self.std / unit) ** 2 + share * (std / unit) ** 2
            var += (delta / unit) ** 2 * share * (1 - share)
        return FeatureStats(self.mean + delta * share, unit * np.sqrt(var), self.weight + weight)

    def standardization(self, fit_intercept, dtype):
        """The ``(mean, scale)`` that standardize X, and which features are constant.

        Without an intercept the data cannot be centred (the intercept is
        what absorbs the mean): the mean is 0 and the scale is the root mean
        square. A constant feature (no variance beyond rounding, relative to
        its mean) gets scale 1 and stays at its starting coefficient.
        """
        unit = np.maximum(self.std, np.abs(self.mean))  # the test is scale-free
        unit[unit == 0] = 1.0
        constant = _is_constant_feature(
            (self.std / unit) ** 2, self.mean / unit, max(self.weight, 1.0)
        )
        scale = self.std if fit_intercept else np.hypot(self.std, self.mean)
        if not fit_intercept:
            constant &= self.mean == 0
        scale = np.where(constant | ~np.isfinite(scale) | (scale == 0), 1.0, scale)
        mean = self.mean if fit_intercept else np.zeros_like(self.mean)
        return mean.astype(dtype), scale.astype(dtype), constant


def _stats_of(X, sample_weight):
    """Weighted mean, standard deviation and total weight of the columns of ``X``, in float64.

    Values near the float limit overflow the variance: the same statistics
    are then computed on X / max|X| and scaled back.
    """
    if sparse.issparse(X):
        mean, var = mean_variance_axis(X, axis=0, weights=sample_weight)
        mean, var = mean.astype(np.float64), var.astype(np.float64)
    else:
        n_features = X.shape[1]
        mean, var, weight = np.zeros(n_features), np.zeros(n_features), 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, X.shape[0], _BLOCK_ROWS):
                block = slice(start, start + _BLOCK_ROWS)
                if sample_weight[block].sum() > 0:  # an all-zero block adds nothing
                    mean, var, weight = _incremental_mean_and_var(
                        X[block], mean, var, weight, sample_weight[block].astype(np.float64)
                    )
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        low, high = min_max_axis(X, axis=0) if sparse.issparse(X) else (X.min(0), X.max(0))
        peak = np.maximum(np.abs(low), np.abs(high)).astype(np.float64)
        peak[peak == 0] = 1.0
        scaled = X.multiply(1.0 / peak).tocsr() if sparse.issparse(X) else X / peak
        mean, std, weight = _stats_of(scaled, sample_weight)
        return mean * peak, std * peak, weight
    return mean, np.sqrt(var), float(np.sum(sample_weight, dtype=np.float64))
