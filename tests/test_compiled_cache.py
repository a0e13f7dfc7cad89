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
