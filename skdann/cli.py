"""The ``skdann`` command line: fit, predict, evaluate, info and demo.

::

    skdann fit --source s.csv --target t.csv --label y -o model.skdann [--estimator dann]
    skdann predict --model model.skdann --input t.csv -o predictions.csv [--proba] [--id COL]
    skdann evaluate --model model.skdann --input t.csv --label y
    skdann info model.skdann
    skdann demo [--quick]

``python -m skdann`` is the same command. Tables are CSV, or Parquet
(``.parquet``/``.pq``, needs pyarrow); the commands that read tables need
pandas. ``fit`` builds a :class:`~sklearn.pipeline.Pipeline`: a
:class:`~sklearn.compose.ColumnTransformer` fitted on the rows of both
tables, then a :class:`~skdann.DANNClassifier` or
:class:`~skdann.DANNRegressor` (or a :class:`~skdann.ensemble.SeedEnsemble`
of them), and saves it with :func:`skdann.io.save`. Every transformation of
the input is a step of that pipeline, so ``predict`` and ``evaluate`` pass
the table's columns to the model unchanged, as Python would. Progress goes
to stderr, results to stdout or the output file. An error in the files or
values (a ``ValueError``, ``TypeError``, ``OSError``, ``ImportError``,
``RuntimeError`` or ``ArithmeticError``, or one of the command's own checks)
is one line on stderr (``skdann: error: ...``) and exit status 2; argparse
answers a wrong option with the usage line (status 2); other exceptions keep
their traceback (status 1).
Only the standard library is imported before the arguments are parsed."""

import argparse
import contextlib
import importlib
import os
import sys

# Only the standard library at import time: torch, skorch, scikit-learn and pandas load
# when a command needs them, so ``skdann --help`` answers at once.
from . import demo
from ._version import __version__

_ERRORS = (ValueError, TypeError, OSError, ImportError, RuntimeError, ArithmeticError)

_FIT_HELP = """\
Columns: strings, booleans and categories in either table, and the
--categorical columns, are categorical: most-frequent imputation, then
one-hot encoding, values seen fewer than 10 times sharing an "infrequent"
column. Other columns are numeric: median imputation, then
standardisation. The target table's label column, if any, is dropped and
not used.

Task (--task auto): classification when the label holds strings, booleans,
or whole numbers with at most 20 distinct values; regression otherwise.

The estimator (--estimator recommended by default, as the docs recommend
for a table) starts from random_state=0 (and verbose=1 for DANN); --set
changes any parameter (values are Python literals: 50, 0.01, (64, 32),
None, adam); max_iter, hidden_layer_sizes and the other network keys need
--estimator dann or seed-ensemble.
With --estimator seed-ensemble, n_seeds and random_state are the
ensemble's, every other key its members' (estimator__KEY also works)."""

_ESTIMATORS = {
    "recommended": "skdann.recommended_estimator: DANN candidates weighed against baselines",
    "dann": "DANNClassifier or DANNRegressor",
    "seed-ensemble": "SeedEnsemble of DANNClassifier or DANNRegressor",
}


class CommandError(Exception):
    """An error in the command's arguments or files, reported in one line."""


def main(argv=None):
    """Run the ``skdann`` console script; return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments (``sys.argv[1:]`` when ``None``).

    Returns
    -------
    int
        0 on success, 2 on an error (reported as one line on stderr).
    """
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except BrokenPipeError:  # the reader went away (skdann info m.skdann | head): stop quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (CommandError, *_ERRORS) as exc:
        print(f"skdann: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    return 0


def build_parser():
    """Return the ``skdann`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="skdann", description="Domain-adversarial neural networks for scikit-learn."
    )
    parser.add_argument("--version", action="version", version=f"skdann {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser(
        "fit",
        help="fit a model on a labeled source and a target table",
        description=_FIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("--source", required=True, help="labeled source table (CSV or Parquet)")
    fit.add_argument("--target", required=True, help="target table; its labels are not used")
    fit.add_argument("--label", required=True, help="label column of the source table")
    fit.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="what to fit (auto: the rule in the description above)",
    )
    fit.add_argument(
        "--estimator",
        choices=list(_ESTIMATORS),
        default="recommended",
        help="recommended: skdann.recommended_estimator, what the docs recommend for a table "
        "(DANN candidates weighed against logistic/ridge regression and gradient boosting "
        "without target labels); dann: one DANN network; seed-ensemble: the average of "
        "n_seeds (default 5) DANN networks with different seeds (default recommended)",
    )
    fit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="estimator parameter: rule=average, validation_fraction=0.3; with --estimator "
        "dann or seed-ensemble: max_iter=50, hidden_layer_sizes=(64,), n_seeds=3",
    )
    fit.add_argument(
        "--categorical", default="", metavar="COL,...", help="integer-coded columns to one-hot"
    )
    fit.add_argument("--drop", default="", metavar="COL,...", help="columns to leave out")
    fit.add_argument("-o", "--output", required=True, help="model file to write")
    _add_force(fit)
    _add_encoding(fit)
    fit.set_defaults(run=_command("_cli_fit", "run_fit"))

    predict = commands.add_parser(
        "predict",
        help="predict the rows of a table",
        description="Write one output row per input row: a row id, the prediction and, with "
        "--proba, the class probabilities.",
    )
    _add_model(predict)
    predict.add_argument(
        "--input", required=True, help="table to predict (CSV or Parquet) with the model's columns"
    )
    predict.add_argument("-o", "--output", default="-", help="CSV or Parquet file (- = stdout)")
    predict.add_argument("--proba", action="store_true", help="add class probabilities")
    predict.add_argument(
        "--id",
        metavar="COL",
        help="copy this input column into the output as the row id (default: a 'row' column "
        "with the input's row numbers, from 0)",
    )
    predict.add_argument(
        "--float-format",
        default="%.6g",
        metavar="FMT",
        help="printf-style format of the floats in a CSV output (default %%.6g; %%.17g keeps "
        "every digit)",
    )
    _add_force(predict)
    _add_encoding(predict)
    predict.set_defaults(run=_command("_cli_model", "run_predict"))

    evaluate = commands.add_parser("evaluate", help="score a model on a labeled table")
    _add_model(evaluate)
    evaluate.add_argument(
        "--input", required=True, help="labeled table (CSV or Parquet) with the model's columns"
    )
    evaluate.add_argument("--label", required=True, help="label column of the input table")
    _add_encoding(evaluate)
    evaluate.set_defaults(run=_command("_cli_model", "run_evaluate"))

    info = commands.add_parser("info", help="describe a model file")
    info.add_argument("model", help="model file written by skdann fit or skdann.save")
    info.set_defaults(run=_command("_cli_model", "run_info"))

    demo_parser = commands.add_parser("demo", help="run the MNIST -> optdigits demo")
    demo.build_parser(demo_parser).set_defaults(run=run_demo)
    return parser


def _add_model(parser):
    parser.add_argument(
        "--model", required=True, help="model file written by skdann fit or skdann.save"
    )


def _add_force(parser):
    parser.add_argument(
        "--force", action="store_true", help="let -o overwrite one of the command's input files"
    )


def _add_encoding(parser):
    parser.add_argument(
        "--encoding", default="utf-8", help="text encoding of CSV files (default utf-8)"
    )


def check_output(args, *inputs):
    """Refuse an output file that is one of the inputs, unless ``--force``."""
    if args.force or str(args.output) == "-":
        return
    for flag, path in inputs:
        if _same_file(args.output, path):
            raise CommandError(
                f"-o {args.output} is the {flag} file: writing it would overwrite that input. "
                "Choose another output file, or pass --force."
            )


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.abspath(a) == os.path.abspath(b)


def _command(module, name):
    """Return a runner that imports ``skdann.<module>`` only when its verb runs."""

    def run(args):
        return getattr(importlib.import_module(f".{module}", __package__), name)(args)

    return run


def run_demo(args):
    """``skdann demo``: the MNIST -> optdigits table (see :mod:`skdann.demo`)."""
    demo.main(args=args)


def tables_module():
    try:
        from . import _tabular
    except ImportError as exc:
        raise ImportError(
            "skdann fit, predict and evaluate need pandas: pip install pandas."
        ) from exc
    return _tabular


def split_names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def note(message):
    print(f"skdann: {message}", file=sys.stderr)


def _one_line(exc):
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        message = f"{exc.filename}: {exc.strerror}."
    return message


if __name__ == "__main__":
    raise SystemExit(main())
