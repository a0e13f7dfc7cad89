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


# The label that marks the twin axes of the validation scores, so that the
# displays drawn on one axes find and share it.
_VALIDATION_AXES = "skgd validation scores"


def _validation_axes(ax, *, create):
    """The twin axes of ``ax`` that holds validation scores: found, made, or None.

    Its twin shares its x axis and its place: subplots made with
    ``sharex=True`` share the x axis too, and the second display's scores
    were drawn on the first subplot's twin.
    """
    place = ax.get_position(original=True).bounds
    for other in ax.figure.axes:
        if (
            other is not ax
            and other.get_label() == _VALIDATION_AXES
            and ax.get_shared_x_axes().joined(ax, other)
            and other.get_position(original=True).bounds == place
        ):
            return other
    if not create:
        return None
    twin = ax.twinx()
    twin.set_label(_VALIDATION_AXES)
    return twin


def _legend(ax, validation_ax):
    """One legend for every curve on ``ax`` and its validation axes, above the plot."""
    handles, labels = ax.get_legend_handles_labels()
    if validation_ax is not None:
        more_handles, more_labels = validation_ax.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    # Above the axes, out of the area the curves are drawn in (clipped to):
    # "best" inside would only avoid the curves of ax, not of its twin.
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.02, 1.0, 0.1),
        mode="expand",
        ncols=2 if len(handles) > 1 else 1,
        borderaxespad=0.0,
        frameon=False,
    )


class ConvergenceDisplay:
    """The training loss of each epoch, and the validation scores if any.

    Build it with :meth:`from_estimator` from a fitted estimator (or a
    pipeline ending with one), or directly from a loss curve, then call
    :meth:`plot`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        The training loss of each epoch (an estimator's ``loss_curve_``).
        After ``partial_fit`` calls, each is a call's (one epoch of its
        chunk): the curve of a stream then follows its chunks' rows, and a
        stream sorted by date or by target swings with them however well it
        learns (judge it on held-out rows).
    validation_scores : array-like of shape (n_validated,), default=None
        The validation score of each epoch (``validation_scores_`` after
        ``early_stopping``), drawn on a second y axis. If shorter than
        ``loss_curve`` (a warm start's ``loss_curve_`` goes on from the
        earlier fits), they are the scores of its last epochs.
    estimator_name : str, default=None
        The name in the legend.
    first_epoch : int, default=1
        The number of the curve's first epoch: a stream's ``loss_curve_``
        keeps its last epochs (1000, or ``max_iter`` if more), and
        :meth:`from_estimator` numbers them from where they start.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.
    validation_line_ : matplotlib Line2D or None
        The validation scores, if given.
    ax_ : matplotlib Axes
        The axes of the training loss.
    validation_ax_ : matplotlib Axes or None
        The twin axes of the validation scores, shared by the displays drawn
        on the same ``ax``.
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

    def __init__(self, loss_curve, *, validation_scores=None, estimator_name=None, first_epoch=1):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.first_epoch = first_epoch

    def plot(self, ax=None, *, log_scale=False, **kwargs):
        """Draw the curves.

        Displays compose: several drawn on one ``ax`` keep a legend entry
        each, and their validation scores share one second y axis. The
        legend sits above the axes, where it hides no curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None. The legend goes above the
            axes and the validation score's label right of them: on axes of
            your own, make the figure with ``layout="constrained"`` (as
            ``plt.subplots(layout="constrained")``), or a default figure's
            margins cut them (a user trial: two displays on the axes of a plain
            ``plt.subplots()``, the label past the figure's right edge).
        log_scale : bool, default=False
            Whether the loss axis is logarithmic. A ``ValueError`` if the loss
            curve has a negative value: a loss known up to a constant, as
            :class:`~skgd.losses.Poisson`'s, can be negative, and its
            logarithm means nothing. (Drawing it above its minimum instead
            would put the best epoch at 0, off a log axis, and draw a curve
            that changes with the epochs run; ``log_scale=False`` shows it.)
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the loss curve; the
            validation curve takes its colour, dashed, and a ``label`` given
            here names both, as ``estimator_name`` does.

        Returns
        -------
        display : ConvergenceDisplay
            This display, with its artists as attributes.
        """
        loss_curve = np.asarray(self.loss_curve, dtype=float)
        # (the checks come before any figure is made or drawn on)
        if log_scale and np.any(loss_curve < 0):
            raise ValueError(
                f"log_scale=True needs a loss that is not negative, but the loss curve goes "
                f"as low as {loss_curve.min():.6g}: a loss known up to a constant (Poisson's, "
                "e^raw - y * raw) can be negative, and its logarithm means nothing. "
                "Plot it with log_scale=False."
            )
        scores = None
        if self.validation_scores is not None:
            scores = np.asarray(self.validation_scores, dtype=float)
            if len(scores) > len(loss_curve):
                raise ValueError(
                    f"validation_scores has {len(scores)} values but loss_curve only "
                    f"{len(loss_curve)}; there is one of each per epoch."
                )
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(layout="constrained")  # makes room for the legend
        epochs = np.arange(self.first_epoch, self.first_epoch + len(loss_curve))
        name = self.estimator_name
        # (a label passed on names both curves, as a name does)
        label = kwargs.pop("label", "training loss" if name is None else f"{name}")
        named = name is not None or label != "training loss"
        (self.line_,) = ax.plot(epochs, loss_curve, label=label, **kwargs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        if log_scale:
            ax.set_yscale("log")
        self.validation_line_ = None
        self.validation_ax_ = _validation_axes(ax, create=scores is not None)
        if scores is not None:
            # (the last epochs': a warm fit with early stopping after one without it has
            # the scores of its own epochs alone)
            (self.validation_line_,) = self.validation_ax_.plot(
                epochs[len(epochs) - len(scores) :],
                scores,
                color=self.line_.get_color(),
                linestyle="--",
                label=f"{label} (validation score)" if named else "validation score",
            )
            self.validation_ax_.set_ylabel("validation score")
        _legend(ax, self.validation_ax_)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False, name=None, **kwargs):
        """Plot the convergence of a fitted skgd estimator.

        Parameters
        ----------
        estimator : GDRegressor, GDClassifier, Pipeline or a fitted search
            A fitted estimator, a fitted pipeline whose last step is one, or a
            fitted search (``GridSearchCV``) whose ``best_estimator_`` is
            either; any fitted estimator with a ``loss_curve_``
            (scikit-learn's MLPs trained by ``"sgd"`` or ``"adam"``) will do.
            One that keeps none (scikit-learn's ``SGDRegressor``) is a
            ``ValueError``.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if None (see :meth:`plot` for axes of
            your own).
        log_scale : bool, default=False
            Whether the loss axis is logarithmic (see :meth:`plot`).
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
        # a search refitted on the best parameters: the curve of that refit
        # (a search without refit keeps no estimator, and no loss_curve_ below)
        looked_at = [estimator]  # (the objects unwrapped, for the error below)
        estimator = getattr(estimator, "best_estimator_", estimator)
        if isinstance(estimator, Pipeline):
            looked_at.append(estimator[-1])
            estimator = getattr(estimator[-1], "best_estimator_", estimator[-1])  # (a search)
        check_is_fitted(estimator)
        if not hasattr(estimator, "loss_curve_"):  # fitted: it keeps no loss curve
            why = ""
            if any(
                hasattr(o, "cv_results_") and not hasattr(o, "best_estimator_") for o in looked_at
            ):
                why = " (a search fitted with refit=False keeps no best_estimator_ to plot)"
            elif any(hasattr(v, "fit") for v in _own_params(estimator)):
                # (a meta-estimator: which of its estimators is meant is the user's)
                why = (
                    " (only a Pipeline or a search is looked into: from another wrapper, pass "
                    "the fitted skgd estimator it holds, e.g. a TransformedTargetRegressor's "
                    "regressor_ or a OneVsRestClassifier's estimators_[0])"
                )
            raise ValueError(
                "ConvergenceDisplay plots the loss_curve_ of a skgd estimator "
                "(GDRegressor, GDClassifier) or of any estimator that keeps one; this "
                f"fitted {type(estimator).__name__} has no loss_curve_{why}. Train a skgd "
                "estimator, or pass a loss curve of your own to ConvergenceDisplay(...).plot()."
            )
        display = cls(
            estimator.loss_curve_,
            validation_scores=getattr(estimator, "validation_scores_", None),
            estimator_name=name or type(estimator).__name__,
            first_epoch=estimator.__dict__.get("_curve_start", 0) + 1,
        )
        return display.plot(ax=ax, log_scale=log_scale, **kwargs)


def _own_params(estimator):
    """The values of ``estimator``'s own parameters (none if it has no ``get_params``)."""
    get_params = getattr(estimator, "get_params", None)
    return get_params(deep=False).values() if callable(get_params) else ()
