"""Importance-weighted validators: source risk reweighted towards the target domain."""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._fold import classes, features, is_regression, model_inputs, split_fold, squared_errors


def _domain_probabilities(Z_source, Z_target, random_state=0):
    """P(target | z) from a cross-fitted logistic regression, for every row."""
    Z = np.vstack([np.asarray(Z_source, dtype=float), np.asarray(Z_target, dtype=float)])
    d = np.r_[np.zeros(len(Z_source)), np.ones(len(Z_target))]
    proba = np.empty(len(Z))
    halves = train_test_split(
        np.arange(len(Z)), test_size=0.5, random_state=random_state, stratify=d
    )
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    for fit_idx, predict_idx in (halves, halves[::-1]):
        proba[predict_idx] = (
            clone(model).fit(Z[fit_idx], d[fit_idx]).predict_proba(Z[predict_idx])[:, 1]
        )
    return np.clip(proba, 1e-6, 1 - 1e-6)


def _density_ratio(Z_source, Z_target, random_state=0):
    """Weights p_target(z) / p_source(z) on the source rows."""
    proba = _domain_probabilities(Z_source, Z_target, random_state)[: len(Z_source)]
    return proba / (1 - proba) * len(Z_source) / len(Z_target)


def importance_weighted_scorer(estimator, X, y):
    """Source accuracy weighted by the target/source density ratio (IWCV).

    Importance-weighted cross-validation (Sugiyama et al., 2007): each
    labeled source row counts ``w(x) = p_target(x) / p_source(x)``, so the
    score estimates target accuracy under covariate shift. The ratio comes
    from a logistic regression telling target from source rows of the fold
    on the inputs of the DANN step (cross-fitted on halves): the raw inputs
    of a bare estimator, the preprocessed ones of a pipeline, so a pipeline
    over raw columns (strings, NaN) is scored as it predicts. Assumes covariate shift
    (same ``p(y|x)``) and overlapping supports; with disjoint domains the
    weights degenerate onto a few rows and the score gets noisy. Cost: two
    small logistic regressions and one ``predict``.

    Parameters
    ----------
    estimator : fitted classifier
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows.

    Returns
    -------
    float
        Weighted accuracy on the source rows of the fold.
    """
    X_source, y_source, X_target = split_fold(X, y, estimator)
    weights = _density_ratio(model_inputs(estimator, X_source), model_inputs(estimator, X_target))
    if is_regression(estimator):
        return float(-np.average(squared_errors(estimator, X_source, y_source), weights=weights))
    correct = estimator.predict(X_source) == y_source
    return float(np.average(correct, weights=weights))


def deep_embedded_validation_scorer(estimator, X, y):
    """Deep embedded validation (DEV; You et al., 2019), negated risk.

    Like :func:`importance_weighted_scorer`, but the density ratio is
    estimated on the model's learned features (``transform``), where the
    domains overlap more, and the weighted loss gets DEV's control variate,
    which lowers its variance: ``mean(w l) + eta mean(w) - eta`` with
    ``eta = -cov(w l, w) / var(w)`` and ``l`` the log-loss of each source
    row. Assumes the features carry the shift; fails like IWCV when the
    weights degenerate. Cost: one ``transform`` and ``predict_proba`` of the
    fold, two small logistic regressions.

    Parameters
    ----------
    estimator : fitted DANNClassifier, or a Pipeline ending in one
        The model to score; it must provide ``transform`` features.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows.

    Returns
    -------
    float
        Minus the DEV risk estimate (higher is better).
    """
    X_source, y_source, X_target = split_fold(X, y, estimator)
    weights = _density_ratio(features(estimator, X_source), features(estimator, X_target))
    if is_regression(estimator):
        losses = squared_errors(estimator, X_source, y_source)
    else:
        proba = estimator.predict_proba(X_source)
        labels = list(classes(estimator))
        index = np.array([labels.index(label) for label in y_source])
        losses = -np.log(np.clip(proba[np.arange(len(index)), index], 1e-12, 1.0))
    weighted = weights * losses
    variance = np.var(weights, ddof=1)  # the same normalisation as np.cov
    eta = -np.cov(weighted, weights)[0, 1] / variance if variance > 0 else 0.0
    risk = np.mean(weighted) + eta * np.mean(weights) - eta
    return float(-risk)
