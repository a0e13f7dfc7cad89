"""The lazy steps' table of coefficients, and the arithmetic they share.

The lazy compiled batch steps on sparse X (:mod:`skgd._lazy_sgd`,
:mod:`skgd._lazy_momentum`) cost a batch O(its non-zeros). On wide data a
non-zero's reads land anywhere in the model, a cache miss each, so both
keep all that a non-zero needs (its column's coefficients, velocities and
scale) in one row of a table, and only the columns X stores have a row
(``used``; the kernels read X's ``indices`` as rows of the table): hashed
text at 2**20 columns stores a quarter of them, and the table then fits in
cache. A column X does not store follows the penalty alone, at the
write-back (:mod:`skgd._writeback`). Here: how far ahead the kernels ask
for table rows, that prefetch, and the products whose roundings the
kernels' fastmath may not change (the write-back's sums take them too, to
the bit). :mod:`skgd._kernel` decides when the lazy steps apply.
"""

from ._compiled import _prefetch, _prefetch_item, jit_inline, numba

# Lazy momentum asks for the table rows of the row _AHEAD ahead in the epoch's order,
# and for X's row, target and weight of the row _ROWS_AHEAD ahead (see
# _prefetch_rows_ahead; plain SGD's kernel asks at its own distances, skgd._lazy_sgd).
_AHEAD = 8
_ROWS_AHEAD = 16


if numba is not None:
    from llvmlite import ir as _ir
    from numba.core import cgutils as _cgutils
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

    def _add_products_codegen(context, builder, signature, args):
        kind, place_type, factors_type, x_type = signature.args
        table, place, factors, x = args
        view = context.make_array(kind)(context, builder, table)
        place = context.cast(builder, place, place_type, numba.types.intp)
        pointer = _cgutils.get_item_pointer(context, builder, kind, view, [place], wraparound=False)
        n = factors_type.count
        vector = _ir.VectorType(_ir.DoubleType(), n)
        lane = [_ir.Constant(_ir.IntType(32), k) for k in range(n)]
        pointer = builder.bitcast(pointer, vector.as_pointer())
        gathered = _ir.Constant(vector, _ir.Undefined)
        for k in range(n):  # (loop-invariant in the kernels' loops: LLVM hoists it)
            factor = builder.extract_value(factors, k)
            factor = context.cast(builder, factor, factors_type.dtype, numba.types.float64)
            gathered = builder.insert_element(gathered, factor, lane[k])
        x = context.cast(builder, x, x_type, numba.types.float64)
        xs = builder.insert_element(_ir.Constant(vector, _ir.Undefined), x, lane[0])
        every = _ir.Constant(_ir.VectorType(_ir.IntType(32), n), [0] * n)
        xs = builder.shuffle_vector(xs, _ir.Constant(vector, _ir.Undefined), every)
        old = builder.load(pointer, align=8)
        # each lane as _add_product's: a + factor * x, "contract" only
        product = builder.fmul(gathered, xs, flags=("contract",))
        builder.store(builder.fadd(old, product, flags=("contract",)), pointer, align=8)
        return context.get_dummy_value()

    @_intrinsic
    def _add_products(typingctx, table, place, factors, x):
        """``table[place + k] = _add_product(table[place + k], factors[k], x)`` for each k, at once.

        ``table`` a flat float64 array, ``place`` an unsigned index (no
        test for a negative one), ``factors`` a tuple of floats (8: a cache
        line's row of the lazy table). Each lane rounds as
        :func:`_add_product` does, to the bit, in one vector operation: LLVM
        kept the 8 scalar ones (a load, a fused multiply-add and a store
        each) as they were, 26 instructions a stored value where this takes
        11 (lazy SGD's update, hashed text, 5 classes).
        """
        if not (
            isinstance(table, numba.types.Array)
            and table.ndim == 1
            and table.dtype == numba.types.float64
            and isinstance(factors, numba.types.UniTuple)
        ):
            return None  # (typing fails: the codegen loads and stores float64 vectors)
        return numba.types.void(table, place, factors, x), _add_products_codegen

    @_intrinsic
    def _product(typingctx, x, y):
        """``x * y`` rounded: never regrouped with the products around it, nor fused into a sum."""
        return numba.types.float64(x, y), _product_codegen

else:  # pragma: no cover

    def _add_product(a, x, y):
        return a + x * y

    def _product(x, y):
        return x * y

    def _add_products(table, place, factors, x):
        for k, factor in enumerate(factors):
            table[place + k] = table[place + k] + factor * x


@jit_inline
def _prefetch_column(table, j):
    """Ask for column j's row of ``table``, every cache line of it (rows are whole lines)."""
    for column in range(0, table.shape[1], 8):  # 8 float64: a cache line
        _prefetch(table, j, column)


@jit_inline
def _prefetch_rows_ahead(data, indices, indptr, Y, weights, order, position, first, stop, table):
    """At ``position`` of ``order``, ask for X's row _ROWS_AHEAD on, and the table rows _AHEAD on.

    On wide data each table row is a cache miss, and so is a row of X taken
    in random order. Asked for ahead, the misses overlap with the work on
    the rows before; met one at a time by the work on each non-zero, they
    wait in turn. X's row (its values, indices, target and weight) is asked
    for first, so that its indices are in cache when its table rows are
    asked for: asked for from indices still in memory, each waited for its
    row of X (lazy momentum's epoch on the benchmark's hashed text, medians
    of three runs interleaved with the code before: 39.5 -> 35.8 ms at 2**18
    columns, 48.1 -> 45.1 at 2**20). Plain SGD's kernel asks the same way,
    written out. Rows ``first`` to ``stop``
    (exclusive) are asked for; at ``first``, the first rows too.
    """
    for ahead in range(
        position + _ROWS_AHEAD if position > first else first, min(position + _ROWS_AHEAD + 1, stop)
    ):
        _prefetch_x_row(data, indices, indptr, Y, weights, order[ahead])
    for ahead in range(
        position + _AHEAD if position > first else first, min(position + _AHEAD + 1, stop)
    ):
        i = order[ahead]
        for q in range(indptr[i], indptr[i + 1]):
            _prefetch_column(table, indices[q])


@jit_inline
def _prefetch_x_row(data, indices, indptr, Y, weights, i):
    """Ask for row i of CSR X (its values and indices, every line), its target and weight."""
    lo, hi = indptr[i], indptr[i + 1]
    for q in range(lo, hi, 8):  # (8 float64, or 16 float32 or indices: a line)
        _prefetch_item(data, q)
        _prefetch_item(indices, q)
    if hi > lo:
        _prefetch_item(data, hi - 1)
        _prefetch_item(indices, hi - 1)
    _prefetch(Y, i, 0)
    _prefetch_item(weights, i)
