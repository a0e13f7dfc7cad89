r"""
The course's line: gradient descent walks to y = 3.0 x + 0.5
=============================================================

The course fits the line :math:`y = a x + b` to points around the true line
:math:`y = 3.0 x + 0.5` by plain gradient descent on the half mean squared
error

.. math::

   L(a, b) = \frac{1}{2n} \sum_{i=1}^{n} \bigl(y^*_i - (a x_i + b)\bigr)^2,

whose gradient is

.. math::

   \frac{\partial L}{\partial a} = \frac1n \sum_{i=1}^{n} (a x_i + b - y^*_i)\, x_i,
   \qquad
   \frac{\partial L}{\partial b} = \frac1n \sum_{i=1}^{n} (a x_i + b - y^*_i),

and the update, with the learning rate :math:`\gamma = 0.01`, from the random
start :math:`a = 0.58`, :math:`b = 0.25`:

.. math::

   a \leftarrow a - \gamma \frac{\partial L}{\partial a}, \qquad
   b \leftarrow b - \gamma \frac{\partial L}{\partial b}.

``GDRegressor`` does exactly that with ``optimizer="sgd"``, one full batch
per epoch (``batch_size=len(X)``), no penalty and ``standardize=False`` (x is
already normalised, by hand, as the course says to do first); ``warm_start``
makes each ``fit(max_iter=1)`` one step.
"""

# %%
# The data: x normalised with its own mean and std, then the points of the
# course's line with a little noise.
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor
from skgd.plotting import ConvergenceDisplay

rng = np.random.RandomState(19)
x = rng.uniform(0, 10, size=40)
x = (x - x.mean()) / x.std()
y = 3.0 * x + 0.5 + 0.3 * rng.normal(size=x.size)
X = x[:, None]

# %%
# One epoch at a time, keeping (a, b) after each.
model = GDRegressor(
    optimizer="sgd",
    learning_rate=0.01,
    batch_size=len(X),
    penalty=None,
    standardize=False,
    max_iter=1,
    tol=None,
    warm_start=True,
)
model.fit(X, y, coef_init=[0.58], intercept_init=[0.25])
path = [(0.58, 0.25), (model.coef_[0], model.intercept_[0])]
for _ in range(599):
    model.fit(X, y)
    path.append((model.coef_[0], model.intercept_[0]))
path = np.array(path)

# %%
# The course's slides show (a, b) every few dozen steps; here every 50 epochs,
# next to the slides' values (the course's points are not these, so the last
# digits differ; both walk to the least-squares line).
course = [(0.58, 0.25), (1.50, 0.35), (2.10, 0.40), (2.48, 0.43), (2.73, 0.46)]
course += [(2.89, 0.47), (2.99, 0.48), (3.06, 0.49), (3.10, 0.49), (3.13, 0.50)]
epochs = np.arange(0, 500, 50)
print(f"{'epoch':>5}  {'a':>5}  {'b':>5}   course: {'a':>5}  {'b':>5}")
for epoch, (a_course, b_course) in zip(epochs, course, strict=True):
    a, b = path[epoch]
    print(f"{epoch:5d}  {a:5.2f}  {b:5.2f}           {a_course:5.2f}  {b_course:5.2f}")
best_a, best_b = np.polyfit(x, y, deg=1)
print(f"least squares: a = {best_a:.3f}, b = {best_b:.3f}")
print(f"after {len(path) - 1} epochs: a = {path[-1, 0]:.3f}, b = {path[-1, 1]:.3f}")
assert abs(path[-1, 0] - best_a) < 0.05 and abs(path[-1, 1] - best_b) < 0.05

# %%
# The line approaching the points, one panel a slide.
fig, axes = plt.subplots(2, 5, figsize=(12, 5), sharex=True, sharey=True)
grid = np.linspace(x.min(), x.max(), 2)
for ax, epoch in zip(axes.flat, epochs, strict=True):
    a, b = path[epoch]
    ax.plot(x, y, ".", color="0.55", markersize=4)
    ax.plot(grid, 3.0 * grid + 0.5, ":", color="0.2", linewidth=1)
    ax.plot(grid, a * grid + b, color="tab:red", linewidth=2)
    ax.set_title(f"epoch {epoch}\na = {a:.2f}, b = {b:.2f}", fontsize=9)
for ax in axes[-1]:
    ax.set_xlabel("x (normalised)")
for ax in axes[:, 0]:
    ax.set_ylabel("y")
fig.suptitle("y = a x + b (red) walking to y = 3.0 x + 0.5 (dotted), γ = 0.01")
fig.tight_layout()

# %%
# The same walk in the (a, b) plane, over the contours of the loss L(a, b).
# x is normalised, so the contours are circles and each step points straight
# at the bottom; the steps shrink with the gradient.
a_grid, b_grid = np.meshgrid(np.linspace(0, 4, 161), np.linspace(-0.5, 1.5, 161))
residuals = a_grid[..., None] * x + b_grid[..., None] - y
surface = 0.5 * np.mean(residuals**2, axis=-1)

fig, ax = plt.subplots(figsize=(7, 4))
contours = ax.contour(a_grid, b_grid, surface, levels=np.geomspace(0.05, 8, 10), colors="0.6")
ax.clabel(contours, fontsize=7, fmt="%.2g")
ax.plot(path[:, 0], path[:, 1], "-", color="tab:red", linewidth=1)
ax.plot(path[epochs, 0], path[epochs, 1], "o", color="tab:red", label="every 50 epochs")
ax.plot(best_a, best_b, "k*", markersize=12, label="least squares")
ax.set_xlabel("a")
ax.set_ylabel("b")
ax.set_aspect("equal")
ax.set_title("The path of (a, b) over the loss's contours")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# The loss of each epoch, as ``ConvergenceDisplay`` draws it.
display = ConvergenceDisplay.from_estimator(model, log_scale=True, name="γ = 0.01")
display.ax_.set_title("The loss falls at every step")

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
