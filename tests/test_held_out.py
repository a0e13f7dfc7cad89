"""Early stopping's validation rows on wide sparse X are predicted from their own columns."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

import skgd._base
from skgd import GDClassifier, GDRegressor
from skgd._held_out import HeldOut


def _wide(n_samples=400, n_features=2**14, centred=False, seed=0):
    rng = np.random.RandomState(seed)
    columns = rng.randint(n_features, size=(n_samples, 6))
    values = rng.uniform(0.5, 2.0, size=(n_samples, 6))
    X = sparse.csr_matrix(
        (values.ravel(), columns.ravel(), np.arange(0, 6 * n_samples + 1, 6)),
        shape=(n_samples, n_features),
    )
    X.sum_duplicates()
    y = (X @ rng.normal(size=n_features) > 0).astype(int) + 2 * (rng.uniform(size=n_samples) < 0.3)
    if centred:  # a column every row stores, of one value but for a few: centred
        dense = np.full(n_samples, 3.0) + (rng.uniform(size=n_samples) < 0.1)
        X = sparse.hstack([X, sparse.csr_matrix(dense[:, None])], format="csr")
    return X, y


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("estimator", [GDClassifier, GDRegressor])
def test_validation_rows_predicted_as_by_the_whole_model(monkeypatch, centred, estimator):
    # (Fails if HeldOut's model on the rows' columns differs from Objective.raw_prediction's.)
    X, y = _wide(centred=centred)
    calls = []
    restricted = HeldOut.raw_prediction

    def compared(self, objective, V, c, single):
        raw = restricted(self, objective, V, c, single)
        whole = objective.raw_prediction(self.full, V, c, single)
        if centred:  # the intercept's sum over the centred column: to rounding
            assert_allclose(raw, whole, rtol=1e-12, atol=1e-12)
        else:
            assert_array_equal(raw, whole)
        calls.append(self.columns is not None)
        return raw

    monkeypatch.setattr(HeldOut, "raw_prediction", compared)
    # (the epochs' predictions alone: not the warning's of a kept model below a constant)
    monkeypatch.setattr(skgd._base, "warn_if_held_out_below_a_constant", lambda *args: None)
    model = estimator(early_stopping=True, max_iter=8, tol=None, random_state=0).fit(X, y)
    assert len(calls) == 8 and all(calls)  # every epoch, on the rows' columns alone
    assert len(model.validation_scores_) == 8


def test_perceptron_sample_predicted_as_by_the_whole_model(monkeypatch):
    X, y = _wide(n_features=2**16)
    restricted, calls = HeldOut.raw_prediction, []

    def compared(self, objective, V, c, single):
        raw = restricted(self, objective, V, c, single)
        assert_array_equal(raw, objective.raw_prediction(self.full, V, c, single))
        calls.append(self.columns is not None)
        return raw

    monkeypatch.setattr(HeldOut, "raw_prediction", compared)
    GDClassifier(loss="perceptron", max_iter=5, tol=None, random_state=0).fit(X, y)
    assert len(calls) >= 5 and all(calls)


def test_held_out_keeps_dense_and_narrow_rows_whole():
    X, _ = _wide(n_samples=50, n_features=20)  # stores more than half its columns
    assert HeldOut(X).columns is None and HeldOut(X.toarray()).columns is None


def test_a_warm_start_loop_with_early_stopping_keeps_every_epochs_score():
    # (a user trial) Twenty one-epoch warm fits: loss_curve_ held 20 epochs and
    # validation_scores_ the last fit's one, so ConvergenceDisplay drew a single
    # point; MLPClassifier's scores go on across warm starts too.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    model = GDClassifier(early_stopping=True, warm_start=True, max_iter=1, random_state=0)
    last = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(6):
            model.fit(X, y)
            last.append(model.validation_scores_[-1])
    assert len(model.validation_scores_) == len(model.loss_curve_) == 6
    assert model.validation_scores_ == last
    assert model.best_validation_score_ == last[-1]  # (the model kept: this fit's best)


def test_warm_fits_with_early_stopping_hold_out_the_same_rows(monkeypatch):
    # (a user trial) Each one-epoch warm fit drew its held-out rows anew: every row
    # trained at some call, and the loss curve leapt to 2-3 times its neighbours at
    # the epochs that took in the rows the fit before held out
    from sklearn.datasets import load_digits

    held = []

    def recorded(*args, **kwargs):
        split = skgd._base.split_validation.__wrapped__(*args, **kwargs)
        held.append(split[3][1].copy())  # (the held-out targets, in their rows' order)
        return split

    recorded.__wrapped__ = skgd._base.split_validation
    monkeypatch.setattr(skgd._base, "split_validation", recorded)
    X, y = load_digits(return_X_y=True)
    model = GDClassifier(early_stopping=True, warm_start=True, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(12):
            model.fit(X, y)
    assert all(np.array_equal(rows, held[0]) for rows in held)
    curve = np.asarray(model.loss_curve_)
    assert np.all(curve[1:] < 1.2 * curve[:-1])  # (no leap: 0.060 -> 0.136 before)
