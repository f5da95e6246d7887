"""The ``skdann`` command line: fit, predict, evaluate, info and demo.

::

    skdann fit --source s.csv --target t.csv --label y -o model.skdann
    skdann predict --model model.skdann --input t.csv -o predictions.csv [--proba]
    skdann evaluate --model model.skdann --input t.csv --label y
    skdann info model.skdann
    skdann demo [--quick]

Tables are CSV, or Parquet (``.parquet``/``.pq``, needs pyarrow); the
commands that read tables need pandas. ``fit`` builds a
:class:`~sklearn.pipeline.Pipeline`: a
:class:`~sklearn.compose.ColumnTransformer` fitted on the rows of both
tables, then a :class:`~skdann.DANNClassifier` or
:class:`~skdann.DANNRegressor`, and saves it with :func:`skdann.io.save`.
Progress goes to stderr, results to stdout or the output file; an error is
one line on stderr (``skdann: error: ...``) and exit status 2.
"""

import argparse
import ast
import contextlib
import itertools
import os
import sys

from sklearn.base import is_classifier
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    mean_absolute_error,
    r2_score,
)
from sklearn.pipeline import make_pipeline

from . import DANNClassifier, DANNRegressor, __version__, demo, io, stack_domains

_ESTIMATORS = {"classification": DANNClassifier, "regression": DANNRegressor}
_NOT_SETTABLE = {"feature_extractor", "callbacks"}
_MAX_WEIGHTS = 10**8
"""The most weights between hidden layers ``--set`` accepts (400 MB of float32)."""
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

The estimator starts from verbose=1 and random_state=0; --set changes any
parameter (values are Python literals: 50, 0.01, (64, 32), None, adam)."""


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
        help="see below",
    )
    fit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="estimator parameter: max_iter=50, hidden_layer_sizes=(64,)",
    )
    fit.add_argument(
        "--categorical", default="", metavar="COL,...", help="integer-coded columns to one-hot"
    )
    fit.add_argument("--drop", default="", metavar="COL,...", help="columns to leave out")
    fit.add_argument("-o", "--output", required=True, help="model file to write")
    _add_force(fit)
    _add_encoding(fit)
    fit.set_defaults(run=run_fit)

    predict = commands.add_parser("predict", help="predict the rows of a table")
    predict.add_argument("--model", required=True)
    predict.add_argument("--input", required=True)
    predict.add_argument("-o", "--output", default="-", help="CSV or Parquet file (- = stdout)")
    predict.add_argument("--proba", action="store_true", help="add class probabilities")
    _add_force(predict)
    _add_encoding(predict)
    predict.set_defaults(run=run_predict)

    evaluate = commands.add_parser("evaluate", help="score a model on a labeled table")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--input", required=True)
    evaluate.add_argument("--label", required=True)
    _add_encoding(evaluate)
    evaluate.set_defaults(run=run_evaluate)

    info = commands.add_parser("info", help="describe a model file")
    info.add_argument("model")
    info.set_defaults(run=run_info)

    demo_parser = commands.add_parser("demo", help="run the MNIST -> optdigits demo")
    demo.build_parser(demo_parser).set_defaults(run=run_demo)
    return parser


def _add_force(parser):
    parser.add_argument(
        "--force", action="store_true", help="let -o overwrite one of the command's input files"
    )


def _add_encoding(parser):
    parser.add_argument(
        "--encoding", default="utf-8", help="text encoding of CSV files (default utf-8)"
    )


def _check_output(args, *inputs):
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


def run_demo(args):
    """``skdann demo``: the MNIST -> optdigits table (see :mod:`skdann.demo`)."""
    demo.main(args=args)


def run_fit(args):
    """``skdann fit``: type the columns, fit the pipeline on both tables, save it."""
    tables = _tables()
    _check_output(args, ("--source", args.source), ("--target", args.target))
    source, labels, target = _training_tables(args, tables)
    task = tables.infer_task(labels) if args.task == "auto" else args.task
    if args.task == "auto":
        _note(f"task: {task} (label {args.label!r}); --task overrides.")
    y_source = tables.label_values(labels, task, args.label)
    numeric, categorical = tables.split_columns(source, target, _names(args.categorical))
    source, target = (tables.as_categories(t, categorical) for t in (source, target))
    settings = _parse_settings(args.set, _ESTIMATORS[task])
    estimator = _ESTIMATORS[task](verbose=1, random_state=0).set_params(**settings)
    model = make_pipeline(tables.make_preprocessor(numeric, categorical), estimator)
    X, y = stack_domains(source, y_source, target, regression=task == "regression")
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(X, y)
    io.save(model, args.output)
    print(
        f"saved {type(estimator).__name__} ({task} of {args.label!r}, {len(source.columns)} "
        f"columns, {estimator.n_iter_} epochs) to {args.output}"
    )


def _training_tables(args, tables):
    """Return the source features, the source labels and the target features (same columns)."""
    source = tables.read_table(args.source, args.encoding)
    target = tables.read_table(args.target, args.encoding)
    if args.label not in source.columns:
        raise CommandError(f"the label column {args.label!r} is not in {args.source}.")
    if args.label in target.columns:
        _note(f"{args.target} has the label column {args.label!r}: it is dropped, not used.")
        target = target.drop(columns=args.label)
    labels = source.pop(args.label)
    drop = _names(args.drop)
    unknown = [c for c in drop if c not in source.columns and c not in target.columns]
    if unknown:
        raise CommandError(f"--drop names columns that are not in the data: {unknown}.")
    source = source.drop(columns=[c for c in drop if c in source.columns])
    target = target.drop(columns=[c for c in drop if c in target.columns])
    missing = [c for c in source.columns if c not in target.columns]
    extra = [c for c in target.columns if c not in source.columns]
    if missing or extra:
        raise CommandError(
            f"{args.target} must have the columns of {args.source} (label and --drop aside); "
            f"missing: {missing}; extra: {extra}."
        )
    return source, labels, target[list(source.columns)]


def run_predict(args):
    """``skdann predict``: write predictions (and probabilities) for a table."""
    tables = _tables()
    _check_output(args, ("--input", args.input), ("--model", args.model))
    model = _load(args.model)
    X = _inputs(model, tables.read_table(args.input, args.encoding), args.input)
    if args.proba and not is_classifier(model):
        raise CommandError(f"--proba needs a classifier; {args.model} holds a regressor.")
    proba = model.predict_proba(X) if args.proba else None
    frame = tables.predictions_frame(model.predict(X), proba, getattr(model, "classes_", None))
    tables.write_table(frame, args.output, sys.stdout)


def run_evaluate(args):
    """``skdann evaluate``: print accuracy and balanced accuracy, or R² and MAE."""
    tables = _tables()
    model = _load(args.model)
    table = tables.read_table(args.input, args.encoding)
    if args.label not in table.columns:
        raise CommandError(f"the label column {args.label!r} is not in {args.input}.")
    task = "classification" if is_classifier(model) else "regression"
    y = tables.label_values(table[args.label], task, args.label)
    if task == "classification" and model.classes_.dtype.kind in "UO":
        y = y.astype(str)
    X = _inputs(model, table.drop(columns=args.label), args.input)
    predictions = model.predict(X)
    rows = [("rows", f"{len(y)}")]
    if task == "classification":
        rows.append(("accuracy", f"{accuracy_score(y, predictions):.4f}"))
        rows.append(("balanced accuracy", f"{balanced_accuracy_score(y, predictions):.4f}"))
    else:
        rows.append(("R2", f"{r2_score(y, predictions):.4f}"))
        rows.append(("mean absolute error", f"{mean_absolute_error(y, predictions):.4g}"))
    print("| metric | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


def run_info(args):
    """``skdann info``: print what a model file holds, without loading its weights."""
    config = _load(args.model, io.read_config)
    try:
        print(_describe(config))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CommandError(
            f"{args.model}: its config.json lacks or garbles {exc} (an edited file?); save "
            "the model again."
        ) from exc


def _describe(config):
    fitted, pipeline, history = config["fitted"], config["pipeline"], config["history"]
    lines = [f"model: {config['estimator']}"]
    if pipeline is not None:
        lines[0] += f" (last step {pipeline['final_step']!r} of a Pipeline)"
        names = pipeline.get("feature_names_in_")
        if names:
            lines.append(f"input columns: {len(names)} ({', '.join(names)})")
    lines.append(f"network inputs: {fitted['n_features_in_']}")
    if "classes_" in fitted:
        lines.append(f"classes: {fitted['classes_']['values']}")
    else:
        lines.append(f"outputs: {fitted['n_outputs_']}")
    loss = history[-1].get("train_loss") if history else None
    last = f", last train_loss {loss:.4g}" if isinstance(loss, (int, float)) else ""
    lines.append(f"epochs: {fitted['n_iter_']}{last}")
    versions = ", ".join(f"{name} {v}" for name, v in config["versions"].items())
    lines.append(f"saved with: {versions}")
    lines.append("parameters:")
    for name, value in config["params"].items():
        lines.append(f"  {name} = {_setting_text(value)}")
    return "\n".join(lines)


def _setting_text(value):
    """A stored parameter as Python-like text; an objective as ``Name(param=value, ...)``."""
    if isinstance(value, dict) and "objective" in value:
        params = ", ".join(f"{k}={_setting_text(v)}" for k, v in value["params"].items())
        return f"{value['objective']}({params})"
    return repr(tuple(value) if isinstance(value, list) else value)


def _parse_settings(settings, estimator_class):
    valid = sorted(set(estimator_class().get_params()) - _NOT_SETTABLE)
    params = {}
    for setting in settings:
        key, sep, text = setting.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CommandError(f"--set expects KEY=VALUE, got {setting!r}.")
        if key in _NOT_SETTABLE:
            raise CommandError(
                f"{key} cannot be set from the command line (it takes Python objects); use "
                "the Python API (skdann.DANNClassifier / DANNRegressor) for it."
            )
        if key not in valid:
            raise CommandError(
                f"unknown parameter {key!r} for {estimator_class.__name__}; "
                f"valid keys: {', '.join(valid)}."
            )
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = text
        if key in ("hidden_layer_sizes", "domain_hidden_layer_sizes"):
            _check_layer_sizes(key, value)
        params[key] = value
    return params


def _check_layer_sizes(key, value):
    """Refuse layers whose weights alone would take more than ``_MAX_WEIGHTS`` floats."""
    sizes = [value] if isinstance(value, int) else value
    if not isinstance(sizes, (list, tuple)) or not all(
        isinstance(v, int) and v > 0 for v in sizes
    ):
        return  # the estimator's own validation names the problem
    weights = sum(sizes) + sum(a * b for a, b in itertools.pairwise(sizes))
    if weights > _MAX_WEIGHTS:
        raise CommandError(
            f"--set {key}={value!r} makes at least {weights:,} weights ({4 * weights / 1e9:.1f} "
            f"GB of float32, several times that to train); the command line allows up to "
            f"{_MAX_WEIGHTS:,}. Use smaller layers, or the Python API."
        )


def _tables():
    try:
        from . import _tabular
    except ImportError as exc:
        raise ImportError(
            "skdann fit, predict and evaluate need pandas: pip install pandas."
        ) from exc
    return _tabular


def _load(path, reader=io.load):
    try:
        return reader(path)
    except FileNotFoundError as exc:
        raise CommandError(f"{path}: no such file.") from exc


def _inputs(model, table, path):
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        missing = [name for name in names if name not in table.columns]
        if missing:
            raise CommandError(f"{path} lacks columns the model was fitted on: {missing}.")
        table = table[list(names)]
    tables = _tables()
    tables.check_numeric(table, tables.numeric_columns(model), path)
    return tables.as_categories(table, tables.categorical_columns(model))


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def _note(message):
    print(f"skdann: {message}", file=sys.stderr)


def _one_line(exc):
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        message = f"{exc.filename}: {exc.strerror}."
    return message


if __name__ == "__main__":
    raise SystemExit(main())
