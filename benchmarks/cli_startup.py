"""How long the ``skdann`` command takes to answer: ``--help``, ``info`` and ``predict``.

Each command runs as a fresh process (the console script found beside the
running Python), ``--runs`` times; the table gives the median, minimum and
maximum wall time. ``info`` and ``predict`` read a small model that
``skdann fit`` writes first (3 numeric columns, 3 epochs). ``--help`` and
``info`` import neither torch nor scikit-learn; ``predict`` loads them, pandas
and skops. Run alone on the machine: ``python -m benchmarks.cli_startup``.
Results: ``results/cli_startup.json`` and ``results/cli_startup.md``.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import machine_info, markdown_table, write_results


def _command():
    script = Path(sys.executable).with_name("skdann")
    return [str(script)] if script.exists() else [sys.executable, "-m", "skdann"]


def _seconds(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr}")
    return times


def main(argv=None):
    """Time the commands and write the results; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs each")
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs
    skdann = _command()
    folder = Path(tempfile.mkdtemp())
    try:
        rng = np.random.RandomState(0)
        for name, n in (("source", 200), ("target", 150)):
            frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
            frame["y"] = (frame["a"] > 0).astype(int)
            frame.to_csv(folder / f"{name}.csv", index=False)
        model, target = folder / "model.skdann", folder / "target.csv"
        fit = [*skdann, "fit", "--source", str(folder / "source.csv"), "--target", str(target)]
        _seconds(
            [*fit, "--label", "y", "-o", str(model), "--estimator", "dann", "--set", "max_iter=3"],
            1,
        )
        commands = {
            "skdann --help": [*skdann, "--help"],
            "skdann info": [*skdann, "info", str(model)],
            "skdann predict": [*skdann, "predict", "--model", str(model), "--input", str(target)],
        }
        records = []
        for name, command in commands.items():
            times = _seconds(command, runs)
            records.append(
                {
                    "command": name,
                    "runs": runs,
                    "median_seconds": statistics.median(times),
                    "min_seconds": min(times),
                    "max_seconds": max(times),
                }
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        [
            r["command"],
            f"{r['median_seconds']:.2f}",
            f"{r['min_seconds']:.2f}",
            f"{r['max_seconds']:.2f}",
        ]
        for r in records
    ]
    table = markdown_table(["command", "median s", "min s", "max s"], rows)
    write_results("cli_startup", [machine_info(), *records], table, "_quick" if args.quick else "")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
