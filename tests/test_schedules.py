import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skdann import DANNClassifier, GradientReversal, gradient_reversal
from skdann.schedules import (
    constant_factor,
    ganin_adversarial_factor,
    ganin_learning_rate_factor,
)


class StepProbe(Callback):
    """Record, at every training step, what the layer and the optimizer really used.

    The built-in schedule callback sets the GRL's ``lambda_`` and the learning
    rate in its ``on_batch_begin``, before the step; user callbacks run after it,
    and ``on_batch_end`` runs after the step and before the next ``on_batch_begin``,
    so the values read there are the ones in force during the step. A backward
    hook on the GRL records the gradient it passed down against the one it got:
    the scale the layer applied in that step, whatever its attribute says.
    """

    def on_train_begin(self, net, **kwargs):
        self.applied_ = None
        self.handle_ = net.module_.grl.register_full_backward_hook(self._hook)

    def _hook(self, module, grad_input, grad_output):
        down, up = grad_input[0].detach(), grad_output[0].detach()
        scale = float((down * up).sum() / (up * up).sum())
        # The gradient passed down must be proportional to the one received.
        residual = float((down - scale * up).norm() / up.norm())
        self.applied_ = (scale, residual)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        net.history.record_batch("probe_lambda", float(net.module_.grl.lambda_))
        net.history.record_batch("probe_lr", net.optimizer_.param_groups[0]["lr"])
        scale, residual = self.applied_
        net.history.record_batch("probe_grl_scale", scale)
        net.history.record_batch("probe_grl_residual", residual)
        self.applied_ = None

    def on_train_end(self, net, **kwargs):
        self.handle_.remove()


def _per_step(clf, key):
    return np.concatenate(clf.history_[:, "batches", :, key])


def test_ganin_adversarial_factor_values():
    assert ganin_adversarial_factor(0.0) == 0.0
    assert ganin_adversarial_factor(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert ganin_adversarial_factor(1.0) == pytest.approx(0.99990920)


def test_ganin_learning_rate_factor_values():
    assert ganin_learning_rate_factor(0.0) == 1.0
    assert ganin_learning_rate_factor(1.0) == pytest.approx(11**-0.75)
    assert constant_factor(0.3) == 1.0


def test_schedules_are_applied_per_step_and_recorded(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    # 40 source rows, 60 target rows: an epoch is one pass over the larger domain,
    # ceil(60 / 16) = 4 steps (the source alone would give 3).
    X_source, y_source = X_source[10:50], y_source[10:50]
    max_iter, batch_size = 6, 16
    clf = DANNClassifier(
        hidden_layer_sizes=(8,),
        batch_size=batch_size,
        max_iter=max_iter,
        adversarial_weight=0.5,
        learning_rate_init=0.02,
        random_state=0,
        callbacks=[StepProbe()],
    ).fit(X_source, y_source, X_target)
    steps_per_epoch = math.ceil(max(len(X_source), len(X_target)) / batch_size)
    assert steps_per_epoch == 4
    total = steps_per_epoch * max_iter
    assert list(clf.history_[:, "train_batch_count"]) == [steps_per_epoch] * max_iter

    # What the layer and the optimizer held at each step 0 .. total - 1.
    progress = np.arange(total) / total
    expected_lambda = [0.5 * ganin_adversarial_factor(p) for p in progress]
    expected_lr = [0.02 * ganin_learning_rate_factor(p) for p in progress]
    np.testing.assert_allclose(_per_step(clf, "probe_lambda"), expected_lambda, rtol=1e-12)
    np.testing.assert_allclose(_per_step(clf, "probe_lr"), expected_lr, rtol=1e-12)
    # ... and the gradient the GRL passed to the features in each step: -lambda times the
    # domain head's gradient (step 0 has lambda = 0: the features get no domain gradient).
    np.testing.assert_allclose(
        _per_step(clf, "probe_grl_scale"), -np.array(expected_lambda), rtol=1e-5, atol=1e-7
    )
    assert np.all(_per_step(clf, "probe_grl_residual") < 1e-5)

    # The history records the value in force at the last step of each epoch.
    last = [steps_per_epoch * (e + 1) - 1 for e in range(max_iter)]
    np.testing.assert_allclose(
        clf.history_[:, "adversarial_weight"], [expected_lambda[i] for i in last]
    )
    np.testing.assert_allclose(clf.history_[:, "learning_rate"], [expected_lr[i] for i in last])
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(expected_lr[-1])


def test_fitted_grl_reverses_gradients_with_the_last_lambda(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(
        hidden_layer_sizes=(8,), batch_size=30, max_iter=3, adversarial_weight=0.7, random_state=0
    ).fit(X_source, y_source, X_target)
    total = 2 * 3  # ceil(60 / 30) steps per epoch, 3 epochs
    expected = 0.7 * ganin_adversarial_factor((total - 1) / total)
    grl = clf.net_.module_.grl
    assert isinstance(grl, GradientReversal)
    assert grl.lambda_ == pytest.approx(expected, rel=1e-12)

    features = torch.randn(5, 8, requires_grad=True)
    upstream = torch.randn(5, 8)
    out = grl(features)
    torch.testing.assert_close(out, features)  # identity forward
    out.backward(upstream)
    torch.testing.assert_close(features.grad, -expected * upstream)
    # The functional form agrees.
    features.grad = None
    gradient_reversal(features, grl.lambda_).backward(upstream)
    torch.testing.assert_close(features.grad, -expected * upstream)


def test_constant_and_callable_schedules(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(
        hidden_layer_sizes=(8,),
        max_iter=3,
        adversarial_weight=0.3,
        adversarial_schedule="constant",
        learning_rate_schedule=lambda p: 1.0 - p,
        learning_rate_init=0.01,
        batch_size=30,
        random_state=0,
        callbacks=[StepProbe()],
    ).fit(X_source, y_source, X_target)
    np.testing.assert_allclose(clf.history_[:, "adversarial_weight"], [0.3] * 3)
    np.testing.assert_allclose(
        clf.history_[:, "learning_rate"], [0.01 * (1 - p) for p in (1 / 6, 3 / 6, 5 / 6)]
    )
    # Per step: 2 steps per epoch, 6 in all.
    np.testing.assert_allclose(_per_step(clf, "probe_lambda"), [0.3] * 6, rtol=1e-12)
    np.testing.assert_allclose(
        _per_step(clf, "probe_lr"), [0.01 * (1 - k / 6) for k in range(6)], rtol=1e-12
    )
    np.testing.assert_allclose(_per_step(clf, "probe_grl_scale"), [-0.3] * 6, rtol=1e-5)


def test_source_only_training_passes_no_domain_gradient(shifted_blobs):
    # adversarial_weight=0 is documented as source-only training of the same network.
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(
        hidden_layer_sizes=(8,),
        batch_size=30,
        max_iter=2,
        adversarial_weight=0.0,
        adversarial_schedule="constant",
        random_state=0,
        callbacks=[StepProbe()],
    ).fit(X_source, y_source, X_target)
    np.testing.assert_array_equal(_per_step(clf, "probe_lambda"), [0.0] * 4)
    np.testing.assert_array_equal(_per_step(clf, "probe_grl_scale"), [0.0] * 4)
