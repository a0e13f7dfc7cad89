"""
Digits: normalise, train, evaluate on data never seen
=====================================================

The course's recipe on a real data set: the features are normalised with
the *training* set's mean and std (a ``StandardScaler`` inside the
pipeline, so the test set never leaks into it), the model is trained by
minibatch gradient descent on the cross-entropy, and it is evaluated on a
held-out split with the macro-averaged precision and recall of the course
(the mean over classes of each class's precision and recall).
"""

# %%
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

model = make_pipeline(StandardScaler(), GDClassifier(loss="log_loss", random_state=0))
model.fit(X_train, y_train)
y_pred = model.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))

# %%
# Macro precision and recall, next to the exact solver of the same loss.
exact = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
for name, predictions in [("GDClassifier", y_pred), ("LogisticRegression", exact.predict(X_test))]:
    precision = precision_score(y_test, predictions, average="macro")
    recall = recall_score(y_test, predictions, average="macro")
    print(f"{name:>18}: macro precision {precision:.3f}, macro recall {recall:.3f}")
print(f"GDClassifier trained for {model[-1].n_iter_} epochs")

# %%
# Each class's precision and recall: the macro averages above are their means.
try:
    import matplotlib.pyplot as plt
except ImportError:  # the demo still prints its report without matplotlib
    plt = None
if plt is not None:
    import numpy as np

    classes = np.arange(10)
    per_class_precision = precision_score(y_test, y_pred, average=None)
    per_class_recall = recall_score(y_test, y_pred, average=None)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(classes - 0.2, per_class_precision, width=0.4, label="precision")
    ax.bar(classes + 0.2, per_class_recall, width=0.4, label="recall")
    macro_precision, macro_recall = per_class_precision.mean(), per_class_recall.mean()
    ax.axhline(macro_precision, color="tab:blue", linestyle=":", label="macro precision")
    ax.axhline(macro_recall, color="tab:orange", linestyle="--", label="macro recall")
    ax.set_xticks(classes)
    ax.set_xlabel("digit")
    ax.set_ylim(0.8, 1.01)
    ax.set_title(
        f"GDClassifier on held-out digits: macro precision {macro_precision:.3f}, "
        f"macro recall {macro_recall:.3f}",
        fontsize=10,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=4, fontsize=9)
    fig.tight_layout()

    # sphinx_gallery_start_ignore
    from _display import save_figures_if_no_display

    save_figures_if_no_display()
    # sphinx_gallery_end_ignore
    plt.show()
