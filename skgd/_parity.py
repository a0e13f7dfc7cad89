"""What users of scikit-learn's SGD estimators expect, outside the training loop.

The estimators inherit :class:`SGDParityMixin` before ``BaseGD``. It holds:

- ``sparsify()`` / ``densify()``, as scikit-learn's linear models have them;
- ``l1_ratio=None`` where the penalty ignores it (scikit-learn 1.7), and the
  error when ``penalty="elasticnet"`` needs it;
- nested parameters of a loss or optimizer given by name
  (``set_params(loss__delta=0.5)`` while ``loss="huber"``), as grid searches
  set them;
- errors in the words of a user coming from SGD (``learning_rate="optimal"``,
  ``eta0=0.01``), and methods that are unavailable saying why
  (:func:`available_with_reason`).

The checks that belong with the other parameter checks are written as plain
functions (:func:`check_l1_ratio`), so that the training engine can call
them where it validates its parameters.
"""

import functools

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils._available_if import _AvailableIfDescriptor
from sklearn.utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted

from .optim import OPTIMIZERS

# scikit-learn's SGD schedules, which SGD users pass as learning_rate.
_SGD_SCHEDULES = {"constant", "optimal", "invscaling", "adaptive", "pa1", "pa2"}

_LEARNING_RATE_HINT = (
    "skgd's learning_rate is the step size γ, a float in (0, 1); with standardize=True "
    "(the default) it is a fraction of the stable step 1/L that skgd measures on the data, "
    "not an absolute step as SGD's eta0 is. How γ changes during training is skgd's "
    "schedule parameter ('constant', 'invscaling' or 'adaptive'), which SGD calls "
    "learning_rate."
)


def _times_shorter(value):
    """How a γ compares with the default 0.5, in words (a value that is no γ: as given)."""
    try:
        ratio = 0.5 / float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        ratio = None
    if ratio is None or not ratio > 0:
        return "of γ=" + repr(value)
    if ratio == 1:
        return "of the default's length"
    return f"{ratio:.3g} times shorter" if ratio > 1 else f"{1 / ratio:.3g} times longer"


def _sgd_hint(name, value):
    """A sentence for a parameter of scikit-learn's SGD or MLP that skgd names otherwise."""
    if name in ("eta0", "learning_rate_init"):
        return (
            f"{_LEARNING_RATE_HINT} Drop {name}: the default learning_rate=0.5 suits most "
            f"data, and learning_rate={value!r} in place of {name} would be a step "
            f"{_times_shorter(value)}."
        )
    if name == "epsilon":
        return (
            "In skgd, SGD's epsilon belongs to the loss object: loss=Huber(delta=...) or "
            "loss=EpsilonInsensitive(epsilon=...) from skgd.losses (in a grid search, "
            "loss__delta or loss__epsilon); MLP's (Adam's) to the optimizer: "
            "optimizer=Adam(epsilon=...) from skgd.optim (optimizer__epsilon)."
        )
    if name == "solver":
        return (
            "skgd's optimizer takes MLP's solver names 'sgd' and 'adam' (and 'momentum', "
            "'nesterov', 'adagrad', 'rmsprop', or an skgd.optim object); 'lbfgs' has none: "
            "for an exact solution use Ridge or LogisticRegression."
        )
    if name in ("momentum", "nesterovs_momentum"):
        return (
            "In skgd, momentum belongs to the optimizer: optimizer=Momentum(momentum=...) "
            "or Nesterov(momentum=...) from skgd.optim (optimizer__momentum in a grid "
            "search); optimizer='nesterov' (the default optimizer='auto' on dense X) is "
            "MLP's solver='sgd' with its default Nesterov momentum of 0.9."
        )
    if name in ("beta_1", "beta_2"):
        return (
            f"In skgd, {name} belongs to the optimizer: optimizer=Adam({name}=...) from "
            f"skgd.optim (optimizer__{name} in a grid search)."
        )
    if name in ("hidden_layer_sizes", "activation"):
        return (
            "skgd's models are linear, an MLP with hidden_layer_sizes=(): drop "
            f"{name}, or use scikit-learn's MLP for hidden layers."
        )
    if name == "n_jobs":
        return (
            "skgd trains on one core (its batch steps are compiled, and SGDClassifier's "
            "n_jobs only splits the one-versus-all problems of several classes); to use "
            "more cores, give n_jobs to the search: GridSearchCV(..., n_jobs=-1) or "
            "cross_validate(..., n_jobs=-1)."
        )
    return None


# Loss names scikit-learn's SGD took once (before 1.2 and 1.3) and spells as skgd now.
_OLD_LOSS_NAMES = {"log": "log_loss", "squared_loss": "squared_error"}


class _AvailableWithReason(_AvailableIfDescriptor):
    """scikit-learn's ``available_if``, whose AttributeError keeps the check's reason."""

    def _check(self, obj, owner):
        try:
            self.check(obj)
        except AttributeError as error:
            # chained as available_if chains it, for code that reads __cause__
            raise AttributeError(
                f"This {owner.__name__!r} has no attribute {self.attribute_name!r}: {error}"
            ) from error


def available_with_reason(check):
    """Like :func:`sklearn.utils.metaestimators.available_if`, with the reason in the error.

    ``check(estimator)`` raises AttributeError saying why the method is not
    available and what to do; ``available_if`` would replace that message by
    a bare "has no attribute". ``hasattr`` is False then, as with
    ``available_if``, so meta-estimators see the method as absent.
    """
    return lambda method: _AvailableWithReason(method, check, attribute_name=method.__name__)


def check_l1_ratio(penalty, l1_ratio):
    """Raise ``ValueError`` if ``penalty="elasticnet"`` is given ``l1_ratio=None``.

    ``l1_ratio=None`` is valid for every other penalty, which ignores it.
    """
    if penalty == "elasticnet" and l1_ratio is None:
        raise ValueError(
            "penalty='elasticnet' mixes the L1 and L2 penalties by l1_ratio, which is "
            "None; pass l1_ratio=<float in [0, 1]> (0.15 by default), or penalty='l1', "
            "'l2' or None."
        )


def explain_sgd_arguments(init):
    """Decorate ``__init__`` so that SGD's parameter names get a hint in the TypeError.

    Python's own ``TypeError`` for an unexpected keyword argument is raised
    as it is, with a sentence added for the names scikit-learn's SGD has
    and skgd spells differently (``eta0``). Nothing changes on a valid call:
    the signature (``__wrapped__``) is the real one, which ``get_params``,
    ``clone`` and the docs read.
    """

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except TypeError as error:
            hints = [_sgd_hint(name, value) for name, value in kwargs.items()]
            hints = [hint for hint in hints if hint]
            if not hints:
                raise
            raise TypeError(f"{error}. {' '.join(hints)}") from None

    return wrapper


class SGDParityMixin(SparseCoefMixin):
    """``sparsify``/``densify``, nested parameters of named losses, SGD users' errors."""

    # ------------------------------------------------------- sparse coef_

    def sparsify(self):
        """Convert ``coef_`` to a scipy.sparse CSR matrix.

        For a model with mostly zero coefficients (an ``"l1"`` or
        ``"elasticnet"`` penalty), the sparse form saves memory and makes
        predictions cheaper. Predictions are unchanged (up to rounding in
        the last digits). ``coef_`` becomes 2-D, ``(n_outputs, n_features)``,
        even where it was 1-D; :meth:`densify` gives back the original
        shape. ``fit`` and ``partial_fit`` densify ``coef_`` first, and leave
        it dense. ``intercept_`` is not converted.

        Returns
        -------
        self : estimator
            The estimator, with a sparse ``coef_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_regression
        >>> from skgd import GDRegressor
        >>> X, y = make_regression(n_samples=100, n_features=20, n_informative=2,
        ...                        random_state=0)
        >>> reg = GDRegressor(penalty="l1", alpha=1.0, random_state=0).fit(X, y)
        >>> dense_pred = reg.predict(X)
        >>> reg.sparsify().coef_.nnz < 20
        True
        >>> np.allclose(reg.predict(X), dense_pred)
        True
        """
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before sparsifying.")
        if not sparse.issparse(self.coef_):
            # A 1-D CSR coef_ is not supported by every scipy (nor by a
            # csr_matrix); 2-D is, and densify restores the shape.
            self._dense_coef_shape = self.coef_.shape
            self.coef_ = self.coef_.reshape(len(self.intercept_), -1)
        return super().sparsify()

    def densify(self):
        """Convert a sparse ``coef_`` back to a numpy array of its original shape.

        A no-op if ``coef_`` is dense, which it is unless :meth:`sparsify`
        was called.

        Returns
        -------
        self : estimator
            The estimator, with a dense ``coef_``.

        Examples
        --------
        >>> from skgd import GDRegressor
        >>> reg = GDRegressor(random_state=0).fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
        >>> reg.sparsify().densify().coef_.shape
        (1,)
        """
        super().densify()
        shape = self.__dict__.pop("_dense_coef_shape", np.shape(self.coef_))
        self.coef_ = self.coef_.reshape(shape)
        return self

    @property
    def _coef_ndim(self):
        """The number of dimensions of ``coef_`` in its dense form."""
        return len(getattr(self, "_dense_coef_shape", np.shape(self.coef_)))

    def _prepare_to_train(self):
        """What ``fit`` and ``partial_fit`` do before training: checks, a dense ``coef_``.

        The training loop reads ``coef_`` as an array. A call that raises
        later leaves the model as it was (``keep_state_on_error``), sparse
        ``coef_`` included.
        """
        check_l1_ratio(self.penalty, self.l1_ratio)
        if sparse.issparse(getattr(self, "coef_", None)):
            self.densify()

    # ------------------------------------------------------- parameters

    def set_params(self, **params):
        """Set the parameters of this estimator, as scikit-learn's ``set_params``.

        Besides the usual ``<parameter>__<sub-parameter>`` names, a loss or
        an optimizer given by name takes its hyper-parameters too: with
        ``loss="huber"``, ``set_params(loss__delta=0.5)`` replaces the name
        by ``Huber(delta=0.5)``, the object the name stands for. This is
        what a grid search over ``gdregressor__loss__delta`` does.

        On a fitted estimator the values given are validated here, as ``fit``
        validates them: ``partial_fit`` skips scikit-learn's validation once
        the model is fitted. An invalid value raises before any is set (a
        loss's or an optimizer's nested parameters, such as
        ``optimizer__beta_1``, are validated by the next ``partial_fit``,
        which raises before it changes the model).

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator
            The estimator.

        Examples
        --------
        >>> from skgd import GDRegressor
        >>> GDRegressor(loss="huber").set_params(loss__delta=0.5).loss
        Huber(delta=0.5)
        """
        for name, registry in (("loss", self._losses), ("optimizer", OPTIMIZERS)):
            nested = sorted(key for key in params if key.startswith(f"{name}__"))
            value = params.get(name, getattr(self, name, None))
            if not nested or not isinstance(value, str):
                continue
            if name == "optimizer" and value == "auto":
                # (the default: its hyper-parameters, momentum's, are Nesterov's, which
                # "auto" trains dense X with; plain SGD, its other choice, has none)
                value = "nesterov"
            if value not in registry:
                names = sorted(registry) + (["auto"] if name == "optimizer" else [])
                raise ValueError(
                    f"Cannot set {nested} on {name}={value!r}, which is not one of "
                    f"{type(self).__name__}'s names {names}."
                )
            params[name] = registry[value]()  # set_params sets it before its nested ones
        for name, value in params.items():
            hint = _sgd_hint(name, value)
            if hint and name not in self.get_params(deep=False):
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. {hint}"
                )
        if hasattr(self, "coef_") and not get_config()["skip_parameter_validation"]:
            # Fitted: partial_fit skips scikit-learn's validation (its _fit_context
            # does, for its cost on every call of a stream), and set_params(
            # learning_rate=5.0) between two calls trained at 5, -1.0 climbed the loss,
            # and batch_size=0 raised a ZeroDivisionError (a user trial). So the values
            # set here are validated here, before any is set (a loss's or an
            # optimizer's nested ones by the next call, before it changes anything).
            own = {name: value for name, value in params.items() if "__" not in name}
            self._validate_values(own)
        return super().set_params(**params)

    def _validate_params(self):
        """scikit-learn's parameter validation, in SGD users' words where they differ."""
        self._in_sgd_words(self.learning_rate, self.loss)
        super()._validate_params()

    def _validate_values(self, params):
        """:meth:`_validate_params` of these parameters' values alone, by their names."""
        self._in_sgd_words(params.get("learning_rate"), params.get("loss"))
        constraints = self._parameter_constraints
        validate_parameter_constraints(
            {name: constraints[name] for name in params if name in constraints},
            params,
            caller_name=type(self).__name__,
        )

    def _in_sgd_words(self, rate, loss):
        """An SGD estimator's ``learning_rate`` or ``loss`` name: an error saying what to pass."""
        if isinstance(rate, str) and rate in _SGD_SCHEDULES:
            if rate in {"constant", "invscaling", "adaptive"}:
                fix = f"Pass schedule={rate!r}, and γ as learning_rate."
            else:
                fix = f"skgd has no {rate!r} schedule: try schedule='invscaling' or 'adaptive'."
            raise InvalidParameterError(
                f"The 'learning_rate' parameter of {type(self).__name__} must be a float "
                f"in the range (0.0, 1.0). Got {rate!r} instead. {_LEARNING_RATE_HINT} {fix}"
            )
        if isinstance(loss, str) and loss in _OLD_LOSS_NAMES:
            raise InvalidParameterError(
                f"The 'loss' parameter of {type(self).__name__} got {loss!r}, a name "
                "scikit-learn's SGD estimators no longer take; pass "
                f"loss={_OLD_LOSS_NAMES[loss]!r}, as they now do."
            )
