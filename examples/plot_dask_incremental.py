"""
Training and searching the learning rate on a Dask cluster
==========================================================

When the data no longer fits one machine, it lives in a chunked
``dask.array`` and ``dask_ml.wrappers.Incremental`` feeds each block to
``partial_fit`` on the cluster's workers, one block at a time: only the
model travels between them. The search over the learning rate runs its
candidates on the workers too, each trained block by block.

This example starts a small local cluster (threads, so that it runs
anywhere, the documentation build included). To use a real cluster, set
``SKGD_DASK_SCHEDULER`` to its scheduler's address, such as
``tcp://scheduler.example:8786``: nothing else changes.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split

from skgd import GDClassifier

try:
    import dask.array as da
    from dask_ml.model_selection import IncrementalSearchCV
    from dask_ml.wrappers import Incremental
    from distributed import Client, LocalCluster
except ImportError as error:
    raise ImportError(
        'This example needs dask, distributed and dask-ml: pip install "skgd[dask]" '
        "installs the versions that work together (see docs/dask.rst)."
    ) from error

address = os.environ.get("SKGD_DASK_SCHEDULER")
cluster = None if address else LocalCluster(n_workers=2, processes=False, dashboard_address=None)
client = Client(address or cluster)
print("workers:", len(client.scheduler_info()["workers"]))

# %%
# A data set of 20,000 samples in blocks of 2,000 (in real use, ``da.from_zarr``
# or ``dask.dataframe.read_parquet(...).to_dask_array(lengths=True)``), and a
# held-out part that training never sees.
X, y = make_classification(
    n_samples=24_000, n_features=20, n_informative=8, n_classes=4, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=4_000, random_state=0)
X_train = da.from_array(X_train, chunks=(2_000, -1))
y_train = da.from_array(y_train, chunks=2_000)
classes = np.unique(y)
print(f"training data: {X_train.numblocks[0]} blocks of {X_train.chunksize[0]} samples")

# %%
# Incremental training: each call of ``partial_fit`` is one pass over the blocks.
model = Incremental(
    GDClassifier(learning_rate=0.1, random_state=0), scoring="accuracy", random_state=0
)  # (random_state: the order of the blocks, shuffled at each pass)
accuracy = []
for epoch in range(1, 6):
    model.partial_fit(X_train, y_train, classes=classes)
    accuracy.append(model.score(X_test, y_test))
    print(f"pass {epoch}: held-out accuracy {accuracy[-1]:.3f}")

# %%
# The learning rate, searched on the cluster: each candidate trains block by
# block and is scored after each call. With ``decay_rate=None`` and no
# ``patience``, every candidate gets its ``max_iter`` calls (the figure's
# right panel); ``patience``, or ``HyperbandSearchCV``, stops the poor ones
# early.
search = IncrementalSearchCV(
    GDClassifier(random_state=0),
    {"learning_rate": [1e-4, 1e-3, 1e-2, 0.1, 0.5], "optimizer": ["sgd", "adam"]},
    n_initial_parameters="grid",
    decay_rate=None,
    max_iter=10,
    random_state=0,
)
search.fit(X_train, y_train, classes=classes)
print("best:", search.best_params_)

# %%
# Macro precision and recall of the chosen model, on data it never saw.
y_pred = search.predict(X_test)
y_pred = y_pred.compute() if hasattr(y_pred, "compute") else y_pred
print(f"macro precision {precision_score(y_test, y_pred, average='macro'):.3f}")
print(f"macro recall    {recall_score(y_test, y_pred, average='macro'):.3f}")

# %%
# Left: the held-out accuracy after each pass of incremental training. Right:
# each candidate of the search, its score against the passes it was given.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(range(1, len(accuracy) + 1), accuracy, "o-")
axes[0].set_xticks(range(1, len(accuracy) + 1))
axes[0].set_ylim(0, 1)
axes[0].set_xlabel("pass over the blocks")
axes[0].set_ylabel("held-out accuracy")
axes[0].set_title("Incremental(GDClassifier), learning_rate=0.1")
for model_id, records in search.model_history_.items():
    calls = [record["partial_fit_calls"] for record in records]
    scores = [record["score"] for record in records]
    params = search.cv_results_["params"][model_id]
    axes[1].plot(calls, scores, "o-", label=f"{params['optimizer']}, γ={params['learning_rate']:g}")
axes[1].set_ylim(0, 1)
axes[1].set_xlabel("partial_fit calls")
axes[1].set_ylabel("validation score")
axes[1].set_title("IncrementalSearchCV on the cluster")
axes[1].legend(fontsize=7, ncols=2)
fig.tight_layout()

client.close()
if cluster is not None:
    cluster.close()

# sphinx_gallery_start_ignore
from _display import save_figures_if_no_display  # noqa: E402

save_figures_if_no_display()
# sphinx_gallery_end_ignore
plt.show()
