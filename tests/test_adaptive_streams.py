"""Adagrad, RMSprop and Adam in partial_fit streams: a step for each coordinate, not the gradient's.

Their update divides the gradient by its running size, so a fresh one's first
step is a sign step of the learning rate on every coordinate; a stream's
call has no step search to back off from a step too long for the data.
"""

import warnings

import numpy as np
import pytest
from _real_data import diamonds_log_prices
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.datasets import make_regression
from sklearn.linear_model import SGDRegressor
from sklearn.model_selection import train_test_split

from skgd import GDRegressor

ADAPTIVE = ["adam", "rmsprop", "adagrad"]
# Known, not fixed: a stream whose statistics move at each call gets a new Adagrad
# each time (its sum, kept, decays its steps from the first rows), each call a sign step
WALKS = pytest.mark.xfail(strict=True, reason="a new Adagrad at each rescale: sign steps")
STREAMS = ["adam", "rmsprop", pytest.param("adagrad", marks=WALKS)]


@pytest.fixture(scope="module")
def regression():
    return make_regression(
        n_samples=2000, n_features=50, n_informative=20, noise=10, random_state=0
    )


@pytest.fixture(scope="module")
def sparse_rows():
    rng = np.random.RandomState(0)
    X = sparse.random(300, 400, density=0.03, random_state=0, format="csr")
    y = X @ rng.randn(400) + 0.1 * rng.randn(300)
    return X, y


def _stream(optimizer, X, y, chunk, passes):
    """The training mse after each pass of ``chunk``-row partial_fit calls."""
    model, mse = GDRegressor(optimizer=optimizer, random_state=0), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(passes):
            for start in range(0, X.shape[0], chunk):
                model.partial_fit(X[start : start + chunk], y[start : start + chunk])
            mse.append(float(np.mean((model.predict(X) - y) ** 2)))
    return mse


@pytest.mark.parametrize("optimizer", ADAPTIVE)
@pytest.mark.parametrize("n", [10, 40, 50, 64])
def test_an_adaptive_optimizers_first_partial_fit_beats_the_constant_model(
    regression, optimizer, n
):
    # A first call of at most 64 rows is one batch: a sign step on 50 features.
    # At the gradient's step 1/L, RMSprop's diverged (40-64 rows) and Adam's and
    # Adagrad's ended below the constant model (R² < 0) on the rows it had not seen.
    X, y = regression
    model = GDRegressor(optimizer=optimizer, random_state=0).partial_fit(X[:n], y[:n])
    assert model.score(X[n:], y[n:]) > 0.0  # the constant model (the mean): 0


def test_the_first_call_of_rmsprop_adam_and_adagrad_is_the_same_sign_step(regression):
    # Each takes lr * g / |g| on its first step, RMSprop's mean square
    # bias-corrected as Adam's is (uncorrected it is 3.16 times longer)
    X, y = regression
    models = [
        GDRegressor(optimizer=name, random_state=0).partial_fit(X[:50], y[:50]) for name in ADAPTIVE
    ]
    for model in models[1:]:  # (to epsilon's share: 1e-8 against RMSprop's 0.32 |g|)
        assert_allclose(model.coef_, models[0].coef_, rtol=1e-4)
        assert_allclose(model.intercept_, models[0].intercept_, rtol=1e-4)


@pytest.mark.parametrize("optimizer", STREAMS)
def test_an_adaptive_stream_of_densified_sparse_rows_does_not_walk_away(sparse_rows, optimizer):
    # The stream's statistics move at each call; a new optimizer each time made
    # each call a sign step of every coordinate, and the model walked away pass
    # after pass (training mse 267, 343, 437 with Adam; var(y) is 4.2)
    X, y = sparse_rows
    mse = _stream(optimizer, X.toarray(), y, chunk=10, passes=3)
    assert np.all(np.isfinite(mse))
    assert mse[-1] <= mse[0]


@pytest.mark.parametrize("optimizer", STREAMS)
def test_an_adaptive_stream_of_sparse_rows_fits_better_than_sgds(sparse_rows, optimizer):
    # (RMSprop's first call diverged; Adam and Adagrad ended at training mse 5.2
    # and 4.4, above var(y) = 4.2; SGDRegressor's same stream ends at 0.92 var(y))
    X, y = sparse_rows
    sgd = SGDRegressor(random_state=0)
    for _ in range(3):
        for start in range(0, X.shape[0], 10):
            sgd.partial_fit(X[start : start + 10], y[start : start + 10])
    reference = min(0.5 * np.var(y), float(np.mean((sgd.predict(X) - y) ** 2)))
    assert _stream(optimizer, X, y, chunk=10, passes=3)[-1] <= reference


def test_a_stream_whose_loss_changes_starts_its_schedule_afresh():
    # A user trial: a pinball stream settled at quantile 0.8, then set to 0.2, left
    # 47% of diabetes' targets below its predictions five passes later (a new 0.2
    # stream: 19%): the step shortened while 0.8 settled stayed short.
    from _user_losses import Pinball
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    def passes(model, n):
        for _ in range(n):
            for start in range(0, len(y), 50):
                model.partial_fit(X[start : start + 50], y[start : start + 50])

    switched = GDRegressor(loss=Pinball(0.8), random_state=0)
    passes(switched, 5)
    assert np.mean(y < switched.predict(X)) > 0.75
    switched.set_params(loss__quantile=0.2)
    passes(switched, 5)
    fresh = GDRegressor(loss=Pinball(0.2), random_state=0)
    passes(fresh, 5)
    below = np.mean(y < switched.predict(X))
    assert abs(below - np.mean(y < fresh.predict(X))) < 0.03
    assert abs(below - 0.2) < 0.03


@pytest.mark.parametrize("chunk", [50, 110, 165])
def test_a_streams_last_short_call_moves_the_model_by_its_rows(chunk):
    # (a user trial) A call's step was the stable step of its own batches: a call of
    # one row moved the model halfway to fitting it, and after three calls of 110
    # diabetes rows one more row took the held-out R² from 0.29 to 0.06
    # (SGDRegressor's moved by 0.008). It now steps its rows' share.
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    drops = []
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        model = GDRegressor(random_state=0)
        for start in range(0, 330, chunk):
            model.partial_fit(X_train[start : start + chunk], y_train[start : start + chunk])
        before = model.score(X_test, y_test)
        model.partial_fit(X_train[330:331], y_train[330:331])
        drops.append(before - model.score(X_test, y_test))
    assert max(drops) < 0.03


def test_a_short_call_after_calls_of_many_batches_keeps_their_step():
    # (a user trial) Ten calls of 20,000 rows of diamonds' log prices (625 batches
    # each: momentum's noise gain shortens their stable step), then the 2,275 rows
    # left (71 batches, which did not): a step 4.7 times as long with Nesterov's
    # momentum, and held-out R² 0.973 -> 0.941, 0.921, 0.963 by the seed. A stream
    # that had calls of many batches keeps their step. Here five calls of 20,000.
    from sklearn.metrics import r2_score

    X, y = diamonds_log_prices()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    order = np.random.RandomState(0).permutation(3 * len(y_train))
    X_big, y_big = np.tile(X_train, (3, 1))[order], np.tile(y_train, 3)[order]
    drops = []
    for seed in range(3):
        model = GDRegressor(random_state=seed)
        for start in range(0, 100_000, 20_000):
            model.partial_fit(X_big[start : start + 20_000], y_big[start : start + 20_000])
        before = r2_score(y_test, model.predict(X_test))
        model.partial_fit(X_big[100_000:102_275], y_big[100_000:102_275])
        drops.append(before - r2_score(y_test, model.predict(X_test)))
    assert max(drops) < 0.004  # (before: 0.0015, 0.0030, 0.0098)
