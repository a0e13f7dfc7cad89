"""A regression stream whose chunks come sorted by their targets is told so, once."""

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn.datasets import load_diabetes, load_iris

from skgd import GDClassifier, GDRegressor

SORTED = "came in (increasing|decreasing) order"


def _stream(X, y, chunk, model=None, passes=1):
    model = model or GDRegressor(random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(passes):
            for start in range(0, len(y), chunk):
                model.partial_fit(X[start : start + chunk], y[start : start + chunk])
    return model, [str(w.message) for w in caught if "partial_fit calls" in str(w.message)]


@pytest.mark.parametrize("reverse", [False, True])
def test_a_stream_sorted_by_its_targets_is_told_once(reverse):
    # (the user guide: diabetes sorted by y, calls of 10 rows, ends at held-out R²
    # -0.37 after 3 passes, silently before)
    X, y = load_diabetes(return_X_y=True)
    order = np.argsort(y)[::-1] if reverse else np.argsort(y)
    _, told = _stream(X[order], y[order], 10, passes=3)
    assert len(told) == 1
    assert ("decreasing" if reverse else "increasing") in told[0] and "average=True" in told[0]


@pytest.mark.parametrize("chunk", [1, 10, 100])
def test_a_shuffled_stream_is_not_told(chunk):
    X, y = load_diabetes(return_X_y=True)
    _, told = _stream(X, y, chunk, passes=2)
    assert told == []


def test_targets_of_one_value_or_in_a_few_sorted_calls_are_no_order():
    X, y = load_diabetes(return_X_y=True)
    _, told = _stream(X, np.full(len(y), 3.0), 10)
    assert told == []
    order = np.argsort(y)[:80]  # (8 calls of 10 sorted rows, 7 moves: too short a run)
    _, told = _stream(X[order], y[order], 10)
    assert told == []


@pytest.mark.parametrize("chunk", [1, 10])
def test_shuffled_counts_of_mostly_zeros_are_no_order(chunk):
    # (a review: a call of the last one's single value had kept the run going, and
    # hundreds of zeros between two rises read as sorted, at every shuffle of
    # VietNamI's activity days, 99.3% zeros)
    rng = np.random.RandomState(0)
    y = (rng.uniform(size=3000) > 0.993) * rng.randint(1, 30, size=3000).astype(float)
    X = rng.normal(size=(3000, 3))
    _, told = _stream(X, y, chunk)
    assert told == []


def test_a_call_the_warning_fails_leaves_the_run_as_it_was():
    # (a review: the run was changed in place, and a call rolled back by the warning
    # raised as an error had used up the warning)
    X, y = load_diabetes(return_X_y=True)
    order = np.argsort(y)
    model = GDRegressor(random_state=0)
    start = 0
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="The targets of the last")
        for start in range(0, 400, 10):
            try:
                model.partial_fit(X[order[start : start + 10]], y[order[start : start + 10]])
            except UserWarning:
                break
    _, told = _stream(X[order[start:]], y[order[start:]], 10, model=model)
    assert len(told) == 1


def test_fit_starts_the_run_afresh():
    X, y = load_diabetes(return_X_y=True)
    order = np.argsort(y)
    model, _ = _stream(X[order[:70]], y[order[:70]], 10)
    model.fit(X, y)  # (a new model: the stream after it starts its own run)
    _, told = _stream(X[order[70:130]], y[order[70:130]], 10, model=model)
    assert told == []


def test_a_calls_rows_of_weight_0_are_not_counted_and_a_scalar_weight_counts_all():
    from skgd._stream_order import TargetOrder

    order = TargetOrder()
    order.observe(np.arange(5.0), np.array([0.0, 1.0, 1.0, 0.0, 1.0]))
    assert order.rows == 3 and (order.low, order.high) == (1.0, 4.0)
    order = TargetOrder()
    order.observe(np.arange(5.0), 2.0)
    assert order.rows == 5


CLASS_RUNS = "came grouped by class"


def _class_stream(X, y, chunk, order, passes=1, model=None, **kwargs):
    model = model or GDClassifier(random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(passes):
            for start in range(0, len(order), chunk):
                rows = order[start : start + chunk]
                extra = {key: value[rows] for key, value in kwargs.items()}
                model.partial_fit(X[rows], y[rows], classes=np.unique(y), **extra)
    return model, [str(w.message) for w in caught if CLASS_RUNS in str(w.message)]


@pytest.mark.parametrize("chunk", [1, 10, 100])
def test_a_classifier_stream_sorted_by_class_is_told_once(chunk):
    # (a user trial: iris as stored, calls of 10 rows, training accuracy 0.733 after
    # a pass where shuffled rows reach 0.933, silently; as SGDClassifier's stream)
    X, y = load_iris(return_X_y=True)
    _, told = _class_stream(X, y, chunk, np.arange(len(y)), passes=2)
    assert len(told) == 1 and "Shuffle the rows" in told[0]


def test_a_classifier_stream_sorted_by_class_learns_less():
    # (what the warning above is for)
    X, y = load_iris(return_X_y=True)
    in_order, _ = _class_stream(X, y, 10, np.arange(len(y)))
    shuffled, told = _class_stream(X, y, 10, np.random.RandomState(0).permutation(len(y)))
    assert told == []
    assert in_order.score(X, y) < shuffled.score(X, y) - 0.1


@pytest.mark.parametrize("chunk", [1, 10, 100])
@pytest.mark.parametrize("name", ["iris", "breast_cancer", "digits", "rare"])
def test_a_shuffled_classifier_stream_is_not_told_of_class_runs(name, chunk):
    if name == "rare":  # (one row in a hundred of the rare class: long runs of the other)
        rng = np.random.RandomState(0)
        X, y = rng.normal(size=(5000, 4)), (rng.uniform(size=5000) < 0.01).astype(int)
    else:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    for seed in range(2):
        order = np.random.RandomState(seed).permutation(len(y))
        _, told = _class_stream(X, y, chunk, order, passes=2, model=GDClassifier(optimizer="sgd"))
        assert told == [], (seed, told)


def test_class_runs_count_the_rows_that_weigh():
    # Calls of five digits of one class (0, then 1, then 2, 90 rows each) and five
    # of the classes 3 to 9: mixed calls, no run; the same calls with the others at
    # weight 0 are a stream sorted by class in what it learns
    X, y = datasets.load_digits(return_X_y=True)
    others = np.random.RandomState(0).permutation(np.flatnonzero(y >= 3))
    order, weighed = [], []
    for k in range(3):
        mine = np.flatnonzero(y == k)
        for call in range(18):
            order += [*mine[5 * call : 5 * call + 5], *others[:5]]
            others, weighed = others[5:], weighed + [1.0] * 5 + [0.0] * 5
    order, weighed = np.array(order), np.array(weighed)
    weights = np.zeros(len(y))
    _, told = _class_stream(X, y, 10, order, sample_weight=weights + 1.0)
    assert told == []
    weights[order] = weighed
    _, told = _class_stream(X, y, 10, order, sample_weight=weights)
    assert len(told) == 1


def test_a_fit_starts_the_class_runs_afresh():
    X, y = load_iris(return_X_y=True)
    model, told = _class_stream(X, y, 10, np.arange(70))
    assert told == []  # (70 rows: class 0's 50, then 20 of class 1)
    _, told = _class_stream(X, y, 10, np.arange(50, 70), model=model)
    assert len(told) == 1  # (50 of class 0, then 40 of class 1)
    model, _ = _class_stream(X, y, 10, np.arange(70))
    model.fit(X, y)
    _, told = _class_stream(X, y, 10, np.arange(50, 70), model=model)
    assert told == []


def test_a_streams_order_checks_are_kept_as_plain_tuples():
    # (what pickles and skops files read with no private type to trust); a run
    # object of a stream pickled before is taken as it was
    from skgd._stream_order import TargetOrder

    X, y = load_diabetes(return_X_y=True)
    model, _ = _stream(X[:100], y[:100], 10)
    assert type(model._target_order) is tuple
    order = TargetOrder()
    order.observe(y[:10], None)
    assert TargetOrder.restored(order).state() == order.state()
    classifier, _ = _class_stream(X[:100], (y[:100] > 140).astype(int), 10, np.arange(100))
    assert type(classifier._class_runs) is tuple


@pytest.mark.parametrize("labels", [np.array(["setosa", "versicolor", "virginica"]), None])
def test_the_class_runs_warning_names_the_class_as_given(labels):
    # (a user trial) a label of a string array read "np.str_('I')"
    X, y = load_iris(return_X_y=True)
    y = y if labels is None else labels[y]
    _, told = _class_stream(X, y, 10, np.arange(len(y)), passes=2)
    # (iris as stored: told at the second class's run)
    assert ("rows of class 'versicolor'" if labels is not None else "rows of class 1 ") in told[0]
