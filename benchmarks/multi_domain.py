"""Several source domains: multi-domain DANN against pooled DANN and source-only.

Leave one domain out: each domain in turn is the unlabeled target and the
others are labeled sources.

- ``office``: Office-Caltech10 SURF (4 domains; 3 sources, 1 target each
  time); rows L1-normalised, then standard-scaled on all rows; accuracy on
  the whole target domain (the transductive protocol of ``accuracy.py``).
- ``beijing``: Beijing air quality, 4 stations; PM2.5 regression from the
  weather, the other pollutants except PM10, the hour and the month; at most
  ``--rows`` random rows per station with a known PM2.5; a
  ``ColumnTransformer`` (one-hot wind direction, median-imputed and scaled
  numbers) fitted on all rows; R² on the target station's rows.

Methods, ``--seeds`` seeds each, package defaults otherwise:

- ``source_only``: ``adversarial_weight=0``;
- ``pooled``: DANN with all sources as one domain (no ``sample_domain``);
- ``multi_domain``: DANN with ``sample_domain`` (one id per source, -1 for
  the target): every step takes ``batch_size`` rows from each domain and
  the domain head is a softmax over the 4 domains
  (``multi_domain_head="softmax"``);
- ``per_source``: the same with one binary head per source domain, each
  telling that source from the target (``multi_domain_head="per_source"``).

Run from the repository root::

    python -m benchmarks.multi_domain             # both datasets, 5 seeds
    python -m benchmarks.multi_domain --quick     # a smoke run

Records go to ``benchmarks/results/multi_domain.json`` and a table to the
``.md`` beside it (``multi_domain_quick.*`` with ``--quick``); ``--resume``
skips the (task, method, seed) records already saved.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, OneHotEncoder, StandardScaler

from benchmarks._common import RESULTS, SHARED_DATA, machine_info, markdown_table, write_results
from skdann import DANNClassifier, DANNRegressor

OFFICE = ("amazon", "caltech", "dslr", "webcam")
STATIONS = ("Dongsi", "Wanshouxigong", "Dingling", "Huairou")
METHODS = ("source_only", "pooled", "multi_domain", "per_source")


def office_domains():
    """Office-Caltech10: {domain: (X, y)}, preprocessed on all rows together."""
    folder = SHARED_DATA / "office_caltech10_surf"
    raw = {name: np.load(folder / f"{name}.npz") for name in OFFICE}
    X_all = np.vstack([raw[name]["X"] for name in OFFICE]).astype(float)
    scaled = make_pipeline(Normalizer("l1"), StandardScaler()).fit_transform(X_all)
    bounds = np.cumsum([0] + [len(raw[name]["y"]) for name in OFFICE])
    return {
        name: (scaled[bounds[i] : bounds[i + 1]], raw[name]["y"]) for i, name in enumerate(OFFICE)
    }


def beijing_domains(max_rows, seed=0):
    """Beijing stations: {station: (X, y)}, encoded on all sampled rows together."""
    table = pd.read_csv(SHARED_DATA / "beijing_air_quality_4sites" / "prsa_4stations.csv.gz")
    table = table.dropna(subset=["PM2.5"])
    parts = []
    for station in STATIONS:
        rows = table[table["station"] == station]
        parts.append(rows.sample(min(max_rows, len(rows)), random_state=seed))
    table = pd.concat(parts, ignore_index=True)
    numeric = ["SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN", "WSPM", "hour", "month"]
    encoder = ColumnTransformer(
        [
            ("wind", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["wd"]),
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
        ]
    )
    X = encoder.fit_transform(table.assign(wd=table["wd"].fillna("missing")))
    y = table["PM2.5"].to_numpy(float)
    return {
        station: (
            X[(table["station"] == station).to_numpy()],
            y[(table["station"] == station).to_numpy()],
        )
        for station in STATIONS
    }


def leave_one_out(domains, target, regression):
    """Stacked (X, y, sample_domain) with ``target`` unlabeled, and its true labels."""
    X_parts, y_parts, ids = [], [], []
    for k, name in enumerate([d for d in domains if d != target], start=1):
        X, y = domains[name]
        X_parts.append(X)
        y_parts.append(y)
        ids.append(np.full(len(y), k))
    X_target, y_target = domains[target]
    marker = np.nan if regression else -1
    X = np.vstack([*X_parts, X_target])
    y = np.concatenate([*y_parts, np.full(len(y_target), marker)])
    sample_domain = np.concatenate([*ids, np.full(len(y_target), -1)])
    return X, y, sample_domain, X_target, y_target


def run_task(dataset, domains, target, method, seed, max_iter):
    regression = dataset == "beijing"
    X, y, sample_domain, X_target, y_target = leave_one_out(domains, target, regression)
    estimator = (DANNRegressor if regression else DANNClassifier)(
        adversarial_weight=0.0 if method == "source_only" else 1.0,
        multi_domain_head="per_source" if method == "per_source" else "softmax",
        max_iter=max_iter,
        random_state=seed,
    )
    start = time.perf_counter()
    if method in ("multi_domain", "per_source"):
        estimator.fit(X, y, sample_domain=sample_domain)
    else:
        estimator.fit(X, y)
    return {
        "dataset": dataset,
        "task": f"-> {target}",
        "method": method,
        "seed": seed,
        "score": float(estimator.score(X_target, y_target)),
        "metric": "r2" if regression else "accuracy",
        "n_domains": int(estimator.n_domains_),
        "seconds": time.perf_counter() - start,
    }


def summary_table(records):
    rows = []
    header = [
        "dataset", "task", "metric", *METHODS, "softmax - pooled (s.e.)",
        "per_source - pooled (s.e.)",
    ]  # fmt: skip
    frame = pd.DataFrame([r for r in records if r.get("record") != "machine"])
    for (dataset, task), group in frame.groupby(["dataset", "task"], sort=False):
        by_method = group.pivot(index="seed", columns="method", values="score")
        cells = [
            f"{by_method[m].mean():.3f} ± {by_method[m].std(ddof=1):.3f}"
            if m in by_method and len(by_method[m].dropna()) > 1
            else (f"{by_method[m].mean():.3f}" if m in by_method else "")
            for m in METHODS
        ]
        diffs = [_paired(by_method, method, "pooled") for method in ("multi_domain", "per_source")]
        rows.append([dataset, task, group["metric"].iloc[0], *cells, *diffs])
    return markdown_table(header, rows)


def _paired(by_method, method, baseline):
    if not {method, baseline} <= set(by_method):
        return ""
    paired = (by_method[method] - by_method[baseline]).dropna()
    se = paired.std(ddof=1) / np.sqrt(len(paired)) if len(paired) > 1 else np.nan
    return f"{paired.mean():+.3f} ({se:.3f})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", choices=("office", "beijing"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2000, help="rows per Beijing station")
    parser.add_argument("--quick", action="store_true", help="1 seed, 3 epochs, 300 rows")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    suffix = "_quick" if args.quick else ""
    seeds = range(1 if args.quick else args.seeds)
    max_iter = 3 if args.quick else 100
    path = RESULTS / f"multi_domain{suffix}.json"
    records = json.loads(path.read_text()) if args.resume and path.exists() else []
    done = {(r["dataset"], r["task"], r["method"], r["seed"]) for r in records if "task" in r}
    records = [r for r in records if r.get("record") != "machine"] + [machine_info()]
    for dataset in args.dataset or ("office", "beijing"):
        if dataset == "office":
            domains = office_domains()
        else:
            domains = beijing_domains(300 if args.quick else args.rows)
        for target in domains:
            for seed in seeds:
                for method in METHODS:
                    if (dataset, f"-> {target}", method, seed) in done:
                        continue
                    record = run_task(dataset, domains, target, method, seed, max_iter)
                    records.append(record)
                    print(json.dumps(record), flush=True)
                    write_results("multi_domain", records, summary_table(records), suffix)
    table = summary_table(records)
    write_results("multi_domain", records, table, suffix)
    print(table)


if __name__ == "__main__":
    main()
