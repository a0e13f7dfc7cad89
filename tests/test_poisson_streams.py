"""Poisson streams of one row a call: near the exact solver, never frozen, never inf or NaN.

The counts are scikit-learn's own: diabetes' target is a whole number
(a measure of the disease's progression a year on, 25 to 346), taken as a
count; X standardized as a user would, on the training rows. The exact
solver is scikit-learn's PoissonRegressor (its lbfgs, to convergence);
PoissonRegressor's deviance is the reference whatever the split.
"""

import copy

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor
from skgd._stream_steps import CappedGradient
from skgd.optim import Adagrad, Adam, RMSprop

_N_TRAIN = 330  # of diabetes' 442 rows; the other 112 are held out

# Held-out deviance at most this many times PoissonRegressor's. At 96d4567
# one-row streams froze (a far row's gradient, taken whole into the running
# size, divided every later step): on the split of seed 5, Adam at 6900
# times, RMSprop at 39000, Adagrad at 900, pass after pass; Adam at 3-20
# times on the others after one pass.
_FACTOR_ONE_PASS = 3.0
_FACTOR_THREE_PASSES = 1.5
# Adagrad's steps decay (its sum of squares), and a stream's second call
# can throw the model far off on any optimizer (X standardized by two rows'
# statistics): it walks back, but slowly (3.8 and 5.7 times on seeds 3
# and 5 after three passes).
_FACTOR_ADAGRAD = 10.0


def _split(seed):
    """diabetes' counts, split by ``seed``, X standardized on the training rows."""
    X, y = load_diabetes(return_X_y=True)
    perm = np.random.RandomState(seed).permutation(len(y))
    train, test = perm[:_N_TRAIN], perm[_N_TRAIN:]
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), y[train], scaler.transform(X[test]), y[test]


def _deviance_ratio(optimizer, seed, passes):
    """Held-out deviance of a one-row stream, over PoissonRegressor's on the same split."""
    X_train, y_train, X_test, y_test = _split(seed)
    exact = PoissonRegressor(alpha=1e-4).fit(X_train, y_train)
    reference = mean_poisson_deviance(y_test, exact.predict(X_test))
    model = GDRegressor(loss="poisson", optimizer=optimizer, random_state=0)
    for _ in range(passes):
        for i in range(len(y_train)):
            model.partial_fit(X_train[i : i + 1], y_train[i : i + 1])
    predicted = model.predict(X_test)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert np.all(np.isfinite(predicted)) and np.all(predicted > 0)
    return mean_poisson_deviance(y_test, predicted) / reference


# RMSprop's running square still takes a capped row's whole gradient (the smaller
# square let a later call overshoot on other counts, see _stream_steps._GRADIENT_STATE):
# on seed 5 it freezes far off, as at 96d4567. Open.
_RMSPROP_FROZEN = pytest.mark.xfail(
    strict=True, reason="RMSprop's running square takes a capped row's gradient whole"
)


@pytest.mark.parametrize("seed", [1, 3, 4, 5])
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_one_pass_of_one_row_calls_is_near_the_exact_solver(optimizer, seed, request):
    if optimizer == "rmsprop" and seed == 5:
        request.applymarker(_RMSPROP_FROZEN)
    assert _deviance_ratio(optimizer, seed, passes=1) < _FACTOR_ONE_PASS


@pytest.mark.parametrize("seed", [1, 3, 5])
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad", "nesterov"])
def test_three_passes_of_one_row_calls_reach_the_exact_solver(optimizer, seed, request):
    if optimizer == "rmsprop" and seed == 5:
        request.applymarker(_RMSPROP_FROZEN)
    factor = _FACTOR_ADAGRAD if optimizer == "adagrad" else _FACTOR_THREE_PASSES
    assert _deviance_ratio(optimizer, seed, passes=3) < factor


@pytest.mark.parametrize("optimizer", [Adam(), Adagrad()], ids=type)
def test_a_capped_batch_leaves_the_state_of_the_gradient_its_step_took(optimizer):
    # A batch whose step the cap cut to 1% leaves the optimizer's state as a
    # gradient 1% as large would: its running size is not that of a row far
    # up the exponential, which would divide every later step.
    rng = np.random.RandomState(0)
    w = [rng.randn(4), rng.randn(1)]
    optimizer.step(w, [rng.randn(4), rng.randn(1)], 0.1)  # a state before, settled or not
    grads = [1e6 * rng.randn(4), 1e6 * rng.randn(1)]
    expected = copy.deepcopy(optimizer)
    expected.step([a.copy() for a in w], [0.01 * g for g in grads], 0.001)
    capped = CappedGradient.of(optimizer, 0.1, 0.001)
    optimizer.step(w, grads, 0.001)
    capped.taken()
    for kept, wanted in zip(optimizer.state_, expected.state_, strict=True):
        assert kept.keys() == wanted.keys()
        for key in kept:
            np.testing.assert_allclose(kept[key], wanted[key], rtol=1e-9, atol=0)


def test_a_batch_the_cap_left_whole_keeps_the_state_as_it_is():
    assert CappedGradient.of(Adam(), 0.1, 0.1) is None
    assert CappedGradient.of(RMSprop(), 0.1, 0.001) is None  # (left out, see above)
    assert CappedGradient.of(Adam(), 0.0, 0.0) is None  # (no step planned: no share)
