"""The lazy compiled batch steps on sparse X: a batch costs O(its non-zeros).

With plain ``"sgd"`` the L2 penalty is a scale factor of each output's
coefficients (scikit-learn's ``wscale``); with momentum or Nesterov at a
step constant over runs of batches, a coefficient no batch touches follows
a fixed linear map a run, applied when a batch next reads it. On wide data those reads land anywhere
in the model, a cache miss each, so both keep all that a non-zero needs
(its column's coefficients, velocities and scale) in one row of a table,
and only the columns X stores have a row (``used``; the kernels read X's
``indices`` as rows of the table): hashed text at 2**20 columns stores a
quarter of them, and the table then fits in cache. A column X does not
store follows the penalty alone, at the write-back; in a fit it holds a
zero all along (a constant column starts at 0), and once the plan knows it
(see :func:`_zeros_found`) the write-back visits only X's columns.
:mod:`skgd._kernel` decides when they apply.
"""

import math

import numpy as np

from ._compiled import _MOMENTUM, _prefetch, _prefetch_item, jit, jit_inline, numba
from ._steps import _row_loss, _update

# The lazy sparse steps ask for the table rows of the batch row this many ahead,
# and for those of the column this many ahead (see _prefetch_table_ahead).
_AHEAD = 8
_AHEAD_COLUMNS = 32
# Lazy SGD asks for the table rows of the row this many ahead in the epoch's order,
# and for X's row, target and weight of the row _ROWS_AHEAD ahead (see _sparse_sgd_epoch).
_ROWS_AHEAD = 16
# A batch of at most this many rows is still in cache when its update starts: the
# update asks for nothing ahead.
_CACHED_ROWS = 128
# The write-back takes V this many columns at a time, output by output (see _unscale).
_BLOCK = 512
# Lazy momentum's runs of equal steps at most (see step_runs).
_RUNS = 32


if numba is not None:
    from numba.extending import intrinsic as _intrinsic

    def _doubles(context, builder, signature, args):
        return [
            context.cast(builder, value, kind, numba.types.float64)
            for value, kind in zip(args, signature.args, strict=True)
        ]

    def _add_product_codegen(context, builder, signature, args):
        # "contract" only: numba's fastmath pass adds its flags to operations without any
        a, x, y = _doubles(context, builder, signature, args)
        product = builder.fmul(x, y, flags=("contract",))
        return builder.fadd(a, product, flags=("contract",))

    def _product_codegen(context, builder, signature, args):
        # "nsz" (a zero's sign may be ignored; no multiply here changes by it) only so
        # that numba's fastmath pass leaves it without "contract": never fused into a sum
        x, y = _doubles(context, builder, signature, args)
        return builder.fmul(x, y, flags=("nsz",))

    @_intrinsic
    def _add_product(typingctx, a, x, y):
        """``a + x * y``, fused into one rounding where the processor can (as ``a += x * y``).

        The kernels' fastmath lets the compiler reassociate sums: a sum kept
        in a local variable over a loop it would split into partial sums,
        whose order changes the model. This sum keeps its order. Written
        ``a += x * y`` into an array it kept it too, each waiting on the
        one before it through memory.
        """
        return numba.types.float64(a, x, y), _add_product_codegen

    @_intrinsic
    def _product(typingctx, x, y):
        """``x * y`` rounded: never regrouped with the products around it, nor fused into a sum."""
        return numba.types.float64(x, y), _product_codegen

else:  # pragma: no cover

    def _add_product(a, x, y):
        return a + x * y

    def _product(x, y):
        return x * y


@jit_inline
def _prefetch_column(table, j):
    """Ask for column j's row of ``table``, every cache line of it (rows are whole lines)."""
    for column in range(0, table.shape[1], 8):  # 8 float64: a cache line
        _prefetch(table, j, column)


@jit_inline
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


@jit_inline
def _sparse_row(
    data, indices, indptr, i, table, inverse, scale, c, y_loc, y_scale,
    kind, param, Y, indexed, g_scale, g_weight, raw, g, powers, runs, batch,
):  # fmt: skip
    """Forward and loss of sparse row i from its columns' rows of ``table``, in O(its non-zeros).

    ``table[j, :K]`` holds column j's coefficients (times ``scale`` per
    output), ``table[j, inverse]`` the column's inverse scale. Fills ``raw``
    and ``g`` (the loss's gradient, times ``g_scale * g_weight``) and
    returns the row's loss. For lazy momentum (``powers`` not None), each
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
        raw[k] = y_loc[k] + y_scale[k] * (scale[k] * raw[k] + c[k])
    loss = _row_loss(kind, param, Y, indexed, i, raw, g)
    if g_weight == 0.0:  # a row of weight 0 counts for nothing, even where its loss overflows
        g[:] = 0.0
        return 0.0
    for k in range(n_outputs):  # (inlined in the kernels: never regrouped)
        g[k] = _product(g[k], _product(g_scale[k], g_weight))
    return loss


@jit
def _sparse_sgd_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, table,
    used, filled, at_start, sums, outside, zeros,
):  # fmt: skip
    """Plain SGD on uncentred sparse X, lazily: a batch costs O(its non-zeros).

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
    and the update adds 0 times x to the padding.
    """
    n_outputs = V.shape[0]
    n = order.shape[0]
    inverse = n_outputs  # the table's column of 1 / x_scale
    width = table.shape[1]  # 2 (one output), 4 (two or three), or a multiple of 8
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
    total, first = 0.0, np.nan
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        batch_loss = 0.0
        for r in range(m):
            position = start + r
            # Ask for X's row _ROWS_AHEAD on (its target and weight too), and for
            # the table rows of the row _AHEAD on, whose indices are in cache by now
            # (see _prefetch_table_ahead; at the epoch's start, for the first rows).
            for ahead in range(
                position + _ROWS_AHEAD if position else 0, min(position + _ROWS_AHEAD + 1, n)
            ):
                i = order[ahead]
                lo, hi = indptr[i], indptr[i + 1]
                for q in range(lo, hi, 8):  # (8 float64, or 16 float32 or indices: a line)
                    _prefetch_item(data, q)
                    _prefetch_item(indices, q)
                if hi > lo:
                    _prefetch_item(data, hi - 1)
                    _prefetch_item(indices, hi - 1)
                _prefetch(Y, i, 0)
                _prefetch_item(weights, i)
            for ahead in range(position + _AHEAD if position else 0, min(position + _AHEAD + 1, n)):
                i = order[ahead]
                for q in range(indptr[i], indptr[i + 1]):
                    for column in range(0, width, 8):
                        _prefetch(table, np.uint64(indices[q]), column)
            # forward (indices as unsigned: no test for a negative index)
            i = order[position]
            lo, hi = indptr[i], indptr[i + 1]
            for base in range(0, n_outputs, 8):
                if width >= 8:
                    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
                    for q in range(lo, hi):
                        j = np.uint64(indices[q])
                        x = data[q] * table[j, inverse]
                        a0 = _add_product(a0, x, table[j, base])
                        a1 = _add_product(a1, x, table[j, base + 1])
                        a2 = _add_product(a2, x, table[j, base + 2])
                        a3 = _add_product(a3, x, table[j, base + 3])
                        a4 = _add_product(a4, x, table[j, base + 4])
                        a5 = _add_product(a5, x, table[j, base + 5])
                        a6 = _add_product(a6, x, table[j, base + 6])
                        a7 = _add_product(a7, x, table[j, base + 7])
                    lanes[0], lanes[1], lanes[2], lanes[3] = a0, a1, a2, a3
                    lanes[4], lanes[5], lanes[6], lanes[7] = a4, a5, a6, a7
                elif width == 4:
                    a0 = a1 = a2 = a3 = 0.0
                    for q in range(lo, hi):
                        j = np.uint64(indices[q])
                        x = data[q] * table[j, inverse]
                        a0 = _add_product(a0, x, table[j, 0])
                        a1 = _add_product(a1, x, table[j, 1])
                        a2 = _add_product(a2, x, table[j, 2])
                        a3 = _add_product(a3, x, table[j, 3])
                    lanes[0], lanes[1], lanes[2], lanes[3] = a0, a1, a2, a3
                else:
                    a0 = 0.0
                    for q in range(lo, hi):
                        j = np.uint64(indices[q])
                        a0 = _add_product(a0, data[q] * table[j, inverse], table[j, 0])
                    lanes[0] = a0
                for k in range(base, min(base + 8, n_outputs)):
                    raw[k] = lanes[k - base]
            for k in range(n_outputs):
                raw[k] = y_loc[k] + y_scale[k] * (scale[k] * raw[k] + c[k])
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
            if abs(scale[k] * shrink) < 1e-9:  # before it underflows: into U
                for u in range(used.shape[0]):
                    table[u, k] *= scale[k]
                scale[k] = 1.0
            scale[k] *= shrink
            unused[k] *= shrink
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
                    for q in range(indptr[i], indptr[i + 1]):
                        for column in range(0, width, 8):
                            _prefetch(table, np.uint64(indices[q]), column)
            i = order[position]
            lo, hi = indptr[i], indptr[i + 1]
            for base in range(0, n_outputs, 8):
                lanes[:] = 0.0  # the padding's lanes take 0 times x: their values stay
                for k in range(base, min(base + 8, n_outputs)):
                    lanes[k - base] = step * g[r, k] / scale[k]
                if width >= 8:
                    g0, g1, g2, g3 = -lanes[0], -lanes[1], -lanes[2], -lanes[3]
                    g4, g5, g6, g7 = -lanes[4], -lanes[5], -lanes[6], -lanes[7]
                    for q in range(lo, hi):
                        j = np.uint64(indices[q])
                        x = data[q] * table[j, inverse]
                        table[j, base] = _add_product(table[j, base], g0, x)
                        table[j, base + 1] = _add_product(table[j, base + 1], g1, x)
                        table[j, base + 2] = _add_product(table[j, base + 2], g2, x)
                        table[j, base + 3] = _add_product(table[j, base + 3], g3, x)
                        table[j, base + 4] = _add_product(table[j, base + 4], g4, x)
                        table[j, base + 5] = _add_product(table[j, base + 5], g5, x)
                        table[j, base + 6] = _add_product(table[j, base + 6], g6, x)
                        table[j, base + 7] = _add_product(table[j, base + 7], g7, x)
                elif width == 4:
                    g0, g1, g2, g3 = -lanes[0], -lanes[1], -lanes[2], -lanes[3]
                    for q in range(lo, hi):
                        j = np.uint64(indices[q])
                        x = data[q] * table[j, inverse]
                        table[j, 0] = _add_product(table[j, 0], g0, x)
                        table[j, 1] = _add_product(table[j, 1], g1, x)
                        table[j, 2] = _add_product(table[j, 2], g2, x)
                        table[j, 3] = _add_product(table[j, 3], g3, x)
                else:
                    g0 = -lanes[0]
                    for q in range(lo, hi):
                        j = np.uint64(indices[q])
                        table[j, 0] = _add_product(table[j, 0], g0, data[q] * table[j, inverse])
        if fit_intercept:
            for k in range(n_outputs):
                c[k] -= step * c_ratio * gc[k]
        averaging[1] += m  # (lazy: never averaging)
    _unscale(V, table, scale, used, unused, at_start, sums, outside, zeros)
    return total, n_batches, first, np.nan, t


@jit
def _unscale(V, table, scale, used, unused, start, sums, outside, zeros):
    """Back from the lazy form ``V = scale * U``, U in the table's first columns.

    The table is left holding V (as rounded in V's dtype), as a fresh fill
    would: the next epoch can start from it. A column without a row in it
    was only shrunk, by ``unused``. On the way, as :func:`_write_back`
    says, V as the epoch found it goes to ``start``.

    ``outside`` and ``zeros`` say what the columns without a row hold (see
    :func:`_zeros_found`): when V and ``start`` hold the same zero on
    them, which the shrinks keep, only the columns with a row are visited.
    """
    n_outputs = V.shape[0]
    if outside[0] and outside[1]:
        kept = True
        for k in range(n_outputs):
            zeros[2, k] = unused[k] * zeros[0, k]  # (as the pass below would shrink each)
            kept = kept and _same_zero(zeros[2, k], zeros[0, k])
        if kept:
            _unscale_stored(V, table, scale, used, start, sums)
            return
    first = _first_outside(used, V.shape[1])
    for k in range(n_outputs):
        zeros[0, k] = V[k, first] if first < V.shape[1] else 0.0
    count = outside[2] and not outside[0]
    u = 0
    others = 0 if outside[0] or count else 1  # values outside unlike the first one, as found
    for j in range(0, V.shape[1], _BLOCK):
        end = min(j + _BLOCK, V.shape[1])
        rows = _rows_before(used, u, end)
        for k in range(n_outputs):
            others += _write_back(V[k], j, end, unused[k], start[k], sums, k, zeros[0, k], count)
            if count:
                others -= _alike(start[k], used, u, rows, zeros[0, k])  # (counted above)
            for r in range(u, rows):  # the columns with a row: from the table
                V[k, used[r]] = scale[k] * table[r, k]
                table[r, k] = V[k, used[r]]
            _check_finite(V[k], j, end, sums)
        u = rows
    for k in range(n_outputs):
        zeros[2, k] = V[k, first] if first < V.shape[1] else 0.0
    _zeros_found(outside, zeros, others == 0)


@jit
def _unscale_stored(V, table, scale, used, start, sums):
    """:func:`_unscale` when V and ``start`` hold one zero outside the table's columns, kept.

    Those columns add exactly 0 to the squares (each block's sum is taken
    in order, fused as :func:`_write_back`'s: the same sum without its
    zeros) and to the finiteness sum, and their copy would copy a zero
    onto the same zero: only the columns with a row are visited. On hashed
    text at 2**20 columns, a quarter of them (the write-back's time halved).
    """
    u = 0
    while u < used.shape[0]:
        rows = _rows_before(used, u, (used[u] // _BLOCK + 1) * _BLOCK)  # the block's rows
        for k in range(V.shape[0]):
            total, finite = 0.0, 0.0
            for r in range(u, rows):
                j = used[r]
                old = np.float64(V[k, j])
                start[k, j] = V[k, j]
                total = _add_product(total, old, old)
                V[k, j] = scale[k] * table[r, k]
                table[r, k] = V[k, j]
                finite += np.float64(V[k, j]) * 0.0
            sums[k] += total
            sums[-1] += finite
        u = rows


@jit
def _rows_before(used, u, end):
    """The first table row from ``u`` on whose column is ``end`` or past: a block's rows end there.

    ``used`` holds the columns with a row, in order; the write-back takes the
    columns by blocks, and the rows of a block follow those of the one before.
    """
    rows = u
    while rows < used.shape[0] and used[rows] < end:
        rows += 1
    return rows


@jit
def _write_back(v, j, end, factor, start, sums, k, zero, count):
    """``start[j:end] = v[j:end]``, ``v[j:end] *= factor``, and ``sums[k]`` adds the squares.

    The loop keeps where each epoch started (and its penalty, from the sums
    of squares), and checks that V stayed finite: on wide data, passes over
    V each epoch, which the lazy kernels' write-back (V is written nowhere
    else in a lazy epoch) takes on its way, a block of columns at a time
    (one output's row of a block: contiguous). The squares are summed in
    order (never regrouped: :func:`_unscale_stored` takes the same sum
    without its zeros). With ``count``, returns how many of ``v[j:end]``
    were not ``zero`` (else 0).
    """
    total = 0.0
    others = 0
    for q in range(j, end):
        old = np.float64(v[q])
        start[q] = v[q]
        total = _add_product(total, old, old)
        if count:  # (a tenth of the loop's time: asked only when it can serve)
            others += not _same_zero(old, zero)
        v[q] = factor * old
    sums[k] += total
    return others


@jit
def _check_finite(v, j, end, sums):
    """``sums[-1]`` adds ``v[j:end]`` times 0: NaN once any is not finite."""
    total = 0.0
    for q in range(j, end):
        total += np.float64(v[q]) * 0.0
    sums[-1] += total


@jit_inline
def _same_zero(x, zero):
    """Whether ``x`` is a zero of ``zero``'s sign (``zero`` a zero; the bits of both the same).

    Without a branch (``&``, not ``and``): the write-back of every column
    asks it of each column.
    """
    return (x == 0.0) & (math.copysign(1.0, x) == math.copysign(1.0, zero))


@jit
def _alike(v, used, u, rows, zero):
    """How many of ``v``'s columns ``used[u:rows]`` are not ``zero`` (bits and all)."""
    others = 0
    for r in range(u, rows):
        others += not _same_zero(v[used[r]], zero)
    return others


@jit
def holds_zeros(start, used, zeros):
    """Whether ``start`` holds ``zeros[k]`` (bits and all) on row k's columns not in ``used``.

    A start array the plan did not write itself (the loop's copy of V from
    before the first epoch, reused for the second) takes a write-back of
    every column, unless it is known to hold V's zeros there already. A
    read of it answers that, at a fraction of the write-back's traffic
    (it reads V, and writes V and ``start``): each row's columns unlike
    its zero, counted without a branch (a coin toss a column on hashed
    text), less those of ``used``. Stops at the first row that differs.
    """
    for k in range(start.shape[0]):
        v, zero = start[k], zeros[k]
        others = 0
        for j in range(v.shape[0]):
            others += not _same_zero(v[j], zero)
        if others != _alike(v, used, 0, used.shape[0], zero):
            return False
    return True


@jit
def _first_outside(used, n_features):
    """The first column without a table row (``n_features`` if every column has one)."""
    q = 0
    while q < used.shape[0] and used[q] == q:
        q += 1
    return q if q < n_features else n_features


@jit
def _zeros_found(outside, zeros, alike):
    """After a write-back of every column: what the columns without a table row hold.

    In a fresh fit a column X never stores is constant and starts at 0
    (``skgd._base``): V, and the velocities, hold zeros there all fit long.
    ``zeros[0]`` (V) and ``zeros[1]`` (the velocities) hold, by output,
    the values of the first such column as the epoch found them,
    ``zeros[2]`` and ``zeros[3]`` as it left them; ``alike``: every such
    column held the first one's (the maps that move them, one by output,
    then left them alike too). ``outside[1]``: ``start``, which took V as
    the epoch found it, holds ``zeros[0]`` on them; ``outside[0]``: V and
    the velocities hold ``zeros[2]`` and ``zeros[3]``, all zeros. The
    caller sets ``outside[0]`` (and ``zeros[0]``, ``zeros[1]``) when V and
    the velocities held them as the epoch began, ``outside[1]`` when
    ``start`` did too (the write-back may then visit only the table's
    columns), and ``outside[2]`` when a write-back of every column that
    does not know them is to count the columns unlike the first one.
    """
    outside[1] = int(alike)
    for k in range(zeros.shape[1]):
        alike = alike and zeros[2, k] == 0.0 and zeros[3, k] == 0.0
    outside[0] = int(alike)


def step_runs(steps):
    """Where the runs of equal steps start in ``steps``, then its length; None beyond _RUNS runs.

    Lazy momentum maps a column's untouched steps one run at a time: the
    few runs of an annealed epoch (see :func:`skgd._loop._annealed`) cost
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
                    v[q], velocity[q] = _catch_up(powers, runs, 0, batch, k, old, velocity[q])
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
def _momentum_stored(V, SV1, table, batch, powers, runs, used, start, sums):
    """:func:`_momentum_out` when V and ``start`` hold one zero outside the table's columns.

    As :func:`_unscale_stored`: those zeros add exactly 0 to the sums;
    only the columns with a row are visited.
    """
    n_outputs = V.shape[0]
    velocity_at, up_to = n_outputs, 2 * n_outputs + 1  # table columns
    u = 0
    while u < used.shape[0]:
        rows = _rows_before(used, u, (used[u] // _BLOCK + 1) * _BLOCK)  # the block's rows
        for k in range(n_outputs):
            v, velocity = V[k], SV1[k]
            total, finite = 0.0, 0.0
            for r in range(u, rows):
                j = used[r]
                old = np.float64(v[j])
                start[k, j] = v[j]
                total = _add_product(total, old, old)
                a, w = int(table[r, up_to]), velocity_at + k
                v[j], velocity[j] = _catch_up(powers, runs, a, batch, k, table[r, k], table[r, w])
                table[r, k], table[r, w] = v[j], velocity[j]
                finite += np.float64(v[j]) * 0.0
            sums[k] += total
            sums[-1] += finite
        for r in range(u, rows):
            table[r, up_to] = 0.0
        u = rows


@jit
def _sparse_momentum_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, table,
    used, runs, touched, grad, filled, at_start, sums, outside, zeros,
):  # fmt: skip
    """Momentum on sparse X at steps in few runs, lazily: a batch costs O(its non-zeros).

    A column no batch touches follows a fixed linear map (see
    :func:`_momentum_powers`), applied all at once when a batch next reads
    it, and to every column at the end of the epoch. Row u of ``table``
    holds column ``used[u]``'s coefficients, their velocities, the column's
    inverse scale and the step the row is up to: a non-zero reads one place.
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
