"""scikit-learn's callbacks (sklearn.callback, scikit-learn >= 1.9): progress, scores per epoch."""

import importlib.util
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor

callback = pytest.importorskip("sklearn.callback", reason="sklearn.callback needs scikit-learn 1.9")


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=100, n_features=4, noise=5.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


class Raising:
    """A callback that raises at the end of an epoch, or of the whole call (it pickles)."""

    def __init__(self, at="epoch"):
        self.at = at

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if (context.task_name == "epoch") == (self.at == "epoch"):
            raise RuntimeError("the callback failed")


def epoch_rows(monitor):
    return [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]


def test_scoring_monitor_records_a_score_each_epoch(regression):
    X, y = regression
    monitor = callback.ScoringMonitor(scoring="r2")
    model = GDRegressor(random_state=0).set_callbacks(monitor).fit(X, y)
    rows = epoch_rows(monitor)
    assert len(rows) == model.n_iter_ > 3
    scores = [row["r2"] for row in rows]
    # each score is that of the model at the end of its epoch: it learns
    assert scores[0] < scores[-1]
    assert scores[-1] == pytest.approx(model.score(X, y), abs=0.05)


def test_a_scorer_sees_y_in_the_models_shape_for_a_users_loss_on_a_column(regression):
    # A user's elementwise loss fits y of one column as 1-D y, its model a column's: a
    # scorer of equal shapes got 1-D y beside (n, 1) predictions (a review: 77 for 43)
    from _user_losses import Pinball

    X, y = regression
    shapes = []

    def error(y_true, y_pred):
        shapes.append((np.shape(y_true), np.shape(y_pred)))
        return -np.mean(np.abs(y_true - y_pred))

    monitor = callback.ScoringMonitor(scoring=make_scorer(error))
    model = GDRegressor(loss=Pinball(0.5), random_state=0).set_callbacks(monitor)
    model.fit(X, y[:, None])
    assert set(shapes) == {((len(X), 1), (len(X), 1))}
    assert epoch_rows(monitor)[-1]["score"] == pytest.approx(error(y[:, None], model.predict(X)))


def test_scoring_monitor_in_partial_fit_scores_the_call(iris):
    X, y = iris
    monitor = callback.ScoringMonitor(scoring="accuracy")
    model = GDClassifier(random_state=0).set_callbacks(monitor)
    for _ in range(3):
        model.partial_fit(X, y, classes=[0, 1, 2])
    runs = monitor.get_logs(select="all")
    assert len(runs) == 3
    last = [row for row in runs[-1].data if row["task_name"] == "epoch"]
    assert len(last) == 1 and last[0]["accuracy"] == pytest.approx(model.score(X, y))


def test_progress_bar_shows_each_epoch(regression, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich")
    X, y = regression
    model = GDRegressor(random_state=0).set_callbacks(callback.ProgressBar())
    model.fit(X, y)
    shown = capsys.readouterr().out
    assert "GDRegressor - fit" in shown and "100%" in shown


def test_verbose_keeps_its_table(regression, capsys):
    X, y = regression
    monitor = callback.ScoringMonitor(scoring="r2")
    model = GDRegressor(random_state=0, verbose=1).set_callbacks(monitor).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["epoch", "train", "loss"]
    assert len(lines) == model.n_iter_ + 1 == len(epoch_rows(monitor)) + 1


def test_callbacks_in_a_pipeline_and_a_grid_search(iris, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich")
    X, y = iris
    pipe = make_pipeline(StandardScaler(), GDClassifier(random_state=0))
    pipe.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert "Pipeline - fit" in capsys.readouterr().out
    # the ProgressBar reaches the estimator's epochs through the pipeline
    assert not hasattr(pipe[-1], "_skl_callbacks")  # and is taken back after

    monitor = callback.ScoringMonitor(scoring="accuracy")
    search = GridSearchCV(
        GDClassifier(random_state=0).set_callbacks(monitor), {"alpha": [1e-4, 1e-2]}, cv=2
    )
    search.set_callbacks(callback.ProgressBar()).fit(X, y)
    shown = capsys.readouterr().out
    assert "GridSearchCV - fit" in shown and "GDClassifier - fit" in shown
    # 2 candidates x 2 folds, and the refit, each scored at every epoch
    fits = {row["parent_task_id_path"] for row in epoch_rows(monitor)}
    assert len(fits) == 5


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
def test_a_raising_callback_leaves_a_fresh_fit_unfitted(regression, iris, Estimator):
    X, y = regression if Estimator is GDRegressor else iris
    model = Estimator(random_state=0).set_callbacks(Raising())
    with pytest.raises(RuntimeError, match="the callback failed"):
        model.fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert not hasattr(model, "n_features_in_")


@pytest.mark.parametrize("at", ["epoch", "end"])
def test_a_raising_callback_leaves_a_partial_fit_model_exactly_as_it_was(iris, at):
    X, y = iris
    model = GDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    model.set_callbacks(Raising(at))
    before = pickle.dumps(model)
    with pytest.raises(RuntimeError, match="the callback failed"):
        model.partial_fit(X, y)
    assert pickle.dumps(model) == before


def test_without_callbacks_the_loop_is_not_called_back(regression, monkeypatch):
    from skgd import _base

    seen = []
    real_train = _base.train

    def spy(*args, **kwargs):
        seen.append(kwargs["on_epoch"])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(_base, "train", spy)
    X, y = regression
    GDRegressor(max_iter=2, tol=None).fit(X, y)
    GDRegressor(max_iter=2, tol=None).set_callbacks(callback.ScoringMonitor(scoring="r2")).fit(X, y)
    assert seen[0] is None and callable(seen[1])


def test_the_tasks_are_opened_for_callbacks_or_a_meta_estimator_only(iris, monkeypatch):
    from skgd import _base, _callbacks

    opened = []

    class Spy(_callbacks.EpochTasks):
        def __init__(self, estimator, *args):
            opened.append(estimator)
            super().__init__(estimator, *args)

    monkeypatch.setattr(_base, "EpochTasks", Spy)
    X, y = iris
    alone = GDClassifier(max_iter=2, tol=None).fit(X, y)
    alone.partial_fit(X[:1], y[:1])  # no one listens: no tasks, on no call
    assert opened == []
    # A meta-estimator links the call's task tree to its own, callbacks or not:
    # this ProgressBar reaches only the pipeline's task, yet the tree is linked.
    pipe = make_pipeline(StandardScaler(), GDClassifier(max_iter=2, tol=None))
    pipe.set_callbacks(callback.ProgressBar(max_propagation_depth=0)).fit(X, y)
    assert not hasattr(pipe[-1], "_skl_callbacks") and opened == [pipe[-1]]


def test_without_sklearn_callback_the_estimators_train_as_before(regression, monkeypatch):
    from skgd import _base, _callbacks

    # scikit-learn < 1.9 has no CallbackSupportMixin: skgd's module, run there
    monkeypatch.delattr(callback, "CallbackSupportMixin")
    spec = importlib.util.spec_from_file_location("skgd_callbacks_before_1_9", _callbacks.__file__)
    before_1_9 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before_1_9)
    assert before_1_9.CALLBACKS_SUPPORTED is False
    assert not hasattr(before_1_9.CallbackSupportMixin, "set_callbacks")
    # and the estimators, told so, train without any callback context
    monkeypatch.setattr(_base, "CALLBACKS_SUPPORTED", before_1_9.CALLBACKS_SUPPORTED)
    monkeypatch.setattr(_base, "EpochTasks", None)  # calling it would raise
    X, y = regression
    assert GDRegressor(random_state=0).fit(X, y).score(X, y) > 0.9
