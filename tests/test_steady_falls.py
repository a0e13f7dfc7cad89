"""A batch stage held back by its step, not its noise, doubles it (Schedule.after_batch_epoch)."""

from types import SimpleNamespace

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer

import skgd._schedules
from skgd import GDClassifier


def _documents(n=2000, vocabulary=5000, n_classes=3, length=40, seed=0):
    """TF-IDF rows of words drawn by Zipf's law, a third of them from their class's own words."""
    rng = np.random.RandomState(seed)
    frequency = 1.0 / np.arange(1, vocabulary + 1) ** 1.1
    frequency /= frequency.sum()
    topics = [rng.permutation(vocabulary) for _ in range(n_classes)]
    y = rng.randint(n_classes, size=n)
    words = rng.choice(vocabulary, size=(n, length), p=frequency)
    own = rng.uniform(size=(n, length)) < 0.3
    for k in range(n_classes):
        mine = own & (y == k)[:, None]
        words[mine] = topics[k][words[mine]]
    rows = np.repeat(np.arange(n), length)
    counts = sparse.csr_matrix((np.ones(n * length), (rows, words.ravel())), (n, vocabulary))
    return TfidfTransformer().fit_transform(counts), y


def test_a_steadily_falling_batch_stage_doubles_its_step_and_trains_further(monkeypatch, capsys):
    # Hashed and TF-IDF text (a user trial): a log loss flattens as its classes part, and
    # the first stage crawled at the stable step set where the model started, 40 epochs
    # at batches of 32, each falling by more than tol (79-86 epochs in all, where
    # SGDClassifier took 17-22). Here the same kind of rows, generated.
    X, y = _documents()
    doubled = GDClassifier(random_state=0, verbose=1).fit(X, y)
    rates = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines()[1:]]
    assert max(rates[:20]) >= 1.0  # the step doubled (γ = 0.5 of the stable step before)
    monkeypatch.setattr(skgd._schedules, "_STEADY_FALLS", 10**9)
    kept = GDClassifier(random_state=0, verbose=1).fit(X, y)
    rates = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines()[1:]]
    assert max(rates[:20]) == 0.5
    assert doubled.loss_curve_[-1] < 0.95 * kept.loss_curve_[-1]  # (0.0242 for 0.0273)


def test_dense_x_trains_as_before_where_sparse_x_doubles_its_step(monkeypatch):
    # The rule is sparse X's (on dense tables it cost L1's zeros and some fits'
    # accuracy): the same rows, dense, train to the bit as without it
    X, y = _documents()
    fits = {}
    for falls in [3, 10**9]:
        monkeypatch.setattr(skgd._schedules, "_STEADY_FALLS", falls)
        for form in [X, X.toarray()]:
            model = GDClassifier(optimizer="sgd", random_state=0).fit(form, y)
            fits[falls, sparse.issparse(form)] = model.coef_
    assert not np.array_equal(fits[3, True], fits[10**9, True])  # (the rule took sparse X)
    assert np.array_equal(fits[3, False], fits[10**9, False])


def test_a_warm_start_goes_on_from_the_stages_own_step_not_its_doublings(capsys):
    # (a review) The stage a warm start goes on from kept the doubled step as its own:
    # the next fit ran every batch epoch at 4 times the stage's step, and each warm fit
    # could double it again
    X, y = _documents()
    model = GDClassifier(random_state=0, warm_start=True, max_iter=12, verbose=1).fit(X, y)
    rates = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines()[1:]]
    assert rates[-1] > 0.5  # (it ended doubled)
    model.set_params(max_iter=3).fit(X, y)
    rates = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines()[1:]]
    assert rates[0] == 0.5


def test_the_step_doubles_after_steady_falls_above_tol_and_halves_back_at_a_rise():
    # The rule alone: three falls in a row, each above tol and at least 0.6 times the
    # one before; a rise halves a doubled step, never under the stage's own
    schedule = object.__new__(skgd._schedules.Schedule)
    schedule.rate, schedule.grown, schedule.stage_losses = 0.5, 1.0, []
    stop = SimpleNamespace(tol=1e-3, objective=SimpleNamespace(reference_loss=1.0))

    def epochs(*losses):
        for loss in losses:
            schedule.after_batch_epoch(loss, stop)
        return schedule.rate

    assert epochs(1.0, 0.9, 0.83, 0.78) == 1.0  # falls 0.1, 0.07, 0.05: steady
    assert epochs(0.74, 0.71, 0.70) == 1.0  # 0.04, 0.03, then 0.01: a noise floor
    assert epochs(0.72) == 0.5  # a rise: back to the stage's own
    assert epochs(0.73) == 0.5  # and never under it
    assert epochs(0.7295, 0.729, 0.7286) == 0.5  # steady, but each under tol: no doubling
    schedule.rate, schedule.grown, schedule.stage_losses = 0.5, 1.0, []
    assert epochs(1.0, 0.5, 0.25, 0.2) == 0.5  # falls 0.5, 0.25, 0.05: slowing down
    # doubled three times, it halves back one rise at a time
    assert epochs(0.19, 0.18, 0.17, 0.16, 0.15, 0.14, 0.13, 0.12, 0.11, 0.10) == 4.0
    assert epochs(0.2) == 2.0 and epochs(0.3) == 1.0 and epochs(0.4) == 0.5
    # a divergence after doublings: no longer than the stage's own, and no more doubling
    epochs(0.39, 0.38, 0.37, 0.36)
    assert schedule.rate == 1.0
    schedule.bold = True
    schedule.shorter_step()
    assert schedule.rate == 0.2 and not schedule.bold  # (1.0 / 5: under the own 0.5)
