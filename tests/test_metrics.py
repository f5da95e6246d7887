import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann.metrics import (
    deep_embedded_validation_scorer,
    importance_weighted_scorer,
    prediction_entropy_scorer,
    proxy_a_distance,
    reverse_validation_scorer,
)

PARAMS = {"hidden_layer_sizes": (16,), "max_iter": 30, "batch_size": 16, "random_state": 0}


@pytest.fixture
def fold(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    X, y = stack_domains(X_source, y_source, X_target)
    good = make_pipeline(StandardScaler(), DANNClassifier(**PARAMS)).fit(X, y)
    # Broken on purpose: trained on shuffled source labels.
    y_broken = y.copy()
    y_broken[:60] = np.random.RandomState(0).permutation(y[:60])
    broken = make_pipeline(StandardScaler(), DANNClassifier(**PARAMS)).fit(X, y_broken)
    return X, y, good, broken


@pytest.mark.parametrize(
    "scorer",
    [importance_weighted_scorer, deep_embedded_validation_scorer, reverse_validation_scorer],
)
def test_scorers_prefer_the_adapted_model_over_a_broken_one(fold, scorer):
    X, y, good, broken = fold
    assert scorer(good, X, y) > scorer(broken, X, y) + 0.05


def test_entropy_prefers_a_trained_model_over_an_untrained_one(fold):
    X, y, good, _ = fold
    untrained = DANNClassifier(**{**PARAMS, "max_iter": 1, "learning_rate_init": 1e-6})
    untrained = make_pipeline(StandardScaler(), untrained).fit(X, y)
    assert prediction_entropy_scorer(good, X, y) > prediction_entropy_scorer(untrained, X, y)
    assert prediction_entropy_scorer(untrained, X, y) == pytest.approx(-np.log(2), abs=0.05)


def test_scorers_need_both_domains_in_the_fold(fold):
    X, y, good, _ = fold
    with pytest.raises(ValueError, match="needs both source rows and target rows"):
        importance_weighted_scorer(good, X[:60], y[:60])


def test_proxy_a_distance_near_zero_for_one_sample_and_near_two_for_disjoint_blobs():
    rng = np.random.RandomState(0)
    sample = rng.normal(size=(400, 5))
    assert proxy_a_distance(sample[:200], sample[200:]) < 0.3
    far = rng.normal(size=(200, 5)) + 10.0
    assert proxy_a_distance(sample[:200], far) > 1.9


def test_proxy_a_distance_is_not_inflated_by_unequal_sample_sizes():
    # One distribution, 600 rows against 100: a classifier that always says "source"
    # is right on 86% of the rows, but the domains are indistinguishable.
    sample = np.random.RandomState(1).normal(size=(700, 5))
    assert proxy_a_distance(sample[:600], sample[600:]) < 0.3
