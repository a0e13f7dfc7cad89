"""A wide model's per-column state pickles by its values off 0 and 1, and comes back to the bit."""

import copy
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse

from skgd import GDClassifier, GDRegressor
from skgd._compact_state import STATE, _compact, _expand


def _hashed_like(n_rows=600, n_features=2**17, seed=0):
    """Rows of 20 stored counts among many columns, as hashed text is (a few thousand used)."""
    rng = np.random.RandomState(seed)
    X = sparse.random(
        n_rows, n_features, density=20 / n_features, format="csr", random_state=rng,
        data_rvs=lambda k: rng.randint(1, 4, size=k).astype(float),
    )  # fmt: skip
    y = X[:, : n_features // 2].sum(axis=1).A1 > X[:, n_features // 2 :].sum(axis=1).A1
    return X, y.astype(int)


def _models(X, y):
    fitted = GDClassifier(random_state=0).fit(X, y)
    stream = GDClassifier(random_state=0)
    for start in range(0, 400, 100):
        stream.partial_fit(X[start : start + 100], y[start : start + 100], classes=[0, 1])
    regressor = GDRegressor(random_state=0).partial_fit(X[:200], y[:200].astype(float))
    return {"fit": fitted, "stream": stream, "regressor": regressor}


def _same(a, b):
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("kind", ["fit", "stream", "regressor"])
def test_a_wide_models_pickle_is_about_its_coefficients(kind):
    # (a user trial) a binary classifier on 2**20 hashed columns pickled to 48 MiB
    # after fit and 72 after a stream, its coef_ 8 MiB: the columns' statistics,
    # peaks, scales, counts and the stream's walk, each n_features long
    X, y = _hashed_like()
    model = _models(X, y)[kind]
    size = len(pickle.dumps(model))
    assert size < 2 * model.coef_.nbytes  # (it was 6 to 9 times)


@pytest.mark.parametrize("kind", ["fit", "stream", "regressor"])
def test_a_wide_models_state_comes_back_to_the_bit_and_goes_on_alike(kind):
    X, y = _hashed_like()
    model = _models(X, y)[kind]
    for restored in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model), copy.copy(model)):
        assert set(vars(restored)) == set(vars(model))
        for key, value in vars(model).items():
            if key in STATE:
                assert _same(getattr(restored, key), value), key
        # what one array held for two attributes, it holds after too
        for one in STATE:
            for other in STATE:
                a, b = getattr(model, one, None), getattr(model, other, None)
                if one < other and isinstance(a, np.ndarray) and a is b:
                    assert getattr(restored, one) is getattr(restored, other)
        rows = slice(400, 500)
        target = y[rows].astype(float) if kind == "regressor" else y[rows]
        restored.partial_fit(X[rows], target)
        again = pickle.loads(pickle.dumps(model)).partial_fit(X[rows], target)
        assert_array_equal(restored.coef_, again.coef_)
        assert_array_equal(restored.intercept_, again.intercept_)
    original = copy.deepcopy(model).partial_fit(X[400:500], target)
    assert original.coef_.tobytes() == again.coef_.tobytes()


@pytest.mark.parametrize("kind", ["stream", "regressor"])
def test_a_wide_model_goes_through_skops_trusting_only_skgds_public_types(kind, tmp_path):
    # (a stream's order checks, a regressor's too, had been objects of a private module)
    sio = pytest.importorskip("skops.io")
    X, y = _hashed_like()
    model = _models(X, y)[kind]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert all(name.startswith("skgd.") and "._" not in name for name in untrusted)
    loaded = sio.load(path, trusted=untrusted)
    for key in STATE:
        assert _same(getattr(loaded, key), getattr(model, key)), key
    assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.bool_])
def test_only_wide_arrays_mostly_zero_or_one_are_compacted_and_every_bit_comes_back(dtype):
    rng = np.random.RandomState(0)
    wide = np.zeros(2**16, dtype=dtype)
    places = rng.choice(wide.size, 100, replace=False)
    wide[places] = 1 if dtype == np.bool_ else rng.randint(2, 9, size=100)
    if dtype in (np.float64, np.float32):
        wide[places[:3]] = [-0.0, np.nan, np.inf]  # (bits: -0.0 is not the background 0.0)
    ones = (1 - wide) if dtype != np.bool_ else ~wide
    for array in (wide, ones):
        compact = _compact(array, {})
        assert isinstance(compact, tuple) and compact[4].size <= 100
        assert _same(_expand(compact, {}, {array.size}), array)
    dense = rng.uniform(2, 3, size=2**16).astype(dtype)
    if dtype != np.bool_:
        assert _compact(dense, {}) is dense  # (most values differ from 0 and 1)
    half = np.where(rng.uniform(size=2**16) < 0.6, dense, 0).astype(dtype)
    assert _compact(half, {}) is half  # (their places would cost more than they save)
    narrow = np.zeros(2**16 - 1, dtype=dtype)
    assert _compact(narrow, {}) is narrow


def test_a_tampered_length_or_place_is_refused_before_anything_is_allocated():
    # (a review) a skops file passes the allow-list with one length edited to 2**40:
    # expanding it asked for 1 TiB
    X, y = _hashed_like()
    model = _models(X, y)["stream"]
    state = model.__getstate__()
    mean = state["_x_stats"][0]
    assert mean[0] == "skgd-compact-1"
    for tampered in [
        (*mean[:1], 2**40, *mean[2:]),  # a length that is no model's
        (*mean[:1], model.n_features_in_ + 2, *mean[2:]),  # nor this one
        (*mean[:4], mean[4][::-1].copy(), mean[5]),  # places out of order
        (*mean[:4], mean[4] + model.n_features_in_, mean[5]),  # places beyond the length
        (*mean[:2], "O", *mean[3:]),  # objects, not numbers
    ]:
        for n_features in [model.n_features_in_, tampered[1]]:  # (n_features_in_ edited too)
            bad = dict(state, _x_stats=(tampered, *state["_x_stats"][1:]))
            bad["n_features_in_"] = n_features
            with pytest.raises(ValueError, match="state is corrupt"):
                GDClassifier().__setstate__(bad)
    restored = GDClassifier()
    restored.__setstate__(dict(state))
    assert_array_equal(restored.decision_function(X), model.decision_function(X))


def test_a_copy_is_not_compacted():
    # (a review) scikit-learn's callbacks copy.copy the estimator at every epoch:
    # through the file's compaction a wide model's copy took 24 ms, not 0.2
    X, y = _hashed_like()
    model = _models(X, y)["stream"]
    shallow = copy.copy(model)
    for key in STATE:
        kept, copied = getattr(model, key), getattr(shallow, key)
        pairs = [(v if isinstance(v, tuple) else (v,)) for v in (kept, copied)]
        for a, b in zip(*pairs, strict=True):
            assert b is a  # (a shallow copy shares the arrays, as before compaction)
    assert shallow._rng is not model._rng  # (and has a generator of its own)


def test_a_sparsified_wide_stream_saves_and_loads():
    # (a review) sparsify() makes coef_ a sparse matrix: the stream's walk, of
    # coef_.size + intercept_.size entries, was then refused as corrupt on loading
    X, y = _hashed_like()
    for kind in ["stream", "regressor"]:
        model = _models(X, y)[kind].sparsify()
        restored = pickle.loads(pickle.dumps(model))
        for key in STATE:
            assert _same(getattr(restored, key), getattr(model, key)), key
        raw = model.decision_function if kind == "stream" else model.predict
        assert_array_equal(getattr(restored, raw.__name__)(X), raw(X))


class _Locked(GDRegressor):
    """A subclass whose state leaves out what cannot be copied (a lock)."""

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("lock", None)
        return state


def test_a_subclass_own_getstate_serves_its_copies():
    # (a review) copies took BaseGD's state directly, past a subclass that drops
    # what it cannot copy (a lock)
    import threading

    X, y = _hashed_like(n_rows=200, n_features=50)
    model = _Locked(random_state=0).fit(X, y.astype(float))
    model.lock = threading.Lock()
    for copied in (copy.copy(model), copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert not hasattr(copied, "lock")
        assert_array_equal(copied.predict(X), model.predict(X))
