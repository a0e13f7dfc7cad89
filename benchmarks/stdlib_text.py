"""Real hashed text at the defaults: the standard library's source lines, by package.

Run it with ``python benchmarks/stdlib_text.py``. The corpus is the running
Python's own standard library (every machine has it): the non-blank lines
of the ``.py`` files of eleven packages, each line labelled by its package,
hashed by ``HashingVectorizer`` (its default 2**20 columns) or weighed by
``TfidfVectorizer``. Prints, for each fit on three quarters of the lines:
seconds (best of three), epochs and held-out accuracy, beside
SGDClassifier's. The user guide's and the README's figures of stdlib text
come from this script.
"""

import datetime
import os
import platform
import sysconfig
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
        }
        print(f"\n{name}: {X_train.shape[1]} columns")
        for label, make in models.items():
            seconds, model = best_time(partial(fit, make, X_train, y[train]), 3)
            print(
                f"  {label:36s} {seconds:6.2f} s  {model.n_iter_:4d} epochs  "
                f"held-out accuracy {model.score(X_test, y[test]):.3f}"
            )


if __name__ == "__main__":
    main()
