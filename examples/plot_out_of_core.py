"""
Out-of-core text classification with partial_fit
================================================

When the data does not fit in memory, it is read in chunks and each chunk
trains the model once with ``partial_fit``: memory is bounded by the chunk,
not the stream. Here a text corpus is generated chunk by chunk, turned into
sparse features by ``HashingVectorizer`` (stateless: it needs no pass over
the data first), and fed to ``GDClassifier``; one chunk, never trained on,
measures the macro-averaged precision and recall as the stream goes by.
"""

# %%
import os
import time
import tracemalloc

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.metrics import precision_score, recall_score

from skgd import GDClassifier

TOPICS = ["sport", "science", "music", "cooking", "travel"]
# Small by default so that it runs in CI; set SKGD_EXAMPLE_CHUNKS for a longer stream.
N_CHUNKS = int(os.environ.get("SKGD_EXAMPLE_CHUNKS", 30))
CHUNK_SIZE = 1000

rng = np.random.RandomState(0)
common = np.array([f"w{i}" for i in range(2000)])
# Each topic has its own words, and shares a quarter of them with the next topic.
own = [[f"{topic}{i}" for i in range(300)] for topic in TOPICS]
topic_words = [np.array(own[k] + own[(k + 1) % len(TOPICS)][:100]) for k in range(len(TOPICS))]


def generate_chunk(rng, size):
    """A chunk of documents: mostly common words, some words of their topic."""
    labels = rng.randint(len(TOPICS), size=size)
    docs = []
    for label in labels:
        n_words = rng.randint(20, 60)
        n_topic = rng.binomial(n_words, 0.15)
        words = np.concatenate(
            [rng.choice(topic_words[label], n_topic), rng.choice(common, n_words - n_topic)]
        )
        docs.append(" ".join(words))
    return docs, np.array(TOPICS)[labels]


vectorizer = HashingVectorizer(n_features=2**18, alternate_sign=False)
held_out_docs, y_test = generate_chunk(rng, CHUNK_SIZE)
X_test = vectorizer.transform(held_out_docs)

classifier = GDClassifier(learning_rate=0.5, batch_size=100, random_state=0)

# %%
# Stream the chunks; memory holds one chunk at a time.
tracemalloc.start()
tic = time.perf_counter()
print(f"{'chunk':>5}  {'docs seen':>9}  {'macro precision':>15}  {'macro recall':>12}")
for chunk in range(1, N_CHUNKS + 1):
    docs, labels = generate_chunk(rng, CHUNK_SIZE)
    classifier.partial_fit(vectorizer.transform(docs), labels, classes=TOPICS)
    if chunk % 5 == 0 or chunk == 1:
        y_pred = classifier.predict(X_test)
        precision = precision_score(y_test, y_pred, average="macro", zero_division=0)
        recall = recall_score(y_test, y_pred, average="macro")
        print(f"{chunk:5d}  {chunk * CHUNK_SIZE:9d}  {precision:15.3f}  {recall:12.3f}")
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(
    f"{N_CHUNKS * CHUNK_SIZE} documents in {time.perf_counter() - tic:.1f}s, "
    f"peak traced memory {peak / 2**20:.0f} MiB (one chunk and the model)"
)
