"""Cross-validation over stacked domains: every fold keeps source and target rows."""

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, check_cv
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.metrics import importance_weighted_scorer
from skdann.model_selection import DomainStratifiedKFold


@pytest.fixture
def stacked(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    return stack_domains(X_source, y_source, X_target)


@pytest.mark.parametrize(
    "cv",
    [5, StratifiedKFold(5, shuffle=True, random_state=0)],
    ids=["integer cv (GridSearchCV's default)", "shuffled StratifiedKFold"],
)
def test_stratified_folds_keep_both_domains_in_train_and_validation(stacked, cv):
    X, y = stacked
    # GridSearchCV splits with check_cv(cv, y, classifier=is_classifier(estimator)).
    pipe = make_pipeline(StandardScaler(), DANNClassifier())
    splitter = check_cv(cv, y, classifier=is_classifier(pipe))
    assert isinstance(splitter, StratifiedKFold)
    for train, test in splitter.split(X, y):
        for part in (train, test):
            n_target = int((y[part] == -1).sum())
            # Target rows are dealt out like a class: the fold's share of them.
            assert n_target / len(part) == pytest.approx(0.5, abs=0.05)
            assert set(np.unique(y[part])) == {-1, 0, 1}


def test_unshuffled_kfold_loses_a_domain_and_the_scorer_says_so(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    order = np.random.RandomState(0).permutation(len(y_source))  # mix the source classes
    X, y = stack_domains(X_source[order], y_source[order], X_target)
    # KFold(3) without shuffling: the first validation fold is 40 source rows, no target.
    search = GridSearchCV(
        DANNClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0),
        {"adversarial_weight": [0.1, 1.0]},
        scoring=importance_weighted_scorer,
        cv=KFold(3),
        error_score="raise",
    )
    with pytest.raises(ValueError, match="A label-free scorer got no target rows"):
        search.fit(X, y)


def _stacked_classification():
    rng = np.random.RandomState(0)
    y_source = np.repeat([0, 1, 2], [30, 20, 10])
    return rng.normal(size=(100, 2)), np.r_[y_source, np.full(40, -1)]


def test_domain_stratified_kfold_keeps_domain_and_class_shares():
    X, y = _stacked_classification()
    folds = list(DomainStratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    assert len(folds) == 5
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(100))
    for train, test in folds:
        assert (y[test] == -1).sum() == 8  # 40 target rows / 5 folds
        np.testing.assert_array_equal(np.bincount(y[test][y[test] >= 0]), [6, 4, 2])
        assert (y[train] == -1).sum() == 32


def test_domain_stratified_kfold_reads_nan_markers_for_regression():
    rng = np.random.RandomState(0)
    y = np.r_[rng.normal(size=60), np.full(40, np.nan)]
    X = rng.normal(size=(100, 2))
    # Unshuffled KFold on stacked data: the first folds hold no target row at all.
    assert np.isnan(y[next(KFold(5).split(X))[1]]).sum() == 0
    for _, test in DomainStratifiedKFold(5).split(X, y):
        assert np.isnan(y[test]).sum() == 8


def test_domain_stratified_kfold_reads_sample_domain_or_groups():
    X, y = _stacked_classification()
    sample_domain = np.r_[np.repeat([1, 2], [40, 20]), np.full(40, -1)]
    for domains in ({"sample_domain": sample_domain}, {"groups": sample_domain}):
        for _, test in DomainStratifiedKFold(4).split(X, y, **domains):
            np.testing.assert_array_equal(
                np.unique(sample_domain[test], return_counts=True)[1], [10, 10, 5]
            )
    with pytest.raises(ValueError, match="must hold one id per row: got shape"):
        next(DomainStratifiedKFold(4).split(X, y, sample_domain=sample_domain[:5]))


def test_grid_search_of_a_regressor_with_domain_stratified_folds():
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(60, 3)), rng.normal(size=(40, 3)) + 0.5
    X, y = stack_domains(X_source, X_source[:, 0] * 2.0, X_target, regression=True)
    fast = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}
    search = GridSearchCV(
        DANNRegressor(**fast), {"adversarial_weight": [0.0, 1.0]}, cv=DomainStratifiedKFold(3)
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
