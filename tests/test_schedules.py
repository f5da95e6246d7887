import math

import numpy as np
import pytest

from skdann import DANNClassifier
from skdann.schedules import (
    constant_factor,
    ganin_adversarial_factor,
    ganin_learning_rate_factor,
)


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
    clf = DANNClassifier(
        hidden_layer_sizes=(8,),
        batch_size=16,
        max_iter=6,
        adversarial_weight=0.5,
        learning_rate_init=0.02,
        random_state=0,
    ).fit(X_source, y_source, X_target)
    steps_per_epoch = 4  # 60 rows per domain, 16 per step
    total = steps_per_epoch * 6
    # The value in force at the last step of each epoch.
    progress = [(steps_per_epoch * (e + 1) - 1) / total for e in range(6)]
    expected_lambda = [0.5 * ganin_adversarial_factor(p) for p in progress]
    expected_lr = [0.02 * ganin_learning_rate_factor(p) for p in progress]
    np.testing.assert_allclose(clf.history_[:, "adversarial_weight"], expected_lambda)
    np.testing.assert_allclose(clf.history_[:, "learning_rate"], expected_lr)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(expected_lr[-1])


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
    ).fit(X_source, y_source, X_target)
    np.testing.assert_allclose(clf.history_[:, "adversarial_weight"], [0.3] * 3)
    np.testing.assert_allclose(
        clf.history_[:, "learning_rate"], [0.01 * (1 - p) for p in (1 / 6, 3 / 6, 5 / 6)]
    )
