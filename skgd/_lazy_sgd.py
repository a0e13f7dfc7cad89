"""Plain SGD's lazy compiled epoch on sparse X: a batch costs O(its non-zeros).

With plain ``"sgd"`` the L2 penalty is a scale factor of each output's
coefficients (scikit-learn's ``wscale``): a step writes only the columns
its batch reads, through the table of :mod:`skgd._lazy_table`, and the
write-back (:mod:`skgd._writeback`) brings V back at the epoch's end.
Apart from lazy momentum (:mod:`skgd._lazy_momentum`) since it shares
nothing of its row work: each row's is written out in the epoch's loop.
"""

import numpy as np

from ._compiled import _prefetch, _prefetch_item, jit
from ._lazy_table import _AHEAD, _add_product, _product
from ._steps import _row_loss
from ._writeback import _unscale

# Lazy SGD asks for the table rows of the row _AHEAD ahead in the epoch's order,
# and for X's row, target and weight of the row _ROWS_AHEAD ahead (see _sparse_sgd_epoch).
_ROWS_AHEAD = 16
# A batch of at most this many rows is still in cache when its update starts: the
# update asks for nothing ahead.
_CACHED_ROWS = 128


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
