"""The stop criterion's unit: blind to terms in y alone, and at the whole data what is left."""

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
