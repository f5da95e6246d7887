"""Reading a model file's zip archive: sizes, checksums and the config's shape.

A model file holds one *model node* (a DANN estimator, or a
``SeedEnsemble`` whose ``members`` are nodes themselves), each with its
weights member and, for a pipeline, its preprocessing member under the
node's prefix (``""`` at the top, ``"members/<i>/"`` in an ensemble).
Nothing here builds a model: :mod:`skdann.io` does, from what this returns.
"""

import hashlib
import json
import zipfile
import zlib

# Standard library only at import time: ``skdann info`` reads a config without torch.
CONFIG, PREPROCESSING, CHECKSUMS = "config.json", "preprocessing.skops", "checksums.json"
WEIGHTS = "weights.pt"
NOT_A_MODEL = "{} is not a valid skdann model file: {}."
ESTIMATORS = ("DANNClassifier", "DANNRegressor")  # the classes: _model_state.ESTIMATORS
ENSEMBLE = "SeedEnsemble"
GUARDED = ("GuardedAdaptationClassifier", "GuardedAdaptationRegressor")
BASELINES = "baselines.skops"  # a guarded estimator's source-only models (skops)
FORMAT = "skdann-model"
READS = (1, 2, 3, 4)  # 1: no checksums; 3: a SeedEnsemble (members under members/<i>/); 4: guarded
_MAX_CONFIG_BYTES = 64 * 2**20  # the history of a million epochs fits
_MAX_CHECKSUMS_BYTES = 2**16
# The built-in network's weights are float32; torch.save adds a header per tensor.
_WEIGHT_SLACK_BYTES = 2**20


def nodes(config, prefix=""):
    """Yield ``(prefix, node)`` for the config's model and, in an ensemble, each member."""
    yield prefix, config
    if config.get("estimator") in (ENSEMBLE, *GUARDED):
        for index, member in enumerate(config["members"]):
            yield from nodes(member, f"{prefix}members/{index}/")


def read_config(path):
    """The checked config of a model file, read without its weights (see ``skdann.io``)."""
    return read_archive(path, weights=False)[0]


def read_archive(path, weights):
    """Return the checked config and the members of a model file.

    With ``weights=False`` only the config is read; otherwise every node's
    weights (after their declared size is compared with the node's config)
    and preprocessing too. Every member read is compared with its checksum.
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
    ensemble = any(name.startswith("members/") or name == BASELINES for name in infos)
    missing = [name for name in (CONFIG, WEIGHTS) if name not in infos]
    if missing and missing != [WEIGHTS] * ensemble:  # an ensemble's weights are its members'
        raise ValueError(NOT_A_MODEL.format(path, f"it lacks {missing}"))
    checksums = None
    if CHECKSUMS in infos:
        data = _read_member(path, archive, infos[CHECKSUMS], _MAX_CHECKSUMS_BYTES, None)
        checksums = _parse_checksums(path, data, infos)
    members = {CONFIG: _read_member(path, archive, infos[CONFIG], _MAX_CONFIG_BYTES, checksums)}
    config = _parse_config(path, members[CONFIG])
    missing = [p + WEIGHTS for p, node in nodes(config) if _has_weights(node)]
    missing = [name for name in missing if name not in infos]
    if missing:
        raise ValueError(NOT_A_MODEL.format(path, f"it lacks {missing}"))
    if checksums is None and config["format_version"] >= 2:
        raise ValueError(NOT_A_MODEL.format(path, f"it lacks {[CHECKSUMS]}"))
    if not weights:
        return config, members
    for prefix, node in nodes(config):
        if _has_weights(node):
            _check_training_only(path, node)
            info = infos[prefix + WEIGHTS]
            limit = _weights_limit(path, node, info)
            members[info.filename] = _read_member(path, archive, info, limit, checksums)
        for name in (PREPROCESSING, BASELINES):
            if prefix + name in infos:
                info = infos[prefix + name]
                members[info.filename] = _read_member(path, archive, info, None, checksums)
    return config, members


def _has_weights(node):
    return node["estimator"] not in (ENSEMBLE, *GUARDED)


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
        raise ValueError(NOT_A_MODEL.format(path, f"bad {CHECKSUMS}")) from exc
    listed = set(infos) - {CHECKSUMS}
    valid = isinstance(checksums, dict) and all(isinstance(v, str) for v in checksums.values())
    if not valid or set(checksums) != listed:
        message = f"{CHECKSUMS} does not list the members of the archive ({sorted(listed)})"
        raise ValueError(NOT_A_MODEL.format(path, message))
    return checksums


def _parse_config(path, data):
    try:
        config = json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        raise ValueError(NOT_A_MODEL.format(path, f"bad {CONFIG}")) from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(NOT_A_MODEL.format(path, f"{CONFIG} is not skdann's"))
    if config.get("format_version") not in READS or type(config["format_version"]) is not int:
        raise ValueError(
            f"{path} has format version {config.get('format_version')!r}; this skdann reads "
            f"versions {READS[0]} to {READS[-1]}. Upgrade skdann."
        )
    _check_node(path, config, ensemble=config["format_version"] >= 3, top=True)
    if config.get("estimator") in GUARDED and config["format_version"] < 4:
        raise ValueError(NOT_A_MODEL.format(path, "a guarded estimator needs format version 4"))
    return config


def _check_node(path, node, ensemble, top=False):
    """Check one model node's sections (recursively for an ensemble's members)."""
    if ensemble and node.get("estimator") in (ENSEMBLE, *GUARDED):
        sections = {"params": dict, "fitted": dict, "members": list}
    else:
        sections = {"params": dict, "fitted": dict, "history": list}
    if top:
        sections["versions"] = dict
    bad = [key for key, kind in sections.items() if not isinstance(node.get(key), kind)]
    if bad:
        raise ValueError(NOT_A_MODEL.format(path, f"bad {bad} in {CONFIG}"))
    node.setdefault("pipeline", None)
    if node.get("estimator") in (ENSEMBLE, *GUARDED) and ensemble:
        guarded = node["estimator"] in GUARDED
        if not (node["members"] or guarded) or not all(
            isinstance(m, dict) for m in node["members"]
        ):
            raise ValueError(NOT_A_MODEL.format(path, f"bad ['members'] in {CONFIG}"))
        for member in node["members"]:
            _check_node(path, member, ensemble=False)
        return
    if not all(isinstance(row, dict) for row in node["history"]):
        raise ValueError(NOT_A_MODEL.format(path, f"bad ['history'] in {CONFIG}"))
    if node.get("estimator") not in ESTIMATORS:
        known = sorted([*ESTIMATORS, ENSEMBLE, *GUARDED] if ensemble else ESTIMATORS)
        message = f"unknown estimator {node.get('estimator')!r}"
        raise ValueError(NOT_A_MODEL.format(path, f"{message} (not in {known})"))
    node.setdefault("custom_feature_extractor", None)


def _check_training_only(path, node):
    """A file stores no user code: ``callbacks`` can only be empty."""
    callbacks = node["params"].get("callbacks")
    if callbacks not in (None, []):
        message = f"its callbacks are {callbacks!r}; a model file stores none (null or [])"
        raise ValueError(NOT_A_MODEL.format(path, message))


def _weights_limit(path, node, info):
    """The most bytes the weights of the node's network can take, checked against ``info``'s.

    Only for the built-in MLP (a custom extractor's size is not in the
    config): its linear layers hold at least ``4 * n_weights`` bytes, and the
    whole network (with every head the objective builds) less than twice its
    values' bytes plus headers. None when the sizes cannot be read (the
    rebuild then says what is wrong).
    """
    from ._model_state import network_size  # torch: only when the weights are read

    size = network_size(node)
    if size is None:
        return None
    n_values, extractor_weights = size
    if info.file_size < 4 * extractor_weights:
        hidden = node["params"].get("hidden_layer_sizes")
        inputs = node["fitted"].get("n_features_in_")
        raise ValueError(
            NOT_A_MODEL.format(
                path,
                f"its config describes a feature extractor of {extractor_weights} weights "
                f"(hidden_layer_sizes {hidden} on {inputs} inputs), but {info.filename} holds "
                f"only {info.file_size} bytes",
            )
        )
    return 8 * n_values + _WEIGHT_SLACK_BYTES
