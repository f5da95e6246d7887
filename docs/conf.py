"""Sphinx configuration for the skdann documentation.

Build with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import re
import sys
from pathlib import Path

# Document the package from this checkout (it is also installed editable).
sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))  # bad_input_page: generated "Bad input" page

from sphinx_gallery.sorting import ExplicitOrder

import skdann

project = "skdann"
author = "The skdann developers"
copyright = "The skdann developers"
release = skdann.__version__  # skdann/_version.py; |release| on the pages
version = ".".join(release.split(".")[:2])


def _project_url(*keys):
    """The first of ``keys`` in pyproject.toml's [project.urls], or None."""
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    try:
        import tomllib
    except ImportError:  # Python 3.10: the one table this needs, by hand
        section = text.split("[project.urls]", 1)[-1].split("\n[", 1)[0]
        urls = dict(re.findall(r'^\s*"?([\w.-]+)"?\s*=\s*"([^"]+)"', section, re.M))
    else:
        urls = tomllib.loads(text)["project"].get("urls", {})
    return next((urls[key] for key in keys if key in urls), None)


# The landing page links the source repository. pyproject.toml lists only the
# documentation's address so far; until it names a Repository, the link is this
# placeholder, named like the documentation's host.
repository_url = _project_url("Repository", "Source", "Source Code") or (
    "https://github.com/skdann/skdann"
)
rst_epilog = f"\n.. _source repository: {repository_url}\n"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.intersphinx",
    "bad_input_page",
    "sphinx_gallery.gen_gallery",
]

# Links to scikit-learn, PyTorch and skorch names. The build has no network, so
# the inventories are small local files written by _intersphinx/make_inventories.py
# for the names these docs refer to.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_intersphinx/sklearn.inv"),
    "torch": ("https://docs.pytorch.org/docs/stable/", "_intersphinx/torch.inv"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", "_intersphinx/skorch.inv"),
}
intersphinx_timeout = 1

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# Pages for the names listed in api.rst go to docs/generated/ (gitignored).
autosummary_generate = True
autosummary_imported_members = False

# The example gallery: examples/*/*.py rendered to docs/auto_examples/
# (gitignored). Only the files named plot_*.py run during the build, on
# shipped or synthetic data; the others need ../shared/data or start a Dask
# cluster, and are shown with their code. sphinx-gallery draws with
# matplotlib's Agg backend and skips examples whose source has not changed
# since their last run in docs/auto_examples/.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "subsection_order": ExplicitOrder(
        ["../examples/adaptation", "../examples/data", "../examples/selection"]
    ),
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skdann",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
}

autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"

# numpydoc: the class template lists the methods itself; numpydoc's own
# member tables would duplicate them and their toctree entries.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = False

nitpicky = False

html_theme = "alabaster"
html_title = f"skdann {release}"
# _static/custom.css: a wider text column; code and tables scroll instead of being cut;
# the navigation after the page on narrow screens (with _templates/layout.html).
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "description": "Domain-adversarial neural networks for scikit-learn",
    "fixed_sidebar": True,
    "page_width": "1180px",
    "sidebar_width": "230px",
}


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods.

    scikit-learn adds them to every estimator; their docstrings point to
    scikit-learn's own glossary and labels, which do not exist here.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _attribute_doc(app, what, name, obj, options, lines):
    """Give re-exported constants the docstring written where they are defined.

    ``skdann.TARGET_LABEL`` is documented by a string literal under its
    assignment in ``skdann/_domains.py``. autodoc looks for that string only
    in the module named on the page (``skdann``), misses it and falls back
    to the docstring of ``int``. Look for it in the skdann submodules too.
    """
    if what != "data" or not name.startswith("skdann."):
        return
    from sphinx.pycode import ModuleAnalyzer

    module_name, attr = name.rsplit(".", 1)
    if ("", attr) in ModuleAnalyzer.for_module(module_name).find_attr_docs():
        return  # documented where autodoc looks
    for other_name, module in sorted(sys.modules.items()):
        if not other_name.startswith("skdann.") or getattr(module, attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(other_name).find_attr_docs()
        except Exception:
            continue
        if ("", attr) in docs:
            lines[:] = [line.rstrip() for line in docs["", attr]]
            return


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    # Before numpydoc (priority 500) rewrites the lines.
    app.connect("autodoc-process-docstring", _attribute_doc, priority=400)
