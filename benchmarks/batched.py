"""Many candidates in one pass: ``BatchedGridSearchCV`` against ``GridSearchCV``.

Three searches, each timed as ``GridSearchCV(n_jobs=1)`` (one process, one
torch thread), ``GridSearchCV(n_jobs=2)`` (two loky workers of one thread:
both cores) and ``BatchedGridSearchCV`` with 1 and with 2 torch threads:

- ``adult`` (men -> women, 58 columns after preprocessing) and
  ``diabetes`` (ER -> other admissions, 171 columns), tables of
  ``../shared/data`` as ``benchmarks/tabular.py`` reads them: 2,000 source
  and 2,000 target rows, the tabular preprocessing (one-hot + scaled
  numerics) then a (100, 100) ``DANNClassifier``; 16 candidates (lambda in
  {0, 0.1, 0.3, 1} x alpha in {1e-4, 1e-2} x learning rate in {0.01,
  0.05}), 3 domain-stratified folds; ``adult_100_epochs`` is the adult
  search at the package's default ``max_iter=100`` (run separately: ``--tasks
  adult_100_epochs --parts search --methods grid_n_jobs_1 batched_2_threads
  --runs 3 --append``, about 12 minutes);
- ``amazon``: books -> kitchen reviews, tf-idf of the 5,000 word counts as
  CSR rows (2,000 a domain), 8 candidates (lambda x alpha), 3 folds;
- ``mnist_usps``: MNIST -> USPS raw 16x16 pixels (2,000 / 1,800 rows), a
  (100, 100) MLP, 8 candidates (lambda x alpha), 3 folds.

Every DANN estimator has ``objective="dann"``, ``alpha=1e-4`` and
``learning_rate_init=0.05`` unless the grid sets them (the package defaults
these timings were first taken at). Every search scores with the label-free
prediction-entropy scorer and
refits the best candidate; ``max_iter`` is 20 (10 on Amazon) to keep five
repetitions affordable (the ratio between the searches does not depend on
it: every candidate runs the same epochs). Each timing is the median of 5
runs, each in a fresh process, seeds 0-4 (``random_state`` of the DANN
estimator), so the best parameters of the two searches are compared over
five seeds.

Also measured, each in its own process: one fit's time per candidate for
K = 1 (plain fit), 4, 16 and 64 estimators fitted together on the adult
task (full data, 20 epochs), and K = 16 with one seed per copy (each copy
reads its own batch order, not a shared one); the peak resident memory a fit adds to its
process against a plain fit's plus K x (parameters + SGD momentum); and the
agreement of the models: the 16 adult candidates fitted one by one and
batched, target test accuracy for 5 seeds.

Run alone on the machine, from the repository root::

    python -m benchmarks.batched              # about 35 minutes on 2 cores
    python -m benchmarks.batched --quick      # tiny data, 1 run, seconds
    python -m benchmarks.batched --device cuda --parts curve   # on a GPU

Writes ``benchmarks/results/batched[_quick|_cuda].json`` and ``.md``.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from benchmarks._common import (
    RESULTS,
    machine_info,
    markdown_table,
    run_worker,
    split_curve,
    write_results,
)

TABLE_GRID = {
    "adversarial_weight": [0.0, 0.1, 0.3, 1.0],
    "alpha": [1e-4, 1e-2],
    "learning_rate_init": [0.01, 0.05],
}
TABLES = {
    "adult": "adult_men_women",
    "adult_100_epochs": "adult_men_women",
    "diabetes": "diabetes_er_other",
}
GRIDS = {
    "adult": TABLE_GRID,
    "adult_100_epochs": TABLE_GRID,
    "diabetes": TABLE_GRID,
    "amazon": {"adversarial_weight": [0.0, 0.1, 0.3, 1.0], "alpha": [1e-4, 1e-2]},
    "mnist_usps": {"adversarial_weight": [0.0, 0.1, 0.3, 1.0], "alpha": [1e-4, 1e-2]},
}
EPOCHS = {"adult": 20, "adult_100_epochs": 100, "diabetes": 20, "amazon": 10, "mnist_usps": 20}
METHODS = ("grid_n_jobs_1", "grid_n_jobs_2", "batched_1_thread", "batched_2_threads")
CURVE = (1, 4, 16, 64)
FOLDS = 3  # the searches' DomainStratifiedKFold
# glibc raises its mmap threshold as large blocks are freed, then serves them from a
# heap it keeps: the resident peak then includes freed blocks. Fixed, every large
# block is returned when freed, so the peak is what the tensors themselves held.
FIXED_MMAP = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def load_task(name, quick):
    """``(preprocessing, X, y, X_test, y_test)`` of a task, stacked form."""
    from sklearn.preprocessing import FunctionTransformer

    from benchmarks.accuracy import _tfidf, load_amazon
    from benchmarks.tabular import load_tables, preprocessing, split_task
    from skdann import stack_domains

    n = 200 if quick else 2000
    if name in TABLES:
        (table,) = load_tables([TABLES[name]])
        parts = split_task(table, n)
        X_source = _concat(parts["s_fit"][0], parts["s_val"][0])
        y_source = np.r_[parts["s_fit"][1], parts["s_val"][1]]
        X_target = _concat(parts["t_fit"][0], parts["t_val"][0])
        X, y = stack_domains(X_source, y_source, X_target)
        return preprocessing(table), X, y, *parts["t_test"]
    if name == "amazon":
        X_source, y_source = load_amazon("books", "train")
        X_target, _ = load_amazon("kitchen", "train")
        X_test, y_test = load_amazon("kitchen", "test")
        X, y = stack_domains(X_source[:n], y_source[:n], X_target[:n])
        return _tfidf(), X, y, X_test[:n], y_test[:n]
    from benchmarks._common import SHARED_DATA

    data = {d: np.load(SHARED_DATA / "mnist_usps" / f"{d}.npz") for d in ("mnist", "usps")}
    X, y = stack_domains(data["mnist"]["X"][:n], data["mnist"]["y"][:n], data["usps"]["X"][:n])
    return FunctionTransformer(), X, y, data["usps"]["X"][:n], data["usps"]["y"][:n]


def _concat(a, b):
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def _estimator(name, seed, device, quick):
    from skdann import DANNClassifier

    # The settings these timings were first taken at (the package defaults before
    # issue 19 changed them), so runs before and after compare.
    return DANNClassifier(
        max_iter=2 if quick else EPOCHS[name],
        random_state=seed,
        device=device,
        label_shift_warning=None,
        objective="dann",
        alpha=1e-4,
        learning_rate_init=0.05,
    )


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak():
    """Reset this process's peak resident memory (Linux); return the resident MiB now."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _status_mib("VmRSS")


def _status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def search_worker(payload):
    """Time one search in this process; return its record."""
    import torch
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skdann.metrics import prediction_entropy_scorer
    from skdann.model_selection import BatchedGridSearchCV, DomainStratifiedKFold

    name, method, seed = payload["task"], payload["method"], payload["seed"]
    torch.set_num_threads(2 if method == "batched_2_threads" else 1)
    preprocess, X, y, X_test, y_test = load_task(name, payload["quick"])
    model = make_pipeline(preprocess, _estimator(name, seed, payload["device"], payload["quick"]))
    grid = {f"dannclassifier__{k}": v for k, v in GRIDS[name].items()}
    cls = GridSearchCV if method.startswith("grid") else BatchedGridSearchCV
    n_jobs = 2 if method == "grid_n_jobs_2" else None
    search = cls(
        model,
        grid,
        scoring=prediction_entropy_scorer,
        cv=DomainStratifiedKFold(FOLDS),
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    best = {k.split("__", 1)[1]: v for k, v in search.best_params_.items()}
    return {
        "record": "search",
        "task": name,
        "method": method,
        "seed": seed,
        "seconds": seconds,
        "best_params": best,
        "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
        "target_accuracy": float((search.predict(X_test) == y_test).mean()),
        "peak_mib": _peak_mib(),
    }


def curve_worker(payload):
    """One fit's time per candidate with K estimators fitted together (K = 0: plain fit)."""
    import torch
    from sklearn.base import clone

    from skdann.batched import fit_batched

    torch.set_num_threads(1)
    preprocess, X, y, _, _ = load_task("adult", payload["quick"])
    Xt = preprocess.fit_transform(X, y)
    K = payload["K"]
    rates = TABLE_GRID["adversarial_weight"]
    base = _estimator("adult", 0, payload["device"], payload["quick"])
    estimators = [
        clone(base).set_params(adversarial_weight=rates[k % 4], alpha=1e-4 * (1 + k // 4))
        for k in range(max(K, 1))
    ]
    if payload.get("seeds"):  # one seed per copy: each reads its own batch order
        estimators = [e.set_params(random_state=k) for k, e in enumerate(estimators)]
    # Warm up both paths on a few rows (the first fit of a process pays one-time costs).
    warm = [clone(base).set_params(max_iter=1) for _ in range(2)]
    warm[0].fit(Xt[:256], y[:256])
    fit_batched(warm, Xt[:256], y[:256])
    before = _reset_peak()
    start = time.perf_counter()
    if K == 0:
        estimators[0].fit(Xt, y)
    else:
        fit_batched(estimators, Xt, y)
    if payload["device"].startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    module = estimators[0].net_.module_
    n_values = sum(p.numel() for p in module.parameters())
    return {
        "record": "curve",
        "K": K,
        "fixed_mmap_threshold": "MALLOC_MMAP_THRESHOLD_" in os.environ,
        "own_seeds": bool(payload.get("seeds")),
        "seconds": seconds,
        "seconds_per_candidate": seconds / max(K, 1),
        "train_steps": sum(
            "train_loss" in batch for epoch in estimators[0].history_ for batch in epoch["batches"]
        ),
        "parameter_mib": n_values * 4 / 2**20,
        "peak_mib": _peak_mib(),
        "fit_peak_increase_mib": None if before is None else _status_mib("VmHWM") - before,
        "peak_cuda_mib": torch.cuda.max_memory_allocated() / 2**20
        if payload["device"].startswith("cuda")
        else None,
    }


def agreement_worker(payload):
    """Target accuracy of the 16 table candidates, fitted one by one and batched."""
    import torch
    from sklearn.base import clone
    from sklearn.model_selection import ParameterGrid

    from skdann.batched import fit_batched

    torch.set_num_threads(1)
    preprocess, X, y, X_test, y_test = load_task("adult", payload["quick"])
    Xt = preprocess.fit_transform(X, y)
    X_test = preprocess.transform(X_test)
    base = _estimator("adult", payload["seed"], "cpu", payload["quick"])
    candidates = list(ParameterGrid(TABLE_GRID))
    plain = [clone(base).set_params(**c).fit(Xt, y) for c in candidates]
    batched = fit_batched([clone(base).set_params(**c) for c in candidates], Xt, y)
    return {
        "record": "agreement",
        "seed": payload["seed"],
        "candidates": candidates,
        "sequential": [float((m.predict(X_test) == y_test).mean()) for m in plain],
        "batched": [float((m.predict(X_test) == y_test).mean()) for m in batched],
    }


def implementation_worker(payload):
    """Milliseconds of one training step of K (100, 100) copies, three ways (adult shapes).

    ``stacked``: skdann's ``StackedNetwork`` (batched products over ``(K, out,
    in)`` weights); ``vmap``: PyTorch's model-ensembling recipe
    (``torch.func.stack_module_state`` + ``vmap`` over ``functional_call``);
    ``loop``: the K plain modules one after the other. Each step: features,
    label head on the source rows, domain head on all rows, cross-entropy plus
    binary cross-entropy, backward (the gradient reversal, one multiplication,
    is left out of all three: ``vmap`` needs a custom function rule for it).
    ``products``: the stacked step's matrix products alone (``_products_step``),
    the floor under any implementation of it on this core; also on 2 threads.
    """
    import copy

    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, stack_module_state, vmap

    from skdann._stacked import StackedNetwork

    torch.set_num_threads(1)
    preprocess, X, y, _, _ = load_task("adult", payload["quick"])
    Z = preprocess.fit_transform(X, y)
    Xt = torch.as_tensor(Z[:128], dtype=torch.float32)
    labels = torch.as_tensor(np.r_[np.zeros(64, int), np.ones(64, int)])
    domain = labels.float()
    K = payload["K"]
    estimator = _estimator("adult", 0, "cpu", payload["quick"])
    estimator.set_params(max_iter=1).fit(Z, y)  # the fitted attributes _init_module reads
    modules = []
    for k in range(K):
        modules.append(estimator._init_module(Xt.shape[1], k))

    def one(module, x):
        features = module.feature_extractor(x)
        label = module.label_head(features[:64])
        domain_logit = module.domain_head(features).squeeze(-1)
        return F.cross_entropy(label, labels[:64]) + F.binary_cross_entropy_with_logits(
            domain_logit, domain
        )

    stacked = StackedNetwork(modules)

    def stacked_step():
        features = stacked.feature_extractor(Xt)
        label = stacked.label_head(features[:, :64])
        logits = stacked.domain_head(features).squeeze(-1)
        loss = F.cross_entropy(label.flatten(0, 1), labels[:64].repeat(K)) * K
        loss = loss + F.binary_cross_entropy_with_logits(logits, domain.expand_as(logits)) * K
        loss.backward()

    params, buffers = stack_module_state(modules)
    base = copy.deepcopy(modules[0]).to("meta")  # the architecture, without weights

    def per_copy(p, b):
        features = functional_call(base.feature_extractor, _sub(p, "feature_extractor."), (Xt,))
        label = functional_call(base.label_head, _sub(p, "label_head."), (features[:64],))
        logits = functional_call(base.domain_head, _sub(p, "domain_head."), (features,))
        return F.cross_entropy(label, labels[:64]) + F.binary_cross_entropy_with_logits(
            logits.squeeze(-1), domain
        )

    def vmap_step():
        vmap(per_copy)(params, buffers).sum().backward()

    def loop_step():
        for module in modules:
            one(module, Xt).backward()

    products = _products_step(stacked, Xt)
    times = {}
    steps = (("stacked", stacked_step), ("vmap", vmap_step), ("loop", loop_step),
             ("products", products))  # fmt: skip
    for name, step in steps:
        times[name] = _ms_per_call(step)
    torch.set_num_threads(2)
    times["products_2_threads"] = _ms_per_call(products)
    return {"record": "impl", "K": K, "ms_per_step": times}


def _ms_per_call(step, warmup=5, calls=50):
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls * 1000


def _products_step(stacked, X):
    """The matrix products alone of one stacked step, at its shapes, without autograd.

    Per layer: the forward product, the weight's gradient and (past the first
    layer) the input's gradient; the label head on the 64 source rows. What
    any implementation of the step must compute: its time bounds the step's.
    """
    import torch

    from skdann._stacked import StackedLinear

    shapes = []
    for part, rows in (("feature_extractor", 128), ("label_head", 64), ("domain_head", 128)):
        for layer in getattr(stacked, part).modules():
            if isinstance(layer, StackedLinear):
                shapes.append((layer.weight.detach(), layer.bias.detach(), rows))
    operands = []
    for index, (weight, bias, rows) in enumerate(shapes):
        n_copies, n_out, n_in = weight.shape
        inputs = X.expand(n_copies, *X.shape) if index == 0 else torch.randn(n_copies, rows, n_in)
        operands.append((weight, bias.unsqueeze(1), inputs, torch.randn(n_copies, rows, n_out)))

    def step():
        for index, (weight, bias, inputs, grad) in enumerate(operands):
            torch.baddbmm(bias, inputs, weight.transpose(1, 2))
            torch.bmm(grad.transpose(1, 2), inputs)
            if index > 0:
                torch.bmm(grad, weight)

    return step


def device_curve(device, quick=False, epochs=10):
    """Seconds per candidate of K = 1, 4, 16, 64 copies fitted together on ``device``.

    Synthetic rows (2,000 a domain, 64 features; 200 with ``quick``), the
    (100, 100) network, in this process: what ``benchmarks/gpu_suite.py`` runs
    on a lent GPU. Returns one record per K with the peak GPU memory.
    """
    import torch
    from sklearn.base import clone

    from skdann import DANNClassifier, stack_domains
    from skdann.batched import fit_batched

    rng = np.random.default_rng(0)
    n = 200 if quick else 2000
    X_source = rng.standard_normal((n, 64)).astype(np.float32)
    y_source = (X_source[:, :4].sum(axis=1) > 0).astype(np.int64)
    X_target = rng.standard_normal((n, 64)).astype(np.float32) * 1.3 + 0.4
    X, y = stack_domains(X_source, y_source, X_target)
    base = DANNClassifier(
        max_iter=1 if quick else epochs, device=device, random_state=0, label_shift_warning=None
    )
    fit_batched([clone(base).set_params(max_iter=1) for _ in range(2)], X[:256], y[:256])
    records = []
    for K in (1, 4, 16) if quick else (1, 4, 16, 64):
        estimators = [clone(base).set_params(adversarial_weight=0.1 * (k % 8)) for k in range(K)]
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        fit_batched(estimators, X, y)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        records.append(
            {
                "K": K,
                "seconds": seconds,
                "seconds_per_candidate": seconds / K,
                "peak_cuda_mib": torch.cuda.max_memory_allocated() / 2**20
                if device.startswith("cuda")
                else None,
            }
        )
    for record in records:
        record["per_candidate_vs_k1"] = record["seconds_per_candidate"] / records[0]["seconds"]
    return records


def _sub(params, prefix):
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


WORKERS = {
    "search": search_worker,
    "curve": curve_worker,
    "agreement": agreement_worker,
    "impl": implementation_worker,
}


def run_all(args):
    runs = 1 if args.quick else args.runs
    records = [machine_info(args.device)]
    if "search" in args.parts:
        methods = [m for m in args.methods if args.device == "cpu" or m.startswith("batched")]
        for name in args.tasks:
            for seed in range(runs):
                for method in methods:
                    payload = {"kind": "search", "task": name, "method": method, "seed": seed,
                               "quick": args.quick, "device": args.device}  # fmt: skip
                    records.append(run_worker("benchmarks.batched", payload))
                    _progress(records[-1])
    if "curve" in args.parts:
        for K, seeds in [(0, False), *((k, False) for k in CURVE), (16, True)]:
            payload = {"kind": "curve", "K": K, "seeds": seeds, "quick": args.quick,
                       "device": args.device}  # fmt: skip
            records.append(run_worker("benchmarks.batched", payload))
            _progress(records[-1])
            if args.device == "cpu":  # the tensors' own peak: glibc keeps no freed blocks
                records.append(run_worker("benchmarks.batched", payload, env=FIXED_MMAP))
                _progress(records[-1])
    if "impl" in args.parts:
        for K in (4, 16, 64):
            payload = {"kind": "impl", "K": K, "quick": args.quick}
            records.append(run_worker("benchmarks.batched", payload))
            _progress(records[-1])
    if "agreement" in args.parts and args.device == "cpu":
        for seed in range(runs):
            payload = {"kind": "agreement", "seed": seed, "quick": args.quick}
            records.append(run_worker("benchmarks.batched", payload))
            _progress(records[-1])
    return records


def _progress(record):
    shown = {k: v for k, v in record.items() if k in ("task", "method", "seed", "K", "seconds")}
    print(json.dumps(shown), flush=True)


def tables(records):
    """The Markdown tables of a run's records."""
    sections = []
    searches = [r for r in records if r.get("record") == "search"]
    if searches:
        rows = []
        for name in dict.fromkeys(r["task"] for r in searches):
            mine = [r for r in searches if r["task"] == name]
            median = {
                m: statistics.median(r["seconds"] for r in mine if r["method"] == m)
                for m in dict.fromkeys(r["method"] for r in mine)
            }
            reference = median.get("grid_n_jobs_1")
            same = _same_best(mine)
            for method, seconds in median.items():
                speedup = f"{reference / seconds:.1f}x" if reference else "n/a"
                over_two = (
                    f"{median['grid_n_jobs_2'] / seconds:.1f}x"
                    if "grid_n_jobs_2" in median
                    else "n/a"
                )
                accuracy = np.mean([r["target_accuracy"] for r in mine if r["method"] == method])
                rows.append([name, method, f"{seconds:.1f}", speedup, over_two,
                             f"{accuracy:.3f}", same.get(method, "")])  # fmt: skip
        header = ["task", "search", "median s (5 runs)", "vs n_jobs=1", "vs n_jobs=2",
                  "target acc. of refit", "best params = n_jobs=1's"]  # fmt: skip
        sections.append("### Search wall time\n\n" + markdown_table(header, rows))
    curve = [r for r in records if r.get("record") == "curve"]
    if curve:
        sections.append(
            "### One fit of K candidates (adult task, 1 thread)\n\n" + _curve_table(curve)
        )
    impl = [r for r in records if r.get("record") == "impl"]
    if impl:
        sections.append(
            "### One training step of K copies, three implementations (1 thread)\n\n"
            + _implementation_table(impl)
        )
    agreement = [r for r in records if r.get("record") == "agreement"]
    if agreement:
        sections.append("### Agreement (adult task, target accuracy)\n\n" + _agreement(agreement))
    return "\n\n".join(sections)


def _implementation_table(impl):
    """Step times per implementation, and the floor the step's matrix products set."""
    rows = []
    for r in impl:
        times = r["ms_per_step"]
        row = [r["K"], *(f"{times[m]:.2f}" for m in ("stacked", "vmap", "loop"))]
        if "products" in times:
            row += [f"{times['products']:.2f}", f"{times['products_2_threads']:.2f}",
                    f"{times['loop'] / times['products']:.1f}x"]  # fmt: skip
        rows.append(row)
    header = ["K", "stacked (skdann) ms", "torch.func vmap ms", "loop of K modules ms"]
    if any("products" in r["ms_per_step"] for r in impl):
        header += ["its matrix products alone ms", "the products on 2 threads ms",
                   "loop / products (1 thread)"]  # fmt: skip
    return markdown_table(header, rows)


def _curve_table(curve):
    """Time and peak memory per K; the memory with glibc's default and a fixed mmap threshold."""
    curve, fixed = split_curve(curve)
    plain = curve[0]
    plain_fixed = fixed.get((0, False))
    rows = []
    for r in curve:
        own = r.get("own_seeds", False)
        name = "plain fit" if r["K"] == 0 else f"K = {r['K']}" + (", one seed each" if own else "")
        copies = max(r["K"], 1) * 2 * r["parameter_mib"]
        bound = plain["fit_peak_increase_mib"] + copies
        row = [name, f"{r['seconds']:.2f}", f"{r['seconds_per_candidate']:.3f}",
               f"{plain['seconds'] / r['seconds_per_candidate']:.1f}x",
               f"{r['fit_peak_increase_mib']:.1f}", f"{bound:.1f}",
               "yes" if r["fit_peak_increase_mib"] <= bound else "no"]  # fmt: skip
        other = fixed.get((r["K"], own))
        if other is not None and plain_fixed is not None:
            bound = plain_fixed["fit_peak_increase_mib"] + copies
            row += [f"{other['fit_peak_increase_mib']:.1f}", f"{bound:.1f}",
                    "yes" if other["fit_peak_increase_mib"] <= bound else "no"]  # fmt: skip
        rows.append(row)
    header = ["fit", "seconds", "s per candidate", "per-candidate speed-up",
              "peak MiB above the pre-fit resident set",
              "plain fit's + K x (params + momentum) MiB", "within"]  # fmt: skip
    if plain_fixed is not None:
        header += ["peak MiB, mmap threshold fixed at 64 KiB", "its bound MiB", "within"]
    return markdown_table(header, rows)


def _same_best(records):
    """Per method: on how many seeds its best parameters equal ``GridSearchCV(n_jobs=1)``'s."""
    by_seed = {r["seed"]: r["best_params"] for r in records if r["method"] == "grid_n_jobs_1"}
    result = {}
    for method in dict.fromkeys(r["method"] for r in records):
        mine = [r for r in records if r["method"] == method and r["seed"] in by_seed]
        equal = sum(r["best_params"] == by_seed[r["seed"]] for r in mine)
        result[method] = f"{equal} of {len(mine)} seeds"
    return result


def _agreement(records):
    candidates = records[0]["candidates"]
    sequential = np.array([r["sequential"] for r in records])
    batched = np.array([r["batched"] for r in records])
    rows = []
    for i, candidate in enumerate(candidates):
        spread = sequential[:, i].std()
        difference = batched[:, i].mean() - sequential[:, i].mean()
        rows.append(
            [
                ", ".join(f"{k}={v}" for k, v in candidate.items()),
                f"{sequential[:, i].mean():.3f} ± {spread:.3f}",
                f"{batched[:, i].mean():.3f} ± {batched[:, i].std():.3f}",
                f"{difference:+.4f}",
                "yes" if abs(difference) <= max(spread, 1e-9) else "no",
            ]
        )
    header = ["candidate", f"one by one (mean ± sd, {len(records)} seeds)", "batched",
              "difference", "within the seeds' sd"]  # fmt: skip
    return markdown_table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 run")
    parser.add_argument("--runs", type=int, default=5, help="runs (seeds) per timing")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--tasks", nargs="+", choices=list(GRIDS),
        default=[t for t in GRIDS if t != "adult_100_epochs"],
    )  # fmt: skip
    parser.add_argument(
        "--parts", nargs="+", default=["search", "curve", "impl", "agreement"],
        choices=["search", "curve", "impl", "agreement"],
    )  # fmt: skip
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--append", action="store_true",
        help="replace only these parts' records (searches: of these tasks and methods) "
        "in the existing results file",
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        payload = json.loads(args.worker)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = WORKERS[payload["kind"]](payload)
        print(json.dumps(record))
        return
    records = run_all(args)
    suffix = "_quick" if args.quick else ("" if args.device == "cpu" else "_cuda")
    path = RESULTS / f"batched{suffix}.json"
    if args.append and path.exists():
        kept = [
            r
            for r in json.loads(path.read_text())
            if r.get("record") not in args.parts
            or (
                r["record"] == "search"
                and (r["task"] not in args.tasks or r["method"] not in args.methods)
            )
        ]
        records = kept + [r for r in records if r.get("record") != "machine"]
    table = tables(records)
    write_results("batched", records, table, suffix)
    print(table)


if __name__ == "__main__":
    sys.exit(main())
