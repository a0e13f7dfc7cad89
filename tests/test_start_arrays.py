"""The arrays of V's shape a fit makes.

On wide data each is megabytes whose fresh pages the system gives afresh
each fit.
"""

import numpy as np
from numpy.testing import assert_array_equal

from skgd._loop import TrainingState


def test_a_fit_without_averaging_makes_no_average():
    state = TrainingState(np.ones((3, 1000)), np.ones(3), None, None)
    assert state._V_average is None  # (none made until asked for)
    assert_array_equal(state.V_average, np.zeros((3, 1000)))
    assert state.V_average is state.V_average
