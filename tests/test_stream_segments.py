"""A stream's call of many batches runs in segments, the stream's step judged after each.

See :class:`skgd._epoch._ObservedRun`: a stream of a few large calls stayed at
the full step, and its noise, for as many calls as its walk took to tell the
floor.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.model_selection import train_test_split

from skgd import GDClassifier, GDRegressor, _epoch, _kernel


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


def segmented_calls(monkeypatch):
    """The calls that ran in segments, counted."""
    runs = []
    run = _epoch._ObservedRun.run

    def counted(self, *args):
        runs.append(self.per)
        return run(self, *args)

    monkeypatch.setattr(_epoch._ObservedRun, "run", counted)
    return runs


@pytest.mark.parametrize(
    "make, kind, segmented",
    [
        (lambda: GDRegressor(random_state=0), "dense", True),
        (lambda: GDRegressor(random_state=0), "sparse", False),
        (lambda: GDRegressor(average=True, random_state=0), "dense", False),
        (
            lambda: GDRegressor(standardize=False, learning_rate=1e-6, random_state=0),
            "dense",
            False,
        ),
        (lambda: GDClassifier(random_state=0), "dense", False),
        (lambda: GDClassifier(loss="squared_error", random_state=0), "dense", False),
    ],
    ids=["regressor", "sparse", "average", "unstandardized", "classifier", "classifier-l2"],
)
def test_only_a_standardized_regressors_dense_call_runs_in_segments(
    make, kind, segmented, monkeypatch
):
    # A review found each of the others segmented by a first version, and each
    # worse for it: sparse X's and a classifier's rare columns, far from their
    # optimum, looked still to the segments' walk (diamonds as CSR, calls of
    # 5,000 rows: held-out MAE 0.113 where whole calls reached 0.108; the same
    # for a classifier with a regression loss); an average damps the noise a
    # cut is for; a user's plain step too long swung, and the swing read as a
    # floor (see the test below).
    runs = segmented_calls(monkeypatch)
    X, _, y, _ = noisy_regression(0)
    X = sparse.csr_matrix(X) if kind == "sparse" else X
    model = make()
    if isinstance(model, GDClassifier):
        model.partial_fit(X, y > np.median(y), classes=[False, True])
    else:
        model.partial_fit(X, y)
    assert bool(runs) == segmented


def test_averaging_that_cannot_start_in_a_call_is_no_averaging(monkeypatch):
    # (a review) average=10**9 changes none of a call's steps (see BaseGD._fit):
    # its call runs in segments as average=False's does, to the same model.
    runs = segmented_calls(monkeypatch)
    X, _, y, _ = noisy_regression(0)
    plain = GDRegressor(random_state=0).partial_fit(X, y)
    late = GDRegressor(average=10**9, random_state=0).partial_fit(X, y)
    assert len(runs) == 2
    assert_array_equal(plain.coef_, late.coef_)


def test_a_segment_is_observed_with_its_calls_rows(monkeypatch):
    # The phase of the walk counts the call's rows (see the last test): a review's
    # mutation, the segment's rows in their place, passed every other test here.
    from skgd._stream_steps import StreamStep

    seen = []
    observe = StreamStep.observe

    def spied(self, V, V_start, c, c_start, n_rows, call_rows=None):
        seen.append((n_rows, call_rows))
        return observe(self, V, V_start, c, c_start, n_rows, call_rows)

    monkeypatch.setattr(StreamStep, "observe", spied)
    X, _, y, _ = noisy_regression(0)  # 3,750 rows, 118 batches: 8 segments
    GDRegressor(random_state=0).partial_fit(X, y)
    assert [n for n, _ in seen] == [512] * 7 + [3750 - 7 * 512]
    assert {call for _, call in seen} == {3750}


@pytest.mark.parametrize("compiled", [True, False])
def test_a_users_step_too_long_still_diverges_in_a_long_call(compiled, monkeypatch):
    # (a review) Momentum at a plain step too long for X of scale 10 swings,
    # and the call raised "Training diverged". Segmented, the swing's moves
    # read as a floor: the step was cut twice and the call ended silently at
    # training R² -0.27. Without standardization, no call runs in segments.
    monkeypatch.setattr(_kernel, "ENABLED", compiled)
    rng = np.random.RandomState(0)
    X = 10 * rng.standard_normal((4000, 5))
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(4000)
    model = GDRegressor(standardize=False, learning_rate=0.015, optimizer="momentum")
    with pytest.raises(ValueError, match="Training diverged"):
        model.partial_fit(X, y)
    assert not hasattr(model, "coef_")


def test_a_segments_phase_lasts_as_long_as_its_calls():
    # A phase of the walk ends after 16 moves' rows (its step grows back there if
    # the walk still looks random); a segment's phase counts its call's rows, as
    # the call's own did: by the segment's, phases a sixteenth as long took the
    # step back to full between cuts (diamonds' log price, calls of 5,000 rows,
    # three passes: held-out MAE 0.116, whole calls 0.110; by the call's 0.109).
    from skgd._stream_steps import StreamStep

    rng = np.random.RandomState(0)
    moves = rng.standard_normal((17, 1, 20))  # independent moves: a random walk
    for call_rows, rows_left in [(None, 512), (5000, 17 * 512)]:
        step, V, c = StreamStep(), np.zeros((1, 20)), np.zeros(1)
        for move in moves:  # 17 segments of 512 rows
            step.observe(V + move, V, c, c, 512, call_rows)
            V = V + move
        assert step.fraction == 1 and step.rows == rows_left
