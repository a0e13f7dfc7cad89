"""ConvergenceDisplay: artists and labels (not pixels), and matplotlib stays optional."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd.plotting import ConvergenceDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_from_estimator_draws_the_loss_curve():
    X, y = load_iris(return_X_y=True)
    clf = GDClassifier(max_iter=15, tol=None, random_state=0).fit(X, y)
    display = ConvergenceDisplay.from_estimator(clf)
    assert np.array_equal(display.line_.get_ydata(), clf.loss_curve_)
    assert list(display.line_.get_xdata()) == list(range(1, 16))
    assert display.ax_.get_xlabel() == "epoch" and display.ax_.get_ylabel() == "training loss"
    assert display.validation_line_ is None
    assert display.ax_.get_legend().get_texts()[0].get_text() == "GDClassifier"
    assert display.figure_ is display.ax_.figure


def test_validation_scores_on_a_twin_axis_and_log_scale_from_a_pipeline():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GDClassifier(early_stopping=True, random_state=0))
    pipe.fit(X, y)
    fig, ax = plt.subplots()
    display = ConvergenceDisplay.from_estimator(pipe, ax=ax, log_scale=True, name="es")
    assert display.ax_ is ax and ax.get_yscale() == "log"
    assert np.array_equal(display.validation_line_.get_ydata(), pipe[-1].validation_scores_)
    assert display.validation_ax_.get_ylabel() == "validation score"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["es", "validation score"]


def test_unfitted_estimator_is_a_clear_error():
    with pytest.raises(Exception, match="not fitted"):
        ConvergenceDisplay.from_estimator(GDRegressor())


def test_import_skgd_does_not_import_matplotlib_and_plotting_names_the_extra():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import skgd, skgd.plotting\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "try:\n"
        "    skgd.plotting.ConvergenceDisplay([1.0, 0.5]).plot()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "skgd[plot]"' in out.stdout
