"""
The course's line: gradient descent walks to y = 3.0 x + 0.5
=============================================================

The course fits the line ``y = a x + b`` to points of the true line
``y = 3.0 x + 0.5`` by plain gradient descent on the half squared error

    L = 1/2n sum (y* - (a x + b))^2,

with the learning rate γ = 0.01, from the random start a = 0.58, b = 0.25:

    a <- a - γ dL/da,   dL/da = 1/n sum (a x + b - y*) x
    b <- b - γ dL/db,   dL/db = 1/n sum (a x + b - y*)

Here ``GDRegressor`` does exactly that: one full batch per epoch, no
penalty, and ``warm_start`` so that each ``fit(max_iter=1)`` is one step.
"""

# %%
# The data: x normalised with its own mean and std, as the course says to.
import numpy as np

from skgd import GDRegressor

rng = np.random.RandomState(0)
x = rng.uniform(0, 10, size=200)
x = (x - x.mean()) / x.std()
X, y = x[:, None], 3.0 * x + 0.5

# %%
# One epoch at a time, printing (a, b) as the course's slides do.
model = GDRegressor(
    learning_rate=0.01, batch_size=len(X), penalty=None, max_iter=1, tol=None, warm_start=True
)
model.fit(X, y, coef_init=[0.58], intercept_init=[0.25])
print(f"{'epoch':>5}  {'a':>6}  {'b':>6}   (target a = 3.0, b = 0.5)")
print(f"{0:5d}  {0.58:6.2f}  {0.25:6.2f}")
for epoch in range(1, 601):
    if epoch > 1:
        model.fit(X, y)
    if epoch % 60 == 0:
        print(f"{epoch:5d}  {model.coef_[0]:6.2f}  {model.intercept_[0]:6.2f}")

# %%
# The loss fell at every step, and the line is found.
print(f"loss: {model.loss_curve_[0]:.4f} -> {model.loss_curve_[-1]:.6f}")
assert abs(model.coef_[0] - 3.0) < 0.01 and abs(model.intercept_[0] - 0.5) < 0.01

# %%
# The loss of each epoch, as ``ConvergenceDisplay`` draws it (if matplotlib is there).
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    from skgd.plotting import ConvergenceDisplay

    ConvergenceDisplay.from_estimator(model, log_scale=True, name="γ = 0.01")
    plt.show()
