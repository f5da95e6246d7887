"""How :class:`~skdann.ensemble.GuardedAdaptationClassifier` turns its candidates into one model.

Every rule reads the same evidence, gathered on labeled source rows that no
candidate was fitted on (the holdout): each candidate's predictions there,
the rows' labels, and each row's target/source density ratio. It returns
one weight per candidate; the model predicts the weighted sum of the
candidates' probabilities (or values).

- ``"baselines"``: the best source-only baseline by importance-weighted
  holdout score; the adaptation candidates are never used.
- ``"average_baselines"``: the plain mean of the baselines.
- ``"conservative"``: the best baseline, unless an adaptation candidate's
  importance-weighted holdout score beats it by more than ``margin``.
- ``"select"``: the best candidate of all by importance-weighted score.
- ``"aggregate"``: IWA weights over all candidates
  (:func:`~skdann.ensemble.importance_weighted_aggregation`).
- ``"average"``: the plain mean of all candidates.

Which rule (and margin) the estimator uses by default was chosen by
``benchmarks/guarded.py`` leaving each table family out.
"""

import numpy as np

from ._aggregation import importance_weighted_aggregation

RULES = ("baselines", "average_baselines", "conservative", "select", "aggregate", "average")
BASELINE_RULES = ("baselines", "average_baselines")  # rules that never use a candidate


def weighted_scores(predictions, y, importance, classes):
    """Importance-weighted holdout score of each candidate: accuracy, or R² for regression.

    Parameters
    ----------
    predictions : ndarray of shape (n_candidates, n_rows, n_classes) or (n_candidates, n_rows)
        Class probabilities (``classes`` given) or predicted values.
    y : ndarray of shape (n_rows,)
        Labels or targets of the holdout rows.
    importance : ndarray of shape (n_rows,)
        Density ratio of each row.
    classes : ndarray or None
        The label of each probability column; ``None`` for regression.

    Returns
    -------
    ndarray of shape (n_candidates,)
    """
    if classes is not None:
        correct = classes[predictions.argmax(axis=2)] == y[None, :]
        return np.average(correct, axis=1, weights=importance)
    errors = np.average((predictions - y[None, :]) ** 2, axis=1, weights=importance)
    mean = np.average(y, weights=importance)
    spread = np.average((y - mean) ** 2, weights=importance)
    return 1.0 - errors / max(spread, np.finfo(float).tiny)


def choose_weights(rule, margin, scores, is_baseline, predictions, y, importance, classes):
    """Return the candidates' weights under ``rule``, and a sentence saying why.

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    margin : float
        For ``"conservative"``: how much an adaptation candidate's weighted
        score must exceed the best baseline's.
    scores : ndarray of shape (n_candidates,)
        Importance-weighted holdout scores (:func:`weighted_scores`).
    is_baseline : ndarray of bool of shape (n_candidates,)
    predictions, y, importance, classes
        As for :func:`weighted_scores` (for ``"aggregate"``).

    Returns
    -------
    weights : ndarray of shape (n_candidates,)
    reason : str
    """
    n = len(scores)
    weights = np.zeros(n)
    baselines = np.flatnonzero(is_baseline)
    adapted = np.flatnonzero(~is_baseline)
    best_baseline = baselines[np.argmax(scores[baselines])] if len(baselines) else None
    if rule == "average":
        return np.full(n, 1.0 / n), "the plain mean of all candidates"
    if rule == "average_baselines" and len(baselines):
        weights[baselines] = 1.0 / len(baselines)
        return weights, "the plain mean of the baselines"
    if rule == "aggregate":
        weights = importance_weighted_aggregation(predictions, y, importance, classes=classes)
        return weights, "importance-weighted aggregation (IWA) over all candidates"
    if rule == "select" or best_baseline is None:
        best = int(np.argmax(scores))
        weights[best] = 1.0
        return weights, "the candidate with the best importance-weighted holdout score"
    weights[best_baseline] = 1.0
    if rule == "baselines" or not len(adapted):
        return weights, "the baseline with the best importance-weighted holdout score"
    best_adapted = adapted[np.argmax(scores[adapted])]
    gain = scores[best_adapted] - scores[best_baseline]
    if gain > margin:
        weights[:] = 0.0
        weights[best_adapted] = 1.0
        return weights, (
            f"an adaptation candidate beat the best baseline's importance-weighted holdout "
            f"score by {gain:.3f} (more than the margin {margin:g})"
        )
    return weights, (
        f"weak evidence for adaptation: the best adaptation candidate's importance-weighted "
        f"holdout score is {gain:+.3f} from the best baseline's (margin {margin:g})"
    )


def combine(weights, predictions):
    """The weighted sum of the candidates' predictions (probabilities clipped and renormalised)."""
    combined = np.tensordot(weights, predictions, axes=1)
    if predictions.ndim == 3:
        combined = np.clip(combined, 0.0, None)
        total = combined.sum(axis=1, keepdims=True)
        uniform = np.full_like(combined, 1.0 / combined.shape[1])
        combined = np.where(total > 0, combined / np.where(total > 0, total, 1.0), uniform)
    return combined
