"""Text-like sparse X for the tests: rows of a few 0/1 columns out of thousands."""

import numpy as np
from scipy import sparse


def text_like(n=600, p=4000, per_row=8, seed=0):
    """Rows of a few 0/1 columns out of thousands (0.2% stored), a class's words more frequent."""
    rng = np.random.RandomState(seed)
    y = rng.randint(3, size=n)
    words = rng.randint(p, size=(3, 40))
    columns = np.where(
        rng.uniform(size=(n, per_row)) < 0.5,
        words[y[:, None], rng.randint(40, size=(n, per_row))],
        rng.randint(p, size=(n, per_row)),
    )
    X = sparse.csr_matrix(
        (np.ones(n * per_row), columns.ravel(), np.arange(0, n * per_row + 1, per_row)),
        shape=(n, p),
    )
    X.sum_duplicates()
    return X, y
