"""``score`` of every skdann estimator: its metric on the labeled rows, never on markers."""

import numpy as np
from sklearn.base import is_classifier

from ._domains import check_score_weight, select_labeled, target_mask


class LabeledScoreMixin:
    """``score`` that ignores rows marked as unlabeled targets (``-1`` or NaN in ``y``).

    The estimator supplies ``_metric(y, y_pred, sample_weight)``. A
    classifier or regressor mixin listed before this one would shadow it:
    such estimators set ``score = LabeledScoreMixin.score``.
    """

    def score(self, X, y, sample_weight=None, sample_domain=None):
        """Return the estimator's metric (accuracy or R²) on the labeled rows.

        Rows marked in ``y`` (target rows, whose labels are unknown) are
        ignored, so the score of a stacked validation fold is the metric on
        its source rows. When ``sample_domain`` is given and some target rows
        carry labels, only those labeled target rows are scored (the
        estimate of target performance; with routed metadata a search
        passes each fold's ``sample_domain``). To measure target
        performance directly, pass target rows with their true labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets; the target marker (``-1``, NaN) on rows to ignore.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Domain ids of the rows (negative: target); ``None`` scores every
            labeled row.

        Returns
        -------
        float
            The metric of ``predict(X)`` on the scored rows.
        """
        return labeled_score(self, X, y, sample_weight, sample_domain)


def labeled_score(estimator, X, y, sample_weight=None, sample_domain=None):
    """``estimator._metric`` on the labeled rows of ``y`` (labeled target rows, when given)."""
    regression = not is_classifier(estimator)
    y = np.asarray(y, dtype=np.float64) if regression else np.asarray(y)
    sample_weight = check_score_weight(sample_weight, len(y))
    if regression:
        missing = np.isnan(y)
        if missing.ndim == 2 and (missing.any(axis=1) & ~missing.all(axis=1)).any():
            raise ValueError(
                "y has rows where some outputs are NaN and others are not; NaN marks a "
                "target row only when all of its outputs are NaN."
            )
    labeled = ~target_mask(y, regression=regression)
    if not labeled.any():
        marker = "NaN" if regression else "-1"
        raise ValueError(f"score needs labeled rows, but every row of y is {marker} (target).")
    if sample_domain is not None:
        labeled_target = labeled & (np.asarray(sample_domain) < 0)
        if labeled_target.any():
            labeled = labeled_target
    if not labeled.all():
        X, y = select_labeled(X, labeled), y[labeled]
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[labeled]
    return float(estimator._metric(y, estimator.predict(X), sample_weight))
