"""An early-stopping fit's last batch of fewer rows: its rows' share of a step (a user trial)."""

import numpy as np
from sklearn.model_selection import train_test_split

from skgd import GDRegressor
from skgd._loop import Settings, TrainingState
from skgd._schedules import Schedule
from skgd.optim import Nesterov


def test_an_early_stopping_fits_last_batch_of_fewer_rows_takes_its_rows_share_of_a_step():
    settings = Settings(
        learning_rate=0.5, curvature=(1.0, 4.0), batch_size=32, max_epochs=10,
        schedule="adaptive", tol=1e-3,
    )  # fmt: skip
    state = TrainingState(np.zeros((1, 3)), np.zeros(1), Nesterov(), None)
    # batches of 32, 32 and 2, an early-stopping fit's (as the loop makes it)
    schedule = Schedule(settings, state, 66, held_out=True)
    steps = schedule.steps(0, 3)
    assert steps[0] == steps[1]
    assert np.isclose(steps[2], steps[0] * 2 / 32)
    assert schedule.steps(0, 2)[1] == steps[0]  # (64 rows: two whole batches)


def _leverage_data(seed=0):
    """73 training rows (early stopping trains on 66), a skewed column and a rare code."""
    rng = np.random.RandomState(seed)
    n = 98
    X = rng.randn(n, 6)
    X[:, 0] = rng.lognormal(0.0, 1.2, n)  # a skewed column, as incomes' or counts'
    X[:, 5] = (rng.rand(n) < 0.1).astype(float)  # a rare one-hot code
    y = X @ np.array([3.0, 1.0, -2.0, 0.5, 0.0, 4.0]) + rng.randn(n)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def test_early_stopping_epochs_do_not_swing_on_a_leftover_batch_of_two_rows():
    Xtr, Xte, ytr, yte = _leverage_data()
    assert len(ytr) == 73  # (early stopping trains on 66: batches of 32, 32 and 2)
    worst = []
    for seed in range(5):
        model = GDRegressor(random_state=seed, early_stopping=True).fit(Xtr, ytr)
        worst.append(min(model.validation_scores_[:8]))
    # a full step on the leftover 2 rows threw the epochs' models far off (the worst
    # validation R² of the first 8 epochs: -3.47 to 0.78, median -1.52); their share of
    # a step keeps them near the fit's (0.11 to 0.80, median 0.44)
    assert np.median(worst) > 0.0
