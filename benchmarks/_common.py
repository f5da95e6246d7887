"""Helpers shared by the benchmark scripts: machine info and result files."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# The label-free scorer the docs recommend, chosen from benchmarks/model_selection.py results;
# its picks are the dann_selected column of the accuracy table.
RECOMMENDED_SELECTOR = "prediction_entropy"


def machine_info(device="cpu"):
    """One record describing the machine, for the results file."""
    info = {
        "record": "machine",
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "device": device,
    }
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            info["cpu"] = names[0]
    except OSError:
        pass
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def write_results(name, records, table, suffix=""):
    """Write ``results/<name><suffix>.json`` and ``.md``; return their paths."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / f"{name}{suffix}.json"
    md_path = RESULTS / f"{name}{suffix}.md"
    json_path.write_text(json.dumps(records, indent=2) + "\n")
    md_path.write_text(table + "\n")
    return json_path, md_path


def markdown_table(header, rows):
    """Format rows (lists of cells) as a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_section(name, section, table, suffix=""):
    """Put ``table`` between ``<!-- section -->`` markers in ``results/<name><suffix>.md``.

    A benchmark that runs inside another's normal run (sparse and memory inside
    throughput) can be re-run on its own and still update the combined page.
    """
    path = RESULTS / f"{name}{suffix}.md"
    begin, end = f"<!-- {section} -->", f"<!-- /{section} -->"
    block = f"{begin}\n{table}\n{end}"
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
    return path


def run_worker(module, payload, env=None):
    """Run ``python -m <module> --worker <payload as JSON>`` in a fresh process.

    The worker prints its record as JSON on its last line; a fresh process
    keeps peak memory and one-time start-up costs its own. ``env`` adds
    environment variables.
    """
    done = subprocess.run(
        [sys.executable, "-m", module, "--worker", json.dumps(payload)],
        capture_output=True,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} worker {payload} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def split_curve(records):
    """The K curve's records (``benchmarks/batched.py``), split by how memory was measured.

    Returns ``(curve, fixed)``: the runs with glibc's default allocator
    settings, sorted by (K, own seeds), the plain fit (K = 0) first; and the
    runs with the mmap threshold fixed, keyed by (K, own seeds).
    """
    fixed = {
        (r["K"], r.get("own_seeds", False)): r for r in records if r.get("fixed_mmap_threshold")
    }
    curve = sorted(
        (r for r in records if not r.get("fixed_mmap_threshold")),
        key=lambda r: (r["K"], r.get("own_seeds", False)),
    )
    return curve, fixed
