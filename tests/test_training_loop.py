"""The training loop of skgd/_base.py: the course's update, batching, stopping, logging."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor


@pytest.fixture
def course_line():
    """The course's line y = 3.0 x + 0.5, with x standardized (the course's first step)."""
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=100)
    x = (x - x.mean()) / x.std()
    return x[:, None], 3.0 * x + 0.5


def plain_gd(course_line, **params):
    """The course's update exactly: plain steps of γ on X and y as they are."""
    defaults = dict(
        learning_rate=0.01,
        optimizer="sgd",
        standardize=False,
        batch_size=100,
        penalty=None,
        shuffle=False,
        tol=None,
        max_iter=1,
    )
    return GDRegressor(**{**defaults, **params})


def test_one_step_is_the_course_update(course_line):
    X, y = course_line
    x = X[:, 0]
    a, b, gamma = 0.58, 0.25, 0.01
    model = plain_gd(course_line).fit(X, y, coef_init=[a], intercept_init=[b])
    # dL/da = 1/n sum (aX + b - y*) X ;  dL/db = 1/n sum (aX + b - y*)
    expected_a = a - gamma * np.mean((a * x + b - y) * x)
    expected_b = b - gamma * np.mean(a * x + b - y)
    assert_allclose(model.coef_, [expected_a], rtol=1e-12)
    assert_allclose(model.intercept_, [expected_b], rtol=1e-12)
    assert model.t_ == 1 and model.n_iter_ == 1


def test_the_course_line_walks_to_3_and_a_half(course_line):
    X, y = course_line
    model = plain_gd(course_line, max_iter=1, warm_start=True)
    model.fit(X, y, coef_init=[0.58], intercept_init=[0.25])
    path = [(model.coef_[0], model.intercept_[0])]
    for _ in range(999):
        path.append((model.fit(X, y).coef_[0], model.intercept_[0]))
    path = np.array(path)
    distance = np.hypot(path[:, 0] - 3.0, path[:, 1] - 0.5)
    assert np.all(np.diff(distance) < 0)  # every step gets closer
    assert distance[-1] < 1e-3
    # the loss falls at every epoch, as gradient descent with a small step must
    assert len(model.loss_curve_) == 1000  # warm starts continue the curve
    assert np.all(np.diff(model.loss_curve_) < 0)


def test_updates_are_counted_per_batch():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    model = GDRegressor(batch_size=32, max_iter=3, tol=None).fit(X, y)
    assert model.t_ == 3 * 4  # ceil(100 / 32) batches an epoch
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_the_stop_criterion_stops_before_max_iter_and_none_runs_all():
    X, y = make_regression(n_samples=200, n_features=3, noise=1.0, random_state=0)
    stopped = GDRegressor(max_iter=1000, random_state=0).fit(X, y)
    assert stopped.n_iter_ < 1000
    # it stopped because n_iter_no_change epochs brought no progress of tol
    tail = np.array(stopped.loss_curve_[-stopped.n_iter_no_change - 1 :])
    assert tail[1:].min() > tail.min() - stopped.tol - 1e-12 or tail[0] == tail.min()
    everything = GDRegressor(max_iter=30, tol=None, random_state=0).fit(X, y)
    assert everything.n_iter_ == 30


def test_zero_weights_equal_removed_samples_and_weights_scale_freely():
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    w = np.ones(60)
    w[::3] = 0
    params = dict(max_iter=40, tol=None, random_state=0)
    weighted = GDRegressor(**params).fit(X, y, sample_weight=w)
    removed = GDRegressor(**params).fit(X[w > 0], y[w > 0])
    assert_allclose(weighted.coef_, removed.coef_, rtol=1e-10)
    scaled = GDRegressor(**params).fit(X, y, sample_weight=7.5 * w)
    assert_allclose(scaled.coef_, weighted.coef_, rtol=1e-10)


def test_all_zero_or_negative_weights_are_clear_errors():
    X, y = np.random.RandomState(0).normal(size=(10, 2)), np.arange(10.0)
    with pytest.raises(ValueError, match="non-zero"):
        GDRegressor().fit(X, y, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="(?i)negative"):
        GDRegressor().fit(X, y, sample_weight=-np.ones(10))


def test_a_constant_feature_gets_a_zero_coefficient():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=50), np.full(50, 7.0)])
    y = 2 * X[:, 0] + 1
    model = GDRegressor(random_state=0).fit(X, y)
    assert abs(model.coef_[1]) < 1e-12  # it starts at 0 and its data cannot move it
    assert model.score(X, y) > 0.999


def test_without_intercept_the_model_goes_through_the_origin():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=3.0, size=(80, 2))
    y = X @ [1.5, -2.0]
    for X_fit in (X, sparse.csr_matrix(X)):
        model = GDRegressor(
            fit_intercept=False,
            penalty=None,
            learning_rate=0.5,
            tol=None,
            max_iter=500,
            random_state=0,
        ).fit(X_fit, y)
        assert_array_equal(model.intercept_, [0.0])
        assert_allclose(model.coef_, [1.5, -2.0], atol=0.01)


def test_sparse_columns_with_large_means_are_centred_without_densifying():
    # Sparse X is not centred, except columns whose mean outweighs their
    # spread: uncentred, those would make the descent crawl.
    rng = np.random.RandomState(0)
    X = rng.normal(loc=50.0, size=(100, 3))
    y = X @ [1.0, 2.0, -1.0] + 4.0
    params = dict(batch_size=100, max_iter=200, tol=None, penalty=None, random_state=0)
    dense = GDRegressor(**params).fit(X, y)
    from_sparse = GDRegressor(**params).fit(sparse.csr_matrix(X), y)
    assert_allclose(from_sparse.coef_, dense.coef_, rtol=1e-9)
    assert_allclose(dense.coef_, [1.0, 2.0, -1.0], atol=1e-3)


def test_verbose_prints_a_table_and_silence_prints_nothing(capsys):
    X, y = make_regression(n_samples=50, n_features=2, random_state=0)
    GDRegressor(max_iter=3, tol=None, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["epoch", "train", "loss", "lr", "seconds"]
    assert [int(line.split()[0]) for line in lines[1:]] == [1, 2, 3]
    assert len({len(line) for line in lines}) == 1  # aligned columns
    GDClassifier(max_iter=3, tol=None, early_stopping=True, verbose=1).fit(X, y > 0)
    lines = capsys.readouterr().out.splitlines()
    assert "val score" in lines[0] and len(lines) == 4
    GDRegressor(max_iter=3, tol=None).fit(X, y)
    assert capsys.readouterr().out == ""


def test_a_failed_fit_leaves_a_fitted_model_as_it_was():
    X, y = make_regression(n_samples=50, n_features=2, random_state=0)
    model = GDRegressor(random_state=0).fit(X, y)
    before = {key: value for key, value in vars(model).items()}
    with pytest.raises(ValueError):
        model.fit(np.full_like(X, np.nan), y)
    assert vars(model).keys() == before.keys()
    assert all(vars(model)[key] is before[key] for key in before)


def test_float_targets_and_scaled_inputs_give_scaled_coefficients():
    X, y = make_regression(n_samples=100, n_features=3, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    params = dict(batch_size=100, max_iter=50, tol=None, penalty=None, random_state=0)
    base = GDRegressor(**params).fit(X, y)
    # In standardized coordinates, scaling a feature changes nothing but its units.
    scaled = GDRegressor(**params).fit(X * [1.0, 10.0, 0.1], y)
    assert_allclose(scaled.coef_ * [1.0, 10.0, 0.1], base.coef_, rtol=1e-8)


def test_without_standardize_the_step_is_the_plain_update_on_raw_x():
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 3, size=50)  # not standardized: the course's raw line
    X, y = x[:, None], 3.0 * x + 0.5
    a, b, gamma = 0.58, 0.25, 0.1
    model = plain_gd(None, learning_rate=gamma, standardize=False)
    model.fit(X, y, coef_init=[a], intercept_init=[b])
    assert_allclose(model.coef_, [a - gamma * np.mean((a * x + b - y) * x)], rtol=1e-12)
    assert_allclose(model.intercept_, [b - gamma * np.mean(a * x + b - y)], rtol=1e-12)
    # On raw x the curvature is ~3.8: a step of 0.6 overshoots, and fit says so.
    with pytest.raises(ValueError, match="diverged"):
        plain_gd(None, learning_rate=0.6, standardize=False, max_iter=100).fit(X, y)
    # The same step is safe in standardized coordinates.
    safe = plain_gd(None, learning_rate=0.6, standardize=True, max_iter=100)
    assert safe.fit(X, y).score(X, y) > 0.999


@pytest.mark.parametrize("schedule", ["adaptive", "constant"])
def test_momentums_noise_counts_in_the_step_at_stages_of_many_batches(schedule):
    # Momentum sums about 1 / (1 - momentum) batches' noise: the batches'
    # extra curvature counts that many times, for the adaptive schedule at
    # stages of 100 batches or more an epoch (for a fixed schedule, always).
    from skgd import _loop, _schedules
    from skgd._objective import batch_curvature
    from skgd.optim import SGD, Nesterov

    L, L_max = 1.2, 180.0
    settings = _loop.Settings(
        learning_rate=0.5, curvature=(L, L_max), batch_size=32, max_epochs=5, schedule=schedule
    )
    for n_batches in [99, 100]:
        n = 32 * n_batches
        noisy = batch_curvature(L, L_max, n, 32)
        counted = noisy + 9.0 * (noisy - L)  # Nesterov(momentum=0.9) sums ten batches
        expected = counted if (n_batches >= 100 or schedule == "constant") else noisy
        assert_allclose(_schedules._largest_stable_step(settings, n, 32, Nesterov()), 1 / expected)
        assert_allclose(_schedules._largest_stable_step(settings, n, 32, SGD()), 1 / noisy)
        # the whole data is exact descent: no noise to count
        assert_allclose(_schedules._largest_stable_step(settings, n, n, Nesterov()), 1 / L)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_a_fit_out_of_epochs_among_batches_ends_below_their_noise(optimizer, monkeypatch):
    # max_iter reached at a stage of batches, after an epoch that gained
    # less than 1%: the last epoch's steps fall by stairs, so the model
    # returned is not wherever the batches' noise (or Adam's stride of
    # constant length) last threw it.
    from sklearn.linear_model import LinearRegression

    from skgd import _schedules

    X, y = make_regression(n_samples=20000, n_features=20, noise=20.0, random_state=0)
    optimum = np.mean((LinearRegression().fit(X, y).predict(X) - y) ** 2)

    def excess():
        model = GDRegressor(optimizer=optimizer, alpha=0.0, max_iter=5, tol=None, random_state=0)
        return np.mean((model.fit(X, y).predict(X) - y) ** 2) / optimum - 1

    annealed = excess()
    monkeypatch.setattr(_schedules, "_annealed", lambda steps, memory: steps)
    assert annealed < 0.5 * excess()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fit_still_walking_down_keeps_its_last_epochs_step(monkeypatch):
    # Every epoch of 3 on the digits gains more than 1% of the loss: the
    # model is still far from the batches' noise floor, and annealing would
    # cost half an epoch's progress; the last epoch keeps its step.
    from sklearn.datasets import load_digits

    from skgd import _schedules

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(max_iter=3, tol=None, random_state=0)
    fitted = GDClassifier(**params).fit(X, y)
    curve = fitted.loss_curve_
    assert np.all(np.subtract(curve[:-1], curve[1:]) > 0.01 * np.abs(curve[1:]))
    monkeypatch.setattr(_schedules, "_annealed", lambda steps, memory: [0.0] * len(steps))
    assert_array_equal(GDClassifier(**params).fit(X, y).coef_, fitted.coef_)


def test_the_annealed_steps_fall_by_stairs_from_the_whole_step(monkeypatch):
    from skgd import _schedules

    monkeypatch.setattr(_schedules, "_STAIRS", 4)
    assert_allclose(_schedules._annealed([2.0] * 8), [2.0, 2.0, 1.5, 1.5, 1.0, 1.0, 0.5, 0.5])
    assert_allclose(_schedules._annealed([1.0, 2.0]), [1.0, 1.0])
    # a stair lasts as long as momentum's memory at least (its velocity, in
    # the parameters' units, carries that many batches' steps)
    assert_allclose(
        _schedules._annealed([2.0] * 8, memory=2.5), [2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0]
    )
    # not two stairs: as they are
    assert _schedules._annealed([2.0] * 14, memory=10.0) == [2.0] * 14


# A stream's one-row call takes some of its numbers without numpy's reductions
# (issue 11); each shortcut gives numpy's result to the bit.


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [2.5, -0.0, 0.0, np.inf, np.nan, 1e-300])
def test_a_sum_of_one_value_is_numpys_sum_to_the_bit(dtype, value):
    from skgd._divergence import _sum

    values = np.array([value], dtype=dtype)
    expected = float(values.sum())  # numpy's sum starts from 0.0: -0.0 sums to 0.0
    got = _sum(values)
    assert type(got) is float
    assert np.float64(got).tobytes() == np.float64(expected).tobytes()
    many = np.array([value, 1.0], dtype=dtype)
    assert np.float64(_sum(many)).tobytes() == np.float64(float(many.sum())).tobytes()


@pytest.mark.parametrize("alpha", [1e-4, np.float32(0.3), 0.0])
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("unit", [np.array([0.37]), 1.0])
def test_one_outputs_penalty_on_numbers_is_the_arrays_to_the_bit(alpha, penalty, unit):
    from skgd import _passes
    from skgd._objective import Objective
    from skgd.losses import SquaredError

    rng = np.random.RandomState(0)
    V = rng.normal(size=(1, 7))
    l1_share = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.15}[penalty]
    alpha_l1, alpha_l2 = alpha * l1_share, alpha * (1.0 - l1_share)
    objective = Objective(
        SquaredError(), x_mean=np.zeros(7), x_scale=np.ones(7), y_loc=np.zeros(1),
        y_scale=np.ones(1), loss_scale=np.array([0.37]), alpha_l1=alpha_l1,
        alpha_l2=alpha_l2, reference_loss=1.0, penalty_unit=unit,
    )  # fmt: skip
    # the arithmetic on arrays, as for several outputs, on the same sums of V
    l1, squares = _passes.copy_and_sums(V, np.empty_like(V), absolute=bool(alpha_l1))
    expected = float((unit * (alpha_l1 * l1 + alpha_l2 * (0.5 * squares))).sum())
    out = np.empty_like(V)
    got = objective.penalty(V, copy_to=out)
    assert type(got) is float
    assert np.float64(got).tobytes() == np.float64(expected).tobytes()
    assert_array_equal(out, V)


def test_a_streams_recent_targets_are_its_own_and_its_last():
    # The recent targets a chunk continues are kept in arrays of their own: a
    # stream that refills its y for the next chunk changes nothing kept.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=200)
    model = GDRegressor(random_state=0).partial_fit(X[:10], y[:10].copy())
    buffer = np.empty(1)
    for s in range(10, 100):
        buffer[:] = y[s : s + 1]
        model.partial_fit(X[s : s + 1], buffer)
        buffer[:] = np.nan  # the caller's array, refilled
        recent_y, recent_w = model._y_recent
        assert_array_equal(recent_y, y[max(0, s + 1 - 64) : s + 1])
        assert_array_equal(recent_w, np.ones(len(recent_y)))
    assert len(model._y_recent[0]) == 64


def test_the_loops_settings_are_read_only():
    from skgd._loop import Settings

    settings = Settings(learning_rate=0.5, curvature=None, batch_size=1, max_epochs=1)
    assert (settings.shuffle, settings.schedule, settings.stop) == (True, "constant", True)
    with pytest.raises(AttributeError):
        settings.learning_rate = 0.1


def test_a_rejected_shuffled_call_leaves_the_generator_as_it_was():
    # A stream's call of several batches draws its order from the estimator's
    # own generator in place; a call that raises puts it back.
    import pickle

    rng = np.random.RandomState(0)
    X = rng.normal(scale=[1.0, 1.0, 100.0, 1.0], size=(200, 4))  # too large for a step of 0.9
    y = X @ [1.0, -2.0, 0.5, 3.0] + rng.normal(size=200)
    params = dict(batch_size=8, optimizer="sgd", standardize=False, random_state=0)
    model = GDRegressor(learning_rate=1e-4, **params).partial_fit(X[:40], y[:40])
    model.partial_fit(X[40:80], y[40:80])  # (its own generator from here on)
    before = pickle.dumps(model)
    model.set_params(learning_rate=0.9)
    with pytest.raises(ValueError, match="diverged"):
        model.partial_fit(X[80:120], y[80:120])
    assert pickle.dumps(model.set_params(learning_rate=1e-4)) == before
    # and the stream goes on as if the call had not been made
    model.partial_fit(X[120:160], y[120:160])
    other = GDRegressor(learning_rate=1e-4, **params).partial_fit(X[:40], y[:40])
    other.partial_fit(X[40:80], y[40:80]).partial_fit(X[120:160], y[120:160])
    assert_array_equal(model.coef_, other.coef_)
    assert model._rng.get_state()[2] == other._rng.get_state()[2]


def test_partial_fit_never_draws_from_a_generator_the_user_gave():
    # fit draws from random_state as given (as scikit-learn's estimators do);
    # partial_fit draws from a copy, its own: two models sharing the user's
    # generator stream alike, and the user's generator stays where fit left it.
    import copy

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + rng.normal(size=300)
    user = np.random.RandomState(3)
    first = GDRegressor(batch_size=8, random_state=user).fit(X[:100], y[:100])
    second = copy.deepcopy(first)
    after_fit = user.get_state()
    for s in range(100, 300, 50):
        first.partial_fit(X[s : s + 50], y[s : s + 50])
        second.partial_fit(X[s : s + 50], y[s : s + 50])
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(user.get_state()[1], after_fit[1])
    assert user.get_state()[2] == after_fit[2]


def test_a_copy_taken_during_a_shuffled_call_has_the_generator_the_call_found():
    # A call draws its shuffles from the estimator's own generator in place;
    # a callback's fitted_estimator, taken at an epoch's end, has the step
    # count as the call found it, and so the generator: not the one the call
    # has drawn from since (which would shuffle the copy's next call otherwise).
    import copy

    rng = np.random.RandomState(42)
    X, y = rng.randn(150, 5), rng.randn(150)
    copies = []

    class KeepCopies:
        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "epoch" and fitted_estimator is not None:
                copies.append(fitted_estimator)

    model = GDRegressor(batch_size=8, random_state=0).partial_fit(X[:50], y[:50])
    before = copy.copy(model)
    model.set_callbacks(KeepCopies())
    model.partial_fit(X[50:100], y[50:100])
    during = copies[0]
    assert during.t_ == before.t_
    assert_array_equal(during._rng.get_state()[1], before._rng.get_state()[1])
    assert during._rng.get_state()[2] == before._rng.get_state()[2]
    assert during._rng is not model._rng
    assert model._rng.get_state()[2] != before._rng.get_state()[2]  # (the call did draw)


@pytest.mark.parametrize("loss", ["huber", "absolute_error", "epsilon_insensitive"])
def test_a_bounded_gradient_stream_follows_a_drifting_target(loss):
    # A stream keeps its first origin; a bounded gradient's curvature is the share
    # of rows near where it is measured, and was measured there: once the targets
    # had drifted 5 spreads of their noise-free level away (as river's
    # TrumpApproval does, 37 to 42), no recent row was near, its secant was 0,
    # and one-row Huber calls stepped by the gradient's size: a call raised
    # "Training diverged", others carried the model to a mean error of 2 (0.1
    # measured at the recent targets).
    n = 1000
    t = np.arange(n, dtype=float)
    for seed in range(4):
        rng = np.random.default_rng(seed)
        y = 37 + 5 / (1 + np.exp(-(t - 350) / 30)) + rng.normal(0, 0.1, n)
        X = np.c_[736000 + t, y[:, None] + rng.normal(0, 1.0, (n, 5))]  # a date, five polls
        model, errors = GDRegressor(loss=loss, random_state=0), []
        for i in range(n):
            if i >= n - 300:
                errors.append(abs(model.predict(X[i : i + 1])[0] - y[i]))
            model.partial_fit(X[i : i + 1], y[i : i + 1])
        assert np.mean(errors) < 0.3, (seed, np.mean(errors))


def test_an_epsilon_insensitive_stream_of_small_spread_never_diverges():
    # Measured at the recent targets' median alone, the epsilon-insensitive loss's
    # curvature was a tube's (the median lies on a target): star98's shares (a
    # spread of 0.07 against epsilon's 0.1), sorted by a column, one weighted row a
    # call, raised "Training diverged" at the second call (a review).
    import statsmodels.api as sm

    data = sm.datasets.star98.load_pandas()
    counts = data.endog.to_numpy(float)
    X, y = data.exog.to_numpy(float), counts[:, 0] / counts.sum(axis=1)
    order = np.argsort(X[:, 0], kind="stable")
    for seed in range(2):
        rng = np.random.default_rng(seed)
        weights = rng.uniform(0, 2, len(y))
        weights[rng.random(len(y)) < 0.25] = 0
        model = GDRegressor(loss="epsilon_insensitive", random_state=seed)
        for i in order[weights[order] > 0]:
            model.partial_fit(X[i : i + 1], y[i : i + 1], sample_weight=weights[i : i + 1])
        assert np.mean(np.abs(model.predict(X) - y)) < y.std()


def test_a_stream_of_nearly_noiseless_rows_keeps_its_step_to_the_optimum():
    # One row a call, 400 x 6, optimum R² 0.9999: the cosines of successive
    # one-row moves, of random sign, summed below 0 by chance, and the step
    # shrank to 1/1024 far from the optimum (R² 0.961 after a pass, 0.985
    # after ten; a constant step: 0.9998).
    rng = np.random.RandomState(0)
    X = rng.randn(400, 6)
    y = X @ np.arange(1, 7.0) + 0.1 * rng.randn(400)
    model = GDRegressor(random_state=0)
    for i in range(400):
        model.partial_fit(X[i : i + 1], y[i : i + 1])
    assert model.score(X, y) >= 0.999


def test_a_stream_follows_a_new_alpha():
    # After set_params(alpha=100), the step that had shrunk at the old
    # optimum's noise floor grows back: 20 calls reach the new optimum's
    # coefficients (norm 19), where they went 803 -> 787 before.
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(random_state=0)
    for i in range(0, 300, 30):
        model.partial_fit(X[i : i + 30], y[i : i + 30])
    model.set_params(alpha=100.0)
    for _ in range(20):
        model.partial_fit(X[300:360], y[300:360])
    fitted = GDRegressor(alpha=100.0, random_state=0).fit(X[:360], y[:360])
    assert abs(np.linalg.norm(model.coef_) - np.linalg.norm(fitted.coef_)) < 2.0


@pytest.mark.parametrize(
    "first_zeros, chunk", [(0, 1), (40, 1), (0, 2)], ids=["rows", "zeros-first", "pairs"]
)
@pytest.mark.parametrize("seed", [7, 9])
def test_a_poisson_stream_of_single_rows_stays_near_the_optimum(seed, first_zeros, chunk):
    # Each call's step was sized by the curvature at the stream's origin,
    # exp(loc); a row predicted e^5 above it is e^5 times more curved, and
    # one step moved it by hundreds of e-folds: coefficients of 1e216, and
    # every later call refused (its loss overflows before any step).
    from sklearn.linear_model import PoissonRegressor
    from sklearn.metrics import mean_poisson_deviance

    rng = np.random.RandomState(seed)
    X = rng.randn(600, 3)
    y = rng.poisson(np.exp(X @ [0.3, 0.2, 0.1])).astype(float)
    y[:first_zeros] = 0
    model = GDRegressor(loss="poisson", random_state=seed)
    for i in range(0, 600, chunk):
        model.partial_fit(X[i : i + chunk], y[i : i + chunk])  # none refused
    exact = PoissonRegressor(alpha=0).fit(X, y)
    optimum = mean_poisson_deviance(y, exact.predict(X))
    assert mean_poisson_deviance(y, model.predict(X)) <= 1.1 * optimum


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
def test_a_poisson_row_far_above_its_count_moves_its_prediction_by_an_e_fold_or_so(optimizer):
    # A row predicted e^6 above its count of 0, with the stream's origin at
    # exp(0): its curvature is e^6 times the loss scale's, and the step at
    # the origin's curvature moved its prediction by about e^6 e-folds.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = rng.poisson(np.exp(X @ [0.3, 0.2, 0.1])).astype(float)
    model = GDRegressor(loss="poisson", optimizer=optimizer, random_state=0)
    model.partial_fit(X, y)
    row = np.array([[0.5, -0.2, 0.1]])
    model.intercept_ = model.intercept_ + 6.0  # (as a drifting stream would leave it)
    before = np.log(model.predict(row))[0]
    model.partial_fit(row, [0.0])
    after = np.log(model.predict(row))[0]
    assert -2.0 <= after - before < 0


def test_a_poisson_stream_call_whose_first_batch_weighs_nothing_still_steps():
    # the step cap measured its first batch's rows: weights all 0 there made it 0/0,
    # a cap of 0, and a call that did not move at all (reviewer)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = rng.poisson(np.exp(X @ np.array([0.5, -0.3, 0.2, 0.0, 0.1]) + 1)).astype(float)
    moves = []
    for first_weight in (1.0, 0.0):
        model = GDRegressor(loss="poisson", batch_size=4, random_state=0)
        model.partial_fit(X[:32], y[:32])
        before = model.coef_.copy()
        weights = np.ones(32)
        weights[:4] = first_weight
        model.partial_fit(X[32:], y[32:], sample_weight=weights)
        moves.append(np.abs(model.coef_ - before).max())
    assert moves[1] > 0.5 * moves[0] > 0


@pytest.mark.parametrize("data", ["breast_cancer", "make_classification"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_binary_perceptron_stops_as_soon_and_as_accurate_as_sgdclassifier(data, seed):
    # Its best constant, 0, has loss 0: the search for it ended 2**-100 away, and
    # that loss of 1e-31 was the stop criterion's unit (250-540 epochs on
    # breast_cancer, SGDClassifier's 13-32). With a unit, its loss still fell as
    # the predictions shrank towards 0, its optimum, and the model there, whose
    # held-out accuracy swung 0.51-0.78 epoch to epoch on make_classification,
    # was the one returned. Its progress is now the share of the predictions'
    # size on the wrong side, and the fit keeps its best epoch (the pocket).
    from sklearn.datasets import load_breast_cancer, make_classification
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    if data == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    else:
        X, y = make_classification(2000, 20, n_informative=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
    model = GDClassifier(loss="perceptron", random_state=seed).fit(X_train, y_train)
    sgd = SGDClassifier(loss="perceptron", random_state=seed).fit(X_train, y_train)
    assert model.n_iter_ <= 60
    assert model.score(X_test, y_test) >= sgd.score(X_test, y_test)


def test_a_perceptrons_progress_does_not_count_its_predictions_shrinking():
    # The perceptron's loss is homogeneous: the same model at a tenth of its
    # size has a tenth of its loss, the same classes, and no more progress;
    # its best constant is 0 exactly, where its loss is 0 (no unit).
    from types import SimpleNamespace

    from skgd._objective import best_constant
    from skgd._stopping import Progress
    from skgd.losses import Hinge, Perceptron

    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    y = np.where(X[:, 0] + rng.randn(300) > 0, 1.0, -1.0)
    w = np.ones(300)
    assert best_constant(Perceptron(), y, w) == 0.0

    def objective(loss):
        raw = lambda X, V, c, single: X @ V[0] + c[0]  # noqa: E731
        return SimpleNamespace(loss=loss, reference_loss=0.5, raw_prediction=raw)

    V, c = np.array([[1.0, 0.5, -0.3, 0.2]]), np.array([0.1])
    measure = Progress(objective(Perceptron()), X, y, w, single=True)
    loss = np.mean(Perceptron().loss(y, X @ V[0] + c[0]))
    assert measure(loss, V, c) == pytest.approx(measure(loss / 10, V / 10, c / 10), rel=1e-12)
    assert -1 < measure(loss, V, c) < 0
    # other losses: minus the loss in the reference loss's units, as before
    assert Progress(objective(Hinge()), X, y, w, single=True)(0.25, V, c) == -0.5


@pytest.mark.parametrize("chunk", [1, 20])
def test_a_poisson_stream_of_several_outputs_is_scaled_as_each_output_alone(chunk):
    # Several outputs of a link had one origin at 0 and the outputs' mean curvature
    # there, e^0, for counts near 180: 180 times too small a scale, and the first
    # call diverged (loss 4.7e+66) where each output alone streamed fine.
    from sklearn.datasets import load_linnerud

    X, Y = load_linnerud(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = GDRegressor(loss="poisson", random_state=0)
    for i in range(0, 20, chunk):
        model.partial_fit(X[i : i + chunk], Y[i : i + chunk])  # none refused
    assert np.all(np.isfinite(model.coef_))
    # each output's prediction stays within its counts' range (not e^66 away)
    prediction = model.predict(X)
    assert np.all((prediction > 0.5 * Y.min(axis=0)) & (prediction < 2 * Y.max(axis=0)))


def test_several_poisson_outputs_start_each_at_its_own_best_constant():
    # ...as each output alone does (log of its mean); the multinomial log loss's
    # outputs, which move each other, keep their shared origin at 0
    rng = np.random.RandomState(0)
    X = rng.randn(300, 2)
    Y = np.column_stack([rng.poisson(180, 300), rng.poisson(2, 300)]).astype(float)
    model = GDRegressor(loss="poisson", random_state=0).partial_fit(X[:1], Y[:1])
    assert_allclose(model._y_loc, np.log(Y[0]), rtol=1e-6)
    classes = GDClassifier(loss="log_loss", random_state=0)
    classes.partial_fit(X, np.arange(300) % 3, classes=[0, 1, 2])
    assert_array_equal(classes._y_loc, 0.0)


# (the streams that diverged before the per-batch cap; chunk 100 with seed 0 and
# chunk 1000 did not, and could not fail this test)
@pytest.mark.parametrize("chunk, seed", [(100, 1), (400, 0), (400, 1)])
def test_a_poisson_stream_in_chunks_of_many_batches_never_diverges(chunk, seed):
    # The step cap was measured where the call started, for all its batches: later
    # batches moved the model where their rows were far more curved (exp), and a
    # call of 13 batches diverged; a first call of several batches was not capped.
    from sklearn.linear_model import PoissonRegressor
    from sklearn.metrics import mean_poisson_deviance

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4000, 3))
    y = rng.poisson(np.exp(1.0 + 1.2 * X[:, 0])).astype(float)
    model = GDRegressor(loss="poisson", random_state=seed)
    for _ in range(3):
        for i in range(0, 4000, chunk):
            model.partial_fit(X[i : i + chunk], y[i : i + chunk])  # none refused
    optimum = mean_poisson_deviance(y, PoissonRegressor(alpha=0).fit(X, y).predict(X))
    assert mean_poisson_deviance(y, model.predict(X)) <= 2.0 * optimum


def _diverging_counts():
    """Diabetes turned into counts whose log-mean is steep: momentum's first epoch diverges."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    rng = np.random.RandomState(0)
    return X, rng.poisson(np.exp(X @ (3 * rng.randn(10)) * 3 + 2))


@pytest.mark.parametrize("tol", [None, 1e-3])
def test_a_fit_whose_every_epoch_diverged_raises_rather_than_return_its_start(tol):
    # One epoch, undone: the model would be the random start (it crashed on the
    # empty loss curve instead). Two epochs: the second holds.
    X, y = _diverging_counts()
    params = dict(loss="poisson", optimizer="momentum", tol=tol, random_state=0)
    # (from the random start, a thousandth of the MLP's scale, the first epoch holds:
    # from a start at the MLP's scale, as the random start was, it diverges)
    bound = np.sqrt(6 / (X.shape[1] + 1))
    start = bound * np.random.RandomState(0).uniform(-1, 1, X.shape[1]) / X.std(axis=0)
    with pytest.raises(ValueError, match="Every epoch diverged.*max_iter=1"):
        GDRegressor(max_iter=1, **params).fit(X, y, coef_init=start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GDRegressor(max_iter=2, **params).fit(X, y, coef_init=start)
    assert len(model.loss_curve_) == 1 and model.score(X, y) > 0.1


def test_a_fit_whose_last_epoch_is_undone_warns_that_its_model_is_older(monkeypatch):
    # Adam's two epochs on hashed text (2**18 columns, tol=None) diverged in the
    # second, went back to the first's start, and returned that random start,
    # silently: accuracy 0.20 (0.91 after one epoch). Here the second of two
    # epochs is made to diverge.
    from skgd import _loop

    X, y = load_iris(return_X_y=True)
    check = _loop._check_epoch

    def second_diverges(epoch, *args):
        if epoch == 2:
            raise ValueError("Training diverged at epoch 2 (loss=inf).")
        return check(epoch, *args)

    monkeypatch.setattr(_loop, "_check_epoch", second_diverges)
    with pytest.warns(ConvergenceWarning, match="the model is that earlier one"):
        model = GDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 1
    with warnings.catch_warnings():  # a third epoch holds: no word of it
        warnings.simplefilter("error", ConvergenceWarning)
        GDClassifier(max_iter=3, tol=None, random_state=0).fit(X, y)
    # early stopping returns its best validated model, whatever the last epoch did
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GDClassifier(max_iter=2, tol=None, early_stopping=True, random_state=0).fit(X, y)
