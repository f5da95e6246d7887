"""Wall time of one ``GridSearchCV`` on joblib's backends and on Dask clusters.

The search: 12 candidates (4 values of λ x 3 architectures) of a
``StandardScaler -> DANNClassifier`` pipeline, 3 domain-stratified folds,
so 36 fits plus the refit, on synthetic shifted rows (``--rows`` per domain,
64 features), scored with the importance-weighted label-free scorer.
Every parallel fit runs PyTorch on one thread (what Dask's workers and
loky's workers start with), and so does the sequential baseline, so every
backend trains the same models and the best parameters must agree.

Backends:

- ``sequential``: ``n_jobs=None``, one process, one thread;
- ``loky``: joblib's default process pool, ``n_jobs`` = workers;
- ``dask``: ``joblib.parallel_config("dask")`` on a ``LocalCluster`` of
  1 or 2 single-threaded worker processes (cluster start-up timed
  separately: a long-lived cluster pays it once).

Run from the repository root (needs ``pip install "skdann[dask]"``)::

    python -m benchmarks.grid_search_scale
    python -m benchmarks.grid_search_scale --quick

Writes ``benchmarks/results/grid_search_scale[_quick].json`` and ``.md``.
"""

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks._common import machine_info, markdown_table, write_results
from skdann import DANNClassifier, stack_domains
from skdann.metrics import importance_weighted_scorer
from skdann.model_selection import DomainStratifiedKFold

GRID = {
    "dannclassifier__adversarial_weight": [0.0, 0.1, 0.3, 1.0],
    "dannclassifier__hidden_layer_sizes": [(64,), (128, 128), (256, 256)],
}


def make_data(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    X_source = rng.standard_normal((n_rows, 64)).astype(np.float32)
    y_source = (X_source[:, :4].sum(axis=1) > 0).astype(np.int64)
    X_target = rng.standard_normal((n_rows, 64)).astype(np.float32) * 1.3 + 0.4
    return stack_domains(X_source, y_source, X_target)


def make_search(n_jobs, max_iter):
    pipe = make_pipeline(
        StandardScaler(), DANNClassifier(max_iter=max_iter, batch_size=64, random_state=0)
    )
    return GridSearchCV(
        pipe,
        GRID,
        scoring=importance_weighted_scorer,
        cv=DomainStratifiedKFold(3, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )


def run(backend, workers, X, y, max_iter):
    started = time.perf_counter()
    setup = 0.0
    if backend == "dask":
        import distributed

        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = distributed.Client(cluster)
        setup = time.perf_counter() - started
        try:
            start = time.perf_counter()
            with joblib.parallel_config("dask"):
                search = make_search(-1, max_iter).fit(X, y)
            seconds = time.perf_counter() - start
        finally:
            client.close()
            cluster.close()
    else:
        start = time.perf_counter()
        n_jobs = None if backend == "sequential" else workers
        with joblib.parallel_config(backend="loky"):
            search = make_search(n_jobs, max_iter).fit(X, y)
        seconds = time.perf_counter() - start
    return {
        "task": "grid 12 x 3 folds",
        "method": backend if backend == "sequential" else f"{backend}, {workers} workers",
        "backend": backend,
        "workers": workers,
        "seconds": seconds,
        "cluster_start_seconds": setup,
        "best_params": {k: str(v) for k, v in search.best_params_.items()},
        "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None, help="rows per domain (default 3000)")
    parser.add_argument("--max-iter", type=int, default=None, help="epochs (default 10)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = args.rows or (300 if args.quick else 3000)
    max_iter = args.max_iter or (2 if args.quick else 10)
    X, y = make_data(rows)
    plan = [("sequential", 1), ("loky", 2), ("dask", 1), ("dask", 2)]
    records = []
    for backend, workers in plan:
        records.append(run(backend, workers, X, y, max_iter))
        r = records[-1]
        print(
            f"{r['method']:>18}: {r['seconds']:7.1f} s "
            f"(cluster start {r['cluster_start_seconds']:.1f} s), best {r['best_params']}",
            flush=True,
        )
    sequential = records[0]
    for r in records:
        r["rows_per_domain"], r["max_iter"] = rows, max_iter
        r["speedup_vs_sequential"] = sequential["seconds"] / r["seconds"]
        r["same_best_params"] = r["best_params"] == sequential["best_params"]
        r["max_score_difference"] = float(
            np.max(np.abs(np.subtract(r["mean_test_score"], sequential["mean_test_score"])))
        )
    table = markdown_table(
        ["backend", "search s", "cluster start s", "speed-up", "same best", "max score diff"],
        [
            [
                r["method"],
                f"{r['seconds']:.1f}",
                f"{r['cluster_start_seconds']:.1f}",
                f"{r['speedup_vs_sequential']:.2f}",
                "yes" if r["same_best_params"] else "no",
                f"{r['max_score_difference']:.1e}",
            ]
            for r in records
        ],
    )
    print(table)
    suffix = "_quick" if args.quick else ""
    info = {**machine_info("cpu"), "torch_threads_per_fit": 1}
    print("wrote", *write_results("grid_search_scale", [info, *records], table, suffix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
