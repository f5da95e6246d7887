"""Does averaging several seeds' models make DANN on tables better or steadier?

Post-processing of ``benchmarks/tabular.py``'s cached test outputs (no
training): for each task and grid point, the 5 seeds' models are averaged
(class probabilities, or predictions for regression) and the ensemble's test
score is compared with the single models' mean and spread. To see the
spread of a *small* ensemble, the 5 seeds also form the 5 ensembles of 3
consecutive seeds (0-2, 1-3, 2-4, 3-0, 4-1), whose scores have their own
standard deviation.

Run from the repository root after the tabular benchmark::

    python -m benchmarks.seed_ensemble

Writes ``benchmarks/results/seed_ensemble.{json,md}``.
"""

import json

import numpy as np
from sklearn.metrics import accuracy_score, r2_score

from benchmarks import tabular
from benchmarks._common import RESULTS, markdown_table, write_results

POINTS = {"dann (lambda 1)": (1.0, "100x100"), "source_only (lambda 0)": (0.0, "100x100")}


def _outputs(task, seed, weight, width):
    path = tabular.CACHE / f"{task}_s{seed}_l{weight}_h{width}.npz"
    if not path.exists():
        return None
    data = np.load(path)
    return data["test_proba"] if "test_proba" in data else data["test_prediction"]


def _score(kind, y, output, classes):
    if kind == "clf":
        return float(accuracy_score(y, classes[output.argmax(axis=1)]))
    return float(r2_score(y, output))


def main(argv=None):
    records = json.loads((RESULTS / "tabular.json").read_text())[1:]
    seeds = sorted({r["seed"] for r in records})
    rows, out = [], []
    for table in tabular.load_tables(sorted({r["task"] for r in records})):
        parts = tabular.split_task(table, 2000)
        y_test = parts["t_test"][1]
        classes = np.unique(parts["s_fit"][1])
        for label, (weight, width) in POINTS.items():
            outputs = [_outputs(table.name, s, weight, width) for s in seeds]
            if any(o is None for o in outputs) or len(outputs) < 3:
                continue
            singles = [_score(table.kind, y_test, o, classes) for o in outputs]
            ensemble = _score(table.kind, y_test, np.mean(outputs, axis=0), classes)
            n = len(outputs)
            triples = [
                _score(
                    table.kind,
                    y_test,
                    np.mean([outputs[(i + k) % n] for k in range(3)], 0),
                    classes,
                )
                for i in range(n)
            ]
            record = {
                "task": table.name,
                "metric": "accuracy" if table.kind == "clf" else "r2",
                "point": label,
                "single_mean": float(np.mean(singles)),
                "single_sd": float(np.std(singles, ddof=1)),
                "ensemble_of_3_mean": float(np.mean(triples)),
                "ensemble_of_3_sd": float(np.std(triples, ddof=1)),
                "ensemble_of_all": ensemble,
                "seeds": n,
            }
            out.append(record)
            rows.append(
                [table.name, label, record["metric"],
                 f"{record['single_mean']:.3f} ± {record['single_sd']:.3f}",
                 f"{record['ensemble_of_3_mean']:.3f} ± {record['ensemble_of_3_sd']:.3f}",
                 f"{ensemble:.3f}"]
            )  # fmt: skip
    table = markdown_table(
        ["task", "grid point", "metric", "single model (mean ± sd)",
         "ensemble of 3 seeds (mean ± sd)", "ensemble of all 5"],
        rows,
    )  # fmt: skip
    for metric in ("accuracy", "r2"):
        mine = [r for r in out if r["metric"] == metric and r["point"].startswith("dann")]
        if mine:
            table += (
                f"\n\n**{metric}, DANN at lambda 1** (mean over {len(mine)} tasks): single "
                f"{np.mean([r['single_mean'] for r in mine]):.3f} (sd over seeds "
                f"{np.mean([r['single_sd'] for r in mine]):.3f}), ensemble of 3 "
                f"{np.mean([r['ensemble_of_3_mean'] for r in mine]):.3f} (sd "
                f"{np.mean([r['ensemble_of_3_sd'] for r in mine]):.3f}), ensemble of 5 "
                f"{np.mean([r['ensemble_of_all'] for r in mine]):.3f}."
            )
    print(table)
    print("wrote", *write_results("seed_ensemble", out, table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
