"""Losses written as a user writes them, shared by the tests."""

import numpy as np

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
