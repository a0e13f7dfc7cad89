"""The objective the training loop descends, and the coordinates it descends in.

The estimators fit ``raw = X @ W.T + b`` by minimising the mean weighted
``loss(y, raw)`` plus the penalty. Gradient descent with one step size for
every coefficient is only as good as the scaling of the problem, so the loop
never sees ``W`` and ``b``. It descends on standardized parameters ``V, c``,
with

    raw = loc + s * (X_std @ V.T + c),     X_std = (X - mean) / scale,

where ``loc`` is the loss's best constant prediction (mean, median,
quantile, log-odds...), ``s`` the spread of the target (1 for
classification and for losses with a link, such as Poisson), and the loss
is divided by ``loss_scale``, its curvature measured over one spread of y.
In these units every problem looks alike: features of unit variance, a
target of unit spread, a loss of unit curvature. That is what lets one γ
suit data of any scale. It is the same objective, only expressed in other
coordinates: the penalty applies to ``s * V``, the coefficients of the
standardized features in the units of y (as glmnet's ``standardize=TRUE``).

An :class:`Objective` answers the loop's question, "the loss and gradient of
this batch at these parameters", converts parameters to and from
``coef_``/``intercept_``, and gives the largest stable step.
"""

import functools
import math

import numpy as np
from scipy import sparse
from scipy.special import xlogy

from . import _curvature_passes, _kernel, _passes
from ._checks import is_users_loss
from ._gradient_checks import check_user_gradient
from ._long_rows import LongRows
from ._products import rows_times_coefficients
from ._standardize import rows_that_count
from .losses import ClassificationLoss, CosineDistance, Loss, Poisson, SquaredError

# At most this many rows measure the target's statistics and the curvature.
_SAMPLE_ROWS = 10_000
# Sparse X: at most one row in this many is set apart as far longer than the rest
# (see Objective._outlier_rows)
_OUTLIER_SHARE = 1000
# Power iterations for the largest eigenvalue of the standardized Gram matrix.
_POWER_ITERATIONS = 20
# to_model's coefficients from this many on are made in one compiled pass
_COMPILED_TO_MODEL = 4096
# A stream's step cap (Objective.step_cap): at most this many halvings; a cap within
# this share of 1 is rounding (a secant of the squared error's, taken elsewhere)
_BACKTRACKS = 16
_BACKTRACK = 4.0  # a step that lands too curved is this many times shorter at most
_CAP_ROUNDING = 1e-6
# ... and a blind loss's secant spans at least this share of a spread (a prediction of
# length 0 has no curvature to measure at a share of it; see step_cap)
_NEAREST = 1e-3
# link_outputs_apart's probe: rows enough to see outputs move each other
_PROBE_ROWS = 64
# blind_to_length's probe: rows of random targets and predictions
_PROBE_BLIND = 8


class Objective:
    """The loss of the linear model in standardized coordinates, plus the penalty.

    Parameters
    ----------
    loss : Loss
        The loss object.
    x_mean, x_scale : ndarray of shape (n_features,)
        The standardization of X.
    y_loc, y_scale : ndarray of shape (n_outputs,)
        The origin and unit of the raw predictions.
    loss_scale : ndarray of shape (n_outputs,)
        Each output's loss is divided by it, so that its curvature is about 1.
    alpha_l1, alpha_l2 : float
        The strengths of the L1 and L2 parts of the penalty.
    reference_loss : float
        The mean loss of the best constant prediction: the stop criterion's unit.
    penalty_unit : float or ndarray of shape (n_outputs,), default=1.0
        The unit alpha is in (the loss scale, for a rescaled target).
    largest_curvature : ndarray of shape (n_outputs,), default=None
        A stream's call of a loss with a link: its most curved row's
        curvature at the origin, which caps its step (:meth:`step_cap`).
        None: no cap.
    best_constant : ndarray of shape (n_outputs,), default=None
        The best constant prediction, which a fit must beat (see
        :meth:`constant_and_model_loss`). None: ``y_loc``, as it is when X
        and y are standardized (unstandardized, the origin is 0).
    blind : bool, default=False
        The loss ignores the predictions' lengths (:func:`blind_to_length`,
        asked once a call): the random start's scale reads it.
    rounding : ndarray of shape (n_features,) of bool, default=None
        The columns constant but for their last bits, scaled by their
        mean's magnitude (:func:`skgd._standardize.rounding_scales`): they
        start at 0, as a constant one. None: none.
    """

    def __init__(
        self,
        loss,
        *,
        x_mean,
        x_scale,
        y_loc,
        y_scale,
        loss_scale,
        alpha_l1,
        alpha_l2,
        reference_loss,
        penalty_unit=1.0,
        largest_curvature=None,
        best_constant=None,
        blind=False,
        rounding=None,
    ):
        self.loss = loss
        self.rounding = rounding
        self.x_mean, self.x_scale = x_mean, x_scale
        self.y_loc, self.y_scale = y_loc, y_scale
        self.loss_scale = loss_scale
        self.alpha_l1, self.alpha_l2 = alpha_l1, alpha_l2
        self.reference_loss = reference_loss
        # the penalty's strengths in these coordinates
        self.penalty_unit = penalty_unit
        self.l1 = (alpha_l1 * penalty_unit / loss_scale)[:, None]
        self.l2 = (alpha_l2 * penalty_unit / loss_scale)[:, None]
        self.data_curvature = None  # (L, L_max) without L2's, once curvature() measured them
        # X's rows far longer than the rest, once curvature() found them: sparse X's
        # (which rows, the largest one's L_max with L2's), see _outlier_rows; dense X's,
        # a skgd._long_rows.LongRows
        self.outliers = None
        self.best_constant = y_loc if best_constant is None else best_constant
        # a stream's: the most curved recent row's curvature at the origin, per output
        # (see :meth:`step_cap`); None: no cap
        self.largest_curvature = largest_curvature
        self.blind = blind
        # a user's gradient is checked at every batch (see check_user_gradient)
        self.checks_gradient = is_users_loss(loss)
        # each column's multiplier of its gradient in sparse X's exact epochs, set by
        # the loop (see skgd._exact_gains); None: none
        self.exact_gains = None
        self.exact_centres = None  # (and the columns' means, the intercept's share)

    @property
    def largest_l2(self):
        """L2's curvature, the largest over the outputs, as a float."""
        return self.l2.item() if self.l2.size == 1 else float(self.l2.max())  # (one: its number)

    # ----------------------------------------------------------- coordinates

    def to_model(self, V, c, overwrite=False):
        """Standardized parameters -> ``(W, b)`` in the units of X and y.

        ``overwrite``: nothing reads V afterwards, and W may be written over
        it (wide data: 40 MB of new pages saved, see
        :func:`skgd._passes.model_coefficients_in_place`).
        """
        return self.to_model_checked(V, c, overwrite)[:2]

    def to_model_checked(self, V, c, overwrite=False):
        """:meth:`to_model`, and whether W is finite: True or False, or None if not checked.

        On wide data the compiled pass that makes W also tells whether it
        overflowed, and whether X has a centred column: if none, and W is
        finite, ``W @ x_mean`` is 0 (+0.0: BLAS sums the products from +0.0,
        and with finite W they are zeros), and the intercept takes no pass
        over W for it. The same ``b``, to the bit (b - +0.0 is b, -0.0 too).
        """
        x_mean = self.x_mean
        if (
            V.size >= _COMPILED_TO_MODEL
            and _passes.model_coefficients_serve(V, self.x_scale, self.y_scale)
            and isinstance(x_mean, np.ndarray)
            and x_mean.shape == self.x_scale.shape
        ):  # one pass, not two (wide data: 5 x 2**20 coefficients)
            W, finite, centred = _passes.model_coefficients_checked(
                V, self.x_scale, self.y_scale, x_mean, in_place=overwrite
            )
            if finite and not centred:
                shift = np.zeros(len(W), dtype=np.result_type(W.dtype, x_mean.dtype))
            else:  # (a W that overflowed: NaN in b too, as the product gives it)
                shift = W @ x_mean
            return W, self.y_loc + self.y_scale * c - shift, finite
        W = V / self.x_scale
        y_scale = self.y_scale[:, None]
        # in place when the dtype allows: on wide data a second temporary costs its pages
        # (promote_types: result_type's answer for two arrays, at a fraction of its cost)
        in_place = np.promote_types(y_scale.dtype, W.dtype) == W.dtype
        W = np.multiply(y_scale, W, out=W if in_place else None)
        return W, self.y_loc + self.y_scale * c - W @ x_mean, None

    def to_model_at(self, V, c, columns):
        """:meth:`to_model`'s ``(W[:, columns], b)``, without the other columns' coefficients.

        Each coefficient is its own product, as there, to the bit. The
        intercept's ``W @ x_mean`` runs over the centred columns alone (few on
        sparse X): the same sum, to rounding (to the bit with none or one).
        None if ``x_mean`` is not one value per column.
        """
        x_mean = self.x_mean
        if not isinstance(x_mean, np.ndarray) or x_mean.shape != self.x_scale.shape:
            return None
        y_scale = self.y_scale[:, None]
        W = y_scale * (V[:, columns] / self.x_scale[columns])
        centred = np.flatnonzero(x_mean)
        # (to_model's zeros of W @ x_mean when no column is centred: b - 0 in W's dtype)
        shift = np.zeros(len(W), dtype=np.result_type(W.dtype, x_mean.dtype))
        if len(centred):
            shift += (y_scale * (V[:, centred] / self.x_scale[centred])) @ x_mean[centred]
        return W, self.y_loc + self.y_scale * c - shift

    def from_model(self, W, b):
        """``(W, b)`` in the units of X and y -> standardized parameters.

        V in C order, whatever W's: the compiled epochs take its rows as they
        lie (a multiclass LogisticRegression's coef_ is Fortran-ordered, and
        set as ``coef_`` or passed as ``coef_init`` it crashed the first epoch
        with numba's "incompatible shape for array").
        """
        V = None  # (wide data: one compiled pass, not numpy's two)
        if W.size >= _COMPILED_TO_MODEL:
            V = _passes.standardized_coefficients(W, self.x_scale, self.y_scale)
        if V is None:
            V = np.multiply(W, self.x_scale, order="C")
            y_scale = self.y_scale[:, None]
            # (in place when the dtype allows: on wide data a second new array's page faults)
            in_place = np.promote_types(y_scale.dtype, V.dtype) == V.dtype
            V = np.divide(V, y_scale, out=V if in_place else None)
        # (sparse X's columns are rarely centred: W @ x_mean is then 0, a pass over W saved)
        shift = W @ self.x_mean if self.x_mean.any() else 0.0
        return V, (b - self.y_loc + shift) / self.y_scale

    def raw_prediction(self, X, V, c, single, model=None):
        """``X @ W.T + b``, 1-D when the loss sees a single output.

        ``model``: ``to_model(V, c)``, if the caller has it already.
        """
        W, b = self.to_model(V, c) if model is None else model
        raw = rows_times_coefficients(X, W) + b
        return raw[:, 0] if single else raw

    # ------------------------------------------------- what the loop asks for

    def batch_loss(self, X, Y, weights, V, c, single, model=None):
        """The batch's weighted loss, as :meth:`loss_and_gradient` returns it.

        ``model``: see :meth:`raw_prediction`.
        """
        raw = self.raw_prediction(X, V, c, single, model)
        return _weighted_sum(weights, self.loss.loss(Y, raw))

    def constant_and_model_loss(self, X, Y, sample_weight, V, c, single, below=None):
        """A constant prediction's objective (the origin's), then the model's, on sampled rows.

        The constant is ``best_constant`` (with an intercept, the best one;
        ``y_loc``, the model at ``V = 0, c = 0``, unless X and y are not
        standardized), of penalty 0.
        Both are mean losses over the same (at most ``_SAMPLE_ROWS``) rows.
        The model's is None if the constant's is not above ``below`` (no
        prediction to make).
        """
        rows = _sample_rows(X.shape[0], sample_weight)
        if rows is not _EVERY:
            X, Y, sample_weight = X[rows], Y[rows], sample_weight[rows]
        w = sample_weight / sample_weight.sum()
        raw = np.empty((len(Y), len(self.y_loc)), dtype=float)
        raw[...] = self.best_constant
        constant = float(_weighted_sum(w, self.loss.loss(Y, raw[:, 0] if single else raw)))
        if below is not None and not constant <= below:
            return constant, None
        return constant, float(self.batch_loss(X, Y, w, V, c, single) + self.penalty(V))

    def loss_and_gradient(self, X, Y, weights, V, c, single):
        """The batch's loss and the gradient of the objective.

        ``weights`` are the batch's sample weights divided by the mean
        weight of the data, so that each batch's gradient is an unbiased
        estimate of the full gradient. Returns the sum of the weighted
        losses in the units of the loss (the epoch's loss adds them up), and
        the gradients with respect to ``V`` and ``c``.
        """
        raw = self.raw_prediction(X, V, c, single)  # forward
        losses = self.loss.loss(Y, raw)
        n = X.shape[0]
        g = self.loss.gradient(Y, raw).reshape(n, -1)  # backward: d loss_i / d raw_i
        if self.checks_gradient:
            check_user_gradient(self.loss, Y, raw, losses, g, weights)
        g = g * (self.y_scale / self.loss_scale) * (weights / n)[:, None]
        ignored = weights == 0
        if ignored.any():  # rows of weight 0 count for nothing, even where their loss overflows
            g[ignored] = 0.0
        g_sum = g.sum(axis=0)
        grad_V = np.asarray(X.T @ g).T / self.x_scale - np.outer(g_sum, self.x_mean / self.x_scale)
        grad_V += self.l2 * V
        return _weighted_sum(weights, losses), grad_V, g_sum

    def penalty(self, V, copy_to=None, squares=None, absolute=None):
        """The penalty in the units of the loss; with ``copy_to``, V is copied there too.

        The loop asks at every epoch, where it also keeps a copy of V; on
        wide data V is large, so L1's sum is taken only when it counts, and
        both in the copy's pass (:func:`skgd._passes.copy_and_sums`).
        ``squares``: the sums of squares of V's rows, taken already (by a
        lazy kernel's pass), and ``absolute`` their sums of magnitudes (None:
        no L1): no pass over V.
        """
        # (alpha_l1 is a number: np.any and np.sum would cost a streamed row's call
        # more than the sums themselves)
        if squares is not None:
            l1 = 0.0 if absolute is None else absolute
        elif copy_to is not None:
            l1, squares = _passes.copy_and_sums(V, copy_to, absolute=bool(self.alpha_l1))
        else:
            l1 = np.abs(V).sum(axis=1) if self.alpha_l1 else 0.0
            squares = np.einsum("ij,ij->i", V, V)
        unit = self.penalty_unit
        if _one_double(squares) and _one_double(l1) and _one_double(unit):
            # One output in float64 (a stream's row): the same arithmetic on numbers,
            # each numpy's double operation (and a sum of one value is 0.0 + it).
            l1, l2, unit = _number(l1), 0.5 * squares.item(), _number(unit)
            return 0.0 + unit * (float(self.alpha_l1) * l1 + float(self.alpha_l2) * l2)
        l2 = 0.5 * squares
        return float((unit * (self.alpha_l1 * l1 + self.alpha_l2 * l2)).sum())

    def step_cap(self, X, Y, weights, V, c, single, batch_size, planned, near=True):
        """How much of its ``planned`` step (a fraction of the stable step) a stream's batch takes.

        The loss scale is the loss's curvature at the origin ``y_loc``, over
        one spread, on the stream's recent targets (its most curved row's
        ``largest_curvature`` 1/b of the way). A loss whose curvature grows
        without bound away from its targets (Poisson's exp(raw)) is more
        curved where the model predicts more: a row predicted e^5 above the
        origin is e^5 times more curved, and a stable step at the origin
        moves its prediction by hundreds of e-folds (a stream of one row at
        a time ended at coefficients of 1e216). So each row's curvature is
        measured where the model is, over one spread as the loss scale is,
        and where the step would land it (the whole stable step of the unit
        curvature: Newton's, which a loss that curves up along the way
        overshoots), and what exceeds the largest curvature the scale has
        seen (none for a loss whose curvature is bounded by its curvature
        near a target: squared error, Huber, absolute error) lengthens the
        curvature the step is taken for, the batch's largest row 1/b of the
        way. The step is shortened until it fits where it lands, halving at
        most, as a backtracking line search does. Returns the share of
        ``planned`` to take (1 when it fits: a stream at its noise floor,
        whose step is short, keeps it, and its rows are not weighted by
        their predictions, which would bias the model it settles at).

        A loss blind to lengths (the cosine) is curved across a prediction
        by its inverse square length: about one shorter than two spreads
        (a stream's start, at coefficients of 0) a secant over a spread
        passes the origin and sees a spread's curvature, and the step threw
        the digits' 5-D embeddings, in calls of 67 rows, to lengths of
        thousands (the targets': 18), where its steps no longer learned.
        With ``near`` its curvature is measured over half the prediction's
        length there (not for an optimizer whose step is a length, which
        throws no prediction far).
        """
        if not weights.sum() > 0:  # (rows of weight 0 alone: no curvature to cap by)
            return 1.0
        largest, scale, loss = self.largest_curvature, self.loss_scale, self.loss
        n = X.shape[0]
        with np.errstate(all="ignore"):
            raw = self.raw_prediction(X, V, c, single)
            shape = raw.shape
            # each row's move at the whole stable step of unit curvature (Newton's)
            reach = loss.gradient(Y, raw) * (-self.y_scale * self.y_scale / scale)
            # as loss_curvature measures (several outputs move with alternating signs)
            spread = self.y_scale.astype(np.float64)
            direction = spread if len(spread) == 1 else spread * _alternating_signs(len(spread))
            direction = direction[0] if single else direction
            share = (weights / weights.sum())[:, None]
            counted = (weights > 0)[:, None]

            def excess(points):  # each row's curvature over one spread there, past `largest`
                part = 1.0  # (the blind loss's: over half the length, if under a spread)
                if self.blind and near:
                    length = np.linalg.norm(points.reshape(n, -1), axis=1, keepdims=True)
                    part = np.clip(length / (2 * np.linalg.norm(direction)), _NEAREST, 1.0)
                    part = part[:, 0] if single else part  # (each row's share of a spread)
                across = direction * part
                change = loss.gradient(Y, points + across) - loss.gradient(Y, points - across)
                over = (change * direction / (2 * part)).reshape(n, -1) - largest
                return np.where(counted & (over > 0), over, 0.0)  # (NaN: not over)

            def fraction(over):  # the step that over's curvature allows, the batch's
                mean = (share * over).sum(axis=0)
                curvature = scale + mean + (over.max(axis=0) - mean) / batch_size
                cap = float(np.min(scale / curvature))
                return cap if math.isfinite(cap) else 0.0

            here = excess(raw)
            step = min(fraction(here), planned)
            # (in spreads: a landing within one of the row, `here` measured already)
            farthest = float(np.max(np.abs(reach).reshape(n, -1) / spread))
            for _ in range(_BACKTRACKS):  # where the step lands, the row may curve more
                if not step * farthest > 1.0:
                    break
                landing = (raw + step * reach).reshape(shape)
                landed = fraction(np.maximum(here, excess(landing)))
                if step <= landed * (1.0 + _CAP_ROUNDING):
                    break
                step = max(landed, step / _BACKTRACK)
        cap = step / planned
        return 1.0 if cap > 1.0 - _CAP_ROUNDING else cap

    def soft_threshold(self, V, step, optimizer):
        """The L1 part by its proximal step, in place: coefficients become exactly 0.

        At the step ``optimizer``, whose update of V came just before, gave
        the gradient (:meth:`skgd.optim.Optimizer.proximal_step`).
        """
        if self.alpha_l1:
            optimizer._soft_threshold(V, step, self.l1)

    def curvature(
        self, X, sample_weight, fit_intercept, row_norms=None, set_apart=False, batch_size=None
    ):  # fmt: skip
        """The curvature of the objective: ``(L, L_max)`` for whole-data and one-row steps.

        The loss has unit curvature in these coordinates, so L is the largest
        eigenvalue of the weighted Gram matrix of the standardized features
        (with the intercept's column of ones), found by power iteration on
        at most ``_SAMPLE_ROWS`` rows, and ``L_max`` the largest squared norm
        of a standardized row. The L2 penalty's curvature is added to both.
        ``row_norms`` (:class:`skgd._row_norms.RowNorms`, filled by the
        statistics' pass) names the rows that may hold ``L_max``. The two
        without L2's curvature are kept as ``data_curvature``: the
        intercept's, which a huge penalty would leave to rounding in a
        difference of the two. ``set_apart``: sparse X's few far longer rows
        are set apart (:meth:`_outlier_rows`), ``L_max`` then the rest's, for
        an optimizer whose step is the gradient's times a rate; dense X's
        long rows are kept (:class:`skgd._long_rows.LongRows`) for the
        schedule to set apart by batch size, given the first batches'
        ``batch_size`` (None: none is set apart), if the loss has no link.
        """
        l2 = self.largest_l2
        self.outliers = None
        if X.shape[0] == 1 and sample_weight[0] > 0:
            # One row z (standardized, with the intercept's 1): its Gram matrix
            # z z' has the one eigenvalue ||z||^2, which is L_max; the power
            # iteration would find it (to rounding) in three products.
            L = _largest_squared_row_norm(X, self.x_mean, self.x_scale) + fit_intercept
            self.data_curvature = (max(L, 1e-12), max(L, 1e-12))
            return max(L, 1e-12) + l2, max(L, 1e-12) + l2
        rows = _sample_rows(X.shape[0], sample_weight)
        w = sample_weight[rows] / sample_weight[rows].sum()
        sample = None if row_norms is None else row_norms.sample_of(rows)
        # sparse X's columns are rarely centred: then both passes skip the shifts
        unshifted = _compiled_sparse(X) and _curvature_passes.unshifted(self.x_mean, self.x_scale)
        with np.errstate(all="ignore"):  # data too large overflows: the loss will say so
            lam = self._largest_eigenvalue(X, rows, w, fit_intercept, sample, unshifted)
            # (a row of weight 0 is never a batch's gradient, however long it is)
            found = self._outlier_rows(X, sample_weight, unshifted) if set_apart else None
            if found is not None:  # (its pass found the largest norm too)
                mask, typical, L_max = found
                if mask is not None:
                    self.outliers = (mask, max(L_max + fit_intercept, lam, 1e-12) + l2)
                    L_max = typical  # (the step of the batches without them)
            else:
                rows = (
                    None if row_norms is None else row_norms.candidates(self.x_mean, self.x_scale)
                )
                counted = rows_that_count(X, sample_weight) if rows is None else X[rows]
                L_max = _largest_squared_row_norm(counted, self.x_mean, self.x_scale, unshifted)
                # (not for a loss with a link, whose curvature grows with the
                # predictions: Poisson's flights at the longer steps diverged)
                batches = batch_size is not None and not curves_with_prediction(self.loss)
                if set_apart and batches and not sparse.issparse(X):  # (see skgd._long_rows)
                    self.outliers = LongRows.of(
                        X, sample_weight, self.x_mean, self.x_scale, max(lam, 1e-12) + l2,
                        L_max, fit_intercept + l2,
                    )  # fmt: skip
            L_max += fit_intercept
        self.data_curvature = (max(lam, 1e-12), max(L_max, lam, 1e-12))
        return max(lam, 1e-12) + l2, max(L_max, lam, 1e-12) + l2

    def _outlier_rows(self, X, sample_weight, unshifted=False):
        """Sparse X's few rows far longer than the rest: ``(mask, typical, largest)``.

        ``mask`` None where none is (``largest``, the longest row's squared
        norm, still serves); None for dense X.

        A batch's step is bounded by the longest standardized row a batch
        may hold (:func:`batch_curvature`'s ``L_max``). On sparse text one
        row can dwarf all others: a docstring table of 1,496 words had a
        squared norm of 1,449 among 18,375 paragraphs whose 99.9th
        percentile was 25, and every step of every batch was 30 times
        shorter for it: one epoch (a stream's call of all the rows) ended
        at a held-out accuracy of 0.51, 500 rows at 0.60 (SGDClassifier:
        0.86 and 0.66). At most one row in ``_OUTLIER_SHARE`` is set apart
        (one below that many rows), if the longest is more than twice the
        longest of the rest; the batches holding one take the step its
        norm allows (see :meth:`skgd._schedules.Schedule.outlier_steps`),
        the others that of the rest's longest. Squared norms without the
        intercept's 1; rows of weight 0 never count. (A pass over the
        stored values, as the largest norm's, which it replaces here;
        ``unshifted`` as there.)
        """
        n = X.shape[0]
        allowed = -(-n // _OUTLIER_SHARE)
        if allowed < 1 or not sparse.issparse(X):
            return None
        norms = _sparse_squared_row_norms(X, self.x_mean, self.x_scale, unshifted)
        norms[~(np.asarray(sample_weight) > 0)] = -np.inf
        typical = float(np.partition(norms, n - 1 - allowed)[n - 1 - allowed])
        largest = float(norms.max())
        if not np.isfinite(largest):  # (overflowed: the largest norm's own pass serves)
            return None
        if not largest > 2.0 * typical or not typical > 0:
            return None, typical, largest
        return norms > typical, typical, largest

    def _largest_eigenvalue(
        self, X, rows, w, fit_intercept, sample=None, unshifted=False, scale=None
    ):  # fmt: skip
        """The power iteration on the standardized Gram matrix of ``X[rows]``, weighted by ``w``.

        ``sample``: ``X[rows]`` as a contiguous copy, if one was made already.
        ``unshifted``: sparse X's columns are all uncentred, of finite inverse
        scales (:func:`skgd._curvature_passes.unshifted`). ``scale``: X's
        columns divided by these instead of ``x_scale`` (exact descent's
        preconditioned Gram matrix, see :mod:`skgd._exact_gains`).
        """
        x_scale = self.x_scale if scale is None else scale
        Xs = X[rows] if sample is None else sample
        if not sparse.issparse(Xs):  # a strided view is read 20 times: copy the sample once
            Xs = np.ascontiguousarray(Xs)  # (in X's dtype: float32 stays float32)
        compiled = None  # the compiled pass for this X, if there is one
        if _compiled_dense(Xs):
            compiled = _curvature_passes.gram_power_iteration
        elif _compiled_sparse(Xs):
            compiled = functools.partial(
                _curvature_passes.sparse_gram_power_iteration, unshifted=unshifted
            )
        if compiled is not None:
            lam = compiled(
                Xs, w.astype(np.float64), self.x_mean, x_scale, fit_intercept,
                _POWER_ITERATIONS,
            )  # fmt: skip
            if lam is not None:  # (None: 1 / scale overflows; numpy's path divides)
                return lam
        shift = self.x_mean / x_scale

        def gram_times(v):  # (X_std' diag(w) X_std) v, with the intercept's column
            u = np.asarray(Xs @ (v[:-1] / x_scale)).ravel() - shift @ v[:-1] + v[-1]
            u = u * w
            top = np.asarray(Xs.T @ u).ravel() / x_scale - shift * u.sum()
            return np.append(top, u.sum() if fit_intercept else 0.0)

        v, lam = np.ones(X.shape[1] + 1), 0.0
        for _ in range(_POWER_ITERATIONS):
            v = gram_times(v / np.linalg.norm(v))
            lam, previous = float(np.linalg.norm(v)), lam
            if not lam > 0 or not np.isfinite(lam):
                break
            if lam - previous <= 1e-7 * lam:  # settled (at once for one row)
                break
        return lam


def curves_with_prediction(loss):
    """Whether the loss's curvature may grow where the model predicts more: it has a link.

    A loss of the residual ``raw - y`` (squared error, Huber, absolute error,
    a pinball) has, at any prediction, the curvature of some residual, which
    a stream's recent targets around the origin sample; a link's (Poisson's
    exp) depends on the prediction itself, without bound.
    """
    return getattr(type(loss), "inverse_link", Loss.inverse_link) is not Loss.inverse_link


def _one_double(value):
    """Whether ``value`` is a Python float or a float64 array of one value."""
    if isinstance(value, np.ndarray):
        return value.size == 1 and value.dtype == np.float64
    return type(value) is float


def _number(value):
    """A Python float or a float64 array of one value, as a Python float."""
    return value if type(value) is float else value.item()


def batch_curvature(L, L_max, n_samples, batch_size):
    """The curvature that batches of ``batch_size`` rows of ``n_samples`` see.

    A batch is noisier than the whole data: the bound of Gower et al.
    (2019) for sampling without replacement mixes the whole data's L with
    the largest row's ``L_max``; it is L for the whole data and ``L_max``
    for single rows (the step of normalised least mean squares).
    """
    if n_samples <= 1 or batch_size >= n_samples:
        return L
    b, n = batch_size, n_samples
    return (n * (b - 1) * L + (n - b) * L_max) / (b * (n - 1))


# ------------------------------------------------------------ target scaling


def target_scaling(
    loss, Y, sample_weight, *, single, spread, loc=None, largest=False, blind=False
):  # fmt: skip
    """The origin, unit and loss scale of the raw predictions, from the targets.

    ``spread`` is the spread of each output (ones for classification and for
    losses with a link). ``loc`` defaults to the loss's best constant for a
    single output; for several, to each output's best constant where the
    loss treats them apart (:func:`outputs_apart`), else to 0 (the caller
    passes the mean of a multi-output target). Returns ``(loc,
    loss_scale, reference_loss)``, and
    with ``largest`` the largest curvature of one row (rows of weight 0
    aside), per output: near its target, a row of a kinked loss (absolute
    error) is far more curved than the data on average. ``blind``: the loss
    ignores the predictions' lengths (:func:`blind_to_length`, which the
    caller asks once a call, for regression targets only).
    """
    rows = _sample_rows(len(Y), sample_weight)
    if rows is not _EVERY:  # (all of them, a stream's recent targets: no views to make)
        Y, sample_weight = Y[rows], sample_weight[rows]
    w = sample_weight
    n_outputs = len(spread)
    users = is_users_loss(loss)
    # every raw prediction below is one row for all: a class's rows are alike
    loss = _DistinctTargets.of(loss, Y)
    if loc is None:
        loc = np.array([best_constant(loss, Y, w)]) if n_outputs == 1 else np.zeros(n_outputs)
        if n_outputs > 1 and outputs_apart(loss, Y, loc, spread, single):
            # Poisson's counts near 180: an origin at 0 measured a curvature
            # e^0, 180 times too small, and a stream's first step diverged
            with np.errstate(all="ignore"):
                loc = np.array([best_constant(loss, Y[:, k], w) for k in range(n_outputs)])
    with np.errstate(all="ignore"):
        base = np.full((len(Y), n_outputs), loc)
        # (the weights' total, for both means: one sum, as each would take it)
        total = _weight_total(w, np.float64)
        off = _off_the_origin(blind, loc, spread)
        at = base if off is None else base + off
        kappa, rows = loss_curvature(loss, Y, w, at, spread, single, total=total)
        if users and not blind:  # (a cosine's is measured off the origin, see below)
            kappa = _turning_curvature(loss, Y, w, at, spread, single, total, kappa)
        losses = loss.loss(Y, base[:, 0] if single else base)
        reference = float(_weighted_mean(losses, w, total=total))
        if not (math.isfinite(reference) and reference > 0):
            # A loss whose value is no unit (Poisson's omits a term in y, and goes
            # negative above a mean of e): the best constant's distance to each
            # row's own optimum instead, to second order, g² / 2h (the squared
            # error's own loss; Poisson's deviance, as a chi-square)
            # (no looser than the curvature's unit, which it replaces: the
            # constant model of strong counts is so far off that its gap is
            # no measure of what is left near the optimum)
            reference = min(
                _second_order_gap(loss, Y, w, base, spread, rows, single, total),
                float(kappa.sum()),
            )
        elif users and curves_with_prediction(loss):
            # A user's loss with a link is often a log-likelihood less its terms in y
            # alone (a Gamma's y e^-raw + raw, without log y + 1): its value at the best
            # constant is then mostly those terms, no unit of what is left to fit. On
            # statsmodels' scotland, 5.1 where the half deviance left was 0.004: the fit
            # stopped at 1.3 times GammaRegressor's deviance (0.00356 against 0.00275),
            # as the same loss written as the half deviance did not (0.00289). The gap
            # to second order ignores such terms (for the squared error, the loss itself).
            gap = _second_order_gap(loss, Y, w, base, spread, rows, single, total)
            if math.isfinite(gap) and gap > 0:
                reference = min(reference, gap)
    if not (math.isfinite(reference) and reference > 0):
        reference = float(kappa.sum())
    if largest:
        counted = (w > 0)[:, None] & np.isfinite(rows)
        # (ndarray.max's reduction, without its wrapper)
        return loc, kappa, reference, np.maximum.reduce(rows, axis=0, initial=0.0, where=counted)
    return loc, kappa, reference


def reachable_reference(loss, Y, sample_weight, loc, reach, single):
    """The best constant's mean loss, each target moved to within ``reach`` of ``loc``.

    :func:`target_scaling`'s reference (the stop criterion's unit) for a loss
    of bounded gradient whose targets hold wild values: the loss of a target
    far beyond ``reach`` changes by at most a prediction's move, whatever
    the model, and it is no measure of what is left to fit. Weighted as
    that reference, on the same rows (up to ``_SAMPLE_ROWS``); ``inf`` if
    not positive and finite (the caller keeps the smaller).
    """
    rows = _sample_rows(len(Y), sample_weight)
    if rows is not _EVERY:
        Y, sample_weight = Y[rows], sample_weight[rows]
    with np.errstate(all="ignore"):
        near = np.clip(Y, loc - reach, loc + reach)  # (a 1-D y: loc of one value)
        base = np.full((len(Y), len(loc)), loc)
        losses = loss.loss(near, base[:, 0] if single else base)
        reference = float(_weighted_mean(losses, sample_weight))
    return reference if math.isfinite(reference) and reference > 0 else math.inf


def least_loss(loss, Y, sample_weight, regressor=True):
    """The weighted mean of each row's lowest loss (its own target predicted), or None.

    For the built-in Poisson loss, ``y - y log y`` (0 at y = 0), whose loss
    omits that term: the loss above it is the half deviance, what is left
    to fit. For the squared error, 0: its value is what is left, and at the
    whole data tol follows it (see :meth:`skgd._loop.StopCriterion.measure_left`;
    statsmodels' macrodata, R² 0.9999, stopped at 8 times Ridge's loss).
    None for the other losses (unknown, or kinked ones whose exact epochs
    crawl: Huber on the same data went from 2.4 to 1.7 in 6 times the epochs).
    Weighted by ``sample_weight``, as an epoch's mean loss. A classifier's
    squared error (of -1/+1 targets, which no line reaches) is no such floor:
    None for it (``regressor=False``).
    """
    if type(loss) is SquaredError:  # (0 at its target: its value is what is left)
        return 0.0 if regressor else None
    if type(loss) is not Poisson:  # (a subclass may change the loss)
        return None
    Y = np.asarray(Y, dtype=np.float64)
    # (xlogy: 0 at y = 0, as the deviance's own, skgd._regressor's D²)
    least = (Y - xlogy(Y, Y)).reshape(len(Y), -1).sum(axis=1)
    weights = np.asarray(sample_weight, dtype=np.float64)
    return float(weights @ least) / float(weights.sum())


def _turning_curvature(loss, Y, w, base, spread, single, total, kappa):
    """A user's loss whose gradient turns back (Tukey's biweight): its curvature near the targets.

    The secant over a spread each way (:func:`loss_curvature`) is, for a
    loss whose gradient levels off (Huber's), the data's share near
    ``base``, which is what a step needs. A gradient that falls back to 0
    (Tukey's biweight cut off at c under the targets' spread) is curved as
    the squared error's near each target and flat far off: the secant over
    a spread saw the flat part, and the step it set, a hundred times too
    long, took diabetes to a held-out R² of -1125 (cut off at 50; at 30,
    -1527). Where the secant over a half, ..., a 64th of the spread falls on
    some row (its gradient turns back between the ends: no convex loss's
    does), the steepest row's secant over those distances serves if
    larger: it bounds the curvature wherever the model goes, and no step it
    sets climbs (the data's share near the targets, measured instead, grew
    as the fit came closer to them, and a cut-off of 30 still ended at
    -31). Such a loss is not convex: from the best constant a descent may
    end in a poor local optimum (Tukey's at 50: held-out R² -0.13, its own
    loss below the best constant's), which a start at a convex fit's
    coefficients avoids (``coef_init`` from Huber's: 0.20). Users' losses
    only (the built-in ones are convex), and not those blind to the
    predictions' lengths, whose curvature is the cosine's (see
    :func:`_off_the_origin`).
    """
    largest, turns, counted = kappa, False, w > 0
    for shrink in (2.0, 4.0, 8.0, 16.0, 32.0, 64.0):
        _, change = loss_curvature(loss, Y, w, base, spread / shrink, single, total=total)
        turns = turns or bool(np.any(change.sum(axis=1)[counted] < 0))
        if counted.any():
            high = change[counted].max(axis=0) * shrink**2
            largest = np.maximum(largest, high)
    return largest if turns else kappa


def _off_the_origin(blind, loc, spread):
    """How far from ``loc`` the loss's curvature is measured: None (at it), or one spread.

    The cosine distance is flat along a prediction's length and curved
    across it by the inverse square of that length, and its gradient is
    even about 0: about the mean of centred targets (0 to rounding) its
    secant is 0, up to rounding (5e-18 on linnerud's centred targets,
    whose first step then threw the coefficients to 1e17). One spread on,
    the predictions are as long as the model's first ones (the origin
    moved by the model's outputs, of about the targets' spread). Only
    about a mean shorter than the spread: the secant about a longer one
    does not reach the origin (on diabetes' target beside its bmi column,
    one spread on took 291 epochs to the mean's 177, to the same optimum).
    So for any loss ``blind`` to the predictions' lengths (:func:`blind_to_length`).
    """
    if blind and np.linalg.norm(loc) < np.linalg.norm(spread):
        return spread
    return None


def blind_to_length(loss, n_outputs):
    """Whether the loss ignores the predictions' lengths, as the cosine distance does.

    Such a loss is flat along a prediction's length: its curvature is
    measured off the origin (:func:`_off_the_origin`) and training starts at
    the MLP's scale (``BaseGD._initial_params``). The built-in cosine is
    known; a user's loss of several regression outputs (the caller's to
    know: a classifier's targets are classes) is probed on a few fixed
    rows: blind if its values at predictions three times as long are its
    values to within 1e-5 (a cosine with ``+ 1e-8`` in its denominator, or
    computed in float32), and those at other predictions are not. A user's
    copy of the cosine (its methods calling the built-in's) was measured at
    the centred targets' mean and started at a thousandth of the MLP's
    scale: held-out cosine distance 0.6 against the built-in's 0.0012, its
    coefficients near 1e6, silently. (A loss the probe makes raise is taken
    as not blind: its own checks speak when training evaluates it.)
    """
    if isinstance(loss, CosineDistance):
        return True
    if loss is None or n_outputs < 2 or not is_users_loss(loss):
        return False
    rng = np.random.default_rng(0)
    y, raw, other = rng.standard_normal((3, _PROBE_BLIND, n_outputs))
    try:
        with np.errstate(all="ignore"):
            at, longer, moved = (
                np.asarray(loss.loss(y, r), dtype=np.float64) for r in (raw, 3.0 * raw, other)
            )
    except Exception:
        return False
    if not (at.shape == longer.shape == moved.shape and np.isfinite(at).all()):
        return False
    return bool(np.allclose(longer, at, rtol=1e-5, atol=0) and not np.allclose(moved, at))


def flat_outputs(loss, Y, sample_weight, loc, single):
    """The outputs whose loss has a gradient of 0 on every (sampled) row at ``loc``, Y varying.

    The loss then tells no row from another around the constant: an
    epsilon-insensitive loss whose epsilon is wider than half the targets'
    range is 0 for every model whose residuals stay inside it, and training
    has no gradient to follow (on diabetes, epsilon=400: R² -7.4 on its own
    training data, with nothing to say why). Returns a boolean a column of
    Y (one, for 1-D targets).
    """
    rows = _sample_rows(len(Y), sample_weight)
    Y = Y[rows] if rows is not _EVERY else Y
    n_outputs = len(loc)
    varies = np.ptp(Y.reshape(len(Y), -1), axis=0) > 0 if len(Y) else np.zeros(1, dtype=bool)
    if not varies.any():
        return np.zeros(n_outputs, dtype=bool)  # (targets that do not vary: the constant fits)
    raw = np.empty((len(Y), n_outputs))
    raw[...] = loc
    with np.errstate(all="ignore"):
        gradient = np.asarray(loss.gradient(Y, raw[:, 0] if single else raw))
    still = np.all(gradient.reshape(len(Y), -1) == 0, axis=0)
    return still & varies if len(varies) == len(still) else np.zeros(n_outputs, dtype=bool)


class _DistinctTargets:
    """A built-in loss on targets of few values, each value's rows computed once.

    :func:`target_scaling` asks for the loss and its gradient at raw
    predictions that are one row repeated (its origin, moved by a spread):
    a row's result then depends on its target alone, and a classifier's
    targets take a few values (its classes). Each is computed on one row a
    value, and given to each row of that value: the same numbers, to the
    bit, as for every row (a classifier's classes, or a regressor's integer
    targets such as counts; wide hashed text, 5 classes, 7,500 sampled rows:
    the measures took 6 ms a fit, a tenth of its fixed costs). Asked about
    other targets (:func:`best_constant`'s own copy of them), it is the loss.
    """

    def __init__(self, loss, Y, values, inverse):
        self.wrapped, self.Y, self.values, self.inverse = loss, Y, values, inverse
        self.homogeneous = getattr(loss, "homogeneous", False)

    @classmethod
    def of(cls, loss, Y):
        """``loss`` wrapped for ``Y`` if built-in and ``Y`` classes or integers; else ``loss``."""
        classes = Y.ndim == 1 and (Y.dtype.kind in "iu" or isinstance(loss, ClassificationLoss))
        if not (classes and type(loss).__module__ == Loss.__module__ and len(Y) > _FEW_TARGETS):
            return loss
        values, inverse = np.unique(Y, return_inverse=True)
        if len(values) > len(Y) // _FEW_TARGETS:  # (not a classifier's few: no gain)
            return loss
        return cls(loss, Y, values, inverse)

    def loss(self, y_true, raw_prediction):
        return self._by_value("loss", y_true, raw_prediction)

    def gradient(self, y_true, raw_prediction):
        return self._by_value("gradient", y_true, raw_prediction)

    def _by_value(self, method, y_true, raw_prediction):
        compute = getattr(self.wrapped, method)
        if y_true is not self.Y or len(raw_prediction) != len(y_true):
            return compute(y_true, raw_prediction)
        # (raw_prediction's rows are all alike: its first ones stand for the values')
        return compute(self.values, raw_prediction[: len(self.values)])[self.inverse]


# _DistinctTargets serves targets of at least this many rows a distinct value
_FEW_TARGETS = 8


def _second_order_gap(loss, Y, w, base, spread, rows, single, total):
    """The mean over rows of g² / 2h at ``base``, summed over outputs; NaN where a row is flat.

    ``rows``: each row's secant curvature over one spread (:func:`loss_curvature`),
    h times spread². A kinked loss's rows are flat away from their kink: no
    measure then (the caller falls back on the curvature).
    """
    n = len(Y)
    slope = loss.gradient(Y, base[:, 0] if single else base).reshape(n, -1) * spread
    counted = w > 0
    if not np.all(rows[counted] > 0):
        return math.nan
    gaps = np.where(counted[:, None], slope * slope / (2 * rows), 0.0)
    return float(_weighted_mean(gaps, w, total=total).sum())


# How many times loss_curvature doubles its reach on a loss flat over one spread
_WIDENINGS = 64


def loss_curvature(loss, Y, w, base, spread, single, total=None):
    """The curvature of the loss over one spread of y around ``base``, per output.

    A secant, not a derivative: the change of the gradient between
    ``base - spread`` and ``base + spread``, divided by the distance. It is
    the second derivative for the squared error and a log-likelihood, and
    the share of the data near ``base`` for losses with kinks (absolute
    error, pinball, hinge), whose second derivative is 0 almost everywhere.
    Several outputs move together, with alternating signs (a softmax does
    not move when all its outputs rise); for a loss that treats outputs
    separately, each output's share is exactly its own curvature. Returns
    it, and each row's secant (before the mean). ``total``: see
    :func:`_weighted_mean`.
    """
    n = len(Y)
    # (one output: its sign is 1, and spread * 1.0 is spread, to the bit)
    direction = spread if len(spread) == 1 else spread * _alternating_signs(len(spread))

    def gradient(raw):
        return loss.gradient(Y, raw[:, 0] if single else raw).reshape(n, -1)

    change = (gradient(base + direction) - gradient(base - direction)) * direction / 2
    kappa = _weighted_mean(change, w, total=total)
    if len(spread) > 1 and not outputs_apart(loss, Y, base, spread, single):
        kappa = np.full_like(kappa, kappa.mean())  # outputs that move each other share one scale
    if len(kappa) == 1:  # (one output: a number's tests, not four ufuncs' on an array)
        value = kappa.item()
        if math.isfinite(value) and value > 0:
            return kappa, change
    else:
        curved = np.isfinite(kappa) & (kappa > 0)
        if curved.all():
            return kappa, change
    # a flat loss here: its gradient's size instead
    flat = ~(np.isfinite(kappa) & (kappa > 0))
    slope = _weighted_mean(np.abs(gradient(base)), w, total=total) * spread
    kappa[flat] = slope[flat]
    # Flat and level over a spread each way (an epsilon wider than the targets' range):
    # the secant further out, in the same units. A step set for a curvature of 1
    # carried the squared epsilon-insensitive loss, curved 2 y_scale² past its band,
    # to a divergence (diabetes, epsilon=400: 1e141 at epoch 9).
    wide, widened = direction, 1.0
    for _ in range(_WIDENINGS):
        flat = ~(np.isfinite(kappa) & (kappa > 0))
        if not flat.any():
            break
        wide, widened = wide * 2, widened * 4
        secant = (gradient(base + wide) - gradient(base - wide)) * wide / 2
        kappa[flat] = (_weighted_mean(secant, w, total=total) / widened)[flat]
    return np.where(np.isfinite(kappa) & (kappa > 0), kappa, 1.0), change


def link_outputs_apart(loss, Y, n_outputs, single):
    """Whether the loss has a link and several outputs it treats apart (:func:`outputs_apart`).

    Then each output has its own origin and loss scale, as it would alone
    (not one origin at 0 and the outputs' mean curvature there, which is
    Poisson's at 1 for counts near 180). Probed on the first few rows.
    """
    if n_outputs == 1 or not curves_with_prediction(loss):
        return False
    return outputs_apart(loss, Y[:_PROBE_ROWS], np.zeros(n_outputs), np.ones(n_outputs), single)


def outputs_apart(loss, Y, base, spread, single):
    """Whether moving the first output's raw prediction leaves the others' gradients alone.

    The loss then treats its outputs apart (Poisson's, or squared error's,
    columns), and each has its own best constant and curvature; a softmax's
    (the multinomial log loss) move together. ``base``: the raw predictions
    (or one row of them, for every row) moved from.
    """
    n = len(Y)
    base = np.broadcast_to(base, (n, len(spread)))

    def gradient(raw):
        return loss.gradient(Y, raw[:, 0] if single else raw).reshape(n, -1)

    # Both the first output and the last are moved: at a tie, a multiclass hinge's
    # (every score equal at the origin) names the first output its top wrong class,
    # and moving that output alone left the others' gradients as they were on rows
    # of another class. Taken apart, each output had its own curvature, most of them
    # flat (1 by default), and one-class chunks of a sorted stream stepped a ninth
    # of fit's step (digits sorted by class: 0.48 of the rows predicted before
    # learning them, SGDClassifier's hinge 0.92).
    # An output's change is judged against its own size too, not only the moved
    # output's change: the Euclidean distance couples an output of a far smaller spread
    # to the others by a share of its own tiny gradient, far under 1e-9 of the moved
    # one's (diabetes' y times 1e-7 beside log y times 1e7: taken apart, the small
    # output's step followed its own curvature, 1e-16, and its predictions came out
    # with a deviation of 1.3 for its 7.7e-6, R² -1.4e17, silently; a user trial).
    # A loss that treats its outputs apart changes the others' gradients by exactly 0.
    with np.errstate(all="ignore"):
        at = gradient(base)
        for k in (0, len(spread) - 1):
            after = gradient(base + np.eye(len(spread))[k] * spread)
            moved = after - at
            own = np.maximum(np.abs(at), np.abs(after)).max(axis=0, initial=1e-300)
            others = np.delete(np.abs(moved), k, axis=1)
            if np.any(others > 1e-9 * np.abs(moved[:, k]).max(initial=1e-300)):
                return False
            if np.any(others > 1e-9 * np.delete(own, k)):
                return False
        return True


@functools.cache
def _alternating_signs(n):
    """``[1, -1, 1, ...]``, ``n`` of them (read-only): made once, not on every streamed call."""
    signs = np.where(np.arange(n) % 2, -1.0, 1.0)
    signs.flags.writeable = False
    return signs


def best_constant(loss, y, w):
    """The constant raw prediction minimising the mean loss of a single output.

    The mean for the squared error, the median for the absolute error, the
    quantile for the pinball loss, the log-odds for the log loss: found by
    bisection on the sign of the mean gradient, which any convex loss
    changes once. 0 for a positively homogeneous loss (the perceptron's),
    whose loss at ``c`` is ``|c|`` times that at ``sign(c)``.
    """
    if getattr(loss, "homogeneous", False):
        return 0.0  # exactly (the search stops 2**-100 away: a loss of 1e-31, no unit)

    # About 60 evaluations on up to 10,000 targets, so each is kept to its numpy
    # calls: one errstate for all, one array of the constant, refilled, and the
    # sampled targets and weights (every 20th of 200,000 rows: a cache line each)
    # side by side (the search took 3.4 ms, 0.3 of a memory-bound epoch there).
    y, w = _side_by_side(y), _side_by_side(w)
    raw = np.empty(np.shape(y), dtype=float)

    def slope(value):
        raw.fill(value)
        gradient = loss.gradient(y, raw)
        return float(w @ np.reshape(gradient, (len(y), -1))[:, 0])

    with np.errstate(all="ignore"):
        return _bisect(slope, float(np.min(y)), float(np.max(y)))


def _side_by_side(values):
    """A strided 1-D array's values, two values apart: the same strided arithmetic, in cache.

    Still strided, so that numpy and BLAS take the same paths, and round
    the same (BLAS sums a contiguous dot product in another order).
    """
    if values.ndim != 1 or values.flags.c_contiguous:
        return values
    pairs = np.empty((len(values), 2), dtype=values.dtype)
    pairs[:, 0] = values
    return pairs[:, 0]


# best_constant's bisections halve until the two ends are neighbouring floats, this many
# times at most: from float64's widest bracket to its least spacing. (100 halvings of
# targets' range [2.5e31, 3.5e32] for Poisson, whose minimiser is their log, 74, ended
# 1e3 apart: a start at 44, and a fit of counts times 1e35 exploded, silently.)
_HALVINGS = 2100


def _bisect(slope, lo, hi):
    """:func:`best_constant`'s search: where ``slope`` changes sign, 0.0 if nowhere finite."""
    if lo == hi:  # one target (a stream's one-row call): half its size either side, on its
        # side of 0 (an identity-link Poisson loss of a rate 0.4, searched from -0.6, was
        # NaN there, and the stream started at 0, its loss infinite); 1 about 0
        half = abs(lo) / 2 if lo != 0 else 1.0
        lo, hi = lo - half, hi + half
    widened = 0.0  # the last widening: -1 moved lo down, +1 moved hi up
    for _ in range(60):  # widen until the slope changes sign in [lo, hi]
        at_lo, at_hi = slope(lo), slope(hi)
        if not (math.isfinite(at_lo) and math.isfinite(at_hi)):
            return 0.0
        if at_lo <= 0 <= at_hi:
            break
        width = hi - lo
        lo, hi, widened = (lo - width, hi, -1.0) if at_lo > 0 else (lo, hi + width, 1.0)
    else:
        return 0.0  # no finite minimiser (one class only, all-zero counts)
    # A widened bound whose slope is 0, and still 0 as far again, is no
    # minimiser but a tail where the gradient underflowed: the log loss of one
    # class only (or Poisson's of counts all 0) flattens to 0 near -745, its
    # infimum being at -inf. A "best constant" there would set a stream's
    # origin, kept for the whole stream, hundreds of units from any model.
    if widened:
        bound, at_bound = (lo, at_lo) if widened < 0 else (hi, at_hi)
        if at_bound == 0 and slope(bound + widened * (hi - lo)) == 0:
            return 0.0
    first, at_first = lo, at_lo
    for _ in range(_HALVINGS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        at_mid = slope(mid)
        lo, hi, at_lo = (lo, mid, at_lo) if at_mid > 0 else (mid, hi, at_mid)
    right = 0.5 * (lo + hi)  # where the slope turns positive
    if at_lo != 0:
        return right
    # Level on the way there: every point of [left, right] is a minimiser, and
    # their middle is the one (an even count's median; a dead zone wider than
    # the targets' range, where the right end, the largest target, put the
    # model's origin 160 units from diabetes' mean). The left end, where the
    # slope stops being negative:
    lo, hi = first, lo
    if at_first == 0:
        return 0.5 * (first + right)
    for _ in range(_HALVINGS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if slope(mid) >= 0 else (mid, hi)
    return 0.5 * (0.5 * (lo + hi) + right)


def _weighted_sum(weights, losses):
    """``weights @ losses``, where a row of weight 0 adds 0 even if its loss is inf or NaN."""
    total = weights @ losses
    if math.isfinite(total):  # (a number: math's test, not a ufunc's)
        return total
    counted = weights != 0
    return weights[counted] @ losses[counted]


def _weighted_mean(values, weights, total=None):
    """``np.average(values, axis=0, weights=weights)``, with ``weights`` one a row.

    The same arithmetic in the same dtype, so the same result to the bit,
    without np.average's handling of any axis and shape, which costs more
    than the sums themselves on a streamed chunk of one row. ``total``: a
    ``{dtype: sum}`` of ``weights`` (:func:`_weight_total`), filled as sums
    are taken, for means over the same weights.
    """
    values = np.asarray(values)
    if values.dtype == weights.dtype and values.dtype.kind == "f":  # (result_type's answer)
        dtype = values.dtype
    else:
        extra = ("f8",) if values.dtype.kind in "biu" else ()  # integers average as floats
        dtype = np.result_type(values.dtype, weights.dtype, *extra)
    if total is not None and dtype in total:
        weight_sum = total[dtype]
    else:
        weight_sum = _weight_total(weights, dtype)[dtype]
        if total is not None:
            total[dtype] = weight_sum
    if values.ndim == 2:
        weights = weights[:, None]
    elif values.ndim > 2:
        weights = weights.reshape((-1,) + (1,) * (values.ndim - 1))
    # (ndarray.sum's reduction without its wrapper; no dtype to ask for when both are in it)
    same = values.dtype == dtype and weights.dtype == dtype
    products = values * weights if same else np.multiply(values, weights, dtype=dtype)
    return np.add.reduce(products, axis=0) / weight_sum


def _weight_total(weights, dtype):
    """``{dtype: weights' sum in dtype}``, the denominator of :func:`_weighted_mean`.

    Raises ZeroDivisionError, as np.average does, for weights that sum to 0.
    """
    total = np.add.reduce(weights, dtype=dtype)  # (ndarray.sum's reduction, without its wrapper)
    # (a weight of 0 in total: ndarray.all's wrapper costs a streamed row's call more)
    if total == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return {np.dtype(dtype): total}


_EVERY = slice(None)  # every row: what _sample_rows returns for few rows


def _sample_rows(n, sample_weight=None):
    """Evenly spaced rows, at most ``_SAMPLE_ROWS``: cheap, deterministic statistics.

    Of the rows of positive weight: rows of weight 0 are absent, and an even
    spacing could take only them (every other row weighted 0, a step of 10).
    """
    every = _EVERY if n <= _SAMPLE_ROWS else slice(None, None, -(-n // _SAMPLE_ROWS))
    if sample_weight is None or n <= _SAMPLE_ROWS:
        return every
    positive = sample_weight > 0
    # (all positive, the usual case, is told without flatnonzero's index of every
    # row: 0.2 ms at 200,000 rows, some four times a fit)
    if positive.all() or not positive.any():
        return every
    counted = np.flatnonzero(positive)
    return counted[_sample_rows(len(counted))]


def _compiled_dense(X):
    """Whether the compiled passes over dense X serve (X is read in place, in its dtype)."""
    return _kernel.ENABLED and _kernel.numba is not None and not sparse.issparse(X)


def _compiled_sparse(X):
    """Whether the compiled power iteration serves sparse X: CSR (duplicates add up)."""
    compiled = _kernel.ENABLED and _kernel.numba is not None
    return compiled and sparse.issparse(X) and X.format == "csr"


def _sparse_squared_row_norms(X, mean, scale, unshifted=False):
    """Each row's ``||(x_i - mean) / scale||^2`` for sparse X, without densifying it.

    The compiled pass on canonical CSR X (``unshifted`` as
    :func:`_largest_squared_row_norm`'s), else scipy's products.
    """
    with np.errstate(all="ignore"):
        if _compiled_sparse(X) and X.has_canonical_format:
            arrays = X.data, X.indices, X.indptr, mean, scale, unshifted
            return _curvature_passes.sparse_squared_row_norms(*arrays)
        shift = mean / scale
        Z = X.multiply(1.0 / scale).tocsr()
        return np.asarray(Z.multiply(Z).sum(axis=1)).ravel() - 2 * (Z @ shift) + shift @ shift


def _largest_squared_row_norm(X, mean, scale, unshifted=False):
    """max_i ||(x_i - mean) / scale||^2, in one pass over X, without copying it.

    numpy's floating-point warnings are silenced here; the compiled pass over
    dense X raises none, and takes no ``errstate`` (a streamed row's call).
    ``unshifted``: :func:`skgd._curvature_passes.unshifted` of ``mean`` and
    ``scale``, if known (the compiled pass over CSR X then skips the shifts).
    """
    compiled = _kernel.ENABLED and _kernel.numba is not None
    if compiled and not sparse.issparse(X):
        return float(_curvature_passes.largest_squared_row_norm(X, mean, scale))
    with np.errstate(all="ignore"):
        if compiled and X.format == "csr" and X.has_canonical_format:  # (X is sparse)
            arrays = X.data, X.indices, X.indptr, mean, scale, unshifted
            return float(_curvature_passes.sparse_largest_squared_row_norm(*arrays))
        if sparse.issparse(X):
            return float(_sparse_squared_row_norms(X, mean, scale).max())
        best = 0.0
        for start in range(0, X.shape[0], 4096):
            block = (X[start : start + 4096] - mean) / scale
            best = max(best, float(np.einsum("ij,ij->i", block, block).max()))
        return best
