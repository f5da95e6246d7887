"""Draw the docs' pictures from the benchmark results, not from typed numbers.

Run from the repository root after the benchmarks change::

    python docs/make_figures.py

Reads ``benchmarks/results/{accuracy,tabular,table_defaults,grid_search_scale}.json`` and
writes, in ``docs/_static/``:

- ``landing.png``: the landing page's (and the README's) picture, where DANN
  pays off (inputs with many features and a covariate shift) and where it
  does not (mixed-type tables, against a source-trained logistic regression
  or gradient boosting);
- ``thumb_amazon_sparse_text.png``, ``thumb_cnn_mnist_usps.png`` and
  ``thumb_dask_grid_search.png``: the gallery thumbnails of the three
  examples that the docs build shows but does not run (their data do not
  ship, or they start a cluster).
"""

import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
STATIC = ROOT / "docs" / "_static"

SOURCE_ONLY, DANN, TUNED, BASELINE = "0.55", "C0", "#9ecae1", "C2"


def records(name):
    """The result records of ``benchmarks/results/<name>.json``, without the machine record."""
    return [r for r in json.loads((RESULTS / f"{name}.json").read_text()) if "record" not in r]


def task_means(rows, score):
    """{(dataset, task, method): mean of ``score`` over seeds}."""
    values = defaultdict(list)
    for r in rows:
        values[r["dataset"], r["task"], r["method"]].append(r[score])
    return {key: float(np.mean(v)) for key, v in values.items()}


def dataset_means(means, dataset, method):
    """Mean over a dataset's tasks of the per-task means of ``method``."""
    return float(np.mean([v for (d, _, m), v in means.items() if d == dataset and m == method]))


def table_label(task):
    """``wine_clf_red_white`` -> ``wine: red → white``."""
    family, *domains = [part for part in task.split("_") if part != "clf"]
    domains = [part.upper() if part == "er" else part for part in domains]
    return f"{family}: {domains[0]} → {domains[1]}"


def landing(path):
    accuracy = task_means(records("accuracy"), "target_accuracy")
    datasets = {
        "amazon": "Amazon reviews\n(text, 12 pairs)",
        "mnist_usps": "MNIST ↔ USPS\n(digits, 2 pairs)",
        "coil": "COIL-20\n(objects, 2 pairs)",
        "moons": "rotated moons\n(2-D toy)",
        "office": "Office-Caltech\n(SURF, 12 pairs)",
    }
    # The five classification tables: the baselines and DANN with the package defaults
    # (benchmarks.tabular, 5 seeds), and DANN with the small-table settings of the
    # decision guide (benchmarks.table_defaults, 2 seeds).
    tables = task_means(
        [r for r in records("tabular") if r["metric"] == "accuracy" and "score" in r], "score"
    )
    tasks = list(dict.fromkeys((d, t) for (d, t, _) in tables))
    tuned = defaultdict(list)
    for r in records("table_defaults"):
        if (r["alpha"], r["learning_rate_init"]) == (0.01, 0.01) and r["kind"] == "clf":
            tuned[r["task"]].append(r["score"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")

    ax = axes[0]
    y = np.arange(len(datasets))
    source = [dataset_means(accuracy, d, "source_only") for d in datasets]
    dann = [dataset_means(accuracy, d, "dann") for d in datasets]
    ax.barh(y - 0.2, source, 0.4, color=SOURCE_ONLY, label="the same network, not adapted")
    ax.barh(y + 0.2, dann, 0.4, color=DANN, label="DANN (package defaults)")
    ax.set_yticks(y, list(datasets.values()))
    ax.set_title("Text, images, vectors: DANN against no adaptation", loc="left", fontsize=11)

    ax = axes[1]
    y = np.arange(len(tasks))
    best = [max(tables[d, t, "logreg"], tables[d, t, "hgb"]) for d, t in tasks]
    baseline = "the better of logistic regression and gradient boosting (source rows)"
    ax.barh(y - 0.27, best, 0.27, color=BASELINE, label=baseline)
    dann = [tables[d, t, "dann"] for d, t in tasks]
    ax.barh(y, dann, 0.27, color=DANN, label="DANN (package defaults)")
    small = [np.mean(tuned[t]) for _, t in tasks]
    ax.barh(y + 0.27, small, 0.27, color=TUNED, label="DANN (small-table settings)")
    ax.set_yticks(y, [table_label(t) for _, t in tasks])
    ax.set_title("Mixed-type tables: DANN against the better baseline", loc="left", fontsize=11)

    for ax in axes:
        ax.invert_yaxis()
        ax.set_xlim(0.3, 1.0)
        ax.set_xlabel("target accuracy (mean over seeds and tasks)")
        # Below the axes, off the bars.
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.16), fontsize=9, frameon=False)
        ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")  # the legends below the axes too
    plt.close(fig)


def thumbnail(path, draw):
    fig, ax = plt.subplots(figsize=(4, 2.8), layout="constrained")
    draw(ax)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def amazon_pairs(ax):
    accuracy = task_means(records("accuracy"), "target_accuracy")
    pairs = sorted(t for (d, t, m) in accuracy if d == "amazon" and m == "dann")
    source = [accuracy["amazon", t, "source_only"] for t in pairs]
    dann = [accuracy["amazon", t, "dann"] for t in pairs]
    x = np.arange(len(pairs))
    ax.vlines(x, source, dann, color="0.7")
    ax.plot(x, source, "o", color=SOURCE_ONLY)
    ax.plot(x, dann, "o", color=DANN)
    ax.set_xticks(x, [])
    ax.set_xlabel("the 12 Amazon category pairs")
    ax.set_ylabel("target accuracy")
    ax.set_title("source-only (grey) and DANN (blue)", fontsize=10)


def cnn_digits(ax):
    accuracy = task_means(records("accuracy"), "target_accuracy")
    methods = {
        "source_only": ("MLP", SOURCE_ONLY),
        "dann": ("MLP + DANN", DANN),
        "source_only_cnn": ("CNN", "0.35"),
        "dann_cnn": ("CNN + DANN", "C1"),
    }
    values = [dataset_means(accuracy, "mnist_usps", m) for m in methods]
    ax.bar([name for name, _ in methods.values()], values, color=[c for _, c in methods.values()])
    ax.set_ylim(0, 1)
    ax.set_ylabel("target accuracy")
    ax.set_title("MNIST ↔ USPS", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)


def grid_search_scale(ax):
    rows = records("grid_search_scale")
    names = [
        r["method"] if r["backend"] == "sequential" else f"{r['backend']}, {r['workers']} workers"
        for r in rows
    ]
    ax.barh(names, [r["seconds"] for r in rows], color=["0.55", "C2", "C0", "C0"][: len(rows)])
    ax.invert_yaxis()
    ax.set_xlabel("seconds for the grid search")
    ax.set_title(rows[0]["task"], fontsize=10)


def main():
    STATIC.mkdir(exist_ok=True)
    landing(STATIC / "landing.png")
    thumbnail(STATIC / "thumb_amazon_sparse_text.png", amazon_pairs)
    thumbnail(STATIC / "thumb_cnn_mnist_usps.png", cnn_digits)
    thumbnail(STATIC / "thumb_dask_grid_search.png", grid_search_scale)
    for path in sorted(STATIC.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
