"""Labeled metrics restricted to the labeled rows of a stacked fold."""

import numpy as np
from sklearn.metrics import get_scorer

from .._domains import target_mask
from ._fold import fold_rows, is_regression


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
        labeled = ~target_mask(y, regression=is_regression(estimator))
        if not labeled.any():
            raise ValueError(
                "labeled_scorer got no labeled rows: every row of y marks a target row."
            )
        return scorer(estimator, fold_rows(X, labeled), y[labeled])

    score_labeled_rows.__name__ = f"labeled_{getattr(scoring, '__name__', scoring)}"
    return score_labeled_rows
