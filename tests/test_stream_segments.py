"""A stream's call of many batches runs in segments, the stream's step judged after each.

See :class:`skgd._epoch._ObservedRun`: a stream of a few large calls stayed at
the full step, and its noise, for as many calls as its walk took to tell the
floor.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import train_test_split

from skgd import GDRegressor, _epoch, _kernel


def noisy_regression(seed):
    """Features of unequal scales and offsets, targets far from noiseless (held-out R² 0.8-0.9)."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((5000, 12)) * rng.uniform(0.5, 20, 12) + rng.uniform(-5, 5, 12)
    y = X @ (rng.standard_normal(12) / X.std(axis=0)) + 1.2 * rng.standard_normal(5000) + 3.0
    return train_test_split(X, y, random_state=seed)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 3])
def test_a_stream_of_a_few_large_calls_reaches_the_fits_score(seed, compiled, monkeypatch):
    # Each call is the whole training set (3,750 rows, 118 batches). Its step was
    # the full one for as long as the walk of whole calls took to show a plateau:
    # after two calls, held-out R² 0.014, 0.004 and 0.009 below fit's (seeds 0, 1,
    # 3), the step still uncut after three. Judged along the call, it is cut
    # within the first, and two calls are within 0.001 of fit's.
    monkeypatch.setattr(_kernel, "ENABLED", compiled)
    X_train, X_test, y_train, y_test = noisy_regression(seed)
    fitted = GDRegressor(random_state=seed).fit(X_train, y_train).score(X_test, y_test)
    model = GDRegressor(random_state=seed).partial_fit(X_train, y_train)
    assert model._stream_step[0] < 1  # cut within the first call
    model.partial_fit(X_train, y_train)
    assert model.score(X_test, y_test) > fitted - 0.002


def test_a_call_whose_step_is_not_cut_is_the_same_in_segments(monkeypatch):
    # Nearly noiseless targets: the walk goes one way, no cut; the segments then
    # take the same steps as one run of the call's batches, to the bit.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3000, 8)) * 5 + 2
    y = X @ rng.standard_normal(8) + 0.01 * rng.standard_normal(3000)
    segmented = GDRegressor(random_state=0).partial_fit(X, y)
    assert segmented._stream_step[0] == 1
    monkeypatch.setattr(_epoch, "_SEGMENT_BATCHES", 10**9)  # one run, as before segments
    whole = GDRegressor(random_state=0).partial_fit(X, y)
    assert_array_equal(segmented.coef_, whole.coef_)
    assert_array_equal(segmented.intercept_, whole.intercept_)
    assert segmented._stream_step[1:3] != whole._stream_step[1:3]  # (seen by segments)


def test_which_calls_run_in_segments():
    stream = SimpleNamespace(streams=True, batch_size=32)
    assert _epoch.segment_batches(stream, 13, 3000) == 16  # 94 batches: 6 segments
    assert _epoch.segment_batches(stream, 13, 992) is None  # 31 batches: fewer than two
    assert _epoch.segment_batches(stream, 13, 1024) == 16
    assert _epoch.segment_batches(stream, 13, 100_000) == 196  # at most 16 segments
    assert _epoch.segment_batches(stream, 5 * 2**18 + 5, 100_000) is None  # wide: rows < params
    assert _epoch.segment_batches(stream, 1000, 3000) == 32  # a segment: at least n_params rows
    fit = SimpleNamespace(streams=False, batch_size=32)
    assert _epoch.segment_batches(fit, 13, 100_000) is None  # a fit's epochs run whole
