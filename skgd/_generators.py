"""The estimator's random generator: copies, and snapshots to put it back.

A stream draws from the estimator's own generator in place (see
``BaseGD._fit``); a rejected call puts it back from a snapshot taken before
(``keep_state_on_error``), and a copy of the estimator gets a generator of
its own. These functions do that for numpy's ``RandomState``, quickly for
its usual MT19937 and through ``get_state`` for any other bit generator.
"""

import ctypes
import sys

import numpy as np


def copy_generator(rng):
    """A new ``RandomState`` in ``rng``'s state."""
    return generator_in(_state(rng), rng)


def _state(rng):
    """``rng.get_state()``: a tuple for MT19937, else the dict ``legacy=False`` gives.

    (A ``RandomState`` over another bit generator, PCG64's say, has no
    tuple form: numpy warns and gives a dict, which a ``RandomState`` over
    MT19937 cannot take.)
    """
    legacy = type(getattr(rng, "_bit_generator", None)) is np.random.MT19937
    return rng.get_state(legacy=legacy)


# MT19937's state as numpy keeps it in C: 624 32-bit words, then the position (an int)
_MT19937_WORDS = 624
_MT19937_BYTES = 4 * _MT19937_WORDS + 4


def take_snapshot(rng):
    """What :func:`restore` needs to put ``rng`` back in its state of now.

    ``RandomState.get_state`` copies MT19937's 624 words one at a time (40
    us: a tenth of a shuffled 100-row ``partial_fit`` call, which keeps the
    state only in case it fails); here they are copied in one piece from
    where numpy keeps them (``BitGenerator.ctypes``), under the generator's
    lock as numpy's own copy. The legacy generator's cached normal value is
    not among them: training draws no normal values, so it stays as it is.
    Any other bit generator: ``get_state``.
    """
    bit_generator = getattr(rng, "_bit_generator", None)
    if type(bit_generator) is np.random.MT19937:
        with bit_generator.lock:
            return ctypes.string_at(bit_generator.ctypes.state_address, _MT19937_BYTES)
    return _state(rng)


def restore(rng, snapshot):
    """``rng`` back in the state :func:`take_snapshot` took."""
    if not isinstance(snapshot, bytes):
        rng.set_state(snapshot)
        return
    bit_generator = rng._bit_generator
    with bit_generator.lock:
        ctypes.memmove(bit_generator.ctypes.state_address, snapshot, _MT19937_BYTES)


def state_of(rng, snapshot):
    """The state :func:`take_snapshot` took, as ``rng.get_state()`` would have given it."""
    if not isinstance(snapshot, bytes):
        return snapshot
    name, _, _, *normal = rng.get_state()  # (the cached normal value: unchanged since)
    key = np.frombuffer(snapshot, dtype=np.uint32, count=_MT19937_WORDS).copy()
    position = int.from_bytes(snapshot[4 * _MT19937_WORDS :], sys.byteorder, signed=True)
    return (name, key, position, *normal)


def generator_in(state, rng=None):
    """A new ``RandomState`` in ``state``, one of :func:`_state`'s for ``rng`` (default MT19937).

    Over another bit generator (PCG64, a user's subclass), the new one is of
    ``rng``'s bit generator's own type: only it takes that state.
    """
    kind = type(getattr(rng, "_bit_generator", None))
    if isinstance(state, dict) and kind is not np.random.MT19937:
        generator = np.random.RandomState(kind())
    else:
        generator = np.random.RandomState()
    generator.set_state(state)
    return generator
