r"""
The built-in losses, drawn
==========================

The course's three families of losses, each drawn from skgd's own loss
objects (``loss.loss(y_true, raw_prediction)``):

* **regression**, against the residual :math:`r = \hat y - y`: the squared
  error (the course's :math:`L`), the absolute error, Huber's smoothed error,
  the ε-insensitive margin, and the Poisson deviance's loss at a target of 1
  against the raw (log-scale) prediction;
* **classification**, against the margin :math:`z = y \hat z` with
  :math:`y \in \{-1, 1\}`: cross-entropy, the margins (hinge, squared hinge,
  modified Huber) and the perceptron, next to the 0-1 loss they stand in for;
* **embedding**, between a predicted and a target vector, against the angle
  between them: the L1 and L2 distances grow with the length of the
  prediction too, the cosine distance sees only the angle.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skgd.losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES, Huber

residual = np.linspace(-3, 3, 601)
margin = np.linspace(-3, 3, 601)
angle = np.linspace(0, np.pi, 361)

# %%
# Regression: the loss of a prediction r away from its target 0 (Poisson: the
# loss at target 1 of the raw prediction r, minus its minimum).
regression = {}
for name in ["squared_error", "absolute_error", "huber", "epsilon_insensitive", "poisson"]:
    loss = REGRESSION_LOSSES[name]()
    if name == "poisson":
        values = loss.loss(np.ones_like(residual), residual) - loss.loss(np.ones(1), np.zeros(1))
    else:
        values = loss.loss(np.zeros_like(residual), residual)
    regression[name] = values
    print(f"{name:>20}: loss at r = 2 is {values[np.searchsorted(residual, 2.0)]:.2f}")
print("Huber's delta is in the units of y:", Huber().get_params())

# %%
# Classification: with a target of +1, the raw prediction is the margin.
classification = {}
for name in ["log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron"]:
    loss = CLASSIFICATION_LOSSES[name]()
    classification[name] = loss.loss(np.ones_like(margin), margin)

# %%
# Embeddings: a target (1, 0) and predictions at an angle θ from it, of
# length 1 (solid) and 2 (dashed).
from skgd.losses import CosineDistance, L1Distance, L2Distance  # noqa: E402

target = np.tile([1.0, 0.0], (angle.size, 1))
embedding = {}
for loss in [L1Distance(), L2Distance(), CosineDistance()]:
    for length in [1.0, 2.0]:
        prediction = length * np.column_stack([np.cos(angle), np.sin(angle)])
        embedding[type(loss).__name__, length] = loss.loss(target, prediction)

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
ax = axes[0]
for name, values in regression.items():
    ax.plot(residual, values, label=name)
ax.set(xlabel="residual r = ŷ − y", ylabel="loss", ylim=(-0.1, 3.5), title="Regression")
ax.legend(fontsize=8)

ax = axes[1]
ax.plot(margin, (margin <= 0).astype(float), color="0.3", linestyle=":", label="0-1 loss")
for name, values in classification.items():
    ax.plot(margin, values, label=name)
ax.set(xlabel="margin z = y·ẑ", ylabel="loss", ylim=(-0.1, 4), title="Classification")
ax.legend(fontsize=8)

ax = axes[2]
colors = {"L1Distance": "tab:blue", "L2Distance": "tab:orange", "CosineDistance": "tab:green"}
for (name, length), values in embedding.items():
    ax.plot(
        np.degrees(angle),
        values,
        color=colors[name],
        linestyle="-" if length == 1.0 else "--",
        label=f"{name}, |ŷ| = {length:g}",
    )
ax.set(xlabel="angle between ŷ and y = (1, 0), degrees", ylabel="loss", title="Embedding")
ax.set_xticks([0, 45, 90, 135, 180])
ax.legend(fontsize=8)
fig.tight_layout()

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
