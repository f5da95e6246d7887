"""``skdann predict``, ``evaluate`` and ``info``: use a saved model on a table."""

import sys

from .cli import CommandError, check_output, tables_module


def run_predict(args):
    """``skdann predict``: write predictions (and probabilities) for a table."""
    tables = tables_module()
    check_output(args, ("--input", args.input), ("--model", args.model))
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

    tables = tables_module()
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
    from ._archive import read_config  # skdann.io.read_config without importing torch

    config = _load(args.model, read_config)
    try:
        print(_describe(config))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CommandError(
            f"{args.model}: its config.json lacks or garbles {exc} (an edited file?); save "
            "the model again."
        ) from exc


def _describe(config):
    if config["estimator"].startswith("GuardedAdaptation"):
        return _describe_guarded(config)
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


def _describe_guarded(config):
    report = config["fitted"]["report_"]
    lines = [f"model: {config['estimator']}"]
    if config["pipeline"] is not None:
        lines[0] += f" (last step {config['pipeline']['final_step']!r} of a Pipeline)"
    lines.append(f"rule: {report['rule']} (margin {report['margin']:g}): {report['reason']}")
    lines.append("candidates (holdout score, importance-weighted score, weight):")
    for c in report["candidates"]:
        skipped = "" if c["considered"] else " (not considered)"
        lines.append(
            f"  {c['name']} [{c['kind']}]: {c['holdout_score']:.3f}, "
            f"{c['importance_weighted_score']:.3f}, {c['weight']:.3f}{skipped}"
        )
    shift = report.get("label_shift")
    if shift:
        lines.append(
            f"label shift: estimated total variation {shift['total_variation']:.3f} "
            f"(threshold {shift['threshold']:g})"
        )
    versions = ", ".join(f"{name} {v}" for name, v in config["versions"].items())
    return "\n".join([*lines, f"saved with: {versions}"])


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
    tables = tables_module()
    tables.check_numeric(table, tables.numeric_columns(model), path)
    return table
