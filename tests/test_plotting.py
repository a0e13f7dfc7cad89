"""ConvergenceDisplay: artists and labels (not pixels), and matplotlib stays optional."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd.plotting import ConvergenceDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402


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
    assert labels == ["es", "es (validation score)"]
    # the validation curve wears its model's colour, dashed
    assert display.validation_line_.get_color() == display.line_.get_color()
    assert display.validation_line_.get_linestyle() == "--"


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


def early_stopped(name, **params):
    X, y = load_iris(return_X_y=True)
    params = {"early_stopping": True, "random_state": 0, **params}
    return make_pipeline(StandardScaler(), GDClassifier(**params)).fit(X, y), name


def legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def assert_legend_hides_no_curve(ax):
    """The legend's box does not meet the axes' area, where every curve is drawn (clipped)."""
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    shared = Bbox.intersection(legend, ax.bbox)
    assert shared is None or shared.width * shared.height < 1.0
    # and no point of any curve, on ax or its twin, lies in the legend's box
    for axes in ax.figure.axes:
        for line in axes.get_lines():
            x, y = line.get_transform().transform(line.get_xydata()).T
            inside = (legend.x0 <= x) & (x <= legend.x1) & (legend.y0 <= y) & (y <= legend.y1)
            assert not inside.any(), f"{line.get_label()} is under the legend"


def test_several_models_on_one_ax_keep_a_legend_entry_each():
    X, y = make_regression(n_samples=100, n_features=3, noise=1.0, random_state=0)
    fig, ax = plt.subplots()
    for optimizer in ["sgd", "adam"]:
        model = GDRegressor(optimizer=optimizer, max_iter=20, tol=None, random_state=0)
        ConvergenceDisplay.from_estimator(model.fit(X, y), ax=ax, name=optimizer)
    assert legend_labels(ax) == ["sgd", "adam"]
    assert len(ax.get_lines()) == 2 and len(fig.axes) == 1  # no validation axes without scores
    colors = {line.get_color() for line in ax.get_lines()}
    assert len(colors) == 2
    assert_legend_hides_no_curve(ax)


def test_validation_curves_of_several_models_share_one_secondary_axis():
    fig, ax = plt.subplots()
    first = ConvergenceDisplay.from_estimator(early_stopped("a")[0], ax=ax, name="a")
    plain = ConvergenceDisplay([3.0, 2.0, 1.5], estimator_name="plain").plot(ax=ax)
    second = ConvergenceDisplay.from_estimator(
        early_stopped("b", learning_rate=0.01)[0], ax=ax, name="b"
    )
    assert second.validation_ax_ is first.validation_ax_
    assert plain.validation_ax_ is first.validation_ax_  # found, though it drew none
    assert len(fig.axes) == 2  # ax and one twin
    assert len(first.validation_ax_.get_lines()) == 2
    assert legend_labels(ax) == [
        "a",
        "plain",
        "b",
        "a (validation score)",
        "b (validation score)",
    ]
    assert_legend_hides_no_curve(ax)


def test_warm_start_with_early_stopping_plots_the_scores_on_their_epochs():
    # Warm fits with early stopping go on with the scores as with the loss curve (as
    # MLPClassifier's); after a fit without it, the scores are the last epochs'.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = GDClassifier(early_stopping=True, warm_start=True, max_iter=8, tol=None, random_state=0)
    clf.fit(X, y)
    first = list(clf.validation_scores_)
    clf.set_params(max_iter=5).fit(X, y)
    assert len(clf.loss_curve_) == 13 and clf.validation_scores_[:8] == first
    display = ConvergenceDisplay.from_estimator(clf)
    assert list(display.validation_line_.get_xdata()) == list(range(1, 14))
    clf = GDClassifier(warm_start=True, max_iter=8, tol=None, random_state=0).fit(X, y)
    clf.set_params(early_stopping=True, max_iter=5).fit(X, y)
    assert len(clf.loss_curve_) == 13 and len(clf.validation_scores_) == 5
    display = ConvergenceDisplay.from_estimator(clf)
    assert list(display.line_.get_xdata()) == list(range(1, 14))
    assert list(display.validation_line_.get_xdata()) == list(range(9, 14))
    assert np.array_equal(display.validation_line_.get_ydata(), clf.validation_scores_)


def test_more_validation_scores_than_epochs_is_a_clear_error():
    with pytest.raises(ValueError, match="one of each per epoch"):
        ConvergenceDisplay([1.0, 0.5], validation_scores=[0.1, 0.2, 0.3]).plot()


def test_a_new_figure_has_room_for_the_legend_above_the_plot():
    display = ConvergenceDisplay(
        np.linspace(2.0, 0.1, 30), validation_scores=np.linspace(0.1, 0.9, 30), estimator_name="m"
    ).plot()
    assert_legend_hides_no_curve(display.ax_)
    figure = display.figure_.bbox
    legend = display.ax_.get_legend().get_window_extent()
    assert figure.x0 <= legend.x0 and legend.x1 <= figure.x1 and legend.y1 <= figure.y1


# ------------------------------- reported by a user's trial (2026-12-03)


def test_a_negative_loss_on_a_log_scale_is_a_clear_error_before_any_figure():
    # Poisson's loss is known up to a constant in y: here it is negative
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = rng.poisson(20 * np.exp(X @ [0.5, 0.3, 0.2, 0.1]))
    reg = GDRegressor(loss="poisson", random_state=0).fit(X, y)
    assert min(reg.loss_curve_) < 0
    with pytest.raises(ValueError, match=r"log_scale=True needs a loss that is not negative"):
        ConvergenceDisplay.from_estimator(reg, log_scale=True)
    assert plt.get_fignums() == []  # nothing drawn, nothing left open
    display = ConvergenceDisplay.from_estimator(reg)  # the linear scale shows it
    assert np.array_equal(display.line_.get_ydata(), reg.loss_curve_)
    # a loss that reaches 0 (a separable hinge) still goes on a log scale
    display = ConvergenceDisplay([1.0, 0.1, 0.0]).plot(log_scale=True)
    assert display.ax_.get_yscale() == "log"


def test_an_estimator_without_a_loss_curve_is_named_not_called_unfitted():
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import SGDRegressor

    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    with pytest.raises(ValueError, match=r"fitted SGDRegressor has no loss_curve_.*skgd"):
        ConvergenceDisplay.from_estimator(SGDRegressor().fit(X, y))
    with pytest.raises(ValueError, match="SGDRegressor has no loss_curve_"):
        ConvergenceDisplay.from_estimator(make_pipeline(StandardScaler(), SGDRegressor()).fit(X, y))
    with pytest.raises(NotFittedError, match="not fitted"):
        ConvergenceDisplay.from_estimator(SGDRegressor())


def test_a_wrapper_without_a_loss_curve_is_told_which_estimator_to_pass():
    # (a user trial) A fitted TransformedTargetRegressor or OneVsRestClassifier of skgd
    # estimators was refused with a hint about searches fitted with refit=False
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection import GridSearchCV
    from sklearn.multiclass import OneVsRestClassifier

    X, y = load_iris(return_X_y=True)
    wrappers = [
        TransformedTargetRegressor(
            GDRegressor(random_state=0), func=np.log1p, inverse_func=np.expm1
        ),
        OneVsRestClassifier(GDClassifier(random_state=0)),
    ]
    for wrapper in wrappers:
        wrapper.fit(X, y)
        with pytest.raises(ValueError, match="regressor_.*estimators_") as raised:
            ConvergenceDisplay.from_estimator(wrapper)
        assert "refit" not in str(raised.value)
    search = GridSearchCV(GDClassifier(random_state=0), {"alpha": [1e-4]}, cv=2, refit=False)
    for unfit in [search, make_pipeline(StandardScaler(), search)]:  # (a review: the second)
        with pytest.raises(ValueError, match="refit=False keeps no best_estimator_"):
            ConvergenceDisplay.from_estimator(unfit.fit(X, y))
    # an estimator that wraps none is not told to pass the one it holds
    from sklearn.linear_model import Ridge

    with pytest.raises(ValueError, match=r"fitted Ridge has no loss_curve_\. Train") as raised:
        ConvergenceDisplay.from_estimator(Ridge().fit(X, y))
    assert "wrapper" not in str(raised.value) and "refit" not in str(raised.value)


def test_a_fitted_grid_search_plots_its_best_estimator():
    from sklearn.model_selection import GridSearchCV

    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GDClassifier(random_state=0))
    grid = {"gdclassifier__learning_rate": [0.05, 0.5]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    display = ConvergenceDisplay.from_estimator(search)
    best = search.best_estimator_[-1]
    assert np.array_equal(display.line_.get_ydata(), best.loss_curve_)
    assert display.ax_.get_legend().get_texts()[0].get_text() == "GDClassifier"


# ------------------------------- reported by a migration trial (2026-12-05)


def test_subplots_sharing_x_keep_their_own_validation_axes():
    # Subplots made with sharex=True share the x axis with each other's twins: the
    # second display's validation curve went to the first subplot's twin.
    _, (left, right) = plt.subplots(1, 2, sharex=True)
    first = ConvergenceDisplay([1.0, 0.5], validation_scores=[0.1, 0.2], estimator_name="A")
    second = ConvergenceDisplay([2.0, 1.0], validation_scores=[0.3, 0.4], estimator_name="B")
    first.plot(ax=left)
    second.plot(ax=right)
    assert first.validation_ax_ is not second.validation_ax_
    assert [line.get_label() for line in second.validation_ax_.get_lines()] == [
        "B (validation score)"
    ]


def test_a_label_names_both_curves_and_checks_come_before_drawing():
    display = ConvergenceDisplay([3.0, 2.0], validation_scores=[0.5, 0.6]).plot(label="run")
    texts = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert texts == ["run", "run (validation score)"]
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="one of each per epoch"):
        ConvergenceDisplay([1.0, 0.5], validation_scores=[0.1, 0.2, 0.3]).plot(ax=ax)
    assert ax.get_lines() == [] and len(ax.figure.axes) == 1  # nothing drawn on it


def test_a_pipeline_ending_in_a_search_plots_the_searchs_best_estimator():
    from sklearn.model_selection import GridSearchCV

    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(GDClassifier(random_state=0), {"learning_rate": [0.1, 0.5]}, cv=2)
    pipe = make_pipeline(StandardScaler(), search).fit(X, y)
    display = ConvergenceDisplay.from_estimator(pipe)
    best = pipe[-1].best_estimator_
    assert np.array_equal(display.line_.get_ydata(), best.loss_curve_)


def test_a_streams_kept_epochs_are_numbered_from_where_they_start(capsys):
    # (a user trial) loss_curve_ keeps a stream's last 1000 epochs: after 1,200 calls the
    # plot numbered them 1 to 1000, and the verbose table printed epoch 1001 at every
    # call past the 1000th
    X, y = make_regression(n_samples=100, n_features=3, noise=1, random_state=0)
    model = GDRegressor(random_state=0)
    for call in range(1200):
        rows = slice(call % 10 * 10, call % 10 * 10 + 10)
        model.set_params(verbose=int(call >= 1198)).partial_fit(X[rows], y[rows])
    assert model.n_iter_ == 1200 and len(model.loss_curve_) == 1000
    epochs = ConvergenceDisplay.from_estimator(model).line_.get_xdata()
    assert (epochs[0], epochs[-1]) == (201, 1200)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [row[0] for row in rows if row and row[0].isdigit()] == ["1199", "1200"]
