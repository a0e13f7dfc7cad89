"""
L1 against L2: exact zeros
==========================

Twenty features, of which only five carry the target. Both penalties pull
the coefficients towards zero, at the same strength ``alpha``:

* ``penalty="l2"`` adds ``alpha * w`` to each gradient: coefficients shrink
  in proportion, and the fifteen useless ones end small but not zero;
* ``penalty="l1"`` is applied after each step by its proximal step, the
  soft-thresholding ``w <- sign(w) * max(|w| - γ·alpha, 0)``: a coefficient
  whose gradient cannot hold it away from zero lands exactly on zero, so the
  model selects the features.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor

X, y, true_coef = make_regression(
    n_samples=300, n_features=20, n_informative=5, noise=5.0, coef=True, random_state=0
)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
true_coef = true_coef / true_coef.std()

models = {}
for penalty in ["l2", "l1"]:
    models[penalty] = GDRegressor(
        penalty=penalty, alpha=0.05, learning_rate=0.1, max_iter=2000, random_state=0
    ).fit(X, y)
    coef = models[penalty].coef_
    print(
        f"penalty={penalty}: {np.sum(coef == 0):2d} coefficients exactly 0, "
        f"smallest |coef| {np.abs(coef).min():.1e}, R² {models[penalty].score(X, y):.3f}"
    )
print("informative features:", np.flatnonzero(true_coef))

# %%
# The coefficients of each model; a hollow marker is a coefficient exactly 0.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
features = np.arange(X.shape[1])
for ax, (penalty, model) in zip(axes, models.items(), strict=True):
    coef = model.coef_
    zero = coef == 0
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.vlines(features, 0, coef, color="tab:blue")
    ax.plot(features[~zero], coef[~zero], "o", color="tab:blue", label="coefficient")
    ax.plot(features[zero], coef[zero], "o", mfc="white", color="tab:blue", label="exactly 0")
    ax.set_title(f'penalty="{penalty}": {zero.sum()} of {coef.size} coefficients exactly 0')
    ax.set_xlabel("feature")
    ax.set_xticks(features[::2])
    ax.legend(loc="upper right", fontsize=8)
axes[0].set_ylabel("coef_")
fig.tight_layout()

# %%
# On a log scale, the useless coefficients: small under L2, absent under L1
# (a zero has no logarithm, so it is drawn on the floor of the axis).
fig, ax = plt.subplots(figsize=(7, 3.5))
floor = 1e-6
for penalty, marker in [("l2", "o"), ("l1", "x")]:
    magnitude = np.maximum(np.abs(models[penalty].coef_), floor)
    ax.semilogy(features, magnitude, marker, label=f'penalty="{penalty}"')
ax.axhline(floor, color="0.6", linestyle=":", label="exactly 0")
ax.set_xlabel("feature")
ax.set_ylabel("|coef_|")
ax.set_xticks(features[::2])
ax.legend(fontsize=8)
fig.tight_layout()

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
