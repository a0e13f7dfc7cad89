"""Sphinx configuration: numpydoc, sphinx-gallery and the pydata theme."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
import skgd  # noqa: E402

# The gallery runs every example; keep the long ones short in docs builds.
os.environ.setdefault("SKGD_EXAMPLE_CHUNKS", "5")
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
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {}  # no network here: references stay local

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skgd",),
    "backreferences_dir": "generated/backreferences",
}

html_theme = "pydata_sphinx_theme"
html_title = f"skgd {version}"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "generated/*.md5"]
