"""Per-step cost of the training loop's options, measured in one process, paired.

Each round fits every variant once, in turn, on the same data (batch
``--batch-size`` rows per domain, networks as in ``benchmarks/throughput.py``),
and the reported figure is the median over rounds of each variant's training
time divided by the reference loop's time *in the same round*, so slow drifts
of the machine cancel. Variants:

- ``reference``: the hand-written PyTorch loop (``benchmarks/reference_dann.py``);
- ``skdann``: ``DANNClassifier`` as shipped (skdann's own epoch loop);
- ``skorch_loop``: the same with skorch's generic epoch loop, forced by a
  callback that listens to every step (what any per-step callback costs);
- ``foreach``: the optimizer's ``foreach`` (multi-tensor) update;
- ``compile``: the submodules on the training path compiled in place with
  ``nn.Module.compile`` (so state-dict keys keep their names), compile
  time excluded: the first epoch is a warm-up and only later epochs count.

Run from the repository root::

    python -m benchmarks.step_options                  # batch 64, 128, 1024
    python -m benchmarks.step_options --quick          # smoke run

Writes ``benchmarks/results/step_options[_quick].json`` and ``.md``.
"""

import argparse
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from benchmarks._common import machine_info, markdown_table, write_results
from benchmarks.reference_dann import fit_reference
from benchmarks.throughput import DOMAIN_HIDDEN, HIDDEN, make_data


class EveryStepListener(Callback):
    """A callback that listens to every step: skdann falls back to skorch's loop."""

    def on_batch_end(self, net, **kwargs):
        pass


class ForeachUpdates(Callback):
    """Switch the optimizer to its multi-tensor (``foreach``) update."""

    def on_train_begin(self, net, **kwargs):
        for group in net.optimizer_.param_groups:
            group["foreach"] = True


class CompileSubmodules(Callback):
    """Compile the feature extractor and both heads in place (keys keep their names)."""

    def on_train_begin(self, net, **kwargs):
        for name in ("feature_extractor", "label_head", "domain_head"):
            getattr(net.module_, name).compile()


VARIANT_CALLBACKS = {
    "skdann": [],
    "skorch_loop": [EveryStepListener()],
    "foreach": [ForeachUpdates()],
    "compile": [CompileSubmodules()],
}


def time_skdann(data, batch_size, epochs, callbacks, device="cpu"):
    """Seconds of training after the first (warm-up) epoch."""
    from skdann import DANNClassifier

    clf = DANNClassifier(
        hidden_layer_sizes=HIDDEN,
        domain_hidden_layer_sizes=DOMAIN_HIDDEN,
        batch_size=batch_size,
        max_iter=epochs,
        random_state=0,
        callbacks=callbacks,
        device=device,
    )
    clf.fit(*data)
    return float(np.sum(clf.history_[1:, "dur"]))


def time_reference(data, batch_size, epochs, device="cpu"):
    tensors = [torch.as_tensor(a).to(device) for a in data]
    _, epoch_seconds = fit_reference(
        *tensors, HIDDEN, DOMAIN_HIDDEN, batch_size, epochs, device=device
    )
    return float(np.sum(epoch_seconds[1:]))


def measure(batch_size, n_rows, epochs, rounds, variants, device="cpu"):
    """Time ``variants`` against the reference loop; return one record per method."""
    data = make_data(n_rows, 256)
    times = {name: [] for name in ["reference", *variants]}
    for _ in range(rounds):
        times["reference"].append(time_reference(data, batch_size, epochs, device))
        for name in variants:
            callbacks = VARIANT_CALLBACKS[name]
            times[name].append(time_skdann(data, batch_size, epochs, callbacks, device))
    steps = -(-n_rows // batch_size) * (epochs - 1)
    reference = np.array(times["reference"])
    records = []
    for name, seconds in times.items():
        seconds = np.array(seconds)
        ratios = reference / seconds  # > 1: faster than the reference loop
        records.append(
            {
                "task": f"b{batch_size}",
                "method": name,
                "device": device,
                "batch_size": batch_size,
                "n_rows": n_rows,
                "timed_epochs": epochs - 1,
                "rounds": rounds,
                "ms_per_step": float(np.median(seconds) / steps * 1e3),
                "speed_vs_reference": float(np.median(ratios)),
                "speed_vs_reference_runs": ratios.tolist(),
                "seconds_runs": seconds.tolist(),
            }
        )
        print(
            f"b{batch_size:<5} {name:>12}: {records[-1]['ms_per_step']:.3f} ms/step, "
            f"{records[-1]['speed_vs_reference']:.3f}x the reference "
            f"(runs {min(ratios):.2f}-{max(ratios):.2f})",
            flush=True,
        )
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=None, help="default 7 (2 with --quick)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[64, 128, 1024])
    parser.add_argument(
        "--variants", nargs="+", default=list(VARIANT_CALLBACKS), choices=list(VARIANT_CALLBACKS)
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rounds = args.rounds or (2 if args.quick else 7)
    # Warm-up: imports, allocator, kernel selection (and compilation caches).
    warm = make_data(512, 256, seed=1)
    for name in args.variants:
        time_skdann(warm, 64, 2, VARIANT_CALLBACKS[name])
    time_reference(warm, 64, 2)

    records = []
    for batch_size in args.batch_size:
        n_rows = 2_000 if args.quick else max(20_000, 40 * batch_size)
        started = time.perf_counter()
        records += measure(batch_size, n_rows, 3, rounds, args.variants)
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    table = markdown_table(
        ["batch", "variant", "ms / step", "speed vs reference (median of rounds)", "range"],
        [
            [
                r["batch_size"],
                r["method"],
                f"{r['ms_per_step']:.3f}",
                f"{r['speed_vs_reference']:.3f}",
                f"{min(r['speed_vs_reference_runs']):.2f}-{max(r['speed_vs_reference_runs']):.2f}",
            ]
            for r in records
        ],
    )
    print(table)
    suffix = "_quick" if args.quick else ""
    info = {**machine_info("cpu"), "threads": args.threads}
    print("wrote", *write_results("step_options", [info, *records], table, suffix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
