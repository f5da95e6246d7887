"""How well ``skdann.label_shift.check_label_shift`` reads the target's class proportions.

The label-shift warning should fire when the class proportions really differ
(total variation above 0.2) and stay silent when they do not (under 0.05),
also when the inputs shift (covariate shift). This script measures the three
estimators of ``check_label_shift`` (``mean``, ``em``, ``bbse``) on:

- the ten classification tables of ``benchmarks/guarded.py`` as they are
  (natural shifts, mostly covariate);
- the same tables with a label shift made on purpose: the target's positive
  class thinned to 30% of its rows (adaptation and test rows alike);
- MNIST -> USPS and Amazon books -> kitchen, as they are (balanced in both
  domains) and label-shifted as in ``benchmarks/label_shift.py``; and
  Amazon dvd -> electronics and kitchen -> books as they are.

True total variation: source labels against the target's test labels.
Each estimate runs with 5 seeds (the cross-fitting halves). The method and
the threshold are chosen leaving each data family out: fewest errors (a
task above 0.2 not flagged, or under 0.05 flagged, on any seed) on the
other families, ties broken by the mean absolute error of the estimate.

Run from the repository root::

    python -m benchmarks.label_shift_check

Writes ``benchmarks/results/label_shift_check.{json,md}``.
"""

import itertools

import numpy as np
import pandas as pd

from benchmarks import guarded, tabular
from benchmarks._common import machine_info, markdown_table, write_results
from benchmarks.accuracy import amazon_tasks, mnist_usps_tasks
from benchmarks.label_shift import shifted_tasks, subsample_classes
from skdann.label_shift import check_label_shift, total_variation

METHODS = ("mean", "em", "bbse")
THRESHOLDS = (0.05, 0.08, 0.1, 0.12, 0.15, 0.2)
SEEDS = range(5)


def _true_tv(y_source, y_test):
    classes = np.unique(np.r_[y_source, y_test])
    p = np.array([np.mean(y_source == c) for c in classes])
    q = np.array([np.mean(y_test == c) for c in classes])
    return total_variation(p, q)


def table_cases():
    for table in guarded.load_tables():
        if table.kind != "clf":
            continue
        parts = tabular.split_task(table, 2000)
        X_s = pd.concat([parts["s_fit"][0], parts["s_val"][0]])
        y_s = np.r_[parts["s_fit"][1], parts["s_val"][1]]
        (X_t, y_t), y_test = parts["t_fit"], parts["t_test"][1]
        pre = tabular.preprocessing(table).fit(pd.concat([X_s, X_t]))
        yield table.family, table.name, pre.transform(X_s), y_s, pre.transform(X_t), y_s, y_test
        keep = {1: 0.3}
        rows_t, rows_test = subsample_classes(y_t, keep), subsample_classes(y_test, keep, seed=1)
        yield (table.family, f"{table.name} (positives thinned)", pre.transform(X_s), y_s,
               pre.transform(X_t.iloc[rows_t]), y_s, y_test[rows_test])  # fmt: skip


def vector_cases():
    tasks = [t for t in mnist_usps_tasks() if t.name == "mnist->usps"]
    names = ("books->kitchen", "dvd->electronics", "kitchen->books")
    tasks += [t for t in amazon_tasks() if t.name in names]
    shifted = {f"{t.name} (label-shifted)": t for t in shifted_tasks(quick=False)}
    for name, task in [*((t.name, t) for t in tasks), *shifted.items()]:
        pre = task.preprocessing().fit(task.X_source)
        yield (task.dataset, name, pre.transform(task.X_source), task.y_source,
               pre.transform(task.X_target), task.y_source, task.y_test)  # fmt: skip


def measure():
    records = []
    for family, name, X_s, y_s, X_t, y_ref, y_test in itertools.chain(
        table_cases(), vector_cases()
    ):
        true = _true_tv(y_ref, y_test)
        for method, seed in itertools.product(METHODS, SEEDS):
            check = check_label_shift(X_s, y_s, X_t, method=method, random_state=seed)
            records.append({"family": family, "task": name, "method": method, "seed": seed,
                            "true_tv": true, "estimated_tv": check.total_variation})  # fmt: skip
        print(name, f"true {true:.3f}", flush=True)
    return records


def errors(frame, method, threshold):
    """Tasks the rule gets wrong on any seed, and the mean absolute error of the estimate."""
    mine = frame[frame.method == method]
    wrong = 0
    for _, task in mine.groupby("task"):
        true = task.true_tv.iloc[0]
        fired = task.estimated_tv > threshold
        wrong += (true > 0.2 and not fired.all()) or (true < 0.05 and fired.any())
    return wrong, float(np.mean(np.abs(mine.estimated_tv - mine.true_tv)))


def choose(frame):
    return min(itertools.product(METHODS, THRESHOLDS), key=lambda rule: errors(frame, *rule))


def main():
    records = measure()
    frame = pd.DataFrame(records)
    families = sorted(frame.family.unique())
    held_out = {f: choose(frame[frame.family != f]) for f in families}
    overall = choose(frame)
    rows, hits = [], {"needed": 0, "fired": 0, "quiet_needed": 0, "quiet": 0}
    for task, group in frame.groupby("task", sort=False):
        family = group.family.iloc[0]
        method, threshold = held_out[family]
        mine = group[group.method == method]
        true = group.true_tv.iloc[0]
        fired = int((mine.estimated_tv > threshold).sum())
        if true > 0.2:
            hits["needed"] += 1
            hits["fired"] += fired == len(mine)
        if true < 0.05:
            hits["quiet_needed"] += 1
            hits["quiet"] += fired == 0
        cells = [f"{group[group.method == m].estimated_tv.mean():.3f}" for m in METHODS]
        rows.append([task, family, f"{true:.3f}", *cells, f"{method} > {threshold:g}",
                     f"{fired} of {len(mine)}"])  # fmt: skip
    header = ["task", "family", "true TV", *(f"{m} (mean of 5)" for m in METHODS),
              "rule chosen without the family", "seeds fired"]  # fmt: skip
    text = (
        markdown_table(header, rows) + "\n\n"
        f"Held-out rules: fired on every seed on {hits['fired']} of {hits['needed']} tasks "
        f"whose true total variation exceeds 0.2; silent on every seed on {hits['quiet']} of "
        f"{hits['quiet_needed']} tasks under 0.05. Rule chosen on all families (the package "
        f"default): `{overall[0]}` above {overall[1]:g}.\n"
    )
    print(text)
    payload = {
        "machine": machine_info("cpu"),
        "records": records,
        "held_out": {f: list(r) for f, r in held_out.items()},
        "overall": list(overall),
    }
    print("wrote", *write_results("label_shift_check", [payload], text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
