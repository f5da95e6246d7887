"""Proxy A-distance of inputs vs DANN features, by a fresh probe and by the model's own head.

For one task per dataset (Amazon books->kitchen, Office caltech->webcam,
MNIST->USPS), a ``DANNClassifier`` with the package defaults is trained with
lambda 0 (source-only) and lambda 1 on the whole source and target adaptation
rows. On up to 1,000 random source rows and 1,000 random target test rows it
reports:

- ``pad_inputs``: :func:`skdann.metrics.proxy_a_distance` on the preprocessed
  inputs;
- ``pad_features``: the same on ``transform`` features (a freshly trained,
  standardised logistic regression on half of the rows, scored on the other);
- ``pad_own_head``: ``2 |1 - 2 error|`` of the model's *own* domain head on
  the same rows: how well the discriminator that DANN trained against can
  still tell the domains apart;

errors are balanced (the mean of the two domains' error rates), so unequal
sample sizes do not inflate the distances;
- the target accuracy.

Run from the repository root::

    python -m benchmarks.domain_invariance
    python -m benchmarks.domain_invariance --quick

Writes ``benchmarks/results/domain_invariance.{json,md}`` (``_quick`` with
``--quick``).
"""

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline

from benchmarks._common import machine_info, markdown_table, write_results
from benchmarks.accuracy import amazon_tasks, mnist_usps_tasks, office_tasks
from skdann import DANNClassifier, stack_domains
from skdann.metrics import proxy_a_distance

TASKS = {
    "amazon": (amazon_tasks, "books->kitchen"),
    "office": (office_tasks, "caltech->webcam"),
    "mnist_usps": (mnist_usps_tasks, "mnist->usps"),
}


def own_head_pad(clf, Z_source, Z_target):
    """PAD measured by the fitted model's own domain head on features.

    ``2 |1 - 2 eps|`` with ``eps`` the head's balanced error: a fixed head that
    is systematically wrong separates the domains as well as one that is right.
    """
    head = clf.net_.module_.domain_head
    device = next(head.parameters()).device
    with torch.no_grad():
        Z = torch.as_tensor(np.vstack([Z_source, Z_target]), dtype=torch.float32, device=device)
        says_target = (head(Z).squeeze(1) > 0).cpu().numpy()
    is_target = np.r_[np.zeros(len(Z_source), bool), np.ones(len(Z_target), bool)]
    error = 1.0 - balanced_accuracy_score(is_target, says_target)
    return float(2.0 * abs(1.0 - 2.0 * error))


def random_rows(X, n_rows, seed):
    """Up to ``n_rows`` rows in random order (the data files are sorted by class)."""
    rows = np.random.RandomState(seed).permutation(X.shape[0])[:n_rows]
    return X[np.sort(rows)]


def run(task, seed, max_iter, n_rows):
    X, y = stack_domains(task.X_source, task.y_source, task.X_target)
    X_source = random_rows(task.X_source, n_rows, seed)
    X_target = random_rows(task.X_test, n_rows, seed + 1)
    for weight in (0.0, 1.0):
        start = time.perf_counter()
        model = make_pipeline(
            task.preprocessing(),
            DANNClassifier(adversarial_weight=weight, random_state=seed, max_iter=max_iter),
        ).fit(X, y)
        seconds = time.perf_counter() - start
        inputs_source, inputs_target = (
            model[:-1].transform(X_source),
            model[:-1].transform(X_target),
        )
        Z_source, Z_target = model.transform(X_source), model.transform(X_target)
        yield {
            "dataset": task.dataset,
            "task": task.name,
            "method": "source_only" if weight == 0.0 else "dann",
            "seed": seed,
            "adversarial_weight": weight,
            "target_accuracy": float(model.score(task.X_test, task.y_test)),
            "pad_inputs": proxy_a_distance(inputs_source, inputs_target),
            "pad_features": proxy_a_distance(Z_source, Z_target),
            "pad_own_head": own_head_pad(model[-1], Z_source, Z_target),
            "final_domain_accuracy": model[-1].history_[-1]["train_domain_accuracy"],
            "seconds": round(seconds, 3),
        }


def summarize(records):
    rows = [
        [
            r["dataset"],
            r["task"],
            r["adversarial_weight"],
            f"{r['target_accuracy']:.3f}",
            f"{r['pad_inputs']:.2f}",
            f"{r['pad_features']:.2f}",
            f"{r['pad_own_head']:.2f}",
            f"{r['final_domain_accuracy']:.2f}",
        ]
        for r in records
        if r.get("record") != "machine"
    ]
    text = (
        "Proxy A-distance (0: the domains cannot be told apart, 2: they separate) on source "
        "rows and target test rows. `features (fresh probe)`: a logistic regression trained "
        "on half of the features, scored on the other half. `features (own head)`: the "
        "domain head the model was trained against. `domain acc`: that head's training "
        "accuracy in the last epoch.\n\n"
    )
    return text + markdown_table(
        [
            "dataset",
            "task",
            "lambda",
            "target acc",
            "inputs",
            "features (fresh probe)",
            "features (own head)",
            "domain acc",
        ],
        rows,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny subsets, 2 epochs")
    args = parser.parse_args(argv)
    records = []
    for loader, name in TASKS.values():
        task = next(t for t in loader(quick=args.quick) if args.quick or t.name == name)
        for record in run(task, args.seed, 2 if args.quick else 100, 1000):
            records.append(record)
            print(record, flush=True)
    all_records = [machine_info(), *records]
    text = summarize(all_records)
    write_results("domain_invariance", all_records, text, "_quick" if args.quick else "")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
