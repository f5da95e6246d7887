"""Training and prediction speed: skdann vs a hand-written PyTorch DANN vs skada.

Synthetic feature vectors (source and target Gaussian, the target shifted),
feature extractor 256-256, domain head 100, ``batch_size`` rows per domain.
Every method runs the same architecture for the same number of steps, each
in its own process (so peak RSS is its own), with a small warm-up fit first
so one-time imports and kernel selection are not timed.

Methods: ``skdann`` (``DANNClassifier.fit``), ``reference`` (a DANN written
directly in PyTorch, ``benchmarks/reference_dann.py``), ``skada`` (skada's
``skada.deep.DANN`` as shipped: its domain classifier ends in a softmax over
one output, constant 1, so it never adapts) and ``skada_sigmoid`` (that
softmax replaced by a sigmoid). skada is only needed here:
``pip install skada``; without it its rows are skipped.

The normal run also runs ``benchmarks/sparse.py`` (Zipf bag-of-words up to
200k x 50k, Amazon CSR vs dense) and, on the CPU, ``benchmarks/memory.py``
(1M x 256 dense fit, 10M-row memory-mapped prediction), and puts their
tables under the speed tables.

Run from the repository root::

    python -m benchmarks.throughput            # full run (about 30 minutes)
    python -m benchmarks.throughput --quick    # seconds-long smoke run
    python -m benchmarks.throughput --device cuda

Writes ``benchmarks/results/throughput[_cuda].json`` and ``.md``.
"""

import argparse
import importlib.util
import json
import resource
import time

import numpy as np
import torch

from benchmarks._common import machine_info, markdown_table, run_worker, write_results

HIDDEN = (256, 256)
DOMAIN_HIDDEN = (100,)


def make_data(n_rows, n_features, seed=0):
    """Source and target rows: two Gaussian classes, the target shifted."""
    rng = np.random.default_rng(seed)
    X_source = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    y_source = (X_source[:, 0] + X_source[:, 1] > 0).astype(np.int64)
    X_target = rng.standard_normal((n_rows, n_features), dtype=np.float32) + 0.5
    return X_source, y_source, X_target


def _run_skdann(X_source, y_source, X_target, batch_size, epochs, device):
    from skdann import DANNClassifier

    clf = DANNClassifier(
        hidden_layer_sizes=HIDDEN,
        domain_hidden_layer_sizes=DOMAIN_HIDDEN,
        batch_size=batch_size,
        max_iter=epochs,
        random_state=0,
        device=device,
    )
    start = time.perf_counter()
    clf.fit(X_source, y_source, X_target)
    fit_seconds = time.perf_counter() - start
    return clf, fit_seconds, list(clf.history_[:, "dur"]), clf.predict_proba


def _run_reference(X_source, y_source, X_target, batch_size, epochs, device):
    from benchmarks.reference_dann import fit_reference, predict_reference

    start = time.perf_counter()
    tensors = [torch.as_tensor(a).to(device) for a in (X_source, y_source, X_target)]
    networks, epoch_seconds = fit_reference(
        *tensors, HIDDEN, DOMAIN_HIDDEN, batch_size, epochs, device=device
    )
    fit_seconds = time.perf_counter() - start

    def predict(X):
        return predict_reference(networks, torch.as_tensor(X).to(device))

    return networks, fit_seconds, epoch_seconds, predict


def _run_skada(X_source, y_source, X_target, batch_size, epochs, device, sigmoid=False):
    from skada.deep import DANN
    from skada.deep.modules import DomainClassifier
    from torch import nn

    class Net(nn.Module):
        # skada passes ``sample_weight`` to the module and hooks ``features``.
        def __init__(self, n_features):
            super().__init__()
            self.features = nn.Sequential(
                nn.Linear(n_features, HIDDEN[0]),
                nn.ReLU(),
                nn.Linear(HIDDEN[0], HIDDEN[1]),
                nn.ReLU(),
            )
            self.head = nn.Linear(HIDDEN[1], 2)

        def forward(self, X, sample_weight=None):
            return self.head(self.features(X))

    module = Net(X_source.shape[1])
    domain_classifier = DomainClassifier(num_features=HIDDEN[1])
    if sigmoid:
        domain_classifier.classifier[-1] = nn.Sigmoid()
    clf = DANN(
        module,
        layer_name="features",
        reg=1.0,
        domain_classifier=domain_classifier,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        lr=0.05,
        device=device,
        verbose=0,
    )
    X = np.concatenate([X_source, X_target])
    y = np.concatenate([y_source, np.full(len(X_target), -1)])
    sample_domain = np.concatenate([np.ones(len(X_source)), -np.ones(len(X_target))])
    start = time.perf_counter()
    clf.fit(X, y, sample_domain=sample_domain.astype(np.int64))
    fit_seconds = time.perf_counter() - start

    def predict(X_new):
        return clf.predict_proba(X_new, sample_domain=-np.ones(len(X_new), dtype=np.int64))

    return clf, fit_seconds, list(clf.history[:, "dur"]), predict


RUNNERS = {
    "skdann": _run_skdann,
    "reference": _run_reference,
    "skada": _run_skada,
    "skada_sigmoid": lambda *a: _run_skada(*a, sigmoid=True),
}


def worker(spec):
    """Run one measurement in this process and return its record."""
    torch.set_num_threads(spec["threads"])
    import warnings

    warnings.filterwarnings("ignore")
    runner = RUNNERS[spec["method"]]
    # Warm-up: imports, allocator and kernel selection are not what we measure.
    runner(*make_data(512, spec["n_features"], seed=1), spec["batch_size"], 1, spec["device"])
    X_source, y_source, X_target = make_data(spec["n_rows"], spec["n_features"])
    _, fit_seconds, epoch_seconds, predict = runner(
        X_source, y_source, X_target, spec["batch_size"], spec["epochs"], spec["device"]
    )
    train_seconds = float(np.sum(epoch_seconds))
    rows_seen = 2 * spec["n_rows"] * spec["epochs"]
    start = time.perf_counter()
    predict(X_target)
    predict_seconds = time.perf_counter() - start
    return {
        **spec,
        "dataset": "synthetic",
        "seed": 0,
        "samples_per_s": rows_seen / train_seconds,
        "seconds": fit_seconds,
        "train_seconds": train_seconds,
        "setup_fraction": max(fit_seconds - train_seconds, 0.0) / fit_seconds,
        "predict_rows_per_s": spec["n_rows"] / predict_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(**spec):
    """Run :func:`worker` in a fresh process and return its record."""
    return run_worker("benchmarks.throughput", spec)


def median_record(runs):
    """Merge repeated runs: median speed and time, largest peak RSS, all runs kept."""
    record = dict(runs[0])
    for key in (
        "samples_per_s",
        "seconds",
        "train_seconds",
        "setup_fraction",
        "predict_rows_per_s",
    ):
        record[key] = float(np.median([r[key] for r in runs]))
    record["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    record["samples_per_s_runs"] = [r["samples_per_s"] for r in runs]
    record["repeats"] = len(runs)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per measurement, median reported (default 5; 1 with --quick)",
    )
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[64, 128, 1024], help="fit comparisons"
    )
    parser.add_argument("--skip-scaling", action="store_true", help="no scaling table")
    parser.add_argument("--skip-sparse", action="store_true", help="no sparse tables")
    parser.add_argument("--skip-memory", action="store_true", help="no memory tables")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("No CUDA device.")
        return 1
    torch.set_num_threads(args.threads)
    quick = args.quick
    args.repeats = args.repeats or (1 if quick else 5)
    n_rows = 2_000 if quick else 100_000
    epochs = 1 if quick else 2
    methods = ["skdann", "reference"]
    if importlib.util.find_spec("skada") is not None:
        methods += ["skada", "skada_sigmoid"]
    else:
        print("skada not installed: pip install skada to compare with it")
    base = {"n_features": 256, "device": args.device, "threads": args.threads}

    records = []
    for batch_size in args.batch_sizes:
        # skada is slow at small batches; it is compared at 128 and 1024 only.
        batch_methods = [m for m in methods if batch_size > 64 or not m.startswith("skada")]
        runs = {method: [] for method in batch_methods}
        # Interleave the methods so that drifts of the machine hit them alike.
        for _ in range(args.repeats):
            for method in batch_methods:
                runs[method].append(
                    measure(
                        method=method,
                        task=f"fit b{batch_size}",
                        n_rows=n_rows,
                        epochs=epochs,
                        batch_size=batch_size,
                        **base,
                    )
                )
        for method in batch_methods:
            record = median_record(runs[method])
            records.append(record)
            print(
                f"{record['task']:>12} {method:>14}: {record['samples_per_s']:9.0f} samples/s "
                f"(median of {args.repeats}), fit {record['seconds']:6.2f} s, "
                f"RSS {record['peak_rss_mb']:6.0f} MB",
                flush=True,
            )
    scaling = []
    rows_grid = () if args.skip_scaling else (4_000,) if quick else (10_000, 100_000, 1_000_000)
    for rows in rows_grid:
        scaling.append(
            measure(
                method="skdann",
                task=f"rows {rows}",
                n_rows=rows,
                epochs=1,
                batch_size=1024,
                **base,
            )
        )
    features_grid = () if args.skip_scaling else (64,) if quick else (64, 256, 1024, 4096)
    for n_features in features_grid:
        scaling.append(
            measure(
                method="skdann",
                task=f"features {n_features}",
                n_rows=n_rows // 2,
                epochs=1,
                batch_size=1024,
                **{**base, "n_features": n_features},
            )
        )
    for record in scaling:
        print(
            f"{record['task']:>16}: fit {record['seconds']:6.2f} s, "
            f"{record['samples_per_s']:9.0f} samples/s",
            flush=True,
        )

    table = format_tables(records, scaling, methods)
    extra = []
    if not args.skip_sparse:
        from benchmarks import sparse

        sparse_records, sparse_table = sparse.run(quick=quick, threads=args.threads)
        extra += sparse_records
        table += f"\n\n<!-- sparse -->\n{sparse_table}\n<!-- /sparse -->"
    if not args.skip_memory and args.device == "cpu":
        from benchmarks import memory

        memory_records, memory_table = memory.run(quick=quick)
        extra += memory_records
        table += f"\n\n<!-- memory -->\n{memory_table}\n<!-- /memory -->"
    print(table)
    suffix = "" if args.device == "cpu" else f"_{args.device.split(':')[0]}"
    if args.batch_sizes != [64, 128, 1024] or args.skip_scaling:
        suffix += "_" + "_".join(f"b{b}" for b in args.batch_sizes)  # a partial run
    if quick:
        suffix += "_quick"
    paths = write_results(
        "throughput", [machine_info(args.device), *records, *scaling, *extra], table, suffix
    )
    print("wrote", *paths)
    return 0


def format_tables(records, scaling, methods):
    by = {(r["task"], r["method"]): r for r in records}
    rows = []
    for task in dict.fromkeys(r["task"] for r in records):
        skdann, reference = by[(task, "skdann")], by[(task, "reference")]
        for method in [m for m in methods if (task, m) in by]:
            r = by[(task, method)]
            rows.append(
                [
                    task,
                    method,
                    f"{r['samples_per_s']:,.0f}",
                    f"{r['samples_per_s'] / reference['samples_per_s']:.2f}",
                    f"{skdann['samples_per_s'] / r['samples_per_s']:.2f}",
                    f"{r['seconds']:.2f}",
                    f"{100 * r['setup_fraction']:.1f}%",
                    f"{r['peak_rss_mb']:.0f}",
                    f"{r['predict_rows_per_s']:,.0f}",
                ]
            )
    fit_table = markdown_table(
        [
            "task",
            "method",
            "samples/s",
            "vs reference",
            "skdann / method",
            "fit s",
            "setup share",
            "peak RSS MB",
            "predict rows/s",
        ],
        rows,
    )
    scale_table = markdown_table(
        [
            "skdann, batch 1024, 1 epoch",
            "rows per domain",
            "features",
            "fit s",
            "samples/s",
            "peak RSS MB",
        ],
        [
            [
                r["task"],
                r["n_rows"],
                r["n_features"],
                f"{r['seconds']:.2f}",
                f"{r['samples_per_s']:,.0f}",
                f"{r['peak_rss_mb']:.0f}",
            ]
            for r in scaling
        ],
    )
    return fit_table + ("\n\n" + scale_table if scaling else "")


if __name__ == "__main__":
    raise SystemExit(main())
