"""Label-free scores for choosing DANN hyperparameters, and the proxy A-distance.

In unsupervised domain adaptation there are no target labels to validate
with. The scorers below have scikit-learn's ``scorer(estimator, X, y)``
signature and work on a validation fold of stacked data (see
:func:`~skdann.stack_domains`): source rows carry labels, target rows carry
``y == -1``. Higher is better for all of them, as ``GridSearchCV`` expects.
``estimator`` is a fitted :class:`~skdann.DANNClassifier` or a pipeline
ending in one.

Which one to trust is an empirical question, measured by
``benchmarks/model_selection.py`` on 30 real adaptation runs: picks by
:func:`prediction_entropy_scorer` averaged 0.581 target accuracy (regret
1.5 points against the best grid point), against 0.544 for picks by source
accuracy, and it is the scorer the documentation recommends. See the
"Choosing lambda without target labels" page.
"""

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, get_scorer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._domains import select_labeled, stack_domains, target_mask

__all__ = [
    "deep_embedded_validation_scorer",
    "importance_weighted_scorer",
    "labeled_scorer",
    "prediction_entropy_scorer",
    "proxy_a_distance",
    "reverse_validation_scorer",
]


def _split_fold(X, y, estimator):
    """Return source rows, their targets and target rows of a stacked fold."""
    y = np.asarray(y)
    regression = _is_regressor(estimator)
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
    return _rows(X, ~is_target), y[~is_target], _rows(X, is_target)


def _rows(X, mask):
    return select_labeled(X, mask)


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


def prediction_entropy_scorer(estimator, X, y):
    """Negative mean entropy of the predicted class probabilities on target rows.

    Assumes that a well-adapted model is confident on the target domain.
    Fails when a model is confidently wrong (for example, after collapsing
    target rows onto one class): entropy never sees labels. Cost: one
    ``predict_proba`` on the target rows.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows (only the mask is used).

    Returns
    -------
    float
        ``-mean(H(p(.|x)))`` over target rows, in nats; 0 is the best.
    """
    _require_probabilities(estimator, "prediction_entropy_scorer")
    _, _, X_target = _split_fold(X, y, estimator)
    proba = np.clip(estimator.predict_proba(X_target), 1e-12, 1.0)
    return float(np.mean(np.sum(proba * np.log(proba), axis=1)))


def importance_weighted_scorer(estimator, X, y):
    """Source accuracy weighted by the target/source density ratio (IWCV).

    Importance-weighted cross-validation (Sugiyama et al., 2007): each
    labeled source row counts ``w(x) = p_target(x) / p_source(x)``, so the
    score estimates target accuracy under covariate shift. The ratio comes
    from a logistic regression telling target from source rows of the fold
    on the raw inputs (cross-fitted on halves). Assumes covariate shift
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
    X_source, y_source, X_target = _split_fold(X, y, estimator)
    weights = _density_ratio(_dense(X_source), _dense(X_target))
    if _is_regressor(estimator):
        return float(-np.average(_squared_errors(estimator, X_source, y_source), weights=weights))
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
    X_source, y_source, X_target = _split_fold(X, y, estimator)
    weights = _density_ratio(_features(estimator, X_source), _features(estimator, X_target))
    if _is_regressor(estimator):
        losses = _squared_errors(estimator, X_source, y_source)
    else:
        proba = estimator.predict_proba(X_source)
        classes = list(_classes(estimator))
        index = np.array([classes.index(label) for label in y_source])
        losses = -np.log(np.clip(proba[np.arange(len(index)), index], 1e-12, 1.0))
    weighted = weights * losses
    variance = np.var(weights, ddof=1)  # the same normalisation as np.cov
    eta = -np.cov(weighted, weights)[0, 1] / variance if variance > 0 else 0.0
    risk = np.mean(weighted) + eta * np.mean(weights) - eta
    return float(-risk)


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
    X_source, y_source, X_target = _split_fold(X, y, estimator)
    pseudo = np.asarray(estimator.predict(X_target))
    regression = _is_regressor(estimator)
    if not regression and len(np.unique(pseudo)) < 2:
        return 0.0
    idx_1, idx_2 = _half_split(len(y_source), None if regression else y_source)
    X_1, X_2 = _rows(X_source, idx_1), _rows(X_source, idx_2)
    reverse = clone(estimator)
    reverse.fit(*stack_domains(X_target, pseudo, X_1, regression=regression))
    return float(reverse.score(X_2, y_source[idx_2]))


def labeled_scorer(scoring):
    """Score any scikit-learn metric on the labeled rows of a stacked fold only.

    ``GridSearchCV(..., scoring="accuracy")`` on stacked data counts every
    target row (``y == -1``) as an error, because the estimator never sees
    the scorer. This wrapper drops the target rows (``-1`` for classifiers,
    NaN for regressors) before scoring, so
    ``scoring=labeled_scorer("balanced_accuracy")`` scores the source rows
    of each fold, as :meth:`DANNClassifier.score` does for accuracy.

    Parameters
    ----------
    scoring : str or callable
        A scorer name (``"balanced_accuracy"``, ``"f1_macro"``, ``"r2"``,
        ``"neg_mean_absolute_error"`` ...) or a scorer ``f(estimator, X, y)``.

    Returns
    -------
    callable
        A scorer ``f(estimator, X, y)`` for ``GridSearchCV(scoring=...)``.

    Examples
    --------
    >>> from skdann.metrics import labeled_scorer
    >>> scorer = labeled_scorer("balanced_accuracy")
    """
    scorer = get_scorer(scoring)

    def score_labeled_rows(estimator, X, y):
        y = np.asarray(y)
        labeled = ~target_mask(y, regression=_is_regressor(estimator))
        if not labeled.any():
            raise ValueError(
                "labeled_scorer got no labeled rows: every row of y marks a target row."
            )
        return scorer(estimator, _rows(X, labeled), y[labeled])

    score_labeled_rows.__name__ = f"labeled_{getattr(scoring, '__name__', scoring)}"
    return score_labeled_rows


def proxy_a_distance(X_source, X_target, random_state=0):
    """Proxy A-distance between two samples (Ben-David et al.; JMLR DANN, section 5.1.5).

    A linear classifier (standardised logistic regression) learns to tell
    the domains apart on half of the rows of each; with ``eps`` its error on
    the other half, ``PAD = 2 (1 - 2 eps)``. Near 0 for indistinguishable
    samples, near 2 for separable ones. ``eps`` is the *balanced* error (the
    mean of the two domains' error rates) and the classifier weights the
    domains equally, so samples of different sizes do not inflate the
    distance: always guessing the larger domain scores 0, not the share of
    its rows. Compare raw inputs with ``DANNClassifier.transform`` features.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n_source, n_features), (n_target, n_features)
        The two samples, dense or sparse (sparse ones are densified).
    random_state : int, default=0
        Seed of the half split.

    Returns
    -------
    float
        PAD in ``[0, 2]`` (a balanced error above 0.5 counts as 0.5).
    """
    X_source, X_target = _dense(X_source), _dense(X_target)
    Z = np.vstack([X_source, X_target]).astype(float)
    d = np.r_[np.zeros(len(X_source)), np.ones(len(X_target))]
    Z_fit, Z_test, d_fit, d_test = train_test_split(
        Z, d, test_size=0.5, random_state=random_state, stratify=d
    )
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=2000, class_weight="balanced")),
        ]
    )
    error = 1.0 - balanced_accuracy_score(d_test, model.fit(Z_fit, d_fit).predict(Z_test))
    return float(2.0 * (1.0 - 2.0 * min(error, 0.5)))


def _dense(X):
    X = X.toarray() if hasattr(X, "toarray") else X
    return np.asarray(X, dtype=float)


def _features(estimator, X):
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    return estimator.transform(X)


def _classes(estimator):
    return estimator[-1].classes_ if isinstance(estimator, Pipeline) else estimator.classes_


def _is_regressor(estimator):
    """``is_regressor`` that reads any other object (a stub, a wrapper) as a classifier."""
    try:
        return is_regressor(estimator)
    except (AttributeError, TypeError):
        return False


def _require_probabilities(estimator, name):
    if _is_regressor(estimator) or not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{name} scores class probabilities, which {type(estimator).__name__} does not "
            "give. For a regressor use importance_weighted_scorer, "
            "deep_embedded_validation_scorer or reverse_validation_scorer."
        )


def _squared_errors(estimator, X_source, y_source):
    errors = (np.asarray(estimator.predict(X_source), dtype=float) - y_source) ** 2
    return errors.reshape(len(errors), -1).mean(axis=1)


def _half_split(n_rows, stratify):
    indices = np.arange(n_rows)
    try:
        return train_test_split(indices, test_size=0.5, random_state=0, stratify=stratify)
    except ValueError:
        return train_test_split(indices, test_size=0.5, random_state=0)
