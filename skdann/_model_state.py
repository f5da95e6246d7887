"""What a model file stores of an estimator, and how the estimator is rebuilt from it.

Used by :mod:`skdann.io`: parameters and fitted attributes as JSON data, the
per-epoch history as numbers, the library versions, and the inference net
rebuilt around the saved weights.
"""

import io

import numpy as np
import torch
from sklearn.base import is_regressor
from skorch.history import History

from ._archive import NOT_A_MODEL, WEIGHTS
from ._assembly import make_module, make_net
from ._classifier import DANNClassifier
from ._net import release_init_module
from ._regressor import DANNRegressor
from .objectives import Objective, objective_classes, resolve_objective

ESTIMATORS = {"DANNClassifier": DANNClassifier, "DANNRegressor": DANNRegressor}
TRAINING_ONLY = ("adversarial_schedule", "learning_rate_schedule", "callbacks", "random_state")
FITTED_INTS = ("n_features_in_", "n_domains_", "n_iter_", "_n_features_out")


def encode_params(est):
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
        elif isinstance(value, Objective):
            params[name] = encode_objective(value)  # already JSON data
            continue
        try:
            params[name] = plain(value)
        except TypeError as exc:
            if name not in TRAINING_ONLY:
                raise TypeError(f"{exc} (parameter {name})") from exc
            params[name] = defaults[name]
            if value != []:  # an empty callbacks list loses nothing
                dropped.append(name)
    return params, dropped, custom


def encode_objective(objective):
    """An objective instance as JSON data: its class name and parameters."""
    params = {}
    for name, value in objective.get_params(deep=False).items():
        params[name] = encode_objective(value) if isinstance(value, Objective) else plain(value)
    return {"objective": type(objective).__name__, "params": params}


def decode_objective(data):
    """The objective instance :func:`encode_objective` describes."""
    classes = objective_classes()
    if not isinstance(data, dict) or data.get("objective") not in classes:
        raise ValueError(f"unknown objective {data!r}; known: {sorted(classes)}")
    params = {
        name: decode_objective(value) if isinstance(value, dict) else value
        for name, value in data["params"].items()
    }
    return classes[data["objective"]](**params)


def plain(value):
    """Return ``value`` as JSON data (tuples as lists); ``TypeError`` for anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in a model file")


def encode_fitted(est):
    fitted = {name: int(getattr(est, name)) for name in FITTED_INTS}
    # The objective's heads follow from the domains seen at fit: how many are sources.
    fitted["n_source_domains_"] = int(est.n_source_domains_)
    names = getattr(est, "feature_names_in_", None)
    fitted["feature_names_in_"] = None if names is None else [str(n) for n in names]
    if isinstance(est, DANNClassifier):
        if est.classes_.dtype.kind not in "biufUO":
            raise TypeError(f"cannot store classes_ of dtype {est.classes_.dtype}")
        fitted["classes_"] = {"dtype": est.classes_.dtype.str, "values": plain(est.classes_)}
        return fitted
    return {
        **fitted,
        "n_outputs_": int(est.n_outputs_),
        "target_mean_": plain(est.target_mean_),
        "target_scale_": plain(est.target_scale_),
        "_y_ndim": int(est._y_ndim),
    }


def history_row(row):
    numbers = (bool, int, float, np.number, np.bool_)
    return {k: plain(v) for k, v in row.items() if k != "batches" and isinstance(v, numbers)}


def versions():
    import sklearn
    import skorch

    from ._version import __version__

    return {
        "skdann": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "numpy": np.__version__,
    }


def rebuild(path, config, weights, feature_extractor):
    """Build the estimator and its inference net from the config, then load the weights."""
    cls, custom = ESTIMATORS[config["estimator"]], config["custom_feature_extractor"]
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
        message = f"{WEIGHTS} is not a plain state_dict ({type(exc).__name__})"
        raise ValueError(NOT_A_MODEL.format(path, message)) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(NOT_A_MODEL.format(path, f"{WEIGHTS} holds no state_dict"))
    try:
        params = decode_params(cls, config["params"], feature_extractor)
        est = decode_fitted(cls(**params), config["fitted"])
        with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
            module = make_module(est, est.n_features_in_)
            has_target = est.n_domains_ > est.n_source_domains_
            net = make_net(est, module, "cpu", 0, has_target, training=False).initialize()
        release_init_module(net)
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
        raise ValueError(NOT_A_MODEL.format(path, "_n_features_out differs from the weights'"))
    est.net_, est.history_ = net, net.history
    return est


def network_size(config):
    """``(values, extractor_weights)`` of the network a config describes, or ``None``.

    The network is built on PyTorch's ``meta`` device, which allocates
    nothing: ``values`` counts every parameter and buffer the weights member
    must hold (whatever the objective's heads), ``extractor_weights`` the
    weights of the feature extractor's linear layers. ``None`` for a custom
    feature extractor or a config that does not describe a network (the
    rebuild then says what is wrong).
    """
    if config.get("custom_feature_extractor") is not None:
        return None
    try:
        cls = ESTIMATORS[config["estimator"]]
        est = decode_fitted(cls(**decode_params(cls, config["params"], None)), config["fitted"])
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            module = make_module(est, est.n_features_in_)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError):
        return None
    values = sum(t.numel() for t in [*module.parameters(), *module.buffers()])
    linear = [m for m in module.feature_extractor.modules() if isinstance(m, torch.nn.Linear)]
    return values, sum(m.weight.numel() for m in linear)


def decode_params(cls, params, feature_extractor):
    unknown = sorted(set(params) - set(cls().get_params(deep=False)))
    if unknown:
        raise ValueError(f"unknown parameters {unknown} for {cls.__name__}")
    sizes = ("hidden_layer_sizes", "domain_hidden_layer_sizes")  # JSON made the tuples lists
    params = {k: tuple(v) if k in sizes and isinstance(v, list) else v for k, v in params.items()}
    if isinstance(params.get("class_weight"), list):
        params["class_weight"] = dict(params["class_weight"])
    if isinstance(params.get("objective"), dict):
        params["objective"] = decode_objective(params["objective"])
    return {**params, "device": "cpu", "feature_extractor": feature_extractor}


def _n_source_domains(fitted, n_domains):
    """Source domains at fit; files of format 1 stored the domain head's width instead."""
    if "n_source_domains_" in fitted:
        value = fitted["n_source_domains_"]
        if type(value) is not int or not 1 <= value <= n_domains:
            raise ValueError(f"n_source_domains_ must be an int in [1, n_domains_], got {value!r}")
        return value
    logits = fitted["domain_logits"]
    if type(logits) is not int or logits < 1:
        raise ValueError(f"domain_logits must be a positive int, got {logits!r}")
    # One logit per source domain ("per_source", one target), else any split gives the head.
    return logits if n_domains > 2 and logits == n_domains - 1 else max(n_domains - 1, 1)


def decode_fitted(est, fitted):
    for name in FITTED_INTS:
        if type(fitted[name]) is not int or fitted[name] < 1:
            raise ValueError(f"{name} must be a positive int, got {fitted[name]!r}")
        setattr(est, name, fitted[name])
    est.n_source_domains_ = _n_source_domains(fitted, est.n_domains_)
    est.objective_ = resolve_objective(est.objective, type(est).__name__, is_regressor(est))
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
