"""The training loop's named parts, one at a time: the schedule, exact descent's search, the stop.

Each is driven by hand here with the numbers an epoch would give it; the
estimators' tests show what they do together.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skgd._divergence import Recovery
from skgd._exact_descent import ExactDescent, StepSearch
from skgd._loop import Settings, StopCriterion, TrainingState
from skgd._schedules import _BATCH_GROWTH, _PLATEAUS, Schedule
from skgd.optim import SGD, Adam


def test_the_step_search_doubles_backs_off_at_a_rise_then_grows_by_a_tenth_when_calm():
    search = StepSearch(longest=100.0)
    rounding, worth = 1e-9, 1e-3
    assert search.update(10.0, 1.0, rounding, worth) == (1.0, False, False)  # the first: noted
    assert search.started
    # a fall worth having: the step doubles, and the epoch searched
    assert search.update(9.0, 1.0, rounding, worth) == (2.0, False, True)
    # a rise: half the step, back to the lowest point, and no more doubling
    assert search.update(9.5, 2.0, rounding, worth) == (1.0, True, True)
    assert not search.doubling
    # the lowest point seen again: still the search's epoch, the step kept
    assert search.update(9.0, 1.0, rounding, worth) == (1.0, False, True)
    # falls: the step grows by a tenth once five in a row have fallen
    rates = []
    rate, loss = 1.0, 9.0
    for _ in range(6):
        loss -= 0.1
        rate, back, searching = search.update(loss, rate, rounding, worth)
        assert not back and not searching
        rates.append(rate)
    assert rates == [1.0, 1.0, 1.0, 1.0, 1.1, 1.1 * 1.1]


def test_a_rise_of_momentums_overshoot_keeps_the_step_search_doubling():
    # A rise after a stable step taken with momentum is the momentum's overshoot
    # (the velocity the batches' stage carried into the whole data): the restart
    # undoes it, the step stays, and the doubling goes on. Else it had ended the
    # doubling for good: breast cancer at L1's alpha=1e-3, 7 seeds of 20 stopped
    # after 35 to 41 epochs at a step of 1/L, every coefficient non-zero (the
    # optimum has 15), 5.2% to 6.3% above the optimum's objective.
    search = StepSearch(longest=100.0)
    rounding, worth = 1e-9, 1e-3
    search.update(10.0, 1.0, rounding, worth)
    assert search.update(10.5, 1.0, rounding, worth, overshoot=True) == (1.0, True, True)
    assert search.doubling
    assert search.update(10.0, 1.0, rounding, worth) == (1.0, False, True)  # the lowest again
    assert search.update(9.0, 1.0, rounding, worth) == (2.0, False, True)  # doubling on
    assert search.update(9.5, 2.0, rounding, worth) == (1.0, True, True)  # a longer step's rise
    assert not search.doubling


def test_the_step_search_stops_doubling_at_a_flat_epoch_and_at_the_longest_step():
    search = StepSearch(longest=3.0)
    search.update(10.0, 1.0, 1e-9, 1e-3)
    assert search.update(9.0, 1.0, 1e-9, 1e-3)[0] == 2.0
    assert search.update(8.0, 2.0, 1e-9, 1e-3)[0] == 3.0  # (4.0, no longer than the longest)
    assert not search.doubling
    flat = StepSearch(longest=100.0)
    flat.update(10.0, 1.0, 1e-9, 1e-3)
    # a change within rounding is flat: the doubling ends, the step stays, no search
    assert flat.update(10.0 - 1e-12, 1.0, 1e-9, 1e-3) == (1.0, False, False)
    assert not flat.doubling


def _settings(**kw):
    base = dict(learning_rate=0.5, curvature=None, batch_size=10, max_epochs=50)
    base.update(kw, schedule=kw.get("schedule", "adaptive"))
    return Settings(**base)


def _state(optimizer=None, n_features=3):
    optimizer = SGD() if optimizer is None else optimizer
    return TrainingState(np.zeros((1, n_features)), np.zeros(1), optimizer, None)


class _Objective:
    reference_loss = 2.0


def test_at_a_plateau_the_adaptive_schedule_grows_the_batch_and_measures_afresh():
    settings = _settings()
    schedule, stop = Schedule(settings, _state(), 1000), StopCriterion(settings, _Objective(), None)
    descent = ExactDescent(settings, _state(), _Objective(), None, np.float64)
    stop.best, stop.no_improvement = (-0.5,), 5
    assert schedule.at_plateau(stop, descent, _state(), None) is False  # on, with a change
    assert schedule.batch_size == 10 * _BATCH_GROWTH
    assert stop.best is None and stop.no_improvement == 0
    assert schedule.stage_best == (-0.5,)
    # a stage that gained less than tol on the one before: on to the whole data at once
    stop.best = (-0.5,)
    assert schedule.at_plateau(stop, descent, _state(), None) is False
    assert schedule.batch_size == 1000


@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
def test_a_fixed_schedules_plateau_is_the_optimum(schedule):
    settings = _settings(schedule=schedule)
    plan, stop = Schedule(settings, _state(), 1000), StopCriterion(settings, _Objective(), None)
    descent = ExactDescent(settings, _state(), _Objective(), None, np.float64)
    stop.best = (-0.5,)
    assert plan.at_plateau(stop, descent, _state(), None) is True
    assert plan.batch_size == 10


def test_at_the_whole_data_a_plateau_above_the_lowest_point_goes_back_with_a_shorter_step():
    settings = _settings(batch_size=100)
    schedule, stop = Schedule(settings, _state(), 100), StopCriterion(settings, _Objective(), None)
    # (early stopping: exact descent without the step search)
    descent = ExactDescent(settings, _state(), _Objective(), lambda V, c: None, np.float64)
    lowest = np.full((1, 3), 7.0)
    descent.lowest = (1.0, lowest, np.array([3.0]))
    state = _state()
    state.loss_curve = [1.5, 1.4, 1.5, 1.6, 1.5]  # wandering above the lowest: a kink
    assert schedule.at_plateau(stop, descent, state, None) is False
    assert_array_equal(state.V, lowest)
    assert_array_equal(state.c, [3.0])
    assert schedule.rate == 0.5 / 5.0
    # flat at its lowest: the optimum
    state.loss_curve = [1.0] * 5
    assert schedule.at_plateau(stop, descent, state, None) is True
    # and after _PLATEAUS plateaus, whatever the loss does
    schedule.plateaus = _PLATEAUS
    state.loss_curve = [1.5, 1.4, 1.5, 1.6, 1.5]
    assert schedule.at_plateau(stop, descent, state, None) is True


def test_the_stop_criterion_counts_no_search_epoch_and_sees_a_hopeless_fall_at_once():
    settings = _settings(tol=1e-3, n_iter_no_change=3, schedule="constant")
    stop = StopCriterion(settings, _Objective(), None)
    schedule = Schedule(settings, _state(), 1000)

    class Descent:
        searching, hopeless = False, False

    descent = Descent()
    assert not stop.plateau((-1.0,), descent, schedule)
    assert not stop.plateau((-1.0,), descent, schedule)
    descent.searching = True  # the step search's epochs count neither way
    for _ in range(5):
        assert not stop.plateau((-1.0,), descent, schedule)
    assert stop.no_improvement == 1
    descent.searching = False
    assert not stop.plateau((-1.0,), descent, schedule)
    assert stop.plateau((-1.0,), descent, schedule)  # the third epoch without progress
    stop.no_improvement = 0
    descent.hopeless = True  # a fall too small to reach tol: the plateau now
    assert stop.plateau((-0.5,), descent, schedule)


def test_the_stop_criterion_at_many_batches_takes_a_short_patience_and_a_smooth_epoch():
    settings = _settings(tol=1e-3, n_iter_no_change=5)
    stop = StopCriterion(settings, _Objective(), None)
    schedule = Schedule(settings, _state(), 1000)  # 100 batches an epoch

    class Descent:
        searching, hopeless = False, False

    assert schedule.patience(5) == (2, True)
    assert not stop.plateau((-1.0,), Descent(), schedule)
    # a gain of tol / 4: times the patience of 2, still under tol: the plateau now
    assert stop.plateau((-1.0 + 0.25e-3,), Descent(), schedule)


def test_a_fit_recovers_three_times_to_its_safest_epoch_and_a_stream_never():
    settings = _settings(curvature=(1.0, 2.0))
    state = _state(Adam())
    state.V[...] = 1.0
    recovery = Recovery(settings, state)
    safest = (np.full((1, 3), 5.0), np.array([2.0]))
    recovery.note(3.0, safest)
    recovery.note(4.0, (np.zeros((1, 3)), np.zeros(1)))  # higher: not the safest
    for _ in range(3):
        assert recovery.possible()
        state.V[...] = np.nan
        recovery.undo(state, None)
        assert_array_equal(state.V, safest[0])
        assert_array_equal(state.c, safest[1])
    assert not recovery.possible()
    # a stream's call, and a fit without standardization (γ the user's step): never
    assert not Recovery(settings._replace(stop=False), _state()).possible()
    assert not Recovery(settings._replace(curvature=None), _state()).possible()


def test_long_rows_shorten_only_their_batches_steps_and_never_below_the_step_without():
    # Dense X's long rows (skgd._long_rows): a batch without one takes the rest's
    # step, a batch with some the step of the rest's bound plus their norms' sum,
    # however many it holds, and never one shorter than every batch took before
    # (the longest row's). 1,000 rows of squared norm 1; 5 of 100 and one of 1,000;
    # batches of 10.
    from skgd._long_rows import LongRows
    from skgd._objective import batch_curvature

    n, b, lam = 1000, 10, 2.0
    norms = np.ones(n)
    norms[[3, 4, 500, 501, 502]] = 100.0  # (two in one batch, three in another)
    norms[900] = 1000.0
    longest = 1000.0 + 1.0  # (the intercept's 1 added)
    rows = LongRows(norms, lam, longest, 1.0)
    typical, kept = rows.at(b)
    assert typical == 2.0 and np.flatnonzero(kept).tolist() == [3, 4, 500, 501, 502, 900]
    settings = _settings(curvature=(lam, longest), batch_size=b, outliers=rows)
    schedule = Schedule(settings, _state(), n)
    steps = schedule.steps(0, n // b)
    taken = schedule.outlier_steps(steps, np.arange(n))
    without = Schedule(_settings(curvature=(lam, longest), batch_size=b), _state(), n)
    shortest = without.steps(0, n // b)
    holding = {0: 200.0, 50: 300.0, 90: 1000.0}  # batch: its long rows' norms' sum
    for k, (step, short, long_step) in enumerate(zip(taken, shortest, steps, strict=True)):
        if k not in holding:
            assert step == long_step
            continue
        assert short <= step < long_step
        bound = min(longest, typical + holding[k] * (n - 1) / (n - b))
        assert step == pytest.approx(long_step * batch_curvature(lam, typical, n, b)
                                     / batch_curvature(lam, bound, n, b))  # fmt: skip
    assert taken[90] == pytest.approx(shortest[90])  # (the longest row's: as before)
    assert taken[90] < taken[50] < taken[0]


def test_long_rows_of_heavy_weights_take_no_step_shorter_than_without(monkeypatch):
    # (a review) The rows' norms count their weights, the step without setting apart
    # did not: with weights 0 and 1, a tenth of them 1 (10 times the mean), a batch
    # holding a heavy long row stepped 10 times shorter than every batch had before
    from skgd import _long_rows
    from skgd._long_rows import LongRows

    n, b, lam = 20000, 20, 2.0
    rng = np.random.RandomState(0)
    unweighted = rng.uniform(0.5, 1.5, size=n) * 5.0
    long = rng.choice(n, size=10, replace=False)
    unweighted[long] = 5000.0
    weights = (rng.uniform(size=n) < 0.1).astype(float)
    weights[long] = 1.0
    monkeypatch.setattr(_long_rows, "squared_row_norms", lambda X, mean, scale: unweighted.copy())
    X = np.zeros((n, 2))  # (its norms are the ones above)
    rows = LongRows.of(X, weights, None, None, lam, 5000.0, 1.0)
    typical, _ = rows.at(b)
    assert rows.longest == 5001.0 and typical <= rows.longest
    settings = _settings(curvature=(lam, 5001.0), batch_size=b, outliers=rows)
    schedule = Schedule(settings, _state(), n)
    taken = schedule.outlier_steps(schedule.steps(0, n // b), rng.permutation(n))
    without = Schedule(_settings(curvature=(lam, 5001.0), batch_size=b), _state(), n)
    before = without.steps(0, n // b)
    assert min(taken) >= min(before) * (1 - 1e-12)
    assert max(taken) > 4 * max(before)  # (and the others step longer)
