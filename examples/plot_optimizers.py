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
rate; the curves show how far each epoch's objective is above the exact
optimum (Ridge). Momentum and Adam get there first. At a constant step,
RMSprop keeps hovering about the optimum, as each of its steps is about γ
long however small the gradient, and Adagrad's steps shrink for good: with
those two, use ``schedule="adaptive"``, which shrinks γ when progress stalls.
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

curves = {}
for name in OPTIMIZERS:
    model = GDRegressor(
        optimizer=name, alpha=alpha, batch_size=len(X), max_iter=500, tol=None, random_state=0
    ).fit(X, y)
    curves[name] = np.array(model.loss_curve_) - optimum

# %%
# Epochs until the objective is within 1% of the optimum.
for name, gap in curves.items():
    reached = np.flatnonzero(gap <= 0.01 * optimum)
    epochs = f"{reached[0] + 1:4d} epochs" if reached.size else "not within 500 epochs"
    print(f"{name:>9}: {epochs}, final gap {gap[-1]:.2e}")

# %%
# The loss curves, if matplotlib is installed (``pip install skgd[examples]``).
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, gap in curves.items():
        ax.semilogy(np.arange(1, len(gap) + 1), np.maximum(gap, 1e-12), label=name)
    ax.axhline(0.01 * optimum, color="grey", linestyle=":", label="1% of the optimum")
    ax.set_xlabel("epoch")
    ax.set_ylabel("objective - optimum")
    ax.set_title("Full-batch descent on near-copies of one feature")
    ax.legend()

    # sphinx_gallery_start_ignore
    from _display import save_figures_if_no_display

    save_figures_if_no_display()
    # sphinx_gallery_end_ignore
    plt.show()
