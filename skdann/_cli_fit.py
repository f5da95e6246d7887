"""``skdann fit``: read the two tables, build the pipeline, fit and save it."""

import ast
import contextlib
import itertools
import sys

from .cli import CommandError, check_output, note, split_names, tables_module

_NOT_SETTABLE = {"feature_extractor", "callbacks"}

_MAX_WEIGHTS = 10**8
"""The most weights between hidden layers ``--set`` accepts (400 MB of float32)."""


def run_fit(args):
    """``skdann fit``: type the columns, fit the pipeline on both tables, save it."""
    tables = tables_module()
    check_output(args, ("--source", args.source), ("--target", args.target))
    source, labels, target = _training_tables(args, tables)
    task = tables.infer_task(labels) if args.task == "auto" else args.task
    if args.task == "auto":
        note(f"task: {task} (label {args.label!r}); --task overrides.")
    y_source = tables.label_values(labels, task, args.label)
    numeric, categorical = tables.split_columns(source, target, split_names(args.categorical))
    estimator = make_estimator(args.estimator, task)
    hint = _UNKNOWN_KEY_HINTS.get(args.estimator, "")
    estimator.set_params(**_parse_settings(args.set, estimator, hint))
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
    name : {"dann", "seed-ensemble", "recommended"}
        A DANN estimator, a :class:`~skdann.ensemble.SeedEnsemble` of them,
        or :func:`skdann.recommended_estimator`'s estimator.
    task : {"classification", "regression"}
        :class:`~skdann.DANNClassifier` or :class:`~skdann.DANNRegressor`.

    Returns
    -------
    estimator
        With ``random_state=0`` (and ``verbose=1`` for DANN).
    """
    from . import DANNClassifier, DANNRegressor, recommended_estimator
    from .ensemble import SeedEnsemble

    if name == "recommended":
        return recommended_estimator(task, random_state=0)
    cls = DANNClassifier if task == "classification" else DANNRegressor
    dann = cls(verbose=1, random_state=0)
    return dann if name == "dann" else SeedEnsemble(dann, random_state=0)


def _model_name(estimator):
    chosen = getattr(estimator, "report_", {}).get("chosen")
    if chosen is not None:
        kept = ", ".join(f"{name} {weight:.2f}" for name, weight in chosen.items())
        return f"{type(estimator).__name__} (weights: {kept})"
    members = getattr(estimator, "estimators_", None)
    if members is None:
        return type(estimator).__name__
    return f"{type(estimator).__name__} of {len(members)} {type(estimator.estimator).__name__}"


def _epochs(estimator):
    if hasattr(estimator, "report_"):
        return estimator.report_["reason"]
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
        note(f"{args.target} has the label column {args.label!r}: it is dropped, not used.")
        target = target.drop(columns=args.label)
    labels = source.pop(args.label)
    drop = split_names(args.drop)
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


# What an unknown ``--set`` key most likely meant, by ``--estimator``.
_UNKNOWN_KEY_HINTS = {
    "recommended": " (the DANN network's keys need --estimator dann or seed-ensemble)",
}


def _parse_settings(settings, estimator, hint=""):
    """Return ``--set`` settings as ``set_params`` keywords for ``estimator``.

    ``hint`` ends the message of an unknown key.
    """
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
                f"valid keys: {', '.join(valid)}{hint}."
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
