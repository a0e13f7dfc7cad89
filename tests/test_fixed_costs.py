"""A fit's costs before and after training, cut without changing a model.

The model at the end of a fit, the target's scaling and the way back from
a first epoch's divergence each take a shorter road on wide data; these
tests pin what each gives to what the longer road gave: numpy's formulas
to the bit, the loss itself on every row, a recovery to the start itself.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.datasets import load_diabetes

from skgd import GDRegressor, _divergence, _loop
from skgd._objective import Objective, _DistinctTargets, target_scaling
from skgd.losses import (
    Hinge,
    LogLoss,
    ModifiedHuber,
    Perceptron,
    SquaredError,
    SquaredHinge,
)


def _bits(a):
    return np.atleast_1d(np.asarray(a)).view(np.uint8)


def _objective(x_mean, x_scale, y_scale, dtype):
    n_outputs = len(y_scale)
    return Objective(
        LogLoss(), x_mean=x_mean.astype(dtype), x_scale=x_scale.astype(dtype),
        y_loc=np.linspace(-1.0, 1.0, n_outputs).astype(dtype), y_scale=y_scale.astype(dtype),
        loss_scale=np.ones(n_outputs), alpha_l1=0.0, alpha_l2=0.0, reference_loss=1.0,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("overwrite", [False, True])
def test_the_model_of_wide_coefficients_is_numpys_to_the_bit(dtype, centred, overwrite):
    # W = y_scale * (V / x_scale), b = y_loc + y_scale * c - W @ x_mean: with
    # no centred column the product is skipped, and b must not tell (a -0.0
    # intercept included); with one, it is taken.
    rng = np.random.RandomState(0)
    n_features = 6000  # (the compiled pass: 4096 coefficients or more)
    V = rng.normal(size=(3, n_features)).astype(dtype)
    x_scale = rng.uniform(0.1, 3.0, n_features)
    x_mean = np.zeros(n_features)
    if centred:
        x_mean[[5, 700]] = [0.25, -3.0]
    objective = _objective(x_mean, x_scale, np.array([1.0, 2.0, 0.5]), dtype)
    c = np.array([0.5, -0.0, 0.0], dtype=dtype)
    objective.y_loc[:] = [1.0, -0.0, -0.0]  # (b of the last two: -0.0 and +0.0)
    W_expected = objective.y_scale[:, None] * (V / objective.x_scale)
    b_expected = objective.y_loc + objective.y_scale * c - W_expected @ objective.x_mean
    W, b, finite = objective.to_model_checked(V.copy(), c, overwrite=overwrite)
    assert finite is True
    assert W.dtype == b.dtype == dtype
    assert_array_equal(_bits(W), _bits(W_expected))
    assert_array_equal(_bits(b), _bits(b_expected))
    W2, b2 = objective.to_model(V.copy(), c, overwrite=overwrite)
    assert_array_equal(_bits(W2), _bits(W_expected))
    assert_array_equal(_bits(b2), _bits(b_expected))


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_wide_coefficients_that_overflow_say_so_and_give_numpys_intercept(bad):
    rng = np.random.RandomState(0)
    V = rng.normal(size=(2, 5000))
    V[1, 4321] = bad
    objective = _objective(np.zeros(5000), np.ones(5000), np.ones(2), np.float64)
    with np.errstate(invalid="ignore"):
        W, b, finite = objective.to_model_checked(V, np.zeros(2), overwrite=True)
        expected = objective.y_loc - W @ objective.x_mean  # NaN for both outputs
    assert finite is False
    assert_array_equal(_bits(b), _bits(expected))


def test_a_wide_fit_whose_model_overflows_its_dtype_is_refused_clearly():
    # The standardized iterate is fine; in the data's units (tiny X, huge y)
    # the float32 coefficients overflow, seen by the pass that writes them.
    rng = np.random.RandomState(0)
    X = sparse.random(200, 5000, density=0.01, random_state=0, format="csr", dtype=np.float32)
    X.data[:] = 1e-30
    y = (rng.normal(size=200) * 1e30).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="overflow float32"):
            GDRegressor(random_state=0, max_iter=3).fit(X, y)


_CLASSIFICATION_LOSSES = [LogLoss(), Hinge(), SquaredHinge(), ModifiedHuber(), Perceptron()]


@pytest.mark.parametrize("loss", [*_CLASSIFICATION_LOSSES, SquaredError()], ids=repr)
@pytest.mark.parametrize("n_classes", [2, 3, 12])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_classifiers_target_scaling_by_class_is_every_rows_to_the_bit(loss, n_classes, dtype):
    # Each class's loss and gradient computed once, for each of its rows: the
    # same origin, loss scale, reference loss and largest row curvature.
    rng = np.random.RandomState(n_classes)
    n = 15_001  # (sampled to every other row: strided targets)
    classes = rng.randint(n_classes, size=n)
    if n_classes == 2:
        Y, n_outputs = np.where(classes == 1, 1.0, -1.0).astype(dtype), 1
    else:
        Y, n_outputs = classes, n_classes
    w = rng.uniform(0.1, 2.0, n).astype(dtype)
    if n_classes == 2 and isinstance(loss, SquaredError):
        return  # (a regression loss's float target: no class to share, the loss itself)
    single = n_outputs == 1
    loc = None if single else np.zeros(n_outputs)
    kw = dict(single=single, spread=np.ones(n_outputs), loc=loc, largest=True)
    assert isinstance(_DistinctTargets.of(loss, Y[::2]), _DistinctTargets)
    by_class = target_scaling(loss, Y, w, **kw)
    every_row = target_scaling(_EveryRow(loss), Y, w, **kw)
    for got, expected in zip(by_class, every_row, strict=True):
        assert_array_equal(_bits(got), _bits(expected))


class _EveryRow:
    """A built-in loss as a user's would be: computed on every row."""

    def __init__(self, loss):
        self.loss_, self.homogeneous = loss, getattr(loss, "homogeneous", False)

    def loss(self, y_true, raw_prediction):
        return self.loss_.loss(y_true, raw_prediction)

    def gradient(self, y_true, raw_prediction):
        return self.loss_.gradient(y_true, raw_prediction)


def test_float_targets_and_user_losses_are_never_taken_by_value():
    rng = np.random.RandomState(0)
    y = rng.normal(size=1000)
    assert _DistinctTargets.of(SquaredError(), y) is not None
    assert not isinstance(_DistinctTargets.of(SquaredError(), y), _DistinctTargets)
    assert not isinstance(
        _DistinctTargets.of(_EveryRow(LogLoss()), np.arange(1000) % 3), _DistinctTargets
    )


def _wide_poisson():
    rng = np.random.RandomState(0)
    X = sparse.random(400, 6000, density=0.003, random_state=0, format="csr")
    X.data[:] = 1.0
    # (two dense columns whose mean outweighs their spread: centred, at about their
    # deviation, where the first epoch diverges; of mean 0.5 their scale is about
    # twice it since 9758c00, and the problem no longer diverged)
    X = sparse.hstack([X, sparse.csr_matrix(rng.rand(400, 2) + 2.0)]).tocsr()
    y = rng.poisson(np.exp(2.0 + 3 * X[:, -2].toarray().ravel() + X @ (0.5 * rng.randn(6002))))
    return X, y, dict(loss="poisson", optimizer="momentum", learning_rate=0.9, max_iter=20), {}


def _dense_poisson():
    X, y = load_diabetes(return_X_y=True)
    rng = np.random.RandomState(0)
    y = rng.poisson(np.exp(X @ (3 * rng.randn(10)) * 3 + 2))
    # (from the random start, a thousandth of the MLP's scale, the first epoch holds:
    # a start far from the constant diverges there)
    start = dict(coef_init=20 * np.random.RandomState(1).uniform(-1, 1, 10))
    return X, y, dict(loss="poisson", optimizer="momentum", max_iter=30), start


@pytest.mark.parametrize("problem", [_wide_poisson, _dense_poisson])
def test_a_first_epochs_divergence_goes_back_to_the_start_itself(problem, monkeypatch):
    # Until an epoch is noted, the way back is the diverged epoch's own copy of
    # its start: it must be the start of training, bit for bit, and the model
    # the same as a recovery from a copy of the start taken before training.
    starts, undone = [], []

    class Kept(_divergence.Recovery):
        def __init__(self, settings, state):
            super().__init__(settings, state)
            starts.append((state.V.copy(), state.c.copy()))

        def undo(self, state, kernel, at_start=None, counted=True):
            if self.safest[1] is None:
                undone.append(
                    np.array_equal(_bits(at_start[0]), _bits(starts[-1][0]))
                    and np.array_equal(_bits(at_start[1]), _bits(starts[-1][1]))
                )
            return super().undo(state, kernel, at_start, counted)

    class Copied(Kept):
        def undo(self, state, kernel, at_start=None, counted=True):
            first = self.safest[1] is None
            super().undo(state, kernel, starts[-1] if first else at_start, counted)

    X, y, params, start = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr(_loop, "Recovery", Kept)
        model = GDRegressor(random_state=0, **params).fit(X, y, **start)
        monkeypatch.setattr(_loop, "Recovery", Copied)
        copied = GDRegressor(random_state=0, **params).fit(X, y, **start)
    assert undone and all(undone)  # (the problem diverges in its first epoch)
    assert np.all(np.isfinite(model.coef_))
    assert_array_equal(_bits(model.coef_), _bits(copied.coef_))
    assert_array_equal(_bits(model.intercept_), _bits(copied.intercept_))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ranged", [False, True])
def test_a_streams_test_of_grown_scales_is_numpys(dtype, ranged):
    # A stream's call asks whether any column's scale grew past _SCALE_GROWTH
    # (StreamColumns._kept_scales) in one compiled pass; its answer is numpy's
    # masks', at the bounds too (a quarter exactly is no growth), for NaN
    # (never grown), a zero scale (an infinite ratio) and counts either side.
    from skgd._stream_columns import _FEW_VALUES, _SCALE_GROWTH, _may_keep

    def numpys(old, least, scale, counts):
        with np.errstate(divide="ignore", invalid="ignore"):
            grown = (least / scale < 1 / _SCALE_GROWTH) & (old / scale < 1)
        few = counts < _FEW_VALUES
        return bool(np.any(grown & few) or (ranged and np.any(grown & ~few)))

    scale = np.array([4.0, 4.0, 4.0, 1.0, 0.0, np.nan, 2.0, np.inf], dtype=dtype)
    cases = [  # (least, old) for each column, one growing past the bound at a time
        (scale.copy(), scale.copy()),
        (np.where(np.arange(8) == 0, 1.0, scale).astype(dtype), scale / 2),  # a quarter exactly
        (np.where(np.arange(8) == 1, np.nextafter(dtype(1.0), dtype(0.0)), scale), scale / 2),
        (np.where(np.arange(8) == 3, 0.2, scale).astype(dtype), scale),  # old / scale == 1
        (np.where(np.arange(8) == 3, 0.2, scale).astype(dtype), scale * 0.9),
        (np.where(np.arange(8) == 5, 0.0, scale).astype(dtype), scale / 2),  # a NaN scale
        (np.where(np.arange(8) == 7, 1.0, scale).astype(dtype), scale / 2),  # an infinite one
    ]
    answers = []
    for least, old in cases:
        old = old.astype(dtype)
        for counts in (np.zeros(8, dtype=np.int64), np.full(8, _FEW_VALUES, dtype=np.int64)):
            answer = _may_keep(old, least, scale, counts, ranged)
            assert answer == numpys(old, least, scale, counts)
            answers.append(answer)
    assert any(answers) and not all(answers)  # (the cases test both answers)
