"""numpy's legacy generator's draws, compiled: an epoch's order and the random start.

Each gives, to the bit, what ``RandomState.permutation`` and
``RandomState.uniform`` give, and leaves the generator in the state numpy
leaves it (the tests compare both): models do not change with the
compiled kernel. They exist because on large data numpy's own draws took a
noticeable share of a fit (an epoch's shuffle of 200,000 rows; 5 x 2**20
random coefficients).
"""

import math

import numpy as np

from . import _kernel
from ._compiled import _exact, _prefetch_item, jit


def permutation(rng, n):
    """``rng.permutation(n)``, the same rows in the same order, and ``rng`` left in the same state.

    An epoch's order in the default shuffle. numpy's legacy shuffle draws
    each swap's target by rejection (32 random bits under the smallest mask
    of all ones that covers the position, again while above it) and swaps
    at once: 2.7 ms for 200,000 rows on a quiet machine, more on a loaded
    one, five times in a 5-epoch fit, as long in float32 as in float64.
    numpy's own generator, Mersenne Twister (MT19937), runs here compiled
    from its state, as in :func:`uniform`: its 32-bit outputs become a
    chunk's targets by the same rejection, without a branch, then the chunk
    swaps, asking for each target's row ahead; the state is given back where
    numpy's shuffle leaves it (1.0 ms). Another bit generator's draws are
    taken from ``rng`` in bulk, a chunk at a time, each chunk at most as
    many draws as positions are left, the fewest they can take, so that no
    draw is taken that numpy's shuffle would not take (2.2 ms: 0.65 ms of
    it numpy's draws, one call of a generator's function each).
    """
    if (
        n <= _SHUFFLE_BY_NUMPY
        or not _kernel.ENABLED
        or _kernel.numba is None
        or type(rng) is not np.random.RandomState
        or n - 1 > 0xFFFFFFFF  # (numpy's shuffle draws 64 bits a swap beyond)
    ):
        return rng.permutation(n)
    order = np.arange(n)
    if _twister(rng):
        targets = np.empty(min(n, _TWISTED_CHUNK), dtype=np.int64)
        _on_twister(rng, lambda key, word: _twisted_shuffle(order, key, word, targets))
        return order
    targets = np.empty(min(n, _SHUFFLE_CHUNK), dtype=np.int64)
    left = n - 1  # the positions n - 1, ..., 1 swap in turn; left is the next one
    while left > _SHUFFLE_BY_NUMPY:
        # next_uint32, as numpy's shuffle draws
        draws = rng.randint(0, 2**32, size=min(left, _SHUFFLE_CHUNK), dtype=np.uint32)
        left = _shuffle_chunk(order, draws, left, targets)
    # The last positions: numpy's shuffle of them takes the same draws for the same
    # swaps. Chunks of a few draws each would cost a call each (a partial_fit call
    # of 100 rows took 10 times numpy's permutation).
    rng.shuffle(order[: left + 1])
    return order


# Draws taken from the generator at a time; the swaps ask for the row this many swaps ahead
_SHUFFLE_CHUNK = 1 << 15
# Positions left that numpy's own shuffle takes (see permutation)
_SHUFFLE_BY_NUMPY = 2048
_SWAPS_AHEAD = 16
# The compiled twister's targets found, then swapped, at a time (32 KB: in L1 cache)
_TWISTED_CHUNK = 1 << 12


@jit
def _shuffle_chunk(order, draws, position, targets):
    """The swaps of ``position``, ``position - 1``, ... that ``draws`` decide; the position left.

    numpy's ``random_interval``: a draw masked by the smallest all-ones
    mask that covers the position, rejected while above it. The mask halves
    when the position comes down to half of it.
    """
    mask = position
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    top = position
    for k in range(draws.shape[0]):
        if position == 0:
            break
        value = draws[k] & mask
        targets[top - position] = value  # (a rejected value is overwritten by the next)
        position -= value <= position
        mask >>= position <= (mask >> 1)
    _swap(order, top, top - position, targets)
    return position


@jit
def _twisted_shuffle(order, key, word, targets):
    """numpy's shuffle of ``order`` by MT19937 from ``key`` at ``word``; the word it ends at.

    :func:`_shuffle_chunk`'s rejection, of the twister's next outputs as
    numpy's ``mt19937_next32`` gives them: the state twisted when its 624
    words are used, each word tempered. The words are tempered a state at a
    time (a loop that vectorizes), and a run of positions under one mask
    draws with nothing but the position in its chain from draw to draw:
    3 ns a draw, as one loop, and 1.1 ns.
    """
    position = order.shape[0] - 1
    mask = position
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    words = np.empty(_MT_N, dtype=np.int64)
    _temper_all(key, words)
    chunk = targets.shape[0]
    while position > 0:
        top = position
        stop = max(mask >> 1, top - chunk)  # the mask halves at its half
        while position > stop:
            if word == _MT_N:
                _twist(key)
                _temper_all(key, words)
                word = 0
            value = words[word] & mask
            word += 1
            targets[top - position] = value  # (a rejected value is overwritten by the next)
            position -= value <= position
        _swap(order, top, top - position, targets)
        if position == mask >> 1:
            mask >>= 1
    return word


@jit
def _temper_all(key, words):
    """Every word of the state, tempered: MT19937's outputs for each position."""
    for i in range(_MT_N):
        words[i] = _tempered(key[i])


@jit
def _swap(order, top, done, targets):
    """Swap ``order``'s positions ``top``, ``top - 1``, ... with their ``done`` targets in turn."""
    for d in range(done):
        if d + _SWAPS_AHEAD < done:
            _prefetch_item(order, targets[d + _SWAPS_AHEAD])
        i, j = top - d, targets[d]
        order[i], order[j] = order[j], order[i]


def uniform(rng, low, high, shape, dtype, zero=None):
    """``rng.uniform(low, high, size=shape).astype(dtype)``, to the bit; ``rng`` left as by numpy.

    ``zero``, if given, says which columns (the last axis) are then set to 0.
    The random start of a fit's coefficients: on wide data (5 x 2**20)
    numpy's uniform took 50 ms, a third of SGDClassifier's whole fit, its
    cast and the zeros a few more. numpy's legacy generator is Mersenne
    Twister (MT19937); its next double is two 32-bit outputs ``a, b``,
    ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``, and a uniform value
    ``low + (high - low) * u``. Here the same twister runs compiled from the
    generator's own state, and the state is given back where numpy's
    uniform leaves it. Any other generator, or few values, go to numpy.
    """
    n = math.prod(shape)
    if not (
        n >= _UNIFORM_BY_NUMPY
        and _kernel.ENABLED
        and _kernel.numba is not None
        and type(rng) is np.random.RandomState
        and _twister(rng)
    ):
        values = rng.uniform(low, high, size=shape).astype(dtype, copy=False)
        if zero is not None:
            np.copyto(values, 0, where=zero)  # (a boolean index of columns: 3 times slower)
        return values
    low, high = float(low), float(high)
    span = high - low
    if not math.isfinite(span):  # numpy's own error
        return rng.uniform(low, high, size=shape).astype(dtype, copy=False)
    values = np.empty(shape, dtype=dtype)
    width = shape[-1] if len(shape) else 1
    zero = np.zeros(width, dtype=np.bool_) if zero is None else np.asarray(zero, dtype=np.bool_)
    rows = values.reshape(-1, width)
    _on_twister(rng, lambda key, word: _uniform(key, word, low, span, rows, zero))
    return values


def _twister(rng):
    """Whether ``rng`` (a ``RandomState``) draws from numpy's own MT19937, as this module can."""
    return type(rng._bit_generator) is np.random.MT19937


def _on_twister(rng, run):
    """``run(key, word)`` on ``rng``'s MT19937 state (a copy of its key, and its next word).

    ``run`` twists ``key`` in place and returns the word it ends at; the
    state is written back where numpy's own draw would leave it. numpy holds
    the generator's lock for a whole draw: so does this, from reading the
    state to writing it back, or two threads sharing a generator (numpy's
    global one, a user's) would draw the same values.
    """
    with rng._bit_generator.lock:
        state = rng.get_state(legacy=False)
        key = np.array(state["state"]["key"], dtype=np.uint32)  # (a copy, twisted by run)
        state["state"]["pos"] = run(key, state["state"]["pos"])
        state["state"]["key"] = key
        rng.set_state(state)


# Fewer values than this are drawn by numpy (a stream's first call, small data)
_UNIFORM_BY_NUMPY = 4096
# MT19937's constants
_MT_N, _MT_M, _MT_MATRIX, _MT_UPPER, _MT_LOWER = 624, 397, 0x9908B0DF, 0x80000000, 0x7FFFFFFF


@_exact
def _twist(key):
    """MT19937's next 624 words of state, in place (numpy's ``mt19937_gen``).

    In its three parts, as numpy's C: loops whose indices the compiler sees
    through vectorize (as one loop with wrapped indices, 9 times slower).
    """
    for i in range(_MT_N - _MT_M):
        y = (np.int64(key[i]) & _MT_UPPER) | (np.int64(key[i + 1]) & _MT_LOWER)
        key[i] = np.int64(key[i + _MT_M]) ^ (y >> 1) ^ (-(y & 1) & _MT_MATRIX)
    for i in range(_MT_N - _MT_M, _MT_N - 1):
        y = (np.int64(key[i]) & _MT_UPPER) | (np.int64(key[i + 1]) & _MT_LOWER)
        key[i] = np.int64(key[i + _MT_M - _MT_N]) ^ (y >> 1) ^ (-(y & 1) & _MT_MATRIX)
    y = (np.int64(key[_MT_N - 1]) & _MT_UPPER) | (np.int64(key[0]) & _MT_LOWER)
    key[_MT_N - 1] = np.int64(key[_MT_M - 1]) ^ (y >> 1) ^ (-(y & 1) & _MT_MATRIX)


@_exact
def _tempered(word):
    """MT19937's output of one word of state."""
    y = np.int64(word)
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    return y ^ (y >> 18)


@_exact
def _uniform(key, position, low, span, out, zero):
    """numpy's legacy ``uniform`` into ``out`` (rows of ``zero``'s length); the position left.

    A block of the state at a time: its words tempered, then paired into
    doubles (a pair may straddle two blocks), in loops that vectorize. No
    fast-math flag: ``low + span * u`` rounds twice, as numpy's does. The
    columns of ``zero`` get 0 block by block, by a select over the values
    just stored, in cache: a pass of its own over ``out`` at the end (a
    branch a value, a coin toss on hashed text) took a third of the time
    on 5 x 2**20.
    """
    flat = out.reshape(-1)
    n = flat.shape[0]
    words = np.empty(_MT_N, dtype=np.uint32)
    done, first = 0, -1  # the doubles made; the first word of a pair across two blocks
    while done < n:
        if position == _MT_N:
            _twist(key)
            position = 0
        m = _MT_N - position
        state = key[position:]  # (slices: indices from 0, see _zero_columns)
        for i in range(m):
            words[i] = _tempered(state[i])
        i = 0
        if first >= 0:
            flat[done] = low + span * (_double(first, words[0]))
            _zero_columns(flat, zero, done, done + 1)
            done, i, first = done + 1, 1, -1
        pairs = min((m - i) // 2, n - done)
        values, drawn = flat[done : done + pairs], words[i : i + 2 * pairs]
        for p in range(pairs):
            values[p] = low + span * _double(drawn[2 * p], drawn[2 * p + 1])
        _zero_columns(flat, zero, done, done + pairs)
        done, i = done + pairs, i + 2 * pairs
        if done < n and i < m:  # one word left in this block
            first, i = np.int64(words[i]), i + 1
        position += i  # (the words a pair used; numpy twists only when it needs one more)
    return position


@_exact
def _zero_columns(flat, zero, start, stop):
    """``flat[start:stop]`` (rows of ``zero``'s length, flattened) set to 0 in ``zero``'s columns.

    A select, not a branch (a coin toss a value on hashed text), a row's
    stretch at a time, over values just stored, in cache. On slices, whose
    indices start at 0: with ``flat[start + t]`` the compiler, unable to
    rule out a negative index, made it a far slower scalar loop (as it did
    the pairs' loop in :func:`_uniform`).
    """
    width = zero.shape[0]
    column = start % width
    while start < stop:
        stretch = min(stop - start, width - column)
        row, kept = flat[start : start + stretch], zero[column : column + stretch]
        for t in range(stretch):
            row[t] = 0.0 if kept[t] else row[t]
        start, column = start + stretch, 0


@_exact
def _double(a, b):
    """MT19937's double in [0, 1) of two outputs (numpy's ``mt19937_next_double``).

    Their top bits as 32-bit integers, which convert to floats in vectors
    (64-bit ones do not, before AVX-512). Times 2**-53: exactly a division.
    """
    high, low = np.int32(a >> 5), np.int32(b >> 6)
    return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0)
