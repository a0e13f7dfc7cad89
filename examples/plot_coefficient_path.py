r"""
The learning rate: too small, right, too large, on raw and normalised x
=======================================================================

The course fits :math:`y = a x + b` with :math:`\gamma = 0.01`, after
normalising x with its mean and standard deviation. This example shows why
the two go together: which γ is "right" depends on the curvature of the loss
:math:`L(a, b)`, and the scale of x sets that curvature.

* On **normalised x** (the course), the contours of :math:`L` are circles:
  every step points at the bottom, and any γ in (0, 1) converges. The
  course's γ = 0.01 gets there in a few hundred steps (100 are drawn);
  larger steps, in fewer.
* On **raw x** (here uniform on [0, 3], mean 1.5), :math:`L` is a long, narrow
  valley: a step must be small enough for its steep side (here γ below
  about 0.56), and then crawls along its flat floor. γ = 0.01 is too small
  there, γ = 0.4 is right, and γ = 0.6 overshoots the steep side further at
  each step: ``fit`` stops and warns that its loss rose, and a step whose
  loss explodes (γ = 0.7 here) stops it with an error that says so.

The same line has different coefficients in the two coordinates: with
:math:`x' = (x - \mu) / \sigma`, :math:`y = 3.0 x + 0.5` is
:math:`y = (3.0\sigma)\, x' + (0.5 + 3.0\mu)`, so each panel marks its own
least-squares point (``GDRegressor`` with ``standardize=True`` reports
``coef_`` in the units of X either way).

All fits use the course's plain update (``optimizer="sgd"``, one full batch a
step, no penalty, ``schedule="constant"``) with ``standardize=False``, so that
``GDRegressor`` descends on x as it is given; with the default
``standardize=True`` it would descend in normalised coordinates whatever x
is, and the default ``schedule="adaptive"`` would take back the steps that
raise the loss and shorten the step (γ = 0.6 then ends near the line).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skgd import GDRegressor

rng = np.random.RandomState(0)
x_raw = rng.uniform(0, 3, size=100)
y = 3.0 * x_raw + 0.5 + 0.1 * rng.normal(size=x_raw.size)
x_norm = (x_raw - x_raw.mean()) / x_raw.std()


def path(x, learning_rate, steps):
    """(a, b) before and after each full-batch step, until ``steps`` or divergence."""
    X = x[:, None]
    model = GDRegressor(
        optimizer="sgd",
        learning_rate=learning_rate,
        batch_size=len(X),
        penalty=None,
        standardize=False,
        schedule="constant",
        max_iter=1,
        tol=None,
        warm_start=True,
    )
    # (one step is not a fit: its warning that the model is still worse than a
    # constant prediction is not news here)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, coef_init=[0.58], intercept_init=[0.25])
    points = [(0.58, 0.25), (model.coef_[0], model.intercept_[0])]
    for _ in range(steps - 1):
        model.partial_fit(X, y)
        points.append((model.coef_[0], model.intercept_[0]))
    return np.array(points), model.loss_curve_


def loss_surface(x, a_grid, b_grid):
    residuals = a_grid[..., None] * x + b_grid[..., None] - y
    return 0.5 * np.mean(residuals**2, axis=-1)


# The largest stable step of plain gradient descent is 2 / (the largest
# curvature of L), an eigenvalue of [[mean x², mean x], [mean x, 1]].
for name, x in [("raw x", x_raw), ("normalised x", x_norm)]:
    hessian = np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
    curvatures = np.linalg.eigvalsh(hessian)
    print(
        f"{name:>12}: curvatures {curvatures[0]:.2f} and {curvatures[1]:.2f}, "
        f"steps below {2 / curvatures[1]:.2f} converge"
    )

# %%
# The paths. The too-large step is drawn for its first few steps only: after
# that it leaves any sensible axes, growing by the same factor each step.
settings = {
    "raw x": (x_raw, {"γ = 0.01": (0.01, 100), "γ = 0.4": (0.4, 100), "γ = 0.6": (0.6, 5)}),
    "normalised x": (
        x_norm,
        {"γ = 0.01": (0.01, 100), "γ = 0.1": (0.1, 100), "γ = 0.5": (0.5, 100)},
    ),
}
paths = {}
for name, (x, rates) in settings.items():
    for label, (rate, steps) in rates.items():
        points, losses = path(x, rate, steps)
        paths[name, label] = points, losses
        a, b = points[-1]
        print(f"{name:>12}, {label}: after {steps:3d} steps a = {a:6.3f}, b = {b:6.3f}")

# %%
# With a too-large step on raw x, ``fit`` does not return a diverging model
# unannounced. At γ = 0.6 its loss rises for ``n_iter_no_change`` epochs, the
# stop criterion ends the fit, and a warning says why; at γ = 0.7 the loss
# explodes within a few steps and the fit raises an error.
for learning_rate in [0.6, 0.7]:
    model = GDRegressor(
        optimizer="sgd", learning_rate=learning_rate, batch_size=len(x_raw), penalty=None,
        standardize=False, schedule="constant", random_state=0,
    )  # fmt: skip
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x_raw[:, None], y)
        for warning in caught:
            print(f"raw x, learning_rate={learning_rate}, warned:", warning.message)
    except ValueError as error:
        print(f"raw x, learning_rate={learning_rate}, error:", error)

# %%
# Raw against normalised x: the paths over the contours of L(a, b). Each
# panel's axes hold all of its paths.
colors = ["tab:blue", "tab:green", "tab:red"]
styles = [dict(marker=".", markersize=4), dict(marker="o", markersize=4, mfc="none")]
styles += [dict(marker="s", markersize=7, mfc="none")]
fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
for ax, (name, (x, rates)) in zip(axes, settings.items(), strict=True):
    best = np.polyfit(x, y, deg=1)  # the least-squares (a, b) in this panel's x
    drawn = np.vstack([paths[name, label][0] for label in rates] + [best[None]])
    # a square window around everything drawn, so that circles look round
    center = (drawn.min(axis=0) + drawn.max(axis=0)) / 2
    half = 0.55 * np.ptp(drawn, axis=0).max() + 0.2
    (a_min, b_min), (a_max, b_max) = center - half, center + half
    a_grid, b_grid = np.meshgrid(np.linspace(a_min, a_max, 200), np.linspace(b_min, b_max, 200))
    surface = loss_surface(x, a_grid, b_grid)
    ax.contour(a_grid, b_grid, surface, levels=np.geomspace(0.01, surface.max(), 14), colors="0.75")
    for label, color, style in zip(rates, colors, styles, strict=True):
        points, _ = paths[name, label]
        ax.plot(points[:, 0], points[:, 1], "-", color=color, label=label, **style)
    ax.plot(*best, "k*", markersize=13, label=f"least squares ({best[0]:.2f}, {best[1]:.2f})")
    ax.set_xlim(a_min, a_max)
    ax.set_ylim(b_min, b_max)
    ax.set_aspect("equal")
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    ax.set_title(f"{name}: {'a long valley' if name == 'raw x' else 'round contours'}")
    ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()

# %%
# The same three steps on raw x, as loss curves: too small falls slowly,
# right falls fast, too large rises at every step.
fig, ax = plt.subplots(figsize=(7, 4))
for label, color in zip(settings["raw x"][1], colors, strict=True):
    losses = paths["raw x", label][1]
    ax.semilogy(
        np.arange(1, len(losses) + 1), losses, "o-", markersize=2.5, color=color, label=label
    )
ax.set_xlabel("step (one full batch)")
ax.set_ylabel("training loss L(a, b)")
ax.set_title("γ too small, right and too large, on raw x")
ax.legend()
fig.tight_layout()

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
