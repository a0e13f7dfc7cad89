"""The measurements behind the user guide's "Tips on practical use".

Run it with ``python benchmarks/tips.py`` (about a minute). Each section
prints what one tip rests on; the guide quotes the shape of these results
(which setting wins, by roughly how much), not exact epoch counts, which
change with the training engine. Times are the best of a few runs, in one
process, so their ratios are comparable on a busy machine; their absolute
values are not.
"""

import datetime
import platform
import time
import warnings

import numpy as np
import sklearn
from scipy import sparse
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skgd
from skgd import GDClassifier, GDRegressor

warnings.simplefilter("ignore", ConvergenceWarning)


def best_time(function, repeat=3):
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - tic)
    return min(times), result


def fit_report(model, X, y, X_test=None, y_test=None):
    """'n epochs, score' or the error that fit raised."""
    try:
        model.fit(X, y)
    except ValueError as error:
        return f"error: {str(error)[:60]}..."
    X_test, y_test = (X, y) if X_test is None else (X_test, y_test)
    return f"{model.n_iter_:4d} epochs, score {model.score(X_test, y_test):.4f}"


def scaling_x_and_y():
    print("\n## Scaling X and y")
    X, y = make_regression(n_samples=2000, n_features=10, noise=10.0, random_state=0)
    X_skewed = X * np.logspace(-2, 3, X.shape[1])  # features from 0.01 to 1000 in scale
    for label, data, kwargs in [
        ("features 0.01..1000, standardize=True (default)", X_skewed, {}),
        ("features 0.01..1000, standardize=False", X_skewed, {"standardize": False}),
        ("StandardScaler first, standardize=False", StandardScaler().fit_transform(X_skewed),
         {"standardize": False}),
    ]:  # fmt: skip
        print(f"  {label:<50} {fit_report(GDRegressor(random_state=0, **kwargs), data, y)}")
    X_std = StandardScaler().fit_transform(X)
    for scale in [1, 1000]:
        for optimizer in ["sgd", "adam"]:
            model = GDRegressor(optimizer=optimizer, random_state=0)
            label = f"y x {scale} (std {np.std(y) * scale:.0f}), optimizer={optimizer}"
            print(f"  {label:<50} {fit_report(model, X_std, y * scale)}")


def partial_fit_streams():
    print("\n## batch_size and learning_rate for partial_fit streams")
    X, y = make_regression(n_samples=42_000, n_features=50, noise=20.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    X_test, y_test = X[:2000], y[:2000]
    chunks = [(X[i : i + 1000], y[i : i + 1000]) for i in range(2000, len(X), 1000)]
    print(f"  {len(chunks)} chunks of 1000; held-out R² after 2, 10 and all chunks; seconds")
    for batch_size in [10, 50, 200, 1000]:
        for learning_rate in [0.01, 0.1, 0.5]:
            model = GDRegressor(batch_size=batch_size, learning_rate=learning_rate, random_state=0)
            scores, tic = [], time.perf_counter()
            try:
                for X_chunk, y_chunk in chunks:
                    model.partial_fit(X_chunk, y_chunk)
                    scores.append(model.score(X_test, y_test))
                row = f"{scores[1]:7.4f} {scores[9]:7.4f} {scores[-1]:7.4f}"
            except ValueError:
                row = "diverged"
            seconds = time.perf_counter() - tic
            print(
                f"  batch_size={batch_size:<5} learning_rate={learning_rate:<5} "
                f"{row}  {seconds:.2f}s"
            )


def sparse_and_wide():
    print("\n## The cost of sparse and wide data (one epoch of 5000 rows, 20 non-zeros a row)")
    rng = np.random.RandomState(0)
    n_samples, nnz = 5000, 20
    for n_features in [1_000, 10_000, 100_000, 1_000_000]:
        rows = np.repeat(np.arange(n_samples), nnz)
        cols = rng.randint(n_features, size=n_samples * nnz)
        X = sparse.csr_matrix((rng.rand(rows.size), (rows, cols)), shape=(n_samples, n_features))
        y = rng.randint(2, size=n_samples)
        for batch_size in [20, 200, 2000]:
            model = GDClassifier(batch_size=batch_size, max_iter=1, tol=None, random_state=0)
            seconds, _ = best_time(lambda model=model, X=X, y=y: model.fit(X, y), repeat=2)
            print(
                f"  n_features={n_features:>9,}  batch_size={batch_size:<5} "
                f"{seconds * 1000:8.1f} ms an epoch ({type(model.optimizer_).__name__}: "
                '"auto" takes plain SGD under 1% stored)'
            )


def optimizers():
    print("\n## Which optimizer: epochs until the stop criterion, test accuracy (digits)")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    for optimizer in ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]:
        for learning_rate in [0.001, 0.01, 0.1]:
            model = GDClassifier(optimizer=optimizer, learning_rate=learning_rate, random_state=0)
            tic = time.perf_counter()
            print(
                f"  {optimizer:<9} learning_rate={learning_rate:<6}"
                f"{fit_report(model, X_train, y_train, X_test, y_test)}, "
                f"{time.perf_counter() - tic:.2f}s"
            )


def early_stopping():
    print("\n## Early stopping or a fixed number of epochs (digits, test accuracy)")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    for label, kwargs in [
        ("default stop on the training loss", {}),
        ("early_stopping=True", {"early_stopping": True}),
        ("early_stopping=True, validation_fraction=0.2", {"early_stopping": True,
                                                           "validation_fraction": 0.2}),
        ("tol=None, max_iter=50", {"tol": None, "max_iter": 50}),
        ("tol=None, max_iter=200", {"tol": None, "max_iter": 200}),
    ]:  # fmt: skip
        model = GDClassifier(random_state=0, **kwargs)
        tic = time.perf_counter()
        report = fit_report(model, X_train, y_train, X_test, y_test)
        print(f"  {label:<48} {report}, {time.perf_counter() - tic:.2f}s")


def float32():
    print("\n## float32 against float64 (200,000 x 50, 5 epochs)")
    X, y = make_regression(n_samples=200_000, n_features=50, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    results = {}
    for dtype in [np.float64, np.float32]:
        X_typed = X.astype(dtype)
        model = GDRegressor(batch_size=256, max_iter=5, tol=None, random_state=0)
        seconds, model = best_time(lambda model=model, X_typed=X_typed: model.fit(X_typed, y))
        results[dtype] = model
        print(
            f"  {np.dtype(dtype).name}: {seconds:.2f}s, X {X_typed.nbytes / 2**20:.0f} MiB, "
            f"coef_ {model.coef_.dtype}, R² {model.score(X_typed, y):.6f}"
        )
    gap = np.max(np.abs(results[np.float32].coef_ - results[np.float64].coef_))
    print(f"  largest coefficient difference: {gap:.1e}")


if __name__ == "__main__":
    print(
        f"{datetime.date.today()}, {platform.machine()}, skgd {skgd.__version__}, "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    )
    scaling_x_and_y()
    partial_fit_streams()
    sparse_and_wide()
    optimizers()
    early_stopping()
    float32()
