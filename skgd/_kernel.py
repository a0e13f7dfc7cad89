"""The compiled path: one epoch's batch steps for the built-in losses and optimizers.

The loop in :mod:`skgd._loop` asks, for each epoch, "run these batches":
forward, loss, backward and update, batch after batch.
:func:`skgd._epoch.descend` answers in numpy, for any loss and optimizer. This module gives
the same answer, compiled with numba, when the loss and the optimizer are
built-in ones: the same arithmetic in the same order, one call per epoch
instead of some twenty numpy calls per batch. The epochs, the stop
criterion and early stopping stay in the loop, in plain Python.

Sparse X is usually not centred (its columns are divided by their largest
magnitude, see ``skgd._base``), so a batch touches only the coefficients of
its non-zero columns, and of the few centred ones (non-zero in every row in
standardized coordinates, see ``Plan._centred``). With plain ``"sgd"`` the
L2 penalty is a scale factor of each output's coefficients (scikit-learn's
``wscale``); with momentum or Nesterov at a step constant over runs of
batches (the epoch, or the stairs of an annealed last epoch), a coefficient
no batch touches follows a fixed linear map a run, applied when a batch next
reads it. Either way a batch costs O(its non-zeros + n_outputs × the centred
columns). On wide data those reads land anywhere in the model, a cache miss
each, so these two paths keep all that a non-zero needs (its column's
coefficients, velocities and scale) in one row of a table.
With plain SGD, L1's soft thresholds add up, and a column takes those of
the batches that did not touch it at once; its average keeps each
column's sum of iterates apart from the sum of the L2 scales (one pass
over every coefficient an epoch). Adagrad, RMSprop and Adam keep a state
that moves every coefficient at every step, and momentum's L1 and
averaging, and plain SGD's average with L1, touch every coefficient:
those cost O(n_outputs × n_features) per batch on sparse data too.

The batch steps themselves are in :mod:`skgd._steps` (dense X, and sparse
X updating every coefficient) and the lazy ones (:mod:`skgd._lazy_sgd`,
:mod:`skgd._lazy_momentum`, their table :mod:`skgd._lazy_table` and
write-back :mod:`skgd._writeback`); what they share
(numba's ``jit``, a prefetch hint, the codes of losses and optimizers) in
:mod:`skgd._compiled`, and which loss and optimizer classes the codes name
in :mod:`skgd._codes`. The compiled passes over X that come before
training are in :mod:`skgd._statistics_passes` and
:mod:`skgd._sparse_statistics_passes`, the per-epoch passes over the
coefficients in :mod:`skgd._passes`.
"""

import numpy as np
from scipy import sparse

from . import _passes
from ._codes import _OPTIMIZERS, _hyper, _loss_code
from ._compiled import (
    _ADAM,
    _MOMENTUM,
    _NESTEROV,
    _SGD,
    aligned,
    numba,
)
from ._lazy_momentum import _sparse_momentum_epoch, step_runs
from ._lazy_sgd import _sparse_sgd_epoch
from ._sparse_statistics_passes import stored_columns
from ._steps import _dense_epoch, _sparse_epoch
from ._warning_site import warn
from ._writeback import holds_zeros

# Set to False to train every model on the numpy path (the tests compare both).
ENABLED = True
# float64 values a cache line holds (the lazy table's rows are padded to them)
_LINE = 8

# Rows from which dense X's epochs read the targets and weights side by side (see
# Plan._packed): below, both arrays stay in cache, and a stream's call makes no copy.
_PACKED_ROWS = 1 << 15

# The kernels' unused optimizer slots (both of plain SGD's, the second of a
# one-state optimizer's, the intercept's without one), by the parameter's number
# of dimensions. No kernel reads or writes them for those optimizers (see
# skgd._steps._update; the lazy kernels read the velocity alone), so an empty
# array serves, of the types numba compiled for: no allocation. A zero array of
# V's shape each epoch cost wide data (5 x 2**18 float64: 10 MB, which calloc
# zeroes once glibc keeps freed blocks that large) about 2 ms an epoch, a tenth
# of a lazy SGD fit (none seen at 2**20: 40 MB, fresh pages never touched).
_UNUSED = {1: np.zeros(0), 2: np.zeros((0, 0))}

# Lazy momentum takes at most this share of the columns centred (see Plan._centred);
# beyond, every batch updates every coefficient. A centred column is in most rows, so
# many of them make the batches dense, where lazy momentum's work a non-zero (its
# catch-up, its touched list) costs more than the dense epoch's passes over V: an
# epoch with 1% of 20,000 columns centred took the same time both ways (2 outputs;
# at 5% lazy took 1.6x the dense time; 5 outputs: 0.27x at 1%, 1.1x at 25%).
# Lazy plain SGD was quicker at every share measured (0.1-0.66x, up to all
# columns centred), so it takes any.
_CENTRED_SHARE = 0.01

# An epoch on sparse X that moves every coefficient at every batch warns (once a fit)
# from this many coefficient updates (0.2 to 1 s of work), where they are at
# least _DENSE_RATIO_WARNED times the epoch's non-zeros (a lazy epoch's work): on
# hashed text an adaptive optimizer's epoch took minutes, silently, where plain
# SGD's took a second.
_DENSE_WORK_WARNED = 1e8
_DENSE_RATIO_WARNED = 100

# Start arrays the plan remembers as holding V's zeros outside X's columns (the loop
# keeps two or three: see skgd._epoch._spare)
_CLEAN = 4


class Plan:
    """What the compiled epoch needs besides the batches: codes, targets, the penalty."""

    def __init__(self, objective, optimizer, Y, loss_code, opt_code, keys, fit_intercept):
        self.objective, self.optimizer = objective, optimizer
        self.kind, self.param = loss_code
        self.opt, self.keys = opt_code, keys
        self.fit_intercept = fit_intercept
        # the targets as one float array: values, -1/+1 signs, or class indices
        self.indexed = Y.ndim == 1 and len(objective.y_loc) > 1
        self.Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
        o = objective
        self.g_scale = np.asarray(o.y_scale / o.loss_scale, dtype=np.float64)
        self.l1 = o.l1[:, 0].astype(np.float64, copy=False)
        self.l2 = o.l2[:, 0].astype(np.float64, copy=False)
        self.hyper = _hyper(optimizer)
        self.table = None  # the lazy kernels' working table, see _table
        self.held = None  # what the table holds from the last epoch, see run
        self.scratch = None  # lazy momentum's room for a batch's columns, see _scratch
        self.rows = None  # the columns X stores, and its indices as rows of the table, see _rows
        self.packed = None  # the targets and weights side by side for dense X, see _packed
        # V and the velocity known to hold one zero (by output) on the columns X does
        # not store, and the start arrays known to hold V's: the lazy write-back then
        # visits X's columns alone (see _outside)
        self.zero, self.clean = None, []
        # (only a fresh optimizer's training can start with them: a stream's later
        # calls, and warm starts, need not count the columns unlike the first one)
        self.counts = not hasattr(optimizer, "state_")
        self.centred = None  # (x_mean, its centred columns and centres), see _centred
        self.warned_dense = False  # (see _warn_if_dense_on_sparse)
        # whether the caller takes a swap of V and the start array (see run): the loop
        # does; a stream's capped batches, each run copying V to scratch, do not
        self.swaps = False

    def run(self, state, X, weights, order, batch_size, steps, c_ratio, start):
        """Run the batches of one epoch on ``state``, in place; V as it found it goes to ``start``.

        Returns ``(summed loss, batches done, first batch's loss, failed
        batch's loss)`` as :func:`skgd._epoch.descend` does, then the penalty
        of V as the epoch found it, and whether V is finite after it (None:
        not checked). The lazy kernels take all three in their last pass
        over the coefficients (see :func:`skgd._writeback._write_back`);
        the other paths copy V before the batches, and the loop checks V.
        A ``start`` array given before is taken to hold what this plan left
        in it (on wide data, only X's columns are then written, see
        :meth:`_outside`): only the plan writes it; whoever else writes V
        calls :meth:`forget`.

        With ``swaps`` set, a lazy SGD epoch may instead write V as it leaves
        it to ``start`` and make that array ``state.V``: the array V was
        then holds V as the epoch found it, and the caller takes it as the
        epoch's start (see :func:`skgd._writeback._swapped`). The caller
        sees it by ``state.V`` being another array.
        """
        o = self.objective
        params = [state.V, state.c] if self.fit_intercept else [state.V]
        if not hasattr(self.optimizer, "state_"):
            self.optimizer.state_ = [{} for _ in params]
        slots = []  # the optimizer's state, as float64 arrays shaped like the parameters
        for param, kept in zip(params, self.optimizer.state_, strict=True):
            arrays = [_slot(kept.get(key), param.shape) for key in self.keys]
            slots.append(arrays + [_UNUSED[param.ndim]] * (2 - len(arrays)))
        if not self.fit_intercept:
            slots.append([_UNUSED[1]] * 2)
        adam_t = int(self.optimizer.state_[0].get("t", 0))
        # [samples before averaging, samples seen, iterates averaged], updated in place
        averaging = np.array([state.average_from, state.seen, state.n_averaged], dtype=float)
        is_sparse = not isinstance(X, np.ndarray) and sparse.issparse(X)  # (no ABC's test)
        Y = self.Y
        if not is_sparse and len(weights) >= _PACKED_ROWS:
            Y, weights = self._packed(weights)
        common = (
            Y,
            self.indexed,
            weights,
            order.astype(np.int64, copy=False),
            batch_size,
            np.asarray(steps, dtype=np.float64),
            float(c_ratio),
            state.V,
            state.c,
            self.fit_intercept,
            np.asarray(o.x_mean, dtype=np.float64),
            np.asarray(o.x_scale, dtype=np.float64),
            np.asarray(o.y_loc, dtype=np.float64),
            np.asarray(o.y_scale, dtype=np.float64),
            self.g_scale,
            self.l1,
            self.l2,
            self.kind,
            self.param,
            self.opt,
            self.hyper,
            slots[0][0],
            slots[0][1],
            slots[1][0],
            slots[1][1],
            adam_t,
            # (no average of V made until it runs: see TrainingState.V_average)
            state.V_average if state.average_from != np.inf else _UNUSED[2],
            state.c_average,
            averaging,
        )
        # Lazy updates need few centred columns (each is read and moved at every
        # step, see _centred); momentum, also no L1, no average and few runs of equal
        # steps (one map a run for every untouched step); plain SGD's average, no L1
        # (a column's thresholds are paid late: its iterates between, unknown).
        # exact descent's gains on sparse X (see skgd._exact_gains): the dense gradient's epoch
        gains = o.exact_gains if is_sparse else None
        lazy = is_sparse and gains is None  # (dense X: no test to pay)
        lazy = lazy and self._few_centred()
        l1 = bool(np.any(self.l1))
        averages = state.average_from != np.inf
        # (L1 lazily: plain SGD's thresholds add up, and a column X does not store
        # holds 0, which they keep; momentum's L1 stops the velocity: not lazy)
        # (L1's read of V, if taken, also tells the first epoch's write-back: see _outside)
        zero_read = lazy and self.opt == _SGD and l1 and not averages
        zero_read = zero_read and self._zero_outside(state.V, X)
        lazy_sgd = lazy and self.opt == _SGD and (not l1 or zero_read)
        lazy = lazy and not l1 and not averages
        runs = step_runs(steps) if lazy and self.opt in (_MOMENTUM, _NESTEROV) else None
        lazy_momentum = runs is not None
        if is_sparse and not (lazy_sgd or lazy_momentum or self.warned_dense):
            self.warned_dense = True
            _warn_if_dense_on_sparse(self, X, state, len(steps), l1)
        # What the lazy table holds after a whole lazy epoch: this V, these
        # velocities, in this kind's layout. Anything else (a batch that
        # overflowed, another kernel, the loop writing V: forget) fills it afresh.
        held, self.held = self.held, None
        if is_sparse and (lazy_sgd or lazy_momentum):
            kernel = _sparse_sgd_epoch if lazy_sgd else _sparse_momentum_epoch
            used, rows = self._rows(X)
            # (two values an output: momentum's velocity, or the average's held sum)
            n_kept = 2 if lazy_momentum or averages else 1
            table = self._table((state.V.shape[0], len(used)), n_kept, l1)
            centred = self._centred_rows(used)  # (the kernels' last two arguments)
            scratch = (
                centred
                if lazy_sgd
                else (runs, *self._scratch(X, batch_size, state.V.shape[0]), *centred)
            )
            velocity = None if lazy_sgd else slots[0][0]  # (restart() makes a new one)
            holding = (kernel, state.V, velocity, table)
            filled = held is not None and all(a is b for a, b in zip(held, holding, strict=True))
            sums = np.zeros(state.V.shape[0] + 1)  # V's squares by output, then its finiteness
            swap = self.swaps and lazy_sgd  # (lazy momentum's catches V up in place)
            outside, zeros, squares = self._outside(state.V, velocity, used, start, swap, zero_read)
            result = kernel(
                X.data, rows, X.indptr, *common, table, used, *scratch, filled, start, sums,
                outside, zeros,
            )  # fmt: skip
            if outside[3]:  # V as the epoch left it is in start; the epoch's start, in V
                state.V, start = start, state.V
            else:
                squares = sums[:-1]
            if result[1] == len(steps):
                self.held = (kernel, state.V, velocity, table)
            self._zeros_left(state.V, velocity, used, start, outside, zeros)
            squares = squares.astype(state.V.dtype) if state.V.dtype != np.float64 else squares
            # (L1's sums: of V as the epoch found it, which start holds now)
            absolute = _passes.magnitudes(start) if l1 else None
            penalty = o.penalty(state.V, squares=squares, absolute=absolute)
            finite = bool(sums[-1] == 0.0)
        else:
            self.zero, self.clean = None, []  # (V moves everywhere, and start takes it)
            penalty = o.penalty(state.V, copy_to=start)
            if is_sparse:
                centres = o.exact_centres if gains is not None else None
                gains = _UNUSED[1] if gains is None else gains
                centres = _UNUSED[1] if centres is None else centres
                result = _sparse_epoch(X.data, X.indices, X.indptr, *common, gains, centres)
            else:
                result = _dense_epoch(X, *common)
            finite = None
        total, done, first, failed, adam_t = result
        _, seen, n_averaged = averaging.tolist()  # (one call, not two items' numpy scalars)
        state.seen, state.n_averaged = int(seen), int(n_averaged)
        if self.keys:  # (plain SGD keeps no state)
            # (slots has an unused intercept's entry when fit_intercept=False)
            for param_slots, kept in zip(slots, self.optimizer.state_, strict=False):
                for key, array in zip(self.keys, param_slots, strict=False):
                    kept[key] = array
                if self.opt == _ADAM:
                    kept["t"] = adam_t
        return (total, done, first, failed), penalty, finite

    def forget(self):
        """The loop wrote V or the velocities itself: the next lazy epoch fills its table afresh."""
        self.held = None
        self.zero = None  # (and its write-back visits every column, which tells it anew)

    def _outside(self, V, velocity, used, start, swap=False, zero_read=False):
        """What the lazy write-back may take as known of the columns X does not store.

        ``(outside, zeros)`` as :func:`skgd._writeback._zeros_found` reads
        them: known when the last lazy epoch left one zero (by output) on
        those columns of V and ``velocity``, or, before lazy SGD's first
        epoch, when a read of V shows +0 there (a fresh fit's start); when
        ``start`` holds V's (known, or read), the write-back visits only X's
        columns. In a fit, from its first epoch on (lazy momentum's, its
        second or third); a warm start's V, or a stream's (whose earlier
        calls stored other columns), holds other values there: every column
        is visited, as before. ``zero_read``: V was just read to hold +0
        there (lazy L1's check, :meth:`_zero_outside`): not read again.
        ``outside[3]``: whether the write-back may
        swap V and ``start`` (``swap``, and V's squares known: the last
        epoch's write-back summed them, ``zeros[4]`` then, returned third).
        """
        zeros = np.zeros((5, V.shape[0]))  # (row 4: the squares of V as the epoch leaves it)
        known = self.zero is not None and all(
            a is b for a, b in zip(self.zero[:3], (V, velocity, used), strict=True)
        )
        clean, squares = False, None
        if not known and self.counts and velocity is None:
            # (a fresh fit's V holds +0 on the columns X does not store, see
            # skgd._base.BaseGD._initial_params: a read of V and of start costs less
            # than the write-back of every column, which reads V and writes V and
            # start; hashed text, 2**20 columns, 1,000 rows: that epoch took 21 ms,
            # now 9)
            known = zero_read or holds_zeros(V, used, zeros[0])
            clean = known and holds_zeros(start, used, zeros[0])
        elif known:
            zeros[:2], squares = self.zero[3], self.zero[4]
            held = zeros[0].tobytes()  # (the bits: a zero's sign counts)
            clean = any(a is start and b is used and z == held for a, b, z in self.clean)
            # (else a start array from elsewhere, e.g. the loop's copy of V before the
            # first epoch: read, it may show it holds them; on hashed text the second
            # epoch's write-back of every column took 2.7 ms at 2**18, 7.6 at 2**20)
            if not clean:
                clean = holds_zeros(start, used, zeros[0])
        swap = swap and known and squares is not None
        return np.array([known, clean, self.counts, swap], dtype=np.int64), zeros, squares

    def _zeros_left(self, V, velocity, used, start, outside, zeros):
        """Keep what the write-back found (see :meth:`_outside`) for the next epochs.

        The start arrays are held, not their ids: the loop reuses them (see
        :func:`skgd._epoch._spare`) and writes them only through :meth:`run`.
        """
        self.zero = (V, velocity, used, zeros[2:4].copy(), zeros[4].copy()) if outside[0] else None
        self.clean = [
            entry for entry in self.clean
            if entry[0] is not start and entry[0] is not V and entry[1] is used
        ]  # fmt: skip
        if outside[1]:
            self.clean = [*self.clean[-(_CLEAN - 1) :], (start, used, zeros[0].tobytes())]

    def _few_centred(self):
        """Whether the lazy kernels take this many centred columns (see _CENTRED_SHARE)."""
        n_centred, n_features = len(self._centred()[0]), len(self.objective.x_mean)
        return self.opt == _SGD or n_centred <= _CENTRED_SHARE * n_features

    def _centred(self):
        """The centred columns, ascending, and their ``x_mean / x_scale`` (float64).

        Sparse X's columns are not centred, but for those whose mean
        outweighs their spread (see :meth:`skgd._base.BaseGD._objective`):
        a stop word of hashed text, in most rows. In standardized
        coordinates such a column is non-zero in every row, so the lazy
        kernels read and move it at every batch, as if every row held it:
        a batch costs O(its non-zeros + K × the centred columns). Found
        once a fit (a pass over x_mean).
        """
        x_mean = self.objective.x_mean
        if self.centred is None or self.centred[0] is not x_mean:
            columns = np.flatnonzero(x_mean)
            x_scale = self.objective.x_scale
            # (the ratio as the dense steps take it: of the float64 values)
            centres = x_mean[columns].astype(np.float64) / x_scale[columns].astype(np.float64)
            self.centred = x_mean, (columns, centres)
        return self.centred[1]

    def _centred_rows(self, used):
        """The centred columns as rows of the lazy table (``used``), and their centres."""
        columns, centres = self._centred()
        return np.searchsorted(used, columns).astype(np.int64), centres

    def _packed(self, weights):
        """The targets and ``weights`` as views of one array, a row's side by side.

        A random order reads a row's target and weight where it reads the
        row: two more cache misses a row, in arrays too large for the cache
        (1.6 MB each at 200,000 rows), beside the row's own 7 (float32) or
        13 (float64) lines. Side by side, one line holds both: an epoch
        took about 0.95x its time, in both dtypes (interleaved, loaded).
        The same values: the same model to the bit. Made once a fit.
        """
        if self.packed is None or self.packed[0] is not weights:
            both = np.empty((self.Y.shape[0], self.Y.shape[1] + 1))
            both[:, :-1] = self.Y
            both[:, -1] = weights
            self.packed = weights, both[:, :-1], both[:, -1]
            self.Y = both[:, :-1]  # (the same values: the float64 copy of Y freed)
        return self.packed[1:]

    def _zero_outside(self, V, X):
        """Whether V holds +0 on every column X does not store (lazy L1 keeps them there).

        Known from the last lazy epoch's write-back (see :meth:`_outside`),
        else read: a fit's columns X never stores start at 0, a stream's
        or a warm start's may not, and their thresholds would be owed.
        """
        used = self._rows(X)[0]
        zero = self.zero
        if zero is not None and zero[0] is V and zero[2] is used:
            return not np.signbit(zero[3][0]).any() and not zero[3][0].any()
        return holds_zeros(V, used, np.zeros(V.shape[0]))

    def _table(self, shape, n_kept, l1=False):
        """The lazy kernels' working table: one row a column X stores, kept from epoch to epoch.

        A row holds the column's ``n_kept`` values an output (the
        coefficients, then momentum's velocities or the average's held
        sums: see :func:`skgd._lazy_sgd._sparse_sgd_epoch`), its inverse
        scale and, for momentum, the step it is up to: a non-zero reads one
        place in memory, not one in each of several arrays. Allocated once
        a fit: a new array each epoch would cost the system's zeroing of
        its pages.

        Each row is whole cache lines, or a power of two of them that
        divides one (padded, from a line's start): a row of 6 values (5
        classes) straddled two lines one time in two, and each miss then
        waited for both (padded, a lazy epoch's batch steps took about a
        fifth less time on hashed text).
        """
        n_outputs, n_features = shape
        # + the inverse scale (+ momentum's step, or the step of lazy SGD's L1)
        width = n_kept * n_outputs + n_kept + (1 if l1 else 0)
        padded = 1 << (width - 1).bit_length() if width <= _LINE else -(-width // _LINE) * _LINE
        if self.table is None or self.table.shape != (n_features, padded):
            self.table = aligned((n_features, padded), 8 * _LINE)
        return self.table

    def _rows(self, X):
        """The columns X stores (and the centred ones), ascending; X's indices as rows of the table.

        Only these columns have a row: on hashed text, a table of every
        column (2**20 columns, 5 outputs: 50 MB) is read at random far
        from the cache, where one of the quarter X stores fits (a fit a
        sixth to a quarter quicker, on a busy machine). Kept for the fit: X
        is the same each epoch. A few rows (a stream's call) take their
        columns by sorting their indices, not by a pass over all columns.
        """
        if self.rows is None or self.rows[0] is not X.indices:
            if X.indices.shape[0] * 16 < X.shape[1]:  # (a stream's few rows: no column-sized pass)
                used, rows = np.unique(X.indices, return_inverse=True)
                used, rows = used.astype(np.intp), rows.astype(X.indices.dtype, copy=False)
            else:
                used, rows = stored_columns(X.indices, X.shape[1])
            columns = self._centred()[0]  # (a stream's may be stored by its earlier calls only)
            if not _holds(used, columns):
                used = np.union1d(used, columns).astype(np.intp)  # each a row of the table
                rows = np.searchsorted(used, X.indices).astype(X.indices.dtype, copy=False)
            self.rows = X.indices, used, rows
        return self.rows[1:]

    def _scratch(self, X, batch_size, n_outputs):
        """Lazy momentum's room for a batch's columns and their gradient, kept from epoch to epoch.

        As many as a batch can touch: up to every column, at the whole data
        (2**20 columns, 5 outputs: 48 MB, whose pages a new array each epoch
        would fault in again, about as slow as the epoch's own work there).
        """
        widest = int(np.diff(X.indptr).max(initial=0))
        n_centred = len(self._centred()[0])  # (a batch touches every centred column)
        size = max(1, min(X.shape[1], batch_size * widest + n_centred))
        kept = self.scratch
        if kept is None or kept[0].shape[0] < size or kept[1].shape[1] != n_outputs:
            kept = self.scratch = np.empty(size, dtype=np.int64), np.empty((size, n_outputs))
        return kept[0][:size], kept[1][:size]


def _holds(used, columns):
    """Whether ascending ``used`` holds every one of ``columns``."""
    if len(columns) == 0:
        return True
    places = np.searchsorted(used, columns)
    return bool(np.all(places < len(used)) and np.all(used[places] == columns))


def _slot(value, shape):
    """An optimizer's state as the kernel updates it: a writable float64 array of ``shape``.

    The kernel's own array from the last epoch is taken as it is: a copy
    would cost a pass over n_outputs × n_features values every epoch.
    ``value`` None (no state yet, or a restarted one) starts at zeros.
    """
    if value is None:
        return np.zeros(shape)
    if (
        isinstance(value, np.ndarray)
        and value.dtype == np.float64
        and value.shape == shape
        and value.flags.c_contiguous
        and value.flags.writeable
    ):
        return value
    # (np.full broadcasts as np.broadcast_to would, at a fraction of its cost on a
    # stream's one-row call, where each call's velocity starts at 0.0)
    return np.full(shape, value, dtype=np.float64)


def plan(objective, optimizer, X, Y, single, fit_intercept):
    """A :class:`Plan` when the compiled path covers this training, else None."""
    if not ENABLED or numba is None:
        return None
    code = _loss_code(objective.loss, Y, single)
    entry = _OPTIMIZERS.get(type(optimizer))
    if code is None or entry is None:
        return None
    if not isinstance(X, np.ndarray) and sparse.issparse(X) and X.format != "csr":
        return None
    return Plan(objective, optimizer, Y, code, *entry, fit_intercept)


def _warn_if_dense_on_sparse(plan, X, state, n_batches, l1):
    """A SparseEfficiencyWarning where an epoch on sparse X costs far more than its non-zeros.

    The lazy epochs (plain SGD, its average without L1, momentum without L1
    or averaging) cost a batch's non-zeros; the others move every
    coefficient at every batch, as the user guide says, which on hashed
    text is thousands of times the work: the standard library's source
    lines hashed to 2**20 columns, an epoch of Nesterov with L1 took over
    two minutes where plain SGD's whole fit took a second, and nothing said
    why. Warned when an epoch's updates pass ``_DENSE_WORK_WARNED`` and
    ``_DENSE_RATIO_WARNED`` times its non-zeros'.
    """
    V = state.V
    work = float(n_batches) * V.size
    if work < max(_DENSE_WORK_WARNED, _DENSE_RATIO_WARNED * X.nnz * V.shape[0]):
        return
    if plan.opt not in (_SGD, _MOMENTUM, _NESTEROV):
        why = f"{type(plan.optimizer).__name__}'s state moves every coefficient at every batch"
    elif l1 and plan.opt != _SGD:
        why = "with momentum, an L1 penalty moves every coefficient at every batch"
    elif state.average_from != np.inf:
        why = (
            "average with momentum or with an L1 penalty ('l1' or 'elasticnet') moves every "
            "coefficient at every batch (with optimizer='sgd' and penalty='l2', it does not)"
        )
    else:
        why = (
            "this fit's steps move every coefficient at every batch (L1 from a start "
            "not at 0 off X's columns, many centred columns, or momentum's step "
            "changing often)"
        )
    warn(
        f"{why}: on this sparse X an epoch updates {V.shape[1]:,} columns x "
        f"{V.shape[0]} outputs {n_batches:,} times, {work / max(X.nnz * V.shape[0], 1):,.0f} "
        "times the work of its non-zeros. Only the non-zeros cost with optimizer='sgd' "
        "(the default's choice on such X) and any penalty without average, or "
        "penalty='l2' with average; or with 'nesterov', penalty='l2' and no average. "
        "A larger batch_size divides this cost.",
        sparse.SparseEfficiencyWarning,
    )
