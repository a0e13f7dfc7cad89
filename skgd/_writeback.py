"""The lazy epochs' write-back: V from the table, where each epoch started, the sums.

A lazy epoch (:mod:`skgd._lazy_sgd`, :mod:`skgd._lazy_momentum`) writes V
nowhere but here, at its end: V back from the table, a copy of V as the
epoch found it (``start``), the sums of squares the loop's penalty reads
and a check that V stayed finite, a block of columns at a time. A column
without a table row follows the penalty alone; in a fit it holds a zero
all along (a constant column starts at 0), and once the plan knows it
(see :func:`_zeros_found`) the write-back visits only X's columns. Apart
from the epochs since this pass is over every column, theirs over
non-zeros. (Lazy momentum's own write-back, which catches each column up
on the way, is :func:`skgd._lazy_momentum._momentum_out`.)
"""

import math

import numpy as np

from ._compiled import _prefetch, jit, jit_inline
from ._lazy_table import _add_product

# The write-back takes V this many columns at a time (see _unscale).
_BLOCK = 512
# ... and, in the lazy write-backs, this many outputs of a table row at once (see _rows_out).
_OUTPUTS = 4
# ... and asks for the columns of the table row this many rows on before it writes them
# (see _rows_swapped).
_WRITE_AHEAD = 8


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
    zeros[4] = 0.0  # the squares of V as left (see _swapped)
    if outside[0] and (outside[1] or outside[3]):
        kept = True
        for k in range(n_outputs):
            zeros[2, k] = unused[k] * zeros[0, k]  # (as the pass below would shrink each)
            kept = kept and _same_zero(zeros[2, k], zeros[0, k])
        if kept and outside[3]:
            # (a start array not known to hold V's zeros: they are written there too)
            _swapped(table, scale, used, start, sums, zeros[4], zeros[2], not outside[1])
            outside[1] = 1  # (V, the epoch's start now, holds them)
            return
        outside[3] = 0
        if kept and outside[1]:
            _unscale_stored(V, table, scale, used, start, sums, zeros[4])
            return
    outside[3] = 0
    first = _first_outside(used, V.shape[1])
    for k in range(n_outputs):
        zeros[0, k] = V[k, first] if first < V.shape[1] else 0.0
    count = outside[2] and not outside[0]
    u = 0
    others = 0 if outside[0] or count else 1  # values outside unlike the first one, as found
    for j in range(0, V.shape[1], _BLOCK):
        end = min(j + _BLOCK, V.shape[1])
        rows = _rows_before(used, u, end)
        for base in range(0, n_outputs, _OUTPUTS):  # (up to _OUTPUTS sums side by side)
            n = min(_OUTPUTS, n_outputs - base)
            others += _write_back(V, j, end, unused, start, sums, base, n, zeros[0], count)
            for k in range(base, base + n):
                if count:
                    others -= _alike(start[k], used, u, rows, zeros[0, k])  # (counted above)
            # the columns with a row: from the table (V's finiteness: by the block, below)
            s0, s1, s2, s3, _ = _rows_out(table, scale, used, u, rows, V, base, n)
            _add_sums(zeros[4], base, n, s0, s1, s2, s3)
            for k in range(base, base + n):
                _check_finite(V[k], j, end, sums)
        u = rows
    for k in range(n_outputs):
        zeros[2, k] = V[k, first] if first < V.shape[1] else 0.0
    _zeros_found(outside, zeros, others == 0)


@jit
def _swapped(table, scale, used, start, sums, left, fill, whole):
    """:func:`_unscale_stored`, V as the epoch leaves it written to ``start``, not over V.

    V keeps the values the epoch found (the loop takes it as the epoch's
    start, and ``start`` as V: see :meth:`skgd._kernel.Plan.run`), so V is
    neither read nor written: on hashed text at 2**20 columns, V (42 MB)
    is past the cache, and its read and write-back were half of this
    pass's traffic. The squares of V as the epoch found it, which the
    penalty takes, were summed by the write-back before (``left`` there,
    the same sums: the same values in the same order); ``left`` sums those
    of V as this epoch leaves it, for the next. ``sums[-1]``: whether
    they are finite, as :func:`_unscale_stored`.

    ``whole``: ``start`` does not hold V's zeros (``fill``, by output) on
    the columns without a row: each block of it is first set to them. (The
    plan reads it first, see :meth:`skgd._kernel.Plan._outside`: a fresh
    array of zeros shows it for the price of a read of the system's page
    of zeros, where this write cost a pass over V's size.)
    """
    if not whole:
        _rows_swapped(table, scale, used, start, sums, left)
        return
    n_features = start.shape[1]
    u, j = 0, 0
    while j < n_features:  # (a block of columns at a time, and the table's rows in it)
        end = min(j + _BLOCK, n_features)
        rows = _rows_before(used, u, end)
        for base in range(0, start.shape[0], _OUTPUTS):
            count = min(_OUTPUTS, start.shape[0] - base)
            for k in range(base, base + count):
                for q in range(j, end):
                    start[k, q] = fill[k]
            s0, s1, s2, s3, finite = _rows_out(table, scale, used, u, rows, start, base, count)
            _add_sums(left, base, count, s0, s1, s2, s3)
            sums[-1] += finite
        u, j = rows, end


@jit
def _rows_swapped(table, scale, used, start, sums, left):
    """:func:`_swapped` of the table's columns alone: one pass over its rows, all outputs.

    On hashed text V's columns lie far apart in ``start`` (a row of it an
    output), and most of them in lines no other column shares: each write
    waits for its line. So each row asks for the lines of the row
    :data:`_WRITE_AHEAD` on, and writes all of its column's outputs at
    once. Hashed text, 1,000 rows, 2**20 columns (26,500 of them stored), 5
    outputs: a later epoch took 6 ms, 4.2 in one pass, 1.4 with the lines
    asked for ahead (the batches themselves, 0.4). Each output's squares
    are summed as :func:`_rows_out` sums them, by blocks of :data:`_BLOCK`
    columns, each block's sum added to ``left``: the same sums, bit for bit.
    """
    n_outputs = start.shape[0]
    block_sums = np.zeros(n_outputs)
    finite = 0.0
    block = used[0] // _BLOCK if used.shape[0] else 0
    for r in range(used.shape[0]):
        q = used[r]
        if q // _BLOCK != block:  # (the block before it ends: its sums go to left)
            _spill(left, block_sums)
            block = q // _BLOCK
        if r + _WRITE_AHEAD < used.shape[0]:
            for k in range(n_outputs):
                _prefetch(start, k, used[r + _WRITE_AHEAD])
        for k in range(n_outputs):
            start[k, q] = scale[k] * table[r, k]
            new = np.float64(start[k, q])
            table[r, k] = start[k, q]
            block_sums[k] = _add_product(block_sums[k], new, new)
            finite += new * 0.0
    _spill(left, block_sums)
    sums[-1] += finite


@jit
def _spill(into, block_sums):
    """``into[k] += block_sums[k]``, then ``block_sums[k] = 0``: a block of columns ends.

    The lazy write-backs sum each output's squares a block of :data:`_BLOCK`
    columns at a time, as :func:`_write_back` does (the same sums, bit for
    bit): once a block a call, not once a column.
    """
    for k in range(block_sums.shape[0]):
        into[k] += block_sums[k]
        block_sums[k] = 0.0


@jit
def _rows_out(table, scale, used, u, rows, start, base, count):
    """``start[k, used[r]] = scale[k] * table[r, k]`` (and back to the table) for rows u to rows.

    For the ``count`` (1 to :data:`_OUTPUTS`) outputs from ``base``, row by
    row, all of a row's outputs at once: their sums of squares (each in the
    order of its columns, as one output at a time had it) are independent
    chains of multiply-adds, which the processor runs side by side (one
    output at a time, each waited on its own: a multiply-add's latency a
    column). A later epoch's write-back, hashed text at 5 outputs: 0.80x
    its time at 2**18 columns (2.07 -> 1.65 ms), 0.80x at 2**20 (4.17 ->
    3.33 ms); the first epoch's, 0.88x and 0.99x (it is V's traffic
    there). Returns the ``count`` sums (0 past them) and the finiteness sum.
    """
    s0 = s1 = s2 = s3 = finite = 0.0
    c0 = scale[base]
    c1 = scale[base + 1] if count > 1 else 0.0
    c2 = scale[base + 2] if count > 2 else 0.0
    c3 = scale[base + 3] if count > 3 else 0.0
    for r in range(u, rows):
        q = used[r]
        start[base, q] = c0 * table[r, base]
        new = np.float64(start[base, q])
        table[r, base] = start[base, q]
        s0 = _add_product(s0, new, new)
        finite += new * 0.0
        if count > 1:
            start[base + 1, q] = c1 * table[r, base + 1]
            new = np.float64(start[base + 1, q])
            table[r, base + 1] = start[base + 1, q]
            s1 = _add_product(s1, new, new)
            finite += new * 0.0
        if count > 2:
            start[base + 2, q] = c2 * table[r, base + 2]
            new = np.float64(start[base + 2, q])
            table[r, base + 2] = start[base + 2, q]
            s2 = _add_product(s2, new, new)
            finite += new * 0.0
        if count > 3:
            start[base + 3, q] = c3 * table[r, base + 3]
            new = np.float64(start[base + 3, q])
            table[r, base + 3] = start[base + 3, q]
            s3 = _add_product(s3, new, new)
            finite += new * 0.0
    return s0, s1, s2, s3, finite


@jit_inline
def _add_sums(left, base, count, s0, s1, s2, s3):
    """``left[base + k] += s_k`` for the ``count`` outputs from ``base``."""
    left[base] += s0
    if count > 1:
        left[base + 1] += s1
    if count > 2:
        left[base + 2] += s2
    if count > 3:
        left[base + 3] += s3


@jit
def _unscale_stored(V, table, scale, used, start, sums, left):
    """:func:`_unscale` when V and ``start`` hold one zero outside the table's columns, kept.

    Those columns add exactly 0 to the squares (each block's sum is taken
    in order, fused as :func:`_write_back`'s: the same sum without its
    zeros) and to the finiteness sum, and their copy would copy a zero
    onto the same zero: only the columns with a row are visited. On hashed
    text at 2**20 columns, a quarter of them (the write-back's time halved).
    In one pass over the table's rows, all outputs of a column at once, the
    lines of the row :data:`_WRITE_AHEAD` on asked for first, as
    :func:`_rows_swapped`: the same sums, by blocks of :data:`_BLOCK`.
    """
    n_outputs = V.shape[0]
    old_sums, new_sums = np.zeros(n_outputs), np.zeros(n_outputs)
    finite = 0.0
    block = used[0] // _BLOCK if used.shape[0] else 0
    for r in range(used.shape[0]):
        j = used[r]
        if j // _BLOCK != block:  # (the block before it ends: its sums go out)
            _spill(sums, old_sums)
            _spill(left, new_sums)
            block = j // _BLOCK
        if r + _WRITE_AHEAD < used.shape[0]:
            ahead = used[r + _WRITE_AHEAD]
            for k in range(n_outputs):
                _prefetch(V, k, ahead)
                _prefetch(start, k, ahead)
        for k in range(n_outputs):
            old = np.float64(V[k, j])
            start[k, j] = V[k, j]
            old_sums[k] = _add_product(old_sums[k], old, old)
            V[k, j] = scale[k] * table[r, k]
            table[r, k] = V[k, j]
            new = np.float64(V[k, j])
            finite += new * 0.0
            new_sums[k] = _add_product(new_sums[k], new, new)
    _spill(sums, old_sums)
    _spill(left, new_sums)
    sums[-1] += finite


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
def _write_back(V, j, end, factors, start, sums, base, n, zeros, count):
    """``start[k, j:end] = V[k, j:end]``, ``V[k, j:end] *= factors[k]``; ``sums[k]`` += squares.

    For the ``n`` (1 to :data:`_OUTPUTS`) outputs from ``base``, a column
    at a time, all of their rows at once (their sums: independent chains,
    see :func:`_rows_out`). The loop keeps where each epoch started (and
    its penalty, from the sums of squares), and checks that V stayed
    finite: on wide data, passes over V each epoch, which the lazy
    kernels' write-back (V is written nowhere else in a lazy epoch) takes
    on its way, a block of columns at a time. Each output's squares are
    summed in the order of its columns (never regrouped:
    :func:`_unscale_stored` takes the same sum without its zeros). With
    ``count``, returns how many of ``V[k, j:end]`` were not ``zeros[k]``
    (else 0).
    """
    t0 = t1 = t2 = t3 = 0.0
    others = 0
    for q in range(j, end):
        old = np.float64(V[base, q])
        start[base, q] = V[base, q]
        t0 = _add_product(t0, old, old)
        if count:  # (a tenth of the loop's time: asked only when it can serve)
            others += not _same_zero(old, zeros[base])
        V[base, q] = factors[base] * old
        if n > 1:
            old = np.float64(V[base + 1, q])
            start[base + 1, q] = V[base + 1, q]
            t1 = _add_product(t1, old, old)
            if count:
                others += not _same_zero(old, zeros[base + 1])
            V[base + 1, q] = factors[base + 1] * old
        if n > 2:
            old = np.float64(V[base + 2, q])
            start[base + 2, q] = V[base + 2, q]
            t2 = _add_product(t2, old, old)
            if count:
                others += not _same_zero(old, zeros[base + 2])
            V[base + 2, q] = factors[base + 2] * old
        if n > 3:
            old = np.float64(V[base + 3, q])
            start[base + 3, q] = V[base + 3, q]
            t3 = _add_product(t3, old, old)
            if count:
                others += not _same_zero(old, zeros[base + 3])
            V[base + 3, q] = factors[base + 3] * old
    _add_sums(sums, base, n, t0, t1, t2, t3)
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
