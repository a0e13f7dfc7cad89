"""
The coefficient path of gradient descent, for three learning rates
==================================================================

The course's line ``y = 3.0 x + 0.5``, fitted by plain gradient descent from
a = 0.58, b = 0.25 on the raw x (``standardize=False``: the course's update
in x's own units). The loss surface over (a, b) is a long valley, because x
is not centred; the path is drawn over its contour for three learning rates:

* too small: the path crawls down the valley and is far from (3.0, 0.5)
  after 100 steps;
* right: it reaches the bottom;
* too large: each step overshoots the valley's steep side further than the
  last, and ``fit`` stops with the divergence error instead of returning a
  model.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor

rng = np.random.RandomState(0)
x = rng.uniform(0, 3, size=100)
X, y = x[:, None], 3.0 * x + 0.5


def path(learning_rate, steps=100):
    """(a, b) after each full-batch step of plain gradient descent."""
    model = GDRegressor(
        learning_rate=learning_rate,
        batch_size=len(X),
        penalty=None,
        standardize=False,
        max_iter=1,
        tol=None,
        warm_start=True,
    )
    model.fit(X, y, coef_init=[0.58], intercept_init=[0.25])
    points = [(0.58, 0.25), (model.coef_[0], model.intercept_[0])]
    for _ in range(steps - 1):
        model.partial_fit(X, y)
        points.append((model.coef_[0], model.intercept_[0]))
    return np.array(points)


rates = {"too small (0.01)": 0.01, "right (0.4)": 0.4, "too large (0.6)": 0.6}
paths = {label: path(rate, steps=100 if rate < 0.5 else 7) for label, rate in rates.items()}
for label, points in paths.items():
    a, b = points[-1]
    print(f"{label:>17}: after {len(points) - 1:3d} steps a = {a:8.3f}, b = {b:8.3f}")

# %%
# With the too-large step, fit does not return a diverged model: it says so.
try:
    GDRegressor(
        learning_rate=0.6, batch_size=len(X), penalty=None, standardize=False, random_state=0
    ).fit(X, y)
except ValueError as error:
    print("learning_rate=0.6:", error)

# %%
# The paths over the contour of L(a, b) = 1/2n sum (a x + b - y)^2.
a_grid, b_grid = np.meshgrid(np.linspace(-1, 6, 200), np.linspace(-4, 5, 200))
residuals = a_grid[..., None] * x + b_grid[..., None] - y
surface = 0.5 * np.mean(residuals**2, axis=-1)

fig, ax = plt.subplots(figsize=(7, 5))
ax.contour(a_grid, b_grid, surface, levels=np.logspace(-2.5, 1.5, 14), colors="0.6", linewidths=0.8)
for (label, points), color in zip(paths.items(), ["tab:blue", "tab:green", "tab:red"], strict=True):
    ax.plot(points[:, 0], points[:, 1], "o-", markersize=2.5, color=color, label=label)
ax.plot(3.0, 0.5, "k*", markersize=12, label="(3.0, 0.5)")
ax.set_xlim(-1, 6)
ax.set_ylim(-4, 5)
ax.set_xlabel("a")
ax.set_ylabel("b")
ax.set_title("Gradient descent on the course's line")
ax.legend(loc="lower left")
plt.show()
