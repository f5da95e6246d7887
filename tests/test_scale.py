"""The fast epoch loop, chunked prediction and the device-memory check.

Speed and memory themselves are measured in ``benchmarks/`` (step_options,
throughput, memory); these tests pin the behaviour those optimisations must
not change.
"""

import re

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, GradientNormClipping

from skdann import DANNClassifier, DANNRegressor
from skdann._device import check_fits_on_device
from skdann._net import DANNNet

FAST = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}


class CountSteps(Callback):
    """Listens to every step, so the net runs skorch's own epoch loop."""

    def initialize(self):
        self.begun = self.ended = 0
        return self

    def on_batch_begin(self, net, training=None, **kwargs):
        self.begun += training

    def on_batch_end(self, net, training=None, **kwargs):
        self.ended += training


def _batches(history):
    return [epoch["batches"] for epoch in history]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_fast_loop_trains_the_same_model_with_the_same_history_as_skorchs(
    shifted_blobs, early_stopping
):
    X_source, y_source, X_target, _ = shifted_blobs
    params = {**FAST, "early_stopping": early_stopping, "validation_fraction": 0.2}
    fast = DANNClassifier(**params).fit(X_source, y_source, X_target)
    counter = CountSteps()
    generic = DANNClassifier(**params, callbacks=[counter]).fit(X_source, y_source, X_target)
    assert fast.net_._own_step_listeners() is not None
    assert generic.net_._own_step_listeners() is None
    # skorch's loop ran and called the user's callback on every training step.
    steps = sum(generic.history_[:, "train_batch_count"])
    counted = dict(generic.net_.callbacks_)["user_0_CountSteps"]
    assert counted.begun == counted.ended == steps > 0
    np.testing.assert_array_equal(fast.predict_proba(X_target), generic.predict_proba(X_target))
    assert _batches(fast.history_) == _batches(generic.history_)
    for key in ("train_loss", "train_batch_count", "train_label_loss", "train_domain_accuracy"):
        assert fast.history_[:, key] == generic.history_[:, key]


def test_fast_loop_stands_aside_for_per_step_callbacks_and_closure_optimizers(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clipped = DANNClassifier(**FAST, callbacks=[GradientNormClipping(1.0)])
    assert clipped.fit(X_source, y_source, X_target).net_._own_step_listeners() is None
    net = DANNClassifier(**FAST).fit(X_source, y_source, X_target).net_
    net.optimizer_ = torch.optim.LBFGS(net.module_.parameters())
    assert net._own_step_listeners() is None

    class OwnStep(DANNNet):
        def on_batch_end(self, net, **kwargs):
            pass

    net.__class__ = OwnStep
    assert net._own_step_listeners() is None


def test_chunked_prediction_equals_one_pass_and_keeps_one_label_per_row():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9000, 5)).astype(np.float32)  # three prediction chunks
    y = np.r_[(X[:3000, 0] > 0).astype(int), -np.ones(6000, dtype=int)]
    clf = DANNClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (9000, 2)
    module = clf.net_.module_.eval()
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.transform(X).shape == (9000, 8)

    targets = np.r_[X[:3000, :2] @ [1.0, -2.0], np.full(6000, np.nan)]
    reg = DANNRegressor(**FAST).fit(X, targets)
    prediction = reg.predict(X)
    assert prediction.shape == (9000,) and prediction.dtype == np.float64
    with torch.no_grad():
        raw = reg.net_.module_.eval()(torch.from_numpy(X)).numpy().ravel()
    np.testing.assert_allclose(
        prediction, raw * reg.target_scale_[0] + reg.target_mean_[0], rtol=1e-5, atol=1e-5
    )


def test_data_too_large_for_the_gpu_fails_before_the_copy(shifted_blobs, monkeypatch):
    from skdann import _fit_rows

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2**20, 80 * 2**30))
    X = np.zeros((1000, 512), dtype=np.float32)  # 1000 x 512 float32 = 1.95 MiB
    message = (
        "The training rows do not fit on cuda: they need 3.9 MiB as float32 (source "
        "1000 x 512 = 2.0 MiB, target 1000 x 512 = 2.0 MiB), and the device has 1.0 MiB "
        "free of 81920.0 MiB. Try device='cpu'"
    )
    with pytest.raises(MemoryError, match=re.escape(message)):
        check_fits_on_device("cuda", np.vstack([X, X]), np.arange(2000) >= 1000)
    # The CPU is left to its allocator.
    check_fits_on_device("cpu", np.vstack([X, X]), np.arange(2000) >= 1000)

    # fit checks before it moves any row to the device (resolve_device is bypassed:
    # this machine need not have CUDA).
    monkeypatch.setattr(_fit_rows, "resolve_device", lambda device: "cuda")

    def no_copy(*args):
        raise AssertionError("rows were copied to the device before the check")

    monkeypatch.setattr(_fit_rows, "domain_data", no_copy)
    with pytest.raises(MemoryError, match="do not fit on cuda"):
        DANNClassifier(**FAST).fit(X, np.r_[np.zeros(500, int), np.ones(500, int)], X)


class StepLayouts(Callback):
    def initialize(self):
        self.layouts = set()
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.layouts.add(batch[0].layout)


def test_sparse_rows_reach_the_built_in_mlp_as_csr_and_other_networks_dense(shifted_blobs):
    import scipy.sparse as sp
    from torch import nn

    X_source, y_source, X_target, _ = shifted_blobs
    X_source, X_target = sp.csr_matrix(X_source), sp.csr_matrix(X_target)
    clf = DANNClassifier(**FAST, callbacks=[StepLayouts()]).fit(X_source, y_source, X_target)
    assert dict(clf.net_.callbacks_)["user_0_StepLayouts"].layouts == {torch.sparse_csr}
    # A user's extractor gets densified rows, and so does an MLP without hidden layers.
    custom = DANNClassifier(
        **{**FAST, "hidden_layer_sizes": ()},
        feature_extractor=lambda n: nn.Sequential(nn.Linear(n, 8), nn.ReLU()),
        callbacks=[StepLayouts()],
    ).fit(X_source, y_source, X_target)
    assert dict(custom.net_.callbacks_)["user_0_StepLayouts"].layouts == {torch.strided}
    # The product gives the model the densified batches would (up to float rounding).
    dense = DANNClassifier(**FAST).fit(X_source.toarray(), y_source, X_target.toarray())
    np.testing.assert_allclose(
        clf.predict_proba(X_target), dense.predict_proba(X_target.toarray()), atol=1e-5
    )
