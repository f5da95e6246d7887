"""The ``skdann`` command line: fit, predict, evaluate, info and demo.

::

    skdann fit --source s.csv --target t.csv --label y -o model.skdann [--estimator seed-ensemble]
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
to stderr, results to stdout or the output file; an error in the arguments
or files is one line on stderr (``skdann: error: ...``) and exit status 2.
Only the standard library is imported before the arguments are parsed."""

import argparse
import ast
import contextlib
import itertools
import os
import sys

# Only the standard library at import time: torch, skorch, scikit-learn and pandas load
# when a command needs them, so ``skdann --help`` answers at once.
from . import demo
from ._version import __version__

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
parameter (values are Python literals: 50, 0.01, (64, 32), None, adam).
With --estimator seed-ensemble, n_seeds and random_state are the
ensemble's, every other key its members' (estimator__KEY also works)."""
_ESTIMATORS = {
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
        default="dann",
        help="dann: one DANN network; seed-ensemble: the average of n_seeds (default 5) "
        "DANN networks with different seeds (default dann)",
    )
    fit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="estimator parameter: max_iter=50, hidden_layer_sizes=(64,), n_seeds=3",
    )
    fit.add_argument(
        "--categorical", default="", metavar="COL,...", help="integer-coded columns to one-hot"
    )
    fit.add_argument("--drop", default="", metavar="COL,...", help="columns to leave out")
    fit.add_argument("-o", "--output", required=True, help="model file to write")
    _add_force(fit)
    _add_encoding(fit)
    fit.set_defaults(run=run_fit)

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
    predict.set_defaults(run=run_predict)

    evaluate = commands.add_parser("evaluate", help="score a model on a labeled table")
    _add_model(evaluate)
    evaluate.add_argument(
        "--input", required=True, help="labeled table (CSV or Parquet) with the model's columns"
    )
    evaluate.add_argument("--label", required=True, help="label column of the input table")
    _add_encoding(evaluate)
    evaluate.set_defaults(run=run_evaluate)

    info = commands.add_parser("info", help="describe a model file")
    info.add_argument("model", help="model file written by skdann fit or skdann.save")
    info.set_defaults(run=run_info)

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
    estimator = make_estimator(args.estimator, task)
    estimator.set_params(**_parse_settings(args.set, estimator))
    from sklearn.pipeline import make_pipeline

    from . import io, stack_domains

    model = make_pipeline(tables.make_preprocessor(numeric, categorical), estimator)
    X, y = stack_domains(source, y_source, target, regression=task == "regression")
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(X, y)
    io.save(model, args.output)
    print(
        f"saved {_model_name(estimator)} ({task} of {args.label!r}, {len(source.columns)} "
        f"columns, {_epochs(estimator)}) to {args.output}"
    )


def make_estimator(name, task):
    """Return the unfitted estimator ``skdann fit --estimator name`` starts from.

    Parameters
    ----------
    name : {"dann", "seed-ensemble"}
        A DANN estimator, or a :class:`~skdann.ensemble.SeedEnsemble` of them.
    task : {"classification", "regression"}
        :class:`~skdann.DANNClassifier` or :class:`~skdann.DANNRegressor`.

    Returns
    -------
    estimator
        With ``verbose=1`` and ``random_state=0``.
    """
    from . import DANNClassifier, DANNRegressor
    from .ensemble import SeedEnsemble

    cls = DANNClassifier if task == "classification" else DANNRegressor
    dann = cls(verbose=1, random_state=0)
    return dann if name == "dann" else SeedEnsemble(dann, random_state=0)


def _model_name(estimator):
    members = getattr(estimator, "estimators_", None)
    if members is None:
        return type(estimator).__name__
    return f"{type(estimator).__name__} of {len(members)} {type(estimator.estimator).__name__}"


def _epochs(estimator):
    counts = [m.n_iter_ for m in getattr(estimator, "estimators_", [estimator])]
    if len(set(counts)) == 1:
        return f"{counts[0]} epochs" + (" each" if len(counts) > 1 else "")
    return f"{', '.join(map(str, counts))} epochs"


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
    from sklearn.base import is_classifier

    model = _load(args.model)
    table = tables.read_table(args.input, args.encoding)
    if args.id is not None and args.id not in table.columns:
        raise CommandError(f"--id {args.id!r} is not a column of {args.input}.")
    ids = table[args.id] if args.id is not None else table.index.to_series(name="row")
    X = _inputs(model, table, args.input)
    if args.proba and not is_classifier(model):
        raise CommandError(f"--proba needs a classifier; {args.model} holds a regressor.")
    proba = model.predict_proba(X) if args.proba else None
    frame = tables.predictions_frame(
        model.predict(X), proba, getattr(model, "classes_", None), ids=ids
    )
    tables.write_table(frame, args.output, sys.stdout, float_format=args.float_format)


def run_evaluate(args):
    """``skdann evaluate``: print accuracy and balanced accuracy, or R² and MAE."""
    from sklearn.base import is_classifier
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        mean_absolute_error,
        r2_score,
    )

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
    from .io import read_config

    config = _load(args.model, read_config)
    try:
        print(_describe(config))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CommandError(
            f"{args.model}: its config.json lacks or garbles {exc} (an edited file?); save "
            "the model again."
        ) from exc


def _describe(config):
    lines = [f"model: {config['estimator']}"]
    pipeline, members = config["pipeline"], config.get("members")
    if members is not None:
        lines[0] += f" of {len(members)} {_final_estimator(members[0])}"
    if pipeline is not None:
        lines[0] += f" (last step {pipeline['final_step']!r} of a Pipeline)"
        names = pipeline.get("feature_names_in_")
        if names:
            lines.append(f"input columns: {len(names)} ({', '.join(names)})")
    if members is not None:
        lines.append(f"seeds: {config['fitted']['seeds_']}")
        lines.extend(_describe_network(members[0]["fitted"], members[0]["history"], members))
    else:
        lines.extend(_describe_network(config["fitted"], config["history"]))
    versions = ", ".join(f"{name} {v}" for name, v in config["versions"].items())
    lines.append(f"saved with: {versions}")
    lines.append("parameters:")
    for name, value in config["params"].items():
        lines.append(f"  {name} = {_setting_text(value)}")
    if members is not None:
        lines.append(f"parameters of the members ({_final_estimator(members[0])}):")
        for name, value in members[0]["params"].items():
            text = "(the member's seed)" if name == "random_state" else _setting_text(value)
            lines.append(f"  {name} = {text}")
    return "\n".join(lines)


def _final_estimator(node):
    if node.get("pipeline") is None:
        return node["estimator"]
    return f"Pipeline ending in {node['estimator']}"


def _describe_network(fitted, history, members=None):
    """Lines on a DANN network's inputs, classes or outputs, and epochs (every member's)."""
    lines = [f"network inputs: {fitted['n_features_in_']}"]
    if "classes_" in fitted:
        lines.append(f"classes: {fitted['classes_']['values']}")
    else:
        lines.append(f"outputs: {fitted['n_outputs_']}")
    if members is not None:
        epochs = ", ".join(str(m["fitted"]["n_iter_"]) for m in members)
        return [*lines, f"epochs of the members: {epochs}"]
    loss = history[-1].get("train_loss") if history else None
    last = f", last train_loss {loss:.4g}" if isinstance(loss, (int, float)) else ""
    return [*lines, f"epochs: {fitted['n_iter_']}{last}"]


def _setting_text(value):
    """A stored parameter as Python-like text; an objective as ``Name(param=value, ...)``."""
    if isinstance(value, dict) and "objective" in value:
        params = ", ".join(f"{k}={_setting_text(v)}" for k, v in value["params"].items())
        return f"{value['objective']}({params})"
    return repr(tuple(value) if isinstance(value, list) else value)


def _parse_settings(settings, estimator):
    """Return ``--set`` settings as ``set_params`` keywords for ``estimator``."""
    names = _settable(estimator)
    valid = sorted(k for k in names if "__" not in k)
    params = {}
    for setting in settings:
        key, sep, text = setting.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CommandError(f"--set expects KEY=VALUE, got {setting!r}.")
        if key.rpartition("__")[2] in _NOT_SETTABLE:
            raise CommandError(
                f"{key} cannot be set from the command line (it takes Python objects); use "
                "the Python API (skdann.DANNClassifier / DANNRegressor) for it."
            )
        if key not in names:
            raise CommandError(
                f"unknown parameter {key!r} for {type(estimator).__name__}; "
                f"valid keys: {', '.join(valid)}."
            )
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = text
        if key.rpartition("__")[2] in ("hidden_layer_sizes", "domain_hidden_layer_sizes"):
            _check_layer_sizes(key, value)
        params[names[key]] = value
    return params


def _settable(estimator):
    """Map each key ``--set`` accepts to the ``set_params`` name it sets.

    A meta-estimator's own parameters are set directly; its ``estimator``'s
    by their name or as ``estimator__name``.
    """
    own = set(estimator.get_params(deep=False)) - _NOT_SETTABLE - {"estimator"}
    names = {name: name for name in own}
    inner = getattr(estimator, "estimator", None)
    if inner is not None:
        for name in set(inner.get_params(deep=False)) - _NOT_SETTABLE:
            names[f"estimator__{name}"] = f"estimator__{name}"
            names.setdefault(name, f"estimator__{name}")
    return names


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


def _load(path, reader=None):
    if reader is None:
        from .io import load as reader
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
    return table


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
