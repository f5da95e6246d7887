import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback
from torch import nn

from skdann import DANNClassifier, stack_domains

FAST = {"hidden_layer_sizes": (16,), "max_iter": 5, "batch_size": 16, "random_state": 0}

HISTORY_KEYS = {
    "train_loss",
    "train_label_loss",
    "train_domain_loss",
    "train_domain_accuracy",
    "adversarial_weight",
    "learning_rate",
    "dur",
}


def test_fit_predict_and_fitted_attributes(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    # objective="dann": the loss below is DANN's two terms (the default adds MCC's).
    clf = DANNClassifier(**FAST, objective="dann").fit(X_source, y_source, X_target)
    assert clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_iter_ == 5 == len(clf.history_)
    assert HISTORY_KEYS <= set(clf.history_[-1])
    # Equal source and target rows per step: the total loss is label + domain loss.
    np.testing.assert_allclose(
        clf.history_[:, "train_loss"],
        np.add(clf.history_[:, "train_label_loss"], clf.history_[:, "train_domain_loss"]),
        rtol=1e-5,
    )
    assert all(0.0 <= a <= 1.0 for a in clf.history_[:, "train_domain_accuracy"])
    proba = clf.predict_proba(X_target)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X_target), clf.classes_[proba.argmax(1)])
    assert clf.transform(X_target).shape == (60, 16)
    assert clf.net_.module_.domain_head[-1].out_features == 1


def test_both_fit_forms_give_the_same_model(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    a = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    b = DANNClassifier(**FAST).fit(*stack_domains(X_source, y_source, X_target))
    np.testing.assert_array_equal(a.predict_proba(X_target), b.predict_proba(X_target))


def test_same_random_state_gives_same_probabilities(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    params = {**FAST, "dropout": 0.2}
    a = DANNClassifier(**params).fit(X_source, y_source, X_target).predict_proba(X_target)
    b = DANNClassifier(**params).fit(X_source, y_source, X_target).predict_proba(X_target)
    c = DANNClassifier(**{**params, "random_state": 1}).fit(X_source, y_source, X_target)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c.predict_proba(X_target))


def test_fit_leaves_global_torch_rng_alone(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    torch.testing.assert_close(torch.rand(3), expected)


def test_clone_get_set_params(shifted_blobs):
    clf = DANNClassifier(adversarial_weight=0.3, hidden_layer_sizes=(7, 5))
    assert clf.get_params()["adversarial_weight"] == 0.3
    clf.set_params(adversarial_weight=0.7, hidden_layer_sizes=(9,))
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    X_source, y_source, X_target, _ = shifted_blobs
    clf.set_params(max_iter=2).fit(X_source, y_source, X_target)
    assert not hasattr(clone(clf), "net_")
    assert clf.net_.module_.feature_extractor[0].out_features == 9


def test_pickle_round_trip_gives_same_predictions(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X_target), clf.predict_proba(X_target))
    np.testing.assert_array_equal(loaded.transform(X_target), clf.transform(X_target))


def test_string_labels_and_target_marking():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    labels = np.where(X[:, 0] > 0, "spam", "ham")
    X_target = rng.normal(size=(20, 3))
    X_all, y_all = stack_domains(X, labels, X_target)
    assert y_all.dtype.kind == "U" and (y_all[40:] == "-1").all()
    clf = DANNClassifier(**FAST).fit(X_all, y_all)
    np.testing.assert_array_equal(clf.classes_, ["ham", "spam"])
    assert set(clf.predict(X_target)) <= {"ham", "spam"}
    # An object array holding the integer -1 on target rows works the same.
    as_objects = np.concatenate([labels, np.full(20, -1)]).astype(object)
    as_objects[40:] = -1
    other = DANNClassifier(**FAST).fit(X_all, as_objects)
    np.testing.assert_array_equal(other.predict_proba(X_target), clf.predict_proba(X_target))
    # Stacked string labels go through stratified cross-validation.
    search = GridSearchCV(DANNClassifier(**FAST), {"adversarial_weight": [0.1, 1.0]}, cv=2)
    assert search.fit(X_all, y_all).best_estimator_.classes_.tolist() == ["ham", "spam"]


def test_pandas_and_integer_input(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    columns = ["a", "b", "c", "d"]
    frame_source = pd.DataFrame(X_source, columns=columns)
    frame_target = pd.DataFrame(X_target, columns=columns)
    clf = DANNClassifier(**FAST).fit(frame_source, pd.Series(y_source), frame_target)
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    from_numpy = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    np.testing.assert_allclose(
        clf.predict_proba(frame_target), from_numpy.predict_proba(X_target), rtol=1e-6
    )
    DANNClassifier(**FAST).fit(np.round(X_source).astype(np.int64), y_source)


def test_dataframes_with_different_columns_are_rejected(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    frame_source = pd.DataFrame(X_source, columns=["a", "b", "c", "d"])
    frame_target = pd.DataFrame(X_target, columns=["a", "b", "c", "e"])
    with pytest.raises(ValueError, match="X_target's columns differ from X's"):
        DANNClassifier(**FAST).fit(frame_source, y_source, frame_target)


def test_sparse_input(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    dense = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    sparse = DANNClassifier(**FAST).fit(sp.csr_matrix(X_source), y_source, sp.csr_matrix(X_target))
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X_target)), dense.predict_proba(X_target), rtol=1e-6
    )


def test_score_ignores_target_rows(shifted_blobs):
    X_source, y_source, X_target, y_target = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    X, y = stack_domains(X_source, y_source, X_target)
    assert clf.score(X, y) == clf.score(X_source, y_source)
    assert clf.score(X_target, y_target) == np.mean(clf.predict(X_target) == y_target)
    with pytest.raises(ValueError, match="every row of y is -1"):
        clf.score(X_target, np.full(60, -1))


def test_predictions_do_not_depend_on_batch_composition(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    full = clf.predict_proba(X_target)
    one_by_one = np.vstack([clf.predict_proba(X_target[i : i + 1]) for i in range(60)])
    np.testing.assert_allclose(one_by_one, full, atol=1e-6)
    np.testing.assert_array_equal(one_by_one.argmax(1), full.argmax(1))


def test_no_target_rows_warns_and_trains_source_only(shifted_blobs):
    X_source, y_source, _, _ = shifted_blobs
    with pytest.warns(UserWarning, match=r"no target rows \(y == -1\)"):
        clf = DANNClassifier(**FAST).fit(X_source, y_source)
    assert np.isnan(clf.history_[-1, "train_domain_loss"])


def test_early_stopping_holds_out_source_rows(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(
        hidden_layer_sizes=(16,),
        max_iter=200,
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.1,
        batch_size=16,
        random_state=0,
    ).fit(X_source, y_source, X_target)
    assert clf.n_iter_ < 200
    assert "valid_loss" in clf.history_[-1]
    best = clf.history_[-1, "best_epoch"]
    assert clf.n_iter_ - best == 3
    # 54 source rows train (6 held out), 60 target rows: 4 steps of 16 per epoch.
    assert clf.history_[-1, "train_batch_count"] == 4


def test_verbose_prints_the_domain_columns(shifted_blobs, capsys):
    X_source, y_source, X_target, _ = shifted_blobs
    DANNClassifier(**{**FAST, "max_iter": 2}, verbose=1).fit(X_source, y_source, X_target)
    out = capsys.readouterr().out
    for column in ("train_domain_loss", "train_domain_accuracy", "adversarial_weight"):
        assert column in out


def test_the_verbose_table_keeps_every_value_under_its_header(shifted_blobs, capsys):
    # IWDAN records its label-shift estimate (lists of numbers) every epoch.
    X_source, y_source, X_target, _ = shifted_blobs
    params = {**FAST, "max_iter": 3, "label_shift": "iwdan"}
    DANNClassifier(**params, verbose=1).fit(X_source, y_source, X_target)
    header, rule, *rows = capsys.readouterr().out.splitlines()
    spans = [(m.start(), m.end()) for m in re.finditer("-+", rule)]
    headers = [header[a:b].strip() for a, b in spans]
    assert "class_ratio" in headers and "learning_rate" in headers and len(rows) == 3
    for epoch, row in enumerate(rows, start=1):
        assert len(row) <= len(rule)
        cells = dict(zip(headers, (row[a:b].strip() for a, b in spans), strict=True))
        assert cells["epoch"] == str(epoch) and 0 < float(cells["learning_rate"]) < 1
        assert all(row[b : b + 2].strip() == "" for _, b in spans[:-1])  # the gaps stay blank
        assert cells["class_ratio"].startswith("[") and float(cells["label_shift_tv"]) >= 0


def test_user_callbacks_are_run_and_not_mutated(shifted_blobs):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    X_source, y_source, X_target, _ = shifted_blobs
    callback = CountEpochs()
    clf = DANNClassifier(**FAST, callbacks=[callback]).fit(X_source, y_source, X_target)
    assert not hasattr(callback, "epochs_")
    used = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, CountEpochs)]
    assert used[0].epochs_ == 5


def test_custom_feature_extractor_module_and_factory(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    extractor = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
    before = extractor[0].weight.detach().clone()
    clf = DANNClassifier(**FAST, feature_extractor=extractor).fit(X_source, y_source, X_target)
    torch.testing.assert_close(extractor[0].weight, before)  # the user's module is untouched
    assert clf.transform(X_target).shape == (60, 6)
    assert clf.net_.module_.label_head.in_features == 6

    def factory(n_features):
        return nn.Sequential(nn.Unflatten(1, (1, 2, 2)), nn.Conv2d(1, 3, 2), nn.Flatten())

    clf = DANNClassifier(**FAST, feature_extractor=factory).fit(X_source, y_source, X_target)
    assert clf.transform(X_target).shape == (60, 3)


def test_failed_refit_keeps_the_fitted_model(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    proba = clf.predict_proba(X_target)
    with pytest.raises(ValueError):
        clf.fit(np.hstack([X_source, X_source]), np.zeros(60))
    assert clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.predict_proba(X_target), proba)


def test_unfitted_estimator_fails_with_no_new_attributes():
    clf = DANNClassifier(**FAST)
    with pytest.raises(ValueError):
        clf.fit(np.zeros((4, 2)), np.zeros(4))
    assert not [k for k in vars(clf) if k.endswith("_")]


def test_device_auto_picks_cpu_without_cuda(shifted_blobs):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    assert str(clf.net_.device) == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_predict_and_pickle_to_cpu(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST, device="cuda").fit(X_source, y_source, X_target)
    assert next(clf.net_.module_.parameters()).is_cuda
    proba = clf.predict_proba(X_target)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(X_target), proba, rtol=1e-5)


# --- pipelines and model selection -------------------------------------------------


def test_pipeline_scaler_sees_source_and_target_rows(shifted_blobs):
    X_source, y_source, X_target, y_target = shifted_blobs
    X, y = stack_domains(X_source, y_source, X_target)
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST)).fit(X, y)
    np.testing.assert_allclose(pipe[0].mean_, np.vstack([X_source, X_target]).mean(axis=0))
    assert not np.allclose(pipe[0].mean_, X_source.mean(axis=0))
    assert 0.0 <= pipe.score(X_target, y_target) <= 1.0


def test_grid_search_over_lambda_and_architecture_refits(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    X, y = stack_domains(X_source, y_source, X_target)
    pipe = make_pipeline(StandardScaler(), DANNClassifier(max_iter=3, random_state=0))
    grid = {
        "dannclassifier__adversarial_weight": [0.1, 1.0],
        "dannclassifier__hidden_layer_sizes": [(8,), (8, 4)],
    }
    # Stratifying on the stacked y keeps source and target rows in every fold.
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_ in search.cv_results_["params"]
    refitted = search.best_estimator_[-1]
    assert refitted.adversarial_weight == search.best_params_["dannclassifier__adversarial_weight"]
    assert refitted.n_iter_ == 3
    for train, test in cv.split(X, y):
        assert (y[train] == -1).any() and (y[test] == -1).any()


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(shifted_blobs, bad):
    X_source, y_source, X_target, _ = shifted_blobs
    X_bad = X_source.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        DANNClassifier(**FAST).fit(X_bad, y_source, X_target)
    X_bad_target = X_target.copy()
    X_bad_target[0, 0] = bad
    with pytest.raises(ValueError, match=r"Input X_target contains (NaN|infinity)"):
        DANNClassifier(**FAST).fit(X_source, y_source, X_bad_target)


def test_different_feature_counts_are_rejected(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    msg = "X_target has 3 features, but X_source has 4 features; both domains need the same"
    with pytest.raises(ValueError, match=re.escape(msg)):
        DANNClassifier(**FAST).fit(X_source, y_source, X_target[:, :3])
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    with pytest.raises(ValueError, match="X has 3 features, but DANNClassifier is expecting 4"):
        clf.predict(X_target[:, :3])


def test_no_labeled_source_rows_is_rejected(shifted_blobs):
    X_source = shifted_blobs[0]
    msg = "y has no labeled source rows: every row is marked -1 (target)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        DANNClassifier(**FAST).fit(X_source, np.full(60, -1))


def test_single_class_is_rejected(shifted_blobs):
    X_source, _, X_target, _ = shifted_blobs
    msg = "The source labels contain only one class (3); DANNClassifier needs at least two"
    with pytest.raises(ValueError, match=re.escape(msg)):
        DANNClassifier(**FAST).fit(X_source, np.full(60, 3), X_target)


def test_continuous_labels_are_rejected(shifted_blobs):
    X_source, _, X_target, _ = shifted_blobs
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        DANNClassifier(**FAST).fit(X_source, np.linspace(0, 1, 60), X_target)


def test_target_rows_marked_in_y_and_given_as_x_target_are_rejected(shifted_blobs):
    X_source, _, X_target, _ = shifted_blobs
    y = np.tile([-1, 1], 30)
    msg = "y contains the label -1, which marks target rows, and X_target was given too"
    with pytest.raises(ValueError, match=msg):
        DANNClassifier(**FAST).fit(X_source, y, X_target)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("adversarial_schedule", "linear", "The 'adversarial_schedule' parameter"),
        ("learning_rate_schedule", "cosine", "The 'learning_rate_schedule' parameter"),
        ("solver", "lbfgs", "The 'solver' parameter"),
        ("adversarial_weight", -1.0, "The 'adversarial_weight' parameter"),
        ("batch_size", 0, "The 'batch_size' parameter"),
    ],
)
def test_invalid_parameters_are_rejected(shifted_blobs, param, value, message):
    X_source, y_source, X_target, _ = shifted_blobs
    with pytest.raises(InvalidParameterError, match=message):
        DANNClassifier(**{**FAST, param: value}).fit(X_source, y_source, X_target)


def test_bad_layer_sizes_are_rejected(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must hold positive integers"):
        DANNClassifier(**{**FAST, "hidden_layer_sizes": (4, 0)}).fit(X_source, y_source, X_target)


def test_feature_extractor_with_non_2d_output_is_rejected(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    extractor = nn.Unflatten(1, (2, 2))
    msg = "feature_extractor must return a 2-D tensor of shape (n_samples, n_features_out); "
    msg += "for input of shape (2, 4) it returned (2, 2, 2)."
    with pytest.raises(ValueError, match=re.escape(msg)):
        DANNClassifier(**FAST, feature_extractor=extractor).fit(X_source, y_source, X_target)


def test_feature_extractor_factory_must_return_a_module(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    with pytest.raises(TypeError, match="the callable returned int"):
        DANNClassifier(**FAST, feature_extractor=lambda n: 3).fit(X_source, y_source, X_target)


def test_predict_before_fit_raises_not_fitted(shifted_blobs):
    for method in ("predict", "predict_proba", "transform"):
        with pytest.raises(NotFittedError):
            getattr(DANNClassifier(), method)(shifted_blobs[0])


def test_diverging_training_names_the_epoch(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(
        **{**FAST, "max_iter": 20}, learning_rate_init=1e12, learning_rate_schedule="constant"
    )
    msg = (
        r"Training diverged at epoch \d+: the loss became nan\. Unscaled inputs are the "
        r"usual cause: scale your inputs \(StandardScaler\) first"
    )
    with pytest.raises(FloatingPointError, match=msg):
        clf.fit(X_source * 100, y_source, X_target * 100)
    assert not hasattr(clf, "net_")


def test_feature_names_out_and_pandas_output(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    frame = pd.DataFrame(X_target, columns=["a", "b", "c", "d"])
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    names = [f"dannclassifier{i}" for i in range(16)]
    np.testing.assert_array_equal(clf.get_feature_names_out(), names)
    features = clf.set_output(transform="pandas").transform(frame)
    assert isinstance(features, pd.DataFrame) and list(features.columns) == names
    np.testing.assert_array_equal(
        features.to_numpy(), clf.set_output(transform="default").transform(X_target)
    )


def test_pickle_holds_the_trained_module_once(shifted_blobs):
    # net_.module (what the net was built from) is dropped after fit: skorch maps only
    # net_.module_ to the CPU when unpickling, so the reference made a model fitted on
    # a GPU fail to load without one, and stored the weights twice.
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**{**FAST, "hidden_layer_sizes": (256, 256)}).fit(
        X_source, y_source, X_target
    )
    assert clf.net_.module is None
    size = len(pickle.dumps(clf))
    clf.net_.module = clf.net_.module_  # what skorch keeps by default
    weights = sum(p.numel() * 4 for p in clf.net_.module_.parameters())
    assert len(pickle.dumps(clf)) > size + 0.9 * weights
