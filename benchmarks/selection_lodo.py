"""Which label-free validator to recommend: chosen leaving one dataset out.

Reads the cached grid points of ``benchmarks/model_selection.py`` (Amazon,
Office-Caltech, MNIST<->USPS, COIL-20, moons) and ``benchmarks/tabular.py``
(the table families wine, bike, diabetes, adult), where every grid point of
every (task, seed) run carries every validator's score on a validation fold
and the point's target test score. No model is trained here.

For a selector, a run's **regret** is the best grid point's test score minus
the test score of the point the selector picks (ties to the first point, as
``GridSearchCV``). Per dataset: the mean regret over its runs and the worst
run's regret.

**The rule**, applied for each held-out dataset D to the other datasets only:
pick the selector with the smallest worst-case mean regret (the largest of
its per-dataset mean regrets). The figure reported for D is the regret of
that pick *on D*, which played no part in choosing it: mean over D's runs
and worst run. Classification (accuracy, in points) and regression (R², in
hundredths) are handled separately and never averaged together.

Candidates: each single validator scored on every dataset of the kind, and
the mean-rank aggregates of :func:`skdann.metrics.mean_rank_refit` over
pairs and the triple of {entropy, information maximisation, SND, DEV}.
``source_score`` (the labeled source score, what a user gets without a
label-free scorer) and the fixed points ``default`` (lambda 1, (100, 100))
and ``source_only`` (lambda 0, (100, 100)) are reported beside them.

The choice on *all* datasets is what ``skdann.metrics.recommended_scorer``
uses; the held-out regrets are the honest estimate of how it does on a
dataset it was not chosen on.

Run from the repository root (after the two benchmarks)::

    python -m benchmarks.selection_lodo

Writes ``benchmarks/results/selection_lodo.{json,md}``.
"""

import itertools
import json

import numpy as np

from benchmarks._common import RESULTS, markdown_table, write_results
from skdann.metrics import mean_ranks

AGGREGATE_POOL = (
    "prediction_entropy",
    "information_maximization",
    "soft_neighborhood_density",
    "deep_embedded_validation",
)
FIXED_POINTS = {"default": (1.0, (100, 100)), "source_only": (0.0, (100, 100))}


def load_runs(ids=None):
    """``{kind: {dataset: [run, ...]}}``; a run is a list of (params, scores, test score).

    ``ids``, a dict, receives ``id(run) -> (task, seed)`` for the table runs.
    """
    runs = {"classification": {}, "regression": {}}
    ids = {} if ids is None else ids
    selection = RESULTS / "model_selection.json"
    if selection.exists():
        points = [r for r in json.loads(selection.read_text()) if r.get("method") == "grid_point"]
        for key, group in _group(points):
            runs["classification"].setdefault(key[0], []).append(
                [
                    (
                        (p["adversarial_weight"], tuple(p["hidden_layer_sizes"])),
                        {"source_score": p["scores"]["source_accuracy"], **p["scores"]},
                        p["target_accuracy"],
                    )
                    for p in group
                ]
            )
    tabular = RESULTS / "tabular.json"
    if tabular.exists():
        points = [r for r in json.loads(tabular.read_text()) if r.get("method") == "grid_point"]
        for key, group in _group(points):
            kind = "classification" if group[0]["metric"] == "accuracy" else "regression"
            run = [
                (
                    (p["params"]["adversarial_weight"], tuple(p["params"]["hidden_layer_sizes"])),
                    p["scores"],
                    p["test_score"],
                )
                for p in group
            ]
            runs[kind].setdefault(f"table:{key[0]}", []).append(run)
            ids[id(run)] = (key[1], key[2])
    return runs


def _group(points):
    groups = {}
    for p in points:
        groups.setdefault((p["dataset"], p["task"], p["seed"]), []).append(p)
    return groups.items()


def candidates(datasets):
    """Selectors scored on every run of every dataset, and mean-rank aggregates of them."""
    names = None
    for runs in datasets.values():
        for run in runs:
            for _, scores, _ in run:
                names = set(scores) if names is None else names & set(scores)
    names = sorted(names or [])
    if "source_accuracy" in names:
        names.remove("source_accuracy")  # the same as source_score
    pool = [n for n in AGGREGATE_POOL if n in names]
    aggregates = [tuple(combo) for size in (2, 3) for combo in itertools.combinations(pool, size)]
    return names + aggregates


def pick(run, selector):
    """Index of the grid point ``selector`` picks in ``run``."""
    if isinstance(selector, tuple):
        ranks = mean_ranks([[scores[name] for _, scores, _ in run] for name in selector])
        return int(np.flatnonzero(ranks == ranks.min())[0])
    scores = np.array([scores[selector] for _, scores, _ in run], dtype=float)
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    return int(np.argmax(scores))


def regrets(runs, selector):
    """Regret of ``selector`` on each run (best test score minus the pick's).

    ``selector`` is a validator's name, a tuple of names (mean rank), a name in
    ``FIXED_POINTS`` or a grid point ``("point", (lambda, hidden))``: a default.
    """
    out = []
    for run in runs:
        tests = np.array([test for _, _, test in run])
        fixed = None
        if isinstance(selector, str) and selector in FIXED_POINTS:
            fixed = FIXED_POINTS[selector]
        elif isinstance(selector, tuple) and selector and selector[0] == "point":
            fixed = selector[1]
        if fixed is not None:
            index = next(i for i, (params, _, _) in enumerate(run) if params == fixed)
        else:
            index = pick(run, selector)
        out.append(float(tests.max() - tests[index]))
    return np.array(out)


def name_of(selector):
    if isinstance(selector, tuple) and selector and selector[0] == "point":
        if len(selector[1]) != 2:  # another grid's point (benchmarks/package_defaults.py)
            return "fixed " + ", ".join(map(str, selector[1]))
        weight, hidden = selector[1]
        return f"fixed lambda {weight:g}, {hidden}"
    return " + ".join(selector) if isinstance(selector, tuple) else selector


def common_points(datasets):
    """Grid points present in every run: candidate fixed defaults."""
    points = None
    for runs in datasets.values():
        for run in runs:
            mine = {params for params, _, _ in run}
            points = mine if points is None else points & mine
    return [("point", p) for p in sorted(points or [])]


def leave_one_dataset_out_defaults(datasets):
    """The rule applied to fixed grid points: which default holds on a held-out dataset."""
    return leave_one_dataset_out(datasets, pool=common_points(datasets))


def rule_pick(datasets, pool):
    """The rule: the candidate whose worst per-dataset mean regret is smallest.

    Ties go to the first candidate of ``pool``. Returns ``(candidate, its worst regret)``.
    """
    worst = [max(float(np.mean(regrets(runs, s))) for runs in datasets.values()) for s in pool]
    best = int(np.argmin(worst))
    return pool[best], worst[best]


def leave_one_dataset_out(datasets, pool=None):
    """Per held-out dataset: the selector the rule picks on the others, and its regret there."""
    pool = candidates(datasets) if pool is None else pool
    records = []
    for held_out in datasets:
        # The rule never sees the held-out dataset, nor (for a table) its other tasks.
        others = {d: runs for d, runs in datasets.items() if d != held_out}
        chosen, worst = rule_pick(others, pool)
        held = regrets(datasets[held_out], chosen)
        records.append(
            {
                "held_out": held_out,
                "chosen": name_of(chosen),
                "chosen_selector": chosen,
                "worst_case_regret_on_others": worst,
                "held_out_mean_regret": float(held.mean()),
                "held_out_worst_regret": float(held.max()),
                "runs": len(held),
            }
        )
    return records


def in_sample(datasets):
    """Every candidate's mean and worst regret on each dataset (chosen nowhere: descriptive)."""
    rows = []
    pool = [*candidates(datasets), "default", "source_only"]
    for selector in pool:
        per = {d: regrets(runs, selector) for d, runs in datasets.items()}
        rows.append(
            {
                "selector": name_of(selector),
                "mean_regret": {d: float(r.mean()) for d, r in per.items()},
                "worst_regret": {d: float(r.max()) for d, r in per.items()},
                "worst_case_mean_regret": max(float(r.mean()) for r in per.values()),
            }
        )
    return rows


def choose_on_all(datasets, singles_only=False):
    pool = candidates(datasets)
    if singles_only:  # what a scorer (not a refit rule) can be
        pool = [s for s in pool if isinstance(s, str)]
    return rule_pick(datasets, pool)[0]


def tabular_selected(datasets, lodo, ids):
    """``dann_selected`` records of the table runs: each uses its family's held-out pick."""
    records = []
    for r in lodo:
        if not r["held_out"].startswith("table:"):
            continue
        for run in datasets[r["held_out"]]:
            task, seed = ids[id(run)]
            index = pick(run, r["chosen_selector"])
            records.append(
                {
                    "task": task,
                    "seed": seed,
                    "method": "dann_selected",
                    "score": run[index][2],
                    "selector": r["chosen"],
                    "picked": {"adversarial_weight": run[index][0][0],
                               "hidden_layer_sizes": list(run[index][0][1])},
                }
            )  # fmt: skip
    return records


def main(argv=None):
    ids = {}
    runs = load_runs(ids)
    records, text, selected = [], [], []
    for kind, datasets in runs.items():
        datasets = {d: r for d, r in datasets.items() if r}
        if len(datasets) < 2:
            continue
        scale = 100.0
        unit = "points of accuracy" if kind == "classification" else "hundredths of R²"
        lodo = leave_one_dataset_out(datasets)
        overall = choose_on_all(datasets)
        single = choose_on_all(datasets, singles_only=True)
        descriptive = in_sample(datasets)
        selected += tabular_selected(datasets, lodo, ids)
        for r in lodo:
            r.pop("chosen_selector")
        records += [{"kind": kind, "record": "lodo", **r} for r in lodo]
        records.append({"kind": kind, "record": "chosen_on_all", "selector": name_of(overall)})
        records.append(
            {"kind": kind, "record": "single_chosen_on_all", "selector": name_of(single)}
        )
        records += [{"kind": kind, "record": "in_sample", **r} for r in descriptive]
        text.append(f"## {kind.capitalize()} (regret in {unit})\n")
        text.append(
            markdown_table(
                [
                    "held-out dataset",
                    "runs",
                    "rule's pick (on the others)",
                    "its worst mean regret there",
                    "held-out mean regret",
                    "held-out worst run",
                ],
                [
                    [
                        r["held_out"],
                        r["runs"],
                        r["chosen"],
                        f"{scale * r['worst_case_regret_on_others']:.1f}",
                        f"{scale * r['held_out_mean_regret']:.1f}",
                        f"{scale * r['held_out_worst_regret']:.1f}",
                    ]
                    for r in lodo
                ],
            )
        )
        mean_held = np.mean([r["held_out_mean_regret"] for r in lodo])
        text.append(
            f"\nHeld-out regret averaged over the {len(lodo)} datasets: "
            f"{scale * mean_held:.1f}; worst dataset: "
            f"{scale * max(r['held_out_mean_regret'] for r in lodo):.1f}. "
            f"The rule applied to all datasets picks **{name_of(overall)}**; among single "
            f"validators (what a `scoring=` scorer can be) **{name_of(single)}**.\n"
        )
        singles = leave_one_dataset_out(
            datasets, pool=[c for c in candidates(datasets) if isinstance(c, str)]
        )
        for r in singles:
            r.pop("chosen_selector")
        records += [{"kind": kind, "record": "lodo_single", **r} for r in singles]
        text.append(
            "Single validators only (what `recommended_scorer`, a `scoring=` scorer, can be), "
            "same rule:\n"
        )
        text.append(
            markdown_table(
                ["held-out dataset", "rule's pick", "held-out mean regret", "worst run"],
                [
                    [
                        r["held_out"],
                        r["chosen"],
                        f"{scale * r['held_out_mean_regret']:.1f}",
                        f"{scale * r['held_out_worst_regret']:.1f}",
                    ]
                    for r in singles
                ],
            )
        )
        mean_single = np.mean([r["held_out_mean_regret"] for r in singles])
        text.append(
            f"\nHeld-out regret averaged over the datasets: {scale * mean_single:.1f}; worst "
            f"dataset: {scale * max(r['held_out_mean_regret'] for r in singles):.1f}.\n"
        )
        defaults = leave_one_dataset_out_defaults(datasets)
        for r in defaults:
            r.pop("chosen_selector")
        records += [{"kind": kind, "record": "lodo_default", **r} for r in defaults]
        text.append(
            "Defaults, by the same rule: the fixed grid point (no selection) with the best "
            "worst-case regret on the other datasets, and its regret on the held-out one:\n"
        )
        text.append(
            markdown_table(
                [
                    "held-out dataset",
                    "rule's default",
                    "held-out mean regret",
                    "held-out worst run",
                ],
                [
                    [
                        r["held_out"],
                        r["chosen"],
                        f"{scale * r['held_out_mean_regret']:.1f}",
                        f"{scale * r['held_out_worst_regret']:.1f}",
                    ]
                    for r in defaults
                ],
            )
        )
        text.append("")
        names = list(datasets)
        text.append(
            "In-sample mean regret per dataset (descriptive: every selector on every "
            "dataset, nothing chosen):\n"
        )
        text.append(
            markdown_table(
                ["selector", *names, "worst"],
                [
                    [
                        r["selector"],
                        *[f"{scale * r['mean_regret'][d]:.1f}" for d in names],
                        f"{scale * r['worst_case_mean_regret']:.1f}",
                    ]
                    for r in sorted(descriptive, key=lambda r: r["worst_case_mean_regret"])
                ],
            )
        )
        text.append("")
    table = "\n".join(text)
    print(table)
    print("wrote", *write_results("selection_lodo", records, table))
    if selected:
        from benchmarks import tabular

        print("wrote", *tabular.add_selected(selected))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
