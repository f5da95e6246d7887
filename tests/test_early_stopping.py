"""Early stopping restores the best epoch's weights, and its rows are really held out."""

import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from skdann import DANNClassifier


class WeightSnapshots(Callback):
    """Copy of the module's weights after the last training step of every epoch.

    Taken in ``on_batch_end`` rather than ``on_epoch_end``: early stopping ends
    the fit from its own ``on_epoch_end``, before a user callback's runs, and
    the weights do not change between an epoch's last step and its end.
    """

    def initialize(self):
        self.weights_ = {}
        return self

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            epoch = len(net.history)  # 1-based number of the running epoch
            self.weights_[epoch] = {
                k: v.detach().clone() for k, v in net.module_.state_dict().items()
            }


class RowRecorder(nn.Module):
    """An MLP feature extractor that remembers the rows it saw, in training and in eval mode."""

    def __init__(self, n_features, width=128):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, width), nn.ReLU())
        self.rows = {"train": set(), "eval": set()}

    def forward(self, X):
        mode = "train" if self.training else "eval"
        self.rows[mode].update(_keys(X.detach().cpu().numpy()))
        return self.body(X)


def _keys(X):
    return {row.tobytes() for row in np.asarray(X, dtype=np.float32)}


def _noisy_task(seed=0):
    """200 noisy source rows in 30 dimensions (15% labels flipped), 80 target rows."""
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(200, 30))
    y_source = (X_source[:, 0] + X_source[:, 1] > 0).astype(int)
    flip = rng.rand(200) < 0.15
    y_source[flip] = 1 - y_source[flip]
    X_target = rng.normal(size=(80, 30)) + 0.5
    return X_source, y_source, X_target


def _best_epoch(valid_loss, tol):
    """1-based epoch of the last improvement: loss below the best so far by more than tol."""
    best, best_epoch = np.inf, None
    for epoch, loss in enumerate(valid_loss, start=1):
        if loss < best - tol:
            best, best_epoch = loss, epoch
    return best_epoch


def test_early_stopping_restores_the_best_epochs_weights():
    X_source, y_source, X_target = _noisy_task()
    patience, tol = 3, 1e-4
    clf = DANNClassifier(
        hidden_layer_sizes=(128,),
        # A high constant learning rate on 100 noisy rows: the held-out loss bottoms
        # out after a few epochs and then rises (measured: 0.686 0.649 0.630 0.638
        # 0.644 0.657, best epoch 3 of 6).
        learning_rate_init=0.02,
        learning_rate_schedule="constant",
        batch_size=16,
        max_iter=60,
        early_stopping=True,
        validation_fraction=0.5,
        n_iter_no_change=patience,
        tol=tol,
        random_state=0,
        callbacks=[WeightSnapshots()],
    ).fit(X_source, y_source, X_target)

    valid_loss = clf.history_[:, "valid_loss"]
    n_epochs = len(clf.history_)
    best = _best_epoch(valid_loss, tol)
    # Stopped by patience, several epochs after the best one, long before max_iter.
    assert 1 < best and n_epochs == best + patience < 60, valid_loss
    recorded = clf.history_[-1].get("best_epoch")
    if recorded is not None:  # where the estimator records it may move
        assert recorded == best

    snapshots = next(
        cb for _, cb in clf.net_.callbacks_ if isinstance(cb, WeightSnapshots)
    ).weights_
    assert sorted(snapshots) == list(range(1, n_epochs + 1))
    final = clf.net_.module_.state_dict()
    assert final.keys() == snapshots[best].keys()
    for name, value in final.items():
        assert torch.equal(value.cpu(), snapshots[best][name].cpu()), name
    assert any(
        not torch.equal(value.cpu(), snapshots[n_epochs][name].cpu())
        for name, value in final.items()
    )
    # The restored weights give the best epoch's held-out loss, not the last one's.
    assert valid_loss[best - 1] < valid_loss[-1] - 0.01


def test_early_stopping_holds_out_source_rows():
    X_source, y_source, X_target = _noisy_task()
    n_valid = math.ceil(0.5 * len(X_source))  # 100 of 200 source rows
    n_train = len(X_source) - n_valid
    batch_size = 16
    clf = DANNClassifier(
        feature_extractor=RowRecorder(X_source.shape[1]),
        batch_size=batch_size,
        max_iter=3,
        early_stopping=True,
        validation_fraction=0.5,
        n_iter_no_change=10,
        random_state=0,
        # The label-shift estimate also predicts training rows in eval mode: off here, so
        # that every eval-mode row is a validation row.
        label_shift_warning=None,
    ).fit(X_source, y_source, X_target)
    # Recorded during fit (read before any predict, which would add eval rows).
    seen = clf.net_.module_.feature_extractor.rows
    source, target = _keys(X_source), _keys(X_target)
    assert len(source) == len(X_source)  # every row is distinct, so rows count as keys
    trained_on = seen["train"] & source
    validated_on = seen["eval"] & source
    assert len(validated_on) == n_valid and len(trained_on) == n_train
    assert not trained_on & validated_on
    assert trained_on | validated_on == source
    assert seen["train"] & target == target  # target rows are never held out
    assert not seen["eval"] & target
    # Held out stratified by class (101 zeros, 99 ones here).
    held_out = np.array([row.tobytes() in validated_on for row in X_source.astype(np.float32)])
    counts, held = np.bincount(y_source), np.bincount(y_source[held_out])
    assert np.all(np.abs(held - counts / 2) <= 1), (held, counts)

    # The source is the larger domain, so an epoch is one pass over its training
    # half: ceil(100 / 16) = 7 steps, not ceil(200 / 16) = 13.
    steps = math.ceil(max(n_train, len(X_target)) / batch_size)
    assert steps == 7
    assert list(clf.history_[:, "train_batch_count"]) == [steps] * 3
    # Validation reads the held-out rows once per epoch.
    for epoch in range(3):
        valid_sizes = clf.history_[epoch, "batches", :, "valid_batch_size"]
        assert sum(valid_sizes) == n_valid


@pytest.mark.parametrize("validation_fraction", [0.1, 0.3])
def test_held_out_share_follows_validation_fraction(validation_fraction):
    X_source, y_source, X_target = _noisy_task()
    clf = DANNClassifier(
        hidden_layer_sizes=(8,),
        batch_size=16,
        max_iter=1,
        early_stopping=True,
        validation_fraction=validation_fraction,
        random_state=0,
    ).fit(X_source, y_source, X_target)
    n_valid = math.ceil(validation_fraction * len(X_source))
    assert sum(clf.history_[0, "batches", :, "valid_batch_size"]) == n_valid
    n_train = len(X_source) - n_valid
    assert clf.history_[0, "train_batch_count"] == math.ceil(max(n_train, 80) / 16)
