"""Pictures of training, following scikit-learn's Display convention.

matplotlib is an optional extra (``pip install "skgd[plot]"``); it is
imported only when a plot is drawn, never by ``import skgd``.
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["ConvergenceDisplay"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            'Plotting needs matplotlib: install it with pip install "skgd[plot]".'
        ) from error
    return plt


class ConvergenceDisplay:
    """The training loss of each epoch, and the validation scores if any.

    Build it with :meth:`from_estimator` from a fitted estimator (or a
    pipeline ending with one), or directly from a loss curve, then call
    :meth:`plot`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        The training loss of each epoch (an estimator's ``loss_curve_``).
    validation_scores : array-like of shape (n_epochs,), default=None
        The validation score of each epoch (``validation_scores_`` after
        ``early_stopping``), drawn on a second y axis.
    estimator_name : str, default=None
        The name in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.
    validation_line_ : matplotlib Line2D or None
        The validation scores, if given.
    ax_ : matplotlib Axes
        The axes of the training loss.
    validation_ax_ : matplotlib Axes or None
        The twin axes of the validation scores.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    ConvergenceDisplay.from_estimator : Build the display from a fitted estimator.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skgd import GDClassifier
    >>> from skgd.plotting import ConvergenceDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GDClassifier(max_iter=20, tol=None, random_state=0).fit(X, y)
    >>> display = ConvergenceDisplay.from_estimator(clf, log_scale=True)
    >>> display.ax_.get_yscale()
    'log'
    >>> len(display.line_.get_xdata())
    20
    """

    def __init__(self, loss_curve, *, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, log_scale=False, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.
        log_scale : bool, default=False
            Whether the loss axis is logarithmic (the loss must be positive).
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the loss curve.

        Returns
        -------
        display : ConvergenceDisplay
            This display, with its artists as attributes.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        loss_curve = np.asarray(self.loss_curve, dtype=float)
        epochs = np.arange(1, len(loss_curve) + 1)
        label = "training loss" if self.estimator_name is None else f"{self.estimator_name}"
        (self.line_,) = ax.plot(epochs, loss_curve, label=label, **kwargs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        if log_scale:
            ax.set_yscale("log")
        self.validation_line_ = self.validation_ax_ = None
        if self.validation_scores is not None:
            self.validation_ax_ = ax.twinx()
            (self.validation_line_,) = self.validation_ax_.plot(
                epochs, self.validation_scores, color="tab:orange", label="validation score"
            )
            self.validation_ax_.set_ylabel("validation score")
        handles = [self.line_] + ([self.validation_line_] if self.validation_line_ else [])
        ax.legend(handles=handles, loc="best")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False, name=None, **kwargs):
        """Plot the convergence of a fitted skgd estimator.

        Parameters
        ----------
        estimator : GDRegressor, GDClassifier or Pipeline
            A fitted estimator, or a fitted pipeline whose last step is one.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None.
        log_scale : bool, default=False
            Whether the loss axis is logarithmic.
        name : str, default=None
            The name in the legend; the estimator's class name if None.
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the loss curve.

        Returns
        -------
        display : ConvergenceDisplay
            The display, drawn.
        """
        _pyplot()  # fail early, with the install hint, before any work
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            estimator.loss_curve_,
            validation_scores=getattr(estimator, "validation_scores_", None),
            estimator_name=name or type(estimator).__name__,
        )
        return display.plot(ax=ax, log_scale=log_scale, **kwargs)
