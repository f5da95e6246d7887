"""Aggregating candidates: plain averaging, EnsV and IWA, on cases whose answer is known."""

import re

import numpy as np
import pytest

from skdann.ensemble import (
    average_predictions,
    ensemble_validation_scores,
    importance_weighted_aggregation,
)


def _one_hot(labels, n_classes=2):
    return np.eye(n_classes)[labels]


def test_average_is_the_mean_or_the_weighted_sum():
    predictions = np.array([[[0.2, 0.8]], [[0.6, 0.4]], [[1.0, 0.0]]])
    np.testing.assert_allclose(average_predictions(predictions), [[0.6, 0.4]])
    np.testing.assert_allclose(average_predictions(predictions, [0.0, 0.5, 0.5]), [[0.8, 0.2]])
    message = "weights must hold one finite number per candidate (3); got shape (2,)."
    with pytest.raises(ValueError, match=re.escape(message)):
        average_predictions(predictions, [0.5, 0.5])


def test_ensv_scores_the_odd_candidate_lowest():
    rng = np.random.RandomState(0)
    truth = rng.randint(0, 3, size=200)
    good = [
        np.eye(3)[np.where(rng.rand(200) < 0.85, truth, rng.randint(0, 3, 200))] for _ in "abc"
    ]
    bad = np.eye(3)[(truth + 1) % 3]  # always wrong
    scores = ensemble_validation_scores([*good, bad])
    accuracy = [(p.argmax(axis=1) == truth).mean() for p in [*good, bad]]
    assert np.argmin(scores) == 3 == np.argmin(accuracy)
    assert accuracy[int(np.argmax(scores))] > 0.8


def test_ensv_for_regression_is_the_distance_to_the_mean_prediction():
    base = np.linspace(0, 1, 50)
    scores = ensemble_validation_scores(
        [base, base + 0.01, base - 0.01, base + 1.0], regression=True
    )
    assert np.argmax(scores) == 1 and np.argmin(scores) == 3  # 1 is nearest the mean (+0.25)
    np.testing.assert_allclose(scores[3], -(0.75**2))


def test_ensv_refuses_labels_for_classification():
    with pytest.raises(ValueError, match="class probabilities of shape"):
        ensemble_validation_scores(np.zeros((2, 5)))


def test_iwa_recovers_an_exact_linear_mix_whatever_the_importance():
    rng = np.random.RandomState(0)
    f = rng.normal(size=(3, 100))
    y = 0.2 * f[0] - 0.5 * f[1] + 1.3 * f[2]
    for importance in (None, rng.uniform(0.1, 5.0, size=100)):
        weights = importance_weighted_aggregation(f, y, importance)
        np.testing.assert_allclose(weights, [0.2, -0.5, 1.3], atol=1e-5)


def test_iwa_follows_the_importance_weights():
    # Candidate 0 is right where x > 0 (and the sign is flipped where x < 0), candidate 1 the
    # other way round. The target lies where x > 0: importance 9 there, 1 elsewhere. The
    # weighted least squares solve 9 (1 - d)^2 + (1 + d)^2 for d = c0 - c1: d = 0.8.
    x = np.linspace(-1, 1, 200)
    y = x.copy()
    f = np.stack([np.where(x > 0, x, -x), np.where(x < 0, x, -x)])
    importance = np.where(x > 0, 9.0, 1.0)
    np.testing.assert_allclose(
        importance_weighted_aggregation(f, y, importance), [0.4, -0.4], atol=1e-5
    )
    np.testing.assert_allclose(importance_weighted_aggregation(f, y), [0.0, 0.0], atol=1e-9)


def test_iwa_for_classification_weights_the_right_candidate():
    rng = np.random.RandomState(0)
    labels = np.array(["no", "yes"])[rng.randint(0, 2, size=120)]
    perfect = _one_hot((labels == "yes").astype(int))
    uniform = np.full((120, 2), 0.5)
    weights = importance_weighted_aggregation([perfect, uniform], labels, classes=["no", "yes"])
    np.testing.assert_allclose(weights, [1.0, 0.0], atol=1e-5)
    mixed = average_predictions([perfect, uniform], weights)
    assert (np.array(["no", "yes"])[mixed.argmax(axis=1)] == labels).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y": np.zeros(3)}, "y has 3 rows; the predictions have 4."),
        ({"importance": -np.ones(4)}, "importance must hold 4 finite non-negative numbers."),
        ({"importance": np.zeros(4)}, "importance is zero on every row."),
        ({"classes": [0, 1, 2]}, "classification predictions must have one column per class (3)"),
        ({"classes": [0, 5]}, "y holds labels that are not in classes: [1]."),
    ],
)
def test_iwa_bad_input(kwargs, message):
    predictions = np.full((2, 4, 2), 0.5)
    arguments = {"y": np.array([0, 1, 0, 1]), "classes": [0, 1], **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        importance_weighted_aggregation(predictions, **arguments)


def test_nan_predictions_are_refused():
    with pytest.raises(ValueError, match=re.escape("predictions hold NaN or infinite values.")):
        average_predictions([[np.nan, 1.0]])
