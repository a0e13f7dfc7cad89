"""What the compiled code shares: numba's jits, a prefetch hint, aligned arrays, the codes.

``_exact`` compiles numpy's elementwise arithmetic to the bit, with no
fast-math flag (for the passes and draws that numpy paths match).
numba is a dependency; without it (a safety net) ``jit`` returns the
function as it is and the estimators train on the numpy path
(``skgd._kernel.ENABLED`` and ``numba`` decide). The codes are how
:class:`skgd._kernel.Plan` names a built-in loss or optimizer to the
compiled batch steps, which branch on them (:mod:`skgd._codes` maps the
classes to them).
"""

import hashlib
import os
import warnings

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this is a safety net
    numba = None
# numba's debugging switch (NUMBA_DISABLE_JIT=1) runs jitted functions as Python, but
# not the intrinsics (prefetch hints, fused multiply-adds): every fit raised
# NotImplementedError. The estimators then take the numpy path, as without numba.
if numba is not None and numba.config.DISABLE_JIT:
    numba = None

# Beside numba's cache files: the hash of the compiled sources they were made from
_SOURCES_STAMP = "skgd-compiled-sources.sha1"


def _cache_directory():
    """Where numba keeps this package's cache files (beside the sources, or NUMBA_CACHE_DIR)."""
    from numba.core.caching import CacheImpl

    for locator in CacheImpl._locator_classes:
        found = locator.from_function(aligned, __file__)
        if found is not None:
            return found.get_cache_path()
    return None


def _compiled_sources_hash(directory):
    """The hash of the package's modules that hold compiled code (their names and bytes)."""
    digest = hashlib.sha1()
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(directory, name), "rb") as source:
            text = source.read()
        if name == "_compiled.py" or b"from ._compiled import" in text:
            digest.update(name.encode() + b"\0" + text)
    return digest.hexdigest()


def clear_stale_caches():
    """Drop numba's cache files of this package when any of its compiled sources changed.

    numba keys a cached function on its own file's stamp only. A function
    compiled with another module's function in it (a batch step's loss, an
    inlined helper) keeps its cached machine code when only that module
    changed: after a ``git pull`` or an upgrade in place, the old arithmetic
    ran, silently (models of this package's own tree differed from a fresh
    clone's in 63 of 207 cases). So the cache holds the hash of the sources
    it was compiled from, and is emptied, once, when they differ: the next
    fits compile afresh. Returns whether it was emptied.
    """
    if numba is None:  # pragma: no cover - no compiled code, no cache
        return False
    try:
        cache = _cache_directory()
        if cache is None:
            return False
        stamp = _compiled_sources_hash(os.path.dirname(os.path.abspath(__file__)))
        marker = os.path.join(cache, _SOURCES_STAMP)
        try:
            with open(marker) as kept:
                if kept.read() == stamp:
                    return False
        except OSError:
            pass
        os.makedirs(cache, exist_ok=True)
        for name in os.listdir(cache):
            if name.endswith((".nbi", ".nbc")):
                try:
                    os.remove(os.path.join(cache, name))
                except OSError:  # another process's, just compiled: also current
                    pass
        with open(marker, "w") as kept:
            kept.write(stamp)
        return True
    except OSError:  # a read-only install: numba then keeps its cache elsewhere, or none
        return False


def aligned(shape, boundary):
    """An uninitialised float64 array of ``shape`` starting on a ``boundary``-byte address.

    Rows of ``boundary`` bytes (or a divisor of a 64-byte cache line, or whole
    lines) then never straddle a cache line: a random read of one is one miss.
    """
    size = int(np.prod(shape))
    raw = np.empty(size + boundary // 8)
    offset = (-raw.ctypes.data % boundary) // 8
    return raw[offset : offset + size].reshape(shape)


# Losses of one output at a time: of the residual raw - y, of the margin y * raw
_SQUARED, _ABSOLUTE, _HUBER, _EPSILON, _SQUARED_EPSILON, _POISSON = 0, 1, 2, 3, 4, 5
_LOGISTIC, _HINGE, _SQUARED_HINGE, _MODIFIED_HUBER, _PERCEPTRON = 10, 11, 12, 13, 14
# Losses of a whole row: softmax cross-entropy, Crammer and Singer's multiclass hinge
_SOFTMAX, _CRAMMER_SINGER = 20, 21
# Optimizers
_SGD, _MOMENTUM, _NESTEROV, _ADAGRAD, _RMSPROP, _ADAM = range(6)

clear_stale_caches()


def _caches():
    """Whether numba has a writable place for this package's cache; else warn, once.

    A read-only install whose user has no writable cache directory either
    (a container, a service account) made numba refuse every ``cache=True``
    function: ``import skgd`` raised "no locator available". It then
    compiles in each process instead.
    """
    if numba is None or _cache_directory() is not None:
        return True
    warnings.warn(
        "numba finds no writable place for skgd's compiled code (the install and the "
        "user's cache directory are read-only): each process compiles it anew (5 to 15 "
        "seconds a kind of fit). Set NUMBA_CACHE_DIR to a writable directory.",
        RuntimeWarning,
        stacklevel=2,
    )
    return False


_CACHE = _caches()

if numba is not None:
    # reassociation lets sums vectorize; no "fast" flags that assume finite values,
    # since an overflow is how a diverging batch shows. A sum never shares its loop
    # with a store: LLVM then runs the loop as vectors or one value at a time
    # depending on how far apart in memory the arrays happen to be (a test of
    # their distance it adds), and the two sum in different orders. A softmax's
    # exponentials and their sum in one loop made one fit's coefficients differ by
    # 1e-13 in about one process in two (where the system placed its heap).
    # tests/test_compiled_sums.py audits the compiled loops for it. (A test of
    # whether two arrays overlap, LLVM's other, is no such coin toss: arrays of
    # their own never do.)
    jit = numba.njit(cache=_CACHE, nogil=True, fastmath={"reassoc", "contract"})
    # A helper of scalars called for every row, inlined into its caller by numba
    # itself: a call cost about 5% of an epoch's compute. Not for a helper that
    # takes arrays: inlined or not, numba counts each array's references on the
    # way in and out (an atomic add each; a dense epoch's row prefetch paid eight
    # a row, a fifth of its compute), so such code is written in the loop.
    jit_inline = numba.njit(
        cache=_CACHE, nogil=True, fastmath={"reassoc", "contract"}, inline="always"
    )
    # numpy's elementwise arithmetic to the bit: no fast-math flag (a contracted
    # multiply-add rounds once where numpy rounds twice), and numpy's division by
    # 0 (an infinity or NaN, not Python's ZeroDivisionError)
    _exact = numba.njit(cache=_CACHE, nogil=True, error_model="numpy")
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

    jit_inline = jit
    _exact = jit

    def _prefetch(array, row, column):
        pass

    def _prefetch_item(array, index):
        pass
