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

import dask.array as da
import numpy as np
from dask_ml.model_selection import IncrementalSearchCV
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split

from skgd import GDClassifier

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
model = Incremental(GDClassifier(learning_rate=0.1, random_state=0), scoring="accuracy")
for epoch in range(1, 6):
    model.partial_fit(X_train, y_train, classes=classes)
    print(f"pass {epoch}: held-out accuracy {model.score(X_test, y_test):.3f}")

# %%
# The learning rate, searched on the cluster: candidates that do badly early
# are dropped, the others get more passes.
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

client.close()
if cluster is not None:
    cluster.close()
