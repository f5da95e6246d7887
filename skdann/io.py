"""Save and load fitted DANN models in a file that runs no code when loaded.

Two ways to keep a fitted model:

- ``pickle`` or ``joblib``: the fast path, for files you wrote yourself or
  otherwise trust. Unpickling a file can run any code it holds, so never
  load a pickle that travelled from someone else.
- :func:`save` and :func:`load`: for files that travel. A model file is a
  zip archive of four parts, none of them a pickle:

  ``config.json``
      The estimator's class (``DANNClassifier`` or ``DANNRegressor``, looked
      up in a fixed table), its parameters, the fitted attributes that
      prediction needs, the per-epoch history (numbers only) and the
      versions of skdann, torch, scikit-learn, skorch and numpy.
  ``weights.pt``
      The network's ``state_dict``, read back with
      ``torch.load(..., weights_only=True, map_location="cpu")``.
  ``preprocessing.skops``
      For a :class:`~sklearn.pipeline.Pipeline` ending in a DANN estimator,
      the steps before it, written with :mod:`skops.io` (``pip install
      skops``) and loaded only when every type they use is a class from
      scikit-learn, NumPy or ``scipy.sparse``, a plain built-in type, or a
      type the caller names in ``trusted``.
  ``checksums.json``
      The SHA-256 of each other member. :func:`load` and :func:`read_config`
      refuse a member whose content does not match, so a damaged file or a
      hand-edited config (swapped ``classes_``, a changed ``alpha``) is a
      one-line error rather than a model that predicts differently.

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
import sys
import warnings
import zipfile
import zlib

import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._model_state import (
    ESTIMATORS,
    NOT_A_MODEL,
    WEIGHTS,
    encode_fitted,
    encode_params,
    history_row,
    network_size,
    rebuild,
    versions,
)

__all__ = ["load", "read_config", "save"]

FORMAT, FORMAT_VERSION = "skdann-model", 2
_READS = (1, 2)  # format 1: no checksums
_CONFIG, _PREPROCESSING, _CHECKSUMS = "config.json", "preprocessing.skops", "checksums.json"
_MAX_CONFIG_BYTES = 64 * 2**20  # the history of a million epochs fits
_MAX_CHECKSUMS_BYTES = 2**16
# The built-in network's weights are float32; torch.save adds a header per tensor.
_WEIGHT_SLACK_BYTES = 2**20
_TRUSTED_ROOTS = ("sklearn", "numpy", "scipy.sparse")
_TRUSTED_TEXT = "classes from scikit-learn, NumPy and scipy.sparse, plain built-in types"
_BUILTIN_TYPES = {
    "bool", "bytes", "complex", "dict", "float", "frozenset", "int", "list", "NoneType",
    "object", "set", "slice", "str", "tuple",
}  # fmt: skip


def save(estimator, path):
    """Save a fitted DANN estimator, or a Pipeline ending in one, to ``path``.

    Parameters
    ----------
    estimator : DANNClassifier, DANNRegressor or Pipeline
        The fitted model. A :class:`~sklearn.pipeline.Pipeline` ending in a
        DANN estimator needs ``skops`` (``pip install skops``) for the steps
        before it.
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
    pipeline = estimator if isinstance(estimator, Pipeline) else None
    est = estimator.steps[-1][1] if pipeline is not None else estimator
    if type(est) not in ESTIMATORS.values():
        raise TypeError(
            "skdann.io.save saves a DANNClassifier, a DANNRegressor or a Pipeline ending in "
            f"one; got {type(est).__name__}. Pickle other models (trusted files only)."
        )
    check_is_fitted(est)
    params, dropped, custom = encode_params(est)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": type(est).__name__,
        "params": params,
        "custom_feature_extractor": custom,
        "fitted": encode_fitted(est),
        "history": [history_row(row) for row in est.history_],
        "versions": versions(),
        "pipeline": None,
    }
    members = {}
    if pipeline is not None:
        names = getattr(pipeline, "feature_names_in_", None)
        config["pipeline"] = {
            "final_step": pipeline.steps[-1][0],
            "feature_names_in_": None if names is None else [str(n) for n in names],
        }
        if len(pipeline) > 1:
            members[_PREPROCESSING] = _skops().dumps(pipeline[:-1])
            config["versions"]["skops"] = sys.modules["skops"].__version__
    weights = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in est.net_.module_.state_dict().items()}, weights)
    members[WEIGHTS] = weights.getvalue()
    members[_CONFIG] = json.dumps(config, indent=1).encode("utf-8")
    checksums = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    members[_CHECKSUMS] = json.dumps({"sha256": checksums}, indent=1).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (_CONFIG, WEIGHTS, _PREPROCESSING, _CHECKSUMS):
            if name in members:
                archive.writestr(name, members[name])
    if custom is not None:
        warnings.warn(
            f"{path} stores the weights of the custom feature_extractor ({custom}) but not "
            "its code: pass it back with skdann.io.load(path, feature_extractor=...).",
            UserWarning,
            stacklevel=2,
        )
    if dropped:
        warnings.warn(
            f"{path} does not store {', '.join(dropped)} (user code or state used only for "
            "training); the loaded model has their defaults.",
            UserWarning,
            stacklevel=2,
        )


def load(path, *, feature_extractor=None, trusted=None):
    """Load a model written by :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save`.
    feature_extractor : torch.nn.Module or callable, default=None
        The custom ``feature_extractor`` the model was fitted with (the same
        module or factory), required when it had one; its weights are read
        from the file.
    trusted : list of str, default=None
        Types of the preprocessing steps to accept beyond the built-in
        allow-list (classes from scikit-learn, NumPy and ``scipy.sparse``,
        and plain built-in types). The error for a refused file lists them.

    Returns
    -------
    DANNClassifier, DANNRegressor or Pipeline
        The fitted model, as saved, on the CPU (``device="cpu"``).
        Callable schedules and ``callbacks`` are back to their defaults.

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
    config, members = _read_archive(path, weights=True)
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
    try:
        est = rebuild(path, config, members[WEIGHTS], feature_extractor)
    except (AttributeError, KeyError, IndexError, TypeError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(
            f"{path}: cannot rebuild the model its config describes: {message}"
        ) from exc
    if config["pipeline"] is None:
        return est
    steps = []
    if _PREPROCESSING in members:
        steps = _load_preprocessing(path, members[_PREPROCESSING], trusted or []).steps
    return Pipeline([*steps, (config["pipeline"]["final_step"], est)])


def _skops():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "Saving or loading the preprocessing steps of a Pipeline needs skops: "
            "pip install skops (or pip install skdann[io])."
        ) from exc
    return skops.io


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
        history and the library versions it was saved with.

    Raises
    ------
    ValueError
        When ``path`` is not a valid model file (a pickle, a damaged or
        edited archive).
    """
    return _read_archive(path, weights=False)[0]


def _read_archive(path, weights):
    """Return the checked config and the members of a model file.

    With ``weights=False`` only the config is read; otherwise the weights
    (after their declared size is compared with the config) and the
    preprocessing too. Every member read is compared with its checksum.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_members(path, archive, weights)
    except zipfile.BadZipFile as exc:
        raise ValueError(
            f"{path} is not a skdann model file (not a zip archive). skdann.io.load never "
            "unpickles; load pickle or joblib files with pickle or joblib, and only if you "
            "trust them."
        ) from exc


def _read_members(path, archive, weights):
    infos = {info.filename: info for info in archive.infolist()}
    missing = [name for name in (_CONFIG, WEIGHTS) if name not in infos]
    if missing:
        raise ValueError(NOT_A_MODEL.format(path, f"it lacks {missing}"))
    checksums = None
    if _CHECKSUMS in infos:
        data = _read_member(path, archive, infos[_CHECKSUMS], _MAX_CHECKSUMS_BYTES, None)
        checksums = _parse_checksums(path, data, infos)
    members = {_CONFIG: _read_member(path, archive, infos[_CONFIG], _MAX_CONFIG_BYTES, checksums)}
    config = _parse_config(path, members[_CONFIG])
    if checksums is None and config["format_version"] >= 2:
        raise ValueError(NOT_A_MODEL.format(path, f"it lacks {[_CHECKSUMS]}"))
    if not weights:
        return config, members
    _check_training_only(path, config)
    limit = _weights_limit(path, config, infos[WEIGHTS].file_size)
    members[WEIGHTS] = _read_member(path, archive, infos[WEIGHTS], limit, checksums)
    if _PREPROCESSING in infos:
        members[_PREPROCESSING] = _read_member(
            path, archive, infos[_PREPROCESSING], None, checksums
        )
    return config, members


def _read_member(path, archive, info, limit, checksums):
    """Read one member after checking its declared size; compare it with its checksum."""
    if limit is not None and info.file_size > limit:
        raise ValueError(
            NOT_A_MODEL.format(
                path, f"{info.filename} declares {info.file_size} bytes, more than {limit}"
            )
        )
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        message = f"{info.filename} is damaged ({detail}); save the model again"
        raise ValueError(NOT_A_MODEL.format(path, message)) from exc
    if checksums is not None and hashlib.sha256(data).hexdigest() != checksums[info.filename]:
        raise ValueError(
            NOT_A_MODEL.format(
                path,
                f"the content of {info.filename} does not match its checksum (the file was "
                "damaged or edited); save the model again from the fitted estimator",
            )
        )
    return data


def _parse_checksums(path, data, infos):
    try:
        checksums = json.loads(data)["sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(NOT_A_MODEL.format(path, f"bad {_CHECKSUMS}")) from exc
    listed = {_CONFIG, WEIGHTS, _PREPROCESSING} & set(infos)
    valid = isinstance(checksums, dict) and all(isinstance(v, str) for v in checksums.values())
    if not valid or set(checksums) != listed:
        message = f"{_CHECKSUMS} does not list the members of the archive ({sorted(listed)})"
        raise ValueError(NOT_A_MODEL.format(path, message))
    return checksums


def _parse_config(path, data):
    try:
        config = json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        raise ValueError(NOT_A_MODEL.format(path, f"bad {_CONFIG}")) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(NOT_A_MODEL.format(path, f"{_CONFIG} is not skdann's"))
    if config.get("format_version") not in _READS or type(config["format_version"]) is not int:
        raise ValueError(
            f"{path} has format version {config.get('format_version')!r}; this skdann reads "
            f"versions {_READS[0]} to {_READS[-1]}. Upgrade skdann."
        )
    sections = {"params": dict, "fitted": dict, "history": list, "versions": dict}
    bad = [key for key, kind in sections.items() if not isinstance(config.get(key), kind)]
    if bad:
        raise ValueError(NOT_A_MODEL.format(path, f"bad {bad} in {_CONFIG}"))
    if not all(isinstance(row, dict) for row in config["history"]):
        raise ValueError(NOT_A_MODEL.format(path, f"bad ['history'] in {_CONFIG}"))
    if config.get("estimator") not in ESTIMATORS:
        message = f"unknown estimator {config.get('estimator')!r}"
        raise ValueError(NOT_A_MODEL.format(path, f"{message} (not in {sorted(ESTIMATORS)})"))
    config.setdefault("pipeline", None)
    config.setdefault("custom_feature_extractor", None)
    return config


def _check_training_only(path, config):
    """A file stores no user code: ``callbacks`` can only be empty."""
    callbacks = config["params"].get("callbacks")
    if callbacks not in (None, []):
        message = f"its callbacks are {callbacks!r}; a model file stores none (null or [])"
        raise ValueError(NOT_A_MODEL.format(path, message))


def _weights_limit(path, config, declared):
    """The most bytes the weights of the config's network can take, checked against ``declared``.

    Only for the built-in MLP (a custom extractor's size is not in the
    config): its linear layers hold at least ``4 * n_weights`` bytes, and the
    whole network (with every head the objective builds) less than twice its
    values' bytes plus headers. None when the sizes cannot be read (the
    rebuild then says what is wrong).
    """
    size = network_size(config)
    if size is None:
        return None
    n_values, extractor_weights = size
    if declared < 4 * extractor_weights:
        hidden = config["params"].get("hidden_layer_sizes")
        inputs = config["fitted"].get("n_features_in_")
        raise ValueError(
            NOT_A_MODEL.format(
                path,
                f"its config describes a feature extractor of {extractor_weights} weights "
                f"(hidden_layer_sizes {hidden} on {inputs} inputs), but {WEIGHTS} holds only "
                f"{declared} bytes",
            )
        )
    return 8 * n_values + _WEIGHT_SLACK_BYTES


def _load_preprocessing(path, data, trusted):
    skops_io = _skops()
    try:
        untrusted = skops_io.get_untrusted_types(data=data)
    except (zipfile.BadZipFile, zlib.error, ValueError, KeyError, EOFError) as exc:
        message = f"{_PREPROCESSING} is not a skops file ({type(exc).__name__})"
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
    module, _, attr = name.rpartition(".")
    if module == "builtins":
        return attr in _BUILTIN_TYPES
    if not any(module == root or module.startswith(root + ".") for root in _TRUSTED_ROOTS):
        return False
    return isinstance(getattr(sys.modules.get(module), attr, None), type)
