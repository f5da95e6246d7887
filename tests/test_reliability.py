"""Traps a new user falls into: each ends in a clear error or a correct result."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.metrics import labeled_scorer, prediction_entropy_scorer

FAST = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}


def test_dann_as_a_feature_step_before_another_model_is_refused(shifted_blobs):
    X, y = stack_domains(*shifted_blobs[:3])
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST), LogisticRegression())
    message = (
        "DANNClassifier.fit_transform got a y that marks target rows (y == -1). In a "
        "Pipeline this means DANNClassifier is a feature step before another model"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        pipe.fit(X, y)
    # Without target markers (the 3-argument form) fit_transform still works.
    X_source, y_source, X_target, _ = shifted_blobs
    features = DANNClassifier(**FAST).fit_transform(X_source, y_source, X_target)
    assert features.shape == (60, 8)


def test_score_on_a_list_of_lists_with_target_rows(shifted_blobs):
    X, y = stack_domains(*shifted_blobs[:3])
    clf = DANNClassifier(**FAST).fit(X, y)
    assert clf.score(X.tolist(), y) == clf.score(X[y != -1], y[y != -1])
    reg_y = np.where(y == -1, np.nan, X[:, 0])
    reg = DANNRegressor(**FAST).fit(X, reg_y)
    assert reg.score(X.tolist(), reg_y) == reg.score(X[y != -1], reg_y[y != -1])


def test_labels_minus_one_and_one_say_that_minus_one_is_the_marker(shifted_blobs):
    X_source, y_source = shifted_blobs[:2]
    message = (
        "The source labels contain only one class (1); DANNClassifier needs at least two "
        "classes. The label -1 was read as the target marker on 30 rows: y == -1 marks "
        "unlabeled target rows. If -1 is one of your classes, re-encode the labels first"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        DANNClassifier(**FAST).fit(X_source, np.where(y_source == 0, -1, 1))


def test_stack_domains_names_differing_dataframe_columns(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    source = pd.DataFrame(X_source, columns=["a", "b", "c", "d"])
    target = pd.DataFrame(X_target, columns=["a", "b", "c", "e"])
    message = (
        "X_target's columns differ from X's (only in the source: ['d']; only in the "
        "target: ['e'])."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        stack_domains(source, y_source, target)
    with pytest.raises(ValueError, match="same names in another order"):
        stack_domains(source, y_source, source[["b", "a", "c", "d"]])


@pytest.mark.parametrize(
    ("labels", "stacked_dtype"),
    [
        (np.array([False, True]), np.int8),
        (np.array([3, 7], dtype=np.uint8), np.int16),
        (np.array([3, 7], dtype=np.uint64), np.int64),
        (np.array([3, 7], dtype=np.int32), np.int32),
    ],
)
def test_stack_domains_label_dtypes_hold_the_marker(shifted_blobs, labels, stacked_dtype):
    X_source, y_source, X_target, _ = shifted_blobs
    X, y = stack_domains(X_source, labels[y_source], X_target)
    assert y.dtype == stacked_dtype
    np.testing.assert_array_equal(y[:60], labels[y_source].astype(stacked_dtype))
    stacked = DANNClassifier(**FAST).fit(X, y)
    three = DANNClassifier(**FAST).fit(X_source, labels[y_source], X_target)
    # Same model; the stacked form's classes are the promoted labels (documented).
    np.testing.assert_array_equal(stacked.predict_proba(X_target), three.predict_proba(X_target))
    np.testing.assert_array_equal(stacked.classes_, labels.astype(stacked_dtype))
    assert three.classes_.dtype == labels.dtype


class _BlowUpOnLastStep(Callback):
    """Make the weights NaN after the very last training step."""

    def on_batch_end(self, net, training=None, **kwargs):
        if training and len(net.history) == net.max_epochs and self._last_step(net):
            with torch.no_grad():
                net.module_.label_head.weight.fill_(float("nan"))

    def _last_step(self, net):
        self.count_ = getattr(self, "count_", 0) + 1
        return self.count_ == 4  # 60 rows per domain, batch 16: 4 steps per epoch


def test_divergence_on_the_last_step_is_caught(shifted_blobs):
    clf = DANNClassifier(**{**FAST, "callbacks": [_BlowUpOnLastStep()]})
    message = (
        "Training diverged in its last steps: the weights of label_head.weight are no "
        "longer finite. Unscaled inputs are the usual cause: scale your inputs "
        "(StandardScaler) first"
    )
    with pytest.raises(FloatingPointError, match=re.escape(message)):
        clf.fit(*shifted_blobs[:3])
    assert not hasattr(clf, "net_")


class _InPlaceExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 5)

    def forward(self, X):
        X.mul_(2.0)  # in place, on purpose
        return self.linear(X)


def test_a_custom_extractor_working_in_place_never_changes_the_callers_array(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    X_target = X_target.astype(np.float32)
    before = X_target.copy()
    clf = DANNClassifier(**{**FAST, "feature_extractor": _InPlaceExtractor()})
    clf.fit(X_source.astype(np.float32), y_source, X_target)
    clf.predict_proba(X_target)
    clf.transform(X_target)
    np.testing.assert_array_equal(X_target, before)


def test_a_batchnorm_extractor_never_sees_a_one_row_batch(shifted_blobs):
    # 65 source rows and batch 16, no target rows: the old sampler's last step held
    # one row, and BatchNorm1d raises on a one-row batch in training mode.
    X_source, y_source, _, _ = shifted_blobs
    rng = np.random.RandomState(1)
    X_source = np.r_[X_source, rng.normal(size=(5, 4))]
    y_source = np.r_[y_source, np.ones(5, dtype=int)]
    extractor = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
    with pytest.warns(UserWarning, match="no target rows"):
        clf = DANNClassifier(**{**FAST, "feature_extractor": extractor}).fit(X_source, y_source)
    assert [b["train_batch_size"] for b in clf.history_[0, "batches"]] == [16] * 5


@pytest.mark.parametrize(
    ("device", "message"),
    [
        (
            "banana",
            "device='banana' is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'.",
        ),
        pytest.param(
            "cuda",
            "device='cuda', but CUDA is not available on this machine",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available"),
        ),
    ],
)
def test_device_is_checked_before_any_data_work(device, message):
    # X is garbage: the device error must come first.
    with pytest.raises(ValueError, match=re.escape(message)):
        DANNClassifier(**{**FAST, "device": device}).fit([["not", "numbers"]], [0])


def test_out_of_memory_is_reraised_with_the_sizes(shifted_blobs, monkeypatch):
    from skdann import _fit_rows

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(_fit_rows, "domain_data", out_of_memory)
    message = (
        "Out of memory on cpu while training. The training rows are held on the device as "
        "float32 (source 60 x 4 = 0.0 MiB, target 60 x 4 = 0.0 MiB); batch_size=16 rows per "
        "domain. Try a smaller batch_size"
    )
    with pytest.raises(MemoryError, match=re.escape(message)):
        DANNClassifier(**FAST).fit(*shifted_blobs[:3])


def test_labeled_scorer_scores_source_rows_only(shifted_blobs):
    X, y = stack_domains(*shifted_blobs[:3])
    clf = DANNClassifier(**FAST).fit(X, y)
    scorer = labeled_scorer("accuracy")
    assert scorer(clf, X, y) == clf.score(X, y)
    search = GridSearchCV(
        DANNClassifier(**FAST),
        {"adversarial_weight": [0.1, 1.0]},
        scoring=labeled_scorer("balanced_accuracy"),
        cv=StratifiedKFold(3),
    ).fit(X, y)
    plain = GridSearchCV(
        DANNClassifier(**FAST),
        {"adversarial_weight": [0.1, 1.0]},
        scoring="balanced_accuracy",
        cv=StratifiedKFold(3),
    ).fit(X, y)
    # The plain scorer counts target rows (a third class, -1, never predicted) as errors.
    assert (search.cv_results_["mean_test_score"] > plain.cv_results_["mean_test_score"]).all()


def test_search_score_on_labeled_test_rows_says_what_to_call(shifted_blobs):
    X_source, y_source, X_target, y_target = shifted_blobs
    X, y = stack_domains(X_source, y_source, X_target)
    search = GridSearchCV(
        DANNClassifier(**FAST),
        {"adversarial_weight": [1.0]},
        scoring=prediction_entropy_scorer,
        cv=StratifiedKFold(2),
    ).fit(X, y)
    message = (
        "If this is search.score(X_test, y_test) on labeled test rows, score them with a "
        "labeled metric instead, e.g. search.best_estimator_.score(X_test, y_test)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        search.score(X_target, y_target)
    assert 0 <= search.best_estimator_.score(X_target, y_target) <= 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-iter", "-5"], "argument --max-iter: expected a positive integer, got -5"),
        (["--device", "banana"], "argument --device: device='banana' is not a torch device"),
        (["--quick", "--max-iter", "4"], "argument --max-iter: not allowed with argument --quick"),
    ],
)
def test_demo_options_fail_with_one_line_and_no_traceback(argv, message, capsys):
    from skdann.demo import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_verbose_log_has_no_colour_codes_outside_a_terminal(shifted_blobs, capsys):
    DANNClassifier(**{**FAST, "verbose": 1, "early_stopping": True}).fit(*shifted_blobs[:3])
    out = capsys.readouterr().out
    assert "train_label_loss" in out and "valid_loss" in out
    assert "\033[" not in out
