"""Save and load fitted DANN models in a file that runs no code when loaded.

Two ways to keep a fitted model:

- ``pickle`` or ``joblib``: the fast path, for files you wrote yourself or
  otherwise trust. Unpickling a file can run any code it holds, so never
  load a pickle that travelled from someone else.
- :func:`save` and :func:`load`: for files that travel. A model file is a
  zip archive of up to four parts, none of them a pickle:

  ``config.json``
      The estimator's class (``DANNClassifier``, ``DANNRegressor`` or
      ``SeedEnsemble``, looked up in a fixed table), its parameters, the
      fitted attributes that prediction needs, the per-epoch history
      (numbers only) and the versions of skdann, torch, scikit-learn,
      skorch and numpy.
  ``weights.pt``
      The network's ``state_dict``, read back with
      ``torch.load(..., weights_only=True, map_location="cpu")``.
  ``preprocessing.skops``
      For a :class:`~sklearn.pipeline.Pipeline` ending in a DANN estimator,
      the steps before it, written with :mod:`skops.io` (``pip install
      skops``) and loaded only when every type they use is a class from
      scikit-learn, NumPy or ``scipy.sparse``, :mod:`skdann.preprocessing`'s
      :class:`~skdann.preprocessing.CategoryStrings`, a plain built-in type,
      or a type the caller names in ``trusted``.
  ``checksums.json``
      The SHA-256 of each other member. :func:`load` and :func:`read_config`
      refuse a member whose content does not match, so a damaged file or a
      hand-edited config (swapped ``classes_``, a changed ``alpha``) is a
      one-line error rather than a model that predicts differently.

A :class:`~skdann.ensemble.SeedEnsemble` (format version 3) stores its
``n_seeds``, ``random_state`` and seeds in ``config.json``, and each member's
config under ``members``; member ``i``'s weights and preprocessing are the
members ``members/<i>/weights.pt`` and ``members/<i>/preprocessing.skops``
(checked like the others).

The checksums are not a signature: anyone who edits a member on purpose can
recompute its checksum (or drop the file back to format version 1, which had
none), so they guard against accidents and careless edits, not an attacker.
What protects against a hostile file is that loading runs no code: JSON,
tensors read with ``weights_only=True``, and skops' allow-list. Files written
in format version 1 (skdann before checksums) still load, unchecked.

Before reading a member, its declared uncompressed size is compared with
what the config describes: the weights of the built-in MLP must be about
4 bytes per parameter, so neither a weights member that inflates to far more
than the network holds nor a config declaring a network far larger than its
weights is read or allocated.

A loaded model predicts on the CPU (its ``device`` parameter is ``"cpu"``),
whatever device it was fitted on. User code (a custom ``feature_extractor``,
callable schedules, ``callbacks``) is not stored: see :func:`save`.
"""

import hashlib
import io
import json
import numbers
import sys
import warnings
import zipfile
import zlib

import torch
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._archive import (
    CHECKSUMS,
    CONFIG,
    ENSEMBLE,
    FORMAT,
    GUARDED,
    NOT_A_MODEL,
    PREPROCESSING,
    WEIGHTS,
    read_archive,
)
from ._archive import read_config as _read_config
from ._guarded_io import decode_guarded, encode_guarded
from ._model_state import (
    ESTIMATORS,
    encode_fitted,
    encode_params,
    history_row,
    plain,
    rebuild,
    versions,
)
from .ensemble import SeedEnsemble

__all__ = ["load", "read_config", "save"]

_TRUSTED_ROOTS = ("sklearn", "numpy", "scipy.sparse")
# skdann's own preprocessing classes (no user code): the CLI's pipeline uses them.
_TRUSTED_SKDANN = {"skdann.preprocessing.CategoryStrings"}
_TRUSTED_TEXT = (
    "classes from scikit-learn, NumPy and scipy.sparse, skdann.preprocessing's, plain built-in "
    "types"
)
_BUILTIN_TYPES = {
    "bool", "bytes", "complex", "dict", "float", "frozenset", "int", "list", "NoneType",
    "object", "set", "slice", "str", "tuple",
}  # fmt: skip
_SAVES = (
    "a DANNClassifier, a DANNRegressor, a SeedEnsemble of them or a guarded estimator, or a "
    "Pipeline ending in one"
)


def save(estimator, path):
    """Save a fitted DANN estimator or seed ensemble, or a Pipeline ending in one, to ``path``.

    Parameters
    ----------
    estimator : DANNClassifier, DANNRegressor, SeedEnsemble or Pipeline
        The fitted model. A :class:`~skdann.ensemble.SeedEnsemble`'s members
        are DANN estimators or pipelines ending in one. The steps of a
        :class:`~sklearn.pipeline.Pipeline` before the DANN estimator need
        ``skops`` (``pip install skops``).
    path : str or path-like
        File to write (by convention ``*.skdann``).

    Warns
    -----
    UserWarning
        When the model holds user code that the file cannot store: a custom
        ``feature_extractor`` (its weights are stored; pass the module or
        factory back to :func:`load`), or callable schedules, ``callbacks``
        or a ``RandomState`` (used only for training; dropped, and set to
        their defaults when loading).

    See Also
    --------
    load : Load the model back.
    """
    notes = {"custom": set(), "dropped": set()}
    node, members = _encode(estimator, "", notes)
    version = {ENSEMBLE: 3, **dict.fromkeys(GUARDED, 4)}.get(node["estimator"], 2)
    config = {"format": FORMAT, "format_version": version, **node}
    config["versions"] = versions()
    if any(name.endswith(PREPROCESSING) for name in members):
        config["versions"]["skops"] = sys.modules["skops"].__version__
    members[CONFIG] = json.dumps(config, indent=1).encode("utf-8")
    checksums = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    members[CHECKSUMS] = json.dumps({"sha256": checksums}, indent=1).encode("utf-8")
    first = [name for name in (CONFIG, WEIGHTS, PREPROCESSING) if name in members]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in [*first, *sorted(set(members) - set(first))]:
            archive.writestr(name, members[name])
    if notes["custom"]:
        warnings.warn(
            f"{path} stores the weights of the custom feature_extractor "
            f"({', '.join(sorted(notes['custom']))}) but not its code: pass it back with "
            "skdann.io.load(path, feature_extractor=...).",
            UserWarning,
            stacklevel=2,
        )
    if notes["dropped"]:
        warnings.warn(
            f"{path} does not store {', '.join(sorted(notes['dropped']))} (user code or state "
            "used only for training); the loaded model has their defaults.",
            UserWarning,
            stacklevel=2,
        )


def _encode(model, prefix, notes):
    """Return the config node and the archive members of a model (and its pipeline)."""
    pipeline = model if isinstance(model, Pipeline) else None
    final = model.steps[-1][1] if pipeline is not None else model
    if isinstance(final, SeedEnsemble) and not prefix:
        node, members = _encode_ensemble(final, notes)
    elif type(final).__name__ in GUARDED and not prefix:
        node, members = encode_guarded(final, notes, _encode, _skops())
    elif type(final) in ESTIMATORS.values():
        node, members = _encode_dann(final, prefix, notes)
    else:
        inner = " inside a SeedEnsemble" if prefix else ""
        raise TypeError(
            f"skdann.io.save saves {_SAVES}; got {type(final).__name__}{inner}. Pickle other "
            "models (trusted files only)."
        )
    node["pipeline"] = None
    if pipeline is not None:
        names = getattr(pipeline, "feature_names_in_", None)
        node["pipeline"] = {
            "final_step": pipeline.steps[-1][0],
            "feature_names_in_": None if names is None else [str(n) for n in names],
        }
        if len(pipeline) > 1:
            members[prefix + PREPROCESSING] = _skops().dumps(pipeline[:-1])
    return node, members


def _encode_dann(est, prefix, notes):
    check_is_fitted(est)
    params, dropped, custom = encode_params(est)
    notes["dropped"].update(dropped)
    if custom is not None:
        notes["custom"].add(custom)
    node = {
        "estimator": type(est).__name__,
        "params": params,
        "custom_feature_extractor": custom,
        "fitted": encode_fitted(est),
        "history": [history_row(row) for row in est.history_],
    }
    weights = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in est.net_.module_.state_dict().items()}, weights)
    return node, {prefix + WEIGHTS: weights.getvalue()}


def _encode_ensemble(ensemble, notes):
    """A SeedEnsemble: its own settings, the seeds, and one node per member."""
    check_is_fitted(ensemble)
    settings = {"random_state": ensemble.random_state}
    for name, value in ensemble.estimator.get_params().items():
        if name.split("__")[-1] == "random_state":
            settings[f"estimator__{name}"] = value
    params = {"n_seeds": ensemble.n_seeds}
    for key, value in settings.items():
        if value is None or isinstance(value, numbers.Integral):
            params[key] = None if value is None else int(value)
        else:  # a RandomState instance: used only to draw the seeds
            params[key] = None
            notes["dropped"].add(key)
    node = {
        "estimator": ENSEMBLE,
        "params": params,
        "fitted": {"seeds_": plain(ensemble.seeds_)},
        "members": [],
    }
    members = {}
    for index, member in enumerate(ensemble.estimators_):
        member_node, member_files = _encode(member, f"members/{index}/", notes)
        node["members"].append(member_node)
        members.update(member_files)
    return node, members


def load(path, *, feature_extractor=None, trusted=None):
    """Load a model written by :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save`.
    feature_extractor : torch.nn.Module or callable, default=None
        The custom ``feature_extractor`` the model was fitted with (the same
        module or factory), required when it had one; its weights are read
        from the file (for a seed ensemble, every member's).
    trusted : list of str, default=None
        Types of the preprocessing steps to accept beyond the built-in
        allow-list (classes from scikit-learn, NumPy and ``scipy.sparse``,
        :class:`~skdann.preprocessing.CategoryStrings`, and plain built-in
        types). The error for a refused file lists them.

    Returns
    -------
    DANNClassifier, DANNRegressor, SeedEnsemble or Pipeline
        The fitted model, as saved, on the CPU (``device="cpu"``).
        Callable schedules and ``callbacks`` are back to their defaults. A
        seed ensemble's ``estimator`` is an unfitted clone of its first
        member (with the saved ``random_state``), which refits alike.

    Raises
    ------
    ValueError
        When ``path`` is not a valid skdann model file (a pickle, a damaged
        or tampered archive, weights that do not match the config), when it
        needs a ``feature_extractor`` that was not given, or when its
        preprocessing uses types that are not trusted.

    Warns
    -----
    UserWarning
        When the file was saved with another version of skdann, torch or
        scikit-learn.
    """
    config, members = read_archive(path, weights=True)
    current = versions()
    for name in ("skdann", "torch", "scikit-learn"):
        if config["versions"].get(name) != current[name]:
            warnings.warn(
                f"{path} was saved with {name} {config['versions'].get(name)}; this is {name} "
                f"{current[name]}. The model may predict differently: refit it, or install "
                "the saved version.",
                UserWarning,
                stacklevel=2,
            )
    return _decode(path, config, members, "", feature_extractor, trusted or [])


def _decode(path, node, members, prefix, feature_extractor, trusted):
    """Rebuild the model a config node describes (recursively for an ensemble)."""
    if node["estimator"] == ENSEMBLE:
        final = _decode_ensemble(path, node, members, feature_extractor, trusted)
    elif node["estimator"] in GUARDED:
        final = decode_guarded(
            path,
            node,
            members,
            lambda member, prefix: _decode(
                path, member, members, prefix, feature_extractor, trusted
            ),
            lambda data: _load_preprocessing(path, data, trusted),
        )
    else:
        try:
            final = rebuild(path, node, members[prefix + WEIGHTS], feature_extractor)
        except (AttributeError, KeyError, IndexError, TypeError) as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise ValueError(
                f"{path}: cannot rebuild the model its config describes: {message}"
            ) from exc
    if node["pipeline"] is None:
        return final
    steps = []
    if prefix + PREPROCESSING in members:
        steps = _load_preprocessing(path, members[prefix + PREPROCESSING], trusted).steps
    return Pipeline([*steps, (node["pipeline"]["final_step"], final)])


def _decode_ensemble(path, node, members, feature_extractor, trusted):
    fitted_members = [
        _decode(path, member, members, f"members/{index}/", feature_extractor, trusted)
        for index, member in enumerate(node["members"])
    ]
    params, seeds = dict(node["params"]), node["fitted"].get("seeds_")
    if not isinstance(seeds, list) or len(seeds) != len(fitted_members):
        raise ValueError(NOT_A_MODEL.format(path, "its seeds_ do not match its members"))
    try:
        base = clone(fitted_members[0]).set_params(
            **{k.removeprefix("estimator__"): v for k, v in params.items() if "__" in k}
        )
        ensemble = SeedEnsemble(
            base, n_seeds=params["n_seeds"], random_state=params["random_state"]
        )
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"{path}: cannot rebuild the ensemble its config describes: {exc}"
        ) from exc
    return ensemble._set_members(fitted_members, seeds)


def read_config(path):
    """Return the JSON config of a model file, checked, without loading the model.

    Only the config member is read (and checked against its checksum); the
    weights are neither read nor inflated.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    dict
        The estimator's class name, parameters, fitted attributes, per-epoch
        history and the library versions it was saved with (for a seed
        ensemble, its settings and seeds, and under ``members`` the same
        for each member).

    Raises
    ------
    ValueError
        When ``path`` is not a valid model file (a pickle, a damaged or
        edited archive).
    """
    return _read_config(path)


def _skops():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "Saving or loading the preprocessing steps of a Pipeline needs skops: "
            "pip install skops (or pip install skdann[io])."
        ) from exc
    return skops.io


def _load_preprocessing(path, data, trusted):
    skops_io = _skops()
    try:
        untrusted = skops_io.get_untrusted_types(data=data)
    except (zipfile.BadZipFile, zlib.error, ValueError, KeyError, EOFError) as exc:
        message = f"{PREPROCESSING} is not a skops file ({type(exc).__name__})"
        raise ValueError(NOT_A_MODEL.format(path, message)) from exc
    refused = [name for name in untrusted if name not in trusted and not _is_allowed(name)]
    if refused:
        raise ValueError(
            f"{path}: its preprocessing steps use types outside skdann's allow-list "
            f"({_TRUSTED_TEXT}): {refused}. Loading them could run code; if you trust this "
            f"file, pass them: skdann.io.load(path, trusted={refused!r})."
        )
    return skops_io.loads(data, trusted=untrusted)


def _is_allowed(name):
    """Whether ``name`` is a class of the trusted libraries (never a function).

    The class is looked up among the modules already imported (skops imports
    scikit-learn's); nothing is imported by a name read from a file.
    """
    if name in _TRUSTED_SKDANN:
        return True
    module, _, attr = name.rpartition(".")
    if module == "builtins":
        return attr in _BUILTIN_TYPES
    if not any(module == root or module.startswith(root + ".") for root in _TRUSTED_ROOTS):
        return False
    return isinstance(getattr(sys.modules.get(module), attr, None), type)
