"""Real hashed text at the defaults: the standard library's source lines, by package.

Run it with ``python benchmarks/stdlib_text.py`` (``--stream`` for streams of
chunks instead of fits). The corpus is the running
Python's own standard library (every machine has it): the non-blank lines
of the ``.py`` files of eleven packages, each line labelled by its package,
hashed by ``HashingVectorizer`` (its default 2**20 columns) or weighed by
``TfidfVectorizer``. Prints, for each fit on three quarters of the lines:
seconds (best of three), epochs and held-out accuracy, beside
SGDClassifier's. With ``--stream``: three passes of ``partial_fit`` calls over
the training lines in chunks (1,000 rows hashed to 2**18 columns; 500 rows,
hashed and tf-idf), the held-out accuracy after each pass and its range and
mean change a call over the third, and seconds a call. The user guide's and
the README's figures of stdlib text come from this script.
"""

import datetime
import os
import platform
import sys
import sysconfig
import time
import warnings
from functools import partial

import numpy as np
import sklearn
from run import best_time  # (benchmarks/run.py's, beside this script)
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

import skgd
from skgd import GDClassifier

PACKAGES = [
    "asyncio", "concurrent", "email", "html", "http", "importlib", "json", "logging",
    "multiprocessing", "unittest", "xml",
]  # fmt: skip


def corpus():
    """The non-blank lines of each package's ``.py`` files (tests excluded), and its index."""
    root = sysconfig.get_paths()["stdlib"]
    lines, labels = [], []
    for label, package in enumerate(PACKAGES):
        for folder, subfolders, files in sorted(os.walk(os.path.join(root, package))):
            subfolders[:] = sorted(d for d in subfolders if d not in ("test", "tests"))
            for name in sorted(files):
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), encoding="utf-8") as source:
                        text = [line.strip() for line in source]
                    lines += [line for line in text if line]
                    labels += [label] * sum(1 for line in text if line)
    return lines, np.array(labels)


def fit(make, X, y):
    return make().fit(X, y)


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    lines, y = corpus()
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=0, stratify=y)
    print(
        f"# {datetime.date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; Python {platform.python_version()}, skgd {skgd.__version__}, "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    )
    print(
        f"# {len(y)} lines, {len(PACKAGES)} packages; {len(train)} to train, {len(test)} held out"
    )
    vectorizers = {"hashed (2**20)": HashingVectorizer(), "tf-idf": TfidfVectorizer()}
    for name, vectorizer in vectorizers.items():
        X_train = vectorizer.fit_transform([lines[i] for i in train])
        X_test = vectorizer.transform([lines[i] for i in test])
        models = {
            "GDClassifier()": lambda: GDClassifier(random_state=0),
            'GDClassifier(optimizer="nesterov")': lambda: GDClassifier(
                optimizer="nesterov", random_state=0
            ),
            "SGDClassifier()": lambda: SGDClassifier(random_state=0),
            "GDClassifier(average=True)": lambda: GDClassifier(average=True, random_state=0),
            "SGDClassifier(average=True)": lambda: SGDClassifier(average=True, random_state=0),
        }
        print(f"\n{name}: {X_train.shape[1]} columns")
        for label, make in models.items():
            seconds, model = best_time(partial(fit, make, X_train, y[train]), 3)
            print(
                f"  {label:36s} {seconds:6.2f} s  {model.n_iter_:4d} epochs  "
                f"held-out accuracy {model.score(X_test, y[test]):.3f}"
            )


def stream(make, X, y, X_test, y_test, chunk, passes=3):
    """``passes`` passes of ``partial_fit`` calls of ``chunk`` rows, in the training order.

    Returns the held-out accuracy after each pass, that after each call of
    the last pass, and the mean seconds a call.
    """
    model, classes = make(), np.unique(y)
    after_pass, last_pass, seconds, calls = [], [], 0.0, 0
    for p in range(passes):
        for start in range(0, X.shape[0], chunk):
            tic = time.perf_counter()
            model.partial_fit(X[start : start + chunk], y[start : start + chunk], classes=classes)
            seconds, calls = seconds + time.perf_counter() - tic, calls + 1
            if p == passes - 1:
                last_pass.append(model.score(X_test, y_test))
        after_pass.append(model.score(X_test, y_test))
    return after_pass, np.array(last_pass), seconds / calls


def streams():
    """The user guide's streams of stdlib lines: chunks of 1,000 and of 500 rows."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    lines, y = corpus()
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=0, stratify=y)
    print(f"# {datetime.date.today()}, skgd {skgd.__version__}, streams of {len(train)} lines")
    sgd_log_loss = {
        "SGDClassifier(loss='log_loss')": lambda: SGDClassifier(loss="log_loss", random_state=0)
    }
    plain_and_nesterov = {
        "GDClassifier()": lambda: GDClassifier(random_state=0),
        'GDClassifier(optimizer="nesterov")': lambda: GDClassifier(
            optimizer="nesterov", random_state=0
        ),
    }
    averaged = {"GDClassifier(average=True)": lambda: GDClassifier(average=True, random_state=0)}
    nesterov_variants = {
        f'GDClassifier(optimizer="nesterov", {setting}={value!r})': partial(
            GDClassifier, optimizer="nesterov", random_state=0, **{setting: value}
        )
        for setting, value in [("average", True), ("learning_rate", 0.1)]
    }
    runs = [
        (1000, "hashed (2**18)", HashingVectorizer(n_features=2**18),
         {**plain_and_nesterov, **averaged, **nesterov_variants, **sgd_log_loss}),
        (500, "hashed (2**18)", HashingVectorizer(n_features=2**18),
         {**plain_and_nesterov, **sgd_log_loss}),
        (500, "tf-idf", TfidfVectorizer(), {**plain_and_nesterov, **sgd_log_loss}),
    ]  # fmt: skip
    for chunk, name, vectorizer, models in runs:
        X_train = vectorizer.fit_transform([lines[i] for i in train])
        X_test = vectorizer.transform([lines[i] for i in test])
        fitted = GDClassifier(random_state=0).fit(X_train, y[train])  # (where a stream may go)
        print(
            f"\n{name}, calls of {chunk} rows, three passes (a fit at the defaults: held-out "
            f"accuracy {fitted.score(X_test, y[test]):.3f}):"
        )
        for label, make in models.items():
            after_pass, last, seconds = stream(make, X_train, y[train], X_test, y[test], chunk)
            print(
                f"  {label:50s} passes {' '.join(f'{a:.3f}' for a in after_pass)}; "
                f"third pass {last.min():.3f} to {last.max():.3f}, "
                f"{np.abs(np.diff(last)).mean():.3f} a call; {seconds * 1e3:.1f} ms a call"
            )


if __name__ == "__main__":
    streams() if "--stream" in sys.argv[1:] else main()
