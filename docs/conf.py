"""Sphinx configuration: numpydoc, sphinx-gallery and the pydata theme.

The build needs no network: MathJax is served from the site itself
(sphinx-mathjax-offline), and the links to scikit-learn's documentation
come from its online inventory when there is a network, else from an
inventory written here from the installed scikit-learn.
"""

import importlib
import inspect
import os
import pkgutil
import sys
import zlib

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # gallery_order
import skgd  # noqa: E402

# The gallery runs every example in full (each takes seconds).
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skgd"
author = "the skgd developers"
copyright = "2026, the skgd developers"
release = version = skgd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # Copies MathJax 3 into _static and points mathjax_path at it: formulas
    # render with no network (docs/check_math_offline.py checks it).
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def write_sklearn_inventory(path):
    """An intersphinx inventory of scikit-learn's public API, from the installed package.

    The fallback for a build without a network: the same targets as the
    online inventory for every public class and function (scikit-learn
    documents each at ``modules/generated/<full name>.html``), so that
    ``:class:`~sklearn.pipeline.Pipeline``` is a link either way.
    """
    import sklearn

    entries = {}
    for info in pkgutil.iter_modules(sklearn.__path__):
        if info.name.startswith("_") or info.name in {"tests", "externals", "conftest"}:
            continue
        module = importlib.import_module(f"sklearn.{info.name}")
        for name in getattr(module, "__all__", []):
            try:
                obj = getattr(module, name)
            except ImportError:  # experimental, needs an explicit enable_* import
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                role = "py:class" if inspect.isclass(obj) else "py:function"
                full = f"{module.__name__}.{name}"
                entries[full] = f"{full} {role} 1 modules/generated/{full}.html#$ -"
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: scikit-learn\n# Version: {sklearn.__version__}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "\n".join(entries[name] for name in sorted(entries)) + "\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(header.encode() + zlib.compress(body.encode()))


HERE = os.path.dirname(os.path.abspath(__file__))
SKLEARN_FALLBACK_INVENTORY = os.path.join(HERE, "generated", "sklearn-objects.inv")
write_sklearn_inventory(SKLEARN_FALLBACK_INVENTORY)
# The online inventory first; without a network, Sphinx logs (not warns) its
# failure and uses the fallback, so ``-W`` builds stay green offline.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", (None, SKLEARN_FALLBACK_INVENTORY)),
}
intersphinx_timeout = 10

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # examples/_display.py is the scripts' helper for machines without a display
    "ignore_pattern": r"(__init__|_display)\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "gallery_order.example_order",
    "doc_module": ("skgd",),
    "backreferences_dir": "generated/backreferences",
}

html_theme = "pydata_sphinx_theme"
html_title = f"skgd {version}"
html_static_path = ["_static"]
html_css_files = ["skgd.css"]
# Pages with no sub-pages have nothing to show in the left sidebar: give
# their room to the text.
html_sidebars = {
    page: [] for page in ["index", "getting_started", "user_guide", "dask", "persistence", "api"]
}
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "generated/*.md5"]
