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

The course also says to normalise X with the training set's mean and std
first. The loop does that implicitly, in the parameters: it trains the
coefficients ``V = coef_ * std`` of the standardized features, while the
forward pass uses X as it is (``W = V / std``, ``b = c - V @ (mean / std)``).
On data that is already standardized this is exactly the plain update; on
data that is not, it is the same descent a StandardScaler would have given,
without copying X, and sparse X stays sparse. The penalty applies to ``V``,
as glmnet's ``standardize=TRUE`` does.

The public estimators only turn targets into the encoded form the losses
expect (see :mod:`skgd.losses`) and raw predictions back into predictions.
"""

import copy
import functools
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._standardize import from_standardized, standardization, to_standardized
from ._stopping import better, check_not_rising, diverged_error, split_validation
from .optim import OPTIMIZERS, Optimizer, invscaling

# Below this many samples, "auto" trains full-batch: the gradient is then the
# exact gradient of the weighted objective, so sample weights are exactly
# equivalent to repeated samples (the choice sklearn's MLP makes).
_AUTO_BATCH_SIZE = 200

# loss_curve_ keeps the last max(max_iter, this many) epochs.
_LOSS_CURVE_KEEP = 1000


def partial_fit_available(estimator):
    """``partial_fit`` exists unless ``early_stopping``, which needs the whole data."""
    if estimator.early_stopping:
        raise AttributeError(
            "partial_fit is not available with early_stopping=True: it runs one epoch "
            "on the data it is given, with nothing held out. Use fit, or hold out data "
            "yourself and stop when its score stops improving."
        )
    return True


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

    # Set by the subclasses: the built-in losses by name, the base class of
    # the built-in losses meant for the other kind of estimator, the metric
    # of ``score`` (for early stopping) and whether the validation split is
    # stratified.
    _losses = {}
    _other_kind = ()
    _score_metric = None
    _stratify = False

    _parameter_constraints = {
        "learning_rate": [Interval(Real, 0, 1, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), Optimizer],
        "schedule": [StrOptions({"constant", "invscaling", "adaptive"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------- the swappable objects

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

    def _new_optimizer(self):
        """A fresh, validated copy of the ``optimizer`` parameter, with no state."""
        if isinstance(self.optimizer, str):
            return OPTIMIZERS[self.optimizer]()
        optimizer = clone(self.optimizer)
        optimizer._validate_params()
        return optimizer

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
        the current model. ``fit`` starts afresh unless ``warm_start``.
        Subclasses say how many outputs ``Y`` needs (``_n_outputs``), whether
        a single output keeps a 1-D ``coef_`` (``_squeeze_coef``) and how
        raw predictions become predictions (``_predict_from_raw``).
        """
        loss = self._get_loss()
        loss.check_target(Y)
        n_outputs, n_features = self._n_outputs(Y), X.shape[1]
        continuing = (incremental or self.warm_start) and hasattr(self, "coef_")
        if continuing:
            if self._W.shape != (n_outputs, n_features):
                raise ValueError(
                    f"The model has {self._W.shape[0]} output(s) and {self._W.shape[1]} "
                    f"feature(s) but the data has {n_outputs} and {n_features}; "
                    "call fit without warm_start to start a new model."
                )
            X = X.astype(self.coef_.dtype, copy=False)  # a model keeps its dtype
        if Y.dtype.kind == "f":
            Y = Y.astype(X.dtype, copy=False)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )

        if continuing:
            rng = np.random.RandomState()
            rng.set_state(self._rng.get_state())  # a copy: a rejected call leaves it as it was
            mean, scale = self._x_mean, self._x_scale
            V, c = to_standardized(self._W, self.intercept_, mean, scale)
            optimizer = copy.deepcopy(self.optimizer_) if incremental else self._new_optimizer()
            t, loss_curve = self.t_, list(self.loss_curve_)
        else:
            rng = check_random_state(self.random_state)
            optimizer, t, loss_curve = self._new_optimizer(), 0, []

        validation = None
        if self.early_stopping:
            X, Y, sample_weight, validation = split_validation(
                X, Y, sample_weight, rng, self.validation_fraction, self._stratify
            )

        if not continuing:
            mean, scale, constant = standardization(
                X, sample_weight, self.fit_intercept, self.standardize
            )
            V, c = self._initial_params(rng, n_outputs, scale.dtype, constant)
            if coef_init is not None or intercept_init is not None:
                W, b = from_standardized(V, c, mean, scale)
                if coef_init is not None:
                    W = np.reshape(_as_init(coef_init, "coef_init", W.size), W.shape)
                if intercept_init is not None:
                    b = _as_init(intercept_init, "intercept_init", b.size)
                V, c = to_standardized(W.astype(X.dtype), b.astype(X.dtype), mean, scale)

        history = self._train(
            X,
            Y,
            sample_weight,
            V,
            c,
            (mean, scale),
            loss,
            optimizer,
            rng,
            n_epochs=1 if incremental else self.max_iter,
            t=t,
            loss_curve=loss_curve,
            validation=validation,
            stop=not incremental,
        )
        if not incremental and not history["converged"] and self.tol is not None:
            warnings.warn(
                f"Maximum number of epochs ({self.max_iter}) reached and the "
                f"{'validation score' if self.early_stopping else 'training loss'} is "
                "still improving; increase max_iter, the learning_rate, or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )

        W, b = from_standardized(*history["params"], mean, scale)
        self.coef_ = W[0] if self._squeeze_coef(Y) else W
        self.intercept_ = b
        self._x_mean, self._x_scale = mean, scale
        self._rng = rng
        self.optimizer_ = optimizer
        self.t_ = history["t"]
        # Bounded, so that endless streams of partial_fit do not grow it.
        self.loss_curve_ = loss_curve[-max(self.max_iter, _LOSS_CURVE_KEEP) :]
        self.best_loss_ = min(loss_curve)
        if self.early_stopping:
            self.validation_scores_ = history["validation_scores"]
            self.best_validation_score_ = max(self.validation_scores_)
        # partial_fit counts epochs across calls; each fit counts its own.
        self.n_iter_ = (self.n_iter_ if incremental and continuing else 0) + history["epochs"]
        return self

    def _initial_params(self, rng, n_outputs, dtype, constant):
        """Random initialisation, the course's step 1 (Glorot-uniform scale, as sklearn's MLP).

        Constant features get a zero coefficient: their data cannot move it.
        """
        n_features = len(constant)
        bound = np.sqrt(6.0 / (n_features + n_outputs))
        V = rng.uniform(-bound, bound, size=(n_outputs, n_features)).astype(dtype)
        V[:, constant] = 0
        c = rng.uniform(-bound, bound, size=n_outputs).astype(dtype)
        if not self.fit_intercept:
            c[:] = 0
        return V, c

    def _train(
        self,
        X,
        Y,
        sample_weight,
        V,
        c,
        stats,
        loss,
        optimizer,
        rng,
        *,
        n_epochs,
        t,
        loss_curve,
        validation,
        stop,
    ):
        """The training loop: the course's loop, for both estimators.

        Trains the standardized parameters ``V`` (n_outputs, n_features) and
        ``c`` (n_outputs,) in place, appends each epoch's loss to
        ``loss_curve`` and returns a dict of what happened.
        """
        mean, scale = stats  # of the standardization
        shift = mean / scale
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        alpha_l1, alpha_l2 = self._penalty_strengths()
        params = [V, c] if self.fit_intercept else [V]
        # Each batch's gradient is an unbiased estimate of the full weighted
        # mean gradient: weights are divided by the data's mean weight, not
        # the batch's, so a batch of zero weights contributes nothing.
        weight_scale = sample_weight / sample_weight.mean()
        total_weight = sample_weight.sum()
        uniform = bool(np.all(sample_weight == sample_weight[0]))  # then skip the weighting
        single = Y.ndim == 1 and V.shape[0] == 1  # losses see 1-D arrays then
        learning_rate = self.learning_rate
        best, kept, no_improvement, converged = None, None, 0, False
        validation_scores, first_t = [], t
        if self.verbose:
            print(_log_header(validation is not None))

        # Overflow is how divergence shows; every batch loss and the final
        # parameters are checked for it, and it raises a clear error instead.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for epoch in range(1, n_epochs + 1):
                tic = time.perf_counter()
                shuffled = self.shuffle and batch_size < n_samples
                # Unshuffled batches are slices: views, so no epoch copies X.
                order = rng.permutation(n_samples) if shuffled else None
                epoch_loss = 0.0
                for start in range(0, n_samples, batch_size):
                    end = start + batch_size
                    idx = slice(start, end) if order is None else order[start:end]
                    X_b, Y_b = X[idx], Y[idx]
                    n_b = X_b.shape[0]

                    W, b = V / scale, c - V @ shift  # the model in X's units
                    raw = np.asarray(X_b @ W.T) + b  # forward
                    raw = raw[:, 0] if single else raw
                    losses = loss.loss(Y_b, raw)
                    batch_loss = (
                        losses.sum() * sample_weight[0] if uniform else sample_weight[idx] @ losses
                    )
                    if not np.isfinite(batch_loss):
                        raise diverged_error(epoch, batch_loss, before_any_step=t == first_t)
                    epoch_loss += batch_loss

                    # backward: d loss_i / d raw_i, weighted, through the model
                    g = loss.gradient(Y_b, raw).reshape(n_b, -1)
                    g = g / n_b if uniform else g * (weight_scale[idx] / n_b)[:, None]
                    g_sum = g.sum(axis=0)
                    grad_V = np.asarray(X_b.T @ g).T / scale - np.outer(g_sum, shift)
                    grad_V += alpha_l2 * V
                    t += 1
                    lr_t = self._schedule(learning_rate, t)
                    optimizer.step(params, [grad_V, g_sum][: len(params)], lr_t)  # w <- w - γ·grad
                    if alpha_l1:  # the L1 part by its proximal step: exact zeros
                        V[...] = np.sign(V) * np.maximum(np.abs(V) - lr_t * alpha_l1, 0)

                epoch_loss = epoch_loss / total_weight + _penalty(V, alpha_l1, alpha_l2)
                if not (np.isfinite(epoch_loss) and np.isfinite(V).all() and np.isfinite(c).all()):
                    raise diverged_error(epoch, epoch_loss)
                loss_curve.append(float(epoch_loss))

                # the stop criterion: the validation score, else the training loss
                if validation is not None:
                    score, val_loss = self._validate(V, c, stats, validation, loss)
                    validation_scores.append(score)
                    # A coarse score (accuracy on few samples) can stall while the
                    # model still learns; the validation loss shows that progress.
                    progress = (score, -val_loss)
                else:
                    progress = (-epoch_loss,)
                if self.verbose:
                    print(_log_row(len(loss_curve), epoch_loss, validation_scores, lr_t, tic))
                if not stop or self.tol is None:
                    continue
                # progress: any entry better than its best so far by more than tol
                improved = best is None or any(
                    now > then + self.tol for now, then in zip(progress, best, strict=True)
                )
                no_improvement = 0 if improved else no_improvement + 1
                best = progress if best is None else tuple(map(max, progress, best))
                if validation is not None and (kept is None or better(progress, kept[0], self.tol)):
                    kept = (progress, V.copy(), c.copy())
                if no_improvement >= self.n_iter_no_change:
                    if self.schedule == "adaptive" and learning_rate > 1e-6:
                        learning_rate /= 5  # as sklearn's MLP: smaller steps, then go on
                        no_improvement = 0
                        continue
                    converged = True
                    break

        if stop:
            check_not_rising(loss_curve[len(loss_curve) - epoch :], self.n_iter_no_change)
        if kept is not None:  # early stopping keeps the best model seen
            V[...], c[...] = kept[1:]
        return {
            "params": (V, c),
            "epochs": epoch,
            "t": t,
            "converged": converged,
            "validation_scores": validation_scores,
        }

    def _validate(self, V, c, stats, validation, loss):
        """The estimator's score and the mean loss on the held-out data."""
        X_val, Y_val, w_val = validation
        W, b = from_standardized(V, c, *stats)
        raw = np.asarray(X_val @ W.T) + b
        y_true, y_pred = self._decode_targets(Y_val), self._predict_from_raw(raw)
        score = float(self._score_metric(y_true, y_pred, sample_weight=w_val))
        raw = raw[:, 0] if Y_val.ndim == 1 and raw.shape[1] == 1 else raw
        val_loss = float(np.average(loss.loss(Y_val, raw), weights=w_val))
        return score, val_loss

    def _schedule(self, learning_rate, t):
        if self.schedule == "invscaling":
            return invscaling(learning_rate, t, self.power_t)
        return learning_rate

    def _penalty_strengths(self):
        """The L1 and L2 parts of ``alpha``, by ``penalty`` and ``l1_ratio``."""
        if self.penalty is None:
            return 0.0, 0.0
        l1_share = {"l2": 0.0, "l1": 1.0, "elasticnet": self.l1_ratio}[self.penalty]
        return self.alpha * l1_share, self.alpha * (1.0 - l1_share)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)


def _penalty(V, alpha_l1, alpha_l2):
    return alpha_l1 * float(np.abs(V).sum()) + 0.5 * alpha_l2 * float(np.sum(V * V))


def _log_header(with_validation):
    validation = f"{'val score':>12}  " if with_validation else ""
    return f"{'epoch':>6}  {'train loss':>12}  {validation}{'lr':>9}  {'seconds':>8}"


def _log_row(epoch, epoch_loss, validation_scores, learning_rate, tic):
    validation = f"{validation_scores[-1]:12.6g}  " if validation_scores else ""
    seconds = time.perf_counter() - tic
    return f"{epoch:6d}  {epoch_loss:12.6g}  {validation}{learning_rate:9.3g}  {seconds:8.3f}"


def _as_init(values, name, size):
    values = np.asarray(values, dtype=np.float64)
    if values.size != size:
        raise ValueError(f"{name} has {values.size} values; the model needs {size}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return values
