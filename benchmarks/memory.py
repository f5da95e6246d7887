"""Memory of a large dense fit and of chunked prediction from a memory-mapped file.

Two measurements, each in a fresh process:

- ``fit``: ``DANNClassifier.fit`` on ``--fit-rows`` source and as many target
  rows of 256 float32 features (1M rows: 1 GiB per domain), one epoch at
  batch 1024. The process's peak resident set is reset just before ``fit``
  (``/proc/self/clear_refs``), so the peak is the data plus what ``fit`` adds;
  the goal is that it adds O(batch), not a copy of the data. It runs twice:
  as is, and with glibc's ``MALLOC_MMAP_THRESHOLD_`` fixed at 128 KiB, which
  shows how much of what ``fit`` adds is the C heap fragmenting (glibc
  raises its mmap threshold after the first large free, so later batch
  buffers come from a heap that small long-lived blocks keep from
  shrinking).
- ``predict``: ``predict`` on a float32 ``np.memmap`` of ``--predict-rows``
  rows (10M by default), read in chunks. Resident memory (RSS) counts the
  file's pages once read, which the kernel drops when it needs the room,
  and so does USS for a file only this process maps. What the process
  itself allocates is its anonymous memory (``RssAnon``): it is sampled
  every 20 ms during ``predict`` and must not grow with the rows read,
  beyond the returned labels (8 bytes a row) and the chunk's class
  probabilities. RSS and USS are reported too.

Run from the repository root::

    python -m benchmarks.memory                    # 1M-row fit, 10M-row predict
    python -m benchmarks.memory --quick            # smoke run

Writes ``benchmarks/results/memory[_quick].json`` and ``.md``.
"""

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import (
    machine_info,
    markdown_table,
    replace_section,
    run_worker,
    write_results,
)

HIDDEN = (256, 256)
FIT_FEATURES = 256
PREDICT_FEATURES = 64


def proc_status():
    """Fields of ``/proc/self/status`` in MiB (VmRSS, VmHWM, RssAnon, RssFile)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def uss_mib():
    """Unique set size: private clean + private dirty pages, in MiB."""
    total = 0
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


def reset_peak():
    """Reset the kernel's peak-RSS counter (VmHWM) of this process."""
    Path("/proc/self/clear_refs").write_text("5")


class Sampler(threading.Thread):
    """Sample anonymous memory and USS every ``interval`` seconds; keep the peaks."""

    def __init__(self, interval=0.02):
        super().__init__(daemon=True)
        self.interval = interval
        self.samples = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            status = proc_status()
            self.samples.append((time.perf_counter(), status["RssAnon"], status["VmRSS"]))
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()
        return self.samples


def fit_worker(n_rows, batch_size):
    from skdann import DANNClassifier

    rng = np.random.default_rng(0)
    X_source = rng.standard_normal((n_rows, FIT_FEATURES), dtype=np.float32)
    y_source = (X_source[:, 0] + X_source[:, 1] > 0).astype(np.int64)
    X_target = rng.standard_normal((n_rows, FIT_FEATURES), dtype=np.float32)
    X_target += 0.5  # in place: no second copy
    data_mib = (X_source.nbytes + X_target.nbytes + y_source.nbytes) / 2**20
    clf = DANNClassifier(hidden_layer_sizes=HIDDEN, batch_size=batch_size, max_iter=1)
    before = proc_status()["VmRSS"]
    reset_peak()
    start = time.perf_counter()
    clf.fit(X_source, y_source, X_target)
    seconds = time.perf_counter() - start
    peak = proc_status()["VmHWM"]
    return {
        "task": f"fit {n_rows:,} x {FIT_FEATURES} per domain",
        "n_rows": n_rows,
        "n_features": FIT_FEATURES,
        "batch_size": batch_size,
        "data_mib": data_mib,
        "rss_before_fit_mib": before,
        "peak_rss_during_fit_mib": peak,
        "fit_adds_mib": peak - before,
        "batch_mib": 2 * batch_size * FIT_FEATURES * 4 / 2**20,
        "fit_seconds": seconds,
        "samples_per_s": 2 * n_rows / seconds,
    }


def predict_worker(n_rows, path):
    from skdann import DANNClassifier

    rng = np.random.default_rng(0)
    X_fit = rng.standard_normal((4000, PREDICT_FEATURES), dtype=np.float32)
    y_fit = np.r_[(X_fit[:2000, 0] > 0).astype(np.int64), -np.ones(2000, dtype=np.int64)]
    clf = DANNClassifier(hidden_layer_sizes=HIDDEN, max_iter=2, random_state=0).fit(X_fit, y_fit)
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, PREDICT_FEATURES))
    clf.predict(X[:10])  # warm-up
    before = proc_status()
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    labels = clf.predict(X)
    seconds = time.perf_counter() - start
    samples = sampler.stop()
    after_uss = uss_mib()
    anon = np.array([s[1] for s in samples])
    rss = np.array([s[2] for s in samples])
    half = len(anon) // 2
    return {
        "task": f"predict {n_rows:,} x {PREDICT_FEATURES} memmap",
        "n_rows": n_rows,
        "n_features": PREDICT_FEATURES,
        "file_mib": n_rows * PREDICT_FEATURES * 4 / 2**20,
        "labels_mib": labels.nbytes / 2**20,
        "anon_before_mib": before["RssAnon"],
        "anon_peak_mib": float(anon.max()),
        "anon_growth_mib": float(anon.max() - before["RssAnon"]),
        # Growth between the first and the second half of the run: 0 when memory is flat.
        "anon_peak_first_half_mib": float(anon[: max(half, 1)].max()),
        "anon_peak_second_half_mib": float(anon[half:].max()),
        "rss_peak_mib": float(rss.max()),
        "uss_after_mib": after_uss,
        "predict_seconds": seconds,
        "rows_per_s": n_rows / seconds,
    }


def write_memmap(path, n_rows, chunk=1_000_000):
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_rows, PREDICT_FEATURES))
    rng = np.random.default_rng(1)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        X[start:stop] = rng.standard_normal((stop - start, PREDICT_FEATURES), dtype=np.float32)
    X.flush()
    del X


def measure(kind, env=None, **kwargs):
    """Run the ``kind`` worker in a fresh process and return its record."""
    return run_worker("benchmarks.memory", [kind, kwargs], env)


def format_tables(records):
    fits = [r for r in records if r["task"].startswith("fit")]
    predicts = [r for r in records if r["task"].startswith("predict")]
    fit_table = markdown_table(
        ["dense fit, 1 epoch", "data MiB", "RSS before fit", "peak RSS in fit", "fit adds",
         "one step's batch MiB", "samples/s"],
        [
            [r["task"], f"{r['data_mib']:.0f}", f"{r['rss_before_fit_mib']:.0f}",
             f"{r['peak_rss_during_fit_mib']:.0f}", f"{r['fit_adds_mib']:.0f}",
             f"{r['batch_mib']:.1f}", f"{r['samples_per_s']:,.0f}"]
            for r in fits
        ],
    )  # fmt: skip
    predict_table = markdown_table(
        ["chunked predict", "file MiB", "labels MiB", "anonymous before", "anonymous peak",
         "peak, 1st half", "peak, 2nd half", "RSS peak", "USS after", "rows/s"],
        [
            [r["task"], f"{r['file_mib']:.0f}", f"{r['labels_mib']:.0f}",
             f"{r['anon_before_mib']:.0f}", f"{r['anon_peak_mib']:.0f}",
             f"{r['anon_peak_first_half_mib']:.0f}", f"{r['anon_peak_second_half_mib']:.0f}",
             f"{r['rss_peak_mib']:.0f}", f"{r['uss_after_mib']:.0f}", f"{r['rows_per_s']:,.0f}"]
            for r in predicts
        ],
    )  # fmt: skip
    return fit_table + "\n\n" + predict_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fit-rows", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--predict-rows", type=int, default=None, help="default 10,000,000")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.worker:
        kind, kwargs = json.loads(args.worker)
        worker = fit_worker if kind == "fit" else predict_worker
        print(json.dumps(worker(**kwargs)))
        return 0
    records, table = run(args.quick, args.fit_rows, args.predict_rows)
    print(table)
    suffix = "_quick" if args.quick else ""
    info = {**machine_info("cpu"), "threads": args.threads}
    print("wrote", *write_results("memory", [info, *records], table, suffix))
    if not args.quick:  # also the section of the combined page
        print("updated", replace_section("throughput", "memory", table))
    return 0


def run(quick=False, fit_rows=None, predict_rows=None):
    """Run the fit and the memory-mapped prediction; return ``(records, markdown)``."""
    fit_rows = fit_rows or (20_000 if quick else 1_000_000)
    predict_rows = predict_rows or (200_000 if quick else 10_000_000)
    records = [measure("fit", n_rows=fit_rows, batch_size=1024)]
    print(records[-1], flush=True)
    # The same fit with glibc's mmap threshold fixed: every large buffer is then mapped and
    # unmapped on its own instead of coming from a heap that fragments.
    fixed = {"MALLOC_MMAP_THRESHOLD_": "131072"}
    records.append(measure("fit", env=fixed, n_rows=fit_rows, batch_size=1024))
    records[-1]["task"] += ", MALLOC_MMAP_THRESHOLD_=131072"
    print(records[-1], flush=True)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "rows.f32")
        write_memmap(path, predict_rows)
        records.append(measure("predict", n_rows=predict_rows, path=path))
    print(records[-1], flush=True)
    return records, format_tables(records)


if __name__ == "__main__":
    raise SystemExit(main())
