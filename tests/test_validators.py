"""Each label-free validator on models whose signal is known.

Three stub classifiers predict fixed probabilities for the target rows of a
fold of two balanced classes:

- ``good``: adapted; confident and right, half the rows in each class;
- ``source_only``: unadapted; on the shifted target rows its predictions
  scatter over the whole range (probability of class 1 uniform on
  0.05-0.95), with no cluster structure;
- ``collapsed``: every target row sent confidently to class 0, the failure
  prediction entropy cannot see.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV

from skdann.metrics import (
    information_maximization_scorer,
    mean_rank_refit,
    mean_ranks,
    prediction_entropy_scorer,
    recommended_scorer,
    soft_neighborhood_density_scorer,
)

N_TARGET = 200


class FixedProbabilities(ClassifierMixin, BaseEstimator):
    """Predicts the given probabilities for the rows it is asked about, in order."""

    def __init__(self, kind="good"):
        self.kind = kind

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        rng = np.random.default_rng(0)
        n = len(X)
        if self.kind == "good":
            p1 = np.where(np.arange(n) % 2 == 0, 0.97, 0.03) + rng.uniform(-0.02, 0.02, n)
        elif self.kind == "source_only":
            p1 = rng.uniform(0.05, 0.95, n)
        else:  # collapsed
            p1 = np.full(n, 0.01) + rng.uniform(0.0, 0.005, n)
        return np.c_[1 - p1, p1]

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def _fold():
    X = np.zeros((N_TARGET + 50, 3))
    y = np.r_[np.tile([0, 1], 25), -np.ones(N_TARGET, dtype=int)]
    return X, y


def _scores(scorer):
    X, y = _fold()
    return {
        kind: scorer(FixedProbabilities(kind).fit(X, y), X, y)
        for kind in ("good", "source_only", "collapsed")
    }


def test_prediction_entropy_rates_collapse_as_best():
    scores = _scores(prediction_entropy_scorer)
    assert scores["good"] > scores["source_only"]
    # Its known failure: a confidently collapsed model looks best of all.
    assert scores["collapsed"] > scores["good"]


def test_information_maximization_penalises_collapse():
    scores = _scores(information_maximization_scorer)
    assert scores["good"] > scores["source_only"] > scores["collapsed"]
    assert scores["collapsed"] == pytest.approx(0.0, abs=0.01)
    # log 2 for using both classes equally, minus the mean entropy of p = 0.97 (0.13).
    assert scores["good"] == pytest.approx(np.log(2) - 0.135, abs=0.03)
    assert all(0.0 <= s <= np.log(2) + 1e-9 for s in scores.values())


def test_soft_neighborhood_density_prefers_clusters_and_is_fooled_by_collapse():
    scores = _scores(soft_neighborhood_density_scorer)
    # Two tight clusters of N/2 rows: each row's neighbourhood spreads over its cluster.
    assert scores["good"] == pytest.approx(np.log(N_TARGET / 2 - 1), abs=0.2)
    assert scores["good"] > scores["source_only"]
    # Documented failure: identical predictions make every row a neighbour.
    assert scores["collapsed"] == pytest.approx(np.log(N_TARGET - 1), abs=0.01)


def test_soft_neighborhood_density_subsamples_large_folds():
    X = np.zeros((5000, 3))
    y = np.r_[np.tile([0, 1], 500), -np.ones(4000, dtype=int)]
    model = FixedProbabilities("good").fit(X, y)
    score = soft_neighborhood_density_scorer(model, X, y)
    assert score == pytest.approx(np.log(1000 - 1), abs=0.2)  # 2000 rows, 2 clusters


def test_mean_rank_refit_picks_the_best_mean_rank_and_breaks_ties_first():
    results = {
        "mean_test_a": np.array([0.1, 0.9, 0.5, 0.9]),
        "mean_test_b": np.array([0.3, 0.2, 0.8, 0.2]),
    }
    np.testing.assert_allclose(
        mean_ranks([results["mean_test_a"], results["mean_test_b"]]), [3.0, 2.5, 2.0, 2.5]
    )
    assert mean_rank_refit(["a", "b"])(results) == 2
    assert mean_rank_refit(["a"])(results) == 1  # a tie between 1 and 3 goes to 1
    # A failed (NaN) score ranks last.
    assert mean_rank_refit(["a"])({"mean_test_a": np.array([np.nan, 0.2])}) == 1
    with pytest.raises(ValueError, match="at least one scorer name"):
        mean_rank_refit([])


def test_mean_rank_refit_in_a_grid_search_over_known_models():
    # Infomax and SND together: the good model wins; alone SND would pick the collapsed one.
    X, y = _fold()
    scoring = {
        "infomax": information_maximization_scorer,
        "snd": soft_neighborhood_density_scorer,
    }
    grid = {"kind": ["collapsed", "source_only", "good"]}
    cv = [(np.arange(len(y)), np.arange(len(y)))]
    search = GridSearchCV(
        FixedProbabilities(), grid, scoring=scoring, cv=cv, refit=mean_rank_refit(list(scoring))
    ).fit(X, y)
    assert search.best_params_ == {"kind": "good"}
    snd_only = GridSearchCV(FixedProbabilities(), grid, scoring=scoring, cv=cv, refit="snd")
    assert snd_only.fit(X, y).best_params_ == {"kind": "collapsed"}


def test_recommended_scorer_dispatches_on_the_estimators_kind():
    from skdann import metrics

    X, y = _fold()
    model = FixedProbabilities("good").fit(X, y)
    assert recommended_scorer(model, X, y) == metrics.RECOMMENDED["classifier"](model, X, y)
    with pytest.raises(TypeError, match="scores class probabilities"):
        information_maximization_scorer(_Regressor(), X, y.astype(float))


class _Regressor(BaseEstimator):
    _estimator_type = "regressor"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        return tags

    def predict(self, X):
        return np.zeros(len(X))
