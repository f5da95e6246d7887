"""Save and load fitted DANN models in a file that runs no code when loaded.

Two ways to keep a fitted model:

- ``pickle`` or ``joblib``: the fast path, for files you wrote yourself or
  otherwise trust. Unpickling a file can run any code it holds, so never
  load a pickle that travelled from someone else.
- :func:`save` and :func:`load`: for files that travel. A model file is a
  zip archive of three parts, none of them a pickle:

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

A loaded model predicts on the CPU (its ``device`` parameter is ``"cpu"``),
whatever device it was fitted on. User code (a custom ``feature_extractor``,
callable schedules, ``callbacks``) is not stored: see :func:`save`.
"""

import io
import json
import sys
import warnings
import zipfile

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._classifier import DANNClassifier
from ._module import build_module
from ._regressor import DANNRegressor

__all__ = ["load", "save"]

FORMAT, FORMAT_VERSION = "skdann-model", 1
_CONFIG, _WEIGHTS, _PREPROCESSING = "config.json", "weights.pt", "preprocessing.skops"
_ESTIMATORS = {"DANNClassifier": DANNClassifier, "DANNRegressor": DANNRegressor}
_TRAINING_ONLY = ("adversarial_schedule", "learning_rate_schedule", "callbacks", "random_state")
_FITTED_INTS = ("n_features_in_", "n_domains_", "n_iter_", "_n_features_out")
_NOT_A_MODEL = "{} is not a valid skdann model file: {}."
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
    if type(est) not in _ESTIMATORS.values():
        raise TypeError(
            "skdann.io.save saves a DANNClassifier, a DANNRegressor or a Pipeline ending in "
            f"one; got {type(est).__name__}. Pickle other models (trusted files only)."
        )
    check_is_fitted(est)
    params, dropped, custom = _encode_params(est)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": type(est).__name__,
        "params": params,
        "custom_feature_extractor": custom,
        "fitted": _encode_fitted(est),
        "history": [_history_row(row) for row in est.history_],
        "versions": _versions(),
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
    members[_WEIGHTS] = weights.getvalue()
    members[_CONFIG] = json.dumps(config, indent=1).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (_CONFIG, _WEIGHTS, _PREPROCESSING):
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
    config, members = _read_archive(path)
    current = _versions()
    for name in ("skdann", "torch", "scikit-learn"):
        if config["versions"].get(name) != current[name]:
            warnings.warn(
                f"{path} was saved with {name} {config['versions'].get(name)}; this is {name} "
                f"{current[name]}. The model may predict differently: refit it, or install "
                "the saved version.",
                UserWarning,
                stacklevel=2,
            )
    est = _rebuild(path, config, members[_WEIGHTS], feature_extractor)
    if config["pipeline"] is None:
        return est
    steps = []
    if _PREPROCESSING in members:
        steps = _load_preprocessing(path, members[_PREPROCESSING], trusted or []).steps
    return Pipeline([*steps, (config["pipeline"]["final_step"], est)])


def _encode_params(est):
    defaults = type(est)().get_params(deep=False)
    params, dropped, custom = {}, [], None
    for name, value in est.get_params(deep=False).items():
        if name == "feature_extractor" and value is not None:
            code = value if not isinstance(value, torch.nn.Module) else type(value)
            custom = f"{getattr(code, '__module__', '?')}.{getattr(code, '__qualname__', '?')}"
            value = None
        elif name == "class_weight" and isinstance(value, dict):
            value = list(value.items())  # label-weight pairs: JSON keys would become strings
        elif name == "device":
            value = str(value)
        try:
            params[name] = _plain(value)
        except TypeError as exc:
            if name not in _TRAINING_ONLY:
                raise TypeError(f"{exc} (parameter {name})") from exc
            params[name] = defaults[name]
            if value != []:  # an empty callbacks list loses nothing
                dropped.append(name)
    return params, dropped, custom


def _plain(value):
    """Return ``value`` as JSON data (tuples as lists); ``TypeError`` for anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in a model file")


def _encode_fitted(est):
    fitted = {name: int(getattr(est, name)) for name in _FITTED_INTS}
    names = getattr(est, "feature_names_in_", None)
    fitted["feature_names_in_"] = None if names is None else [str(n) for n in names]
    if isinstance(est, DANNClassifier):
        if est.classes_.dtype.kind not in "biufUO":
            raise TypeError(f"cannot store classes_ of dtype {est.classes_.dtype}")
        fitted["classes_"] = {"dtype": est.classes_.dtype.str, "values": _plain(est.classes_)}
        return fitted
    return {
        **fitted,
        "n_outputs_": int(est.n_outputs_),
        "target_mean_": _plain(est.target_mean_),
        "target_scale_": _plain(est.target_scale_),
        "_y_ndim": int(est._y_ndim),
    }


def _history_row(row):
    numbers = (bool, int, float, np.number, np.bool_)
    return {k: _plain(v) for k, v in row.items() if k != "batches" and isinstance(v, numbers)}


def _versions():
    import sklearn
    import skorch

    from . import __version__

    return {
        "skdann": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "numpy": np.__version__,
    }


def _skops():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "Saving or loading the preprocessing steps of a Pipeline needs skops: "
            "pip install skops (or pip install skdann[io])."
        ) from exc
    return skops.io


def _read_archive(path):
    """Return the checked config and the members of a model file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist()) & {_CONFIG, _WEIGHTS, _PREPROCESSING}
            members = {name: archive.read(name) for name in names}
    except zipfile.BadZipFile as exc:
        raise ValueError(
            f"{path} is not a skdann model file (not a zip archive). skdann.io.load never "
            "unpickles; load pickle or joblib files with pickle or joblib, and only if you "
            "trust them."
        ) from exc
    missing = [name for name in (_CONFIG, _WEIGHTS) if name not in members]
    if missing:
        raise ValueError(_NOT_A_MODEL.format(path, f"it lacks {missing}"))
    try:
        config = json.loads(members[_CONFIG])
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        raise ValueError(_NOT_A_MODEL.format(path, f"bad {_CONFIG}")) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(_NOT_A_MODEL.format(path, f"{_CONFIG} is not skdann's"))
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has format version {config.get('format_version')!r}; this skdann reads "
            f"version {FORMAT_VERSION}. Upgrade skdann."
        )
    sections = {"params": dict, "fitted": dict, "history": list, "versions": dict}
    bad = [key for key, kind in sections.items() if not isinstance(config.get(key), kind)]
    if bad:
        raise ValueError(_NOT_A_MODEL.format(path, f"bad {bad} in {_CONFIG}"))
    if config.get("estimator") not in _ESTIMATORS:
        message = f"unknown estimator {config.get('estimator')!r}"
        raise ValueError(_NOT_A_MODEL.format(path, f"{message} (not in {sorted(_ESTIMATORS)})"))
    config.setdefault("pipeline", None)
    config.setdefault("custom_feature_extractor", None)
    return config, members


def _rebuild(path, config, weights, feature_extractor):
    """Build the estimator and its inference net from the config, then load the weights."""
    cls, custom = _ESTIMATORS[config["estimator"]], config["custom_feature_extractor"]
    if custom is not None and feature_extractor is None:
        raise ValueError(
            f"{path} was fitted with a custom feature_extractor ({custom}), whose code a model "
            "file does not store: pass it back with skdann.io.load(path, feature_extractor=...)."
        )
    if custom is None and feature_extractor is not None:
        raise ValueError(f"{path} has no custom feature_extractor; load it without one.")
    try:
        state = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
    except Exception as exc:  # the restricted unpickler refuses anything but tensors
        message = f"{_WEIGHTS} is not a plain state_dict ({type(exc).__name__})"
        raise ValueError(_NOT_A_MODEL.format(path, message)) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(_NOT_A_MODEL.format(path, f"{_WEIGHTS} holds no state_dict"))
    try:
        params = _decode_params(cls, config["params"], feature_extractor)
        est = _decode_fitted(cls(**params), config["fitted"])
        with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
            module = build_module(
                est.n_features_in_,
                len(est.classes_) if cls is DANNClassifier else est.n_outputs_,
                hidden_layer_sizes=est.hidden_layer_sizes,
                activation=est.activation,
                dropout=est.dropout,
                domain_hidden_layer_sizes=est.domain_hidden_layer_sizes,
                feature_extractor=est.feature_extractor,
                n_domains=max(est.n_domains_, 2),
            )
            # A copy without early stopping builds the net: no training data needed.
            builder = cls(**{**params, "early_stopping": False})
            net = builder._build_net(module, "cpu", 0, None, None).initialize()
        net.history = History([{**row, "batches": []} for row in config["history"]])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: cannot rebuild the model its config describes: {exc}") from exc
    try:
        net.module_.load_state_dict(state)
    except RuntimeError as exc:
        given = " and the feature_extractor given" if custom else ""
        detail = " ".join(str(exc).split())
        raise ValueError(
            f"{path}: the weights do not match the network its config describes{given}: {detail}"
        ) from exc
    if module.label_head.in_features != est._n_features_out:
        raise ValueError(_NOT_A_MODEL.format(path, "_n_features_out differs from the weights'"))
    est.net_, est.history_ = net, net.history
    return est


def _decode_params(cls, params, feature_extractor):
    unknown = sorted(set(params) - set(cls().get_params(deep=False)))
    if unknown:
        raise ValueError(f"unknown parameters {unknown} for {cls.__name__}")
    sizes = ("hidden_layer_sizes", "domain_hidden_layer_sizes")  # JSON made the tuples lists
    params = {k: tuple(v) if k in sizes and isinstance(v, list) else v for k, v in params.items()}
    if isinstance(params.get("class_weight"), list):
        params["class_weight"] = dict(params["class_weight"])
    return {**params, "device": "cpu", "feature_extractor": feature_extractor}


def _decode_fitted(est, fitted):
    for name in _FITTED_INTS:
        if type(fitted[name]) is not int or fitted[name] < 1:
            raise ValueError(f"{name} must be a positive int, got {fitted[name]!r}")
        setattr(est, name, fitted[name])
    names = fitted.get("feature_names_in_")
    if names is not None:
        if len(names) != est.n_features_in_ or not all(isinstance(n, str) for n in names):
            raise ValueError("feature_names_in_ does not match n_features_in_")
        est.feature_names_in_ = np.asarray(names, dtype=object)
    if isinstance(est, DANNClassifier):
        dtype, values = np.dtype(fitted["classes_"]["dtype"]), fitted["classes_"]["values"]
        if dtype.kind not in "biufUO" or not isinstance(values, list) or len(values) < 2:
            raise ValueError("classes_ must hold at least two labels of a plain dtype")
        est.classes_ = np.empty(len(values), dtype=dtype)
        est.classes_[:] = values
        return est
    est.n_outputs_, est._y_ndim = fitted["n_outputs_"], fitted["_y_ndim"]
    est.target_mean_ = np.asarray(fitted["target_mean_"], dtype=np.float64)
    est.target_scale_ = np.asarray(fitted["target_scale_"], dtype=np.float64)
    shapes = {est.target_mean_.shape, est.target_scale_.shape}
    if est._y_ndim not in (1, 2) or shapes != {(est.n_outputs_,)}:
        raise ValueError("the regressor's target attributes are inconsistent")
    return est


def _load_preprocessing(path, data, trusted):
    skops_io = _skops()
    untrusted = skops_io.get_untrusted_types(data=data)
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
