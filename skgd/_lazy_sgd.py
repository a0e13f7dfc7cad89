"""Plain SGD's lazy compiled epoch on sparse X: a batch costs O(its non-zeros).

With plain ``"sgd"`` the L2 penalty is a scale factor of each output's
coefficients (scikit-learn's ``wscale``): a step writes only the columns
its batch reads, through the table of :mod:`skgd._lazy_table`, and the
write-back (:mod:`skgd._writeback`) brings V back at the epoch's end. L1's
proximal steps (soft thresholds) add up: a coefficient no batch touched
from step a to step b takes one threshold, their sum (as SGDClassifier's
cumulative L1 penalty, here exact), when a batch next reads it.
Apart from lazy momentum (:mod:`skgd._lazy_momentum`) since it shares
nothing of its row work: each row's is written out in the epoch's loop.
"""

import math

import numpy as np

from ._compiled import _prefetch, _prefetch_item, jit, jit_inline
from ._lazy_table import _add_product, _add_products, _prefetch_x_row, _product
from ._steps import _row_loss
from ._writeback import _unscale

# Lazy SGD asks for the table rows of the row _AHEAD ahead in the epoch's order,
# and for X's row, target and weight of the row _ROWS_AHEAD ahead (see _sparse_sgd_epoch).
# Nearer than lazy momentum's (skgd._lazy_table._AHEAD, 8; its table rows are two lines):
# asked 8 rows ahead (240 lines on hashed text), lazy SGD's took longer than 3 (90): alone,
# 2**18 columns, 0.92x (2**20: 0.98x; 2 and 4 alike, 12 and 16 worse: interleaved variants
# of the kernel in one process, medians of 30). _ROWS_AHEAD must stay past it: X's indices
# are read to ask for the table's rows (at 8 and 8, 1.1x).
_AHEAD = 3
_ROWS_AHEAD = 16
# A batch of at most this many rows is still in cache when its update starts: the
# update asks for nothing ahead.
_CACHED_ROWS = 128
# Offsets within a table row, unsigned as the places they add to (numba types a sum
# of signed and unsigned integers as a float)
_ONE, _TWO, _THREE, _FOUR = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
_FIVE, _SIX, _SEVEN = np.uint64(5), np.uint64(6), np.uint64(7)
# While averaging, the scale V = scale * U goes into U once under this (see the epoch's steps)
_LEAST_AVERAGED_SCALE = 1e-4


@jit
def _sparse_sgd_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, table,
    used, centred, centres, filled, at_start, sums, outside, zeros,
):  # fmt: skip
    """Plain SGD on sparse X, lazily: a batch costs O(its non-zeros + K × its centred columns).

    L2 shrinks all of an output's coefficients by one factor a step, so
    they are kept as ``V[k] = scale[k] * U[k]`` (scikit-learn's ``wscale``)
    and a step writes only U's columns that the batch reads. Row u of
    ``table`` holds column ``used[u]`` of U, then the column's inverse
    scale, then zeros up to its padded width (see Plan._table): a non-zero
    reads and writes one cache line. V is written once, at the end, by
    :func:`_unscale` (which fills ``at_start`` and ``sums``).

    The work on each row is written out here, not in helpers: an array
    passed to a helper is reference-counted at each call (an atomic add
    each way), and a row's own work is a few hundred instructions. A row
    takes its table rows' values 8 (or 4, or 1) outputs at a time into
    local variables, reading padding as well: no test for the last output
    in the loop over the row's non-zeros. Each output's sum has the order
    and roundings of ``raw[k] += x * table[j, k]`` (see :func:`_add_product`),
    and the update adds 0 times x to the padding, a row's lanes at once
    (:func:`_add_products`). A non-zero's row is found as a place in the
    table taken flat, unsigned: one multiply, and its values at fixed
    offsets from it (indexed ``table[j, base + 1]``, each value took its
    own address and register, and a test for a negative index; the forward
    pass took 30 instructions a non-zero where it now takes 12).

    The few centred columns (table rows ``centred``, their ``x_mean /
    x_scale`` in ``centres``; see Plan._centred) are non-zero in every row
    in standardized coordinates: their stored values go as any other, and
    their means' share is one shift an output a batch in the forward pass
    (the numpy path's) and one update of theirs a batch, by the batch's
    summed gradient. None: the same arithmetic as without them.

    Averaging (``average``) is lazy too, as scikit-learn's averaged SGD on
    sparse X: the sum of the averaged iterates of a column with a table
    row is ``held + U[j, k] * summed[k]``, ``summed[k]`` the sum of output
    k's scales at those steps, ``held`` the table's value ``held_at + k``
    of the row (the plan gives it a row twice as wide: the non-zero's
    line, or the one beside it), and a step that moves U by d first takes
    ``d * summed[k]`` off ``held``. A column without a row was only
    shrunk: its sum is V's value times the sum of ``unused``. The sums go
    into ``V_average`` at the epoch's end (:func:`_fold_average`), the
    intercepts' average at each step as the numpy path's. (Not with L1,
    whose thresholds a column takes late: the plan runs the numpy path.)
    """
    n_outputs = V.shape[0]
    n = order.shape[0]
    inverse = n_outputs  # the table's column of 1 / x_scale
    # L1: the table's next column holds the batch up to whose threshold the row is
    # (see _catch_up_rows); thresholds[b, k]: the sum of output k's before batch b
    up_to = n_outputs + 1
    sparse_l1 = False
    for k in range(n_outputs):
        sparse_l1 |= l1[k] > 0
    n_batches = (n + batch_size - 1) // batch_size
    thresholds = np.zeros((n_batches + 1 if sparse_l1 else 1, n_outputs))
    width = table.shape[1]  # 2 (one output), 4 (two or three), or a multiple of 8
    # The table's rows as places in one flat array, unsigned (no test for a negative
    # index): a non-zero's values are then found from one register, at fixed offsets
    stride, at_inverse = np.uint64(width), np.uint64(inverse)
    flat = table.reshape(table.size)
    if not filled:  # (else the table holds V as the last epoch left it, see Plan.run)
        for u in range(used.shape[0]):
            j = used[u]
            for k in range(n_outputs):
                table[u, k] = V[k, j]
            table[u, inverse] = 1.0 / x_scale[j]
            for k in range(inverse + 1, width):
                table[u, k] = 0.0
    scale = np.ones(n_outputs)
    unused = np.ones(n_outputs)  # the scale of the columns without a row: the steps' shrinks
    g = np.empty((batch_size, n_outputs))
    raw, loss_g = np.empty(n_outputs), np.empty(n_outputs)  # a row's, for _row_loss
    lanes = np.zeros(8)  # (values of up to 8 outputs on their way)
    gc = np.empty(n_outputs)
    shift = np.zeros(n_outputs)  # the centred columns' means' share of each output, of U
    moved = np.empty(n_outputs)  # their step a batch, of U, by the centre
    # averaging (see above): the sums since this epoch's first averaged step, on which
    # ``tracking`` turns; before it they are 0, and a step has nothing to take off
    n_before, tracking = averaging[2], False
    held_at = inverse + 1  # (up_to's place: L1 does not average lazily)
    if averaging[0] != np.inf and filled:  # (a fresh fill has set them to 0)
        for u in range(used.shape[0]):
            for k in range(n_outputs):
                table[u, held_at + k] = 0.0
    summed, summed_unused, taken = np.zeros(n_outputs), np.zeros(n_outputs), np.empty(n_outputs)
    total, first = 0.0, np.nan
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        if centred.shape[0]:
            if sparse_l1:
                _catch_up_rows(table, centred, False, up_to, thresholds, batch)
            _centred_shift(table, centred, centres, shift)
        batch_loss = 0.0
        for r in range(m):
            position = start + r
            # Ask for X's row _ROWS_AHEAD on (its target and weight too), and for
            # the table rows of the row _AHEAD on, whose indices are in cache by now
            # (as skgd._lazy_table._prefetch_rows_ahead; at the epoch's start, for the
            # first rows).
            for ahead in range(
                position + _ROWS_AHEAD if position else 0, min(position + _ROWS_AHEAD + 1, n)
            ):
                _prefetch_x_row(data, indices, indptr, Y, weights, order[ahead])
            for ahead in range(position + _AHEAD if position else 0, min(position + _AHEAD + 1, n)):
                i = order[ahead]
                for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    for column in range(0, width, 8):
                        _prefetch(table, np.uint64(indices[q]), column)
            # forward (indices and positions as unsigned: no test for a negative index)
            i = order[position]
            lo, hi = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            if sparse_l1:  # the row's columns brought up to this batch's threshold
                for q in range(lo, hi):
                    _catch_up(flat, np.uint64(indices[q]) * stride, up_to, thresholds, batch)
            for base in range(0, n_outputs, 8):
                if width >= 8:
                    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
                    for q in range(lo, hi):
                        o = np.uint64(indices[q]) * stride  # (the row's place in flat)
                        x = data[q] * flat[o + at_inverse]
                        o += np.uint64(base)
                        a0 = _add_product(a0, x, flat[o])
                        a1 = _add_product(a1, x, flat[o + _ONE])
                        a2 = _add_product(a2, x, flat[o + _TWO])
                        a3 = _add_product(a3, x, flat[o + _THREE])
                        a4 = _add_product(a4, x, flat[o + _FOUR])
                        a5 = _add_product(a5, x, flat[o + _FIVE])
                        a6 = _add_product(a6, x, flat[o + _SIX])
                        a7 = _add_product(a7, x, flat[o + _SEVEN])
                    lanes[0], lanes[1], lanes[2], lanes[3] = a0, a1, a2, a3
                    lanes[4], lanes[5], lanes[6], lanes[7] = a4, a5, a6, a7
                elif width == 4:
                    a0 = a1 = a2 = a3 = 0.0
                    for q in range(lo, hi):
                        o = np.uint64(indices[q]) * stride
                        x = data[q] * flat[o + at_inverse]
                        a0 = _add_product(a0, x, flat[o])
                        a1 = _add_product(a1, x, flat[o + _ONE])
                        a2 = _add_product(a2, x, flat[o + _TWO])
                        a3 = _add_product(a3, x, flat[o + _THREE])
                    lanes[0], lanes[1], lanes[2], lanes[3] = a0, a1, a2, a3
                else:
                    a0 = 0.0
                    for q in range(lo, hi):
                        o = np.uint64(indices[q]) * stride
                        a0 = _add_product(a0, data[q] * flat[o + at_inverse], flat[o])
                    lanes[0] = a0
                for k in range(base, min(base + 8, n_outputs)):
                    raw[k] = lanes[k - base]
            for k in range(n_outputs):
                raw[k] = y_loc[k] + y_scale[k] * (scale[k] * (raw[k] - shift[k]) + c[k])
            loss = _row_loss(kind, param, Y, indexed, i, raw, loss_g)
            g_weight = weights[i] / m
            for k in range(n_outputs):  # (in _sparse_row's order: g * (g_scale * g_weight))
                g[r, k] = _product(loss_g[k], _product(g_scale[k], g_weight))
            if g_weight == 0.0:  # counts for nothing, even where its loss overflows
                loss = 0.0
                for k in range(n_outputs):
                    g[r, k] = 0.0
            batch_loss += weights[i] * loss
        if not np.isfinite(batch_loss):
            outside[3] = 0  # (V stays where it is: the loop sees it as the batches left it)
            if sparse_l1:
                _catch_up_rows(table, used, True, up_to, thresholds, batch, reset=True)
            if tracking:
                _fold_average(
                    V, V_average, table, held_at, summed, summed_unused, used, n_before,
                    averaging[2],
                )  # fmt: skip
            _unscale(V, table, scale, used, unused, at_start, sums, outside, zeros)
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
            # Before it underflows, the scale goes into U; while averaging, sooner: the
            # held sums lose the digits of U's growth, 1 / scale (under a strong L2, the
            # average off the numpy path's by 5e-9 of its largest value at 1e-9, 3e-13 at 1e-4)
            if abs(scale[k] * shrink) < (_LEAST_AVERAGED_SCALE if tracking else 1e-9):
                if sparse_l1:  # (the thresholds so far are in the units U leaves)
                    _catch_up_rows(table, used, True, up_to, thresholds, batch)
                    # every row is at batch: the sums start again from 0 (on the old
                    # sum, about 1e9 l1 / l2, the new steps' kept 9 digits fewer)
                    thresholds[batch, k] = 0.0
                if tracking:  # the sums so far into held, before U takes the scale
                    for u in range(used.shape[0]):
                        table[u, held_at + k] += table[u, k] * summed[k]
                    summed[k] = 0.0
                for u in range(used.shape[0]):
                    table[u, k] *= scale[k]
                scale[k] = 1.0
            scale[k] *= shrink
            unused[k] *= shrink
            if sparse_l1:  # this batch's threshold, step * l1 on V, in U's units
                thresholds[batch + 1, k] = thresholds[batch, k] + step * l1[k] / scale[k]
        for r in range(m):
            position = start + r
            if m > _CACHED_ROWS:  # (as in the forward pass, within the batch)
                for ahead in range(
                    position + _ROWS_AHEAD if r else position,
                    min(position + _ROWS_AHEAD + 1, start + m),
                ):
                    i = order[ahead]
                    lo, hi = indptr[i], indptr[i + 1]
                    for q in range(lo, hi, 8):
                        _prefetch_item(data, q)
                        _prefetch_item(indices, q)
                    if hi > lo:
                        _prefetch_item(data, hi - 1)
                        _prefetch_item(indices, hi - 1)
                for ahead in range(
                    position + _AHEAD if r else position, min(position + _AHEAD + 1, start + m)
                ):
                    i = order[ahead]
                    for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        for column in range(0, width, 8):
                            _prefetch(table, np.uint64(indices[q]), column)
            i = order[position]
            lo, hi = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            for base in range(0, n_outputs, 8):
                lanes[:] = 0.0  # the padding's lanes take 0 times x: their values stay
                for k in range(base, min(base + 8, n_outputs)):
                    lanes[k - base] = step * g[r, k] / scale[k]
                if width >= 8:
                    g0, g1, g2, g3 = -lanes[0], -lanes[1], -lanes[2], -lanes[3]
                    g4, g5, g6, g7 = -lanes[4], -lanes[5], -lanes[6], -lanes[7]
                    factors = (g0, g1, g2, g3, g4, g5, g6, g7)
                    for q in range(lo, hi):
                        o = np.uint64(indices[q]) * stride
                        x = data[q] * flat[o + at_inverse]
                        _add_products(flat, o + np.uint64(base), factors, x)
                elif width == 4:
                    g0, g1, g2, g3 = -lanes[0], -lanes[1], -lanes[2], -lanes[3]
                    factors4 = (g0, g1, g2, g3)
                    for q in range(lo, hi):
                        o = np.uint64(indices[q]) * stride
                        x = data[q] * flat[o + at_inverse]
                        _add_products(flat, o, factors4, x)
                else:
                    g0 = -lanes[0]
                    for q in range(lo, hi):
                        o = np.uint64(indices[q]) * stride
                        flat[o] = _add_product(flat[o], g0, data[q] * flat[o + at_inverse])
        if tracking:  # (apart from the rows' loop above, which plain SGD's fits run alone)
            for r in range(m):  # row r moved U[j, k] by -taken[k] / summed[k] times x
                i = order[start + r]
                for k in range(n_outputs):
                    taken[k] = step * g[r, k] / scale[k] * summed[k]
                for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    o = np.uint64(indices[q]) * stride
                    x = data[q] * flat[o + at_inverse]
                    o += np.uint64(held_at)
                    for k in range(n_outputs):
                        flat[o + np.uint64(k)] += taken[k] * x
        if centred.shape[0]:  # the means' share of the gradient: -gc[k] times the centre
            for k in range(n_outputs):
                moved[k] = step * gc[k] / scale[k]
            for u in range(centred.shape[0]):
                row = centred[u]
                for k in range(n_outputs):
                    table[row, k] = _add_product(table[row, k], moved[k], centres[u])
                    if tracking:
                        table[row, held_at + k] -= moved[k] * centres[u] * summed[k]
        if fit_intercept:
            for k in range(n_outputs):
                c[k] -= step * c_ratio * gc[k]
        averaging[1] += m
        if averaging[1] >= averaging[0]:  # (as _step_taken: the iterate joins the average)
            averaging[2] += 1
            share = 1.0 / averaging[2]
            for k in range(n_outputs):
                summed[k] += scale[k]
                summed_unused[k] += unused[k]
                c_average[k] += (c[k] - c_average[k]) * share
            tracking = True
    if sparse_l1:
        _catch_up_rows(table, used, True, up_to, thresholds, n_batches, reset=True)
    if tracking:
        _fold_average(
            V, V_average, table, held_at, summed, summed_unused, used, n_before, averaging[2]
        )
    _unscale(V, table, scale, used, unused, at_start, sums, outside, zeros)
    return total, n_batches, first, np.nan, t


@jit
def _fold_average(V, V_average, table, held_at, summed, summed_unused, used, n_before, n_after):
    """The epoch's averaged iterates into ``V_average``: ``n_before`` of them were in it.

    Each column's sum joins the average of the iterates before the epoch's,
    ``n_after`` of them now: first every column's as if only shrunk (V's
    value times the sum of ``unused``), then that of each column with a
    table row is corrected to its own, from its row (see
    :func:`_sparse_sgd_epoch`). Two passes, not one that asks of each
    column whether it has a row: on hashed text the answer is a coin toss,
    and the one pass took 35 ms an epoch at 2**20 columns, 5 outputs.
    """
    kept, share = n_before / n_after, 1.0 / n_after
    for k in range(V.shape[0]):
        shrunk = share * summed_unused[k]
        for j in range(V.shape[1]):
            V_average[k, j] = kept * V_average[k, j] + shrunk * V[k, j]
    for u in range(used.shape[0]):
        j = used[u]
        for k in range(V.shape[0]):
            total = table[u, held_at + k] + table[u, k] * summed[k]
            V_average[k, j] += share * (total - summed_unused[k] * V[k, j])


@jit
def _centred_shift(table, centred, centres, shift):
    """``shift[k]``: the sum of the centred columns' ``table[row, k] * centre``, in their order."""
    for k in range(shift.shape[0]):
        total = 0.0
        for u in range(centred.shape[0]):
            total = _add_product(total, table[centred[u], k], centres[u])
        shift[k] = total


@jit_inline
def _catch_up(flat, place, up_to, thresholds, batch):
    """The table row at ``place`` (of ``flat``) brought up to ``batch``'s L1 threshold.

    Soft thresholds add up: ``S_a(S_b(u)) = S_(a+b)(u)``, so the proximal
    steps of the batches since the row's last (its ``up_to`` column) are
    one, by the difference of the cumulative thresholds (in U's units, as
    V's step * l1 over the scale). A coefficient set to 0 stays there; a
    row already at ``batch`` is left as it is.
    """
    last = int(flat[place + np.uint64(up_to)])
    if last < batch:
        for k in range(thresholds.shape[1]):
            threshold = thresholds[batch, k] - thresholds[last, k]
            u = flat[place + np.uint64(k)]
            # (the sign without a branch: a coin toss a coefficient, which took the
            # epoch 23 ms where this takes 14, hashed text at 2**18 columns)
            flat[place + np.uint64(k)] = math.copysign(max(abs(u) - threshold, 0.0), u)
        flat[place + np.uint64(up_to)] = batch


@jit
def _catch_up_rows(table, rows, whole, up_to, thresholds, batch, reset=False):
    """:func:`_catch_up` of the table rows ``rows`` (``whole``: of every row), to ``batch``.

    The centred columns' rows at each batch; the whole table at the
    epoch's end and before a scale is taken into U. ``reset``: the rows
    are then marked at 0, where the next epoch's thresholds start.
    """
    flat = table.reshape(table.size)
    stride = np.uint64(table.shape[1])
    for r in range(table.shape[0] if whole else rows.shape[0]):
        row = np.uint64(r) if whole else np.uint64(rows[r])
        _catch_up(flat, row * stride, up_to, thresholds, batch)
        if reset:
            flat[row * stride + np.uint64(up_to)] = 0.0
