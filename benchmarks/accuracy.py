"""Target accuracy of skdann on real shifted data, against source-only and baselines.

Datasets (``../shared/data/``, see its README and PROVENANCE files) and the
JMLR toy:

- ``amazon``: Amazon reviews, 12 ordered pairs; source ``<s>_train``
  labeled, target ``<t>_train`` unlabeled, accuracy on ``<t>_test``; tf-idf
  (sublinear) fitted on both domains' rows;
- ``office``: Office-Caltech10 SURF, 12 pairs; rows L1-normalised, then
  standard-scaled on both domains; the whole target domain is both the
  unlabeled adaptation set and the test set (the usual transductive protocol);
- ``mnist_usps`` (16x16, raw pixels) and ``coil`` (COIL1<->COIL2, 32x32,
  standard-scaled), transductive; both also with a small CNN passed as
  ``feature_extractor=``;
- ``moons``: the JMLR toy, 150 points per domain, target rotated by 35
  degrees, tested on 1,000 fresh rotated points.

Methods, each over ``--seeds`` seeds:

- ``logreg``: ``LogisticRegression`` on the source rows (deterministic, one seed);
- ``source_only``: ``DANNClassifier`` with ``adversarial_weight=0``;
- ``dann``: ``DANNClassifier`` with the package defaults (lambda 1, MLP
  100-100, SGD lr 0.05, Ganin schedules, batch 64 per domain, 100 epochs),
  fixed in advance for every dataset, no target labels used;
- ``dann_oracle``: for each seed the best point of the grid lambda in
  {0.1, 0.3, 1} x hidden layers in {(100,), (100, 100)} **by target test
  accuracy**: a ceiling no user can reach, not a result;
- ``source_only_cnn`` / ``dann_cnn``: the same with a small CNN (images only).

Run from the repository root::

    python -m benchmarks.accuracy                      # everything (long)
    python -m benchmarks.accuracy --dataset office     # one dataset
    python -m benchmarks.accuracy --quick              # seconds-long smoke run

Records of the datasets run are merged into ``benchmarks/results/accuracy.json``
(``accuracy_quick.json`` with ``--quick``), and the table is rewritten in the
``.md`` beside it. ``--resume`` keeps the saved records of the datasets run
and only runs the missing (task, method, seed); ``--tables-only`` rewrites
the ``.md`` from the saved records.

``dann_selected`` (lambda and architecture chosen by the recommended
label-free scorer) comes from ``benchmarks/model_selection.py``, whose
protocol differs (80/20 splits, its own seeds); the ``.md`` shows it in a
table of its own, beside that benchmark's lambda 0 and lambda 1 points on
the same runs.
"""

import argparse
import json
import time

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_moons
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer, StandardScaler
from torch import nn

from benchmarks._common import (
    RECOMMENDED_SELECTOR,
    RESULTS,
    SHARED_DATA,
    machine_info,
    markdown_table,
    write_results,
)
from skdann import DANNClassifier, stack_domains

AMAZON = ("books", "dvd", "electronics", "kitchen")
OFFICE = ("amazon", "caltech", "dslr", "webcam")
ORACLE_GRID = {"adversarial_weight": (0.1, 0.3, 1.0), "hidden_layer_sizes": ((100,), (100, 100))}


class Task:
    """One adaptation task: data, preprocessing and, for images, the side length."""

    def __init__(
        self,
        dataset,
        name,
        X_source,
        y_source,
        X_target,
        X_test,
        y_test,
        preprocessing,
        image_side=None,
    ):
        self.dataset, self.name = dataset, name
        self.X_source, self.y_source = X_source, y_source
        self.X_target, self.X_test, self.y_test = X_target, X_test, y_test
        self.preprocessing = preprocessing
        self.image_side = image_side


def _identity():
    return FunctionTransformer()


def _tfidf():
    return TfidfTransformer(sublinear_tf=True)


def _l1_then_standard():
    return make_pipeline(Normalizer(norm="l1"), StandardScaler())


AMAZON_FOLDER = SHARED_DATA / "amazon_reviews"


def load_amazon(domain, split):
    """Word counts (CSR) and labels of one Amazon domain's ``train`` or ``test`` split."""
    X = sp.load_npz(AMAZON_FOLDER / f"{domain}_{split}_X.npz").tocsr()
    return X, np.load(AMAZON_FOLDER / f"{domain}_{split}_y.npz")["y"]


def amazon_tasks(quick=False):
    load = load_amazon
    pairs = [(s, t) for s in AMAZON for t in AMAZON if s != t]
    for source, target in pairs[:1] if quick else pairs:
        X_s, y_s = load(source, "train")
        X_t, _ = load(target, "train")
        X_test, y_test = load(target, "test")
        if quick:
            X_s, y_s, X_t, X_test, y_test = (
                X_s[:300],
                y_s[:300],
                X_t[:300],
                X_test[:300],
                y_test[:300],
            )
        yield Task("amazon", f"{source}->{target}", X_s, y_s, X_t, X_test, y_test, _tfidf)


def _transductive(dataset, folder, domains, preprocessing, image_side=None, quick=False):
    data = {d: np.load(SHARED_DATA / folder / f"{d}.npz") for d in domains}
    pairs = [(s, t) for s in domains for t in domains if s != t]
    for source, target in pairs[:1] if quick else pairs:
        X_s, y_s = data[source]["X"], data[source]["y"]
        X_t, y_t = data[target]["X"], data[target]["y"]
        if quick:
            X_s, y_s, X_t, y_t = X_s[:200], y_s[:200], X_t[:200], y_t[:200]
        yield Task(
            dataset, f"{source}->{target}", X_s, y_s, X_t, X_t, y_t, preprocessing, image_side
        )


def office_tasks(quick=False):
    return _transductive("office", "office_caltech10_surf", OFFICE, _l1_then_standard, quick=quick)


def mnist_usps_tasks(quick=False):
    return _transductive("mnist_usps", "mnist_usps", ("mnist", "usps"), _identity, 16, quick)


def coil_tasks(quick=False):
    return _transductive("coil", "coil20", ("coil1", "coil2"), StandardScaler, 32, quick)


def moons_tasks(quick=False):
    def rotated(n, seed):
        X, y = make_moons(n, noise=0.1, random_state=seed)
        theta = np.deg2rad(35.0)
        rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        return X @ rotation.T, y

    X_s, y_s = make_moons(150, noise=0.1, random_state=0)
    X_t, _ = rotated(150, 1)
    X_test, y_test = rotated(1000, 2)
    yield Task("moons", "moons->rotated 35", X_s, y_s, X_t, X_test, y_test, _identity)


DATASETS = {
    "amazon": amazon_tasks,
    "office": office_tasks,
    "mnist_usps": mnist_usps_tasks,
    "coil": coil_tasks,
    "moons": moons_tasks,
}


def small_cnn(side):
    """Factory of a two-block CNN for ``side`` x ``side`` grey images given as flat rows."""

    def build(n_features):
        return nn.Sequential(
            nn.Unflatten(1, (1, side, side)),
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (side // 4) ** 2, 100),
            nn.ReLU(),
        )

    return build


def dann_accuracy(task, seed, max_iter, **params):
    X, y = stack_domains(task.X_source, task.y_source, task.X_target)
    model = make_pipeline(
        task.preprocessing(), DANNClassifier(random_state=seed, max_iter=max_iter, **params)
    )
    model.fit(X, y)
    return model.score(task.X_test, task.y_test)


def logreg_accuracy(task):
    pre = task.preprocessing().fit(
        sp.vstack([task.X_source, task.X_target])
        if sp.issparse(task.X_source)
        else np.vstack([task.X_source, task.X_target])
    )
    clf = LogisticRegression(max_iter=2000).fit(pre.transform(task.X_source), task.y_source)
    return clf.score(pre.transform(task.X_test), task.y_test)


def run_task(task, seeds, max_iter, oracle, done=frozenset()):
    """Yield one record per (method, seed), skipping the ``(task, method, seed)`` in ``done``."""

    def record(method, seed, accuracy, seconds, **extra):
        return {
            "dataset": task.dataset,
            "task": task.name,
            "method": method,
            "seed": seed,
            "target_accuracy": float(accuracy),
            "seconds": seconds,
            **extra,
        }

    def todo(method, seed):
        return (task.dataset, task.name, method, seed) not in done

    if todo("logreg", 0):
        start = time.perf_counter()
        yield record("logreg", 0, logreg_accuracy(task), time.perf_counter() - start)
    variants = [("", {})]
    if task.image_side:
        variants.append(("_cnn", {"feature_extractor": small_cnn(task.image_side)}))
    for seed in seeds:
        for suffix, extra in variants:
            for method, weight in (("source_only", 0.0), ("dann", 1.0)):
                if not todo(method + suffix, seed):
                    continue
                start = time.perf_counter()
                acc = dann_accuracy(task, seed, max_iter, adversarial_weight=weight, **extra)
                yield record(method + suffix, seed, acc, time.perf_counter() - start)
        if oracle and todo("dann_oracle", seed):
            best, best_params, start = -1.0, None, time.perf_counter()
            for params in ParameterGrid(ORACLE_GRID):
                acc = dann_accuracy(task, seed, max_iter, **params)
                if acc > best:
                    best, best_params = acc, params
            yield record(
                "dann_oracle",
                seed,
                best,
                time.perf_counter() - start,
                oracle_params={
                    k: list(v) if isinstance(v, tuple) else v for k, v in best_params.items()
                },
            )


def summarize(records):
    """Markdown tables: per task mean +- std, per dataset mean of task means."""
    rows = [r for r in records if r.get("record") != "machine"]
    methods = [
        m
        for m in (
            "logreg",
            "source_only",
            "dann",
            "dann_oracle",
            "source_only_cnn",
            "dann_cnn",
        )
        if any(r["method"] == m for r in rows)
    ]
    by_task = {}
    for r in rows:
        by_task.setdefault((r["dataset"], r["task"]), {}).setdefault(r["method"], []).append(
            r["target_accuracy"]
        )
    task_rows, dataset_means, losses = [], {}, []
    for (dataset, task), accs in by_task.items():
        cells = []
        for m in methods:
            values = accs.get(m)
            cells.append(
                ""
                if not values
                else f"{np.mean(values):.3f} ± {np.std(values):.3f}"
                if len(values) > 1
                else f"{values[0]:.3f}"
            )
            if values:
                dataset_means.setdefault(dataset, {}).setdefault(m, []).append(np.mean(values))
        task_rows.append([dataset, task, *cells])
        if (
            "dann" in accs
            and "source_only" in accs
            and np.mean(accs["dann"]) <= np.mean(accs["source_only"])
        ):
            losses.append(loss_row(rows, dataset, task))

    mean_rows = [
        [
            d,
            len(ms.get("dann", next(iter(ms.values())))),
            *[f"{np.mean(ms[m]):.3f}" if m in ms else "" for m in methods],
        ]
        for d, ms in dataset_means.items()
    ]
    text = "Mean over tasks of the per-task mean target accuracy (dann_oracle is a ceiling "
    text += "chosen with target labels, not a result).\n\n"
    text += markdown_table(["dataset", "tasks", *methods], mean_rows)
    text += "\n\nPer task, mean ± std over seeds:\n\n"
    text += markdown_table(["dataset", "task", *methods], task_rows)
    text += "\n\nTasks where dann did not beat source_only: " + ("none.\n" if not losses else "")
    if losses:
        text += "\n\n" + markdown_table(
            [
                "dataset",
                "task",
                "dann - source_only",
                "dann std over seeds",
                "seeds where dann wins",
                "oracle's lambda picks",
            ],
            losses,
        )
        for dataset in dict.fromkeys(row[0] for row in losses):
            text += f"\n\n{LOSS_NOTES.get(dataset, '')}"
        text += "\n"
    return text


# Why dann (lambda 1) can lose to source_only, from the table above and the data's sizes.
LOSS_NOTES = {
    "office": (
        "Office-Caltech10: most of these gaps are smaller than the spread of dann over seeds "
        "(a tie, with dann ahead on some seeds). The clear losses are dslr->webcam and "
        "caltech->dslr. DSLR and webcam photograph the same objects and are the closest "
        "pair of domains (a source-trained logistic regression already reaches 0.81-0.83), "
        "so there is little shift to remove and the adversarial term mostly costs fit on a "
        "157-row source; the oracle prefers lambda 0.1 there. With DSLR as the target (157 "
        "rows, 64 of them in every step) the domain head sees each target row every 2.5 "
        "steps; a likely cause, not verified here, is that it separates the domains by "
        "memorising rows, so lambda 1 moves the features to hide noise rather than shift. "
        "Across the 12 pairs the oracle "
        "picks lambda <= 0.3 in most pair-seeds: lambda 1, the default fixed in advance, is "
        "too strong for domains this small; choosing it without labels is what "
        "benchmarks/model_selection.py measures."
    ),
}


def loss_row(rows, dataset, task):
    """Evidence for one task where dann did not beat source_only."""

    def values(method):
        return {
            r["seed"]: r["target_accuracy"]
            for r in rows
            if r["dataset"] == dataset and r["task"] == task and r["method"] == method
        }

    dann, source_only = values("dann"), values("source_only")
    seeds = sorted(set(dann) & set(source_only))
    wins = sum(dann[s] > source_only[s] for s in seeds)
    picks = [
        r["oracle_params"]["adversarial_weight"]
        for r in rows
        if r["dataset"] == dataset and r["task"] == task and r["method"] == "dann_oracle"
    ]
    counts = ", ".join(f"{w:g}: {picks.count(w)}" for w in sorted(set(picks)))
    return [
        dataset,
        task,
        f"{np.mean(list(dann.values())) - np.mean(list(source_only.values())):+.3f}",
        f"{np.std(list(dann.values())):.3f}",
        f"{wins}/{len(seeds)}",
        counts,
    ]


def selected_table(suffix=""):
    """``dann_selected``: the recommended scorer's picks, from the model selection benchmark.

    Compared on the same runs (tasks, seeds, 80/20 splits) with that benchmark's
    lambda 0 and lambda 1 grid points, since its protocol differs from this script's.
    """
    path = RESULTS / f"model_selection{suffix}.json"
    if not path.exists():
        return ""
    records = [r for r in json.loads(path.read_text()) if r.get("record") != "machine"]
    picks = [r for r in records if r["method"] == f"selected_by_{RECOMMENDED_SELECTOR}"]
    rows = []
    for dataset in dict.fromkeys(r["dataset"] for r in picks):
        mine = [r for r in picks if r["dataset"] == dataset]
        runs = {(r["task"], r["seed"]) for r in mine}
        cells = []
        for weight in (0.0, 1.0):
            cells.append(
                np.mean(
                    [
                        r["target_accuracy"]
                        for r in records
                        if r["method"] == "grid_point"
                        and r["dataset"] == dataset
                        and (r["task"], r["seed"]) in runs
                        and r["adversarial_weight"] == weight
                        and r["hidden_layer_sizes"] == [100, 100]
                    ]
                    or [np.nan]
                )
            )
        best = [
            r["target_accuracy"]
            for r in records
            if r["method"] == "best_grid_point"
            and r["dataset"] == dataset
            and (r["task"], r["seed"]) in runs
        ]
        rows.append(
            [
                dataset,
                len({task for task, _ in runs}),
                len(runs),
                *[f"{c:.3f}" for c in cells],
                f"{np.mean([r['target_accuracy'] for r in mine]):.3f}",
                f"{np.mean(best):.3f}",
            ]
        )
    text = (
        "\n`dann_selected`, from `python -m benchmarks.model_selection`: lambda in {0, 0.01, "
        f"0.03, 0.1, 0.3, 1}} x {{(100,), (100, 100)}} chosen by {RECOMMENDED_SELECTOR} on a "
        "validation fold, the models trained on 80% of the source and of the target rows, "
        "over the tasks and seeds run there (Office: the 4 pairs with the largest transfer "
        "gap; Amazon: 1 seed). It may pick lambda 0. Compared on the same runs with that "
        "benchmark's source_only (lambda 0) and dann (lambda 1) points, both (100, 100):\n\n"
    )
    return text + markdown_table(
        ["dataset", "tasks", "runs", "source_only", "dann", "dann_selected", "best grid point"],
        rows,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        action="append",
        choices=sorted(DATASETS),
        help="run only these (repeatable; default all)",
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--no-oracle", action="store_true", help="skip the oracle grid")
    parser.add_argument("--quick", action="store_true", help="tiny subsets, 1 seed, 2 epochs")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep all saved records of the datasets run and skip their (task, method, seed)",
    )
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="rewrite the .md tables from all saved records (after a model selection run)",
    )
    args = parser.parse_args(argv)
    seeds = range(1 if args.quick else args.seeds)
    max_iter = 2 if args.quick else args.max_iter
    names = args.dataset or list(DATASETS)
    suffix = "_quick" if args.quick else ""
    path = RESULTS / f"accuracy{suffix}.json"
    saved = json.loads(path.read_text()) if path.exists() else []
    saved = [r for r in saved if r.get("record") != "machine"]
    kept = [r for r in saved if args.resume or r["dataset"] not in names]
    done = frozenset((r["dataset"], r["task"], r["method"], r["seed"]) for r in kept)
    records = []
    if args.tables_only:
        names = []
        kept = saved
    for name in names:
        for task in DATASETS[name](quick=args.quick):
            for r in run_task(task, seeds, max_iter, oracle=not args.no_oracle, done=done):
                records.append(r)
                print(
                    f"{r['dataset']:>10} {r['task']:>22} {r['method']:>16} seed {r['seed']}: "
                    f"{r['target_accuracy']:.3f} ({r['seconds']:.1f} s)",
                    flush=True,
                )
            # Write after each task, so a long run keeps what it has done.
            all_records = [machine_info(), *kept, *records]
            write_results(
                "accuracy", all_records, summarize(all_records) + selected_table(suffix), suffix
            )
    text = summarize([*kept, *records]) + selected_table(suffix)
    if args.tables_only:
        (RESULTS / f"accuracy{suffix}.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
