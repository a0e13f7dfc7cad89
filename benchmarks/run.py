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
    # (the wide rows' dense-by-nature epochs are timed on purpose: their warning says so)
    warnings.simplefilter("ignore", sparse.SparseEfficiencyWarning)
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
    sgd = SGDRegressor(max_iter=EPOCHS, tol=None, random_state=0)
    t_sgd, sgd = best_time(lambda: sgd.fit(X, y), repeat)
    t_ridge, ridge = best_time(lambda: Ridge(alpha=1e-4 * n_samples).fit(X, y), repeat)
    mse_sgd = mean_squared_error(y, sgd.predict(X))
    print(f"memory-bound epoch {limit * 1e3:.1f} ms; SGDRegressor 5 epochs {t_sgd:.2f} s")
    fits = {}
    for shuffle, target in [(True, 0.6), ("blocks", 0.3)]:
        for optimizer, average in [("nesterov", False), ("sgd", False), ("nesterov", True)]:
            gd = GDRegressor(
                batch_size=256, shuffle=shuffle, optimizer=optimizer, average=average,
                max_iter=EPOCHS, tol=None, random_state=0,
            )  # fmt: skip
            seconds, gd = best_time(partial(gd.fit, X, y), repeat)
            fits[shuffle, optimizer, average] = seconds
            if shuffle is True and optimizer == "nesterov" and not average:
                mse_default = mean_squared_error(y, gd.predict(X))
            label = f"shuffle={shuffle!r}, optimizer={optimizer!r}, average={average}"
            judged = optimizer == "nesterov"
            row(
                f"5 epochs / SGDRegressor (time), {label}",
                seconds / t_sgd,
                (lambda v, target=target: v <= target) if judged else None,
                f"target <= {target}" if judged else "",
            )
            row(
                f"training mse / SGDRegressor's, {label}",
                mean_squared_error(y, gd.predict(X)) / mse_sgd,
                (lambda v: v <= 1.0) if judged else None,
                "target <= 1 (equal mse)" if judged else "",
            )
    for shuffle in [True, "blocks"]:
        for batch_size in [32, 256]:
            # an epoch's own cost: four epochs' time minus one's, over three
            gd = GDRegressor(batch_size=batch_size, shuffle=shuffle, tol=None, random_state=0)
            one, _ = best_time(partial(gd.set_params(max_iter=1).fit, X, y), repeat)
            four, _ = best_time(partial(gd.set_params(max_iter=4).fit, X, y), repeat)
            row(
                f"epoch / memory-bound epoch, shuffle={shuffle!r}, batch_size={batch_size}",
                (four - one) / 3 / limit,
                (lambda v: v <= 1.5) if shuffle == "blocks" and batch_size == 256 else None,
                "target: near 1" if shuffle == "blocks" else "",
            )
            if batch_size == 256:
                row(
                    f"fixed cost of a fit / memory-bound epoch, shuffle={shuffle!r}",
                    (one - (four - one) / 3) / limit,
                    None,
                    "statistics, curvature, best constant",
                )
    mse_ridge = mean_squared_error(y, ridge.predict(X))
    row("GDRegressor (defaults, 5 epochs) / Ridge training mse", mse_default / mse_ridge)
    row("SGDRegressor (5 epochs) / Ridge training mse", mse_sgd / mse_ridge)

    # -- float32 against float64 -----------------------------------------------
    # (timed in turns, each dtype's best: the float64 fit above was timed minutes before,
    # and the ratio of two best times apart drifted 0.53 to 0.68 between runs)
    X32 = X.astype(np.float32)
    times = {np.float64: [], np.float32: []}
    for _ in range(repeat + 2):
        for data in (X, X32):
            gd = GDRegressor(batch_size=256, max_iter=EPOCHS, tol=None, random_state=0)
            times[data.dtype.type].append(best_time(partial(gd.fit, data, y), 1)[0])
    row(
        "GDRegressor float32 / float64 (time)",
        min(times[np.float32]) / min(times[np.float64]),
        lambda v: v <= 0.6,
        "target <= 0.6; the two timed in turns",
    )
    del X32

    wide_sparse(row, repeat, n_samples // 10)

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
    one_row_stream(row, rng)
    compile_time(row)


def wide_sparse(row, repeat, n_samples):
    """Hashed-text-like data: 30 non-zeros a row, 5 classes, 2**18 and 2**20 columns."""
    rng = np.random.RandomState(1)
    for n_features in [2**18, 2**20]:
        vocabulary = rng.randint(n_features, size=(5, 2000))  # each class's frequent columns
        y = rng.randint(5, size=n_samples)
        columns = np.where(
            rng.uniform(size=(n_samples, 30)) < 0.3,
            vocabulary[y[:, None], rng.randint(2000, size=(n_samples, 30))],
            rng.randint(n_features, size=(n_samples, 30)),
        )
        X = sparse.csr_matrix(
            (np.ones(n_samples * 30), columns.ravel(), np.arange(0, n_samples * 30 + 1, 30)),
            shape=(n_samples, n_features),
        )
        X.sum_duplicates()
        train, test = slice(0, n_samples * 3 // 4), slice(n_samples * 3 // 4, None)
        sgd = SGDClassifier(random_state=0)
        t_sgd, sgd = best_time(partial(sgd.fit, X[train], y[train]), repeat)
        gd = GDClassifier(optimizer="sgd", random_state=0)
        t_gd, gd = best_time(partial(gd.fit, X[train], y[train]), repeat)
        gd_sgd_epochs = gd.n_iter_
        scores = gd.score(X[test], y[test]), sgd.score(X[test], y[test])
        row(
            f"wide sparse 2**{n_features.bit_length() - 1}: GD(sgd) / SGDClassifier (time)",
            t_gd / t_sgd,
            lambda v: v <= 1.0,
            f"target <= 1; accuracy {scores[0]:.3f} vs {scores[1]:.3f}; "
            f"epochs {gd.n_iter_} vs {sgd.n_iter_}",
        )
        for optimizer in ["auto", "nesterov"]:  # (the default, "auto", is "sgd" here)
            gd = GDClassifier(optimizer=optimizer, random_state=0)
            t_fit, gd = best_time(partial(gd.fit, X[train], y[train]), 1)
            row(
                f"wide sparse 2**{n_features.bit_length() - 1}: GD({optimizer}) / SGDClassifier "
                "(time)",
                t_fit / t_sgd,
                None,
                f"{type(gd.optimizer_).__name__}, lazy; accuracy "
                f"{gd.score(X[test], y[test]):.3f}, epochs {gd.n_iter_}",
            )
        # averaged SGD: lazy on sparse X here as in scikit-learn (the sums of the iterates
        # kept apart, one pass over the coefficients an epoch)
        t_avg_sgd, sgd_avg = best_time(
            partial(SGDClassifier(average=True, random_state=0).fit, X[train], y[train]), 1
        )
        t_avg, gd_avg = best_time(
            partial(GDClassifier(average=True, random_state=0).fit, X[train], y[train]), 1
        )
        row(
            f"wide sparse 2**{n_features.bit_length() - 1}: GD(average=True) / "
            "SGDClassifier(average=True) (time)",
            t_avg / t_avg_sgd,
            None,
            f"lazy; accuracy {gd_avg.score(X[test], y[test]):.3f} vs "
            f"{sgd_avg.score(X[test], y[test]):.3f}, epochs {gd_avg.n_iter_} vs {sgd_avg.n_iter_}",
        )
        if n_features == 2**18:  # (seconds an epoch: once, at the smaller width)
            adaptive_optimizers_epoch(row, X[train], y[train], t_sgd, t_gd / gd_sgd_epochs)
        wide_stream(row, X[train], y[train], X[test], n_features)


def wide_stream(row, X, y, X_test, n_features):
    """A stream's call and a one-row prediction on hashed-text-like rows, beside SGDClassifier's.

    A ``partial_fit`` call costs its rows' non-zeros, plus passes over all
    the coefficients (the statistics, the model in X's units, the stream's
    schedule): O(n_features x n_outputs) a call, which chunks of many rows
    amortize (documented in the user guide). No target.
    """
    width = f"2**{n_features.bit_length() - 1}"
    classes = np.unique(y)
    for chunk in [100, 1000]:
        times = {}
        for name, make in [
            ("gd", lambda: GDClassifier(random_state=0)),
            ("gd_nesterov", lambda: GDClassifier(optimizer="nesterov", random_state=0)),
            ("sgd", lambda: SGDClassifier(random_state=0)),
        ]:
            model = make().partial_fit(X[:chunk], y[:chunk], classes=classes)
            calls = range(chunk, min(len(y), chunk * 21), chunk)
            tic = time.perf_counter()
            for start in calls:
                model.partial_fit(X[start : start + chunk], y[start : start + chunk])
            times[name] = (time.perf_counter() - tic) / len(calls)
        row(
            f"wide sparse {width}: {chunk}-row partial_fit, GD (auto: sgd) / SGDClassifier",
            times["gd"] / times["sgd"],
            None,
            f"GD(nesterov) {times['gd_nesterov'] / times['sgd']:.1f}x; "
            f"SGD {times['sgd'] * 1e3:.1f} ms a call",
        )
    times = {}
    for name, model in [("gd", GDClassifier(random_state=0)), ("sgd", SGDClassifier())]:
        model.partial_fit(X[:1000], y[:1000], classes=classes)
        tic = time.perf_counter()
        for i in range(200):
            model.predict(X_test[i : i + 1])
        times[name] = (time.perf_counter() - tic) / 200
    row(
        f"wide sparse {width}: one-row predict, GD / SGDClassifier",
        times["gd"] / times["sgd"],
        None,
        f"SGD {times['sgd'] * 1e3:.2f} ms a row (a copy of coef_.T)",
    )


def adaptive_optimizers_epoch(row, X, y, t_sgd, t_sgd_epoch):
    """Adam's, Adagrad's and RMSprop's epoch on wide sparse X: dense by nature; and L1's.

    Their state moves every coefficient at every step, so a batch costs
    O(n_features x n_outputs), not its non-zeros (documented in the user
    guide): one epoch, beside SGDClassifier's whole fit and lazy SGD's epoch.
    L1 with plain SGD is not dense by nature: its soft thresholds add up, and
    a column takes those it missed when a batch next reads it (SGDClassifier's
    cumulative penalty, exact here): its row is beside
    SGDClassifier(penalty="l1")'s fit.
    """
    for optimizer in ["adam", "adagrad", "rmsprop"]:
        model = GDClassifier(optimizer=optimizer, max_iter=1, tol=None, random_state=0)
        t_epoch, _ = best_time(partial(model.fit, X, y), 1)
        row(
            f"wide sparse 2**18: GD({optimizer}) 1 epoch / SGDClassifier fit",
            t_epoch / t_sgd,
            None,
            f"dense by nature: every coefficient a batch; {t_epoch / t_sgd_epoch:.0f}x "
            "lazy SGD's fit time per epoch",
        )
    # (Nesterov with L1: dense by nature, its proximal step stops a velocity; named, as the
    # default, "auto", takes plain SGD on these rows)
    model = GDClassifier(optimizer="nesterov", penalty="l1", max_iter=1, tol=None, random_state=0)
    t_epoch, _ = best_time(partial(model.fit, X, y), 1)
    row(
        "wide sparse 2**18: GD(nesterov, l1) 1 epoch / SGDClassifier fit",
        t_epoch / t_sgd,
        None,
        "dense by nature: L1's step stops a coefficient's velocity at 0; "
        f"{t_epoch / t_sgd_epoch:.0f}x lazy SGD's fit time per epoch",
    )
    t_l1, _ = best_time(partial(SGDClassifier(penalty="l1", random_state=0).fit, X, y), 1)
    model = GDClassifier(optimizer="sgd", penalty="l1", max_iter=1, tol=None, random_state=0)
    t_epoch, _ = best_time(partial(model.fit, X, y), 1)
    row(
        "wide sparse 2**18: GD(sgd, l1) 1 epoch / SGDClassifier(l1) fit",
        t_epoch / t_l1,
        None,
        f"lazy (thresholds that add up); {t_epoch / t_sgd_epoch:.1f}x lazy SGD's fit time "
        "per epoch (L2)",
    )


def one_row_stream(row, rng):
    """The cost of a partial_fit call on a single row, and on 100 rows, beside SGDRegressor's."""
    X, y = regression_data(21_000, 10, rng)

    def stream(model, chunk, calls):
        tic = time.perf_counter()
        for start in range(1000, 1000 + chunk * calls, chunk):
            model.partial_fit(X[start : start + chunk], y[start : start + chunk])
        return time.perf_counter() - tic

    for chunk, calls, target in [(1, 2000, 1.0), (100, 200, None)]:
        times = {}
        for name, make in [("gd", GDRegressor), ("sgd", SGDRegressor)]:
            model = make(random_state=0).partial_fit(X[:1000], y[:1000])
            times[name] = min(stream(model, chunk, calls) for _ in range(3))
        rows = "one-row" if chunk == 1 else f"{chunk}-row"
        row(
            f"{rows} partial_fit: GDRegressor / SGDRegressor (time)",
            times["gd"] / times["sgd"],
            None if target is None else (lambda v, target=target: v <= target),
            ("target <= 1; " if target else "") + f"SGD {times['sgd'] / calls * 1e6:.0f} us a call",
        )


def compile_time(row):
    """The compiled kernel's first-call cost: once per machine and kind of fit, then cached.

    A kind: a classifier or a regressor, dense or sparse X, float32 or
    float64, dense X of 32,768 rows or more; this row times a small dense
    regression's, in a fresh process with an empty numba cache.
    """
    import subprocess
    import sys
    import tempfile

    code = (
        "import time, numpy as np; from skgd import GDRegressor; X = np.ones((50, 3)); "
        "X[:, 0] = np.arange(50); t = time.perf_counter(); "
        "GDRegressor(max_iter=2, tol=None).fit(X, X[:, 0]); print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        seconds = [
            float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True).stdout)
            for _ in range(2)
        ]  # fmt: skip
    row("first fit on a machine, compiling (s)", seconds[0], None, "once a machine and kind")
    row("first fit in a process, from the cache (s)", seconds[1], None, "")


if __name__ == "__main__":
    main()
