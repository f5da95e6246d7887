"""Sparse bag-of-words input: speed and memory, and the same accuracy as dense input.

A CSR matrix stays sparse on the training device (``skdann/_sparse.py``).
Each training step hands its rows to the built-in MLP as a torch CSR tensor,
which the first layer multiplies without densifying (chosen by the
first-layer timing below: 6-8x faster than densifying); a user's
``feature_extractor`` gets densified rows. Four parts:

- **Zipf bag-of-words** (synthetic reviews: word ids drawn from a Zipf law,
  about 60 words a review, tf-idf-like log counts; the target domain
  reshuffles which words are frequent). Each size runs in a fresh process,
  one epoch at batch 1024 rows per domain, network 256-256; reported:
  training rows/s, prediction rows/s and peak RSS. Dense input runs only
  where it fits (the dense copy of 200k x 50k would be 37 GiB a domain).
- **1M x 100k**, once, with ``--huge-only`` (not in the normal run; its
  figures are in ``benchmarks/results/sparse_huge.md``).
- **Amazon reviews** (real, ``../shared/data/amazon_reviews``): the same
  fits on the CSR matrix and on its dense copy. The sparse product sums in
  another order than the dense one, so the two models may differ by float
  rounding; their target accuracies must agree within the seeds' noise.
- **One first layer**, forward and backward, densified batch against the
  CSR product, at 5k and 50k words.

Run from the repository root::

    python -m benchmarks.sparse            # Zipf 20k x 5k (dense and sparse), 200k x 50k, Amazon
    python -m benchmarks.sparse --huge-only  # only 1M x 100k (minutes, a few GiB)
    python -m benchmarks.sparse --quick

Writes ``benchmarks/results/sparse[_quick].json`` and ``.md``.
"""

import argparse
import json
import resource
import time

import numpy as np
import scipy.sparse as sp
import torch

from benchmarks._common import (
    machine_info,
    markdown_table,
    replace_section,
    run_worker,
    write_results,
)
from benchmarks.accuracy import AMAZON_FOLDER, load_amazon

HIDDEN = (256, 256)
WORDS_PER_ROW = 60


def zipf_bag_of_words(n_rows, n_words, seed=0, shuffle_words=False):
    """CSR rows of log word counts; the label is the sign of a sparse sentiment score."""
    rng = np.random.default_rng(seed)
    lengths = rng.poisson(WORDS_PER_ROW, size=n_rows).clip(1)
    ids = rng.zipf(1.3, size=int(lengths.sum())) - 1
    ids = ids % n_words  # fold the long tail back into the vocabulary
    if shuffle_words:  # the target domain: other words are frequent
        permutation = np.arange(n_words)
        head = permutation[: n_words // 10]
        permutation[: n_words // 10] = rng.permutation(head)
        ids = permutation[ids]
    rows = np.repeat(np.arange(n_rows), lengths)
    X = sp.csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, ids)), shape=(n_rows, n_words))
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    sentiment = np.random.default_rng(12345).standard_normal(n_words).astype(np.float32)
    y = (X @ sentiment > 0).astype(np.int64)
    return X, y


def worker(spec):
    from skdann import DANNClassifier

    torch.set_num_threads(spec["threads"])
    n_rows, n_words = spec["n_rows"], spec["n_words"]
    X_source, y_source = zipf_bag_of_words(n_rows, n_words, seed=0)
    X_target, _ = zipf_bag_of_words(n_rows, n_words, seed=1, shuffle_words=True)
    if spec["format"] == "dense":
        X_source, X_target = X_source.toarray(), X_target.toarray()
    warm = DANNClassifier(hidden_layer_sizes=HIDDEN, batch_size=64, max_iter=1)
    warm.fit(X_source[:256], y_source[:256], X_target[:256])
    clf = DANNClassifier(hidden_layer_sizes=HIDDEN, batch_size=spec["batch_size"], max_iter=1)
    start = time.perf_counter()
    clf.fit(X_source, y_source, X_target)
    fit_seconds = time.perf_counter() - start
    train_seconds = float(np.sum(clf.history_[:, "dur"]))
    start = time.perf_counter()
    clf.predict(X_target)
    predict_seconds = time.perf_counter() - start
    nnz = X_source.nnz + X_target.nnz if spec["format"] == "sparse" else None
    return {
        **spec,
        "task": f"zipf {n_rows:,} x {n_words:,}",
        "method": spec["format"],
        "nnz": nnz,
        "input_mib": (
            (nnz * 8 + 2 * (n_rows + 1) * 4) / 2**20  # scipy: float32 + int32 indices
            if nnz
            else 2 * n_rows * n_words * 4 / 2**20
        ),
        "fit_seconds": fit_seconds,
        "train_rows_per_s": 2 * n_rows / train_seconds,
        "predict_rows_per_s": n_rows / predict_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def first_layer_seconds(n_words, rows=2048, width=256, repeats=5):
    """Forward + backward of one first layer on a Zipf batch: densified rows vs a CSR product.

    skdann densifies each batch (``skdann/_sparse.py``); the alternative is
    ``torch.sparse.mm`` on the batch's CSR rows. Median seconds of each.
    """
    import warnings

    X, _ = zipf_bag_of_words(rows, n_words, seed=2)
    crow = torch.as_tensor(X.indptr, dtype=torch.int64)
    col = torch.as_tensor(X.indices, dtype=torch.int64)
    values = torch.as_tensor(X.data)
    row_of = torch.repeat_interleave(torch.arange(rows), crow[1:] - crow[:-1])
    weight = torch.randn(width, n_words, requires_grad=True)

    def densified():
        batch = torch.zeros(rows, n_words)
        batch[row_of, col] = values
        (batch @ weight.t()).sum().backward()

    def csr_product():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
            batch = torch.sparse_csr_tensor(crow, col, values, size=(rows, n_words))
        torch.sparse.mm(batch, weight.t()).sum().backward()

    seconds = {}
    for name, step in (("densified", densified), ("csr_product", csr_product)):
        step()  # warm-up
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            runs.append(time.perf_counter() - start)
        seconds[name] = float(np.median(runs))
    return {"task": f"first layer {rows} x {n_words:,} -> {width}", "n_words": n_words, **seconds}


def measure(**spec):
    """Run :func:`worker` in a fresh process and return its record."""
    return run_worker("benchmarks.sparse", spec)


def amazon_agreement(seeds, quick):
    """Target accuracy of the same fits on CSR and dense Amazon input."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from skdann import DANNClassifier

    if not AMAZON_FOLDER.exists():
        print(f"no Amazon data at {AMAZON_FOLDER}: skipped")
        return []

    def load(domain, split):
        X, y = load_amazon(domain, split)
        return X.astype(np.float32), y

    records = []
    for source, target in [("books", "kitchen"), ("dvd", "electronics")]:
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
        tfidf = TfidfTransformer(sublinear_tf=True).fit(sp.vstack([X_s, X_t]))
        X_s, X_t, X_test = (tfidf.transform(X).astype(np.float32) for X in (X_s, X_t, X_test))
        for seed in seeds:
            scores = {}
            for kind in ("sparse", "dense"):
                data = (
                    (X_s, X_t, X_test)
                    if kind == "sparse"
                    else (X_s.toarray(), X_t.toarray(), X_test.toarray())
                )
                clf = DANNClassifier(max_iter=3 if quick else 20, random_state=seed)
                start = time.perf_counter()
                clf.fit(data[0], y_s, data[1])
                seconds = time.perf_counter() - start
                scores[kind] = (clf.score(data[2], y_test), clf.predict_proba(data[2]), seconds)
            records.append(
                {
                    "dataset": "amazon",
                    "task": f"{source}->{target}",
                    "seed": seed,
                    "accuracy_sparse": scores["sparse"][0],
                    "accuracy_dense": scores["dense"][0],
                    "max_abs_proba_difference": float(
                        np.abs(scores["sparse"][1] - scores["dense"][1]).max()
                    ),
                    "fit_seconds_sparse": scores["sparse"][2],
                    "fit_seconds_dense": scores["dense"][2],
                    "n_features": X_s.shape[1],
                }
            )
            r = records[-1]
            print(
                f"amazon {r['task']} seed {seed}: sparse {r['accuracy_sparse']:.4f}, "
                f"dense {r['accuracy_dense']:.4f}, max |dp| {r['max_abs_proba_difference']:.1e}",
                flush=True,
            )
    return records


def format_tables(zipf, amazon):
    zipf_table = markdown_table(
        ["Zipf bag-of-words, 1 epoch, batch 1024", "input", "input MiB", "train rows/s",
         "predict rows/s", "peak RSS MB"],
        [
            [r["task"], r["method"], f"{r['input_mib']:,.0f}", f"{r['train_rows_per_s']:,.0f}",
             f"{r['predict_rows_per_s']:,.0f}", f"{r['peak_rss_mb']:,.0f}"]
            for r in zipf
        ],
    )  # fmt: skip
    if not amazon:
        return zipf_table
    amazon_table = markdown_table(
        ["Amazon task", "seed", "accuracy, CSR input", "accuracy, dense input",
         "max abs. probability difference", "fit s CSR", "fit s dense"],
        [
            [r["task"], r["seed"], f"{r['accuracy_sparse']:.4f}", f"{r['accuracy_dense']:.4f}",
             f"{r['max_abs_proba_difference']:.1e}", f"{r['fit_seconds_sparse']:.1f}",
             f"{r['fit_seconds_dense']:.1f}"]
            for r in amazon
        ],
    )  # fmt: skip
    return zipf_table + "\n\n" + amazon_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--huge", action="store_true", help="also 1M rows x 100k words")
    parser.add_argument(
        "--huge-only", action="store_true", help="only 1M rows x 100k words (sparse_huge.*)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.huge_only:
        base = {"batch_size": 1024, "threads": args.threads}
        records = [measure(n_rows=1_000_000, n_words=100_000, format="sparse", **base)]
        table = format_tables(records, [])
        print(table)
        info = {**machine_info("cpu"), "threads": args.threads, "command": "--huge-only"}
        print("wrote", *write_results("sparse", [info, *records], table, "_huge"))
        return 0
    records, table = run(args.quick, args.huge, args.threads)
    print(table)
    suffix = "_quick" if args.quick else ("_huge" if args.huge else "")
    info = {**machine_info("cpu"), "threads": args.threads}
    print("wrote", *write_results("sparse", [info, *records], table, suffix))
    if not args.quick:  # also the section of the combined page
        print("updated", replace_section("throughput", "sparse", table))
    return 0


def run(quick=False, huge=False, threads=2):
    """Run the Zipf sizes and the Amazon check; return ``(records, markdown)``."""
    torch.set_num_threads(threads)
    base = {"batch_size": 1024, "threads": threads}
    if quick:
        plan = [(2_000, 1_000, "dense"), (2_000, 1_000, "sparse")]
    else:
        plan = [(20_000, 5_000, "dense"), (20_000, 5_000, "sparse"), (200_000, 50_000, "sparse")]
    if huge:
        plan.append((1_000_000, 100_000, "sparse"))
    zipf = []
    for n_rows, n_words, kind in plan:
        zipf.append(measure(n_rows=n_rows, n_words=n_words, format=kind, **base))
        r = zipf[-1]
        print(
            f"{r['task']:>22} {kind:>6}: {r['train_rows_per_s']:9,.0f} rows/s, "
            f"peak RSS {r['peak_rss_mb']:7,.0f} MB",
            flush=True,
        )
    layers = [first_layer_seconds(n) for n in ((1_000,) if quick else (5_000, 50_000))]
    for r in layers:
        print(
            f"{r['task']}: densified {r['densified']:.3f} s, CSR product {r['csr_product']:.3f} s"
        )
    amazon = amazon_agreement([0] if quick else [0, 1, 2], quick)
    table = format_tables(zipf, amazon)
    table += "\n\n" + markdown_table(
        ["one first layer, forward + backward (median of 5)", "densified batch s",
         "CSR product s", "CSR speed-up"],
        [[r["task"], f"{r['densified']:.3f}", f"{r['csr_product']:.3f}",
          f"{r['densified'] / r['csr_product']:.1f}x"] for r in layers],
    )  # fmt: skip
    return zipf + amazon + layers, table


if __name__ == "__main__":
    raise SystemExit(main())
