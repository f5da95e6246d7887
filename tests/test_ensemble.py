"""SeedEnsemble: members with different seeds, averaged outputs, sklearn tools."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.ensemble import SeedEnsemble
from skdann.metrics import recommended_scorer
from skdann.model_selection import DomainStratifiedKFold

FAST = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16}


def test_members_differ_and_the_ensemble_averages_them(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    model = SeedEnsemble(DANNClassifier(**FAST), n_seeds=3, random_state=0)
    model.fit(X_source, y_source, X_target)
    assert len(model.estimators_) == 3 and len(set(model.seeds_)) == 3
    probas = [m.predict_proba(X_target) for m in model.estimators_]
    assert not np.allclose(probas[0], probas[1])  # different seeds, different models
    np.testing.assert_allclose(model.predict_proba(X_target), np.mean(probas, axis=0))
    np.testing.assert_array_equal(
        model.predict(X_target), model.classes_[np.mean(probas, axis=0).argmax(axis=1)]
    )
    assert model.transform(X_target).shape == (len(X_target), 24)
    # Same random_state, same members.
    again = SeedEnsemble(DANNClassifier(**FAST), n_seeds=3, random_state=0)
    again.fit(X_source, y_source, X_target)
    assert again.seeds_ == model.seeds_
    np.testing.assert_array_equal(again.predict_proba(X_target), model.predict_proba(X_target))


def test_ensemble_in_a_pipeline_search_and_as_a_regressor(shifted_blobs):
    X, y = stack_domains(*shifted_blobs[:3])
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST))
    model = SeedEnsemble(pipe, n_seeds=2, random_state=0)
    search = GridSearchCV(
        model,
        {"estimator__dannclassifier__adversarial_weight": [0.0, 1.0]},
        scoring=recommended_scorer,
        cv=DomainStratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(X, y)
    assert len(search.best_estimator_.estimators_) == 2
    assert clone(model).get_params()["n_seeds"] == 2
    assert 0.0 <= model.fit(X, y).score(X, y) <= 1.0

    X_source, _, X_target, _ = shifted_blobs
    targets = X_source[:, 0] * 2.0
    reg = SeedEnsemble(DANNRegressor(**FAST), n_seeds=2, random_state=0)
    reg.fit(X_source, targets, X_target)
    np.testing.assert_allclose(
        reg.predict(X_target), np.mean([m.predict(X_target) for m in reg.estimators_], axis=0)
    )
    assert reg.score(*stack_domains(X_source, targets, X_target, regression=True)) <= 1.0


def test_bad_ensembles_are_refused(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    with pytest.raises(ValueError, match=r"n_seeds must be a positive integer, got 0\."):
        SeedEnsemble(DANNClassifier(**FAST), n_seeds=0).fit(X_source, y_source, X_target)
    with pytest.raises(ValueError, match="StandardScaler has no random_state parameter"):
        SeedEnsemble(StandardScaler(), n_seeds=2).fit(X_source, y_source)


def test_members_see_routed_sample_domain():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] > 0).astype(int)
    y[60:] = -1
    sample_domain = np.repeat([1, 2, -1], 30)
    model = SeedEnsemble(DANNClassifier(**FAST), n_seeds=2, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            model,
            {"n_seeds": [2]},
            scoring=recommended_scorer,
            cv=DomainStratifiedKFold(2, shuffle=True, random_state=0),
        ).fit(X, y, sample_domain=sample_domain)
        model.fit(X, y, sample_domain=sample_domain)
    assert [m.n_domains_ for m in search.best_estimator_.estimators_] == [3, 3]
    assert [m.n_domains_ for m in model.estimators_] == [3, 3]


def test_predict_proba_exists_only_for_classifiers():
    assert not hasattr(SeedEnsemble(DANNRegressor()), "predict_proba")
    assert not hasattr(
        SeedEnsemble(make_pipeline(StandardScaler(), DANNRegressor())), "predict_proba"
    )
    assert hasattr(SeedEnsemble(DANNClassifier()), "predict_proba")
