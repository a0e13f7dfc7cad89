"""The README's python blocks run exactly as written, each with nothing defined beforehand."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def first_python_block(markdown, heading):
    """The first ```python block after the line ``## <heading>``."""
    section = markdown.split(f"\n## {heading}\n", 1)
    assert len(section) == 2, f"README.md has no section '## {heading}'"
    match = re.search(r"```python\n(.*?)```", section[1], flags=re.DOTALL)
    assert match, f"the README's '{heading}' section has no python block"
    return match.group(1)


def test_first_pipeline_runs_as_written(tmp_path):
    code = first_python_block(README.read_text(encoding="utf-8"), "A first pipeline")
    script = tmp_path / "first_pipeline.py"
    script.write_text(code, encoding="utf-8")
    # A fresh interpreter: the snippet must define all of its data itself.
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scores = [float(value) for value in re.findall(r": (-?[0-9.]+)$", done.stdout, re.M)]
    assert len(scores) == 2, f"the snippet should print two held-out scores: {done.stdout!r}"
    assert all(score > 0.9 for score in scores), done.stdout


def test_every_python_block_runs_on_its_own(tmp_path):
    # A user trial pasted the blocks in order: the loss block fitted the digits' X
    # against the regression's y, and alone it named GDRegressor without importing it.
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 3
    printed = ""
    # (scikit-learn's callbacks came in 1.9; pyproject allows 1.6: that block needs them)
    callbacks = importlib.util.find_spec("sklearn.callback") is not None
    for number, code in enumerate(blocks):
        if "sklearn.callback" in code and not callbacks:
            continue
        script = tmp_path / f"block_{number}.py"
        script.write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"block {number}:\n{code}\n{done.stderr[-3000:]}"
        printed += done.stdout
    # the 90% quantile's model: about 90% of the targets below its predictions
    share = float(re.search(r"share of targets below it: ([0-9.]+)", printed).group(1))
    assert 0.85 < share < 0.95
