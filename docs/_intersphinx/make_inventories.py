"""Write the intersphinx inventories the docs link with, for builds without network.

The docs build runs offline (and with ``-W``), so it cannot download the
``objects.inv`` of scikit-learn, PyTorch and skorch. This script writes
small inventories in Sphinx's format for the external names the docs and
docstrings refer to, pointing at those projects' documented URL patterns.
Rerun it after referring to a new external name::

    python docs/_intersphinx/make_inventories.py
"""

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project: (version, [(name, role, uri relative to the project's docs root[, title])]);
# "$" in a uri stands for the name. A label's title is the link text of a bare :ref:.
INVENTORIES = {
    "sklearn": (
        "stable",
        [
            *(
                (f"sklearn.{name}", "py:class", "modules/generated/$.html#$")
                for name in (
                    "compose.ColumnTransformer",
                    "decomposition.PCA",
                    "ensemble.HistGradientBoostingClassifier",
                    "ensemble.HistGradientBoostingRegressor",
                    "feature_extraction.text.TfidfTransformer",
                    "impute.SimpleImputer",
                    "linear_model.LogisticRegression",
                    "manifold.TSNE",
                    "model_selection.GridSearchCV",
                    "model_selection.KFold",
                    "model_selection.StratifiedKFold",
                    "pipeline.Pipeline",
                    "preprocessing.LabelEncoder",
                    "preprocessing.OneHotEncoder",
                    "preprocessing.StandardScaler",
                    "semi_supervised.SelfTrainingClassifier",
                )
            ),
            *(
                (f"sklearn.{name}", "py:function", "modules/generated/$.html#$")
                for name in ("datasets.load_digits", "metrics.get_scorer")
            ),
            # Labels that the docstrings of scikit-learn's methods refer to (get_metadata_routing,
            # set_output); the estimators' pages list those methods with their docstrings.
            ("metadata_routing", "std:label", "metadata_routing.html", "Metadata Routing"),
            (
                "df_output_transform",
                "std:label",
                "modules/df_output_transform.html",
                "Pandas/Polars Output for Transformers with set_output API",
            ),
            (
                "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
                "std:label",
                "auto_examples/miscellaneous/plot_set_output.html",
                "Introducing the set_output API",
            ),
        ],
    ),
    "torch": (
        "stable",
        [
            ("torch.nn.Module", "py:class", "generated/$.html#$"),
            ("torch.load", "py:function", "generated/$.html#$"),
            ("torch.set_num_threads", "py:function", "generated/$.html#$"),
        ],
    ),
    "skorch": (
        "stable",
        [
            ("skorch.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
            ("skorch.net.NeuralNet", "py:class", "net.html#$"),
            ("skorch.callbacks.EarlyStopping", "py:class", "callbacks.html#$"),
            ("skorch.history.History", "py:class", "history.html#$"),
        ],
    ),
}


def write_inventory(project, version, entries):
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = []
    for name, role, uri, *title in sorted(entries):
        lines.append(f"{name} {role} 1 {uri.replace('$', name)} {title[0] if title else '-'}\n")
    body = "".join(lines)
    path = HERE / f"{project}.inv"
    path.write_bytes(header.encode() + zlib.compress(body.encode()))
    return path


if __name__ == "__main__":
    for project, (version, entries) in INVENTORIES.items():
        print(write_inventory(project, version, list(entries)))
