"""
The stop criterion: early stopping against a fixed number of epochs
===================================================================

The course's loop runs "while the stop criterion does not hold". skgd has
two:

* by default, the **training loss**: stop when it has not improved by ``tol``
  for ``n_iter_no_change`` epochs (``tol=None``: run all ``max_iter``);
* with ``early_stopping=True``, the **score on held-out data**: a
  ``validation_fraction`` of the training data is set aside, scored after each
  epoch, and training stops when that score stops improving; the best
  coefficients seen are kept.

Here on the digits, with a held-out test set that neither ever sees. The
first figure is ``ConvergenceDisplay`` of the early-stopped model: the
training loss keeps falling while the validation score levels off. The
second follows the test accuracy of a model trained on all the training
data, epoch by epoch, and marks where early stopping stopped.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier
from skgd.plotting import ConvergenceDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

early = GDClassifier(early_stopping=True, max_iter=300, random_state=0).fit(X_train, y_train)
kept = int(np.argmax(early.validation_scores_)) + 1
print(
    f"early stopping: {early.n_iter_} epochs, best validation accuracy "
    f"{early.best_validation_score_:.3f} at epoch {kept}, test accuracy "
    f"{early.score(X_test, y_test):.3f}"
)

# %%
# A fixed number of epochs on all the training data, scored on the test set
# after each epoch (``partial_fit`` runs one epoch a call).
fixed = GDClassifier(random_state=0)
classes = np.unique(y)
test_accuracy = []
for _ in range(early.n_iter_ + 60):
    fixed.partial_fit(X_train, y_train, classes=classes)
    test_accuracy.append(fixed.score(X_test, y_test))
print(
    f"fixed epochs: test accuracy {test_accuracy[early.n_iter_ - 1]:.3f} after "
    f"{early.n_iter_} epochs, {test_accuracy[-1]:.3f} after {len(test_accuracy)}"
)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
display = ConvergenceDisplay.from_estimator(early, ax=axes[0], log_scale=True)
# (a name would label both curves: "<name>" and "<name> (validation score)")
display.line_.set_label("training loss")
display.validation_line_.set_label("validation accuracy (10% held out)")
display.validation_ax_.axvline(kept, color="0.3", linestyle=":")
display.validation_ax_.annotate(
    "coefficients kept", (kept, early.best_validation_score_), xytext=(5, -25),
    textcoords="offset points", fontsize=8,
)  # fmt: skip
axes[0].legend(handles=[display.line_, display.validation_line_], loc="center right")
axes[0].set_title(f"early_stopping=True: stopped after {early.n_iter_} epochs")

epochs = np.arange(1, len(test_accuracy) + 1)
axes[1].plot(epochs, test_accuracy, color="tab:green", label="fixed epochs, all training data")
axes[1].axvline(early.n_iter_, color="0.3", linestyle=":")
axes[1].plot(
    early.n_iter_, early.score(X_test, y_test), "o", color="tab:orange",
    label="early stopping (90% of the training data)",
)  # fmt: skip
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("accuracy on the test set")
axes[1].set_ylim(0.8, 1.0)
axes[1].set_title("Evaluated on data never seen in training")
axes[1].legend(loc="lower right", fontsize=8)
fig.tight_layout()

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
