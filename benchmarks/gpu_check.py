"""Check that DANNClassifier trains and predicts on a CUDA GPU.

Fits the same model on CUDA and on the CPU on MNIST -> USPS
(``../shared/data/mnist_usps``, or the demo's MNIST -> optdigits task when
that folder is absent), checks where the module, the training batches and
the outputs live, compares target accuracy, and checks that a model fitted
on the GPU pickles and loads in a process that sees no GPU.

Run from the repository root::

    python -m benchmarks.gpu_check [--quick]

Writes ``benchmarks/results/gpu_check.json``. Exits with status 1 when a
check fails and 0 with a message when there is no CUDA device.
"""

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from skdann import DANNClassifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mnist_usps"
RESULTS = ROOT / "benchmarks" / "results"

_LOAD_ON_CPU = """
import pickle, sys, numpy as np, torch
assert not torch.cuda.is_available()
clf = pickle.load(open(sys.argv[1], "rb"))
X = np.load(sys.argv[2])
np.save(sys.argv[3], clf.predict_proba(X))
print(next(clf.net_.module_.parameters()).device)
"""


class BatchDevices(Callback):
    """Remember the devices of the tensors in each training batch."""

    def initialize(self):
        self.devices_ = set()
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        X, y = batch
        tensors = [*X, y] if isinstance(X, tuple) else [X, y]
        self.devices_.update(str(t.device.type) for t in tensors)


def load_task():
    if DATA.exists():
        src, tgt = np.load(DATA / "mnist.npz"), np.load(DATA / "usps.npz")
        return "mnist->usps", src["X"], src["y"], tgt["X"], tgt["y"]
    from skdann.datasets import load_mnist_optdigits

    d = load_mnist_optdigits()
    return "mnist->optdigits", d.X_source, d.y_source, d.X_test, d.y_test


def fit(device, X_source, y_source, X_target, max_iter):
    clf = DANNClassifier(
        max_iter=max_iter, random_state=0, device=device, callbacks=[BatchDevices()]
    )
    start = time.perf_counter()
    clf.fit(X_source, y_source, X_target)
    if device == "cuda":
        torch.cuda.synchronize()
    return clf, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs instead of 20")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("No CUDA device: nothing to check.")
        return 0
    max_iter = 2 if args.quick else 20
    task, X_source, y_source, X_target, y_target = load_task()
    checks, record = {}, {"task": task, "max_iter": max_iter}

    gpu, gpu_seconds = fit("cuda", X_source, y_source, X_target, max_iter)
    cpu, cpu_seconds = fit("cpu", X_source, y_source, X_target, max_iter)
    batch_devices = next(cb for _, cb in gpu.net_.callbacks_ if isinstance(cb, BatchDevices))
    checks["module on cuda"] = all(p.is_cuda for p in gpu.net_.module_.parameters())
    checks["training batches on cuda"] = batch_devices.devices_ == {"cuda"}
    checks["auto picks cuda"] = str(
        DANNClassifier(max_iter=1).fit(X_source[:64], y_source[:64]).net_.device
    ).startswith("cuda")
    proba = gpu.predict_proba(X_target)
    checks["predict_proba returns numpy"] = isinstance(proba, np.ndarray)
    record.update(
        gpu_target_accuracy=gpu.score(X_target, y_target),
        cpu_target_accuracy=cpu.score(X_target, y_target),
        gpu_fit_seconds=gpu_seconds,
        cpu_fit_seconds=cpu_seconds,
    )
    checks["gpu accuracy within 0.05 of cpu"] = (
        abs(record["gpu_target_accuracy"] - record["cpu_target_accuracy"]) <= 0.05
    )

    with tempfile.TemporaryDirectory() as tmp:
        model, X_path, out = Path(tmp, "m.pkl"), Path(tmp, "X.npy"), Path(tmp, "p.npy")
        model.write_bytes(pickle.dumps(gpu))
        np.save(X_path, X_target)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        done = subprocess.run(
            [sys.executable, "-c", _LOAD_ON_CPU, model, X_path, out],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        loaded_ok = done.returncode == 0 and done.stdout.strip().endswith("cpu")
        checks["gpu model loads on a cpu-only process"] = loaded_ok
        if loaded_ok:
            checks["same predictions after loading on cpu"] = bool(
                np.allclose(np.load(out), proba, atol=1e-4)
            )
        else:
            record["load_error"] = done.stderr[-2000:]

    record.update(
        checks=checks,
        gpu=torch.cuda.get_device_name(0),
        torch=torch.__version__,
        python=platform.python_version(),
    )
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    print(json.dumps({k: v for k, v in record.items() if k != "checks"}, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gpu_check.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
