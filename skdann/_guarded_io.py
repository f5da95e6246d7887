"""The guarded estimator in a model file (format version 4).

Its config node holds the estimator's parameters, ``weights_``, ``report_``
and ``evidence_`` (numbers only) and the order of its candidates; each DANN
candidate (an estimator or a pipeline ending in one) is a member node under
``members/<i>/``, written as any DANN model; the source-only baselines are
one skops member, ``baselines.skops``, loaded under the same allow-list as a
pipeline's preprocessing. So a loaded model predicts, reports and
``reweigh``-s as the fitted one.
"""

import numbers

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._archive import NOT_A_MODEL
from ._model_state import plain

BASELINES = "baselines.skops"
_PARAMS = ("rule", "margin", "validation_fraction", "random_state", "label_shift_threshold")


def _json(value):
    """``value`` as JSON data: dicts (string keys), lists and plain numbers or strings."""
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim):
        return [_json(item) for item in value]
    return plain(value)


def is_dann_model(model):
    """Whether a candidate is a DANN estimator or a pipeline ending in one (a member node)."""
    from ._base import BaseDANN
    from ._prefit import dann_path

    return isinstance(model, BaseDANN) or bool(dann_path(model))


def encode_guarded(model, notes, encode, skops_io):
    """The config node and members of a fitted guarded estimator."""
    check_is_fitted(model)
    params = {}
    for name in _PARAMS:
        if name in model.get_params(deep=False):
            value = getattr(model, name)
            if name == "random_state" and not (
                value is None or isinstance(value, numbers.Integral)
            ):
                notes["dropped"].add("random_state")
                value = None
            params[name] = plain(value)
    for name in ("candidates", "baselines"):
        if getattr(model, name) is not None:
            notes["dropped"].add(name)  # the fitted models are stored; the templates are not
    order, baselines, nodes, members = [], [], [], {}
    for name, candidate in model.candidates_.items():
        if is_dann_model(candidate):
            node, files = encode(candidate, f"members/{len(nodes)}/", notes)
            nodes.append(node)
            members.update(files)
            order.append(["member", name])
        else:
            baselines.append(candidate)
            order.append(["baseline", name])
    if baselines:
        members[BASELINES] = skops_io.dumps(baselines)
    evidence = dict(model.evidence_)
    fitted = {
        "n_features_in_": int(model.n_features_in_),
        "weights_": model.weights_,
        "report_": _json(model.report_),
        "evidence_": _json(evidence),
        "order": order,
    }
    if is_classifier(model):
        fitted["classes_"] = {"dtype": model.classes_.dtype.str, "values": plain(model.classes_)}
    node = {"estimator": type(model).__name__, "params": params, "fitted": fitted}
    node["members"] = nodes
    return node, members


def decode_guarded(path, node, members, decode, load_baselines):
    """Rebuild a fitted guarded estimator from its node (members decoded with ``decode``)."""
    from .ensemble import GuardedAdaptationClassifier, GuardedAdaptationRegressor

    classes = {c.__name__: c for c in (GuardedAdaptationClassifier, GuardedAdaptationRegressor)}
    fitted = node["fitted"]
    dann = [decode(member, f"members/{i}/") for i, member in enumerate(node["members"])]
    baselines = list(load_baselines(members[BASELINES])) if BASELINES in members else []
    try:
        model = classes[node["estimator"]](**node["params"])
        model._validate_params()
        candidates = {}
        for kind, name in fitted["order"]:
            candidates[name] = (dann if kind == "member" else baselines).pop(0)
        if dann or baselines:
            raise ValueError("the candidates do not match their order")
        model.candidates_ = candidates
        model.weights_ = {str(k): float(v) for k, v in fitted["weights_"].items()}
        model.n_features_in_ = int(fitted["n_features_in_"])
        if "classes_" in fitted:
            dtype, values = np.dtype(fitted["classes_"]["dtype"]), fitted["classes_"]["values"]
            model.classes_ = np.empty(len(values), dtype=dtype)
            model.classes_[:] = values
        evidence = dict(fitted["evidence_"])
        for key in ("is_baseline", "considered"):
            evidence[key] = np.asarray(evidence[key], dtype=bool)
        for key in ("holdout_predictions", "holdout_targets", "importance"):
            evidence[key] = np.asarray(evidence[key])
        model.evidence_ = evidence
        model.report_ = fitted["report_"]
        if list(candidates) != list(evidence["names"]) or list(model.weights_) != list(candidates):
            raise ValueError("the candidates do not match the weights and the evidence")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(NOT_A_MODEL.format(path, f"bad guarded estimator: {message}")) from exc
    return model
