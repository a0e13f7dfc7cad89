"""The default optimizer, "auto": plain SGD on sparse X of few stored values, else Nesterov."""

import warnings

import numpy as np
import pytest
from _sparse_text import text_like
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skgd import GDClassifier, GDRegressor
from skgd.optim import SGD, Nesterov


@pytest.mark.parametrize("make", [GDClassifier, GDRegressor])
def test_auto_trains_sparse_x_of_few_stored_values_with_plain_sgd(make):
    X, y = text_like()
    params = dict(max_iter=3, tol=None, random_state=0)
    model = make(**params).fit(X, y)
    assert type(model.optimizer_) is SGD
    assert make().optimizer == "auto"
    # exactly the model "sgd" trains
    np.testing.assert_array_equal(model.coef_, make(optimizer="sgd", **params).fit(X, y).coef_)
    # dense X, and sparse X storing more than 1% of its entries: Nesterov
    narrow = sparse.csr_matrix(np.random.RandomState(1).binomial(1, 0.02, size=(600, 40)) * 1.0)
    assert 0.01 * 600 * 40 <= narrow.nnz < 0.03 * 600 * 40
    with warnings.catch_warnings():  # (y is noise on these columns: only the choice counts)
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert type(make(**params).fit(narrow, y).optimizer_) is Nesterov
        assert type(make(**params).fit(narrow.toarray(), y).optimizer_) is Nesterov


def test_auto_l1_on_text_like_x_takes_lazy_steps(monkeypatch):
    # Momentum's L1 moves every coefficient at every batch: at the old default
    # (Nesterov), stdlib lines hashed to 2**20 columns ran past a minute where
    # plain SGD's lazy thresholds took 0.8 s. The dense sparse epoch is not run.
    from skgd import _kernel

    def refused(*args):
        raise AssertionError("a dense epoch on text-like X")

    monkeypatch.setattr(_kernel, "_sparse_epoch", refused)
    X, y = text_like()
    params = dict(penalty="l1", alpha=1e-3, max_iter=3, tol=None, random_state=0)
    model = GDClassifier(**params).fit(X, y)
    assert type(model.optimizer_) is SGD
    lazy_sgd = GDClassifier(optimizer="sgd", **params).fit(X, y)
    np.testing.assert_array_equal(model.coef_, lazy_sgd.coef_)


def test_auto_counts_values_not_explicit_zeros_and_takes_nesterov_from_1_percent():
    X, y = text_like()
    pad = sparse.random(X.shape[0], X.shape[1], density=0.01, format="csr", random_state=1)
    pad.data[:] = 1e-300  # (1 + 1e-300 is 1)
    padded = (X + pad).tocsr()
    padded.data[padded.data == 1e-300] = 0.0  # places stored, holding zeros: the same X
    assert padded.nnz > 0.01 * X.shape[0] * X.shape[1] > X.nnz
    params = dict(max_iter=2, tol=None, random_state=0)
    model = GDClassifier(**params).fit(padded, y)
    assert type(model.optimizer_) is SGD
    np.testing.assert_array_equal(model.coef_, GDClassifier(**params).fit(X, y).coef_)
    # 1% of the entries and more: Nesterov; one value fewer: plain SGD
    n, p = 200, 100
    at_one_percent = sparse.csr_matrix(
        (np.ones(n * p // 100), (np.arange(n * p // 100) % n, np.arange(n * p // 100) % p)),
        shape=(n, p),
    )
    labels = np.arange(n) % 2
    assert type(GDClassifier(**params).fit(at_one_percent, labels).optimizer_) is Nesterov
    fewer = at_one_percent.tolil()
    fewer[0, 0] = 0.0
    fewer = fewer.tocsr()
    fewer.eliminate_zeros()
    assert type(GDClassifier(**params).fit(fewer, labels).optimizer_) is SGD


def test_a_stream_keeps_the_optimizer_its_first_call_chose():
    X, y = text_like()
    stream = GDClassifier(random_state=0)
    stream.partial_fit(X[:200], y[:200], classes=[0, 1, 2])
    assert type(stream.optimizer_) is SGD
    # a later chunk passed dense (or denser) is the same stream: the same optimizer
    stream.partial_fit(X[200:400].toarray(), y[200:400])
    assert type(stream.optimizer_) is SGD
    dense_first = GDClassifier(random_state=0).partial_fit(X[:200].toarray(), y[:200], [0, 1, 2])
    dense_first.partial_fit(X[200:400], y[200:400])
    assert type(dense_first.optimizer_) is Nesterov


def test_nested_optimizer_parameters_on_auto_are_nesterovs():
    # A grid search over momentum at the default optimizer, as before "auto"
    model = GDClassifier().set_params(optimizer__momentum=0.5)
    assert type(model.optimizer) is Nesterov and model.optimizer.momentum == 0.5
    X, y = text_like(n=300)
    search = GridSearchCV(
        GDClassifier(max_iter=3, tol=None, random_state=0),
        {"optimizer__momentum": [0.5, 0.8]},
        cv=2,
    ).fit(X, y)
    assert type(search.best_estimator_.optimizer_) is Nesterov
