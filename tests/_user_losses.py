"""Losses written as a user writes them, shared by the tests."""

import numpy as np
from sklearn.utils import ClassifierTags

from skgd.losses import Loss


class Pinball(Loss):
    """The README's user-written quantile loss: the contract's two methods, no word on its scale."""

    def __init__(self, quantile=0.5):
        self.quantile = quantile

    def loss(self, y_true, raw_prediction):
        diff = y_true - raw_prediction
        return np.maximum(self.quantile * diff, (self.quantile - 1) * diff)

    def gradient(self, y_true, raw_prediction):
        return np.where(y_true > raw_prediction, -self.quantile, 1 - self.quantile)


class BinarySmoothHinge(Loss):
    """A user's quadratically smoothed hinge of two classes only, as its tags say."""

    def loss(self, y_true, raw_prediction):
        z = y_true * raw_prediction
        return np.where(z >= 1, 0.0, np.where(z <= 0, 0.5 - z, (1 - z) ** 2 / 2))

    def gradient(self, y_true, raw_prediction):
        z = y_true * raw_prediction
        return y_true * np.where(z >= 1, 0.0, np.where(z <= 0, -1.0, z - 1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags


class GammaLogScale(Loss):
    """A user's Gamma negative log-likelihood in the log scale, less its terms in y alone.

    ``y e^-raw + raw``, least at ``raw = log y``: the half deviance is this
    less ``log y + 1``, which moves no fit and makes the loss's value mostly
    a constant. Without its link (see :class:`GammaLogLink`).
    """

    def loss(self, y_true, raw_prediction):
        return y_true * np.exp(-raw_prediction) + raw_prediction

    def gradient(self, y_true, raw_prediction):
        return 1 - y_true * np.exp(-raw_prediction)


class GammaLogLink(GammaLogScale):
    """:class:`GammaLogScale` with its log link: ``predict`` returns the mean."""

    def inverse_link(self, raw_prediction):
        return np.exp(raw_prediction)


class GammaHalfDeviance(GammaLogLink):
    """:class:`GammaLogLink` written as the half deviance: 0 at each row's own optimum."""

    def loss(self, y_true, raw_prediction):
        return super().loss(y_true, raw_prediction) - np.log(y_true) - 1
