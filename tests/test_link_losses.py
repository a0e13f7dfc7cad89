"""A user's loss with a link: its stop criterion's unit ignores the loss's terms in y alone."""

import pytest
from _user_losses import GammaHalfDeviance, GammaLogLink
from numpy.testing import assert_allclose
from sklearn.linear_model import GammaRegressor
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
