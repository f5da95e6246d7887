"""skdann.io: model files that run no code when loaded."""

import copy
import hashlib
import io
import json
import pickle
import re
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from skorch.callbacks import Callback
from skorch.history import History
from torch import nn

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.ensemble import SeedEnsemble
from skdann.io import load, read_config, save

pytest.importorskip("skops")

FAST = {"max_iter": 3, "hidden_layer_sizes": (8,), "domain_hidden_layer_sizes": (4,)}


def _roundtrip(model, tmp_path, **load_kwargs):
    path = tmp_path / "model.skdann"
    save(model, path)
    return load(path, **load_kwargs), path


def _edit_config(path, edit, tmp_path, rehash=True):
    """Copy the model file at ``path`` with its config changed by ``edit``.

    ``rehash=True`` also recomputes the checksums, as a deliberate editor
    could: the checks behind the checksum still have to hold.
    """
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    if rehash:
        members = _rehash(members)
    return _write_zip(tmp_path / "edited.skdann", members)


def _rehash(members):
    sums = {n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n != "checksums.json"}
    return {**members, "checksums.json": json.dumps({"sha256": sums}).encode()}


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def fitted_classifier():
    """A classifier fitted once for the tests that only read it, and its target rows."""
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(40, 4)), rng.normal(size=(30, 4)) + 1.0
    y_source = (X_source[:, 0] > 0).astype(int)
    clf = DANNClassifier(**FAST, device="cpu", random_state=0)
    return clf.fit(X_source, y_source, X_target), X_target


@pytest.mark.parametrize(
    "labels, params",
    [
        (np.array([3, 7]), {"early_stopping": True, "validation_fraction": 0.2}),
        (np.array(["cat", "dog"]), {"class_weight": {"cat": 2.0, "dog": 1.0}}),
    ],
)
def test_classifier_round_trip(shifted_blobs, tmp_path, labels, params):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST, **params, random_state=0)
    clf.fit(X_source, labels[y_source], X_target)
    loaded, _ = _roundtrip(clf, tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(X_target), clf.predict_proba(X_target))
    np.testing.assert_array_equal(loaded.predict(X_target), clf.predict(X_target))
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert loaded.get_params() == {**clf.get_params(), "device": "cpu"}
    assert isinstance(loaded.history_, History) and loaded.n_iter_ == clf.n_iter_
    assert loaded.history_[:, "train_loss"] == pytest.approx(clf.history_[:, "train_loss"])
    np.testing.assert_array_equal(loaded.transform(X_target), clf.transform(X_target))


def test_multi_output_regressor_round_trip(shifted_blobs, tmp_path):
    X_source, _, X_target, _ = shifted_blobs
    y = np.c_[X_source[:, 0] * 100.0, X_source[:, 1] - 5.0]
    reg = DANNRegressor(**FAST, loss="huber", random_state=0).fit(X_source, y, X_target)
    loaded, _ = _roundtrip(reg, tmp_path)
    np.testing.assert_array_equal(loaded.predict(X_target), reg.predict(X_target))
    assert loaded.predict(X_target).shape == (len(X_target), 2)
    np.testing.assert_array_equal(loaded.target_mean_, reg.target_mean_)


def test_pipeline_round_trip(shifted_blobs, tmp_path):
    X_source, y_source, X_target, _ = shifted_blobs
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST, random_state=0))
    pipe.fit(*stack_domains(X_source * 10.0, y_source, X_target * 10.0))
    loaded, _ = _roundtrip(pipe, tmp_path)
    assert [name for name, _ in loaded.steps] == ["standardscaler", "dannclassifier"]
    np.testing.assert_array_equal(loaded.predict_proba(X_target), pipe.predict_proba(X_target))


def _frame(rng, n, shift):
    return pd.DataFrame(
        {
            "size": rng.normal(size=n) + shift,
            "weight": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
            "colour": pd.Series(rng.choice(["red", "green", "blue"], size=n), dtype=object),
        }
    )


def test_column_transformer_pipeline_on_a_dataframe(tmp_path):
    rng = np.random.RandomState(0)
    source, target = _frame(rng, 80, 0.0), _frame(rng, 60, 1.0)
    y_source = (source["size"] + (source["colour"] == "red") > 0).astype(int)
    pre = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), ["size", "weight"]),
        # A column selector stores the types sklearn...make_column_selector and builtins.object.
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include=object)),
    )
    pipe = make_pipeline(pre, DANNClassifier(**FAST, random_state=0))
    pipe.fit(*stack_domains(source, y_source, target))
    loaded, _ = _roundtrip(pipe, tmp_path)
    target.loc[0, "colour"] = "violet"  # unseen at fit
    np.testing.assert_array_equal(loaded.predict_proba(target), pipe.predict_proba(target))
    assert list(loaded.feature_names_in_) == ["size", "weight", "colour"]


class _SmallNet(nn.Module):
    def __init__(self, n_features=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, 6), nn.BatchNorm1d(6), nn.Tanh())

    def forward(self, X):
        return self.body(X)


@pytest.mark.parametrize("extractor", [_SmallNet(), _SmallNet], ids=["module", "factory"])
def test_custom_feature_extractor_is_passed_back(shifted_blobs, tmp_path, extractor):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(feature_extractor=extractor, max_iter=3, random_state=0)
    clf.fit(X_source, y_source, X_target)
    path = tmp_path / "model.skdann"
    with pytest.warns(UserWarning, match="stores the weights of the custom feature_extractor"):
        save(clf, path)
    message = (
        f"{path} was fitted with a custom feature_extractor (tests.test_io._SmallNet), whose "
        "code a model file does not store: pass it back with "
        "skdann.io.load(path, feature_extractor=...)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path)
    loaded = load(path, feature_extractor=extractor)
    np.testing.assert_array_equal(loaded.predict_proba(X_target), clf.predict_proba(X_target))
    with pytest.raises(ValueError, match="the weights do not match"):
        load(path, feature_extractor=nn.Sequential(nn.Linear(4, 3)))


def test_a_feature_extractor_for_a_model_without_one_is_refused(fitted_classifier, tmp_path):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    message = f"{path} has no custom feature_extractor; load it without one."
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path, feature_extractor=_SmallNet())


def test_training_only_code_is_dropped_with_a_warning(shifted_blobs, tmp_path):
    X_source, y_source, X_target, _ = shifted_blobs

    class Noop(Callback):
        pass

    clf = DANNClassifier(
        **FAST,
        adversarial_schedule=lambda p: min(1.0, 2 * p),
        callbacks=[Noop()],
        random_state=np.random.RandomState(0),
    ).fit(X_source, y_source, X_target)
    path = tmp_path / "model.skdann"
    message = (
        f"{path} does not store adversarial_schedule, callbacks, random_state (user code or "
        "state used only for training); the loaded model has their defaults."
    )
    with pytest.warns(UserWarning, match=re.escape(message)):
        save(clf, path)
    loaded = load(path)
    assert (loaded.adversarial_schedule, loaded.callbacks, loaded.random_state) == (
        "ganin",
        None,
        None,
    )
    np.testing.assert_array_equal(loaded.predict(X_target), clf.predict(X_target))


def test_weights_are_read_on_the_cpu_without_unpickling(fitted_classifier, tmp_path, monkeypatch):
    clf, X_target = fitted_classifier
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded, _ = _roundtrip(clf, tmp_path)
    assert calls == [{"weights_only": True, "map_location": "cpu"}]
    assert loaded.device == "cpu" and loaded.net_.device == "cpu"
    assert {p.device.type for p in loaded.net_.module_.parameters()} == {"cpu"}
    np.testing.assert_array_equal(loaded.predict_proba(X_target), clf.predict_proba(X_target))


def test_a_loaded_model_can_be_refit(fitted_classifier, shifted_blobs, tmp_path):
    X_source, y_source, X_target, _ = shifted_blobs
    loaded, _ = _roundtrip(fitted_classifier[0], tmp_path)
    assert loaded.set_params(max_iter=1).fit(X_source, y_source, X_target).n_iter_ == 1
    assert loaded.predict(X_target).shape == (len(X_target),)


class _Marker:
    """Unpickling this creates the file ``path``: what a malicious pickle would do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("writer", ["pickle", "joblib"])
def test_a_pickle_is_refused_and_never_run(tmp_path, writer):
    marker, path = tmp_path / "marker", tmp_path / "model.skdann"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(_Marker(marker)))
    else:
        joblib = pytest.importorskip("joblib")
        joblib.dump(_Marker(marker), path)
    message = f"{path} is not a skdann model file (not a zip archive)"
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path)
    assert not marker.exists()


def test_a_pickle_in_place_of_the_weights_is_refused(fitted_classifier, tmp_path):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    marker = tmp_path / "marker"
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json")
    bad = _write_zip(
        tmp_path / "bad.skdann",
        _rehash(
            {"config.json": config, "weights.pt": pickle.dumps([_Marker(marker), "x" * 400])}
        ),  # padded: the size is checked first
    )
    message = f"{bad} is not a valid skdann model file: weights.pt is not a plain state_dict"
    with pytest.raises(ValueError, match=re.escape(message)), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Detected pickle protocol 4"
        load(bad)
    assert not marker.exists()


def _set(key, value):
    def edit(config):
        section, _, name = key.rpartition(".")
        (config[section] if section else config)[name] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set("estimator", "os.system"), "unknown estimator 'os.system'"),
        (_set("format", "other"), "config.json is not skdann's"),
        (_set("params.hidden_layer_sizes", [9]), "the weights do not match the network"),
        (_set("params.activation", "banana"), "cannot rebuild the model"),
        (_set("fitted.n_features_in_", -1), "n_features_in_ must be a positive int"),
        (_set("params.secret", 1), "unknown parameters ['secret'] for DANNClassifier"),
        (_set("format_version", 99), "this skdann reads versions 1 to 4. Upgrade skdann."),
        (_set("params.callbacks", "x"), "its callbacks are 'x'; a model file stores none"),
        (_set("params.callbacks", [{"a": 1}]), "a model file stores none (null or [])"),
        (
            _set("params.hidden_layer_sizes", [12000, 12000]),
            "its config describes a feature extractor of 144048000 weights (hidden_layer_sizes "
            "[12000, 12000] on 4 inputs), but weights.pt holds only",
        ),
    ],
)
def test_a_tampered_config_is_refused(fitted_classifier, tmp_path, edit, message):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    with pytest.raises(ValueError, match=re.escape(message)):
        load(_edit_config(path, edit, tmp_path))


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize(
    "edit",
    [
        _set("fitted.classes_", {"dtype": "<i8", "values": [1, 0]}),
        _set("params.alpha", 0.5),
        _set("history", []),
    ],
    ids=["swapped classes", "alpha", "history"],
)
def test_an_edited_config_fails_its_checksum(fitted_classifier, tmp_path, edit):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    edited = _edit_config(path, edit, tmp_path, rehash=False)
    message = (
        f"{edited} is not a valid skdann model file: the content of config.json does not match "
        "its checksum (the file was damaged or edited); save the model again from the fitted "
        "estimator."
    )
    for reader in (load, read_config):
        with pytest.raises(ValueError, match=re.escape(message)):
            reader(edited)


def test_edited_weights_fail_their_checksum(fitted_classifier, tmp_path):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    members = _members(path)
    state = torch.load(io.BytesIO(members["weights.pt"]), weights_only=True)
    state["label_head.bias"] += 1.0
    buffer = io.BytesIO()
    torch.save(state, buffer)
    edited = _write_zip(tmp_path / "edited.skdann", {**members, "weights.pt": buffer.getvalue()})
    with pytest.raises(
        ValueError, match=re.escape("the content of weights.pt does not match its checksum")
    ):
        load(edited)
    assert read_config(edited)["estimator"] == "DANNClassifier"  # the config is intact


def test_a_damaged_deflate_stream_is_a_clear_error(fitted_classifier, tmp_path):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("weights.pt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start + 20, start + info.compress_size - 20, 7):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights.pt is damaged \(.+\); save the model again"):
        load(path)
    assert read_config(path)["estimator"] == "DANNClassifier"  # weights neither read nor inflated


def test_a_weights_member_larger_than_the_network_is_not_inflated(fitted_classifier, tmp_path):
    path = _roundtrip(fitted_classifier[0], tmp_path)[1]
    bomb = _rehash({**_members(path), "weights.pt": bytes(50 * 2**20)})
    bad = tmp_path / "bomb.skdann"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in bomb.items():
            archive.writestr(name, data)
    assert bad.stat().st_size < 2**20
    assert read_config(bad)["estimator"] == "DANNClassifier"
    message = (
        f"{bad} is not a valid skdann model file: weights.pt declares 52428800 bytes, more than"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load(bad)


def test_a_pickle_in_place_of_the_preprocessing_is_refused(fitted_classifier, tmp_path):
    pipe = Pipeline(
        [("scale", StandardScaler().fit(np.ones((2, 4)))), ("dann", fitted_classifier[0])]
    )
    path = _roundtrip(pipe, tmp_path)[1]
    marker = tmp_path / "marker"
    members = {**_members(path), "preprocessing.skops": pickle.dumps(_Marker(marker))}
    bad = _write_zip(tmp_path / "bad.skdann", _rehash(members))
    message = (
        f"{bad} is not a valid skdann model file: preprocessing.skops is not a skops file "
        "(BadZipFile)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load(bad)
    assert not marker.exists()


def test_format_1_files_without_checksums_still_load(fitted_classifier, tmp_path):
    clf, X_target = fitted_classifier
    path = _roundtrip(clf, tmp_path)[1]
    members = _members(path)
    del members["checksums.json"]
    config = json.loads(members["config.json"])
    config["format_version"] = 1
    old = _write_zip(tmp_path / "old.skdann", {**members, "config.json": json.dumps(config)})
    np.testing.assert_array_equal(load(old).predict(X_target), clf.predict(X_target))
    del config["format_version"]
    config["format_version"] = 2
    new = _write_zip(tmp_path / "new.skdann", {**members, "config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=re.escape("it lacks ['checksums.json']")):
        load(new)


@pytest.mark.parametrize(
    "members, message",
    [
        ({"config.json": b"{}"}, "it lacks ['weights.pt']"),
        ({"config.json": b"{not json", "weights.pt": b""}, "bad config.json"),
        ({"config.json": b"[" * 100_000, "weights.pt": b""}, "bad config.json"),
        ({"config.json": b"[]", "weights.pt": b""}, "config.json is not skdann's"),
    ],
)
def test_a_damaged_archive_is_refused(tmp_path, members, message):
    path = _write_zip(tmp_path / "model.skdann", members)
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path)


@pytest.mark.parametrize("package", ["skdann", "torch", "scikit-learn"])
def test_a_version_mismatch_warns(fitted_classifier, tmp_path, package):
    clf, X_target = fitted_classifier
    path = _roundtrip(clf, tmp_path)[1]
    current = json.loads(zipfile.ZipFile(path).read("config.json"))["versions"][package]
    edited = _edit_config(path, _set(f"versions.{package}", "0.0.1"), tmp_path)
    message = f"{edited} was saved with {package} 0.0.1; this is {package} {current}."
    with pytest.warns(UserWarning, match=re.escape(message)):
        loaded = load(edited)
    np.testing.assert_array_equal(loaded.predict(X_target), clf.predict(X_target))


def test_untrusted_preprocessing_types_are_refused_unless_trusted(shifted_blobs, tmp_path):
    X_source, y_source, X_target, _ = shifted_blobs
    pipe = make_pipeline(FunctionTransformer(np.nan_to_num), DANNClassifier(**FAST))
    pipe.fit(*stack_domains(X_source, y_source, X_target))
    path = tmp_path / "model.skdann"
    save(pipe, path)
    message = (
        f"{path}: its preprocessing steps use types outside skdann's allow-list (classes from "
        "scikit-learn, NumPy and scipy.sparse, skdann.preprocessing's, plain built-in types): "
        "['numpy.nan_to_num']. "
        "Loading them could run code; if you trust this file, pass them: "
        "skdann.io.load(path, trusted=['numpy.nan_to_num'])."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path)
    loaded = load(path, trusted=["numpy.nan_to_num"])
    np.testing.assert_array_equal(loaded.predict(X_target), pipe.predict(X_target))


def test_functions_are_refused_even_builtins(fitted_classifier, tmp_path):
    pipe = Pipeline([("evil", FunctionTransformer(eval)), ("dann", fitted_classifier[0])])
    path = tmp_path / "model.skdann"
    save(pipe, path)
    with pytest.raises(ValueError, match=re.escape("plain built-in types): ['builtins.eval']")):
        load(path)


def test_saving_a_pipeline_without_skops_says_how_to_install_it(
    fitted_classifier, tmp_path, monkeypatch
):
    pipe = Pipeline(
        [("scale", StandardScaler().fit(np.ones((2, 4)))), ("dann", fitted_classifier[0])]
    )
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=re.escape("pip install skops")):
        save(pipe, tmp_path / "model.skdann")


def test_save_refuses_other_models(shifted_blobs, tmp_path):
    X_source, y_source, _, _ = shifted_blobs
    message = (
        "skdann.io.save saves a DANNClassifier, a DANNRegressor, a SeedEnsemble of them or a "
        "guarded estimator, or a Pipeline ending in one; got LogisticRegression. Pickle other "
        "models (trusted files only)."
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        save(LogisticRegression().fit(X_source, y_source), tmp_path / "model.skdann")
    with pytest.raises(NotFittedError):
        save(DANNClassifier(), tmp_path / "model.skdann")


def test_a_failed_save_leaves_no_file(fitted_classifier, tmp_path):
    clf = copy.deepcopy(fitted_classifier[0]).set_params(tol=object())
    message = "cannot store a object in a model file (parameter tol)"
    with pytest.raises(TypeError, match=re.escape(message)):
        save(clf, tmp_path / "model.skdann")
    assert not (tmp_path / "model.skdann").exists()


@pytest.mark.parametrize("with_target", [True, False])
def test_several_domains_and_per_source_heads_round_trip(tmp_path, with_target):
    # The domain head's width follows from the domains seen at fit: one logit per source
    # with "per_source" and one target domain, one per domain without a target domain.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] > 0).astype(int)
    sample_domain = np.repeat([1, 2, 3 if not with_target else -1], 30)
    if with_target:
        y[60:] = -1
    model = DANNClassifier(
        hidden_layer_sizes=(8,),
        max_iter=2,
        batch_size=16,
        random_state=0,
        multi_domain_head="per_source",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no target rows: source-only
        model.fit(X, y, sample_domain=sample_domain)
    expected = 2 if with_target else 3
    assert model.net_.module_.domain_head[-1].out_features == expected
    path = tmp_path / "model.skdann"
    save(model, path)
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("in_pipeline", [False, True])
@pytest.mark.parametrize("members_are_pipelines", [False, True])
def test_a_seed_ensemble_saves_and_loads(
    shifted_blobs, tmp_path, in_pipeline, members_are_pipelines
):
    X, y = stack_domains(*shifted_blobs[:3])
    member = DANNClassifier(**FAST)
    if members_are_pipelines:
        member = make_pipeline(StandardScaler(), member)
    model = SeedEnsemble(member, n_seeds=2, random_state=3)
    if in_pipeline:
        model = make_pipeline(StandardScaler(), model)
    model.fit(X, y)
    loaded, path = _roundtrip(model, tmp_path)
    assert type(loaded) is type(model)
    ensemble = loaded[-1] if in_pipeline else loaded
    fitted = model[-1] if in_pipeline else model
    assert isinstance(ensemble, SeedEnsemble) and ensemble.seeds_ == fitted.seeds_
    assert ensemble.get_params(deep=False)["n_seeds"] == 2 and ensemble.random_state == 3
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    weights = {"members/0/weights.pt", "members/1/weights.pt"}
    assert weights <= names and "weights.pt" not in names
    assert ("members/0/preprocessing.skops" in names) is members_are_pipelines
    assert ("preprocessing.skops" in names) is in_pipeline
    config = read_config(path)
    assert (config["format_version"], config["estimator"]) == (3, "SeedEnsemble")
    # The loaded ensemble refits as the original would: same seeds, same members.
    refit = clone(ensemble).fit(X, y) if not in_pipeline else clone(loaded).fit(X, y)
    np.testing.assert_allclose(refit.predict_proba(X), model.predict_proba(X), rtol=1e-5)


def test_a_regressor_ensemble_saves_and_a_damaged_member_is_refused(tmp_path):
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 0.5
    y_source = X_source @ np.array([1.0, -2.0, 0.5])
    model = SeedEnsemble(DANNRegressor(**FAST), n_seeds=2, random_state=0)
    model.fit(X_source, y_source, X_target)
    loaded, path = _roundtrip(model, tmp_path)
    np.testing.assert_array_equal(loaded.predict(X_target), model.predict(X_target))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    flipped = bytearray(members["members/1/weights.pt"])
    flipped[-30] ^= 1
    damaged = _write_zip(
        tmp_path / "damaged.skdann", {**members, "members/1/weights.pt": bytes(flipped)}
    )
    message = "the content of members/1/weights.pt does not match its checksum"
    with pytest.raises(ValueError, match=re.escape(message)):
        load(damaged)
    del members["members/1/weights.pt"]
    missing = _write_zip(tmp_path / "missing.skdann", _rehash(members))
    with pytest.raises(ValueError, match=re.escape("it lacks ['members/1/weights.pt']")):
        load(missing)
