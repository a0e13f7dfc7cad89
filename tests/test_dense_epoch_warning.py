"""An epoch that moves every coefficient of wide sparse X says so: a SparseEfficiencyWarning.

The lazy epochs (plain SGD, its average without L1, momentum without L1
or averaging) cost a batch's non-zeros; Adam's, Adagrad's, RMSprop's, L1
with momentum and averaging with momentum or L1 move every coefficient at
every batch. On hashed text that took
minutes where the default took a second, silently.
"""

import warnings

import pytest
from _sparse_text import text_like
from scipy import sparse

from skgd import GDClassifier, _kernel


def _wide():
    """Rows of a few 0/1 columns out of 40,000 (0.02% stored), a class's words more frequent."""
    return text_like(p=40_000)


def _efficiency_warnings(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [w for w in caught if issubclass(w.category, sparse.SparseEfficiencyWarning)]


@pytest.mark.parametrize(
    "params, named",
    [
        (dict(optimizer="adam"), "Adam's state"),
        (dict(optimizer="adagrad"), "Adagrad's state"),
        (dict(average=True, optimizer="nesterov"), "average with momentum or with an L1"),
        (dict(average=True, penalty="elasticnet"), "average with momentum or with an L1"),
        (dict(optimizer="nesterov", penalty="l1"), "an L1 penalty"),
    ],
)
def test_an_epoch_moving_every_coefficient_of_wide_sparse_x_warns_once_a_fit(
    params, named, monkeypatch
):
    # (the threshold of work lowered: the same ratio to the non-zeros, in a small fit)
    monkeypatch.setattr(_kernel, "_DENSE_WORK_WARNED", 1e6)
    X, y = _wide()
    found = _efficiency_warnings(GDClassifier(max_iter=3, tol=None, random_state=0, **params), X, y)
    assert len(found) == 1  # (three epochs, one warning)
    message = str(found[0].message)
    assert named in message
    assert "40,000 columns x 3 outputs" in message
    assert "optimizer='sgd'" in message


@pytest.mark.parametrize(
    "params",
    [dict(), dict(optimizer="sgd", penalty="l1"), dict(optimizer="nesterov"), dict(average=True)],
)
def test_lazy_epochs_on_wide_sparse_x_do_not_warn(params, monkeypatch):
    monkeypatch.setattr(_kernel, "_DENSE_WORK_WARNED", 1e6)
    X, y = _wide()
    model = GDClassifier(max_iter=3, tol=None, random_state=0, **params)
    assert _efficiency_warnings(model, X, y) == []


def test_dense_x_and_small_work_do_not_warn(monkeypatch):
    X, y = _wide()
    adam = GDClassifier(optimizer="adam", max_iter=2, tol=None, random_state=0)
    # below the work that takes about a second an epoch: no warning
    assert _efficiency_warnings(adam, X, y) == []
    # dense X: every coefficient is in every row, as the non-zeros are
    monkeypatch.setattr(_kernel, "_DENSE_WORK_WARNED", 1e3)
    assert _efficiency_warnings(adam, X[:, :2000].toarray(), y) == []
