"""scikit-learn's callbacks (:mod:`sklearn.callback`, scikit-learn >= 1.9) on the training loop.

``fit`` and ``partial_fit`` are one task each, whose subtasks are the
epochs, as ``LogisticRegression``'s are its L-BFGS iterations: a
``ProgressBar`` advances once an epoch, a ``ScoringMonitor`` scores the
model as it is at the end of each epoch (``fitted_estimator``). Inside a
``Pipeline`` or a ``GridSearchCV``, scikit-learn links these tasks to the
meta-estimator's own.

With an older scikit-learn, :class:`CallbackSupportMixin` is an empty class:
the estimators have no ``set_callbacks`` and train as before.
"""

import functools

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Nothing before scikit-learn 1.9, which has no ``sklearn.callback``."""


CALLBACKS_SUPPORTED = hasattr(CallbackSupportMixin, "set_callbacks")


class EpochTasks:
    """The callback tasks of one ``fit`` or ``partial_fit``: the call, then each epoch.

    As ``LogisticRegression``'s bridge to L-BFGS: the first epoch's task
    begins before training, each epoch's end begins the next one's, and the
    one left over when training stops ends empty, so that every begin has
    its end.

    Parameters
    ----------
    estimator : GDRegressor or GDClassifier
        The estimator being trained.
    X : array-like
        The training data (without the held-out part of early stopping).
    y : callable
        Returns the targets as the estimator's ``score`` takes them
        (labels for a classifier), computed once, if a callback asks.
    sample_weight : ndarray or None
        The sample weights the user passed, for the callbacks' metadata.
    max_epochs : int
        The most epochs the call can run.
    """

    def __init__(self, estimator, X, y, sample_weight, max_epochs):
        self.estimator = estimator
        self.X, self.y = X, functools.cache(y)
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        # one task an epoch, and the one begun after the last epoch
        self.context = estimator._init_callback_context(max_subtasks=max_epochs + 1)
        self.context.call_on_fit_task_begin(**self._data())
        self.epoch = None

    @staticmethod
    def wanted(estimator):
        """Whether a call of ``estimator`` has tasks to report.

        It has when callbacks are set on it, or when a meta-estimator runs it
        (scikit-learn then links the call's task tree to its own, callbacks or
        not). Otherwise the tasks would report to no one, at a cost of a
        context on every call: a stream of one-row ``partial_fit`` calls
        would feel it.
        """
        return bool(getattr(estimator, "_skl_callbacks", None)) or hasattr(
            estimator, "_parent_callback_ctx"
        )

    def _data(self):
        return {"estimator": self.estimator, "X": self.X, "y": self.y, "metadata": self.metadata}

    @property
    def any(self):
        """Whether any callback listens (else the loop need not call back)."""
        return bool(getattr(self.estimator, "_skl_callbacks", None))

    def begin_training(self, attributes):
        """Begin the first epoch's task, at the model ``attributes()`` gives."""
        self.epoch = self.context.subcontext(task_name="epoch")
        self.epoch.call_on_fit_task_begin(**self._data(), reconstruction_attributes=attributes)

    def end_epoch(self, attributes):
        """End the epoch's task at the model ``attributes()`` gives; begin the next."""
        self.epoch.call_on_fit_task_end(**self._data(), reconstruction_attributes=attributes)
        self.begin_training(attributes)

    def end(self):
        """End the task left over, empty, and the call's task, at the fitted estimator."""
        if self.epoch is not None:
            self.epoch.call_on_fit_task_end(estimator=self.estimator)
        self.context.call_on_fit_task_end(**self._data(), reconstruction_attributes={})
