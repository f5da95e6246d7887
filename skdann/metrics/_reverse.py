"""Reverse validation: train back from the pseudo-labeled target to the source."""

import numpy as np
from sklearn.base import clone

from .._domains import stack_domains
from ._fold import fold_rows, half_split, is_regression, split_fold


def reverse_validation_scorer(estimator, X, y):
    """Reverse validation (Zhong et al., 2010), as used by the JMLR DANN paper.

    What it trains on, inside one validation fold: the fold's source rows are
    split in half (stratified, fixed seed), S1 and S2. The fitted model
    labels the fold's target rows; a *reverse* model (a clone of the
    estimator with the same parameters) is trained with those target rows
    and their pseudo-labels as its labeled source, and S1 as its unlabeled
    target. Its accuracy on S2, whose labels are true, is the score: a
    model whose target labels are consistent with the source task lets the
    reverse model transfer back. Assumes the adaptation is roughly
    symmetric; fails when pseudo-labels collapse to one class (the score is
    then 0, the worst). Cost: it trains a second model per scored fold.

    Parameters
    ----------
    estimator : fitted classifier (a DANNClassifier or a pipeline ending in one)
        The model to score; it is cloned, not refitted.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows.

    Returns
    -------
    float
        Accuracy of the reverse model on the held-out half of the fold's
        source rows.
    """
    X_source, y_source, X_target = split_fold(X, y, estimator)
    pseudo = np.asarray(estimator.predict(X_target))
    regression = is_regression(estimator)
    if not regression and len(np.unique(pseudo)) < 2:
        return 0.0
    idx_1, idx_2 = half_split(len(y_source), None if regression else y_source)
    X_1, X_2 = fold_rows(X_source, idx_1), fold_rows(X_source, idx_2)
    reverse = clone(estimator)
    reverse.fit(*stack_domains(X_target, pseudo, X_1, regression=regression))
    return float(reverse.score(X_2, y_source[idx_2]))
