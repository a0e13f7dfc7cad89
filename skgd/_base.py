"""The estimator base shared by GDRegressor and GDClassifier.

It holds the common parameters, the random initialisation and the training
loop, the course's loop written once:

    initialise at random
    for each epoch:
        for each random batch:
            forward   raw  = X_b @ W.T + b
            loss      l_i  = loss(y_i, raw_i)
            backward  grad = weighted mean of dl_i/draw_i pushed through X_b
            update    W <- W - learning_rate * grad
        stop criterion on the epoch's training loss

The public estimators only turn targets into the encoded form the losses
expect (see :mod:`skgd.losses`) and raw predictions back into predictions.
"""

import copy
import functools
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .losses import Loss

# Below this many samples, "auto" trains full-batch: the gradient is then the
# exact gradient of the weighted objective, so sample weights are exactly
# equivalent to repeated samples (the choice sklearn's MLP makes).
_AUTO_BATCH_SIZE = 200


def keep_state_on_error(method):
    """Make a fitting method all-or-nothing.

    If ``method`` raises, every attribute of the estimator is put back as it
    was before the call, so a rejected ``partial_fit`` (unseen labels, wrong
    number of features, divergence) loses nothing. Training works on copies
    of the parameters and assigns them only at the end, which is what makes
    a shallow copy of ``__dict__`` enough here.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


class BaseGD(BaseEstimator):
    """Parameters, initialisation and the training loop of the skgd estimators."""

    # Built-in losses by name, and the base class of built-in losses meant
    # for the other kind of estimator (rejected with a clear error). Set by
    # the subclasses.
    _losses = {}
    _other_kind = ()

    _parameter_constraints = {
        "learning_rate": [Interval(Real, 0, 1, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "penalty": [StrOptions({"l2"}), None],
        "fit_intercept": ["boolean"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ loss

    def _get_loss(self):
        """The loss object named or given by the ``loss`` parameter."""
        if isinstance(self.loss, str):
            if self.loss not in self._losses:
                raise ValueError(
                    f"Unknown loss {self.loss!r} for {type(self).__name__}; "
                    f"valid names are {sorted(self._losses)}, or pass a skgd.losses.Loss."
                )
            return self._losses[self.loss]()
        if isinstance(self.loss, self._other_kind):
            raise ValueError(
                f"{type(self.loss).__name__} is a loss for the other kind of estimator; "
                f"{type(self).__name__} takes {sorted(self._losses)} or a Loss of its own kind."
            )
        return self.loss

    # ------------------------------------------------------------ input data

    def _validate_X(self, X, reset):
        return validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=reset
        )

    @property
    def _W(self):
        """``coef_`` as a 2-D (n_outputs, n_features) array, a view."""
        return self.coef_.reshape(len(self.intercept_), -1)

    def _raw_prediction(self, X):
        """``X @ coef_.T + intercept_``, shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return np.asarray(X @ self._W.T) + self.intercept_

    # --------------------------------------------------------------- fitting

    def _fit(self, X, Y, sample_weight, *, incremental, coef_init=None, intercept_init=None):
        """Train on validated ``X`` and encoded ``Y``; set the fitted attributes.

        ``incremental`` is True for ``partial_fit``: one epoch, starting from
        the current coefficients. ``fit`` starts afresh unless ``warm_start``.
        Subclasses say how many outputs ``Y`` needs (``_n_outputs``) and
        whether a single output keeps a 1-D ``coef_`` (``_squeeze_coef``).
        """
        loss = self._get_loss()
        loss.check_target(Y)
        n_features = X.shape[1]
        n_outputs = self._n_outputs(Y)
        continuing = (incremental or self.warm_start) and hasattr(self, "coef_")
        if continuing:
            if self._W.shape != (n_outputs, n_features):
                raise ValueError(
                    f"The model has {self._W.shape[0]} output(s) and {self._W.shape[1]} "
                    f"feature(s) but the data has {n_outputs} and {n_features}; "
                    "call fit without warm_start to start a new model."
                )
            W, b = self._W.copy(), self.intercept_.copy()
            X = X.astype(W.dtype, copy=False)  # the model keeps the dtype it was born with
            rng = copy.deepcopy(self._rng)
            t, loss_curve = self.t_, list(self.loss_curve_)
        else:
            rng = check_random_state(self.random_state)
            W, b = self._initial_params(rng, n_outputs, n_features, X.dtype)
            if coef_init is not None:
                W[...] = np.reshape(_as_init(coef_init, "coef_init", W.size), W.shape)
            if intercept_init is not None:
                b[...] = _as_init(intercept_init, "intercept_init", b.size)
            t, loss_curve = 0, []
        if Y.dtype.kind == "f":
            Y = Y.astype(X.dtype, copy=False)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        if not np.sum(sample_weight) > 0:
            raise ValueError("sample_weight sums to zero: there is nothing to train on.")

        n_epochs = 1 if incremental else self.max_iter
        epochs_run, t, converged = self._train(
            X, Y, sample_weight, W, b, loss, rng, n_epochs, t, loss_curve, stop=not incremental
        )
        if not incremental and not converged and self.tol is not None:
            warnings.warn(
                f"Maximum number of epochs ({self.max_iter}) reached and the training "
                "loss is still improving; increase max_iter, the learning_rate, or tol.",
                ConvergenceWarning,
            )

        self.coef_ = W[0] if self._squeeze_coef(Y) else W
        self.intercept_ = b
        self._rng = rng
        self.t_ = t
        self.loss_curve_ = loss_curve
        # partial_fit counts epochs across calls; each fit counts its own.
        self.n_iter_ = (self.n_iter_ if incremental and continuing else 0) + epochs_run
        return self

    def _initial_params(self, rng, n_outputs, n_features, dtype):
        """Random initialisation, the course's step 1 (Glorot-uniform scale, as sklearn's MLP)."""
        bound = np.sqrt(6.0 / (n_features + n_outputs))
        W = rng.uniform(-bound, bound, size=(n_outputs, n_features)).astype(dtype)
        b = rng.uniform(-bound, bound, size=n_outputs).astype(dtype)
        if not self.fit_intercept:
            b[:] = 0
        return W, b

    def _train(self, X, Y, sample_weight, W, b, loss, rng, n_epochs, t, loss_curve, *, stop):
        """The training loop. Updates ``W``, ``b`` and ``loss_curve`` in place.

        Returns the number of epochs run, the number of updates so far and
        whether the stop criterion fired.
        """
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        lr = self.learning_rate
        alpha = self.alpha if self.penalty == "l2" else 0.0
        # Each batch's gradient is an unbiased estimate of the full weighted
        # mean gradient: weights are divided by the data's mean weight, not the
        # batch's, so a batch of zero weights contributes nothing.
        weight_scale = sample_weight / sample_weight.mean()
        total_weight = sample_weight.sum()
        # The loss sees 1-D arrays for one output (see skgd.losses).
        single = Y.ndim == 1 and W.shape[0] == 1
        best_loss, no_improvement = np.inf, 0

        for epoch in range(1, n_epochs + 1):
            tic = time.perf_counter()
            shuffled = self.shuffle and batch_size < n_samples
            # Unshuffled batches are slices: views, so no epoch copies X.
            order = rng.permutation(n_samples) if shuffled else None
            epoch_loss = 0.0
            for start in range(0, n_samples, batch_size):
                stop_ = start + batch_size
                idx = slice(start, stop_) if order is None else order[start:stop_]
                X_b, Y_b = X[idx], Y[idx]
                n_b = X_b.shape[0]

                raw = np.asarray(X_b @ W.T) + b  # forward
                raw = raw[:, 0] if single else raw
                batch_loss = sample_weight[idx] @ loss.loss(Y_b, raw)
                if not np.isfinite(batch_loss):
                    raise _diverged(epoch, batch_loss)
                epoch_loss += batch_loss

                # backward: per-sample gradients, weighted, then through X_b
                g = loss.gradient(Y_b, raw).reshape(n_b, -1)
                g = g * (weight_scale[idx] / n_b)[:, None]
                grad_W = np.asarray(X_b.T @ g).T + alpha * W
                W -= lr * grad_W  # update: w <- w - learning_rate * grad
                if self.fit_intercept:
                    b -= lr * g.sum(axis=0)
                t += 1

            epoch_loss = epoch_loss / total_weight + 0.5 * alpha * float(np.sum(W * W))
            if not (np.isfinite(epoch_loss) and np.isfinite(W).all() and np.isfinite(b).all()):
                raise _diverged(epoch, epoch_loss)
            loss_curve.append(float(epoch_loss))
            if self.verbose:
                print(
                    f"epoch {len(loss_curve):5d}  loss {epoch_loss:12.6g}  "
                    f"lr {lr:.3g}  {time.perf_counter() - tic:8.3f}s"
                )

            if stop and self.tol is not None:  # the stop criterion
                no_improvement = no_improvement + 1 if epoch_loss > best_loss - self.tol else 0
                best_loss = min(best_loss, epoch_loss)
                if no_improvement >= self.n_iter_no_change:
                    return epoch, t, True
        return n_epochs, t, False

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)


def _as_init(values, name, size):
    values = np.asarray(values, dtype=np.float64)
    if values.size != size:
        raise ValueError(f"{name} has {values.size} values; the model needs {size}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return values


def _diverged(epoch, value):
    return ValueError(
        f"Training diverged at epoch {epoch} (loss={value}); try a smaller "
        "learning_rate, or scale X with StandardScaler (in a Pipeline)."
    )

