"""Cross-validation over stacked domains: every fold keeps source and target rows."""

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, check_cv
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann.metrics import importance_weighted_scorer


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
    with pytest.raises(ValueError, match="needs both source rows and target rows"):
        search.fit(X, y)
