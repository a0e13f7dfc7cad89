"""Every example runs to the end (they are also the documentation's gallery).

Examples run as the README's demo runs them: a plain ``python script.py`` on
a machine without a display, where each figure must land in a PNG file whose
path the script prints, not in a ``plt.show()`` that shows nothing.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).parents[1] / "examples"
# Files starting with "_" are the examples' helpers, not examples.
EXAMPLES = sorted(path for path in EXAMPLES_DIR.glob("*.py") if not path.name.startswith("_"))


def run_without_display(script, cwd):
    """``python script`` with no display: no DISPLAY, no WAYLAND_DISPLAY, no MPLBACKEND."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"}
    }
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def draws_figures(script):
    return "matplotlib" in script.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    done = run_without_display(script, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example should show its results"
    assert "non-interactive" not in done.stderr, "plt.show() was called with nothing to show on"
    if draws_figures(script):
        saved = [
            Path(line.strip()) for line in done.stdout.splitlines() if line.strip().endswith(".png")
        ]
        assert saved, f"without a display, {script.name} should save its figures and say where"
        for path in saved:
            assert path.is_file() and path.stat().st_size > 0, path
            assert path.is_relative_to(tmp_path), f"{path} is not under the working directory"


def test_every_gallery_example_has_its_own_figure():
    """A figure in each example, so that each gets its own thumbnail in the gallery."""
    for script in EXAMPLES:
        source = script.read_text(encoding="utf-8")
        assert re.search(r"plt\.(subplots|figure)\(|Display\.from_", source), (
            f"{script.name} draws no figure: its gallery thumbnail would be a placeholder"
        )
        assert "save_figures_if_no_display()" in source, (
            f"{script.name} should save its figures when there is no display"
        )
