"""Sparse X's columns: scaled by their peak, toward their root mean square when stored in most rows.

Sparse X is not centred (a batch then touches only its non-zero columns),
and a column is divided by its largest magnitude, as ``MaxAbsScaler`` does:
dividing a rare column by its small deviation would make the rows holding
it huge, and on 0/1 columns ``alpha`` is then plain L2 on ``coef_``, as
``SGDClassifier``'s. A column stored in most rows is no rare
feature, though: a ``ColumnTransformer``'s numeric column beside one-hot
ones (its output is sparse by its default ``sparse_threshold=0.3``). With
a long tail, divided by its peak, it was curved ``E[x²] / peak²`` (a
thousandth for flight delays), and ``alpha=1e-4`` shrank its coefficient
to a fifth: the nycflights13 delays (100,000 flights, four one-hot
categories beside seven standardized numbers) reached a held-out accuracy
of 0.863 and log loss 0.343, where the same rows dense reached 0.914 and
0.232 (LogisticRegression 0.915 and 0.231), behind a warning.

So such a column is divided by a scale between its peak and its root mean
square (its deviation about 0, as dense X's is about the mean), the more
the more rows store it: ``peak * (rms / peak) ** t`` with ``t`` rising
from 0 at a quarter of the rows to 1 at three quarters. A centred column
(its mean outweighs its deviation, see :func:`skgd._base._centred_scale`)
takes that times ``deviation / |mean|``, and at least its deviation: the
same where the mean reaches the deviation. No scale jumps as a column's
share of rows or its mean crosses a line, and so no coefficient (a
cross-validation's folds fall either side of such lines). The same
flights: 0.914 and 0.231. Their raw numbers (passed through, not
standardized) are centred: the distances (mean 1,040, deviation 730,
peak 4,983) were divided by ``peak * deviation / |mean|``, 3,493, and the
flights reached 0.905 and 0.257, where the same rows dense reach 0.914
and 0.232; divided by 895 now, 0.914 and 0.232. A row counts by its
weight (a row of weight 0 for nothing, a weight of 3 as three rows), as
in the statistics. The benchmark's hashed rows store no column in a
quarter of the rows: unchanged. Text stores few: the standard library's
source lines store ``self`` in 31% of them (hashed: scaled 0.86 of its
peak; tf-idf: 0.77), and held-out scores stay or rise (hashed to 2**18
columns, Nesterov: 0.7099, now 0.7128; plain SGD 0.7092 either way;
tf-idf 0.7144, now 0.7156). A 0/1 column in more than a quarter of the
rows is scaled a little below 1.
"""

import numpy as np

from ._compiled import _exact, jit
from ._standardize import within_rounding

# A column whose deviation is at most this share of its mean's magnitude may be constant
# but for rounding: its exact range decides (see near_constant_ranges)
_NEAR_CONSTANT = 2.0**-16
# A column stored in at most this share of the rows keeps its peak as its scale, ...
_RARE_SHARE = 0.25
# ... and one stored in at least this share takes its root mean square (uncentred).
_DENSE_SHARE = 0.75


def toward_root_mean_square(x_mean, x_scale, mean, std, peak, stored, total, dtype):
    """``x_scale`` with sparse X's dense columns' scales moved toward their RMS.

    ``x_mean, x_scale``: the standardization as found (an uncentred
    column: mean 0 and its ``peak`` as scale; a centred one: its mean, and
    :func:`skgd._base._centred_scale`'s ``peak * std / |mean|``); ``mean,
    std``: the columns' statistics (float64); ``stored``: the weight of the
    rows that store a value in each column, ``total`` that of all rows (a
    fit without weights: counts of values and of rows). An uncentred
    column stored in more than a quarter of the rows is divided by
    ``peak * (rms / peak) ** t`` (``t`` from 0 at a quarter of the rows
    to 1 at three quarters); a centred one by that times ``std / |mean|``
    (at least its deviation), which is the same where the mean reaches the
    deviation and the column becomes centred: no scale jumps there. A new
    array if any scale moves, else ``x_scale`` itself; a column stored in
    at most a quarter of the rows (almost every column of hashed text)
    keeps its scale to the bit. O(n_features) tests, then arithmetic on
    the few dense columns only.
    """
    if not total > 0:
        return x_scale
    dense = np.flatnonzero(np.asarray(stored) > _RARE_SHARE * total)
    if dense.size == 0:
        return x_scale
    with np.errstate(all="ignore"):
        # in dtype, as the pass that chose centred or not compared them
        m = np.asarray(mean[dense]).astype(dtype).astype(np.float64)
        s = np.asarray(std[dense]).astype(dtype).astype(np.float64)
        p = np.asarray(peak[dense], dtype=np.float64)
        scaled = (p > 0) & (s > 0) & np.isfinite(s)
        centred = np.asarray(x_mean)[dense] != 0
        share = np.asarray(stored)[dense] / total
        t = np.clip((share - _RARE_SHARE) / (_DENSE_SHARE - _RARE_SHARE), 0.0, 1.0)
        rms = np.hypot(m, s)
        # between rms and peak (rms <= peak but for rounding; a power that underflows: rms)
        blended = np.clip(p * np.minimum(rms / p, 1.0) ** t, rms, np.maximum(p, rms))
        blended = np.where(centred, np.maximum(blended * (s / np.abs(m)), s), blended)
        # (a centred constant, stored in every row: its mean's magnitude, as dense
        # X's, see skgd._standardize.rounding_scales; no range to tell rounding by)
        rounding = centred & within_rounding(std[dense], dtype)
        blended = np.where(rounding, np.abs(m), blended)
    moved = (scaled & (t > 0) & np.isfinite(blended) & (blended > 0)) | rounding
    if not moved.any():
        return x_scale
    x_scale = np.array(x_scale, copy=True)
    x_scale[dense[moved]] = blended[moved].astype(dtype)
    return x_scale


def stored_weight(X, sample_weight):
    """The weight of the rows of CSR ``X`` that store a value in each column (float64).

    ``np.bincount(X.indices, weights=...)`` of each value's row weight,
    without its array of a weight a stored value (X's size).
    """
    stored = np.zeros(X.shape[1])
    _stored_weight(X.indices, X.indptr, np.asarray(sample_weight, dtype=np.float64), stored)
    return stored


@jit
def _stored_weight(indices, indptr, weights, stored):
    for i in range(indptr.shape[0] - 1):
        for q in range(indptr[i], indptr[i + 1]):
            stored[indices[q]] += weights[i]


def near_constant_ranges(X, sample_weight, mean, std):
    """A sparse fit's ``(low, high)`` for its columns that may be constant but for rounding.

    Dense X's range comes from its statistics' pass, which tells a column
    of a few adjacent floats, rounding, from a feature
    (:func:`skgd._standardize.within_rounding`); sparse X's pass keeps no
    range, and its deviations round by tens of ulps. A column of 1, give or
    take an ulp (``t * 0.37 / t / 0.37``), beside diabetes' columns, in CSR:
    a coefficient of -2.5e17 and an intercept of 2.5e17, held-out R² 0.333
    where it is 0.356 without the column, predictions moved by 64 by the
    column's last bit. So the columns whose deviation is under
    ``_NEAR_CONSTANT`` of their mean's magnitude (stored in every row that
    counts: an implicit zero among them is a spread of half the mean) get
    their exact range over the rows of positive weight, implicit zeros
    included, as the dense pass takes it: one compiled pass over X's stored
    values, with no copy of them (scipy's column selection and min_max_axis
    took 961 MB beside a CSR X of 320 MB whose every column qualified, a
    review). Returns full-length ``(low, high)``, NaN on the other
    columns (no rounding there), or None if no column qualifies: on text,
    none does, and nothing is done.
    """
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    # (compiled, a count first: numpy's six passes over the columns took 1.6 ms on
    # 2**20 columns, where one reads them once; and on text no column qualifies)
    if _near_constant(mean, std, _NEAR_CONSTANT) == 0:
        return None
    counted = np.asarray(sample_weight) > 0
    if not counted.any():
        return None
    if not X.has_canonical_format:  # (a duplicate's values are parts of a sum)
        X = X.copy()
        X.sum_duplicates()
    low, high = np.full(X.shape[1], np.nan), np.full(X.shape[1], np.nan)
    stored = np.zeros(X.shape[1], dtype=np.int64)
    arrays = (X.data, X.indices, X.indptr, counted, mean, std, _NEAR_CONSTANT)
    _near_constant_ranges(*arrays, low, high, stored)
    return low, high


@_exact
def _near_constant_ranges(data, indices, indptr, counted, mean, std, share, low, high, stored):
    """Each near-constant column's range over the ``counted`` rows, implicit zeros too."""
    for j in range(mean.shape[0]):
        if _is_near_constant(mean[j], std[j], share):
            low[j], high[j] = np.inf, -np.inf  # (the others stay NaN)
    n_counted = 0
    for i in range(indptr.shape[0] - 1):
        if not counted[i]:
            continue
        n_counted += 1
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if high[j] == high[j]:  # (a near-constant column: not NaN)
                value = np.float64(data[q])
                low[j] = min(low[j], value)
                high[j] = max(high[j], value)
                stored[j] += 1
    for j in range(mean.shape[0]):
        if high[j] == high[j] and stored[j] < n_counted:  # an implicit zero counts
            low[j] = min(low[j], 0.0)
            high[j] = max(high[j], 0.0)


@_exact
def _near_constant(mean, std, share):
    """How many columns are near constant (:func:`_is_near_constant`)."""
    n = 0
    for j in range(mean.shape[0]):
        n += _is_near_constant(mean[j], std[j], share)
    return n


@_exact
def _is_near_constant(mean, std, share):
    """A deviation of at most ``share`` of a non-zero mean's magnitude (NaN: no)."""
    return mean != 0 and std <= share * abs(mean)
