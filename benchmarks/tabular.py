"""DANN on mixed-type tables with a natural shift, against what a user would otherwise fit.

Tasks (``../shared/data``, see ``tabular_shift_baselines/README.md``): the
eight pairs with a real transfer gap (wine red <-> white as classification
and regression, bike sharing 2011 -> 2012 and working <-> non-working days,
diabetes ER -> non-ER) and two controls with little gap (adult men ->
women, diabetes non-ER -> ER), five of them regressions.

Protocol, per task (data subsampled once, seed 0):

- at most ``--rows`` (2,000) source rows, split 80/20 into fit and
  validation rows; at most ``--rows`` target rows for adaptation, split
  80/20 the same way; a disjoint sample of at most ``--rows`` target rows,
  labeled, for the test score (accuracy or R²), which no method sees;
- preprocessing: a ``ColumnTransformer`` fitted on the stacked source and
  target fit rows (one-hot with ``min_frequency=20`` for the categorical
  columns, so high-cardinality codes fold into "infrequent"; median-impute
  and scale the numeric ones), inside the pipeline of every neural method;
- methods, 5 seeds each: ``logreg`` (``Ridge`` for regression) and ``hgb``
  (``HistGradientBoosting``, native categoricals) on the source fit rows;
  one grid per (task, seed) of DANN pipelines, lambda in {0, 0.1, 0.3, 1}
  x hidden layers in {(32,), (100, 100)}, package defaults otherwise, whose
  points give ``source_only`` (lambda 0, (100, 100)), ``dann`` (the
  defaults: lambda 1, (100, 100)) and ``oracle`` (the best point by test
  score: a ceiling, not a method); ``iwdan`` (defaults with
  ``label_shift="iwdan"``, classification only).
- every grid point is scored by every label-free validator on the
  validation fold (source validation rows labeled, target validation rows
  marked), and its test score, mean top-class probability on the test
  rows (classifiers) and outputs are cached, so selection rules are
  post-processing (``benchmarks/selection_lodo.py``). Reverse validation,
  which trains a second model per point, is not run here. The four lambdas
  of each width train in one batched fit (``skdann.batched.fit_batched``;
  each point is its own plain fit up to float rounding), and each point's
  ``seconds`` is its share of that fit.

Runs are resumable: finished (task, seed) pairs are read back from the
results file and skipped.

Run from the repository root::

    python -m benchmarks.tabular                 # 10 tasks x 5 seeds (about 40 minutes)
    python -m benchmarks.tabular --task wine_clf_red_white --seeds 1
    python -m benchmarks.tabular --quick

Writes ``benchmarks/results/tabular[_quick].json`` and ``.md``; outputs are
cached under ``benchmarks/cache/tabular/`` (not committed).
"""

import argparse
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import ParameterGrid, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from benchmarks._common import RESULTS, SHARED_DATA, machine_info, markdown_table, write_results
from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.batched import fit_batched
from skdann.label_shift import LabelShiftWarning
from skdann.metrics import (
    deep_embedded_validation_scorer,
    importance_weighted_scorer,
    information_maximization_scorer,
    prediction_entropy_scorer,
    soft_neighborhood_density_scorer,
)

GRID = {"adversarial_weight": [0.0, 0.1, 0.3, 1.0], "hidden_layer_sizes": [(32,), (100, 100)]}
DEFAULT_POINT = {"adversarial_weight": 1.0, "hidden_layer_sizes": (100, 100)}
SOURCE_ONLY_POINT = {"adversarial_weight": 0.0, "hidden_layer_sizes": (100, 100)}
CLASSIFIER_VALIDATORS = {
    "prediction_entropy": prediction_entropy_scorer,
    "information_maximization": information_maximization_scorer,
    "soft_neighborhood_density": soft_neighborhood_density_scorer,
    "importance_weighted": importance_weighted_scorer,
    "deep_embedded_validation": deep_embedded_validation_scorer,
}
REGRESSOR_VALIDATORS = {
    "importance_weighted": importance_weighted_scorer,
    "deep_embedded_validation": deep_embedded_validation_scorer,
}
CACHE = Path(__file__).resolve().parent / "cache" / "tabular"


@dataclass
class Table:
    """One task: source and target rows, their columns and the kind of target."""

    family: str
    name: str
    kind: str  # "clf" or "reg"
    source: pd.DataFrame
    target: pd.DataFrame
    categorical: list
    numeric: list
    label: str
    control: bool = False


def _wine():
    w = pd.read_csv(SHARED_DATA / "wine_quality_red_white" / "winequality_red_white.csv.gz")
    w["good"] = (w["quality"] >= 6).astype(int)
    num = [c for c in w.columns if c not in ("color", "quality", "good")]
    red, white = w[w.color == "red"], w[w.color == "white"]
    for kind, label in (("clf", "good"), ("reg", "quality")):
        yield Table("wine", f"wine_{kind}_red_white", kind, red, white, [], num, label)
        yield Table("wine", f"wine_{kind}_white_red", kind, white, red, [], num, label)


def _bike():
    b = pd.read_csv(SHARED_DATA / "bike_sharing_uci" / "hour.csv.gz")
    num = ["temp", "atemp", "hum", "windspeed"]
    cat = ["season", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit"]
    yield Table("bike", "bike_2011_2012", "reg", b[b.yr == 0], b[b.yr == 1], cat, num, "cnt")
    cat2 = ["season", "mnth", "hr", "weekday", "weathersit", "yr"]
    work, rest = b[b.workingday == 1], b[b.workingday == 0]
    yield Table("bike", "bike_work_rest", "reg", work, rest, cat2, num, "cnt")
    yield Table("bike", "bike_rest_work", "reg", rest, work, cat2, num, "cnt")


def _diabetes():
    d = pd.read_csv(
        SHARED_DATA / "diabetes_readmission_130us" / "diabetic_data.csv.gz",
        dtype={"diag_1": str, "diag_2": str, "diag_3": str},
    )
    d["y"] = (d["readmitted"] != "NO").astype(int)
    num = [
        "time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
        "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses",
    ]  # fmt: skip
    drop = {"encounter_id", "patient_nbr", "readmitted", "y", "admission_source_id"}
    cat = [c for c in d.columns if c not in drop and c not in num]
    er, other = d[d.admission_source_id == 7], d[d.admission_source_id != 7]
    yield Table("diabetes", "diabetes_er_other", "clf", er, other, cat, num, "y")
    yield Table("diabetes", "diabetes_other_er", "clf", other, er, cat, num, "y", control=True)


def _adult():
    a = pd.read_csv(SHARED_DATA / "adult_census_income" / "adult.csv.gz")
    a["y"] = (a["income"] == ">50K").astype(int)
    num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    cat = ["workclass", "education", "marital-status", "occupation", "relationship", "race",
           "native-country"]  # fmt: skip
    men, women = a[a.sex == "Male"], a[a.sex == "Female"]
    yield Table("adult", "adult_men_women", "clf", men, women, cat, num, "y", control=True)


LOADERS = (_wine, _bike, _diabetes, _adult)


def load_tables(names=None):
    tables = [t for loader in LOADERS for t in loader()]
    if names:
        tables = [t for t in tables if t.name in names]
    return tables


def _features(df, table):
    X = df[table.categorical + table.numeric].copy()
    for column in table.categorical:
        X[column] = X[column].astype(str)  # missing -> "nan", its own category
    for column in table.numeric:
        X[column] = pd.to_numeric(X[column], errors="coerce").astype(float)
    return X


def split_task(table, n_rows):
    """Source fit/validation, target fit/validation and target test rows (seed 0)."""
    source = table.source.sample(n=min(n_rows, len(table.source)), random_state=0)
    target = table.target.sample(frac=1.0, random_state=0)
    target_adapt = target.iloc[: min(n_rows, len(target) // 2)]
    target_test = target.iloc[len(target_adapt) : len(target_adapt) + n_rows]
    stratify = source[table.label] if table.kind == "clf" else None
    s_fit, s_val = train_test_split(source, test_size=0.2, random_state=0, stratify=stratify)
    t_fit, t_val = train_test_split(target_adapt, test_size=0.2, random_state=0)
    parts = {}
    for name, frame in (("s_fit", s_fit), ("s_val", s_val), ("t_fit", t_fit), ("t_val", t_val),
                        ("t_test", target_test)):  # fmt: skip
        y = frame[table.label].to_numpy()
        parts[name] = (_features(frame, table), y.astype(float if table.kind == "reg" else int))
    return parts


def preprocessing(table):
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)
    return ColumnTransformer(
        [("categorical", categorical, table.categorical), ("numeric", numeric, table.numeric)],
        sparse_threshold=0.0,
    )


def baselines(table, parts):
    X_fit, y_fit = parts["s_fit"]
    X_test, y_test = parts["t_test"]
    linear = make_pipeline(
        preprocessing(table),
        LogisticRegression(max_iter=2000) if table.kind == "clf" else Ridge(alpha=1.0),
    )
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=250,
    )
    encoder = ColumnTransformer(
        [("categorical", codes, table.categorical), ("numeric", "passthrough", table.numeric)]
    )
    categorical = list(range(len(table.categorical))) or None
    booster_class = (
        HistGradientBoostingClassifier if table.kind == "clf" else HistGradientBoostingRegressor
    )
    booster = booster_class(random_state=0, categorical_features=categorical)
    scores = {}
    for method, model in (("logreg", linear), ("hgb", make_pipeline(encoder, booster))):
        model.fit(X_fit, y_fit)
        scores[method] = _score(table, y_test, model.predict(X_test))
    return scores


def _score(table, y_true, y_pred):
    return float(
        accuracy_score(y_true, y_pred) if table.kind == "clf" else r2_score(y_true, y_pred)
    )


def _dann(table, seed, **params):
    estimator = DANNClassifier if table.kind == "clf" else DANNRegressor
    extra = {"label_shift_warning": None} if table.kind == "clf" else {}
    return make_pipeline(preprocessing(table), estimator(random_state=seed, **{**extra, **params}))


def _stack(parts, source, target, regression):
    X_s, y_s = parts[source]
    X_t, _ = parts[target]
    return stack_domains(X_s, y_s, X_t, regression=regression)


def fit_grid(table, parts, seed, quick):
    """The fitted pipeline of every grid point of one (task, seed), and its share of the time.

    The preprocessing is fitted once on the stacked fit rows (deterministic:
    each point's own pipeline fits the same); the points of one width train
    together in one batched fit (``skdann.batched.fit_batched``; each is its
    plain fit up to float rounding). Returns ``[(params, pipeline, seconds)]``
    with the batch's seconds shared out evenly among its points.
    """
    regression = table.kind == "reg"
    X, y = _stack(parts, "s_fit", "t_fit", regression)
    points = []
    for params in ParameterGrid(GRID):
        params = {**params, "hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}
        points.append((params, _dann(table, seed, max_iter=3 if quick else 100, **params)))
    preprocess = points[0][1][0].fit(X, y)
    X_fit = preprocess.transform(X)
    fitted = []
    for width in GRID["hidden_layer_sizes"]:
        group = [(p, m) for p, m in points if p["hidden_layer_sizes"] == tuple(width)]
        start = time.perf_counter()
        fit_batched([model[-1] for _, model in group], X_fit, y)
        seconds = (time.perf_counter() - start) / len(group)
        for params, model in group:
            model.steps[0] = (model.steps[0][0], preprocess)
            fitted.append((params, model, seconds))
    return fitted


def grid_point(table, parts, model, seconds):
    regression = table.kind == "reg"
    X_val, y_val = _stack(parts, "s_val", "t_val", regression)
    validators = REGRESSOR_VALIDATORS if regression else CLASSIFIER_VALIDATORS
    scores = {"source_score": float(model.score(*parts["s_val"]))}
    for name, scorer in validators.items():
        try:
            scores[name] = float(scorer(model, X_val, y_val))
        except (ValueError, np.linalg.LinAlgError) as exc:  # recorded, ranks last
            scores[name] = float("nan")
            print(f"  {name} failed: {exc}")
    X_test, y_test = parts["t_test"]
    record = {"seconds": seconds, "scores": scores}
    outputs = {}
    if regression:
        prediction = model.predict(X_test)
        outputs["test_prediction"] = prediction
    else:
        proba = model.predict_proba(X_test)
        prediction = model.classes_[proba.argmax(axis=1)]
        outputs["test_proba"] = proba
        outputs["val_target_proba"] = model.predict_proba(parts["t_val"][0])
        record["test_mean_confidence"] = float(proba.max(axis=1).mean())
    record["test_score"] = _score(table, y_test, prediction)
    return record, outputs


def run_seed(table, parts, seed, quick):
    """All methods of one (task, seed); returns the records."""
    metric = "accuracy" if table.kind == "clf" else "r2"
    base = {"dataset": table.family, "task": table.name, "seed": seed, "metric": metric,
            "control": table.control}  # fmt: skip
    records = []
    points = []
    for params, model, seconds in fit_grid(table, parts, seed, quick):
        record, outputs = grid_point(table, parts, model, seconds)
        width = "x".join(map(str, params["hidden_layer_sizes"]))
        key = f"{table.name}_s{seed}_l{params['adversarial_weight']}_h{width}"
        np.savez_compressed(CACHE / f"{key}.npz", **outputs)
        point = {
            **base,
            "method": "grid_point",
            "params": {**params, "hidden_layer_sizes": list(params["hidden_layer_sizes"])},
            **record,
        }
        points.append(point)
        print(f"  {table.name} seed {seed} {params}: {metric} {record['test_score']:.3f} "
              f"({record['seconds']:.1f} s)", flush=True)  # fmt: skip
    records += points

    def at(point):
        hidden = list(point["hidden_layer_sizes"])
        return next(
            p
            for p in points
            if p["params"]["adversarial_weight"] == point["adversarial_weight"]
            and p["params"]["hidden_layer_sizes"] == hidden
        )

    records.append({**base, "method": "source_only", "score": at(SOURCE_ONLY_POINT)["test_score"]})
    records.append({**base, "method": "dann", "score": at(DEFAULT_POINT)["test_score"]})
    records.append({**base, "method": "oracle", "score": max(p["test_score"] for p in points)})
    if table.kind == "clf":
        model = _dann(table, seed, max_iter=3 if quick else 100, label_shift="iwdan")
        model.fit(*_stack(parts, "s_fit", "t_fit", False))
        X_test, y_test = parts["t_test"]
        tv = model[-1].history_[-1, "label_shift_tv"]
        records.append(
            {
                **base,
                "method": "iwdan",
                "score": _score(table, y_test, model.predict(X_test)),
                "label_shift_tv": tv,
            }
        )
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 tasks, 1 seed, 3 epochs, 300 rows")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2000, help="rows per domain (at most 5000)")
    parser.add_argument("--task", nargs="*", default=None, help="task names (default: all)")
    args = parser.parse_args(argv)
    if not SHARED_DATA.exists():
        print(f"no data at {SHARED_DATA}")
        return 1
    quick = args.quick
    names = args.task or (["wine_clf_red_white", "wine_reg_white_red"] if quick else None)
    seeds = range(1 if quick else args.seeds)
    rows = 300 if quick else min(args.rows, 5000)
    suffix = "_quick" if quick else ""
    path = RESULTS / f"tabular{suffix}.json"
    records = json.loads(path.read_text())[1:] if path.exists() and not quick else []
    done = {(r["task"], r["seed"]) for r in records if r["method"] == "dann"}
    CACHE.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore", category=LabelShiftWarning)
    for table in load_tables(names):
        parts = split_task(table, rows)
        for seed in seeds:
            if (table.name, seed) in done:
                continue
            metric = "accuracy" if table.kind == "clf" else "r2"
            base = {"dataset": table.family, "task": table.name, "seed": seed, "metric": metric,
                    "control": table.control}  # fmt: skip
            for method, score in baselines(table, parts).items():
                records.append({**base, "method": method, "score": score})
            records += run_seed(table, parts, seed, quick)
            write_results("tabular", [machine_info("cpu"), *records], summary(records), suffix)
    table = summary(records)
    print(table)
    print("wrote", *write_results("tabular", [machine_info("cpu"), *records], table, suffix))
    return 0


METHODS = ("logreg", "hgb", "source_only", "dann", "dann_selected", "iwdan", "oracle")


def add_selected(selected):
    """Replace the ``dann_selected`` records with ``selected``; rewrite the results files."""
    path = RESULTS / "tabular.json"
    saved = json.loads(path.read_text())
    machine, records = saved[0], [r for r in saved[1:] if r["method"] != "dann_selected"]
    base = {(r["task"], r["seed"]): r for r in records if r["method"] == "dann"}
    for r in selected:
        ref = base[(r["task"], r["seed"])]
        records.append({k: ref[k] for k in ("dataset", "task", "seed", "metric", "control")} | r)
    return write_results("tabular", [machine, *records], summary(records))


def summary(records):
    """Per task: mean ± s.d. over seeds; per metric: the means and the never-hurts check."""
    rows = []
    tasks = dict.fromkeys((r["task"], r["metric"], r.get("control")) for r in records)
    for task, metric, control in tasks:
        mine = [r for r in records if r["task"] == task and "score" in r]
        cells = []
        for method in METHODS:
            scores = [r["score"] for r in mine if r["method"] == method]
            cells.append(f"{np.mean(scores):.3f} ± {np.std(scores):.3f}" if scores else "")
        name = f"{task} (control)" if control else task
        rows.append([name, metric, len({r["seed"] for r in mine}), *cells])
    text = markdown_table(["task", "metric", "seeds", *METHODS], rows)
    text += (
        "\n\nMean ± s.d. over seeds. `oracle` picks the grid point by test score: a "
        "ceiling, not a method. `dann_selected` uses, for each table family, the validator "
        "the leave-one-dataset-out rule chose without that family "
        "(`benchmarks/selection_lodo.py`).\n"
    )
    for metric in dict.fromkeys(r["metric"] for r in records):
        text += "\n" + _goal(records, metric)
    return text + "\n" + confidence_table(records)


def confidence_table(records):
    """Entropy's known failure, measured: are source-only networks over-confident?"""
    rows = []
    points = [r for r in records if r["method"] == "grid_point" and "test_mean_confidence" in r]
    for task in dict.fromkeys(r["task"] for r in points):
        cells = [task]
        for weight in (0.0, 1.0):
            mine = [
                p for p in points
                if p["task"] == task and p["params"]["adversarial_weight"] == weight
                and p["params"]["hidden_layer_sizes"] == [100, 100]
            ]  # fmt: skip
            confidence = np.mean([p["test_mean_confidence"] for p in mine])
            accuracy = np.mean([p["test_score"] for p in mine])
            cells += [f"{confidence:.3f}", f"{accuracy:.3f}"]
        rows.append(cells)
    header = ["task", "lambda 0: mean top-class probability", "lambda 0: accuracy",
              "lambda 1: mean top-class probability", "lambda 1: accuracy"]  # fmt: skip
    return (
        "Confidence against accuracy on the target test rows (means over seeds, (100, 100)): "
        "a calibrated model's mean top-class probability equals its accuracy. Prediction "
        "entropy rewards the first column.\n\n" + markdown_table(header, rows) + "\n"
    )


def _goal(records, metric):
    """The goal per metric: selected DANN against the baselines, and against source-only."""
    mine = [r for r in records if r["metric"] == metric and "score" in r]
    tasks = list(dict.fromkeys(r["task"] for r in mine))

    def task_mean(method, task):
        scores = [r["score"] for r in mine if r["method"] == method and r["task"] == task]
        return np.mean(scores) if scores else np.nan

    means = {m: np.nanmean([task_mean(m, t) for t in tasks]) for m in METHODS}
    listed = ", ".join(f"{m} {v:.3f}" for m, v in means.items() if np.isfinite(v))
    lines = [f"**{metric}** over {len(tasks)} tasks, mean of the task means: {listed}."]
    if np.isfinite(means["dann_selected"]):
        best_baseline = max(means["logreg"], means["hgb"])
        verdict = "meets" if means["dann_selected"] >= best_baseline else "misses"
        lines.append(
            f"`dann_selected` {verdict} the goal of at least the better of logreg and hgb "
            f"({means['dann_selected']:.3f} against {best_baseline:.3f})."
        )
        rows = []
        for task in tasks:
            paired = _paired(mine, task, "dann_selected", "source_only")
            if paired is None:
                continue
            diff, se = paired
            hurt = diff < -2 * se
            rows.append([task, f"{diff:+.3f}", f"{2 * se:.3f}", "yes" if hurt else "no"])
        lines.append(
            markdown_table(
                [
                    "task",
                    "dann_selected - source_only (paired mean)",
                    "noise (2 s.e.)",
                    "below by more than noise",
                ],
                rows,
            )
        )
    return "\n\n".join(lines) + "\n"


def _paired(records, task, a, b):
    by_seed = {}
    for r in records:
        if r["task"] == task and r["method"] in (a, b):
            by_seed.setdefault(r["seed"], {})[r["method"]] = r["score"]
    diffs = [v[a] - v[b] for v in by_seed.values() if a in v and b in v]
    if len(diffs) < 2:
        return None
    return float(np.mean(diffs)), float(np.std(diffs, ddof=1) / np.sqrt(len(diffs)))


if __name__ == "__main__":
    raise SystemExit(main())
