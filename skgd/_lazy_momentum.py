"""Lazy momentum's compiled epoch on sparse X: a batch costs O(its non-zeros).

With momentum or Nesterov at a step constant over runs of batches, a
coefficient no batch touches follows a fixed linear map a run, applied
when a batch next reads it (:func:`_catch_up`) and to every column at the
epoch's end (:func:`_momentum_out`). Coefficients and velocities are read
through the table of :mod:`skgd._lazy_table`; :mod:`skgd._kernel` decides
when the lazy steps apply (:func:`step_runs`).
"""

import numpy as np

from ._compiled import _MOMENTUM, _prefetch, jit, jit_inline
from ._lazy_table import _add_product, _prefetch_column, _prefetch_rows_ahead, _product
from ._steps import _row_loss, _update
from ._writeback import (
    _BLOCK,
    _WRITE_AHEAD,
    _check_finite,
    _first_outside,
    _rows_before,
    _same_zero,
    _spill,
    _zeros_found,
)

# The epoch asks for the table row of the batch's touched column this many ahead.
_AHEAD_COLUMNS = 32
# Lazy momentum's runs of equal steps at most (see step_runs).
_RUNS = 32
# A batch of at most this many rows is still in cache when its backward pass starts:
# that pass asks for nothing ahead.
_CACHED_ROWS = 128


@jit_inline
def _sparse_row(
    data, indices, indptr, i, table, inverse, scale, shift, c, y_loc, y_scale,
    kind, param, Y, indexed, g_scale, g_weight, raw, g, powers, runs, batch,
):  # fmt: skip
    """Forward and loss of sparse row i from its columns' rows of ``table``, in O(its non-zeros).

    ``table[j, :K]`` holds column j's coefficients (times ``scale`` per
    output), ``table[j, inverse]`` the column's inverse scale. Fills ``raw``
    and ``g`` (the loss's gradient, times ``g_scale * g_weight``) and
    returns the row's loss. ``shift``: the centred columns' means' share
    of each output (see :func:`_centred_shift`). For lazy momentum (``powers`` not None), each
    column is brought to step ``batch`` on the way (its untouched steps
    as one map a run of equal steps, see :func:`_momentum_powers`;
    ``table[j, 2 * K + 1]`` is the step it is up to).
    """
    n_outputs = raw.shape[0]
    up_to = 2 * n_outputs + 1  # (lazy momentum's table; rows are padded, see Plan._table)
    for k in range(n_outputs):
        raw[k] = 0.0
    for q in range(indptr[i], indptr[i + 1]):
        j = indices[q]
        x = data[q] * table[j, inverse]
        if powers is not None:  # (decided when compiling) lazy momentum: catch up
            a = int(table[j, up_to])
            if a < batch:
                for k in range(n_outputs):
                    p, v = _catch_up(
                        powers, runs, a, batch, k, table[j, k], table[j, n_outputs + k]
                    )
                    table[j, k], table[j, n_outputs + k] = p, v
                    raw[k] = _add_product(raw[k], x, p)
                table[j, up_to] = batch
                continue
        for k in range(n_outputs):
            raw[k] = _add_product(raw[k], x, table[j, k])
    for k in range(n_outputs):
        raw[k] = y_loc[k] + y_scale[k] * (scale[k] * (raw[k] - shift[k]) + c[k])
    loss = _row_loss(kind, param, Y, indexed, i, raw, g)
    if g_weight == 0.0:  # a row of weight 0 counts for nothing, even where its loss overflows
        g[:] = 0.0
        return 0.0
    for k in range(n_outputs):  # (inlined in the kernels: never regrouped)
        g[k] = _product(g[k], _product(g_scale[k], g_weight))
    return loss


def step_runs(steps):
    """Where the runs of equal steps start in ``steps``, then its length; None beyond _RUNS runs.

    Lazy momentum maps a column's untouched steps one run at a time: the
    few runs of an annealed epoch (see :func:`skgd._schedules._annealed`) cost
    little, a step that changes at every batch (``"invscaling"``) would
    cost a map a batch for every column read.
    """
    steps = np.asarray(steps)
    starts = np.flatnonzero(np.diff(steps)) + 1
    if len(starts) + 1 > _RUNS:
        return None
    return np.concatenate([[0], starts, [len(steps)]]).astype(np.int64)


@jit
def _momentum_powers(opt, decay, steps, runs, l2):
    """``A**s`` for each run of equal steps and s = 0..its length, per output.

    Untouched, a coefficient's gradient is its L2 term ``l2 * p``; one step
    of heavy-ball momentum maps ``(p, v)`` linearly, by
    ``[[1 - h l2, μ], [-h l2, μ]]``, and one of Nesterov's by
    ``[[1 - h l2 (1 + μ), μ²], [-h l2, μ]]``. Run r's powers start at
    ``runs[r] + r``: shaped (steps + runs, n_outputs, 2, 2), a column's
    outputs read one place.
    """
    n_outputs = l2.shape[0]
    n_runs = runs.shape[0] - 1
    powers = np.empty((runs[-1] + n_runs, n_outputs, 2, 2))
    for r in range(n_runs):
        first, n_steps = runs[r] + r, runs[r + 1] - runs[r]
        step = steps[runs[r]]
        for k in range(n_outputs):
            shrink = step * l2[k]
            if opt == _MOMENTUM:
                A = np.array([[1.0 - shrink, decay], [-shrink, decay]])
            else:
                A = np.array([[1.0 - shrink * (1.0 + decay), decay * decay], [-shrink, decay]])
            powers[first, k] = np.eye(2)
            for s in range(1, n_steps + 1):
                powers[first + s, k] = A @ powers[first + s - 1, k]
    return powers


@jit_inline
def _advance(powers, s, k, p, v):
    """Output k's coefficient and velocity ``(p, v)`` by ``powers[s]``.

    Inlined in the kernels, each in the roundings it had compiled on its
    own: the product with v rounded, the one with p fused into the sum.
    """
    return (
        _add_product(_product(powers[s, k, 0, 1], v), powers[s, k, 0, 0], p),
        _add_product(_product(powers[s, k, 1, 1], v), powers[s, k, 1, 0], p),
    )


@jit_inline
def _catch_up(powers, runs, a, b, k, p, v):
    """Output k's ``(p, v)`` from step a to step b, untouched: one map a run crossed."""
    if a >= b:  # (the search below would pass the last run: a == b == the epoch's end)
        return p, v
    if runs.shape[0] == 2:  # one step for the whole epoch
        return _advance(powers, b - a, k, p, v)
    r = 0
    while runs[r + 1] <= a:
        r += 1
    while a < b:
        end = min(b, runs[r + 1])
        p, v = _advance(powers, runs[r] + r + end - a, k, p, v)
        a, r = end, r + 1
    return p, v


@jit
def _momentum_out(V, SV1, table, batch, powers, runs, used, start, sums, outside, zeros):
    """V and SV1 from the table, every column brought to step ``batch``.

    The table is left holding them (V as rounded in its dtype) at step 0, as
    a fresh fill would: the next epoch can start from it. A column without
    a row in it is brought from step 0, as its row would be. On the way, as
    :func:`_write_back` says, V as the epoch found it goes to ``start``, a
    block of columns at a time. ``outside`` and ``zeros`` as in
    :func:`_unscale`: when V and ``start`` hold the same zero outside the
    table's columns, which the maps keep, only the columns with a row are
    visited (the velocities' zero, whose sign a map may turn, rewritten).
    """
    n_outputs = V.shape[0]
    if outside[0] and outside[1]:
        kept = True
        for k in range(n_outputs):
            p, v = _catch_up(powers, runs, 0, batch, k, zeros[0, k], zeros[1, k])
            zeros[2, k], zeros[3, k] = p, v
            kept = kept and _same_zero(zeros[2, k], zeros[0, k]) and zeros[3, k] == 0.0
        if kept:
            for k in range(n_outputs):
                if not _same_zero(zeros[3, k], zeros[1, k]):
                    SV1[k, :] = zeros[3, k]  # (the table's columns then from the table)
            _momentum_stored(V, SV1, table, batch, powers, runs, used, start, sums)
            return
    velocity_at, up_to = n_outputs, 2 * n_outputs + 1  # table columns
    maps, n_maps = _maps_from_start(powers, runs, batch, n_outputs)
    first = _first_outside(used, V.shape[1])
    for k in range(n_outputs):
        zeros[0, k] = V[k, first] if first < V.shape[1] else 0.0
        zeros[1, k] = SV1[k, first] if first < V.shape[1] else 0.0
    count = outside[2] and not outside[0]
    u = 0
    others = 0 if outside[0] or count else 1  # values outside unlike the first one, as found
    for j in range(0, V.shape[1], _BLOCK):
        end = min(j + _BLOCK, V.shape[1])
        rows = _rows_before(used, u, end)
        for k in range(n_outputs):
            v, velocity = V[k], SV1[k]
            total = 0.0
            r = u
            # the first two runs' maps (a fit's epoch crosses one, a stream's call two) in
            # locals: _catch_up searched the runs and read the powers anew for each column,
            # and a stream call's write-back of 5 x 2**20 columns took 64 ms (now 42)
            a00, a01, a10, a11 = maps[k, 0, 0], maps[k, 0, 1], maps[k, 0, 2], maps[k, 0, 3]
            b00, b01, b10, b11 = maps[k, 1, 0], maps[k, 1, 1], maps[k, 1, 2], maps[k, 1, 3]
            for q in range(j, end):
                old = np.float64(v[q])
                start[k, q] = v[q]
                total = _add_product(total, old, old)
                if r < rows and used[r] == q:  # a column with a row: from the table
                    a, w = int(table[r, up_to]), velocity_at + k
                    v[q], velocity[q] = _catch_up(
                        powers, runs, a, batch, k, table[r, k], table[r, w]
                    )
                    table[r, k], table[r, w] = v[q], velocity[q]
                    r += 1
                else:  # without: from step 0
                    if count:
                        others += not _same_zero(old, zeros[0, k])
                        others += not _same_zero(velocity[q], zeros[1, k])
                    p, w = old, np.float64(velocity[q])
                    if n_maps > 0:
                        p, w = (
                            _add_product(_product(a01, w), a00, p),
                            _add_product(_product(a11, w), a10, p),
                        )
                    if n_maps > 1:
                        p, w = (
                            _add_product(_product(b01, w), b00, p),
                            _add_product(_product(b11, w), b10, p),
                        )
                    for s in range(2, n_maps):
                        p, w = (
                            _add_product(_product(maps[k, s, 1], w), maps[k, s, 0], p),
                            _add_product(_product(maps[k, s, 3], w), maps[k, s, 2], p),
                        )
                    v[q], velocity[q] = p, w
            sums[k] += total
            _check_finite(v, j, end, sums)
        for r in range(u, rows):
            table[r, up_to] = 0.0
        u = rows
    for k in range(n_outputs):
        zeros[2, k] = V[k, first] if first < V.shape[1] else 0.0
        zeros[3, k] = SV1[k, first] if first < V.shape[1] else 0.0
    _zeros_found(outside, zeros, others == 0)


@jit
def _maps_from_start(powers, runs, batch, n_outputs):
    """The maps :func:`_catch_up` applies from step 0 to ``batch``, one a run crossed, per output.

    ``maps[k, s]``: output k's s-th map, its entries ``A00, A01, A10, A11``
    (room for two at least, zeros past ``n_maps``). The columns without a
    table row all take these: read once, not found again for each column.
    """
    maps = np.zeros((n_outputs, max(_RUNS, 2), 4))
    n_maps, a, r = 0, 0, 0
    while a < batch:
        end = min(batch, runs[r + 1])
        place = runs[r] + r + end - a
        for k in range(n_outputs):
            maps[k, n_maps, 0], maps[k, n_maps, 1] = powers[place, k, 0, 0], powers[place, k, 0, 1]
            maps[k, n_maps, 2], maps[k, n_maps, 3] = powers[place, k, 1, 0], powers[place, k, 1, 1]
        n_maps, a, r = n_maps + 1, end, r + 1
    return maps, n_maps


@jit
def _momentum_stored(V, SV1, table, batch, powers, runs, used, start, sums):
    """:func:`_momentum_out` when V and ``start`` hold one zero outside the table's columns.

    As :func:`_unscale_stored`: those zeros add exactly 0 to the sums;
    only the columns with a row are visited. In one pass over the table's
    rows, all outputs of a column at once, each row asking for the lines of
    the row :data:`~skgd._writeback._WRITE_AHEAD` on (as
    :func:`skgd._writeback._rows_swapped`): by blocks of columns, an output
    at a time, each write waited for its line (hashed text, 1,000 rows,
    2**20 columns, 5 outputs: a later epoch took 9.4 ms, of which the
    batches 2.5). Each output's squares are summed by blocks of
    :data:`_BLOCK` columns, each block's sum added to ``sums``, as before.
    """
    n_outputs = V.shape[0]
    velocity_at, up_to = n_outputs, 2 * n_outputs + 1  # table columns
    block_sums = np.zeros(n_outputs)
    finite = 0.0
    block = used[0] // _BLOCK if used.shape[0] else 0
    for r in range(used.shape[0]):
        j = used[r]
        if j // _BLOCK != block:  # (the block before it ends: its sums go to sums)
            _spill(sums, block_sums)
            block = j // _BLOCK
        if r + _WRITE_AHEAD < used.shape[0]:
            ahead = used[r + _WRITE_AHEAD]
            for k in range(n_outputs):
                _prefetch(V, k, ahead)
                _prefetch(start, k, ahead)
                _prefetch(SV1, k, ahead)
        a = int(table[r, up_to])
        for k in range(n_outputs):
            old = np.float64(V[k, j])
            start[k, j] = V[k, j]
            block_sums[k] = _add_product(block_sums[k], old, old)
            w = velocity_at + k
            V[k, j], SV1[k, j] = _catch_up(powers, runs, a, batch, k, table[r, k], table[r, w])
            table[r, k], table[r, w] = V[k, j], SV1[k, j]
            finite += np.float64(V[k, j]) * 0.0
        table[r, up_to] = 0.0
    _spill(sums, block_sums)
    sums[-1] += finite


@jit_inline
def _slot(table, j, up_to, batch, touched, grad, n_touched):
    """Column j's place in the batch's gradient, and the number of places taken.

    The first time a backward pass meets j (its table entry still holds the
    batch's number), j takes the next place, zeroed, and the table marks it.
    """
    if table[j, up_to] == batch:
        slot = n_touched
        table[j, up_to] = -1.0 - slot
        touched[slot] = j
        grad[slot] = 0.0
        return slot, n_touched + 1
    return int(-1.0 - table[j, up_to]), n_touched


@jit
def _centred_shift(table, centred, centres, shift, powers, runs, batch):
    """The centred columns brought to step ``batch``; ``shift[k]``: their values times centres.

    Summed in the columns' order. Every batch touches them: only the
    epoch's first finds them behind.
    """
    n_outputs = shift.shape[0]
    up_to = 2 * n_outputs + 1
    for u in range(centred.shape[0]):
        j = centred[u]
        a = int(table[j, up_to])
        if a < batch:
            for k in range(n_outputs):
                table[j, k], table[j, n_outputs + k] = _catch_up(
                    powers, runs, a, batch, k, table[j, k], table[j, n_outputs + k]
                )
            table[j, up_to] = batch
    for k in range(n_outputs):
        total = 0.0
        for u in range(centred.shape[0]):
            total = _add_product(total, table[centred[u], k], centres[u])
        shift[k] = total


@jit
def _sparse_momentum_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, table,
    used, runs, touched, grad, centred, centres, filled, at_start, sums, outside, zeros,
):  # fmt: skip
    """Momentum on sparse X at steps in few runs, lazily: O(its non-zeros + K × centred columns).

    A column no batch touches follows a fixed linear map (see
    :func:`_momentum_powers`), applied all at once when a batch next reads
    it, and to every column at the end of the epoch. Row u of ``table``
    holds column ``used[u]``'s coefficients, their velocities, the column's
    inverse scale and the step the row is up to: a non-zero reads one place.

    The few centred columns (table rows ``centred``, their ``x_mean /
    x_scale`` in ``centres``; see Plan._centred) are non-zero in every row
    in standardized coordinates: each batch brings them up to date and
    reads them for the means' share of each output (the numpy path's
    shift), and touches them with the means' share of the gradient. None:
    the same arithmetic as without them.
    """
    n_outputs = V.shape[0]
    n = order.shape[0]
    n_batches = (n + batch_size - 1) // batch_size
    decay = hyper[0]
    powers = _momentum_powers(opt, decay, steps, runs, l2)
    velocity, inverse, up_to = n_outputs, 2 * n_outputs, 2 * n_outputs + 1  # table columns
    if not filled:  # (else the table holds V and SV1 as the last epoch left them)
        for u in range(used.shape[0]):
            j = used[u]
            for k in range(n_outputs):
                table[u, k] = V[k, j]
                table[u, velocity + k] = SV1[k, j]
            table[u, inverse] = 1.0 / x_scale[j]
            table[u, up_to] = 0.0
    # touched, grad: a batch's columns, each once, and the data's gradient on
    # them, in the order the batch first reads them (see Plan._scratch)
    raw = np.empty((batch_size, n_outputs))
    g = np.empty((batch_size, n_outputs))
    gc = np.empty(n_outputs)
    unscaled = np.ones(n_outputs)
    shift = np.zeros(n_outputs)  # the centred columns' means' share of each output
    total, first = 0.0, np.nan
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        if centred.shape[0]:
            _centred_shift(table, centred, centres, shift, powers, runs, batch)
        batch_loss = 0.0
        for r in range(m):
            _prefetch_rows_ahead(data, indices, indptr, Y, weights, order, start + r, 0, n, table)
            i = order[start + r]
            batch_loss += weights[i] * _sparse_row(  # the row's columns brought up to date
                data, indices, indptr, i, table, inverse, unscaled, shift, c, y_loc, y_scale,
                kind, param, Y, indexed, g_scale, weights[i] / m, raw[r], g[r], powers, runs,
                batch,
            )  # fmt: skip
        if not np.isfinite(batch_loss):
            _momentum_out(V, SV1, table, batch, powers, runs, used, at_start, sums, outside, zeros)
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        # backward: the data's gradient on the batch's columns
        n_touched = 0
        gc[:] = 0.0
        for r in range(m):
            if m > _CACHED_ROWS:  # (else the batch's rows are still in cache)
                position = start + r
                _prefetch_rows_ahead(
                    data, indices, indptr, Y, weights, order, position, start, start + m, table
                )
            i = order[start + r]
            for k in range(n_outputs):
                gc[k] += g[r, k]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                slot, n_touched = _slot(table, j, up_to, batch, touched, grad, n_touched)
                x = data[q] * table[j, inverse]
                for k in range(n_outputs):
                    grad[slot, k] += g[r, k] * x
        for u in range(centred.shape[0]):  # the means' share: -gc[k] times the centre
            j = centred[u]  # (its slot is new if no row of the batch holds it)
            slot, n_touched = _slot(table, j, up_to, batch, touched, grad, n_touched)
            for k in range(n_outputs):
                grad[slot, k] -= gc[k] * centres[u]
        t += 1
        step = steps[batch]
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
    _momentum_out(V, SV1, table, n_batches, powers, runs, used, at_start, sums, outside, zeros)
    return total, n_batches, first, np.nan, t
