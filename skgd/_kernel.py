"""The compiled path: one epoch's batch steps for the built-in losses and optimizers.

The loop in :mod:`skgd._loop` asks, for each epoch, "run these batches":
forward, loss, backward and update, batch after batch. :func:`descend` in
that module answers in numpy, for any loss and optimizer. This module gives
the same answer, compiled with numba, when the loss and the optimizer are
built-in ones: the same arithmetic in the same order, one call per epoch
instead of some twenty numpy calls per batch. The epochs, the stop
criterion and early stopping stay in the loop, in plain Python.

Sparse X is usually not centred (its columns are divided by their largest
magnitude, see ``skgd._base``), so a batch touches only the coefficients of
its non-zero columns. With plain ``"sgd"`` the L2 penalty is a scale factor
of each output's coefficients (scikit-learn's ``wscale``); with momentum or
Nesterov at a constant step, a coefficient no batch touches follows a fixed
linear map, applied when a batch next reads it. Either way a batch costs
O(its non-zeros). On wide data those reads land anywhere in the model, a
cache miss each, so these two paths keep all that a non-zero needs (its
column's coefficients, velocities and scale) in one row of a table.
Adagrad, RMSprop and Adam keep a state that moves every coefficient at
every step, and L1 and averaging touch every coefficient: those cost
O(n_outputs × n_features) per batch on sparse data too.

The compiled passes over X that come before training, and the per-epoch
passes over the coefficients, are in :mod:`skgd._passes`.
"""

import math

import numpy as np
from scipy import sparse

from . import losses as L
from . import optim as O

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this is a safety net
    numba = None

# Set to False to train every model on the numpy path (the tests compare both).
ENABLED = True
# A random order's rows are prefetched this many rows before a batch reads them.
_ROWS_AHEAD = 16
# The lazy sparse kernels ask for the table rows of the batch row this many ahead,
# and for those of the column this many ahead (see _prefetch_table_ahead).
_AHEAD = 8
_AHEAD_COLUMNS = 32

# ------------------------------------------------------------------ codes

# Losses of one output at a time: of the residual raw - y, of the margin y * raw
_SQUARED, _ABSOLUTE, _HUBER, _EPSILON, _SQUARED_EPSILON, _POISSON = 0, 1, 2, 3, 4, 5
_LOGISTIC, _HINGE, _SQUARED_HINGE, _MODIFIED_HUBER, _PERCEPTRON = 10, 11, 12, 13, 14
# Losses of a whole row: softmax cross-entropy, Crammer and Singer's multiclass hinge
_SOFTMAX, _CRAMMER_SINGER = 20, 21

_RESIDUAL_LOSSES = {
    L.SquaredError: _SQUARED,
    L.AbsoluteError: _ABSOLUTE,
    L.L1Distance: _ABSOLUTE,
    L.Huber: _HUBER,
    L.EpsilonInsensitive: _EPSILON,
    L.SquaredEpsilonInsensitive: _SQUARED_EPSILON,
    L.Poisson: _POISSON,
}
_MARGIN_LOSSES = {
    L.LogLoss: _LOGISTIC,
    L.Hinge: _HINGE,
    L.SquaredHinge: _SQUARED_HINGE,
    L.ModifiedHuber: _MODIFIED_HUBER,
    L.Perceptron: _PERCEPTRON,
}
_SGD, _MOMENTUM, _NESTEROV, _ADAGRAD, _RMSPROP, _ADAM = range(6)
_OPTIMIZERS = {
    O.SGD: (_SGD, ()),
    O.Momentum: (_MOMENTUM, ("velocity",)),
    O.Nesterov: (_NESTEROV, ("velocity",)),
    O.Adagrad: (_ADAGRAD, ("sum_sq",)),
    O.RMSprop: (_RMSPROP, ("mean_sq",)),
    O.Adam: (_ADAM, ("m", "v")),
}


def _loss_code(loss, Y, single):
    """The kernel's code for ``loss`` and its parameter, or None for the numpy path."""
    kind = type(loss)  # exactly: a user's subclass may change anything
    param = float(getattr(loss, "delta", getattr(loss, "epsilon", 0.0)))
    if kind in _RESIDUAL_LOSSES:
        return _RESIDUAL_LOSSES[kind], param
    if kind in _MARGIN_LOSSES:
        if single or np.ndim(Y) == 2:
            return _MARGIN_LOSSES[kind], param
        # K classes as indices: one-vs-rest, except the two true multiclass forms
        return {L.LogLoss: _SOFTMAX, L.Hinge: _CRAMMER_SINGER}.get(kind, _MARGIN_LOSSES[kind]), 0.0
    return None


def _hyper(optimizer):
    """The optimizer's hyper-parameters as the kernel reads them: (decay, decay_2, epsilon)."""
    if isinstance(optimizer, O.Momentum):
        return np.array([optimizer.momentum, 0.0, 0.0])
    if isinstance(optimizer, O.RMSprop):
        return np.array([optimizer.rho, 0.0, optimizer.epsilon])
    if isinstance(optimizer, O.Adam):
        return np.array([optimizer.beta_1, optimizer.beta_2, optimizer.epsilon])
    if isinstance(optimizer, O.Adagrad):
        return np.array([0.0, 0.0, optimizer.epsilon])
    return np.zeros(3)


class Plan:
    """What the compiled epoch needs besides the batches: codes, targets, the penalty."""

    def __init__(self, objective, optimizer, Y, loss_code, opt_code, keys, fit_intercept):
        self.objective, self.optimizer = objective, optimizer
        self.kind, self.param = loss_code
        self.opt, self.keys = opt_code, keys
        self.fit_intercept = fit_intercept
        # the targets as one float array: values, -1/+1 signs, or class indices
        self.indexed = np.ndim(Y) == 1 and len(objective.y_loc) > 1
        self.Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
        o = objective
        self.g_scale = np.asarray(o.y_scale / o.loss_scale, dtype=np.float64)
        self.l1 = np.asarray(o.l1[:, 0], dtype=np.float64)
        self.l2 = np.asarray(o.l2[:, 0], dtype=np.float64)
        self.hyper = _hyper(optimizer)
        self.table = None  # the lazy kernels' working table, see _table
        self.held = None  # what the table holds from the last epoch, see run
        self.scratch = None  # lazy momentum's room for a batch's columns, see _scratch

    def run(self, state, X, weights, order, batch_size, steps, c_ratio=1.0):
        """Run the batches of one epoch on ``state``, in place.

        Returns ``(summed loss, batches done, first batch's loss, failed
        batch's loss)`` as :func:`skgd._loop.descend` does.
        """
        o = self.objective
        params = [state.V, state.c] if self.fit_intercept else [state.V]
        if not hasattr(self.optimizer, "state_"):
            self.optimizer.state_ = [{} for _ in params]
        slots = []  # the optimizer's state, as float64 arrays shaped like the parameters
        for param, kept in zip(params, self.optimizer.state_, strict=True):
            arrays = [_slot(kept.get(key, 0.0), param.shape) for key in self.keys]
            slots.append(arrays + [np.zeros(param.shape)] * (2 - len(arrays)))
        if not self.fit_intercept:
            slots.append([np.zeros(state.c.shape)] * 2)
        adam_t = int(self.optimizer.state_[0].get("t", 0))
        # [samples before averaging, samples seen, iterates averaged], updated in place
        averaging = np.array([state.average_from, state.seen, state.n_averaged], dtype=float)
        common = (
            self.Y,
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
            state.V_average,
            state.c_average,
            averaging,
        )
        # Lazy updates need uncentred columns, no L1 and no average (each moves
        # every coefficient at every step); momentum, also one step for the
        # whole epoch (one map for every untouched step).
        lazy = sparse.issparse(X) and state.average_from == np.inf  # (dense X: no test to pay)
        lazy = lazy and not (np.any(self.l1) or np.any(o.x_mean))
        lazy_sgd = lazy and self.opt == _SGD
        lazy_momentum = lazy and self.opt in (_MOMENTUM, _NESTEROV) and len(set(steps)) == 1
        # What the lazy table holds after a whole lazy epoch: this V, these
        # velocities, in this kind's layout. Anything else (a batch that
        # overflowed, another kernel, the loop writing V: forget) fills it afresh.
        held, self.held = self.held, None
        if sparse.issparse(X) and (lazy_sgd or lazy_momentum):
            kernel = _sparse_sgd_epoch if lazy_sgd else _sparse_momentum_epoch
            table = self._table(state.V.shape, 1 if lazy_sgd else 2)
            scratch = () if lazy_sgd else self._scratch(X, batch_size, state.V.shape[0])
            velocity = None if lazy_sgd else slots[0][0]  # (restart() makes a new one)
            holding = (kernel, state.V, velocity, table)
            filled = held is not None and all(a is b for a, b in zip(held, holding, strict=True))
            result = kernel(X.data, X.indices, X.indptr, *common, table, *scratch, filled)
            if result[1] == len(steps):
                self.held = holding
        elif sparse.issparse(X):
            result = _sparse_epoch(X.data, X.indices, X.indptr, *common)
        else:
            result = _dense_epoch(X, *common)
        total, done, first, failed, adam_t = result
        state.seen, state.n_averaged = int(averaging[1]), int(averaging[2])
        # (slots has an unused intercept's entry when fit_intercept=False)
        for param_slots, kept in zip(slots, self.optimizer.state_, strict=False):
            for key, array in zip(self.keys, param_slots, strict=False):
                kept[key] = array
            if self.opt == _ADAM:
                kept["t"] = adam_t
        return total, done, first, failed

    def forget(self):
        """The loop wrote V or the velocities itself: the next lazy epoch fills its table afresh."""
        self.held = None

    def _table(self, shape, n_kept):
        """The lazy kernels' working table: one row a column of X, kept from epoch to epoch.

        A row holds the column's ``n_kept`` values an output (the
        coefficients, then momentum's velocities), its inverse scale and,
        for momentum, the step it is up to: a non-zero reads one place in
        memory, not one in each of several arrays. Allocated once a fit: a
        new array each epoch would cost the system's zeroing of its pages.
        """
        n_outputs, n_features = shape
        width = n_kept * n_outputs + n_kept  # + the inverse scale (+ momentum's step)
        if self.table is None or self.table.shape != (n_features, width):
            self.table = np.empty((n_features, width))
        return self.table

    def _scratch(self, X, batch_size, n_outputs):
        """Lazy momentum's room for a batch's columns and their gradient, kept from epoch to epoch.

        As many as a batch can touch: up to every column, at the whole data
        (2**20 columns, 5 outputs: 48 MB, whose pages a new array each epoch
        would fault in again, about as slow as the epoch's own work there).
        """
        widest = int(np.diff(X.indptr).max(initial=0))
        size = max(1, min(X.shape[1], batch_size * widest))
        kept = self.scratch
        if kept is None or kept[0].shape[0] < size or kept[1].shape[1] != n_outputs:
            kept = self.scratch = np.empty(size, dtype=np.int64), np.empty((size, n_outputs))
        return kept[0][:size], kept[1][:size]


def _slot(value, shape):
    """An optimizer's state as the kernel updates it: a writable float64 array of ``shape``.

    The kernel's own array from the last epoch is taken as it is: a copy
    would cost a pass over n_outputs × n_features values every epoch.
    """
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
    if sparse.issparse(X) and X.format != "csr":
        return None
    return Plan(objective, optimizer, Y, code, *entry, fit_intercept)


# ------------------------------------------------------- compiled batch steps

if numba is not None:
    # reassociation lets sums vectorize; no "fast" flags that assume finite values,
    # since an overflow is how a diverging batch shows
    jit = numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
    from llvmlite import binding as _llvm
    from llvmlite import ir as _ir
    from numba.core import cgutils as _cgutils
    from numba.extending import intrinsic as _intrinsic

    # LLVM's name of its prefetch for the pointer type (opaque from LLVM 15 on)
    _PREFETCH = "llvm.prefetch.p0" if _llvm.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"

    def _prefetch_codegen(context, builder, signature, args):
        """``llvm.prefetch`` of the element of ``args[0]`` at the indices ``args[1:]``."""
        kind = signature.args[0]
        view = context.make_array(kind)(context, builder, args[0])
        # the indices as intp, whatever integers the caller has (CSR's are int32)
        indices = [
            context.cast(builder, value, index_type, numba.types.intp)
            for value, index_type in zip(args[1:], signature.args[1:], strict=True)
        ]
        pointer = _cgutils.get_item_pointer(context, builder, kind, view, indices, wraparound=False)
        byte = _ir.IntType(8).as_pointer()
        int32 = _ir.IntType(32)
        signature_ir = _ir.FunctionType(_ir.VoidType(), [byte, int32, int32, int32])
        function = _cgutils.get_or_insert_function(builder.module, signature_ir, _PREFETCH)
        # a read (0), kept in every cache level (3), of data (1)
        flags = [_ir.Constant(int32, value) for value in (0, 3, 1)]
        builder.call(function, [builder.bitcast(pointer, byte), *flags])
        return context.get_dummy_value()

    @_intrinsic
    def _prefetch(typingctx, array, row, column):
        """Ask the processor to bring ``array[row, column]`` into cache: a hint, no load.

        LLVM's ``llvm.prefetch`` (read, into every level of cache; it never
        faults). A loop of plain loads would serve too, but a load whose
        value is unused is removed by the compiler, and one that waits for
        its line holds up the work behind it.
        """
        return numba.types.void(array, row, column), _prefetch_codegen

    @_intrinsic
    def _prefetch_item(typingctx, array, index):
        """:func:`_prefetch` of ``array[index]``, for a 1-D array."""
        return numba.types.void(array, index), _prefetch_codegen

else:  # pragma: no cover

    def jit(function):
        return function

    def _prefetch(array, row, column):
        pass

    def _prefetch_item(array, index):
        pass


@jit
def _element(kind, param, y, raw):
    """Loss and derivative of one output: of the residual, or of the margin ``y * raw``."""
    if kind < _LOGISTIC:
        if kind == _POISSON:
            clipped = min(raw, 500.0)
            slope = math.exp(clipped)
            return slope * (1.0 + (raw - clipped)) - y * raw, slope - y
        r = raw - y
        a = abs(r)
        sign = 1.0 if r > 0 else (-1.0 if r < 0 else 0.0)
        if kind == _SQUARED:
            return 0.5 * r * r, r
        if kind == _ABSOLUTE:
            return a, sign
        if kind == _HUBER:
            if a <= param:
                return 0.5 * r * r, r
            return param * (a - 0.5 * param), sign * param
        if kind == _EPSILON:
            return max(0.0, a - param), sign if a > param else 0.0
        excess = max(0.0, a - param)  # squared epsilon-insensitive
        return excess * excess, 2.0 * sign * excess
    z = y * raw
    if kind == _LOGISTIC:
        value = math.log1p(math.exp(-z)) if z > 0 else -z + math.log1p(math.exp(z))
        return value, -y / (1.0 + math.exp(z))
    if kind == _HINGE:
        return max(0.0, 1.0 - z), -y if z < 1.0 else 0.0
    if kind == _SQUARED_HINGE:
        excess = max(0.0, 1.0 - z)
        return excess * excess, -2.0 * y * excess
    if kind == _MODIFIED_HUBER:
        if z >= -1.0:
            excess = max(0.0, 1.0 - z)
            return excess * excess, -2.0 * y * excess
        return -4.0 * z, -4.0 * y
    return max(0.0, -z), -y if z <= 0.0 else 0.0  # perceptron


@jit
def _row_loss(kind, param, Y, indexed, i, raw, g):
    """The loss of one row of raw predictions; its derivative goes into ``g``."""
    n_outputs = raw.shape[0]
    if kind == _SOFTMAX:
        label = int(Y[i, 0])
        top = raw.max()
        total = 0.0
        for k in range(n_outputs):
            g[k] = math.exp(raw[k] - top)
            total += g[k]
        for k in range(n_outputs):
            g[k] /= total
        g[label] -= 1.0
        return top + math.log(total) - raw[label]
    if kind == _CRAMMER_SINGER:
        label = int(Y[i, 0])
        rival = -1
        for k in range(n_outputs):
            g[k] = 0.0
            if k != label and (rival < 0 or raw[k] > raw[rival]):
                rival = k
        margin = 1.0 + raw[rival] - raw[label]
        if margin > 0:
            g[rival], g[label] = 1.0, -1.0
        return max(0.0, margin)
    total = 0.0
    for k in range(n_outputs):
        if indexed:  # class indices: a -1/+1 column a class
            y = 1.0 if k == int(Y[i, 0]) else -1.0
        else:
            y = Y[i, k]
        value, slope = _element(kind, param, y, raw[k])
        g[k] = slope
        total += value
    return total


@jit
def _update(opt, hyper, P, G, S1, S2, step, t):
    """One optimizer step on a flat parameter array, as the classes in skgd.optim do it."""
    decay, decay_2, epsilon = hyper[0], hyper[1], hyper[2]
    for q in range(P.shape[0]):
        g = G[q]
        if opt == _SGD:
            P[q] -= step * g
        elif opt == _MOMENTUM or opt == _NESTEROV:
            S1[q] = decay * S1[q] - step * g
            if opt == _MOMENTUM:
                P[q] -= -S1[q]
            else:
                P[q] -= -(decay * S1[q] - step * g)
        elif opt == _ADAGRAD:
            S1[q] = S1[q] + g * g
            P[q] -= step * g / (math.sqrt(S1[q]) + epsilon)
        elif opt == _RMSPROP:
            S1[q] = decay * S1[q] + (1 - decay) * g * g
            P[q] -= step * g / (math.sqrt(S1[q]) + epsilon)
        else:  # Adam
            S1[q] = decay * S1[q] + (1 - decay) * g
            S2[q] = decay_2 * S2[q] + (1 - decay_2) * g * g
            m_hat = S1[q] / (1 - decay**t)
            v_hat = S2[q] / (1 - decay_2**t)
            P[q] -= step * m_hat / (math.sqrt(v_hat) + epsilon)


@jit
def _step_all(opt, hyper, V, c, gV, gc, SV1, SV2, Sc1, Sc2, step, c_step, t, fit_intercept, l1):
    """Update V (and c), then L1's proximal step on V."""
    _update(opt, hyper, V.reshape(-1), gV.reshape(-1), SV1.reshape(-1), SV2.reshape(-1), step, t)
    if fit_intercept:
        _update(opt, hyper, c, gc, Sc1, Sc2, c_step, t)
    for k in range(V.shape[0]):
        if l1[k] > 0:
            threshold = step * l1[k]
            for j in range(V.shape[1]):
                v = V[k, j]
                shrunk = max(abs(v) - threshold, 0.0)
                V[k, j] = shrunk if v > 0 else (-shrunk if v < 0 else 0.0)


@jit
def _dense_epoch(
    X, Y, indexed, weights, order, batch_size, steps, c_ratio, V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging,
):  # fmt: skip
    n_outputs, n_features = V.shape
    n = order.shape[0]
    ahead = _ROWS_AHEAD
    W = np.empty((n_outputs, n_features))
    b = np.empty(n_outputs)
    raw = np.empty((batch_size, n_outputs))
    g = np.empty((batch_size, n_outputs))
    gV = np.empty((n_outputs, n_features))
    gc = np.empty(n_outputs)
    total, first = 0.0, np.nan
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        # the model in the units of X: raw = X @ W.T + b
        for k in range(n_outputs):
            shift = 0.0
            for j in range(n_features):
                W[k, j] = y_scale[k] * (V[k, j] / x_scale[j])
                shift += W[k, j] * x_mean[j]
            b[k] = y_loc[k] + y_scale[k] * c[k] - shift
        # forward, loss and backward, a row at a time while it is in cache
        batch_loss = 0.0
        gV[:] = 0.0
        gc[:] = 0.0
        for r in range(m):
            _prefetch_ahead(X, Y, weights, order, start + r + ahead)
            i = order[start + r]
            if weights[i] == 0.0:  # counts for nothing, even where its loss overflows
                continue
            for k in range(n_outputs):
                acc = 0.0
                for j in range(n_features):
                    acc += X[i, j] * W[k, j]
                raw[r, k] = acc + b[k]
            if kind < _SOFTMAX:  # one output at a time: no call per row
                row_loss = 0.0
                for k in range(n_outputs):
                    y = (1.0 if k == int(Y[i, 0]) else -1.0) if indexed else Y[i, k]
                    value, g[r, k] = _element(kind, param, y, raw[r, k])
                    row_loss += value
            else:
                row_loss = _row_loss(kind, param, Y, indexed, i, raw[r], g[r])
            batch_loss += weights[i] * row_loss
            for k in range(n_outputs):
                gk = g[r, k] * (g_scale[k] * (weights[i] / m))
                gc[k] += gk
                for j in range(n_features):
                    gV[k, j] += X[i, j] * gk
        if not np.isfinite(batch_loss):
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        # the gradient in standardized coordinates
        for k in range(n_outputs):
            for j in range(n_features):
                gV[k, j] = gV[k, j] / x_scale[j] - gc[k] * (x_mean[j] / x_scale[j])
                gV[k, j] += l2[k] * V[k, j]
        t += 1
        step = steps[batch]
        _step_all(
            opt, hyper, V, c, gV, gc, SV1, SV2, Sc1, Sc2, step, step * c_ratio, t, fit_intercept, l1
        )
        _step_taken(averaging, m, V, c, V_average, c_average)
    return total, n_batches, first, np.nan, t


@jit
def _prefetch_ahead(X, Y, weights, order, position):
    """Prefetch the row that the batches read at ``position`` of ``order``, if scattered.

    A random row is a cache miss that the CPU's own prefetchers cannot
    foresee: asked for some rows ahead, the reads overlap instead of
    waiting in turn. Its target and weight too: the loss waits for them
    before the row's backward pass can start, and on a busy machine their
    arrays (1.6 MB each at 200,000 rows) are not in cache either; left to
    be read when needed, they took a third of a random epoch. A row that
    follows the one before it (sequential order, ``shuffle="blocks"``) is
    left to the hardware.
    """
    if position >= order.shape[0] or (position > 0 and order[position] == order[position - 1] + 1):
        return
    i = order[position]
    n_features = X.shape[1]
    line = max(1, 64 // X.itemsize)  # values a cache line
    for j in range(0, n_features, line):
        _prefetch(X, i, j)
    _prefetch(X, i, n_features - 1)
    _prefetch(Y, i, 0)
    _prefetch_item(weights, i)


@jit
def _step_taken(averaging, n_rows, V, c, V_average, c_average):
    """Count the batch's samples; add the iterate to the average once it runs."""
    averaging[1] += n_rows
    if averaging[1] >= averaging[0]:
        averaging[2] += 1
        share = 1.0 / averaging[2]
        for k in range(V.shape[0]):
            for j in range(V.shape[1]):
                V_average[k, j] += (V[k, j] - V_average[k, j]) * share
            c_average[k] += (c[k] - c_average[k]) * share


@jit
def _sparse_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging,
):  # fmt: skip
    """Any optimizer on sparse X, with a dense gradient: O(n_outputs × n_features) a batch."""
    n_outputs, n_features = V.shape
    n = order.shape[0]
    raw = np.empty((batch_size, n_outputs))
    g = np.empty((batch_size, n_outputs))
    gc = np.empty(n_outputs)
    centred = np.any(x_mean != 0)  # then every column moves
    shift = np.zeros(n_outputs)
    inverse_scale = 1.0 / x_scale
    gV = np.empty((n_outputs, n_features))
    total, first = 0.0, np.nan
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        if centred:  # the mean's share of each output: the centring, done implicitly
            for k in range(n_outputs):
                shift[k] = 0.0
                for j in range(n_features):
                    shift[k] += V[k, j] * (x_mean[j] / x_scale[j])
        batch_loss = 0.0
        for r in range(m):
            i = order[start + r]
            for k in range(n_outputs):
                raw[r, k] = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                x = data[q] * inverse_scale[j]
                for k in range(n_outputs):
                    raw[r, k] += x * V[k, j]
            for k in range(n_outputs):
                raw[r, k] = y_loc[k] + y_scale[k] * (raw[r, k] - shift[k] + c[k])
            row_loss = _row_loss(kind, param, Y, indexed, i, raw[r], g[r])
            for k in range(n_outputs):
                g[r, k] *= g_scale[k] * (weights[i] / m)
            if weights[i] == 0.0:  # counts for nothing, even where its loss overflows
                row_loss = 0.0
                g[r, :] = 0.0
            batch_loss += weights[i] * row_loss
        if not np.isfinite(batch_loss):
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        gc[:] = 0.0
        for r in range(m):
            for k in range(n_outputs):
                gc[k] += g[r, k]
        for k in range(n_outputs):
            for j in range(n_features):
                gV[k, j] = l2[k] * V[k, j] - gc[k] * (x_mean[j] / x_scale[j])
        for r in range(m):
            i = order[start + r]
            for k in range(n_outputs):
                gk = g[r, k]
                for q in range(indptr[i], indptr[i + 1]):
                    j = indices[q]
                    gV[k, j] += gk * (data[q] / x_scale[j])
        t += 1
        step = steps[batch]
        _step_all(
            opt, hyper, V, c, gV, gc, SV1, SV2, Sc1, Sc2, step, step * c_ratio, t,
            fit_intercept, l1,
        )  # fmt: skip
        _step_taken(averaging, m, V, c, V_average, c_average)
    return total, n_batches, first, np.nan, t


@jit
def _prefetch_column(table, j):
    """Ask for column j's row of ``table``, every cache line of it."""
    last = table.shape[1] - 1
    for column in range(0, last, 8):  # 8 float64: a cache line
        _prefetch(table, j, column)
    _prefetch(table, j, last)


@jit
def _prefetch_table_ahead(indices, indptr, order, start, m, r, table):
    """At row r of the batch from ``start`` of ``order``, ask for the table rows of row r + _AHEAD.

    On wide data each is a cache miss. Asked for ahead, the misses overlap
    with the work on the rows before; met one at a time by the work on each
    non-zero, they wait in turn (this halved lazy momentum's epoch on 2**18
    columns, and took a tenth to a fifth off plain SGD's). Row 0 asks for
    the first rows too.
    """
    for ahead in range(r + _AHEAD if r else 0, min(r + _AHEAD + 1, m)):
        i = order[start + ahead]
        for q in range(indptr[i], indptr[i + 1]):
            _prefetch_column(table, indices[q])


@jit
def _sparse_row(
    data, indices, indptr, i, table, inverse, scale, c, y_loc, y_scale,
    kind, param, Y, indexed, g_scale, g_weight, raw, g, powers, batch,
):  # fmt: skip
    """Forward and loss of sparse row i from its columns' rows of ``table``, in O(its non-zeros).

    ``table[j, :K]`` holds column j's coefficients (times ``scale`` per
    output), ``table[j, inverse]`` the column's inverse scale. Fills ``raw``
    and ``g`` (the loss's gradient, times ``g_scale * g_weight``) and
    returns the row's loss. For lazy momentum (``powers`` not None), each
    column is brought to step ``batch`` on the way (its untouched steps
    as one map, see :func:`_momentum_powers`; ``table[j, -1]`` is the step
    it is up to).
    """
    n_outputs = raw.shape[0]
    up_to = table.shape[1] - 1
    for k in range(n_outputs):
        raw[k] = 0.0
    for q in range(indptr[i], indptr[i + 1]):
        j = indices[q]
        x = data[q] * table[j, inverse]
        if powers is not None:  # (decided when compiling) lazy momentum: catch up
            s = batch - int(table[j, up_to])
            if s > 0:
                for k in range(n_outputs):
                    p, v = _advance(powers, s, k, table[j, k], table[j, n_outputs + k])
                    table[j, k], table[j, n_outputs + k] = p, v
                    raw[k] += x * p
                table[j, up_to] = batch
                continue
        for k in range(n_outputs):
            raw[k] += x * table[j, k]
    for k in range(n_outputs):
        raw[k] = y_loc[k] + y_scale[k] * (scale[k] * raw[k] + c[k])
    loss = _row_loss(kind, param, Y, indexed, i, raw, g)
    if g_weight == 0.0:  # a row of weight 0 counts for nothing, even where its loss overflows
        g[:] = 0.0
        return 0.0
    for k in range(n_outputs):
        g[k] *= g_scale[k] * g_weight
    return loss


@jit
def _sparse_sgd_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, table,
    filled,
):  # fmt: skip
    """Plain SGD on uncentred sparse X, lazily: a batch costs O(its non-zeros).

    L2 shrinks all of an output's coefficients by one factor a step, so
    they are kept as ``V[k] = scale[k] * U[k]`` (scikit-learn's ``wscale``)
    and a step writes only U's columns that the batch reads. Row j of
    ``table`` holds column j of U, then the column's inverse scale: a
    non-zero reads and writes one cache line.
    """
    n_outputs, n_features = V.shape
    n = order.shape[0]
    inverse = n_outputs  # the table's column of 1 / x_scale
    if not filled:  # (else the table holds V as the last epoch left it, see Plan.run)
        for j in range(n_features):
            for k in range(n_outputs):
                table[j, k] = V[k, j]
            table[j, inverse] = 1.0 / x_scale[j]
    scale = np.ones(n_outputs)
    raw = np.empty((batch_size, n_outputs))
    g = np.empty((batch_size, n_outputs))
    gc = np.empty(n_outputs)
    total, first = 0.0, np.nan
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        batch_loss = 0.0
        for r in range(m):
            _prefetch_table_ahead(indices, indptr, order, start, m, r, table)
            i = order[start + r]
            batch_loss += weights[i] * _sparse_row(
                data, indices, indptr, i, table, inverse, scale, c, y_loc, y_scale,
                kind, param, Y, indexed, g_scale, weights[i] / m, raw[r], g[r], None, 0,
            )  # fmt: skip
        if not np.isfinite(batch_loss):
            _unscale(V, table, scale)
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        gc[:] = 0.0
        for r in range(m):
            for k in range(n_outputs):
                gc[k] += g[r, k]
        step = steps[batch]
        t += 1
        for k in range(n_outputs):
            shrink = 1.0 - step * l2[k]
            if abs(scale[k] * shrink) < 1e-9:  # before it underflows: into U
                for j in range(n_features):
                    table[j, k] *= scale[k]
                scale[k] = 1.0
            scale[k] *= shrink
        for r in range(m):
            _prefetch_table_ahead(indices, indptr, order, start, m, r, table)
            i = order[start + r]
            for k in range(n_outputs):
                g[r, k] = step * g[r, k] / scale[k]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                x = data[q] * table[j, inverse]
                for k in range(n_outputs):
                    table[j, k] -= g[r, k] * x
        if fit_intercept:
            for k in range(n_outputs):
                c[k] -= step * c_ratio * gc[k]
        averaging[1] += m  # (lazy: never averaging)
    _unscale(V, table, scale)
    return total, n_batches, first, np.nan, t


@jit
def _unscale(V, table, scale):
    """Back from the lazy form ``V = scale * U``, U in the table's first columns.

    The table is left holding V (as rounded in V's dtype), as a fresh fill
    would: the next epoch can start from it.
    """
    for j in range(V.shape[1]):  # the table row by row: one pass over it
        for k in range(V.shape[0]):
            V[k, j] = scale[k] * table[j, k]
            table[j, k] = V[k, j]


@jit
def _momentum_powers(opt, decay, step, l2, n_steps):
    """``A**s`` for s = 0..n_steps, per output: s untouched steps of momentum, as one map.

    Untouched, a coefficient's gradient is its L2 term ``l2 * p``; one step
    of heavy-ball momentum maps ``(p, v)`` linearly, by
    ``[[1 - h l2, μ], [-h l2, μ]]``, and one of Nesterov's by
    ``[[1 - h l2 (1 + μ), μ²], [-h l2, μ]]``. Shaped (n_steps + 1,
    n_outputs, 2, 2): a column's outputs read one place.
    """
    n_outputs = l2.shape[0]
    powers = np.empty((n_steps + 1, n_outputs, 2, 2))
    for k in range(n_outputs):
        shrink = step * l2[k]
        if opt == _MOMENTUM:
            A = np.array([[1.0 - shrink, decay], [-shrink, decay]])
        else:
            A = np.array([[1.0 - shrink * (1.0 + decay), decay * decay], [-shrink, decay]])
        powers[0, k] = np.eye(2)
        for s in range(1, n_steps + 1):
            powers[s, k] = A @ powers[s - 1, k]
    return powers


@jit
def _advance(powers, s, k, p, v):
    """Output k's coefficient and velocity ``(p, v)`` after s untouched steps."""
    if s == 0:
        return p, v
    return (
        powers[s, k, 0, 0] * p + powers[s, k, 0, 1] * v,
        powers[s, k, 1, 0] * p + powers[s, k, 1, 1] * v,
    )


@jit
def _momentum_out(V, SV1, table, batch, powers):
    """V and SV1 from the table, every column brought to step ``batch``.

    The table is left holding them (V as rounded in its dtype) at step 0, as
    a fresh fill would: the next epoch can start from it.
    """
    n_outputs = V.shape[0]
    up_to = 2 * n_outputs + 1
    for j in range(V.shape[1]):  # the table row by row: one pass over it
        s = batch - int(table[j, up_to])
        for k in range(n_outputs):
            V[k, j], SV1[k, j] = _advance(powers, s, k, table[j, k], table[j, n_outputs + k])
            table[j, k], table[j, n_outputs + k] = V[k, j], SV1[k, j]
        table[j, up_to] = 0.0


@jit
def _sparse_momentum_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, table,
    touched, grad, filled,
):  # fmt: skip
    """Momentum on sparse X at a constant step, lazily: a batch costs O(its non-zeros).

    A column no batch touches follows a fixed linear map (see
    :func:`_momentum_powers`), applied all at once when a batch next reads
    it, and to every column at the end of the epoch. Row j of ``table``
    holds column j's coefficients, their velocities, the column's inverse
    scale and the step the row is up to: a non-zero reads one place.
    """
    n_outputs, n_features = V.shape
    n = order.shape[0]
    n_batches = (n + batch_size - 1) // batch_size
    decay, step = hyper[0], steps[0]
    powers = _momentum_powers(opt, decay, step, l2, n_batches)
    velocity, inverse, up_to = n_outputs, 2 * n_outputs, 2 * n_outputs + 1  # table columns
    if not filled:  # (else the table holds V and SV1 as the last epoch left them)
        for j in range(n_features):
            for k in range(n_outputs):
                table[j, k] = V[k, j]
                table[j, velocity + k] = SV1[k, j]
            table[j, inverse] = 1.0 / x_scale[j]
            table[j, up_to] = 0.0
    # touched, grad: a batch's columns, each once, and the data's gradient on
    # them, in the order the batch first reads them (see Plan._scratch)
    raw = np.empty((batch_size, n_outputs))
    g = np.empty((batch_size, n_outputs))
    gc = np.empty(n_outputs)
    unscaled = np.ones(n_outputs)
    total, first = 0.0, np.nan
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        batch_loss = 0.0
        for r in range(m):
            _prefetch_table_ahead(indices, indptr, order, start, m, r, table)
            i = order[start + r]
            batch_loss += weights[i] * _sparse_row(  # the row's columns brought up to date
                data, indices, indptr, i, table, inverse, unscaled, c, y_loc, y_scale,
                kind, param, Y, indexed, g_scale, weights[i] / m, raw[r], g[r], powers, batch,
            )  # fmt: skip
        if not np.isfinite(batch_loss):
            _momentum_out(V, SV1, table, batch, powers)
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        # backward: the data's gradient on the batch's columns
        n_touched = 0
        gc[:] = 0.0
        for r in range(m):
            _prefetch_table_ahead(indices, indptr, order, start, m, r, table)
            i = order[start + r]
            for k in range(n_outputs):
                gc[k] += g[r, k]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                if table[j, up_to] == batch:  # first seen in this backward pass:
                    slot = n_touched  # its place in grad, marked in the table
                    table[j, up_to] = -1.0 - slot
                    touched[slot] = j
                    grad[slot] = 0.0
                    n_touched += 1
                else:
                    slot = int(-1.0 - table[j, up_to])
                x = data[q] * table[j, inverse]
                for k in range(n_outputs):
                    grad[slot, k] += g[r, k] * x
        t += 1
        # update: the touched columns as momentum does it, the others later
        for u in range(n_touched):
            if u + _AHEAD_COLUMNS < n_touched:
                _prefetch_column(table, touched[u + _AHEAD_COLUMNS])
            j = touched[u]
            for k in range(n_outputs):
                gk = grad[u, k] + l2[k] * table[j, k]
                v = decay * table[j, velocity + k] - step * gk
                table[j, velocity + k] = v
                if opt == _MOMENTUM:
                    table[j, k] -= -v
                else:
                    table[j, k] -= -(decay * v - step * gk)
            table[j, up_to] = batch + 1
        if fit_intercept:
            _update(opt, hyper, c, gc, Sc1, Sc2, step * c_ratio, t)
        averaging[1] += m  # (lazy: never averaging)
    _momentum_out(V, SV1, table, n_batches, powers)
    return total, n_batches, first, np.nan, t
