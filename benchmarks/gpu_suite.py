"""Everything to measure on a CUDA machine, in one call of at most 5 minutes.

1. Speed: skdann against the hand-written loop (``benchmarks/reference_dann.py``)
   at batch 128, 1024 and 8192 rows per domain (256 features, network 256-256),
   interleaved, median of ``--repeats`` runs, with the peak GPU memory of each
   fit (``torch.cuda.max_memory_allocated``).
2. The step options of ``benchmarks/step_options.py`` (skorch's loop,
   ``foreach`` updates, compiled submodules) at batch 1024, paired with the
   reference loop, as on the CPU.
3. ``benchmarks/gpu_check.py``: CPU-vs-GPU accuracy agreement over seeds on
   MNIST -> USPS, and the CPU load of a GPU-fitted model.
4. Batched training (``benchmarks/batched.py``, ``device_curve``): seconds per
   candidate of K = 1, 4, 16, 64 copies fitted together, and peak GPU memory
   (the target: K = 64 at most 1/10 of K = 1's time per candidate).

Every part writes into ``benchmarks/results/gpu.json`` as soon as it ends,
so a run stopped by a time limit keeps what it measured. ``--device cpu``
runs the same code with the CPU as the device under test (the test suite
does, on tiny sizes), so the script cannot rot between GPU runs.

Run from the repository root on the GPU machine::

    python -m benchmarks.gpu_suite                 # about 4 minutes on an H200
    python -m benchmarks.gpu_suite --device cpu --quick --output /tmp/gpu.json
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks import batched, gpu_check, step_options
from benchmarks._common import RESULTS, machine_info
from benchmarks.reference_dann import fit_reference
from benchmarks.throughput import DOMAIN_HIDDEN, HIDDEN, make_data


def _synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _reset_peak(device):
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def _peak_mib(device):
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return None


def time_skdann(data, batch_size, epochs, device):
    from skdann import DANNClassifier

    clf = DANNClassifier(
        hidden_layer_sizes=HIDDEN,
        domain_hidden_layer_sizes=DOMAIN_HIDDEN,
        batch_size=batch_size,
        max_iter=epochs,
        random_state=0,
        device=device,
    )
    _reset_peak(device)
    clf.fit(*data)
    _synchronize(device)
    return float(np.sum(clf.history_[:, "dur"])), _peak_mib(device)


def time_reference(data, batch_size, epochs, device):
    _reset_peak(device)
    tensors = [torch.as_tensor(a).to(device) for a in data]
    _, epoch_seconds = fit_reference(
        *tensors, HIDDEN, DOMAIN_HIDDEN, batch_size, epochs, device=device
    )
    return float(np.sum(epoch_seconds)), _peak_mib(device)


def speed(device, batch_sizes, n_rows, epochs, repeats):
    """Rows/s of skdann and the reference loop, interleaved; median of ``repeats``."""
    warm = make_data(2048, 256, seed=1)
    time_skdann(warm, 256, 1, device)
    time_reference(warm, 256, 1, device)
    data = make_data(n_rows, 256)
    records = []
    for batch_size in batch_sizes:
        runs = {"skdann": [], "reference": []}
        for _ in range(repeats):
            runs["reference"].append(time_reference(data, batch_size, epochs, device))
            runs["skdann"].append(time_skdann(data, batch_size, epochs, device))
        reference_seconds = np.array([s for s, _ in runs["reference"]])
        for method, measured in runs.items():
            seconds = np.array([s for s, _ in measured])
            peaks = [p for _, p in measured if p is not None]
            records.append(
                {
                    "part": "speed",
                    "task": f"fit b{batch_size}",
                    "method": method,
                    "batch_size": batch_size,
                    "n_rows": n_rows,
                    "epochs": epochs,
                    "samples_per_s": float(2 * n_rows * epochs / np.median(seconds)),
                    "speed_vs_reference": float(np.median(reference_seconds / seconds)),
                    "seconds_runs": seconds.tolist(),
                    "peak_gpu_memory_mib": max(peaks) if peaks else None,
                }
            )
            r = records[-1]
            print(
                f"b{batch_size:<5} {method:>9}: {r['samples_per_s']:12,.0f} rows/s, "
                f"{r['speed_vs_reference']:.3f}x the reference, peak {r['peak_gpu_memory_mib']}",
                flush=True,
            )
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="default 5 (1 with --quick)")
    parser.add_argument("--output", type=Path, default=None, help="default results/gpu.json")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["speed", "options", "check", "batched"]
    )
    args = parser.parse_args(argv)
    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        print("No CUDA device: nothing to measure.")
        return 0
    output = args.output or RESULTS / "gpu.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    result = {"machine": machine_info(device), "started": time.strftime("%Y-%m-%d %H:%M:%S")}

    def save():
        output.write_text(json.dumps(result, indent=2) + "\n")

    save()
    quick = args.quick
    repeats = args.repeats or (1 if quick else 5)
    if "speed" not in args.skip:
        started = time.perf_counter()
        result["speed"] = speed(
            device,
            batch_sizes=(128, 1024) if quick else (128, 1024, 8192),
            n_rows=4096 if quick else 200_000,
            epochs=1 if quick else 2,
            repeats=repeats,
        )
        result["speed_seconds"] = time.perf_counter() - started
        save()
    if "options" not in args.skip:
        started = time.perf_counter()
        variants = ["skdann", "skorch_loop", "foreach"] + ([] if quick else ["compile"])
        result["step_options"] = step_options.measure(
            1024, 4096 if quick else 100_000, 2 if quick else 3, 1 if quick else 3, variants,
            device=device,
        )  # fmt: skip
        result["step_options_seconds"] = time.perf_counter() - started
        save()
    if "check" not in args.skip:
        started = time.perf_counter()
        check_file = output.with_name(output.stem + "_check.json")
        check_argv = ["--device", device, "--output", str(check_file)]
        check_argv += ["--quick", "--max-rows", "300"] if quick else ["--seeds", "3"]
        status = gpu_check.main(check_argv)
        result["check"] = json.loads(check_file.read_text())
        result["check"]["exit_status"] = status
        result["check_seconds"] = time.perf_counter() - started
        save()
    if "batched" not in args.skip:
        started = time.perf_counter()
        result["batched"] = batched.device_curve(device, quick=quick)
        result["batched_seconds"] = time.perf_counter() - started
        save()
    print("wrote", output)
    return 0 if result.get("check", {}).get("exit_status", 0) == 0 else 1


if __name__ == "__main__":
    from benchmarks.gpu_suite import main as _main  # pickled callbacks resolve by module name

    raise SystemExit(_main())
