"""Where the examples' figures go when there is no screen to show them on.

``plt.show()`` opens windows on a desktop. On a machine without a display
(a server, a container, CI) matplotlib falls back to a non-interactive
backend and ``plt.show()`` shows nothing; the examples then call
:func:`save_figures_if_no_display` first, which writes each open figure to
a PNG file and prints where it is. In the documentation's gallery, which
collects the figures itself, it does nothing.

This file is a helper of the example scripts, not an example.
"""

import sys
from pathlib import Path

FIGURES_DIR = "skgd-figures"


def save_figures_if_no_display(directory=FIGURES_DIR):
    """Save and close the open figures if they cannot be shown; return the files written."""
    import matplotlib.pyplot as plt

    if "sphinx_gallery" in sys.modules or not plt.get_fignums():
        return []
    if plt.figure(plt.get_fignums()[0]).canvas.required_interactive_framework is not None:
        return []  # a window can open: plt.show() shows them
    stem = Path(sys.argv[0]).stem or "figure"
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for number in plt.get_fignums():
        path = directory / f"{stem}_{number}.png"
        plt.figure(number).savefig(path, dpi=100, bbox_inches="tight")
        written.append(path)
    plt.close("all")
    print(f"No display: saved {len(written)} figure(s) instead of showing them:")
    for path in written:
        print(f"  {path}")
    return written
