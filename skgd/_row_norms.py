"""Each row's squared norm, standardized provisionally, kept by the statistics' pass.

The curvature's step size needs the largest norm of a standardized row, with
the mean and scale the statistics find only at the end of their pass over X.
:class:`RowNorms` lets that pass (:func:`skgd._standardize._stats_of`, on the
compiled path) keep each row's norm under a provisional standardization and
then bounds which rows can hold the largest: a read of X saved. Apart from
:mod:`skgd._standardize` since it serves the curvature
(:mod:`skgd._objective`), not the standardization: the statistics' pass only
fills it on the way.
"""

import numpy as np
from scipy import sparse

from ._standardize import _compiled, _stats_of, rows_per_block


class RowNorms:
    """Each row's squared norm, standardized provisionally, taken in the statistics' pass.

    The curvature needs the largest squared norm of a standardized row,
    ``max_i ||(x_i - mean) / scale||^2``, with the mean and scale that the
    statistics' pass finds only at its end: a read of X of its own, as long
    as a memory-bound half epoch. Instead, that pass keeps each row's norm
    ``r_i`` standardized by a provisional mean and scale, those of an evenly
    spaced sample of rows. With ``a = scale0 / scale`` and
    ``d = (mean0 - mean) / scale`` (per column), a row's final norm lies
    within ``min(a) r_i - ||d||`` and ``max(a) r_i + ||d||``, so only the
    rows whose ``r_i`` comes near the largest can hold the largest; their
    norms are then computed as the full pass computes them, which gives the
    same maximum, to the bit. Where the sample misleads (sorted rows,
    overflow), too many rows come near, and the full pass serves.

    Only for dense X of more than one block of the statistics and more rows
    than the sample (smaller X is read in no time, and the sample's
    statistics would read all of it), on the compiled path.
    """

    # Sampled rows for the provisional standardization; above this share of
    # candidate rows, the full pass is cheaper than gathering them.
    _SAMPLE_ROWS = 10_000
    _MOST = 1 / 8
    # the bound's relative slack, far above the rounding of the norms' sums
    _SLACK = 1e-6

    def __init__(self, X, sample_weight, fit_intercept=True):
        n = X.shape[0]
        # evenly spaced rows, as skgd._objective._sample_rows: the curvature's
        # power iteration takes this copy of them too (see sample_of)
        self.rows = (
            slice(None) if n <= self._SAMPLE_ROWS else slice(None, None, -(-n // self._SAMPLE_ROWS))
        )
        self.sample = np.ascontiguousarray(X[self.rows])
        # the sample's statistics, by the compiled pass (numpy's std took 7 ms here)
        mean, std, _ = _stats_of(self.sample, sample_weight[self.rows])
        with np.errstate(all="ignore"):
            if not fit_intercept:  # as FeatureStats.standardization: uncentred
                mean, std = 0.0 * mean, np.hypot(std, mean)
            inverse = 1.0 / std
            # (a column constant on the sample: unit scale, still centred)
            self.inverse = np.where(np.isfinite(inverse) & (inverse > 0), inverse, 1.0)
            self.shift = np.where(np.isfinite(mean), mean * self.inverse, 0.0)
        self.norms = np.empty(n)
        self.filled = False  # set by the statistics' compiled pass

    def sample_of(self, rows):
        """``np.ascontiguousarray(X[rows])``, already made, if ``rows`` are this sample's."""
        return self.sample if isinstance(rows, slice) and rows == self.rows else None

    @classmethod
    def of(cls, X, sample_weight, fit_intercept=True):
        """A RowNorms for X if the statistics' pass can fill it and it saves a read of X."""
        if X.shape[0] <= cls._SAMPLE_ROWS:  # the sample would be all of X: no read saved
            return None  # (tested first: a stream's call of a few rows pays nothing more)
        if sparse.issparse(X) or not _compiled(X) or X.shape[0] <= rows_per_block(X):
            return None
        return cls(X, sample_weight, fit_intercept)

    def arrays(self):
        return self.shift, self.inverse, self.norms

    def candidates(self, mean, scale):
        """The rows that may hold the largest norm under ``(mean, scale)``; None: all may."""
        if not self.filled:
            return None
        with np.errstate(all="ignore"):
            scale = np.asarray(scale, dtype=np.float64)
            a = 1.0 / (self.inverse * scale)
            d = self.shift * a - np.asarray(mean, dtype=np.float64) / scale
            largest = np.sqrt(self.norms.max(initial=-np.inf))
            reach = float(np.sqrt(d @ d))
            # Both subtract offsets: columns far from 0 for their spread lose
            # digits to them (a 1e14 offset hid the longest row), so the bound
            # widens by that rounding.
            offset = np.sqrt(self.shift @ self.shift) * a.max()
            rounding = 16 * np.finfo(np.float64).eps * (largest * a.max() + 2 * offset)
            centre = np.asarray(mean, dtype=np.float64) / scale
            rounding += 16 * np.finfo(np.float64).eps * float(np.sqrt(centre @ centre))
            threshold = (a.min() * largest - 2 * reach - 2 * rounding) / a.max() * (1 - self._SLACK)
        if not (np.isfinite(threshold) and threshold > 0 and np.all(np.isfinite(a))):
            return None
        rows = np.flatnonzero(self.norms >= threshold * threshold)
        return rows if len(rows) <= self._MOST * len(self.norms) else None
