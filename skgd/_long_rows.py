"""Dense X's long rows, set apart so that they shorten only their own batches' steps.

A batch's stable step is set by the longest row it may hold
(:func:`skgd._objective.batch_curvature`'s ``L_max``). One-hot columns of
rare categories, standardized, hold values of about ``sqrt(n / count)``:
among 112,500 flights, the row of a destination seen once had a squared
norm of 112,500 where the median row's was 59, and every batch of 32 took
a step 140 times shorter than the others allowed (``L_max / b`` against
L = 4.8): 101 epochs to a log loss SGDClassifier reaches in 9.

A batch's curvature is at most the sum of its parts': that of its other
rows, bounded as any batch's by the longest of them, plus each long row's
squared norm over the batch size, however many of them it holds. So each
batch takes the step of the rest's longest row and its own long rows'
sum (:meth:`skgd._schedules.Schedule.outlier_steps`), where that is
longer than the step without. Which rows are long depends on the batch
size: :meth:`LongRows.at` chooses the threshold that makes an average
batch's curvature least. Only in the "adaptive" schedule, at its stages
of many batches, for the optimizers whose step is the gradient's times a
rate, and not for a loss with a link (:meth:`skgd._schedules.Schedule._stage_settings`,
:meth:`skgd._base.BaseGD._long_rows_batch`, :meth:`skgd._objective.Objective.curvature`
say why). (Sparse X's few far longer rows are set apart otherwise, one a
batch: :meth:`skgd._objective.Objective._outlier_rows`.)
"""

import numpy as np

from ._standardize import rows_per_block

# Thresholds tried: twice the mean squared norm, then doubling up to the longest
_FIRST_THRESHOLD = 2.0
_THRESHOLD_GROWTH = 2.0
# Set apart only where an average batch's curvature is then at most this share of
# the one without: longer steps raise the batches' noise floor, and the adaptive
# schedule pays for it in stages (at a gain of 3, a Zipf category of exponent 1.5
# among 20,000 rows: 35-43 epochs where the step without took 16)
_GAIN = 0.25


def squared_row_norms(X, mean, scale):
    """Each standardized row's squared norm, dense X, a block of rows at a time."""
    rows = rows_per_block(X)  # (two temporaries of a block each, whatever X's width)
    with np.errstate(all="ignore"):
        inverse = 1.0 / np.asarray(scale, dtype=np.float64)
        norms = np.empty(X.shape[0])
        for start in range(0, X.shape[0], rows):
            Z = X[start : start + rows] - mean
            Z *= inverse
            norms[start : start + rows] = np.einsum("ij,ij->i", Z, Z)
    return norms


class LongRows:
    """Each row's squared norm, weighted, and the thresholds it may be set apart at.

    ``norms``: each standardized row's squared norm times its weight over
    the mean weight (its share of a batch's gradient). ``lam``: the whole
    data's curvature L; ``longest``: the bound without setting apart, the
    longest row's curvature (``L_max``, as the schedule had it: without the
    rows' weights); ``offset``: what L_max adds to a norm (the intercept's
    1). L2's curvature is in all three, as in the schedule's ``(L, L_max)``.
    """

    def __init__(self, norms, lam, longest, offset):
        self.norms, self.lam, self.longest, self.offset = norms, lam, longest, offset
        # for each threshold: the longest row at or under it, and the sum of those above
        # (a pass each, a few dozen at most: a sort would take two more arrays of X's rows;
        # the sums in float64)
        self.thresholds = []
        threshold, top = _FIRST_THRESHOLD * float(norms.mean()), float(norms.max())
        while threshold < top:
            above = norms > threshold
            rest = float(norms[~above].max(initial=0.0))
            self.thresholds.append((threshold, rest, float(norms[above].sum(dtype=np.float64))))
            threshold *= _THRESHOLD_GROWTH
        self._chosen = None

    @classmethod
    def of(cls, X, sample_weight, mean, scale, lam, largest, offset):
        """The long rows of dense X, or None where setting rows apart cannot gain.

        ``largest``: the longest row's squared norm, found before (without
        its weight). Standardized, each column's mean square is 1 (0 if
        constant): the rows' mean squared norm is at most X's width, and if
        the longest is at most four times that, no threshold tried (twice
        the mean, and up) can gain ``_GAIN`` (rows' weights aside: rows of
        weight 0 among others leave the rest alike, and passed it); X is
        then not read again.
        """
        if X.shape[0] < 2 or not largest > 2.0 * _FIRST_THRESHOLD * X.shape[1]:
            return None
        norms = squared_row_norms(X, mean, scale)
        norms *= sample_weight
        norms *= 1.0 / float(np.mean(sample_weight))
        # (kept through training: float32, rounded up, a bound still; 4 bytes a row)
        with np.errstate(over="ignore"):
            norms = np.nextafter(norms.astype(np.float32), np.float32(np.inf))
        if not (np.all(np.isfinite(norms)) and norms.max() > 0):
            return None  # (norms past float32's range: the step without serves)
        long_rows = cls(norms, lam, largest + offset, offset)
        return long_rows if long_rows.thresholds else None

    def at(self, batch_size):
        """For batches of ``batch_size``: ``(typical, long)``, or None to set none apart.

        ``typical``: the rest's longest curvature (L_max without the long
        rows); ``long``: which rows are long (their norms: ``norms``). The
        threshold is the one whose average batch curvature
        (the rest's bound plus an average batch's share of the long rows'
        norms) is least, if at most ``_GAIN`` of the curvature without.
        """
        from ._objective import batch_curvature  # (the objective makes LongRows)

        if self._chosen is not None and self._chosen[0] == batch_size:
            return self._chosen[1]
        n, lam = len(self.norms), self.lam
        without = batch_curvature(lam, self.longest, n, batch_size)
        best, chosen = _GAIN * without, None
        for threshold, rest, above in self.thresholds:
            average = batch_curvature(lam, rest + self.offset, n, batch_size) + above / n
            if average < best:
                best, chosen = average, (threshold, rest)
        if chosen is not None:
            threshold, rest = chosen
            # (heavy rows' weights may make it longer than the step without took:
            # no batch steps shorter than it did)
            typical = min(max(rest + self.offset, lam), self.longest)
            chosen = (typical, self.norms > threshold)
        self._chosen = (batch_size, chosen)  # (one stage's: a byte a row)
        return chosen

    def batch_sums(self, long, order, batch_size):
        """Each batch's long rows' norms, summed, for the epoch's ``order`` (a pass of bytes)."""
        n_batches = -(-len(order) // batch_size)
        where = np.flatnonzero(long[order])  # (the long rows' places in the epoch)
        norms = self.norms[order[where]].astype(np.float64)
        return np.bincount(where // batch_size, weights=norms, minlength=n_batches)
