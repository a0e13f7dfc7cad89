"""What scikit-learn's SGD users expect: sparsify/densify, l1_ratio=None, their errors."""

import pickle

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skgd import GDClassifier, GDRegressor
from skgd.losses import Huber
from skgd.optim import Adam


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=30, n_informative=3, random_state=0)
    return StandardScaler().fit_transform(X), y / y.std()


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def l1_model(Estimator, X, y, **params):
    params = {"penalty": "l1", "alpha": 0.05, "max_iter": 50, "tol": None, "random_state": 0}
    return Estimator(**params).fit(X, y)


# ------------------------------------------------------------ sparsify / densify


def sparse_cases(regression):
    X, y = regression
    X_clf, y_clf = make_classification(
        n_samples=150, n_features=30, n_informative=3, n_classes=3, random_state=0
    )
    return [
        (GDRegressor, X, y),  # 1-D coef_
        (GDRegressor, X, np.column_stack([y, -y])),  # (2, n_features)
        (GDClassifier, X_clf, y_clf == 0),  # (1, n_features)
        (GDClassifier, X_clf, y_clf),  # (3, n_features)
    ]


@pytest.mark.parametrize("case", range(4), ids=["1-D", "multi-output", "binary", "multiclass"])
def test_sparsify_keeps_predictions_and_densify_restores_coef(regression, case):
    Estimator, X, y = sparse_cases(regression)[case]
    model = l1_model(Estimator, X, y)
    coef = model.coef_.copy()
    assert np.mean(coef == 0) > 0.3  # the L1 proximal step gives exact zeros
    predict = model.decision_function if Estimator is GDClassifier else model.predict
    before = predict(X)

    assert model.sparsify() is model
    assert sparse.issparse(model.coef_) and model.coef_.format == "csr"
    assert model.coef_.nnz == np.count_nonzero(coef)
    assert_allclose(predict(X), before, rtol=1e-12, atol=1e-12)
    assert_array_equal(model.predict(X), Estimator.predict(pickle.loads(pickle.dumps(model)), X))
    if Estimator is GDClassifier:
        assert_allclose(model.predict_proba(X), model.densify().predict_proba(X))

    assert model.densify() is model
    assert isinstance(model.coef_, np.ndarray) and model.coef_.shape == coef.shape
    assert_array_equal(model.coef_, coef)
    assert model.densify().coef_.shape == coef.shape  # a no-op on a dense model


# BaseGD._raw_prediction computes np.asarray(X @ W.T): with sparse X and a
# sparse coef_ that is a sparse product, which np.asarray wraps in a 0-d
# object array. The fix is a one-line change in _base.py (the engine's file):
# safe_sparse_dot(X, self._W.T, dense_output=True).
def test_sparsified_model_predicts_on_sparse_X(regression):
    X, y = regression
    model = l1_model(GDRegressor, X, y)
    before = model.predict(X)
    model.sparsify()
    assert_allclose(model.predict(sparse.csr_matrix(X)), before, rtol=1e-12)


def test_sparsify_keeps_float32(regression):
    X, y = regression
    model = l1_model(GDRegressor, X.astype(np.float32), y)
    assert model.sparsify().coef_.dtype == np.float32
    assert model.densify().coef_.dtype == np.float32


@pytest.mark.parametrize("method", ["sparsify", "densify"])
def test_sparsify_and_densify_need_a_fitted_model(method):
    with pytest.raises(NotFittedError, match="must be fitted"):
        getattr(GDRegressor(), method)()


def test_training_a_sparsified_model_continues_from_its_coef_and_densifies(regression, iris):
    X, y = regression
    dense = l1_model(GDRegressor, X, y)
    sparsified = l1_model(GDRegressor, X, y).sparsify()
    dense.partial_fit(X, y)
    sparsified.partial_fit(X, y)
    assert isinstance(sparsified.coef_, np.ndarray) and sparsified.coef_.ndim == 1
    assert_allclose(sparsified.coef_, dense.coef_, rtol=1e-12)

    X_iris, y_iris = iris
    clf = l1_model(GDClassifier, X_iris, y_iris).sparsify()
    clf.set_params(warm_start=True, max_iter=3).fit(X_iris, y_iris)
    assert isinstance(clf.coef_, np.ndarray) and clf.coef_.shape == (3, 4)


def test_a_rejected_partial_fit_leaves_the_sparse_coef_as_it_was(regression):
    X, y = regression
    model = l1_model(GDRegressor, X, y).sparsify()
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :5], y)
    assert sparse.issparse(model.coef_)
    assert_array_equal(model.coef_.toarray(), coef.toarray())
    assert model.densify().coef_.shape == (X.shape[1],)


# ---------------------------------------------------------------- l1_ratio=None


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("penalty", ["l2", "l1", None])
def test_l1_ratio_none_is_accepted_where_the_penalty_ignores_it(iris, Estimator, penalty):
    X, y = iris
    params = dict(penalty=penalty, max_iter=20, tol=None, random_state=0)
    with_none = Estimator(l1_ratio=None, **params).fit(X, y)
    with_default = Estimator(**params).fit(X, y)
    assert_array_equal(with_none.coef_, with_default.coef_)


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_elasticnet_without_l1_ratio_says_what_to_pass(iris, Estimator, method):
    X, y = iris
    model = Estimator(penalty="elasticnet", l1_ratio=None)
    kwargs = (
        {"classes": np.unique(y)} if method == "partial_fit" and Estimator is GDClassifier else {}
    )
    with pytest.raises(ValueError, match=r"penalty='elasticnet'.*l1_ratio=<float in \[0, 1\]>"):
        getattr(model, method)(X, y, **kwargs)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("bad", [-0.1, 1.5, "none"])
def test_l1_ratio_outside_0_1_is_still_rejected(iris, bad):
    X, y = iris
    with pytest.raises(InvalidParameterError, match="'l1_ratio' parameter .* or None"):
        GDClassifier(l1_ratio=bad).fit(X, y)


@pytest.mark.parametrize("bad", [0, -1])
def test_average_of_zero_samples_is_rejected_as_sgds_is(iris, bad):
    # (a user trial) average=0 was taken as no averaging, where an int n starts the
    # mean once n samples were seen (0: at once, as True); SGDClassifier rejects it.
    X, y = iris
    with pytest.raises(InvalidParameterError, match="'average' parameter"):
        GDClassifier(average=bad).fit(X, y)


# --------------------------------------------------------- predict_proba's error


@pytest.mark.parametrize("loss", ["hinge", "perceptron", "squared_error", Huber()])
def test_predict_proba_without_probabilities_names_the_loss_and_the_losses_with_them(loss):
    clf = GDClassifier(loss=loss)
    assert not hasattr(clf, "predict_proba") and not hasattr(clf, "predict_log_proba")
    for method in ["predict_proba", "predict_log_proba"]:
        with pytest.raises(AttributeError) as error:
            getattr(clf, method)
        message = str(error.value)
        assert f"has no attribute '{method}'" in message
        assert f"loss={loss!r}" in message
        assert all(name in message for name in ["log_loss", "cross_entropy", "modified_huber"])
        assert "decision_function" in message


def test_predict_proba_error_names_the_trained_loss_not_one_set_since(iris):
    # (a hinge model's error said "loss='log_loss' gives no probabilities" once
    # loss="log_loss" was set after fit: the fitted loss decides, as it should)
    X, y = iris
    clf = GDClassifier(loss="hinge", random_state=0).fit(X, y).set_params(loss="log_loss")
    with pytest.raises(AttributeError, match=r"trained with Hinge\(\), which gives no prob"):
        clf.predict_proba(X)


def test_partial_fit_unavailable_says_why():
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit': .*early_stopping"):
        GDRegressor(early_stopping=True).partial_fit  # noqa: B018


# --------------------------------------------- nested parameters of a loss name


def test_set_params_reaches_the_parameters_of_a_loss_given_by_name():
    reg = GDRegressor(loss="huber")
    assert reg.set_params(loss__delta=0.5) is reg
    assert isinstance(reg.loss, Huber) and reg.loss.delta == 0.5
    # both at once, as a grid of {"loss": [...], "loss__delta": [...]} sets them
    reg = GDRegressor().set_params(loss="huber", loss__delta=2.0)
    assert reg.loss.get_params() == {"delta": 2.0}
    clf = GDClassifier(optimizer="adam").set_params(optimizer__beta_1=0.8)
    assert isinstance(clf.optimizer, Adam) and clf.optimizer.beta_1 == 0.8


def test_a_grid_search_over_the_delta_of_a_named_huber_loss(regression):
    X, y = regression
    pipe = make_pipeline(StandardScaler(), GDRegressor(loss="huber", random_state=0))
    search = GridSearchCV(pipe, {"gdregressor__loss__delta": [0.5, 2.0]}, cv=3).fit(X, y)
    assert set(search.cv_results_["param_gdregressor__loss__delta"]) == {0.5, 2.0}
    assert isinstance(search.best_estimator_[-1].loss, Huber)
    assert search.best_estimator_[-1].loss.delta == search.best_params_["gdregressor__loss__delta"]
    assert pipe[-1].loss == "huber"  # the searched estimator is left as it was


def test_nested_parameters_of_a_loss_without_them_name_the_loss():
    with pytest.raises(ValueError, match="Invalid parameter 'delta' for estimator SquaredError"):
        GDRegressor(loss="squared_error").set_params(loss__delta=1.0)
    with pytest.raises(ValueError, match=r"loss__delta.*'nope'.*'huber'"):
        GDRegressor(loss="nope").set_params(loss__delta=1.0)


# ------------------------------------------------------ users coming from SGD


@pytest.mark.parametrize(
    "schedule, fix",
    [
        ("optimal", "skgd has no 'optimal' schedule"),
        ("invscaling", "Pass schedule='invscaling'"),
        ("adaptive", "Pass schedule='adaptive'"),
    ],
)
@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
def test_sgds_learning_rate_names_say_skgds_learning_rate_is_gamma(iris, Estimator, schedule, fix):
    X, y = iris
    with pytest.raises(InvalidParameterError) as error:
        Estimator(learning_rate=schedule).fit(X, y)
    message = str(error.value)
    # scikit-learn's own sentence first, then the hint
    assert message.startswith(f"The 'learning_rate' parameter of {Estimator.__name__} must be")
    assert "learning_rate is the step size γ" in message and "eta0" in message
    assert "a fraction of the stable step 1/L" in message
    assert "schedule parameter" in message and fix in message


def test_eta0_in_the_constructor_says_to_pass_learning_rate():
    with pytest.raises(TypeError, match="unexpected keyword argument 'eta0'") as error:
        GDRegressor(eta0=0.01)
    # (SGD's eta0 is an absolute step: 0.01 taken as γ trained digits to 0.91, 0.96 at 0.5)
    assert "Drop eta0" in str(error.value)
    assert "learning_rate=0.01 in place of eta0 would be a step 50 times shorter" in str(
        error.value
    )
    assert "schedule parameter" in str(error.value)
    with pytest.raises(TypeError, match="epsilon belongs to the loss object"):
        GDClassifier(loss="hinge", epsilon=0.1)
    # other unknown names keep Python's message as it is
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'nope'\Z"):
        GDRegressor(nope=1)


def test_eta0_in_set_params_and_a_grid_search_says_to_pass_learning_rate(iris):
    X, y = iris
    with pytest.raises(
        ValueError,
        match="Invalid parameter 'eta0'.*learning_rate=0.1 in place of eta0 would be a step 5 t",
    ):
        GDClassifier().set_params(eta0=0.1)
    search = GridSearchCV(make_pipeline(GDClassifier()), {"gdclassifier__eta0": [0.1]}, cv=2)
    with pytest.raises(ValueError, match="Drop eta0"):
        search.fit(X, y)


@pytest.mark.parametrize(
    "name, value, hint",
    [
        ("learning_rate_init", 0.001, "Drop learning_rate_init"),
        ("solver", "lbfgs", "'lbfgs' has none"),
        ("momentum", 0.9, r"optimizer=Momentum\(momentum=...\)"),
        ("nesterovs_momentum", True, r"Nesterov\(momentum=...\)"),
        ("beta_1", 0.9, r"optimizer=Adam\(beta_1=...\)"),
        ("epsilon", 1e-8, r"MLP's \(Adam's\) to the optimizer"),
        ("hidden_layer_sizes", (), "skgd's models are linear"),
    ],
)
def test_an_mlp_users_names_say_what_to_use(name, value, hint):
    # (a user trial) MLP's names got Python's bare TypeError, and MLP's epsilon
    # (Adam's) was told it belongs to the loss, where the guide's table maps them all
    with pytest.raises(TypeError, match=hint):
        GDRegressor(**{name: value})
    with pytest.raises(ValueError, match=f"Invalid parameter '{name}'.*{hint}"):
        GDClassifier().set_params(**{name: value})


def test_the_constructor_signature_is_unchanged():
    # get_params, clone and the docs read the real signature through __wrapped__
    assert "eta0" not in GDRegressor().get_params()
    assert set(GDClassifier().get_params()) >= {"learning_rate", "schedule", "class_weight"}
    assert GDRegressor.__init__.__wrapped__.__name__ == "__init__"


# ------------------------------------------------ set_params between partial_fit


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("first", [True, False])
def test_changing_fit_intercept_between_partial_fits_says_to_call_fit(iris, Estimator, first):
    X, y = iris
    model = Estimator(fit_intercept=first, random_state=0).partial_fit(X, y, **classes(Estimator))
    before = pickle.dumps(model)
    model.set_params(fit_intercept=not first)
    with pytest.raises(ValueError, match=f"trained with fit_intercept={first}.*Call fit"):
        model.partial_fit(X, y)
    assert pickle.dumps(model.set_params(fit_intercept=first)) == before
    model.set_params(fit_intercept=not first).fit(X, y)  # as the message says
    assert bool(np.all(model.intercept_ == 0)) == first


def classes(Estimator):
    return {"classes": [0, 1, 2]} if Estimator is GDClassifier else {}


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
def test_changing_the_optimizer_between_partial_fits_takes_effect(iris, Estimator):
    X, y = iris
    model = Estimator(random_state=0).partial_fit(X, y, **classes(Estimator))
    assert type(model.optimizer_).__name__ == "Nesterov"
    per_call = model.t_  # updates in one call (5 batches of 32)
    model.set_params(optimizer="adam").partial_fit(X, y)
    assert isinstance(model.optimizer_, Adam)
    assert model.optimizer_.state_[0]["t"] == per_call  # started at the switch
    model.set_params(optimizer=Adam()).partial_fit(X, y)  # the same optimizer: continued
    assert model.optimizer_.state_[0]["t"] == 2 * per_call
    model.set_params(optimizer=Adam(beta_1=0.5)).partial_fit(X, y)
    assert model.optimizer_.beta_1 == 0.5 and model.optimizer_.state_[0]["t"] == per_call
    model.set_params(optimizer="adam").partial_fit(X, y)  # the name's defaults: a new one
    assert model.optimizer_.beta_1 == 0.9 and model.optimizer_.state_[0]["t"] == per_call
    model.partial_fit(X, y)  # the same name: continued
    assert model.optimizer_.state_[0]["t"] == 2 * per_call
    with pytest.raises(InvalidParameterError, match="'optimizer' parameter"):
        model.set_params(optimizer="nope")  # (a fitted model's parameters: validated there)
    assert model.optimizer == "adam"


# ------------------------------------------- an epoch's order, by the compiled twister


@pytest.mark.parametrize("drawn", [0, 1, 397, 623, 624, 1000])
def test_the_twisted_shuffle_is_numpys_wherever_the_twisters_state_is(drawn):
    # The default generator's shuffle runs MT19937 compiled from its state:
    # whatever word it starts at (twisted just before, or due to twist at
    # the first draw), and with a normal draw cached beside it, the order is
    # numpy's, and the generator is left where numpy's shuffle leaves it.
    # The sizes put a mask's halving at the first position, at a chunk's end
    # (8192: position 4096 is both), and inside chunks.
    from skgd import _draws

    for n in [2049, 2050, 4097, 4098, 8192, 8193, 12289, 2**16, 2**16 + 1, 100_003]:
        ours, numpys = np.random.RandomState(n), np.random.RandomState(n)
        for rng in (ours, numpys):
            rng.randint(0, 2**32, size=drawn, dtype=np.uint32)  # one word each
            rng.standard_normal()  # the second of a pair is kept
        assert ours.get_state(legacy=False)["has_gauss"] == 1
        order = _draws.permutation(ours, n)
        assert_array_equal(order, numpys.permutation(n))
        assert repr(ours.get_state(legacy=False)) == repr(numpys.get_state(legacy=False))
        assert ours.standard_normal() == numpys.standard_normal()


def test_the_twisted_shuffle_draws_from_the_generator_it_is_given():
    # A copy of the state is twisted, not the generator's own words, and the
    # generator moves on: two epochs in a row have different orders.
    from skgd import _draws

    rng = np.random.RandomState(0)
    first, second = _draws.permutation(rng, 5000), _draws.permutation(rng, 5000)
    assert not np.array_equal(first, second)
    numpys = np.random.RandomState(0)
    assert_array_equal(first, numpys.permutation(5000))
    assert_array_equal(second, numpys.permutation(5000))
    assert_array_equal(np.sort(first), np.arange(5000))


def test_n_jobs_in_the_constructor_says_where_cores_help():
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_jobs'") as error:
        GDClassifier(n_jobs=2)
    assert "GridSearchCV(..., n_jobs=-1)" in str(error.value)


@pytest.mark.parametrize(
    "Estimator, old, new",
    [(GDClassifier, "log", "log_loss"), (GDRegressor, "squared_loss", "squared_error")],
)
def test_an_old_sgd_loss_name_says_the_new_one(iris, Estimator, old, new):
    X, y = iris
    with pytest.raises(InvalidParameterError, match=f"pass loss='{new}'"):
        Estimator(loss=old).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": 5.0},
        {"learning_rate": -1.0},
        {"learning_rate": 0},
        {"batch_size": 0},
        {"alpha": -1.0},
        {"max_iter": 0},
        {"tol": -1.0},
    ],
)
@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
def test_parameters_set_between_partial_fit_calls_are_validated(regression, Estimator, params):
    # (a user trial) scikit-learn's _fit_context skips the validation in partial_fit once
    # the model is fitted: set_params(learning_rate=5.0) between two calls trained at 5
    # (R² 0.965 -> -0.571), -1.0 climbed the loss, and batch_size=0 raised a
    # ZeroDivisionError. Validated at set_params, which changes nothing if it raises
    X, y = regression
    y = y if Estimator is GDRegressor else (y > 0).astype(int)
    model = Estimator(random_state=0)
    model.partial_fit(X[:60], y[:60], **({} if Estimator is GDRegressor else {"classes": [0, 1]}))
    coef, intercept, t = model.coef_.copy(), model.intercept_.copy(), model.t_
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        model.set_params(**params)
    assert model.get_params() == Estimator(random_state=0).get_params()  # (as it was)
    assert_array_equal(model.coef_, coef)
    assert_array_equal(model.intercept_, intercept)
    model.partial_fit(X[60:], y[60:])  # the stream goes on
    assert model.t_ > t and np.isfinite(model.coef_).all()


def test_set_params_validates_only_the_values_it_is_given_and_as_scikit_learn_is_set(regression):
    # (a review) validated whole, the estimator's parameters cost 5.6 times as much a
    # call, and one set as an attribute blocked every later set_params
    X, y = regression
    model = GDRegressor(random_state=0).fit(X, y)
    model.learning_rate = 5.0  # (an attribute: no validation, as scikit-learn's)
    model.set_params(alpha=0.01)
    assert model.alpha == 0.01
    with sklearn.config_context(skip_parameter_validation=True):
        model.set_params(learning_rate=1.5)
    assert model.learning_rate == 1.5
    with pytest.raises(InvalidParameterError, match="'learning_rate' parameter"):
        model.set_params(alpha=0.1, learning_rate="optimal")
    assert model.alpha == 0.01  # (none set)
