"""
Choosing the learning rate with a grid search
=============================================

γ must lie in (0, 1). Too small, and gradient descent crawls; too large,
and it overshoots. ``GridSearchCV`` picks it by cross-validation, on the
macro-averaged recall here, with the scaler refitted inside each fold.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipeline = make_pipeline(StandardScaler(), GDClassifier(max_iter=30, tol=None, random_state=0))
search = GridSearchCV(
    pipeline,
    {"gdclassifier__learning_rate": [1e-4, 1e-3, 1e-2, 1e-1, 0.5]},
    scoring="recall_macro",
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)

# %%
# Thirty epochs at each rate: the cross-validated score rises with γ until
# the steps are large enough. At γ = 1e-4 the fits end no better than a
# constant prediction, and each says so in a ConvergenceWarning.
for rate, score in zip(
    search.cv_results_["param_gdclassifier__learning_rate"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"learning_rate={rate:<7} macro recall {score:.3f}  " + "#" * int(40 * score))
print("best:", search.best_params_)
print(f"held-out macro recall: {search.score(X_test, y_test):.3f}")
assert np.isfinite(search.best_score_)

# %%
# The cross-validated score of each γ, with its spread over the folds.
rates = np.array(search.cv_results_["param_gdclassifier__learning_rate"], dtype=float)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.errorbar(
    rates, search.cv_results_["mean_test_score"], yerr=search.cv_results_["std_test_score"],
    marker="o", capsize=3,
)  # fmt: skip
ax.set_xscale("log")
ax.set_xlabel("learning_rate γ")
ax.set_ylabel("macro recall (3-fold CV)")
ax.set_title("Thirty epochs at each learning rate")
fig.tight_layout()

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
