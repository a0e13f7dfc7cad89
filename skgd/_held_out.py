"""Rows predicted at every epoch: early stopping's validation rows, the perceptron's sample.

On wide sparse X (hashed text: 2**18 to 2**20 columns) the model in X's
units, made at each epoch to predict a few hundred rows, cost more than
the epoch itself: 5 x 2**18 coefficients made, checked and copied for
rows that store a few thousand distinct columns. Here the rows are kept
on their own columns, and only those columns' coefficients are made.
"""

import numpy as np
from scipy import sparse

from ._passes import all_finite


class HeldOut:
    """Rows of X whose raw predictions are asked for again and again, at models that change.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The rows. Sparse CSR rows that store fewer distinct columns than
        half of X's columns are kept on those columns alone.
    """

    def __init__(self, X):
        self.X, self.columns, self.full = X, None, X
        if sparse.issparse(X) and X.format == "csr" and 2 * X.nnz < X.shape[1]:
            columns, places = np.unique(X.indices, return_inverse=True)
            # the same values in the same order in each row: each row's sum of
            # products is the one X @ W.T makes, to the bit
            self.X = sparse.csr_matrix(
                (X.data, places.astype(X.indices.dtype), X.indptr), shape=(X.shape[0], len(columns))
            )
            self.columns = columns

    def raw_prediction(self, objective, V, c, single):
        """:meth:`skgd._objective.Objective.raw_prediction` of the rows at ``(V, c)``.

        Made from the coefficients of the rows' columns (and of the centred
        ones, for the intercept) while those are finite; else from the whole
        model. The same values, to rounding (the intercept's sum over few
        centred columns); an overflow elsewhere, which the fit refuses at its
        end, gives NaN there, not here.
        """
        if self.columns is not None:
            model = objective.to_model_at(V, c, self.columns)
            if model is not None and all_finite(model[0]):
                raw = np.asarray(self.X @ model[0].T) + model[1]
                return raw[:, 0] if single else raw
        return objective.raw_prediction(self.full, V, c, single)
