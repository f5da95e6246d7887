import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdann.metrics
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
    with pytest.raises(ValueError, match=r"A label-free scorer got no target rows \(y == -1\)"):
        importance_weighted_scorer(good, X[:60], y[:60])
    with pytest.raises(ValueError, match="got only target rows"):
        importance_weighted_scorer(good, X[y == -1], y[y == -1])


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


# Scorers whose weights matter. A stub stands in for a fitted model, so the
# predictions, probabilities and features are known and nothing is trained.


class StubModel:
    """Right on the source rows near the target (x0 < 1.5), wrong on the far ones, or the reverse.

    The true label is ``x1 > 0``. ``transform`` returns a feature that carries
    the shift (x0, scaled).
    """

    classes_ = np.array([0, 1])

    def __init__(self, right_near_target=True):
        self.right_near_target = right_near_target

    def predict(self, X):
        y = (X[:, 1] > 0).astype(int)
        near = X[:, 0] < 1.5
        wrong = ~near if self.right_near_target else near
        return np.where(wrong, 1 - y, y)

    def predict_proba(self, X):
        p1 = np.where(self.predict(X) == 1, 0.9, 0.1)
        return np.c_[1 - p1, p1]

    def transform(self, X):
        return 2.0 * X[:, :1]


@pytest.fixture
def near_and_far():
    """Half the source rows sit on the target (x0 ~ N(0, 0.5)), half far off (x0 ~ N(3, 0.5))."""
    rng = np.random.RandomState(0)
    n = 100
    x0 = np.r_[rng.normal(0.0, 0.5, n), rng.normal(3.0, 0.5, n)]
    X_source = np.c_[x0, rng.normal(size=2 * n)]
    y_source = (X_source[:, 1] > 0).astype(int)
    X_target = np.c_[rng.normal(0.0, 0.5, n), rng.normal(size=n)]
    return X_source, y_source, X_target


def _log_loss_per_row(model, X, y):
    proba = model.predict_proba(X)
    return -np.log(proba[np.arange(len(y)), y])


@pytest.mark.parametrize("right_near_target", [True, False])
def test_importance_weighted_score_follows_the_rows_near_the_target(
    near_and_far, right_near_target
):
    X_source, y_source, X_target = near_and_far
    model = StubModel(right_near_target)
    accuracy = np.mean(model.predict(X_source) == y_source)
    assert accuracy == 0.5  # unweighted, right on one half and wrong on the other
    score = importance_weighted_scorer(model, *stack_domains(X_source, y_source, X_target))
    # Measured: 0.948 and 0.052. With all weights 1 the score is the accuracy, 0.5.
    if right_near_target:
        assert score > accuracy + 0.35
    else:
        assert score < accuracy - 0.35


@pytest.mark.parametrize("right_near_target", [True, False])
def test_deep_embedded_validation_follows_the_rows_near_the_target(
    near_and_far, right_near_target
):
    X_source, y_source, X_target = near_and_far
    model = StubModel(right_near_target)
    unweighted = -np.mean(_log_loss_per_row(model, X_source, y_source))
    assert unweighted == pytest.approx((np.log(0.9) + np.log(0.1)) / 2)  # -1.204
    score = deep_embedded_validation_scorer(model, *stack_domains(X_source, y_source, X_target))
    # Measured: -0.231 (near rows right, their loss is -log 0.9 = 0.105) and -2.177 (near
    # rows wrong, -log 0.1 = 2.303). With all weights 1 the score is the unweighted one.
    if right_near_target:
        assert score > unweighted + 0.7
    else:
        assert score < unweighted - 0.7


def _cross_fitted_density_ratio(Z_source, Z_target):
    """The documented recipe, written out: P(target | z) from a logistic regression on
    standardised z, fitted on one stratified half of the rows and applied to the other
    (both ways), turned into p_target / p_source on the source rows."""
    Z = np.vstack([Z_source, Z_target])
    d = np.r_[np.zeros(len(Z_source)), np.ones(len(Z_target))]
    first, second = train_test_split(np.arange(len(Z)), test_size=0.5, random_state=0, stratify=d)
    proba = np.empty(len(Z))
    for fit_rows, rows in ((first, second), (second, first)):
        scaler = StandardScaler().fit(Z[fit_rows])
        clf = LogisticRegression(max_iter=1000).fit(scaler.transform(Z[fit_rows]), d[fit_rows])
        proba[rows] = clf.predict_proba(scaler.transform(Z[rows]))[:, 1]
    proba = np.clip(proba[: len(Z_source)], 1e-6, 1 - 1e-6)
    return proba / (1 - proba) * len(Z_source) / len(Z_target)


def test_importance_weighted_score_matches_the_weighted_accuracy_computed_here():
    # Overlapping Gaussians, so every weight is moderate; unequal domain sizes.
    rng = np.random.RandomState(1)
    X_source = rng.normal(size=(150, 2))
    y_source = (X_source[:, 1] > 0).astype(int)
    X_target = rng.normal(size=(90, 2)) + np.array([0.8, 0.0])
    model = StubModel(right_near_target=False)  # wrong where x0 < 1.5
    correct = model.predict(X_source) == y_source
    weights = _cross_fitted_density_ratio(X_source, X_target)
    expected = np.sum(weights * correct) / np.sum(weights)
    assert abs(expected - np.mean(correct)) > 0.05  # the weights change the score
    score = importance_weighted_scorer(model, *stack_domains(X_source, y_source, X_target))
    assert score == pytest.approx(expected, rel=1e-9)


def test_density_ratio_estimates_the_true_ratio():
    # Source N(0, 1), target N(1, 1): p_target / p_source = exp(x - 1/2).
    rng = np.random.RandomState(0)
    Z_source = rng.normal(size=(2000, 1))
    Z_target = rng.normal(size=(1000, 1)) + 1.0
    weights = skdann.metrics._importance._density_ratio(Z_source, Z_target)
    x = Z_source[:, 0]
    slope, intercept = np.polyfit(x, np.log(weights), 1)
    assert slope == pytest.approx(1.0, abs=0.15)
    assert intercept == pytest.approx(-0.5, abs=0.15)
    assert np.mean(weights) == pytest.approx(1.0, abs=0.1)  # E_source[w] = 1


class _KnownWeights:
    """Stand-in for ``_density_ratio``: known weights, and the features it was given."""

    def __init__(self, weights):
        self.weights = weights
        self.calls = []

    def __call__(self, Z_source, Z_target, random_state=0):
        self.calls.append((np.asarray(Z_source), np.asarray(Z_target)))
        return self.weights


def test_deep_embedded_validation_control_variate(near_and_far, monkeypatch):
    X_source, y_source, X_target = near_and_far
    model = StubModel(right_near_target=True)
    losses = _log_loss_per_row(model, X_source, y_source)
    # Weights that grow with the row index (so with x0 for the far half, where the
    # model is wrong): correlated with the losses, with a mean far from 1.
    weights = np.linspace(0.2, 3.0, len(X_source))
    fake = _KnownWeights(weights)
    monkeypatch.setattr(skdann.metrics._importance, "_density_ratio", fake)
    score = deep_embedded_validation_scorer(model, *stack_domains(X_source, y_source, X_target))

    # The ratio is estimated on the learned features, not on the raw inputs.
    (Z_source, Z_target), *others = fake.calls
    assert not others
    np.testing.assert_array_equal(Z_source, model.transform(X_source))
    np.testing.assert_array_equal(Z_target, model.transform(X_target))

    n = len(weights)
    weighted = weights * losses
    cov = np.sum((weighted - weighted.mean()) * (weights - weights.mean())) / (n - 1)
    var = np.sum((weights - weights.mean()) ** 2) / (n - 1)
    eta = -cov / var
    expected = -(np.mean(weighted) + eta * np.mean(weights) - eta)
    assert score == pytest.approx(expected, rel=1e-9)
    # The control variate moves the estimate away from the plain weighted loss ...
    assert abs(score - (-np.mean(weighted))) > 0.5
    # ... and the weights move it away from the unweighted loss.
    assert abs(score - (-np.mean(losses))) > 0.2  # measured: 0.35


def test_deep_embedded_validation_with_unit_weights_is_the_mean_loss(near_and_far, monkeypatch):
    X_source, y_source, X_target = near_and_far
    model = StubModel(right_near_target=True)
    monkeypatch.setattr(
        skdann.metrics._importance, "_density_ratio", _KnownWeights(np.ones(len(X_source)))
    )
    score = deep_embedded_validation_scorer(model, *stack_domains(X_source, y_source, X_target))
    # Constant weights: no variance, the control variate is 0.
    assert score == pytest.approx(-np.mean(_log_loss_per_row(model, X_source, y_source)))


def test_importance_weighted_scorer_weights_raw_inputs(near_and_far, monkeypatch):
    X_source, y_source, X_target = near_and_far
    model = StubModel(right_near_target=True)
    # All the weight on the rows near the target (the first half): the accuracy there.
    weights = np.r_[np.ones(100), np.zeros(100)]
    fake = _KnownWeights(weights)
    monkeypatch.setattr(skdann.metrics._importance, "_density_ratio", fake)
    score = importance_weighted_scorer(model, *stack_domains(X_source, y_source, X_target))
    assert score == 1.0
    (Z_source, Z_target), *others = fake.calls
    assert not others
    np.testing.assert_array_equal(Z_source, X_source)
    np.testing.assert_array_equal(Z_target, X_target)
