"""Weight decay and learning rate for small tables, chosen leaving one table family out.

Starting from the paper's protocol (SGD with momentum 0.9, the Ganin
schedules, lambda 1) and the package's (100, 100) network, every task of
``benchmarks/tabular.py`` (same rows, same preprocessing) is fitted on the
grid ``alpha`` (weight decay) in {1e-4, 1e-3, 1e-2} x ``learning_rate_init``
in {0.01, 0.05}; the package defaults are alpha 1e-4 and 0.05. For each
kind (classification, regression) and each table family, the rule of
``benchmarks/selection_lodo.py`` (the grid point with the smallest worst
per-family mean regret) is applied to the *other* families, and the regret
of its pick on the held-out family is reported next to the regret of the
current default. Test scores choose nothing but the rule's pick on the other
families. The 30 points of a task (5 seeds x 6) train in one batched fit
(``skdann.batched.fit_batched``), about as long as 3 plain fits.

Run from the repository root::

    python -m benchmarks.table_defaults            # 10 tasks x 5 seeds x 6 points
    python -m benchmarks.table_defaults --quick

Writes ``benchmarks/results/table_defaults[_quick].{json,md}``.
"""

import argparse
import itertools
import warnings

import numpy as np

from benchmarks import selection_lodo, tabular
from benchmarks._common import machine_info, markdown_table, write_results
from skdann.batched import fit_batched
from skdann.label_shift import LabelShiftWarning

ALPHAS = (1e-4, 1e-3, 1e-2)
LEARNING_RATES = (0.01, 0.05)
DEFAULT = (1e-4, 0.05)


def fit_points(table, parts, seeds, max_iter):
    """Test scores of every (seed, alpha, lr) point of one task, fitted together.

    The preprocessing is fitted once on the stacked fit rows (it is
    deterministic: each point's pipeline would fit the same), then every
    point's DANN estimator trains in one batched fit
    (:func:`skdann.batched.fit_batched`; each is its own plain fit up to
    float rounding). Returns ``{(seed, alpha, lr): score}``.
    """
    X, y = tabular._stack(parts, "s_fit", "t_fit", table.kind == "reg")
    points = list(itertools.product(seeds, ALPHAS, LEARNING_RATES))
    pipelines = [
        tabular._dann(table, seed, max_iter=max_iter, alpha=alpha, learning_rate_init=lr)
        for seed, alpha, lr in points
    ]
    preprocessing = pipelines[0][0].fit(X, y)
    X_fit = preprocessing.transform(X)
    fit_batched([pipeline[-1] for pipeline in pipelines], X_fit, y)
    X_test, y_test = parts["t_test"]
    X_test = preprocessing.transform(X_test)
    return {
        point: tabular._score(table, y_test, pipeline[-1].predict(X_test))
        for point, pipeline in zip(points, pipelines, strict=True)
    }


def lodo(runs):
    """``runs``: {family: [{(alpha, lr): score}]}; the rule's held-out regret per family.

    The rule is ``benchmarks/selection_lodo.py``'s, applied to fixed grid points.
    """
    if len(runs) < 2:  # nothing to choose on when one family is left out
        return []
    points = [("point", p) for p in itertools.product(ALPHAS, LEARNING_RATES)]
    datasets = {
        family: [[(point, {}, score) for point, score in run.items()] for run in family_runs]
        for family, family_runs in runs.items()
    }
    out = []
    for r in selection_lodo.leave_one_dataset_out(datasets, pool=points):
        alpha, lr = r["chosen_selector"][1]
        out.append(
            {
                "held_out": r["held_out"],
                "runs": r["runs"],
                "pick": {"alpha": alpha, "learning_rate_init": lr},
                "held_out_regret": r["held_out_mean_regret"],
                "default_regret": float(
                    np.mean(selection_lodo.regrets(datasets[r["held_out"]], ("point", DEFAULT)))
                ),
            }
        )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=LabelShiftWarning)
    quick = args.quick
    names = ["wine_clf_red_white", "wine_reg_white_red"] if quick else None
    rows, max_iter = (300, 3) if quick else (2000, 100)
    records = []
    for table in tabular.load_tables(names):
        parts = tabular.split_task(table, rows)
        scores = fit_points(table, parts, range(1 if quick else args.seeds), max_iter)
        for (seed, alpha, lr), score in scores.items():
            records.append(
                {"dataset": table.family, "task": table.name, "kind": table.kind,
                 "seed": seed, "alpha": alpha, "learning_rate_init": lr, "score": score}
            )  # fmt: skip
            print(f"{table.name} seed {seed} alpha {alpha} lr {lr}: {score:.3f}", flush=True)
    text = []
    summary = []
    for kind in ("clf", "reg"):
        runs = {}
        for r in records:
            if r["kind"] != kind:
                continue
            run = runs.setdefault(r["dataset"], {}).setdefault((r["task"], r["seed"]), {})
            run[(r["alpha"], r["learning_rate_init"])] = r["score"]
        runs = {f: list(v.values()) for f, v in runs.items()}
        result = lodo(runs)
        summary += [{"kind": kind, "record": "lodo", **r} for r in result]
        unit = 100.0
        text.append(f"**{'accuracy' if kind == 'clf' else 'R²'}** (regret x 100):\n")
        text.append(
            markdown_table(
                [
                    "held-out family",
                    "runs",
                    "rule's alpha",
                    "rule's learning rate",
                    "held-out regret of the pick",
                    "held-out regret of the default",
                ],
                [
                    [
                        r["held_out"],
                        r["runs"],
                        r["pick"]["alpha"],
                        r["pick"]["learning_rate_init"],
                        f"{unit * r['held_out_regret']:.1f}",
                        f"{unit * r['default_regret']:.1f}",
                    ]
                    for r in result
                ],
            )
        )
        text.append("")
    table = "\n".join(text)
    print(table)
    suffix = "_quick" if quick else ""
    print(
        "wrote",
        *write_results("table_defaults", [machine_info(), *records, *summary], table, suffix),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
