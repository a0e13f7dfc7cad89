"""Benchmark skgd against scikit-learn's SGD, the exact solvers and the memory-bound limit.

Run it with ``python benchmarks/run.py`` (``--quick`` for a small smoke run).
Everything runs in this one process, on the same data, so that the ratios
are comparable even on a busy machine; each time is the best of a few runs.
"""

import argparse
import datetime
import os
import platform
import time
import warnings
from functools import partial

import numpy as np
import sklearn
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.metrics import accuracy_score, mean_squared_error

import skgd
from skgd import GDClassifier, GDRegressor

EPOCHS = 5


def best_time(function, repeat):
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - tic)
    return min(times), result


def memory_bound_epoch(X, repeat):
    """One pass of X @ w and one of X.T @ r over the whole X: what an epoch cannot beat."""
    w = np.ones(X.shape[1], dtype=X.dtype)
    r = np.ones(X.shape[0], dtype=X.dtype)
    return best_time(lambda: (X @ w, X.T @ r), repeat)[0]


def regression_data(n_samples, n_features, rng, dtype=np.float64):
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    coef = rng.standard_normal(n_features)
    y = X @ coef + 0.5 * rng.standard_normal(n_samples)
    return X, y


def classification_data(n_samples, n_features, n_classes, rng):
    centers = rng.standard_normal((n_classes, n_features)) * 0.4
    y = rng.randint(n_classes, size=n_samples)
    X = centers[y] + rng.standard_normal((n_samples, n_features))
    return X, y


def toy_sets(row, repeat):
    """Epochs and fit time at defaults on the toy sets, beside SGD and the exact solvers."""
    from sklearn.datasets import (
        load_breast_cancer,
        load_diabetes,
        load_digits,
        load_iris,
        load_wine,
    )
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    print("\ntoy sets, StandardScaler then defaults; held-out score; fit time best of runs")
    for load in [load_digits, load_breast_cancer, load_wine, load_iris, load_diabetes]:
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        regression = load is load_diabetes
        models = {
            "skgd": GDRegressor(random_state=0) if regression else GDClassifier(random_state=0),
            "SGD": SGDRegressor(random_state=0)
            if regression
            else SGDClassifier(loss="log_loss", random_state=0),
            "exact": Ridge(alpha=1e-4 * len(y_train)) if regression else LogisticRegression(),
        }
        results = {}
        for name, model in models.items():
            seconds, fitted = best_time(partial(model.fit, X_train, y_train), repeat)
            epochs = getattr(fitted, "n_iter_", None)
            epochs = 0 if epochs is None else int(np.max(epochs))
            results[name] = (seconds, epochs, fitted.score(X_test, y_test))
        summary = ", ".join(
            f"{name} {epochs} epochs {score:.3f}" for name, (_, epochs, score) in results.items()
        )
        name = load.__name__.removeprefix("load_")
        row(
            f"{name}: skgd / SGD fit time",
            results["skgd"][0] / results["SGD"][0],
            (lambda v: v <= 1.0) if name == "digits" else None,
            ("target <= 1; " if name == "digits" else "") + summary,
        )
        row(f"{name}: skgd / exact solver fit time", results["skgd"][0] / results["exact"][0])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    args = parser.parse_args()
    n_samples = 20_000 if args.quick else 200_000
    repeat = 1 if args.quick else 3
    rng = np.random.RandomState(0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []

    def row(name, value, target=None, note=""):
        verdict = "" if target is None else ("met" if target(value) else "MISSED")
        rows.append((name, value, verdict, note))
        print(f"{name:<58} {value:8.3f}  {verdict:<6} {note}", flush=True)

    print(
        f"skgd {skgd.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"{os.cpu_count()} cores, {platform.machine()}, {datetime.date.today()}"
    )
    print(f"dense data: {n_samples} x 100, standardized; batch_size 256; {EPOCHS} epochs\n")

    toy_sets(row, repeat)

    # -- regression, dense float64 ------------------------------------------
    X, y = regression_data(n_samples, 100, rng)
    limit = memory_bound_epoch(X, repeat * 3)
    gd = GDRegressor(batch_size=256, max_iter=EPOCHS, tol=None, random_state=0)
    t_gd, gd = best_time(lambda: gd.fit(X, y), repeat)
    sgd = SGDRegressor(max_iter=EPOCHS, tol=None, random_state=0)
    t_sgd, sgd = best_time(lambda: sgd.fit(X, y), repeat)
    t_ridge, ridge = best_time(lambda: Ridge(alpha=1e-4 * n_samples).fit(X, y), repeat)
    mse = {
        name: mean_squared_error(y, m.predict(X))
        for name, m in [("gd", gd), ("sgd", sgd), ("ridge", ridge)]
    }
    print(
        f"memory-bound epoch {limit * 1e3:.1f} ms; GDRegressor epoch {t_gd / EPOCHS * 1e3:.1f} ms"
    )
    row(
        "GDRegressor epoch / memory-bound epoch",
        t_gd / EPOCHS / limit,
        lambda v: v <= 1.5,
        "target <= 1.5",
    )
    row(
        "GDRegressor 5 epochs / SGDRegressor 5 epochs (time)",
        t_gd / t_sgd,
        lambda v: v <= 0.5,
        "target <= 0.5",
    )
    row(
        "GDRegressor / SGDRegressor training mse",
        mse["gd"] / mse["sgd"],
        lambda v: v <= 1.0,
        "target <= 1",
    )
    row("GDRegressor / Ridge training mse", mse["gd"] / mse["ridge"], None, "exact solver")
    row("GDRegressor 5 epochs / Ridge (time)", t_gd / t_ridge, None, "exact solver")

    # -- float32 against float64 -----------------------------------------------
    X32 = X.astype(np.float32)
    gd32 = GDRegressor(batch_size=256, max_iter=EPOCHS, tol=None, random_state=0)
    t_gd32, gd32 = best_time(partial(gd32.fit, X32, y), repeat)
    row("GDRegressor float32 / float64 (time)", t_gd32 / t_gd, lambda v: v <= 0.6, "target <= 0.6")
    row(
        "GDRegressor float32 / float64 training mse",
        mean_squared_error(y, gd32.predict(X32)) / mse["gd"],
        None,
    )
    del X32

    # -- sparse against dense --------------------------------------------------
    X_sparse = sparse.random(n_samples, 1000, density=0.01, format="csr", random_state=rng)
    y_sparse = X_sparse @ rng.standard_normal(1000) + 0.1 * rng.standard_normal(n_samples)
    X_dense = X_sparse.toarray()
    gds = GDRegressor(batch_size=256, max_iter=EPOCHS, tol=None, random_state=0)
    t_sparse, _ = best_time(lambda: gds.fit(X_sparse, y_sparse), repeat)
    t_dense, _ = best_time(partial(gds.fit, X_dense, y_sparse), repeat)
    row("GDRegressor sparse (1% of 1000 features) / same data dense", t_sparse / t_dense, None)
    t_sgd_sparse, _ = best_time(
        lambda: SGDRegressor(max_iter=EPOCHS, tol=None, random_state=0).fit(X_sparse, y_sparse),
        repeat,
    )
    row("GDRegressor sparse / SGDRegressor sparse (time)", t_sparse / t_sgd_sparse, None)
    del X_dense

    # -- 20 classes ------------------------------------------------------------
    X, y = classification_data(n_samples, 100, 20, rng)
    gdc = GDClassifier(learning_rate=0.5, batch_size=256, max_iter=EPOCHS, tol=None, random_state=0)
    t_gdc, gdc = best_time(lambda: gdc.fit(X, y), repeat)
    sgdc = SGDClassifier(loss="log_loss", max_iter=EPOCHS, tol=None, random_state=0)
    t_sgdc, sgdc = best_time(lambda: sgdc.fit(X, y), 1)
    t_lr, lr = best_time(lambda: LogisticRegression(max_iter=200).fit(X, y), 1)
    accuracy = {
        name: accuracy_score(y, m.predict(X))
        for name, m in [("gd", gdc), ("sgd", sgdc), ("lr", lr)]
    }
    row(
        "SGDClassifier(log_loss) / GDClassifier(lr=0.5), 20 classes (time)",
        t_sgdc / t_gdc,
        lambda v: v >= 5,
        "target >= 5",
    )
    row(
        "GDClassifier / SGDClassifier accuracy",
        accuracy["gd"] / accuracy["sgd"],
        lambda v: v >= 1.0,
        "target >= 1",
    )
    row(
        "GDClassifier / LogisticRegression accuracy",
        accuracy["gd"] / accuracy["lr"],
        None,
        "exact solver",
    )
    row("GDClassifier 5 epochs / LogisticRegression (time)", t_gdc / t_lr, None, "exact solver")
    print(
        f"\naccuracy: skgd {accuracy['gd']:.3f}, SGD {accuracy['sgd']:.3f}, "
        f"LogisticRegression {accuracy['lr']:.3f}"
    )


if __name__ == "__main__":
    main()
