"""Check that the built documentation renders its formulas with no network.

Usage, after ``sphinx-build docs docs/_build/html``::

    python docs/check_math_offline.py [docs/_build/html] [--screenshot user_guide.png]

Two checks:

1. Static, always: the user guide loads MathJax from the site's own
   ``_static`` folder (no ``http`` address), and that file is there.
2. In a browser, when Chromium is installed: headless Chromium opens the
   user guide with every host name unresolvable (no network at all), runs
   its scripts, and the rendered page must have MathJax's output and no raw
   LaTeX left in its formulas. ``--screenshot`` also saves a picture of the
   page to look at.

Without Chromium the second check is skipped, with a message saying so;
the exit status is non-zero only when a check ran and failed.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE = "user_guide.html"
# Chromium with no network: every host name fails to resolve, and no
# background traffic (updates, sync, metrics) is attempted.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=15000",
]


def check_static(html_dir):
    """MathJax comes from the site itself. Returns a list of problems."""
    page = (html_dir / PAGE).read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page, flags=re.IGNORECASE)
    if not scripts:
        return [f"{PAGE} loads no MathJax script"]
    problems = []
    for src in scripts:
        if "://" in src or src.startswith("//"):
            problems.append(f"{PAGE} loads MathJax from the network: {src}")
        elif not (html_dir / src.split("?")[0]).is_file():
            problems.append(f"{PAGE} loads {src}, which is not in {html_dir}")
    return problems


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def check_rendered(html_dir, chromium, screenshot=None):
    """Open the page in headless Chromium with no network. Returns a list of problems."""
    url = (html_dir / PAGE).resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        done = subprocess.run(
            [chromium, *flags, "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if screenshot is not None:
            subprocess.run(
                [chromium, *flags, f"--screenshot={screenshot}", "--window-size=1200,2400", url],
                capture_output=True,
                timeout=120,
            )
    dom = done.stdout
    if done.returncode != 0 or "</html>" not in dom:
        return [f"Chromium could not render {url}: {done.stderr[-2000:]}"]
    rendered = len(re.findall(r"<mjx-container", dom))
    # Sphinx writes each formula as \( ... \) or \[ ... \] inside an element of
    # class "math"; MathJax replaces that text with its own markup.
    raw = re.findall(r'class="math[^"]*"[^>]*>\s*(\\[(\[])', dom)
    problems = []
    if rendered == 0:
        problems.append(f"no formula of {PAGE} was rendered by MathJax")
    if raw:
        problems.append(f"{len(raw)} formula(s) of {PAGE} still show raw LaTeX")
    if not problems:
        print(f"ok: {rendered} formulas of {PAGE} rendered by MathJax with no network")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default="docs/_build/html", type=Path)
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the rendered page here")
    args = parser.parse_args(argv)

    problems = check_static(args.html_dir)
    if not problems:
        print(f"ok: {PAGE} loads MathJax from the site's own files")
    chromium = find_chromium()
    if chromium is None:
        print(
            "skipped: the in-browser check needs Chromium (Debian: apt-get install chromium); "
            "the static check above still ran"
        )
    else:
        problems += check_rendered(args.html_dir, chromium, args.screenshot)
        if args.screenshot is not None and args.screenshot.is_file():
            print(f"screenshot: {args.screenshot.resolve()}")
    for problem in problems:
        print("FAILED:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
