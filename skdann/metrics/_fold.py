"""The pieces every label-free scorer shares: a stacked fold's rows, model outputs."""

import numpy as np
from sklearn.base import is_regressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from .._domains import select_labeled, target_mask


def split_fold(X, y, estimator):
    """Return source rows, their targets and target rows of a stacked fold."""
    y = np.asarray(y)
    regression = is_regression(estimator)
    is_target = target_mask(y, regression=regression)
    marker = "NaN" if regression else "-1"
    if not is_target.any():
        raise ValueError(
            f"A label-free scorer got no target rows (y == {marker}): it scores a "
            "validation fold of stacked source and target rows. If this is "
            "search.score(X_test, y_test) on labeled test rows, score them with a labeled "
            "metric instead, e.g. search.best_estimator_.score(X_test, y_test); inside a "
            "search, use a splitter that keeps both domains in every fold, e.g. "
            "skdann.model_selection.DomainStratifiedKFold."
        )
    if is_target.all():
        raise ValueError(
            f"A label-free scorer got only target rows (y == {marker}) and no labeled "
            "source row. Use a splitter that keeps both domains in every fold, e.g. "
            "skdann.model_selection.DomainStratifiedKFold."
        )
    return fold_rows(X, ~is_target), y[~is_target], fold_rows(X, is_target)


def fold_rows(X, mask):
    return select_labeled(X, mask)


def dense(X):
    X = X.toarray() if hasattr(X, "toarray") else X
    return np.asarray(X, dtype=float)


def model_inputs(estimator, X):
    """``X`` as the DANN step sees it: through a pipeline's preprocessing, as floats.

    A pipeline over raw columns (strings, NaN) is scored on what its
    preprocessing makes of them, never on the raw values.
    """
    if isinstance(estimator, Pipeline) and len(estimator) > 1:
        X = estimator[:-1].transform(X)
    return dense(X)


def features(estimator, X):
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    return estimator.transform(X)


def classes(estimator):
    return estimator[-1].classes_ if isinstance(estimator, Pipeline) else estimator.classes_


def is_regression(estimator):
    """``is_regressor`` that reads any other object (a stub, a wrapper) as a classifier."""
    try:
        return is_regressor(estimator)
    except (AttributeError, TypeError):
        return False


def require_probabilities(estimator, name):
    if is_regression(estimator) or not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{name} scores class probabilities, which {type(estimator).__name__} does not "
            "give. For a regressor use importance_weighted_scorer, "
            "deep_embedded_validation_scorer or reverse_validation_scorer."
        )


def squared_errors(estimator, X_source, y_source):
    errors = (np.asarray(estimator.predict(X_source), dtype=float) - y_source) ** 2
    return errors.reshape(len(errors), -1).mean(axis=1)


def half_split(n_rows, stratify):
    indices = np.arange(n_rows)
    try:
        return train_test_split(indices, test_size=0.5, random_state=0, stratify=stratify)
    except ValueError:
        return train_test_split(indices, test_size=0.5, random_state=0)
