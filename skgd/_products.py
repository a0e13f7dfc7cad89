"""``X @ W.T``, the raw predictions' product, at the cost of X's stored values on wide sparse X.

scipy multiplies CSR X by a dense matrix of several columns only when that
matrix is C-contiguous: ``W.T`` is not (W is ``(n_outputs, n_features)``),
so scipy copies all of it first. On hashed text (5 classes, 2**20 columns)
that copy is 42 MB, for a row of 30 values: predicting one row took 10 ms
(as SGDClassifier's), and a stream's call of 100 rows copied it twice. A
compiled product reads W where X stores values instead (without numba,
a gather of the stored columns' coefficients serves few rows).
"""

import numpy as np
from scipy import sparse
from sklearn.utils.extmath import safe_sparse_dot

from . import _kernel
from ._compiled import _exact

# The gather reads W's coefficients at random, a cache miss each where the copy reads them in
# order: it serves when X stores fewer values than this fraction of its columns
_GATHER_FRACTION = 1 / 8


def rows_times_coefficients(X, W, float64=False):
    """``np.asarray(X @ W.T)``: each row's raw prediction of each output, without the intercept.

    For CSR X and several outputs, compiled code reads W's coefficients
    where X stores values (:func:`_csr_times_transposed`); without numba,
    for CSR X that stores few values for its width, the coefficients of
    each stored value's column are gathered (``nnz x n_outputs``), and the
    product is taken on them. Either way: the same values, summed in the
    same order, so the same numbers to the bit. ``float64``: W's
    coefficients are taken in float64 (X is float64 already), only those
    read or gathered: a float32 model of 21 outputs on 2**20 columns,
    copied whole to float64 at each call, took 39 ms to predict one row
    (0.2 ms in float64; a user trial).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The rows.
    W : ndarray or sparse matrix of shape (n_outputs, n_features)
        The coefficients (sparse after ``sparsify()``).

    Returns
    -------
    raw : ndarray of shape (n_samples, n_outputs)
        ``X @ W.T``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> from skgd._products import rows_times_coefficients
    >>> X = sparse.csr_matrix(([2.0, 3.0], [1, 9998], [0, 1, 2]), shape=(2, 10_000))
    >>> W = np.arange(20_000.0).reshape(2, 10_000)
    >>> rows_times_coefficients(X, W)
    array([[2.0000e+00, 2.0002e+04],
           [2.9994e+04, 5.9994e+04]])
    """
    if sparse.issparse(W):  # (a sparsified coef_)
        W = W.astype(np.float64) if float64 else W
        return np.asarray(safe_sparse_dot(X, W.T, dense_output=True))
    if _compiled_serves(X, W):
        dtype = np.float64 if float64 else np.result_type(X.dtype, W.dtype)
        raw = np.zeros((X.shape[0], W.shape[0]), dtype=dtype)
        _csr_times_transposed(X.data, X.indices, X.indptr, W, raw)
        return raw
    few = (
        sparse.issparse(X)
        and X.format == "csr"
        and W.shape[0] > 1  # (one output: W.T is a contiguous column, no copy)
        and X.nnz < _GATHER_FRACTION * X.shape[1]
    )
    if not few:
        return np.asarray(X @ (W.astype(np.float64) if float64 else W).T)
    gathered = W.T[X.indices]  # (nnz, n_outputs): each stored value's coefficients
    if float64:
        gathered = gathered.astype(np.float64)
    # each stored value its own column, in the order X stores them
    places = np.arange(X.nnz, dtype=X.indices.dtype)
    compact = sparse.csr_matrix((X.data, places, X.indptr), shape=(X.shape[0], max(X.nnz, 1)))
    if not X.nnz:  # (no stored value: the gathered matrix needs a row to match)
        gathered = np.zeros((1, W.shape[0]), dtype=gathered.dtype)
    return np.asarray(compact @ gathered)


def _compiled_serves(X, W):
    """Whether :func:`_csr_times_transposed` takes ``X @ W.T``: CSR X, W of several outputs."""
    return (
        _kernel.ENABLED
        and _kernel.numba is not None
        and sparse.issparse(X)
        and X.format == "csr"
        and W.ndim == 2
        and W.shape[0] > 1  # (one output: W.T is a contiguous column, scipy's product serves)
        and X.dtype in (np.float32, np.float64)
        and W.dtype in (np.float32, np.float64)
    )


@_exact
def _csr_times_transposed(data, indices, indptr, W, raw):
    """``raw += X @ W.T`` for CSR X, W read where X stores values: no copy of W.T.

    scipy's product (``csr_matvecs``) sums each row's ``data[q] * W.T[j, k]``
    in X's order into zeros, in the result's dtype: so does this, the same
    bits. Each stored value reads its column's coefficients, one cache line
    an output, where scipy first copies all of W.T: on hashed-text-like rows
    (30 values, 5 outputs), 10,000 rows took 12 ms here where scipy took 32
    at 2**20 columns, 1,000 rows 0.9 ms where the copy alone took 12.
    """
    for i in range(raw.shape[0]):
        for q in range(indptr[i], indptr[i + 1]):
            a = data[q]
            j = indices[q]
            for k in range(W.shape[0]):
                raw[i, k] += a * W[k, j]
