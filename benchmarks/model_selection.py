"""Choosing lambda and the architecture without target labels: which scorer picks well?

For each task and seed, every point of the grid lambda in {0, 0.01, 0.03, 0.1,
0.3, 1} x hidden layers in {(100,), (100, 100)} is trained once and scored by
every selector on a held-out validation fold, the way ``GridSearchCV`` scores
one fold:

- the source rows are split 80/20 (stratified) and the target adaptation rows
  80/20; the model is fitted on the 80% parts (target rows unlabeled), with
  the package defaults for everything outside the grid;
- the validation fold stacks the 20% source rows (labels) and the 20% target
  rows (``y == -1``); each selector scores it: ``source_accuracy`` (the
  pipeline's own ``score``, the baseline a user gets without a label-free
  scorer) and the four scorers of :mod:`skdann.metrics`;
- the target test accuracy of every grid point is measured with target labels
  the selectors never see.

For each selector: the target accuracy of the grid point it picks (ties go
to the first point, the smallest lambda, as ``GridSearchCV``'s
``best_index_`` does), the regret (best grid point minus
the pick) and the Spearman rank correlation between its score and the target
accuracy over the grid.

Selectors: source accuracy, reverse validation, IWCV, DEV, prediction
entropy, information maximisation and soft neighbourhood density (the last
two added later: results files from before hold the first five only).

Tasks (``../shared/data/``): the 12 Amazon review pairs (tf-idf, target test
split; ``--amazon-tasks 4`` runs the cycle books -> dvd -> electronics ->
kitchen -> books), the 4 Office-Caltech10 pairs with the largest transfer
gap (target 5-fold CV accuracy of a logistic regression minus its
source-to-target accuracy, computed here), MNIST<->USPS, COIL-20 (both
directions) and the rotated moons. ``--seeds`` seeds each, except Amazon
(``--amazon-seeds``, 1 by default: a grid point takes ~20 s there).

Run from the repository root::

    python -m benchmarks.model_selection
    python -m benchmarks.model_selection --dataset office --seeds 3
    python -m benchmarks.model_selection --quick

Writes ``benchmarks/results/model_selection.{json,md}`` (``_quick`` with
``--quick``); records of datasets not run are kept from the previous file.
"""

import argparse
import json
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ParameterGrid, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline

from benchmarks._common import RESULTS, machine_info, markdown_table, write_results
from benchmarks.accuracy import (
    amazon_tasks,
    coil_tasks,
    logreg_accuracy,
    mnist_usps_tasks,
    moons_tasks,
    office_tasks,
)
from skdann import DANNClassifier, stack_domains
from skdann.metrics import (
    deep_embedded_validation_scorer,
    importance_weighted_scorer,
    information_maximization_scorer,
    prediction_entropy_scorer,
    reverse_validation_scorer,
    soft_neighborhood_density_scorer,
)

GRID = {
    "adversarial_weight": (0.0, 0.01, 0.03, 0.1, 0.3, 1.0),
    "hidden_layer_sizes": ((100,), (100, 100)),
}
QUICK_GRID = {"adversarial_weight": (0.0, 1.0), "hidden_layer_sizes": ((16,),)}
DEFAULT_POINT = {"adversarial_weight": 1.0, "hidden_layer_sizes": (100, 100)}


def _source_accuracy(estimator, X, y):
    return estimator.score(X, y)  # DANNClassifier.score ignores the target rows


SELECTORS = {
    "source_accuracy": _source_accuracy,
    "reverse_validation": reverse_validation_scorer,
    "importance_weighted": importance_weighted_scorer,
    "deep_embedded_validation": deep_embedded_validation_scorer,
    "prediction_entropy": prediction_entropy_scorer,
    "information_maximization": information_maximization_scorer,
    "soft_neighborhood_density": soft_neighborhood_density_scorer,
}


def largest_gap_office_tasks(n_tasks=4, quick=False):
    """The Office-Caltech pairs where a source-trained logistic regression loses most."""
    scored = []
    for task in office_tasks(quick=quick):
        transfer = logreg_accuracy(task)
        in_domain = cross_val_score(
            make_pipeline(task.preprocessing(), LogisticRegression(max_iter=2000)),
            task.X_test,
            task.y_test,
            cv=3 if quick else 5,
        ).mean()
        task.gap = float(in_domain - transfer)
        scored.append(task)
    return sorted(scored, key=lambda t: -t.gap)[:n_tasks]


AMAZON_CYCLE = ("books->dvd", "dvd->electronics", "electronics->kitchen", "kitchen->books")


def amazon_subset(quick=False, n_tasks=None):
    """The Amazon pairs; with ``n_tasks``, the first of the cycle books -> dvd -> electronics
    -> kitchen -> books (each domain once as source and once as target with 4)."""
    tasks = list(amazon_tasks(quick=quick))
    if n_tasks is None or quick:
        return tasks
    return [t for t in tasks if t.name in AMAZON_CYCLE[:n_tasks]]


DATASETS = {
    "amazon": amazon_subset,
    "office": largest_gap_office_tasks,
    "mnist_usps": mnist_usps_tasks,
    "coil": coil_tasks,
    "moons": moons_tasks,
}


def split_task(task, seed):
    """80/20 splits of the source rows (stratified) and of the target adaptation rows."""
    src_fit, src_val = train_test_split(
        np.arange(task.X_source.shape[0]), test_size=0.2, random_state=seed, stratify=task.y_source
    )
    tgt_fit, tgt_val = train_test_split(
        np.arange(task.X_target.shape[0]), test_size=0.2, random_state=seed
    )
    fit = stack_domains(task.X_source[src_fit], task.y_source[src_fit], task.X_target[tgt_fit])
    validation = stack_domains(
        task.X_source[src_val], task.y_source[src_val], task.X_target[tgt_val]
    )
    return fit, validation


def run_grid(task, seed, grid, max_iter):
    """Yield one record per grid point: its target accuracy and every selector's score."""
    (X_fit, y_fit), (X_val, y_val) = split_task(task, seed)
    for params in ParameterGrid(grid):
        start = time.perf_counter()
        model = make_pipeline(
            task.preprocessing(), DANNClassifier(random_state=seed, max_iter=max_iter, **params)
        ).fit(X_fit, y_fit)
        fit_seconds = time.perf_counter() - start
        scores, score_seconds = {}, {}
        for name, selector in SELECTORS.items():
            start = time.perf_counter()
            try:
                scores[name] = float(selector(model, X_val, y_val))
            except (ValueError, np.linalg.LinAlgError):  # recorded as NaN: ranks last
                scores[name] = float("nan")
            score_seconds[name] = round(time.perf_counter() - start, 3)
        yield {
            "dataset": task.dataset,
            "task": task.name,
            "method": "grid_point",
            "seed": seed,
            "adversarial_weight": params["adversarial_weight"],
            "hidden_layer_sizes": list(params["hidden_layer_sizes"]),
            "target_accuracy": float(model.score(task.X_test, task.y_test)),
            "scores": scores,
            "seconds": round(fit_seconds, 3),
            "score_seconds": score_seconds,
            **({"transfer_gap": task.gap} if hasattr(task, "gap") else {}),
        }


def selection_records(points):
    """From the grid points of one (task, seed): one record per selector, plus the ceiling."""
    accuracy = np.array([p["target_accuracy"] for p in points])
    best = float(accuracy.max())
    first = points[0]
    common = {"dataset": first["dataset"], "task": first["task"], "seed": first["seed"]}

    def params(p):
        return {
            "adversarial_weight": p["adversarial_weight"],
            "hidden_layer_sizes": p["hidden_layer_sizes"],
        }

    records = []
    for name in SELECTORS:
        if any(name not in p["scores"] for p in points):
            continue  # a selector added after this dataset was run
        scores = np.array([p["scores"][name] for p in points])
        # A NaN score (a diverged model) ranks last, as in GridSearchCV.
        scores = np.where(np.isnan(scores), -np.inf, scores)
        pick = points[int(np.argmax(scores))]
        finite = np.isfinite(scores)
        rho = (
            spearmanr(scores[finite], accuracy[finite])[0]
            if finite.sum() > 2 and np.ptp(scores[finite]) and np.ptp(accuracy[finite])
            else None
        )
        records.append(
            {
                **common,
                "method": f"selected_by_{name}",
                "target_accuracy": pick["target_accuracy"],
                "regret": best - pick["target_accuracy"],
                "spearman": None if rho is None or np.isnan(rho) else float(rho),
                "picked": params(pick),
            }
        )
    oracle = points[int(np.argmax(accuracy))]
    records.append(
        {
            **common,
            "method": "best_grid_point",
            "target_accuracy": best,
            "regret": 0.0,
            "picked": params(oracle),
        }
    )
    return records


def summarize(records):
    """Markdown: per dataset, each selector's mean picked accuracy, regret and rank correlation."""
    selections = [
        r for r in records if str(r.get("method", "")).startswith(("selected_by_", "best_"))
    ]
    points = [r for r in records if r.get("method") == "grid_point"]
    datasets = list(dict.fromkeys(r["dataset"] for r in selections))
    methods = [f"selected_by_{name}" for name in SELECTORS] + ["best_grid_point"]
    text = (
        "Target accuracy of the grid point each selector picks (mean over tasks and seeds), "
        "its regret against the best grid point, the Spearman correlation between score and "
        "target accuracy over the grid, and how often the pick beats or ties the pick of "
        "source accuracy. `best_grid_point` uses target labels: a ceiling, not a method. "
        "For reference, `default` is lambda 1 with (100, 100) and `lambda_0` is the "
        "source-only network (100, 100).\n\n"
    )
    rows = []
    for dataset in [*datasets, "all"]:
        chosen = [r for r in selections if dataset in ("all", r["dataset"])]
        runs = sorted({(r["dataset"], r["task"], r["seed"]) for r in chosen})
        baseline = {
            (r["dataset"], r["task"], r["seed"]): r["target_accuracy"]
            for r in chosen
            if r["method"] == "selected_by_source_accuracy"
        }
        for method in methods:
            mine = [r for r in chosen if r["method"] == method]
            if not mine:
                continue
            rhos = [r["spearman"] for r in mine if r.get("spearman") is not None]
            wins = sum(
                r["target_accuracy"] >= baseline[(r["dataset"], r["task"], r["seed"])]
                for r in mine
            )
            rows.append(
                [
                    dataset,
                    len(runs),
                    method.removeprefix("selected_by_"),
                    f"{np.mean([r['target_accuracy'] for r in mine]):.3f}",
                    f"{100 * np.mean([r['regret'] for r in mine]):.1f}",
                    f"{np.mean(rhos):+.2f}" if rhos else "",
                    f"{wins}/{len(mine)}",
                ]
            )
        for label, point in (
            ("default", DEFAULT_POINT),
            ("lambda_0", {**DEFAULT_POINT, "adversarial_weight": 0.0}),
        ):
            fixed = [
                p["target_accuracy"]
                for p in points
                if dataset in ("all", p["dataset"])
                and p["adversarial_weight"] == point["adversarial_weight"]
                and tuple(p["hidden_layer_sizes"]) == point["hidden_layer_sizes"]
            ]
            if fixed:
                rows.append([dataset, len(runs), label, f"{np.mean(fixed):.3f}", "", "", ""])
    text += markdown_table(
        [
            "dataset",
            "runs",
            "selector",
            "target acc",
            "regret (points)",
            "spearman",
            ">= source_accuracy pick",
        ],
        rows,
    )
    text += "\n\nPer task (mean over seeds of the picked target accuracy):\n\n"
    by_task = {}
    for r in selections:
        by_task.setdefault((r["dataset"], r["task"]), {}).setdefault(r["method"], []).append(
            r["target_accuracy"]
        )
    task_rows = [
        [d, t, *[f"{np.mean(m[k]):.3f}" if k in m else "" for k in methods]]
        for (d, t), m in by_task.items()
    ]
    text += markdown_table(
        ["dataset", "task", *[m.removeprefix("selected_by_") for m in methods]], task_rows
    )
    return text + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", action="append", choices=sorted(DATASETS), help="repeatable; default all"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--amazon-seeds", type=int, default=1)
    parser.add_argument(
        "--amazon-tasks", type=int, default=None, help="run this many Amazon pairs (default all)"
    )
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="tiny subsets and grid, 2 epochs")
    args = parser.parse_args(argv)
    grid = QUICK_GRID if args.quick else GRID
    max_iter = 2 if args.quick else args.max_iter
    names = args.dataset or list(DATASETS)
    suffix = "_quick" if args.quick else ""
    path = RESULTS / f"model_selection{suffix}.json"
    saved = json.loads(path.read_text()) if path.exists() else []
    kept = [r for r in saved if r.get("record") != "machine" and r["dataset"] not in names]
    records = []
    for name in names:
        n_seeds = 1 if args.quick else args.amazon_seeds if name == "amazon" else args.seeds
        kwargs = {"n_tasks": args.amazon_tasks} if name == "amazon" else {}
        for task in DATASETS[name](quick=args.quick, **kwargs):
            for seed in range(n_seeds):
                points = []
                for point in run_grid(task, seed, grid, max_iter):
                    points.append(point)
                    print(
                        f"{task.dataset:>10} {task.name:>22} seed {seed} "
                        f"lambda {point['adversarial_weight']:<5} "
                        f"{point['hidden_layer_sizes']!s:<10} acc {point['target_accuracy']:.3f} "
                        + " ".join(f"{k[:8]} {v:+.3f}" for k, v in point["scores"].items())
                        + f" ({point['seconds']:.1f} s)",
                        flush=True,
                    )
                records += points + selection_records(points)
                all_records = [machine_info(), *kept, *records]
                write_results("model_selection", all_records, summarize(all_records), suffix)
    print(summarize([*kept, *records]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
