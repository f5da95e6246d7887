"""Adaptation objectives (DANN, CDAN, CDAN+E, MCC, DANN+MCC) and a few target labels.

Two tables, on the real shifted data of ``../shared/data``:

- **Unsupervised**: source-only (``objective="none"``), DANN, CDAN, CDAN+E,
  MCC and DANN+MCC, every other parameter at its default, on Office-Caltech
  (the 4 pairs with the largest gap: the lowest source-only accuracy in
  ``results/accuracy.json``), MNIST<->USPS (the small CNN), Amazon reviews
  (the 4 lowest source-only pairs), the rotated moons and three classification
  tables of ``tabular.py``.
- **Few labels**: S+T (``objective="none"`` with the labeled target rows),
  DANN+T, CDAN+T and MCC+T with 1, 3 and 10 labeled target rows per class,
  on moons, Office webcam->caltech, MNIST->USPS (MLP) and COIL (5 seeds);
  accuracy on the target rows that were not labeled.

Choices are made leave one dataset out: for each dataset, the objective
whose worst mean regret over the *other* datasets is smallest (the rule of
``selection_lodo.py``) is scored on the held-out one. Every fit runs with one
torch thread, two fits at a time (``--workers``).

Seeds per dataset are in ``SEEDS`` (5, and 3 for the CNN). Run:
``python -m benchmarks.objectives`` (about 3 hours on two cores, run over two
sessions; ``--resume`` continues an interrupted run or adds seeds);
``--quick`` runs tiny subsets in a minute. Results:
``results/objectives.json`` and ``results/objectives.md``.
"""

import argparse
import functools
import json
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from skdann._domains import stack_rows

from ._common import RESULTS, machine_info, markdown_table, write_results

OBJECTIVES = ("none", "dann", "cdan", "cdan+e", "mcc", "dann+mcc")
FEW_LABEL_OBJECTIVES = ("none", "dann", "cdan", "mcc")
LABELS_PER_CLASS = (1, 3, 10)
OFFICE_PAIRS = ("webcam->caltech", "dslr->caltech", "webcam->amazon", "dslr->amazon")
AMAZON_PAIRS = ("electronics->books", "kitchen->books", "books->electronics", "dvd->electronics")
TABLES = ("wine_clf_red_white", "wine_clf_white_red", "diabetes_er_other")
FEW_LABEL_TASKS = {
    "moons": ("moons->rotated 35",),
    "office": ("webcam->caltech",),
    "mnist_usps": ("mnist->usps",),
    "coil": ("coil1->coil2",),
}
# Five seeds everywhere but the CNN (MNIST<->USPS: about 100 s a fit on one thread), which has
# three; the run took two sessions (``--resume`` added the seeds of the second).
SEEDS = {"moons": 5, "office": 5, "coil": 5, "mnist_usps": 3, "amazon": 5, "tables": 5}
FEW_LABEL_SEEDS = 5


@functools.cache
def _tasks(dataset, quick):
    from . import accuracy

    if dataset == "tables":
        return {t.name: t for t in _tables(quick)}
    loader = accuracy.DATASETS[dataset]
    if dataset == "amazon" and not quick:
        return {t.name: t for t in _amazon_pairs()}
    return {t.name: t for t in loader(quick=quick)}


def _amazon_pairs():
    from .accuracy import Task, _tfidf, load_amazon

    for pair in AMAZON_PAIRS:
        source, target = pair.split("->")
        X_s, y_s = load_amazon(source, "train")
        X_t, _ = load_amazon(target, "train")
        X_test, y_test = load_amazon(target, "test")
        yield Task("amazon", pair, X_s, y_s, X_t, X_test, y_test, _tfidf)


def _tables(quick):
    from . import tabular

    for table in tabular.load_tables(TABLES[:1] if quick else TABLES):
        parts = tabular.split_task(table, 300 if quick else 2000)
        X_s, y_s = parts["s_fit"]
        X_t, _ = parts["t_fit"]
        X_test, y_test = parts["t_test"]
        yield _TableTask(table, X_s, y_s, X_t, X_test, y_test)


class _TableTask:
    def __init__(self, table, X_source, y_source, X_target, X_test, y_test):
        self.dataset, self.name, self.table = "tables", table.name, table
        self.X_source, self.y_source, self.X_target = X_source, y_source, X_target
        self.X_test, self.y_test = X_test, y_test
        self.image_side = None

    def preprocessing(self):
        from .tabular import preprocessing

        return preprocessing(self.table)


def _rows(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def labeled_target_rows(y_test, per_class, seed):
    """``per_class`` rows of each class of the target's (transductive) rows, seeded."""
    rng = np.random.default_rng(10_000 + seed)
    rows = [
        rng.choice(np.flatnonzero(y_test == c), min(per_class, int((y_test == c).sum())), False)
        for c in np.unique(y_test)
    ]
    return np.sort(np.concatenate(rows))


def run_job(job):
    """Fit one (dataset, task, objective, seed, labels per class) and return its record."""
    import torch
    from sklearn.pipeline import make_pipeline

    from skdann import DANNClassifier

    from .accuracy import small_cnn

    torch.set_num_threads(1)
    dataset, task_name, objective, seed, per_class, quick = job
    task = _tasks(dataset, quick)[task_name]
    params = {"objective": objective, "random_state": seed, "label_shift_warning": None}
    params["max_iter"] = 2 if quick else 100
    if dataset == "mnist_usps" and per_class == 0:
        params["feature_extractor"] = small_cnn(task.image_side)
    X_target = task.X_target
    y_target = np.full(X_target.shape[0], -1)
    evaluate = np.ones(len(task.y_test), dtype=bool)
    if per_class:
        # The labeled rows are target rows whose labels the benchmark knows: the test rows
        # (transductive tasks: they are the target rows; otherwise they join them). They
        # are never scored.
        labeled = labeled_target_rows(task.y_test, per_class, seed)
        evaluate[labeled] = False
        if task.X_test is task.X_target:
            y_target[labeled] = task.y_test[labeled]
        else:
            X_target = stack_rows(X_target, _rows(task.X_test, labeled))
            y_target = np.r_[y_target, task.y_test[labeled]]
    n_source, n_target = task.y_source.shape[0], X_target.shape[0]
    X = stack_rows(task.X_source, X_target)
    y = np.r_[task.y_source, y_target]
    sample_domain = np.r_[np.ones(n_source, int), -np.ones(n_target, int)]
    model = make_pipeline(task.preprocessing(), DANNClassifier(**params))
    start = time.perf_counter()
    model.fit(X, y, dannclassifier__sample_domain=sample_domain)
    accuracy = model.score(_rows(task.X_test, evaluate), task.y_test[evaluate])
    return {
        "dataset": dataset,
        "task": task_name,
        "objective": objective,
        "labels_per_class": per_class,
        "seed": seed,
        "target_accuracy": float(accuracy),
        "seconds": time.perf_counter() - start,
    }


def jobs(quick):
    """Every (dataset, task, objective, seed, labels per class) of both tables, cheap first."""
    unsupervised = {"moons": None, "office": OFFICE_PAIRS}
    expensive = {"tables": TABLES, "amazon": AMAZON_PAIRS, "mnist_usps": None}
    out = _unsupervised_jobs(unsupervised, quick)
    for dataset, names in FEW_LABEL_TASKS.items():
        seeds = range(1 if quick else FEW_LABEL_SEEDS)
        for name in _task_names(dataset, names, quick):
            for per_class in LABELS_PER_CLASS[1:2] if quick else LABELS_PER_CLASS:
                for seed in seeds:
                    out += [
                        (dataset, name, o, seed, per_class, quick) for o in FEW_LABEL_OBJECTIVES
                    ]
    return out + _unsupervised_jobs(expensive, quick)


def _unsupervised_jobs(datasets, quick):
    out = []
    for dataset, names in datasets.items():
        seeds = range(1 if quick else SEEDS[dataset])
        for name in _task_names(dataset, names, quick):
            for seed in seeds:
                out += [(dataset, name, o, seed, 0, quick) for o in OBJECTIVES]
    return out


def _task_names(dataset, names, quick):
    if quick:
        return list(_tasks(dataset, quick))[:1]
    available = list(_tasks(dataset, quick))
    return [n for n in available if names is None or n in names]


# --- analysis ------------------------------------------------------------------------


def _means(records):
    """``{dataset: {objective: mean over tasks of the per-task mean accuracy}}``."""
    per_task = {}
    for r in records:
        per_task.setdefault((r["dataset"], r["task"], r["objective"]), []).append(
            r["target_accuracy"]
        )
    means = {}
    for (dataset, _, objective), values in per_task.items():
        means.setdefault(dataset, {}).setdefault(objective, []).append(np.mean(values))
    return {d: {o: float(np.mean(v)) for o, v in by.items()} for d, by in means.items()}


def _spread(records, dataset, objective):
    """Mean over the dataset's tasks of the per-task standard deviation over seeds."""
    per_task = {}
    for r in records:
        if r["dataset"] == dataset and r["objective"] == objective:
            per_task.setdefault(r["task"], []).append(r["target_accuracy"])
    return float(np.mean([np.std(v) for v in per_task.values()]))


def leave_one_dataset_out(means, pool, reference):
    """Per held-out dataset: the objective of ``pool`` chosen on the others, and its gain.

    The rule: the candidate whose worst regret (best objective's mean minus its
    own) over the other datasets is smallest. The gain is over ``reference``
    on the held-out dataset.
    """
    pool = [o for o in pool if all(o in by for by in means.values())]
    if not pool or not all(reference in by for by in means.values()):
        return []  # a partial run: not every dataset has every objective yet
    rows = []
    for held_out in means:
        others = [d for d in means if d != held_out]
        if not others:
            continue

        def worst(objective, others=others):
            return max(max(means[d].values()) - means[d][objective] for d in others)

        chosen = min(pool, key=worst)
        gain = means[held_out][chosen] - means[held_out][reference]
        rows.append({"held_out": held_out, "chosen": chosen, "gain": float(gain)})
    return rows


def tables(records):
    unsupervised = [r for r in records if r.get("labels_per_class") == 0]
    few = [r for r in records if r.get("labels_per_class", 0) > 0]
    lines = [
        "Target accuracy, mean over tasks of the per-task mean over seeds "
        "(± mean per-task std over seeds). Every parameter but the objective at its default.",
        "",
    ]
    means = _means(unsupervised)
    header = ["dataset", "tasks", "seeds", *OBJECTIVES]
    rows = []
    for dataset, by in means.items():
        n_tasks = len({r["task"] for r in unsupervised if r["dataset"] == dataset})
        n_seeds = len({r["seed"] for r in unsupervised if r["dataset"] == dataset})
        cells = [
            f"{by[o]:.3f} ± {_spread(unsupervised, dataset, o):.3f}" if o in by else ""
            for o in OBJECTIVES
        ]
        rows.append([dataset, n_tasks, n_seeds, *cells])
    if means:
        overall = [np.mean([by[o] for by in means.values() if o in by]) for o in OBJECTIVES]
        rows.append(["mean of datasets", "", "", *(f"{v:.3f}" for v in overall)])
    lines += [markdown_table(header, rows), ""]
    vision = {d: by for d, by in means.items() if d != "tables"}
    adaptive = [o for o in OBJECTIVES if o != "none"]
    if len(vision) > 1:
        lodo = leave_one_dataset_out(vision, adaptive, "dann")
        lines += [
            "Leave one dataset out over the vector/image/text datasets (tables excluded): "
            "the objective chosen on the other datasets, and its gain over DANN on the held-out "
            "one.",
            "",
            markdown_table(
                ["held-out dataset", "chosen on the others", "gain over DANN"],
                [[r["held_out"], r["chosen"], f"{r['gain']:+.3f}"] for r in lodo],
            ),
            "",
            f"Mean gain over DANN of the objective chosen leave one dataset out: "
            f"{np.mean([r['gain'] for r in lodo]) if lodo else float('nan'):+.3f}.",
            "",
        ]
    if few:
        lines += [
            "Few labels: accuracy on the target rows that were not labeled (the mean rows "
            "are descriptive: the best column there is chosen on the rows it reports).",
            "",
        ]
        header = ["dataset", "labels per class", "S+T", "DANN+T", "CDAN+T", "MCC+T"]
        rows = []
        for per_class in LABELS_PER_CLASS:
            at = [r for r in few if r["labels_per_class"] == per_class]
            means_at = _means(at)
            for dataset, by in means_at.items():
                rows.append(
                    [
                        dataset,
                        per_class,
                        *(f"{by.get(o, float('nan')):.3f}" for o in FEW_LABEL_OBJECTIVES),
                    ]
                )
            if means_at:
                overall = [
                    np.mean([by.get(o, np.nan) for by in means_at.values()])
                    for o in FEW_LABEL_OBJECTIVES
                ]
                rows.append(["**mean**", per_class, *(f"**{v:.3f}**" for v in overall)])
        lines += [markdown_table(header, rows), ""]
        three = _means([r for r in few if r["labels_per_class"] == 3])
        if len(three) > 1:
            lodo = leave_one_dataset_out(three, FEW_LABEL_OBJECTIVES[1:], "none")
            lines += [
                "With 3 labels per class, leave one dataset out: the semi-supervised objective "
                "chosen on the other datasets, and its gain over S+T on the held-out one.",
                "",
                markdown_table(
                    ["held-out dataset", "chosen on the others", "gain over S+T"],
                    [[r["held_out"], r["chosen"], f"{r['gain']:+.3f}"] for r in lodo],
                ),
                "",
                f"Mean gain over S+T: "
                f"{np.mean([r['gain'] for r in lodo]) if lodo else float('nan'):+.3f}.",
            ]
    return "\n".join(lines)


DOCS_TABLES = RESULTS.parents[1] / "docs" / "objectives_tables.inc"


def markdown_to_rst(text):
    """The Markdown of :func:`tables` as reStructuredText (list-tables), for the docs."""
    out, table = [], []

    def flush():
        if not table:
            return
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
        rows = [rows[0], *rows[2:]]  # drop the |---| line
        out.extend([".. list-table::", "   :header-rows: 1", ""])
        for row in rows:
            out.append(f"   * - {row[0] or ' '}")
            out.extend(f"     - {cell or ' '}" for cell in row[1:])
        out.append("")
        table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny subsets, 1 seed, 2 epochs")
    parser.add_argument("--workers", type=int, default=2, help="fits at a time (1 thread each)")
    parser.add_argument("--resume", action="store_true", help="keep saved records, skip them")
    parser.add_argument("--tables-only", action="store_true", help="rewrite the .md only")
    args = parser.parse_args(argv)
    suffix = "_quick" if args.quick else ""
    path = RESULTS / f"objectives{suffix}.json"
    keep = args.resume or args.tables_only
    saved = json.loads(path.read_text()) if path.exists() and keep else []
    records = [r for r in saved if r.get("record") != "machine"]
    if not args.tables_only:
        done = {
            (r["dataset"], r["task"], r["objective"], r["seed"], r["labels_per_class"])
            for r in records
        }
        todo = [j for j in jobs(args.quick) if j[:5] not in done]
        context = get_context("spawn")
        with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
            for record in pool.map(run_job, todo):
                records.append(record)
                print(
                    f"{record['dataset']:>10} {record['task']:>22} {record['objective']:>9} "
                    f"labels {record['labels_per_class']:>2} seed {record['seed']}: "
                    f"{record['target_accuracy']:.3f} ({record['seconds']:.1f} s)",
                    flush=True,
                )
                if len(records) % 10 == 0:
                    info = {**machine_info(), "torch_threads": 1, "workers": args.workers}
                    write_results("objectives", [info, *records], tables(records), suffix)
    info = {**machine_info(), "torch_threads": 1, "workers": args.workers}
    text = tables(records)
    write_results("objectives", [info, *records], text, suffix)
    if not args.quick:
        DOCS_TABLES.write_text(markdown_to_rst(text))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
