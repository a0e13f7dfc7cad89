"""skgd: scikit-learn estimators trained by minibatch gradient descent, with pluggable losses."""

from ._classifier import GDClassifier
from ._regressor import GDRegressor

__version__ = "0.1.0"

__all__ = ["GDClassifier", "GDRegressor", "__version__"]
