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

from ._compiled import _prefetch, jit_inline, numba

# The lazy sparse steps ask for the table rows of the batch row this many ahead
# (see _prefetch_table_ahead).
_AHEAD = 8


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
