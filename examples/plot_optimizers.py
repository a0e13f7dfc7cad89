"""
Optimizers on an ill-conditioned problem
========================================

Standardizing the features (which skgd does in its coordinates) fixes
features of different scales, but not features that are nearly copies of
each other: their sum is a steep direction and their differences are flat
ones, and plain gradient descent, whose step must suit the steepest
direction, crawls along the flat ones. Momentum keeps the speed it gathers
along a consistent direction; Adam, RMSprop and Adagrad scale each
coordinate's step by the size of its gradients.

Each optimizer trains full-batch for 500 epochs with the same learning
rate, once at a constant step (the course's setting) and once with the
default ``schedule="adaptive"``; the curves show how far each epoch's
objective is above the exact optimum (Ridge).

At a constant step, Nesterov gets within 1% of the optimum first (27
epochs), then momentum (41) and Adam (56), while Adagrad (72) and plain
descent (77) crawl and end 0.16% and 0.35% above it. RMSprop comes within
3% at epoch 10, then bounces away and settles 8 times the optimum above
it: its steps stay about as long however small the gradient.

The adaptive schedule, at the whole data from the start, lets the step
follow the curvature (it grows while the loss falls, halves at a rise).
Every optimizer then gets within 1% in 17 to 64 epochs, plain descent
first and Adam last, and RMSprop no longer bounces; but along the flat
directions the momentum methods still win: after 500 epochs momentum,
Nesterov and Adam end within 2e-11 of the optimum (relative to it),
plain descent, Adagrad and RMSprop 0.8 to 3 in 10,000 above it.
"""

# %%
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor
from skgd.optim import OPTIMIZERS

rng = np.random.RandomState(0)
base = rng.normal(size=(500, 1))
copies = [base + 0.05 * rng.normal(size=(500, 1)) for _ in range(5)]
X = StandardScaler().fit_transform(np.hstack(copies + [rng.normal(size=(500, 3))]))
y = X @ rng.normal(size=8) + 0.1 * rng.normal(size=500)
alpha = 0.01

exact = Ridge(alpha=alpha * len(X)).fit(X, y)
optimum = np.mean(0.5 * (exact.predict(X) - y) ** 2) + 0.5 * alpha * exact.coef_ @ exact.coef_

schedules = ("constant", "adaptive")
curves = {schedule: {} for schedule in schedules}
for schedule in schedules:
    for name in OPTIMIZERS:
        model = GDRegressor(
            optimizer=name, schedule=schedule, alpha=alpha, batch_size=len(X), max_iter=500,
            tol=None, random_state=0,
        ).fit(X, y)  # fmt: skip
        curves[schedule][name] = np.array(model.loss_curve_) - optimum

# %%
# Epochs until the objective is within 1% of the optimum, and how far above
# the optimum (relative to it) the last epoch ends.
for schedule in schedules:
    print(f"schedule={schedule!r}")
    for name, gap in curves[schedule].items():
        reached = np.flatnonzero(gap <= 0.01 * optimum)
        epochs = f"{reached[0] + 1:4d} epochs" if reached.size else "not within 500 epochs"
        print(f"  {name:>9}: {epochs}, final gap {gap[-1] / optimum:.1e} of the optimum")

# %%
# The loss curves, if matplotlib is installed (``pip install skgd[examples]``).
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, schedule in zip(axes, schedules, strict=True):
        for name, gap in curves[schedule].items():
            ax.semilogy(np.arange(1, len(gap) + 1), np.maximum(gap, 1e-12), label=name)
        ax.axhline(0.01 * optimum, color="grey", linestyle=":", label="1% of the optimum")
        ax.set_xlabel("epoch")
        ax.set_title(f'schedule="{schedule}"')
    axes[0].set_ylabel("objective - optimum")
    axes[1].legend(loc="upper right", ncol=2, fontsize="small")
    fig.suptitle("Full-batch descent on near-copies of one feature")
    fig.tight_layout()

    # sphinx_gallery_start_ignore
    from _display import save_figures_if_no_display

    save_figures_if_no_display()
    # sphinx_gallery_end_ignore
    plt.show()
