"""numba's cache of the compiled steps is emptied when the compiled sources change."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import skgd

SOURCES = Path(skgd.__file__).parent


def _import_compiled(root):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(root)
    subprocess.run([sys.executable, "-c", "import skgd._compiled"], check=True, env=env, cwd=root)


def test_a_changed_compiled_source_empties_the_cache_once(tmp_path):
    # numba keys a cached function on its own file only: a kernel compiled with
    # another module's step kept its old machine code after that module changed
    # (63 of 207 models of an updated tree differed from a fresh clone's).
    package = tmp_path / "skgd"
    shutil.copytree(SOURCES, package, ignore=shutil.ignore_patterns("__pycache__"))
    cache = package / "__pycache__"
    _import_compiled(tmp_path)
    marker = cache / "skgd-compiled-sources.sha1"
    assert marker.exists()
    old = cache / "_steps._update-1.py311.nbi"
    old.write_bytes(b"a cache file of earlier sources")
    _import_compiled(tmp_path)  # the same sources: the cache stays
    assert old.exists()
    with open(package / "_steps.py", "a") as source:
        source.write("\n# changed\n")
    _import_compiled(tmp_path)
    assert not old.exists()
    assert marker.read_text() != ""
    old.write_bytes(b"a cache file of these sources")
    _import_compiled(tmp_path)  # once: the sources have not changed since
    assert old.exists()


def _run(code, **env_changes):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(env_changes, PYTHONPATH=str(SOURCES.parent))
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
    )
    return done.stdout


def test_no_writable_cache_place_warns_and_imports():
    # (a deployment trial) A read-only install whose user's cache directory is
    # read-only too: numba refused every cache=True function, and `import skgd`
    # raised "no locator available". (numba's places emptied stand for that.)
    out = _run(
        "import warnings; import numba.core.caching as c; c.CacheImpl._locator_classes = []\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always'); import skgd\n"
        "print([str(x.message) for x in w])"
    )
    assert "NUMBA_CACHE_DIR" in out


def test_numba_disable_jit_trains_on_the_numpy_path():
    # (a deployment trial) NUMBA_DISABLE_JIT=1, numba's debugging switch, ran the
    # jitted functions as Python but not the intrinsics: every fit raised
    # NotImplementedError. The numpy path serves, as without numba.
    import numpy as np
    from sklearn.datasets import load_diabetes

    code = (
        "from sklearn.datasets import load_diabetes; from skgd import GDRegressor\n"
        "X, y = load_diabetes(return_X_y=True)\n"
        "print(list(GDRegressor(random_state=0).fit(X, y).coef_))"
    )
    coef = np.array(eval(_run(code, NUMBA_DISABLE_JIT="1")))
    X, y = load_diabetes(return_X_y=True)
    np.testing.assert_allclose(coef, skgd.GDRegressor(random_state=0).fit(X, y).coef_, rtol=1e-9)


def test_a_strided_y_takes_the_compiled_code_of_a_contiguous_one():
    # A user trial: y as a strided view (y[::2], a column of a 2-D array's rows) took
    # compiled code of its own layout, a first fit's 5 to 10 s of compiling again.
    import numpy as np

    from skgd import GDRegressor
    from skgd._statistics_passes import column_statistics
    from skgd._steps import _dense_epoch

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    Y = np.repeat(X @ rng.normal(size=4), 2).reshape(-1, 2)
    contiguous = GDRegressor(max_iter=3, tol=None, random_state=0).fit(X, Y[:, 0].copy())
    compiled = (len(_dense_epoch.signatures), len(column_statistics.signatures))
    for strided in (Y[:, 0], Y[:, :1]):
        model = GDRegressor(max_iter=3, tol=None, random_state=0).fit(X, strided)
        np.testing.assert_array_equal(np.ravel(model.coef_), contiguous.coef_)
    assert (len(_dense_epoch.signatures), len(column_statistics.signatures)) == compiled
