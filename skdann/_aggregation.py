"""Several candidate models turned into one prediction: averaging, EnsV and IWA.

The candidates' predictions on the same rows come stacked as one array,
``(n_candidates, n_rows, n_classes)`` class probabilities for classifiers,
``(n_candidates, n_rows)`` (or ``(n_candidates, n_rows, n_outputs)``)
values for regressors.

- :func:`average_predictions`: the plain (or weighted) mean.
- :func:`ensemble_validation_scores` (EnsV; Hu et al., NeurIPS 2024): each
  candidate scored against the ensemble of all candidates on the target
  rows, the ensemble standing in for the missing labels. Selecting the
  best-scored candidate never picks the one that disagrees most with the
  ensemble, which is where single validators fail worst.
- :func:`importance_weighted_aggregation` (IWA; Dinu et al., ICLR 2023):
  linear aggregation weights fitted by least squares on labeled source rows,
  each row weighted by its target/source density ratio, so the weights
  favour the candidates that are right where the target lies.
"""

import numpy as np

__all__ = [
    "average_predictions",
    "ensemble_validation_scores",
    "importance_weighted_aggregation",
]


def _stacked(predictions):
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.ndim not in (2, 3) or predictions.shape[0] < 1 or predictions.shape[1] < 1:
        raise ValueError(
            "predictions must be stacked as (n_candidates, n_rows) or (n_candidates, n_rows, "
            f"n_columns), with at least one candidate and one row; got shape {predictions.shape}."
        )
    if not np.all(np.isfinite(predictions)):
        raise ValueError("predictions hold NaN or infinite values.")
    return predictions


def average_predictions(predictions, weights=None):
    """Return the (weighted) mean of the candidates' predictions.

    Parameters
    ----------
    predictions : array-like of shape (n_candidates, n_rows) or (n_candidates, n_rows, n_columns)
        Class probabilities or regression predictions, one slice per candidate.
    weights : array-like of shape (n_candidates,), default=None
        Weight of each candidate (equal when ``None``); any real numbers,
        as :func:`importance_weighted_aggregation` returns.

    Returns
    -------
    ndarray of shape (n_rows,) or (n_rows, n_columns)
        ``sum_k weights[k] * predictions[k]`` (the mean when ``weights`` is
        ``None``).

    Examples
    --------
    >>> from skdann.ensemble import average_predictions
    >>> average_predictions([[0.0, 1.0], [1.0, 3.0]])
    array([0.5, 2. ])
    """
    predictions = _stacked(predictions)
    if weights is None:
        return predictions.mean(axis=0)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (predictions.shape[0],) or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"weights must hold one finite number per candidate ({predictions.shape[0]}); "
            f"got shape {weights.shape}."
        )
    return np.tensordot(weights, predictions, axes=1)


def ensemble_validation_scores(predictions, *, regression=False):
    """Score each candidate against the ensemble of all candidates (EnsV).

    Parameters
    ----------
    predictions : array-like of shape (n_candidates, n_rows, n_classes) or (n_candidates, n_rows)
        The candidates' predictions on the same unlabeled target rows: class
        probabilities (classification) or values (regression, where a third
        axis holds several outputs).
    regression : bool, default=False
        Score by negative mean squared distance to the ensemble's mean
        instead of agreement with the ensemble's most probable class.

    Returns
    -------
    ndarray of shape (n_candidates,)
        Higher is better: the fraction of rows where the candidate's class
        is the ensemble's, or minus the mean squared difference to the
        ensemble's prediction. Select with ``np.argmax``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.ensemble import ensemble_validation_scores
    >>> agree = [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]
    >>> odd = [[0.1, 0.9], [0.8, 0.2], [0.7, 0.3]]
    >>> ensemble_validation_scores([agree, agree, odd]).round(3)
    array([1.   , 1.   , 0.333])
    """
    predictions = _stacked(predictions)
    reference = predictions.mean(axis=0)
    if regression:
        squared = (predictions - reference) ** 2
        return -squared.reshape(len(predictions), -1).mean(axis=1)
    if predictions.ndim != 3 or predictions.shape[2] < 2:
        raise ValueError(
            "classification predictions must be class probabilities of shape (n_candidates, "
            f"n_rows, n_classes) with at least two classes; got shape {predictions.shape}."
        )
    return (predictions.argmax(axis=2) == reference.argmax(axis=1)).mean(axis=1)


def importance_weighted_aggregation(
    predictions, y, importance=None, *, classes=None, regularization=1e-6
):
    """Fit IWA's linear aggregation weights on labeled source rows.

    Solves ``min_c sum_i w_i * ||sum_k c_k f_k(x_i) - y_i||^2 + r * ||c||^2``
    in closed form, with ``f_k(x_i)`` the candidates' predictions on labeled
    source rows (class probabilities against one-hot labels, or values), and
    ``w_i`` the rows' target/source density ratio. Use source rows the
    candidates were not trained on, so that a candidate that memorised its
    training rows is not favoured.

    Parameters
    ----------
    predictions : array-like of shape (n_candidates, n_rows, n_classes) or (n_candidates, n_rows)
        The candidates' predictions on the labeled source rows.
    y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Their labels (classification: values of ``classes``) or targets.
    importance : array-like of shape (n_rows,), default=None
        Non-negative density ratios ``p_target(x) / p_source(x)`` of the
        rows (for example from a classifier telling target from source
        rows); equal weights when ``None``.
    classes : array-like of shape (n_classes,), default=None
        For classification: the label of each probability column. ``None``
        means regression.
    regularization : float, default=1e-6
        Ridge penalty, relative to the mean diagonal of the weighted Gram
        matrix, which keeps the weights finite when candidates coincide.

    Returns
    -------
    ndarray of shape (n_candidates,)
        Aggregation weights, for :func:`average_predictions`; they need
        not be positive nor sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.ensemble import importance_weighted_aggregation
    >>> f = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 0.0]])
    >>> y = 0.3 * f[0] + 0.7 * f[1]
    >>> importance_weighted_aggregation(f, y).round(3)
    array([0.3, 0.7])
    """
    predictions = _stacked(predictions)
    n_candidates, n_rows = predictions.shape[:2]
    y = np.asarray(y)
    if len(y) != n_rows:
        raise ValueError(f"y has {len(y)} rows; the predictions have {n_rows}.")
    if classes is None:
        targets = np.asarray(y, dtype=np.float64).reshape(n_rows, -1)
        columns = predictions.reshape(n_candidates, n_rows, -1)
    else:
        classes = np.asarray(classes)
        if predictions.ndim != 3 or predictions.shape[2] != len(classes):
            raise ValueError(
                f"classification predictions must have one column per class ({len(classes)}); "
                f"got shape {predictions.shape}."
            )
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(f"y holds labels that are not in classes: {unknown.tolist()}.")
        targets = (y[:, None] == classes[None, :]).astype(np.float64)
        columns = predictions
    if targets.shape[1] != columns.shape[2]:
        raise ValueError(
            f"y has {targets.shape[1]} outputs; the predictions have {columns.shape[2]}."
        )
    weights = np.ones(n_rows) if importance is None else np.asarray(importance, dtype=np.float64)
    if weights.shape != (n_rows,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"importance must hold {n_rows} finite non-negative numbers.")
    if not weights.sum() > 0:
        raise ValueError("importance is zero on every row.")
    # One design row per (row, output): F[(i, j), k] = f_k(x_i)_j, weighted by w_i.
    design = columns.transpose(1, 2, 0).reshape(-1, n_candidates)
    row_weights = np.repeat(weights / weights.mean(), targets.shape[1])
    gram = design.T @ (row_weights[:, None] * design)
    ridge = regularization * max(np.trace(gram) / n_candidates, np.finfo(float).tiny)
    rhs = design.T @ (row_weights * targets.reshape(-1))
    return np.linalg.solve(gram + ridge * np.eye(n_candidates), rhs)
