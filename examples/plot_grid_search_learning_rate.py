"""
Choosing the learning rate with a grid search
=============================================

γ must lie in (0, 1). Too small, and gradient descent crawls; too large,
and it overshoots. ``GridSearchCV`` picks it by cross-validation, on the
macro-averaged recall here, with the scaler refitted inside each fold.
"""

# %%
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
# the steps are large enough.
for rate, score in zip(
    search.cv_results_["param_gdclassifier__learning_rate"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"learning_rate={rate:<7} macro recall {score:.3f}  " + "#" * int(40 * score))
print("best:", search.best_params_)
print(f"held-out macro recall: {search.score(X_test, y_test):.3f}")
assert np.isfinite(search.best_score_)
